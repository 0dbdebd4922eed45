/*
 * What the host does each time the CPU stops (addendum §A6, §A7): a
 * hypercall, a software interrupt judged by lguest's effective-DPL rule, a
 * page fault the shadow could not fill, port I/O to emulate, a trap to
 * reflect or to deliver directly, or an instruction we cannot run.
 */
#include <stdio.h>
#include <string.h>

#include "host.h"

/* Read one byte of guest code at a virtual address, as lg.ko's emulate_insn did. */
static bool code_byte(struct lguest *lg, uint32_t va, uint8_t *b)
{
	uint32_t pa;
	if (!guest_pa(lg, va, &pa))
		return false;
	return lg_read(lg, pa, b, 1);
}

/*
 * emulate_insn() (§A7): at CPL 1 a `cli` is skipped, and in/out (with an
 * optional 0x66) are skipped too, `in` reading all ones.  Anything else is
 * left for reflection as #GP(0).
 */
static bool emulate_insn(struct lguest *lg)
{
	struct cpu *cpu = &lg->cpu;
	uint32_t eip = cpu->eip;
	unsigned len = 0, shift = 0;
	uint8_t insn;
	bool in = false;

	if (!code_byte(lg, eip, &insn))
		return false;
	if (insn == 0xfa) {
		cpu->eip = eip + 1;
		return true;
	}
	if (insn == 0x66) {
		shift = 16;
		len = 1;
		if (!code_byte(lg, eip + 1, &insn))
			return false;
	}
	switch (insn & 0xfe) {
	case 0xe4: len += 2; in = true; break; /* in imm8 */
	case 0xec: len += 1; in = true; break; /* in (dx) */
	case 0xe6: len += 2; break;            /* out imm8 */
	case 0xee: len += 1; break;            /* out (dx) */
	default:
		return false;
	}
	if (in) {
		uint32_t *eax = &cpu->regs[CPU_EAX];
		if (lg->abi->in_results_2631) {
			if (insn & 1)
				*eax = 0xffffffffu;
			else
				*eax |= 0xffffu << shift;
		} else if (insn & 1) {
			*eax = shift ? (*eax | 0xffffu) : 0xffffffffu;
		} else {
			*eax |= 0xffu;
		}
	}
	cpu->eip = eip + len;
	return true;
}

/*
 * The 2.6.30-3.0 hosts turned a guest's `vmcall` (0F 01 C1) into
 * `int $0x1f; nop` in place, dropped every shadow, and let the guest run
 * it (part B).
 */
static bool rewrite_vmcall(struct lguest *lg)
{
	struct cpu *cpu = &lg->cpu;
	uint8_t b[3];
	uint32_t pa[3];
	if ((cpu->seg[CPU_CS].selector & 3) != 1)
		return false;
	for (unsigned i = 0; i < 3; i++)
		if (!guest_pa(lg, cpu->eip + i, &pa[i]) || !lg_read(lg, pa[i], &b[i], 1))
			return false;
	if (b[0] != 0x0f || b[1] != 0x01 || b[2] != 0xc1)
		return false;
	static const uint8_t patch[3] = {0xcd, 0x1f, 0x90};
	for (unsigned i = 0; i < 3; i++)
		lg_write(lg, pa[i], &patch[i], 1);
	guest_flush_tlb(lg, true); /* a full drop, which re-pins the stack (§A4.4, §A4.5) */
	return true;
}

/* Record what the host did with a trap. */
static void note_trap(struct lguest *lg, unsigned vector, uint32_t error, enum trap_action what)
{
	EMIT(lg, EV_TRAP, (uint8_t)what, vector, error, vector == 14 ? lg->last_pagefault : 0);
}

static void handle_exception(struct lguest *lg, unsigned vector, uint32_t error);

/*
 * A trap the processor would have delivered straight to the guest through
 * its trap gate.  If pushing the frame faults, that fault is handled
 * instead, with the state from before the trap (§A6.4).
 */
static void deliver_direct(struct lguest *lg, unsigned vector, bool has_error, uint32_t error, uint32_t return_eip,
                           uint32_t fault_eip)
{
	struct cpu *cpu = &lg->cpu;
	struct cpu_stop fault;
	uint32_t lo = lg->idt_lo[vector], hi = lg->idt_hi[vector];

	note_trap(lg, vector, error, TRAP_DIRECT);
	cpu->eip = return_eip;
	if (cpu_deliver_gate(cpu, (uint16_t)(lo >> 16), gate_offset(lo, hi), false, has_error, error,
	                     &fault))
		return;
	cpu->eip = fault_eip;
	if (fault.kind == CPU_STOP_EXCEPTION)
		handle_exception(lg, fault.vector, fault.error);
}

/* Reflect through the guest's gate, or kill "unhandled trap" when it has none. */
static void reflect_or_kill(struct lguest *lg, unsigned vector, uint32_t error)
{
	uint32_t eip = lg->cpu.eip;
	bool has_gate = idt_present(lg, vector);
	note_trap(lg, vector, error, has_gate ? TRAP_REFLECTED : TRAP_KILLED);
	if (!has_gate || !reflect_trap(lg, vector, trap_has_error_code(vector), error))
		kill_guest(lg, "unhandled trap %li at 0x%x (0x%x)", (long)vector, eip,
		           vector == 14 ? lg->last_pagefault : error);
}

