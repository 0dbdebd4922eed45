/*
 * The guest's GDT lives in the host (addendum §A8): the guest loads it one
 * entry at a time with LOAD_GDT_ENTRY (and TLS entries with LOAD_TLS), the
 * host applies lg.ko's fixups, and the CPU reads descriptors from here,
 * never from guest memory.
 */
#include <string.h>

#include "host.h"

#define GDT_ENTRY_TLS_MIN 6
#define GDT_ENTRY_LGUEST_CS 10
#define GDT_ENTRY_LGUEST_DS 11
#define GDT_ENTRY_KERNEL_CS 12
#define GDT_ENTRY_KERNEL_DS 13
#define GDT_ENTRY_TSS 16
#define GDT_ENTRY_DOUBLEFAULT_TSS 31

/* Entries the host owns: the guest may write them, but they are never used. */
static bool host_owned(unsigned idx)
{
	return idx == GDT_ENTRY_LGUEST_CS || idx == GDT_ENTRY_LGUEST_DS || idx == GDT_ENTRY_TSS ||
	       idx == GDT_ENTRY_DOUBLEFAULT_TSS;
}

/* The fixups of fixup_gdt_table(): DPL 0 becomes 1, the accessed bit is set. */
static uint64_t fixup(uint64_t desc)
{
	uint32_t lo = (uint32_t)desc, hi = (uint32_t)(desc >> 32);
	if (((hi >> 13) & 3) == 0)
		hi |= 1u << 13;
	hi |= 0x100u;
	return (uint64_t)hi << 32 | lo;
}

/* A segment descriptor's base and limit in bytes, for reports and debuggers. */
void descriptor_base_limit(uint64_t desc, uint32_t *base, uint32_t *limit)
{
	uint32_t lo = (uint32_t)desc, hi = (uint32_t)(desc >> 32);
	*base = (lo >> 16) | (hi & 0xffu) << 16 | (hi & 0xff000000u);
	*limit = (lo & 0xffffu) | (hi & 0xf0000u);
	if (hi & 0x800000u)
		*limit = *limit << 12 | 0xfffu;
}

/* At start only the flat kernel code and data segments exist, DPL 1. */
void gdt_init(struct lguest *lg)
{
	memset(lg->gdt, 0, sizeof(lg->gdt));
	lg->gdt[GDT_ENTRY_KERNEL_CS] = (uint64_t)0x00cfbb00u << 32 | 0x0000ffffu;
	lg->gdt[GDT_ENTRY_KERNEL_DS] = (uint64_t)0x00cfb300u << 32 | 0x0000ffffu;
}

/* LOAD_GDT_ENTRY(n, lo, hi). */
void load_gdt_entry(struct lguest *lg, uint32_t idx, uint32_t lo, uint32_t hi)
{
	if (idx >= GDT_ENTRIES) {
		kill_guest(lg, "too many gdt entries %i", (int)idx);
		return;
	}
	if (!host_owned(idx))
		lg->gdt[idx] = fixup((uint64_t)hi << 32 | lo);
}

/* LOAD_TLS(addr): three descriptors into entries 6-8, with the same fixups. */
void load_tls(struct lguest *lg, uint32_t addr)
{
	uint8_t tls[24];
	if (!lg_read(lg, addr, tls, sizeof(tls)))
		return;
	for (unsigned i = 0; i < 3; i++)
		lg->gdt[GDT_ENTRY_TLS_MIN + i] = fixup((uint64_t)get_le32(tls + 8 * i + 4) << 32 | get_le32(tls + 8 * i));
}
