/*
 * The control socket (debug/control.h): the listening socket, one lgdbg
 * client at a time, its requests, and the run loop's debugger hooks
 * while lgdbg controls the guest.
 *
 * The model is gdb's all-stop: a stopped guest waits inside the
 * before_run hook while we answer requests; "continue" and "step" leave
 * that loop, and their reply is sent when the guest stops again (a
 * breakpoint, a watchpoint, the end of the step, a "stop" request, the
 * guest's death).  Requests that only look (control_cmds.c) are answered
 * at once, running or stopped, even while gdb holds the guest.
 *
 * A client that goes away (or says "detach") takes every breakpoint and
 * watchpoint with it and the guest runs on exactly as without lgdbg.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "debug/control_internal.h"
#include "debug/sockets.h"
#include "debug/gdbstub.h"
#include "host/host.h"


/* One control socket per launcher: the run loop's hook finds it here. */
static struct control *active;
/* Removed at exit, however the launcher exits. */
static char socket_path[108];

static void remove_socket(void)
{
	if (socket_path[0])
		unlink(socket_path);
	socket_path[0] = '\0';
}

bool control_dir(char *buf, size_t len, bool create, char *err, size_t errlen)
{
	const char *base = getenv("XDG_RUNTIME_DIR");
	struct stat st;
	if (!base || !*base)
		base = getenv("TMPDIR");
	if (!base || !*base)
		base = "/tmp";
	if ((size_t)snprintf(buf, len, "%s/lguest-%u", base, (unsigned)getuid()) >= len) {
		snprintf(err, errlen, "the socket directory name is too long");
		return false;
	}
	if (create && mkdir(buf, 0700) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create %s: %s", buf, strerror(errno));
		return false;
	}
	if (lstat(buf, &st) < 0) {
		snprintf(err, errlen, "%s: %s", buf, strerror(errno));
		return false;
	}
	if (!S_ISDIR(st.st_mode) || st.st_uid != getuid() || (st.st_mode & 077)) {
		snprintf(err, errlen, "%s is not a private directory of this user (want mode 0700, owner uid %u)", buf,
		         (unsigned)getuid());
		return false;
	}
	return true;
}

/* ---- replies ---- */

/* Write all of buf to the client; a failure drops it (the next read notices). */
static void send_to_client(struct control *c, const char *buf, size_t len)
{
	if (c->fd >= 0)
		send_all(c->fd, buf, len);
}

/* One response: the status line, the body with leading dots doubled, the closing ".". */
static void reply(struct control *c, const char *error, const char *body)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (!f)
		return;
	if (error)
		fprintf(f, "error: %s\n", error);
	else
		fprintf(f, "ok\n");
	for (const char *line = body; line && *line;) {
		const char *nl = strchr(line, '\n');
		size_t n = nl ? (size_t)(nl - line) : strlen(line);
		fprintf(f, "%s%.*s\n", line[0] == '.' ? "." : "", (int)n, line);
		line += n + (nl ? 1 : 0);
	}
	fprintf(f, ".\n");
	fclose(f);
	send_to_client(c, text, len);
	free(text);
}

