/*
 * The shell's commands.  Each asks the launcher (one request, see
 * docs/lgdbg.md) and prints the answer for people, with addresses named
 * from the kernel's symbols.  Output is stable from run to run of the
 * same guest: no wall times, no pids (those go to stderr).
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

#include "event_filter.h"
#include "debug/checks.h"
#include "debug/events.h"
#include "host/host.h"
#include "shell.h"

#define BT_MAX_FRAMES 32
#define HCALLS_DEFAULT 16

/* Ask for a text view and print it as it comes. */
static bool print_request(struct shell *sh, const char *req)
{
	char *body;
	bool ok = session_request(&sh->s, &body, "%s", req);
	if (ok)
		fputs(body, stdout);
	else
		shell_error("%s", body);
	free(body);
	return ok;
}

/*
 * regs: the launcher answers with name/value pairs; lay them out as a register
 * dump, with eip named from the symbols and the set flags spelt out.
 */
static bool cmd_regs(struct shell *sh, const char *args)
{
	static const char *const seg[6] = {"cs", "ss", "ds", "es", "fs", "gs"}; /* display order */
	char *body, v[64], sym[300], names[64];
	(void)args;
	if (!session_request(&sh->s, &body, "regs")) {
		shell_error("%s", body);
		free(body);
		return false;
	}
	for (unsigned i = 0; i < 8; i++)
		printf("%s %s%s", cpu_reg_name(i), body_value(body, cpu_reg_name(i), v, sizeof(v)) ? v : "?",
		       i % 4 == 3 ? "\n" : "  ");
	uint32_t eip = (uint32_t)strtoul(body_value(body, "eip", v, sizeof(v)) ? v : "0", NULL, 0);
	uint32_t efl = (uint32_t)strtoul(body_value(body, "eflags", v, sizeof(v)) ? v : "0", NULL, 0);
	sym_suffix(&sh->s.syms, eip, sym, sizeof(sym));
	cpu_eflags_names(efl, names, sizeof(names));
	printf("eip 0x%08x%s  eflags 0x%08x [%s%s ]  cpl %s\n", eip, sym, efl, *names ? " " : "", names,
	       body_value(body, "cpl", v, sizeof(v)) ? v : "?");
	for (unsigned i = 0; i < 6; i++)
		printf("%s %s%s", seg[i], body_value(body, seg[i], v, sizeof(v)) ? v : "?", i == 5 ? "\n" : "  ");
	printf("cr0 %s", body_value(body, "cr0", v, sizeof(v)) ? v : "?");
	printf("  cr2 %s", body_value(body, "cr2", v, sizeof(v)) ? v : "?");
	printf("  cr3 %s", body_value(body, "cr3", v, sizeof(v)) ? v : "?");
	printf("  paging %s\n", body_value(body, "linear", v, sizeof(v)) && v[0] == '1' ? "linear (1:1)" : "guest tables");
	printf("instructions %s", body_value(body, "icount", v, sizeof(v)) ? v : "?");
	printf("  halted %s\n", body_value(body, "halted", v, sizeof(v)) && v[0] == '1' ? "yes" : "no");
	free(body);
	return true;
}

/*
 * One event record ("icount eip cpl kind sub nargs a0..a5") at the start
 * of line p; *rest points just after it (where `checks` puts a finding's
 * text).  False if the line is no record.
 */
static bool parse_event_line(const char *p, struct event *e, const char **rest)
{
	unsigned long long icount;
	unsigned eip, cpl, kind, sub, nargs, a[EVENT_ARGS];
	int used = 0;
	if (sscanf(p, "%llu %x %u %u %u %u %x %x %x %x %x %x%n", &icount, &eip, &cpl, &kind, &sub, &nargs, &a[0], &a[1],
	           &a[2], &a[3], &a[4], &a[5], &used) != 12 || !used)
		return false;
	*e = (struct event){.icount = icount, .eip = eip, .cpl = (uint8_t)cpl, .kind = (uint8_t)kind,
	                    .sub = (uint8_t)sub, .nargs = (uint8_t)nargs};
	for (unsigned i = 0; i < EVENT_ARGS; i++)
		e->arg[i] = a[i];
	*rest = p + used;
	return true;
}

