/* Hostile: SET_STACK with 3 pages kills "bad stack pages 3" (addendum
 * §A2.2 SET_STACK: pages > 2). */
#include "../common.h"

void guest_main(void)
{
	guest_init();
	hcall(LHCALL_SET_STACK, 0x69, (u32)guest_stack + STACK_SIZE, 3, 0);
	early_puts("must not print\n");
}
