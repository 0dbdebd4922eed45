/*
 * The x87 floating-point unit.
 *
 * The eight data registers are host long doubles, which on an x86 host are
 * exactly the x87's 80-bit extended format.  So the arithmetic is done by
 * the host's own FPU: we set the host rounding mode to the guest's rounding
 * control, clear the host exception flags, compute, and read the flags back
 * through <fenv.h>.  The results, NaN propagation and flags are then what a
 * real x87 produces, without a soft-float library.
 *
 * What this file adds on top is the architecture around the arithmetic: the
 * register stack with its tags, stack overflow and underflow, the masked
 * responses (the "indefinite" values), pending unmasked exceptions that
 * become #MF at the next waiting instruction, the condition codes, and the
 * memory images of fnstenv/fnsave.
 *
 * Exception precedence follows what Intel silicon does (checked against a
 * real x87): no DE next to a NaN operand or with IE/ZE, and fprem's
 * partial reduction steps by multiples of 32 exponent bits.
 *
 * Known simplifications, each loud or harmless rather than silently wrong:
 *   - precision control (FCW bits 8-9) is kept but ignored: results are
 *     always rounded to the full 64-bit significand, as with PC = 11b,
 *     the setting Linux and glibc use;
 *   - an unmasked overflow or underflow whose result goes to a register
 *     would need the exponent-bias-adjusted result: that stops the CPU with
 *     CPU_STOP_UNIMPLEMENTED instead;
 *   - the transcendentals (fsin, fcos, fsincos, fptan, fpatan, f2xm1,
 *     fyl2x, fyl2xp1) come from libm: they may differ from the silicon in
 *     the last bit and in PE/UE/C1, and out-of-domain inputs the SDM calls
 *     undefined (f2xm1 beyond +-1, fyl2xp1 beyond +-(1 - sqrt(2)/2)) give
 *     libm's answer, not the silicon's;
 *   - pending exceptions with CR0.NE clear (FERR#/IRQ 13) are unimplemented;
 *   - fisttp (SSE3) and the undocumented register aliases (fcom2, fxch4,
 *     fstp1, ffreep, ...) are unimplemented.
 */
#include <fenv.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cpu_internal.h"

_Static_assert(LDBL_MANT_DIG == 64 && sizeof(long double) >= 10,
               "the x87 unit needs the host long double to be the x87 80-bit format");

/* Status word bits. */
#define FSW_IE 0x0001u /* invalid operation */
#define FSW_DE 0x0002u /* denormal operand */
#define FSW_ZE 0x0004u /* zero divide */
#define FSW_OE 0x0008u /* overflow */
#define FSW_UE 0x0010u /* underflow */
#define FSW_PE 0x0020u /* precision (inexact) */
#define FSW_SF 0x0040u /* stack fault */
#define FSW_ES 0x0080u /* error summary: an unmasked exception is pending */
#define FSW_C0 0x0100u
#define FSW_C1 0x0200u
#define FSW_C2 0x0400u
#define FSW_TOP_SHIFT 11
#define FSW_TOP 0x3800u
#define FSW_C3 0x4000u
#define FSW_B 0x8000u /* busy: mirrors ES */
#define FSW_EXCEPTIONS 0x003fu
#define FSW_CC (FSW_C0 | FSW_C1 | FSW_C2 | FSW_C3)

/* Control word: bits 0-5 mask the exceptions above, RC selects rounding. */
#define FCW_RC_SHIFT 10
#define FCW_RC_NEAREST 0u
#define FCW_RC_DOWN 1u
#define FCW_RC_UP 2u
#define FCW_RC_ZERO 3u
#define FCW_INIT 0x037fu

/* Tag values (two bits per physical register). */
#define TAG_VALID 0u
#define TAG_ZERO 1u
#define TAG_SPECIAL 2u
#define TAG_EMPTY 3u

/* Operation encodings of the reg field in the D8/DA/DC/DE groups. */
enum arith_reg { AR_ADD, AR_MUL, AR_COM, AR_COMP, AR_SUB, AR_SUBR, AR_DIV, AR_DIVR };

/* ---- the 80-bit format ---- */

/* The two halves of an extended value: sign+exponent and the 64-bit significand. */
struct ext_bits {
	uint16_t sign_exp;
	uint64_t mant;
};

/* On x86 a long double is the x87's own 80-bit format, so its bytes split directly. */
static struct ext_bits ext_split(long double v)
{
	struct ext_bits b;
	memcpy(&b.mant, &v, 8);
	memcpy(&b.sign_exp, (const char *)&v + 8, 2);
	return b;
}

/* Build an extended value from its raw halves (memory images, the indefinite). */
static long double ext_join(uint16_t sign_exp, uint64_t mant)
{
	long double v = 0;
	memcpy(&v, &mant, 8);
	memcpy((char *)&v + 8, &sign_exp, 2);
	return v;
}

/* The QNaN "real indefinite" every masked invalid operation produces. */
static long double indefinite(void)
{
	return ext_join(0xffff, 0xc000000000000000ull);
}

/* What kind of number a register holds, from its bits (tags, fxam, exceptions). */
enum ext_class {
	EXT_ZERO,
	EXT_NORMAL,
	EXT_DENORMAL, /* also pseudo-denormals */
	EXT_INF,
	EXT_QNAN,
	EXT_SNAN,
	EXT_UNSUPPORTED, /* unnormals, pseudo-NaNs, pseudo-infinities */
};

/* Classify from the bits: libm cannot tell SNaNs, unnormals or pseudo-denormals apart. */
static enum ext_class ext_classify(long double v)
{
	struct ext_bits b = ext_split(v);
	unsigned exp = b.sign_exp & 0x7fffu;
	bool integer_bit = b.mant >> 63;
	uint64_t fraction = b.mant & 0x7fffffffffffffffull;
	if (exp == 0)
		return b.mant == 0 ? EXT_ZERO : EXT_DENORMAL;
	if (!integer_bit)
		return EXT_UNSUPPORTED;
	if (exp != 0x7fff)
		return EXT_NORMAL;
	if (fraction == 0)
		return EXT_INF;
	return (fraction >> 62) ? EXT_QNAN : EXT_SNAN;
}

/* The classes arithmetic treats as "not a number" (unsupported formats included). */
static bool ext_is_nan_like(enum ext_class c)
{
	return c == EXT_QNAN || c == EXT_SNAN || c == EXT_UNSUPPORTED;
}

/* The two-bit tag the hardware derives from a (non-empty) register's contents. */
static unsigned tag_for(long double v)
{
	switch (ext_classify(v)) {
	case EXT_ZERO:
		return TAG_ZERO;
	case EXT_NORMAL:
		return TAG_VALID;
	default:
		return TAG_SPECIAL;
	}
}

/* ---- the register stack ---- */

/* ST(i) is relative to TOP: the physical register it names right now. */
static unsigned phys_of(const struct cpu_x87 *f, unsigned i)
{
	return (f->top + i) & 7u;
}

/* The tag word is indexed by physical register, not by stack position. */
static unsigned tag_of_phys(const struct cpu_x87 *f, unsigned phys)
{
	return (f->tag >> (2 * phys)) & 3u;
}

/* Replace one physical register's two tag bits. */
static void set_tag_phys(struct cpu_x87 *f, unsigned phys, unsigned tag)
{
	f->tag = (uint16_t)((f->tag & ~(3u << (2 * phys))) | (tag << (2 * phys)));
}

/* Whether reading ST(i) would be a stack underflow. */
static bool st_empty(const struct cpu_x87 *f, unsigned i)
{
	return tag_of_phys(f, phys_of(f, i)) == TAG_EMPTY;
}

/* The value in ST(i) (check st_empty() first: an empty register's value is stale). */
static long double st_get(const struct cpu_x87 *f, unsigned i)
{
	return f->st[phys_of(f, i)];
}

/* Write ST(i) and keep its tag in step with the new value. */
static void st_set(struct cpu_x87 *f, unsigned i, long double v)
{
	unsigned p = phys_of(f, i);
	f->st[p] = v;
	set_tag_phys(f, p, tag_for(v));
}

