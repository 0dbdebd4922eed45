/* Hostile: a hypercall before LGUEST_INIT kills "hypercall 17 before
 * INIT" (addendum §A2.1: any call but INIT before INIT). */
#include "../common.h"

void guest_main(void)
{
	early_puts("must not print\n");
}
