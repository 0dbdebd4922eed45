/*
 * bin/lguest: the launcher.  Its command line is the historical one,
 *
 *     lguest [options] <mem-in-mb> <vmlinux|bzImage> [kernel args...]
 *
 * and since no kernel has /dev/lguest any more, it is also the host: it
 * loads the guest, runs it on our interpreter with lg.ko's semantics, and
 * tells the user how the guest ended.  Exit codes (README "Exit codes"):
 * 0 powered off, 1 killed, 2 usage or host error, 3 restart requested
 * (with --on-restart=exit), 4 stopped by a launcher limit.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "boot.h"
#include "debug/crash.h"
#include "debug/checks.h"
#include "debug/control.h"
#include "debug/gdbstub.h"
#include "debug/trace.h"
#include "host/host.h"

enum exit_code { EXIT_POWEROFF = 0, EXIT_KILLED = 1, EXIT_USAGE = 2, EXIT_RESTART = 3, EXIT_LIMIT = 4 };

static const char usage_text[] =
	"Usage: lguest [options] <mem-in-mb> <vmlinux|bzImage> [kernel args...]\n"
	"\n"
	"Runs an lguest guest kernel on a built-in x86-32 interpreter that behaves\n"
	"like the lguest host of Linux 2.6.31-3.19.  Options may come before or\n"
	"after <mem-in-mb> and the kernel file.\n"
	"\n"
	"  -v, --verbose             say what the launcher loads and does\n"
	"      --initrd=FILE         load FILE at the top of RAM as the initrd\n"
	"      --block=FILE          a virtio block device backed by FILE (repeatable;\n"
	"                            devices appear in this order, the console last)\n"
	"      --abi=3.19|2.6.31     host ABI profile (default 3.19: 3.x guests built\n"
	"                            after pgdir left lguest_data; 2.6.31 for\n"
	"                            2.6.31-3.0 guests and the Plan 9 port)\n"
	"      --syscall-vector=N    also accept N as the system call vector, like\n"
	"                            `modprobe lg syscall_vector=N` (default 0x80)\n"
	"      --max-insns=N         stop after N guest instructions (exit 4)\n"
	"      --timeout=SECONDS     stop after SECONDS of guest time (exit 4)\n"
	"      --realtime            guest time from the host clock, not from the\n"
	"                            instruction count (runs are then not repeatable)\n"
	"      --crash-report=FILE   where to write the report of the guest's death\n"
	"                            (default: $TMPDIR or /tmp, lguest-crash-<pid>.txt)\n"
	"      --trace=FILE          write every event of the run to FILE, a compact\n"
	"                            binary trace (`lgdbg trace FILE` shows it)\n"
	"      --on-restart=exit|reboot\n"
	"                            what a guest's restart request does (default\n"
	"                            reboot: run the guest again, as the historical\n"
	"                            launcher re-executed itself; exit: exit 3)\n"
	"      --check=LIST          porting checkers to run, comma-separated (default\n"
	"                            all: stack-dma,tlb-flush,trap-numbers,boot-sanity;\n"
	"                            none turns them off); each finding is printed as\n"
	"                            `lguest: check NAME: ...` (docs/checkers/)\n"
	"      --check-fatal         stop the guest at the first finding (exit 1)\n"
	"      --gdb[=PORT|unix:PATH]\n"
	"                            stop before the first instruction and wait for\n"
	"                            gdb on 127.0.0.1:PORT (default 1234; 0 picks a free\n"
	"                            port) or a user-only unix socket; add ,script=FILE\n"
	"                            to write a gdb script that connects (docs/gdb.md)\n"
	"      --wait-for-lgdbg      stop before the first instruction until lgdbg\n"
	"                            attaches (`lgdbg run` uses it; docs/lgdbg.md)\n"
	"  -h, --help                this text\n"
	"\n"
	"Exit codes: 0 the guest powered off, 1 the host killed it, 2 usage or\n"
	"host error, 3 it asked to restart (--on-restart=exit), 4 a launcher limit\n"
	"stopped it (timeout, instruction limit, spinning, halted for good).\n"
	"\n"
	"`lgdbg attach PID` looks inside a running launcher (docs/lgdbg.md).\n";

enum { OPT_CRASH_REPORT = 254, OPT_BLOCK = 255, OPT_INITRD = 256, OPT_ABI, OPT_SYSCALL_VECTOR, OPT_MAX_INSNS, OPT_TIMEOUT, OPT_REALTIME, OPT_ON_RESTART, OPT_CHECK, OPT_CHECK_FATAL, OPT_GDB, OPT_TRACE, OPT_WAIT_LGDBG };

static const struct option long_options[] = {
	{"verbose", no_argument, NULL, 'v'},
	{"help", no_argument, NULL, 'h'},
	{"initrd", required_argument, NULL, OPT_INITRD},
	{"block", required_argument, NULL, OPT_BLOCK},
	{"crash-report", required_argument, NULL, OPT_CRASH_REPORT},
	{"abi", required_argument, NULL, OPT_ABI},
	{"syscall-vector", required_argument, NULL, OPT_SYSCALL_VECTOR},
	{"max-insns", required_argument, NULL, OPT_MAX_INSNS},
	{"timeout", required_argument, NULL, OPT_TIMEOUT},
	{"realtime", no_argument, NULL, OPT_REALTIME},
	{"on-restart", required_argument, NULL, OPT_ON_RESTART},
	{"trace", required_argument, NULL, OPT_TRACE},
	{"check", required_argument, NULL, OPT_CHECK},
	{"check-fatal", no_argument, NULL, OPT_CHECK_FATAL},
	{"gdb", optional_argument, NULL, OPT_GDB},
	{"wait-for-lgdbg", no_argument, NULL, OPT_WAIT_LGDBG},
	{NULL, 0, NULL, 0},
};

struct launcher_args {
	struct lguest_options opt;
	const char *kernel;
	const char *initrd;
	const char *trace; /* --trace=FILE, or NULL */
	const char *crash_report;
	const char *block[MAX_DEVICES - 1];
	unsigned nblock;
	char *cmdline;
	bool reboot_on_restart;
	unsigned checks; /* mask of debug/checks.h checkers */
	bool check_fatal;
	const char *gdb; /* --gdb's address, "" for the default; NULL: no stub */
	bool wait_lgdbg; /* --wait-for-lgdbg */
};

