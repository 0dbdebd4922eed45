/* A HALT that nothing can ever wake (no timer armed, no device work) is
 * reported as a launcher limit, exit 4 (addendum §A5.5, launcher
 * contract: "guest halted with no interrupt that can wake it"). */
#include "../common.h"

void guest_main(void)
{
	guest_init();
	hcall(LHCALL_HALT, 0, 0, 0, 0);
	early_puts("must not print\n");
}
