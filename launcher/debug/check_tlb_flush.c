/*
 * tlb-flush: stale shadow translations and vanishing stacks
 * (docs/checkers/tlb-flush.md).
 *
 * 1. A PTE written in guest memory while the host still holds a
 *    translation made from it, then that translation used before any
 *    SET_PTE, FLUSH_TLB, SET_PGD or NEW_PGTABLE really dropped it.
 *    Every page-table page the host has filled from (EV_TLB_FILL names
 *    the PTE's guest-physical address) is watched for guest writes; the
 *    host's own accessed/dirty write-backs are not CPU writes, so they
 *    never show up.  A write that changes the frame, clears PRESENT, or
 *    takes away RW or USER while the shadow holds the old entry makes
 *    that (slot, page) "stale", and its old data page is watched.
 *    "Used" is approximated by the next CPU access to that virtual page
 *    through the current slot while the shadow still holds the old entry
 *    and the guest PTE still disagrees: that access went through the
 *    stale translation.  The shadow tables themselves are the ground
 *    truth, so only drops lguest really made count as flushes (a
 *    NEW_PGTABLE to a cached table drops nothing).
 * 2. NEW_PGTABLE to page tables that do not map the current stack or
 *    eip where they are mapped now: the guest's stack vanishes under it
 *    when the switch happens (Plan 9's MACHADDR).  Checked by walking the
 *    new page directory in guest memory at the hypercall.
 */
#include <stdio.h>
#include <string.h>

#include "debug/checks.h"
#include "host/host.h"

#define MAX_STALE 32

/* A translation the host holds although the guest changed its PTE. */
struct stale {
	unsigned slot;
	uint32_t va;        /* page address */
	uint32_t old_spte;  /* the shadow entry made from the old PTE */
	uint32_t pte_addr;  /* guest-physical address of the PTE */
	uint32_t write_eip; /* where the guest wrote the PTE */
};

static struct {
	uint32_t pt_of[SHADOW_SLOTS][1024]; /* PTE page the last fill of (slot, pgd index) came from, 0: none */
	uint8_t is_pt_page[1u << 20];       /* one byte per guest page: the host has filled from it */
	uint32_t npages;
	struct stale stale[MAX_STALE];
	unsigned nstale;
} tlb;

static void tlb_start(struct lguest *lg)
{
	memset(&tlb, 0, sizeof(tlb));
	tlb.npages = lg->mem.mapped_bytes / GUEST_PAGE_SIZE + 1;
}

/* Does the guest PTE `pte` no longer allow what the shadow entry spte gives? */
static bool disagrees(uint32_t spte, uint32_t pte)
{
	return !(pte & PTE_P) || (pte & PAGE_MASK) != (spte & PAGE_MASK) || ((spte & PTE_RW) && !(pte & PTE_RW)) ||
	       ((spte & PTE_US) && !(pte & PTE_US));
}

/* The shadow entry a slot holds for va right now (0 if none). */
static uint32_t slot_entry(struct lguest *lg, unsigned slot, uint32_t va)
{
	const uint32_t *ptes = lg->slot[slot].pte[va >> 22];
	return ptes ? ptes[(va >> 12) & 0x3ff] : 0;
}

/* The guest PTE word at a guest-physical address. */
static uint32_t guest_pte(struct lguest *lg, uint32_t addr)
{
	return guest_range_ok(&lg->mem, addr, 4) ? get_le32(guest_ptr(&lg->mem, addr)) : 0;
}

/* Is this stale entry still a live, stale translation? */
static bool still_stale(struct lguest *lg, const struct stale *s)
{
	uint32_t spte = slot_entry(lg, s->slot, s->va);
	return (spte & PTE_P) && spte == s->old_spte && disagrees(spte, guest_pte(lg, s->pte_addr));
}

/* Forget entry i, and stop watching its data page if no other entry needs it. */
static void drop_stale(struct lguest *lg, unsigned i)
{
	uint32_t frame = tlb.stale[i].old_spte & PAGE_MASK;
	tlb.stale[i] = tlb.stale[--tlb.nstale];
	for (unsigned k = 0; k < tlb.nstale; k++)
		if ((tlb.stale[k].old_spte & PAGE_MASK) == frame)
			return;
	if (!(frame >> 12 < tlb.npages && tlb.is_pt_page[frame >> 12]))
		check_unwatch_page(lg, &check_tlb_flush, frame);
}

/* A fill from a guest PTE: remember the PTE page and watch it. */
static void note_fill(struct lguest *lg, const struct event *e)
{
	uint32_t va = e->arg[0], slot = e->arg[2], pte_addr = e->arg[4];
	if (e->sub || slot >= SHADOW_SLOTS || (pte_addr >> 12) >= tlb.npages)
		return;
	tlb.pt_of[slot][va >> 22] = pte_addr & PAGE_MASK;
	if (!tlb.is_pt_page[pte_addr >> 12]) {
		tlb.is_pt_page[pte_addr >> 12] = 1;
		check_watch_page(lg, &check_tlb_flush, pte_addr);
	}
}

