/*
 * Finding a launcher and talking to it.  Launchers listen on
 * ${XDG_RUNTIME_DIR:-${TMPDIR:-/tmp}}/lguest-<uid>/<pid>.sock (control_dir() in
 * launcher/debug/control.c); a socket whose process is gone is stale and
 * skipped.  A launcher that has exited leaves its crash report in
 * ${TMPDIR:-/tmp}/lguest-crash-<pid>.txt, which we show when asked for
 * that pid.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "debug/crash.h"
#include "debug/control.h"
#include "session.h"

#define MAX_LAUNCHERS 64

static const char *user_name(void)
{
	struct passwd *pw = getpwuid(getuid());
	return pw ? pw->pw_name : "this user";
}

/* Is process pid alive (ours or not)? */
static bool process_alive(int pid)
{
	return kill(pid, 0) == 0 || errno == EPERM;
}

/* The command line of a process, spaces between arguments, for lists. */
static void process_cmdline(int pid, char *buf, size_t len)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(buf, 1, len - 1, f) : 0;
	if (f)
		fclose(f);
	buf[n] = '\0';
	for (size_t i = 0; i + 1 < n; i++)
		if (!buf[i])
			buf[i] = ' ';
}

/* A launcher that has exited: say so, and show its crash report if it left one. */
static void report_gone(int pid)
{
	char path[PATH_MAX];
	crash_report_path(pid, path, sizeof(path));
	FILE *f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "lgdbg: no lguest launcher with pid %d is running as %s\n", pid, user_name());
		return;
	}
	fprintf(stderr, "lgdbg: the launcher %d has exited: its guest is dead; its crash report (%s):\n", pid, path);
	char line[1024];
	while (fgets(line, sizeof(line), f))
		fputs(line, stdout);
	fclose(f);
}

/* Read until a whole line is buffered; returns it (NUL-terminated, consumed) or NULL. */
static char *read_line(struct session *s, volatile int *flag, bool *interrupted)
{
	for (;;) {
		char *nl = s->in ? memchr(s->in, '\n', s->inlen) : NULL;
		if (nl) {
			size_t n = (size_t)(nl - s->in);
			char *line = strndup(s->in, n);
			s->inlen -= n + 1;
			memmove(s->in, nl + 1, s->inlen);
			return line;
		}
		if (s->fd < 0)
			return NULL;
		if (s->inlen + 4096 > s->incap) {
			s->incap = s->incap * 2 + 8192;
			s->in = realloc(s->in, s->incap);
			if (!s->in)
				return NULL;
		}
		struct pollfd p = {s->fd, POLLIN, 0};
		if (flag && *flag && interrupted) {
			*interrupted = true;
			return NULL;
		}
		int r = poll(&p, 1, -1);
		if (r < 0 && errno == EINTR)
			continue;
		ssize_t n = r > 0 ? recv(s->fd, s->in + s->inlen, 4096, 0) : -1;
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			close(s->fd);
			s->fd = -1;
			return NULL;
		}
		s->inlen += (size_t)n;
	}
}

bool session_send(struct session *s, const char *line)
{
	size_t len = strlen(line);
	char *buf = malloc(len + 2);
	if (!buf || s->fd < 0) {
		free(buf);
		return false;
	}
	memcpy(buf, line, len);
	buf[len] = '\n';
	bool ok = send(s->fd, buf, len + 1, MSG_NOSIGNAL) == (ssize_t)(len + 1);
	free(buf);
	return ok;
}

