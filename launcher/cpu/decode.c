/*
 * Effective addresses of 16-bit addressing (0x67): the eight base/index
 * pairs.  The default segment is SS when BP is the base, DS otherwise; a
 * segment override prefix wins.  (32-bit addressing is decode_ea() in
 * core.h, inline because nearly every memory operand goes through it.)
 */
#include "core.h"

/* 16-bit addressing: [bx+si], [bx+di], [bp+si], [bp+di], [si], [di], [bp], [bx]. */
void decode_ea16(struct cpu *cpu, struct insn *in)
{
	unsigned mod = in->modrm >> 6, rm = in->modrm & 7;
	const uint32_t *r = cpu->regs;
	uint32_t ea = 0;
	enum cpu_sreg seg = CPU_DS;

	switch (rm) {
	case 0: ea = r[CPU_EBX] + r[CPU_ESI]; break;
	case 1: ea = r[CPU_EBX] + r[CPU_EDI]; break;
	case 2: ea = r[CPU_EBP] + r[CPU_ESI]; seg = CPU_SS; break;
	case 3: ea = r[CPU_EBP] + r[CPU_EDI]; seg = CPU_SS; break;
	case 4: ea = r[CPU_ESI]; break;
	case 5: ea = r[CPU_EDI]; break;
	case 6:
		if (mod == 0) {
			ea = fetch16(cpu, in);
		} else {
			ea = r[CPU_EBP];
			seg = CPU_SS;
		}
		break;
	default: ea = r[CPU_EBX]; break;
	}
	if (mod == 1)
		ea += (uint32_t)(int8_t)fetch8(cpu, in);
	else if (mod == 2)
		ea += fetch16(cpu, in);
	in->ea = ea & 0xffff;
	in->ea_seg = in->seg_override >= 0 ? (enum cpu_sreg)in->seg_override : seg;
}
