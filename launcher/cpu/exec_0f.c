/*
 * The two-byte (0x0F) opcode map, except the system instructions, which
 * live in sys.c, and the hottest few (jcc near, movzx/movsx, setcc,
 * cmovcc, imul), which exec.c handles inline: bit tests and scans, double
 * shifts, imul, cmpxchg/cmpxchg8b/xadd, bswap, fences and hint nops, and
 * the fs/gs pushes and far-pointer loads.
 */
#include "core.h"

/* shld/shrd.  A 16-bit operand with a count above 16 shifts dst:src:dst, as Intel parts do. */
static uint32_t double_shift(struct cpu *cpu, bool right, uint32_t dst, uint32_t src,
                             unsigned count, unsigned size)
{
	uint32_t r, cf;
	count &= 31;
	if (count == 0)
		return dst;
	if (size == 4) {
		if (right) {
			r = (dst >> count) | (src << (32 - count));
			cf = (dst >> (count - 1)) & 1;
		} else {
			r = (dst << count) | (src >> (32 - count));
			cf = (dst >> (32 - count)) & 1;
		}
	} else {
		dst &= 0xffff;
		src &= 0xffff;
		if (right) {
			uint64_t w = dst | ((uint64_t)src << 16) | ((uint64_t)dst << 32);
			r = (uint32_t)(w >> count) & 0xffff;
			cf = (uint32_t)(w >> (count - 1)) & 1;
		} else {
			uint64_t w = ((uint64_t)dst << 32) | ((uint64_t)src << 16) | dst;
			w <<= count;
			r = (uint32_t)(w >> 32) & 0xffff;
			cf = (uint32_t)(w >> 48) & 1;
		}
	}
	uint32_t sign = 1u << (size * 8 - 1);
	uint32_t f = flags_szp(r, size) | (cf ? EFLAGS_CF : 0) | (((r ^ dst) & sign) ? EFLAGS_OF : 0);
	flags_put(cpu, EFLAGS_ARITH, f);
	return r;
}

/*
 * bt/bts/btr/btc.  With a register bit offset and a memory operand the
 * offset is signed and may reach outside the operand: the address moves
 * by whole operand-sized units.
 */
static void bit_test(struct cpu *cpu, struct insn *in, unsigned kind, uint32_t offset,
                     bool offset_from_reg)
{
	unsigned size = OSZ(in), bits = size * 8;
	uint32_t ea = in->ea;
	if (!modrm_is_reg(in) && offset_from_reg) {
		int32_t units = size == 4 ? (int32_t)offset >> 5 : (int16_t)offset >> 4;
		ea += (uint32_t)units * size;
		if (in->addr16)
			ea &= 0xffff;
	}
	uint32_t bit = 1u << (offset & (bits - 1));
	uint32_t v;
	if (modrm_is_reg(in))
		v = reg_get(cpu, in->modrm & 7, size);
	else if (kind == 0)
		v = mem_read(cpu, in->ea_seg, ea, size);
	else
		v = mem_read_rmw(cpu, in->ea_seg, ea, size);
	uint32_t nv = kind == 1 ? v | bit : kind == 2 ? v & ~bit : v ^ bit;
	if (kind != 0) {
		if (modrm_is_reg(in))
			reg_set(cpu, in->modrm & 7, size, nv);
		else
			mem_write(cpu, in->ea_seg, ea, size, nv);
	}
	flags_put(cpu, EFLAGS_CF, (v & bit) ? EFLAGS_CF : 0);
}

/* bsf/bsr: ZF set and the destination unchanged for a zero source. */
static void bit_scan(struct cpu *cpu, struct insn *in, bool reverse)
{
	unsigned size = OSZ(in);
	uint32_t v = rm_read(cpu, in, size) & size_mask(size);
	if (v == 0) {
		flags_put(cpu, EFLAGS_ZF, EFLAGS_ZF);
		return;
	}
	reg_set(cpu, modrm_reg(in), size, reverse ? 31u - (unsigned)__builtin_clz(v)
	                                          : (unsigned)__builtin_ctz(v));
	flags_put(cpu, EFLAGS_ZF, 0);
}

/*
 * cmpxchg, the guest's compare-and-swap for locks: store the source if the
 * destination equals EAX, else load it into EAX.  Flags are those of cmp.
 */
static void cmpxchg(struct cpu *cpu, struct insn *in, unsigned size)
{
	uint32_t dst = rm_read_rmw(cpu, in, size);
	uint32_t acc = reg_get(cpu, CPU_EAX, size);
	uint32_t m = size_mask(size);
	if ((dst & m) == (acc & m)) {
		rm_write(cpu, in, size, reg_get(cpu, modrm_reg(in), size));
	} else {
		if (!modrm_is_reg(in))
			rm_write(cpu, in, size, dst); /* the processor always writes back */
		reg_set(cpu, CPU_EAX, size, dst);
	}
	lf_set(cpu, LF_SUB, acc - dst, acc, dst, size);
}

/*
 * cmpxchg8b (0F C7 /1): the 64-bit compare-and-swap on EDX:EAX, storing
 * ECX:EBX.  Like the processor, it needs write access even when it fails.
 */
