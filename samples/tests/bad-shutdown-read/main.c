/* Hostile: SHUTDOWN always reads 128 bytes; a message starting 64 bytes
 * below the top of the address space runs off its end, and the power-off
 * becomes "bad read address 0xffffffc0 len 128" (addendum §A2.2 SHUTDOWN). */
#include "../common.h"

void guest_main(void)
{
	guest_init();
	hcall(LHCALL_SHUTDOWN, 0xffffffc0, LGUEST_SHUTDOWN_POWEROFF, 0, 0);
	early_puts("must not print\n");
}
