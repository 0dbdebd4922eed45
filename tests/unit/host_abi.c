/*
 * The two ABI profiles (launcher/host/abi.c) against the facts, and the
 * few host paths where they differ, run on a real `struct lguest` with no
 * guest code:
 *  - lguest-abi.md §4.4 / §4.5 and addendum part B: lguest_data is 1396
 *    bytes with pgdir at 1376 (2.6.31-3.0), 1392 bytes without it (3.x);
 *  - addendum §A4.6 and part B: switcher at 0xFFFE1000 (reserve_mem
 *    0x1F000) or fixed at 0xFFC00000 (reserve_mem 0x400000);
 *  - part B: the behaviour switches (linear start, vmcall rewrite, reflected
 *    frame flags, `in` results, #UD directness, device start);
 *  - §A2.1 and part B: what INIT writes back in each profile, and which
 *    kernel addresses it refuses;
 *  - part B and lguest-abi.md §5.4 "Initial paging": the host-built page
 *    tables (top-level page at mem - initrd_len - 4096, PTE pages below
 *    it, RAM at 0 and 0xC0000000 with flags 0x7), and no linear mode;
 *  - part B and §A3.2: an access at or above 0xFFC00000 kills "attempt to
 *    access switcher pages" in 2.6.31; in 3.19 the same address is guest
 *    space (linear mode kills it as beyond the pfn limit) and only
 *    addresses from 0xFFFE1000 fault.
 * Prints PASS/FAIL lines; exits 1 if anything failed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/host.h"
#include "host_testguest.h"

static unsigned failures;

static void check_u32(const char *name, uint32_t got, uint32_t want)
{
	if (got == want) {
		printf("PASS %s\n", name);
	} else {
		printf("FAIL %s: got %#x, want %#x\n", name, got, want);
		failures++;
	}
}

static void check_true(const char *name, bool ok, const char *why)
{
	if (ok) {
		printf("PASS %s\n", name);
	} else {
		printf("FAIL %s: %s\n", name, why);
		failures++;
	}
}

/* The offsets and sizes of both lguest_data layouts. */
static void test_layouts(void)
{
	const struct abi_profile *a = &abi_2_6_31, *b = &abi_3_19;

	check_u32("2.6.31 lguest_data is 1396 bytes", a->lguest_data_size, 1396);
	check_u32("2.6.31 reserve_mem at 1368", a->off_reserve_mem, 1368);
	check_u32("2.6.31 tsc_khz at 1372", a->off_tsc_khz, 1372);
	check_u32("2.6.31 pgdir at 1376", (uint32_t)a->off_pgdir, 1376);
	check_u32("2.6.31 noirq_start at 1380", a->off_noirq_start, 1380);
	check_u32("2.6.31 noirq_end at 1384", a->off_noirq_end, 1384);
	check_u32("2.6.31 kernel_address at 1388", a->off_kernel_address, 1388);
	check_u32("2.6.31 syscall_vec at 1392", a->off_syscall_vec, 1392);

	check_u32("3.19 lguest_data is 1392 bytes", b->lguest_data_size, 1392);
	check_u32("3.19 reserve_mem at 1368", b->off_reserve_mem, 1368);
	check_u32("3.19 tsc_khz at 1372", b->off_tsc_khz, 1372);
	check_true("3.19 has no pgdir", b->off_pgdir < 0, "off_pgdir is not negative");
	check_u32("3.19 noirq_start at 1376", b->off_noirq_start, 1376);
	check_u32("3.19 noirq_end at 1380", b->off_noirq_end, 1380);
	check_u32("3.19 kernel_address at 1384", b->off_kernel_address, 1384);
	check_u32("3.19 syscall_vec at 1388", b->off_syscall_vec, 1388);

	/* The common head of the structure (lguest-abi.md §4.4). */
	check_u32("irq_pending at 20", LD_IRQ_PENDING, 20);
	check_u32("hcall_status at 24", LD_HCALL_STATUS, 24);
	check_u32("hcalls at 88, 20 bytes each", LD_HCALLS + LHCALL_RING_SIZE * LD_HCALL_SIZE, 88 + 64 * 20);
	check_u32("the ring ends where reserve_mem starts", LD_HCALLS + LHCALL_RING_SIZE * LD_HCALL_SIZE,
	          a->off_reserve_mem);
}