/* The event records of a body, a line each. */
static size_t parse_events(const char *body, struct event **out)
{
	size_t n = 0, cap = 0;
	struct event *ev = NULL;
	for (const char *p = body; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		struct event e;
		const char *rest;
		if (!parse_event_line(p, &e, &rest))
			continue;
		if (n == cap) {
			cap = cap * 2 + 64;
			struct event *grown = realloc(ev, cap * sizeof(*ev));
			if (!grown)
				break;
			ev = grown;
		}
		ev[n++] = e;
	}
	*out = ev;
	return n;
}

/*
 * One event as `lgdbg trace` prints it: icount eip symbol cpl description,
 * and a finding's text in quotes when the launcher sent one (text may be NULL).
 */
static void print_event(struct shell *sh, const struct event *e, const char *text)
{
	char desc[EVENT_DESCRIBE_MAX], name[300] = "?";
	const struct symbol *s = symbols_lookup(&sh->s.syms, e->eip);
	if (s && e->eip == s->addr)
		snprintf(name, sizeof(name), "%s", s->name);
	else if (s)
		snprintf(name, sizeof(name), "%s+0x%x", s->name, e->eip - s->addr);
	event_describe(e, desc, sizeof(desc));
	printf("%" PRIu64 " 0x%08x %s cpl%u %s", e->icount, e->eip, name, e->cpl, desc);
	if (text && *text) {
		printf(" \"");
		for (const char *c = text; *c && *c != '\n'; c++) {
			if (*c == '"' || *c == '\\')
				putchar('\\');
			putchar(*c);
		}
		printf("\"");
	}
	printf("\n");
}

/* Fetch a list of events ("events", "hcalls"). */
static size_t fetch_events(struct shell *sh, const char *req, struct event **ev)
{
	char *body;
	*ev = NULL;
	if (!session_request(&sh->s, &body, "%s", req)) {
		shell_error("%s", body);
		free(body);
		return (size_t)-1;
	}
	size_t n = parse_events(body, ev);
	free(body);
	return n;
}

/* hcalls [N]: the last N hypercalls, oldest first: what the guest kernel asked the host for. */
static bool cmd_hcalls(struct shell *sh, const char *args)
{
	struct event *ev;
	char *end;
	unsigned long want = *args ? strtoul(args, &end, 0) : HCALLS_DEFAULT;
	if (*args && (*end || want == 0))
		return shell_error("usage: hcalls [N]");
	size_t n = fetch_events(sh, "hcalls", &ev);
	if (n == (size_t)-1)
		return false;
	if (n == 0)
		printf("no hypercalls yet\n");
	for (size_t i = n > want ? n - want : 0; i < n; i++)
		print_event(sh, &ev[i], NULL);
	free(ev);
	return true;
}

/* trace's filters, spelt as `lgdbg trace` spells them (lgdbg/event_filter.c). */
static bool parse_filter(struct shell *sh, const char *args, struct event_filter *f)
{
	char *copy = strdup(args), *save = NULL, err[300];
	bool ok = copy != NULL;
	event_filter_init(f);
	for (char *w = copy ? strtok_r(copy, " ", &save) : NULL; ok && w; w = strtok_r(NULL, " ", &save)) {
		char *val = strchr(w, '=');
		if (!val || strncmp(w, "--", 2) != 0) {
			ok = shell_error("trace: filters are --kind=K,.. --hcall=NAME --addr=LO-HI|SYMBOL --from=N --to=N");
			break;
		}
		*val++ = '\0';
		if (!event_filter_set(f, w + 2, val, err, sizeof(err)))
			ok = shell_error("trace: %s", err);
	}
	if (ok && !event_filter_resolve(f, &sh->s.syms, err, sizeof(err)))
		ok = shell_error("trace: %s", err);
	free(copy);
	return ok;
}