/* Push without checks (the caller has handled stack overflow). */
static void st_push(struct cpu_x87 *f, long double v)
{
	f->top = (f->top - 1) & 7u;
	st_set(f, 0, v);
}

/* Pop: ST(0) becomes empty and TOP moves up; the old value is simply left behind. */
static void st_pop(struct cpu_x87 *f)
{
	set_tag_phys(f, f->top, TAG_EMPTY);
	f->top = (f->top + 1) & 7u;
}

/* ---- exception bookkeeping ---- */

/* The exceptions among `flags` that the control word does not mask. */
static uint16_t unmasked(const struct cpu_x87 *f, uint16_t flags)
{
	return flags & ~f->control & FSW_EXCEPTIONS;
}

/* ES and B say whether any flagged exception is unmasked: #MF is then pending. */
static void update_error_summary(struct cpu_x87 *f)
{
	if (unmasked(f, f->status))
		f->status |= FSW_ES | FSW_B;
	else
		f->status &= (uint16_t)~(FSW_ES | FSW_B);
}

/* Add exception flags to the status word. */
static void record(struct cpu_x87 *f, uint16_t flags)
{
	f->status |= flags;
	update_error_summary(f);
}

/* Set the condition-code bits in `mask` (of C0-C3) to `values`; the rest stays. */
static void set_cc(struct cpu_x87 *f, uint16_t mask, uint16_t values)
{
	f->status = (uint16_t)((f->status & ~mask) | (values & mask));
}

/*
 * A stack fault: an empty register was read (underflow, C1 = 0) or a push
 * found ST(7) full (overflow, C1 = 1).  Returns true when the invalid
 * exception is masked and the instruction goes on with the indefinite.
 */
static bool stack_fault(struct cpu_x87 *f, bool overflow)
{
	set_cc(f, FSW_C1, overflow ? FSW_C1 : 0);
	record(f, FSW_IE | FSW_SF);
	return !unmasked(f, FSW_IE);
}

/*
 * Accept the exceptions of an operation whose result goes to a register.
 * Returns whether to write the result: an unmasked invalid, denormal or
 * zero-divide exception leaves the destination untouched.
 */
static bool register_result_ok(struct cpu *cpu, uint16_t flags)
{
	uint16_t u = unmasked(&cpu->fpu, flags);
	if (u & (FSW_OE | FSW_UE))
		cpu_unimplemented(cpu); /* the bias-adjusted result is not modelled */
	record(&cpu->fpu, flags);
	return !(u & (FSW_IE | FSW_DE | FSW_ZE));
}

/* Whether a store to memory goes ahead despite these exceptions. */
static bool memory_result_ok(const struct cpu_x87 *f, uint16_t flags)
{
	return !(unmasked(f, flags) & (FSW_IE | FSW_DE | FSW_ZE | FSW_OE | FSW_UE));
}

/* A waiting instruction first reports a pending unmasked exception as #MF. */
static void raise_pending(struct cpu *cpu)
{
	if (!(cpu->fpu.status & FSW_ES))
		return;
	if (!(cpu->cr0 & CR0_NE))
		cpu_unimplemented(cpu); /* legacy FERR#/IRQ 13 reporting */
	cpu_raise(cpu, CPU_MF, false, 0);
}

/* ---- host arithmetic under guest rounding ---- */

/* Every computation the host FPU does for us. */
enum host_op {
	OP_ADD, OP_SUB, OP_SUBR, OP_MUL, OP_DIV, OP_DIVR, OP_SQRT, OP_RINT,
	OP_TO_F32, OP_TO_F64, OP_SCALE, OP_F2XM1, OP_YL2X, OP_YL2XP1,
	OP_TAN, OP_ATAN2, OP_SIN, OP_COS, OP_FMOD, OP_REMAINDER,
};

/*
 * One host operation.  The operands and result go through volatile
 * variables so the compiler can neither fold the arithmetic at compile
 * time nor move it out from between the fenv calls around it.
 */
static long double host_compute(enum host_op op, long double a, long double b)
{
	volatile long double x = a, y = b;
	volatile long double r;
	switch (op) {
	case OP_ADD: r = x + y; break;
	case OP_SUB: r = x - y; break;
	case OP_SUBR: r = y - x; break;
	case OP_MUL: r = x * y; break;
	case OP_DIV: r = x / y; break;
	case OP_DIVR: r = y / x; break;
	case OP_SQRT: r = sqrtl(x); break;
	case OP_RINT: r = rintl(x); break;
	case OP_TO_F32: r = (float)x; break;
	case OP_TO_F64: r = (double)x; break;
	case OP_SCALE: r = scalbnl(x, (int)y); break;
	case OP_F2XM1: r = expm1l(x * M_LN2l); break;
	case OP_YL2X: r = y * log2l(x); break;
	case OP_YL2XP1: r = y * (log1pl(x) * M_LOG2El); break;
	case OP_TAN: r = tanl(x); break;
	case OP_ATAN2: r = atan2l(y, x); break;
	case OP_SIN: r = sinl(x); break;
	case OP_COS: r = cosl(x); break;
	case OP_FMOD: r = fmodl(x, y); break;
	case OP_REMAINDER: r = remainderl(x, y); break;
	default: abort();
	}
	return r;
}

static const int host_rounding[4] = {
	[FCW_RC_NEAREST] = FE_TONEAREST,
	[FCW_RC_DOWN] = FE_DOWNWARD,
	[FCW_RC_UP] = FE_UPWARD,
	[FCW_RC_ZERO] = FE_TOWARDZERO,
};

/* The guest's chosen rounding mode (the RC field), an index into host_rounding[]. */
static unsigned rounding_control(const struct cpu_x87 *f)
{
	return (f->control >> FCW_RC_SHIFT) & 3u;
}

/* The operations whose C1 reports whether the magnitude was rounded up. */
static bool reports_round_up(enum host_op op)
{
	return op <= OP_SCALE;
}

/*
 * Compute `op` as the guest's FPU would: in its rounding mode, adding the
 * exceptions raised to *flags and, for the basic operations, setting
 * *round_up when an inexact result was rounded away from zero (found by
 * computing again towards zero).  The host is always left in its default
 * round-to-nearest mode.
 */
static long double compute(const struct cpu_x87 *f, enum host_op op, long double a, long double b,
                           uint16_t *flags, bool *round_up)
{
	unsigned rc = rounding_control(f);
	fesetround(host_rounding[rc]);
	feclearexcept(FE_ALL_EXCEPT);
	long double r = host_compute(op, a, b);
	int raised = fetestexcept(FE_ALL_EXCEPT);
	*round_up = false;
	if ((raised & FE_INEXACT) && rc != FCW_RC_ZERO && reports_round_up(op)) {
		fesetround(FE_TOWARDZERO);
		*round_up = fabsl(r) > fabsl(host_compute(op, a, b));
	}
	fesetround(FE_TONEAREST);
	/* libm's NaNs may differ from the x87's: an invalid operation on numbers gives the indefinite. */
	if ((raised & FE_INVALID) && isnan(r) && !ext_is_nan_like(ext_classify(a)) &&
	    !ext_is_nan_like(ext_classify(b)))
		r = indefinite();
	if (raised & FE_INVALID)
		*flags |= FSW_IE;
	if (raised & FE_DIVBYZERO)
		*flags |= FSW_ZE;
	if (raised & FE_OVERFLOW)
		*flags |= FSW_OE;
	if (raised & FE_UNDERFLOW)
		*flags |= FSW_UE;
	if (raised & FE_INEXACT)
		*flags |= FSW_PE;
	return r;
}

/* ---- operands ---- */

/*
 * A source operand: its value as an extended real, the exceptions that
 * loading it raised (IE for a signalling NaN in a narrower format, DE for a
 * denormal), and whether it came from an empty register.
 */
struct operand {
	long double v;
	uint16_t flags;
	bool empty;
	bool snan; /* a signalling NaN before widening quieted it */
};

