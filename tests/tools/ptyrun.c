/*
 * ptyrun: run a command on a fresh pseudo-terminal and talk to it, so the
 * console tests can see what a user at a terminal sees (addendum §A11
 * "Console": raw mode while running, restored at every exit, three ^C).
 *
 *   ptyrun [-e ERRFILE] [-o TRANSCRIPT] STEP... -- COMMAND [ARGS...]
 *
 * The command gets the pty's slave as stdin and stdout (and as its
 * controlling terminal); its stderr goes to ERRFILE (default /dev/null).
 * The terminal starts in the usual cooked mode (ICANON, ECHO, ISIG).
 * Steps, in order:
 *   raw          wait until the command has cleared ICANON, ECHO and ISIG
 *   send=TEXT    write TEXT to the terminal (\n, \\ and \xHH escapes)
 *   expect=TEXT  wait until TEXT (same escapes) has appeared in the output
 *                since the previous expect
 *   pause=MS     sleep MS milliseconds
 * Then ptyrun waits for the command to end and prints what it saw, one
 * line each: "ok <step>" or "not ok <step>: <why>", then "status exit N"
 * or "status signal N", then "ok terminal restored" or "not ok terminal
 * restored: ...".  Every wait gives up after 10 seconds.  The whole output
 * goes to TRANSCRIPT.  ptyrun's own exit status is 0 when every line was ok.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define WAIT_MS 10000
#define RAW_FLAGS (ICANON | ECHO | ISIG)

static char output[1 << 16];
static size_t output_len, expect_from;
static int failures;

/* Deadlines use the monotonic clock, so a change of wall time cannot stretch or cut a wait. */
static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Decode \n, \r, \\ and \xHH; returns the decoded length. */
static size_t unescape(const char *in, char *out)
{
	size_t n = 0;
	while (*in) {
		if (in[0] == '\\' && in[1] == 'n') {
			out[n++] = '\n';
			in += 2;
		} else if (in[0] == '\\' && in[1] == 'r') {
			out[n++] = '\r';
			in += 2;
		} else if (in[0] == '\\' && in[1] == '\\') {
			out[n++] = '\\';
			in += 2;
		} else if (in[0] == '\\' && in[1] == 'x' && in[2] && in[3]) {
			char hex[3] = {in[2], in[3], 0};
			out[n++] = (char)strtoul(hex, NULL, 16);
			in += 4;
		} else {
			out[n++] = *in++;
		}
	}
	return n;
}

/* Read what the command wrote, waiting up to ms: 1 if something came,
 * 0 if nothing did, -1 if nothing more can come (closed, or our buffer full). */
static int read_output(int master, int ms)
{
	struct pollfd p = {master, POLLIN, 0};
	if (poll(&p, 1, ms) <= 0)
		return 0;
	if (output_len == sizeof(output))
		return -1;
	ssize_t n = read(master, output + output_len, sizeof(output) - output_len);
	if (n <= 0)
		return -1;
	output_len += (size_t)n;
	return 1;
}

/* Print one line of the verdict ("ok STEP" or "not ok STEP: WHY"); failures decide the exit status. */
static void result(bool ok, const char *step, const char *why)
{
	if (ok) {
		printf("ok %s\n", step);
	} else {
		failures++;
		printf("not ok %s: %s\n", step, why);
	}
	fflush(stdout);
}

/* Wait for the terminal to be put in raw mode by the command. */
static void step_raw(int slave, int master)
{
	struct termios t;
	long deadline = now_ms() + WAIT_MS;
	while (now_ms() < deadline) {
		if (tcgetattr(slave, &t) == 0 && !(t.c_lflag & RAW_FLAGS)) {
			result(true, "raw", NULL);
			return;
		}
		read_output(master, 10);
	}
	result(false, "raw", "ICANON/ECHO/ISIG still set after 10 s");
}

/*
 * expect=TEXT: wait for TEXT in the output after the previous match, so
 * two expects of the same prompt need two prompts.
 */
static void step_expect(int master, const char *arg, const char *step)
{
	char want[512];
	size_t len = unescape(arg, want);
	long deadline = now_ms() + WAIT_MS;
	for (;;) {
		char *hit = memmem(output + expect_from, output_len - expect_from, want, len);
		if (hit) {
			expect_from = (size_t)(hit - output) + len;
			result(true, step, NULL);
			return;
		}
		if (now_ms() >= deadline || read_output(master, 50) < 0)
			break;
	}
	result(false, step, "not seen in the output");
}

