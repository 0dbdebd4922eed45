/*
 * Bug: LGUEST_INIT with the async ring's status bytes left at zero.
 *
 * lguest_data.hcall_status[] says which of the 64 async-ring entries are
 * pending: 0xFF means empty.  This guest forgets to fill it with 0xFF
 * before INIT, and its lguest_data holds a leftover from earlier use (a
 * NOTIFY of a string in ring entry 3), so at its next hypercall the host
 * runs the 64 entries first and prints "stale".  (All-zero entries run
 * as FLUSH_ASYNC and would be harmless.)  The boot-sanity checker says
 * how many entries were not 0xFF and what the host ran.  With "fixed" on
 * the command line the guest prepares lguest_data as Linux does.
 */
#include "../../tests/common.h"
#include "../../tests/virtio.h"

#define LEFTOVER_ENTRY 3

void guest_main(void)
{
	/* What earlier use of this memory left behind. */
	lg_data.hcalls[LEFTOVER_ENTRY].arg0 = LHCALL_NOTIFY;
	lg_data.hcalls[LEFTOVER_ENTRY].arg1 = (u32)"stale\n";
	if (has_arg("fixed"))
		lguest_data_prepare(&lg_data);
	else
		lg_data.syscall_vec = 0x80; /* the mistake: hcall_status[] stays 0 */
	hcall(LHCALL_LGUEST_INIT, (u32)&lg_data, 0, 0, 0);
	say("booted");
	power_off("done");
}