/* ST(i) as a source: notes emptiness, a signalling NaN and a denormal (DE) for the checks. */
static struct operand reg_operand(const struct cpu_x87 *f, unsigned i)
{
	struct operand o = { .v = st_get(f, i), .flags = 0, .empty = st_empty(f, i), .snan = false };
	o.snan = !o.empty && ext_classify(o.v) == EXT_SNAN;
	if (!o.empty && ext_classify(o.v) == EXT_DENORMAL)
		o.flags |= FSW_DE;
	return o;
}

/* Widen a binary32 (given as bits): exact, except that an SNaN is quieted with IE. */
static struct operand m32fp_operand(uint32_t bits)
{
	struct operand o = { 0 };
	uint32_t exp = (bits >> 23) & 0xff, frac = bits & 0x7fffff;
	if (exp == 0xff && frac && !(frac & 0x400000)) {
		o.flags |= FSW_IE;
		o.snan = true;
		bits |= 0x400000;
	}
	if (exp == 0 && frac)
		o.flags |= FSW_DE;
	float x;
	memcpy(&x, &bits, 4);
	o.v = x;
	return o;
}

/* Widen a binary64 (given as bits), with the same exception rules as m32fp_operand. */
static struct operand m64fp_operand(uint64_t bits)
{
	struct operand o = { 0 };
	uint64_t exp = (bits >> 52) & 0x7ff, frac = bits & 0xfffffffffffffull;
	if (exp == 0x7ff && frac && !(frac & 0x8000000000000ull)) {
		o.flags |= FSW_IE;
		o.snan = true;
		bits |= 0x8000000000000ull;
	}
	if (exp == 0 && frac)
		o.flags |= FSW_DE;
	double x;
	memcpy(&x, &bits, 8);
	o.v = x;
	return o;
}

/* An integer source (fild, fiadd...): exact in a 64-bit significand, so it raises nothing. */
static struct operand int_operand(int64_t value)
{
	struct operand o = { .v = (long double)value, .flags = 0, .empty = false };
	return o;
}

/* Read an 80-bit value from guest memory (fld m80, frstor), bit for bit. */
static long double read_m80(struct cpu *cpu, enum cpu_sreg seg, uint32_t off)
{
	uint64_t mant = cpu_mem_read64(cpu, seg, off);
	uint16_t sign_exp = cpu_mem_read16(cpu, seg, off + 8);
	return ext_join(sign_exp, mant);
}

/* Write an 80-bit value; the caller probes first when it has state to commit after. */
static void write_m80(struct cpu *cpu, enum cpu_sreg seg, uint32_t off, long double v)
{
	struct ext_bits b = ext_split(v);
	cpu_mem_probe_write(cpu, seg, off, 10);
	cpu_mem_write64(cpu, seg, off, b.mant);
	cpu_mem_write16(cpu, seg, off + 8, b.sign_exp);
}

/* ---- loads, stores and arithmetic ---- */

/*
 * The exceptions two operands bring to an operation.  As on real
 * processors, a denormal operand is not reported next to a NaN operand,
 * nor when the operation divides by zero (callers drop DE after ZE).
 */
static uint16_t operand_flags(struct operand a, struct operand b)
{
	uint16_t flags = a.flags | b.flags;
	if (ext_is_nan_like(ext_classify(a.v)) || ext_is_nan_like(ext_classify(b.v)))
		flags &= (uint16_t)~FSW_DE;
	return flags;
}

/* Invalid and zero-divide take precedence over the denormal-operand report. */
static uint16_t settle_denormal(uint16_t flags)
{
	return (flags & (FSW_IE | FSW_ZE)) ? flags & (uint16_t)~FSW_DE : flags;
}

/* Push a loaded value: stack overflow takes precedence over the operand's own faults. */
static void load_value(struct cpu *cpu, struct operand src)
{
	struct cpu_x87 *f = &cpu->fpu;
	if (!st_empty(f, 7)) {
		if (stack_fault(f, true))
			st_push(f, indefinite());
		return;
	}
	if (src.empty) {
		if (stack_fault(f, false))
			st_push(f, indefinite());
		return;
	}
	if (!register_result_ok(cpu, src.flags))
		return;
	set_cc(f, FSW_C1, 0);
	st_push(f, src.v);
}

/* Push one of the built-in constants, rounded to the guest's rounding control. */
static void load_constant(struct cpu *cpu, const char *decimal)
{
	struct cpu_x87 *f = &cpu->fpu;
	fesetround(host_rounding[rounding_control(f)]);
	long double v = strtold(decimal, NULL);
	fesetround(FE_TONEAREST);
	load_value(cpu, (struct operand){ .v = v });
}

/*
 * ST(dest) = a OP b for the six arithmetic encodings; `pop` for the
 * ...p forms.  Which of a and b is ST(0) is the caller's business.
 */
static void arith(struct cpu *cpu, enum arith_reg reg, unsigned dest, struct operand a,
                  struct operand b, bool pop)
{
	static const enum host_op ops[8] = {
		[AR_ADD] = OP_ADD, [AR_MUL] = OP_MUL, [AR_SUB] = OP_SUB,
		[AR_SUBR] = OP_SUBR, [AR_DIV] = OP_DIV, [AR_DIVR] = OP_DIVR,
	};
	struct cpu_x87 *f = &cpu->fpu;
	long double r;
	if (a.empty || b.empty) {
		if (!stack_fault(f, false))
			return;
		r = indefinite();
	} else {
		uint16_t flags = operand_flags(a, b);
		bool up;
		r = compute(f, ops[reg], a.v, b.v, &flags, &up);
		/* SDM Vol. 1 Table 4-7: with one SNaN and one QNaN, the QNaN is the result. */
		if (a.snan != b.snan && ext_classify((a.snan ? b : a).v) == EXT_QNAN)
			r = (a.snan ? b : a).v;
		if (!register_result_ok(cpu, settle_denormal(flags)))
			return;
		set_cc(f, FSW_C1, up ? FSW_C1 : 0);
	}
	st_set(f, dest, r);
	if (pop)
		st_pop(f);
}

/* How two operands compare, in the order a OP b. */
enum relation { REL_GT, REL_LT, REL_EQ, REL_UNORDERED };

/*
 * Compare a with b under fcom (`quiet` false: any NaN is invalid) or fucom
 * rules (only signalling NaNs are).  Returns false when an unmasked
 * exception suppresses the instruction's effects.
 */
static bool compare(struct cpu *cpu, struct operand a, struct operand b, bool quiet,
                    enum relation *rel)
{
	struct cpu_x87 *f = &cpu->fpu;
	*rel = REL_UNORDERED;
	if (a.empty || b.empty)
		return stack_fault(f, false);
	uint16_t flags = operand_flags(a, b);
	enum ext_class ca = ext_classify(a.v), cb = ext_classify(b.v);
	if (ext_is_nan_like(ca) || ext_is_nan_like(cb)) {
		if (!quiet || ca == EXT_SNAN || cb == EXT_SNAN || ca == EXT_UNSUPPORTED ||
		    cb == EXT_UNSUPPORTED)
			flags |= FSW_IE;
	} else if (a.v < b.v) {
		*rel = REL_LT;
	} else if (a.v > b.v) {
		*rel = REL_GT;
	} else {
		*rel = REL_EQ;
	}
	set_cc(f, FSW_C1, 0);
	record(f, flags);
	return !(unmasked(f, flags) & (FSW_IE | FSW_DE));
}

/* fcom/fcomp/fucom...: the relation goes to C3, C2, C0. */
static void compare_to_cc(struct cpu *cpu, struct operand a, struct operand b, bool quiet,
                          unsigned pops)
{
	static const uint16_t cc[4] = {
		[REL_GT] = 0, [REL_LT] = FSW_C0, [REL_EQ] = FSW_C3,
		[REL_UNORDERED] = FSW_C3 | FSW_C2 | FSW_C0,
	};
	enum relation rel;
	if (!compare(cpu, a, b, quiet, &rel))
		return;
	set_cc(&cpu->fpu, FSW_C3 | FSW_C2 | FSW_C0, cc[rel]);
	while (pops--)
		st_pop(&cpu->fpu);
}