static void reply_error(struct control *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void reply_error(struct control *c, const char *fmt, ...)
{
	char msg[600];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	reply(c, msg, NULL);
}

/* The reply to a stop: why, and where. */
static void reply_stopped(struct control *c)
{
	char body[1000], sym[160];
	struct lguest *lg = c->lg;
	describe_addr(lg, lg->cpu.eip, sym, sizeof(sym));
	snprintf(body, sizeof(body), "stopped: %s\nat 0x%08x%s\n", c->stop_why, lg->cpu.eip, sym);
	reply(c, NULL, body);
}

const char *control_state(const struct control *c)
{
	if (c->lg->death != GUEST_ALIVE)
		return "dead";
	return c->run == CTL_STOPPED ? "stopped" : "running";
}

const char *control_holder(const struct control *c)
{
	if (!c->lg->dbg)
		return "none";
	return c->lg->dbg == &c->hooks ? "lgdbg" : "gdb";
}

/* ---- taking and giving back the guest ---- */

/* Install our hooks, unless gdb holds the guest. */
static bool take_control(struct control *c)
{
	if (c->lg->dbg == &c->hooks)
		return true;
	if (c->lg->dbg)
		return false;
	c->lg->dbg = &c->hooks;
	c->run = CTL_RUNNING;
	return true;
}

/* Every point goes, the hooks go: the guest runs on as without a debugger. */
static void release_control(struct control *c)
{
	c->npoints = 0;
	c->stop_requested = c->resume_pending = c->stop_reply_pending = false;
	if (c->lg->dbg == &c->hooks) {
		c->lg->dbg = NULL;
		c->lg->cpu.exec_hook = false;
		cpu_tlb_flush(&c->lg->cpu);
	}
	c->run = CTL_FREE;
}

static void drop_client(struct control *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->inlen = 0;
	if (c->lg && c->lg->death == GUEST_ALIVE)
		release_control(c);
}

static void set_stop(struct control *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_stop(struct control *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->stop_why, sizeof(c->stop_why), fmt, ap);
	va_end(ap);
	c->stop_requested = true;
}

/* ---- breakpoints and watchpoints ---- */

/* Does an access at [va, va+len) touch [addr, addr+plen)?  In linear mode also addr - KERNEL_PAGE_OFFSET. */
static bool touches(struct lguest *lg, uint32_t addr, uint32_t plen, uint32_t va, uint32_t len)
{
	uint64_t a = addr, b = va;
	if (b < a + plen && a < b + len)
		return true;
	if (lg->linear_pages && addr >= KERNEL_PAGE_OFFSET) {
		a = addr - KERNEL_PAGE_OFFSET;
		return b < a + plen && a < b + len;
	}
	return false;
}

static struct control_point *breakpoint_at(struct control *c, uint32_t eip)
{
	for (unsigned i = 0; i < c->npoints; i++)
		if (!c->points[i].watch && touches(c->lg, c->points[i].addr, 1, eip, 1))
			return &c->points[i];
	return NULL;
}

static void delete_point(struct control *c, struct control_point *p)
{
	*p = c->points[--c->npoints];
	c->lg->cpu.exec_hook = false;
	for (unsigned i = 0; i < c->npoints; i++)
		c->lg->cpu.exec_hook |= !c->points[i].watch;
	cpu_tlb_flush(&c->lg->cpu);
}

/* A number (0x hex or decimal), whole, at most 32 bits. */
static bool parse_u32(const char *s, uint32_t *v)
{
	char *end;
	errno = 0;
	unsigned long long n = strtoull(s, &end, 0);
	if (errno || end == s || *end || *s == '-' || n > 0xffffffffull)
		return false;
	*v = (uint32_t)n;
	return true;
}

/* break ADDR, tbreak ADDR, watch ADDR LEN read|write|access */
static void add_point(struct control *c, const char *cmd, const char *arg)
{
	struct control_point p = {.id = c->next_id};
	char a[64] = "", l[64] = "", k[16] = "write";
	sscanf(arg, "%63s %63s %15s", a, l, k);
	p.watch = cmd[0] == 'w';
	p.temporary = cmd[0] == 't';
	p.len = 1;
	if (!parse_u32(a, &p.addr) || (p.watch && l[0] && !parse_u32(l, &p.len)) || p.len == 0 || p.len > 4096) {
		reply_error(c, "usage: %s ADDR%s", cmd, p.watch ? " [LEN] [read|write|access]" : "");
		return;
	}
	if (p.watch) {
		p.access = !strcmp(k, "read") ? 1 : !strcmp(k, "write") ? 2 : !strcmp(k, "access") ? 3 : 0;
		if (!p.access) {
			reply_error(c, "watch: the access is read, write or access, not '%s'", k);
			return;
		}
	}
	if (c->npoints == CONTROL_MAX_POINTS) {
		reply_error(c, "too many breakpoints and watchpoints (at most %d)", CONTROL_MAX_POINTS);
		return;
	}
	c->next_id++;
	c->points[c->npoints++] = p;
	if (p.watch)
		cpu_tlb_flush(&c->lg->cpu); /* translations are asked again, and watched */
	else
		c->lg->cpu.exec_hook = true;
	char body[200];
	snprintf(body, sizeof(body), "%s %u at 0x%08x%s%s\n",
	         p.watch ? "watchpoint" : p.temporary ? "temporary breakpoint" : "breakpoint", p.id, p.addr,
	         p.watch ? (p.access == 1 ? " read" : p.access == 2 ? " write" : " access") : "", "");
	reply(c, NULL, body);
}

/* delete N | delete (all) */
static void remove_points(struct control *c, const char *arg)
{
	uint32_t id;
	if (!*arg) {
		while (c->npoints)
			delete_point(c, &c->points[0]);
		reply(c, NULL, NULL);
		return;
	}
	if (!parse_u32(arg, &id)) {
		reply_error(c, "usage: delete [N]");
		return;
	}
	for (unsigned i = 0; i < c->npoints; i++)
		if (c->points[i].id == id) {
			delete_point(c, &c->points[i]);
			reply(c, NULL, NULL);
			return;
		}
	reply_error(c, "no breakpoint or watchpoint %u", id);
}

static void list_points(struct control *c)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (!f)
		return;
	for (unsigned i = 0; i < c->npoints; i++) {
		const struct control_point *p = &c->points[i];
		if (p->watch)
			fprintf(f, "%u watchpoint 0x%08x len %u %s\n", p->id, p->addr, p->len,
			        p->access == 1 ? "read" : p->access == 2 ? "write" : "access");
		else
			fprintf(f, "%u %s 0x%08x\n", p->id, p->temporary ? "tbreak" : "break", p->addr);
	}
	fclose(f);
	reply(c, NULL, text);
	free(text);
}

