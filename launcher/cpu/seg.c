/*
 * Segmentation and privilege: segment register loads, far jmp/call/ret,
 * iret, popf, and the host's gate delivery.
 *
 * Descriptors come from the host-held GDT (cpu->gdt); there is no LDT, so
 * a TI=1 selector is #GP(selector).  The checks and error codes follow
 * the Intel SDM's pseudo-code for protected mode.  There are no task
 * switches and no call gates: a system descriptor as a far target is
 * #GP(selector).  Every function checks everything before it changes
 * anything, so a fault leaves segments and CPL as they were.
 */
#include <string.h>

#include "core.h"

#define SEL_ERR(sel) ((uint32_t)((sel) & 0xfffcu))

/* Look a selector up in the host's GDT; false for TI=1 or beyond its end. */
bool gdt_descriptor(const struct cpu *cpu, uint16_t sel, uint64_t *desc)
{
	unsigned index = sel >> 3;
	if ((sel & 4) || !cpu->gdt || index >= cpu->gdt_entries)
		return false;
	*desc = cpu->gdt[index];
	return true;
}

/* Expand a descriptor into a segment register's cache. */
void descriptor_to_segment(uint64_t d, uint16_t sel, struct cpu_segment *seg)
{
	uint32_t limit = (uint32_t)(d & 0xffff) | (uint32_t)((d >> 32) & 0xf0000);
	seg->selector = sel;
	seg->base = (uint32_t)((d >> 16) & 0xffffff) | (uint32_t)((d >> 32) & 0xff000000u);
	seg->attr = (uint16_t)(((d >> 40) & 0xff) | (((d >> 52) & 0xf) << 12));
	seg->limit = SEG_ATTR_G(seg->attr) ? (limit << 12) | 0xfff : limit;
	seg->usable = true;
}

/* Install an already-checked segment, and rebuild the window memory accesses use. */
static void commit_segment(struct cpu *cpu, enum cpu_sreg s, const struct cpu_segment *seg)
{
	cpu->seg[s] = *seg;
	seg_window_refresh(cpu, s);
}

/* A null selector leaves the register unusable: any access through it will fault. */
static void commit_null(struct cpu *cpu, enum cpu_sreg s, uint16_t sel)
{
	struct cpu_segment null = { .selector = sel };
	commit_segment(cpu, s, &null);
}

/* Load DS/ES/FS/GS/SS with the SDM's checks (mov, pop, lds...). */
void seg_load(struct cpu *cpu, enum cpu_sreg s, uint16_t sel)
{
	unsigned cpl = cpu->cpl, rpl = sel & 3;
	uint64_t d;
	struct cpu_segment seg;

	if ((sel & 0xfffc) == 0) {
		if (s == CPU_SS)
			cpu_raise(cpu, CPU_GP, true, 0);
		commit_null(cpu, s, sel);
		return;
	}
	if (!gdt_descriptor(cpu, sel, &d))
		cpu_raise(cpu, CPU_GP, true, SEL_ERR(sel));
	descriptor_to_segment(d, sel, &seg);
	unsigned type = SEG_ATTR_TYPE(seg.attr), dpl = SEG_ATTR_DPL(seg.attr);
	if (s == CPU_SS) {
		if (rpl != cpl || !SEG_ATTR_S(seg.attr) || (type & TYPE_CODE) || !(type & TYPE_RW) ||
		    dpl != cpl)
			cpu_raise(cpu, CPU_GP, true, SEL_ERR(sel));
		if (!SEG_ATTR_P(seg.attr))
			cpu_raise(cpu, CPU_SS_FAULT, true, SEL_ERR(sel));
	} else {
		if (!SEG_ATTR_S(seg.attr) || ((type & TYPE_CODE) && !(type & TYPE_RW)))
			cpu_raise(cpu, CPU_GP, true, SEL_ERR(sel));
		if ((!(type & TYPE_CODE) || !(type & TYPE_CONFORMING)) && (rpl > dpl || cpl > dpl))
			cpu_raise(cpu, CPU_GP, true, SEL_ERR(sel));
		if (!SEG_ATTR_P(seg.attr))
			cpu_raise(cpu, CPU_NP, true, SEL_ERR(sel));
	}
	commit_segment(cpu, s, &seg);
}

