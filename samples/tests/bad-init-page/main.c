/* Hostile: LGUEST_INIT with lguest_data far beyond guest memory kills
 * "bad guest page 0x10000000" (addendum §A2.1 step 1: we print the guest
 * address). */
#include "../common.h"

void guest_main(void)
{
	hcall(LHCALL_LGUEST_INIT, 0x10000000, 0, 0, 0);
	early_puts("must not print\n");
}