/* fcomi/fucomi (P6): the relation goes to ZF, PF, CF; OF, SF, AF are cleared. */
static void compare_to_eflags(struct cpu *cpu, unsigned i, bool quiet, bool pop)
{
	static const uint32_t bits[4] = {
		[REL_GT] = 0, [REL_LT] = EFLAGS_CF, [REL_EQ] = EFLAGS_ZF,
		[REL_UNORDERED] = EFLAGS_ZF | EFLAGS_PF | EFLAGS_CF,
	};
	const uint32_t touched = EFLAGS_ZF | EFLAGS_PF | EFLAGS_CF | EFLAGS_OF | EFLAGS_SF | EFLAGS_AF;
	enum relation rel;
	if (!compare(cpu, reg_operand(&cpu->fpu, 0), reg_operand(&cpu->fpu, i), quiet, &rel))
		return;
	cpu_set_eflags(cpu, (cpu_get_eflags(cpu) & ~touched) | bits[rel]);
	if (pop)
		st_pop(&cpu->fpu);
}

/* The integer or BCD kinds of store the fist/fbstp family performs. */
enum int_format { INT16, INT32, INT64, BCD80 };

/* Store a converted int16/32/64 (BCD has its own writer); the value is already in range. */
static void write_integer(struct cpu *cpu, enum cpu_sreg seg, uint32_t off, enum int_format fmt,
                          int64_t v)
{
	if (fmt == INT16)
		cpu_mem_write16(cpu, seg, off, (uint16_t)v);
	else if (fmt == INT32)
		cpu_mem_write32(cpu, seg, off, (uint32_t)v);
	else
		cpu_mem_write64(cpu, seg, off, (uint64_t)v);
}

/* The integer indefinite: the most negative value of the format. */
static int64_t integer_indefinite(enum int_format fmt)
{
	return fmt == INT16 ? INT16_MIN : fmt == INT32 ? INT32_MIN : INT64_MIN;
}

/* Packed BCD: 18 digits, two per byte, least significant first; the sign in bit 79. */
static void write_bcd(struct cpu *cpu, enum cpu_sreg seg, uint32_t off, uint64_t magnitude,
                      bool negative)
{
	uint64_t packed = 0;
	for (int digit = 0; digit < 16; digit++) {
		packed |= (magnitude % 10) << (4 * digit);
		magnitude /= 10;
	}
	uint16_t top = (uint16_t)((magnitude % 10) | ((magnitude / 10) << 4));
	if (negative)
		top |= 0x8000;
	cpu_mem_probe_write(cpu, seg, off, 10);
	cpu_mem_write64(cpu, seg, off, packed);
	cpu_mem_write16(cpu, seg, off + 8, top);
}

/* The packed-BCD indefinite: FFFF C000 0000 0000 0000. */
static void write_bcd_indefinite(struct cpu *cpu, enum cpu_sreg seg, uint32_t off)
{
	cpu_mem_probe_write(cpu, seg, off, 10);
	cpu_mem_write64(cpu, seg, off, 0xc000000000000000ull);
	cpu_mem_write16(cpu, seg, off + 8, 0xffff);
}

/*
 * fist/fistp/fbstp: round ST(0) with the rounding control; a NaN or a value
 * out of range is invalid and stores the integer indefinite when masked.
 */
static void store_integer(struct cpu *cpu, enum cpu_sreg seg, uint32_t off, enum int_format fmt,
                          bool pop)
{
	static const long double limit[4] = {
		[INT16] = 0x1p15L, [INT32] = 0x1p31L, [INT64] = 0x1p63L,
		[BCD80] = 1000000000000000000.0L,
	};
	struct cpu_x87 *f = &cpu->fpu;
	uint16_t flags = 0;
	bool up = false, valid = false, negative = false;
	int64_t value = 0;
	if (st_empty(f, 0)) {
		set_cc(f, FSW_C1, 0);
		flags = FSW_IE | FSW_SF;
	} else {
		long double r = compute(f, OP_RINT, st_get(f, 0), 0, &flags, &up);
		long double lo = fmt == BCD80 ? -limit[fmt] : -limit[fmt] - 1;
		if (!isnan(r) && r > lo && r < limit[fmt]) {
			value = (int64_t)r;
			negative = signbit(r);
			valid = true;
		} else {
			flags = (flags | FSW_IE) & (uint16_t)~FSW_PE;
		}
	}
	if (!memory_result_ok(f, flags)) {
		record(f, flags);
		return;
	}
	if (valid && fmt == BCD80)
		write_bcd(cpu, seg, off, (uint64_t)(negative ? -value : value), negative);
	else if (valid)
		write_integer(cpu, seg, off, fmt, value);
	else if (fmt == BCD80)
		write_bcd_indefinite(cpu, seg, off);
	else
		write_integer(cpu, seg, off, fmt, integer_indefinite(fmt));
	if (!(flags & FSW_SF)) /* an invalid conversion reports no rounding (as the hardware does) */
		set_cc(f, FSW_C1, up && valid ? FSW_C1 : 0);
	record(f, flags);
	if (pop)
		st_pop(f);
}

/* The memory floating-point formats fst/fstp can write. */
enum fp_format { FP32, FP64, FP80 };

/* fst/fstp to memory: round to the format (fstp m80 is exact and never faults but for underflow). */
static void store_float(struct cpu *cpu, enum cpu_sreg seg, uint32_t off, enum fp_format fmt,
                        bool pop)
{
	struct cpu_x87 *f = &cpu->fpu;
	uint16_t flags = 0;
	bool up = false;
	long double v;
	if (st_empty(f, 0)) {
		set_cc(f, FSW_C1, 0);
		flags = FSW_IE | FSW_SF;
		v = indefinite();
	} else if (fmt == FP80) {
		v = st_get(f, 0);
	} else {
		v = compute(f, fmt == FP32 ? OP_TO_F32 : OP_TO_F64, st_get(f, 0), 0, &flags, &up);
	}
	if (!memory_result_ok(f, flags)) {
		record(f, flags);
		return;
	}
	if (fmt == FP32) {
		float x = (float)v;
		uint32_t bits;
		memcpy(&bits, &x, 4);
		cpu_mem_write32(cpu, seg, off, bits);
	} else if (fmt == FP64) {
		double x = (double)v;
		uint64_t bits;
		memcpy(&bits, &x, 8);
		cpu_mem_write64(cpu, seg, off, bits);
	} else {
		write_m80(cpu, seg, off, v);
	}
	if (!(flags & FSW_SF))
		set_cc(f, FSW_C1, up ? FSW_C1 : 0);
	record(f, flags);
	if (pop)
		st_pop(f);
}

/* fst/fstp st(i): a register copy raises nothing but underflow. */
static void store_register(struct cpu *cpu, unsigned i, bool pop)
{
	struct cpu_x87 *f = &cpu->fpu;
	long double v = st_get(f, 0);
	if (st_empty(f, 0)) {
		if (!stack_fault(f, false))
			return;
		v = indefinite();
	} else {
		set_cc(f, FSW_C1, 0);
	}
	st_set(f, i, v);
	if (pop)
		st_pop(f);
}

/* fbld: 18 packed BCD digits and a sign byte, converted exactly. */
static struct operand bcd_operand(struct cpu *cpu, enum cpu_sreg seg, uint32_t off)
{
	uint64_t low = cpu_mem_read64(cpu, seg, off);
	uint16_t high = cpu_mem_read16(cpu, seg, off + 8);
	int64_t value = 0;
	value = (high >> 4 & 0xf) * 10 + (high & 0xf);
	for (int digit = 15; digit >= 0; digit--)
		value = value * 10 + (int64_t)((low >> (4 * digit)) & 0xf);
	struct operand o = int_operand(value);
	if (high & 0x8000)
		o.v = -o.v;
	return o;
}

/* ---- environment and state images ---- */