/* send=TEXT: type TEXT at the terminal as a user would (\x03 is a Ctrl-C). */
static void step_send(int master, const char *arg, const char *step)
{
	char text[512];
	size_t len = unescape(arg, text);
	result(write(master, text, len) == (ssize_t)len, step, strerror(errno));
}

/* Start the command on the slave side of the pty. */
static pid_t spawn(const char *slave_name, const char *errfile, char **argv)
{
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	setsid();
	int s = open(slave_name, O_RDWR);
	int e = open(errfile, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (s < 0 || e < 0)
		_exit(126);
	ioctl(s, TIOCSCTTY, 0);
	dup2(s, 0);
	dup2(s, 1);
	dup2(e, 2);
	close(s);
	close(e);
	execvp(argv[0], argv);
	_exit(127);
}

/* Wait for the command to end (killing it after the timeout). */
static int reap(pid_t pid, int master)
{
	int status;
	long deadline = now_ms() + WAIT_MS;
	while (waitpid(pid, &status, WNOHANG) == 0) {
		if (now_ms() >= deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			result(false, "command ended", "still running after 10 s: killed");
			return status;
		}
		read_output(master, 10);
	}
	while (read_output(master, 0) > 0)
		;
	return status;
}

/*
 * Open the pty in cooked mode, start the command on it, play the steps, then
 * report how the command ended and whether it left the terminal as it found it.
 */
int main(int argc, char **argv)
{
	const char *errfile = "/dev/null", *transcript = NULL;
	int first_step = 1;
	for (; first_step + 1 < argc && argv[first_step][0] == '-' && argv[first_step][1] != '-'; first_step += 2) {
		if (strcmp(argv[first_step], "-e") == 0)
			errfile = argv[first_step + 1];
		else if (strcmp(argv[first_step], "-o") == 0)
			transcript = argv[first_step + 1];
	}
	int sep = first_step;
	while (sep < argc && strcmp(argv[sep], "--") != 0)
		sep++;
	if (sep + 1 >= argc) {
		fprintf(stderr, "usage: ptyrun [-e ERRFILE] [-o TRANSCRIPT] STEP... -- COMMAND [ARGS...]\n");
		return 2;
	}

	int master = posix_openpt(O_RDWR | O_NOCTTY);
	if (master < 0 || grantpt(master) != 0 || unlockpt(master) != 0) {
		perror("ptyrun: posix_openpt");
		return 2;
	}
	const char *slave_name = ptsname(master);
	int slave = open(slave_name, O_RDWR | O_NOCTTY);
	struct termios cooked;
	if (slave < 0 || tcgetattr(slave, &cooked) != 0) {
		perror("ptyrun: slave");
		return 2;
	}
	cooked.c_lflag |= RAW_FLAGS;
	tcsetattr(slave, TCSANOW, &cooked);

	pid_t pid = spawn(slave_name, errfile, argv + sep + 1);
	if (pid < 0) {
		perror("ptyrun: fork");
		return 2;
	}
	for (int i = first_step; i < sep; i++) {
		const char *step = argv[i];
		if (strcmp(step, "raw") == 0)
			step_raw(slave, master);
		else if (strncmp(step, "send=", 5) == 0)
			step_send(master, step + 5, step);
		else if (strncmp(step, "expect=", 7) == 0)
			step_expect(master, step + 7, step);
		else if (strncmp(step, "pause=", 6) == 0)
			usleep((useconds_t)atoi(step + 6) * 1000u);
		else
			result(false, step, "unknown step");
	}

	int status = reap(pid, master);
	if (WIFSIGNALED(status))
		printf("status signal %d\n", WTERMSIG(status));
	else
		printf("status exit %d\n", WEXITSTATUS(status));

	struct termios after;
	if (tcgetattr(slave, &after) != 0)
		result(false, "terminal restored", strerror(errno));
	else if ((after.c_lflag & RAW_FLAGS) != (cooked.c_lflag & RAW_FLAGS))
		result(false, "terminal restored", "ICANON/ECHO/ISIG differ from before");
	else
		result(true, "terminal restored", NULL);

	if (transcript) {
		FILE *f = fopen(transcript, "w");
		if (f) {
			fwrite(output, 1, output_len, f);
			fclose(f);
		}
	}
	return failures ? 1 : 0;
}