/* The guest wrote into a page-table page: which held translations did it make stale? */
static void pte_written(struct lguest *lg, uint32_t phys, unsigned size, uint64_t value)
{
	uint32_t word = phys & ~3u, page = phys & PAGE_MASK, idx = (word & 0xfff) >> 2;
	uint8_t bytes[4];
	memcpy(bytes, guest_ptr(&lg->mem, word), 4);
	for (unsigned i = 0; i < size && (phys & 3) + i < 4; i++)
		bytes[(phys & 3) + i] = (uint8_t)(value >> (8 * i));
	uint32_t pte = get_le32(bytes);

	for (unsigned s = 0; s < SHADOW_SLOTS; s++) {
		for (unsigned pdi = 0; pdi < 1024; pdi++) {
			if (tlb.pt_of[s][pdi] != page)
				continue;
			uint32_t va = (pdi << 22) | (idx << 12), spte = slot_entry(lg, s, va);
			if (!(spte & PTE_P) || !disagrees(spte, pte) || tlb.nstale == MAX_STALE)
				continue;
			tlb.stale[tlb.nstale++] = (struct stale){s, va, spte, word, lg->cpu.eip};
			check_watch_page(lg, &check_tlb_flush, spte & PAGE_MASK);
		}
	}
}

/* An access through the current slot: was it through a stale translation? */
static void stale_used(struct lguest *lg, uint32_t va)
{
	char wrote[200], used[200];
	for (unsigned i = 0; i < tlb.nstale; i++) {
		struct stale *s = &tlb.stale[i];
		if (s->slot != lg->cur_slot || s->va != (va & PAGE_MASK))
			continue;
		if (still_stale(lg, s))
			check_report(lg, &check_tlb_flush, s->va,
			             "PTE for va 0x%x changed at eip %s; stale mapping used at eip %s without a flush "
			             "(the host still maps it to 0x%x; the PTE at 0x%x now says 0x%x): after changing a "
			             "PTE, tell the host with SET_PTE or FLUSH_TLB",
			             s->va, check_where(lg, s->write_eip, wrote, sizeof(wrote)),
			             check_where(lg, lg->cpu.eip, used, sizeof(used)), s->old_spte & PAGE_MASK, s->pte_addr,
			             guest_pte(lg, s->pte_addr));
		drop_stale(lg, i);
		return;
	}
}

static void tlb_access(struct lguest *lg, uint32_t va, uint32_t phys, unsigned size, enum cpu_access access,
                       uint64_t value)
{
	if (access == CPU_ACCESS_WRITE && (phys >> 12) < tlb.npages && tlb.is_pt_page[phys >> 12])
		pte_written(lg, phys, size, value);
	if (tlb.nstale)
		stale_used(lg, va);
}

/* Where va lives now and under the new tables; report (and return false) when the switch would move or unmap it. */
static bool check_switch_keeps(struct lguest *lg, const struct event *e, uint32_t pgdir, uint32_t va,
                               const char *what)
{
	char where[200];
	uint32_t now, then;
	if (!guest_walk(lg, va, &now, NULL, NULL))
		return true;
	if (!guest_walk_pgdir(lg, pgdir, va, &then, NULL, NULL)) {
		check_report(lg, &check_tlb_flush, va,
		             "NEW_PGTABLE(0x%x) at eip %s: the new page tables do not map the current %s (0x%x): it "
		             "vanishes when the switch happens",
		             pgdir, check_where(lg, e->eip, where, sizeof(where)), what, va);
		return false;
	}
	if ((then & PAGE_MASK) != (now & PAGE_MASK)) {
		check_report(lg, &check_tlb_flush, va,
		             "NEW_PGTABLE(0x%x) at eip %s: the new page tables map the current %s (0x%x) to physical "
		             "0x%x instead of 0x%x: it vanishes when the switch happens",
		             pgdir, check_where(lg, e->eip, where, sizeof(where)), what, va, then & PAGE_MASK, now & PAGE_MASK);
		return false;
	}
	return true;
}

/* Forget stale entries the host has since dropped or refilled. */
static void prune_stale(struct lguest *lg)
{
	for (unsigned i = 0; i < tlb.nstale;)
		if (still_stale(lg, &tlb.stale[i]))
			i++;
		else
			drop_stale(lg, i);
}

static void tlb_event(struct lguest *lg, const struct event *e)
{
	if (tlb.nstale)
		prune_stale(lg);
	if (e->kind == EV_TLB_FILL) {
		note_fill(lg, e);
	} else if (e->kind == EV_HYPERCALL && e->arg[0] == LHCALL_NEW_PGTABLE && lg->initialized) {
		uint32_t esp = lg->cpu.regs[CPU_ESP];
		if (check_switch_keeps(lg, e, e->arg[1], esp, "stack") && ((esp - 4) & PAGE_MASK) != (esp & PAGE_MASK))
			check_switch_keeps(lg, e, e->arg[1], esp - 4, "stack");
		check_switch_keeps(lg, e, e->arg[1], e->eip, "eip");
	}
}

const struct checker check_tlb_flush = {
	.name = "tlb-flush",
	.start = tlb_start,
	.event = tlb_event,
	.access = tlb_access,
};
