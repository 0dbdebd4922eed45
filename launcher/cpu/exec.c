/*
 * The instruction loop (exec_run) and the one-byte opcode map: prefix
 * decoding and the integer instructions.
 *
 * exec_one() reads prefixes in any order and any number, then dispatches
 * on the opcode.  Faults are precise by construction: every instruction
 * does all that can fault (reads, checks, probes, the memory write) before
 * it changes a general register, eip or a segment register.  Only the
 * flags are snapshotted (they are cheap to copy and set in many places),
 * and instructions that write memory more than once probe first.
 */
#include <string.h>

#include "core.h"

/*
 * The instruction loop is sensitive to one optimisation: gcc's
 * straight-line vectoriser merges neighbouring 32-bit loads of state the
 * previous instruction has just stored (eip, eflags, registers) into wide
 * loads, which the processor cannot forward from the narrow stores; the
 * stall costs about a third of the throughput.
 */
#pragma GCC optimize("no-tree-slp-vectorize")

/* The eight ALU operations of the 00-3F block and group 1; sets flags lazily. */
ALWAYS_INLINE uint32_t alu(struct cpu *cpu, unsigned op, uint32_t a, uint32_t b, unsigned size)
{
	uint32_t r, c;
	switch (op) {
	case 0: r = a + b; lf_set(cpu, LF_ADD, r, a, b, size); break;
	case 1: r = a | b; lf_set(cpu, LF_LOGIC, r, a, b, size); break;
	case 2:
		c = flags_cf(cpu);
		r = a + b + c;
		lf_set(cpu, LF_ADC, r, a, b, size);
		cpu->priv->lf.carry = (uint8_t)c;
		break;
	case 3:
		c = flags_cf(cpu);
		r = a - b - c;
		lf_set(cpu, LF_SBB, r, a, b, size);
		cpu->priv->lf.carry = (uint8_t)c;
		break;
	case 4: r = a & b; lf_set(cpu, LF_LOGIC, r, a, b, size); break;
	case 6: r = a ^ b; lf_set(cpu, LF_LOGIC, r, a, b, size); break;
	default: r = a - b; lf_set(cpu, LF_SUB, r, a, b, size); break; /* sub, cmp */
	}
	return r & size_mask(size);
}

/* inc and dec keep CF: it rides along as the lazy carry. */
ALWAYS_INLINE uint32_t inc_dec(struct cpu *cpu, bool dec, uint32_t a, unsigned size)
{
	uint8_t cf = (uint8_t)flags_cf(cpu);
	uint32_t r = (dec ? a - 1 : a + 1) & size_mask(size);
	lf_set(cpu, dec ? LF_DEC : LF_INC, r, a, 1, size);
	cpu->priv->lf.carry = cf;
	return r;
}

/*
 * Group 2: rol ror rcl rcr shl shr sal sar.  The count is masked to five
 * bits; a zero count changes nothing, flags included.  Where the SDM
 * leaves a flag undefined (OF for counts above one, AF) we use the
 * one-bit formula and clear AF.
 */
ALWAYS_INLINE uint32_t shift(struct cpu *cpu, unsigned kind, uint32_t a, unsigned count,
                             unsigned size)
{
	unsigned bits = size * 8;
	uint32_t m = size_mask(size), sign = 1u << (bits - 1);
	uint32_t r, cf, of, f = 0;
	bool arith = false;

	a &= m;
	count &= 0x1f;
	if (count == 0)
		return a;
	switch (kind) {
	case 0: { /* rol */
		unsigned c = count % bits;
		r = c ? ((a << c) | (a >> (bits - c))) & m : a;
		cf = r & 1;
		of = ((r & sign) != 0) ^ cf;
		break;
	}
	case 1: { /* ror */
		unsigned c = count % bits;
		r = c ? ((a >> c) | (a << (bits - c))) & m : a;
		cf = (r & sign) != 0;
		of = cf ^ ((r >> (bits - 2)) & 1);
		break;
	}
	case 2: { /* rcl: rotate the bits+1 bit quantity CF:a */
		unsigned c = size == 4 ? count : count % (bits + 1);
		uint64_t wm = (1ull << (bits + 1)) - 1;
		uint64_t w = a | ((uint64_t)flags_cf(cpu) << bits);
		w = ((w << c) | (w >> (bits + 1 - c))) & wm;
		r = (uint32_t)w & m;
		cf = (w >> bits) & 1;
		of = ((r & sign) != 0) ^ cf;
		break;
	}
	case 3: { /* rcr */
		unsigned c = size == 4 ? count : count % (bits + 1);
		uint64_t wm = (1ull << (bits + 1)) - 1;
		uint64_t w = a | ((uint64_t)flags_cf(cpu) << bits);
		w = ((w >> c) | (w << (bits + 1 - c))) & wm;
		r = (uint32_t)w & m;
		cf = (w >> bits) & 1;
		of = ((r & sign) != 0) ^ ((r >> (bits - 2)) & 1);
		break;
	}
	case 5: /* shr */
		r = a >> count;
		cf = (a >> (count - 1)) & 1;
		of = (a & sign) != 0;
		arith = true;
		break;
	case 7: { /* sar */
		int32_t sa = (int32_t)(a << (32 - bits)) >> (32 - bits);
		r = (uint32_t)(sa >> count) & m;
		cf = (uint32_t)(sa >> (count - 1)) & 1;
		of = 0;
		arith = true;
		break;
	}
	default: { /* shl, sal */
		uint64_t w = (uint64_t)a << count;
		r = (uint32_t)w & m;
		cf = (w >> bits) & 1;
		of = ((r & sign) != 0) ^ cf;
		arith = true;
		break;
	}
	}
	f = (cf ? EFLAGS_CF : 0) | (of ? EFLAGS_OF : 0);
	if (arith)
		flags_put(cpu, EFLAGS_ARITH, f | flags_szp(r, size));
	else
		flags_put(cpu, EFLAGS_CF | EFLAGS_OF, f);
	return r;
}

