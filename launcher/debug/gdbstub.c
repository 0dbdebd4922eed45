/*
 * The gdb stub's transport and run control: a listening socket (loopback
 * TCP or a user-only unix socket), one gdb connection at a time, and the
 * hooks the run loop calls (debug/debugger.h).
 *
 * The guest is stopped while we serve gdb inside a hook; it runs when gdb
 * resumes it.  Stops are decided in the hooks and reported at the next
 * before_run, after the host has finished what the stopping instruction
 * started (a hypercall's effect is done when `stepi` lands):
 *   - a breakpoint: the exec hook, before the instruction runs;
 *   - a watchpoint: a watched access, once its instruction completes;
 *   - a single step: one instruction (or, for a halted guest, the
 *     delivery of the interrupt that wakes it);
 *   - Ctrl-C: the socket is polled between runs of the CPU;
 *   - catch syscall: at the hypercall's `int $0x1f`, before the host
 *     runs it (served right in cpu_stopped).
 * Interrupts are held back while a stop is pending and while stepping
 * (unless `monitor step-irqs on`), so a step never wanders into an
 * interrupt handler by surprise.
 *
 * When gdb detaches or the connection drops, every breakpoint, watchpoint
 * and catchpoint is removed, the hooks are unhooked (lg->dbg = NULL) and
 * the guest runs on to its end exactly as it would without --gdb.
 */
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "debug/gdbstub_internal.h"
#include "debug/sockets.h"
#include "debug/trace.h"
#include "host/host.h"

#define DEFAULT_PORT 1234
#define POLL_INTERVAL_NS 20000000u /* how often a running guest looks for Ctrl-C or a new gdb */

/* Bytes read from gdb but not yet parsed live here between calls. */
static uint8_t inbuf[4096];
static size_t inpos, inlen;
/* The last packet sent, framed, for a retransmission after '-'. */
static char lastpkt[2 * GDB_MAX_PACKET + 8];
static size_t lastlen;

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Write all of buf to gdb; a failure drops the connection (the read side notices). */
static void write_all(struct gdbstub *g, const char *buf, size_t len)
{
	if (g->fd >= 0)
		send_all(g->fd, buf, len);
}

/* g->send for the socket: frame and write one packet. */
static void socket_send(struct gdbstub *g, const char *payload, size_t len)
{
	lastlen = rsp_frame(payload, len, lastpkt);
	write_all(g, lastpkt, lastlen);
}

/* Forget the connection: breakpoints and the rest go, the guest runs on. */
static void drop_client(struct gdbstub *g, const char *why)
{
	if (g->fd >= 0) {
		close(g->fd);
		g->fd = -1;
		if (why)
			fprintf(stderr, "lguest: gdb %s; the guest runs on without breakpoints\n", why);
	}
	inpos = inlen = 0;
	gdb_clear_points(g);
	g->run = GDB_DETACHED;
	g->stop_pending = false;
	/* From here on the guest runs exactly as without --gdb (spin detection included). */
	if (g->lg)
		g->lg->dbg = NULL;
}

/* A new connection: fresh framing state, acks on again. */
static void take_client(struct gdbstub *g, int fd)
{
	g->fd = fd;
	g->no_ack = false;
	rsp_init(&g->parser);
	inpos = inlen = 0;
}

/*
 * Read more bytes from gdb, waiting at most timeout_ms (-1 forever).
 * Returns false when the connection is gone.
 */
static bool fill(struct gdbstub *g, int timeout_ms)
{
	struct pollfd p = {g->fd, POLLIN, 0};
	int r = poll(&p, 1, timeout_ms);
	if (r < 0)
		return errno == EINTR;
	if (r == 0)
		return true;
	ssize_t n = recv(g->fd, inbuf, sizeof(inbuf), 0);
	if (n < 0 && errno == EINTR)
		return true;
	if (n <= 0)
		return false;
	inpos = 0;
	inlen = (size_t)n;
	return true;
}

