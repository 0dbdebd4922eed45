/*
 * A flat test host for the interpreter: 16 MiB of guest RAM mapped
 * identically (virtual = physical), per-page permissions the test can
 * change, a hook that may override any translation, and a GDT with flat
 * code and data descriptors for rings 0, 1 and 3.
 *
 *   struct testhost *th = th_create();
 *   th_setup_flat(th, 1);                  // CS/SS/DS/ES/FS/GS at ring 1
 *   th_put(th, 0x1000, code, sizeof(code));
 *   th->cpu.eip = 0x1000;
 *   enum cpu_stop_kind k = cpu_run(&th->cpu, 100, &stop);
 *
 * Each test program prints one `PASS name` / `FAIL name: why` line per
 * check with th_check() and ends with th_finish(), whose value is the exit
 * status.
 */
#ifndef CPU_TESTHOST_H
#define CPU_TESTHOST_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/cpu.h"

#define TH_RAM_SIZE (16u << 20)
#define TH_PAGES (TH_RAM_SIZE >> 12)

/* Page permission bits in th->perm[]. */
#define TH_P 1u     /* present */
#define TH_W 2u     /* writable */
#define TH_U 4u     /* user-accessible */
#define TH_WATCH 8u /* translations are `watched` */

/* GDT selectors (RPL 0; OR in the ring). */
enum {
	TH_SEL_CODE0 = 0x08, TH_SEL_DATA0 = 0x10,
	TH_SEL_CODE1 = 0x18, TH_SEL_DATA1 = 0x20,
	TH_SEL_CODE3 = 0x28, TH_SEL_DATA3 = 0x30,
	TH_GDT_FIRST_FREE = 7, /* entries 7.. are free for tests */
	TH_GDT_ENTRIES = 32,
};

struct testhost;
/* Return true to replace the translation (fill *result / *pf_error). */
typedef bool (*th_translate_hook)(struct testhost *th, uint32_t va, enum cpu_access access,
                                  enum cpu_xlate_result *result, uint32_t *pf_error);

struct testhost {
	struct cpu cpu;
	struct cpu_host_ops ops;
	uint8_t *ram;
	uint8_t perm[TH_PAGES];
	uint64_t gdt[TH_GDT_ENTRIES];
	th_translate_hook hook;

	/* What the CPU asked for, for tests to inspect. */
	unsigned translate_calls;
	uint32_t last_va;
	enum cpu_access last_access;
	unsigned last_cpl;
	unsigned mem_access_calls;
	bool stop_on_watch;
	uint32_t io_last_port, io_last_value;
	unsigned io_last_size, io_outs;
	uint32_t io_in_value;

};

/* Checks reported so far by this test program. */
static int th_failures, th_checks;

/* Build a code/data descriptor from its fields. */
static inline uint64_t th_descriptor(uint32_t base, uint32_t limit, unsigned type, unsigned dpl,
                                     bool present, bool db, bool granular)
{
	uint64_t d = (limit & 0xffffu) | ((uint64_t)(base & 0xffffffu) << 16);
	d |= (uint64_t)((type & 0xfu) | 0x10u | ((dpl & 3u) << 5) | (present ? 0x80u : 0)) << 40;
	d |= (uint64_t)((limit >> 16) & 0xfu) << 48;
	d |= (uint64_t)((db ? 0x4u : 0) | (granular ? 0x8u : 0)) << 52;
	d |= (uint64_t)(base >> 24) << 56;
	return d;
}

/* Identity translation with the page's permissions, like a small page table. */
static enum cpu_xlate_result th_translate(void *opaque, struct cpu *cpu, uint32_t va,
                                          enum cpu_access access, struct cpu_translation *t,
                                          uint32_t *pf_error)
{
	struct testhost *th = opaque;
	th->translate_calls++;
	th->last_va = va;
	th->last_access = access;
	th->last_cpl = cpu->cpl;
	enum cpu_xlate_result hooked;
	if (th->hook && th->hook(th, va, access, &hooked, pf_error))
		return hooked;
	uint32_t user = cpu->cpl == 3 ? PF_ERR_USER : 0;
	uint32_t write = access == CPU_ACCESS_WRITE ? PF_ERR_WRITE : 0;
	if (va >= TH_RAM_SIZE || !(th->perm[va >> 12] & TH_P)) {
		*pf_error = user | write;
		return CPU_XLATE_FAULT;
	}
	uint8_t p = th->perm[va >> 12];
	if ((write && !(p & TH_W)) || (user && !(p & TH_U))) {
		*pf_error = PF_ERR_PRESENT | user | write;
		return CPU_XLATE_FAULT;
	}
	t->host_page = th->ram + (va & ~0xfffu);
	t->phys_page = va & ~0xfffu;
	t->writable = p & TH_W;
	t->user = p & TH_U;
	t->watched = p & TH_WATCH;
	return CPU_XLATE_OK;
}

static bool th_mem_access(void *opaque, struct cpu *cpu, uint32_t va, uint32_t phys, unsigned size,
                          enum cpu_access access, uint64_t value)
{
	struct testhost *th = opaque;
	(void)cpu, (void)va, (void)phys, (void)size, (void)access, (void)value;
	th->mem_access_calls++;
	return th->stop_on_watch;
}

