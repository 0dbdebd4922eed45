/*
 * Shadow paging as lguest did it (addendum §A3, §A4): A/D bits written
 * back by the host on fill, clean pages shadowed read-only, stale entries
 * kept until the right hypercall, #PF error codes and cr2.
 * kernel_address stays 0 here, so every address counts as "kernel".
 */
#include "../common.h"

#define PAGE 4096
#define PTE_P 0x1
#define PTE_RW 0x2
#define PTE_A 0x20
#define PTE_D 0x40

TRAP_STUB(pf_stub, 14, 1);

static u32 pgdir[1024] __attribute__((aligned(PAGE)));
static u32 pgdir2[1024] __attribute__((aligned(PAGE)));
static u32 pt0[1024] __attribute__((aligned(PAGE)));
static u32 pt_hi_a[1024] __attribute__((aligned(PAGE)));
static u32 pt_hi_b[1024] __attribute__((aligned(PAGE)));
static u32 page_x[1024] __attribute__((aligned(PAGE)));
static u32 page_y[1024] __attribute__((aligned(PAGE)));
static u32 page_z[1024] __attribute__((aligned(PAGE)));
static u32 page_ro[1024] __attribute__((aligned(PAGE)));
static u32 page_np[1024] __attribute__((aligned(PAGE)));

/* The guest PTE for an address below 4 MB, as the host left it. */
static u32 pte_of(const void *p)
{
	return ((volatile u32 *)pt0)[(u32)p >> 12];
}

/* Change a guest PTE behind the host's back (no hypercall). */
static void set_pte_quietly(const void *p, u32 pte)
{
	((volatile u32 *)pt0)[(u32)p >> 12] = pte;
}

/* Read or write one word; a fault is recorded and skipped. */
static u32 probe_read(u32 addr)
{
	u32 v = 0xdeadbeef;
	RUN_FAULTING("movl (%1), %0", : "+r"(v) : "r"(addr) : "memory");
	return v;
}

static void probe_write(u32 addr, u32 v)
{
	RUN_FAULTING("movl %1, (%0)", : : "r"(addr), "r"(v) : "memory");
}

/* Expect exactly one #PF with this error code and address. */
static void check_fault(const char *what, u32 count_before, u32 err, u32 addr)
{
	check_detail(what, ": one #PF", trap_rec.count - count_before, 1);
	check_detail(what, ": error code", trap_rec.err, err);
	check_detail(what, ": lguest_data.cr2", lg_data.cr2, addr);
}

