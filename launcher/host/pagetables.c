/*
 * Shadow paging, as lg.ko did it (addendum §A3, §A4).
 *
 * The guest keeps ordinary two-level i386 page tables in its own memory,
 * but the CPU never walks them.  We keep up to four shadow tables
 * ("slots"), each a lazily filled copy of one guest page directory, and
 * the CPU's translation misses land in lguest_translate() below, which
 * fills the current slot from the guest's tables (setting the guest PTE's
 * accessed and dirty bits as lg.ko did) or reports a page fault.  The
 * CPU's own TLB only ever caches what the current slot holds, so shadow
 * entries that lg.ko would have kept stale stay stale here too, and a
 * guest that forgets a flush sees exactly what it would have seen on a
 * real host.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host.h"

#define PGD_ALLOWED_FLAGS 0x067u /* _PAGE_TABLE: what a guest PDE may carry */

static struct shadow_slot *current_slot(struct lguest *lg)
{
	return &lg->slot[lg->cur_slot];
}

static unsigned pgd_index(uint32_t va)
{
	return va >> 22;
}

static bool pfn_ok(struct lguest *lg, uint32_t entry)
{
	return (entry >> 12) < lg->mem.limit_bytes / GUEST_PAGE_SIZE;
}

/* Forget shadow PTE pages [from, to) of one slot. */
static void drop_slot_range(struct shadow_slot *s, unsigned from, unsigned to)
{
	for (unsigned i = from; i < to && i < 1024; i++) {
		free(s->pte[i]);
		s->pte[i] = NULL;
		s->pde[i] = 0;
	}
}

/* The kernel part of a slot starts at the guest's kernel_address (§A4.1). */
static unsigned user_pgd_end(struct lguest *lg)
{
	return pgd_index(lg->kernel_address);
}

/* Drop every shadow translation of every slot (§A4.5). */
void drop_all_shadows(struct lguest *lg)
{
	EMIT(lg, EV_TLB_FLUSH, FLUSH_ALL, 0);
	for (unsigned i = 0; i < SHADOW_SLOTS; i++)
		drop_slot_range(&lg->slot[i], 0, 1024);
	cpu_tlb_flush(&lg->cpu);
}

/*
 * The 2.6.31 hosts built the first page tables themselves at
 * LHREQ_INITIALIZE (part B): the top-level page just below the initrd,
 * one PTE page per 4 MB of RAM below that, every RAM page mapped at 0 and
 * at 0xC0000000 with flags 0x7.
 */
static void build_host_pagetables(struct lguest *lg)
{
	uint32_t ram = lg->mem.ram_bytes;
	uint32_t npte = (ram + 0x3fffffu) >> 22;
	uint32_t top = ram - lg->image.initrd_len - GUEST_PAGE_SIZE;
	uint32_t first_pte = top - npte * GUEST_PAGE_SIZE;
	uint8_t *pgdir = guest_ptr(&lg->mem, top);

	memset(pgdir, 0, GUEST_PAGE_SIZE);
	for (uint32_t i = 0; i < npte; i++) {
		uint32_t ptepage = first_pte + i * GUEST_PAGE_SIZE;
		uint8_t *pte = guest_ptr(&lg->mem, ptepage);
		for (uint32_t k = 0; k < 1024; k++) {
			uint32_t pa = (i << 22) | (k << 12);
			put_le32(pte + 4 * k, pa < ram ? (pa | 0x7) : 0);
		}
		put_le32(pgdir + 4 * i, ptepage | 0x7);
		put_le32(pgdir + 4 * (pgd_index(0xC0000000u) + i), ptepage | 0x7);
	}
	cpu_code_modified(&lg->cpu, first_pte, top + GUEST_PAGE_SIZE - first_pte);
	lg->host_pgdir = top;
}

/*
 * Is there room for the 2.6.31 host-built tables between the kernel and
 * the initrd?  The real host simply overwrote whatever was there.
 */
