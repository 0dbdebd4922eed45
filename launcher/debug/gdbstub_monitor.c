/*
 * `monitor ...` in gdb (the qRcmd packet): lguest's own state, which no
 * register or memory read can show -- the hypercalls made, the IDT and
 * GDT the host holds, a page-table walk beside the shadow entry, the
 * shadow TLB, checker findings, the death report -- and the stub's
 * switches (memory view, interrupts while stepping).
 */
#include <unistd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "debug/trace.h"
#include "debug/checks.h"
#include "debug/gdbstub_internal.h"
#include "debug/inspect.h"
#include "host/host.h"

#define MONITOR_OUT 65536u
#define CRASH_EVENTS 24u

/* Collected output, sent to gdb's console in one go. */
struct out {
	char buf[MONITOR_OUT];
	size_t len;
};

static void say(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct out *o, const char *fmt, ...)
{
	va_list ap;
	if (o->len >= sizeof(o->buf) - 1)
		return;
	va_start(ap, fmt);
	int n = vsnprintf(o->buf + o->len, sizeof(o->buf) - o->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->len = o->len + (size_t)n < sizeof(o->buf) ? o->len + (size_t)n : sizeof(o->buf) - 1;
}

static void help(struct out *o)
{
	say(o, "lguest monitor commands:\n"
	       "  help                   this list\n"
	       "  status                 lguest_data, paging mode, halted, pending interrupts\n"
	       "  hypercalls             the last hypercalls (sync and async)\n"
	       "  idt                    the interrupt gates the guest loaded\n"
	       "  gdt                    the host-held GDT\n"
	       "  pt ADDR                walk ADDR through the guest's page tables, with the shadow entry beside it\n"
	       "  tlb                    what the current shadow slot maps (the guest's \"TLB\")\n"
	       "  checks                 porting-mistake checker findings\n"
	       "  crash                  the death reason and the last events\n"
	       "  trace on [FILE]|off    write every event from now on to a trace file\n"
	       "                         (lgdbg trace FILE reads it; default $TMPDIR/lguest-PID-gdb.trace)\n"
	       "  phys on|off            memory reads/writes use guest-physical addresses\n"
	       "  memview guest|shadow|physical\n"
	       "                         how gdb's addresses are translated (default guest)\n"
	       "  step-irqs on|off       let interrupts be delivered during stepi (default off)\n");
}

static void status(struct gdbstub *g, struct out *o)
{
	struct lguest *lg = g->lg;
	say(o, "instructions: %llu   eip: 0x%08x   cpl: %u\n", (unsigned long long)lg->cpu.icount, lg->cpu.eip,
	    lg->cpu.cpl);
	if (lg->initialized)
		say(o, "lguest_data: 0x%08x (irq_enabled 0x%x, blocked_interrupts 0x%x)\n", lg->lguest_data,
		    ld_read32(lg, LD_IRQ_ENABLED), ld_read32(lg, LD_BLOCKED_INTERRUPTS));
	else
		say(o, "lguest_data: none yet (before LGUEST_INIT)\n");
	say(o, "paging: %s, cr3 0x%08x, shadow slot %u\n",
	    lg->linear_pages ? "linear (1:1, before the first NEW_PGTABLE)" : "guest page tables", lg->cpu.cr3,
	    lg->cur_slot);
	say(o, "halted: %s   irqs pending: 0x%08x   timer: %s\n", lg->halted ? "yes" : "no", lg->irqs_pending,
	    lg->timer_armed ? "armed" : "off");
	say(o, "memory view: %s   stepi delivers interrupts: %s\n", gdb_view_name(g->view), g->step_irqs ? "yes" : "no");
	if (lg->death != GUEST_ALIVE)
		say(o, "dead: %s\n", lg->death_reason);
}

/* One event with its stamp. */
static void say_event(struct out *o, const struct event *e)
{
	char d[EVENT_DESCRIBE_MAX];
	event_describe(e, d, sizeof(d));
	say(o, "  #%-10llu eip 0x%08x cpl %u  %s\n", (unsigned long long)e->icount, e->eip, e->cpl, d);
}

static void hypercalls(struct gdbstub *g, struct out *o)
{
	struct event ev[GDB_HCALL_HISTORY];
	unsigned n = events_last_hypercalls(&g->lg->events, ev, GDB_HCALL_HISTORY);
	if (!n) {
		say(o, "no hypercalls yet\n");
		return;
	}
	say(o, "last %u of %llu hypercalls (instruction count, eip after the call):\n", n,
	    (unsigned long long)g->lg->events.nhcalls);
	for (unsigned i = 0; i < n; i++)
		say_event(o, &ev[i]);
}

/* One of debug/inspect.c's views, into the collected output. */
static void inspect(struct out *o, void (*view)(struct lguest *lg, FILE *f), struct lguest *lg)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (!f)
		return;
	view(lg, f);
	fclose(f);
	say(o, "%s", text);
	free(text);
}

/* `monitor pt ADDR`: the walk with the shadow entry beside it (debug/inspect.c). */
static void page_walk(struct gdbstub *g, struct out *o, const char *arg)
{
	char *end, *text = NULL;
	size_t len = 0;
	unsigned long v = strtoul(arg, &end, 0);
	if (end == arg || *end || v > 0xffffffffu) {
		say(o, "usage: pt ADDR\n");
		return;
	}
	FILE *f = open_memstream(&text, &len);
	if (!f)
		return;
	inspect_pt(g->lg, (uint32_t)v, f);
	fclose(f);
	say(o, "%s", text);
	free(text);
}

