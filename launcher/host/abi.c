/*
 * The two ABI profiles we serve, as tables (DESIGN §2.4; addendum part B).
 * One host reads them; nothing else in host/ asks "which version is this?".
 */
#include <string.h>

#include "host.h"

/* Hosts after `pgdir` left lguest_data (by 3.4), up to 3.19. */
const struct abi_profile abi_3_19 = {
	.name = "3.19",
	.lguest_data_size = 1392,
	.off_reserve_mem = 1368,
	.off_tsc_khz = 1372,
	.off_noirq_start = 1376,
	.off_noirq_end = 1380,
	.off_kernel_address = 1384,
	.off_syscall_vec = 1388,
	.off_pgdir = -1,
	.linear_start = true,
	.rewrite_vmcall = false,
	.reflect_clears_tf = true,
	.switcher_addr = 0xFFFE1000u, /* §A4.6: uniprocessor host, FIXADDR_START 0xFFFE5000 */
	.switcher_kills = false,
	.in_results_2631 = false,
	.ud_direct = true,
	.start_on_first_kick = false,
	.guest_syscall_vec = false,
};

/* The 2.6.31-3.0 hosts (verified on 3.0.1), which the Plan 9 port targets. */
const struct abi_profile abi_2_6_31 = {
	.name = "2.6.31",
	.lguest_data_size = 1396,
	.off_reserve_mem = 1368,
	.off_tsc_khz = 1372,
	.off_pgdir = 1376,
	.off_noirq_start = 1380,
	.off_noirq_end = 1384,
	.off_kernel_address = 1388,
	.off_syscall_vec = 1392,
	.linear_start = false,
	.rewrite_vmcall = true,
	.reflect_clears_tf = false,
	.switcher_addr = 0xFFC00000u,
	.switcher_kills = true,
	.in_results_2631 = true,
	.ud_direct = false,
	.start_on_first_kick = true,
	.guest_syscall_vec = true,
};

/* Look a profile up by its --abi name. */
const struct abi_profile *abi_find(const char *name)
{
	if (strcmp(name, abi_3_19.name) == 0)
		return &abi_3_19;
	if (strcmp(name, abi_2_6_31.name) == 0)
		return &abi_2_6_31;
	return NULL;
}