bool host_tables_fit(const struct lguest *lg, char *err, size_t errlen)
{
	uint64_t need = (uint64_t)(((lg->mem.ram_bytes + 0x3fffffu) >> 22) + 1) * GUEST_PAGE_SIZE;
	uint64_t below = (uint64_t)lg->mem.ram_bytes - lg->image.initrd_len;
	if (lg->abi->linear_start || below >= need + lg->image.image_high)
		return true;
	snprintf(err, errlen,
	         "--abi=%s builds %llu KB of page tables below the initrd, which would overwrite the kernel "
	         "(it ends at 0x%x, the initrd starts at 0x%llx); give the guest more memory",
	         lg->abi->name, (unsigned long long)(need >> 10), lg->image.image_high, (unsigned long long)below);
	return false;
}

/* The paging state a guest starts with: linear mode (3.19) or host-built tables (2.6.31). */
void pagetables_init(struct lguest *lg)
{
	memset(lg->slot, 0, sizeof(lg->slot));
	lg->cur_slot = 0;
	lg->next_victim = 0;
	lg->slot[0].used = true;
	if (lg->abi->linear_start) {
		lg->linear_pages = true;
	} else {
		build_host_pagetables(lg);
		lg->slot[0].gpgdir = lg->host_pgdir;
		lg->cpu.cr3 = lg->host_pgdir;
	}
	cpu_tlb_flush(&lg->cpu);
}

void pagetables_free(struct lguest *lg)
{
	for (unsigned i = 0; i < SHADOW_SLOTS; i++)
		drop_slot_range(&lg->slot[i], 0, 1024);
}

/* The shadow PTE for va in a slot, or NULL if the slot has none. */
static uint32_t *shadow_pte(struct shadow_slot *s, uint32_t va)
{
	uint32_t *ptes = s->pte[pgd_index(va)];
	return ptes ? &ptes[(va >> 12) & 0x3ff] : NULL;
}

/* lg.ko's check_gpte(): no 4 MB pages, no frames beyond the pfn limit. */
static bool check_gpte(struct lguest *lg, uint32_t gpte)
{
	if ((gpte & PTE_PSE) || !pfn_ok(lg, gpte)) {
		kill_guest(lg, "bad page table entry");
		return false;
	}
	return true;
}

enum fill { FILL_REFLECT, FILL_DONE, FILL_KILLED };

/*
 * demand_page() (§A3.3): try to fill the current slot for a fault at va
 * with hardware error code `errcode`.
 */
static enum fill demand_page(struct lguest *lg, uint32_t va, uint32_t errcode)
{
	struct shadow_slot *s = current_slot(lg);
	uint32_t gpde, gpte, gpte_addr = 0;

	if (va >= lg->abi->switcher_addr) {
		/* 3.19 reflects the fault; in the 2.6.31 profile any access there kills (part B). */
		if (lg->abi->switcher_kills) {
			kill_guest(lg, "attempt to access switcher pages");
			return FILL_KILLED;
		}
		return FILL_REFLECT;
	}
	if (lg->linear_pages) {
		gpde = PGD_ALLOWED_FLAGS;
		gpte = (va & PAGE_MASK) | PTE_RW | PTE_P;
	} else {
		gpde = lg_read32(lg, s->gpgdir + 4 * pgd_index(va));
		if (lg->death != GUEST_ALIVE)
			return FILL_KILLED;
		if (!(gpde & PTE_P))
			return FILL_REFLECT;
		if ((gpde & 0xfffu & ~PGD_ALLOWED_FLAGS) || !pfn_ok(lg, gpde)) {
			kill_guest(lg, "bad page directory entry");
			return FILL_KILLED;
		}
		gpte_addr = (gpde & PAGE_MASK) + 4 * ((va >> 12) & 0x3ff);
		gpte = lg_read32(lg, gpte_addr);
		if (lg->death != GUEST_ALIVE)
			return FILL_KILLED;
	}
	if (!(gpte & PTE_P))
		return FILL_REFLECT;
	if ((errcode & PF_ERR_WRITE) && !(gpte & PTE_RW))
		return FILL_REFLECT;
	if ((errcode & PF_ERR_USER) && !(gpte & PTE_US))
		return FILL_REFLECT;
	if (!check_gpte(lg, gpte))
		return FILL_KILLED;

