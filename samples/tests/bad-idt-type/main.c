/* Hostile: a present call gate (type 0xC) kills "bad IDT type 12"
 * (addendum §A2.2 LOAD_IDT_ENTRY, §A12: %i is decimal). */
#include "../common.h"

void guest_main(void)
{
	guest_init();
	hcall(LHCALL_LOAD_IDT_ENTRY, 0x30, 0x00600000, 0x8c00, 0);
	early_puts("must not print\n");
}
