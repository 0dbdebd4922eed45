/*
 * The main loop: lg.ko's run_guest() (addendum §A1) around our CPU, plus
 * the launcher's own limits.
 *
 * Each round: finish a pending hypercall, service a NOTIFY, fire the clock
 * event if its time has come, try to deliver an interrupt, then either
 * skip a halted guest's time forward or run the CPU until its next event.
 * Guest time is the instruction count (plus skipped halts), so the CPU is
 * given exactly the number of instructions until the clock event is due:
 * IRQ 0 arrives at the same instruction on every run.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "host.h"

#define RUN_CHUNK 1000000u /* instructions between checks when nothing is due sooner */
#define IRQ_POLL_CHUNK 128u /* while an interrupt waits for the guest to re-enable them */
#define SPIN_PROBE_STEPS 64u /* longest loop period the spin detector recognises */
#define SPIN_PROBE_INTERVAL 1000000u /* instructions between probes while no interrupt can arrive */
#define INPUT_POLL_INTERVAL 1000000u /* instructions between looks at stdin while the guest runs */
#define IDLE_SLICE_MS 100 /* how long an idle wait for input keeps debuggers out */

/* The clock event fires when guest time reaches its deadline (§A9). */
static void run_timer(struct lguest *lg)
{
	if (lg->timer_armed && guest_now_ns(lg) >= lg->timer_deadline_ns) {
		lg->timer_armed = false;
		set_interrupt(lg, 0);
	}
}

/* Let a front end (lgdbg's control socket) look in; true if the loop must look again. */
static bool front_end_wants_a_look(struct lguest *lg)
{
	return lg->poll_front_end && lg->poll_front_end(lg);
}

/*
 * Could anything ever wake a halted guest (§A5.5)?  Not if it halted
 * inside its own noirq window: no interrupt is delivered there, and a
 * halted guest's eip does not move.
 */
static bool halt_can_wake(struct lguest *lg)
{
	if (lg->cpu.eip >= lg->noirq_start && lg->cpu.eip < lg->noirq_end)
		return false;
	uint32_t sources = lg->irqs_pending | (lg->timer_armed ? 1u : 0u) | devices_irq_sources(lg);
	return (sources & ~ld_read32(lg, LD_BLOCKED_INTERRUPTS)) != 0;
}

/*
 * A halted guest.  Console input that is already there wakes it first;
 * otherwise guest time jumps to the clock event (deterministic), or we
 * wait for it in host time (--realtime).  With no clock event armed, we
 * wait for console input.  A HALT that nothing can end is reported.
 */
static void idle_until_interrupt(struct lguest *lg)
{
	if (!halt_can_wake(lg)) {
		end_guest(lg, GUEST_LIMIT, "guest halted with no interrupt that can wake it");
		return;
	}
	uint64_t now = guest_now_ns(lg);
	uint32_t pending_before = lg->irqs_pending;
	if (!lg->timer_armed || lg->timer_deadline_ns <= now) {
		/*
		 * Only console input can wake it.  Wait for it in slices when a
		 * debugger or front end may want in (gdb's Ctrl-C, lgdbg
		 * attach): the run loop comes back here after they looked.
		 */
		bool others = lg->dbg || lg->poll_front_end;
		if (!(lg->irqs_pending & ~ld_read32(lg, LD_BLOCKED_INTERRUPTS)))
			devices_poll_input(lg, others ? IDLE_SLICE_MS : -1);
		return;
	}
	uint64_t wait = lg->timer_deadline_ns - now;
	devices_poll_input(lg, lg->opt.realtime ? (int)(wait / 1000000u) : 0);
	if (lg->irqs_pending != pending_before)
		return;
	if (lg->opt.realtime) {
		now = guest_now_ns(lg);
		if (lg->timer_deadline_ns > now) {
			wait = lg->timer_deadline_ns - now;
			struct timespec ts = {(time_t)(wait / 1000000000u), (long)(wait % 1000000000u)};
			nanosleep(&ts, NULL);
		}
	} else {
		lg->idle_ns += wait;
	}
}

/* The register state the spin detector compares. */
struct spin_state {
	uint32_t regs[8], eip, eflags;
	uint16_t sel[CPU_NSREGS];
};

static void snapshot(struct cpu *cpu, struct spin_state *s)
{
	memset(s, 0, sizeof(*s));
	memcpy(s->regs, cpu->regs, sizeof(s->regs));
	s->eip = cpu->eip;
	s->eflags = cpu_get_eflags(cpu);
	for (unsigned i = 0; i < CPU_NSREGS; i++)
		s->sel[i] = cpu->seg[i].selector;
}

/*
 * Is the guest spinning: going round a short loop that changes no
 * register and writes no memory, while no interrupt can ever arrive?
 * Step it one instruction at a time, with every page watched for writes,
 * and look for a register state seen before with no write in between.
 * The loop then began at that earlier state: *since is its instruction
 * count (exact when the loop was entered during the probe).  Steps that
 * stop for any other reason are handled normally and end the probe.
 */
static bool probe_spin(struct lguest *lg, uint64_t *since)
{
	struct spin_state seen[SPIN_PROBE_STEPS + 1], now;
	uint64_t seen_at[SPIN_PROBE_STEPS + 1];
	unsigned nseen = 0;
	struct cpu_stop stop;
	bool spinning = false;

	snapshot(&lg->cpu, &seen[nseen]);
	seen_at[nseen++] = lg->cpu.icount;
	lg->probe_writes = true;
	cpu_tlb_flush(&lg->cpu);
	for (unsigned i = 0; i < SPIN_PROBE_STEPS && !spinning; i++) {
		lg->probe_wrote = false;
		if (cpu_run(&lg->cpu, 1, &stop) != CPU_STOP_BUDGET) {
			lg->probe_writes = false;
			handle_cpu_stop(lg, &stop);
			break;
		}
		snapshot(&lg->cpu, &now);
		if (lg->probe_wrote)
			nseen = 0; /* a write: nothing before it can be the same state */
		for (unsigned k = 0; k < nseen; k++)
			if (memcmp(&seen[k], &now, sizeof(now)) == 0) {
				*since = seen_at[k];
				spinning = true;
				break;
			}
		seen[nseen] = now;
		seen_at[nseen++] = lg->cpu.icount;
	}
	lg->probe_writes = false;
	cpu_tlb_flush(&lg->cpu);
	return spinning;
}