	gpte |= PTE_A;
	if (errcode & PF_ERR_WRITE)
		gpte |= PTE_D;
	if (!lg->linear_pages) {
		lg_write32(lg, gpte_addr, gpte);
		if (lg->death != GUEST_ALIVE)
			return FILL_KILLED;
	}

	unsigned idx = pgd_index(va);
	if (!s->pte[idx]) {
		s->pte[idx] = calloc(1024, sizeof(uint32_t));
		if (!s->pte[idx]) {
			kill_guest(lg, "out of host memory for shadow page tables");
			return FILL_KILLED;
		}
		s->pde[idx] = (gpde & 0xfffu) | PTE_P;
	}
	uint32_t spte = gpte & ~PTE_G;
	if (!(gpte & PTE_D))
		spte &= ~PTE_RW;
	*shadow_pte(s, va) = spte;
	EMIT(lg, EV_TLB_FILL, lg->linear_pages, va, gpte, lg->cur_slot, errcode, gpte_addr);
	return FILL_DONE;
}

/*
 * The CPU's translation-miss callback.  A present shadow entry with the
 * needed permissions is handed back; otherwise we fault against the
 * shadow, try demand_page(), and report the hardware error code of that
 * fault (P set only if a shadow entry already existed) when it fails.
 */
enum cpu_xlate_result lguest_translate(void *opaque, struct cpu *cpu, uint32_t va, enum cpu_access access,
                                              struct cpu_translation *t, uint32_t *pf_error)
{
	struct lguest *lg = opaque;
	uint32_t want = (access == CPU_ACCESS_WRITE ? PF_ERR_WRITE : 0) | (cpu->cpl == 3 ? PF_ERR_USER : 0);
	uint32_t present = 0;

	for (int attempt = 0; attempt < 2; attempt++) {
		struct shadow_slot *s = current_slot(lg);
		uint32_t *sp = shadow_pte(s, va);
		uint32_t spte = sp ? *sp : 0;
		present = spte & PTE_P;
		if (present) {
			uint32_t spde = s->pde[pgd_index(va)];
			bool rw = (spte & PTE_RW) && (spde & PTE_RW);
			bool us = (spte & PTE_US) && (spde & PTE_US);
			if ((!(want & PF_ERR_WRITE) || rw) && (!(want & PF_ERR_USER) || us)) {
				t->host_page = guest_ptr(&lg->mem, spte & PAGE_MASK);
				t->phys_page = spte & PAGE_MASK;
				t->writable = rw;
				t->user = us;
				t->watched = lg->probe_writes || phys_page_watched(lg, spte) ||
				             (lg->dbg && lg->dbg->page_watched &&
				              lg->dbg->page_watched(lg->dbg->ctx, lg, va & PAGE_MASK));
				return CPU_XLATE_OK;
			}
		}
		/*
		 * A fill that succeeded but still leaves the access forbidden
		 * (the stale shadow PDE lacks RW or USER): on real hardware this
		 * faulted forever; we reflect the fault instead of hanging.
		 */
		if (attempt == 1)
			break;
		enum fill f = demand_page(lg, va, want | present);
		if (f == FILL_KILLED)
			return CPU_XLATE_STOP;
		if (f == FILL_REFLECT)
			break;
	}
	*pf_error = want | present;
	lg->last_pagefault = va;
	return CPU_XLATE_FAULT;
}

/*
 * guest_pa() (§A3.4): the host's own translation of a guest virtual
 * address, with no permission checks.  Kills "Bad address" when the
 * tables do not map it.
 */
