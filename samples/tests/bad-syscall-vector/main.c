/* Hostile unless the launcher runs with --syscall-vector=64: syscall_vec
 * 0x40 at INIT kills "bad syscall vector" (addendum §A2.1 step 3). */
#include "../common.h"

void guest_main(void)
{
	lguest_data_prepare(&lg_data);
	lg_data.syscall_vec = 0x40;
	hcall(LHCALL_LGUEST_INIT, (u32)&lg_data, 0, 0, 0);
	say("init accepted syscall vector 0x40");
	finish();
}
