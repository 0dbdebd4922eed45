/*
 * Memory: segment windows, the software TLB and everything slow about
 * guest memory access.
 *
 * The CPU never walks page tables.  A TLB miss asks the host
 * (ops->translate) and caches the answer in cpu->tlb[cpl == 3]; a write
 * through a read-only cached entry, or a CPL 3 access through a
 * supervisor one, is simply a miss.  Watched pages are never cached, so
 * every access to them reaches ops->mem_access.  Accesses that straddle a
 * page boundary resolve both pages before touching either.
 */
#include <string.h>

#include "core.h"

/* Rebuild the access window of one segment register from cpu->seg. */
void seg_window_refresh(struct cpu *cpu, enum cpu_sreg s)
{
	const struct cpu_segment *seg = &cpu->seg[s];
	struct seg_window *w = &cpu->priv->segw[s];
	unsigned type = SEG_ATTR_TYPE(seg->attr);

	if (s == CPU_CS) {
		/* The fetch window is in CS offsets: a new CS closes it. */
		cpu->priv->fetch_span = 0;
		cpu->priv->code16 = !SEG_ATTR_DB(seg->attr);
	}
	w->base = seg->base;
	w->lo = 0;
	w->hi = seg->limit;
	if (!seg->usable) {
		w->rights = 0;
		return;
	}
	if (type & TYPE_CODE) {
		w->rights = SEGR_FETCH | ((type & TYPE_RW) ? SEGR_READ : 0);
		return;
	}
	w->rights = SEGR_READ | ((type & TYPE_RW) ? SEGR_WRITE : 0);
	if (type & TYPE_EXPAND_DOWN) { /* valid offsets lie above the limit */
		w->lo = seg->limit + 1;
		w->hi = SEG_ATTR_DB(seg->attr) ? 0xffffffffu : 0xffffu;
	}
}

/* A segment check failed: #SS(0) through SS, #GP(0) otherwise. */
_Noreturn void seg_access_fault(struct cpu *cpu, enum cpu_sreg s)
{
	if (s == CPU_SS && cpu->seg[CPU_SS].usable)
		cpu_raise(cpu, CPU_SS_FAULT, true, 0);
	cpu_raise(cpu, CPU_GP, true, 0);
}

/* One resolved page: where it lives in the launcher and whether it is watched. */
struct page_ref {
	uint8_t *host; /* start of the 4 KiB page */
	uint32_t phys;
	bool watched;
};

/*
 * Resolve the page holding `la` for `access`: a TLB hit, or a call to the
 * host whose answer is cached when that is allowed.  Faults raise #PF.
 */
static struct page_ref resolve_page(struct cpu *cpu, uint32_t la, enum cpu_access access)
{
	struct cpu_private *p = cpu->priv;
	uint32_t page = la & ~0xfffu;
	struct cpu_tlb_entry *e = &p->tlb_cur[(la >> 12) & (CPU_TLB_SIZE - 1)];
	uint32_t tag = access == CPU_ACCESS_WRITE ? e->tag_write
	             : access == CPU_ACCESS_FETCH ? e->tag_fetch : e->tag_read;
	if (tag == page)
		return (struct page_ref){ (uint8_t *)(uintptr_t)(page + e->addend), e->phys_page, false };

	struct cpu_translation t = { 0 };
	uint32_t pf_error = 0;
	switch (cpu->ops->translate(cpu->opaque, cpu, la, access, &t, &pf_error)) {
	case CPU_XLATE_OK:
		break;
	case CPU_XLATE_FAULT:
		cpu->cr2 = la;
		cpu_raise(cpu, CPU_PF, true, pf_error);
	default:
		cpu_stop_now(cpu, CPU_STOP_HOST);
	}
	struct page_ref ref = { t.host_page, t.phys_page & ~0xfffu, t.watched };
	if (t.watched || (cpu->cpl == 3 && !t.user))
		return ref;
	e->tag_read = page;
	e->tag_fetch = page;
	/* A page holding decoded code is written the slow way, which forgets the code. */
	e->tag_write = t.writable && dcache_page_writable(cpu, ref.phys) ? page : CPU_TLB_INVALID;
	e->phys_page = ref.phys;
	e->addend = (uintptr_t)t.host_page - page;
	return ref;
}

/* Tell the host about an access to a watched page; it may ask us to stop. */
static void watch_notify(struct cpu *cpu, const struct page_ref *ref, uint32_t la, unsigned size,
                         enum cpu_access access, uint64_t value)
{
	if (!ref->watched || !cpu->ops->mem_access)
		return;
	if (cpu->ops->mem_access(cpu->opaque, cpu, la, ref->phys | (la & 0xfffu), size, access,
	                         value) && !(cpu->priv->after & AFTER_WATCH)) {
		cpu->priv->after |= AFTER_WATCH;
		cpu->priv->watch_addr = la;
	}
}