/* Report a stop: the note for gdb's console, then the stop reply. */
static void report_stop(struct gdbstub *g)
{
	if (g->stop_note[0]) {
		gdb_console(g, g->stop_note);
		g->stop_note[0] = '\0';
	}
	gdb_reply(g, g->stop_reply);
}

static void set_stop(struct gdbstub *g, const char *fmt_reason, const char *note)
{
	snprintf(g->stop_reply, sizeof(g->stop_reply), "T05%sthread:01;", fmt_reason);
	snprintf(g->stop_note, sizeof(g->stop_note), "%s", note ? note : "");
	g->stop_pending = true;
}

/*
 * Serve gdb until it resumes the guest, detaches, kills it or goes away.
 * Waits for a connection first if there is none.
 */
static enum gdb_action serve(struct gdbstub *g)
{
	g->run = GDB_STOPPED;
	for (;;) {
		if (g->fd < 0) {
			int fd = accept(g->listen_fd, NULL, NULL);
			if (fd < 0) {
				if (errno == EINTR)
					continue;
				fprintf(stderr, "lguest: gdb: accept: %s\n", strerror(errno));
				drop_client(g, NULL);
				return GDB_ACT_DETACH;
			}
			take_client(g, fd);
			fprintf(stderr, "lguest: gdb connected\n");
		}
		if (inpos == inlen && !fill(g, -1)) {
			drop_client(g, "disconnected");
			return GDB_ACT_DETACH;
		}
		while (inpos < inlen) {
			enum rsp_event ev = rsp_feed(&g->parser, inbuf[inpos++]);
			enum gdb_action act;
			switch (ev) {
			case RSP_PACKET:
				if (!g->no_ack)
					write_all(g, "+", 1);
				act = gdb_dispatch(g, g->parser.buf, g->parser.len);
				if (act == GDB_ACT_DETACH)
					drop_client(g, "detached");
				if (act != GDB_ACT_NONE)
					return act;
				break;
			case RSP_BAD_CHECKSUM:
				if (g->no_ack)
					gdb_reply(g, "E16");
				else
					write_all(g, "-", 1);
				break;
			case RSP_OVERSIZED:
				if (!g->no_ack)
					write_all(g, "+", 1);
				gdb_reply(g, "E16");
				break;
			case RSP_NAK:
				write_all(g, lastpkt, lastlen);
				break;
			case RSP_INTERRUPT: /* already stopped: gdb will get the stop reply it asks for */
			case RSP_ACK:
			case RSP_NONE:
				break;
			}
		}
	}
}

/*
 * While the guest runs: look (at most every POLL_INTERVAL_NS) for Ctrl-C
 * or a vanished gdb.  True when the guest must stop now.
 */
static bool poll_while_running(struct gdbstub *g)
{
	uint64_t t = now_ns();
	if (t - g->last_poll_ns < POLL_INTERVAL_NS)
		return false;
	g->last_poll_ns = t;
	if (inpos == inlen && !fill(g, 0)) {
		drop_client(g, "disconnected");
		return false;
	}
	while (inpos < inlen) {
		enum rsp_event ev = rsp_feed(&g->parser, inbuf[inpos++]);
		if (ev == RSP_INTERRUPT) {
			set_stop(g, "", NULL);
			g->stop_reply[1] = '0';
			g->stop_reply[2] = '2'; /* SIGINT */
			return true;
		}
		if (ev == RSP_PACKET || ev == RSP_OVERSIZED || ev == RSP_BAD_CHECKSUM) {
			/* Out of order: all-stop gdb sends nothing but Ctrl-C while the guest runs. */
			if (!g->no_ack)
				write_all(g, "+", 1);
			gdb_reply(g, "E10");
		}
	}
	return false;
}

