/*
 * lgdbg, the companion of bin/lguest.  Each job is a subcommand with its
 * own options, `lgdbg <command> [args...]`; this file only finds the
 * command and hands it the rest of the command line.
 *
 * Exit codes: 0 success, 1 a shell command failed or nothing to attach to,
 * 2 usage error or unreadable/damaged input.
 */
#include <stdio.h>
#include <string.h>

#include "attach.h"
#include "trace_view.h"

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
	{"attach", attach_main, "attach to a running launcher: [PID|SOCKET] [-ex CMD]... [-x FILE]..."},
	{"run", attach_main, "start a launcher under lgdbg: [lguest options] MEM KERNEL [args]"},
	{"trace", trace_view_main, "render a trace written by `lguest --trace=FILE` (text, filters, JSON)"},
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

/* The list of commands, to stdout for --help or stderr after a usage error. */
static void usage(FILE *f)
{
	fprintf(f, "Usage: lgdbg <command> [args...]\n"
	           "       lgdbg <command> --help\n"
	           "       lgdbg [-ex CMD]... [-x FILE]... [attach [PID|SOCKET] | run ...]\n\nCommands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\nExit codes: 0 success, 1 a shell command failed or nothing to attach to, 2 usage error\n"
	           "or unreadable or damaged input.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	/* The shell's scripting options may come first: lgdbg -ex regs [attach PID | run ...]. */
	if (strcmp(argv[1], "-ex") == 0 || strcmp(argv[1], "-x") == 0 || strcmp(argv[1], "attach") == 0 ||
	    strcmp(argv[1], "run") == 0)
		return attach_main(argc, argv);
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "lgdbg: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