/* `monitor checks`: the findings the checkers keep (debug/checks.c), each with its text. */
static void checks(struct out *o)
{
	unsigned total = checks_count(), n = total < CHECKS_KEPT ? total : CHECKS_KEPT;
	if (!n) {
		say(o, "checker findings: none\n");
		return;
	}
	say(o, "checker findings (last %u of %u):\n", n, total);
	for (unsigned seq = total - n + 1; seq <= total; seq++)
		say_event(o, &checks_finding(seq)->ev);
}

static void crash(struct gdbstub *g, struct out *o)
{
	struct lguest *lg = g->lg;
	static struct event ev[CRASH_EVENTS];
	if (lg->death != GUEST_ALIVE)
		say(o, "the guest died: lguest: %s\n", lg->death_reason);
	else
		say(o, "the guest is alive (stopped at 0x%08x)\n", lg->cpu.eip);
	unsigned n = events_last(&lg->events, ev, CRASH_EVENTS);
	say(o, "last %u events:\n", n);
	for (unsigned i = 0; i < n; i++)
		say_event(o, &ev[i]);
}

/* "on"/"off" into a bool; false if neither. */
/*
 * `monitor trace on [FILE]` starts a trace file from this point (the
 * same format as --trace); `monitor trace off` finishes it.
 */
static void trace_command(struct gdbstub *g, struct out *o, const char *arg)
{
	char err[300];
	if (strncmp(arg, "on", 2) == 0 && (arg[2] == '\0' || arg[2] == ' ')) {
		const char *file = arg + 2;
		while (*file == ' ')
			file++;
		if (g->trace) {
			say(o, "trace: already writing %s\n", g->trace_path);
			return;
		}
		if (*file) {
			snprintf(g->trace_path, sizeof(g->trace_path), "%s", file);
		} else {
			const char *dir = getenv("TMPDIR");
			snprintf(g->trace_path, sizeof(g->trace_path), "%s/lguest-%d-gdb.trace", dir && *dir ? dir : "/tmp",
			         (int)getpid());
		}
		g->trace = trace_open(g->trace_path, g->lg, g->kernel_path, "", err, sizeof(err));
		if (!g->trace)
			say(o, "trace: %s\n", err);
		else if (!trace_attach(g->trace, g->lg))
			say(o, "trace: no room for another event sink\n");
		else
			say(o, "trace: writing every event to %s (lgdbg trace %s)\n", g->trace_path, g->trace_path);
	} else if (strcmp(arg, "off") == 0) {
		if (!g->trace) {
			say(o, "trace: not on\n");
			return;
		}
		trace_detach(g->trace, g->lg);
		bool ok = trace_close(g->trace, err, sizeof(err));
		g->trace = NULL;
		say(o, ok ? "trace: %s written\n" : "trace: %s: %s\n", g->trace_path, err);
	} else {
		say(o, "trace: %s (monitor trace on [FILE] | off)\n", g->trace ? g->trace_path : "off");
	}
}

static bool on_off(const char *arg, bool *v)
{
	if (strcmp(arg, "on") == 0)
		*v = true;
	else if (strcmp(arg, "off") == 0)
		*v = false;
	else
		return false;
	return true;
}

void gdb_monitor(struct gdbstub *g, const char *line)
{
	static struct out o;
	char cmd[64] = "", arg[128] = "";
	bool v;
	o.len = 0;
	o.buf[0] = '\0';
	sscanf(line, " %63s %127[^\n]", cmd, arg);
	for (size_t n = strlen(arg); n && arg[n - 1] == ' '; n--)
		arg[n - 1] = '\0';

	if (!cmd[0] || strcmp(cmd, "help") == 0)
		help(&o);
	else if (strcmp(cmd, "status") == 0)
		status(g, &o);
	else if (strcmp(cmd, "hypercalls") == 0)
		hypercalls(g, &o);
	else if (strcmp(cmd, "idt") == 0)
		inspect(&o, inspect_idt, g->lg);
	else if (strcmp(cmd, "gdt") == 0)
		inspect(&o, inspect_gdt, g->lg);
	else if (strcmp(cmd, "pt") == 0)
		page_walk(g, &o, arg);
	else if (strcmp(cmd, "tlb") == 0)
		inspect(&o, inspect_tlb, g->lg);
	else if (strcmp(cmd, "checks") == 0)
		checks(&o);
	else if (strcmp(cmd, "crash") == 0)
		crash(g, &o);
	else if (strcmp(cmd, "trace") == 0)
		trace_command(g, &o, arg);
	else if (strcmp(cmd, "phys") == 0 && on_off(arg, &v)) {
		g->view = v ? VIEW_PHYSICAL : VIEW_GUEST;
		say(&o, "memory view: %s\n", gdb_view_name(g->view));
	} else if (strcmp(cmd, "memview") == 0 && (!strcmp(arg, "guest") || !strcmp(arg, "shadow") || !strcmp(arg, "physical"))) {
		g->view = arg[0] == 'g' ? VIEW_GUEST : arg[0] == 's' ? VIEW_SHADOW : VIEW_PHYSICAL;
		say(&o, "memory view: %s\n", gdb_view_name(g->view));
	} else if (strcmp(cmd, "step-irqs") == 0 && on_off(arg, &v)) {
		g->step_irqs = v;
		say(&o, "stepi %s interrupts\n", v ? "delivers" : "holds back");
	} else
		say(&o, "unknown or incomplete monitor command '%s' (try `monitor help`)\n", line);
	gdb_console(g, o.buf);
}