/* Set up a resume: what the step or the run starts from. */
static void prepare_resume(struct gdbstub *g, struct lguest *lg)
{
	uint32_t bp;
	bool alias;
	g->stop_pending = false;
	g->step_ran = false;
	g->step_began_halted = lg->halted;
	g->orig_eax = 0xffffffffu;
	/* Do not stop again at the breakpoint we are resuming from. */
	lg->cpu.ignore_exec_hook_once = !lg->halted && gdb_bp_at(g, lg->cpu.eip, &bp, &alias);
	g->last_poll_ns = now_ns();
}

/* Serve gdb at a stop, then act on how gdb let go. */
static void stopped(struct gdbstub *g, struct lguest *lg)
{
	enum gdb_action act = serve(g);
	if (act == GDB_ACT_KILL) {
		end_guest(lg, GUEST_KILLED, "killed by the debugger");
		if (g->fd >= 0) {
			close(g->fd);
			g->fd = -1;
		}
		g->run = GDB_DETACHED;
		return;
	}
	prepare_resume(g, lg);
}

static uint64_t hook_before_run(void *ctx, struct lguest *lg)
{
	struct gdbstub *g = ctx;
	switch (g->run) {
	case GDB_STOPPED:
		stopped(g, lg);
		break;
	case GDB_DETACHED:
		break;
	case GDB_STEP:
		if (!g->stop_pending && (g->step_ran || (g->step_began_halted && !lg->halted)))
			set_stop(g, "", NULL);
		/* fall through */
	case GDB_CONTINUE:
		if (g->stop_pending || poll_while_running(g)) {
			report_stop(g);
			stopped(g, lg);
		}
		break;
	}
	return g->run == GDB_STEP ? 1 : 0;
}

static void hook_cpu_stopped(void *ctx, struct lguest *lg, const struct cpu_stop *stop)
{
	struct gdbstub *g = ctx;
	uint32_t bp;
	bool alias;
	char note[sizeof(((struct gdbstub *)0)->stop_note)], sym[120];

	if (g->run == GDB_DETACHED || g->run == GDB_STOPPED)
		return;
	if (g->run == GDB_STEP && stop->kind != CPU_STOP_EXEC_HOOK)
		g->step_ran = true;
	if (stop->kind == CPU_STOP_EXEC_HOOK && gdb_bp_at(g, stop->eip, &bp, &alias)) {
		if (!alias) {
			set_stop(g, "swbreak:;", NULL);
			return;
		}
		describe_addr(lg, bp, sym, sizeof(sym));
		snprintf(note, sizeof(note),
		         "lguest: breakpoint 0x%08x%s hit at 0x%08x, its physical alias (linear mode: the kernel runs at "
		         "addr - PAGE_OFFSET until its first NEW_PGTABLE)\n",
		         bp, sym, stop->eip);
		set_stop(g, "", note);
		return;
	}
	if (stop->kind == CPU_STOP_EXCEPTION && stop->soft_int && stop->vector == LGUEST_TRAP_ENTRY && lg->cpu.cpl == 1 &&
	    gdb_catches(g, lg->cpu.regs[CPU_EAX])) {
		/* A hypercall gdb catches: stop at its int $0x1f, before the host runs it. */
		uint32_t nr = lg->cpu.regs[CPU_EAX];
		char why[48];
		snprintf(why, sizeof(why), "syscall_entry:%x;", nr);
		set_stop(g, why, NULL);
		report_stop(g);
		g->orig_eax = nr;
		stopped(g, lg);
		g->step_ran = true; /* a stepi from here ends after the hypercall */
	}
}

static bool hook_irqs_allowed(void *ctx, struct lguest *lg)
{
	struct gdbstub *g = ctx;
	if (g->run == GDB_DETACHED)
		return true;
	if (g->stop_pending || g->run == GDB_STOPPED)
		return false;
	return g->run != GDB_STEP || g->step_irqs || lg->halted;
}

static bool hook_exec(void *ctx, struct lguest *lg, uint32_t eip)
{
	struct gdbstub *g = ctx;
	uint32_t bp;
	bool alias;
	(void)lg;
	return g->run != GDB_DETACHED && gdb_bp_at(g, eip, &bp, &alias);
}