static void cmpxchg8b(struct cpu *cpu, struct insn *in)
{
	if (modrm_is_reg(in) || modrm_reg(in) != 1)
		cpu_raise(cpu, CPU_UD, false, 0);
	cpu_mem_probe_write(cpu, in->ea_seg, in->ea, 8);
	uint64_t old = cpu_mem_read64(cpu, in->ea_seg, in->ea);
	uint64_t cmp = ((uint64_t)cpu->regs[CPU_EDX] << 32) | cpu->regs[CPU_EAX];
	if (old == cmp) {
		cpu_mem_write64(cpu, in->ea_seg, in->ea,
		                ((uint64_t)cpu->regs[CPU_ECX] << 32) | cpu->regs[CPU_EBX]);
		flags_put(cpu, EFLAGS_ZF, EFLAGS_ZF);
	} else {
		cpu_mem_write64(cpu, in->ea_seg, in->ea, old);
		cpu->regs[CPU_EAX] = (uint32_t)old;
		cpu->regs[CPU_EDX] = (uint32_t)(old >> 32);
		flags_put(cpu, EFLAGS_ZF, 0);
	}
}

/* 0F AE: the fences and clflush are no-ops for a single in-order CPU; the rest is SSE state. */
static void group15(struct cpu *cpu, struct insn *in)
{
	unsigned reg = modrm_reg(in);
	if (modrm_is_reg(in) ? reg >= 5 : reg == 7)
		return;
	cpu_unimplemented(cpu);
}

/* The 0F map after its opcode byte (the hottest few are hot_0f() in exec.c). */
void exec_0f(struct cpu *cpu, struct insn *in, uint8_t op)
{
	unsigned size = OSZ(in);
	uint32_t a, b;

	switch (op) {
	case 0x00: modrm(cpu, in); sys_group6(cpu, in); break;
	case 0x01: modrm(cpu, in); sys_group7(cpu, in); break;
	case 0x02: case 0x03: case 0x06: case 0x08: case 0x09: case 0x20 ... 0x23:
	case 0x30 ... 0x32: case 0x34: case 0x35: case 0xa2:
		sys_0f(cpu, in, op);
		break;
	case 0x0b: case 0xb9: case 0xff:
		cpu_raise(cpu, CPU_UD, false, 0);
	case 0x0d: case 0x18 ... 0x1f: /* prefetch hints and multi-byte nop */
		modrm(cpu, in);
		break;
	case 0xa0: case 0xa8: {
		enum cpu_sreg s = op == 0xa0 ? CPU_FS : CPU_GS;
		uint32_t sp = stack_ptr(cpu) - size;
		if (!stack32(cpu))
			sp &= 0xffff;
		mem_write(cpu, CPU_SS, sp, 2, cpu->seg[s].selector);
		stack_set(cpu, sp);
		break;
	}
	case 0xa1: case 0xa9:
		seg_load(cpu, op == 0xa1 ? CPU_FS : CPU_GS, (uint16_t)stack_peek(cpu, 0, size));
		stack_drop(cpu, size);
		break;
	case 0xa3: case 0xab: case 0xb3: case 0xbb:
		modrm(cpu, in);
		bit_test(cpu, in, (op >> 3) & 3, reg_get(cpu, modrm_reg(in), size), true);
		break;
	case 0xba:
		modrm(cpu, in);
		if (modrm_reg(in) < 4)
			cpu_raise(cpu, CPU_UD, false, 0);
		bit_test(cpu, in, modrm_reg(in) & 3, fetch8(cpu, in), false);
		break;
	case 0xa4: case 0xa5: case 0xac: case 0xad: {
		modrm(cpu, in);
		a = rm_read_rmw(cpu, in, size);
		b = reg_get(cpu, modrm_reg(in), size);
		unsigned count = (op & 1) ? cpu->regs[CPU_ECX] & 0xff : fetch8(cpu, in);
		rm_write(cpu, in, size, double_shift(cpu, op >= 0xac, a, b, count, size));
		break;
	}
	case 0xae: modrm(cpu, in); group15(cpu, in); break;
	case 0xb0: case 0xb1:
		modrm(cpu, in);
		cmpxchg(cpu, in, op == 0xb0 ? 1 : size);
		break;
	case 0xb2: modrm(cpu, in); load_far_pointer(cpu, in, CPU_SS); break;
	case 0xb4: modrm(cpu, in); load_far_pointer(cpu, in, CPU_FS); break;
	case 0xb5: modrm(cpu, in); load_far_pointer(cpu, in, CPU_GS); break;
	case 0xbc: case 0xbd:
		modrm(cpu, in);
		bit_scan(cpu, in, op == 0xbd);
		break;
	case 0xc0: case 0xc1: {
		unsigned osize = op == 0xc0 ? 1 : size;
		modrm(cpu, in);
		a = rm_read_rmw(cpu, in, osize);
		b = reg_get(cpu, modrm_reg(in), osize);
		uint32_t sum = (a + b) & size_mask(osize);
		if (modrm_is_reg(in)) { /* the destination last: xadd r,r with one register keeps the sum */
			reg_set(cpu, modrm_reg(in), osize, a);
			rm_write(cpu, in, osize, sum);
		} else {
			rm_write(cpu, in, osize, sum);
			reg_set(cpu, modrm_reg(in), osize, a);
		}
		lf_set(cpu, LF_ADD, sum, b, a, osize);
		break;
	}
	case 0xc7: modrm(cpu, in); cmpxchg8b(cpu, in); break;
	case 0xc8 ... 0xcf:
		if (in->op16)
			reg_set(cpu, op & 7, 2, 0); /* undefined by the SDM; Intel parts clear the word */
		else
			cpu->regs[op & 7] = __builtin_bswap32(cpu->regs[op & 7]);
		break;
	default:
		cpu_unimplemented(cpu);
	}
}
