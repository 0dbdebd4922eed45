/*
 * The interpreter's private machinery, shared by the core's own files
 * (cpu.c, mem.c, flags.c, seg.c, exec*.c, sys.c) and by nobody else.
 *
 * The hot paths live here as static inline functions: instruction fetch
 * from a cached code-page pointer, segment checks against a precomputed
 * window, and the TLB hit test.  Everything slow (misses, page crossings,
 * watched pages, faults) is out of line in mem.c.
 */
#ifndef LGUEST_CPU_CORE_H
#define LGUEST_CPU_CORE_H

#include <setjmp.h>
#include <stddef.h>

#include "cpu_internal.h"

/* Descriptor type bits (attr bits 0-3) for code/data descriptors. */
#define TYPE_CODE 0x8u
#define TYPE_CONFORMING 0x4u /* code */
#define TYPE_EXPAND_DOWN 0x4u /* data */
#define TYPE_RW 0x2u          /* readable code, writable data */

/* For the few helpers the instruction loop must not call out of line. */
#define ALWAYS_INLINE static inline __attribute__((always_inline))

#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/* All ones in the low `size` bytes. */
static inline uint32_t size_mask(unsigned size)
{
	return size == 4 ? 0xffffffffu : (1u << (size * 8)) - 1;
}

/* The arithmetic flags that lazy evaluation may hold back. */
#define EFLAGS_ARITH (EFLAGS_CF | EFLAGS_PF | EFLAGS_AF | EFLAGS_ZF | EFLAGS_SF | EFLAGS_OF)

/* Which operation last set the arithmetic flags (LF_NONE: eflags holds them). */
enum lazy_op { LF_NONE, LF_ADD, LF_ADC, LF_SUB, LF_SBB, LF_LOGIC, LF_INC, LF_DEC };

/* The inputs of the last flag-setting operation, evaluated only on demand. */
struct lazy_flags {
	uint32_t res, a, b;
	uint8_t op;    /* enum lazy_op */
	uint8_t size;  /* operand size in bytes */
	uint8_t carry; /* carry-in of adc/sbb; the kept CF of inc/dec */
};

/* Rights a segment grants, as precomputed in struct seg_window. */
#define SEGR_READ 1u
#define SEGR_WRITE 2u
#define SEGR_FETCH 4u

/*
 * A segment register reduced to what each access needs: the linear base,
 * the inclusive range of valid offsets (expand-down already folded in) and
 * the access rights.  Rebuilt from cpu->seg whenever a segment changes.
 */
struct seg_window {
	uint32_t base;
	uint32_t lo, hi;
	uint32_t rights;
};

/* The instruction being decoded: prefixes and the effective address. */
struct insn {
	uint32_t next;      /* offset of the next byte to fetch (relative to CS) */
	uint32_t start;     /* offset of the first byte (eip of the instruction) */
	const uint8_t *win; /* host bytes of the instruction, when the fast window is open */
	uint32_t avail;     /* bytes readable through win (0: every fetch goes the slow way) */
	int seg_override;   /* enum cpu_sreg or -1 */
	uint8_t rep;        /* 0, 0xF2 or 0xF3 */
	bool lock;
	bool op16;          /* operand size is 16 bits */
	bool addr16;        /* address size is 16 bits */
	uint8_t modrm;
	uint8_t sib;        /* valid only when the ModRM form has one */
	enum cpu_sreg ea_seg;
	uint32_t ea;
};

/*
 * The decoded-instruction cache.  Entries are keyed by the guest-physical
 * address of an instruction's first byte and tagged with the generation
 * of its page: a write to the page bumps the generation, which makes
 * every entry of that page stale at once.  A page's generation is odd
 * while entries may exist for it; the TLB never caches a write
 * permission for such a page, so every write to it takes the slow path,
 * which bumps the generation (see dcache.c).
 *
 * Only decoding is cached: the fetch still goes through the fetch window
 * (translation, permissions, segment limit), and only instructions that
 * lie wholly inside the window are looked up.  Common prefix-free forms
 * get a `kind` that exec.c runs from the entry; everything else is
 * DC_GENERIC and goes through the ordinary decoder.
 */
#define DC_ENTRIES 16384u
#define DC_PAGES (1u << 20) /* 4 GiB of guest-physical space in 4 KiB pages */
#define DC_NOREG 8u

