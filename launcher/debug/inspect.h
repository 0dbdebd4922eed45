/*
 * Views of lguest's own state for debuggers: the IDT and GDT the host
 * holds, a page-table walk beside the shadow entry, the shadow "TLB".
 * No register or memory read can show these, so both the gdb stub's
 * `monitor` commands and lgdbg's control socket print them from here.
 * Nothing here changes the guest.
 */
#ifndef LGUEST_INSPECT_H
#define LGUEST_INSPECT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct lguest;

/* How a debugger addresses guest memory. */
enum mem_view {
	VIEW_GUEST,   /* through the guest's own page tables (kernel addresses' alias in linear mode) */
	VIEW_SHADOW,  /* through what the shadow, and so the CPU, maps now */
	VIEW_PHYSICAL /* guest-physical addresses */
};

/*
 * Move up to len bytes between buf and guest memory at addr in a view,
 * page by page (writes tell the CPU its decoded code may be stale).
 * Stops at the first byte with nothing behind it; returns how many moved.
 */
uint32_t inspect_move(struct lguest *lg, enum mem_view view, uint32_t addr, uint8_t *buf, uint32_t len, bool write);

/* The interrupt gates the guest loaded, one line each. */
void inspect_idt(struct lguest *lg, FILE *f);
/* The host-held GDT, non-empty entries decoded. */
void inspect_gdt(struct lguest *lg, FILE *f);
/* va through the guest's page tables, with the shadow entry and the CPU's TLB beside it. */
void inspect_pt(struct lguest *lg, uint32_t va, FILE *f);
/* What the current shadow slot maps. */
void inspect_tlb(struct lguest *lg, FILE *f);

#endif
