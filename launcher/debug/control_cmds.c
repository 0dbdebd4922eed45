/*
 * The control socket's requests that only look (debug/control.h): they
 * are answered at once, whether the guest runs, is stopped, is held by
 * gdb or is dead.  Bodies are plain lines: "name value" pairs for the
 * machine (registers, hello), event records lgdbg decodes itself (a
 * checker finding's record followed by its text), or text meant for the
 * user (crash report, IDT, GDT, page walk, TLB).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "debug/checks.h"
#include "debug/control_internal.h"
#include "debug/crash.h"
#include "debug/gdbstub_internal.h"
#include "debug/inspect.h"
#include "host/host.h"

#define MEM_MAX 65536u

/* "hello 1": who we are and what state the guest is in. */
static int hello(struct control *c, const char *arg, FILE *f, char *err, size_t errlen)
{
	if (atoi(arg) != CONTROL_PROTOCOL) {
		snprintf(err, errlen, "protocol %d wanted, this launcher speaks %d", atoi(arg), CONTROL_PROTOCOL);
		return -1;
	}
	fprintf(f, "protocol %d\npid %d\nkernel %s\nstate %s\ncontrol %s\n", CONTROL_PROTOCOL, (int)getpid(), c->kernel,
	        control_state(c), control_holder(c));
	if (c->lg->death != GUEST_ALIVE)
		fprintf(f, "reason %s\n", c->lg->death_reason);
	return 1;
}

/* Every register as "name 0xvalue", plus the instruction count and halted flag. */
static void regs(struct control *c, FILE *f)
{
	struct cpu *cpu = &c->lg->cpu;
	for (unsigned i = 0; i < 8; i++)
		fprintf(f, "%s 0x%08x\n", cpu_reg_name(i), cpu->regs[i]);
	fprintf(f, "eip 0x%08x\neflags 0x%08x\n", cpu->eip, cpu_get_eflags(cpu));
	for (unsigned i = 0; i < CPU_NSREGS; i++)
		fprintf(f, "%s 0x%04x\n", cpu_sreg_name(i), cpu->seg[i].selector);
	fprintf(f, "cr0 0x%08x\ncr2 0x%08x\ncr3 0x%08x\ncpl %u\nicount %llu\nhalted %d\nlinear %d\n", cpu->cr0, cpu->cr2,
	        cpu->cr3, cpu->cpl, (unsigned long long)cpu->icount, c->lg->halted, c->lg->linear_pages);
}

/*
 * "mem ADDR LEN [guest|phys]": the bytes in hex on one line, as many as
 * are mapped from ADDR on (the guest's own page tables, walked afresh;
 * in linear mode the kernel's PAGE_OFFSET alias).
 */
static int mem(struct control *c, const char *arg, FILE *f, char *err, size_t errlen)
{
	unsigned long addr = 0, len = MEM_MAX + 1;
	char a[64] = "", l[64] = "", view[16] = "guest", *end1 = a, *end2 = l;
	struct lguest *lg = c->lg;
	if (sscanf(arg, "%63s %63s %15s", a, l, view) >= 2) {
		addr = strtoul(a, &end1, 0);
		len = strtoul(l, &end2, 0);
	}
	if (end1 == a || *end1 || end2 == l || *end2 || addr > 0xffffffffu || len > MEM_MAX ||
	    (strcmp(view, "guest") && strcmp(view, "phys"))) {
		snprintf(err, errlen, "usage: mem ADDR LEN [guest|phys] (LEN at most %u)", MEM_MAX);
		return -1;
	}
	uint8_t *buf = malloc(len ? len : 1);
	if (!buf) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	uint32_t n = inspect_move(lg, view[0] == 'p' ? VIEW_PHYSICAL : VIEW_GUEST, (uint32_t)addr, buf, (uint32_t)len, false);
	for (uint32_t i = 0; i < n; i++)
		fprintf(f, "%02x", buf[i]);
	free(buf);
	fprintf(f, "\n");
	return 1;
}

/*
 * One event a line, as numbers lgdbg decodes: icount eip cpl kind sub
 * nargs and six arguments; a checker finding's record goes on with a space
 * and the finding's text, while debug/checks.c still keeps it.
 */
static void event_record(FILE *f, const struct event *e)
{
	const struct check_finding *finding = e->kind == EV_CHECK ? checks_finding(e->arg[2]) : NULL;
	fprintf(f, "%llu %08x %u %u %u %u", (unsigned long long)e->icount, e->eip, e->cpl, e->kind, e->sub, e->nargs);
	for (unsigned i = 0; i < EVENT_ARGS; i++)
		fprintf(f, " %x", e->arg[i]);
	if (finding)
		fprintf(f, " %s", finding->text);
	fprintf(f, "\n");
}

/* "checks": each finding debug/checks.c keeps, oldest first. */
static void findings(FILE *f)
{
	unsigned total = checks_count(), n = total < CHECKS_KEPT ? total : CHECKS_KEPT;
	for (unsigned seq = total - n + 1; seq <= total; seq++)
		event_record(f, &checks_finding(seq)->ev);
}

/* The last n of a history ring holding `count` events so far. */
static void history(FILE *f, const struct event_stream *s)
{
	struct event ev[EVENT_HCALL_HISTORY];
	unsigned n = events_last_hypercalls(s, ev, EVENT_HCALL_HISTORY);
	for (unsigned i = 0; i < n; i++)
		event_record(f, &ev[i]);
}

int control_inspect(struct control *c, const char *cmd, const char *arg, FILE *f, char *err, size_t errlen)
{
	struct lguest *lg = c->lg;
	if (!strcmp(cmd, "hello"))
		return hello(c, arg, f, err, errlen);
	if (!strcmp(cmd, "regs")) {
		regs(c, f);
	} else if (!strcmp(cmd, "mem")) {
		return mem(c, arg, f, err, errlen);
	} else if (!strcmp(cmd, "events")) {
		struct event ev[EVENT_RING_SIZE];
		unsigned n = events_last(&lg->events, ev, EVENT_RING_SIZE);
		for (unsigned i = 0; i < n; i++)
			event_record(f, &ev[i]);
	} else if (!strcmp(cmd, "hcalls")) {
		history(f, &lg->events);
	} else if (!strcmp(cmd, "checks")) {
		findings(f);
	} else if (!strcmp(cmd, "crash")) {
		crash_report(lg, f);
	} else if (!strcmp(cmd, "idt")) {
		inspect_idt(lg, f);
	} else if (!strcmp(cmd, "gdt")) {
		inspect_gdt(lg, f);
	} else if (!strcmp(cmd, "tlb")) {
		inspect_tlb(lg, f);
	} else if (!strcmp(cmd, "pt")) {
		char *end;
		unsigned long va = strtoul(arg, &end, 0);
		if (end == arg || *end || va > 0xffffffffu) {
			snprintf(err, errlen, "usage: pt ADDR");
			return -1;
		}
		inspect_pt(lg, (uint32_t)va, f);
	} else {
		return 0;
	}
	return 1;
}