enum dc_kind {
	DC_EMPTY, DC_GENERIC,
	DC_ALU_RR,               /* reg r1 = r1 <aop> r2 (+ aop 0..7) */
	DC_ALU_RI = DC_ALU_RR + 8, /* reg r1 = r1 <aop> imm (+ aop 0..7) */
	DC_ALU_RM = DC_ALU_RI + 8, /* reg r1 = r1 <r2 = aop> [ea] */
	DC_TEST_RR, DC_INC, DC_DEC,
	DC_MOV_RR, DC_MOV_RI, DC_LOAD, DC_STORE, DC_LEA,
	DC_PUSH, DC_POP,
	DC_JCC, DC_JMP, DC_CALL, DC_RET,
	DC_SHIFT_RI, /* reg r1 = shift kind r2 by imm */
	DC_IMUL_RR, DC_MOVZX8_RR, DC_MOVZX8_RM,
};

struct dc_entry {
	uint32_t phys;  /* guest-physical address of the first byte */
	uint32_t gen;   /* the page's generation when it was decoded */
	uint8_t kind;   /* enum dc_kind */
	uint8_t len;    /* instruction length in bytes */
	uint8_t r1, r2; /* register operands (see enum dc_kind) */
	uint8_t base, index, scale, seg; /* memory operand; base/index DC_NOREG if absent */
	uint32_t disp;  /* displacement, or the branch displacement */
	uint32_t imm;
};

/* Everything the interpreter keeps that the host does not see. */
struct cpu_private {
	jmp_buf *catcher;          /* where cpu_raise() unwinds to */
	struct cpu_stop *stop;     /* filled in by cpu_raise() and friends */
	uint32_t insn_eip;         /* eip of the instruction in progress */
	uint64_t icount_end;       /* where the current budget ends */

	struct lazy_flags lf;
	/* The flags as they were before the instruction in progress. */
	uint32_t eflags_saved;
	struct lazy_flags lf_saved;

	struct seg_window segw[CPU_NSREGS];
	struct cpu_tlb_entry *tlb_cur; /* cpu->tlb[cpl == 3] */

	/*
	 * The code page instructions are fetched from: its linear address and
	 * host pointer, and the same as a window of CS offsets, [fetch_lo,
	 * fetch_lo + fetch_span), already cut at the CS limit, whose first
	 * byte is at fetch_win.
	 */
	uint32_t fetch_page;
	uint8_t *fetch_host;
	uint32_t fetch_lo, fetch_span;
	const uint8_t *fetch_win;
	bool code16; /* CS is a 16-bit segment */
	/* The window's first byte as a guest-physical address, and its page's generation. */
	uint32_t fetch_phys;
	const uint32_t *fetch_gen;

	struct dc_entry *dcache;  /* DC_ENTRIES entries, indexed by physical address */
	uint32_t *page_gen;       /* DC_PAGES generations; odd: the page has entries */

	/* Something asks to stop after this instruction (AFTER_* bits). */
	uint8_t after;
	uint32_t watch_addr;

	/* x87 state saved before an x87 instruction, restored if it faults. */
	bool fpu_saved_valid;
	struct cpu_x87 fpu_saved;

	/* What sgdt/sidt/str report (the real GDT is the host's cpu->gdt). */
	uint32_t gdtr_base, idtr_base;
	uint16_t gdtr_limit, idtr_limit;
	bool gdtr_loaded;
	uint16_t tr, ldtr;
	uint32_t dr[8];
};

#define FETCH_PAGE_NONE 0x00000001u
#define AFTER_WATCH 1u /* a watched access's host callback asked to stop */
#define AFTER_HLT 2u   /* hlt at CPL 0 */

/* ---- cpu.c ---- */
void cpu_set_cpl(struct cpu *cpu, unsigned cpl);
void cpu_resync(struct cpu *cpu);
_Noreturn void cpu_raise_soft(struct cpu *cpu, uint8_t vector, uint32_t next_eip);
_Noreturn void cpu_stop_now(struct cpu *cpu, enum cpu_stop_kind kind);

/* ---- dcache.c ---- */
void dcache_init(struct cpu *cpu);
void dcache_destroy(struct cpu *cpu);
void dcache_fill(struct cpu *cpu, struct dc_entry *e, uint32_t phys, const uint8_t *bytes,
                 uint32_t avail);
void dcache_page_written(struct cpu *cpu, uint32_t phys_page);

/* Whether the TLB may cache write permission for a physical page (no decoded code on it). */
static inline bool dcache_page_writable(const struct cpu *cpu, uint32_t phys_page)
{
	return !(cpu->priv->page_gen[phys_page >> 12] & 1);
}

