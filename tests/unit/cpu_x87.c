/*
 * The x87 unit, driven through cpu_run() with real instruction bytes.
 *
 * A tiny flat host: 64 KiB of memory mapped at linear 0 (identity
 * "paging"), flat 4 GiB code and data segments at CPL 0, code at CODE_BASE
 * ending in hlt.  Each check assembles a few instructions by hand (the
 * encodings are the Intel SDM's, named in comments), runs them, and
 * compares what landed in memory or in the x87 state with the host's own
 * long double arithmetic, which is the same 80-bit format.
 */
#include <fenv.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "cpu/cpu.h"

#define MEM_SIZE 0x10000u
#define CODE_BASE 0x1000u
#define DATA_BASE 0x8000u
#define SAVE_BASE 0x9000u

/* x87 status bits the checks look at (SDM vol. 1, 8.1.3). */
#define SW_IE 0x0001u
#define SW_ZE 0x0004u
#define SW_PE 0x0020u
#define SW_SF 0x0040u
#define SW_ES 0x0080u
#define SW_C0 0x0100u
#define SW_C1 0x0200u
#define SW_C2 0x0400u
#define SW_C3 0x4000u
#define SW_B 0x8000u
#define SW_TOP(sw) (((sw) >> 11) & 7u)

static uint8_t *mem;
static struct cpu cpu;
static struct cpu_stop stop;
static uint32_t pc; /* where the next instruction byte goes */
static int failures;

/* ---- reporting ---- */

static void check(bool ok, const char *name, const char *why, ...)
{
	if (ok) {
		printf("PASS %s\n", name);
		return;
	}
	va_list ap;
	va_start(ap, why);
	printf("FAIL %s: ", name);
	vprintf(why, ap);
	printf("\n");
	va_end(ap);
	failures++;
}

/* ---- the flat host ---- */

static enum cpu_xlate_result translate(void *opaque, struct cpu *c, uint32_t va,
                                       enum cpu_access access, struct cpu_translation *t,
                                       uint32_t *pf_error)
{
	(void)opaque;
	(void)c;
	if (va >= MEM_SIZE) {
		*pf_error = access == CPU_ACCESS_WRITE ? PF_ERR_WRITE : 0;
		return CPU_XLATE_FAULT;
	}
	t->host_page = mem + (va & ~0xfffu);
	t->phys_page = va & ~0xfffu;
	t->writable = true;
	t->user = true;
	t->watched = false;
	return CPU_XLATE_OK;
}

static const struct cpu_host_ops host_ops = { .translate = translate };

static void flat_segment(enum cpu_sreg s, uint16_t selector, uint16_t attr)
{
	cpu.seg[s] = (struct cpu_segment){
		.selector = selector, .base = 0, .limit = 0xffffffffu, .attr = attr, .usable = true,
	};
}

/* A fresh CPU and zeroed memory; the program starts empty at CODE_BASE. */
static void reset(void)
{
	cpu_destroy(&cpu);
	memset(mem, 0, MEM_SIZE);
	cpu_init(&cpu, &host_ops, NULL);
	flat_segment(CPU_CS, 0x08, 0xc09a); /* 32-bit code, DPL 0, present, 4 KiB granular */
	for (int s = 0; s < CPU_NSREGS; s++)
		if (s != CPU_CS)
			flat_segment((enum cpu_sreg)s, 0x10, 0xc092); /* 32-bit data, writable */
	cpu.cpl = 0;
	cpu.regs[CPU_ESP] = 0x7ff0;
	pc = CODE_BASE;
}

/* Run the program (after appending hlt); returns the stop kind. */
static enum cpu_stop_kind run(void)
{
	mem[pc++] = 0xf4;
	cpu.eip = CODE_BASE;
	return cpu_run(&cpu, 10000, &stop);
}

/* Run and insist that it ends at the hlt. */
static bool run_to_hlt(const char *name)
{
	enum cpu_stop_kind k = run();
	if (k == CPU_STOP_HLT)
		return true;
	check(false, name, "stopped with %s (vector %u) at %#x", cpu_stop_kind_name(k), stop.vector,
	      stop.eip);
	return false;
}

/* ---- assembling ---- */

static void b1(uint8_t b)
{
	mem[pc++] = b;
}

static void b2(uint8_t x, uint8_t y)
{
	b1(x);
	b1(y);
}

/* An x87 instruction with an absolute [disp32] operand: opcode, ModRM(mod 00, reg, rm 101). */
static uint32_t op_mem(uint8_t opcode, unsigned reg, uint32_t addr)
{
	uint32_t at = pc;
	b1(opcode);
	b1((uint8_t)(reg << 3 | 5));
	memcpy(mem + pc, &addr, 4);
	pc += 4;
	return at;
}

#define FLD_M64(a) op_mem(0xdd, 0, a)
#define FLD_M80(a) op_mem(0xdb, 5, a)
#define FSTP_M80(a) op_mem(0xdb, 7, a)
#define FNSTSW_M(a) op_mem(0xdd, 7, a)
#define FNSTCW(a) op_mem(0xd9, 7, a)
#define FLDCW(a) op_mem(0xd9, 5, a)
#define FNINIT() b2(0xdb, 0xe3)
#define FLD1() b2(0xd9, 0xe8)
#define FLDZ() b2(0xd9, 0xee)
#define FWAIT() b1(0x9b)

/* ---- data ---- */

static void put16(uint32_t a, uint16_t v) { memcpy(mem + a, &v, 2); }
static void put32(uint32_t a, uint32_t v) { memcpy(mem + a, &v, 4); }
static void put64(uint32_t a, uint64_t v) { memcpy(mem + a, &v, 8); }
static void putd(uint32_t a, double v) { memcpy(mem + a, &v, 8); }
static void putf(uint32_t a, float v) { memcpy(mem + a, &v, 4); }
static uint16_t get16(uint32_t a) { uint16_t v; memcpy(&v, mem + a, 2); return v; }
static uint32_t get32(uint32_t a) { uint32_t v; memcpy(&v, mem + a, 4); return v; }
static uint64_t get64(uint32_t a) { uint64_t v; memcpy(&v, mem + a, 8); return v; }

static long double get80(uint32_t a)
{
	long double v = 0;
	memcpy(&v, mem + a, 10);
	return v;
}

static uint64_t double_bits(double d)
{
	uint64_t u;
	memcpy(&u, &d, 8);
	return u;
}

static bool same80(long double x, long double y)
{
	return memcmp(&x, &y, 10) == 0;
}

static void put80(uint32_t a, long double v)
{
	memcpy(mem + a, &v, 10);
}

/* The x87 "real indefinite" QNaN, built from its architectural bits. */
static long double real_indefinite(void)
{
	long double v = 0;
	uint64_t mant = 0xc000000000000000ull;
	uint16_t se = 0xffff;
	memcpy(&v, &mant, 8);
	memcpy((char *)&v + 8, &se, 2);
	return v;
}

/* The host's answer in a given rounding mode (volatile: no compile-time folding). */
static long double host_div(long double a, long double b, int mode)
{
	volatile long double x = a, y = b, r;
	fesetround(mode);
	r = x / y;
	fesetround(FE_TONEAREST);
	return r;
}

/* ---- the checks ---- */

