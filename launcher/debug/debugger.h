/*
 * What the run loop offers a debugger (the gdb stub; later lgdbg's
 * control socket).  The host knows nothing of gdb: it calls these hooks,
 * each optional, at its decision points.  Breakpoints use the CPU's exec
 * hook (set cpu.exec_hook), watchpoints its watched translations, and
 * "catch syscall" the event stream (register an event sink).
 */
#ifndef LGUEST_DEBUGGER_H
#define LGUEST_DEBUGGER_H

#include <stdbool.h>
#include <stdint.h>

#include "cpu/cpu.h"

struct lguest;

struct debugger {
	void *ctx;
	/*
	 * Before each run of the CPU.  May block while the guest is stopped
	 * (serving the debugger's requests).  Returns the largest number of
	 * instructions the CPU may run now (1 while single-stepping), or 0
	 * for no limit.
	 */
	uint64_t (*before_run)(void *ctx, struct lguest *lg);
	/* The CPU stopped, before the host handles the stop. */
	void (*cpu_stopped)(void *ctx, struct lguest *lg, const struct cpu_stop *stop);
	/* May pending interrupts be delivered now?  (Not while single-stepping, unless asked.) */
	bool (*irqs_allowed)(void *ctx, struct lguest *lg);
	/* The CPU's exec hook: true stops before the instruction at eip (a breakpoint). */
	bool (*exec)(void *ctx, struct lguest *lg, uint32_t eip);
	/* Should accesses to this virtual page be watched (asked on every TLB fill)? */
	bool (*page_watched)(void *ctx, struct lguest *lg, uint32_t va_page);
	/* A watched access; true stops once the instruction completes. */
	bool (*mem_access)(void *ctx, struct lguest *lg, uint32_t va, uint32_t phys, unsigned size,
	                   enum cpu_access access, uint64_t value);
	/* The guest is dead (lg->death, lg->death_reason); the debugger may report it and wait. */
	void (*guest_died)(void *ctx, struct lguest *lg);
};

#endif