/* ---- flags.c ---- */
uint32_t flags_arith(const struct cpu *cpu);
void flags_materialize(struct cpu *cpu);

/* Remember an add/sub/logic result for lazy flag evaluation. */
static inline void lf_set(struct cpu *cpu, enum lazy_op op, uint32_t res, uint32_t a, uint32_t b,
                          unsigned size)
{
	struct lazy_flags *lf = &cpu->priv->lf;
	lf->op = op;
	lf->res = res;
	lf->a = a;
	lf->b = b;
	lf->size = size;
}

/* Set some arithmetic flags eagerly (shifts, multiplies, BCD). */
static inline void flags_put(struct cpu *cpu, uint32_t mask, uint32_t values)
{
	if (mask == EFLAGS_ARITH)
		cpu->priv->lf.op = LF_NONE; /* every arithmetic flag is replaced */
	else
		flags_materialize(cpu);
	cpu->eflags = (cpu->eflags & ~mask) | (values & mask);
}

uint32_t flags_cf(const struct cpu *cpu);

/* Parity flag: set when the low byte has an even number of one bits. */
static inline uint32_t parity(uint32_t res)
{
	return __builtin_parity(res & 0xff) ? 0 : EFLAGS_PF;
}

/* PF, ZF and SF of a result of `size` bytes. */
static inline uint32_t flags_szp(uint32_t res, unsigned size)
{
	uint32_t m = size_mask(size);
	uint32_t f = parity(res);
	if ((res & m) == 0)
		f |= EFLAGS_ZF;
	if (res & (1u << (size * 8 - 1)))
		f |= EFLAGS_SF;
	return f;
}

/*
 * Evaluate condition code `cc` (the low nibble of jcc/setcc/cmovcc).
 * After cmp/sub most conditions are a comparison of the operands;
 * otherwise the flags are computed.
 */
ALWAYS_INLINE bool flags_cond(struct cpu *cpu, unsigned cc)
{
	const struct lazy_flags *lf = &cpu->priv->lf;
	bool r;
	if (lf->op == LF_SUB && (cc & 0xe) != 0 && (cc & 0xe) != 0xa) {
		unsigned size = lf->size;
		uint32_t m = size_mask(size);
		uint32_t a = lf->a & m, b = lf->b & m;
		unsigned shift = 32 - size * 8;
		int32_t sa = (int32_t)(a << shift), sb = (int32_t)(b << shift);
		switch (cc >> 1) {
		case 1: r = a < b; break;
		case 2: r = a == b; break;
		case 3: r = a <= b; break;
		case 4: r = (lf->res & (1u << (size * 8 - 1))) != 0; break;
		case 6: r = sa < sb; break;
		default: r = sa <= sb; break;
		}
		return r ^ (cc & 1);
	}
	uint32_t f = flags_arith(cpu);
	bool of = f & EFLAGS_OF, sf = f & EFLAGS_SF;
	switch (cc >> 1) {
	case 0: r = of; break;
	case 1: r = f & EFLAGS_CF; break;
	case 2: r = f & EFLAGS_ZF; break;
	case 3: r = f & (EFLAGS_CF | EFLAGS_ZF); break;
	case 4: r = sf; break;
	case 5: r = f & EFLAGS_PF; break;
	case 6: r = sf != of; break;
	default: r = (f & EFLAGS_ZF) || sf != of; break;
	}
	return r ^ (cc & 1);
}

/* ---- mem.c ---- */
void seg_window_refresh(struct cpu *cpu, enum cpu_sreg s);
_Noreturn void seg_access_fault(struct cpu *cpu, enum cpu_sreg s);
uint32_t mem_read_slow(struct cpu *cpu, uint32_t la, unsigned size, enum cpu_access access);
uint32_t mem_read_rmw(struct cpu *cpu, enum cpu_sreg s, uint32_t off, unsigned size);
void mem_write_slow(struct cpu *cpu, uint32_t la, unsigned size, uint32_t value);
uint8_t fetch_slow(struct cpu *cpu, uint32_t off);
void fetch_invalidate(struct cpu *cpu);
void probe_write_linear(struct cpu *cpu, uint32_t la, uint32_t len);

/* Check an access against a segment and return its linear address. */
static inline uint32_t seg_linear(struct cpu *cpu, enum cpu_sreg s, uint32_t off, unsigned size,
                                  uint32_t right)
{
	const struct seg_window *w = &cpu->priv->segw[s];
	if (unlikely(!(w->rights & right) || off < w->lo || (uint64_t)off + size - 1 > w->hi))
		seg_access_fault(cpu, s);
	return w->base + off;
}