/* Linux's check_fpu (arch/x86/kernel/fpu/bugs.c): the Pentium FDIV test. */
static void test_linux_fdiv_check(void)
{
	const char *name = "linux_check_fpu";
	reset();
	const double x = 4195835.0, y = 3145727.0;
	putd(DATA_BASE, x);
	putd(DATA_BASE + 8, y);
	put32(DATA_BASE + 16, 0xdeadbeef);
	FNINIT();
	FLD_M64(DATA_BASE);            /* fldl x */
	op_mem(0xdc, 6, DATA_BASE + 8); /* fdivl y */
	op_mem(0xdc, 1, DATA_BASE + 8); /* fmull y */
	FLD_M64(DATA_BASE);            /* fldl x */
	b2(0xde, 0xe9);                /* fsubp st(1), st(0) */
	op_mem(0xdb, 3, DATA_BASE + 16); /* fistpl result */
	FWAIT();
	FNINIT();
	if (!run_to_hlt(name))
		return;
	volatile long double vx = x, vy = y;
	long double diff = vx / vy * vy - vx;
	int32_t expected = (int32_t)rintl(diff);
	int32_t got = (int32_t)get32(DATA_BASE + 16);
	check(got == expected && got == 0, name, "result %d, host says %d (0 on a correct FPU)", got,
	      expected);
}

/* fninit's state: FSW 0, FCW 0x037F (SDM vol. 1, 8.1.5 and FINIT). */
static void test_fninit_state(void)
{
	const char *name = "fninit_status_control";
	reset();
	put16(DATA_BASE, 0x1234);
	put16(DATA_BASE + 2, 0x1234);
	cpu.regs[CPU_EAX] = 0xabcd5555u;
	FLD1(); /* dirty the state first */
	op_mem(0xdc, 6, DATA_BASE + 8); /* fdivl 0.0: ZE */
	FNINIT();
	FNSTSW_M(DATA_BASE);
	FNSTCW(DATA_BASE + 2);
	b2(0xdf, 0xe0); /* fnstsw ax */
	if (!run_to_hlt(name))
		return;
	check(get16(DATA_BASE) == 0 && get16(DATA_BASE + 2) == 0x037f &&
	      cpu.regs[CPU_EAX] == 0xabcd0000u && cpu.fpu.tag == 0xffff,
	      name, "fsw %#x fcw %#x eax %#x tag %#x", get16(DATA_BASE), get16(DATA_BASE + 2),
	      cpu.regs[CPU_EAX], cpu.fpu.tag);
}

/* The Intel meaning of each D8/DC/DA/DE reg field with ST(0) as the left operand. */
static long double intel_op(unsigned reg, long double st0, long double src)
{
	volatile long double a = st0, b = src, r;
	switch (reg) {
	case 0: r = a + b; break;
	case 1: r = a * b; break;
	case 4: r = a - b; break;
	case 5: r = b - a; break;
	case 6: r = a / b; break;
	default: r = b / a; break;
	}
	return r;
}

/* fadd/fmul/fsub/fsubr/fdiv/fdivr with m32fp, m64fp, m32int, m16int sources. */
static void test_arith_memory(void)
{
	static const uint8_t opcodes[4] = { 0xd8, 0xdc, 0xda, 0xde };
	static const char *const kinds[4] = { "m32fp", "m64fp", "m32int", "m16int" };
	static const unsigned regs[6] = { 0, 1, 4, 5, 6, 7 };
	const double a = 7.3;
	for (int k = 0; k < 4; k++) {
		for (int r = 0; r < 6; r++) {
			char name[64];
			snprintf(name, sizeof(name), "arith_%s_reg%u", kinds[k], regs[r]);
			reset();
			long double src;
			switch (k) {
			case 0: putf(DATA_BASE + 8, 2.9f); src = 2.9f; break;
			case 1: putd(DATA_BASE + 8, 2.9); src = 2.9; break;
			case 2: put32(DATA_BASE + 8, (uint32_t)-123457); src = -123457; break;
			default: put16(DATA_BASE + 8, (uint16_t)-3); src = -3; break;
			}
			putd(DATA_BASE, a);
			FLD_M64(DATA_BASE);
			op_mem(opcodes[k], regs[r], DATA_BASE + 8);
			FSTP_M80(DATA_BASE + 16);
			if (!run_to_hlt(name))
				continue;
			long double want = intel_op(regs[r], a, src), got = get80(DATA_BASE + 16);
			check(same80(got, want), name, "got %La want %La", got, want);
		}
	}
}

/*
 * ST(i) = ST(i) op ST(0) for the DC and DE register forms, straight from
 * the SDM's opcode tables: C0 fadd, C8 fmul, E0 fsubr (ST(0) - ST(i)),
 * E8 fsub (ST(i) - ST(0)), F0 fdivr (ST(0) / ST(i)), F8 fdiv (ST(i) / ST(0)).
 */
static long double intel_dc_op(unsigned reg, long double sti, long double st0)
{
	volatile long double i = sti, z = st0, r;
	switch (reg) {
	case 0: r = i + z; break;
	case 1: r = i * z; break;
	case 4: r = z - i; break;
	case 5: r = i - z; break;
	case 6: r = z / i; break;
	default: r = i / z; break;
	}
	return r;
}

/* Register forms: D8 (into ST(0)), DC (into ST(i)), DE (into ST(i), then pop). */
static void test_arith_register(void)
{
	static const unsigned regs[6] = { 0, 1, 4, 5, 6, 7 };
	static const uint8_t opcodes[3] = { 0xd8, 0xdc, 0xde };
	const double a = 7.3, bval = -2.9;
	for (int form = 0; form < 3; form++) {
		for (int r = 0; r < 6; r++) {
			char name[64];
			snprintf(name, sizeof(name), "arith_%02x_reg%u_st1", opcodes[form], regs[r]);
			reset();
			putd(DATA_BASE, a);
			putd(DATA_BASE + 8, bval);
			FLD_M64(DATA_BASE + 8); /* st1 = b */
			FLD_M64(DATA_BASE);     /* st0 = a */
			b2(opcodes[form], (uint8_t)(0xc0 | regs[r] << 3 | 1));
			if (form == 1)
				FSTP_M80(DATA_BASE + 32); /* drop st0 = a; the result is below */
			FSTP_M80(DATA_BASE + 16);
			b2(0xdf, 0xe0); /* fnstsw ax */
			if (!run_to_hlt(name))
				continue;
			long double want = form == 0 ? intel_op(regs[r], a, bval)
			                             : intel_dc_op(regs[r], bval, a);
			long double got = get80(DATA_BASE + 16);
			unsigned top = SW_TOP(cpu.regs[CPU_EAX]), want_top = form == 0 ? 7 : 0;
			check(same80(got, want) && top == want_top, name, "got %La want %La, top %u",
			      got, want, top);
		}
	}
}

/* Rounding control reaches the arithmetic: 1/3 in all four modes. */
static void test_rounding_arith(void)
{
	static const int modes[4] = { FE_TONEAREST, FE_DOWNWARD, FE_UPWARD, FE_TOWARDZERO };
	for (unsigned rc = 0; rc < 4; rc++) {
		char name[64];
		snprintf(name, sizeof(name), "rounding_div_rc%u", rc);
		reset();
		put16(DATA_BASE, (uint16_t)(0x037f | rc << 10));
		putd(DATA_BASE + 8, -3.0);
		FLDCW(DATA_BASE);
		FLD1();
		op_mem(0xdc, 6, DATA_BASE + 8);
		FNSTSW_M(DATA_BASE + 32);
		FSTP_M80(DATA_BASE + 16);
		if (!run_to_hlt(name))
			continue;
		long double want = host_div(1.0L, -3.0L, modes[rc]);
		long double got = get80(DATA_BASE + 16);
		uint16_t sw = get16(DATA_BASE + 32);
		/* C1 says whether the magnitude was rounded up (SDM 8.1.3.1). */
		bool c1 = fabsl(want) > fabsl(host_div(1.0L, -3.0L, FE_TOWARDZERO));
		check(same80(got, want) && (sw & SW_PE) && !!(sw & SW_C1) == c1, name,
		      "got %La want %La sw %#x", got, want, sw);
	}
}

