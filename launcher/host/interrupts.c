/*
 * Interrupts and traps into the guest (addendum §A5, §A6).
 *
 * The guest loads its IDT through LOAD_IDT_ENTRY; we keep it here.  A trap
 * the host handles is "reflected": the host pushes a frame on the guest's
 * stack itself and jumps to the gate, the way set_guest_interrupt() did.
 * A few vectors with trap gates are "direct": on a real host the processor
 * delivered them without any exit, so we ask the CPU to do exactly that.
 * Virtual IRQ n arrives at vector 32 + n, subject to irq_enabled,
 * blocked_interrupts and the noirq window.
 */
#include "host.h"

#define EFLAGS_CLEARED_ON_REFLECT (EFLAGS_TF | EFLAGS_VM | EFLAGS_RF | EFLAGS_NT)

bool idt_present(const struct lguest *lg, unsigned vector)
{
	return vector < 256 && (lg->idt_hi[vector] & 0x8000u);
}

/* The processor pushes an error code for these vectors only (§A6.2). */
bool trap_has_error_code(unsigned vector)
{
	return vector == 8 || (vector >= 10 && vector <= 14) || vector == 17;
}

/* LOAD_IDT_ENTRY(n, lo, hi) (§A2.2), with set_trap()'s checks. */
void load_idt_entry(struct lguest *lg, uint32_t n, uint32_t lo, uint32_t hi)
{
	if (n == 2 || n == 8 || n == 15 || n == LGUEST_TRAP_ENTRY)
		return;
	if (n >= 256) {
		kill_guest(lg, "Setting idt entry %u", n);
		return;
	}
	if (!(hi & 0x8000u)) {
		lg->idt_lo[n] = lg->idt_hi[n] = 0;
		return;
	}
	if (gate_type(hi) != 0xe && gate_type(hi) != 0xf)
		kill_guest(lg, "bad IDT type %i", (int)gate_type(hi));
	lg->idt_lo[n] = (GUEST_KERNEL_CS << 16) | (lo & 0xffffu);
	lg->idt_hi[n] = hi & 0xffffef00u;
}

/* Could this vector be a system call (lg.ko's could_be_syscall)? */
bool could_be_syscall(const struct lguest *lg, unsigned vector)
{
	if (vector == 0x80 || vector == lg->opt.syscall_vector)
		return true;
	return lg->abi->guest_syscall_vec && lg->initialized && vector == lg->guest_syscall_vec;
}

/*
 * direct_trap() (§A6.1): would the real processor have delivered this
 * vector straight to the guest?  Only a few vectors, and only through a
 * trap gate.
 */
bool direct_trap_capable(const struct lguest *lg, unsigned vector)
{
	if (vector >= 32 && !could_be_syscall(lg, vector))
		return false;
	if (vector == 7 || vector == 13 || vector == 14 || vector == LGUEST_TRAP_ENTRY)
		return false;
	if (vector == 6 && !lg->abi->ud_direct)
		return false;
	return idt_present(lg, vector) && gate_type(lg->idt_hi[vector]) == 0xf;
}

/* Push one word of a reflected frame, moving down in guest-physical memory (§A6.2 step 4). */
static void push_guest_stack(struct lguest *lg, uint32_t *gstack, uint32_t val)
{
	*gstack -= 4;
	lg_write32(lg, *gstack, val);
}

/*
 * set_guest_interrupt() (§A6.2): push the frame ourselves and enter the
 * handler at CPL 1.  The pushed eflags has IF clear when the guest has
 * interrupts disabled in irq_enabled.
 */
static void set_guest_interrupt(struct lguest *lg, uint32_t lo, uint32_t hi, bool has_err, uint32_t err)
{
	struct cpu *cpu = &lg->cpu;
	uint32_t eflags = cpu_get_eflags(cpu);
	uint32_t ss, virtstack, origstack, stack;
	bool from_user = (cpu->seg[CPU_SS].selector & 3) != 1;

	if (from_user) {
		virtstack = cpu->tss_esp[1];
		ss = cpu->tss_ss[1];
		origstack = cpu->regs[CPU_ESP];
	} else {
		virtstack = cpu->regs[CPU_ESP];
		ss = cpu->seg[CPU_SS].selector;
		origstack = 0;
	}
	if (!guest_pa(lg, virtstack, &stack))
		return;
	uint32_t gstack = stack;
	if (from_user) {
		push_guest_stack(lg, &gstack, cpu->seg[CPU_SS].selector);
		push_guest_stack(lg, &gstack, origstack);
	}
	if (lg->initialized && !(ld_read32(lg, LD_IRQ_ENABLED) & X86_EFLAGS_IF))
		eflags &= ~X86_EFLAGS_IF;
	push_guest_stack(lg, &gstack, eflags);
	push_guest_stack(lg, &gstack, cpu->seg[CPU_CS].selector);
	push_guest_stack(lg, &gstack, cpu->eip);
	if (has_err)
		push_guest_stack(lg, &gstack, err);
	if (lg->death != GUEST_ALIVE)
		return;

	if (!cpu_load_segment_raw(cpu, CPU_SS, (uint16_t)ss)) {
		kill_guest(lg, "bad stack segment %i", (int)ss);
		return;
	}
	cpu->regs[CPU_ESP] = virtstack + (gstack - stack);
	cpu_load_segment_raw(cpu, CPU_CS, GUEST_KERNEL_CS);
	cpu->eip = gate_offset(lo, hi);
	if (lg->abi->reflect_clears_tf)
		cpu_set_eflags(cpu, cpu_get_eflags(cpu) & ~EFLAGS_CLEARED_ON_REFLECT);
	if (gate_type(hi) == 0xe && !ld_write32(lg, LD_IRQ_ENABLED, 0))
		kill_guest(lg, "Disabling interrupts");
}

