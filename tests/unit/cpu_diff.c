/*
 * The CPU differential test: our interpreter against the host processor.
 *
 * For every instruction form in cpu_diff_gen.h we generate many cases
 * (edge-case and random operands, random addressing modes, random flags
 * and memory) and run each one twice: natively, in the 32-bit helper
 * build/tests/native/diffrun, and in the interpreter, on a flat CPL 3
 * host that maps the same three windows at the same addresses.  Then we
 * compare every general register, the flags the SDM defines for that case
 * (the rest are masked, and a failure names the mask), the data and stack
 * windows, and how the snippet ended (ran to its end, or which exception
 * at which eip, with which error code and fault address).
 *
 * Environment:
 *   CPU_DIFF_SEED   the seed (default fixed, so `make check` is deterministic)
 *   CPU_DIFF_CASES  cases per form (default 100)
 *   CPU_DIFF_ONLY   run only the form of this name (or, if none has it, every
 *                   form whose name contains it)
 *   CPU_DIFF_CASE   run only this case index (with CPU_DIFF_ONLY, to replay one failure)
 *   CPU_DIFF_NATIVE the native runner (default build/tests/native/diffrun)
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cpu/cpu.h"
#include "cpu_diff_gen.h"

#define DEFAULT_SEED 0x5eed0f1a6e57ull
#define DEFAULT_CASES 100u
#define MAX_FAIL_DETAILS 5u
#define INTERP_BUDGET 200000u

/* Flags compared after every case, before the per-case undefined mask. */
#define COMPARED_FLAGS (F_ARITH | F_DF | F_IF | F_TF | 0x3000u | 0x4000u | 0x40000u)

static const char *const reg_names[8] = { "eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi" };

/* ---- the native runner ------------------------------------------------------ */

struct native {
	pid_t pid;
	int to_child, from_child;
};

/* Pipe I/O that survives short reads and writes; false if the other side went away. */
static bool read_all(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;
	while (len > 0) {
		ssize_t n = read(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		p += n;
		len -= (size_t)n;
	}
	return true;
}

static bool write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		p += n;
		len -= (size_t)n;
	}
	return true;
}