static uint32_t th_io_in(void *opaque, struct cpu *cpu, uint16_t port, unsigned size)
{
	struct testhost *th = opaque;
	(void)cpu;
	th->io_last_port = port;
	th->io_last_size = size;
	return th->io_in_value;
}

static void th_io_out(void *opaque, struct cpu *cpu, uint16_t port, unsigned size, uint32_t value)
{
	struct testhost *th = opaque;
	(void)cpu;
	th->io_last_port = port;
	th->io_last_size = size;
	th->io_last_value = value;
	th->io_outs++;
}

static void th_cpuid(void *opaque, struct cpu *cpu, uint32_t leaf, uint32_t subleaf, uint32_t out[4])
{
	(void)opaque, (void)cpu;
	out[0] = leaf;
	out[1] = subleaf;
	out[2] = 0x6c65746e;
	out[3] = 0x49656e69;
}

/* Load flat segments for `ring` (0, 1 or 3) and set CPL. */
static inline void th_setup_flat(struct testhost *th, unsigned ring)
{
	uint16_t code = ring == 0 ? TH_SEL_CODE0 : ring == 1 ? TH_SEL_CODE1 : TH_SEL_CODE3;
	uint16_t data = ring == 0 ? TH_SEL_DATA0 : ring == 1 ? TH_SEL_DATA1 : TH_SEL_DATA3;
	code |= (uint16_t)ring;
	data |= (uint16_t)ring;
	cpu_load_segment_raw(&th->cpu, CPU_CS, code);
	for (int s = 0; s < CPU_NSREGS; s++)
		if (s != CPU_CS)
			cpu_load_segment_raw(&th->cpu, (enum cpu_sreg)s, data);
}

/* A fresh host: all RAM present, writable and user; flat ring-1 segments; esp at 8 MiB. */
static inline struct testhost *th_create(void)
{
	struct testhost *th = calloc(1, sizeof(*th));
	if (!th)
		abort();
	th->ram = calloc(1, TH_RAM_SIZE);
	if (!th->ram)
		abort();
	memset(th->perm, TH_P | TH_W | TH_U, sizeof(th->perm));
	th->gdt[1] = th_descriptor(0, 0xfffff, 0xb, 0, true, true, true);
	th->gdt[2] = th_descriptor(0, 0xfffff, 0x3, 0, true, true, true);
	th->gdt[3] = th_descriptor(0, 0xfffff, 0xb, 1, true, true, true);
	th->gdt[4] = th_descriptor(0, 0xfffff, 0x3, 1, true, true, true);
	th->gdt[5] = th_descriptor(0, 0xfffff, 0xb, 3, true, true, true);
	th->gdt[6] = th_descriptor(0, 0xfffff, 0x3, 3, true, true, true);
	th->ops.translate = th_translate;
	th->ops.mem_access = th_mem_access;
	th->ops.io_in = th_io_in;
	th->ops.io_out = th_io_out;
	th->ops.cpuid = th_cpuid;
	cpu_init(&th->cpu, &th->ops, th);
	th->cpu.gdt = th->gdt;
	th->cpu.gdt_entries = TH_GDT_ENTRIES;
	th_setup_flat(th, 1);
	th->cpu.regs[CPU_ESP] = 0x800000;
	return th;
}

static inline void th_destroy(struct testhost *th)
{
	cpu_destroy(&th->cpu);
	free(th->ram);
	free(th);
}

/* Copy bytes into guest RAM (host-side, no translation). */
static inline void th_put(struct testhost *th, uint32_t addr, const void *bytes, size_t len)
{
	memcpy(th->ram + addr, bytes, len);
	cpu_code_modified(&th->cpu, addr, (uint32_t)len);
}

static inline uint32_t th_get32(const struct testhost *th, uint32_t addr)
{
	uint32_t v;
	memcpy(&v, th->ram + addr, 4);
	return v;
}

static inline void th_put32(struct testhost *th, uint32_t addr, uint32_t v)
{
	memcpy(th->ram + addr, &v, 4);
}

/* Change one page's permissions and drop its cached translations. */
static inline void th_set_perm(struct testhost *th, uint32_t addr, uint8_t perm)
{
	th->perm[addr >> 12] = perm;
	cpu_tlb_flush_page(&th->cpu, addr);
}

/* Load code at `addr` and run it for at most `budget` instructions. */
static inline enum cpu_stop_kind th_run_code(struct testhost *th, uint32_t addr, const void *code,
                                             size_t len, uint64_t budget, struct cpu_stop *stop)
{
	th_put(th, addr, code, len);
	th->cpu.eip = addr;
	return cpu_run(&th->cpu, budget, stop);
}

/* Report one check. */
static inline __attribute__((format(printf, 4, 5))) void th_check_at(int line, const char *name,
                                                                      bool ok, const char *fmt, ...)
{
	th_checks++;
	if (ok) {
		printf("PASS %s\n", name);
		return;
	}
	th_failures++;
	printf("FAIL %s: ", name);
	va_list ap;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf(" (line %d)\n", line);
}

#define th_check(name, ok, ...) th_check_at(__LINE__, name, ok, __VA_ARGS__)

/* The exit status of a test program: non-zero if any check failed. */
static inline int th_finish(void)
{
	printf("# %d checks, %d failed\n", th_checks, th_failures);
	return th_failures ? 1 : 0;
}

#endif
