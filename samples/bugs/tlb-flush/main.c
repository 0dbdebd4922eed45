/*
 * Bug: a PTE changed without telling the host (the Plan 9 port's process
 * "faulting on 0x5020 forever" until putmmu flushed).
 *
 * The guest maps VA to page_a, reads it (the host fills its shadow from
 * that PTE), points the PTE at page_b, and reads VA again.  lguest's
 * shadow still maps page_a, so the guest reads page_a's marker.  The
 * tlb-flush checker names the eip of the PTE write and of the stale use.
 * With "fixed" on the command line the guest makes SET_PTE after the
 * write, and reads page_b's marker.
 */
#include "../../tests/common.h"
#include "../../tests/virtio.h"

#define PAGE 4096
#define VA 0x300000u
#define PTE_PRESENT_RW_USER 7u

static u32 pgdir[1024] __attribute__((aligned(PAGE)));
static u32 pt0[1024] __attribute__((aligned(PAGE)));
static u32 page_a[1024] __attribute__((aligned(PAGE)));
static u32 page_b[1024] __attribute__((aligned(PAGE)));

static u32 read_va(void)
{
	return *(volatile u32 *)phys(VA);
}

void guest_main(void)
{
	guest_init();
	/* The first 4 MB mapped 1:1, except VA, which shows page_a. */
	for (u32 i = 0; i < 1024; i++)
		pt0[i] = (i * PAGE) | PTE_PRESENT_RW_USER;
	pt0[VA / PAGE] = (u32)page_a | PTE_PRESENT_RW_USER;
	pgdir[0] = (u32)pt0 | PTE_PRESENT_RW_USER;
	hcall(LHCALL_NEW_PGTABLE, (u32)pgdir, 0, 0, 0);

	page_a[0] = 0xaaaa;
	page_b[0] = 0xbbbb;
	say_hex("before", read_va());

	pt0[VA / PAGE] = (u32)page_b | PTE_PRESENT_RW_USER;
	if (has_arg("fixed"))
		hcall(LHCALL_SET_PTE, (u32)pgdir, VA, pt0[VA / PAGE], 0);
	say_hex("after", read_va());
	power_off("done");
}
