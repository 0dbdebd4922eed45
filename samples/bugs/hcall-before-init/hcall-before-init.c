/*
 * Bug: a hypercall before LGUEST_INIT.
 *
 * Until a guest has made LGUEST_INIT (and so told the host where its
 * struct lguest_data lives) lguest refuses every other hypercall.  This
 * guest forgets INIT and goes straight to SHUTDOWN, hypercall 2.  Instead
 * of a clean power-off the launcher kills it:
 * "lguest: hypercall 2 before INIT", exit 1.
 */
#include "lguest.h"

/* Called by start with a stack in place. */
__attribute__((noreturn)) void guest_main(void);

void guest_main(void)
{
	/* The mistake: no hcall(LHCALL_LGUEST_INIT, ...) before this. */
	power_off("this message is never printed");
}
