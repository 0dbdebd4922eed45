/*
 * System instructions.
 *
 * The privileged ones (hlt, lgdt, lidt, lldt, ltr, mov to/from CRn and
 * DRn, invlpg, clts, rdmsr, wrmsr, wbinvd, invd, lmsw) are #GP(0) at
 * CPL > 0, which is what the lguest host wants to see from a guest
 * kernel at ring 1.  At CPL 0 (tests, or a host that wants it) they do the
 * simple thing: lgdt/lidt/ltr only record what sgdt/sidt/str report, since
 * the real GDT belongs to the host; there are no MSRs, so rdmsr/wrmsr are
 * #GP(0) like any unknown MSR.
 *
 * The unprivileged reporters return documented values: sgdt gives the
 * last lgdt (initially base 0, limit 8 * gdt_entries - 1), sidt the last
 * lidt (initially 0/0), str and sldt the last ltr/lldt (initially 0),
 * smsw the low bits of CR0.  cpuid and rdtsc ask the host.
 */
#include "core.h"

/* The gatekeeper of every privileged instruction: #GP(0) unless at CPL 0. */
static void require_cpl0(struct cpu *cpu)
{
	if (cpu->cpl != 0)
		cpu_raise(cpu, CPU_GP, true, 0);
}

/*
 * hlt: the CPU cannot wait for an interrupt on its own, so at CPL 0 it ends
 * cpu_run() with CPU_STOP_HLT once the instruction completes; the host decides.
 */
void sys_hlt(struct cpu *cpu, struct insn *in)
{
	(void)in;
	require_cpl0(cpu);
	cpu->priv->after |= AFTER_HLT;
}

/* cli/sti: #GP(0) when CPL > IOPL (no virtual-interrupt extensions). */
void sys_cli_sti(struct cpu *cpu, bool set)
{
	if (!io_allowed(cpu))
		cpu_raise(cpu, CPU_GP, true, 0);
	if (set)
		cpu->eflags |= EFLAGS_IF;
	else
		cpu->eflags &= ~EFLAGS_IF;
}

/* Store a 16-bit system value: zero-extended into a register, a word into memory. */
static void store_word(struct cpu *cpu, struct insn *in, uint32_t v)
{
	if (modrm_is_reg(in))
		reg_set(cpu, in->modrm & 7, OSZ(in), v & 0xffff);
	else
		mem_write(cpu, in->ea_seg, in->ea, 2, v & 0xffff);
}

/*
 * Whether a selector names a descriptor visible at the current privilege
 * (for lar, lsl, verr, verw): code/data only; system descriptors count as
 * invalid.
 */
static bool visible_descriptor(struct cpu *cpu, uint16_t sel, uint64_t *d)
{
	if ((sel & 0xfffc) == 0 || !gdt_descriptor(cpu, sel, d))
		return false;
	struct cpu_segment seg;
	descriptor_to_segment(*d, sel, &seg);
	unsigned type = SEG_ATTR_TYPE(seg.attr), dpl = SEG_ATTR_DPL(seg.attr);
	if (!SEG_ATTR_S(seg.attr))
		return false;
	bool conforming_code = (type & 0xc) == 0xc;
	return conforming_code || (dpl >= cpu->cpl && dpl >= (sel & 3u));
}

/* 0F 00: sldt, str, lldt, ltr, verr, verw. */
void sys_group6(struct cpu *cpu, struct insn *in)
{
	struct cpu_private *p = cpu->priv;
	uint64_t d;
	switch (modrm_reg(in)) {
	case 0: store_word(cpu, in, p->ldtr); break;
	case 1: store_word(cpu, in, p->tr); break;
	case 2: {
		require_cpl0(cpu);
		uint16_t sel = (uint16_t)rm_read(cpu, in, 2);
		if (sel & 0xfffc)
			cpu_raise(cpu, CPU_GP, true, sel & 0xfffcu); /* there is no LDT support */
		p->ldtr = 0;
		break;
	}
	case 3:
		require_cpl0(cpu);
		p->tr = (uint16_t)rm_read(cpu, in, 2);
		break;
	case 4:
	case 5: {
		uint16_t sel = (uint16_t)rm_read(cpu, in, 2);
		bool ok = visible_descriptor(cpu, sel, &d);
		if (ok) {
			unsigned type = (unsigned)(d >> 40) & 0xf;
			ok = modrm_reg(in) == 4 ? (!(type & 8) || (type & 2)) : (!(type & 8) && (type & 2));
		}
		flags_put(cpu, EFLAGS_ZF, ok ? EFLAGS_ZF : 0);
		break;
	}
	default:
		cpu_unimplemented(cpu);
	}
}

