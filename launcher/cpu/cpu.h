/*
 * The x86-32 interpreter's whole public interface.
 *
 * The CPU runs 32-bit protected-mode code at CPL 1 and CPL 3 (CPL 0 works
 * too, for tests).  It knows nothing of lguest: it has no IDT, no page-table
 * walker and no idea what a hypercall is.  Instead it stops and tells its
 * host whenever something needs a decision:
 *
 *   - every exception and every software interrupt (int n, int3, into)
 *     ends cpu_run() with CPU_STOP_EXCEPTION; the host decides whether that
 *     is a hypercall, a fault to reflect into the guest, or a direct trap it
 *     asks the CPU to deliver (cpu_deliver_gate());
 *   - a translation miss calls host->translate(), so the host can apply its
 *     own page-table rules (lguest's shadow paging) and see every fill;
 *   - cpuid, rdtsc and (when CPL <= IOPL) in/out ask the host, which keeps
 *     guest time deterministic;
 *   - an opcode we do not implement is CPU_STOP_UNIMPLEMENTED, never a #UD
 *     the guest could catch and hide.
 *
 * Faults are precise: when cpu_run() stops with an exception, every register
 * holds its value from before the faulting instruction and eip points at it
 * (string instructions with rep may have completed some iterations, as on
 * real hardware).
 */
#ifndef LGUEST_CPU_H
#define LGUEST_CPU_H

#include <stdbool.h>
#include <stdint.h>

/* General registers, in the encoding order of the ModRM reg field. */
enum cpu_reg { CPU_EAX, CPU_ECX, CPU_EDX, CPU_EBX, CPU_ESP, CPU_EBP, CPU_ESI, CPU_EDI };

/* Segment registers, in the encoding order of the sreg field. */
enum cpu_sreg { CPU_ES, CPU_CS, CPU_SS, CPU_DS, CPU_FS, CPU_GS, CPU_NSREGS };

/* Register names, for reports and debuggers. */
static inline const char *cpu_reg_name(unsigned r)
{
	static const char *const names[8] = {"eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"};
	return r < 8 ? names[r] : "?";
}
static inline const char *cpu_sreg_name(unsigned s)
{
	static const char *const names[CPU_NSREGS] = {"es", "cs", "ss", "ds", "fs", "gs"};
	return s < CPU_NSREGS ? names[s] : "?";
}

/* EFLAGS bits. */
#define EFLAGS_CF 0x00000001u
#define EFLAGS_FIXED1 0x00000002u /* bit 1 always reads as one */
#define EFLAGS_PF 0x00000004u
#define EFLAGS_AF 0x00000010u
#define EFLAGS_ZF 0x00000040u
#define EFLAGS_SF 0x00000080u
#define EFLAGS_TF 0x00000100u
#define EFLAGS_IF 0x00000200u
#define EFLAGS_DF 0x00000400u
#define EFLAGS_OF 0x00000800u
#define EFLAGS_IOPL 0x00003000u
#define EFLAGS_NT 0x00004000u
#define EFLAGS_RF 0x00010000u
#define EFLAGS_VM 0x00020000u
#define EFLAGS_AC 0x00040000u
#define EFLAGS_ID 0x00200000u

/* CR0 bits the interpreter honours. */
#define CR0_PE 0x00000001u
#define CR0_MP 0x00000002u
#define CR0_EM 0x00000004u
#define CR0_TS 0x00000008u
#define CR0_NE 0x00000020u
#define CR0_WP 0x00010000u
#define CR0_PG 0x80000000u

/* Exception vectors. */
enum cpu_vector {
	CPU_DE = 0, CPU_DB = 1, CPU_BP = 3, CPU_OF = 4, CPU_BR = 5, CPU_UD = 6,
	CPU_NM = 7, CPU_DF = 8, CPU_TS = 10, CPU_NP = 11, CPU_SS_FAULT = 12,
	CPU_GP = 13, CPU_PF = 14, CPU_MF = 16, CPU_AC = 17,
};

/* #PF error code bits (as the host's translate callback reports them). */
#define PF_ERR_PRESENT 0x1u
#define PF_ERR_WRITE 0x2u
#define PF_ERR_USER 0x4u