/* fnsave image (SDM vol. 1, figure 8-9 + 8.1.10), frstor round trip, fnstenv masks. */
static void test_fnsave_frstor(void)
{
	const char *name = "fnsave_image";
	reset();
	const long double v1 = 1.5L, v3 = -INFINITY;
	putd(DATA_BASE, (double)v1);
	putd(DATA_BASE + 8, (double)v3);
	FNINIT();
	FLD_M64(DATA_BASE);                         /* phys 7: valid */
	FLDZ();                                     /* phys 6: zero */
	uint32_t last_ip = FLD_M64(DATA_BASE + 8); /* phys 5: special (infinity) */
	op_mem(0xdd, 6, SAVE_BASE);                 /* fnsave */
	FNSTCW(DATA_BASE + 16);
	FNSTSW_M(DATA_BASE + 18);
	op_mem(0xdd, 4, SAVE_BASE);                 /* frstor */
	FNSTSW_M(DATA_BASE + 20);
	FNSTCW(DATA_BASE + 22);
	FSTP_M80(DATA_BASE + 32);
	FSTP_M80(DATA_BASE + 48);
	FSTP_M80(DATA_BASE + 64);
	memset(mem + SAVE_BASE + 108, 0xa5, 4);
	if (!run_to_hlt(name))
		return;
	const uint32_t s = SAVE_BASE;
	/* Tags by physical register: 0-4 empty (11), 5 special (10), 6 zero (01), 7 valid (00). */
	uint16_t want_tag = 0x3ff | 2u << 10 | 1u << 12 | 0u << 14;
	check((get32(s) & 0xffff) == 0x037f && (get32(s + 4) & 0xffff) == 5u << 11 &&
	      (get32(s + 8) & 0xffff) == want_tag,
	      "fnsave_control_status_tag", "cw %#x sw %#x tag %#x (want %#x)", get32(s),
	      get32(s + 4), get32(s + 8), want_tag);
	check(get32(s + 12) == last_ip && (get32(s + 16) & 0xffff) == 0x08 &&
	      ((get32(s + 16) >> 16) & 0x7ff) == 0x505 && get32(s + 20) == DATA_BASE + 8 &&
	      (get32(s + 24) & 0xffff) == 0x10,
	      "fnsave_pointers", "fip %#x fcs/fop %#x fdp %#x fds %#x (want fip %#x)",
	      get32(s + 12), get32(s + 16), get32(s + 20), get32(s + 24), last_ip);
	check(same80(get80(s + 28), v3) && same80(get80(s + 38), 0.0L) && same80(get80(s + 48), v1) &&
	      mem[s + 108] == 0xa5,
	      "fnsave_registers_in_st_order", "st0 %La st1 %La st2 %La", get80(s + 28),
	      get80(s + 38), get80(s + 48));
	check(get16(DATA_BASE + 16) == 0x037f && get16(DATA_BASE + 18) == 0,
	      "fnsave_then_fninit", "cw %#x sw %#x", get16(DATA_BASE + 16), get16(DATA_BASE + 18));
	check(get16(DATA_BASE + 20) == 5u << 11 && get16(DATA_BASE + 22) == 0x037f &&
	      same80(get80(DATA_BASE + 32), v3) && same80(get80(DATA_BASE + 48), 0.0L) &&
	      same80(get80(DATA_BASE + 64), v1),
	      "frstor_round_trip", "sw %#x, popped %La %La %La", get16(DATA_BASE + 20),
	      get80(DATA_BASE + 32), get80(DATA_BASE + 48), get80(DATA_BASE + 64));
}

/* The 16-bit images under 0x66: 94 bytes for fnsave, 14 for fnstenv. */
static void test_fnsave16_fnstenv(void)
{
	const char *name = "fnsave16_fnstenv";
	reset();
	put16(DATA_BASE, 0x0c60); /* RC toward zero, all exceptions unmasked but none pending */
	FLDCW(DATA_BASE);
	FLD1();
	b1(0x66);
	op_mem(0xdd, 6, SAVE_BASE); /* fnsave, 16-bit image */
	FLD1();
	b1(0x66);
	op_mem(0xd9, 6, SAVE_BASE + 0x100); /* fnstenv, 16-bit */
	FLDCW(DATA_BASE);
	op_mem(0xd9, 6, SAVE_BASE + 0x200); /* fnstenv, 32-bit */
	FNSTCW(DATA_BASE + 2);
	memset(mem + SAVE_BASE + 94, 0xa5, 2);
	memset(mem + SAVE_BASE + 0x100 + 14, 0xa5, 2);
	memset(mem + SAVE_BASE + 0x200 + 28, 0xa5, 2);
	if (!run_to_hlt(name))
		return;
	const uint32_t s = SAVE_BASE;
	check(get16(s) == 0x0c60 && get16(s + 2) == 7u << 11 && get16(s + 4) == 0x3fff &&
	      same80(get80(s + 14), 1.0L) && mem[s + 93] != 0xa5 && mem[s + 94] == 0xa5,
	      "fnsave16_layout", "cw %#x sw %#x tag %#x st0 %La", get16(s), get16(s + 2),
	      get16(s + 4), get80(s + 14));
	check(get16(s + 0x100) == 0x037f && get16(s + 0x102) == 7u << 11 &&
	      get16(s + 0x104) == 0x3fff && mem[s + 0x100 + 14] == 0xa5,
	      "fnstenv16_layout", "cw %#x sw %#x tag %#x", get16(s + 0x100), get16(s + 0x102),
	      get16(s + 0x104));
	check((get32(s + 0x200) & 0xffff) == 0x0c60 && mem[s + 0x200 + 28] == 0xa5 &&
	      get16(DATA_BASE + 2) == 0x0c7f,
	      "fnstenv_masks_exceptions", "image cw %#x, cw after %#x", get32(s + 0x200),
	      get16(DATA_BASE + 2));
}

/* Nine pushes: the ninth overflows, IE|SF with C1 = 1 and the indefinite in ST(0). */
static void test_stack_faults(void)
{
	const char *name = "stack_overflow";
	reset();
	FNINIT();
	for (int i = 0; i < 9; i++)
		FLD1();
	b2(0xdf, 0xe0);
	FSTP_M80(DATA_BASE);
	if (!run_to_hlt(name))
		return;
	uint16_t sw = (uint16_t)cpu.regs[CPU_EAX];
	check((sw & (SW_IE | SW_SF | SW_C1)) == (SW_IE | SW_SF | SW_C1) && !(sw & SW_ES) &&
	      same80(get80(DATA_BASE), real_indefinite()),
	      name, "sw %#x, st0 %La", sw, get80(DATA_BASE));

	name = "stack_underflow";
	reset();
	FNINIT();
	FLD1();
	b2(0xd8, 0xc1); /* fadd st(0), st(1): st(1) empty */
	b2(0xdf, 0xe0);
	FSTP_M80(DATA_BASE);
	if (!run_to_hlt(name))
		return;
	sw = (uint16_t)cpu.regs[CPU_EAX];
	check((sw & (SW_IE | SW_SF | SW_C1)) == (SW_IE | SW_SF) &&
	      same80(get80(DATA_BASE), real_indefinite()),
	      name, "sw %#x, st0 %La", sw, get80(DATA_BASE));
}

/* Masked divide by zero: ZE and an infinity of the right sign. */
static void test_divide_by_zero(void)
{
	const char *name = "divide_by_zero";
	reset();
	putd(DATA_BASE, -0.0);
	FLD1();
	op_mem(0xdc, 6, DATA_BASE); /* fdivl -0.0 */
	b2(0xdf, 0xe0);
	FSTP_M80(DATA_BASE + 16);
	if (!run_to_hlt(name))
		return;
	uint16_t sw = (uint16_t)cpu.regs[CPU_EAX];
	long double want = host_div(1.0L, -0.0L, FE_TONEAREST);
	check((sw & 0x3f) == SW_ZE && same80(get80(DATA_BASE + 16), want) && isinf(want), name,
	      "sw %#x, result %La", sw, get80(DATA_BASE + 16));

	name = "invalid_0_div_0";
	reset();
	FLDZ();
	FLDZ();
	b2(0xde, 0xf9); /* fdivp st(1), st(0) */
	b2(0xdf, 0xe0);
	FSTP_M80(DATA_BASE + 16);
	if (!run_to_hlt(name))
		return;
	sw = (uint16_t)cpu.regs[CPU_EAX];
	check((sw & 0x3f) == SW_IE && same80(get80(DATA_BASE + 16), real_indefinite()), name,
	      "sw %#x, result %La", sw, get80(DATA_BASE + 16));
}