/* The tag word as fnstenv/fnsave store it: recomputed from the contents. */
static uint16_t full_tag_word(const struct cpu_x87 *f)
{
	uint16_t tags = 0;
	for (unsigned p = 0; p < 8; p++) {
		unsigned t = tag_of_phys(f, p) == TAG_EMPTY ? TAG_EMPTY : tag_for(f->st[p]);
		tags |= (uint16_t)(t << (2 * p));
	}
	return tags;
}

/*
 * Store the environment in the protected-mode layout: 28 bytes of 32-bit
 * fields, or 14 bytes of 16-bit fields under a 0x66 prefix.  The reserved
 * upper halves read as ones, as on real processors.
 */
static void store_env(struct cpu *cpu, enum cpu_sreg seg, uint32_t off, bool opsize16)
{
	const struct cpu_x87 *f = &cpu->fpu;
	uint16_t cw = f->control, sw = x87_status_word(f), tw = full_tag_word(f);
	if (opsize16) {
		cpu_mem_write16(cpu, seg, off + 0, cw);
		cpu_mem_write16(cpu, seg, off + 2, sw);
		cpu_mem_write16(cpu, seg, off + 4, tw);
		cpu_mem_write16(cpu, seg, off + 6, (uint16_t)f->last_ip);
		cpu_mem_write16(cpu, seg, off + 8, f->last_cs);
		cpu_mem_write16(cpu, seg, off + 10, (uint16_t)f->last_dp);
		cpu_mem_write16(cpu, seg, off + 12, f->last_ds);
		return;
	}
	cpu_mem_write32(cpu, seg, off + 0, 0xffff0000u | cw);
	cpu_mem_write32(cpu, seg, off + 4, 0xffff0000u | sw);
	cpu_mem_write32(cpu, seg, off + 8, 0xffff0000u | tw);
	cpu_mem_write32(cpu, seg, off + 12, f->last_ip);
	cpu_mem_write32(cpu, seg, off + 16, f->last_cs | (uint32_t)(f->last_opcode & 0x7ff) << 16);
	cpu_mem_write32(cpu, seg, off + 20, f->last_dp);
	cpu_mem_write32(cpu, seg, off + 24, 0xffff0000u | f->last_ds);
}

/* The size of an fnstenv/fldenv image: 14 bytes in the 16-bit layout, 28 in the 32-bit one. */
static unsigned env_size(bool opsize16)
{
	return opsize16 ? 14 : 28;
}

/*
 * Read an environment image into `env` (not yet the live state, so that a
 * fault while reading changes nothing).  Tags are reduced to empty or not:
 * the hardware recomputes the others from the register contents.
 */
static void read_env(struct cpu *cpu, enum cpu_sreg seg, uint32_t off, bool opsize16,
                     struct cpu_x87 *env)
{
	uint16_t sw;
	if (opsize16) {
		env->control = cpu_mem_read16(cpu, seg, off + 0);
		sw = cpu_mem_read16(cpu, seg, off + 2);
		env->tag = cpu_mem_read16(cpu, seg, off + 4);
		env->last_ip = cpu_mem_read16(cpu, seg, off + 6);
		env->last_cs = cpu_mem_read16(cpu, seg, off + 8);
		env->last_dp = cpu_mem_read16(cpu, seg, off + 10);
		env->last_ds = cpu_mem_read16(cpu, seg, off + 12);
		env->last_opcode = 0;
	} else {
		env->control = cpu_mem_read16(cpu, seg, off + 0);
		sw = cpu_mem_read16(cpu, seg, off + 4);
		env->tag = cpu_mem_read16(cpu, seg, off + 8);
		env->last_ip = cpu_mem_read32(cpu, seg, off + 12);
		uint32_t cs_op = cpu_mem_read32(cpu, seg, off + 16);
		env->last_cs = (uint16_t)cs_op;
		env->last_opcode = (cs_op >> 16) & 0x7ff;
		env->last_dp = cpu_mem_read32(cpu, seg, off + 20);
		env->last_ds = cpu_mem_read16(cpu, seg, off + 24);
	}
	env->top = (sw & FSW_TOP) >> FSW_TOP_SHIFT;
	env->status = sw & (uint16_t)~FSW_TOP;
}

/* Make a loaded image consistent: retag non-empty registers from their contents, re-evaluate ES. */
static void settle_loaded_state(struct cpu_x87 *f)
{
	for (unsigned p = 0; p < 8; p++)
		if (tag_of_phys(f, p) != TAG_EMPTY)
			set_tag_phys(f, p, tag_for(f->st[p]));
	update_error_summary(f);
}

/* fnstenv: store, then mask every exception (the status word keeps its flags). */
static void fnstenv(struct cpu *cpu, enum cpu_sreg seg, uint32_t off, bool opsize16)
{
	cpu_mem_probe_write(cpu, seg, off, env_size(opsize16));
	store_env(cpu, seg, off, opsize16);
	cpu->fpu.control |= FSW_EXCEPTIONS;
}

/*
 * fldenv: load control, status, tags and pointers from memory.  The image is
 * read into a copy first, so a page fault halfway leaves the FPU as it was.
 */
static void fldenv(struct cpu *cpu, enum cpu_sreg seg, uint32_t off, bool opsize16)
{
	struct cpu_x87 loaded = cpu->fpu;
	read_env(cpu, seg, off, opsize16, &loaded);
	cpu->fpu = loaded;
	settle_loaded_state(&cpu->fpu);
}

/* fnsave: the environment, then ST(0)..ST(7) as 80-bit values, then fninit. */
static void fnsave(struct cpu *cpu, enum cpu_sreg seg, uint32_t off, bool opsize16)
{
	uint32_t env = env_size(opsize16);
	cpu_mem_probe_write(cpu, seg, off, env + 80);
	store_env(cpu, seg, off, opsize16);
	for (unsigned i = 0; i < 8; i++)
		write_m80(cpu, seg, off + env + 10 * i, st_get(&cpu->fpu, i));
	x87_reset(&cpu->fpu);
}

/* frstor: the inverse of fnsave; the registers land relative to the loaded TOP. */
static void frstor(struct cpu *cpu, enum cpu_sreg seg, uint32_t off, bool opsize16)
{
	struct cpu_x87 loaded = cpu->fpu;
	uint32_t env = env_size(opsize16);
	read_env(cpu, seg, off, opsize16, &loaded);
	for (unsigned i = 0; i < 8; i++)
		loaded.st[(loaded.top + i) & 7u] = read_m80(cpu, seg, off + env + 10 * i);
	cpu->fpu = loaded;
	settle_loaded_state(&cpu->fpu);
}

/* ---- the D9 register group: constants, unary and transcendental operations ---- */

/* The unary operations that replace ST(0): fchs, fabs, fsqrt, frndint. */
static void unary(struct cpu *cpu, unsigned modrm)
{
	struct cpu_x87 *f = &cpu->fpu;
	struct operand a = reg_operand(f, 0);
	if (a.empty) {
		if (stack_fault(f, false))
			st_set(f, 0, indefinite());
		return;
	}
	long double r;
	uint16_t flags = 0;
	bool up = false;
	switch (modrm) {
	case 0xe0:
		r = -a.v;
		break;
	case 0xe1:
		r = fabsl(a.v);
		break;
	case 0xfa:
		flags = a.flags;
		r = compute(f, OP_SQRT, a.v, 0, &flags, &up);
		break;
	default: /* 0xfc frndint */
		flags = a.flags;
		r = compute(f, OP_RINT, a.v, 0, &flags, &up);
		break;
	}
	if (!register_result_ok(cpu, flags))
		return;
	set_cc(f, FSW_C1, up ? FSW_C1 : 0);
	st_set(f, 0, r);
}

/* ftst: compare ST(0) with +0.0. */
static void ftst(struct cpu *cpu)
{
	struct operand zero = { .v = 0 };
	compare_to_cc(cpu, reg_operand(&cpu->fpu, 0), zero, false, 0);
}

