/*
 * Creating a guest, ending it, and the host's own checked access to guest
 * memory and to lguest_data.  Everything the guest hands us is a
 * guest-physical address that must pass lg.ko's range check first; a bad
 * one kills the guest with lg.ko's words, never the launcher.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "host.h"

/* The wall clock a deterministic guest sees at time zero: 2010-05-01 00:00:00 UTC. */
#define GUEST_EPOCH_SECONDS 1272672000ull

/* Host time in nanoseconds from a given clock. */
static uint64_t clock_ns(clockid_t clk)
{
	struct timespec ts;
	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The TSC the guest reads: guest nanoseconds, since tsc_khz is 1000000 (§A9). */
static uint64_t lguest_rdtsc(void *opaque, struct cpu *cpu)
{
	(void)cpu;
	return guest_now_ns(opaque);
}

/*
 * Watched accesses: the spin detector notes writes while it probes, the
 * checkers see the guest-physical pages they watch, and an attached
 * debugger sees the pages it watches.
 */
static bool lguest_mem_access(void *opaque, struct cpu *cpu, uint32_t va, uint32_t phys, unsigned size,
                              enum cpu_access access, uint64_t value)
{
	struct lguest *lg = opaque;
	(void)cpu;
	if (lg->probe_writes && access == CPU_ACCESS_WRITE)
		lg->probe_wrote = true;
	if (lg->watch_access && phys_page_watched(lg, phys))
		lg->watch_access(lg, va, phys, size, access, value);
	if (lg->dbg && lg->dbg->mem_access)
		return lg->dbg->mem_access(lg->dbg->ctx, lg, va, phys, size, access, value);
	return false;
}

/* The CPU's exec hook belongs to the debugger (breakpoints). */
static bool lguest_exec(void *opaque, struct cpu *cpu, uint32_t eip)
{
	struct lguest *lg = opaque;
	(void)cpu;
	return lg->dbg && lg->dbg->exec && lg->dbg->exec(lg->dbg->ctx, lg, eip);
}

static const struct cpu_host_ops lguest_cpu_ops = {
	.translate = lguest_translate,
	.mem_access = lguest_mem_access,
	.exec = lguest_exec,
	.cpuid = lguest_cpuid,
	.rdtsc = lguest_rdtsc,
};

/*
 * Reserve memory and set up the CPU.  The kernel is loaded by the caller
 * between lguest_create() and lguest_start().
 */
bool lguest_create(struct lguest *lg, const struct lguest_options *opt, char *err, size_t errlen)
{
	memset(lg, 0, sizeof(*lg));
	lg->opt = *opt;
	lg->abi = opt->abi;
	/* The 2.6.31 hosts mapped all of RAM at 0xC0000000 too, below the switcher's 4 MB. */
	if (!opt->abi->linear_start && opt->mem_mb > 1020) {
		snprintf(err, errlen, "--abi=%s maps RAM at 0xC0000000 as well: at most 1020 MB, not %u", opt->abi->name,
		         opt->mem_mb);
		return false;
	}
	if (!guest_mem_init(&lg->mem, opt->mem_mb, err, errlen))
		return false;
	/*
	 * The pfn limit covers RAM plus the device pages in use; the device
	 * descriptor page is always there (§A10).
	 */
	lg->mem.limit_bytes = lg->mem.ram_bytes + GUEST_PAGE_SIZE;
	cpu_init(&lg->cpu, &lguest_cpu_ops, lg);
	return true;
}

/*
 * The state a guest starts in (§A10): eip at the entry point, kernel
 * segments, eflags 0x202, every other register zero, linear paging (or
 * the 2.6.31 host-built tables).
 */
void lguest_start(struct lguest *lg)
{
	struct cpu *cpu = &lg->cpu;
	memset(cpu->regs, 0, sizeof(cpu->regs));
	cpu->eip = lg->image.entry;
	gdt_init(lg);
	cpu->gdt = lg->gdt;
	cpu->gdt_entries = GDT_ENTRIES;
	cpu_load_segment_raw(cpu, CPU_CS, GUEST_KERNEL_CS);
	cpu_load_segment_raw(cpu, CPU_DS, GUEST_KERNEL_DS);
	cpu_load_segment_raw(cpu, CPU_ES, GUEST_KERNEL_DS);
	cpu_load_segment_raw(cpu, CPU_SS, GUEST_KERNEL_DS);
	cpu_load_segment_raw(cpu, CPU_FS, 0);
	cpu_load_segment_raw(cpu, CPU_GS, 0);
	cpu_set_eflags(cpu, 0x202);
	cpu_code_modified(cpu, 0, lg->mem.mapped_bytes);
	pagetables_init(lg);
	lg->realtime_start_ns = clock_ns(CLOCK_MONOTONIC);
}

/* Give back everything lguest_create() and the run took. */
void lguest_destroy(struct lguest *lg)
{
	pagetables_free(lg);
	cpu_destroy(&lg->cpu);
	symbols_free(&lg->syms);
	guest_mem_destroy(&lg->mem);
}

/* Record how the guest ended, unless it already had (the first reason wins, §A1). */
static void vend_guest(struct lguest *lg, enum guest_death how, const char *fmt, va_list ap)
{
	if (lg->death != GUEST_ALIVE)
		return;
	lg->death = how;
	vsnprintf(lg->death_reason, sizeof(lg->death_reason), fmt, ap);
	cpu_request_stop(&lg->cpu);
}

void end_guest(struct lguest *lg, enum guest_death how, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vend_guest(lg, how, fmt, ap);
	va_end(ap);
}

/* lg.ko's kill_guest(): the guest is dead, with this reason, once the current step ends. */
void kill_guest(struct lguest *lg, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vend_guest(lg, GUEST_KILLED, fmt, ap);
	va_end(ap);
}

/* Read guest-physical memory, killing the guest if the range is bad (lgread). */
bool lg_read(struct lguest *lg, uint32_t addr, void *buf, uint32_t len)
{
	if (!guest_range_ok(&lg->mem, addr, len)) {
		memset(buf, 0, len);
		kill_guest(lg, "bad read address 0x%x len %u", addr, len);
		return false;
	}
	memcpy(buf, guest_ptr(&lg->mem, addr), len);
	return true;
}

/* Write guest-physical memory, killing the guest if the range is bad (lgwrite). */
bool lg_write(struct lguest *lg, uint32_t addr, const void *buf, uint32_t len)
{
	if (!guest_range_ok(&lg->mem, addr, len)) {
		kill_guest(lg, "bad write address 0x%x len %u", addr, len);
		return false;
	}
	memcpy(guest_ptr(&lg->mem, addr), buf, len);
	cpu_code_modified(&lg->cpu, addr, len);
	return true;
}

uint32_t lg_read32(struct lguest *lg, uint32_t addr)
{
	uint8_t b[4];
	lg_read(lg, addr, b, 4);
	return get_le32(b);
}

void lg_write32(struct lguest *lg, uint32_t addr, uint32_t v)
{
	uint8_t b[4];
	put_le32(b, v);
	lg_write(lg, addr, b, 4);
}

/*
 * A field of lguest_data.  Before INIT there is none: reads give 0 and
 * writes fail, as lg.ko's get_user/put_user on a NULL lguest_data did.
 */
uint32_t ld_read32(struct lguest *lg, uint32_t off)
{
	if (!lg->initialized)
		return 0;
	return lg_read32(lg, lg->lguest_data + off);
}

bool ld_write32(struct lguest *lg, uint32_t off, uint32_t v)
{
	if (!lg->initialized)
		return false;
	uint8_t b[4];
	put_le32(b, v);
	return lg_write(lg, lg->lguest_data + off, b, 4);
}

/*
 * Guest time (DESIGN §2.5): one nanosecond per instruction plus the time
 * skipped while halted, so the same run gives the same times; or host
 * monotonic time with --realtime.
 */
uint64_t guest_now_ns(struct lguest *lg)
{
	if (lg->opt.realtime)
		return clock_ns(CLOCK_MONOTONIC) - lg->realtime_start_ns;
	return lg->cpu.icount + lg->idle_ns;
}

/* Refresh lguest_data.time: at INIT and at each interrupt delivery attempt (§A9). */
void write_guest_time(struct lguest *lg)
{
	uint64_t wall = lg->opt.realtime ? clock_ns(CLOCK_REALTIME)
	                                 : GUEST_EPOCH_SECONDS * 1000000000ull + guest_now_ns(lg);
	ld_write32(lg, LD_TIME_SEC, (uint32_t)(wall / 1000000000ull));
	ld_write32(lg, LD_TIME_NSEC, (uint32_t)(wall % 1000000000ull));
}

/* " (symbol+off)" for an address in the kernel, for messages. */
void describe_addr(struct lguest *lg, uint32_t addr, char *buf, size_t len)
{
	symbols_describe(&lg->syms, addr, buf, len);
}
