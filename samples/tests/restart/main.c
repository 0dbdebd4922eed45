/* SHUTDOWN with arg2 == 2 asks for a restart: with --on-restart=exit the
 * launcher exits 3 with "lguest: restart" (addendum §A2.2 SHUTDOWN). */
#include "../common.h"

void guest_main(void)
{
	guest_init();
	say("booted");
	hcall(LHCALL_SHUTDOWN, (u32)"rebooting", LGUEST_SHUTDOWN_RESTART, 0, 0);
	early_puts("must not print\n");
}