/*
 * A segment register: the visible selector plus the descriptor cache that
 * the processor loads from the GDT.  `attr` holds bits 8..23 of the
 * descriptor's high word shifted down by 8: bits 0-3 type, 4 S, 5-6 DPL,
 * 7 P, 12 AVL, 14 D/B, 15 G.  `limit` is already expanded to bytes.
 * A null selector in a data segment register leaves `usable` false, and any
 * access through it raises #GP(0).
 */
struct cpu_segment {
	uint16_t selector;
	uint32_t base;
	uint32_t limit;
	uint16_t attr;
	bool usable;
};

/* Descriptor attribute helpers on cpu_segment.attr. */
#define SEG_ATTR_TYPE(a) ((a) & 0xfu)
#define SEG_ATTR_S(a) (((a) >> 4) & 1u)
#define SEG_ATTR_DPL(a) (((a) >> 5) & 3u)
#define SEG_ATTR_P(a) (((a) >> 7) & 1u)
#define SEG_ATTR_DB(a) (((a) >> 14) & 1u)
#define SEG_ATTR_G(a) (((a) >> 15) & 1u)

/*
 * x87 state, in a form close to the fnsave image.  Registers are kept as
 * host long doubles (80-bit extended on x86 hosts), indexed by physical
 * register number; `top` is the stack top.  The tag word is kept in its
 * architectural two-bit form.
 */
struct cpu_x87 {
	long double st[8];
	uint16_t control;
	uint16_t status; /* without TOP; TOP lives in `top` */
	uint16_t tag;    /* 2 bits per physical register: 0 valid, 1 zero, 2 special, 3 empty */
	uint8_t top;
	uint16_t last_opcode;
	uint32_t last_ip, last_dp;
	uint16_t last_cs, last_ds;
};

/* The kind of access a translation is for. */
enum cpu_access { CPU_ACCESS_READ = 0, CPU_ACCESS_WRITE = 1, CPU_ACCESS_FETCH = 2 };

/*
 * What the host answers to a translation miss.  `host_page` points at the
 * 4 KiB of launcher memory that back the guest page (the host guarantees it
 * stays valid until it flushes the translation).  `writable` and `user`
 * are the permissions the CPU may cache: a later write through a
 * non-writable translation, or a CPL 3 access through a non-user one, is a
 * miss again (that is how lguest's "clean PTEs are shadowed read-only"
 * rule reaches the host).  A `watched` translation is never cached: every
 * access to that page calls host->translate() and then host->mem_access(),
 * which is how debuggers and checkers see memory without slowing down
 * everything else.
 */
struct cpu_translation {
	uint8_t *host_page;
	uint32_t phys_page;
	bool writable;
	bool user;
	bool watched;
};

/* What host->translate() returns. */
enum cpu_xlate_result {
	CPU_XLATE_OK,    /* *t is filled in; the access proceeds */
	CPU_XLATE_FAULT, /* raise #PF with *pf_error, cr2 = the address */
	CPU_XLATE_STOP,  /* the host wants the CPU to stop now (e.g. it killed the guest):
	                    cpu_run() returns CPU_STOP_HOST with state as before the instruction */
};

struct cpu;

/*
 * The host side.  Every pointer may be left NULL except translate.
 * `opaque` is passed back to each callback.
 */
struct cpu_host_ops {
	enum cpu_xlate_result (*translate)(void *opaque, struct cpu *cpu, uint32_t va,
	                                   enum cpu_access access, struct cpu_translation *t,
	                                   uint32_t *pf_error);
	/* cpuid: fill out[0..3] = eax, ebx, ecx, edx for leaf/subleaf. NULL: all zero. */
	void (*cpuid)(void *opaque, struct cpu *cpu, uint32_t leaf, uint32_t subleaf, uint32_t out[4]);
	/* rdtsc: the time stamp counter. NULL: the instruction count. */
	uint64_t (*rdtsc)(void *opaque, struct cpu *cpu);
	/* Port I/O when CPL <= IOPL (otherwise the CPU raises #GP(0) itself). */
	uint32_t (*io_in)(void *opaque, struct cpu *cpu, uint16_t port, unsigned size);
	void (*io_out)(void *opaque, struct cpu *cpu, uint16_t port, unsigned size, uint32_t value);
	/*
	 * Called for every access to a page whose translation was `watched`,
	 * after the access is known to be permitted and before it happens (for
	 * writes, `value` holds the bytes about to be written, little-endian,
	 * size <= 8; larger accesses are split).  Return true to stop cpu_run()
	 * with CPU_STOP_WATCH once the current instruction completes.
	 */
	bool (*mem_access)(void *opaque, struct cpu *cpu, uint32_t va, uint32_t phys,
	                   unsigned size, enum cpu_access access, uint64_t value);
	/*
	 * Called before each instruction while cpu->exec_hook is true.  Return
	 * true to stop (CPU_STOP_EXEC_HOOK) before executing the instruction at
	 * `eip`.
	 */
	bool (*exec)(void *opaque, struct cpu *cpu, uint32_t eip);
};

