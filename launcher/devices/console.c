/*
 * The virtio console (type 3): a receive queue fed from stdin and a
 * transmit queue written to stdout (addendum §A11, "Console").
 *
 * When stdin is a terminal it is put in raw mode (no echo, no line
 * editing, ^C passed to the guest) and restored on every way out.  Three
 * ^C within a second stop the launcher, as the historical one did.  At EOF
 * the console stops reading and says so once; the guest keeps running.
 * Input is read only when the launcher polls (at HALT and between runs),
 * so a given input reaches the guest at a well-defined instruction.
 */
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "devices.h"
#include "host/host.h"

struct console {
	bool eof;
	unsigned ctrl_c_count;
	struct timespec first_ctrl_c;
};

static struct termios saved_termios;
static bool termios_saved;

/* Put the terminal back as we found it (safe to call more than once, and from signals). */
void console_restore_terminal(void)
{
	if (termios_saved)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved_termios);
}

/* A fatal signal must not leave the user's terminal raw. */
static void restore_and_die(int sig)
{
	console_restore_terminal();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Raw mode for an interactive console: the guest does its own echo and editing. */
static void make_terminal_raw(void)
{
	struct termios t;
	if (termios_saved || !isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &saved_termios) != 0)
		return;
	termios_saved = true;
	atexit(console_restore_terminal);
	signal(SIGTERM, restore_and_die);
	signal(SIGHUP, restore_and_die);
	signal(SIGQUIT, restore_and_die);
	t = saved_termios;
	t.c_lflag &= ~(tcflag_t)(ISIG | ICANON | ECHO);
	tcsetattr(STDIN_FILENO, TCSANOW, &t);
}

/* Guest text to stdout, all of it unless stdout fails (then the rest is dropped). */
void console_write(const void *buf, size_t len)
{
	const char *p = buf;
	fflush(stdout);
	while (len) {
		ssize_t n = write(STDOUT_FILENO, p, len);
		if (n <= 0)
			break;
		p += n;
		len -= (size_t)n;
	}
}

/* The transmit queue: everything readable goes to stdout, used length 0. */
static void console_output(struct lguest *lg, struct virtqueue *vq)
{
	struct chain c;
	while (vq_get_chain(lg, vq, &c)) {
		if (c.in) {
			kill_guest(lg, "Input buffers in console output queue?");
			return;
		}
		for (unsigned i = 0; i < c.out; i++) {
			const uint8_t *p = c.iov[i].iov_base;
			EMIT(lg, EV_CONSOLE_OUT, 0, (uint32_t)(p - lg->mem.base), (uint32_t)c.iov[i].iov_len);
			console_write(p, c.iov[i].iov_len);
		}
		vq_add_used(lg, vq, c.head, 0);
	}
	vq_trigger_irq(lg, vq, false);
}

/* New receive buffers: nothing to do until input arrives. */
static void console_input_kick(struct lguest *lg, struct virtqueue *vq)
{
	(void)lg;
	(void)vq;
}

/* Three ^C bytes, each alone in a read, within one second: the user wants out. */
static bool third_ctrl_c(struct console *con, const struct chain *c, ssize_t n)
{
	struct timespec now;
	if (n != 1 || *(const char *)c->iov[c->out].iov_base != 3) {
		con->ctrl_c_count = 0;
		return false;
	}
	clock_gettime(CLOCK_MONOTONIC, &now);
	int64_t since_first = (int64_t)(now.tv_sec - con->first_ctrl_c.tv_sec) * 1000000000 +
	                      (now.tv_nsec - con->first_ctrl_c.tv_nsec);
	if (con->ctrl_c_count == 0 || since_first > 1000000000) {
		con->ctrl_c_count = 1;
		con->first_ctrl_c = now;
		return false;
	}
	return ++con->ctrl_c_count >= 3;
}

/* Read what stdin has into the guest's next receive buffer, waiting up to timeout_ms. */
void console_poll(struct lguest *lg, struct device *dev, int timeout_ms)
{
	struct console *con = dev->state;
	struct virtqueue *vq = &dev->vq[0];
	struct pollfd pfd = {STDIN_FILENO, POLLIN, 0};
	struct chain c;

	if (con->eof || !dev->running || !vq_has_buffers(lg, vq) || poll(&pfd, 1, timeout_ms) <= 0)
		return;
	if (!vq_get_chain(lg, vq, &c))
		return;
	if (c.out) {
		kill_guest(lg, "Output buffers in console in queue?");
		return;
	}
	ssize_t n = c.in ? readv(STDIN_FILENO, c.iov + c.out, (int)c.in) : -1;
	if (n <= 0) {
		fprintf(stderr, "lguest: Failed to get console input, ignoring console.\n");
		con->eof = true;
		return;
	}
	for (unsigned i = c.out; i < c.out + c.in; i++)
		cpu_code_modified(&lg->cpu, (uint32_t)((uint8_t *)c.iov[i].iov_base - lg->mem.base),
		                  (uint32_t)c.iov[i].iov_len);
	if (third_ctrl_c(con, &c, n)) {
		devices_shutdown(lg);
		fprintf(stderr, "lguest: three ^C within a second: stopping\n");
		signal(SIGINT, SIG_DFL);
		raise(SIGINT);
	}
	EMIT(lg, EV_CONSOLE_IN, 0, (uint32_t)n);
	vq_add_used(lg, vq, c.head, (uint32_t)n);
	vq_trigger_irq(lg, vq, true);
}

/* Input can still reach the guest: the console runs, stdin is open, and buffers wait. */
bool console_input_possible(struct lguest *lg, struct device *dev)
{
	return dev->running && !((struct console *)dev->state)->eof && vq_has_buffers(lg, &dev->vq[0]);
}

/* The console is created last and always exists: two queues, no features, no config. */
bool console_setup(struct lguest *lg, char *err, size_t errlen)
{
	static struct console con;
	memset(&con, 0, sizeof(con));
	struct device *dev = device_add(lg, "console", VIRTIO_ID_CONSOLE, 2, NULL, 0, NULL, 0);
	if (!dev) {
		snprintf(err, errlen, "too many devices: no room left for the console");
		return false;
	}
	dev->state = &con;
	dev->vq[0].service = console_input_kick;
	dev->vq[1].service = console_output;
	make_terminal_raw();
	return true;
}