/* The condition codes of each relation (SDM FCOM table). */
static uint16_t cc_for(long double a, long double b)
{
	if (isunordered(a, b))
		return SW_C3 | SW_C2 | SW_C0;
	if (a < b)
		return SW_C0;
	if (a == b)
		return SW_C3;
	return 0;
}

/* The eflags of each relation (SDM FCOMI table). */
static uint32_t eflags_for(long double a, long double b)
{
	if (isunordered(a, b))
		return EFLAGS_ZF | EFLAGS_PF | EFLAGS_CF;
	if (a < b)
		return EFLAGS_CF;
	if (a == b)
		return EFLAGS_ZF;
	return 0;
}

static void test_compares(void)
{
	const double pairs[][2] = { { 1, 2 }, { 2, 1 }, { 2, 2 }, { NAN, 1 }, { -0.0, 0.0 } };
	const uint16_t cc_mask = SW_C3 | SW_C2 | SW_C0;
	const uint32_t zpc = EFLAGS_ZF | EFLAGS_PF | EFLAGS_CF;
	for (unsigned i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		double a = pairs[i][0], bv = pairs[i][1];
		bool nan = isnan(a);
		char name[64];

		/* fcompp, fucompp, fcom m64, ficom m32 */
		snprintf(name, sizeof(name), "fcom_family_%u", i);
		reset();
		putd(DATA_BASE, a);
		putd(DATA_BASE + 8, bv);
		put32(DATA_BASE + 16, (uint32_t)(int32_t)bv);
		FLD_M64(DATA_BASE + 8);
		FLD_M64(DATA_BASE);
		b2(0xde, 0xd9); /* fcompp */
		FNSTSW_M(DATA_BASE + 32);
		FNINIT();
		FLD_M64(DATA_BASE + 8);
		FLD_M64(DATA_BASE);
		b2(0xda, 0xe9); /* fucompp */
		FNSTSW_M(DATA_BASE + 34);
		FNINIT();
		FLD_M64(DATA_BASE);
		op_mem(0xdc, 2, DATA_BASE + 8); /* fcoml */
		FNSTSW_M(DATA_BASE + 36);
		FNINIT();
		FLD_M64(DATA_BASE);
		op_mem(0xda, 3, DATA_BASE + 16); /* ficompl: pops */
		FNSTSW_M(DATA_BASE + 38);
		if (!run_to_hlt(name))
			continue;
		uint16_t want = cc_for(a, bv), want_i = cc_for(a, (int32_t)bv);
		uint16_t s0 = get16(DATA_BASE + 32), s1 = get16(DATA_BASE + 34);
		uint16_t s2 = get16(DATA_BASE + 36), s3 = get16(DATA_BASE + 38);
		check((s0 & cc_mask) == want && (s1 & cc_mask) == want && (s2 & cc_mask) == want &&
		      (s3 & cc_mask) == want_i && SW_TOP(s0) == 0 && SW_TOP(s1) == 0 &&
		      SW_TOP(s2) == 7 && SW_TOP(s3) == 0 &&
		      /* a QNaN is invalid for fcom, not for fucom */
		      !!(s0 & SW_IE) == nan && !(s1 & SW_IE) && !!(s2 & SW_IE) == nan,
		      name, "fcompp %#x fucompp %#x fcom %#x ficom %#x, want cc %#x", s0, s1, s2, s3,
		      want);

		/* fcomi st(1) and fucomip st(1): eflags */
		snprintf(name, sizeof(name), "fcomi_eflags_%u", i);
		reset();
		putd(DATA_BASE, a);
		putd(DATA_BASE + 8, bv);
		cpu_set_eflags(&cpu, EFLAGS_FIXED1 | EFLAGS_OF | EFLAGS_SF | EFLAGS_AF | zpc);
		FLD_M64(DATA_BASE + 8);
		FLD_M64(DATA_BASE);
		b2(0xdb, 0xf1); /* fcomi st(0), st(1) */
		FNSTSW_M(DATA_BASE + 32);
		if (!run_to_hlt(name))
			continue;
		uint32_t fl = cpu_get_eflags(&cpu);
		uint16_t sw = get16(DATA_BASE + 32);
		reset();
		putd(DATA_BASE, a);
		putd(DATA_BASE + 8, bv);
		FLD_M64(DATA_BASE + 8);
		FLD_M64(DATA_BASE);
		b2(0xdf, 0xe9); /* fucomip st(0), st(1) */
		FNSTSW_M(DATA_BASE + 32);
		if (!run_to_hlt(name))
			continue;
		uint32_t fl2 = cpu_get_eflags(&cpu);
		uint16_t sw2 = get16(DATA_BASE + 32);
		uint32_t want_fl = eflags_for(a, bv);
		check((fl & (zpc | EFLAGS_OF | EFLAGS_SF | EFLAGS_AF)) == want_fl &&
		      (fl2 & zpc) == want_fl && !!(sw & SW_IE) == nan && !(sw2 & SW_IE) &&
		      SW_TOP(sw) == 6 && SW_TOP(sw2) == 7,
		      name, "fcomi eflags %#x sw %#x, fucomip eflags %#x sw %#x, want %#x", fl, sw, fl2,
		      sw2, want_fl);
	}
}

/* fist/fistp honour RC (SDM 4.8.4); PE on inexact; out of range gives the integer indefinite. */
static void test_fist_rounding(void)
{
	static const int modes[4] = { FE_TONEAREST, FE_DOWNWARD, FE_UPWARD, FE_TOWARDZERO };
	const double values[] = { 2.5, -2.5, 3.5, -1.7, 7.0, 1e6 + 0.25 };
	for (unsigned rc = 0; rc < 4; rc++) {
		char name[64];
		snprintf(name, sizeof(name), "fist_rounding_rc%u", rc);
		reset();
		put16(DATA_BASE, (uint16_t)(0x037f | rc << 10));
		FLDCW(DATA_BASE);
		const unsigned n = sizeof(values) / sizeof(values[0]);
		for (unsigned i = 0; i < n; i++) {
			putd(DATA_BASE + 16 + 8 * i, values[i]);
			FLD_M64(DATA_BASE + 16 + 8 * i);
			b2(0xdb, 0xe2); /* fnclex: each value's flags on their own */
			op_mem(0xdb, 3, DATA_BASE + 0x100 + 4 * i);  /* fistpl */
			FNSTSW_M(DATA_BASE + 0x200 + 2 * i);
			FLD_M64(DATA_BASE + 16 + 8 * i);
			op_mem(0xdf, 7, DATA_BASE + 0x300 + 8 * i);  /* fistpll */
			FLD_M64(DATA_BASE + 16 + 8 * i);
			op_mem(0xdf, 3, DATA_BASE + 0x400 + 2 * i);  /* fistps (m16) */
		}
		if (!run_to_hlt(name))
			continue;
		bool ok = true;
		char why[200] = "";
		for (unsigned i = 0; i < n && ok; i++) {
			volatile long double v = values[i];
			fesetround(modes[rc]);
			long double want = rintl(v);
			fesetround(FE_TONEAREST);
			int32_t got32 = (int32_t)get32(DATA_BASE + 0x100 + 4 * i);
			int64_t got64 = (int64_t)get64(DATA_BASE + 0x300 + 8 * i);
			int16_t got16 = (int16_t)get16(DATA_BASE + 0x400 + 2 * i);
			int16_t want16 = fabsl(want) < 32768 ? (int16_t)want : INT16_MIN;
			uint16_t sw = get16(DATA_BASE + 0x200 + 2 * i);
			bool pe = want != v;
			if (got32 != (int32_t)want || got64 != (int64_t)want || got16 != want16 ||
			    !!(sw & SW_PE) != pe) {
				ok = false;
				snprintf(why, sizeof(why), "%g: got %d/%lld/%d sw %#x, want %lld", values[i],
				         got32, (long long)got64, got16, sw, (long long)want);
			}
		}
		check(ok, name, "%s", why);
	}

	const char *name = "fist_out_of_range";
	reset();
	putd(DATA_BASE, 1e10);
	FLD_M64(DATA_BASE);
	op_mem(0xdb, 3, DATA_BASE + 8); /* fistpl */
	b2(0xdf, 0xe0);
	if (!run_to_hlt(name))
		return;
	uint16_t sw = (uint16_t)cpu.regs[CPU_EAX];
	check(get32(DATA_BASE + 8) == 0x80000000u && (sw & 0x3f) == SW_IE, name, "stored %#x sw %#x",
	      get32(DATA_BASE + 8), sw);
}