/* Print a usage error and the usage text, then exit 2. */
static _Noreturn void usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "lguest: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n%s", usage_text);
	exit(EXIT_USAGE);
}

/*
 * A whole unsigned number, or a usage error.  Base 0 takes decimal or hex
 * with 0x; base 10 reads <mem> as the historical launcher did (064 is 64).
 */
static uint64_t parse_number(const char *s, int base, const char *what)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, base);
	if (errno || end == s || *end || *s == '-')
		usage_error(what, s);
	return v;
}

/* Seconds with an optional fraction, as nanoseconds. */
static uint64_t parse_seconds(const char *s)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || !(v > 0) || v > 1e9)
		usage_error("--timeout wants a positive number of seconds, not '%s'", s);
	return (uint64_t)(v * 1e9);
}

/* Join the kernel arguments with single spaces, as the launcher always did. */
static char *join_args(char **argv, int argc)
{
	size_t len = 1;
	for (int i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	char *s = calloc(1, len);
	if (!s) {
		perror("lguest");
		exit(EXIT_USAGE);
	}
	for (int i = 0; i < argc; i++) {
		if (i)
			strcat(s, " ");
		strcat(s, argv[i]);
	}
	return s;
}

/* GNU getopt with permutation: options may follow the memory size and the kernel. */
static void parse_args(int argc, char **argv, struct launcher_args *a)
{
	int c;
	memset(a, 0, sizeof(*a));
	a->opt.abi = &abi_3_19;
	a->opt.syscall_vector = 0x80;
	a->reboot_on_restart = true;
	a->checks = CHECKS_ALL;
	while ((c = getopt_long(argc, argv, "vh", long_options, NULL)) != -1) {
		switch (c) {
		case 'v': a->opt.verbose = true; break;
		case 'h': fputs(usage_text, stdout); exit(0);
		case OPT_INITRD: a->initrd = optarg; break;
		case OPT_CRASH_REPORT: a->crash_report = optarg; break;
		case OPT_BLOCK:
			if (a->nblock == MAX_DEVICES - 1)
				usage_error("too many --block devices (at most %s)", "15");
			a->block[a->nblock++] = optarg;
			break;
		case OPT_ABI:
			a->opt.abi = abi_find(optarg);
			if (!a->opt.abi)
				usage_error("unknown --abi '%s' (3.19 or 2.6.31)", optarg);
			break;
		case OPT_SYSCALL_VECTOR:
			a->opt.syscall_vector = (uint32_t)parse_number(optarg, 0, "--syscall-vector wants a number, not '%s'");
			if (a->opt.syscall_vector < 32 || a->opt.syscall_vector > 255 || a->opt.syscall_vector == 0x1f)
				usage_error("--syscall-vector %s is not a vector from 32 to 255", optarg);
			break;
		case OPT_MAX_INSNS:
			a->opt.max_insns = parse_number(optarg, 0, "--max-insns wants a number of instructions, not '%s'");
			break;
		case OPT_TIMEOUT:
			a->opt.timeout_ns = parse_seconds(optarg);
			a->opt.timeout_text = optarg;
			break;
		case OPT_REALTIME: a->opt.realtime = true; break;
		case OPT_TRACE: a->trace = optarg; break;
		case OPT_CHECK: {
			char err[200];
			if (!checks_parse(optarg, &a->checks, err, sizeof(err)))
				usage_error("--check: %s", err);
			break;
		}
		case OPT_CHECK_FATAL: a->check_fatal = true; break;
		case OPT_GDB: a->gdb = optarg ? optarg : ""; break;
		case OPT_WAIT_LGDBG: a->wait_lgdbg = true; break;
		case OPT_ON_RESTART:
			if (strcmp(optarg, "exit") == 0)
				a->reboot_on_restart = false;
			else if (strcmp(optarg, "reboot") == 0)
				a->reboot_on_restart = true;
			else
				usage_error("--on-restart is exit or reboot, not '%s'", optarg);
			break;
		default:
			fprintf(stderr, "%s", usage_text);
			exit(EXIT_USAGE);
		}
	}
	if (argc - optind < 2)
		usage_error("%s", "need a memory size in megabytes and a kernel file");
	uint64_t mem = parse_number(argv[optind], 10, "memory size '%s' is not a number of megabytes");
	if (mem == 0 || mem > 3000)
		usage_error("memory size %s MB is out of range (1 to 3000)", argv[optind]);
	a->opt.mem_mb = (uint32_t)mem;
	a->kernel = argv[optind + 1];
	a->cmdline = join_args(argv + optind + 2, argc - optind - 2);
}

/* Load kernel, initrd and boot_params into a fresh guest; exit 2 on any error. */
static void load_guest(struct lguest *lg, const struct launcher_args *a)
{
	char err[512];
	if (!lguest_create(lg, &a->opt, err, sizeof(err)) ||
	    !boot_load_kernel(&lg->mem, a->kernel, &lg->image, err, sizeof(err)) ||
	    (a->initrd && !boot_load_initrd(&lg->mem, a->initrd, &lg->image, err, sizeof(err))) ||
	    !boot_setup_params(&lg->mem, &lg->image, a->cmdline, err, sizeof(err)) ||
	    !host_tables_fit(lg, err, sizeof(err)) ||
	    !devices_setup(lg, a->block, a->nblock, err, sizeof(err))) {
		fprintf(stderr, "lguest: %s\n", err);
		exit(EXIT_USAGE);
	}
	symbols_load(&lg->syms, a->kernel);
	if (a->opt.verbose)
		fprintf(stderr, "lguest: %s: entry 0x%x, image 0x%x-0x%x, %u MB RAM, --abi=%s, %zu symbols\n", a->kernel,
		        lg->image.entry, lg->image.image_low, lg->image.image_high, a->opt.mem_mb, a->opt.abi->name,
		        lg->syms.count);
	lguest_start(lg);
}

/*
 * Crash capture.  Every death gets a report file whose path we print,
 * except Linux's clean power-off ("Power down"): a Linux panic arrives as
 * the same SHUTDOWN(POWEROFF) with the panic text as its message, and
 * deserves the report (lgdbg finds it by the launcher's pid).  Kills,
 * limits and restarts also get the whole report on stderr, indented after
 * the reason line.
 */
static void report_death(struct lguest *lg, const struct launcher_args *a)
{
	char path[512], *text = NULL;
	size_t len = 0;
	bool clean_poweroff = lg->death == GUEST_POWEROFF && strcmp(lg->death_reason, "CRASH: Power down") == 0;
	if (clean_poweroff && !a->crash_report)
		return;
	FILE *mem = open_memstream(&text, &len);
	if (!mem)
		return;
	crash_report(lg, mem);
	fclose(mem);
	if (a->crash_report)
		snprintf(path, sizeof(path), "%s", a->crash_report);
	else
		crash_report_path((int)getpid(), path, sizeof(path));
	FILE *out = fopen(path, "w");
	bool written = out && fwrite(text, 1, len, out) == len;
	if (out)
		written = fclose(out) == 0 && written;
	int write_error = errno;
	if (lg->death != GUEST_POWEROFF)
		for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
			fprintf(stderr, "  %s\n", line);
	if (written)
		fprintf(stderr, "  crash report: %s\n", path);
	else
		fprintf(stderr, "  cannot write the crash report to %s: %s\n", path, strerror(write_error));
	free(text);
}

/* The exit code for each way a guest ends. */
static int exit_code_for(enum guest_death d)
{
	switch (d) {
	case GUEST_POWEROFF: return EXIT_POWEROFF;
	case GUEST_RESTART: return EXIT_RESTART;
	case GUEST_LIMIT: return EXIT_LIMIT;
	case GUEST_KILLED:
	case GUEST_ALIVE: break;
	}
	return EXIT_KILLED;
}

/* --trace: create the file at the first boot, and record every boot in it; exit 2 if it cannot be created. */
static void start_trace(struct trace_writer **trace, struct lguest *lg, const struct launcher_args *a)
{
	char err[512];
	if (!*trace && !(*trace = trace_open(a->trace, lg, a->kernel, a->cmdline, err, sizeof(err)))) {
		fprintf(stderr, "lguest: %s\n", err);
		exit(EXIT_USAGE);
	}
	if (!trace_attach(*trace, lg)) {
		fprintf(stderr, "lguest: --trace: no room for another event sink\n");
		exit(EXIT_USAGE);
	}
}

/* Close the trace after the last event (the death); a failed write is reported, not fatal. */
static void finish_trace(struct trace_writer *trace)
{
	char err[512];
	if (!trace_close(trace, err, sizeof(err)))
		fprintf(stderr, "lguest: %s\n", err);
}

int main(int argc, char **argv)
{
	struct launcher_args a;
	static struct lguest lg;
	struct trace_writer *trace = NULL;

	parse_args(argc, argv, &a);
	struct gdbstub *gdb = NULL;
	if (a.gdb) {
		char err[512];
		gdb = gdbstub_open(a.gdb, a.kernel, err, sizeof(err));
		if (!gdb) {
			fprintf(stderr, "lguest: %s\n", err);
			return EXIT_USAGE;
		}
	}
	/*
	 * lgdbg's control socket (debug/control.c): always on, its path said
	 * only on a terminal or with --verbose (stderr's first line is the
	 * death reason).  Without it the guest still runs, unless lgdbg is
	 * waiting for it (--wait-for-lgdbg).
	 */
	char control_err[512];
	struct control *control = control_open(a.kernel, a.wait_lgdbg, a.opt.verbose || isatty(STDERR_FILENO),
	                                       control_err, sizeof(control_err));
	if (!control && (a.wait_lgdbg || a.opt.verbose))
		fprintf(stderr, "lguest: lgdbg: no control socket: %s\n", control_err);
	if (!control && a.wait_lgdbg)
		return EXIT_USAGE;
	for (;;) {
		load_guest(&lg, &a);
		if (a.trace)
			start_trace(&trace, &lg, &a);
		if (gdb)
			gdbstub_attach(gdb, &lg); /* after loading, before the first instruction */
		if (control)
			control_attach(control, &lg); /* lgdbg: after the gdb stub, which keeps the guest if both ask */
		checks_enable(&lg, a.checks, a.check_fatal);
		enum guest_death d = lguest_run(&lg);
		fflush(stdout);
		devices_shutdown(&lg);
		fprintf(stderr, "lguest: %s\n", lg.death_reason);
		checks_finish(&lg);
		bool reboot = d == GUEST_RESTART && a.reboot_on_restart;
		if (reboot)
			fprintf(stderr, "  rebooting (--on-restart=reboot; --max-insns and --timeout count every boot)\n");
		else
			report_death(&lg, &a);
		control_guest_ended(control, &lg); /* an attached lgdbg inspects the dead guest until it detaches */
		if (a.opt.verbose)
			fprintf(stderr, "lguest: %llu instructions, %llu ns of guest time\n",
			        (unsigned long long)lg.cpu.icount, (unsigned long long)guest_now_ns(&lg));
		a.opt.insns_before += lg.cpu.icount;
		a.opt.ns_before += guest_now_ns(&lg);
		lguest_destroy(&lg);
		if (reboot)
			continue;
		if (trace)
			finish_trace(trace);
		free(a.cmdline);
		gdbstub_close(gdb);
		control_close(control);
		return exit_code_for(d);
	}
}