/* The host's own loads: no privilege checks, just a suitable present descriptor. */
bool cpu_load_segment_raw(struct cpu *cpu, enum cpu_sreg sreg, uint16_t selector)
{
	uint64_t d;
	struct cpu_segment seg;

	if ((selector & 0xfffc) == 0) {
		if (sreg == CPU_CS || sreg == CPU_SS)
			return false;
		commit_null(cpu, sreg, selector);
		return true;
	}
	if (!gdt_descriptor(cpu, selector, &d))
		return false;
	descriptor_to_segment(d, selector, &seg);
	unsigned type = SEG_ATTR_TYPE(seg.attr);
	if (!SEG_ATTR_P(seg.attr) || !SEG_ATTR_S(seg.attr))
		return false;
	if (sreg == CPU_CS && !(type & TYPE_CODE))
		return false;
	if (sreg == CPU_SS && ((type & TYPE_CODE) || !(type & TYPE_RW)))
		return false;
	if (sreg != CPU_CS && (type & TYPE_CODE) && !(type & TYPE_RW))
		return false;
	commit_segment(cpu, sreg, &seg);
	if (sreg == CPU_CS)
		cpu_set_cpl(cpu, selector & 3);
	return true;
}

/*
 * Check a far jmp/call target: a present code segment we may enter at
 * the current privilege (conforming: DPL <= CPL; otherwise RPL <= CPL and
 * DPL == CPL).  Fills *seg with the selector's RPL set to CPL.
 */
static void check_far_target(struct cpu *cpu, uint16_t sel, uint32_t off, struct cpu_segment *seg)
{
	uint64_t d;
	unsigned cpl = cpu->cpl;
	if ((sel & 0xfffc) == 0)
		cpu_raise(cpu, CPU_GP, true, 0);
	if (!gdt_descriptor(cpu, sel, &d))
		cpu_raise(cpu, CPU_GP, true, SEL_ERR(sel));
	descriptor_to_segment(d, (uint16_t)((sel & ~3u) | cpl), seg);
	unsigned type = SEG_ATTR_TYPE(seg->attr), dpl = SEG_ATTR_DPL(seg->attr);
	if (!SEG_ATTR_S(seg->attr) || !(type & TYPE_CODE))
		cpu_raise(cpu, CPU_GP, true, SEL_ERR(sel));
	if ((type & TYPE_CONFORMING) ? dpl > cpl : ((sel & 3u) > cpl || dpl != cpl))
		cpu_raise(cpu, CPU_GP, true, SEL_ERR(sel));
	if (!SEG_ATTR_P(seg->attr))
		cpu_raise(cpu, CPU_NP, true, SEL_ERR(sel));
	if (off > seg->limit)
		cpu_raise(cpu, CPU_GP, true, 0);
}

/*
 * jmp far: switch CS to another code segment at the same privilege (we have
 * no call gates, so CPL never changes here); nothing is pushed.
 */
void far_jump(struct cpu *cpu, struct insn *in, uint16_t sel, uint32_t off)
{
	struct cpu_segment seg;
	if (in->op16)
		off &= 0xffff;
	check_far_target(cpu, sel, off, &seg);
	commit_segment(cpu, CPU_CS, &seg);
	in->next = off;
}

/*
 * call far: push the caller's CS and return EIP, then enter the target at
 * the same privilege.  Both pushes are probed first, so a stack fault
 * leaves CS, ESP and memory untouched.
 */
void far_call(struct cpu *cpu, struct insn *in, uint16_t sel, uint32_t off)
{
	struct cpu_segment seg;
	unsigned size = OSZ(in);
	if (in->op16)
		off &= 0xffff;
	check_far_target(cpu, sel, off, &seg);
	uint32_t low = stack_ptr(cpu) - 2 * size;
	if (!stack32(cpu))
		low &= 0xffff;
	cpu_mem_probe_write(cpu, CPU_SS, low, 2 * size);
	mem_write(cpu, CPU_SS, low + size, size, cpu->seg[CPU_CS].selector);
	mem_write(cpu, CPU_SS, low, size, in->next);
	stack_set(cpu, low);
	commit_segment(cpu, CPU_CS, &seg);
	in->next = off;
}

/*
 * Check the code segment a far ret or iret returns to: RPL >= CPL, a
 * present code segment whose DPL matches the RPL (conforming: DPL <= RPL).
 */