/* #NM: CR0.TS (or EM) on any x87 instruction; wait only when TS and MP are both set. */
static void test_device_not_available(void)
{
	const char *name = "nm_with_ts";
	reset();
	cpu.cr0 |= CR0_TS;
	FLD1();
	enum cpu_stop_kind k = run();
	check(k == CPU_STOP_EXCEPTION && stop.vector == CPU_NM && stop.eip == CODE_BASE &&
	      cpu.eip == CODE_BASE && cpu.fpu.tag == 0xffff,
	      name, "stop %s vector %u eip %#x", cpu_stop_kind_name(k), stop.vector, stop.eip);

	name = "nm_with_em";
	reset();
	cpu.cr0 |= CR0_EM;
	FNINIT();
	k = run();
	check(k == CPU_STOP_EXCEPTION && stop.vector == CPU_NM, name, "stop %s vector %u",
	      cpu_stop_kind_name(k), stop.vector);

	name = "nm_fwait_ts_mp";
	reset();
	cpu.cr0 |= CR0_TS | CR0_MP;
	FWAIT();
	k = run();
	check(k == CPU_STOP_EXCEPTION && stop.vector == CPU_NM && stop.eip == CODE_BASE, name,
	      "stop %s vector %u", cpu_stop_kind_name(k), stop.vector);

	name = "fwait_ts_without_mp";
	reset();
	cpu.cr0 = (cpu.cr0 | CR0_TS) & ~CR0_MP;
	FWAIT();
	k = run();
	check(k == CPU_STOP_HLT, name, "stop %s vector %u", cpu_stop_kind_name(k), stop.vector);
}

/* An unmasked exception sets ES/B and becomes #MF at the next waiting instruction. */
static void test_pending_mf(void)
{
	const char *name = "unmasked_zero_divide_mf";
	reset();
	put16(DATA_BASE, 0x037b); /* ZE unmasked */
	FLDCW(DATA_BASE);
	FLD1();
	FLDZ();
	b2(0xde, 0xf9); /* fdivp st(1), st(0): 1/0 */
	FNSTSW_M(DATA_BASE + 2); /* non-waiting: no fault */
	uint32_t wait_at = pc;
	FWAIT();
	enum cpu_stop_kind k = run();
	uint16_t sw = get16(DATA_BASE + 2);
	long double st1 = cpu.fpu.st[(cpu.fpu.top + 1) & 7];
	check(k == CPU_STOP_EXCEPTION && stop.vector == CPU_MF && stop.eip == wait_at &&
	      (sw & (SW_ZE | SW_ES | SW_B)) == (SW_ZE | SW_ES | SW_B) && SW_TOP(sw) == 6 &&
	      st1 == 1.0L,
	      name, "stop %s vector %u eip %#x (want %#x), sw %#x, st1 %La", cpu_stop_kind_name(k),
	      stop.vector, stop.eip, wait_at, sw, st1);

	name = "fnclex_clears_pending";
	reset();
	put16(DATA_BASE, 0x037b);
	FLDCW(DATA_BASE);
	FLD1();
	FLDZ();
	b2(0xde, 0xf9);
	b2(0xdb, 0xe2); /* fnclex */
	FWAIT();
	FLD1();
	b2(0xdf, 0xe0);
	k = run();
	check(k == CPU_STOP_HLT && !(cpu.regs[CPU_EAX] & (SW_ES | SW_B | SW_ZE)), name,
	      "stop %s, sw %#x", cpu_stop_kind_name(k), cpu.regs[CPU_EAX] & 0xffff);
}

/* Constants, unary operations and fxam against the host. */
static void test_constants_and_unary(void)
{
	const char *name = "constants";
	reset();
	static const uint8_t loads[] = { 0xe8, 0xe9, 0xea, 0xeb, 0xec, 0xed, 0xee };
	const long double want[] = { 1.0L, log2l(10.0L), M_LOG2El, M_PIl, log10l(2.0L), M_LN2l, 0.0L };
	for (unsigned i = 0; i < 7; i++) {
		b2(0xd9, loads[i]);
		FSTP_M80(DATA_BASE + 16 * i);
	}
	if (run_to_hlt(name)) {
		bool ok = true;
		for (unsigned i = 0; i < 7; i++)
			ok = ok && fabsl(get80(DATA_BASE + 16 * i) - want[i]) <= 2 * LDBL_EPSILON * want[i];
		ok = ok && same80(get80(DATA_BASE + 48), M_PIl);
		check(ok, name, "fldpi %La want %La", get80(DATA_BASE + 48), M_PIl);
	}

	name = "fldpi_rounding";
	reset();
	put16(DATA_BASE, 0x077f); /* RC down */
	put16(DATA_BASE + 2, 0x0b7f); /* RC up */
	FLDCW(DATA_BASE);
	b2(0xd9, 0xeb);
	FSTP_M80(DATA_BASE + 16);
	FLDCW(DATA_BASE + 2);
	b2(0xd9, 0xeb);
	FSTP_M80(DATA_BASE + 32);
	if (run_to_hlt(name)) {
		long double down = get80(DATA_BASE + 16), up = get80(DATA_BASE + 32);
		check(down < up && nextafterl(down, INFINITY) == up && (down == M_PIl || up == M_PIl),
		      name, "down %La up %La", down, up);
	}

	name = "unary_ops";
	reset();
	const double x = 2.75;
	putd(DATA_BASE, x);
	static const uint8_t ops[] = { 0xe0, 0xe1, 0xfa, 0xfc, 0xfe, 0xff, 0xf0 };
	for (unsigned i = 0; i < sizeof(ops); i++) {
		FLD_M64(DATA_BASE);
		if (ops[i] == 0xf0) { /* f2xm1 wants |x| <= 1: use x - 2 */
			FLD1();
			b2(0xde, 0xe9); /* fsubp: st1 = x - 1 */
			FLD1();
			b2(0xde, 0xe9);
		}
		if (ops[i] == 0xe1)
			b2(0xd9, 0xe0); /* fabs of -x */
		b2(0xd9, ops[i]);
		FSTP_M80(DATA_BASE + 16 + 16 * i);
	}
	if (run_to_hlt(name)) {
		volatile long double v = x;
		const long double want_u[] = { -v, v, sqrtl(v), rintl(v), sinl(v), cosl(v),
		                               exp2l(v - 2) - 1 };
		bool ok = true;
		unsigned bad = 0;
		for (unsigned i = 0; i < sizeof(ops); i++) {
			long double got = get80(DATA_BASE + 16 + 16 * i);
			bool exact = i < 4;
			if (exact ? !same80(got, want_u[i]) : fabsl(got - want_u[i]) > 4 * LDBL_EPSILON) {
				ok = false;
				bad = i;
			}
		}
		check(ok, name, "op %#x got %La want %La", ops[bad], get80(DATA_BASE + 16 + 16 * bad),
		      want_u[bad]);
	}

	name = "fxam_ftst";
	reset();
	putd(DATA_BASE, -0.0);
	putd(DATA_BASE + 8, INFINITY);
	putd(DATA_BASE + 16, NAN);
	putd(DATA_BASE + 24, 5.0);
	putd(DATA_BASE + 32, 4e-320); /* a double denormal: normal as an extended */
	b2(0xd9, 0xe5); /* fxam of an empty register */
	FNSTSW_M(DATA_BASE + 64);
	for (unsigned i = 0; i < 5; i++) {
		FLD_M64(DATA_BASE + 8 * i);
		b2(0xd9, 0xe5);
		FNSTSW_M(DATA_BASE + 66 + 2 * i);
	}
	put80(DATA_BASE + 48, 0x1p-16400L); /* an extended denormal */
	FLD_M80(DATA_BASE + 48);
	b2(0xd9, 0xe5);
	FNSTSW_M(DATA_BASE + 76);
	b2(0xd9, 0xe4); /* ftst on the denormal: greater than zero */
	FNSTSW_M(DATA_BASE + 78);
	if (run_to_hlt(name)) {
		const uint16_t m = SW_C3 | SW_C2 | SW_C1 | SW_C0;
		const uint16_t want_x[] = {
			SW_C3 | SW_C0,         /* empty */
			SW_C3 | SW_C1,         /* -0 */
			SW_C2 | SW_C0,         /* +inf */
			SW_C0,                 /* NaN (host NAN is positive) */
			SW_C2,                 /* normal */
			SW_C2,                 /* double denormal becomes normal */
			SW_C3 | SW_C2,         /* extended denormal */
		};
		bool ok = true;
		unsigned bad = 0;
		for (unsigned i = 0; i < 7; i++)
			if ((get16(DATA_BASE + 64 + 2 * i) & m) != want_x[i]) {
				ok = false;
				bad = i;
			}
		uint16_t tst = get16(DATA_BASE + 78);
		check(ok && (tst & (SW_C3 | SW_C2 | SW_C0)) == 0 && (tst & 0x2), name,
		      "case %u: sw %#x want %#x; ftst sw %#x", bad, get16(DATA_BASE + 64 + 2 * bad),
		      want_x[bad], tst);
	}
}