/* Why cpu_run() returned. */
enum cpu_stop_kind {
	CPU_STOP_BUDGET,        /* the instruction budget is spent */
	CPU_STOP_EXCEPTION,     /* exception or software interrupt; see cpu_stop */
	CPU_STOP_HLT,           /* hlt at CPL 0 (at CPL > 0 hlt is #GP(0)); eip is past it */
	CPU_STOP_UNIMPLEMENTED, /* an opcode we do not implement; eip at it, bytes in insn[] */
	CPU_STOP_EXEC_HOOK,     /* host->exec asked to stop before the instruction at eip */
	CPU_STOP_WATCH,         /* host->mem_access asked to stop; the instruction completed */
	CPU_STOP_REQUEST,       /* cpu_request_stop() was called; at an instruction boundary */
	CPU_STOP_HOST,          /* host->translate returned CPU_XLATE_STOP */
};

struct cpu_stop {
	enum cpu_stop_kind kind;
	uint8_t vector;     /* EXCEPTION: the vector */
	bool has_error;     /* EXCEPTION: whether the processor would push an error code */
	uint32_t error;     /* EXCEPTION: the error code */
	bool soft_int;      /* EXCEPTION: raised by int n / int3 / into, not by a fault */
	uint32_t eip;       /* address of the instruction that stopped (cpu->eip equals it) */
	uint32_t next_eip;  /* EXCEPTION with soft_int: the address after the instruction */
	uint32_t addr;      /* #PF: the faulting linear address (also in cr2); WATCH: the address */
	uint8_t insn[16];   /* UNIMPLEMENTED: the instruction bytes that could be read */
	uint8_t insn_len;   /* UNIMPLEMENTED: how many of insn[] are valid */
};

/* Software TLB: a direct-mapped cache of host translations per privilege class. */
#define CPU_TLB_SIZE 1024u
struct cpu_tlb_entry {
	uint32_t tag_read;  /* page address if reads hit, else CPU_TLB_INVALID */
	uint32_t tag_write; /* page address if writes hit */
	uint32_t tag_fetch; /* page address if fetches hit */
	uint32_t phys_page;
	uintptr_t addend; /* host address = va + addend */
};
#define CPU_TLB_INVALID 0x00000001u

/* The whole processor. */
struct cpu {
	uint32_t regs[8];
	uint32_t eip;
	uint32_t eflags; /* may hold stale arithmetic flags: use cpu_get_eflags()/cpu_set_eflags() */
	struct cpu_segment seg[CPU_NSREGS];
	uint32_t cr0, cr2, cr3, cr4;
	unsigned cpl;

	/* The GDT is held by the host; the CPU never reads a guest's copy. */
	const uint64_t *gdt;
	unsigned gdt_entries;
	/* Inner-ring stacks used when an interrupt gate raises privilege (TSS ss0/esp0...ss2/esp2). */
	uint16_t tss_ss[3];
	uint32_t tss_esp[3];

	struct cpu_x87 fpu;

	/* Retired instructions (each rep iteration counts as one). Guest time derives from this. */
	uint64_t icount;

	const struct cpu_host_ops *ops;
	void *opaque;

	/* Debugger controls. */
	bool exec_hook;           /* call ops->exec before each instruction */
	bool ignore_exec_hook_once; /* skip ops->exec for the next instruction (resuming from a breakpoint) */
	volatile int stop_requested; /* set by cpu_request_stop(); checked at instruction boundaries */

