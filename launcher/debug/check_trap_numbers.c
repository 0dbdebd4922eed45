/*
 * trap-numbers: lguest's vector numbering, which bit the Plan 9 port
 * twice (docs/checkers/trap-numbers.md).
 *
 *  - IRQ n pending, interrupts enabled, but no gate at vector 32 + n
 *    (with the gates the guest did load, and a hint when they start at
 *    64: 32 added twice);
 *  - a user `int $N` that arrives as #GP(N*8+2) although the guest loaded
 *    a DPL-3 gate for N: its system calls use N, lguest passes only 0x80
 *    (or --syscall-vector);
 *  - a trap or interrupt gate loaded for 2, 8, 15 or 31, which lguest
 *    ignores: that handler never runs;
 *  - a system call lost because its gate is an interrupt gate (3.19).
 *
 * The IDT the host holds (lg->idt_lo/idt_hi) is the ground truth.
 */
#include <stdio.h>
#include <string.h>

#include "debug/checks.h"
#include "host/host.h"

#define GATE_PRESENT 0x8000u

static uint32_t reported_irqs;   /* one finding per IRQ */
static bool reported_vector[256]; /* one finding per vector */

static void traps_start(struct lguest *lg)
{
	(void)lg;
	reported_irqs = 0;
	memset(reported_vector, 0, sizeof(reported_vector));
}

/* The vectors from 32 up that have a gate, as ranges ("32-47, 128"), or "none". */
static void loaded_vectors(struct lguest *lg, char *buf, size_t len)
{
	size_t used = 0;
	buf[0] = '\0';
	for (unsigned v = 0; v < 256 && used + 16 < len; v++) {
		if (!idt_present(lg, v) || (v > 0 && idt_present(lg, v - 1)))
			continue;
		unsigned end = v;
		while (end + 1 < 256 && idt_present(lg, end + 1))
			end++;
		used += (size_t)snprintf(buf + used, len - used, used ? ", %u" : "%u", v);
		if (end > v)
			used += (size_t)snprintf(buf + used, len - used, "-%u", end);
	}
	if (!used)
		snprintf(buf, len, "none");
}

/* IRQ n could not be delivered for want of a gate at 32 + n. */
static void irq_without_gate(struct lguest *lg, const struct event *e)
{
	unsigned irq = e->arg[0];
	char gates[400], hint[160] = "";
	if (irq >= 32 || (reported_irqs & (1u << irq)))
		return;
	reported_irqs |= 1u << irq;
	loaded_vectors(lg, gates, sizeof(gates));
	if (irq + 64 < 256 && idt_present(lg, irq + 64))
		snprintf(hint, sizeof(hint), "; there is one at %u: was 32 added twice?", irq + 64);
	else if (idt_present(lg, irq))
		snprintf(hint, sizeof(hint), "; there is one at %u: IRQ numbers are 32-relative, vectors are not", irq);
	check_report(lg, &check_trap_numbers, irq,
	             "IRQ %u is pending with interrupts enabled, but there is no gate at vector %u: lguest delivers "
	             "IRQ n at vector 32+n (gates loaded: %s)%s",
	             irq, 32 + irq, gates, hint);
}

/* What the syscall vectors are: 0x80, the host's --syscall-vector, and what INIT was told. */
static void syscall_vectors(struct lguest *lg, char *buf, size_t len)
{
	if (lg->opt.syscall_vector != 0x80)
		snprintf(buf, len, "0x80 or 0x%x", lg->opt.syscall_vector);
	else
		snprintf(buf, len, "0x80");
}

/* A #GP whose error code names an IDT vector: a software int the host refused (§A6.3). */
static void refused_int(struct lguest *lg, const struct event *e)
{
	uint32_t error = e->arg[1];
	unsigned n = error >> 3;
	char where[200], vecs[40];
	if ((error & 7) != 2 || n < 32 || n > 255 || e->cpl != 3 || reported_vector[n])
		return;
	if (!idt_present(lg, n) || gate_dpl(lg->idt_hi[n]) != 3)
		return;
	reported_vector[n] = true;
	syscall_vectors(lg, vecs, sizeof(vecs));
	check_report(lg, &check_trap_numbers, n,
	             "user int $0x%x at %s arrived as #GP(0x%x): your system calls use 0x%x (a DPL-3 gate is loaded "
	             "there), but lguest lets only the syscall vector through (%s); lguest_data.syscall_vec is "
	             "0x%x",
	             n, check_where(lg, e->eip, where, sizeof(where)), error, n, vecs,
	             lg->initialized ? ld_read32(lg, lg->abi->off_syscall_vec) : 0);
}

/* A software int on a vector >= 32 that the host dropped as a "host interrupt" (§A6.1). */
static void lost_int(struct lguest *lg, const struct event *e)
{
	unsigned n = e->arg[0];
	char where[200];
	if (n < 32 || n > 255 || reported_vector[n] || !idt_present(lg, n) || gate_type(lg->idt_hi[n]) != 0xe)
		return;
	reported_vector[n] = true;
	check_report(lg, &check_trap_numbers, n,
	             "the system call int $0x%x before %s was silently lost: its gate is an interrupt gate "
	             "(type 0xE); lguest 3.19 delivers a system call directly only through a trap gate (0xF), and "
	             "takes anything else for a host interrupt",
	             n, check_where(lg, e->eip, where, sizeof(where)));
}

/* LOAD_IDT_ENTRY for a vector lguest ignores. */
static void ignored_gate(struct lguest *lg, const struct event *e)
{
	static const char *const what[32] = {[2] = "NMI", [8] = "double fault", [15] = "reserved",
	                                     [31] = "lguest's hypercall trap"};
	uint32_t n = e->arg[1], hi = e->arg[3];
	char where[200];
	if (n >= 32 || !what[n] || !(hi & GATE_PRESENT) || (gate_type(hi) != 0xe && gate_type(hi) != 0xf) ||
	    reported_vector[n])
		return;
	reported_vector[n] = true;
	check_report(lg, &check_trap_numbers, n,
	             "LOAD_IDT_ENTRY at %s loads a gate for vector %u (%s), which lguest ignores (2, 8, 15 and 31 "
	             "are never loaded): that handler will never run%s",
	             check_where(lg, e->eip, where, sizeof(where)), n, what[n],
	             n == 31 ? "; did you mean IRQ vectors from 32?" : "");
}

static void traps_event(struct lguest *lg, const struct event *e)
{
	switch (e->kind) {
	case EV_IRQ_HELD:
		if (e->sub == HELD_NO_GATE)
			irq_without_gate(lg, e);
		break;
	case EV_TRAP:
		if (e->arg[0] == 13)
			refused_int(lg, e);
		else if (e->sub == TRAP_IGNORED)
			lost_int(lg, e);
		break;
	case EV_HYPERCALL:
		if (e->arg[0] == LHCALL_LOAD_IDT_ENTRY)
			ignored_gate(lg, e);
		break;
	default:
		break;
	}
}

const struct checker check_trap_numbers = {
	.name = "trap-numbers",
	.start = traps_start,
	.event = traps_event,
};
