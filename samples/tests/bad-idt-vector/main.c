/* Hostile: LOAD_IDT_ENTRY for vector 300 kills "Setting idt entry 300"
 * (addendum §A2.2 LOAD_IDT_ENTRY: n >= 256). */
#include "../common.h"

void guest_main(void)
{
	guest_init();
	hcall(LHCALL_LOAD_IDT_ENTRY, 300, 0x00600000, 0x8e00, 0);
	early_puts("must not print\n");
}