/* trace: the launcher's last events, filtered; a finding's record carries its text after the numbers. */
static bool cmd_trace(struct shell *sh, const char *args)
{
	struct event_filter f;
	char *body;
	if (!parse_filter(sh, args, &f)) {
		event_filter_free(&f);
		return false;
	}
	bool ok = session_request(&sh->s, &body, "events");
	if (!ok)
		shell_error("%s", body);
	for (const char *p = ok ? body : NULL; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		struct event e;
		const char *text;
		if (parse_event_line(p, &e, &text) && event_filter_passes(&f, &e))
			print_event(sh, &e, *text == ' ' ? text + 1 : NULL);
	}
	free(body);
	event_filter_free(&f);
	return ok;
}

/*
 * checks: every finding the launcher keeps (its last 64), with its text:
 * "icount eip <symbol> cplN check NAME #SEQ (detail 0xW): TEXT".
 */
static bool cmd_checks(struct shell *sh, const char *args)
{
	char *body;
	unsigned shown = 0;
	(void)args;
	if (!session_request(&sh->s, &body, "checks")) {
		shell_error("%s", body);
		free(body);
		return false;
	}
	for (const char *p = body; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		struct event e;
		const char *text;
		char sym[300], num[24];
		if (!parse_event_line(p, &e, &text))
			continue;
		if (*text == ' ')
			text++;
		const char *name = checks_name(e.arg[0]);
		if (!name) {
			snprintf(num, sizeof(num), "%u", e.arg[0]);
			name = num;
		}
		sym_suffix(&sh->s.syms, e.eip, sym, sizeof(sym));
		printf("%" PRIu64 " 0x%08x%s cpl%u check %s #%u (detail 0x%x): %.*s\n", e.icount, e.eip, sym, e.cpl, name,
		       e.arg[2], e.arg[1], (int)strcspn(text, "\n"), text);
		shown++;
	}
	if (!shown)
		printf("checker findings: none\n");
	free(body);
	return true;
}

/* bt: the frame-pointer chain from ebp, each return address named. */
static bool cmd_bt(struct shell *sh, const char *args)
{
	uint32_t eip, ebp;
	char sym[300];
	(void)args;
	if (!get_register(sh, "eip", &eip) || !get_register(sh, "ebp", &ebp))
		return shell_error("cannot read the registers");
	sym_suffix(&sh->s.syms, eip, sym, sizeof(sym));
	printf("#0  0x%08x%s\n", eip, sym);
	for (unsigned i = 1; i < BT_MAX_FRAMES && ebp; i++) {
		uint8_t frame[8];
		if (read_guest(sh, ebp, frame, 8) < 8) {
			printf("    (frame pointer 0x%08x is not readable: the walk ends)\n", ebp);
			break;
		}
		uint32_t next = get_le32(frame), ret = get_le32(frame + 4);
		sym_suffix(&sh->s.syms, ret, sym, sizeof(sym));
		printf("#%-2u 0x%08x%s\n", i, ret, sym);
		if (next <= ebp)
			break; /* stacks grow down: an older frame lives higher */
		ebp = next;
	}
	printf("(a frame-pointer walk: functions built without frame pointers do not appear)\n");
	return true;
}

/* After a stop: its reason, then the instruction it stopped at (or the crash report). */
static void show_stop(struct shell *sh, const char *body)
{
	uint32_t eip;
	fputs(body, stdout);
	if (strstr(body, "stopped: the guest died")) {
		snprintf(sh->s.state, sizeof(sh->s.state), "dead");
		print_request(sh, "crash");
	} else if (get_register(sh, "eip", &eip)) {
		disassemble(sh, eip, 0, 1);
	}
}