/* fxam: classify ST(0) into C3 C2 C0, with its sign in C1. */
static void fxam(struct cpu_x87 *f)
{
	static const uint16_t codes[] = {
		[EXT_ZERO] = FSW_C3, [EXT_NORMAL] = FSW_C2, [EXT_DENORMAL] = FSW_C3 | FSW_C2,
		[EXT_INF] = FSW_C2 | FSW_C0, [EXT_QNAN] = FSW_C0, [EXT_SNAN] = FSW_C0,
		[EXT_UNSUPPORTED] = 0,
	};
	long double v = st_get(f, 0);
	uint16_t cc = st_empty(f, 0) ? FSW_C3 | FSW_C0 : codes[ext_classify(v)];
	if (ext_split(v).sign_exp & 0x8000)
		cc |= FSW_C1;
	set_cc(f, FSW_CC, cc);
}

/* fxch st(i): empty registers become the indefinite when the fault is masked. */
static void fxch(struct cpu *cpu, unsigned i)
{
	struct cpu_x87 *f = &cpu->fpu;
	struct operand a = reg_operand(f, 0), b = reg_operand(f, i);
	if (a.empty || b.empty) {
		if (!stack_fault(f, false))
			return;
		if (a.empty)
			a.v = indefinite();
		if (b.empty)
			b.v = indefinite();
	} else {
		set_cc(f, FSW_C1, 0);
	}
	st_set(f, 0, b.v);
	st_set(f, i, a.v);
}

/*
 * A NaN or unsupported operand of a transcendental: the result is what the
 * host's x87 makes of a + b (the NaN propagation rules, IE for SNaNs).
 */
static bool propagate_nan(const struct cpu_x87 *f, long double a, long double b, long double *r,
                          uint16_t *flags)
{
	if (!ext_is_nan_like(ext_classify(a)) && !ext_is_nan_like(ext_classify(b)))
		return false;
	bool up = false;
	*r = compute(f, OP_ADD, a, b, flags, &up);
	return true;
}

/* The largest magnitude fsin/fcos/fptan/fsincos accept; beyond it they set C2. */
#define TRIG_LIMIT 0x1p63L

/*
 * The operations on ST(0) (and ST(1)) that go through libm.  `pushes`
 * operations (fptan, fsincos, fxtract) need ST(7) free; `pops` ones
 * (fyl2x, fyl2xp1, fpatan) leave their result in ST(1) and pop.
 */
static void transcendental(struct cpu *cpu, unsigned modrm)
{
	struct cpu_x87 *f = &cpu->fpu;
	bool binary = modrm == 0xf1 || modrm == 0xf3 || modrm == 0xf9 || modrm == 0xfd;
	bool pushes = modrm == 0xf2 || modrm == 0xfb || modrm == 0xf4;
	struct operand a = reg_operand(f, 0), b = reg_operand(f, 1);
	if (a.empty || (binary && b.empty)) {
		if (!stack_fault(f, false))
			return;
		st_set(f, 0, indefinite());
		if (binary && modrm != 0xfd) {
			st_set(f, 1, indefinite());
			st_pop(f);
		} else if (pushes) {
			st_push(f, indefinite());
		}
		return;
	}
	if (pushes && !st_empty(f, 7)) {
		if (stack_fault(f, true)) {
			st_set(f, 0, indefinite());
			st_push(f, indefinite());
		}
		return;
	}
	if ((modrm == 0xf2 || modrm == 0xfe || modrm == 0xff || modrm == 0xfb) &&
	    fabsl(a.v) >= TRIG_LIMIT && !isinf(a.v) && !isnan(a.v)) {
		set_cc(f, FSW_C2, FSW_C2); /* out of range: ST(0) unchanged */
		return;
	}
	uint16_t flags = binary ? operand_flags(a, b) : operand_flags(a, a);
	long double r0, r1 = 0; /* r0: the result, r1: what fptan/fsincos/fxtract push */
	bool up = false;
	if (propagate_nan(f, a.v, binary ? b.v : a.v, &r0, &flags)) {
		r1 = r0;
	} else {
		switch (modrm) {
		case 0xf0: r0 = compute(f, OP_F2XM1, a.v, 0, &flags, &up); break;
		case 0xf1:
			if (a.v == 0 && b.v == 0) { /* 0 * log2(0) */
				flags = FSW_IE;
				r0 = indefinite();
			} else if (a.v == 0) { /* -inf times ST(1): ZE unless ST(1) is infinite */
				flags = isinf(b.v) ? 0 : FSW_ZE;
				r0 = copysignl(INFINITY, -b.v);
			} else if (isinf(b.v) && a.v > 0 && a.v != 1 && !isinf(a.v)) {
				r0 = a.v > 1 ? b.v : -b.v; /* an exact infinity */
			} else {
				r0 = compute(f, OP_YL2X, a.v, b.v, &flags, &up);
			}
			break;
		case 0xf9: r0 = compute(f, OP_YL2XP1, a.v, b.v, &flags, &up); break;
		case 0xf3: r0 = compute(f, OP_ATAN2, a.v, b.v, &flags, &up); break;
		case 0xfe: r0 = compute(f, OP_SIN, a.v, 0, &flags, &up); break;
		case 0xff: r0 = compute(f, OP_COS, a.v, 0, &flags, &up); break;
		case 0xf2:
			r0 = compute(f, OP_TAN, a.v, 0, &flags, &up);
			r1 = (flags & FSW_IE) ? indefinite() : 1.0L;
			break;
		case 0xfb:
			r0 = compute(f, OP_SIN, a.v, 0, &flags, &up);
			r1 = compute(f, OP_COS, a.v, 0, &flags, &up);
			break;
		case 0xfd: { /* fscale: ST(0) * 2^trunc(ST(1)) */
			long double n = truncl(b.v);
			if (isinf(n) && (a.v == 0 || isinf(a.v)) && (n > 0) != (a.v != 0)) {
				flags |= FSW_IE; /* 0 * 2^+inf, inf * 2^-inf */
				r0 = indefinite();
			} else if (isinf(n)) { /* exact: an infinity or a zero of ST(0)'s sign */
				r0 = n > 0 ? copysignl(INFINITY, a.v) : copysignl(0.0L, a.v);
			} else {
				long double clamped = fmaxl(fminl(n, 70000.0L), -70000.0L);
				r0 = compute(f, OP_SCALE, a.v, clamped, &flags, &up);
			}
			break;
		}
		default: /* 0xf4 fxtract: ST(0) = exponent, then push the significand */
			if (a.v == 0) {
				flags |= FSW_ZE;
				r0 = -INFINITY;
				r1 = a.v;
			} else if (isinf(a.v)) {
				r0 = INFINITY;
				r1 = a.v;
			} else {
				int e = ilogbl(a.v);
				r0 = e;
				r1 = scalbnl(a.v, -e);
			}
			break;
		}
	}
	if (!register_result_ok(cpu, settle_denormal(flags)))
		return;
	up = up || ((flags & FSW_OE) && isinf(r0)); /* an overflow to infinity rounded up */
	set_cc(f, FSW_C1 | FSW_C2, up ? FSW_C1 : 0);
	if (binary && modrm != 0xfd) {
		st_set(f, 1, r0);
		st_pop(f);
		return;
	}
	st_set(f, 0, r0);
	if (pushes)
		st_push(f, r1);
}

/*
 * fprem (truncating quotient) and fprem1 (round-to-nearest quotient):
 * ST(0) = ST(0) - q * ST(1).  When the exponents differ by 64 or more only
 * a partial reduction is done and C2 says "call me again"; otherwise C2 is
 * clear and C0, C3, C1 hold the quotient's bits 2, 1 and 0.
 */
