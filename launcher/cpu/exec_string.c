/*
 * String instructions (movs, cmps, stos, lods, scas, ins, outs) and port
 * I/O.
 *
 * A rep-prefixed string instruction executes one iteration per call and,
 * while more remain, leaves eip on itself: every iteration is a retired
 * instruction, and the run loop's budget and stop checks fall between
 * iterations exactly as interrupts do on real hardware.
 */
#include <string.h>

#include "core.h"

/* Port I/O is allowed when CPL <= IOPL (there is no I/O permission bitmap). */
bool io_allowed(const struct cpu *cpu)
{
	return cpu->cpl <= ((cpu->eflags & EFLAGS_IOPL) >> 12);
}

static uint32_t port_in(struct cpu *cpu, uint16_t port, unsigned size)
{
	if (!cpu->ops->io_in)
		return size_mask(size); /* nothing answers: the bus floats high */
	return cpu->ops->io_in(cpu->opaque, cpu, port, size) & size_mask(size);
}

static void port_out(struct cpu *cpu, uint16_t port, unsigned size, uint32_t value)
{
	if (cpu->ops->io_out)
		cpu->ops->io_out(cpu->opaque, cpu, port, size, value & size_mask(size));
}

/* in/out with an immediate port or DX. */
void exec_io(struct cpu *cpu, struct insn *in, uint8_t op)
{
	unsigned size = (op & 1) ? OSZ(in) : 1;
	uint16_t port = op < 0xe8 ? fetch8(cpu, in) : (uint16_t)cpu->regs[CPU_EDX];
	if (!io_allowed(cpu))
		cpu_raise(cpu, CPU_GP, true, 0);
	if (op & 2)
		port_out(cpu, port, size, reg_get(cpu, CPU_EAX, size));
	else
		reg_set(cpu, CPU_EAX, size, port_in(cpu, port, size));
}

/*
 * rep movs/stos, forwards, on cached pages: run the iterations that stay
 * within the current source and destination pages (and within the
 * budget) in one go, straight on host memory.  Each still counts as one
 * instruction.  Returns false when the ordinary one-iteration path must
 * do the work (page ends, watched or uncached pages, DF set, 16-bit
 * addressing, a debugger stepping).
 */
static bool rep_fast(struct cpu *cpu, struct insn *in, uint8_t op, unsigned size, enum cpu_sreg src)
{
	struct cpu_private *p = cpu->priv;
	if (in->addr16 || (cpu->eflags & (EFLAGS_DF | EFLAGS_TF)) || cpu->exec_hook)
		return false;
	uint32_t count = cpu->regs[CPU_ECX];
	uint64_t budget = p->icount_end - cpu->icount;
	uint32_t n = count < budget ? count : (uint32_t)budget;
	uint32_t di = cpu->regs[CPU_EDI], si = cpu->regs[CPU_ESI];
	const struct seg_window *dw = &p->segw[CPU_ES];
	uint32_t dla = dw->base + di;
	uint32_t room = (4096 - (dla & 0xfffu)) / size;
	if (room < n)
		n = room;
	const uint8_t *from = NULL;
	if (op <= 0xa5) {
		const struct seg_window *sw = &p->segw[src];
		uint32_t sla = sw->base + si;
		room = (4096 - (sla & 0xfffu)) / size;
		if (room < n)
			n = room;
		if (n < 2 || !(sw->rights & SEGR_READ) || si < sw->lo ||
		    (uint64_t)si + (uint64_t)n * size - 1 > sw->hi)
			return false;
		from = tlb_hit(cpu, sla, n * size, false);
		if (!from)
			return false;
	}
	if (n < 2 || !(dw->rights & SEGR_WRITE) || di < dw->lo ||
	    (uint64_t)di + (uint64_t)n * size - 1 > dw->hi)
		return false;
	uint8_t *to = tlb_hit(cpu, dla, n * size, true);
	if (!to)
		return false;

	uint32_t bytes = n * size;
	if (from) {
		/* Element by element, as the iterations would: it matters when they overlap. */
		for (uint32_t i = 0; i < bytes; i += size) {
			uint32_t v;
			memcpy(&v, from + i, size);
			memcpy(to + i, &v, size);
		}
		cpu->regs[CPU_ESI] = si + bytes;
	} else {
		uint32_t v = cpu->regs[CPU_EAX];
		for (uint32_t i = 0; i < bytes; i += size)
			memcpy(to + i, &v, size);
	}
	cpu->regs[CPU_EDI] = di + bytes;
	cpu->regs[CPU_ECX] = count - n;
	cpu->icount += n - 1; /* exec_one() counts the last one */
	if (count - n != 0)
		in->next = p->insn_eip;
	return true;
}

