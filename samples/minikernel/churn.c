/*
 * Step 10: page-table churn, as fork and exec cause it.  A second page
 * directory shares the kernel half (PDEs 768-1023 copied, like
 * pgd_alloc); we switch between the two with NEW_PGTABLE and watch what
 * the host's shadow tables show (§A4):
 *  - a PTE written without SET_PTE stays invisible (stale) until a flush;
 *  - NEW_PGTABLE to a table the host still caches drops nothing;
 *  - FLUSH_TLB(0) drops the user half of the current table, FLUSH_TLB(1)
 *    everything; SET_PTE and SET_PGD make a change visible at once;
 *  - SET_PTE of a kernel address reaches every cached table.
 * Reading through a stale entry is exactly the porting mistake the
 * tlb-flush checker reports, so those reads happen only with the kernel
 * argument `stale` (tests/minikernel.test runs both ways); a plain boot
 * follows the rules and gets no findings.
 */
#include "minikernel.h"

/* A page whose first word says which it is. */
static u32 marked_page(u32 marker)
{
	u32 *page = alloc_page();
	page[0] = marker;
	return pa(page);
}

static u32 peek(u32 addr)
{
	return *(volatile u32 *)addr;
}

/* Expect a read through a stale shadow entry, if the `stale` argument asks for them. */
static void expect_stale(int show, const char *what, u32 addr, u32 want)
{
	if (show)
		expect(what, peek(addr), want);
}

void step_churn(void)
{
	int stale = cmdline_flag("stale");
	u32 *pgd2 = alloc_page();
	u32 page_a = marked_page(0xaaaa), page_b = marked_page(0xbbbb);
	u32 page_c = marked_page(0xcccc), page_d = marked_page(0xdddd);

	for (u32 i = PAGE_OFFSET >> 22; i < 1024; i++)
		pgd2[i] = swapper_pg_dir[i];
	map_page(swapper_pg_dir, CHURN_ADDR, page_a, PTE_USER_RW);
	map_page(pgd2, CHURN_ADDR, page_b, PTE_USER_RW);

	expect("first address space", peek(CHURN_ADDR), 0xaaaa);
	set_cr3(pgd2);
	expect("second address space", peek(CHURN_ADDR), 0xbbbb);
	set_cr3(swapper_pg_dir);
	expect("first again", peek(CHURN_ADDR), 0xaaaa);

	u32 *pte = pte_slot(swapper_pg_dir, CHURN_ADDR, 0);
	*pte = page_c | PTE_USER_RW;
	expect_stale(stale, "PTE changed without SET_PTE: stale", CHURN_ADDR, 0xaaaa);
	set_cr3(pgd2);
	set_cr3(swapper_pg_dir);
	expect_stale(stale, "NEW_PGTABLE to a cached table drops nothing", CHURN_ADDR, 0xaaaa);
	hcall(LHCALL_FLUSH_TLB, 0, 0, 0, 0);
	expect("seen after FLUSH_TLB(0)", peek(CHURN_ADDR), 0xcccc);

	*pte = page_d | PTE_USER_RW;
	expect_stale(stale, "stale again", CHURN_ADDR, 0xcccc);
	hcall(LHCALL_SET_PTE, pa(swapper_pg_dir), CHURN_ADDR, *pte, 0);
	expect("seen after SET_PTE", peek(CHURN_ADDR), 0xdddd);

	/* A new page table for the region, written without telling the host. */
	u32 *table = alloc_page();
	table[(CHURN_ADDR >> 12) & 1023] = page_a | PTE_USER_RW;
	u32 pgd_index = CHURN_ADDR >> 22;
	swapper_pg_dir[pgd_index] = pa(table) | PDE_USER;
	expect_stale(stale, "PDE changed without SET_PGD: stale", CHURN_ADDR, 0xdddd);
	hcall(LHCALL_SET_PGD, pa(swapper_pg_dir), pgd_index, 0, 0);
	expect("seen after SET_PGD", peek(CHURN_ADDR), 0xaaaa);

	/* The kernel half: one guest PTE, a shadow copy in each cached table. */
	u32 kaddr = PAGE_OFFSET + (KERNEL_MAP_MB - 1) * 0x100000u;
	u32 *kpte = &kernel_ptes[pa(kaddr) >> 22][(pa(kaddr) >> 12) & 1023];
	map_page(swapper_pg_dir, kaddr, page_b, PTE_KERNEL);
	expect("kernel page in the first table", peek(kaddr), 0xbbbb);
	set_cr3(pgd2);
	expect("kernel page in the second table", peek(kaddr), 0xbbbb);
	*kpte = page_c | PTE_KERNEL;
	hcall(LHCALL_FLUSH_TLB, 0, 0, 0, 0);
	expect_stale(stale, "FLUSH_TLB(0) keeps kernel mappings", kaddr, 0xbbbb);
	hcall(LHCALL_FLUSH_TLB, 1, 0, 0, 0);
	expect("FLUSH_TLB(1) drops them", peek(kaddr), 0xcccc);
	set_cr3(swapper_pg_dir);
	expect("in the first table too", peek(kaddr), 0xcccc);
	set_cr3(pgd2);
	map_page(pgd2, kaddr, page_d, PTE_KERNEL | PTE_A);
	expect("SET_PTE of a kernel address", peek(kaddr), 0xdddd);
	set_cr3(swapper_pg_dir);
	expect("reaches the other cached table", peek(kaddr), 0xdddd);
	step_done(10, "page-table churn: two address spaces, stale until flush, SET_PTE/SET_PGD/FLUSH_TLB");
}