/* mul/imul with one operand: the double-width product into (e)dx:(e)ax or ax. */
static void mul_wide(struct cpu *cpu, bool is_signed, uint32_t src, unsigned size)
{
	uint32_t lo, hi;
	bool overflow;
	if (size == 1) {
		uint32_t al = cpu->regs[CPU_EAX] & 0xff;
		uint32_t p = is_signed ? (uint32_t)((int8_t)al * (int8_t)src) : al * (src & 0xff);
		reg_set(cpu, CPU_EAX, 2, p);
		lo = p & 0xff;
		overflow = is_signed ? (int16_t)p != (int8_t)p : (p & 0xff00) != 0;
	} else if (size == 2) {
		uint32_t ax = cpu->regs[CPU_EAX] & 0xffff;
		uint32_t p = is_signed ? (uint32_t)((int16_t)ax * (int16_t)src) : ax * (src & 0xffff);
		reg_set(cpu, CPU_EAX, 2, p);
		reg_set(cpu, CPU_EDX, 2, p >> 16);
		lo = p & 0xffff;
		overflow = is_signed ? (int32_t)p != (int16_t)p : (p >> 16) != 0;
	} else {
		uint64_t p = is_signed ? (uint64_t)((int64_t)(int32_t)cpu->regs[CPU_EAX] * (int32_t)src)
		                       : (uint64_t)cpu->regs[CPU_EAX] * src;
		lo = (uint32_t)p;
		hi = (uint32_t)(p >> 32);
		cpu->regs[CPU_EAX] = lo;
		cpu->regs[CPU_EDX] = hi;
		overflow = is_signed ? (int64_t)p != (int32_t)lo : hi != 0;
	}
	flags_put(cpu, EFLAGS_ARITH,
	          (overflow ? EFLAGS_CF | EFLAGS_OF : 0) | flags_szp(lo, size));
}

/* imul with two or three operands: the truncated product; CF=OF on overflow. */
uint32_t imul_trunc(struct cpu *cpu, uint32_t a, uint32_t b, unsigned size)
{
	int64_t p;
	bool overflow;
	uint32_t r;
	if (size == 2) {
		p = (int64_t)(int16_t)a * (int16_t)b;
		r = (uint32_t)p & 0xffff;
		overflow = p != (int16_t)r;
	} else {
		p = (int64_t)(int32_t)a * (int32_t)b;
		r = (uint32_t)p;
		overflow = p != (int32_t)r;
	}
	flags_put(cpu, EFLAGS_ARITH, (overflow ? EFLAGS_CF | EFLAGS_OF : 0) | flags_szp(r, size));
	return r;
}

/* div/idiv: #DE on a zero divisor or a quotient that does not fit. */
static void divide(struct cpu *cpu, bool is_signed, uint32_t src, unsigned size)
{
	uint32_t m = size_mask(size);
	src &= m;
	if (src == 0)
		cpu_raise(cpu, CPU_DE, false, 0);
	if (size == 1) {
		uint32_t ax = cpu->regs[CPU_EAX] & 0xffff;
		if (is_signed) {
			int32_t q = (int16_t)ax / (int8_t)src, r = (int16_t)ax % (int8_t)src;
			if (q > 127 || q < -128)
				cpu_raise(cpu, CPU_DE, false, 0);
			reg_set(cpu, CPU_EAX, 2, ((uint32_t)r & 0xff) << 8 | ((uint32_t)q & 0xff));
		} else {
			uint32_t q = ax / src, r = ax % src;
			if (q > 0xff)
				cpu_raise(cpu, CPU_DE, false, 0);
			reg_set(cpu, CPU_EAX, 2, r << 8 | q);
		}
		return;
	}
	uint64_t n = size == 2 ? ((cpu->regs[CPU_EDX] & 0xffff) << 16) | (cpu->regs[CPU_EAX] & 0xffff)
	                       : ((uint64_t)cpu->regs[CPU_EDX] << 32) | cpu->regs[CPU_EAX];
	uint64_t q, r;
	if (is_signed) {
		int64_t sn = size == 2 ? (int64_t)(int32_t)n : (int64_t)n;
		int64_t sd = size == 2 ? (int16_t)src : (int32_t)src;
		if (sd == -1 && sn == INT64_MIN)
			cpu_raise(cpu, CPU_DE, false, 0);
		int64_t sq = sn / sd, sr = sn % sd;
		int64_t lim = size == 2 ? 0x7fff : 0x7fffffff;
		if (sq > lim || sq < -lim - 1)
			cpu_raise(cpu, CPU_DE, false, 0);
		q = (uint64_t)sq;
		r = (uint64_t)sr;
	} else {
		q = n / src;
		r = n % src;
		if (q > m)
			cpu_raise(cpu, CPU_DE, false, 0);
	}
	reg_set(cpu, CPU_EAX, size, (uint32_t)q);
	reg_set(cpu, CPU_EDX, size, (uint32_t)r);
}

/* Group 3 (F6/F7): test not neg mul imul div idiv. */
static void group3(struct cpu *cpu, struct insn *in, unsigned size)
{
	unsigned op = modrm_reg(in);
	uint32_t a, r;
	switch (op) {
	case 0:
	case 1:
		a = rm_read(cpu, in, size);
		r = a & fetch_imm(cpu, in, size);
		lf_set(cpu, LF_LOGIC, r, a, 0, size);
		break;
	case 2:
		a = rm_read_rmw(cpu, in, size);
		rm_write(cpu, in, size, ~a);
		break;
	case 3:
		a = rm_read_rmw(cpu, in, size);
		r = (0 - a) & size_mask(size);
		rm_write(cpu, in, size, r);
		lf_set(cpu, LF_SUB, r, 0, a, size);
		break;
	case 4:
	case 5:
		mul_wide(cpu, op == 5, rm_read(cpu, in, size), size);
		break;
	default:
		divide(cpu, op == 7, rm_read(cpu, in, size), size);
		break;
	}
}

/* Group 5 (FF): inc dec call callf jmp jmpf push. */
static void group5(struct cpu *cpu, struct insn *in)
{
	unsigned size = OSZ(in);
	uint32_t v;
	switch (modrm_reg(in)) {
	case 0:
	case 1:
		v = rm_read_rmw(cpu, in, size);
		rm_write(cpu, in, size, inc_dec(cpu, modrm_reg(in) == 1, v, size));
		break;
	case 2: {
		uint32_t return_to = in->next;
		jump_near(cpu, in, rm_read(cpu, in, size));
		push(cpu, size, return_to);
		break;
	}
	case 4:
		jump_near(cpu, in, rm_read(cpu, in, size));
		break;
	case 3:
	case 5: {
		require_memory(cpu, in);
		uint32_t off = mem_read(cpu, in->ea_seg, in->ea, size);
		uint16_t sel = (uint16_t)mem_read(cpu, in->ea_seg, in->ea + size, 2);
		if (modrm_reg(in) == 3)
			far_call(cpu, in, sel, off);
		else
			far_jump(cpu, in, sel, off);
		break;
	}
	case 6:
		push(cpu, size, rm_read(cpu, in, size));
		break;
	default:
		cpu_raise(cpu, CPU_UD, false, 0);
	}
}