bool session_response(struct session *s, char **body, volatile int *flag, bool *interrupted)
{
	char *status = NULL, *line;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (interrupted)
		*interrupted = false;
	while (!status) {
		status = read_line(s, flag, interrupted);
		if (!status) {
			fclose(f);
			free(text);
			*body = strdup(interrupted && *interrupted ? "interrupted" : "the launcher went away");
			return false;
		}
	}
	/* After the status line, nothing interrupts: the response is on its way. */
	while ((line = read_line(s, NULL, NULL)) && strcmp(line, ".") != 0) {
		fprintf(f, "%s\n", line[0] == '.' ? line + 1 : line);
		free(line);
	}
	bool closed = line == NULL;
	free(line);
	fclose(f);
	bool ok = strcmp(status, "ok") == 0;
	if (!ok) {
		free(text);
		text = strdup(strncmp(status, "error: ", 7) == 0 ? status + 7 : status);
	} else if (closed) {
		ok = false;
		free(text);
		text = strdup("the launcher went away");
	}
	free(status);
	*body = text;
	return ok;
}

bool session_request(struct session *s, char **body, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (!session_send(s, line)) {
		*body = strdup("the launcher went away");
		return false;
	}
	return session_response(s, body, NULL, NULL);
}

const char *body_value(const char *body, const char *name, char *buf, size_t len)
{
	size_t n = strlen(name);
	for (const char *p = body; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (strncmp(p, name, n) == 0 && p[n] == ' ') {
			size_t v = strcspn(p + n + 1, "\n");
			snprintf(buf, len, "%.*s", (int)v, p + n + 1);
			return buf;
		}
	return NULL;
}

/* Connect to a socket path; false (errno set) on failure. */
static bool connect_path(struct session *s, const char *path)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return false;
	}
	strcpy(sun.sun_path, path);
	s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s->fd >= 0 && connect(s->fd, (struct sockaddr *)&sun, sizeof(sun)) == 0)
		return true;
	int e = errno;
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	errno = e;
	return false;
}

/* Say hello and learn the launcher's pid, kernel and state; load the kernel's symbols. */
static bool hello(struct session *s, const char *where)
{
	char *body, buf[64];
	if (!session_request(s, &body, "hello %d", CONTROL_PROTOCOL)) {
		fprintf(stderr, "lgdbg: %s: %s\n", where, body);
		free(body);
		return false;
	}
	s->pid = atoi(body_value(body, "pid", buf, sizeof(buf)) ? buf : "0");
	body_value(body, "kernel", s->kernel, sizeof(s->kernel));
	body_value(body, "state", s->state, sizeof(s->state));
	body_value(body, "control", s->holder, sizeof(s->holder));
	free(body);
	symbols_load(&s->syms, s->kernel);
	return true;
}

/* Connect to a socket and say hello, with errors a user can act on. */
static bool attach_socket(struct session *s, const char *path, int pid)
{
	if (connect_path(s, path))
		return hello(s, path);
	if (errno == EACCES || errno == EPERM)
		fprintf(stderr, "lgdbg: permission denied: %s belongs to another user (lgdbg attaches only to your own launchers)\n",
		        path);
	else if (pid && !process_alive(pid))
		report_gone(pid);
	else if (errno == ECONNREFUSED)
		fprintf(stderr, "lgdbg: %s: nobody listens there (a launcher that was killed leaves its socket behind)\n",
		        path);
	else
		fprintf(stderr, "lgdbg: cannot connect to %s: %s\n", path, strerror(errno));
	return false;
}

/* Which user runs process pid (-1 if unknown). */
static long process_uid(int pid)
{
	char path[64];
	struct stat st;
	snprintf(path, sizeof(path), "/proc/%d", pid);
	return stat(path, &st) == 0 ? (long)st.st_uid : -1;
}

/* The pids of this user's live launchers, from the socket directory. */
static unsigned find_launchers(const char *dir, int *pids, unsigned max)
{
	unsigned n = 0;
	DIR *d = opendir(dir);
	struct dirent *e;
	while (d && (e = readdir(d)) && n < max) {
		char *end;
		long pid = strtol(e->d_name, &end, 10);
		if (end != e->d_name && strcmp(end, ".sock") == 0 && pid > 0 && process_alive((int)pid))
			pids[n++] = (int)pid;
	}
	if (d)
		closedir(d);
	return n;
}

