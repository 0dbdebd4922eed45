/*
 * Stage 2: the first hypercall.
 *
 * A guest must introduce itself before it may ask the host for anything:
 * LHCALL_LGUEST_INIT hands over the physical address of struct lguest_data,
 * the page of state the guest and host share.  We fill it the way Linux
 * does, make the INIT call, and then make a second hypercall, SHUTDOWN, to
 * prove the first one was accepted.  The launcher prints our message as
 * "lguest: CRASH: first hypercall works" and exits 0.
 */
#include "lguest.h"

/* The shared page.  In linear mode a virtual address is its physical one. */
static struct lguest_data lguest_data;

/* Called by start with a stack in place. */
__attribute__((noreturn)) void guest_main(void);

void guest_main(void)
{
	/* hcall_status all 0xFF (no async call queued), syscall_vec 0x80. */
	lguest_data_prepare(&lguest_data);
	hcall(LHCALL_LGUEST_INIT, (u32)&lguest_data, 0, 0, 0);
	power_off("first hypercall works");
}