bool guest_pa(struct lguest *lg, uint32_t va, uint32_t *pa)
{
	if (lg->linear_pages) {
		*pa = va;
		return true;
	}
	uint32_t gpde = lg_read32(lg, current_slot(lg)->gpgdir + 4 * pgd_index(va));
	uint32_t gpte = 0;
	if (lg->death == GUEST_ALIVE && (gpde & PTE_P))
		gpte = lg_read32(lg, (gpde & PAGE_MASK) + 4 * ((va >> 12) & 0x3ff));
	if (lg->death != GUEST_ALIVE)
		return false;
	if (!(gpde & PTE_P) || !(gpte & PTE_P)) {
		kill_guest(lg, "Bad address 0x%x", va);
		return false;
	}
	*pa = (gpte & PAGE_MASK) | (va & 0xfffu);
	return true;
}

/*
 * A walk of the guest page directory at `pgdir` for va, for reports,
 * checkers and debuggers: never kills, never sets A/D.  Fills the PDE and
 * PTE it read (0 when absent; pass NULL if not wanted) and returns whether
 * va is mapped.
 */
bool guest_walk_pgdir(struct lguest *lg, uint32_t pgdir, uint32_t va, uint32_t *pa, uint32_t *pde, uint32_t *pte)
{
	uint32_t d = 0, t = 0;
	uint32_t dir = (pgdir & PAGE_MASK) + 4 * pgd_index(va);
	bool mapped = false;
	if (guest_range_ok(&lg->mem, dir, 4) && ((d = get_le32(guest_ptr(&lg->mem, dir))) & PTE_P)) {
		uint32_t ent = (d & PAGE_MASK) + 4 * ((va >> 12) & 0x3ff);
		if (guest_range_ok(&lg->mem, ent, 4) && ((t = get_le32(guest_ptr(&lg->mem, ent))) & PTE_P)) {
			*pa = (t & PAGE_MASK) | (va & 0xfffu);
			mapped = true;
		}
	}
	if (pde)
		*pde = d;
	if (pte)
		*pte = t;
	return mapped;
}

/* The same through the current page directory; identity in linear mode. */
bool guest_walk(struct lguest *lg, uint32_t va, uint32_t *pa, uint32_t *pde, uint32_t *pte)
{
	if (lg->linear_pages) {
		if (pde)
			*pde = 0;
		if (pte)
			*pte = 0;
		*pa = va;
		return true;
	}
	return guest_walk_pgdir(lg, current_slot(lg)->gpgdir, va, pa, pde, pte);
}

/* The current shadow slot's entry for va (0 when it has none), for reports. */
uint32_t shadow_entry(struct lguest *lg, uint32_t va)
{
	uint32_t *sp = shadow_pte(current_slot(lg), va);
	return sp ? *sp : 0;
}

/* pin_page(): make sure a stack page is mapped writable in the current slot (§A4.4). */
static void pin_page(struct lguest *lg, uint32_t va)
{
	uint32_t *sp = shadow_pte(current_slot(lg), va);
	uint32_t spde = current_slot(lg)->pde[pgd_index(va)];
	if (sp && (*sp & PTE_P) && (*sp & PTE_RW) && (spde & PTE_RW))
		return;
	enum fill f = demand_page(lg, va, PF_ERR_WRITE);
	if (f == FILL_REFLECT)
		kill_guest(lg, "bad stack page 0x%x", va);
	cpu_tlb_flush_page(&lg->cpu, va);
}

/* Pin every page of the kernel stack SET_STACK described. */
void pin_stack_pages(struct lguest *lg)
{
	for (uint32_t i = 0; i < lg->stack_pages && lg->death == GUEST_ALIVE; i++)
		pin_page(lg, lg->cpu.tss_esp[1] - 1 - i * GUEST_PAGE_SIZE);
}

/*
 * NEW_PGTABLE (§A4.1): switch to the slot that shadows pgdir, dropping
 * nothing, or take a slot (round robin, where lg.ko picked at random) and
 * drop its user part.  The first call after linear mode drops everything.
 */