/* aaa, aas, daa, das: decimal adjustment after add/subtract. */
static void bcd_adjust(struct cpu *cpu, uint8_t op)
{
	uint32_t f = flags_arith(cpu);
	uint32_t al = cpu->regs[CPU_EAX] & 0xff, old_al = al;
	bool af = f & EFLAGS_AF, cf = f & EFLAGS_CF, new_cf = false, new_af = false;

	switch (op) {
	case 0x37: /* aaa */
	case 0x3f: /* aas */
		if ((al & 0xf) > 9 || af) {
			uint32_t ax = cpu->regs[CPU_EAX] & 0xffff;
			ax = op == 0x37 ? ax + 0x106 : ax - 6 - 0x100; /* the borrow reaches ah */
			reg_set(cpu, CPU_EAX, 2, ax);
			new_af = new_cf = true;
		}
		al = cpu->regs[CPU_EAX] & 0xf;
		reg_set(cpu, CPU_EAX, 1, al);
		break;
	case 0x27: /* daa */
		if ((al & 0xf) > 9 || af) {
			new_cf = cf || al + 6 > 0xff;
			al = (al + 6) & 0xff;
			new_af = true;
		}
		if (old_al > 0x99 || cf) {
			al = (al + 0x60) & 0xff;
			new_cf = true;
		}
		reg_set(cpu, CPU_EAX, 1, al);
		break;
	default: /* das */
		if ((al & 0xf) > 9 || af) {
			new_cf = cf || al < 6;
			al = (al - 6) & 0xff;
			new_af = true;
		}
		if (old_al > 0x99 || cf) {
			al = (al - 0x60) & 0xff;
			new_cf = true;
		}
		reg_set(cpu, CPU_EAX, 1, al);
		break;
	}
	flags_put(cpu, EFLAGS_ARITH, flags_szp(al, 1) | (new_cf ? EFLAGS_CF : 0) |
	                             (new_af ? EFLAGS_AF : 0));
}

/*
 * The lock prefix is legal only on read-modify-write instructions with a
 * memory destination; everywhere else it is #UD.
 */
static void lock_check(struct cpu *cpu, struct insn *in, uint8_t op)
{
	uint32_t save = in->next;
	bool ok = false;
	uint8_t b = op, m;
	if (op == 0x0f)
		b = fetch8(cpu, in);
	m = fetch8(cpu, in);
	unsigned reg = (m >> 3) & 7;
	bool mem = m < 0xc0;
	in->next = save;
	if (op == 0x0f) {
		ok = b == 0xab || b == 0xb3 || b == 0xbb || b == 0xb0 || b == 0xb1 || b == 0xc0 ||
		     b == 0xc1 || (b == 0xba && reg >= 5) || (b == 0xc7 && reg == 1);
	} else {
		ok = (op < 0x40 && (op & 7) < 2 && (op & 0x38) != 0x38) ||
		     (op >= 0x80 && op <= 0x83 && reg != 7) || op == 0x86 || op == 0x87 ||
		     ((op == 0xf6 || op == 0xf7) && (reg == 2 || reg == 3)) ||
		     ((op == 0xfe || op == 0xff) && reg < 2);
	}
	if (!ok || !mem)
		cpu_raise(cpu, CPU_UD, false, 0);
}

/* mov Sw, Ew / mov Ew, Sw: sreg 6 and 7 do not exist, and CS cannot be loaded. */
static void mov_sreg(struct cpu *cpu, struct insn *in, bool to_sreg)
{
	unsigned s = modrm_reg(in);
	if (s >= CPU_NSREGS || (to_sreg && s == CPU_CS))
		cpu_raise(cpu, CPU_UD, false, 0);
	if (to_sreg) {
		seg_load(cpu, (enum cpu_sreg)s, (uint16_t)rm_read(cpu, in, 2));
	} else if (modrm_is_reg(in)) {
		reg_set(cpu, in->modrm & 7, OSZ(in), cpu->seg[s].selector);
	} else {
		mem_write(cpu, in->ea_seg, in->ea, 2, cpu->seg[s].selector);
	}
}

/* push of a segment register: a 32-bit push writes only the low 16 bits, as Intel parts do. */
static void push_sreg(struct cpu *cpu, struct insn *in, enum cpu_sreg s)
{
	unsigned size = OSZ(in);
	uint32_t sp = stack_ptr(cpu) - size;
	if (!stack32(cpu))
		sp &= 0xffff;
	mem_write(cpu, CPU_SS, sp, 2, cpu->seg[s].selector);
	stack_set(cpu, sp);
}

/* pop of a segment register: the load is checked first, so a bad selector leaves ESP alone. */
static void pop_sreg(struct cpu *cpu, struct insn *in, enum cpu_sreg s)
{
	unsigned size = OSZ(in);
	seg_load(cpu, s, (uint16_t)stack_peek(cpu, 0, size));
	stack_drop(cpu, size);
}

/* les, lds, lss, lfs, lgs: a far pointer from memory into sreg:reg. */
void load_far_pointer(struct cpu *cpu, struct insn *in, enum cpu_sreg s)
{
	unsigned size = OSZ(in);
	require_memory(cpu, in);
	uint32_t off = mem_read(cpu, in->ea_seg, in->ea, size);
	uint16_t sel = (uint16_t)mem_read(cpu, in->ea_seg, in->ea + size, 2);
	seg_load(cpu, s, sel);
	reg_set(cpu, modrm_reg(in), size, off);
}

/* pusha: probe the whole frame first so that a fault writes nothing. */
static void pusha(struct cpu *cpu, struct insn *in)
{
	unsigned size = OSZ(in);
	uint32_t sp = stack_ptr(cpu);
	uint32_t base = sp - 8 * size;
	if (!stack32(cpu))
		base &= 0xffff;
	cpu_mem_probe_write(cpu, CPU_SS, base, 8 * size);
	for (unsigned r = 0; r < 8; r++) {
		uint32_t v = r == CPU_ESP ? sp : cpu->regs[r];
		mem_write(cpu, CPU_SS, (base + (7 - r) * size) & (stack32(cpu) ? ~0u : 0xffffu), size, v);
	}
	stack_set(cpu, base);
}

/* popa: read all eight slots before changing any register; the saved ESP is skipped. */
static void popa(struct cpu *cpu, struct insn *in)
{
	unsigned size = OSZ(in);
	uint32_t v[8];
	for (unsigned i = 0; i < 8; i++)
		v[7 - i] = stack_peek(cpu, i * size, size);
	for (unsigned r = 0; r < 8; r++)
		if (r != CPU_ESP)
			reg_set(cpu, r, size, v[r]);
	stack_drop(cpu, 8 * size);
}