/* The switcher, reserve_mem and the behaviour switches of part B. */
static void test_switches(void)
{
	const struct abi_profile *a = &abi_2_6_31, *b = &abi_3_19;

	check_u32("2.6.31 switcher at 0xFFC00000", a->switcher_addr, 0xFFC00000u);
	check_u32("2.6.31 reserve_mem is 0x400000", 0u - a->switcher_addr, 0x400000u);
	check_u32("3.19 switcher at 0xFFFE1000", b->switcher_addr, 0xFFFE1000u);
	check_u32("3.19 reserve_mem is 0x1F000", 0u - b->switcher_addr, 0x1F000u);

	check_true("2.6.31 starts on host-built tables", !a->linear_start, "linear_start set");
	check_true("3.19 starts in linear mode", b->linear_start, "linear_start clear");
	check_true("2.6.31 rewrites vmcall", a->rewrite_vmcall, "rewrite_vmcall clear");
	check_true("3.19 does not rewrite vmcall", !b->rewrite_vmcall, "rewrite_vmcall set");
	check_true("2.6.31 reflected frame keeps TF/VM/RF/NT", !a->reflect_clears_tf, "reflect_clears_tf set");
	check_true("3.19 reflected frame clears TF/VM/RF/NT", b->reflect_clears_tf, "reflect_clears_tf clear");
	check_true("2.6.31 switcher access kills", a->switcher_kills, "switcher_kills clear");
	check_true("3.19 switcher access faults", !b->switcher_kills, "switcher_kills set");
	check_true("2.6.31 #UD is never direct", !a->ud_direct, "ud_direct set");
	check_true("3.19 #UD may be direct", b->ud_direct, "ud_direct clear");
	check_true("2.6.31 device starts at DRIVER_OK or first kick", a->start_on_first_kick,
	           "start_on_first_kick clear");
	check_true("3.19 device starts at a status notify", !b->start_on_first_kick, "start_on_first_kick set");
	check_true("2.6.31 uses 3.0.1's in results", a->in_results_2631, "in_results_2631 clear");
	check_true("3.19 uses 3.19's in results", !b->in_results_2631, "in_results_2631 set");

	check_true("abi_find(\"2.6.31\")", abi_find("2.6.31") == a, "wrong profile");
	check_true("abi_find(\"3.19\")", abi_find("3.19") == b, "wrong profile");
	check_true("abi_find(\"3.0\") finds nothing", abi_find("3.0") == NULL, "found a profile");
}

static uint32_t phys32(struct lguest *lg, uint32_t pa)
{
	return get_le32(guest_ptr(&lg->mem, pa));
}

/* Check the tables the 2.6.31 host builds for `mb` MB and an initrd. */
static void check_host_tables(uint32_t mb, uint32_t initrd_len)
{
	struct lguest *lg = new_guest(&abi_2_6_31, mb, initrd_len);
	uint32_t mem = mb << 20, npte = (mem + 0x3fffff) >> 22;
	uint32_t top = mem - initrd_len - 4096, first = top - npte * 4096;
	char name[160];
	bool pdes_ok = true, ptes_ok = true, rest_empty = true;

	snprintf(name, sizeof(name), "%u MB, initrd %#x: top-level page at mem - initrd - 4096", mb, initrd_len);
	check_u32(name, lg->host_pgdir, top);
	for (uint32_t i = 0; i < npte; i++) {
		uint32_t want = (first + i * 4096) | 0x7;
		pdes_ok &= phys32(lg, top + 4 * i) == want && phys32(lg, top + 4 * (768 + i)) == want;
		for (uint32_t k = 0; k < 1024; k++) {
			uint32_t pa = (i << 22) | (k << 12);
			ptes_ok &= phys32(lg, first + i * 4096 + 4 * k) == (pa < mem ? (pa | 0x7) : 0);
		}
	}
	for (uint32_t i = 0; i < 1024; i++)
		if ((i >= npte && i < 768) || i >= 768 + npte)
			rest_empty &= phys32(lg, top + 4 * i) == 0;
	snprintf(name, sizeof(name), "%u MB: PDEs 0 and 768 onwards point at the PTE pages below, flags 0x7", mb);
	check_true(name, pdes_ok, "a PDE differs");
	snprintf(name, sizeof(name), "%u MB: every RAM page mapped with flags 0x7, nothing beyond RAM", mb);
	check_true(name, ptes_ok, "a PTE differs");
	snprintf(name, sizeof(name), "%u MB: no other PDE", mb);
	check_true(name, rest_empty, "a PDE outside RAM's two aliases is set");
	snprintf(name, sizeof(name), "%u MB: no linear mode, cr3 is the host's table", mb);
	check_true(name, !lg->linear_pages && lg->cpu.cr3 == top, "linear mode, or cr3 elsewhere");

	uint32_t pa = 0;
	snprintf(name, sizeof(name), "%u MB: guest_pa(0xC0100123) walks the tables", mb);
	check_true(name, guest_pa(lg, 0xC0100123u, &pa) && pa == 0x100123u, "not 0x100123");
	free_guest(lg);
}