/* Host pointer for a TLB hit that stays within one page, else NULL. */
static inline uint8_t *tlb_hit(struct cpu *cpu, uint32_t la, unsigned size, bool write)
{
	const struct cpu_tlb_entry *e = &cpu->priv->tlb_cur[(la >> 12) & (CPU_TLB_SIZE - 1)];
	uint32_t tag = write ? e->tag_write : e->tag_read;
	if (likely(tag == (la & ~0xfffu) && (la & 0xfffu) <= 4096u - size))
		return (uint8_t *)(uintptr_t)(la + e->addend);
	return NULL;
}

/* Read `size` bytes (1, 2 or 4) at a linear address. */
static inline uint32_t lin_read(struct cpu *cpu, uint32_t la, unsigned size)
{
	uint8_t *p = tlb_hit(cpu, la, size, false);
	if (likely(p != NULL)) {
		if (size == 4) {
			uint32_t v;
			__builtin_memcpy(&v, p, 4);
			return v;
		}
		if (size == 2) {
			uint16_t v;
			__builtin_memcpy(&v, p, 2);
			return v;
		}
		return *p;
	}
	return mem_read_slow(cpu, la, size, CPU_ACCESS_READ);
}

/* Write `size` bytes (1, 2 or 4) at a linear address. */
static inline void lin_write(struct cpu *cpu, uint32_t la, unsigned size, uint32_t v)
{
	uint8_t *p = tlb_hit(cpu, la, size, true);
	if (likely(p != NULL)) {
		if (size == 4) {
			__builtin_memcpy(p, &v, 4);
		} else if (size == 2) {
			uint16_t h = (uint16_t)v;
			__builtin_memcpy(p, &h, 2);
		} else {
			*p = (uint8_t)v;
		}
		return;
	}
	mem_write_slow(cpu, la, size, v);
}

static inline uint32_t mem_read(struct cpu *cpu, enum cpu_sreg s, uint32_t off, unsigned size)
{
	return lin_read(cpu, seg_linear(cpu, s, off, size, SEGR_READ), size);
}

static inline void mem_write(struct cpu *cpu, enum cpu_sreg s, uint32_t off, unsigned size,
                             uint32_t v)
{
	lin_write(cpu, seg_linear(cpu, s, off, size, SEGR_WRITE), size, v);
}

/*
 * Open the fetch window for an instruction at `eip`: when its code page is
 * the cached one, up to 15 bytes (bounded by the page end and the CS
 * limit) can be read straight from host memory.
 */
ALWAYS_INLINE void fetch_window(struct cpu *cpu, struct insn *in,
                                                               uint32_t eip)
{
	const struct cpu_private *p = cpu->priv;
	uint32_t rel = eip - p->fetch_lo;
	in->next = eip;
	in->start = eip;
	in->avail = 0;
	if (likely(rel < p->fetch_span)) {
		uint32_t left = p->fetch_span - rel;
		in->win = p->fetch_win + rel;
		in->avail = left < 15 ? left : 15;
	}
}

uint8_t fetch8_slow(struct cpu *cpu, struct insn *in);

/* Fetch the next instruction byte. */
ALWAYS_INLINE uint8_t fetch8(struct cpu *cpu, struct insn *in)
{
	uint32_t i = in->next - in->start;
	if (likely(i < in->avail)) {
		in->next++;
		return in->win[i];
	}
	return fetch8_slow(cpu, in);
}

ALWAYS_INLINE uint16_t fetch16(struct cpu *cpu, struct insn *in)
{
	uint16_t lo = fetch8(cpu, in);
	return lo | (uint16_t)(fetch8(cpu, in) << 8);
}

ALWAYS_INLINE uint32_t fetch32(struct cpu *cpu, struct insn *in)
{
	uint32_t lo = fetch16(cpu, in);
	return lo | ((uint32_t)fetch16(cpu, in) << 16);
}

/* ---- registers ---- */
ALWAYS_INLINE uint32_t reg_get(const struct cpu *cpu, unsigned r, unsigned size)
{
	if (size == 4)
		return cpu->regs[r];
	if (size == 2)
		return cpu->regs[r] & 0xffff;
	return r < 4 ? cpu->regs[r] & 0xff : (cpu->regs[r - 4] >> 8) & 0xff;
}