/* lguest_arch_handle_trap() for a fault or exception at cpu->eip (§A6.1). */
static void handle_exception(struct lguest *lg, unsigned vector, uint32_t error)
{
	struct cpu *cpu = &lg->cpu;

	if (direct_trap_capable(lg, vector)) {
		deliver_direct(lg, vector, trap_has_error_code(vector), error, cpu->eip, cpu->eip);
		return;
	}
	switch (vector) {
	case 13:
		if (error == 0 && (cpu->seg[CPU_CS].selector & 3) == 1) {
			if (emulate_insn(lg) || (lg->abi->rewrite_vmcall && rewrite_vmcall(lg))) {
				note_trap(lg, vector, error, TRAP_SERVICED);
				return;
			}
		}
		break;
	case 6:
		if (lg->abi->rewrite_vmcall && rewrite_vmcall(lg)) {
			note_trap(lg, vector, error, TRAP_SERVICED);
			return;
		}
		break;
	case 14:
		if (lg->initialized && !ld_write32(lg, LD_CR2, lg->last_pagefault))
			kill_guest(lg, "Writing cr2");
		break;
	case 7:
		if (!lg->ts) {
			note_trap(lg, vector, error, TRAP_IGNORED);
			return;
		}
		break;
	default:
		break;
	}
	if (lg->death == GUEST_ALIVE)
		reflect_or_kill(lg, vector, error);
}

/*
 * A software interrupt (int n, int3, into), judged as lguest's real IDT
 * judged it (§A6.3): vector 31 is a hypercall from CPL 1; other vectors
 * either fault as #GP(n*8+2) because the effective gate's DPL is too low,
 * go directly through a trap gate, or exit to the host.
 */
static void handle_soft_int(struct lguest *lg, const struct cpu_stop *stop)
{
	struct cpu *cpu = &lg->cpu;
	unsigned n = stop->vector;
	uint32_t gp_error = n * 8 + 2;

	if (n == LGUEST_TRAP_ENTRY && cpu->cpl == 1) {
		cpu->eip = stop->next_eip;
		lg->hcall = (struct hcall_args){cpu->regs[CPU_EAX], cpu->regs[CPU_EBX], cpu->regs[CPU_ECX],
		                                cpu->regs[CPU_EDX], cpu->regs[CPU_ESI]};
		lg->hcall_pending = true;
		lg->seen_hypercall = true;
		return;
	}
	bool syscall = could_be_syscall(lg, n);
	unsigned dpl = idt_present(lg, n) ? gate_dpl(lg->idt_hi[n]) : 0;
	/* Vectors that keep the host's DPL-0 gate: 7, 13, 14, and 6 where #UD is not direct-capable. */
	bool host_gate = n == 7 || n == 13 || n == 14 || (n == 6 && !lg->abi->ud_direct);
	if ((n >= 32 && !syscall) || host_gate || n == LGUEST_TRAP_ENTRY || dpl < cpu->cpl) {
		handle_exception(lg, 13, gp_error);
		return;
	}
	if (direct_trap_capable(lg, n)) {
		deliver_direct(lg, n, false, 0, stop->next_eip, stop->eip);
		return;
	}
	cpu->eip = stop->next_eip;
	if (n >= 32) {
		note_trap(lg, n, 0, TRAP_IGNORED); /* a host interrupt as far as lg.ko could tell: lost (§A6.1) */
		return;
	}
	reflect_or_kill(lg, n, 0);
}

/* Format instruction bytes as "0f 38 00" for the unimplemented-instruction message. */
static void hex_bytes(const uint8_t *b, unsigned n, char *buf, size_t len)
{
	size_t used = 0;
	buf[0] = '\0';
	for (unsigned i = 0; i < n && used + 4 < len; i++)
		used += (size_t)snprintf(buf + used, len - used, i ? " %02x" : "%02x", b[i]);
}

/* Everything that can end a cpu_run() call. */
void handle_cpu_stop(struct lguest *lg, const struct cpu_stop *stop)
{
	char bytes[64];
	switch (stop->kind) {
	case CPU_STOP_EXCEPTION:
		if (stop->soft_int)
			handle_soft_int(lg, stop);
		else
			handle_exception(lg, stop->vector, stop->error);
		break;
	case CPU_STOP_UNIMPLEMENTED:
		hex_bytes(stop->insn, stop->insn_len, bytes, sizeof(bytes));
		kill_guest(lg, "unimplemented instruction %s at 0x%x", bytes, stop->eip);
		break;
	case CPU_STOP_HLT:
		kill_guest(lg, "hlt at CPL 0 at 0x%x", stop->eip);
		break;
	case CPU_STOP_BUDGET:
	case CPU_STOP_REQUEST:
	case CPU_STOP_HOST:
	case CPU_STOP_EXEC_HOOK:
	case CPU_STOP_WATCH:
		break;
	}
}