static void fprem(struct cpu *cpu, bool ieee)
{
	struct cpu_x87 *f = &cpu->fpu;
	struct operand a = reg_operand(f, 0), b = reg_operand(f, 1);
	if (a.empty || b.empty) {
		if (stack_fault(f, false))
			st_set(f, 0, indefinite());
		return;
	}
	uint16_t flags = operand_flags(a, b);
	uint16_t cc = 0;
	long double r;
	bool up;
	if (propagate_nan(f, a.v, b.v, &r, &flags)) {
		/* r is set */
	} else if (isinf(a.v) || b.v == 0) {
		flags |= FSW_IE;
		r = indefinite();
	} else if (a.v == 0 || isinf(b.v)) {
		r = a.v;
	} else {
		int diff = ilogbl(a.v) - ilogbl(b.v);
		if (diff >= 64) {
			/*
			 * Reduce by a multiple of b * 2^k, k = diff - 32 rounded down to
			 * a multiple of 32: the step Intel processors take (exact).
			 */
			long double chunk = scalbnl(fabsl(b.v), (diff - 32) & ~31);
			r = compute(f, OP_FMOD, a.v, chunk, &flags, &up);
			cc = FSW_C2;
		} else {
			long double bb = fabsl(b.v);
			r = compute(f, ieee ? OP_REMAINDER : OP_FMOD, a.v, bb, &flags, &up);
			/* q = (a - r) / b exactly; its low three bits go to the condition codes. */
			long double eight = fmodl(fabsl(a.v - r), 8 * bb);
			long long q = llrintl(eight / bb);
			if (q & 4)
				cc |= FSW_C0;
			if (q & 2)
				cc |= FSW_C3;
			if (q & 1)
				cc |= FSW_C1;
		}
		flags &= (uint16_t)~FSW_PE; /* the remainder is always exact */
	}
	if (!register_result_ok(cpu, settle_denormal(flags)))
		return;
	set_cc(f, FSW_CC, cc);
	st_set(f, 0, r);
}

/*
 * The register forms of D9: fld st(i), fxch, fnop, the constants
 * (fld1, fldpi...), and the unary and transcendental operations on ST(0).
 */
static void group_d9_register(struct cpu *cpu, uint8_t modrm)
{
	struct cpu_x87 *f = &cpu->fpu;
	unsigned reg = (modrm >> 3) & 7, i = modrm & 7;
	if (reg == 0) { /* fld st(i): an extended source never raises DE */
		struct operand src = reg_operand(f, i);
		src.flags = 0;
		load_value(cpu, src);
		return;
	}
	if (reg == 1) {
		fxch(cpu, i);
		return;
	}
	switch (modrm) {
	case 0xd0: /* fnop */
		return;
	case 0xe0: case 0xe1: case 0xfa: case 0xfc:
		unary(cpu, modrm);
		return;
	case 0xe4:
		ftst(cpu);
		return;
	case 0xe5:
		fxam(f);
		return;
	case 0xe8:
		load_value(cpu, (struct operand){ .v = 1.0L });
		return;
	case 0xe9:
		load_constant(cpu, "3.3219280948873623478703194294893901758648313930245806120547563958");
		return;
	case 0xea:
		load_constant(cpu, "1.4426950408889634073599246810018921374266459541529859341354494069");
		return;
	case 0xeb:
		load_constant(cpu, "3.1415926535897932384626433832795028841971693993751058209749445923");
		return;
	case 0xec:
		load_constant(cpu, "0.30102999566398119521373889472449302676818988146210854130");
		return;
	case 0xed:
		load_constant(cpu, "0.69314718055994530941723212145817656807550013436025525412068");
		return;
	case 0xee:
		load_value(cpu, (struct operand){ .v = 0.0L });
		return;
	case 0xf0: case 0xf1: case 0xf2: case 0xf3: case 0xf4:
	case 0xf9: case 0xfb: case 0xfd: case 0xfe: case 0xff:
		transcendental(cpu, modrm);
		return;
	case 0xf5:
		fprem(cpu, true);
		return;
	case 0xf8:
		fprem(cpu, false);
		return;
	case 0xf6: /* fdecstp */
		f->top = (f->top - 1) & 7u;
		set_cc(f, FSW_C1, 0);
		return;
	case 0xf7: /* fincstp */
		f->top = (f->top + 1) & 7u;
		set_cc(f, FSW_C1, 0);
		return;
	default:
		cpu_unimplemented(cpu);
	}
}

/* ---- fcmovcc and the DB register group ---- */

/* fcmovcc: the condition is one of b, e, be, u (reg 0-3), negated by the DB opcode. */
static void fcmov(struct cpu *cpu, unsigned cond, bool negate, unsigned i)
{
	struct cpu_x87 *f = &cpu->fpu;
	uint32_t fl = cpu_get_eflags(cpu);
	bool taken;
	switch (cond) {
	case 0: taken = fl & EFLAGS_CF; break;
	case 1: taken = fl & EFLAGS_ZF; break;
	case 2: taken = fl & (EFLAGS_CF | EFLAGS_ZF); break;
	default: taken = fl & EFLAGS_PF; break;
	}
	if (st_empty(f, 0) || st_empty(f, i)) {
		if (stack_fault(f, false) && taken != negate)
			st_set(f, 0, st_empty(f, i) ? indefinite() : st_get(f, i));
		return;
	}
	set_cc(f, FSW_C1, 0);
	if (taken != negate)
		st_set(f, 0, st_get(f, i));
}

/* fnclex: clear the exception flags, stack fault, ES and busy. */
static void fnclex(struct cpu_x87 *f)
{
	f->status &= (uint16_t)~(FSW_EXCEPTIONS | FSW_SF | FSW_ES | FSW_B);
}

/* ---- decoding ---- */

/* The register forms (mod == 3). */
static void execute_register(struct cpu *cpu, uint8_t opcode, uint8_t modrm)
{
	struct cpu_x87 *f = &cpu->fpu;
	unsigned reg = (modrm >> 3) & 7, i = modrm & 7;
	switch (opcode) {
	case 0xd8: /* op st(0), st(i) */
		if (reg == AR_COM || reg == AR_COMP)
			compare_to_cc(cpu, reg_operand(f, 0), reg_operand(f, i), false, reg == AR_COMP);
		else
			arith(cpu, reg, 0, reg_operand(f, 0), reg_operand(f, i), false);
		return;
	case 0xd9:
		group_d9_register(cpu, modrm);
		return;
	case 0xda:
		if (reg < 4)
			fcmov(cpu, reg, false, i);
		else if (modrm == 0xe9) /* fucompp */
			compare_to_cc(cpu, reg_operand(f, 0), reg_operand(f, 1), true, 2);
		else
			cpu_unimplemented(cpu);
		return;
	case 0xdb:
		if (reg < 4)
			fcmov(cpu, reg, true, i);
		else if (modrm == 0xe0 || modrm == 0xe1 || modrm == 0xe4)
			return; /* feni, fdisi, fsetpm: no-ops since the 387 */
		else if (modrm == 0xe2)
			fnclex(f);
		else if (modrm == 0xe3)
			x87_reset(f);
		else if (reg == 5 || reg == 6) /* fucomi, fcomi */
			compare_to_eflags(cpu, i, reg == 5, false);
		else
			cpu_unimplemented(cpu);
		return;
	case 0xdc: /* ST(i) = ST(i) op ST(0) */
	case 0xde: /* the same, popping */
		if (reg == AR_COM || reg == AR_COMP) {
			if (opcode == 0xde && modrm == 0xd9) /* fcompp */
				compare_to_cc(cpu, reg_operand(f, 0), reg_operand(f, 1), false, 2);
			else
				cpu_unimplemented(cpu);
			return;
		}
		/*
		 * Here E0/F0 are fsubr/fdivr (ST(0) - ST(i), ST(0) / ST(i)) and
		 * E8/F8 fsub/fdiv: with a = ST(i) that is reg 4 <-> 5 and 6 <-> 7
		 * swapped against the D8 meanings.
		 */
		arith(cpu, reg >= AR_SUB ? reg ^ 1u : reg, i, reg_operand(f, i), reg_operand(f, 0),
		      opcode == 0xde);
		return;
	case 0xdd:
		switch (reg) {
		case 0: /* ffree */
			set_tag_phys(f, phys_of(f, i), TAG_EMPTY);
			return;
		case 2:
		case 3:
			store_register(cpu, i, reg == 3);
			return;
		case 4:
		case 5: /* fucom, fucomp */
			compare_to_cc(cpu, reg_operand(f, 0), reg_operand(f, i), true, reg == 5);
			return;
		default:
			cpu_unimplemented(cpu);
		}
	default: /* 0xdf */
		if (modrm == 0xe0) /* fnstsw ax */
			cpu->regs[CPU_EAX] = (cpu->regs[CPU_EAX] & 0xffff0000u) | x87_status_word(f);
		else if (reg == 5 || reg == 6) /* fucomip, fcomip */
			compare_to_eflags(cpu, i, reg == 5, true);
		else
			cpu_unimplemented(cpu);
		return;
	}
}