/* Push onto enter's local copy of the frame (which fills from the top down). */
static void frame_push(uint8_t *frame_bytes, uint32_t total, uint32_t *pushed, unsigned size,
                       uint32_t v)
{
	*pushed += size;
	memcpy(frame_bytes + total - *pushed, &v, size);
}

/*
 * enter: build a frame with `level` nesting levels.  The frame is built
 * in a local copy first (the outer frame pointers are read through it,
 * since they may lie in the part just pushed), then the whole frame is
 * probed and written, so a fault writes nothing.
 */
static void enter(struct cpu *cpu, struct insn *in)
{
	unsigned size = OSZ(in);
	uint32_t alloc = fetch16(cpu, in);
	unsigned level = fetch8(cpu, in) & 31;
	uint32_t sp_mask = stack32(cpu) ? 0xffffffffu : 0xffffu;
	uint32_t pushes = level ? level + 1 : 1, total = pushes * size;
	uint32_t sp = stack_ptr(cpu);
	uint32_t low = (sp - total) & sp_mask;
	uint8_t frame_bytes[32 * 4];
	uint32_t pushed = 0;

	frame_push(frame_bytes, total, &pushed, size, reg_get(cpu, CPU_EBP, size));
	uint32_t frame = (sp - size) & sp_mask;
	uint32_t bp = cpu->regs[CPU_EBP] & sp_mask;
	for (unsigned i = 1; i < level; i++) {
		bp = (bp - size) & sp_mask;
		uint32_t v = mem_read(cpu, CPU_SS, bp, size);
		for (unsigned j = 0; j < size; j++) {
			uint32_t rel = (bp + j - low) & sp_mask;
			if (rel >= total - pushed && rel < total)
				v = (v & ~(0xffu << (8 * j))) | ((uint32_t)frame_bytes[rel] << (8 * j));
		}
		frame_push(frame_bytes, total, &pushed, size, v);
	}
	if (level)
		frame_push(frame_bytes, total, &pushed, size, frame);

	cpu_mem_probe_write(cpu, CPU_SS, low, total);
	for (uint32_t off = 0; off < total; off += size) {
		uint32_t v = 0;
		memcpy(&v, frame_bytes + off, size);
		mem_write(cpu, CPU_SS, (low + off) & sp_mask, size, v);
	}
	reg_set(cpu, CPU_EBP, size, frame);
	stack_set(cpu, (low - alloc) & sp_mask);
}

/* leave: drop the frame enter built (ESP = EBP) and pop the caller's EBP. */
static void leave(struct cpu *cpu, struct insn *in)
{
	unsigned size = OSZ(in);
	uint32_t bp = stack32(cpu) ? cpu->regs[CPU_EBP] : cpu->regs[CPU_EBP] & 0xffff;
	uint32_t v = mem_read(cpu, CPU_SS, bp, size);
	stack_set(cpu, bp + size);
	reg_set(cpu, CPU_EBP, size, v);
}

/* bound: #BR when the signed index lies outside [lower, upper]. */
static void bound(struct cpu *cpu, struct insn *in)
{
	unsigned size = OSZ(in);
	require_memory(cpu, in);
	int32_t idx, lo, hi;
	if (size == 2) {
		idx = (int16_t)reg_get(cpu, modrm_reg(in), 2);
		lo = (int16_t)mem_read(cpu, in->ea_seg, in->ea, 2);
		hi = (int16_t)mem_read(cpu, in->ea_seg, in->ea + 2, 2);
	} else {
		idx = (int32_t)cpu->regs[modrm_reg(in)];
		lo = (int32_t)mem_read(cpu, in->ea_seg, in->ea, 4);
		hi = (int32_t)mem_read(cpu, in->ea_seg, in->ea + 4, 4);
	}
	if (idx < lo || idx > hi)
		cpu_raise(cpu, CPU_BR, false, 0);
}

/* x87 escape: the x87 unit may change its state before faulting, so keep a copy. */
static void x87_escape(struct cpu *cpu, struct insn *in, uint8_t op)
{
	modrm(cpu, in);
	cpu->priv->fpu_saved = cpu->fpu;
	cpu->priv->fpu_saved_valid = true;
	if (modrm_is_reg(in)) {
		in->ea_seg = CPU_DS; /* no memory operand */
		in->ea = 0;
	}
	x87_execute(cpu, op, in->modrm, in->ea_seg, in->ea, in->op16);
	cpu->priv->fpu_saved_valid = false;
}

/* loop, loope, loopne, jecxz: the counter is cx under a 0x67 prefix. */
static void loop_insn(struct cpu *cpu, struct insn *in, uint8_t op)
{
	uint32_t disp = sext8(fetch8(cpu, in));
	uint32_t target = in->next + disp; /* relative to the end of the instruction */
	unsigned csize = in->addr16 ? 2 : 4;
	uint32_t count = reg_get(cpu, CPU_ECX, csize);
	if (op != 0xe3)
		count = (count - 1) & size_mask(csize);
	bool taken = op == 0xe3 ? count == 0 : count != 0;
	if (op == 0xe1)
		taken = taken && flags_cond(cpu, 4);
	else if (op == 0xe0)
		taken = taken && !flags_cond(cpu, 4);
	if (taken)
		jump_near(cpu, in, target); /* may fault: ecx changes only after it */
	if (op != 0xe3)
		reg_set(cpu, CPU_ECX, csize, count);
}

/*
 * The two-byte opcodes compiled code uses all the time (jcc rel32,
 * movzx/movsx, setcc, cmovcc, imul) are handled here, inline in the loop; the
 * rest of the 0F map is exec_0f().
 */
ALWAYS_INLINE void hot_0f(struct cpu *cpu, struct insn *in)
{
	uint8_t op = fetch8(cpu, in);
	unsigned size = OSZ(in);
	uint32_t a;
	switch (op) {
	case 0x80 ... 0x8f: {
		uint32_t disp = size == 2 ? (uint32_t)(int32_t)(int16_t)fetch16(cpu, in) : fetch32(cpu, in);
		if (flags_cond(cpu, op & 0xf))
			jump_near(cpu, in, in->next + disp);
		break;
	}
	case 0xb6: case 0xb7: case 0xbe: case 0xbf: {
		unsigned ssize = (op & 1) ? 2 : 1;
		modrm(cpu, in);
		a = rm_read(cpu, in, ssize);
		if (op >= 0xbe)
			a = ssize == 1 ? sext8(a) : (uint32_t)(int32_t)(int16_t)a;
		reg_set(cpu, modrm_reg(in), size, a);
		break;
	}
	case 0x90 ... 0x9f:
		modrm(cpu, in);
		rm_write(cpu, in, 1, flags_cond(cpu, op & 0xf));
		break;
	case 0x40 ... 0x4f:
		modrm(cpu, in);
		a = rm_read(cpu, in, size);
		if (flags_cond(cpu, op & 0xf))
			reg_set(cpu, modrm_reg(in), size, a);
		break;
	case 0xaf:
		modrm(cpu, in);
		a = rm_read(cpu, in, size);
		reg_set(cpu, modrm_reg(in), size, imul_trunc(cpu, reg_get(cpu, modrm_reg(in), size), a, size));
		break;
	default:
		exec_0f(cpu, in, op);
	}
}