/*
 * Copy between `buf` and linear memory, len <= 4096: a store when
 * `access` is CPU_ACCESS_WRITE, else a load.  All pages are resolved for
 * `xlate` (so a read-modify-write checks write permission up front, as the
 * processor does) before the first byte moves.
 */
static void lin_copy_as(struct cpu *cpu, uint32_t la, void *buf, uint32_t len,
                        enum cpu_access access, enum cpu_access xlate)
{
	uint32_t first = 4096 - (la & 0xfffu);
	if (first > len)
		first = len;
	struct page_ref ref[2];
	ref[0] = resolve_page(cpu, la, xlate);
	if (first < len)
		ref[1] = resolve_page(cpu, la + first, xlate);

	uint8_t *b = buf;
	uint32_t done = 0;
	for (int i = 0; done < len; i++) {
		uint32_t addr = la + done;
		uint32_t chunk = i == 0 ? first : len - first;
		for (uint32_t part = 0; part < chunk; part += 8) {
			uint32_t n = chunk - part < 8 ? chunk - part : 8;
			uint64_t value = 0;
			if (access == CPU_ACCESS_WRITE)
				memcpy(&value, b + done + part, n);
			watch_notify(cpu, &ref[i], addr + part, n, access, value);
		}
		uint8_t *host = ref[i].host + (addr & 0xfffu);
		if (access == CPU_ACCESS_WRITE) {
			memcpy(host, b + done, chunk);
			dcache_page_written(cpu, ref[i].phys);
		} else
			memcpy(b + done, host, chunk);
		done += chunk;
	}
}

/* The usual case of lin_copy_as(): pages are checked for the access we actually make. */
static void lin_copy(struct cpu *cpu, uint32_t la, void *buf, uint32_t len, enum cpu_access access)
{
	lin_copy_as(cpu, la, buf, len, access, access);
}

/* Read the destination of a read-modify-write, checked for writing. */
uint32_t mem_read_rmw(struct cpu *cpu, enum cpu_sreg s, uint32_t off, unsigned size)
{
	uint32_t la = seg_linear(cpu, s, off, size, SEGR_WRITE);
	uint8_t *p = tlb_hit(cpu, la, size, true);
	uint32_t v = 0;
	if (likely(p != NULL)) {
		__builtin_memcpy(&v, p, size);
		return v;
	}
	lin_copy_as(cpu, la, &v, size, CPU_ACCESS_READ, CPU_ACCESS_WRITE);
	return v;
}

/*
 * A read the inline TLB path could not serve: a miss, a watched page, or
 * bytes that straddle two pages.  Faults raise as the processor would.
 */
uint32_t mem_read_slow(struct cpu *cpu, uint32_t la, unsigned size, enum cpu_access access)
{
	uint32_t v = 0;
	lin_copy(cpu, la, &v, size, access);
	return v;
}

/*
 * The write counterpart of mem_read_slow(): it also tells watchers and
 * forgets decoded code on the pages it stores to.
 */
void mem_write_slow(struct cpu *cpu, uint32_t la, unsigned size, uint32_t value)
{
	lin_copy(cpu, la, &value, size, CPU_ACCESS_WRITE);
}

/* Check that [la, la+len) is writable without writing (len <= 4096). */
void probe_write_linear(struct cpu *cpu, uint32_t la, uint32_t len)
{
	if (len == 0)
		return;
	resolve_page(cpu, la, CPU_ACCESS_WRITE);
	if ((la & 0xfffu) + len > 4096)
		resolve_page(cpu, la + len - 1, CPU_ACCESS_WRITE);
}

/* Forget the cached code page (after a flush or a privilege change). */
void fetch_invalidate(struct cpu *cpu)
{
	cpu->priv->fetch_page = FETCH_PAGE_NONE;
	cpu->priv->fetch_host = NULL;
	cpu->priv->fetch_span = 0;
}

/* A fetch outside the fast window: the 15-byte limit, then the slow path. */
uint8_t fetch8_slow(struct cpu *cpu, struct insn *in)
{
	uint32_t off = in->next;
	if (off - in->start >= 15)
		cpu_raise(cpu, CPU_GP, true, 0);
	in->next = off + 1;
	return fetch_slow(cpu, off);
}

/* Fetch one byte at CS:off the slow way, caching the code page when allowed. */
uint8_t fetch_slow(struct cpu *cpu, uint32_t off)
{
	struct cpu_private *p = cpu->priv;
	const struct seg_window *w = &p->segw[CPU_CS];
	if (!(w->rights & SEGR_FETCH) || off > w->hi)
		cpu_raise(cpu, CPU_GP, true, 0);
	uint32_t la = w->base + off;
	struct page_ref ref = resolve_page(cpu, la, CPU_ACCESS_FETCH);
	if (ref.watched) {
		watch_notify(cpu, &ref, la, 1, CPU_ACCESS_FETCH, 0);
		return ref.host[la & 0xfffu];
	}
	const struct cpu_tlb_entry *e = &p->tlb_cur[(la >> 12) & (CPU_TLB_SIZE - 1)];
	if (e->tag_fetch == (la & ~0xfffu)) {
		/* Open the window over this page's bytes that lie inside CS. */
		uint32_t in_page = la & 0xfffu;
		uint32_t back = off < in_page ? off : in_page;
		uint32_t lo = off - back, limit_span = w->hi - lo + 1;
		p->fetch_page = la & ~0xfffu;
		p->fetch_host = ref.host;
		p->fetch_lo = lo;
		p->fetch_win = ref.host + (in_page - back);
		p->fetch_phys = ref.phys + (in_page - back);
		p->fetch_gen = &p->page_gen[ref.phys >> 12];
		p->fetch_span = 4096 - (in_page - back);
		if (limit_span != 0 && limit_span < p->fetch_span)
			p->fetch_span = limit_span;
	}
	return ref.host[la & 0xfffu];
}