static bool hook_page_watched(void *ctx, struct lguest *lg, uint32_t va_page)
{
	(void)lg;
	return gdb_page_watched(ctx, va_page);
}

static bool hook_mem_access(void *ctx, struct lguest *lg, uint32_t va, uint32_t phys, unsigned size,
                            enum cpu_access access, uint64_t value)
{
	struct gdbstub *g = ctx;
	char why[48];
	(void)lg;
	(void)phys;
	(void)value;
	if (g->stop_pending || g->run == GDB_DETACHED || !gdb_watch_hit(g, va, size, (int)access, why, sizeof(why)))
		return false;
	set_stop(g, why, NULL);
	return true;
}

static void hook_guest_died(void *ctx, struct lguest *lg)
{
	struct gdbstub *g = ctx;
	char text[sizeof(lg->death_reason) + 16];
	if (g->fd < 0 || g->run == GDB_DETACHED || g->run == GDB_STOPPED)
		return;
	snprintf(text, sizeof(text), "lguest: %s\n", lg->death_reason);
	gdb_console(g, text);
	switch (lg->death) {
	case GUEST_POWEROFF: gdb_reply(g, "W00"); break;
	case GUEST_RESTART: gdb_reply(g, "W03"); break;
	case GUEST_LIMIT: gdb_reply(g, "W04"); break;
	default: gdb_reply(g, "X09"); break;
	}
	close(g->fd);
	g->fd = -1;
	g->run = GDB_DETACHED;
}

/* The event sink: stop on caught async hypercalls. */
static void on_event(void *ctx, struct lguest *lg, const struct event *e)
{
	struct gdbstub *g = ctx;
	char why[48], note[160];
	(void)lg;
	if (e->kind != EV_HYPERCALL)
		return;
	if (e->sub == EVH_ASYNC && g->run != GDB_DETACHED && !g->stop_pending && gdb_catches(g, e->arg[0])) {
		const char *name = hypercall_name(e->arg[0]);
		snprintf(why, sizeof(why), "syscall_return:%x;", e->arg[0]);
		snprintf(note, sizeof(note), "lguest: async hypercall %s (%u) ran from the ring\n", name ? name : "?",
		         e->arg[0]);
		set_stop(g, why, note);
	}
}