/* Resume (continue, step) and wait for the stop; Ctrl-C sends "stop". */
static bool resume_and_wait(struct shell *sh, const char *req)
{
	char *body;
	bool interrupted, stop_sent = false;
	shell_interrupted = 0;
	if (!session_send(&sh->s, req))
		return shell_error("the launcher went away");
	bool ok = session_response(&sh->s, &body, &shell_interrupted, &interrupted);
	while (!ok && interrupted) {
		free(body);
		shell_interrupted = 0;
		stop_sent = session_send(&sh->s, "stop");
		ok = session_response(&sh->s, &body, &shell_interrupted, &interrupted);
	}
	if (ok)
		show_stop(sh, body);
	else
		shell_error("%s", body);
	free(body);
	if (stop_sent) {
		/* The stop's own reply: the same place, or "the guest is dead". */
		session_response(&sh->s, &body, NULL, NULL);
		free(body);
	}
	return ok;
}

/* continue: run until something stops the guest; Ctrl-C meanwhile asks for a stop. */
static bool cmd_continue(struct shell *sh, const char *args)
{
	(void)args;
	return resume_and_wait(sh, "continue");
}

/* step [N]: run N instructions (default 1), then show where the guest stopped. */
static bool cmd_step(struct shell *sh, const char *args)
{
	char req[64];
	snprintf(req, sizeof(req), "step %s", *args ? args : "1");
	return resume_and_wait(sh, req);
}

/* stop: pause a running guest and show where it is, as after a breakpoint. */
static bool cmd_stop(struct shell *sh, const char *args)
{
	char *body;
	(void)args;
	bool ok = session_request(&sh->s, &body, "stop");
	if (ok)
		show_stop(sh, body);
	else
		shell_error("%s", body);
	free(body);
	return ok;
}

/* break/tbreak/watch: the address is resolved here (symbols), the point kept by the launcher. */
static bool add_point(struct shell *sh, const char *cmd, const char *args)
{
	char where[256] = "", rest[128] = "", *body;
	uint32_t addr;
	if (!*args && cmd[0] == 'b')
		return print_request(sh, "points");
	sscanf(args, "%255s %127[^\n]", where, rest);
	if (!parse_address(sh, where, &addr))
		return false;
	bool ok = session_request(&sh->s, &body, "%s 0x%x %s", cmd, addr, cmd[0] == 'w' ? rest : "");
	if (ok) {
		char sym[300];
		sym_suffix(&sh->s.syms, addr, sym, sizeof(sym));
		size_t n = strcspn(body, "\n");
		printf("%.*s%s\n", (int)n, body, sym);
	} else {
		shell_error("%s", body);
	}
	free(body);
	return ok;
}

/* break: no argument lists the points the launcher keeps; else set one (see add_point()). */
static bool cmd_break(struct shell *sh, const char *args) { return add_point(sh, "break", args); }
/* tbreak: a breakpoint the launcher deletes the first time it is hit. */
static bool cmd_tbreak(struct shell *sh, const char *args) { return add_point(sh, "tbreak", args); }

/* watch: like break it needs an address; LEN and the access kind go to the launcher as typed. */
static bool cmd_watch(struct shell *sh, const char *args)
{
	if (!*args)
		return shell_error("usage: watch ADDR [LEN] [read|write|access]");
	return add_point(sh, "watch", args);
}

/* delete [N]: the launcher numbers the points, so N (or nothing, for all) goes straight to it. */
static bool cmd_delete(struct shell *sh, const char *args)
{
	char req[64];
	snprintf(req, sizeof(req), "delete %s", args);
	return print_request(sh, req);
}

/* The views the launcher formats itself (idt, gdt, tlb, crash): we only print them. */
static bool cmd_idt(struct shell *sh, const char *args) { (void)args; return print_request(sh, "idt"); }
static bool cmd_gdt(struct shell *sh, const char *args) { (void)args; return print_request(sh, "gdt"); }
static bool cmd_tlb(struct shell *sh, const char *args) { (void)args; return print_request(sh, "tlb"); }
static bool cmd_crash(struct shell *sh, const char *args) { (void)args; return print_request(sh, "crash"); }

