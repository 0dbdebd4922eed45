/* Hostile: LOAD_GDT_ENTRY 40 kills "too many gdt entries 40" (addendum
 * §A2.2 LOAD_GDT_ENTRY: n >= 32). */
#include "../common.h"

void guest_main(void)
{
	guest_init();
	hcall(LHCALL_LOAD_GDT_ENTRY, 40, seg_lo_flat(), seg_hi_flat(0x2, 1), 0);
	early_puts("must not print\n");
}
