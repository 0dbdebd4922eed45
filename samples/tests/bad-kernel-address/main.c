/* Hostile: kernel_address at the switcher (0xFFFE1000 in the 3.19
 * profile) kills "bad kernel address 0xfffe1000" (addendum §A2.1 step 6,
 * §A4.6). */
#include "../common.h"

void guest_main(void)
{
	lguest_data_prepare(&lg_data);
	lg_data.kernel_address = 0xfffe1000;
	hcall(LHCALL_LGUEST_INIT, (u32)&lg_data, 0, 0, 0);
	early_puts("must not print\n");
}
