/* Hostile: NOTIFY of an address beyond the guest limit is fatal, "Bad
 * NOTIFY 0x10000000" (addendum §A11 NOTIFY dispatch step 3). */
#include "../common.h"

void guest_main(void)
{
	guest_init();
	hcall(LHCALL_NOTIFY, 0x10000000, 0, 0, 0);
	early_puts("must not print\n");
}
