/*
 * Getting lgdbg into a guest: attach to a running launcher (by pid, by
 * socket, or the only one there is), or start one under us (`lgdbg run`,
 * the launcher stopped at the guest's first instruction by
 * --wait-for-lgdbg).  Then stop the guest, say where it is, and run the
 * shell.  A guest that is already dead shows its crash report.
 */
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "attach.h"
#include "shell.h"

#define MAX_SCRIPT 64

const char attach_usage[] =
	"Usage: lgdbg [attach] [PID|SOCKET] [-ex CMD]... [-x FILE]...\n"
	"       lgdbg [-ex CMD]... [-x FILE]... run [lguest options] MEM KERNEL [args...]\n"
	"\n"
	"attach: connect to a running lguest launcher of yours (found by pid, by its\n"
	"  control socket, or automatically when exactly one runs), stop its guest\n"
	"  and open the shell.\n"
	"run: start `lguest --wait-for-lgdbg [options] MEM KERNEL [args]` under lgdbg\n"
	"  (the launcher is $LGUEST, else the lguest beside lgdbg, else lguest on the\n"
	"  PATH), stopped at the guest's first instruction.  quit ends the guest.\n"
	"\n"
	"  -ex CMD    run the shell command CMD (repeatable), then quit\n"
	"  -x FILE    run the shell commands in FILE, then quit\n"
	"Without -ex/-x the commands come from the terminal (readline) or a pipe.\n"
	"`help` inside the shell lists the commands; docs/lgdbg.md has the rest.\n"
	"\n"
	"Exit codes: 0 success, 1 a command failed or no launcher to attach to,\n"
	"2 usage error.\n";

/* The launcher `lgdbg run` starts: $LGUEST, the one installed beside us, or lguest on the PATH. */
static void launcher_path(char *buf, size_t len)
{
	const char *env = getenv("LGUEST");
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (env && *env) {
		snprintf(buf, len, "%s", env);
		return;
	}
	if (n > 0) {
		self[n] = '\0';
		char *slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			snprintf(buf, len, "%s/lguest", self);
			if (access(buf, X_OK) == 0)
				return;
		}
	}
	snprintf(buf, len, "lguest");
}

/* Start the launcher in its own process group (Ctrl-C is ours), console input from /dev/null. */
static pid_t start_launcher(char **args, int nargs)
{
	char path[PATH_MAX + 16];
	char **argv = calloc((size_t)nargs + 3, sizeof(*argv));
	if (!argv)
		return -1;
	launcher_path(path, sizeof(path));
	argv[0] = path;
	argv[1] = "--wait-for-lgdbg";
	for (int i = 0; i < nargs; i++)
		argv[i + 2] = args[i];
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);
		setpgid(0, 0);
		if (null >= 0)
			dup2(null, STDIN_FILENO);
		execvp(path, argv);
		fprintf(stderr, "lgdbg: cannot run %s: %m\n", path);
		_exit(127);
	}
	free(argv);
	return pid;
}

/* Just attached: say to whom, stop the guest (or show why we cannot). */
static void greet(struct shell *sh)
{
	char *body;
	fprintf(stderr, "lgdbg: attached to lguest pid %d (%s)\n", sh->s.pid, sh->s.kernel);
	if (!strcmp(sh->s.state, "dead")) {
		if (session_request(&sh->s, &body, "hello 1")) {
			char reason[700];
			printf("the guest is dead: lguest: %s\n", body_value(body, "reason", reason, sizeof(reason)) ? reason : "?");
		}
		free(body);
		if (session_request(&sh->s, &body, "crash"))
			fputs(body, stdout);
		free(body);
		return;
	}
	if (!strcmp(sh->s.holder, "gdb")) {
		fprintf(stderr, "lgdbg: gdb is attached: lgdbg can look (regs, x, disas, trace, crash, ...) but not stop, "
		                "step or set breakpoints\n");
		return;
	}
	char stop[] = "stop";
	for (size_t i = 0; i < shell_ncommands; i++)
		if (!strcmp(shell_commands[i].name, stop))
			shell_commands[i].run(sh, "");
}

int attach_main(int argc, char **argv)
{
	static struct shell sh;
	char *ex[MAX_SCRIPT], *files[MAX_SCRIPT];
	unsigned nex = 0, nfiles = 0;
	const char *target = NULL;
	int i = 1, run_at = 0;
	while (i < argc) {
		const char *a = argv[i];
		if ((!strcmp(a, "-ex") || !strcmp(a, "-x")) && i + 1 < argc) {
			if (nex == MAX_SCRIPT || nfiles == MAX_SCRIPT) {
				fprintf(stderr, "lgdbg: at most %d -ex and %d -x\n", MAX_SCRIPT, MAX_SCRIPT);
				return 2;
			}
			if (a[1] == 'e')
				ex[nex++] = argv[i + 1];
			else
				files[nfiles++] = argv[i + 1];
			i += 2;
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(attach_usage, stdout);
			return 0;
		} else if (!strcmp(a, "attach") && !target && i == 1) {
			i++;
		} else if (!strcmp(a, "run") && !target) {
			run_at = i + 1;
			break;
		} else if (a[0] != '-' && !target) {
			target = a;
			i++;
		} else {
			fprintf(stderr, "lgdbg: unexpected '%s'\n%s", a, attach_usage);
			return 2;
		}
	}
	if (run_at) {
		if (argc - run_at < 2) {
			fprintf(stderr, "lgdbg: run needs at least a memory size and a kernel\n%s", attach_usage);
			return 2;
		}
		pid_t pid = start_launcher(argv + run_at, argc - run_at);
		if (pid < 0 || !session_attach_child(&sh.s, pid)) {
			if (pid > 0) {
				kill(pid, SIGTERM);
				waitpid(pid, NULL, 0);
			}
			return 1;
		}
	} else if (!session_attach(&sh.s, target)) {
		return 1;
	}
	greet(&sh);
	return shell_main(&sh, ex, nex, files, nfiles);
}
