/*
 * The snippet generator of the CPU differential test.
 *
 * A "form" is one instruction encoding family, e.g. `add r/m32,r32` or
 * `rep movsd, DF=1`.  For every form the generator builds many cases: the
 * instruction bytes (with a random ModRM/SIB addressing mode where the form
 * has one), edge-case and random register values, random flags and random
 * memory windows.  Each case also records which flags and registers the
 * Intel SDM leaves undefined for exactly these operands, so the comparison
 * can ignore them and say so.
 *
 * Everything derives from a 64-bit seed through a small PRNG, and each case
 * gets its own generator state from (seed, form name, case index), so one
 * failing case can be replayed alone.
 */
#ifndef CPU_DIFF_GEN_H
#define CPU_DIFF_GEN_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu_diff_proto.h"

/* Flag bits, named locally so this file does not depend on the interpreter's header. */
enum {
	F_CF = 0x001, F_PF = 0x004, F_AF = 0x010, F_ZF = 0x040, F_SF = 0x080,
	F_TF = 0x100, F_IF = 0x200, F_DF = 0x400, F_OF = 0x800,
};
#define F_ARITH (F_CF | F_PF | F_AF | F_ZF | F_SF | F_OF)

enum { R_EAX, R_ECX, R_EDX, R_EBX, R_ESP, R_EBP, R_ESI, R_EDI };

/* The default stack pointer: the middle of the stack window. */
#define DIFF_ESP (DIFF_STACK_BASE + 0x800u)

/* One generated case. */
struct diff_case {
	uint8_t code[DIFF_CODE_MAX];
	unsigned len;
	uint32_t regs[8];
	uint32_t eflags;
	uint8_t data[DIFF_PAGE];
	uint8_t stack[DIFF_PAGE];
	uint32_t undefined_flags; /* flags the SDM leaves undefined for this case */
	uint8_t undefined_regs;   /* registers (one bit each) whose result is undefined */
	uint8_t locked;           /* registers that already have a role; addressing avoids them */
	bool memory_only;         /* r/m operands must be memory (forms with a lock prefix) */
};

/* splitmix64: tiny, good enough, and the same everywhere. */
struct rng {
	uint64_t state;
};

