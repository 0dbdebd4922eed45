/* Hostile: LOAD_TLS from beyond guest memory kills "bad read address
 * 0x10000000 len 24" (addendum §A2.2 LOAD_TLS). */
#include "../common.h"

void guest_main(void)
{
	guest_init();
	hcall(LHCALL_LOAD_TLS, 0x10000000, 0, 0, 0);
	early_puts("must not print\n");
}