/* Split "SPEC[,script=FILE]" and listen. */
static bool open_listener(struct gdbstub *g, const char *spec, char *err, size_t errlen)
{
	char addr[PATH_MAX];
	const char *comma = strstr(spec, ",script=");
	size_t n = comma ? (size_t)(comma - spec) : strlen(spec);
	if (n >= sizeof(addr)) {
		snprintf(err, errlen, "--gdb address too long");
		return false;
	}
	memcpy(addr, spec, n);
	addr[n] = '\0';
	if (comma)
		g->script_path = strdup(comma + 8);

	if (strncmp(addr, "unix:", 5) == 0) {
		struct sockaddr_un sun = {.sun_family = AF_UNIX};
		struct stat st;
		if (strlen(addr + 5) == 0 || strlen(addr + 5) >= sizeof(sun.sun_path)) {
			snprintf(err, errlen, "--gdb=unix:PATH: the path is empty or too long");
			return false;
		}
		strcpy(sun.sun_path, addr + 5);
		if (lstat(sun.sun_path, &st) == 0) {
			if (!S_ISSOCK(st.st_mode)) {
				snprintf(err, errlen, "--gdb: %s exists and is not a socket", sun.sun_path);
				return false;
			}
			unlink(sun.sun_path);
		}
		g->listen_fd = unix_listen_private(sun.sun_path, 1, SOCK_CLOEXEC);
		if (g->listen_fd < 0) {
			snprintf(err, errlen, "--gdb: cannot listen on %s: %s", sun.sun_path, strerror(errno));
			return false;
		}
		g->unix_path = strdup(sun.sun_path);
		snprintf(g->where, sizeof(g->where), "%s", sun.sun_path);
		return true;
	}

	unsigned long port = DEFAULT_PORT;
	if (addr[0]) {
		char *end;
		port = strtoul(addr, &end, 10);
		if (*end || port > 65535) {
			snprintf(err, errlen, "--gdb wants PORT or unix:PATH, not '%s'", addr);
			return false;
		}
	}
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
	                          .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int one = 1;
	socklen_t len = sizeof(sin);
	g->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (g->listen_fd < 0 || setsockopt(g->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(g->listen_fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 || listen(g->listen_fd, 1) < 0 ||
	    getsockname(g->listen_fd, (struct sockaddr *)&sin, &len) < 0) {
		snprintf(err, errlen, "--gdb: cannot listen on 127.0.0.1:%lu: %s", port, strerror(errno));
		return false;
	}
	snprintf(g->where, sizeof(g->where), "127.0.0.1:%u", ntohs(sin.sin_port));
	return true;
}

/* The gdb script: the kernel's symbols, then the connection. */
static bool write_script(struct gdbstub *g, char *err, size_t errlen)
{
	FILE *f = fopen(g->script_path, "w");
	if (!f) {
		snprintf(err, errlen, "--gdb: cannot write %s: %s", g->script_path, strerror(errno));
		return false;
	}
	fprintf(f, "# Written by lguest --gdb: load the kernel's symbols and connect.\n"
	           "file %s\n"
	           "target remote %s\n",
	        g->kernel_path, g->where);
	return fclose(f) == 0;
}

struct gdbstub *gdbstub_open(const char *spec, const char *kernel, char *err, size_t errlen)
{
	struct gdbstub *g = calloc(1, sizeof(*g));
	char abs[PATH_MAX];
	if (!g) {
		snprintf(err, errlen, "--gdb: out of memory");
		return NULL;
	}
	g->listen_fd = g->fd = -1;
	g->send = socket_send;
	g->kernel_path = strdup(realpath(kernel, abs) ? abs : kernel);
	if (!open_listener(g, spec ? spec : "", err, errlen) || (g->script_path && !write_script(g, err, errlen))) {
		gdbstub_close(g);
		return NULL;
	}
	fprintf(stderr, "lguest: gdb: the guest waits for gdb on %s; connect with:\n  gdb -ex 'target remote %s' %s\n",
	        g->where, g->where, g->kernel_path);
	if (g->script_path)
		fprintf(stderr, "  (or: gdb -x %s)\n", g->script_path);
	return g;
}

void gdbstub_attach(struct gdbstub *g, struct lguest *lg)
{
	static const struct event_sink no_sink;
	struct event_sink sink = no_sink;
	g->hooks = (struct debugger){
		.ctx = g,
		.before_run = hook_before_run,
		.cpu_stopped = hook_cpu_stopped,
		.irqs_allowed = hook_irqs_allowed,
		.exec = hook_exec,
		.page_watched = hook_page_watched,
		.mem_access = hook_mem_access,
		.guest_died = hook_guest_died,
	};
	gdb_session_init(g, lg);
	lg->dbg = &g->hooks;
	if (g->trace)
		trace_attach(g->trace, lg); /* a trace started from gdb goes on across reboots */
	sink.event = on_event;
	sink.ctx = g;
	if (!events_add_sink(&lg->events, &sink))
		fprintf(stderr, "lguest: gdb: no room for another event sink: catch syscall sees only synchronous "
		                "hypercalls and monitor hypercalls stays empty\n");
}

void gdbstub_close(struct gdbstub *g)
{
	if (!g)
		return;
	if (g->fd >= 0)
		close(g->fd);
	if (g->listen_fd >= 0)
		close(g->listen_fd);
	if (g->unix_path)
		unlink(g->unix_path);
	gdb_session_free(g);
	if (g->trace) {
		char err[300];
		if (!trace_close(g->trace, err, sizeof(err)))
			fprintf(stderr, "lguest: gdb trace: %s\n", err);
	}
	free(g->unix_path);
	free(g->script_path);
	free(g->kernel_path);
	free(g);
}
