/* Hostile: SET_PTE at the switcher address (0xFFFE1000, 3.19 profile)
 * kills "attempt to set pte into Switcher pages" (addendum §A2.2 SET_PTE,
 * §A4.6). */
#include "../common.h"

void guest_main(void)
{
	guest_init();
	hcall(LHCALL_SET_PTE, 0x200000, 0xfffe1000, 0, 0);
	early_puts("must not print\n");
}