/* The arithmetic/compare groups with a memory source (D8, DA, DC, DE). */
static void arith_memory(struct cpu *cpu, unsigned reg, struct operand src)
{
	struct operand st0 = reg_operand(&cpu->fpu, 0);
	if (reg == AR_COM || reg == AR_COMP)
		compare_to_cc(cpu, st0, src, false, reg == AR_COMP);
	else
		arith(cpu, reg, 0, st0, src, false);
}

/* The memory forms (mod != 3). */
static void execute_memory(struct cpu *cpu, uint8_t opcode, unsigned reg, enum cpu_sreg seg,
                           uint32_t off, bool opsize16)
{
	struct cpu_x87 *f = &cpu->fpu;
	switch (opcode << 4 | reg) {
	case 0xd80: case 0xd81: case 0xd82: case 0xd83:
	case 0xd84: case 0xd85: case 0xd86: case 0xd87:
		arith_memory(cpu, reg, m32fp_operand(cpu_mem_read32(cpu, seg, off)));
		return;
	case 0xdc0: case 0xdc1: case 0xdc2: case 0xdc3:
	case 0xdc4: case 0xdc5: case 0xdc6: case 0xdc7:
		arith_memory(cpu, reg, m64fp_operand(cpu_mem_read64(cpu, seg, off)));
		return;
	case 0xda0: case 0xda1: case 0xda2: case 0xda3:
	case 0xda4: case 0xda5: case 0xda6: case 0xda7:
		arith_memory(cpu, reg, int_operand((int32_t)cpu_mem_read32(cpu, seg, off)));
		return;
	case 0xde0: case 0xde1: case 0xde2: case 0xde3:
	case 0xde4: case 0xde5: case 0xde6: case 0xde7:
		arith_memory(cpu, reg, int_operand((int16_t)cpu_mem_read16(cpu, seg, off)));
		return;
	case 0xd90: load_value(cpu, m32fp_operand(cpu_mem_read32(cpu, seg, off))); return;
	case 0xd92: store_float(cpu, seg, off, FP32, false); return;
	case 0xd93: store_float(cpu, seg, off, FP32, true); return;
	case 0xd94: fldenv(cpu, seg, off, opsize16); return;
	case 0xd95:
		f->control = cpu_mem_read16(cpu, seg, off);
		update_error_summary(f);
		return;
	case 0xd96: fnstenv(cpu, seg, off, opsize16); return;
	case 0xd97: cpu_mem_write16(cpu, seg, off, f->control); return;
	case 0xdb0: load_value(cpu, int_operand((int32_t)cpu_mem_read32(cpu, seg, off))); return;
	case 0xdb2: store_integer(cpu, seg, off, INT32, false); return;
	case 0xdb3: store_integer(cpu, seg, off, INT32, true); return;
	case 0xdb5: load_value(cpu, (struct operand){ .v = read_m80(cpu, seg, off) }); return;
	case 0xdb7: store_float(cpu, seg, off, FP80, true); return;
	case 0xdd0: load_value(cpu, m64fp_operand(cpu_mem_read64(cpu, seg, off))); return;
	case 0xdd2: store_float(cpu, seg, off, FP64, false); return;
	case 0xdd3: store_float(cpu, seg, off, FP64, true); return;
	case 0xdd4: frstor(cpu, seg, off, opsize16); return;
	case 0xdd6: fnsave(cpu, seg, off, opsize16); return;
	case 0xdd7: cpu_mem_write16(cpu, seg, off, x87_status_word(f)); return;
	case 0xdf0: load_value(cpu, int_operand((int16_t)cpu_mem_read16(cpu, seg, off))); return;
	case 0xdf2: store_integer(cpu, seg, off, INT16, false); return;
	case 0xdf3: store_integer(cpu, seg, off, INT16, true); return;
	case 0xdf4: load_value(cpu, bcd_operand(cpu, seg, off)); return;
	case 0xdf5: load_value(cpu, int_operand((int64_t)cpu_mem_read64(cpu, seg, off))); return;
	case 0xdf6: store_integer(cpu, seg, off, BCD80, true); return;
	case 0xdf7: store_integer(cpu, seg, off, INT64, true); return;
	default: /* fisttp (SSE3) and the reserved encodings */
		cpu_unimplemented(cpu);
	}
}

/* The fn* instructions that do not wait: they never report a pending #MF. */
static bool is_nonwaiting(uint8_t opcode, uint8_t modrm)
{
	unsigned reg = (modrm >> 3) & 7;
	if ((modrm >> 6) == 3)
		return (opcode == 0xdb && (modrm == 0xe0 || modrm == 0xe1 || modrm == 0xe2 ||
		                           modrm == 0xe3 || modrm == 0xe4)) ||
		       (opcode == 0xdf && modrm == 0xe0);
	return (opcode == 0xd9 && (reg == 6 || reg == 7)) || (opcode == 0xdd && (reg == 6 || reg == 7));
}

/* Control instructions leave the last-instruction and last-operand pointers alone. */
static bool is_control(uint8_t opcode, uint8_t modrm)
{
	unsigned reg = (modrm >> 3) & 7;
	if (is_nonwaiting(opcode, modrm))
		return true;
	return (modrm >> 6) != 3 &&
	       ((opcode == 0xd9 && (reg == 4 || reg == 5)) || (opcode == 0xdd && reg == 4));
}

/*
 * The executor's single entry to the FPU: #NM and (for waiting forms) a
 * pending #MF first, then the instruction, then the last-instruction
 * pointers, which control instructions leave alone.
 */
void x87_execute(struct cpu *cpu, uint8_t opcode, uint8_t modrm, enum cpu_sreg seg, uint32_t off,
                 bool opsize16)
{
	if (cpu->cr0 & (CR0_EM | CR0_TS))
		cpu_raise(cpu, CPU_NM, false, 0);
	if (!is_nonwaiting(opcode, modrm))
		raise_pending(cpu);
	bool memory = (modrm >> 6) != 3;
	if (memory)
		execute_memory(cpu, opcode, (modrm >> 3) & 7, seg, off, opsize16);
	else
		execute_register(cpu, opcode, modrm);
	if (!is_control(opcode, modrm)) {
		struct cpu_x87 *f = &cpu->fpu;
		f->last_ip = cpu->eip;
		f->last_cs = cpu->seg[CPU_CS].selector;
		f->last_opcode = (uint16_t)((opcode & 7u) << 8 | modrm);
		if (memory) {
			f->last_dp = off;
			f->last_ds = cpu->seg[seg].selector;
		}
	}
}

/* fwait: where an earlier unmasked FPU exception finally reaches the guest as #MF. */
void x87_wait(struct cpu *cpu)
{
	if ((cpu->cr0 & (CR0_TS | CR0_MP)) == (CR0_TS | CR0_MP))
		cpu_raise(cpu, CPU_NM, false, 0);
	raise_pending(cpu);
}

/* fninit's state: every exception masked, round to nearest, all registers empty. */
void x87_reset(struct cpu_x87 *f)
{
	f->control = FCW_INIT;
	f->status = 0;
	f->tag = 0xffff;
	f->top = 0;
	f->last_opcode = 0;
	f->last_ip = 0;
	f->last_dp = 0;
	f->last_cs = 0;
	f->last_ds = 0;
}

/* TOP lives in its own field here; the guest sees it inside the status word (fnstsw). */
uint16_t x87_status_word(const struct cpu_x87 *f)
{
	return (uint16_t)((f->status & ~FSW_TOP) | (f->top & 7u) << FSW_TOP_SHIFT);
}