/* The one-byte map, after the prefixes. */
ALWAYS_INLINE void execute(struct cpu *cpu, struct insn *in, uint8_t op)
{
	unsigned size = (op & 1) ? OSZ(in) : 1;
	uint32_t a, b, r;

	switch (op) {
	case 0x00 ... 0x05: case 0x08 ... 0x0d: case 0x10 ... 0x15: case 0x18 ... 0x1d:
	case 0x20 ... 0x25: case 0x28 ... 0x2d: case 0x30 ... 0x35: case 0x38 ... 0x3d: {
		unsigned aop = op >> 3;
		switch (op & 7) {
		case 0:
		case 1:
			modrm(cpu, in);
			a = aop == 7 ? rm_read(cpu, in, size) : rm_read_rmw(cpu, in, size);
			r = alu(cpu, aop, a, reg_get(cpu, modrm_reg(in), size), size);
			if (aop != 7)
				rm_write(cpu, in, size, r);
			break;
		case 2:
		case 3:
			size = (op & 1) ? OSZ(in) : 1;
			modrm(cpu, in);
			b = rm_read(cpu, in, size);
			r = alu(cpu, aop, reg_get(cpu, modrm_reg(in), size), b, size);
			if (aop != 7)
				reg_set(cpu, modrm_reg(in), size, r);
			break;
		default:
			b = fetch_imm(cpu, in, size);
			r = alu(cpu, aop, reg_get(cpu, CPU_EAX, size), b, size);
			if (aop != 7)
				reg_set(cpu, CPU_EAX, size, r);
			break;
		}
		break;
	}
	case 0x06: push_sreg(cpu, in, CPU_ES); break;
	case 0x07: pop_sreg(cpu, in, CPU_ES); break;
	case 0x0e: push_sreg(cpu, in, CPU_CS); break;
	case 0x0f: hot_0f(cpu, in); break;
	case 0x16: push_sreg(cpu, in, CPU_SS); break;
	case 0x17: pop_sreg(cpu, in, CPU_SS); break;
	case 0x1e: push_sreg(cpu, in, CPU_DS); break;
	case 0x1f: pop_sreg(cpu, in, CPU_DS); break;
	case 0x27: case 0x2f: case 0x37: case 0x3f: bcd_adjust(cpu, op); break;
	case 0x40 ... 0x47:
	case 0x48 ... 0x4f:
		size = OSZ(in);
		reg_set(cpu, op & 7, size, inc_dec(cpu, op >= 0x48, reg_get(cpu, op & 7, size), size));
		break;
	case 0x50 ... 0x57:
		size = OSZ(in);
		push(cpu, size, reg_get(cpu, op & 7, size));
		break;
	case 0x58 ... 0x5f:
		size = OSZ(in);
		r = pop(cpu, size);
		reg_set(cpu, op & 7, size, r);
		break;
	case 0x60: pusha(cpu, in); break;
	case 0x61: popa(cpu, in); break;
	case 0x62: modrm(cpu, in); bound(cpu, in); break;
	case 0x63: /* arpl */
		modrm(cpu, in);
		a = rm_read_rmw(cpu, in, 2);
		b = reg_get(cpu, modrm_reg(in), 2);
		if ((a & 3) < (b & 3)) {
			rm_write(cpu, in, 2, (a & ~3u) | (b & 3));
			flags_put(cpu, EFLAGS_ZF, EFLAGS_ZF);
		} else {
			flags_put(cpu, EFLAGS_ZF, 0);
		}
		break;
	case 0x68: push(cpu, OSZ(in), fetch_imm(cpu, in, OSZ(in))); break;
	case 0x6a: push(cpu, OSZ(in), sext8(fetch8(cpu, in))); break;
	case 0x69:
	case 0x6b:
		size = OSZ(in);
		modrm(cpu, in);
		a = rm_read(cpu, in, size);
		b = op == 0x69 ? fetch_imm(cpu, in, size) : sext8(fetch8(cpu, in));
		reg_set(cpu, modrm_reg(in), size, imul_trunc(cpu, a, b, size));
		break;
	case 0x6c ... 0x6f:
	case 0xa4 ... 0xa7:
	case 0xaa ... 0xaf:
		exec_string(cpu, in, op);
		break;
	case 0x70 ... 0x7f: {
		uint32_t disp = sext8(fetch8(cpu, in));
		if (flags_cond(cpu, op & 0xf))
			jump_near(cpu, in, in->next + disp);
		break;
	}
	case 0x80 ... 0x83: {
		size = (op & 1) ? OSZ(in) : 1;
		modrm(cpu, in);
		unsigned aop = modrm_reg(in);
		a = aop == 7 ? rm_read(cpu, in, size) : rm_read_rmw(cpu, in, size);
		b = op == 0x81 ? fetch_imm(cpu, in, size) : fetch8(cpu, in);
		if (op == 0x83)
			b = sext8(b);
		r = alu(cpu, aop, a, b, size);
		if (aop != 7)
			rm_write(cpu, in, size, r);
		break;
	}
	case 0x84:
	case 0x85:
		modrm(cpu, in);
		a = rm_read(cpu, in, size);
		r = a & reg_get(cpu, modrm_reg(in), size);
		lf_set(cpu, LF_LOGIC, r, a, 0, size);
		break;
	case 0x86:
	case 0x87:
		modrm(cpu, in);
		a = rm_read_rmw(cpu, in, size);
		rm_write(cpu, in, size, reg_get(cpu, modrm_reg(in), size));
		reg_set(cpu, modrm_reg(in), size, a);
		break;
	case 0x88:
	case 0x89:
		modrm(cpu, in);
		rm_write(cpu, in, size, reg_get(cpu, modrm_reg(in), size));
		break;
	case 0x8a:
	case 0x8b:
		modrm(cpu, in);
		reg_set(cpu, modrm_reg(in), size, rm_read(cpu, in, size));
		break;
	case 0x8c: modrm(cpu, in); mov_sreg(cpu, in, false); break;
	case 0x8e: modrm(cpu, in); mov_sreg(cpu, in, true); break;
	case 0x8d:
		modrm(cpu, in);
		require_memory(cpu, in);
		reg_set(cpu, modrm_reg(in), OSZ(in), in->ea);
		break;
	case 0x8f: {
		size = OSZ(in);
		in->modrm = fetch8(cpu, in);
		if (modrm_reg(in) != 0)
			cpu_raise(cpu, CPU_UD, false, 0);
		uint32_t v = stack_peek(cpu, 0, size);
		if (modrm_is_reg(in)) {
			stack_drop(cpu, size);
			reg_set(cpu, in->modrm & 7, size, v);
			break;
		}
		/* An esp-based address is computed with esp already incremented. */
		decode_ea(cpu, in);
		uint32_t ea = in->ea;
		if (!in->addr16 && (in->modrm & 7) == 4 && (in->sib & 7) == CPU_ESP)
			ea += size;
		mem_write(cpu, in->ea_seg, ea, size, v);
		stack_drop(cpu, size);
		break;
	}
	case 0x90:
		break; /* nop, and pause with f3 */
	case 0x91 ... 0x97:
		size = OSZ(in);
		a = reg_get(cpu, op & 7, size);
		reg_set(cpu, op & 7, size, reg_get(cpu, CPU_EAX, size));
		reg_set(cpu, CPU_EAX, size, a);
		break;
	case 0x98:
		if (in->op16)
			reg_set(cpu, CPU_EAX, 2, sext8(cpu->regs[CPU_EAX]));
		else
			cpu->regs[CPU_EAX] = (uint32_t)(int32_t)(int16_t)cpu->regs[CPU_EAX];
		break;
	case 0x99:
		if (in->op16)
			reg_set(cpu, CPU_EDX, 2, (cpu->regs[CPU_EAX] & 0x8000) ? 0xffff : 0);
		else
			cpu->regs[CPU_EDX] = (cpu->regs[CPU_EAX] & 0x80000000u) ? 0xffffffffu : 0;
		break;
	case 0x9a:
	case 0xea: {
		uint32_t off = fetch_imm(cpu, in, OSZ(in));
		uint16_t sel = fetch16(cpu, in);
		if (op == 0x9a)
			far_call(cpu, in, sel, off);
		else
			far_jump(cpu, in, sel, off);
		break;
	}
	case 0x9b:
		cpu->priv->fpu_saved = cpu->fpu;
		cpu->priv->fpu_saved_valid = true;
		x87_wait(cpu);
		cpu->priv->fpu_saved_valid = false;
		break;
	case 0x9c: {
		uint32_t fl = cpu_get_eflags(cpu) & ~(EFLAGS_VM | EFLAGS_RF);
		push(cpu, OSZ(in), fl);
		break;
	}
	case 0x9d:
		size = OSZ(in);
		r = stack_peek(cpu, 0, size);
		popf_apply(cpu, r, in->op16);
		stack_drop(cpu, size);
		break;
	case 0x9e:
		flags_put(cpu, EFLAGS_CF | EFLAGS_PF | EFLAGS_AF | EFLAGS_ZF | EFLAGS_SF,
		          cpu->regs[CPU_EAX] >> 8);
		break;
	case 0x9f:
		reg_set(cpu, 4 /* ah */, 1, (cpu_get_eflags(cpu) & 0xd5) | EFLAGS_FIXED1);
		break;
	case 0xa0 ... 0xa3: {
		uint32_t off = in->addr16 ? fetch16(cpu, in) : fetch32(cpu, in);
		enum cpu_sreg s = in->seg_override >= 0 ? (enum cpu_sreg)in->seg_override : CPU_DS;
		if (op < 0xa2)
			reg_set(cpu, CPU_EAX, size, mem_read(cpu, s, off, size));
		else
			mem_write(cpu, s, off, size, reg_get(cpu, CPU_EAX, size));
		break;
	}
	case 0xa8:
	case 0xa9:
		a = reg_get(cpu, CPU_EAX, size);
		r = a & fetch_imm(cpu, in, size);
		lf_set(cpu, LF_LOGIC, r, a, 0, size);
		break;
	case 0xb0 ... 0xb7: reg_set(cpu, op & 7, 1, fetch8(cpu, in)); break;
	case 0xb8 ... 0xbf:
		size = OSZ(in);
		reg_set(cpu, op & 7, size, fetch_imm(cpu, in, size));
		break;
	case 0xc0:
	case 0xc1:
	case 0xd0 ... 0xd3: {
		size = (op & 1) ? OSZ(in) : 1;
		modrm(cpu, in);
		a = rm_read_rmw(cpu, in, size);
		unsigned count = op <= 0xc1 ? fetch8(cpu, in) : op <= 0xd1 ? 1 : cpu->regs[CPU_ECX] & 0xff;
		r = shift(cpu, modrm_reg(in), a, count, size);
		rm_write(cpu, in, size, r);
		break;
	}
	case 0xc2:
	case 0xc3: {
		size = OSZ(in);
		uint32_t imm = op == 0xc2 ? fetch16(cpu, in) : 0;
		uint32_t target = stack_peek(cpu, 0, size);
		jump_near(cpu, in, target);
		stack_drop(cpu, size + imm);
		break;
	}
	case 0xc4: modrm(cpu, in); load_far_pointer(cpu, in, CPU_ES); break;
	case 0xc5: modrm(cpu, in); load_far_pointer(cpu, in, CPU_DS); break;
	case 0xc6:
	case 0xc7:
		modrm(cpu, in);
		if (modrm_reg(in) == 7)
			cpu_unimplemented(cpu); /* xabort/xbegin */
		if (modrm_reg(in) != 0)
			cpu_raise(cpu, CPU_UD, false, 0);
		rm_write(cpu, in, size, fetch_imm(cpu, in, size));
		break;
	case 0xc8: enter(cpu, in); break;
	case 0xc9: leave(cpu, in); break;
	case 0xca: far_return(cpu, in, fetch16(cpu, in)); break;
	case 0xcb: far_return(cpu, in, 0); break;
	case 0xcc: cpu_raise_soft(cpu, CPU_BP, in->next);
	case 0xcd: {
		uint8_t vector = fetch8(cpu, in);
		cpu_raise_soft(cpu, vector, in->next);
	}
	case 0xce:
		if (flags_arith(cpu) & EFLAGS_OF)
			cpu_raise_soft(cpu, CPU_OF, in->next);
		break;
	case 0xcf: do_iret(cpu, in); break;
	case 0xd4: { /* aam */
		uint32_t base = fetch8(cpu, in);
		if (base == 0)
			cpu_raise(cpu, CPU_DE, false, 0);
		uint32_t al = cpu->regs[CPU_EAX] & 0xff;
		reg_set(cpu, CPU_EAX, 2, ((al / base) << 8) | (al % base));
		flags_put(cpu, EFLAGS_ARITH, flags_szp(al % base, 1));
		break;
	}
	case 0xd5: { /* aad */
		uint32_t base = fetch8(cpu, in);
		uint32_t ax = cpu->regs[CPU_EAX];
		uint32_t al = ((ax & 0xff) + ((ax >> 8) & 0xff) * base) & 0xff;
		reg_set(cpu, CPU_EAX, 2, al);
		flags_put(cpu, EFLAGS_ARITH, flags_szp(al, 1));
		break;
	}
	case 0xd7: { /* xlat */
		enum cpu_sreg s = in->seg_override >= 0 ? (enum cpu_sreg)in->seg_override : CPU_DS;
		uint32_t off = cpu->regs[CPU_EBX] + (cpu->regs[CPU_EAX] & 0xff);
		if (in->addr16)
			off &= 0xffff;
		reg_set(cpu, CPU_EAX, 1, mem_read(cpu, s, off, 1));
		break;
	}
	case 0xd8 ... 0xdf: x87_escape(cpu, in, op); break;
	case 0xe0 ... 0xe3: loop_insn(cpu, in, op); break;
	case 0xe4 ... 0xe7:
	case 0xec ... 0xef:
		exec_io(cpu, in, op);
		break;
	case 0xe8: {
		size = OSZ(in);
		uint32_t disp = fetch_imm(cpu, in, size);
		uint32_t return_to = in->next;
		jump_near(cpu, in, in->next + (size == 2 ? (uint32_t)(int32_t)(int16_t)disp : disp));
		push(cpu, size, return_to);
		break;
	}
	case 0xe9: {
		size = OSZ(in);
		uint32_t disp = fetch_imm(cpu, in, size);
		jump_near(cpu, in, in->next + (size == 2 ? (uint32_t)(int32_t)(int16_t)disp : disp));
		break;
	}
	case 0xeb: {
		uint32_t disp = sext8(fetch8(cpu, in));
		jump_near(cpu, in, in->next + disp);
		break;
	}
	case 0xf4: sys_hlt(cpu, in); break;
	case 0xf5: flags_put(cpu, EFLAGS_CF, flags_arith(cpu) ^ EFLAGS_CF); break;
	case 0xf6:
	case 0xf7:
		modrm(cpu, in);
		group3(cpu, in, size);
		break;
	case 0xf8: flags_put(cpu, EFLAGS_CF, 0); break;
	case 0xf9: flags_put(cpu, EFLAGS_CF, EFLAGS_CF); break;
	case 0xfa: sys_cli_sti(cpu, false); break;
	case 0xfb: sys_cli_sti(cpu, true); break;
	case 0xfc: cpu->eflags &= ~EFLAGS_DF; break;
	case 0xfd: cpu->eflags |= EFLAGS_DF; break;
	case 0xfe:
		modrm(cpu, in);
		if (modrm_reg(in) > 1)
			cpu_raise(cpu, CPU_UD, false, 0);
		a = rm_read_rmw(cpu, in, 1);
		rm_write(cpu, in, 1, inc_dec(cpu, modrm_reg(in) == 1, a, 1));
		break;
	case 0xff:
		modrm(cpu, in);
		group5(cpu, in);
		break;
	default:
		cpu_unimplemented(cpu);
	}
}

