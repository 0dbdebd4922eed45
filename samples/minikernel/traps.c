/*
 * The IDT and the trap handlers.
 *
 * Gates are loaded one at a time with LOAD_IDT_ENTRY, the way Linux 3.19
 * fills its IDT: trap gates (DPL 0) for the exceptions, an interrupt gate
 * for every vector from 32 to 255 except the system call vector, and a
 * DPL-3 trap gate there (§A6.1: a trap gate on 0x80 is delivered
 * directly by the processor, with no exit to the host).
 *
 * Virtual IRQ n arrives at vector 32 + n: IRQ 0, the clock event, is
 * vector 32.  Every handler returns through lguest_iret.
 */
#include "minikernel.h"

volatile struct trap_log traps;
volatile u32 fault_resume;
volatile u32 tick_rearm_ns;
volatile u32 tick_rearm_left;

#define GATE_INTERRUPT 0xEu
#define GATE_TRAP 0xFu

/* LOAD_IDT_ENTRY(vector, lo, hi) for a present gate to the vector's stub. */
static void set_gate(u32 vector, u32 type, u32 dpl)
{
	u32 handler = (u32)trap_vectors + vector * TRAP_STUB_SIZE;
	u32 lo = ((u32)KERNEL_CS << 16) | (handler & 0xffffu);
	u32 hi = (handler & 0xffff0000u) | 0x8000u | (dpl << 13) | (type << 8);
	hcall(LHCALL_LOAD_IDT_ENTRY, vector, lo, hi, 0);
}

/* The IDT Linux 3.19 ends up with on lguest (no local APIC). */
void load_idt(void)
{
	for (u32 v = 0; v < 32; v++)
		if (v != 2 && v != 8 && v != 15 && v != 31)
			set_gate(v, GATE_TRAP, 0);
	for (u32 v = 32; v < 256; v++)
		if (v != SYSCALL_VECTOR)
			set_gate(v, GATE_INTERRUPT, 0);
	set_gate(SYSCALL_VECTOR, GATE_TRAP, 3);
}

/* Give up: say where, and power off with the reason. */
static __attribute__((noreturn)) void panic_trap(const char *why, struct trap_frame *f)
{
	early_write("not ok ");
	early_write(why);
	early_write(" vector ");
	early_dec(f->vector);
	early_write(" at ");
	early_hex(f->eip);
	early_write(" error ");
	early_hex(f->error);
	early_write("\n");
	kernel_power_off("minikernel: unexpected trap");
}

/* #NM with TS set (§A6.6): let the FPU be used again, as math_state_restore does. */
static void device_not_available(void)
{
	traps.nm_irq_enabled = lguest_data.irq_enabled;
	hcall(LHCALL_TS, 0, 0, 0, 0);
}

/*
 * #PF the host could not fill (§A3.3): cr2 is in lguest_data.  A user
 * access to USER_FAULT_ADDR's page gets a fresh page, like an anonymous
 * mapping, and so does a `work=` process's heap (work.c); kernel probes
 * resume at fault_resume.
 */
static void page_fault(struct trap_frame *f)
{
	u32 cr2 = lguest_data.cr2;
	traps.pf_cr2 = cr2;
	traps.pf_error = f->error;
	if ((f->cs & 3) == 3 && (cr2 & ~(PAGE_SIZE - 1)) == USER_FAULT_ADDR) {
		traps.pf_user++;
		void *page = alloc_page();
		if (page)
			map_page(current_pgdir, USER_FAULT_ADDR, pa(page), PTE_USER_RW);
		return;
	}
	if ((f->cs & 3) == 3 && work_page_fault(cr2))
		return;
	if (!fault_resume)
		panic_trap("page fault", f);
	f->eip = fault_resume;
	fault_resume = 0;
}

/* IRQ 0, the clock event: count, record the clocks, maybe re-arm. */
static void timer_tick(struct trap_frame *f)
{
	u32 i = traps.ticks % 8;
	traps.tick_eip = f->eip;
	if (f->eip >= (u32)lguest_noirq_start && f->eip < (u32)lguest_noirq_end)
		traps.ticks_in_noirq++;
	if (lguest_data.irq_enabled)
		traps.ticks_irq_enabled_nonzero++;
	traps.tick_sec[i] = lguest_data.time_sec;
	traps.tick_nsec[i] = lguest_data.time_nsec;
	traps.tick_tsc[i] = rdtsc();
	traps.ticks++;
	if (tick_rearm_left) {
		tick_rearm_left--;
		traps.tick_rearms++;
		hcall(LHCALL_SET_CLOCKEVENT, tick_rearm_ns, 0, 0, 0);
	}
}

/* int $0x80: eax = call number, ebx = argument. */
static void system_call(struct trap_frame *f)
{
	traps.syscall_frame = (u32)&f->eip;
	traps.syscall_eflags = f->eflags;
	traps.syscall_irq_enabled = lguest_data.irq_enabled;
	traps.syscall_cs = f->cs;
	traps.syscall_ss = (f->cs & 3) == 3 ? f->user_ss : 0;
	switch (f->eax) {
	case SYS_WRITE:
		early_write((const char *)f->ebx);
		break;
	case SYS_REPORT:
		if (traps.nreported < 8)
			traps.reported[traps.nreported++] = f->ebx;
		break;
	case SYS_EXIT:
		leave_user(f->ebx);
	default:
		break;
	}
}

/* Called by trap_common for every vector, with the saved registers. */
void trap_dispatch(struct trap_frame *f)
{
	u32 v = f->vector;
	traps.count[v]++;
	if (v < 32) {
		traps.last_eip[v] = f->eip;
		traps.last_error[v] = f->error;
	}
	if (v == 7)
		device_not_available();
	else if (v == 14)
		page_fault(f);
	else if (v == 32)
		timer_tick(f);
	else if (v == SYSCALL_VECTOR)
		system_call(f);
	else if (fault_resume && v < 32) {
		f->eip = fault_resume;
		fault_resume = 0;
	} else
		panic_trap("unexpected trap", f);
}