ALWAYS_INLINE void reg_set(struct cpu *cpu, unsigned r, unsigned size, uint32_t v)
{
	if (size == 4)
		cpu->regs[r] = v;
	else if (size == 2)
		cpu->regs[r] = (cpu->regs[r] & 0xffff0000u) | (v & 0xffff);
	else if (r < 4)
		cpu->regs[r] = (cpu->regs[r] & 0xffffff00u) | (v & 0xff);
	else
		cpu->regs[r - 4] = (cpu->regs[r - 4] & 0xffff00ffu) | ((v & 0xff) << 8);
}

/* ---- the stack: SS.B chooses esp or sp ---- */
static inline bool stack32(const struct cpu *cpu)
{
	return SEG_ATTR_DB(cpu->seg[CPU_SS].attr);
}

static inline uint32_t stack_ptr(const struct cpu *cpu)
{
	return stack32(cpu) ? cpu->regs[CPU_ESP] : cpu->regs[CPU_ESP] & 0xffff;
}

static inline void stack_set(struct cpu *cpu, uint32_t sp)
{
	if (stack32(cpu))
		cpu->regs[CPU_ESP] = sp;
	else
		cpu->regs[CPU_ESP] = (cpu->regs[CPU_ESP] & 0xffff0000u) | (sp & 0xffff);
}

/* Push `size` bytes; esp changes only once the write succeeded. */
static inline void push(struct cpu *cpu, unsigned size, uint32_t v)
{
	uint32_t sp = stack_ptr(cpu) - size;
	if (!stack32(cpu))
		sp &= 0xffff;
	mem_write(cpu, CPU_SS, sp, size, v);
	stack_set(cpu, sp);
}

/* Read the value on top of the stack at `depth` bytes above esp. */
static inline uint32_t stack_peek(struct cpu *cpu, uint32_t depth, unsigned size)
{
	uint32_t sp = stack_ptr(cpu) + depth;
	if (!stack32(cpu))
		sp &= 0xffff;
	return mem_read(cpu, CPU_SS, sp, size);
}

static inline void stack_drop(struct cpu *cpu, uint32_t bytes)
{
	stack_set(cpu, stack_ptr(cpu) + bytes);
}

static inline uint32_t pop(struct cpu *cpu, unsigned size)
{
	uint32_t v = stack_peek(cpu, 0, size);
	stack_drop(cpu, size);
	return v;
}

/* ---- decode.c ---- */
void decode_ea16(struct cpu *cpu, struct insn *in);

/*
 * Decode the memory operand of the current ModRM byte (mod != 3): the
 * ModRM/SIB/displacement forms of 32-bit addressing.  The default segment
 * is SS when the base is ESP or EBP, DS otherwise; an override wins.
 */
ALWAYS_INLINE void decode_ea(struct cpu *cpu, struct insn *in)
{
	if (in->addr16) {
		decode_ea16(cpu, in);
		return;
	}
	unsigned mod = in->modrm >> 6, rm = in->modrm & 7;
	uint32_t ea;
	enum cpu_sreg seg = CPU_DS;

	if (rm == 4) {
		uint8_t sib = fetch8(cpu, in);
		in->sib = sib;
		unsigned scale = sib >> 6, index = (sib >> 3) & 7, base = sib & 7;
		if (base == 5 && mod == 0) {
			ea = fetch32(cpu, in);
		} else {
			ea = cpu->regs[base];
			if (base == CPU_ESP || base == CPU_EBP)
				seg = CPU_SS;
		}
		if (index != 4)
			ea += cpu->regs[index] << scale;
	} else if (rm == 5 && mod == 0) {
		ea = fetch32(cpu, in);
	} else {
		ea = cpu->regs[rm];
		if (rm == CPU_EBP)
			seg = CPU_SS;
	}
	if (mod == 1)
		ea += (uint32_t)(int8_t)fetch8(cpu, in);
	else if (mod == 2)
		ea += fetch32(cpu, in);
	in->ea = ea;
	in->ea_seg = in->seg_override >= 0 ? (enum cpu_sreg)in->seg_override : seg;
}

enum cpu_stop_kind exec_run(struct cpu *cpu, uint64_t end);

/* Jump within CS (checks the limit: a far-away target faults on the jump). */
static inline void jump_near(struct cpu *cpu, struct insn *in, uint32_t target)
{
	if (in->op16)
		target &= 0xffff;
	if (unlikely(target > cpu->priv->segw[CPU_CS].hi))
		cpu_raise(cpu, CPU_GP, true, 0);
	in->next = target;
}