static void check_return_cs(struct cpu *cpu, uint16_t sel, struct cpu_segment *seg)
{
	uint64_t d;
	unsigned rpl = sel & 3;
	if ((sel & 0xfffc) == 0)
		cpu_raise(cpu, CPU_GP, true, 0);
	if (!gdt_descriptor(cpu, sel, &d))
		cpu_raise(cpu, CPU_GP, true, SEL_ERR(sel));
	descriptor_to_segment(d, sel, seg);
	unsigned type = SEG_ATTR_TYPE(seg->attr), dpl = SEG_ATTR_DPL(seg->attr);
	if (rpl < cpu->cpl || !SEG_ATTR_S(seg->attr) || !(type & TYPE_CODE))
		cpu_raise(cpu, CPU_GP, true, SEL_ERR(sel));
	if ((type & TYPE_CONFORMING) ? dpl > rpl : dpl != rpl)
		cpu_raise(cpu, CPU_GP, true, SEL_ERR(sel));
	if (!SEG_ATTR_P(seg->attr))
		cpu_raise(cpu, CPU_NP, true, SEL_ERR(sel));
}

/* The stack segment of a return to an outer level: writable data at exactly that level. */
static void check_return_ss(struct cpu *cpu, uint16_t sel, unsigned rpl, struct cpu_segment *seg)
{
	uint64_t d;
	if ((sel & 0xfffc) == 0)
		cpu_raise(cpu, CPU_GP, true, 0);
	if (!gdt_descriptor(cpu, sel, &d))
		cpu_raise(cpu, CPU_GP, true, SEL_ERR(sel));
	descriptor_to_segment(d, sel, seg);
	unsigned type = SEG_ATTR_TYPE(seg->attr);
	if ((sel & 3u) != rpl || !SEG_ATTR_S(seg->attr) || (type & TYPE_CODE) || !(type & TYPE_RW) ||
	    SEG_ATTR_DPL(seg->attr) != rpl)
		cpu_raise(cpu, CPU_GP, true, SEL_ERR(sel));
	if (!SEG_ATTR_P(seg->attr))
		cpu_raise(cpu, CPU_SS_FAULT, true, SEL_ERR(sel));
}

/* After a return to an outer level, data segments the new CPL may not use become null. */
static void null_inaccessible_segments(struct cpu *cpu)
{
	static const enum cpu_sreg data[] = { CPU_ES, CPU_DS, CPU_FS, CPU_GS };
	for (unsigned i = 0; i < 4; i++) {
		const struct cpu_segment *seg = &cpu->seg[data[i]];
		unsigned type = SEG_ATTR_TYPE(seg->attr);
		if (!seg->usable)
			continue;
		bool data_or_nonconforming = !(type & TYPE_CODE) || !(type & TYPE_CONFORMING);
		if (data_or_nonconforming && SEG_ATTR_DPL(seg->attr) < cpu->cpl)
			commit_null(cpu, data[i], 0);
	}
}

/*
 * Commit a return to an outer level: CS, CPL, then SS:ESP (the new SS's
 * B bit decides how much of ESP is replaced).
 */
static void enter_outer_level(struct cpu *cpu, const struct cpu_segment *cs,
                              const struct cpu_segment *ss, uint32_t esp)
{
	commit_segment(cpu, CPU_CS, cs);
	cpu_set_cpl(cpu, cs->selector & 3);
	commit_segment(cpu, CPU_SS, ss);
	stack_set(cpu, esp);
	null_inaccessible_segments(cpu);
}

/*
 * ret far (imm bytes of arguments dropped): back to the same level, or out
 * to a less privileged one, which also pops SS:ESP and nulls data segments
 * the new CPL may not use.
 */
void far_return(struct cpu *cpu, struct insn *in, uint16_t imm)
{
	unsigned size = OSZ(in);
	uint32_t eip = stack_peek(cpu, 0, size);
	uint16_t sel = (uint16_t)stack_peek(cpu, size, 2);
	struct cpu_segment cs, ss;

	if (in->op16)
		eip &= 0xffff;
	check_return_cs(cpu, sel, &cs);
	unsigned rpl = sel & 3;
	if (rpl == cpu->cpl) {
		if (eip > cs.limit)
			cpu_raise(cpu, CPU_GP, true, 0);
		commit_segment(cpu, CPU_CS, &cs);
		stack_drop(cpu, 2 * size + imm);
	} else {
		uint32_t esp = stack_peek(cpu, 2 * size + imm, size);
		uint16_t ss_sel = (uint16_t)stack_peek(cpu, 3 * size + imm, 2);
		check_return_ss(cpu, ss_sel, rpl, &ss);
		if (eip > cs.limit)
			cpu_raise(cpu, CPU_GP, true, 0);
		enter_outer_level(cpu, &cs, &ss, esp + imm);
	}
	in->next = eip;
}