#define LD_ADDR 0x5000u

/* What INIT writes back in each profile (§A2.1, part B). */
static void test_init(void)
{
	struct lguest *lg = new_guest(&abi_2_6_31, 16, 0);
	write_lguest_data(lg, LD_ADDR, &abi_2_6_31, 0x80, 0xC0000000u);
	do_init(lg, LD_ADDR);
	check_true("2.6.31 INIT of a 2.6.31 guest survives", lg->death == GUEST_ALIVE, lg->death_reason);
	check_u32("2.6.31 INIT writes reserve_mem 0x400000", phys32(lg, LD_ADDR + 1368), 0x400000);
	check_u32("2.6.31 INIT writes pgdir = the host-built table", phys32(lg, LD_ADDR + 1376), lg->host_pgdir);
	check_u32("2.6.31 host-built table for 16 MB", lg->host_pgdir, (16u << 20) - 4096);
	check_u32("2.6.31 INIT writes tsc_khz", phys32(lg, LD_ADDR + 1372), 1000000);
	check_u32("2.6.31 INIT reads kernel_address at 1388", lg->kernel_address, 0xC0000000u);
	free_guest(lg);

	lg = new_guest(&abi_3_19, 16, 0);
	write_lguest_data(lg, LD_ADDR, &abi_3_19, 0x80, 0xC0000000u);
	put_le32(guest_ptr(&lg->mem, LD_ADDR + 1376), 0xC0123456u); /* noirq_start */
	do_init(lg, LD_ADDR);
	check_true("3.19 INIT of a 3.x guest survives", lg->death == GUEST_ALIVE, lg->death_reason);
	check_u32("3.19 INIT writes reserve_mem 0x1F000", phys32(lg, LD_ADDR + 1368), 0x1F000);
	check_u32("3.19 INIT leaves 1376 (noirq_start) alone", phys32(lg, LD_ADDR + 1376), 0xC0123456u);
	check_u32("3.19 INIT reads noirq_start at 1376", lg->noirq_start, 0xC0123456u);
	check_true("3.19 INIT keeps linear mode", lg->linear_pages, "linear mode ended");
	free_guest(lg);

	/* A Plan 9 lguest_data (1396 bytes, syscall_vec 0x40 at 1392) under 3.19. */
	lg = new_guest(&abi_3_19, 16, 0);
	write_lguest_data(lg, LD_ADDR, &abi_2_6_31, 0x40, 0);
	do_init(lg, LD_ADDR);
	check_true("3.19 INIT of a Plan 9 lguest_data kills \"bad syscall vector\"",
	           lg->death == GUEST_KILLED && strncmp(lg->death_reason, "bad syscall vector", 18) == 0,
	           lg->death_reason);
	check_true("3.19 INIT of a Plan 9 lguest_data: the message names --abi=2.6.31", strstr(lg->death_reason, "--abi=2.6.31") != NULL,
	           lg->death_reason);
	free_guest(lg);

	/* A 3.x lguest_data (syscall_vec 0x80 at 1388, 0 at 1392) under 2.6.31:
	 * §A2.1 step 3 kills "bad syscall vector"; DESIGN §2.4 wants the hint. */
	lg = new_guest(&abi_2_6_31, 16, 0);
	write_lguest_data(lg, LD_ADDR, &abi_3_19, 0x80, 0xC0000000u);
	do_init(lg, LD_ADDR);
	check_true("2.6.31 INIT of a 3.x lguest_data kills \"bad syscall vector\" naming --abi=3.19",
	           lg->death == GUEST_KILLED && strncmp(lg->death_reason, "bad syscall vector", 18) == 0 &&
	               strstr(lg->death_reason, "--abi=3.19") != NULL,
	           lg->death == GUEST_ALIVE ? "the guest lives on with syscall_vec 0 honoured" : lg->death_reason);
	free_guest(lg);

	/* Part B: 2.6.31 kills when pgd_index(kernel_address) >= 1023; 3.19
	 * when kernel_address >= its switcher. */
	static const struct {
		const struct abi_profile *abi;
		uint32_t kernel_address;
		bool killed;
	} cases[] = {
		{&abi_2_6_31, 0xFFBFF000u, false},
		{&abi_2_6_31, 0xFFC00000u, true},
		{&abi_3_19, 0xFFC00000u, false},
		{&abi_3_19, 0xFFFE1000u, true},
	};
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char name[120], want[60];
		lg = new_guest(cases[i].abi, 16, 0);
		write_lguest_data(lg, LD_ADDR, cases[i].abi, 0x80, cases[i].kernel_address);
		do_init(lg, LD_ADDR);
		snprintf(want, sizeof(want), "bad kernel address %#x", cases[i].kernel_address);
		snprintf(name, sizeof(name), "%s INIT with kernel_address %#x %s", cases[i].abi->name,
		         cases[i].kernel_address, cases[i].killed ? "kills" : "is accepted");
		check_true(name,
		           cases[i].killed ? lg->death == GUEST_KILLED && strcmp(lg->death_reason, want) == 0
		                           : lg->death == GUEST_ALIVE,
		           lg->death == GUEST_ALIVE ? "the guest lives" : lg->death_reason);
		free_guest(lg);
	}
}