static uint64_t rng_next(struct rng *r)
{
	uint64_t z = (r->state += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* 32 random bits. */
static uint32_t rng32(struct rng *r)
{
	return (uint32_t)(rng_next(r) >> 32);
}

/* A uniform number in [0, n). */
static uint32_t rng_below(struct rng *r, uint32_t n)
{
	return (uint32_t)(((rng_next(r) >> 32) * n) >> 32);
}

/* A uniform number in [lo, hi]. */
static int32_t rng_range(struct rng *r, int32_t lo, int32_t hi)
{
	return lo + (int32_t)rng_below(r, (uint32_t)(hi - lo + 1));
}

/* Case streams: a stable hash of the form name keeps cases independent of table order. */
static uint64_t name_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;
	while (*s)
		h = (h ^ (uint8_t)*s++) * 0x100000001b3ull;
	return h;
}

static void rng_for_case(struct rng *r, uint64_t seed, const char *form, unsigned index)
{
	r->state = seed ^ name_hash(form) ^ ((uint64_t)index * 0xd1b54a32d192ed03ull);
	rng_next(r);
}

/*
 * An operand value biased towards the edges where flag logic breaks:
 * zero, one, the sign boundaries and all-ones at every operand size, often
 * with random upper bits so partial-register writes are checked too.
 */
static uint32_t rng_operand(struct rng *r)
{
	static const uint32_t edges[] = {
		0, 1, 2, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x10000,
		0x7fffffff, 0x80000000, 0x80000001, 0xfffffffe, 0xffffffff,
	};
	static const uint32_t small_edges[] = { 0, 1, 2, 0x7e, 0x7f, 0x80, 0x81, 0xfe, 0xff, 0x0f, 0x10, 0x09 };
	uint32_t v = rng32(r);
	switch (rng_below(r, 8)) {
	case 0:
		return edges[rng_below(r, sizeof edges / sizeof edges[0])];
	case 1:
		return (v & ~0xffu) | small_edges[rng_below(r, sizeof small_edges / sizeof small_edges[0])];
	case 2:
		return (v & ~0xffffu) | (edges[rng_below(r, sizeof edges / sizeof edges[0])] & 0xffff);
	case 3:
		return rng_below(r, 40);
	case 4:
		return (uint32_t)-(int32_t)rng_below(r, 40);
	default:
		return v;
	}
}

/* Append instruction bytes (little-endian); a full buffer silently truncates. */
static void emit8(struct diff_case *c, uint32_t b)
{
	if (c->len < DIFF_CODE_MAX)
		c->code[c->len++] = (uint8_t)b;
}

static void emit16(struct diff_case *c, uint32_t v)
{
	emit8(c, v);
	emit8(c, v >> 8);
}

static void emit32(struct diff_case *c, uint32_t v)
{
	emit16(c, v);
	emit16(c, v >> 16);
}

/* An immediate of the operand size (1, 2 or 4 bytes). */
static void emit_imm(struct diff_case *c, unsigned size, uint32_t v)
{
	if (size == 1)
		emit8(c, v);
	else if (size == 2)
		emit16(c, v);
	else
		emit32(c, v);
}

/* The operand-size prefix when the form is 16-bit. */
static void emit_opsize(struct diff_case *c, unsigned size)
{
	if (size == 2)
		emit8(c, 0x66);
}

/* All ones in an operand of `size` bytes. */
static uint32_t size_mask(unsigned size)
{
	return size == 4 ? 0xffffffffu : (1u << (size * 8)) - 1;
}

/* Read or write a register operand of a size (byte registers 4-7 are AH, CH, DH, BH). */
static uint32_t get_reg(const struct diff_case *c, unsigned reg, unsigned size)
{
	if (size == 1)
		return reg < 4 ? c->regs[reg] & 0xff : (c->regs[reg - 4] >> 8) & 0xff;
	return c->regs[reg] & size_mask(size);
}

static void set_reg(struct diff_case *c, unsigned reg, unsigned size, uint32_t v)
{
	if (size == 1 && reg >= 4)
		c->regs[reg - 4] = (c->regs[reg - 4] & ~0xff00u) | ((v & 0xff) << 8);
	else
		c->regs[reg] = (c->regs[reg] & ~size_mask(size)) | (v & size_mask(size));
}

/* The register a byte register lives in (AH is part of EAX). */
static unsigned reg_home(unsigned reg, unsigned size)
{
	return size == 1 && reg >= 4 ? reg - 4 : reg;
}

/* Little-endian access to the data window by linear address. */
static uint32_t peek_data(const struct diff_case *c, uint32_t ea, unsigned size)
{
	uint32_t v = 0;
	for (unsigned i = 0; i < size; i++)
		v |= (uint32_t)c->data[ea - DIFF_DATA_BASE + i] << (8 * i);
	return v;
}

static void poke_data(struct diff_case *c, uint32_t ea, unsigned size, uint32_t v)
{
	for (unsigned i = 0; i < size; i++)
		c->data[ea - DIFF_DATA_BASE + i] = (uint8_t)(v >> (8 * i));
}

/* Store into the stack window by linear address. */
static void poke_stack(struct diff_case *c, uint32_t la, unsigned size, uint32_t v)
{
	for (unsigned i = 0; i < size; i++)
		c->stack[la - DIFF_STACK_BASE + i] = (uint8_t)(v >> (8 * i));
}

/* Give a register a role: its value is fixed and addressing modes leave it alone. */
static void lock_reg(struct diff_case *c, unsigned reg, uint32_t v)
{
	c->regs[reg] = v;
	c->locked |= (uint8_t)(1u << reg);
}

/* A random register not yet locked, excluding those in `avoid`; -1 if none. */
static int free_reg(struct diff_case *c, struct rng *r, unsigned avoid)
{
	unsigned choices[8], n = 0;
	for (unsigned i = 0; i < 8; i++)
		if (!((c->locked | avoid) & (1u << i)))
			choices[n++] = i;
	return n ? (int)choices[rng_below(r, n)] : -1;
}

/* Where an r/m operand ended up. */
struct operand {
	bool is_mem;
	unsigned reg; /* register number when !is_mem (byte numbering for size 1) */
	uint32_t ea;  /* linear address when is_mem */
	unsigned size;
};

/* Read or write an r/m operand wherever emit_rm() put it. */
static uint32_t get_operand(const struct diff_case *c, const struct operand *o)
{
	return o->is_mem ? peek_data(c, o->ea, o->size) : get_reg(c, o->reg, o->size);
}

static void set_operand(struct diff_case *c, const struct operand *o, uint32_t v)
{
	if (o->is_mem)
		poke_data(c, o->ea, o->size, v);
	else
		set_reg(c, o->reg, o->size, v);
}

/*
 * Emit ModRM (+SIB, +displacement) for a memory operand at linear address
 * `ea`, with a random 32-bit addressing mode.  The base and index registers
 * it picks get whatever values make the address come out at `ea` (wrapping
 * around 2^32 when the displacement or the scaled index is large), and are
 * locked.
 */
static void emit_mem_at(struct diff_case *c, struct rng *r, unsigned reg_field, uint32_t ea)
{
	unsigned kind = rng_below(r, 10);
	int base = free_reg(c, r, kind <= 3 || kind == 9 ? 1u << R_ESP : 0);
	int index = base < 0 ? -1 : free_reg(c, r, (1u << R_ESP) | (1u << base));
	uint32_t disp8 = (uint32_t)rng_range(r, -128, 127);
	uint32_t disp32 = rng_below(r, 2) ? rng32(r) : (uint32_t)rng_range(r, -4096, 4096);
	unsigned scale = rng_below(r, 4);
	uint32_t idx_val = rng_below(r, 2) ? (uint32_t)rng_range(r, -64, 64) : rng32(r);

	reg_field &= 7;
	if (base < 0 || (kind >= 4 && kind <= 7 && index < 0))
		kind = 0;
	if (kind == 1 && base == R_EBP)
		kind = 2;
	if (kind == 4 && base == R_EBP)
		kind = 5;
	switch (kind) {
	case 0: /* [disp32] */
		emit8(c, (reg_field << 3) | 5);
		emit32(c, ea);
		return;
	case 1: /* [base] */
		emit8(c, (reg_field << 3) | (unsigned)base);
		lock_reg(c, (unsigned)base, ea);
		return;
	case 2: /* [base+disp8] */
	case 9:
		emit8(c, 0x40 | (reg_field << 3) | (unsigned)base);
		emit8(c, disp8);
		lock_reg(c, (unsigned)base, ea - disp8);
		return;
	case 3: /* [base+disp32] */
		emit8(c, 0x80 | (reg_field << 3) | (unsigned)base);
		emit32(c, disp32);
		lock_reg(c, (unsigned)base, ea - disp32);
		return;
	case 4: /* [base+index*scale] */
	case 5: /* [base+index*scale+disp8] */
	case 6: /* [base+index*scale+disp32] */
	{
		uint32_t disp = kind == 4 ? 0 : kind == 5 ? disp8 : disp32;
		emit8(c, (kind == 4 ? 0x00 : kind == 5 ? 0x40 : 0x80) | (reg_field << 3) | 4);
		emit8(c, (scale << 6) | ((unsigned)index << 3) | (unsigned)base);
		if (kind == 5)
			emit8(c, disp8);
		else if (kind == 6)
			emit32(c, disp32);
		lock_reg(c, (unsigned)index, idx_val);
		lock_reg(c, (unsigned)base, ea - disp - (idx_val << scale));
		return;
	}
	case 7: /* [index*scale+disp32], no base */
		emit8(c, (reg_field << 3) | 4);
		emit8(c, (scale << 6) | ((unsigned)index << 3) | 5);
		emit32(c, ea - (idx_val << scale));
		lock_reg(c, (unsigned)index, idx_val);
		return;
	default: /* [base] through a SIB byte with no index (the only way to use esp) */
		emit8(c, 0x40 | (reg_field << 3) | 4);
		emit8(c, (rng_below(r, 4) << 6) | (4u << 3) | (unsigned)base);
		emit8(c, disp8);
		lock_reg(c, (unsigned)base, ea - disp8);
		return;
	}
}

/* A random address inside the data window with room for `size` bytes. */
static uint32_t random_data_address(struct rng *r, unsigned size)
{
	return DIFF_DATA_BASE + 16 + rng_below(r, DIFF_PAGE - 32 - size);
}

/* Which kinds of r/m operand a form allows. */
enum rm_kind { RM_ANY, RM_REG, RM_MEM };

/*
 * Emit an r/m operand of `size` bytes: a random register, or memory in the
 * data window holding an edge-case value.
 */
static struct operand emit_rm(struct diff_case *c, struct rng *r, unsigned reg_field, unsigned size,
                              enum rm_kind kind)
{
	struct operand o = { .size = size };
	bool mem = kind == RM_MEM || (kind == RM_ANY && (c->memory_only || rng_below(r, 2)));
	if (mem) {
		o.is_mem = true;
		o.ea = random_data_address(r, size < 8 ? 8 : size);
		emit_mem_at(c, r, reg_field, o.ea);
		if (rng_below(r, 2))
			poke_data(c, o.ea, size > 4 ? 4 : size, rng_operand(r));
	} else {
		o.reg = rng_below(r, 8);
		if ((c->locked >> R_ESP) & 1)
			while (reg_home(o.reg, size) == R_ESP)
				o.reg = rng_below(r, 8);
		emit8(c, 0xc0 | ((reg_field & 7) << 3) | o.reg);
	}
	return o;
}

/*
 * The common start of every case: edge-case registers, esp in the middle
 * of the stack window, random arithmetic flags and DF, random memory.
 */
static void case_begin(struct diff_case *c, struct rng *r)
{
	memset(c, 0, sizeof *c);
	for (unsigned i = 0; i < 8; i++)
		c->regs[i] = rng_operand(r);
	c->regs[R_ESP] = DIFF_ESP;
	c->eflags = rng32(r) & (F_ARITH | F_DF);
	for (unsigned i = 0; i < DIFF_PAGE; i += 4) {
		uint32_t v = rng32(r);
		memcpy(c->data + i, &v, 4);
		v = rng32(r);
		memcpy(c->stack + i, &v, 4);
	}
}

/* Forms that push or pop keep esp as the stack pointer. */
static void use_stack(struct diff_case *c)
{
	lock_reg(c, R_ESP, DIFF_ESP);
}

/* ---- form descriptions ---------------------------------------------------- */

struct diff_form;
typedef void diff_gen_fn(struct diff_case *c, struct rng *r, const struct diff_form *f);

struct diff_form {
	char name[64];
	diff_gen_fn *gen;
	int op;       /* the form's sub-operation (ModRM reg field, condition code, ...) */
	unsigned size; /* operand size in bytes */
	int variant;  /* which encoding of the operation */
	bool lock;    /* with a lock prefix (and a memory destination) */
	const uint8_t *bytes; /* fixed instruction bytes, for simple forms */
	unsigned nbytes;
	uint32_t undefined_flags; /* for fixed forms: flags the SDM leaves undefined */
};

static const char *const size_suffix[] = { "", "8", "16", "", "32" };

/* ---- ALU: add/or/adc/sbb/and/sub/xor/cmp ---------------------------------- */

enum alu_variant { ALU_RM_R, ALU_R_RM, ALU_ACC_IMM, ALU_RM_IMM, ALU_RM_IMM8 };

static const char *const alu_names[] = { "add", "or", "adc", "sbb", "and", "sub", "xor", "cmp" };

/* AF is undefined after the logical operations (and, or, xor, test). */
static uint32_t alu_undefined(int op)
{
	return op == 1 || op == 4 || op == 6 ? F_AF : 0;
}

/* add/or/adc/sbb/and/sub/xor/cmp in one of their five encodings. */
static void gen_alu(struct diff_case *c, struct rng *r, const struct diff_form *f)
{
	unsigned size = f->size, wide = size == 1 ? 0 : 1;
	unsigned op = (unsigned)f->op;
	emit_opsize(c, size);
	switch (f->variant) {
	case ALU_RM_R:
		emit8(c, op * 8 + wide);
		emit_rm(c, r, rng_below(r, 8), size, RM_ANY);
		break;
	case ALU_R_RM:
		emit8(c, op * 8 + 2 + wide);
		emit_rm(c, r, rng_below(r, 8), size, RM_ANY);
		break;
	case ALU_ACC_IMM:
		emit8(c, op * 8 + 4 + wide);
		emit_imm(c, size, rng_operand(r));
		break;
	case ALU_RM_IMM:
		emit8(c, size == 1 ? 0x80 : 0x81);
		emit_rm(c, r, op, size, RM_ANY);
		emit_imm(c, size, rng_operand(r));
		break;
	default:
		emit8(c, 0x83);
		emit_rm(c, r, op, size, RM_ANY);
		emit8(c, rng_operand(r));
		break;
	}
	c->undefined_flags = alu_undefined(f->op);
}

/* ---- inc/dec, neg/not, test ----------------------------------------------- */

enum { INCDEC_SHORT, INCDEC_RM };

/* inc/dec: the one-byte register forms and FE/FF /0 /1. */
static void gen_incdec(struct diff_case *c, struct rng *r, const struct diff_form *f)
{
	emit_opsize(c, f->size);
	if (f->variant == INCDEC_SHORT) {
		emit8(c, 0x40 + 8 * (unsigned)f->op + rng_below(r, 8));
	} else {
		emit8(c, f->size == 1 ? 0xfe : 0xff);
		emit_rm(c, r, (unsigned)f->op, f->size, RM_ANY);
	}
}

/* not/neg (F6/F7 /2 /3): every flag of neg is defined; not changes none. */
static void gen_negnot(struct diff_case *c, struct rng *r, const struct diff_form *f)
{
	emit_opsize(c, f->size);
	emit8(c, f->size == 1 ? 0xf6 : 0xf7);
	emit_rm(c, r, (unsigned)f->op, f->size, RM_ANY);
}

enum { TEST_RM_R, TEST_ACC_IMM, TEST_RM_IMM };

/* test: AF is undefined, as after and. */
static void gen_test(struct diff_case *c, struct rng *r, const struct diff_form *f)
{
	unsigned wide = f->size == 1 ? 0 : 1;
	emit_opsize(c, f->size);
	if (f->variant == TEST_RM_R) {
		emit8(c, 0x84 + wide);
		emit_rm(c, r, rng_below(r, 8), f->size, RM_ANY);
	} else if (f->variant == TEST_ACC_IMM) {
		emit8(c, 0xa8 + wide);
		emit_imm(c, f->size, rng_operand(r));
	} else {
		emit8(c, 0xf6 + wide);
		emit_rm(c, r, 0, f->size, RM_ANY);
		emit_imm(c, f->size, rng_operand(r));
	}
	c->undefined_flags = F_AF;
}

/* ---- mul/imul/div/idiv ------------------------------------------------------ */

/* One-operand mul/imul: only CF and OF are defined. */
static void gen_mul1(struct diff_case *c, struct rng *r, const struct diff_form *f)
{
	emit_opsize(c, f->size);
	emit8(c, f->size == 1 ? 0xf6 : 0xf7);
	emit_rm(c, r, (unsigned)f->op, f->size, RM_ANY);
	c->undefined_flags = F_SF | F_ZF | F_AF | F_PF;
}

enum { IMUL_2OP, IMUL_3OP_IMM8, IMUL_3OP_IMM };

/* Two- and three-operand imul: only CF and OF are defined. */
static void gen_imul(struct diff_case *c, struct rng *r, const struct diff_form *f)
{
	emit_opsize(c, f->size);
	if (f->variant == IMUL_2OP) {
		emit8(c, 0x0f);
		emit8(c, 0xaf);
		emit_rm(c, r, rng_below(r, 8), f->size, RM_ANY);
	} else if (f->variant == IMUL_3OP_IMM8) {
		emit8(c, 0x6b);
		emit_rm(c, r, rng_below(r, 8), f->size, RM_ANY);
		emit8(c, rng_operand(r));
	} else {
		emit8(c, 0x69);
		emit_rm(c, r, rng_below(r, 8), f->size, RM_ANY);
		emit_imm(c, f->size, rng_operand(r));
	}
	c->undefined_flags = F_SF | F_ZF | F_AF | F_PF;
}

/*
 * div/idiv: most cases pick a quotient and remainder that fit, so the
 * instruction completes; some use a zero divisor or an oversized dividend,
 * which must raise #DE with every register unchanged.  All flags are
 * undefined after a division.
 */
static void gen_div(struct diff_case *c, struct rng *r, const struct diff_form *f)
{
	unsigned size = f->size, bits = size * 8;
	bool is_signed = f->op == 7;
	struct operand o;
	uint32_t mask = size_mask(size);

	lock_reg(c, R_EAX, c->regs[R_EAX]);
	if (size > 1)
		lock_reg(c, R_EDX, c->regs[R_EDX]);
	emit_opsize(c, size);
	emit8(c, size == 1 ? 0xf6 : 0xf7);
	o = emit_rm(c, r, (unsigned)f->op, size, RM_ANY);
	c->undefined_flags = F_ARITH;
	if (!o.is_mem && (reg_home(o.reg, size) == R_EAX || (size > 1 && reg_home(o.reg, size) == R_EDX)))
		return; /* the divisor is part of the dividend: leave it random */

	unsigned mode = rng_below(r, 10);
	uint32_t divisor = mode == 0 ? 0 : rng_operand(r) & mask;
	if (divisor == 0 && mode != 0)
		divisor = 1 + rng_below(r, 7);
	set_operand(c, &o, divisor);
	if (mode >= 8)
		return; /* random dividend: usually an overflow */

	/* dividend = quotient * divisor + remainder, with all three in range */
	int64_t dividend;
	if (!is_signed) {
		uint64_t q = rng32(r) & mask, rem = divisor ? rng32(r) % divisor : 0;
		dividend = (int64_t)(q * (uint64_t)divisor + rem);
	} else {
		int64_t d = (int64_t)((int32_t)(divisor << (32 - bits)) >> (32 - bits));
		int64_t qmax = ((int64_t)1 << (bits - 1)) - 1;
		int64_t q = (int64_t)(rng32(r) % (uint64_t)(qmax + 1)) * (rng_below(r, 2) ? -1 : 1);
		int64_t mag = d < 0 ? -d : d;
		int64_t rem = mag ? (int64_t)(rng32(r) % (uint64_t)mag) : 0;
		dividend = q * d + ((q * d < 0 || (q == 0 && rng_below(r, 2))) ? -rem : rem);
	}
	uint64_t u = (uint64_t)dividend;
	if (size == 1) {
		set_reg(c, R_EAX, 2, (uint32_t)u);
	} else {
		set_reg(c, R_EAX, size, (uint32_t)u);
		set_reg(c, R_EDX, size, (uint32_t)(u >> bits));
	}
}

/* ---- shifts and rotates ------------------------------------------------------ */

enum { SHIFT_BY1, SHIFT_BYCL, SHIFT_BYIMM };
static const char *const shift_names[] = { "rol", "ror", "rcl", "rcr", "shl", "shr", "sal", "sar" };

/*
 * What the SDM leaves undefined after a shift or rotate by `count`:
 * nothing when the masked count is zero (no flag changes); OF unless the
 * count is one; AF for the shifts; CF for shl/shr when the count reaches
 * the operand width (possible for 8- and 16-bit operands).
 */
static uint32_t shift_undefined(int op, unsigned size, uint32_t count)
{
	unsigned masked = count & 31;
	uint32_t u = 0;
	if (masked == 0)
		return 0;
	if (masked != 1)
		u |= F_OF;
	if (op >= 4) {
		u |= F_AF;
		if ((op == 4 || op == 5) && masked >= size * 8)
			u |= F_CF;
	}
	return u;
}

/* A shift count: the interesting boundaries, or any byte. */
static uint32_t shift_count(struct rng *r)
{
	static const uint8_t counts[] = { 0, 1, 2, 3, 7, 8, 9, 15, 16, 17, 18, 31, 32, 33, 63, 255 };
	return rng_below(r, 3) ? counts[rng_below(r, sizeof counts)] : rng32(r) & 0xff;
}

/* rol/ror/rcl/rcr/shl/shr/sar by 1, by cl and by imm8. */
static void gen_shift(struct diff_case *c, struct rng *r, const struct diff_form *f)
{
	unsigned wide = f->size == 1 ? 0 : 1;
	uint32_t count = shift_count(r);
	emit_opsize(c, f->size);
	if (f->variant == SHIFT_BY1) {
		emit8(c, 0xd0 + wide);
		emit_rm(c, r, (unsigned)f->op, f->size, RM_ANY);
		count = 1;
	} else if (f->variant == SHIFT_BYCL) {
		lock_reg(c, R_ECX, (c->regs[R_ECX] & ~0xffu) | count);
		emit8(c, 0xd2 + wide);
		emit_rm(c, r, (unsigned)f->op, f->size, RM_ANY);
		count = c->regs[R_ECX] & 0xff;
	} else {
		emit8(c, 0xc0 + wide);
		emit_rm(c, r, (unsigned)f->op, f->size, RM_ANY);
		emit8(c, count);
	}
	c->undefined_flags = shift_undefined(f->op, f->size, count);
}

/*
 * shld/shrd: like the shifts, plus: a 16-bit operand shifted by more than
 * 16 leaves the result and every flag undefined (we keep the destination
 * in a register then, so it can be masked).
 */
enum { SHXD_IMM, SHXD_CL };

static void gen_shxd(struct diff_case *c, struct rng *r, const struct diff_form *f)
{
	uint32_t count = shift_count(r);
	unsigned base_op = f->op == 0 ? 0xa4 : 0xac;
	struct operand o;
	if (f->variant == SHXD_CL)
		lock_reg(c, R_ECX, (c->regs[R_ECX] & ~0xffu) | count);
	bool big16 = f->size == 2 && (count & 31) > 16;
	emit_opsize(c, f->size);
	emit8(c, 0x0f);
	emit8(c, base_op + (f->variant == SHXD_CL ? 1 : 0));
	o = emit_rm(c, r, rng_below(r, 8), f->size, big16 ? RM_REG : RM_ANY);
	if (f->variant == SHXD_IMM)
		emit8(c, count);
	else
		count = c->regs[R_ECX] & 0xff;
	c->undefined_flags = shift_undefined(5, 4, count) & ~F_CF;
	if (f->size == 2 && (count & 31) > 16) {
		c->undefined_flags = F_ARITH;
		if (!o.is_mem)
			c->undefined_regs |= (uint8_t)(1u << o.reg);
	}
}

/* ---- bit tests and scans ---------------------------------------------------- */

enum { BT_REG_REG, BT_MEM_REG, BT_REG_IMM, BT_MEM_IMM };
static const char *const bt_names[] = { "bt", "bts", "btr", "btc" };

/*
 * bt/bts/btr/btc: CF gets the bit; ZF is unchanged; OF, SF, AF and PF are
 * undefined.  The memory form with a register bit offset addresses memory
 * beyond the operand (the offset is signed), so the operand sits mid-window
 * and offsets reach about 1.5 KiB either way.
 */
static void gen_bt(struct diff_case *c, struct rng *r, const struct diff_form *f)
{
	static const uint8_t reg_opcodes[] = { 0xa3, 0xab, 0xb3, 0xbb };
	unsigned size = f->size;
	emit_opsize(c, size);
	emit8(c, 0x0f);
	if (f->variant == BT_REG_REG || f->variant == BT_MEM_REG) {
		int off_reg = free_reg(c, r, 1u << R_ESP);
		uint32_t offset = f->variant == BT_MEM_REG ? (uint32_t)rng_range(r, -12000, 12000) : rng_operand(r);
		if (size == 2)
			offset = (rng32(r) & 0xffff0000u) | (offset & 0xffff);
		lock_reg(c, (unsigned)off_reg, offset);
		emit8(c, reg_opcodes[f->op - 4]);
		if (f->variant == BT_MEM_REG)
			emit_mem_at(c, r, (unsigned)off_reg, DIFF_DATA_BASE + 0x7c0 + rng_below(r, 0x80));
		else
			emit8(c, 0xc0 | ((unsigned)off_reg << 3) | (unsigned)free_reg(c, r, 0));
	} else {
		emit8(c, 0xba);
		emit_rm(c, r, (unsigned)f->op, size, f->variant == BT_MEM_IMM ? RM_MEM : RM_REG);
		emit8(c, rng_below(r, 2) ? rng32(r) : rng_below(r, 40));
	}
	c->undefined_flags = F_OF | F_SF | F_AF | F_PF;
}

/* bsf/bsr: ZF says whether the source was zero; then the destination is undefined. */
static void gen_bsf(struct diff_case *c, struct rng *r, const struct diff_form *f)
{
	unsigned dest = rng_below(r, 8);
	struct operand o;
	emit_opsize(c, f->size);
	emit8(c, 0x0f);
	emit8(c, f->op == 0 ? 0xbc : 0xbd);
	o = emit_rm(c, r, dest, f->size, RM_ANY);
	if (rng_below(r, 3) == 0 && (o.is_mem || !((c->locked >> o.reg) & 1)))
		set_operand(c, &o, 0);
	if (get_operand(c, &o) == 0)
		c->undefined_regs |= (uint8_t)(1u << dest);
	c->undefined_flags = F_CF | F_OF | F_SF | F_AF | F_PF;
}

/* ---- exchanges and compare-exchanges ---------------------------------------- */

/* bswap r32 (the 16-bit form is undefined, so it is not tested). */
static void gen_bswap(struct diff_case *c, struct rng *r, const struct diff_form *f)
{
	(void)f;
	emit8(c, 0x0f);
	emit8(c, 0xc8 + rng_below(r, 8));
}

enum { XCHG_RM_R, XCHG_ACC };

/* xchg r/m,r and the one-byte xchg with the accumulator. */
static void gen_xchg(struct diff_case *c, struct rng *r, const struct diff_form *f)
{
	emit_opsize(c, f->size);
	if (f->variant == XCHG_ACC) {
		emit8(c, 0x90 + 1 + rng_below(r, 7));
		return;
	}
	emit8(c, f->size == 1 ? 0x86 : 0x87);
	emit_rm(c, r, rng_below(r, 8), f->size, RM_ANY);
}

/* xadd: flags as add. */
static void gen_xadd(struct diff_case *c, struct rng *r, const struct diff_form *f)
{
	emit_opsize(c, f->size);
	emit8(c, 0x0f);
	emit8(c, f->size == 1 ? 0xc0 : 0xc1);
	emit_rm(c, r, rng_below(r, 8), f->size, RM_ANY);
}

/* cmpxchg: half the cases make the accumulator equal to the destination. */
static void gen_cmpxchg(struct diff_case *c, struct rng *r, const struct diff_form *f)
{
	struct operand o;
	lock_reg(c, R_EAX, c->regs[R_EAX]);
	emit_opsize(c, f->size);
	emit8(c, 0x0f);
	emit8(c, f->size == 1 ? 0xb0 : 0xb1);
	o = emit_rm(c, r, rng_below(r, 8), f->size, RM_ANY);
	if (rng_below(r, 2))
		set_reg(c, R_EAX, f->size, get_operand(c, &o));
}

/* cmpxchg8b: half the cases make edx:eax equal to the memory operand. */
static void gen_cmpxchg8b(struct diff_case *c, struct rng *r, const struct diff_form *f)
{
	uint32_t ea = random_data_address(r, 8);
	(void)f;
	lock_reg(c, R_EAX, c->regs[R_EAX]);
	lock_reg(c, R_ECX, c->regs[R_ECX]);
	lock_reg(c, R_EDX, c->regs[R_EDX]);
	lock_reg(c, R_EBX, c->regs[R_EBX]);
	emit8(c, 0x0f);
	emit8(c, 0xc7);
	emit_mem_at(c, r, 1, ea);
	if (rng_below(r, 2)) {
		c->regs[R_EAX] = peek_data(c, ea, 4);
		c->regs[R_EDX] = peek_data(c, ea + 4, 4);
	}
}

/* ---- conditional moves and sets, moves, extensions, lea ---------------------- */

/* cmovcc: the condition comes from the random flags. */
static void gen_cmov(struct diff_case *c, struct rng *r, const struct diff_form *f)
{
	emit_opsize(c, f->size);
	emit8(c, 0x0f);
	emit8(c, 0x40 + (unsigned)f->op);
	emit_rm(c, r, rng_below(r, 8), f->size, RM_ANY);
}

/* setcc r/m8. */
static void gen_setcc(struct diff_case *c, struct rng *r, const struct diff_form *f)
{
	emit8(c, 0x0f);
	emit8(c, 0x90 + (unsigned)f->op);
	emit_rm(c, r, 0, 1, RM_ANY);
}

/* movzx/movsx: op is the second opcode byte (b6, b7, be, bf). */
static void gen_movx(struct diff_case *c, struct rng *r, const struct diff_form *f)
{
	unsigned src_size = (f->op & 1) ? 2 : 1;
	emit_opsize(c, f->size);
	emit8(c, 0x0f);
	emit8(c, (unsigned)f->op);
	emit_rm(c, r, rng_below(r, 8), src_size, RM_ANY);
}

enum { MOV_RM_R, MOV_R_RM, MOV_RM_IMM, MOV_R_IMM, MOV_MOFFS_LOAD, MOV_MOFFS_STORE };

/* The plain moves, including the moffs forms. */
static void gen_mov(struct diff_case *c, struct rng *r, const struct diff_form *f)
{
	unsigned wide = f->size == 1 ? 0 : 1;
	emit_opsize(c, f->size);
	switch (f->variant) {
	case MOV_RM_R:
		emit8(c, 0x88 + wide);
		emit_rm(c, r, rng_below(r, 8), f->size, RM_ANY);
		break;
	case MOV_R_RM:
		emit8(c, 0x8a + wide);
		emit_rm(c, r, rng_below(r, 8), f->size, RM_ANY);
		break;
	case MOV_RM_IMM:
		emit8(c, 0xc6 + wide);
		emit_rm(c, r, 0, f->size, RM_ANY);
		emit_imm(c, f->size, rng_operand(r));
		break;
	case MOV_R_IMM:
		emit8(c, (wide ? 0xb8 : 0xb0) + rng_below(r, 8));
		emit_imm(c, f->size, rng_operand(r));
		break;
	default:
		emit8(c, (f->variant == MOV_MOFFS_LOAD ? 0xa0 : 0xa2) + wide);
		emit32(c, random_data_address(r, 4));
		break;
	}
}

/*
 * lea computes an address and touches no memory, so every register may
 * hold anything: this checks the ModRM/SIB decoder and its wrap-around
 * arithmetic.  With 0x67 the 16-bit forms ([bx+si], [bp+di+disp16], ...)
 * are used.
 */
static void gen_lea(struct diff_case *c, struct rng *r, const struct diff_form *f)
{
	unsigned reg = rng_below(r, 8), mod = rng_below(r, 3), rm = rng_below(r, 8);
	emit_opsize(c, f->size);
	if (f->variant == 16) {
		emit8(c, 0x67);
		emit8(c, 0x8d);
		emit8(c, (mod << 6) | (reg << 3) | rm);
		if (mod == 1)
			emit8(c, rng32(r));
		else if (mod == 2 || (mod == 0 && rm == 6))
			emit16(c, rng32(r));
		return;
	}
	emit8(c, 0x8d);
	emit8(c, (mod << 6) | (reg << 3) | rm);
	if (rm == 4) {
		unsigned sib = rng32(r) & 0xff;
		emit8(c, sib);
		if (mod == 0 && (sib & 7) == 5)
			emit32(c, rng32(r));
	}
	if (mod == 1)
		emit8(c, rng32(r));
	else if (mod == 2 || (mod == 0 && rm == 5))
		emit32(c, rng_below(r, 2) ? rng32(r) : (uint32_t)rng_range(r, -300, 300));
}

/* ---- fixed one-instruction forms ---------------------------------------------- */

/*
 * Forms whose bytes never vary (cbw, lahf, daa, ...): the registers and
 * flags vary instead.  AL and AH get BCD-ish and edge values for the
 * decimal-adjust instructions.
 */
static void gen_fixed(struct diff_case *c, struct rng *r, const struct diff_form *f)
{
	for (unsigned i = 0; i < f->nbytes; i++)
		emit8(c, f->bytes[i]);
	if (rng_below(r, 2))
		set_reg(c, R_EAX, 2, rng32(r) & 0x9f9f);
	c->undefined_flags = f->undefined_flags;
}

/* aam/aad with an immediate base (10 mostly; aam 0 must raise #DE). */
static void gen_aam(struct diff_case *c, struct rng *r, const struct diff_form *f)
{
	unsigned choice = rng_below(r, 8);
	emit8(c, (unsigned)f->op);
	emit8(c, choice < 4 ? 10 : choice == 4 && f->op == 0xd4 ? 0 : rng32(r) & 0xff);
	c->undefined_flags = F_OF | F_AF | F_CF;
}

/* xlat: ebx points into the data window, AL indexes it. */
static void gen_xlat(struct diff_case *c, struct rng *r, const struct diff_form *f)
{
	(void)f;
	lock_reg(c, R_EBX, DIFF_DATA_BASE + rng_below(r, DIFF_PAGE - 256));
	emit8(c, 0xd7);
}

/* ---- string instructions ------------------------------------------------------ */

enum { STR_NONE, STR_REP, STR_REPE, STR_REPNE };
static const char *const str_names[] = { "movs", "cmps", "stos", "lods", "scas" };
static const uint8_t str_opcodes[] = { 0xa4, 0xa6, 0xaa, 0xac, 0xae };

/*
 * String instructions on the data window.  esi and edi stay far enough
 * from the window's edges for up to 40 elements in either direction; for
 * the compares, the two strings mostly match so repe runs a while.
 */
static void gen_string(struct diff_case *c, struct rng *r, const struct diff_form *f)
{
	unsigned size = f->size, kind = (unsigned)f->op % 5;
	unsigned count = rng_below(r, 8) == 0 ? 0 : rng_below(r, 41);
	uint32_t si = DIFF_DATA_BASE + 0x100 + rng_below(r, 0xe00);
	uint32_t di = DIFF_DATA_BASE + 0x100 + rng_below(r, 0xe00);

	c->eflags = (c->eflags & ~F_DF) | (f->op >= 5 ? F_DF : 0);
	lock_reg(c, R_ESI, si);
	lock_reg(c, R_EDI, di);
	if (f->variant != STR_NONE)
		lock_reg(c, R_ECX, count);
	/*
	 * For cmps/scas, lay out the compared strings: under repne mostly
	 * different with one match, otherwise mostly equal with one difference.
	 */
	if (kind == 1 || kind == 4) {
		int step = (c->eflags & F_DF) ? -(int)size : (int)size;
		uint32_t fill = rng_operand(r);
		unsigned special = rng_below(r, 48);
		for (unsigned i = 0; i < 44; i++) {
			uint32_t a = di + (uint32_t)(step * (int)i);
			uint32_t b = si + (uint32_t)(step * (int)i);
			uint32_t match = kind == 4 ? fill : peek_data(c, b, size);
			uint32_t v;
			if (f->variant == STR_REPNE)
				v = i == special ? match : rng32(r);
			else
				v = i == special ? match ^ (1u << rng_below(r, size * 8)) : match;
			poke_data(c, a, size, v);
		}
		if (kind == 4)
			set_reg(c, R_EAX, size, fill);
	}
	if (f->variant == STR_REP || f->variant == STR_REPE)
		emit8(c, 0xf3);
	else if (f->variant == STR_REPNE)
		emit8(c, 0xf2);
	emit_opsize(c, size);
	emit8(c, str_opcodes[kind] + (size == 1 ? 0 : 1));
}

/* ---- stack ------------------------------------------------------------------------ */

enum {
	STK_PUSH_R, STK_POP_R, STK_PUSH_IMM8, STK_PUSH_IMM, STK_PUSH_M, STK_POP_M, STK_PUSHA,
	STK_POPA, STK_PUSHF, STK_POPF, STK_ENTER, STK_LEAVE, STK_PUSH_ESP, STK_POP_ESP,
};

/*
 * Pushes, pops and frames.  esp stays in the stack window; popf pops a
 * value with random arithmetic flags, DF, IF and IOPL bits (at CPL 3 the
 * last two must be ignored silently) but never TF or AC, which would trap.
 */
static void gen_stack(struct diff_case *c, struct rng *r, const struct diff_form *f)
{
	unsigned size = f->size;
	use_stack(c);
	switch (f->variant) {
	case STK_PUSH_R:
		emit_opsize(c, size);
		emit8(c, 0x50 + rng_below(r, 8));
		break;
	case STK_POP_R:
		emit_opsize(c, size);
		emit8(c, 0x58 + rng_below(r, 8));
		break;
	case STK_PUSH_IMM8:
		emit_opsize(c, size);
		emit8(c, 0x6a);
		emit8(c, rng_operand(r));
		break;
	case STK_PUSH_IMM:
		emit_opsize(c, size);
		emit8(c, 0x68);
		emit_imm(c, size, rng_operand(r));
		break;
	case STK_PUSH_M:
		emit_opsize(c, size);
		emit8(c, 0xff);
		emit_rm(c, r, 6, size, RM_MEM);
		break;
	case STK_POP_M:
		emit_opsize(c, size);
		emit8(c, 0x8f);
		emit_rm(c, r, 0, size, RM_MEM);
		break;
	case STK_PUSHA:
		emit_opsize(c, size);
		emit8(c, 0x60);
		break;
	case STK_POPA:
		emit_opsize(c, size);
		emit8(c, 0x61);
		break;
	case STK_PUSHF:
		emit_opsize(c, size);
		emit8(c, 0x9c);
		break;
	case STK_POPF:
		poke_stack(c, DIFF_ESP, size, (rng32(r) & (F_ARITH | F_DF | F_IF | 0x3000u)) | 2);
		emit_opsize(c, size);
		emit8(c, 0x9d);
		break;
	case STK_ENTER:
		lock_reg(c, R_EBP, DIFF_ESP + 4 * rng_below(r, 64));
		emit_opsize(c, size);
		emit8(c, 0xc8);
		emit16(c, rng_below(r, 2) ? rng_below(r, 64) : rng_below(r, 0x300));
		emit8(c, (unsigned)f->op);
		break;
	case STK_LEAVE:
		lock_reg(c, R_EBP, DIFF_STACK_BASE + 0x400 + 2 * rng_below(r, 0x300));
		emit_opsize(c, size);
		emit8(c, 0xc9);
		break;
	case STK_PUSH_ESP:
		emit_opsize(c, size);
		emit8(c, 0x54);
		break;
	default:
		emit_opsize(c, size);
		emit8(c, 0x5c);
		break;
	}
}

/* ---- branches ------------------------------------------------------------------------ */

enum {
	BR_JCC8, BR_JCC32, BR_JMP8, BR_JMP32, BR_LOOP, BR_LOOPE, BR_LOOPNE, BR_JECXZ, BR_JCXZ,
	BR_CALL_POP, BR_CALL_RET, BR_RET_IMM, BR_JMP_REG, BR_JMP_MEM, BR_CALL_REG,
};

/* `mov eax, imm32`: the 5-byte marker a taken branch skips. */
static void emit_marker(struct diff_case *c, struct rng *r)
{
	emit8(c, 0xb8);
	emit32(c, rng32(r));
}

/*
 * Branches as tiny programs whose path shows in the registers: a jump over
 * a `mov eax, imm32`, a counted loop incrementing edx, call/ret pairs.
 */
static void gen_branch(struct diff_case *c, struct rng *r, const struct diff_form *f)
{
	int reg;
	switch (f->variant) {
	case BR_JCC8:
		emit8(c, 0x70 + (unsigned)f->op);
		emit8(c, 5);
		emit_marker(c, r);
		break;
	case BR_JCC32:
		emit8(c, 0x0f);
		emit8(c, 0x80 + (unsigned)f->op);
		emit32(c, 5);
		emit_marker(c, r);
		break;
	case BR_JMP8:
		emit8(c, 0xeb);
		emit8(c, 5);
		emit_marker(c, r);
		break;
	case BR_JMP32:
		emit8(c, 0xe9);
		emit32(c, 5);
		emit_marker(c, r);
		break;
	case BR_LOOP:
	case BR_LOOPE:
	case BR_LOOPNE: {
		/* body: inc edx; cmp edx, ebx; loop back to the inc */
		static const uint8_t loop_op[] = { 0xe2, 0xe1, 0xe0 };
		unsigned n = rng_below(r, 40);
		if (f->variant == BR_LOOP && n == 0)
			n = 1;
		lock_reg(c, R_ECX, n);
		lock_reg(c, R_EDX, rng_operand(r));
		lock_reg(c, R_EBX, c->regs[R_EDX] + 1 + rng_below(r, 30));
		emit8(c, 0x42);
		emit8(c, 0x39);
		emit8(c, 0xda);
		emit8(c, loop_op[f->variant - BR_LOOP]);
		emit8(c, 0xfb);
		break;
	}
	case BR_JECXZ:
	case BR_JCXZ:
		c->regs[R_ECX] = rng_below(r, 2) ? 0 : rng_below(r, 2) ? 0x10000 : rng_operand(r);
		if (f->variant == BR_JCXZ)
			emit8(c, 0x67);
		emit8(c, 0xe3);
		emit8(c, 5);
		emit_marker(c, r);
		break;
	case BR_CALL_POP:
		use_stack(c);
		emit8(c, 0xe8);
		emit32(c, 0);
		emit8(c, 0x58 + rng_below(r, 4));
		break;
	case BR_CALL_RET:
		/* call L; jmp end; L: inc eax; ret; end: */
		use_stack(c);
		emit8(c, 0xe8);
		emit32(c, 2);
		emit8(c, 0xeb);
		emit8(c, 2);
		emit8(c, 0x40);
		emit8(c, 0xc3);
		break;
	case BR_RET_IMM:
		/* call L; jmp end; L: ret imm16; end: */
		use_stack(c);
		emit8(c, 0xe8);
		emit32(c, 2);
		emit8(c, 0xeb);
		emit8(c, 3);
		emit8(c, 0xc2);
		emit16(c, 4 * rng_below(r, 16));
		break;
	case BR_JMP_REG:
		/* jmp reg; mov eax, imm32; end: */
		reg = free_reg(c, r, 1u << R_EAX);
		lock_reg(c, (unsigned)reg, DIFF_CODE_BASE + 7);
		emit8(c, 0xff);
		emit8(c, 0xe0 | (unsigned)reg);
		emit_marker(c, r);
		break;
	case BR_JMP_MEM: {
		/* jmp [mem]; mov eax, imm32; end: (the ModRM length varies, so patch the target) */
		uint32_t ea = random_data_address(r, 4);
		emit8(c, 0xff);
		emit_mem_at(c, r, 4, ea);
		emit_marker(c, r);
		poke_data(c, ea, 4, DIFF_CODE_BASE + c->len);
		break;
	}
	default:
		/* call reg; jmp end; L: ret; end: */
		use_stack(c);
		reg = free_reg(c, r, 0);
		lock_reg(c, (unsigned)reg, DIFF_CODE_BASE + 4);
		emit8(c, 0xff);
		emit8(c, 0xd0 | (unsigned)reg);
		emit8(c, 0xeb);
		emit8(c, 1);
		emit8(c, 0xc3);
		break;
	}
}

/* ---- faults ------------------------------------------------------------------------------- */

enum { FLT_FIXED, FLT_READ_UNMAPPED, FLT_WRITE_UNMAPPED, FLT_PUSH_UNMAPPED, FLT_INTO };

/*
 * Instructions that must fault at CPL 3, and accesses outside every
 * window: the stop must name the same vector and eip, with the registers
 * as they were before the instruction.
 */
static void gen_fault(struct diff_case *c, struct rng *r, const struct diff_form *f)
{
	switch (f->variant) {
	case FLT_FIXED:
		for (unsigned i = 0; i < f->nbytes; i++)
			emit8(c, f->bytes[i]);
		break;
	case FLT_READ_UNMAPPED:
		emit8(c, 0x8b);
		emit_mem_at(c, r, rng_below(r, 8), 0x100 + rng_below(r, 0xe00));
		break;
	case FLT_WRITE_UNMAPPED:
		emit8(c, 0x89);
		emit_mem_at(c, r, rng_below(r, 8), 0x100 + rng_below(r, 0xe00));
		break;
	case FLT_PUSH_UNMAPPED:
		lock_reg(c, R_ESP, 0x800 + 4 * rng_below(r, 0x100));
		emit8(c, 0x50 + rng_below(r, 8));
		break;
	default:
		c->eflags |= F_OF;
		emit8(c, 0xce);
		break;
	}
}

/* ---- x87 --------------------------------------------------------------------------------- */

/* An IEEE double biased to zeros, infinities, NaNs, denormals and the extremes. */
static uint64_t rng_double(struct rng *r)
{
	static const uint64_t edges[] = {
		0, 0x8000000000000000ull, 0x3ff0000000000000ull, 0xbff0000000000000ull,
		0x7ff0000000000000ull, 0xfff0000000000000ull, 0x7ff8000000000000ull, 0x7ff4000000000000ull,
		1, 0x000fffffffffffffull, 0x7fefffffffffffffull, 0x4008000000000000ull, 0x3fb999999999999aull,
		0x41dfffffffc00000ull, 0xc1e0000000000000ull, 0x3fe0000000000000ull,
	};
	uint64_t sign = (uint64_t)rng_below(r, 2) << 63;
	switch (rng_below(r, 5)) {
	case 0:
		return edges[rng_below(r, sizeof edges / sizeof edges[0])];
	case 4: /* a quiet or signalling NaN with a random payload */
		return sign | 0x7ff0000000000000ull | ((uint64_t)rng_below(r, 2) << 51) |
		       (rng_next(r) & 0x7ffffffffffffull) | 1;
	case 1: /* a small integer or half-integer, so rounding and fistp have work */
		return sign | (0x4000000000000000ull + ((uint64_t)rng_below(r, 0x80) << 45));
	default: /* anything finite of moderate size */
		return sign | ((uint64_t)(0x3c0 + rng_below(r, 0x80)) << 52) | (rng_next(r) & 0xfffffffffffffull);
	}
}

/* A float from a double's top bits, keeping the zeros, infinities and NaNs. */
static uint32_t rng_float(struct rng *r)
{
	static const uint32_t edges[] = { 0, 0x80000000u, 0x3f800000u, 0xbf800000u, 0x7f800000u,
		                          0xff800000u, 0x7fc00000u, 0x7fa00000u, 1, 0x007fffffu, 0x7f7fffffu, 0x40400000u };
	if (rng_below(r, 3) == 0)
		return edges[rng_below(r, sizeof edges / sizeof edges[0])];
	if (rng_below(r, 4) == 0) /* a quiet or signalling NaN with a random payload */
		return (rng32(r) & 0x80000000u) | 0x7f800000u | (rng_below(r, 2) << 22) | (rng32(r) & 0x3fffffu) | 1;
	return (rng32(r) & 0x80000000u) | ((0x70u + rng_below(r, 0x20)) << 23) | (rng32(r) & 0x7fffffu);
}

enum { X87_ARITH, X87_SQRT, X87_FISTP, X87_FILD, X87_FCOM, X87_ARITH_CW };
static const char *const x87_names[] = { "fadd", "fmul", "fcom", "fcomp", "fsub", "fsubr", "fdiv", "fdivr" };

/* A memory operand in the data window holding `size` bytes of `value`. */
static void emit_x87_mem(struct diff_case *c, struct rng *r, unsigned reg_field, unsigned size, uint64_t value)
{
	uint32_t ea = random_data_address(r, 8);
	emit_mem_at(c, r, reg_field, ea);
	poke_data(c, ea, size < 4 ? size : 4, (uint32_t)value);
	if (size == 8)
		poke_data(c, ea + 4, 4, (uint32_t)(value >> 32));
}

/*
 * x87 snippets: fninit, (fldcw,) load an operand from memory, one
 * operation, store the result to memory as a double (or an integer), then
 * fnstsw ax.  The status word's C0, C2 and C3 are undefined after
 * arithmetic, so the snippet masks them off itself with `and eax, imm32`
 * (which leaves AF undefined in eflags).
 */
static void gen_x87(struct diff_case *c, struct rng *r, const struct diff_form *f)
{
	unsigned size = f->size; /* 4: m32 operands, 8: m64 operands */
	uint32_t status_mask = 0xbaffu;
	emit8(c, 0xdb);
	emit8(c, 0xe3);
	if (f->variant == X87_ARITH_CW) {
		emit8(c, 0xd9);
		emit_x87_mem(c, r, 5, 2, 0x037fu | (rng_below(r, 4) << 10) | (rng_below(r, 4) << 8));
	}
	if (f->variant == X87_FILD) {
		emit8(c, 0xdb);
		emit_x87_mem(c, r, 0, 4, rng_operand(r));
	} else {
		emit8(c, size == 4 ? 0xd9 : 0xdd);
		emit_x87_mem(c, r, 0, size, size == 4 ? rng_float(r) : rng_double(r));
	}
	switch (f->variant) {
	case X87_ARITH:
	case X87_ARITH_CW:
	case X87_FCOM:
		emit8(c, size == 4 ? 0xd8 : 0xdc);
		emit_x87_mem(c, r, (unsigned)f->op, size, size == 4 ? rng_float(r) : rng_double(r));
		if (f->variant == X87_FCOM)
			status_mask = 0xffffu;
		break;
	case X87_SQRT:
		emit8(c, 0xd9);
		emit8(c, 0xfa);
		break;
	default:
		break;
	}
	if (f->variant == X87_FISTP) {
		emit8(c, 0xdb);
		emit_x87_mem(c, r, 3, 4, 0);
	} else if (f->variant != X87_FCOM || f->op == 2) {
		emit8(c, 0xdd);
		emit_x87_mem(c, r, 3, 8, 0);
	}
	emit8(c, 0xdf);
	emit8(c, 0xe0);
	emit8(c, 0x25);
	emit32(c, status_mask);
	c->undefined_flags = F_AF;
}

/* ---- the table ---------------------------------------------------------------------------- */

static struct diff_form *forms;
static unsigned nforms, forms_cap;

static struct diff_form *add_form(diff_gen_fn *gen, int op, unsigned size, int variant, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Append one form; the name is printf-formatted. */
static struct diff_form *add_form(diff_gen_fn *gen, int op, unsigned size, int variant, const char *fmt, ...)
{
	va_list ap;
	if (nforms == forms_cap) {
		forms_cap = forms_cap ? forms_cap * 2 : 256;
		forms = realloc(forms, forms_cap * sizeof *forms);
		if (!forms)
			abort();
	}
	struct diff_form *f = &forms[nforms++];
	memset(f, 0, sizeof *f);
	f->gen = gen;
	f->op = op;
	f->size = size;
	f->variant = variant;
	va_start(ap, fmt);
	vsnprintf(f->name, sizeof f->name, fmt, ap);
	va_end(ap);
	return f;
}

/* Append a form with fixed bytes and a fixed undefined-flag mask. */
static void add_fixed(diff_gen_fn *gen, int variant, const char *name, const uint8_t *bytes, unsigned n,
                      uint32_t undefined_flags)
{
	struct diff_form *f = add_form(gen, 0, 4, variant, "%s", name);
	f->bytes = bytes;
	f->nbytes = n;
	f->undefined_flags = undefined_flags;
}

#define FIXED(gen, variant, name, undef, ...)                                                  \
	do {                                                                                   \
		static const uint8_t b_[] = { __VA_ARGS__ };                                   \
		add_fixed(gen, variant, name, b_, sizeof b_, undef);                           \
	} while (0)

static const char *const cc_names[] = { "o", "no", "b", "ae", "e", "ne", "be", "a",
	                                "s", "ns", "p", "np", "l", "ge", "le", "g" };

/* Build the list of every form the test covers. */
static void build_forms(void)
{
	static const unsigned sizes[] = { 1, 2, 4 };
	for (int op = 0; op < 8; op++) {
		for (unsigned s = 0; s < 3; s++) {
			unsigned z = sizes[s];
			const char *n = alu_names[op], *b = size_suffix[z];
			add_form(gen_alu, op, z, ALU_RM_R, "%s r/m%s,r%s", n, b, b);
			add_form(gen_alu, op, z, ALU_R_RM, "%s r%s,r/m%s", n, b, b);
			add_form(gen_alu, op, z, ALU_ACC_IMM, "%s %s,imm%s", n, z == 1 ? "al" : z == 2 ? "ax" : "eax", b);
			add_form(gen_alu, op, z, ALU_RM_IMM, "%s r/m%s,imm%s", n, b, b);
			if (z > 1)
				add_form(gen_alu, op, z, ALU_RM_IMM8, "%s r/m%s,imm8 (83)", n, b);
		}
	}
	for (unsigned s = 0; s < 3; s++) {
		unsigned z = sizes[s];
		const char *b = size_suffix[z];
		add_form(gen_incdec, 0, z, INCDEC_RM, "inc r/m%s", b);
		add_form(gen_incdec, 1, z, INCDEC_RM, "dec r/m%s", b);
		if (z > 1) {
			add_form(gen_incdec, 0, z, INCDEC_SHORT, "inc r%s (40+r)", b);
			add_form(gen_incdec, 1, z, INCDEC_SHORT, "dec r%s (48+r)", b);
		}
		add_form(gen_negnot, 2, z, 0, "not r/m%s", b);
		add_form(gen_negnot, 3, z, 0, "neg r/m%s", b);
		add_form(gen_test, 0, z, TEST_RM_R, "test r/m%s,r%s", b, b);
		add_form(gen_test, 0, z, TEST_ACC_IMM, "test acc,imm%s", b);
		add_form(gen_test, 0, z, TEST_RM_IMM, "test r/m%s,imm%s", b, b);
		add_form(gen_mul1, 4, z, 0, "mul r/m%s", b);
		add_form(gen_mul1, 5, z, 0, "imul r/m%s", b);
		add_form(gen_div, 6, z, 0, "div r/m%s", b);
		add_form(gen_div, 7, z, 0, "idiv r/m%s", b);
		if (z > 1) {
			add_form(gen_imul, 0, z, IMUL_2OP, "imul r%s,r/m%s", b, b);
			add_form(gen_imul, 0, z, IMUL_3OP_IMM8, "imul r%s,r/m%s,imm8", b, b);
			add_form(gen_imul, 0, z, IMUL_3OP_IMM, "imul r%s,r/m%s,imm%s", b, b, b);
		}
		for (int op = 0; op < 8; op++) {
			if (op == 6)
				continue;
			add_form(gen_shift, op, z, SHIFT_BY1, "%s r/m%s,1", shift_names[op], b);
			add_form(gen_shift, op, z, SHIFT_BYCL, "%s r/m%s,cl", shift_names[op], b);
			add_form(gen_shift, op, z, SHIFT_BYIMM, "%s r/m%s,imm8", shift_names[op], b);
		}
		add_form(gen_xchg, 0, z, XCHG_RM_R, "xchg r/m%s,r%s", b, b);
		add_form(gen_xadd, 0, z, 0, "xadd r/m%s,r%s", b, b);
		add_form(gen_cmpxchg, 0, z, 0, "cmpxchg r/m%s,r%s", b, b);
		add_form(gen_mov, 0, z, MOV_RM_R, "mov r/m%s,r%s", b, b);
		add_form(gen_mov, 0, z, MOV_R_RM, "mov r%s,r/m%s", b, b);
		add_form(gen_mov, 0, z, MOV_RM_IMM, "mov r/m%s,imm%s", b, b);
		add_form(gen_mov, 0, z, MOV_R_IMM, "mov r%s,imm%s", b, b);
		add_form(gen_mov, 0, z, MOV_MOFFS_LOAD, "mov acc,moffs%s", b);
		add_form(gen_mov, 0, z, MOV_MOFFS_STORE, "mov moffs%s,acc", b);
		for (int op = 0; op < 5; op++) {
			add_form(gen_string, op, z, STR_NONE, "%s%s DF=0", str_names[op], b);
			add_form(gen_string, op + 5, z, STR_NONE, "%s%s DF=1", str_names[op], b);
			if (op == 1 || op == 4) {
				add_form(gen_string, op, z, STR_REPE, "repe %s%s DF=0", str_names[op], b);
				add_form(gen_string, op + 5, z, STR_REPE, "repe %s%s DF=1", str_names[op], b);
				add_form(gen_string, op, z, STR_REPNE, "repne %s%s DF=0", str_names[op], b);
				add_form(gen_string, op + 5, z, STR_REPNE, "repne %s%s DF=1", str_names[op], b);
			} else {
				add_form(gen_string, op, z, STR_REP, "rep %s%s DF=0", str_names[op], b);
				add_form(gen_string, op + 5, z, STR_REP, "rep %s%s DF=1", str_names[op], b);
			}
		}
	}
	for (unsigned z = 2; z <= 4; z += 2) {
		const char *b = size_suffix[z];
		add_form(gen_shxd, 0, z, SHXD_IMM, "shld r/m%s,r%s,imm8", b, b);
		add_form(gen_shxd, 0, z, SHXD_CL, "shld r/m%s,r%s,cl", b, b);
		add_form(gen_shxd, 1, z, SHXD_IMM, "shrd r/m%s,r%s,imm8", b, b);
		add_form(gen_shxd, 1, z, SHXD_CL, "shrd r/m%s,r%s,cl", b, b);
		for (int op = 4; op < 8; op++) {
			add_form(gen_bt, op, z, BT_REG_REG, "%s r%s,r%s", bt_names[op - 4], b, b);
			add_form(gen_bt, op, z, BT_MEM_REG, "%s m%s,r%s (bit offset beyond the operand)", bt_names[op - 4], b, b);
			add_form(gen_bt, op, z, BT_REG_IMM, "%s r%s,imm8", bt_names[op - 4], b);
			add_form(gen_bt, op, z, BT_MEM_IMM, "%s m%s,imm8", bt_names[op - 4], b);
		}
		add_form(gen_bsf, 0, z, 0, "bsf r%s,r/m%s", b, b);
		add_form(gen_bsf, 1, z, 0, "bsr r%s,r/m%s", b, b);
		add_form(gen_xchg, 0, z, XCHG_ACC, "xchg %s,r%s (90+r)", z == 2 ? "ax" : "eax", b);
		for (int cc = 0; cc < 16; cc++)
			add_form(gen_cmov, cc, z, 0, "cmov%s r%s,r/m%s", cc_names[cc], b, b);
		add_form(gen_movx, 0xb6, z, 0, "movzx r%s,r/m8", b);
		add_form(gen_movx, 0xbe, z, 0, "movsx r%s,r/m8", b);
		add_form(gen_movx, 0xb7, z, 0, "movzx r%s,r/m16", b);
		add_form(gen_movx, 0xbf, z, 0, "movsx r%s,r/m16", b);
		add_form(gen_lea, 0, z, 32, "lea r%s,m (32-bit addressing)", b);
		add_form(gen_lea, 0, z, 16, "lea r%s,m (16-bit addressing, 0x67)", b);
		add_form(gen_stack, 0, z, STK_PUSH_R, "push r%s", b);
		add_form(gen_stack, 0, z, STK_POP_R, "pop r%s", b);
		add_form(gen_stack, 0, z, STK_PUSH_IMM8, "push imm8 (o%s)", b);
		add_form(gen_stack, 0, z, STK_PUSH_IMM, "push imm%s", b);
		add_form(gen_stack, 0, z, STK_PUSH_M, "push m%s", b);
		add_form(gen_stack, 0, z, STK_POP_M, "pop m%s", b);
		add_form(gen_stack, 0, z, STK_PUSHA, "pusha (o%s)", b);
		add_form(gen_stack, 0, z, STK_POPA, "popa (o%s)", b);
		add_form(gen_stack, 0, z, STK_PUSHF, "pushf (o%s)", b);
		add_form(gen_stack, 0, z, STK_POPF, "popf (o%s)", b);
		add_form(gen_stack, 0, z, STK_LEAVE, "leave (o%s)", b);
		add_form(gen_stack, 0, z, STK_PUSH_ESP, "push esp (o%s)", b);
		add_form(gen_stack, 0, z, STK_POP_ESP, "pop esp (o%s)", b);
	}
	for (int level = 0; level < 4; level++)
		add_form(gen_stack, level, 4, STK_ENTER, "enter imm16,%d", level);
	add_form(gen_bswap, 0, 4, 0, "bswap r32");
	add_form(gen_cmpxchg8b, 0, 8, 0, "cmpxchg8b m64");
	for (int cc = 0; cc < 16; cc++) {
		add_form(gen_setcc, cc, 1, 0, "set%s r/m8", cc_names[cc]);
		add_form(gen_branch, cc, 4, BR_JCC8, "j%s rel8", cc_names[cc]);
		add_form(gen_branch, cc, 4, BR_JCC32, "j%s rel32", cc_names[cc]);
	}
	add_form(gen_branch, 0, 4, BR_JMP8, "jmp rel8");
	add_form(gen_branch, 0, 4, BR_JMP32, "jmp rel32");
	add_form(gen_branch, 0, 4, BR_LOOP, "loop");
	add_form(gen_branch, 0, 4, BR_LOOPE, "loope");
	add_form(gen_branch, 0, 4, BR_LOOPNE, "loopne");
	add_form(gen_branch, 0, 4, BR_JECXZ, "jecxz");
	add_form(gen_branch, 0, 4, BR_JCXZ, "jcxz (0x67)");
	add_form(gen_branch, 0, 4, BR_CALL_POP, "call rel32; pop");
	add_form(gen_branch, 0, 4, BR_CALL_RET, "call rel32; ret");
	add_form(gen_branch, 0, 4, BR_RET_IMM, "ret imm16");
	add_form(gen_branch, 0, 4, BR_JMP_REG, "jmp r32");
	add_form(gen_branch, 0, 4, BR_JMP_MEM, "jmp m32");
	add_form(gen_branch, 0, 4, BR_CALL_REG, "call r32");

	FIXED(gen_fixed, 0, "cbw", 0, 0x66, 0x98);
	FIXED(gen_fixed, 0, "cwde", 0, 0x98);
	FIXED(gen_fixed, 0, "cwd", 0, 0x66, 0x99);
	FIXED(gen_fixed, 0, "cdq", 0, 0x99);
	FIXED(gen_fixed, 0, "lahf", 0, 0x9f);
	FIXED(gen_fixed, 0, "sahf", 0, 0x9e);
	FIXED(gen_fixed, 0, "cmc", 0, 0xf5);
	FIXED(gen_fixed, 0, "clc", 0, 0xf8);
	FIXED(gen_fixed, 0, "stc", 0, 0xf9);
	FIXED(gen_fixed, 0, "cld", 0, 0xfc);
	FIXED(gen_fixed, 0, "std", 0, 0xfd);
	FIXED(gen_fixed, 0, "daa", F_OF, 0x27);
	FIXED(gen_fixed, 0, "das", F_OF, 0x2f);
	FIXED(gen_fixed, 0, "aaa", F_OF | F_SF | F_ZF | F_PF, 0x37);
	FIXED(gen_fixed, 0, "aas", F_OF | F_SF | F_ZF | F_PF, 0x3f);
	FIXED(gen_fixed, 0, "nop", 0, 0x90);
	add_form(gen_aam, 0xd4, 1, 0, "aam imm8");
	add_form(gen_aam, 0xd5, 1, 0, "aad imm8");
	add_form(gen_xlat, 0, 1, 0, "xlat");

	for (int op = 0; op < 8; op++) {
		if (op == 2 || op == 3)
			continue;
		add_form(gen_x87, op, 4, X87_ARITH, "x87 fld m32; %s m32; fstp m64", x87_names[op]);
		add_form(gen_x87, op, 8, X87_ARITH, "x87 fld m64; %s m64; fstp m64", x87_names[op]);
	}
	add_form(gen_x87, 2, 8, X87_FCOM, "x87 fld m64; fcom m64; fstp m64");
	add_form(gen_x87, 3, 8, X87_FCOM, "x87 fld m64; fcomp m64");
	add_form(gen_x87, 6, 8, X87_ARITH_CW, "x87 fldcw (random RC/PC); fld m64; fdiv m64");
	add_form(gen_x87, 0, 8, X87_SQRT, "x87 fld m64; fsqrt; fstp m64");
	add_form(gen_x87, 0, 8, X87_FISTP, "x87 fld m64; fistp m32");
	add_form(gen_x87, 0, 4, X87_FILD, "x87 fild m32; fstp m64");

	/* Locked read-modify-write forms (what SMP guest kernels use everywhere). */
	for (int op = 0; op < 7; op++) {
		add_form(gen_alu, op, 4, ALU_RM_R, "lock %s m32,r32", alu_names[op])->lock = true;
		add_form(gen_alu, op, 1, ALU_RM_IMM, "lock %s m8,imm8", alu_names[op])->lock = true;
		add_form(gen_alu, op, 4, ALU_RM_IMM8, "lock %s m32,imm8 (83)", alu_names[op])->lock = true;
	}
	add_form(gen_incdec, 0, 4, INCDEC_RM, "lock inc m32")->lock = true;
	add_form(gen_incdec, 1, 4, INCDEC_RM, "lock dec m32")->lock = true;
	add_form(gen_negnot, 2, 4, 0, "lock not m32")->lock = true;
	add_form(gen_negnot, 3, 2, 0, "lock neg m16")->lock = true;
	add_form(gen_xchg, 0, 4, XCHG_RM_R, "lock xchg m32,r32")->lock = true;
	add_form(gen_xadd, 0, 4, 0, "lock xadd m32,r32")->lock = true;
	add_form(gen_cmpxchg, 0, 4, 0, "lock cmpxchg m32,r32")->lock = true;
	add_form(gen_cmpxchg, 0, 1, 0, "lock cmpxchg m8,r8")->lock = true;
	add_form(gen_cmpxchg8b, 0, 8, 0, "lock cmpxchg8b m64")->lock = true;
	for (int op = 5; op < 8; op++) {
		add_form(gen_bt, op, 4, BT_MEM_REG, "lock %s m32,r32", bt_names[op - 4])->lock = true;
		add_form(gen_bt, op, 4, BT_MEM_IMM, "lock %s m32,imm8", bt_names[op - 4])->lock = true;
	}
	FIXED(gen_fault, FLT_FIXED, "fault: lock add reg,reg (#UD)", 0, 0xf0, 0x01, 0xc8);
	FIXED(gen_fault, FLT_FIXED, "fault: lock mov m32,r32 (#UD)", 0, 0xf0, 0x89, 0x05, 0x00, 0x01, 0x00, 0x20);

	FIXED(gen_fault, FLT_FIXED, "fault: hlt at CPL 3 (#GP)", 0, 0xf4);
	FIXED(gen_fault, FLT_FIXED, "fault: cli at CPL 3 (#GP)", 0, 0xfa);
	FIXED(gen_fault, FLT_FIXED, "fault: sti at CPL 3 (#GP)", 0, 0xfb);
	FIXED(gen_fault, FLT_FIXED, "fault: in al,dx at CPL 3 (#GP)", 0, 0xec);
	FIXED(gen_fault, FLT_FIXED, "fault: out dx,al at CPL 3 (#GP)", 0, 0xee);
	FIXED(gen_fault, FLT_FIXED, "fault: mov eax,cr0 at CPL 3 (#GP)", 0, 0x0f, 0x20, 0xc0);
	FIXED(gen_fault, FLT_FIXED, "fault: ud2 (#UD)", 0, 0x0f, 0x0b);
	FIXED(gen_fault, FLT_FIXED, "fault: int3 mid-snippet (#BP trap)", 0, 0x40, 0xcc, 0x40);
	add_form(gen_fault, 0, 4, FLT_INTO, "fault: into with OF=1 (#OF trap)");
	add_form(gen_fault, 0, 4, FLT_READ_UNMAPPED, "fault: read unmapped page (#PF)");
	add_form(gen_fault, 0, 4, FLT_WRITE_UNMAPPED, "fault: write unmapped page (#PF)");
	add_form(gen_fault, 0, 4, FLT_PUSH_UNMAPPED, "fault: push to unmapped stack (#PF)");
}

/* Build case `index` of form `f` from the seed. */
static void generate_case(struct diff_case *c, const struct diff_form *f, uint64_t seed, unsigned index)
{
	struct rng r;
	rng_for_case(&r, seed, f->name, index);
	case_begin(c, &r);
	if (f->lock) {
		emit8(c, 0xf0);
		c->memory_only = true;
	}
	f->gen(c, &r, f);
}

#endif
