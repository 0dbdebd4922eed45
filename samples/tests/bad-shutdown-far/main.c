/* Hostile: a SHUTDOWN message beyond guest memory kills "bad read address
 * 0x10000000 len 128" (addendum §A2.2 SHUTDOWN). */
#include "../common.h"

void guest_main(void)
{
	guest_init();
	hcall(LHCALL_SHUTDOWN, 0x10000000, LGUEST_SHUTDOWN_POWEROFF, 0, 0);
	early_puts("must not print\n");
}