/*
 * pt VA: a virtual address through the guest's page tables beside its shadow
 * (TLB) entry, to see where the two disagree.  VA may be a symbol or $reg.
 */
static bool cmd_pt(struct shell *sh, const char *args)
{
	uint32_t va;
	char req[64];
	if (!parse_address(sh, args, &va))
		return false;
	snprintf(req, sizeof(req), "pt 0x%x", va);
	return print_request(sh, req);
}

/* Is a program on the PATH? */
static bool on_path(const char *prog)
{
	const char *path = getenv("PATH");
	char *copy = strdup(path ? path : "/usr/bin:/bin"), *save = NULL, file[4096];
	bool found = false;
	for (char *d = copy ? strtok_r(copy, ":", &save) : NULL; d && !found; d = strtok_r(NULL, ":", &save)) {
		snprintf(file, sizeof(file), "%s/%s", d, prog);
		found = access(file, X_OK) == 0;
	}
	free(copy);
	return found;
}

/* gdb: the launcher opens a gdb stub beside its control socket; we become gdb, connected, symbols loaded. */
static bool cmd_gdb(struct shell *sh, const char *args)
{
	char *body, sock[4096], kernel[4096], target[4200];
	(void)args;
	if (!on_path("gdb"))
		return shell_error("gdb is not installed (Debian: apt-get install gdb)");
	if (!session_request(&sh->s, &body, "gdb")) {
		shell_error("%s", body);
		free(body);
		return false;
	}
	if (!body_value(body, "socket", sock, sizeof(sock)) || !body_value(body, "kernel", kernel, sizeof(kernel))) {
		free(body);
		return shell_error("the launcher's gdb reply is incomplete");
	}
	free(body);
	snprintf(target, sizeof(target), "target remote %s", sock);
	fflush(stdout);
	session_close(&sh->s);
	execlp("gdb", "gdb", "-q", "-ex", target, kernel, (char *)NULL);
	return shell_error("cannot start gdb: %s", strerror(errno));
}

/* Let go: the launcher's breakpoints go, the guest runs on.  Under `lgdbg run`, quit ends the guest. */
static bool leave(struct shell *sh, bool kill_child)
{
	char *body;
	if (sh->s.child && kill_child && strcmp(sh->s.state, "dead") != 0 && session_request(&sh->s, &body, "kill"))
		free(body);
	else if (session_request(&sh->s, &body, "detach"))
		free(body);
	else
		free(body);
	session_close(&sh->s);
	if (sh->s.child) {
		int status;
		waitpid(sh->s.child, &status, 0);
		sh->s.child = 0;
	}
	sh->done = true;
	return true;
}

/* detach: let go and leave the guest running (under `lgdbg run`, wait for it to end). */
static bool cmd_detach(struct shell *sh, const char *args)
{
	(void)args;
	return leave(sh, false);
}

/* quit: like detach, but a guest that `lgdbg run` started is killed rather than waited for. */
static bool cmd_quit(struct shell *sh, const char *args)
{
	(void)args;
	return leave(sh, true);
}

/* help [CMD]: the one-line summaries from shell_commands[], or one command's longer help. */
static bool cmd_help(struct shell *sh, const char *args)
{
	(void)sh;
	if (!*args) {
		printf("lgdbg commands (help CMD for more):\n");
		for (size_t i = 0; i < shell_ncommands; i++)
			printf("  %-8s %-24s %s\n", shell_commands[i].name, shell_commands[i].args, shell_commands[i].summary);
		return true;
	}
	for (size_t i = 0; i < shell_ncommands; i++)
		if (!strcmp(shell_commands[i].name, args)) {
			printf("%s %s\n  %s\n%s", shell_commands[i].name, shell_commands[i].args, shell_commands[i].summary,
			       shell_commands[i].help);
			return true;
		}
	return shell_error("no command '%s' (help lists them)", args);
}