/* The prefix bytes, so that the common unprefixed case costs one load. */
static const bool is_prefix[256] = {
	[0x26] = true, [0x2e] = true, [0x36] = true, [0x3e] = true, [0x64] = true, [0x65] = true,
	[0x66] = true, [0x67] = true, [0xf0] = true, [0xf2] = true, [0xf3] = true,
};

/*
 * Keep the flags from before the instruction, for unwind_instruction().
 * (General registers need no copy: every instruction changes them only
 * after its last possible fault.)
 */
ALWAYS_INLINE void snapshot(struct cpu *cpu, struct cpu_private *p)
{
	p->eflags_saved = cpu->eflags;
	p->lf_saved.res = p->lf.res;
	p->lf_saved.a = p->lf.a;
	p->lf_saved.b = p->lf.b;
	p->lf_saved.op = p->lf.op;
	p->lf_saved.size = p->lf.size;
	p->lf_saved.carry = p->lf.carry;
}

/* The effective address of a decoded memory operand. */
ALWAYS_INLINE uint32_t dc_ea(const struct cpu *cpu, const struct dc_entry *e)
{
	uint32_t ea = e->disp;
	if (e->base != DC_NOREG)
		ea += cpu->regs[e->base];
	if (e->index != DC_NOREG)
		ea += cpu->regs[e->index] << e->scale;
	return ea;
}