	/* Translation cache: [0] supervisor (CPL 0-2), [1] user (CPL 3). */
	struct cpu_tlb_entry tlb[2][CPU_TLB_SIZE];

	/* Private to the interpreter (decode cache and the like). */
	struct cpu_private *priv;
};

/* Initialise: zero state, flat descriptors unusable, CR0 = PE|PG|WP|NE|MP, eflags 0x2. */
void cpu_init(struct cpu *cpu, const struct cpu_host_ops *ops, void *opaque);
/* Free what cpu_init allocated. */
void cpu_destroy(struct cpu *cpu);

/*
 * Run at most `budget` instructions.  Returns why it stopped; `stop` is
 * filled in for every kind.
 */
enum cpu_stop_kind cpu_run(struct cpu *cpu, uint64_t budget, struct cpu_stop *stop);

/* Ask a running cpu_run() to return at the next instruction boundary (signal-safe). */
void cpu_request_stop(struct cpu *cpu);

/* Drop every cached translation (and the decode cache's view of them). */
void cpu_tlb_flush(struct cpu *cpu);
/* Drop the cached translations of one virtual page. */
void cpu_tlb_flush_page(struct cpu *cpu, uint32_t va);

/*
 * The host wrote guest memory behind the CPU's back (loading, DMA, device
 * rings, rewriting an instruction): forget any decoded instructions from
 * guest-physical [phys, phys+len).
 */
void cpu_code_modified(struct cpu *cpu, uint32_t phys, uint32_t len);

/*
 * Load a segment register from the host-held GDT without privilege checks
 * (the host's own reloads, e.g. CS after pushing a reflected frame).  Sets
 * cpl when loading CS.  Returns false if the selector does not name a
 * present descriptor of a suitable kind; the register is then unchanged.
 */
bool cpu_load_segment_raw(struct cpu *cpu, enum cpu_sreg sreg, uint16_t selector);

/*
 * Deliver an interrupt or exception through a gate with processor
 * semantics, as if the IDT held it: selector:offset of the handler, trap or
 * interrupt gate.  Switches to tss_ss/tss_esp of the handler's privilege
 * when that is more privileged than the CPL, pushes [ss, esp,] eflags, cs,
 * eip (= cpu->eip, so set it to the return address first) and the error
 * code if has_error, clears TF, NT, RF and VM, and IF too for an interrupt
 * gate.  The pushes are ordinary checked writes: if one faults, the state
 * is left as before the call and the fault is returned in *fault
 * (kind CPU_STOP_EXCEPTION); otherwise returns true.
 */
bool cpu_deliver_gate(struct cpu *cpu, uint16_t selector, uint32_t offset, bool interrupt_gate,
                      bool has_error, uint32_t error, struct cpu_stop *fault);

/*
 * Read or write guest virtual memory as the CPU would at `cpl`, through
 * host->translate (no permission bypass, no segmentation: linear
 * addresses).  Return false on a translation fault.  For debuggers and
 * tests; the host's own guest-physical accesses do not go through here.
 */
bool cpu_read_linear(struct cpu *cpu, uint32_t la, void *buf, uint32_t len);

/* The set status and control flags by name ("PF ZF IF"), for reports and debuggers. */
void cpu_eflags_names(uint32_t eflags, char *buf, unsigned len);

/* Write back the whole eflags image including the lazily computed arithmetic flags. */
uint32_t cpu_get_eflags(struct cpu *cpu);
/* Set eflags (all bits, no privilege rules: for the host). */
void cpu_set_eflags(struct cpu *cpu, uint32_t eflags);

/* The mnemonic-free name of a stop kind, for messages. */
const char *cpu_stop_kind_name(enum cpu_stop_kind kind);

/*
 * Opcode coverage, for `make coverage`: map 1 is the one-byte map, map 2
 * the 0x0F two-byte map.  Returns NULL when the opcode is not implemented,
 * otherwise a short mnemonic (group opcodes list what they cover, e.g.
 * "grp3 test/not/neg/mul/imul/div/idiv").
 */
const char *cpu_opcode_coverage(unsigned map, uint8_t opcode);

#endif