/*
 * The eflags image iret installs: IF only when CPL <= IOPL, IOPL only at
 * CPL 0 (both judged before the return), RF/AC/ID only with a 32-bit
 * operand size.
 */
static void iret_flags(struct cpu *cpu, uint32_t value, bool op16)
{
	flags_materialize(cpu);
	unsigned cpl = cpu->cpl, iopl = (cpu->eflags & EFLAGS_IOPL) >> 12;
	uint32_t mask = EFLAGS_ARITH | EFLAGS_TF | EFLAGS_DF | EFLAGS_NT;
	if (!op16)
		mask |= EFLAGS_RF | EFLAGS_AC | EFLAGS_ID;
	if (cpl <= iopl)
		mask |= EFLAGS_IF;
	if (cpl == 0)
		mask |= EFLAGS_IOPL | (op16 ? 0 : 0x00180000u); /* VIF, VIP */
	cpu->eflags = (cpu->eflags & ~mask) | (value & mask);
}

/*
 * iret: the end of an interrupt or exception handler.  Like a far return,
 * but it also pops EFLAGS; it is how the guest kernel drops to user mode.
 * Nested-task and virtual-8086 returns are not supported.
 */
void do_iret(struct cpu *cpu, struct insn *in)
{
	unsigned size = OSZ(in);
	struct cpu_segment cs, ss;

	flags_materialize(cpu);
	if (cpu->eflags & EFLAGS_NT)
		cpu_unimplemented(cpu); /* a nested-task return needs hardware task switching */
	uint32_t eip = stack_peek(cpu, 0, size);
	uint16_t sel = (uint16_t)stack_peek(cpu, size, 2);
	uint32_t flags = stack_peek(cpu, 2 * size, size);
	if (in->op16)
		eip &= 0xffff;
	if ((flags & EFLAGS_VM) && !in->op16 && cpu->cpl == 0)
		cpu_unimplemented(cpu); /* return to virtual-8086 mode */
	check_return_cs(cpu, sel, &cs);
	unsigned rpl = sel & 3;
	if (rpl == cpu->cpl) {
		if (eip > cs.limit)
			cpu_raise(cpu, CPU_GP, true, 0);
		iret_flags(cpu, flags, in->op16);
		commit_segment(cpu, CPU_CS, &cs);
		stack_drop(cpu, 3 * size);
	} else {
		uint32_t esp = stack_peek(cpu, 3 * size, size);
		uint16_t ss_sel = (uint16_t)stack_peek(cpu, 4 * size, 2);
		check_return_ss(cpu, ss_sel, rpl, &ss);
		if (eip > cs.limit)
			cpu_raise(cpu, CPU_GP, true, 0);
		iret_flags(cpu, flags, in->op16);
		enter_outer_level(cpu, &cs, &ss, esp);
	}
	in->next = eip;
}

/*
 * popf: at CPL 0 everything but VM/VIP/VIF; above, IOPL is kept, and IF
 * too when CPL > IOPL (silently, no fault).  RF is cleared.
 */
void popf_apply(struct cpu *cpu, uint32_t value, bool op16)
{
	flags_materialize(cpu);
	unsigned cpl = cpu->cpl, iopl = (cpu->eflags & EFLAGS_IOPL) >> 12;
	uint32_t mask = EFLAGS_ARITH | EFLAGS_TF | EFLAGS_DF | EFLAGS_NT | EFLAGS_AC | EFLAGS_ID;
	if (cpl == 0)
		mask |= EFLAGS_IOPL;
	if (cpl <= iopl)
		mask |= EFLAGS_IF;
	if (op16)
		mask &= 0xffff;
	cpu->eflags = ((cpu->eflags & ~mask) | (value & mask)) & ~EFLAGS_RF;
}

/* Everything gate delivery may change, to put back if a push faults. */
struct delivery_snapshot {
	uint32_t regs[8], eip, eflags;
	struct cpu_segment seg[CPU_NSREGS];
	unsigned cpl;
};