/* A near jump from a decoded entry: the CS limit check of jump_near(). */
ALWAYS_INLINE uint32_t dc_jump(struct cpu *cpu, uint32_t target)
{
	if (unlikely(target > cpu->priv->segw[CPU_CS].hi))
		cpu_raise(cpu, CPU_GP, true, 0);
	return target;
}

#define DC_ALU_CASES(base, a, b)                                              \
	case base + 0: regs[e->r1] = alu(cpu, 0, a, b, 4); break;             \
	case base + 1: regs[e->r1] = alu(cpu, 1, a, b, 4); break;             \
	case base + 2: regs[e->r1] = alu(cpu, 2, a, b, 4); break;             \
	case base + 3: regs[e->r1] = alu(cpu, 3, a, b, 4); break;             \
	case base + 4: regs[e->r1] = alu(cpu, 4, a, b, 4); break;             \
	case base + 5: regs[e->r1] = alu(cpu, 5, a, b, 4); break;             \
	case base + 6: regs[e->r1] = alu(cpu, 6, a, b, 4); break;             \
	case base + 7: alu(cpu, 7, a, b, 4); break;

/*
 * Run an instruction from its decoded-cache entry (a form decode_fast()
 * in dcache.c recognised) and return the eip after it.  Each case does
 * exactly what the corresponding case of execute() does for a 32-bit,
 * prefix-free instruction, faults included.
 */