void guest_main(void)
{
	guest_init();
	set_gate(14, pf_stub, GATE_INTERRUPT, 0);
	page_x[0] = 0x1111;
	page_z[0] = 0x3333;

	/* §A3.2: in linear mode an address at or above the switcher
	 * (0xFFFE1000) raises #PF. */
	u32 before = trap_rec.count;
	probe_read(0xffff0000);
	check_fault("linear read above the switcher", before, 0, 0xffff0000);

	for (u32 i = 0; i < 1024; i++)
		pt0[i] = (i << 12) | PTE_P | PTE_RW;
	for (u32 i = 0; i < 1024; i++) {
		pt_hi_a[i] = (u32)page_z | PTE_P | PTE_RW;
		pt_hi_b[i] = (u32)page_x | PTE_P | PTE_RW;
	}
	pgdir[0] = (u32)pt0 | 0x7;
	pgdir[1] = (u32)pt_hi_a | 0x7;
	pgdir2[0] = (u32)pt0 | 0x7;
	hcall(LHCALL_NEW_PGTABLE, (u32)pgdir, 0, 0, 0);

	/* §A3.3 step 6: the host sets ACCESSED on a read fill... */
	check("read through fresh PTE", probe_read((u32)page_x), 0x1111);
	check("A set by read fill", pte_of(page_x), (u32)page_x | PTE_P | PTE_RW | PTE_A);
	/* ...step 7: the clean page was shadowed read-only, so the first
	 * write faults again and sets DIRTY. */
	probe_write((u32)page_x + 4, 5);
	check("D set by later write", pte_of(page_x), (u32)page_x | PTE_P | PTE_RW | PTE_A | PTE_D);
	probe_write((u32)page_y, 7);
	check("A and D set by write fill", pte_of(page_y), (u32)page_y | PTE_P | PTE_RW | PTE_A | PTE_D);

	/* §A4: a PTE changed without a hypercall reads through the stale
	 * shadow entry. */
	set_pte_quietly(page_x, (u32)page_z | PTE_P | PTE_RW);
	check("stale after quiet PTE change", probe_read((u32)page_x), 0x1111);
	/* §A4.3 + §A4.1: FLUSH_TLB(0) drops only PGD indices below
	 * pgd_index(kernel_address) = 0, i.e. nothing. */
	hcall(LHCALL_FLUSH_TLB, 0, 0, 0, 0);
	check("still stale after FLUSH_TLB(0)", probe_read((u32)page_x), 0x1111);
	/* §A4.2: SET_PTE without A/D clears the shadow entry; it faults
	 * back in from the new PTE. */
	hcall(LHCALL_SET_PTE, (u32)pgdir, (u32)page_x, (u32)page_z | PTE_P | PTE_RW, 0);
	check("new mapping after SET_PTE", probe_read((u32)page_x), 0x3333);
	check("A set on refill", pte_of(page_x), (u32)page_z | PTE_P | PTE_RW | PTE_A);
	/* §A4.3: FLUSH_TLB(nonzero) drops everything. */
	set_pte_quietly(page_x, (u32)page_x | PTE_P | PTE_RW);
	check("stale again", probe_read((u32)page_x), 0x3333);
	hcall(LHCALL_FLUSH_TLB, 1, 0, 0, 0);
	check("new mapping after FLUSH_TLB(1)", probe_read((u32)page_x), 0x1111);

	/* §A4.3 SET_PGD: a quietly changed PDE is stale until SET_PGD. */
	check("PDE 1 maps page_z", probe_read(0x400000), 0x3333);
	pgdir[1] = (u32)pt_hi_b | 0x7;
	check("stale PDE", probe_read(0x400000), 0x3333);
	hcall(LHCALL_SET_PGD, (u32)pgdir, 1, 0, 0);
	check("new PDE after SET_PGD", probe_read(0x400000), 0x1111);

	/* §A3.1 + §A4.1: slots share nothing, and switching back to a
	 * cached pgdir drops nothing. */
	check("page_x mapped in slot of pgdir", probe_read((u32)page_x), 0x1111);
	hcall(LHCALL_NEW_PGTABLE, (u32)pgdir2, 0, 0, 0);
	set_pte_quietly(page_x, (u32)page_z | PTE_P | PTE_RW);
	check("pgdir2 slot fills from the new PTE", probe_read((u32)page_x), 0x3333);
	hcall(LHCALL_NEW_PGTABLE, (u32)pgdir, 0, 0, 0);
	check("cached pgdir slot still stale", probe_read((u32)page_x), 0x1111);
	/* §A4.2: with kernel_address 0, SET_PTE updates every slot. */
	set_pte_quietly(page_x, (u32)page_x | PTE_P | PTE_RW);
	hcall(LHCALL_SET_PTE, (u32)pgdir, (u32)page_x, (u32)page_x | PTE_P | PTE_RW, 0);
	hcall(LHCALL_NEW_PGTABLE, (u32)pgdir2, 0, 0, 0);
	check("SET_PTE reached the other slot", probe_read((u32)page_x), 0x1111);
	hcall(LHCALL_NEW_PGTABLE, (u32)pgdir, 0, 0, 0);

	/* §A3.3: a non-present PTE is reflected; P clear (no shadow entry),
	 * W for a write, cr2 written. */
	set_pte_quietly(page_np, 0);
	hcall(LHCALL_SET_PTE, (u32)pgdir, (u32)page_np, 0, 0);
	before = trap_rec.count;
	probe_read((u32)page_np + 8);
	check_fault("read of non-present page", before, 0, (u32)page_np + 8);
	before = trap_rec.count;
	probe_write((u32)page_np, 1);
	check_fault("write to non-present page", before, 2, (u32)page_np);
	check("non-present PTE not written back", pte_of(page_np), 0);

	/* §A3.3 example: a write to a read-only page gives 2 if the shadow
	 * had not mapped it, 3 after a read mapped it. */
	set_pte_quietly(page_ro, (u32)page_ro | PTE_P);
	hcall(LHCALL_SET_PTE, (u32)pgdir, (u32)page_ro, (u32)page_ro | PTE_P, 0);
	before = trap_rec.count;
	probe_write((u32)page_ro, 1);
	check_fault("write to unmapped read-only page", before, 2, (u32)page_ro);
	check("refused write leaves the PTE", pte_of(page_ro), (u32)page_ro | PTE_P);
	probe_read((u32)page_ro);
	check("read maps read-only page with A", pte_of(page_ro), (u32)page_ro | PTE_P | PTE_A);
	before = trap_rec.count;
	probe_write((u32)page_ro + 4, 1);
	check_fault("write to mapped read-only page", before, 3, (u32)page_ro + 4);

	/* §A3.3 step 2: a non-present PDE is reflected. */
	before = trap_rec.count;
	probe_read(0x800000);
	check_fault("read under a non-present PDE", before, 0, 0x800000);
	finish();
}