/* A read translation of va; returns the result and leaves the death reason. */
static enum cpu_xlate_result translate_read(struct lguest *lg, uint32_t va)
{
	struct cpu_translation t;
	uint32_t pf_error = 0;
	return lguest_translate(lg, &lg->cpu, va, CPU_ACCESS_READ, &t, &pf_error);
}

/* Accesses near the top of the address space (part B, §A3.2, §A4.6). */
static void test_switcher_access(void)
{
	struct lguest *lg = new_guest(&abi_2_6_31, 16, 0);
	check_true("2.6.31 read of 0xC0100000 fills from the host tables",
	           translate_read(lg, 0xC0100000u) == CPU_XLATE_OK && lg->death == GUEST_ALIVE, lg->death_reason);
	check_true("2.6.31 read of 0xFFC00000 kills \"attempt to access switcher pages\"",
	           translate_read(lg, 0xFFC00000u) == CPU_XLATE_STOP &&
	               strcmp(lg->death_reason, "attempt to access switcher pages") == 0,
	           lg->death_reason[0] ? lg->death_reason : "not killed");
	free_guest(lg);

	lg = new_guest(&abi_2_6_31, 16, 0);
	check_true("2.6.31 read of 0xFFFFF000 kills \"attempt to access switcher pages\"",
	           translate_read(lg, 0xFFFFF000u) == CPU_XLATE_STOP &&
	               strcmp(lg->death_reason, "attempt to access switcher pages") == 0,
	           lg->death_reason[0] ? lg->death_reason : "not killed");
	free_guest(lg);

	lg = new_guest(&abi_2_6_31, 16, 0);
	check_true("2.6.31 read of 0xFFBFF000 (unmapped, below the switcher) faults",
	           translate_read(lg, 0xFFBFF000u) == CPU_XLATE_FAULT && lg->death == GUEST_ALIVE,
	           lg->death_reason[0] ? lg->death_reason : "not a fault");
	free_guest(lg);

	lg = new_guest(&abi_3_19, 16, 0);
	check_true("3.19 linear read of 0xFFC00000 kills \"bad page table entry\"",
	           translate_read(lg, 0xFFC00000u) == CPU_XLATE_STOP &&
	               strcmp(lg->death_reason, "bad page table entry") == 0,
	           lg->death_reason[0] ? lg->death_reason : "not killed");
	free_guest(lg);

	lg = new_guest(&abi_3_19, 16, 0);
	check_true("3.19 linear read of 0xFFFE1000 faults",
	           translate_read(lg, 0xFFFE1000u) == CPU_XLATE_FAULT && lg->death == GUEST_ALIVE,
	           lg->death_reason[0] ? lg->death_reason : "not a fault");
	free_guest(lg);
}

int main(void)
{
	test_layouts();
	test_switches();
	check_host_tables(32, 0);
	check_host_tables(6, 0);
	check_host_tables(8, 0x3000);
	test_init();
	test_switcher_access();
	return failures ? 1 : 0;
}
