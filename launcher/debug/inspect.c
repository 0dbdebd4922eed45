/*
 * lguest's own state as text, for the gdb stub's `monitor` commands and
 * for lgdbg (debug/inspect.h).  Read-only: the page walk goes through
 * gdb_walk_guest(), which neither kills the guest nor sets A/D bits.
 */
#include <stdio.h>
#include <string.h>

#include "debug/gdbstub_internal.h"
#include "debug/inspect.h"
#include "host/host.h"

#define TLB_LIST_MAX 256u

/* The guest-physical address of addr in a view, if it has one. */
static bool view_translate(struct lguest *lg, enum mem_view view, uint32_t addr, uint32_t *pa)
{
	struct gdb_walk w;
	uint32_t spte;

	switch (view) {
	case VIEW_PHYSICAL:
		*pa = addr;
		break;
	case VIEW_SHADOW:
		spte = shadow_entry(lg, addr);
		if (!(spte & PTE_P))
			return false;
		*pa = (spte & PAGE_MASK) | (addr & 0xfffu);
		break;
	case VIEW_GUEST:
		gdb_walk_guest(lg, addr, &w);
		if (!w.mapped)
			return false;
		*pa = w.pa;
		break;
	}
	return guest_range_ok(&lg->mem, *pa, 1);
}

uint32_t inspect_move(struct lguest *lg, enum mem_view view, uint32_t addr, uint8_t *buf, uint32_t len, bool write)
{
	uint32_t done = 0;
	while (done < len) {
		uint32_t va = addr + done, pa = 0;
		uint32_t chunk = GUEST_PAGE_SIZE - (va & 0xfffu);
		if (chunk > len - done)
			chunk = len - done;
		if (!view_translate(lg, view, va, &pa))
			break;
		while (chunk && !guest_range_ok(&lg->mem, pa, chunk))
			chunk--;
		if (!chunk)
			break;
		if (write) {
			memcpy(guest_ptr(&lg->mem, pa), buf + done, chunk);
			cpu_code_modified(&lg->cpu, pa, chunk);
		} else {
			memcpy(buf + done, guest_ptr(&lg->mem, pa), chunk);
		}
		done += chunk;
		if ((uint64_t)va + chunk > 0xffffffffu)
			break; /* nothing above 4 GB */
	}
	return done;
}

/* The interrupt gates the guest loaded, one line each. */
void inspect_idt(struct lguest *lg, FILE *f)
{
	unsigned shown = 0;
	for (unsigned v = 0; v < 256; v++) {
		if (!idt_present(lg, v))
			continue;
		uint32_t lo = lg->idt_lo[v], hi = lg->idt_hi[v];
		unsigned type = gate_type(hi);
		fprintf(f, "  %3u  %04x:%08x  %s gate  dpl %u%s\n", v, lo >> 16, gate_offset(lo, hi),
		        type == 0xe ? "interrupt" : type == 0xf ? "trap" : "?", gate_dpl(hi),
		        direct_trap_capable(lg, v) ? "  (direct)" : "");
		shown++;
	}
	if (!shown)
		fprintf(f, "no interrupt gates loaded yet\n");
}

/* The host-held GDT, non-empty entries decoded, one line each. */
void inspect_gdt(struct lguest *lg, FILE *f)
{
	for (unsigned i = 0; i < GDT_ENTRIES; i++) {
		uint64_t d = lg->gdt[i];
		if (!d)
			continue;
		uint32_t hi = (uint32_t)(d >> 32), base, limit;
		descriptor_base_limit(d, &base, &limit);
		fprintf(f, "  %2u  sel 0x%02x  base 0x%08x limit 0x%08x  type 0x%x %s dpl %u %s\n", i, i * 8, base, limit,
		        gate_type(hi), (hi & 0x1000u) ? ((hi & 0x800u) ? "code" : "data") : "system", gate_dpl(hi),
		        (hi & 0x8000u) ? "present" : "not-present");
	}
}