/* fprem/fprem1 against fmodl/remainderl, with the quotient bits in C0 C3 C1. */
static void test_fprem(void)
{
	const double pairs[][2] = { { 17.5, 3.0 }, { -17.5, 3.0 }, { 1e30, 7.0 }, { 5.0, 0.75 } };
	for (unsigned i = 0; i < 4; i++) {
		for (int ieee = 0; ieee < 2; ieee++) {
			char name[64];
			snprintf(name, sizeof(name), "fprem%s_%u", ieee ? "1" : "", i);
			reset();
			putd(DATA_BASE, pairs[i][0]);
			putd(DATA_BASE + 8, pairs[i][1]);
			FLD_M64(DATA_BASE + 8);
			FLD_M64(DATA_BASE);
			uint32_t loop = pc;
			b2(0xd9, ieee ? 0xf5 : 0xf8);
			b2(0xdf, 0xe0);
			b2(0xf6, 0xc4); /* test ah, 4 (C2: incomplete) */
			b1(0x04);
			b2(0x75, (uint8_t)(loop - (pc + 2))); /* jnz loop */
			FSTP_M80(DATA_BASE + 16);
			if (!run_to_hlt(name))
				continue;
			volatile long double a = pairs[i][0], bb = pairs[i][1];
			long double want = ieee ? remainderl(a, bb) : fmodl(a, bb);
			long double q = ieee ? rintl((a - want) / bb) : truncl((a - want) / bb);
			unsigned qlow = (unsigned)fmodl(fabsl(q), 8.0L);
			uint16_t sw = (uint16_t)cpu.regs[CPU_EAX];
			unsigned got_q = (sw & SW_C0 ? 4 : 0) | (sw & SW_C3 ? 2 : 0) | (sw & SW_C1 ? 1 : 0);
			bool check_q = fabsl(q) < 0x1p60L; /* the bits are exact only for small quotients */
			check(same80(get80(DATA_BASE + 16), want) && (!check_q || got_q == qlow), name,
			      "got %La want %La, q bits %u want %u", get80(DATA_BASE + 16), want, got_q,
			      qlow);
		}
	}
}

/* fscale, fxtract, fptan, fpatan, fyl2x, fsincos against libm. */
static void test_misc_two_operand(void)
{
	const char *name = "fscale_fxtract_fpatan_fyl2x_fsincos";
	reset();
	putd(DATA_BASE, 3.7);
	putd(DATA_BASE + 8, 10.0);
	FLD_M64(DATA_BASE);     /* st1 = 3.7 (scale: trunc = 3) */
	FLD_M64(DATA_BASE + 8); /* st0 = 10 */
	b2(0xd9, 0xfd);         /* fscale: 10 * 2^3 */
	FSTP_M80(DATA_BASE + 16);
	FSTP_M80(DATA_BASE + 32);
	FLD_M64(DATA_BASE + 8);
	b2(0xd9, 0xf4); /* fxtract: st0 = significand, st1 = exponent */
	FSTP_M80(DATA_BASE + 48);
	FSTP_M80(DATA_BASE + 64);
	FLD_M64(DATA_BASE);     /* y */
	FLD_M64(DATA_BASE + 8); /* x */
	b2(0xd9, 0xf3);         /* fpatan: atan2(y, x) */
	FSTP_M80(DATA_BASE + 80);
	FLD_M64(DATA_BASE);
	FLD_M64(DATA_BASE + 8);
	b2(0xd9, 0xf1); /* fyl2x: 3.7 * log2(10) */
	FSTP_M80(DATA_BASE + 96);
	FLD_M64(DATA_BASE);
	b2(0xd9, 0xfb); /* fsincos: st0 = cos, st1 = sin */
	FSTP_M80(DATA_BASE + 112);
	FSTP_M80(DATA_BASE + 128);
	FLD_M64(DATA_BASE);
	b2(0xd9, 0xf2); /* fptan: st0 = 1, st1 = tan */
	FSTP_M80(DATA_BASE + 144);
	FSTP_M80(DATA_BASE + 160);
	b2(0xdf, 0xe0);
	if (!run_to_hlt(name))
		return;
	volatile long double y = 3.7, x = 10.0;
	const long double eps = 4 * LDBL_EPSILON;
	struct { uint32_t at; long double want; bool exact; } r[] = {
		{ 16, 80.0L, true }, { 32, y, true }, { 48, 1.25L, true }, { 64, 3.0L, true },
		{ 80, atan2l(y, x), false }, { 96, y * log2l(x), false }, { 112, cosl(y), false },
		{ 128, sinl(y), false }, { 144, 1.0L, true }, { 160, tanl(y), false },
	};
	bool ok = (cpu.regs[CPU_EAX] & (SW_IE | SW_ZE)) == 0 && SW_TOP(cpu.regs[CPU_EAX]) == 0;
	unsigned bad = 0;
	for (unsigned i = 0; i < sizeof(r) / sizeof(r[0]); i++) {
		long double got = get80(DATA_BASE + r[i].at);
		bool good = r[i].exact ? same80(got, r[i].want)
		                       : fabsl(got - r[i].want) <= eps * fabsl(r[i].want);
		if (!good) {
			ok = false;
			bad = i;
		}
	}
	check(ok, name, "slot %u: got %La want %La, sw %#x", bad, get80(DATA_BASE + r[bad].at),
	      r[bad].want, cpu.regs[CPU_EAX] & 0xffff);
}