/* ---- operands ---- */
#define OSZ(in) ((in)->op16 ? 2u : 4u)

/* Read the ModRM byte and, for memory forms, the effective address. */
ALWAYS_INLINE void modrm(struct cpu *cpu, struct insn *in)
{
	in->modrm = fetch8(cpu, in);
	if (in->modrm < 0xc0)
		decode_ea(cpu, in);
}

static inline unsigned modrm_reg(const struct insn *in)
{
	return (in->modrm >> 3) & 7;
}

static inline bool modrm_is_reg(const struct insn *in)
{
	return in->modrm >= 0xc0;
}

ALWAYS_INLINE uint32_t rm_read(struct cpu *cpu, struct insn *in, unsigned size)
{
	if (modrm_is_reg(in))
		return reg_get(cpu, in->modrm & 7, size);
	return mem_read(cpu, in->ea_seg, in->ea, size);
}

/* Read an r/m operand that the instruction will write back. */
ALWAYS_INLINE uint32_t rm_read_rmw(struct cpu *cpu, struct insn *in, unsigned size)
{
	if (modrm_is_reg(in))
		return reg_get(cpu, in->modrm & 7, size);
	return mem_read_rmw(cpu, in->ea_seg, in->ea, size);
}

/* Write an r/m operand: the register, or memory at the decoded address. */
ALWAYS_INLINE void rm_write(struct cpu *cpu, struct insn *in, unsigned size, uint32_t v)
{
	if (modrm_is_reg(in))
		reg_set(cpu, in->modrm & 7, size, v);
	else
		mem_write(cpu, in->ea_seg, in->ea, size, v);
}

/* Memory-only operands (lea, les, bound...): the register form is #UD. */
static inline void require_memory(struct cpu *cpu, const struct insn *in)
{
	if (modrm_is_reg(in))
		cpu_raise(cpu, CPU_UD, false, 0);
}

/* An immediate operand of the operand size (1, 2 or 4 bytes) from the instruction stream. */
ALWAYS_INLINE uint32_t fetch_imm(struct cpu *cpu, struct insn *in, unsigned size)
{
	if (size == 1)
		return fetch8(cpu, in);
	if (size == 2)
		return fetch16(cpu, in);
	return fetch32(cpu, in);
}

/* Sign-extend a byte (imm8 forms such as 83 /r and 6B). */
static inline uint32_t sext8(uint32_t v)
{
	return (uint32_t)(int32_t)(int8_t)v;
}

/* ---- exec.c ---- */
uint32_t imul_trunc(struct cpu *cpu, uint32_t a, uint32_t b, unsigned size);
void load_far_pointer(struct cpu *cpu, struct insn *in, enum cpu_sreg s);

/* ---- exec_0f.c, exec_string.c, sys.c ---- */
void exec_0f(struct cpu *cpu, struct insn *in, uint8_t op);
void exec_string(struct cpu *cpu, struct insn *in, uint8_t op);
void exec_io(struct cpu *cpu, struct insn *in, uint8_t op);
void sys_group6(struct cpu *cpu, struct insn *in);
void sys_group7(struct cpu *cpu, struct insn *in);
void sys_0f(struct cpu *cpu, struct insn *in, uint8_t op);
void sys_hlt(struct cpu *cpu, struct insn *in);
void sys_cli_sti(struct cpu *cpu, bool set);
bool io_allowed(const struct cpu *cpu);

/* ---- seg.c ---- */
void seg_load(struct cpu *cpu, enum cpu_sreg s, uint16_t sel);
/* jmp far: to another code segment at the same CPL (no call gates). */
void far_jump(struct cpu *cpu, struct insn *in, uint16_t sel, uint32_t off);
/* call far: push CS:EIP and enter the target at the same CPL. */
void far_call(struct cpu *cpu, struct insn *in, uint16_t sel, uint32_t off);
/* ret far: to the same or a less privileged level (then SS:ESP too), dropping imm bytes. */
void far_return(struct cpu *cpu, struct insn *in, uint16_t imm);
/* iret: a far return that also restores EFLAGS; how the guest kernel enters user mode. */
void do_iret(struct cpu *cpu, struct insn *in);
void popf_apply(struct cpu *cpu, uint32_t value, bool op16);
bool gdt_descriptor(const struct cpu *cpu, uint16_t sel, uint64_t *desc);
void descriptor_to_segment(uint64_t d, uint16_t sel, struct cpu_segment *seg);

#endif
