/*
 * The lguest host in user space: what lg.ko did, around our own CPU.
 *
 * One `struct lguest` holds one guest: its memory, its CPU, and
 * everything lg.ko kept for it (lguest_data's address, the IDT and GDT it
 * loaded, the shadow page tables, pending interrupts, the clock event).
 * The files of host/ each do one of lg.ko's jobs:
 *   abi.c          the ABI profiles (3.19 default, 2.6.31)
 *   host.c         creation, killing, checked guest-physical access, time
 *   hypercalls.c   the hypercalls and the async ring
 *   pagetables.c   shadow page tables, linear mode, the translate callback
 *   segments.c     the host-held GDT and its fixups
 *   interrupts.c   virtual IRQs, reflected and direct trap delivery
 *   traps.c        what to do with each way the CPU stops
 *   cpuid.c        the CPU we present
 *   run.c          the main loop, limits, spin and deadlock detection
 * Facts cite shared/reference/lguest-abi-addendum.md (§A1-§A13, part B).
 */
#ifndef LGUEST_HOST_H
#define LGUEST_HOST_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include "boot.h"
#include "cpu/cpu.h"
#include "debug/debugger.h"
#include "debug/events.h"
#include "devices/devices.h"
#include "guest.h"
#include "symbols.h"

/* Hypercall numbers of the 2.6.31-3.19 hosts (lguest-abi.md §3). */
enum {
	LHCALL_FLUSH_ASYNC = 0, LHCALL_LGUEST_INIT = 1, LHCALL_SHUTDOWN = 2, LHCALL_NEW_PGTABLE = 4,
	LHCALL_FLUSH_TLB = 5, LHCALL_LOAD_IDT_ENTRY = 6, LHCALL_SET_STACK = 7, LHCALL_TS = 8,
	LHCALL_SET_CLOCKEVENT = 9, LHCALL_HALT = 10, LHCALL_SET_PTE = 14, LHCALL_SET_PGD = 15,
	LHCALL_LOAD_TLS = 16, LHCALL_NOTIFY = 17, LHCALL_LOAD_GDT_ENTRY = 18, LHCALL_SEND_INTERRUPTS = 19,
};
#define LGUEST_TRAP_ENTRY 0x1f
#define LGUEST_IRQS 32
#define LHCALL_RING_SIZE 64
#define LGUEST_SHUTDOWN_RESTART 2

/* Fields of lguest_data common to both profiles (lguest-abi.md §4.4/§4.5). */
#define LD_IRQ_ENABLED 0
#define LD_BLOCKED_INTERRUPTS 4
#define LD_CR2 8
#define LD_TIME_SEC 12
#define LD_TIME_NSEC 16
#define LD_IRQ_PENDING 20
#define LD_HCALL_STATUS 24
#define LD_HCALLS 88
#define LD_HCALL_SIZE 20

#define X86_EFLAGS_IF 0x200u

/* x86 page-table entry bits, shared by the shadow, the checkers and the debuggers. */
#define PTE_P 0x001u
#define PTE_RW 0x002u
#define PTE_US 0x004u
#define PTE_A 0x020u
#define PTE_D 0x040u
#define PTE_PSE 0x080u
#define PTE_G 0x100u
#define PAGE_MASK 0xfffff000u /* the frame address in an entry */
/*
 * Linux's PAGE_OFFSET: a kernel's symbols live there, and until its first
 * NEW_PGTABLE it runs at (symbol - KERNEL_PAGE_OFFSET); debuggers match both.
 */
#define KERNEL_PAGE_OFFSET 0xC0000000u
#define GUEST_KERNEL_CS 0x61u
#define GUEST_KERNEL_DS 0x69u
#define GDT_ENTRIES 32

/* One ABI profile: the offsets and behaviour switches of part B. */
struct abi_profile {
	const char *name;
	uint32_t lguest_data_size;
	uint32_t off_reserve_mem, off_tsc_khz, off_noirq_start, off_noirq_end, off_kernel_address, off_syscall_vec;
	int off_pgdir;              /* -1: no pgdir field */
	bool linear_start;          /* 1:1 linear mode until the first NEW_PGTABLE */
	bool rewrite_vmcall;        /* vmcall at CPL 1 becomes int $0x1f; nop */
	bool reflect_clears_tf;     /* clear TF/VM/RF/NT after pushing a reflected frame */
	uint32_t switcher_addr;     /* first address the guest may not map */
	bool switcher_kills;        /* shadow access at/above the switcher kills (else #PF) */
	bool in_results_2631;       /* 3.0.1's port-in results (§A7 table) */
	bool ud_direct;             /* #UD may be a direct trap */
	bool start_on_first_kick;   /* devices start at DRIVER_OK or their first kick */
	bool guest_syscall_vec;     /* honour the guest's syscall_vec as direct-capable */
};

