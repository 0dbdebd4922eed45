/* Hostile: hypercall 3 is unused in 3.19 and kills "Bad hypercall 3"
 * (addendum §A2.2 unused numbers). */
#include "../common.h"

void guest_main(void)
{
	guest_init();
	hcall(3, 0, 0, 0, 0);
	early_puts("must not print\n");
}
