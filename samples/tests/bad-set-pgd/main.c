/* Hostile: SET_PGD index 2000 kills "Attempt to set pgd 2000/1024"
 * (addendum §A2.2 SET_PGD: idx > 1024). */
#include "../common.h"

void guest_main(void)
{
	guest_init();
	hcall(LHCALL_SET_PGD, 0x200000, 2000, 0, 0);
	early_puts("must not print\n");
}
