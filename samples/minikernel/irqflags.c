/*
 * Interrupt flags, the lguest way (§A5.4).  The guest can never clear the
 * real IF: "interrupts off" is lguest_data.irq_enabled = 0, which the host
 * reads before delivering.  These are Linux 3.19's pv irq ops.
 */
#include "minikernel.h"

#define IRQ_ENABLED (*(volatile u32 *)&lguest_data.irq_enabled)

/* save_fl: a plain read of irq_enabled. */
u32 save_flags(void)
{
	return IRQ_ENABLED;
}

/* irq_disable (cli): a plain write. */
void irq_disable(void)
{
	IRQ_ENABLED = 0;
}

/*
 * irq_enable (sti), as lg_irq_enable: a plain write.  Linux's version then
 * tests irq_pending against a constant that can never match, so it never
 * issues SEND_INTERRUPTS; an interrupt withheld meanwhile waits for the
 * next hypercall or host exit.
 */
void irq_enable(void)
{
	IRQ_ENABLED = X86_EFLAGS_IF;
}

/* restore_fl: lg_restore_fl_asm (entry.S) may issue SEND_INTERRUPTS. */
void restore_flags(u32 flags)
{
	asm volatile("call lg_restore_fl_asm" : "+a"(flags) : : "memory", "cc");
}

/* The time stamp counter: 1 GHz here, since tsc_khz = 1000000. */
u64 rdtsc(void)
{
	u32 lo, hi;
	asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((u64)hi << 32) | lo;
}