bool session_attach(struct session *s, const char *target)
{
	char dir[PATH_MAX], path[PATH_MAX + 32], err[600], cmd[300];
	int pids[MAX_LAUNCHERS];
	memset(s, 0, sizeof(*s));
	s->fd = -1;
	if (target && strchr(target, '/'))
		return attach_socket(s, target, 0);
	bool have_dir = control_dir(dir, sizeof(dir), false, err, sizeof(err));
	if (target) {
		char *end;
		long pid = strtol(target, &end, 10);
		if (end == target || *end || pid <= 0) {
			fprintf(stderr, "lgdbg: attach wants a launcher's pid or its socket path, not '%s'\n", target);
			return false;
		}
		if (!process_alive((int)pid)) {
			report_gone((int)pid);
			return false;
		}
		long uid = process_uid((int)pid);
		if (uid >= 0 && uid != (long)getuid()) {
			struct passwd *pw = getpwuid((uid_t)uid);
			fprintf(stderr, "lgdbg: permission denied: pid %ld runs as %s; lgdbg attaches only to launchers of %s\n",
			        pid, pw ? pw->pw_name : "another user", user_name());
			return false;
		}
		snprintf(path, sizeof(path), "%s/%ld.sock", dir, pid);
		if (!have_dir || access(path, F_OK) != 0) {
			process_cmdline((int)pid, cmd, sizeof(cmd));
			fprintf(stderr, "lgdbg: pid %ld (%s) has no control socket %s: is it an lguest launcher?\n", pid,
			        cmd[0] ? cmd : "?", path);
			return false;
		}
		return attach_socket(s, path, (int)pid);
	}
	unsigned n = have_dir ? find_launchers(dir, pids, MAX_LAUNCHERS) : 0;
	if (n == 0) {
		fprintf(stderr, "lgdbg: no lguest launcher is running as %s\n", user_name());
		fprintf(stderr, "  (launchers listen in %s; `lgdbg run [options] KERNEL` starts one under lgdbg)\n", dir);
		return false;
	}
	if (n > 1) {
		fprintf(stderr, "lgdbg: %u lguest launchers are running as %s; say which one: lgdbg attach PID\n", n,
		        user_name());
		for (unsigned i = 0; i < n; i++) {
			process_cmdline(pids[i], cmd, sizeof(cmd));
			fprintf(stderr, "  %d  %s\n", pids[i], cmd);
		}
		return false;
	}
	snprintf(path, sizeof(path), "%s/%d.sock", dir, pids[0]);
	return attach_socket(s, path, pids[0]);
}

bool session_attach_child(struct session *s, pid_t pid)
{
	char dir[PATH_MAX], path[PATH_MAX + 32], err[600];
	int status;
	memset(s, 0, sizeof(*s));
	s->fd = -1;
	s->child = pid;
	if (!control_dir(dir, sizeof(dir), true, err, sizeof(err))) {
		fprintf(stderr, "lgdbg: %s\n", err);
		return false;
	}
	snprintf(path, sizeof(path), "%s/%d.sock", dir, (int)pid);
	for (int tries = 0; tries < 1000; tries++) {
		if (connect_path(s, path))
			return hello(s, path);
		if (waitpid(pid, &status, WNOHANG) == pid) {
			s->child = 0;
			fprintf(stderr, "lgdbg: the launcher exited (%s %d) before lgdbg could attach\n",
			        WIFEXITED(status) ? "status" : "signal", WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
			return false;
		}
		struct timespec ts = {0, 10000000};
		nanosleep(&ts, NULL);
	}
	fprintf(stderr, "lgdbg: the launcher %d did not open %s within 10 s\n", (int)pid, path);
	return false;
}

void session_close(struct session *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	free(s->in);
	s->in = NULL;
	s->inlen = s->incap = 0;
	symbols_free(&s->syms);
}