/* ---- requests ---- */

enum served { SERVED, SERVED_RESUME, SERVED_LEFT };

/* Leave the stop: what the guest runs from. */
static void resume(struct control *c, enum control_run how, uint64_t steps)
{
	struct lguest *lg = c->lg;
	c->run = how;
	c->step_until = lg->cpu.icount + steps;
	c->resume_pending = true;
	c->stop_requested = false;
	/* Do not stop again at the breakpoint we are resuming from. */
	lg->cpu.ignore_exec_hook_once = !lg->halted && breakpoint_at(c, lg->cpu.eip) != NULL;
}

/* "gdb": open a gdb stub on a unix socket beside ours and hand the guest to it. */
static enum served hand_to_gdb(struct control *c)
{
	char spec[sizeof(c->path) + 16], err[512], body[600];
	struct lguest *lg = c->lg;
	size_t n = strlen(c->path) - strlen(".sock");
	snprintf(spec, sizeof(spec), "unix:%.*s-gdb.sock", (int)n, c->path);
	if (!c->gdb && !(c->gdb = gdbstub_open(spec, c->kernel, err, sizeof(err)))) {
		reply_error(c, "%s", err);
		return SERVED;
	}
	release_control(c);
	gdbstub_attach(c->gdb, lg);
	snprintf(body, sizeof(body), "socket %s\nkernel %s\n", spec + 5, c->kernel);
	reply(c, NULL, body);
	drop_client(c);
	return SERVED_LEFT;
}

/* Requests that need the guest: our hooks, a live guest. */
static bool may_control(struct control *c)
{
	if (c->lg->death != GUEST_ALIVE) {
		reply_error(c, "the guest is dead (lguest: %s): only inspection is possible", c->lg->death_reason);
		return false;
	}
	if (!take_control(c)) {
		reply_error(c, "gdb is attached: use gdb");
		return false;
	}
	return true;
}

/* One request line.  SERVED_RESUME when the guest must run on, SERVED_LEFT when the client is gone. */
static enum served handle(struct control *c, char *line)
{
	char cmd[32] = "", err[300];
	const char *arg = "";
	size_t n = strcspn(line, " ");
	if (n >= sizeof(cmd)) {
		reply_error(c, "unknown request");
		return SERVED;
	}
	memcpy(cmd, line, n);
	cmd[n] = '\0';
	arg = line + n + strspn(line + n, " ");