const struct shell_command shell_commands[] = {
	{"regs", "", "the registers, eip named", "  General, segment and control registers, flags, the instruction count.\n", cmd_regs},
	{"x", "/FMT ADDR", "examine memory", "  FMT is COUNT, a format (x hex, d signed, u unsigned, c char, s string,\n"
	                                     "  i instructions) and a size (b, h, w).  x/8xb $esp, x/s msg, x/4i $eip.\n"
	                                     "  ADDR: a number, SYMBOL[+OFF] or $REG; read through the guest's page tables.\n", cmd_x},
	{"disas", "[ADDR|SYMBOL [N]]", "disassemble (capstone), eip marked =>",
	 "  A symbol is shown whole; an address gives N instructions (default 12);\n"
	 "  nothing shows the function around eip.  Targets of calls and jumps are named.\n", cmd_disas},
	{"break", "[ADDR|SYMBOL]", "set a breakpoint (no argument: list them)",
	 "  In linear mode a breakpoint at a kernel address also stops at addr - PAGE_OFFSET.\n", cmd_break},
	{"tbreak", "ADDR|SYMBOL", "a breakpoint that deletes itself when hit", "", cmd_tbreak},
	{"delete", "[N]", "delete breakpoint or watchpoint N (no argument: all)", "", cmd_delete},
	{"watch", "ADDR [LEN] [read|write|access]", "stop when the guest touches memory",
	 "  LEN bytes (default 1); stops after the instruction that made the access.\n", cmd_watch},
	{"step", "[N]", "run N instructions (default 1)", "  Interrupts are held back while stepping, unless the guest is halted.\n", cmd_step},
	{"continue", "", "run until a breakpoint, a watchpoint, Ctrl-C or the guest's death", "", cmd_continue},
	{"stop", "", "stop the guest (also what attaching does)", "", cmd_stop},
	{"bt", "", "backtrace by frame pointers, symbolized", "", cmd_bt},
	{"hcalls", "[N]", "the last N hypercalls (default 16, up to 256 kept)", "", cmd_hcalls},
	{"trace", "[FILTER...]", "the recent events (the launcher keeps the last 64)",
	 "  Filters as in `lgdbg trace`: --kind=K[,K] --hcall=NAME --addr=LO-HI|SYMBOL\n"
	 "  --from=ICOUNT --to=ICOUNT.  Lines: icount eip symbol cpl description.\n", cmd_trace},
	{"idt", "", "the interrupt gates the guest loaded", "", cmd_idt},
	{"gdt", "", "the host-held GDT", "", cmd_gdt},
	{"pt", "VA", "VA through the guest's page tables, beside the shadow (TLB) entry", "", cmd_pt},
	{"tlb", "", "what the current shadow page table maps", "", cmd_tlb},
	{"checks", "", "porting-checker findings, with their text",
	 "  The launcher keeps the guest's last 64 findings: where each was made, its number and\n"
	 "  detail word, and the text it printed on stderr.\n",
	 cmd_checks},
	{"crash", "", "the crash report (works on a live guest too)", "", cmd_crash},
	{"gdb", "", "become gdb, connected to this guest with the kernel's symbols",
	 "  The launcher opens a gdb stub on a unix socket beside its control socket;\n"
	 "  lgdbg runs `gdb -ex 'target remote SOCKET' KERNEL`.  Not while gdb is attached.\n", cmd_gdb},
	{"detach", "", "let go: breakpoints removed, the guest runs on", "", cmd_detach},
	{"quit", "", "detach and leave (under `lgdbg run`: end the guest)", "", cmd_quit},
	{"help", "[CMD]", "this list, or one command's help", "", cmd_help},
};

const size_t shell_ncommands = sizeof(shell_commands) / sizeof(shell_commands[0]);