/* The body of cpu_deliver_gate(); raises on a fault. */
static void deliver(struct cpu *cpu, uint16_t selector, uint32_t offset, bool interrupt_gate,
                    bool has_error, uint32_t error)
{
	struct cpu_segment cs, ss;
	uint64_t d;
	unsigned cpl = cpu->cpl;

	if ((selector & 0xfffc) == 0)
		cpu_raise(cpu, CPU_GP, true, 0);
	if (!gdt_descriptor(cpu, selector, &d))
		cpu_raise(cpu, CPU_GP, true, SEL_ERR(selector));
	descriptor_to_segment(d, selector, &cs);
	unsigned type = SEG_ATTR_TYPE(cs.attr), dpl = SEG_ATTR_DPL(cs.attr);
	if (!SEG_ATTR_S(cs.attr) || !(type & TYPE_CODE) || dpl > cpl)
		cpu_raise(cpu, CPU_GP, true, SEL_ERR(selector));
	if (!SEG_ATTR_P(cs.attr))
		cpu_raise(cpu, CPU_NP, true, SEL_ERR(selector));
	if (offset > cs.limit)
		cpu_raise(cpu, CPU_GP, true, 0);
	unsigned new_cpl = (type & TYPE_CONFORMING) ? cpl : dpl;
	cs.selector = (uint16_t)((selector & ~3u) | new_cpl);

	flags_materialize(cpu);
	uint32_t old_flags = cpu->eflags;
	uint32_t old_cs = cpu->seg[CPU_CS].selector, old_ss = cpu->seg[CPU_SS].selector;
	uint32_t old_esp = cpu->regs[CPU_ESP];
	unsigned frame = (has_error ? 4 : 3) * 4;

	if (new_cpl < cpl) {
		uint16_t ss_sel = cpu->tss_ss[new_cpl];
		check_return_ss(cpu, ss_sel, new_cpl, &ss);
		cpu_set_cpl(cpu, new_cpl); /* the pushes are supervisor accesses */
		commit_segment(cpu, CPU_SS, &ss);
		stack_set(cpu, cpu->tss_esp[new_cpl]);
		frame += 8;
	}
	uint32_t low = stack_ptr(cpu) - frame;
	if (!stack32(cpu))
		low &= 0xffff;
	cpu_mem_probe_write(cpu, CPU_SS, low, frame);
	if (new_cpl < cpl) {
		push(cpu, 4, old_ss);
		push(cpu, 4, old_esp);
	}
	push(cpu, 4, old_flags);
	push(cpu, 4, old_cs);
	push(cpu, 4, cpu->eip);
	if (has_error)
		push(cpu, 4, error);
	commit_segment(cpu, CPU_CS, &cs);
	cpu_set_cpl(cpu, new_cpl);
	cpu->eflags &= ~(EFLAGS_TF | EFLAGS_NT | EFLAGS_RF | EFLAGS_VM);
	if (interrupt_gate)
		cpu->eflags &= ~EFLAGS_IF;
	cpu->eip = offset;
}

/*
 * Deliver through a gate for the host.  It runs outside cpu_run(), so it
 * catches its own faults and puts back everything it had changed.
 */
bool cpu_deliver_gate(struct cpu *cpu, uint16_t selector, uint32_t offset, bool interrupt_gate,
                      bool has_error, uint32_t error, struct cpu_stop *fault)
{
	struct cpu_private *p = cpu->priv;
	struct cpu_stop scratch;
	struct delivery_snapshot snap;
	jmp_buf here;
	jmp_buf *outer_catcher = p->catcher;
	struct cpu_stop *outer_stop = p->stop;

	cpu_resync(cpu);
	memcpy(snap.regs, cpu->regs, sizeof(snap.regs));
	snap.eip = cpu->eip;
	snap.eflags = cpu->eflags;
	memcpy(snap.seg, cpu->seg, sizeof(snap.seg));
	snap.cpl = cpu->cpl;

	p->catcher = &here;
	p->stop = fault ? fault : &scratch;
	bool ok = true;
	if (setjmp(here)) {
		memcpy(cpu->regs, snap.regs, sizeof(snap.regs));
		cpu->eip = snap.eip;
		cpu->eflags = snap.eflags;
		memcpy(cpu->seg, snap.seg, sizeof(snap.seg));
		cpu_set_cpl(cpu, snap.cpl);
		cpu_resync(cpu);
		p->stop->eip = cpu->eip;
		ok = false;
	} else {
		deliver(cpu, selector, offset, interrupt_gate, has_error, error);
	}
	p->catcher = outer_catcher;
	p->stop = outer_stop;
	return ok;
}