/* Loads and stores in every format, fbld/fbstp, fst to registers, fxch, ffree, fincstp. */
static void test_formats_and_stack(void)
{
	const char *name = "load_store_formats";
	reset();
	putf(DATA_BASE, 1.1f);
	put16(DATA_BASE + 8, (uint16_t)-32000);
	put64(DATA_BASE + 16, 0x7000000000000001ull);
	putd(DATA_BASE + 24, 1.0 / 3.0);
	/* packed BCD -123456789012345678: digit pairs from the least significant, sign in byte 9 */
	static const uint8_t bcd[10] = { 0x78, 0x56, 0x34, 0x12, 0x90, 0x78, 0x56, 0x34, 0x12, 0x80 };
	memcpy(mem + DATA_BASE + 32, bcd, 10);
	op_mem(0xd9, 0, DATA_BASE);      /* flds */
	op_mem(0xdd, 2, DATA_BASE + 64); /* fstl */
	op_mem(0xd9, 3, DATA_BASE + 72); /* fstps */
	op_mem(0xdf, 0, DATA_BASE + 8);  /* filds */
	op_mem(0xdf, 2, DATA_BASE + 76); /* fists */
	op_mem(0xdd, 3, DATA_BASE + 80); /* fstpl */
	op_mem(0xdf, 5, DATA_BASE + 16); /* fildll */
	op_mem(0xdf, 7, DATA_BASE + 88); /* fistpll */
	FLD_M64(DATA_BASE + 24);
	op_mem(0xd9, 3, DATA_BASE + 96); /* fstps 1/3: inexact */
	FNSTSW_M(DATA_BASE + 100);
	op_mem(0xdf, 4, DATA_BASE + 32);  /* fbld */
	op_mem(0xdf, 6, DATA_BASE + 104); /* fbstp */
	if (!run_to_hlt(name))
		return;
	float f32;
	memcpy(&f32, mem + DATA_BASE + 96, 4);
	volatile double third = 1.0 / 3.0;
	bool ok = get64(DATA_BASE + 64) == double_bits(1.1f) &&
	          get32(DATA_BASE + 72) == get32(DATA_BASE) && get16(DATA_BASE + 76) == (uint16_t)-32000 &&
	          get64(DATA_BASE + 80) == double_bits(-32000.0) &&
	          get64(DATA_BASE + 88) == 0x7000000000000001ull && f32 == (float)third &&
	          (get16(DATA_BASE + 100) & SW_PE) && memcmp(mem + DATA_BASE + 104, mem + DATA_BASE + 32, 10) == 0 &&
	          cpu.fpu.tag == 0xffff;
	check(ok, name, "fstl %#llx fstps %#x fists %#x fstpl %#llx fistpll %#llx f32 %a sw %#x tag %#x",
	      (unsigned long long)get64(DATA_BASE + 64), get32(DATA_BASE + 72), get16(DATA_BASE + 76),
	      (unsigned long long)get64(DATA_BASE + 80), (unsigned long long)get64(DATA_BASE + 88),
	      f32, get16(DATA_BASE + 100), cpu.fpu.tag);

	name = "register_moves";
	reset();
	putd(DATA_BASE, 2.0);
	putd(DATA_BASE + 8, 3.0);
	FLD_M64(DATA_BASE);     /* st1 = 2 */
	FLD_M64(DATA_BASE + 8); /* st0 = 3 */
	b2(0xd9, 0xc9);         /* fxch st(1): st0 = 2, st1 = 3 */
	b2(0xd9, 0xc1);         /* fld st(1): st0 = 3, st1 = 2, st2 = 3 */
	b2(0xdd, 0xd2);         /* fst st(2): st2 = 3 */
	b2(0xdd, 0xda);         /* fstp st(2): st1 = 3 ... st0 = 2, st1 = 3 */
	b2(0xdd, 0xc1);         /* ffree st(1) */
	b2(0xd9, 0xf7);         /* fincstp: st0 = the freed register */
	b2(0xd9, 0xf6);         /* fdecstp */
	FSTP_M80(DATA_BASE + 16);
	b2(0xdf, 0xe0);
	if (!run_to_hlt(name))
		return;
	uint16_t sw = (uint16_t)cpu.regs[CPU_EAX];
	/* Everything popped or freed: all tags empty, TOP back at 7 after three pushes, two pops. */
	check(same80(get80(DATA_BASE + 16), 2.0L) && SW_TOP(sw) == 7 && cpu.fpu.tag == 0xffff &&
	      !(sw & SW_IE),
	      name, "st0 %La sw %#x tag %#x", get80(DATA_BASE + 16), sw, cpu.fpu.tag);

	name = "fcmov";
	reset();
	putd(DATA_BASE, 2.0);
	putd(DATA_BASE + 8, 3.0);
	cpu_set_eflags(&cpu, EFLAGS_FIXED1 | EFLAGS_CF);
	FLD_M64(DATA_BASE);
	FLD_M64(DATA_BASE + 8); /* st0 = 3, st1 = 2 */
	b2(0xda, 0xc1);         /* fcmovb st(0), st(1): CF = 1, moves */
	FSTP_M80(DATA_BASE + 16);
	FLD_M64(DATA_BASE + 8); /* st0 = 3, st1 = 2 */
	b2(0xdb, 0xc1);         /* fcmovnb: CF = 1, no move */
	FSTP_M80(DATA_BASE + 32);
	FLD_M64(DATA_BASE + 8);
	b2(0xda, 0xc9); /* fcmove: ZF = 0, no move */
	FSTP_M80(DATA_BASE + 48);
	if (!run_to_hlt(name))
		return;
	check(get80(DATA_BASE + 16) == 2.0L && get80(DATA_BASE + 32) == 3.0L &&
	      get80(DATA_BASE + 48) == 3.0L,
	      name, "%La %La %La", get80(DATA_BASE + 16), get80(DATA_BASE + 32),
	      get80(DATA_BASE + 48));
}

/* fisttp is SSE3 and not advertised: it must stop as unimplemented, not run. */
static void test_unimplemented(void)
{
	const char *name = "fisttp_unimplemented";
	reset();
	FLD1();
	uint32_t at = op_mem(0xdb, 1, DATA_BASE);
	enum cpu_stop_kind k = run();
	check(k == CPU_STOP_UNIMPLEMENTED && stop.eip == at && cpu.fpu.top == 7,
	      name, "stop %s at %#x", cpu_stop_kind_name(k), stop.eip);
}

#if defined(__x86_64__)
/*
 * The host is itself an x87: run the same instruction bytes natively and
 * through the interpreter and compare results, status words and tags bit
 * for bit.  Operands are addressed as [ebx+disp8], which means [rbx+disp8]
 * natively; the native code is wrapped in push rbx; mov rbx, rdi ... ret.
 * Transcendentals are left out: libm and the silicon differ in the last ulp.
 */
static uint8_t *native_code;

/* Image offsets: +0 control word, +16 ST(1), +32 ST(0), +96 memory operand, results after. */
enum { IMG_CW = 0, IMG_SW = 2, IMG_B = 16, IMG_A = 32, IMG_R0 = 48, IMG_R1 = 64, IMG_ENV = 80,
       IMG_MEM = 96, IMG_INT = 112, IMG_SIZE = 128 };

static void emit_ebx(uint8_t *code, unsigned *n, uint8_t opcode, unsigned reg, uint8_t disp)
{
	code[(*n)++] = opcode;
	code[(*n)++] = (uint8_t)(0x40 | reg << 3 | 3);
	code[(*n)++] = disp;
}