	if (!strcmp(cmd, "detach") || !strcmp(cmd, "quit")) {
		reply(c, NULL, NULL);
		drop_client(c);
		return SERVED_LEFT;
	}
	if (!strcmp(cmd, "stop")) {
		if (!may_control(c))
			return SERVED;
		if (c->run == CTL_STOPPED) {
			reply_stopped(c);
		} else {
			c->stop_reply_pending = true;
			if (!c->stop_requested)
				set_stop(c, "interrupted by lgdbg");
		}
		return SERVED;
	}
	if (!strcmp(cmd, "continue") || !strcmp(cmd, "step")) {
		uint32_t steps = 1;
		if (cmd[0] == 's' && *arg && (!parse_u32(arg, &steps) || steps == 0)) {
			reply_error(c, "usage: step [N] (N >= 1)");
			return SERVED;
		}
		if (!may_control(c))
			return SERVED;
		if (c->run != CTL_STOPPED) {
			reply_error(c, "the guest is running: stop it first");
			return SERVED;
		}
		resume(c, cmd[0] == 's' ? CTL_STEPPING : CTL_RUNNING, steps);
		return SERVED_RESUME;
	}
	if (!strcmp(cmd, "kill")) {
		if (!may_control(c))
			return SERVED;
		end_guest(c->lg, GUEST_KILLED, "killed by lgdbg");
		reply(c, NULL, NULL);
		return SERVED_RESUME;
	}
	if (!strcmp(cmd, "break") || !strcmp(cmd, "tbreak") || !strcmp(cmd, "watch")) {
		if (may_control(c))
			add_point(c, cmd, arg);
		return SERVED;
	}
	if (!strcmp(cmd, "delete")) {
		if (may_control(c))
			remove_points(c, arg);
		return SERVED;
	}
	if (!strcmp(cmd, "points")) {
		list_points(c);
		return SERVED;
	}
	if (!strcmp(cmd, "gdb")) {
		if (!may_control(c))
			return SERVED;
		return hand_to_gdb(c);
	}

	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (!f)
		return SERVED;
	int r = control_inspect(c, cmd, arg, f, err, sizeof(err));
	fclose(f);
	if (r > 0)
		reply(c, NULL, text);
	else if (r < 0)
		reply(c, err, NULL);
	else
		reply_error(c, "unknown request '%s'", cmd);
	free(text);
	return SERVED;
}