const struct abi_profile *abi_find(const char *name);
extern const struct abi_profile abi_3_19, abi_2_6_31;

/* A shadow page table slot (§A3.1): a lazily filled copy of one guest pgdir. */
struct shadow_slot {
	uint32_t gpgdir;     /* guest-physical address of the page directory it shadows */
	bool used;           /* a never-used slot is "blank" (§A4.1) */
	uint32_t pde[1024];  /* guest PDE flags captured at the first fill; 0 = none */
	uint32_t *pte[1024]; /* shadow PTEs: guest frame | flags (RW cleared while clean) */
};
#define SHADOW_SLOTS 4

/* How the guest ended; decides the exit code. */
enum guest_death {
	GUEST_ALIVE,
	GUEST_POWEROFF, /* SHUTDOWN(POWEROFF): exit 0 */
	GUEST_KILLED,   /* any kill reason: exit 1 */
	GUEST_RESTART,  /* SHUTDOWN(RESTART): exit 3 or reboot */
	GUEST_LIMIT,    /* timeout, instruction limit, spin, deadlock: exit 4 */
};

/* What the launcher's command line asks of the host. */
struct lguest_options {
	const struct abi_profile *abi;
	uint32_t mem_mb;
	uint32_t syscall_vector; /* lg.ko's module parameter */
	uint64_t max_insns;      /* 0: no limit; counts every boot of the run */
	uint64_t insns_before;   /* instructions run by earlier boots (reboots after a restart) */
	uint64_t ns_before;      /* guest time spent by earlier boots */
	uint64_t timeout_ns;     /* guest time; 0: no limit */
	const char *timeout_text; /* --timeout as the user wrote it, for the message */
	bool realtime;
	bool verbose;
};

struct hcall_args {
	uint32_t nr, a1, a2, a3, a4;
};

struct lguest {
	struct lguest_options opt;
	const struct abi_profile *abi;
	struct guest_mem mem;
	struct cpu cpu;
	struct symbols syms;
	struct boot_image image;

	/* lguest_data, once LGUEST_INIT has told us where it is (0 is a legal place). */
	bool initialized;
	uint32_t lguest_data;
	uint32_t noirq_start, noirq_end, kernel_address;
	uint32_t guest_syscall_vec; /* lguest_data.syscall_vec as INIT read it */

	/* Hypercalls. */
	bool hcall_pending;
	struct hcall_args hcall;
	unsigned next_hcall;     /* host cursor in the async ring */
	uint32_t pending_notify; /* 0: none */
	bool seen_hypercall;

	/* What the guest loaded. */
	uint32_t idt_lo[256], idt_hi[256];
	uint64_t gdt[GDT_ENTRIES];
	uint32_t stack_pages;
	bool ts;

	/* Virtual interrupts. */
	uint32_t irqs_pending;
	bool halted;
	unsigned held_irq, held_reason; /* last "held back" event emitted: irq + 1, reason */

	/* Shadow paging. */
	bool linear_pages;
	uint32_t host_pgdir; /* 2.6.31: the page directory the host built */
	struct shadow_slot slot[SHADOW_SLOTS];
	unsigned cur_slot;
	unsigned next_victim;
	uint32_t last_pagefault;

	/* Time: guest ns = instructions + time skipped while halted (or host time). */
	uint64_t idle_ns;
	uint64_t realtime_start_ns;
	bool timer_armed;
	uint64_t timer_deadline_ns;

	/* The spin detector (run.c): watch every write while it probes. */
	uint64_t next_spin_probe;
	bool probe_writes, probe_wrote;

	/* The lguest bus and its devices (devices/). */
	struct lguest_devices devices;
	uint64_t next_input_poll;

	/*
	 * Checker hook (debug/checks.c): guest-physical pages whose accesses
	 * the checkers want to see.  A translation of a page whose bit is set
	 * is handed to the CPU as `watched`, so every access to it calls
	 * lguest_mem_access(), which passes it on to watch_access.  NULL
	 * when no checker watches anything: then it costs one test per TLB fill.
	 */
	uint8_t *watched_phys; /* one bit per guest page, watched_pages bits */
	uint32_t watched_pages;
	void (*watch_access)(struct lguest *lg, uint32_t va, uint32_t phys, unsigned size, enum cpu_access access,
	                     uint64_t value);

	/* An attached debugger (debug/debugger.h), or NULL. */
	const struct debugger *dbg;
	/*
	 * A front end that looks in between runs even when it is not the
	 * debugger (lgdbg's control socket): called once a million
	 * instructions and while the guest idles; true means "look again
	 * now" (a client stopped or killed the guest, or took it over).
	 */
	bool (*poll_front_end)(struct lguest *lg);

	/* The event stream (debug/events.c). */
	struct event_stream events;

