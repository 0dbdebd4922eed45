/* Hostile: a second LGUEST_INIT kills "already have lguest_data"
 * (addendum §A2.1). */
#include "../common.h"

void guest_main(void)
{
	guest_init();
	guest_init();
	early_puts("must not print\n");
}