/* One iteration of a string instruction. */
void exec_string(struct cpu *cpu, struct insn *in, uint8_t op)
{
	unsigned size = (op & 1) ? OSZ(in) : 1;
	unsigned asize = in->addr16 ? 2 : 4;
	enum cpu_sreg src = in->seg_override >= 0 ? (enum cpu_sreg)in->seg_override : CPU_DS;
	uint32_t delta = (cpu->eflags & EFLAGS_DF) ? (uint32_t)-size : size;
	uint32_t si = reg_get(cpu, CPU_ESI, asize), di = reg_get(cpu, CPU_EDI, asize);
	bool is_io = op < 0x70;
	bool compares = false;

	if (is_io && !io_allowed(cpu))
		cpu_raise(cpu, CPU_GP, true, 0);
	if (in->rep && reg_get(cpu, CPU_ECX, asize) == 0)
		return;
	if (in->rep && op >= 0xa4 && op != 0xa6 && op != 0xa7 && op <= 0xab &&
	    rep_fast(cpu, in, op, size, src))
		return;

	switch (op) {
	case 0xa4:
	case 0xa5:
		mem_write(cpu, CPU_ES, di, size, mem_read(cpu, src, si, size));
		reg_set(cpu, CPU_ESI, asize, si + delta);
		reg_set(cpu, CPU_EDI, asize, di + delta);
		break;
	case 0xa6:
	case 0xa7: {
		uint32_t a = mem_read(cpu, src, si, size), b = mem_read(cpu, CPU_ES, di, size);
		lf_set(cpu, LF_SUB, a - b, a, b, size);
		reg_set(cpu, CPU_ESI, asize, si + delta);
		reg_set(cpu, CPU_EDI, asize, di + delta);
		compares = true;
		break;
	}
	case 0xaa:
	case 0xab:
		mem_write(cpu, CPU_ES, di, size, reg_get(cpu, CPU_EAX, size));
		reg_set(cpu, CPU_EDI, asize, di + delta);
		break;
	case 0xac:
	case 0xad:
		reg_set(cpu, CPU_EAX, size, mem_read(cpu, src, si, size));
		reg_set(cpu, CPU_ESI, asize, si + delta);
		break;
	case 0xae:
	case 0xaf: {
		uint32_t a = reg_get(cpu, CPU_EAX, size), b = mem_read(cpu, CPU_ES, di, size);
		lf_set(cpu, LF_SUB, a - b, a, b, size);
		reg_set(cpu, CPU_EDI, asize, di + delta);
		compares = true;
		break;
	}
	case 0x6c:
	case 0x6d:
		/* The destination is checked before the port is read. */
		cpu_mem_probe_write(cpu, CPU_ES, di, size);
		mem_write(cpu, CPU_ES, di, size, port_in(cpu, (uint16_t)cpu->regs[CPU_EDX], size));
		reg_set(cpu, CPU_EDI, asize, di + delta);
		break;
	default: /* outs */
		port_out(cpu, (uint16_t)cpu->regs[CPU_EDX], size, mem_read(cpu, src, si, size));
		reg_set(cpu, CPU_ESI, asize, si + delta);
		break;
	}

	if (!in->rep)
		return;
	uint32_t count = (reg_get(cpu, CPU_ECX, asize) - 1) & size_mask(asize);
	reg_set(cpu, CPU_ECX, asize, count);
	if (count == 0)
		return;
	if (compares && flags_cond(cpu, 4) != (in->rep == 0xf3))
		return;
	in->next = cpu->priv->insn_eip; /* run again: the next iteration */
}
