/*
 * The clock event and virtual interrupt delivery (addendum §A9, §A5, §A1).
 * IRQ 0 arrives at vector 32 through an interrupt gate.
 */
#include "../common.h"

TRAP_STUB(timer_stub, 32, 0);

/* Burn about 3 instructions per round: with 1 instruction = 1 ns
 * (DESIGN §2.5) this outlasts the short timers below many times over. */
static void spin(u32 rounds)
{
	asm volatile("1: decl %0\n\tjnz 1b" : "+r"(rounds) : : "memory");
}

/* Wait (boundedly) for the stub to count one more interrupt. */
static u32 wait_for_interrupt(u32 count_before)
{
	for (u32 i = 0; i < 100000 && trap_rec.count == count_before; i++)
		asm volatile("" ::: "memory");
	return trap_rec.count - count_before;
}

/* The noirq window (§A5.2 step 2): a loop between noirq_begin and
 * noirq_end; the interrupt count is sampled on the last instruction inside
 * the window.  Returns the count seen inside. */
static __attribute__((noinline)) u32 spin_in_noirq_window(u32 rounds)
{
	u32 seen;
	asm volatile(".globl noirq_begin, noirq_end\n"
	             "noirq_begin:\n"
	             "1:	decl %1\n\t"
	             "jnz 1b\n\t"
	             "movl trap_rec+36, %0\n"
	             "noirq_end:"
	             : "=r"(seen), "+r"(rounds) : : "memory");
	return seen;
}

extern char noirq_begin[], noirq_end[];

void guest_main(void)
{
	lguest_data_prepare(&lg_data);
	lg_data.noirq_start = (u32)noirq_begin;
	lg_data.noirq_end = (u32)noirq_end;
	hcall(LHCALL_LGUEST_INIT, (u32)&lg_data, 0, 0, 0);
	set_gate(32, timer_stub, GATE_INTERRUPT, 0);
	u32 sec0 = lg_data.time_sec, nsec0 = lg_data.time_nsec;

	/* §A9: SET_CLOCKEVENT(0) cancels the timer. */
	lg_data.irq_enabled = 0x200;
	hcall(LHCALL_SET_CLOCKEVENT, 1000, 0, 0, 0);
	hcall(LHCALL_SET_CLOCKEVENT, 0, 0, 0, 0);
	spin(100000);
	hcall(LHCALL_FLUSH_ASYNC, 0, 0, 0, 0);
	check("cancelled timer silent", trap_rec.count, 0);

	/* §A9 + §A5.2: a one-shot timer raises IRQ 0, delivered at 32. */
	hcall(LHCALL_SET_CLOCKEVENT, 1000, 0, 0, 0);
	check("timer interrupt delivered", wait_for_interrupt(0), 1);
	check("timer vector 32", trap_rec.vector, 32);
	check("timer frame cs", trap_rec.cs, 0x61);
	/* §A6.2 step 2: IF pushed as irq_enabled had it (0x200). */
	check("timer frame IF set", trap_rec.eflags & 0x200, 0x200);
	check("timer pushes no error code", trap_rec.err, 0xffffffff);
	/* §A6.2 step 7: an interrupt gate writes irq_enabled = 0. */
	check("interrupt gate cleared irq_enabled", trap_rec.irq_enabled, 0);
	check("irq_enabled still 0 after iret", lg_data.irq_enabled, 0);
	/* §A5.2 step 6: the delivery wrote the time. */
	check("time written at delivery", lg_data.time_sec != sec0 || lg_data.time_nsec != nsec0, 1);
	/* §A9: one-shot, so no second tick. */
	lg_data.irq_enabled = 0x200;
	spin(100000);
	hcall(LHCALL_FLUSH_ASYNC, 0, 0, 0, 0);
	check("timer is one-shot", trap_rec.count, 1);

	/* §A5.2 step 1: blocked_interrupts bit 0 holds the timer back... */
	lg_data.blocked_interrupts = 1;
	hcall(LHCALL_SET_CLOCKEVENT, 1000, 0, 0, 0);
	spin(100000);
	hcall(LHCALL_FLUSH_ASYNC, 0, 0, 0, 0);
	check("blocked timer held back", trap_rec.count, 1);
	check("blocked timer leaves irq_pending", lg_data.irq_pending, 0);
	/* ...and §A1: it is delivered right after the next hypercall. */
	lg_data.blocked_interrupts = 0;
	hcall(LHCALL_FLUSH_ASYNC, 0, 0, 0, 0);
	check("unblocked timer delivered", trap_rec.count, 2);

	/* §A5.2 step 2: nothing is delivered inside [noirq_start, noirq_end). */
	lg_data.irq_enabled = 0x200;
	hcall(LHCALL_SET_CLOCKEVENT, 1000, 0, 0, 0);
	check("no delivery inside the noirq window", spin_in_noirq_window(100000), 2);
	hcall(LHCALL_FLUSH_ASYNC, 0, 0, 0, 0);
	check("delivered after the noirq window", trap_rec.count, 3);
	/* DESIGN §2.5: "delivered at instruction boundaries as soon as
	 * lguest's rules allow", i.e. at the first eip outside the window. */
	check("delivered at noirq_end", trap_rec.eip, (u32)noirq_end);

	/* §A5.2 step 4: with irq_enabled = 0 the host only sets irq_pending. */
	lg_data.irq_enabled = 0;
	hcall(LHCALL_SET_CLOCKEVENT, 1000, 0, 0, 0);
	spin(100000);
	hcall(LHCALL_FLUSH_ASYNC, 0, 0, 0, 0);
	check("disabled timer held back", trap_rec.count, 3);
	check("irq_pending set", lg_data.irq_pending, 0x200);
	/* §A5.4: re-enable and SEND_INTERRUPTS, as lg_restore_fl does. */
	lg_data.irq_enabled = 0x200;
	hcall(LHCALL_SEND_INTERRUPTS, 0, 0, 0, 0);
	check("send_interrupts delivers", trap_rec.count, 4);
	/* §A5.3: the host never clears irq_pending. */
	check("irq_pending never cleared", lg_data.irq_pending, 0x200);

	/* §A5.5: HALT with irq_enabled = 0 wakes on the timer; the wake-up
	 * forces irq_enabled = 0x200 (§A5.2 step 3), so the frame shows IF
	 * and the interrupt gate then clears irq_enabled again; the pushed
	 * eip is just after the HALT's int $0x1f (§A1). */
	u32 after_halt;
	lg_data.irq_enabled = 0;
	hcall(LHCALL_SET_CLOCKEVENT, 5000, 0, 0, 0);
	asm volatile("movl $1f, %0\n\t"
	             "int $0x1f\n"
	             "1:"
	             : "=&r"(after_halt) : "a"(LHCALL_HALT), "b"(0), "c"(0), "d"(0), "S"(0) : "memory");
	check("halt woken by the timer", trap_rec.count, 5);
	check("halt wake frame eip", trap_rec.eip, after_halt);
	check("halt wake frame IF set", trap_rec.eflags & 0x200, 0x200);
	check("irq_enabled 0 after the gate", lg_data.irq_enabled, 0);

	/* §A5.5: a HALT with an unblocked IRQ already pending returns at
	 * once (here pending because irq_enabled = 0 withheld it). */
	hcall(LHCALL_SET_CLOCKEVENT, 1000, 0, 0, 0);
	spin(100000);
	check("pending while disabled", trap_rec.count, 5);
	hcall(LHCALL_HALT, 0, 0, 0, 0);
	check("halt with a pending irq returns", trap_rec.count, 6);
	finish();
}