/* Page-table entry flags, as letters. */
static void flags(uint32_t e, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s%s%s%s", (e & 1) ? "P" : "-", (e & 2) ? "W" : "r", (e & 4) ? "U" : "s",
	         (e & 0x20) ? "A" : "-", (e & 0x40) ? "D" : "-", (e & 0x100) ? "G" : "-");
}

void inspect_pt(struct lguest *lg, uint32_t va, FILE *f)
{
	char fl[16];
	struct gdb_walk w;
	gdb_walk_guest(lg, va, &w);
	if (w.linear) {
		fprintf(f, "linear mode (before the first NEW_PGTABLE): 0x%08x is guest-physical 0x%08x\n", va, va);
		if (w.alias)
			fprintf(f, "  (past RAM: the debugger reads it at addr - PAGE_OFFSET = 0x%08x)\n", w.pa);
	} else {
		fprintf(f, "guest page tables (cr3 0x%08x):\n", w.pgdir);
		flags(w.pde, fl, sizeof(fl));
		fprintf(f, "  pde[%u] at 0x%08x = 0x%08x %s\n", va >> 22, w.pgdir + 4 * (va >> 22), w.pde, fl);
		if (w.pte_addr) {
			flags(w.pte, fl, sizeof(fl));
			fprintf(f, "  pte[%u] at 0x%08x = 0x%08x %s\n", (va >> 12) & 0x3ff, w.pte_addr, w.pte, fl);
		}
		if (w.mapped)
			fprintf(f, "  -> guest-physical 0x%08x\n", w.pa);
		else
			fprintf(f, "  not mapped: %s\n", w.why);
	}
	uint32_t spte = shadow_entry(lg, va);
	flags(spte, fl, sizeof(fl));
	if (spte & 1)
		fprintf(f, "shadow slot %u: 0x%08x %s -> guest-physical 0x%08x%s\n", lg->cur_slot, spte, fl,
		        (spte & PAGE_MASK) | (va & 0xfff),
		        !w.linear && w.mapped && (spte & PAGE_MASK) != (w.pa & PAGE_MASK)
		                ? "  (STALE: differs from the guest's tables)"
		                : "");
	else
		fprintf(f, "shadow slot %u: no entry (the next access fills it from the guest's tables)\n", lg->cur_slot);
	const struct cpu_tlb_entry *t = &lg->cpu.tlb[lg->cpu.cpl == 3][(va >> 12) % CPU_TLB_SIZE];
	uint32_t page = va & PAGE_MASK;
	if (t->tag_read == page || t->tag_write == page || t->tag_fetch == page)
		fprintf(f, "CPU TLB: cached -> 0x%08x (%s%s%s)\n", t->phys_page, t->tag_read == page ? "r" : "",
		        t->tag_write == page ? "w" : "", t->tag_fetch == page ? "x" : "");
	else
		fprintf(f, "CPU TLB: not cached\n");
}

void inspect_tlb(struct lguest *lg, FILE *f)
{
	unsigned listed = 0, total = 0;
	char fl[16];
	fprintf(f, "%s; current shadow slot %u", lg->linear_pages ? "linear mode" : "guest page tables", lg->cur_slot);
	for (unsigned s = 0; s < SHADOW_SLOTS; s++)
		if (lg->slot[s].used)
			fprintf(f, "%s slot %u shadows pgdir 0x%08x", s ? "," : ";", s, lg->slot[s].gpgdir);
	fprintf(f, "\n");
	const struct shadow_slot *sl = &lg->slot[lg->cur_slot];
	for (unsigned i = 0; i < 1024; i++) {
		if (!sl->pte[i])
			continue;
		for (unsigned k = 0; k < 1024; k++) {
			uint32_t e = sl->pte[i][k];
			if (!(e & 1))
				continue;
			total++;
			if (listed < TLB_LIST_MAX) {
				flags(e, fl, sizeof(fl));
				fprintf(f, "  0x%08x -> 0x%08x %s\n", i << 22 | k << 12, e & PAGE_MASK, fl);
				listed++;
			}
		}
	}
	if (total > listed)
		fprintf(f, "  ... %u more\n", total - listed);
	fprintf(f, "%u shadow entries present\n", total);
}
