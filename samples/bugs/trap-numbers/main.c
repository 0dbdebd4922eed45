/*
 * Bug: the timer's gate at the wrong vector (the Plan 9 port's
 * "interrupt 1 is not triggering anything at all").
 *
 * lguest raises IRQ n at vector 32 + n, so the clock (IRQ 0) needs a gate
 * at 32.  This guest adds 32 to a number that already had 32 added and
 * loads the gate at 64: the tick never arrives.  The trap-numbers checker
 * says which IRQ found no gate, which vectors were loaded, and that 32
 * seems to have been added twice.  With "fixed" on the command line the
 * gate is at 32 and the tick arrives.
 */
#include "../../tests/common.h"
#include "../../tests/virtio.h"

#define FIRST_IRQ_VECTOR 32
#define CLOCK_IRQ 0
#define SPIN_LIMIT 100000

volatile u32 ticks;
void tick_handler(void);
asm(".text\n"
    ".globl tick_handler\n"
    "tick_handler:\n"
    "	incl ticks\n"
    "	iret\n");

void guest_main(void)
{
	u32 vector = FIRST_IRQ_VECTOR + CLOCK_IRQ;
	guest_init();
	if (!has_arg("fixed"))
		vector += FIRST_IRQ_VECTOR; /* the mistake: the IRQ number already counted from 32 */
	set_gate(vector, tick_handler, GATE_INTERRUPT, 0);
	lg_data.irq_enabled = 0x200; /* interrupts on, as Linux's sti does */
	hcall(LHCALL_SET_CLOCKEVENT, 1000, 0, 0, 0);
	for (u32 i = 0; i < SPIN_LIMIT && !ticks; i++)
		asm volatile("" ::: "memory");
	say(ticks ? "tick" : "no tick");
	power_off("done");
}