void guest_new_pagetable(struct lguest *lg, uint32_t pgdir)
{
	int found = -1;
	bool repin = false;

	if (lg->linear_pages) {
		drop_all_shadows(lg);
		lg->linear_pages = false;
	} else {
		for (unsigned i = 0; i < SHADOW_SLOTS; i++)
			if (lg->slot[i].used && lg->slot[i].gpgdir == pgdir)
				found = (int)i;
	}
	if (found < 0) {
		struct shadow_slot *s = &lg->slot[lg->next_victim];
		found = (int)lg->next_victim;
		lg->next_victim = (lg->next_victim + 1) % SHADOW_SLOTS;
		repin = !s->used;
		s->used = true;
		s->gpgdir = pgdir;
		drop_slot_range(s, 0, user_pgd_end(lg));
	}
	EMIT(lg, EV_TLB_FLUSH, repin || lg->slot[found].gpgdir != lg->cpu.cr3 ? FLUSH_NEW_PGTABLE_NEW : FLUSH_NEW_PGTABLE_CACHED,
	     pgdir);
	lg->cur_slot = (unsigned)found;
	lg->cpu.cr3 = pgdir;
	cpu_tlb_flush(&lg->cpu);
	if (repin)
		pin_stack_pages(lg);
}

/* FLUSH_TLB (§A4.3): user part of the current slot, or everything then re-pin. */
void guest_flush_tlb(struct lguest *lg, bool kernel_too)
{
	if (kernel_too) {
		drop_all_shadows(lg);
		pin_stack_pages(lg);
	} else {
		EMIT(lg, EV_TLB_FLUSH, FLUSH_USER, 0);
		drop_slot_range(current_slot(lg), 0, user_pgd_end(lg));
		cpu_tlb_flush(&lg->cpu);
	}
}

/* __guest_set_pte() for one slot (§A4.2). */
static void set_pte_in_slot(struct lguest *lg, struct shadow_slot *s, uint32_t vaddr, uint32_t pte)
{
	uint32_t *sp = shadow_pte(s, vaddr);
	if (!sp || !(s->pde[pgd_index(vaddr)] & PTE_P))
		return;
	if (pte & (PTE_A | PTE_D)) {
		if (!check_gpte(lg, pte))
			return;
		*sp = pte & ~PTE_G;
	} else {
		*sp = 0;
	}
}

/* SET_PTE (§A4.2): kernel addresses update every slot, user ones only pgdir's. */
void guest_set_pte(struct lguest *lg, uint32_t pgdir, uint32_t vaddr, uint32_t pte)
{
	if (vaddr >= lg->abi->switcher_addr) {
		/* 3.10+ hosts checked this first; the 2.6.31 era failed in the shadow lookup. */
		kill_guest(lg, lg->abi->switcher_kills ? "attempt to access switcher pages"
		                                       : "attempt to set pte into Switcher pages");
		return;
	}
	EMIT(lg, EV_TLB_FLUSH, FLUSH_PTE, vaddr, pte, pgdir);
	for (unsigned i = 0; i < SHADOW_SLOTS; i++) {
		struct shadow_slot *s = &lg->slot[i];
		if (!s->used)
			continue;
		if (vaddr >= lg->kernel_address || (!lg->linear_pages && s->gpgdir == pgdir))
			set_pte_in_slot(lg, s, vaddr, pte);
	}
	cpu_tlb_flush_page(&lg->cpu, vaddr);
}

/* SET_PGD (§A4.3): drop one PTE page of pgdir's slot, if it is cached. */
void guest_set_pgd(struct lguest *lg, uint32_t pgdir, uint32_t idx)
{
	if (lg->abi->switcher_kills ? idx >= 1023 : idx > 1024) {
		if (!lg->abi->switcher_kills)
			kill_guest(lg, "Attempt to set pgd %u/%u", idx, 1024u);
		return;
	}
	EMIT(lg, EV_TLB_FLUSH, FLUSH_PGD, idx, pgdir);
	for (unsigned i = 0; i < SHADOW_SLOTS; i++)
		if (lg->slot[i].used && !lg->linear_pages && lg->slot[i].gpgdir == pgdir)
			drop_slot_range(&lg->slot[i], idx, idx + 1);
	cpu_tlb_flush(&lg->cpu);
}