/* fninit; fldcw; fld b; fld a; the instruction; fnstsw; fnstenv/fldenv; two fstp m80. */
static unsigned differential_body(uint8_t *code, const uint8_t *insn, unsigned len)
{
	unsigned n = 0;
	code[n++] = 0xdb;
	code[n++] = 0xe3;
	emit_ebx(code, &n, 0xd9, 5, IMG_CW);
	emit_ebx(code, &n, 0xdb, 5, IMG_B);
	emit_ebx(code, &n, 0xdb, 5, IMG_A);
	memcpy(code + n, insn, len);
	n += len;
	emit_ebx(code, &n, 0xdd, 7, IMG_SW);
	emit_ebx(code, &n, 0xd9, 6, IMG_ENV);
	emit_ebx(code, &n, 0xd9, 4, IMG_ENV);
	emit_ebx(code, &n, 0xdb, 7, IMG_R0);
	emit_ebx(code, &n, 0xdb, 7, IMG_R1);
	code[n++] = 0xdb;
	code[n++] = 0xe2;
	return n;
}

/* One run on both; returns whether they agree (FIP/FDP excepted). */
static bool differential_one(const uint8_t *insn, unsigned len, const uint8_t image[IMG_SIZE])
{
	uint8_t body[64];
	unsigned n = differential_body(body, insn, len);
	uint8_t native[IMG_SIZE];
	memcpy(native, image, IMG_SIZE);
	static const uint8_t prologue[] = { 0x53, 0x48, 0x89, 0xfb }, epilogue[] = { 0x5b, 0xc3 };
	memcpy(native_code, prologue, 4);
	memcpy(native_code + 4, body, n);
	memcpy(native_code + 4 + n, epilogue, 2);
	void (*fn)(void *);
	void *entry = native_code;
	memcpy(&fn, &entry, sizeof(fn));
	fn(native);
	__asm__ volatile("fninit");

	reset();
	memcpy(mem + DATA_BASE, image, IMG_SIZE);
	memcpy(mem + pc, body, n);
	pc += n;
	cpu.regs[CPU_EBX] = DATA_BASE;
	if (run() != CPU_STOP_HLT)
		return false;
	const uint8_t *emu = mem + DATA_BASE;
	return memcmp(native + IMG_SW, emu + IMG_SW, 2) == 0 &&
	       memcmp(native + IMG_R0, emu + IMG_R0, 10) == 0 &&
	       memcmp(native + IMG_R1, emu + IMG_R1, 10) == 0 &&
	       memcmp(native + IMG_ENV, emu + IMG_ENV, 12) == 0 &&
	       memcmp(native + IMG_INT, emu + IMG_INT, 10) == 0;
}

static long double ext(uint16_t sign_exp, uint64_t mant)
{
	long double v = 0;
	memcpy(&v, &mant, 8);
	memcpy((char *)&v + 8, &sign_exp, 2);
	return v;
}

static void test_native_differential(void)
{
	native_code = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS,
	                   -1, 0);
	if (native_code == MAP_FAILED) {
		check(false, "native_differential", "cannot map executable memory");
		return;
	}
	const long double values[] = {
		0.0L, -0.0L, 1.0L, -1.5L, 1.0L / 3, 0x1p70L, -0x1p63L, 1e-300L, 0x1p-16400L, LDBL_MIN,
		LDBL_MAX, INFINITY, -INFINITY, ext(0x7fff, 0xc000000000000001ull) /* QNaN */,
		ext(0xffff, 0xa000000000000000ull) /* SNaN */, ext(0x4000, 0x4000000000000000ull) /* unnormal */,
		2.5L, -7.0L, 0x1.8p15L,
	};
	const unsigned nv = sizeof(values) / sizeof(values[0]);
	/* Register forms, then memory forms on [ebx+IMG_MEM] (m64 and m32 of b, stores to IMG_INT). */
	static const uint8_t forms[][3] = {
		{ 0xd8, 0xc1 }, { 0xd8, 0xc9 }, { 0xd8, 0xd1 }, { 0xd8, 0xd9 }, { 0xd8, 0xe1 },
		{ 0xd8, 0xe9 }, { 0xd8, 0xf1 }, { 0xd8, 0xf9 }, { 0xdc, 0xc1 }, { 0xdc, 0xe1 },
		{ 0xdc, 0xe9 }, { 0xdc, 0xf1 }, { 0xdc, 0xf9 }, { 0xde, 0xc1 }, { 0xde, 0xe9 },
		{ 0xde, 0xf9 }, { 0xde, 0xd9 }, { 0xda, 0xe9 }, { 0xdd, 0xe1 }, { 0xd9, 0xc9 },
		{ 0xdd, 0xd9 }, { 0xd9, 0xe0 }, { 0xd9, 0xe1 }, { 0xd9, 0xe4 }, { 0xd9, 0xe5 },
		{ 0xd9, 0xfa }, { 0xd9, 0xfc }, { 0xd9, 0xf4 }, { 0xd9, 0xf8 }, { 0xd9, 0xf5 },
		{ 0xd9, 0xfd }, { 0xdc, 0x73, IMG_MEM }, { 0xdc, 0x43, IMG_MEM }, { 0xd8, 0x7b, IMG_MEM },
		{ 0xd8, 0x53, IMG_MEM }, { 0xdb, 0x53, IMG_INT }, { 0xdf, 0x7b, IMG_INT },
		{ 0xdf, 0x53, IMG_INT }, { 0xd9, 0x53, IMG_INT }, { 0xdd, 0x53, IMG_INT },
		{ 0xdf, 0x73, IMG_INT },
	};
	for (unsigned k = 0; k < sizeof(forms) / sizeof(forms[0]); k++) {
		unsigned len = (forms[k][1] & 0xc0) == 0x40 ? 3 : 2;
		bool ok = true;
		char why[160] = "";
		for (unsigned rc = 0; rc < 4 && ok; rc++) {
			for (unsigned x = 0; x < nv && ok; x++) {
				for (unsigned y = 0; y < nv && ok; y++) {
					uint8_t image[IMG_SIZE] = { 0 };
					uint16_t cw = (uint16_t)(0x037f | rc << 10);
					double as_double = (double)values[y];
					float as_float = (float)values[y];
					memcpy(image + IMG_CW, &cw, 2);
					memcpy(image + IMG_B, &values[y], 10);
					memcpy(image + IMG_A, &values[x], 10);
					if (forms[k][0] == 0xd8)
						memcpy(image + IMG_MEM, &as_float, 4);
					else
						memcpy(image + IMG_MEM, &as_double, 8);
					memset(image + IMG_INT, 0x5a, 10);
					if (!differential_one(forms[k], len, image)) {
						ok = false;
						snprintf(why, sizeof(why), "rc %u, st0 %La, st1 %La", rc, values[x],
						         values[y]);
					}
				}
			}
		}
		char name[64];
		snprintf(name, sizeof(name), "native_differential_%02x_%02x", forms[k][0], forms[k][1]);
		check(ok, name, "%s", why);
	}
	munmap(native_code, 4096);
}
#endif

int main(void)
{
	mem = aligned_alloc(4096, MEM_SIZE);
	if (!mem)
		return 2;
	cpu_init(&cpu, &host_ops, NULL);
	test_linux_fdiv_check();
	test_fninit_state();
	test_arith_memory();
	test_arith_register();
	test_rounding_arith();
	test_fnsave_frstor();
	test_fnsave16_fnstenv();
	test_stack_faults();
	test_divide_by_zero();
	test_compares();
	test_fist_rounding();
	test_device_not_available();
	test_pending_mf();
	test_constants_and_unary();
	test_fprem();
	test_misc_two_operand();
	test_formats_and_stack();
	test_unimplemented();
#if defined(__x86_64__)
	test_native_differential();
#endif
	cpu_destroy(&cpu);
	free(mem);
	return failures ? 1 : 0;
}
