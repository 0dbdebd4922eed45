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

/*
 * Copy guest memory from addr: through the guest's own page tables (with
 * the linear-mode alias of kernel addresses), or physical.  Stops at the
 * first byte with nothing behind it; returns how many were copied.
 */
uint32_t inspect_read(struct lguest *lg, uint32_t addr, uint8_t *buf, uint32_t len, bool physical);

/* The interrupt gates the guest loaded, one line each. */
void inspect_idt(struct lguest *lg, FILE *f);
/* The host-held GDT, non-empty entries decoded. */
void inspect_gdt(struct lguest *lg, FILE *f);
/* va through the guest's page tables, with the shadow entry and the CPU's TLB beside it. */
void inspect_pt(struct lguest *lg, uint32_t va, FILE *f);
/* What the current shadow slot maps. */
void inspect_tlb(struct lguest *lg, FILE *f);

#endif