/* How many instructions the CPU may run before the host must look again. */
static uint64_t next_budget(struct lguest *lg)
{
	uint64_t budget = RUN_CHUNK, now = guest_now_ns(lg);
	uint32_t eip = lg->cpu.eip;

	if (!lg->opt.realtime && lg->timer_armed && lg->timer_deadline_ns > now && lg->timer_deadline_ns - now < budget)
		budget = lg->timer_deadline_ns - now;
	uint64_t insns = lg->cpu.icount + lg->opt.insns_before, total_ns = now + lg->opt.ns_before;
	if (lg->opt.max_insns && lg->opt.max_insns - insns < budget)
		budget = lg->opt.max_insns - insns;
	if (lg->opt.timeout_ns && !lg->opt.realtime && lg->opt.timeout_ns - total_ns < budget)
		budget = lg->opt.timeout_ns - total_ns;
	if (lg->initialized && (lg->irqs_pending & ~ld_read32(lg, LD_BLOCKED_INTERRUPTS))) {
		if (eip >= lg->noirq_start && eip < lg->noirq_end)
			budget = 1;
		else if (budget > IRQ_POLL_CHUNK)
			budget = IRQ_POLL_CHUNK;
	}
	return budget ? budget : 1;
}

/* The launcher's own limits: --max-insns and --timeout, over every boot of the run. */
static bool limits_reached(struct lguest *lg)
{
	char sym[160];
	bool insns = lg->opt.max_insns && lg->cpu.icount + lg->opt.insns_before >= lg->opt.max_insns;
	bool time = !insns && lg->opt.timeout_ns && guest_now_ns(lg) + lg->opt.ns_before >= lg->opt.timeout_ns;
	if (!insns && !time)
		return false;
	describe_addr(lg, lg->cpu.eip, sym, sizeof(sym));
	if (insns)
		end_guest(lg, GUEST_LIMIT, "instruction limit %llu reached at 0x%x%s",
		          (unsigned long long)lg->opt.max_insns, lg->cpu.eip, sym);
	else
		end_guest(lg, GUEST_LIMIT, "guest time limit of %s s reached at 0x%x%s", lg->opt.timeout_text,
		          lg->cpu.eip, sym);
	return true;
}

enum guest_death lguest_run(struct lguest *lg)
{
	struct cpu_stop stop;

	while (lg->death == GUEST_ALIVE) {
		if (lg->hcall_pending)
			do_hypercalls(lg);
		if (lg->pending_notify) {
			uint32_t addr = lg->pending_notify;
			lg->pending_notify = 0;
			service_notify(lg, addr);
			continue;
		}
		run_timer(lg);
		if (!lg->dbg || !lg->dbg->irqs_allowed || lg->dbg->irqs_allowed(lg->dbg->ctx, lg))
			try_deliver_interrupts(lg);
		if (lg->death != GUEST_ALIVE)
			break;
		/*
		 * The debugger looks in every round, halted ones included, so it
		 * can report a stop (or take gdb's Ctrl-C) while the guest idles.
		 */
		uint64_t dbg_limit = 0;
		if (lg->dbg && lg->dbg->before_run) {
			dbg_limit = lg->dbg->before_run(lg->dbg->ctx, lg);
			if (lg->death != GUEST_ALIVE)
				break;
		}
		if (lg->halted) {
			if (front_end_wants_a_look(lg))
				continue;
			idle_until_interrupt(lg);
			if (lg->death == GUEST_ALIVE && limits_reached(lg))
				break;
			continue;
		}
		if (limits_reached(lg))
			break;
		if (lg->cpu.icount >= lg->next_input_poll) {
			lg->next_input_poll = lg->cpu.icount + INPUT_POLL_INTERVAL;
			devices_poll_input(lg, 0);
			if (front_end_wants_a_look(lg))
				continue;
		}
		if (!lg->dbg && lg->cpu.icount >= lg->next_spin_probe && !deliverable_irq_possible(lg)) {
			uint64_t since = 0;
			lg->next_spin_probe = lg->cpu.icount + SPIN_PROBE_INTERVAL;
			if (probe_spin(lg, &since)) {
				char sym[160];
				describe_addr(lg, lg->cpu.eip, sym, sizeof(sym));
				end_guest(lg, GUEST_LIMIT, "guest spinning at 0x%x%s since instruction %llu", lg->cpu.eip,
				          sym, (unsigned long long)since);
				break;
			}
			continue;
		}
		uint64_t budget = next_budget(lg);
		if (dbg_limit && dbg_limit < budget)
			budget = dbg_limit;
		cpu_run(&lg->cpu, budget, &stop);
		if (lg->dbg && lg->dbg->cpu_stopped)
			lg->dbg->cpu_stopped(lg->dbg->ctx, lg, &stop);
		handle_cpu_stop(lg, &stop);
	}
	EMIT(lg, EV_DEATH, 0, (uint32_t)lg->death);
	if (lg->dbg && lg->dbg->guest_died)
		lg->dbg->guest_died(lg->dbg->ctx, lg);
	return lg->death;
}