	/* Death: the first reason wins (§A1). */
	enum guest_death death;
	char death_reason[600];
};

/* Does a checker watch the guest-physical page holding phys (see watched_phys)? */
static inline bool phys_page_watched(const struct lguest *lg, uint32_t phys)
{
	uint32_t pfn = phys >> 12;
	return lg->watched_phys && pfn < lg->watched_pages && ((lg->watched_phys[pfn >> 3] >> (pfn & 7)) & 1);
}

/* host.c */
bool lguest_create(struct lguest *lg, const struct lguest_options *opt, char *err, size_t errlen);
void lguest_start(struct lguest *lg);
void lguest_destroy(struct lguest *lg);
void kill_guest(struct lguest *lg, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void end_guest(struct lguest *lg, enum guest_death how, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
bool lg_read(struct lguest *lg, uint32_t addr, void *buf, uint32_t len);
bool lg_write(struct lguest *lg, uint32_t addr, const void *buf, uint32_t len);
uint32_t lg_read32(struct lguest *lg, uint32_t addr);
void lg_write32(struct lguest *lg, uint32_t addr, uint32_t v);
uint32_t ld_read32(struct lguest *lg, uint32_t off);
bool ld_write32(struct lguest *lg, uint32_t off, uint32_t v);
uint64_t guest_now_ns(struct lguest *lg);
void write_guest_time(struct lguest *lg);
void describe_addr(struct lguest *lg, uint32_t addr, char *buf, size_t len);

/* hypercalls.c */
void do_hypercalls(struct lguest *lg);
const char *hypercall_name(uint32_t nr);

/* pagetables.c */
enum cpu_xlate_result lguest_translate(void *opaque, struct cpu *cpu, uint32_t va, enum cpu_access access,
                                       struct cpu_translation *t, uint32_t *pf_error);
void pagetables_init(struct lguest *lg);
bool host_tables_fit(const struct lguest *lg, char *err, size_t errlen);
void pagetables_free(struct lguest *lg);
bool guest_pa(struct lguest *lg, uint32_t va, uint32_t *pa);
bool guest_walk(struct lguest *lg, uint32_t va, uint32_t *pa, uint32_t *pde, uint32_t *pte);
bool guest_walk_pgdir(struct lguest *lg, uint32_t pgdir, uint32_t va, uint32_t *pa, uint32_t *pde, uint32_t *pte);
uint32_t shadow_entry(struct lguest *lg, uint32_t va);
void drop_all_shadows(struct lguest *lg);
void guest_new_pagetable(struct lguest *lg, uint32_t pgdir);
void guest_flush_tlb(struct lguest *lg, bool kernel_too);
void guest_set_pte(struct lguest *lg, uint32_t pgdir, uint32_t vaddr, uint32_t pte);
void guest_set_pgd(struct lguest *lg, uint32_t pgdir, uint32_t idx);
void pin_stack_pages(struct lguest *lg);

/* The fields of an IDT gate as LOAD_IDT_ENTRY hands it over (lo, hi words). */
static inline unsigned gate_type(uint32_t hi)
{
	return (hi >> 8) & 0xf;
}
static inline unsigned gate_dpl(uint32_t hi)
{
	return (hi >> 13) & 3;
}
static inline uint32_t gate_offset(uint32_t lo, uint32_t hi)
{
	return (lo & 0xffffu) | (hi & 0xffff0000u);
}

/* segments.c */
void descriptor_base_limit(uint64_t desc, uint32_t *base, uint32_t *limit);
void gdt_init(struct lguest *lg);
void load_gdt_entry(struct lguest *lg, uint32_t idx, uint32_t lo, uint32_t hi);
void load_tls(struct lguest *lg, uint32_t addr);

/* interrupts.c */
void set_interrupt(struct lguest *lg, unsigned irq);
void try_deliver_interrupts(struct lguest *lg);
bool deliverable_irq_possible(struct lguest *lg);
bool reflect_trap(struct lguest *lg, unsigned vector, bool has_error, uint32_t error);
bool trap_has_error_code(unsigned vector);
void load_idt_entry(struct lguest *lg, uint32_t n, uint32_t lo, uint32_t hi);
bool idt_present(const struct lguest *lg, unsigned vector);
bool direct_trap_capable(const struct lguest *lg, unsigned vector);
bool could_be_syscall(const struct lguest *lg, unsigned vector);

/* traps.c */
void handle_cpu_stop(struct lguest *lg, const struct cpu_stop *stop);

/* cpuid.c */
void lguest_cpuid(void *opaque, struct cpu *cpu, uint32_t leaf, uint32_t subleaf, uint32_t out[4]);

/* run.c */
enum guest_death lguest_run(struct lguest *lg);

/* devices: what a NOTIFY means (devices/bus.c). */
void service_notify(struct lguest *lg, uint32_t addr);

#endif
