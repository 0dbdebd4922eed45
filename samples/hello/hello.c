/*
 * Stage 3: "HI" on the early console.
 *
 * Before any device exists, a 3.x lguest guest can still print: it makes
 * LHCALL_NOTIFY with the physical address of a NUL-terminated string, and
 * the launcher copies that string to its stdout.  This is the Plan 9
 * paper's "HI\n" test (its Figure 3), on the 3.x interface.  After INIT we
 * print exactly "HI\n" and power off.
 */
#include "lguest.h"

static struct lguest_data lguest_data;

/* Called by start with a stack in place. */
__attribute__((noreturn)) void guest_main(void);

void guest_main(void)
{
	lguest_data_prepare(&lguest_data);
	hcall(LHCALL_LGUEST_INIT, (u32)&lguest_data, 0, 0, 0);
	early_puts("HI\n");
	power_off("hello is done");
}