/* 0F 01: sgdt, sidt, lgdt, lidt, smsw, lmsw, invlpg (vmcall is #UD: no VMX here). */
void sys_group7(struct cpu *cpu, struct insn *in)
{
	struct cpu_private *p = cpu->priv;
	unsigned reg = modrm_reg(in);
	if (modrm_is_reg(in) && reg != 4 && reg != 6) {
		if (in->modrm == 0xc1)
			cpu_raise(cpu, CPU_UD, false, 0);
		cpu_unimplemented(cpu);
	}
	switch (reg) {
	case 0:
	case 1:
		cpu_mem_probe_write(cpu, in->ea_seg, in->ea, 6);
		mem_write(cpu, in->ea_seg, in->ea, 2,
		          reg == 1 ? p->idtr_limit
		          : p->gdtr_loaded ? p->gdtr_limit : cpu->gdt_entries * 8 - 1);
		mem_write(cpu, in->ea_seg, in->ea + 2, 4, reg == 0 ? p->gdtr_base : p->idtr_base);
		break;
	case 2:
	case 3: {
		require_cpl0(cpu);
		uint16_t limit = (uint16_t)mem_read(cpu, in->ea_seg, in->ea, 2);
		uint32_t base = mem_read(cpu, in->ea_seg, in->ea + 2, 4);
		if (in->op16)
			base &= 0xffffff;
		if (reg == 2) {
			p->gdtr_limit = limit;
			p->gdtr_base = base;
			p->gdtr_loaded = true;
		} else {
			p->idtr_limit = limit;
			p->idtr_base = base;
		}
		break;
	}
	case 4: store_word(cpu, in, cpu->cr0); break;
	case 6: {
		require_cpl0(cpu);
		uint32_t v = rm_read(cpu, in, 2);
		cpu->cr0 = (cpu->cr0 & ~0xeu) | (v & 0xfu) | (cpu->cr0 & CR0_PE);
		break;
	}
	case 7:
		require_cpl0(cpu);
		cpu_tlb_flush_page(cpu, cpu->seg[in->ea_seg].base + in->ea);
		break;
	default:
		cpu_unimplemented(cpu);
	}
}

/* lar/lsl: ZF and the access rights or the expanded limit of a visible descriptor. */
static void lar_lsl(struct cpu *cpu, struct insn *in, bool limit)
{
	uint64_t d;
	uint16_t sel = (uint16_t)rm_read(cpu, in, 2);
	if (!visible_descriptor(cpu, sel, &d)) {
		flags_put(cpu, EFLAGS_ZF, 0);
		return;
	}
	struct cpu_segment seg;
	descriptor_to_segment(d, sel, &seg);
	uint32_t v = limit ? seg.limit : (uint32_t)(d >> 32) & 0x00f0ff00u;
	reg_set(cpu, modrm_reg(in), OSZ(in), v);
	flags_put(cpu, EFLAGS_ZF, EFLAGS_ZF);
}

/* cpuid: the host chooses the features a guest sees (all zeros if it has no hook). */
static void cpuid(struct cpu *cpu)
{
	uint32_t out[4] = { 0, 0, 0, 0 };
	if (cpu->ops->cpuid)
		cpu->ops->cpuid(cpu->opaque, cpu, cpu->regs[CPU_EAX], cpu->regs[CPU_ECX], out);
	cpu->regs[CPU_EAX] = out[0];
	cpu->regs[CPU_EBX] = out[1];
	cpu->regs[CPU_ECX] = out[2];
	cpu->regs[CPU_EDX] = out[3];
}

/* mov to/from CRn (0, 2, 3, 4 exist) and DRn, CPL 0 only; the ModRM is always a register. */
static void mov_control(struct cpu *cpu, struct insn *in, uint8_t op)
{
	in->modrm = fetch8(cpu, in);
	require_cpl0(cpu);
	unsigned n = modrm_reg(in), r = in->modrm & 7;
	if (op == 0x21 || op == 0x23) {
		if (n == 4 || n == 5)
			n += 2; /* aliases of DR6/DR7 while CR4.DE is clear */
		if (op == 0x21)
			cpu->regs[r] = cpu->priv->dr[n];
		else
			cpu->priv->dr[n] = cpu->regs[r];
		return;
	}
	uint32_t *cr = n == 0 ? &cpu->cr0 : n == 2 ? &cpu->cr2 : n == 3 ? &cpu->cr3
	             : n == 4 ? &cpu->cr4 : NULL;
	if (!cr)
		cpu_raise(cpu, CPU_UD, false, 0);
	if (op == 0x20) {
		cpu->regs[r] = *cr;
		return;
	}
	*cr = cpu->regs[r];
	if (n != 2)
		cpu_tlb_flush(cpu); /* new page tables or paging controls */
}

/* The system instructions of the 0F map other than groups 6 and 7. */
void sys_0f(struct cpu *cpu, struct insn *in, uint8_t op)
{
	switch (op) {
	case 0x02:
	case 0x03:
		modrm(cpu, in);
		lar_lsl(cpu, in, op == 0x03);
		break;
	case 0x06:
		require_cpl0(cpu);
		cpu->cr0 &= ~CR0_TS;
		break;
	case 0x08:
	case 0x09:
		require_cpl0(cpu);
		break;
	case 0x20 ... 0x23:
		mov_control(cpu, in, op);
		break;
	case 0x30:
	case 0x32:
		require_cpl0(cpu);
		cpu_raise(cpu, CPU_GP, true, 0); /* no model-specific registers */
	case 0x31: {
		uint64_t tsc = cpu->ops->rdtsc ? cpu->ops->rdtsc(cpu->opaque, cpu) : cpu->icount;
		cpu->regs[CPU_EAX] = (uint32_t)tsc;
		cpu->regs[CPU_EDX] = (uint32_t)(tsc >> 32);
		break;
	}
	case 0x34:
	case 0x35:
		cpu_raise(cpu, CPU_GP, true, 0); /* SYSENTER_CS is zero */
	case 0xa2:
		cpuid(cpu);
		break;
	default:
		cpu_unimplemented(cpu);
	}
}