/* Start the 32-bit runner with pipes on its stdin and stdout, and check its hello. */
static bool native_start(struct native *n, const char *path, char *why, size_t whylen)
{
	int in[2], out[2];
	struct diff_hello hello;

	if (access(path, X_OK) != 0) {
		snprintf(why, whylen, "cannot run %s: %s", path, strerror(errno));
		return false;
	}
	if (pipe(in) != 0 || pipe(out) != 0) {
		snprintf(why, whylen, "pipe: %s", strerror(errno));
		return false;
	}
	n->pid = fork();
	if (n->pid < 0) {
		snprintf(why, whylen, "fork: %s", strerror(errno));
		return false;
	}
	if (n->pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[0]);
		close(in[1]);
		close(out[0]);
		close(out[1]);
		execl(path, path, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	n->to_child = in[1];
	n->from_child = out[0];
	if (!read_all(n->from_child, &hello, sizeof hello)) {
		snprintf(why, whylen, "%s said nothing (could it map its windows?)", path);
		return false;
	}
	if (hello.magic != DIFF_MAGIC || hello.version != DIFF_VERSION ||
	    hello.request_size != sizeof(struct diff_request) || hello.reply_size != sizeof(struct diff_reply)) {
		snprintf(why, whylen, "%s speaks another protocol version (rebuild it)", path);
		return false;
	}
	return true;
}

/* Close the pipes (the runner exits at end of input) and reap it. */
static void native_stop(struct native *n)
{
	int status;
	close(n->to_child);
	close(n->from_child);
	waitpid(n->pid, &status, 0);
}

/* Run one case on the host processor. */
static bool native_run(struct native *n, const struct diff_case *c, struct diff_reply *out)
{
	static struct diff_request rq;
	memset(&rq, 0, sizeof rq);
	rq.magic = DIFF_MAGIC;
	rq.code_len = c->len;
	memcpy(rq.regs, c->regs, sizeof rq.regs);
	rq.eflags = c->eflags;
	memcpy(rq.code, c->code, c->len);
	memcpy(rq.data, c->data, DIFF_PAGE);
	memcpy(rq.stack, c->stack, DIFF_PAGE);
	return write_all(n->to_child, &rq, sizeof rq) && read_all(n->from_child, out, sizeof *out) &&
	       out->magic == DIFF_MAGIC;
}

/* ---- the interpreter's host ---------------------------------------------------- */

/*
 * A flat host: three 4 KiB windows at the runner's addresses, identity
 * "physical" addresses, everything else a not-present #PF with the error
 * code Linux reports for a user access (user, write, and instruction
 * fetch bits).
 */
struct flat_host {
	uint8_t code[DIFF_PAGE];
	uint8_t data[DIFF_PAGE];
	uint8_t stack[DIFF_PAGE];
};

static enum cpu_xlate_result flat_translate(void *opaque, struct cpu *cpu, uint32_t va, enum cpu_access access,
                                            struct cpu_translation *t, uint32_t *pf_error)
{
	struct flat_host *h = opaque;
	uint32_t page = va & ~(DIFF_PAGE - 1);
	(void)cpu;
	memset(t, 0, sizeof *t);
	if (page == DIFF_CODE_BASE)
		t->host_page = h->code;
	else if (page == DIFF_DATA_BASE)
		t->host_page = h->data;
	else if (page == DIFF_STACK_BASE)
		t->host_page = h->stack;
	else {
		*pf_error = PF_ERR_USER | (access == CPU_ACCESS_WRITE ? PF_ERR_WRITE : 0) |
		            (access == CPU_ACCESS_FETCH ? 0x10u : 0);
		return CPU_XLATE_FAULT;
	}
	t->phys_page = page;
	t->writable = true;
	t->user = true;
	return CPU_XLATE_OK;
}

static const struct cpu_host_ops flat_ops = { .translate = flat_translate };

/* GDT: flat 4 GiB user code (selector 0x1b) and data (0x23), DPL 3. */
static const uint64_t flat_gdt[] = {
	0, 0, 0,
	0x00cffa000000ffffull,
	0x00cff2000000ffffull,
};
#define USER_CS 0x1b
#define USER_DS 0x23

/* Run one case in the interpreter and describe the outcome as the runner would. */
static void interp_run(struct cpu *cpu, struct flat_host *h, const struct diff_case *c, struct diff_reply *out,
                       char *other, size_t otherlen)
{
	struct cpu_stop stop;
	uint32_t end = DIFF_CODE_BASE + c->len;

	memset(h->code, 0xcc, DIFF_PAGE);
	memcpy(h->code, c->code, c->len);
	memcpy(h->data, c->data, DIFF_PAGE);
	memcpy(h->stack, c->stack, DIFF_PAGE);
	cpu_code_modified(cpu, DIFF_CODE_BASE, DIFF_PAGE);
	cpu_load_segment_raw(cpu, CPU_CS, USER_CS);
	cpu_load_segment_raw(cpu, CPU_SS, USER_DS);
	cpu_load_segment_raw(cpu, CPU_DS, USER_DS);
	cpu_load_segment_raw(cpu, CPU_ES, USER_DS);
	memcpy(cpu->regs, c->regs, sizeof cpu->regs);
	cpu->eip = DIFF_CODE_BASE;
	cpu_set_eflags(cpu, 0x202u | (c->eflags & (F_ARITH | F_DF)));

	memset(out, 0, sizeof *out);
	other[0] = 0;
	enum cpu_stop_kind kind = cpu_run(cpu, INTERP_BUDGET, &stop);
	memcpy(out->regs, cpu->regs, sizeof out->regs);
	out->eflags = cpu_get_eflags(cpu);
	out->eip = cpu->eip;
	memcpy(out->data, h->data, DIFF_PAGE);
	memcpy(out->stack, h->stack, DIFF_PAGE);
	if (kind == CPU_STOP_EXCEPTION && stop.vector == CPU_BP && stop.soft_int && stop.eip == end) {
		out->outcome = DIFF_DONE;
	} else if (kind == CPU_STOP_EXCEPTION) {
		out->outcome = DIFF_FAULT;
		out->vector = stop.vector;
		out->error = stop.has_error ? stop.error : 0;
		out->fault_addr = stop.addr;
		/* Traps report the address after the instruction, as the processor's frame does. */
		out->eip = stop.soft_int ? stop.next_eip : stop.eip;
	} else if (kind == CPU_STOP_BUDGET) {
		out->outcome = DIFF_TIMEOUT;
	} else {
		size_t len = (size_t)snprintf(other, otherlen, "%s at 0x%08x", cpu_stop_kind_name(kind), stop.eip);
		if (kind == CPU_STOP_UNIMPLEMENTED) {
			len += (size_t)snprintf(other + len, otherlen - len, ", bytes");
			for (unsigned i = 0; i < stop.insn_len && i < 16 && len < otherlen; i++)
				len += (size_t)snprintf(other + len, otherlen - len, " %02x", stop.insn[i]);
		}
		out->outcome = DIFF_OTHER;
	}
}

/* ---- comparison and reports ---------------------------------------------------- */

/* A growing message buffer. */
struct msg {
	char text[2048];
	size_t len;
};

static void say(struct msg *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append to a message, truncating quietly when it is full. */
static void say(struct msg *m, const char *fmt, ...)
{
	va_list ap;
	if (m->len >= sizeof m->text - 1)
		return;
	va_start(ap, fmt);
	int n = vsnprintf(m->text + m->len, sizeof m->text - m->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		m->len += (size_t)n;
	if (m->len >= sizeof m->text)
		m->len = sizeof m->text - 1;
}

/* Flag names, for the messages. */
static void say_flags(struct msg *m, uint32_t flags)
{
	static const struct { uint32_t bit; const char *name; } names[] = {
		{ F_CF, "CF" }, { F_PF, "PF" }, { F_AF, "AF" }, { F_ZF, "ZF" }, { F_SF, "SF" },
		{ F_TF, "TF" }, { F_IF, "IF" }, { F_DF, "DF" }, { F_OF, "OF" }, { 0x3000, "IOPL" },
		{ 0x4000, "NT" }, { 0x40000, "AC" },
	};
	bool any = false;
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (flags & names[i].bit) {
			say(m, "%s%s", any ? " " : "", names[i].name);
			any = true;
		}
	if (!any)
		say(m, "none");
}

/* How an outcome reads in a message. */
static const char *outcome_name(uint32_t outcome)
{
	switch (outcome) {
	case DIFF_DONE:
		return "ran to the end";
	case DIFF_FAULT:
		return "exception";
	case DIFF_TIMEOUT:
		return "did not finish";
	default:
		return "stopped";
	}
}

/* One side's outcome, for a message. */
static void say_outcome(struct msg *m, const struct diff_reply *r, const char *other)
{
	if (r->outcome == DIFF_FAULT)
		say(m, "exception %u (error 0x%x) at eip 0x%08x", r->vector, r->error, r->eip);
	else if (r->outcome == DIFF_OTHER)
		say(m, "%s", other);
	else
		say(m, "%s", outcome_name(r->outcome));
}

/* Report the first difference in a window, with a few bytes of context either side. */
static void compare_window(struct msg *m, const char *name, uint32_t base, const uint8_t *a, const uint8_t *b)
{
	unsigned ndiff = 0, first = 0;
	for (unsigned i = 0; i < DIFF_PAGE; i++)
		if (a[i] != b[i] && ndiff++ == 0)
			first = i;
	if (!ndiff)
		return;
	unsigned from = first < 4 ? 0 : first - 4, to = from + 12 < DIFF_PAGE ? from + 12 : DIFF_PAGE;
	say(m, "; %s memory differs in %u byte(s), first at 0x%08x; bytes from 0x%08x: native", name, ndiff,
	    base + first, base + from);
	for (unsigned i = from; i < to; i++)
		say(m, " %02x", a[i]);
	say(m, ", interp");
	for (unsigned i = from; i < to; i++)
		say(m, " %02x", b[i]);
}

/*
 * Compare the two outcomes; on a difference, describe it in `m` and
 * return false.
 */
static bool compare(const struct diff_case *c, const struct diff_reply *nat, const struct diff_reply *emu,
                    const char *other, struct msg *m)
{
	size_t start = m->len;
	if (nat->outcome == DIFF_TIMEOUT) {
		say(m, "the snippet did not finish natively (a generator bug)");
		return false;
	}
	if (nat->outcome != emu->outcome) {
		say(m, "native ");
		say_outcome(m, nat, "");
		say(m, ", interp ");
		say_outcome(m, emu, other);
	} else if (nat->outcome == DIFF_FAULT) {
		if (nat->vector != emu->vector || nat->eip != emu->eip)
			say(m, "; exception: native %u at 0x%08x, interp %u at 0x%08x", nat->vector, nat->eip,
			    emu->vector, emu->eip);
		if ((nat->vector == CPU_GP || nat->vector == CPU_PF) && nat->error != emu->error)
			say(m, "; error code: native 0x%x, interp 0x%x", nat->error, emu->error);
		if (nat->vector == CPU_PF && nat->fault_addr != emu->fault_addr)
			say(m, "; cr2: native 0x%08x, interp 0x%08x", nat->fault_addr, emu->fault_addr);
	}
	if (nat->outcome == emu->outcome && (nat->outcome == DIFF_DONE || nat->outcome == DIFF_FAULT)) {
		for (unsigned i = 0; i < 8; i++)
			if (!((c->undefined_regs >> i) & 1) && nat->regs[i] != emu->regs[i])
				say(m, "; %s: native 0x%08x, interp 0x%08x", reg_names[i], nat->regs[i], emu->regs[i]);
		uint32_t mask = COMPARED_FLAGS & ~c->undefined_flags;
		uint32_t differ = (nat->eflags ^ emu->eflags) & mask;
		if (differ) {
			say(m, "; eflags: native 0x%08x, interp 0x%08x, differ in ", nat->eflags, emu->eflags);
			say_flags(m, differ);
		}
		compare_window(m, "data", DIFF_DATA_BASE, nat->data, emu->data);
		compare_window(m, "stack", DIFF_STACK_BASE, nat->stack, emu->stack);
	}
	if (m->len == start)
		return true;
	if (c->undefined_flags || c->undefined_regs) {
		say(m, " [undefined per SDM, masked: flags ");
		say_flags(m, c->undefined_flags);
		for (unsigned i = 0; i < 8; i++)
			if ((c->undefined_regs >> i) & 1)
				say(m, ", %s", reg_names[i]);
		say(m, "]");
	}
	return false;
}

/* The inputs of a case, for a failure line. */
static void say_inputs(struct msg *m, const struct diff_case *c)
{
	say(m, "bytes");
	for (unsigned i = 0; i < c->len; i++)
		say(m, " %02x", c->code[i]);
	say(m, "; in");
	for (unsigned i = 0; i < 8; i++)
		say(m, " %s=%08x", reg_names[i], c->regs[i]);
	say(m, " eflags=%03x (", c->eflags);
	say_flags(m, c->eflags);
	say(m, ")");
}

/* ---- main ---------------------------------------------------------------------------- */

/* A number from the environment (decimal or 0x-hex), or the default. */
static unsigned long long env_number(const char *name, unsigned long long dflt)
{
	const char *s = getenv(name);
	return s && *s ? strtoull(s, NULL, 0) : dflt;
}

int main(void)
{
	uint64_t seed = env_number("CPU_DIFF_SEED", DEFAULT_SEED);
	unsigned ncases = (unsigned)env_number("CPU_DIFF_CASES", DEFAULT_CASES);
	const char *only = getenv("CPU_DIFF_ONLY");
	const char *one_case = getenv("CPU_DIFF_CASE");
	const char *native_path = getenv("CPU_DIFF_NATIVE");
	static struct diff_case c;
	static struct diff_reply nat, emu;
	static struct flat_host host;
	static struct cpu cpu;
	struct native native;
	char why[256], other[160];
	unsigned failed_forms = 0, total_cases = 0, ran_forms = 0;
	bool only_exact = false;

	signal(SIGPIPE, SIG_IGN);
	if (!native_path)
		native_path = "build/tests/native/diffrun";
	build_forms();
	if (!native_start(&native, native_path, why, sizeof why)) {
		printf("FAIL diff native runner: %s\n", why);
		return 1;
	}
	/* CPU_DIFF_ONLY names one form exactly when it can, else it is a substring. */
	for (unsigned fi = 0; only && fi < nforms; fi++)
		if (strcmp(forms[fi].name, only) == 0)
			only_exact = true;
	cpu_init(&cpu, &flat_ops, &host);
	cpu.gdt = flat_gdt;
	cpu.gdt_entries = sizeof flat_gdt / sizeof flat_gdt[0];

	for (unsigned fi = 0; fi < nforms; fi++) {
		const struct diff_form *f = &forms[fi];
		unsigned failures = 0, first = 0, last = ncases;
		uint32_t masked_flags = 0;
		bool masked_regs = false;
		if (only && *only && (only_exact ? strcmp(f->name, only) != 0 : !strstr(f->name, only)))
			continue;
		if (one_case && *one_case) {
			first = (unsigned)strtoul(one_case, NULL, 0);
			last = first + 1;
		}
		ran_forms++;
		for (unsigned i = first; i < last; i++) {
			struct msg m = { .len = 0 };
			generate_case(&c, f, seed, i);
			if (!native_run(&native, &c, &nat)) {
				printf("FAIL diff %s: the native runner died on case %u (seed 0x%" PRIx64 ")\n", f->name, i,
				       seed);
				cpu_destroy(&cpu);
				free(forms);
				return 1;
			}
			interp_run(&cpu, &host, &c, &emu, other, sizeof other);
			total_cases++;
			masked_flags |= c.undefined_flags;
			masked_regs |= c.undefined_regs != 0;
			if (compare(&c, &nat, &emu, other, &m))
				continue;
			if (++failures <= MAX_FAIL_DETAILS) {
				struct msg in = { .len = 0 };
				say_inputs(&in, &c);
				printf("FAIL diff %s: case %u (replay: CPU_DIFF_SEED=0x%" PRIx64
				       " CPU_DIFF_ONLY='%s' CPU_DIFF_CASE=%u): %s: %s\n",
				       f->name, i, seed, f->name, i, m.text + (m.text[0] == ';' ? 2 : 0), in.text);
			}
		}
		if (failures == 0) {
			struct msg note = { .len = 0 };
			if (masked_flags || masked_regs) {
				say(&note, "; undefined per SDM, masked where they apply: flags ");
				say_flags(&note, masked_flags);
				if (masked_regs)
					say(&note, ", destination register");
			}
			printf("PASS diff %s (%u cases%s)\n", f->name, last - first, note.text);
		} else {
			failed_forms++;
			if (failures > MAX_FAIL_DETAILS)
				printf("FAIL diff %s: %u of %u cases differ (first %u shown)\n", f->name, failures,
				       last - first, MAX_FAIL_DETAILS);
		}
		fflush(stdout);
	}
	if (ran_forms == 0) {
		printf("FAIL diff: CPU_DIFF_ONLY='%s' names no instruction form\n", only ? only : "");
		failed_forms++;
	}
	printf("cpu_diff: %u forms, %u cases, seed 0x%" PRIx64 ", %u form(s) failed\n", ran_forms, total_cases, seed,
	       failed_forms);
	native_stop(&native);
	cpu_destroy(&cpu);
	free(forms);
	return failed_forms ? 1 : 0;
}
