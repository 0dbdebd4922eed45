/* SHUTDOWN with arg2 == 0 is a power-off like any arg2 other than 2
 * (addendum §A2.2 SHUTDOWN): exit 0, "lguest: CRASH: zero is power off". */
#include "../common.h"

void guest_main(void)
{
	guest_init();
	hcall(LHCALL_SHUTDOWN, (u32)"zero is power off", 0, 0, 0);
	early_puts("must not print\n");
}