ALWAYS_INLINE uint32_t exec_decoded(struct cpu *cpu, const struct dc_entry *e, uint32_t next)
{
	uint32_t *regs = cpu->regs;
	uint32_t v;
	switch (e->kind) {
	DC_ALU_CASES(DC_ALU_RR, regs[e->r1], regs[e->r2])
	DC_ALU_CASES(DC_ALU_RI, regs[e->r1], e->imm)
	case DC_ALU_RM:
		v = alu(cpu, e->r2, regs[e->r1], mem_read(cpu, e->seg, dc_ea(cpu, e), 4), 4);
		if (e->r2 != 7)
			regs[e->r1] = v;
		break;
	case DC_TEST_RR:
		v = regs[e->r1];
		lf_set(cpu, LF_LOGIC, v & regs[e->r2], v, 0, 4);
		break;
	case DC_INC: regs[e->r1] = inc_dec(cpu, false, regs[e->r1], 4); break;
	case DC_DEC: regs[e->r1] = inc_dec(cpu, true, regs[e->r1], 4); break;
	case DC_MOV_RR: regs[e->r1] = regs[e->r2]; break;
	case DC_MOV_RI: regs[e->r1] = e->imm; break;
	case DC_LOAD: regs[e->r1] = mem_read(cpu, e->seg, dc_ea(cpu, e), 4); break;
	case DC_STORE: mem_write(cpu, e->seg, dc_ea(cpu, e), 4, regs[e->r1]); break;
	case DC_LEA: regs[e->r1] = dc_ea(cpu, e); break;
	case DC_PUSH: push(cpu, 4, regs[e->r1]); break;
	case DC_POP:
		v = pop(cpu, 4);
		regs[e->r1] = v;
		break;
	case DC_JCC:
		if (flags_cond(cpu, e->r1))
			next = dc_jump(cpu, next + e->disp);
		break;
	case DC_JMP: next = dc_jump(cpu, next + e->disp); break;
	case DC_CALL:
		v = next;
		next = dc_jump(cpu, next + e->disp);
		push(cpu, 4, v);
		break;
	case DC_RET:
		next = dc_jump(cpu, stack_peek(cpu, 0, 4));
		stack_drop(cpu, 4);
		break;
	case DC_SHIFT_RI: regs[e->r1] = shift(cpu, e->r2, regs[e->r1], e->imm, 4); break;
	case DC_IMUL_RR: regs[e->r1] = imul_trunc(cpu, regs[e->r1], regs[e->r2], 4); break;
	case DC_MOVZX8_RR: regs[e->r1] = reg_get(cpu, e->r2, 1); break;
	default: /* DC_MOVZX8_RM */
		regs[e->r1] = mem_read(cpu, e->seg, dc_ea(cpu, e), 1);
		break;
	}
	return next;
}

/*
 * The decoded-cache entry for the instruction at eip, filled if need be,
 * or NULL when the ordinary decoder must run: 16-bit code, eip outside
 * the fetch window (the slow fetch opens it), a form the cache does not
 * run, or an instruction that does not fit in the rest of the window.
 */
ALWAYS_INLINE const struct dc_entry *dc_lookup(struct cpu *cpu, struct cpu_private *p, uint32_t eip)
{
	uint32_t rel = eip - p->fetch_lo;
	if (unlikely(rel >= p->fetch_span || p->code16))
		return NULL;
	uint32_t phys = p->fetch_phys + rel, left = p->fetch_span - rel;
	struct dc_entry *e = &p->dcache[phys & (DC_ENTRIES - 1)];
	if (unlikely(e->phys != phys || e->gen != *p->fetch_gen || e->kind == DC_EMPTY))
		dcache_fill(cpu, e, phys, p->fetch_win + rel, left);
	if (likely(e->kind > DC_GENERIC && e->len <= left))
		return e;
	return NULL;
}

/*
 * Execute one instruction (or one iteration of a rep string instruction):
 * snapshot, then the decoded-cache entry, or else prefixes and dispatch;
 * then retire.
 */
ALWAYS_INLINE void exec_one(struct cpu *cpu, struct cpu_private *p)
{
	struct insn in;
	bool def16 = p->code16;

	snapshot(cpu, p);

	const struct dc_entry *e = dc_lookup(cpu, p, cpu->eip);
	if (likely(e != NULL)) {
		cpu->eip = exec_decoded(cpu, e, cpu->eip + e->len);
		cpu->icount++;
		return;
	}

	fetch_window(cpu, &in, cpu->eip);
	in.seg_override = -1;
	in.rep = 0;
	in.lock = false;
	in.op16 = def16;
	in.addr16 = def16;

	uint8_t op = fetch8(cpu, &in);
	while (unlikely(is_prefix[op])) {
		switch (op) {
		case 0x26: in.seg_override = CPU_ES; break;
		case 0x2e: in.seg_override = CPU_CS; break;
		case 0x36: in.seg_override = CPU_SS; break;
		case 0x3e: in.seg_override = CPU_DS; break;
		case 0x64: in.seg_override = CPU_FS; break;
		case 0x65: in.seg_override = CPU_GS; break;
		case 0x66: in.op16 = !def16; break;
		case 0x67: in.addr16 = !def16; break;
		case 0xf0: in.lock = true; break;
		default: in.rep = op; break; /* f2, f3 */
		}
		op = fetch8(cpu, &in);
	}
	if (unlikely(in.lock))
		lock_check(cpu, &in, op);
	execute(cpu, &in, op);
	cpu->eip = in.next;
	cpu->icount++;
}

/*
 * The instruction loop.  Between instructions it checks, cheaply, the
 * budget, a stop request and the exec hook; after each one, whether a
 * watched access or hlt asked to stop, or TF asks for a single-step trap
 * (returned as CPU_STOP_EXCEPTION; cpu_run() makes it a #DB trap with eip
 * after the instruction).  Faults leave by longjmp.
 */
enum cpu_stop_kind exec_run(struct cpu *cpu, uint64_t end)
{
	struct cpu_private *p = cpu->priv;
	p->icount_end = end;
	for (;;) {
		if (unlikely(cpu->icount >= end))
			return CPU_STOP_BUDGET;
		if (unlikely(cpu->stop_requested)) {
			cpu->stop_requested = 0;
			return CPU_STOP_REQUEST;
		}
		if (unlikely(cpu->exec_hook)) {
			if (cpu->ignore_exec_hook_once)
				cpu->ignore_exec_hook_once = false;
			else if (cpu->ops->exec && cpu->ops->exec(cpu->opaque, cpu, cpu->eip))
				return CPU_STOP_EXEC_HOOK;
		}
		p->insn_eip = cpu->eip;
		exec_one(cpu, p);
		if (unlikely(p->after | (p->eflags_saved & EFLAGS_TF))) {
			if (p->after) {
				enum cpu_stop_kind kind = (p->after & AFTER_HLT) ? CPU_STOP_HLT : CPU_STOP_WATCH;
				p->after = 0;
				return kind;
			}
			/* TF was set when the instruction began: a single-step trap after it. */
			p->dr[6] |= 0x4000; /* DR6.BS */
			return CPU_STOP_EXCEPTION;
		}
	}
}
