/* Hostile: unknown hypercall 99 kills "Bad hypercall 99" with lguest's
 * trailing newline (addendum §A2.2 unused numbers, §A12). */
#include "../common.h"

void guest_main(void)
{
	guest_init();
	hcall(99, 0, 0, 0, 0);
	early_puts("must not print\n");
}
