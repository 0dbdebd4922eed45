/* Hostile: in linear mode an address whose page is beyond guest memory
 * kills "bad page table entry" instead of raising #PF (addendum §A3.2). */
#include "../common.h"

TRAP_STUB(pf_stub, 14, 1);

void guest_main(void)
{
	guest_init();
	set_gate(14, pf_stub, GATE_INTERRUPT, 0);
	(void)*(volatile u32 *)0x10000000;
	early_puts("must not print\n");
}
