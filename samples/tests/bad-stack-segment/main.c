/* Hostile: SET_STACK with selector 0x68 (RPL 0) kills "bad stack segment
 * 104" (addendum §A2.2 SET_STACK, §A12: %i is decimal). */
#include "../common.h"

void guest_main(void)
{
	guest_init();
	hcall(LHCALL_SET_STACK, 0x68, (u32)guest_stack + STACK_SIZE, 1, 0);
	early_puts("must not print\n");
}