/*
 * deliver_trap(): reflect a trap through the guest's own gate.  Returns
 * false when the guest has no gate for it (the caller kills "unhandled
 * trap").
 */
bool reflect_trap(struct lguest *lg, unsigned vector, bool has_error, uint32_t error)
{
	if (!idt_present(lg, vector))
		return false;
	set_guest_interrupt(lg, lg->idt_lo[vector], lg->idt_hi[vector], has_error, error);
	return true;
}

/* Mark a virtual IRQ pending (LHREQ_IRQ, or the clock event for IRQ 0). */
void set_interrupt(struct lguest *lg, unsigned irq)
{
	if (irq < LGUEST_IRQS) {
		lg->irqs_pending |= 1u << irq;
		EMIT(lg, EV_IRQ_RAISED, 0, irq);
	}
}

/* The lowest pending IRQ not blocked by the guest, or LGUEST_IRQS. */
static unsigned interrupt_pending(struct lguest *lg)
{
	if (!lg->initialized)
		return LGUEST_IRQS;
	uint32_t live = lg->irqs_pending & ~ld_read32(lg, LD_BLOCKED_INTERRUPTS);
	return live ? (unsigned)__builtin_ctz(live) : LGUEST_IRQS;
}

/*
 * Say once why an IRQ is being held back (the run loop retries often;
 * the event stream should show each reason once, not every retry).
 */
static void note_held(struct lguest *lg, unsigned irq, enum irq_held why)
{
	if (lg->held_irq == irq + 1 && lg->held_reason == why)
		return;
	lg->held_irq = irq + 1;
	lg->held_reason = why;
	EMIT(lg, EV_IRQ_HELD, (uint8_t)why, irq);
}

/* try_deliver_interrupt() (§A5.2), for the lowest pending unblocked IRQ. */
void try_deliver_interrupts(struct lguest *lg)
{
	unsigned irq = interrupt_pending(lg);
	uint32_t eip = lg->cpu.eip;

	if (irq >= LGUEST_IRQS) {
		if (lg->initialized && (lg->irqs_pending & ld_read32(lg, LD_BLOCKED_INTERRUPTS)))
			note_held(lg, (unsigned)__builtin_ctz(lg->irqs_pending), HELD_BLOCKED);
		return;
	}
	if (eip >= lg->noirq_start && eip < lg->noirq_end) {
		note_held(lg, irq, HELD_NOIRQ_WINDOW);
		return;
	}
	if (lg->halted) {
		if (!ld_write32(lg, LD_IRQ_ENABLED, X86_EFLAGS_IF))
			kill_guest(lg, "Re-enabling interrupts");
		lg->halted = false;
	} else if (!ld_read32(lg, LD_IRQ_ENABLED)) {
		ld_write32(lg, LD_IRQ_PENDING, X86_EFLAGS_IF);
		note_held(lg, irq, HELD_IRQS_DISABLED);
		return;
	}
	if (idt_present(lg, 32 + irq)) {
		lg->irqs_pending &= ~(1u << irq);
		lg->held_irq = 0;
		EMIT(lg, EV_IRQ_DELIVERED, 0, irq, 32 + irq);
		set_guest_interrupt(lg, lg->idt_lo[32 + irq], lg->idt_hi[32 + irq], false, 0);
	} else {
		note_held(lg, irq, HELD_NO_GATE);
	}
	write_guest_time(lg);
}

/*
 * Could an interrupt ever reach this guest as it stands?  Used to tell a
 * guest waiting for its timer from one that spins or halts forever.
 * Nothing the guest cannot change from where it is (blocked bits,
 * irq_enabled, gates) is assumed to change.
 */
bool deliverable_irq_possible(struct lguest *lg)
{
	if (!lg->initialized)
		return false;
	uint32_t sources = lg->irqs_pending | (lg->timer_armed ? 1u : 0u) | devices_irq_sources(lg);
	sources &= ~ld_read32(lg, LD_BLOCKED_INTERRUPTS);
	if (!sources)
		return false;
	if (lg->halted)
		return true;
	if (!ld_read32(lg, LD_IRQ_ENABLED))
		return false;
	for (unsigned irq = 0; irq < LGUEST_IRQS; irq++)
		if ((sources & (1u << irq)) && idt_present(lg, 32 + irq))
			return true;
	return false;
}