/* A new connection while one is served: say so, and close it. */
static void refuse_second(struct control *c)
{
	int fd = accept4(c->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0)
		return;
	static const char msg[] = "error: another lgdbg is attached to this launcher\n.\n";
	if (send(fd, msg, sizeof(msg) - 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
		errno = 0;
	close(fd);
}

/* Take a waiting connection, if there is one (blocking: wait for it). */
static bool take_client(struct control *c, bool block)
{
	int fd = accept4(c->listen_fd, NULL, NULL, SOCK_CLOEXEC | (block ? 0 : SOCK_NONBLOCK));
	if (fd < 0)
		return false;
	if (!block) {
		int fl = fcntl(fd, F_GETFL);
		fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
	}
	c->fd = fd;
	c->inlen = 0;
	return true;
}

/*
 * Read what the client sent (waiting up to timeout_ms) and serve every
 * whole line.  Stops early when a request resumes the guest or the
 * client leaves.
 */
static enum served read_and_serve(struct control *c, int timeout_ms)
{
	struct pollfd p[2] = {{c->fd, POLLIN, 0}, {c->listen_fd, POLLIN, 0}};
	if (poll(p, 2, timeout_ms) <= 0)
		return SERVED;
	if (p[1].revents & POLLIN)
		refuse_second(c);
	if (!(p[0].revents & (POLLIN | POLLHUP | POLLERR)))
		return SERVED;
	ssize_t n = recv(c->fd, c->in + c->inlen, sizeof(c->in) - c->inlen, MSG_DONTWAIT);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return SERVED;
	if (n <= 0) {
		drop_client(c);
		return SERVED_LEFT;
	}
	c->inlen += (size_t)n;
	for (;;) {
		char *nl = memchr(c->in, '\n', c->inlen);
		if (!nl) {
			if (c->inlen == sizeof(c->in)) {
				reply_error(c, "request line too long");
				c->inlen = 0;
			}
			return SERVED;
		}
		*nl = '\0';
		if (nl > c->in && nl[-1] == '\r')
			nl[-1] = '\0';
		char line[CONTROL_LINE_MAX];
		memcpy(line, c->in, (size_t)(nl - c->in) + 1);
		c->inlen -= (size_t)(nl + 1 - c->in);
		memmove(c->in, nl + 1, c->inlen);
		enum served s = handle(c, line);
		if (s != SERVED)
			return s;
	}
}

/* The guest is stopped: answer the waiting replies, then serve until it runs again. */
static void serve_stopped(struct control *c)
{
	c->run = CTL_STOPPED;
	c->stop_requested = false;
	if (c->resume_pending)
		reply_stopped(c);
	if (c->stop_reply_pending)
		reply_stopped(c);
	c->resume_pending = c->stop_reply_pending = false;
	while (c->run == CTL_STOPPED && c->lg->dbg == &c->hooks && c->lg->death == GUEST_ALIVE) {
		if (c->fd < 0 && !take_client(c, true))
			continue;
		read_and_serve(c, -1);
	}
}

/* ---- the run loop's hooks (debug/debugger.h) ---- */

static uint64_t hook_before_run(void *ctx, struct lguest *lg)
{
	struct control *c = ctx;
	if (c->run == CTL_STEPPING && !c->stop_requested && lg->cpu.icount >= c->step_until)
		set_stop(c, "step");
	if (c->stop_requested)
		serve_stopped(c);
	if (lg->dbg != &c->hooks)
		/* The guest changed hands (to the gdb stub): let its hook decide. */
		return lg->dbg && lg->dbg->before_run ? lg->dbg->before_run(lg->dbg->ctx, lg) : 0;
	return c->run == CTL_STEPPING ? c->step_until - lg->cpu.icount : 0;
}

static void hook_cpu_stopped(void *ctx, struct lguest *lg, const struct cpu_stop *stop)
{
	struct control *c = ctx;
	char sym[160];
	struct control_point *p;
	if (stop->kind != CPU_STOP_EXEC_HOOK || c->stop_requested || !(p = breakpoint_at(c, stop->eip)))
		return;
	describe_addr(lg, stop->eip, sym, sizeof(sym));
	set_stop(c, "%s %u at 0x%08x%s", p->temporary ? "temporary breakpoint" : "breakpoint", p->id, stop->eip, sym);
	if (p->temporary)
		delete_point(c, p);
}

static bool hook_irqs_allowed(void *ctx, struct lguest *lg)
{
	struct control *c = ctx;
	if (c->stop_requested || c->run == CTL_STOPPED)
		return false;
	return c->run != CTL_STEPPING || lg->halted;
}

static bool hook_exec(void *ctx, struct lguest *lg, uint32_t eip)
{
	(void)lg;
	return breakpoint_at(ctx, eip) != NULL;
}

static bool hook_page_watched(void *ctx, struct lguest *lg, uint32_t va_page)
{
	struct control *c = ctx;
	for (unsigned i = 0; i < c->npoints; i++)
		if (c->points[i].watch && touches(lg, c->points[i].addr, c->points[i].len, va_page, GUEST_PAGE_SIZE))
			return true;
	return false;
}

static bool hook_mem_access(void *ctx, struct lguest *lg, uint32_t va, uint32_t phys, unsigned size,
                            enum cpu_access access, uint64_t value)
{
	struct control *c = ctx;
	unsigned bit = access == CPU_ACCESS_WRITE ? 2 : access == CPU_ACCESS_READ ? 1 : 0;
	(void)phys;
	if (c->stop_requested || !bit)
		return false;
	for (unsigned i = 0; i < c->npoints; i++) {
		const struct control_point *p = &c->points[i];
		if (p->watch && (p->access & bit) && touches(lg, p->addr, p->len, va, size)) {
			set_stop(c, "watchpoint %u: %s of %u bytes at 0x%08x (value 0x%llx) by the instruction at 0x%08x",
			         p->id, bit == 2 ? "write" : "read", size, va, (unsigned long long)value, lg->cpu.eip);
			return true;
		}
	}
	return false;
}

/* ---- the launcher's side ---- */

struct control *control_open(const char *kernel, bool wait_for_client, bool announce, char *err, size_t errlen)
{
	char dir[PATH_MAX], abs[PATH_MAX];
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	if (!control_dir(dir, sizeof(dir), true, err, errlen))
		return NULL;
	if ((size_t)snprintf(sun.sun_path, sizeof(sun.sun_path), "%s/%d.sock", dir, (int)getpid()) >=
	    sizeof(sun.sun_path) - strlen("-gdb")) {
		snprintf(err, errlen, "control socket path in %s is too long", dir);
		return NULL;
	}
	struct control *c = calloc(1, sizeof(*c));
	if (!c) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->fd = -1;
	c->next_id = 1;
	c->wait_for_client = wait_for_client;
	c->kernel = strdup(realpath(kernel, abs) ? abs : kernel);
	unlink(sun.sun_path); /* a stale socket of an earlier process with our pid */
	c->listen_fd = unix_listen_private(sun.sun_path, 4, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (c->listen_fd < 0) {
		snprintf(err, errlen, "cannot listen on %s: %s", sun.sun_path, strerror(errno));
		free(c->kernel);
		free(c);
		return NULL;
	}
	snprintf(c->path, sizeof(c->path), "%s", sun.sun_path);
	snprintf(socket_path, sizeof(socket_path), "%s", sun.sun_path);
	atexit(remove_socket);
	c->hooks = (struct debugger){
		.ctx = c,
		.before_run = hook_before_run,
		.cpu_stopped = hook_cpu_stopped,
		.irqs_allowed = hook_irqs_allowed,
		.exec = hook_exec,
		.page_watched = hook_page_watched,
		.mem_access = hook_mem_access,
	};
	if (announce)
		fprintf(stderr, "lguest: lgdbg: `lgdbg attach %d` (control socket %s)\n", (int)getpid(), c->path);
	active = c;
	return c;
}

void control_attach(struct control *c, struct lguest *lg)
{
	c->lg = lg;
	lg->poll_front_end = control_poll;
	c->run = CTL_FREE;
	c->npoints = 0;
	c->stop_requested = c->resume_pending = c->stop_reply_pending = false;
	if (c->wait_for_client && take_control(c)) {
		set_stop(c, "at the first instruction, waiting for lgdbg");
		c->wait_for_client = false;
	}
}

bool control_poll(struct lguest *lg)
{
	struct control *c = active;
	if (!c || c->lg != lg)
		return false;
	const struct debugger *before = lg->dbg;
	if (c->fd < 0 && !take_client(c, false))
		return false;
	read_and_serve(c, 0);
	/* A stop, a new debugger (the gdb stub) or a kill: the run loop must look again now. */
	return (c->stop_requested && lg->dbg == &c->hooks) || lg->dbg != before || lg->death != GUEST_ALIVE;
}

void control_guest_ended(struct control *c, struct lguest *lg)
{
	if (!c || c->lg != lg)
		return;
	if (lg->dbg == &c->hooks)
		lg->dbg = NULL;
	c->run = CTL_FREE;
	if (c->fd < 0 && !take_client(c, false))
		return;
	snprintf(c->stop_why, sizeof(c->stop_why), "the guest died: lguest: %s", lg->death_reason);
	if (c->resume_pending)
		reply_stopped(c);
	if (c->stop_reply_pending)
		reply_stopped(c);
	c->resume_pending = c->stop_reply_pending = false;
	while (c->fd >= 0)
		read_and_serve(c, -1);
}

void control_close(struct control *c)
{
	if (!c)
		return;
	if (c->fd >= 0)
		close(c->fd);
	close(c->listen_fd);
	gdbstub_close(c->gdb);
	remove_socket();
	if (active == c)
		active = NULL;
	free(c->kernel);
	free(c);
}
