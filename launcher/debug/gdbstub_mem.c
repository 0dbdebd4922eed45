/*
 * Guest memory as the debugger sees it, in three views:
 *
 *   guest     the guest's own page tables, walked afresh at every access
 *             from the page directory it loaded (cr3) -- never a cached
 *             translation that may be stale.  In linear mode (before the
 *             first NEW_PGTABLE) every address is itself, and an address at
 *             or above PAGE_OFFSET that would be past RAM reads RAM at
 *             addr - PAGE_OFFSET: where a kernel linked at 0xC0100000 but
 *             loaded at 0x100000 really is, so its symbols can be read.
 *   shadow    what the current shadow slot maps right now: what the CPU
 *             would use (identity in linear mode, no alias).
 *   physical  guest-physical addresses.
 *
 * Nothing here kills the guest or changes its state: the walk reads the
 * tables through guest_range_ok(), and sets no accessed or dirty bits.
 */
#include <string.h>

#include "debug/gdbstub_internal.h"
#include "host/host.h"

/*
 * The guest's own walk of va (guest_walk_pgdir in host/pagetables.c),
 * with what a debugger adds: the physical alias of a kernel address in
 * linear mode, the PTE's address, and why an address is not mapped.
 */
void gdb_walk_guest(struct lguest *lg, uint32_t va, struct gdb_walk *w)
{
	memset(w, 0, sizeof(*w));
	w->linear = lg->linear_pages;
	w->pgdir = lg->slot[lg->cur_slot].gpgdir;
	if (w->linear) {
		w->mapped = true;
		w->pa = va;
		if (va >= KERNEL_PAGE_OFFSET && !guest_range_ok(&lg->mem, va, 1) &&
		    guest_range_ok(&lg->mem, va - KERNEL_PAGE_OFFSET, 1)) {
			w->alias = true;
			w->pa = va - KERNEL_PAGE_OFFSET;
		}
		return;
	}
	w->mapped = guest_walk_pgdir(lg, w->pgdir, va, &w->pa, &w->pde, &w->pte);
	if (w->pde & PTE_P)
		w->pte_addr = (w->pde & PAGE_MASK) + 4 * ((va >> 12) & 0x3ffu);
	if (w->pde & PTE_PSE) {
		w->mapped = false;
		w->why = "4 MB page (lguest refuses these)";
	} else if (!(w->pde & PTE_P)) {
		w->why = "page directory entry not present (or outside guest memory)";
	} else if (!w->mapped) {
		w->why = "page table entry not present (or outside guest memory)";
	}
}

const char *gdb_view_name(enum mem_view v)
{
	switch (v) {
	case VIEW_GUEST: return "guest (the guest's page tables)";
	case VIEW_SHADOW: return "shadow (what the CPU maps now)";
	case VIEW_PHYSICAL: return "physical";
	}
	return "?";
}

size_t gdb_mem_read(struct gdbstub *g, uint32_t addr, uint8_t *buf, size_t len)
{
	return inspect_move(g->lg, g->view, addr, buf, (uint32_t)len, false);
}

size_t gdb_mem_write(struct gdbstub *g, uint32_t addr, const uint8_t *buf, size_t len)
{
	return inspect_move(g->lg, g->view, addr, (uint8_t *)buf, (uint32_t)len, true);
}