/* ---- the interface of cpu_internal.h ---- */

uint16_t cpu_mem_read16(struct cpu *cpu, enum cpu_sreg seg, uint32_t off)
{
	return (uint16_t)mem_read(cpu, seg, off, 2);
}

uint32_t cpu_mem_read32(struct cpu *cpu, enum cpu_sreg seg, uint32_t off)
{
	return mem_read(cpu, seg, off, 4);
}

/* Eight bytes (cmpxchg8b, x87 doubles) are more than mem_read() takes, so copy them. */
uint64_t cpu_mem_read64(struct cpu *cpu, enum cpu_sreg seg, uint32_t off)
{
	uint64_t v;
	lin_copy(cpu, seg_linear(cpu, seg, off, 8, SEGR_READ), &v, 8, CPU_ACCESS_READ);
	return v;
}

void cpu_mem_write16(struct cpu *cpu, enum cpu_sreg seg, uint32_t off, uint16_t v)
{
	mem_write(cpu, seg, off, 2, v);
}

void cpu_mem_write32(struct cpu *cpu, enum cpu_sreg seg, uint32_t off, uint32_t v)
{
	mem_write(cpu, seg, off, 4, v);
}

/* The eight-byte store (x87 doubles and int64s), checked against the segment as one access. */
void cpu_mem_write64(struct cpu *cpu, enum cpu_sreg seg, uint32_t off, uint64_t v)
{
	lin_copy(cpu, seg_linear(cpu, seg, off, 8, SEGR_WRITE), &v, 8, CPU_ACCESS_WRITE);
}

/* Fault now, before a long store (fxsave, pusha...) has written its first byte. */
void cpu_mem_probe_write(struct cpu *cpu, enum cpu_sreg seg, uint32_t off, uint32_t len)
{
	if (len == 0)
		return;
	uint32_t la = seg_linear(cpu, seg, off, len, SEGR_WRITE);
	while (len > 4096) {
		probe_write_linear(cpu, la, 4096);
		la += 4096;
		len -= 4096;
	}
	probe_write_linear(cpu, la, len);
}

/* ---- the host's interface ---- */

/* Empty one TLB slot, so every kind of access through it misses. */
static void tlb_entry_clear(struct cpu_tlb_entry *e)
{
	e->tag_read = e->tag_write = e->tag_fetch = CPU_TLB_INVALID;
	e->phys_page = 0;
	e->addend = 0;
}

/*
 * New page tables or paging controls (mov to CR0/CR3/CR4), or the debugger
 * changed what is watched: forget every translation.
 */
void cpu_tlb_flush(struct cpu *cpu)
{
	for (int c = 0; c < 2; c++)
		for (unsigned i = 0; i < CPU_TLB_SIZE; i++)
			tlb_entry_clear(&cpu->tlb[c][i]);
	fetch_invalidate(cpu);
}

/* invlpg: one mapping changed, so forget just that page, for both CPL views. */
void cpu_tlb_flush_page(struct cpu *cpu, uint32_t va)
{
	unsigned i = (va >> 12) & (CPU_TLB_SIZE - 1);
	for (int c = 0; c < 2; c++)
		if (cpu->tlb[c][i].tag_read == (va & ~0xfffu) ||
		    cpu->tlb[c][i].tag_write == (va & ~0xfffu))
			tlb_entry_clear(&cpu->tlb[c][i]);
	if (cpu->priv->fetch_page == (va & ~0xfffu))
		fetch_invalidate(cpu);
}

/* Debugger read: through the host's translation, never raising, never caching. */
bool cpu_read_linear(struct cpu *cpu, uint32_t la, void *buf, uint32_t len)
{
	uint8_t *out = buf;
	while (len > 0) {
		struct cpu_translation t = { 0 };
		uint32_t pf_error = 0;
		if (cpu->ops->translate(cpu->opaque, cpu, la, CPU_ACCESS_READ, &t, &pf_error) !=
		    CPU_XLATE_OK)
			return false;
		uint32_t chunk = 4096 - (la & 0xfffu);
		if (chunk > len)
			chunk = len;
		memcpy(out, t.host_page + (la & 0xfffu), chunk);
		out += chunk;
		la += chunk;
		len -= chunk;
	}
	return true;
}
