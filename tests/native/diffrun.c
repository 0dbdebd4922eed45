/*
 * diffrun: the native half of the CPU differential test.
 *
 * tests/unit/cpu_diff.c generates small instruction snippets and runs each
 * one twice: in our interpreter, and here, on the real processor, in this
 * 32-bit process.  It writes a struct diff_request to our stdin; we load
 * the registers, flags and memory windows it describes, jump into the
 * snippet, and write back a struct diff_reply with what the processor left
 * behind.  A snippet that faults (divide by zero, a privileged instruction,
 * an unmapped address) arrives here as a signal; the signal's saved context
 * is exactly the state the exception saw, so we report that.
 *
 * The snippet runs with every general register under its control, esp
 * included, so it cannot use our stack.  A tiny assembly trampoline keeps
 * what it needs in a control page at a fixed address, loads the snippet's
 * registers, and jumps to it; the snippet ends with a jump back to the
 * trampoline's return half, which saves the registers and flags before
 * touching anything.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

#include "../unit/cpu_diff_proto.h"

/* The control page the trampoline uses (fixed, so the assembly needs no relocations). */
#define CTRL_BASE 0x0f000000
#define CTRL_STACK_TOP 0x0f001000 /* popfl and pushfl use the top of the control page */
#define CTRL_IN_REGS 0     /* 8 registers to load */
#define CTRL_IN_EFLAGS 32  /* flags to load */
#define CTRL_OUT_REGS 36   /* 8 registers saved after the snippet */
#define CTRL_OUT_EFLAGS 68 /* flags saved after the snippet */
#define CTRL_HOST_ESP 72   /* our own stack pointer while the snippet runs */
#define CTRL_ENTRY 76      /* the snippet's address, for an indirect jump */

#define STR_(x) #x
#define STR(x) STR_(x)

/*
 * diff_enter(): save our callee-saved registers and stack pointer, load the
 * snippet's flags (popfl needs a stack: the top of the control page) and
 * registers, and jump to the snippet.  diff_return: where the snippet's
 * closing jump lands; it saves esp first, then flags, then the rest, and
 * returns from diff_enter() as if it were an ordinary call.
 */
void diff_enter(void);
void diff_return(void);
__asm__(".text\n"
        ".globl diff_enter\n"
        ".type diff_enter, @function\n"
        "diff_enter:\n"
        "	pushl %ebp\n"
        "	pushl %ebx\n"
        "	pushl %esi\n"
        "	pushl %edi\n"
        "	movl %esp, " STR(CTRL_BASE + CTRL_HOST_ESP) "\n"
        "	movl $" STR(CTRL_STACK_TOP) ", %esp\n"
        "	pushl " STR(CTRL_BASE + CTRL_IN_EFLAGS) "\n"
        "	popfl\n"
        "	movl " STR(CTRL_BASE + CTRL_IN_REGS + 0) ", %eax\n"
        "	movl " STR(CTRL_BASE + CTRL_IN_REGS + 4) ", %ecx\n"
        "	movl " STR(CTRL_BASE + CTRL_IN_REGS + 8) ", %edx\n"
        "	movl " STR(CTRL_BASE + CTRL_IN_REGS + 12) ", %ebx\n"
        "	movl " STR(CTRL_BASE + CTRL_IN_REGS + 20) ", %ebp\n"
        "	movl " STR(CTRL_BASE + CTRL_IN_REGS + 24) ", %esi\n"
        "	movl " STR(CTRL_BASE + CTRL_IN_REGS + 28) ", %edi\n"
        "	movl " STR(CTRL_BASE + CTRL_IN_REGS + 16) ", %esp\n"
        "	jmp *" STR(CTRL_BASE + CTRL_ENTRY) "\n"
        ".globl diff_return\n"
        ".type diff_return, @function\n"
        "diff_return:\n"
        "	movl %esp, " STR(CTRL_BASE + CTRL_OUT_REGS + 16) "\n"
        "	movl $" STR(CTRL_STACK_TOP) ", %esp\n"
        "	pushfl\n"
        "	popl " STR(CTRL_BASE + CTRL_OUT_EFLAGS) "\n"
        "	cld\n"
        "	movl %eax, " STR(CTRL_BASE + CTRL_OUT_REGS + 0) "\n"
        "	movl %ecx, " STR(CTRL_BASE + CTRL_OUT_REGS + 4) "\n"
        "	movl %edx, " STR(CTRL_BASE + CTRL_OUT_REGS + 8) "\n"
        "	movl %ebx, " STR(CTRL_BASE + CTRL_OUT_REGS + 12) "\n"
        "	movl %ebp, " STR(CTRL_BASE + CTRL_OUT_REGS + 20) "\n"
        "	movl %esi, " STR(CTRL_BASE + CTRL_OUT_REGS + 24) "\n"
        "	movl %edi, " STR(CTRL_BASE + CTRL_OUT_REGS + 28) "\n"
        "	movl " STR(CTRL_BASE + CTRL_HOST_ESP) ", %esp\n"
        "	popl %edi\n"
        "	popl %esi\n"
        "	popl %ebx\n"
        "	popl %ebp\n"
        "	ret\n");

/* The control page viewed from C. */
static volatile uint32_t *const ctrl = (volatile uint32_t *)CTRL_BASE;

static sigjmp_buf fault_return;
static volatile sig_atomic_t snippet_running;
static struct diff_reply reply;

/* Seconds a snippet may run before we call it a hang. */
#define SNIPPET_TIMEOUT 2

/*
 * A signal while the snippet runs is the processor reporting an exception:
 * record the state it saved and abandon the snippet.  Any other signal of
 * these kinds is a bug in diffrun itself, so we die of it.
 */
static void on_fault(int sig, siginfo_t *info, void *context)
{
	const ucontext_t *uc = context;
	const greg_t *g = uc->uc_mcontext.gregs;

	if (!snippet_running) {
		signal(sig, SIG_DFL);
		raise(sig);
		return;
	}
	snippet_running = 0;
	if (sig == SIGALRM) {
		reply.outcome = DIFF_TIMEOUT;
	} else {
		reply.outcome = DIFF_FAULT;
		reply.vector = (uint32_t)g[REG_TRAPNO];
		reply.error = (uint32_t)g[REG_ERR];
		reply.fault_addr = (uint32_t)(uintptr_t)info->si_addr;
	}
	reply.eip = (uint32_t)g[REG_EIP];
	reply.eflags = (uint32_t)g[REG_EFL];
	reply.regs[0] = (uint32_t)g[REG_EAX];
	reply.regs[1] = (uint32_t)g[REG_ECX];
	reply.regs[2] = (uint32_t)g[REG_EDX];
	reply.regs[3] = (uint32_t)g[REG_EBX];
	reply.regs[4] = (uint32_t)g[REG_UESP];
	reply.regs[5] = (uint32_t)g[REG_EBP];
	reply.regs[6] = (uint32_t)g[REG_ESI];
	reply.regs[7] = (uint32_t)g[REG_EDI];
	siglongjmp(fault_return, 1);
}

/* Map one window at its fixed address, refusing to replace anything already there. */
static void *map_window(uint32_t base, int prot)
{
	void *p = mmap((void *)(uintptr_t)base, DIFF_PAGE, prot,
	               MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (p == MAP_FAILED || p != (void *)(uintptr_t)base) {
		fprintf(stderr, "diffrun: cannot map 0x%08x: %s\n", base, strerror(errno));
		exit(2);
	}
	return p;
}

/* Install the fault handlers on their own stack (the snippet's esp may be anything). */
static void install_handlers(void)
{
	static uint8_t altstack[64 * 1024];
	stack_t ss = { .ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0 };
	struct sigaction sa;
	const int sigs[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGALRM };

	if (sigaltstack(&ss, NULL) != 0) {
		perror("diffrun: sigaltstack");
		exit(2);
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_fault;
	sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		sigaction(sigs[i], &sa, NULL);
}

/* Read exactly `len` bytes; false at a clean end of input. */
static int read_full(void *buf, size_t len)
{
	uint8_t *p = buf;
	while (len > 0) {
		ssize_t n = read(0, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return 0;
		p += n;
		len -= (size_t)n;
	}
	return 1;
}

/* Write all of `buf`, or die (the test went away). */
static void write_full(const void *buf, size_t len)
{
	const uint8_t *p = buf;
	while (len > 0) {
		ssize_t n = write(1, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			exit(3);
		p += n;
		len -= (size_t)n;
	}
}

/*
 * Run one request: copy the snippet into the code window followed by a
 * jump to diff_return (the interpreter's copy ends in int3 instead), load
 * the windows, and run it under the fault handlers.
 */
static void run_request(const struct diff_request *rq, uint8_t *code, uint8_t *data, uint8_t *stack)
{
	uint32_t len = rq->code_len > DIFF_CODE_MAX ? DIFF_CODE_MAX : rq->code_len;
	uint32_t jump_from = DIFF_CODE_BASE + len + 5;
	uint32_t rel = (uint32_t)(uintptr_t)diff_return - jump_from;

	memset(code, 0xcc, DIFF_PAGE);
	memcpy(code, rq->code, len);
	code[len] = 0xe9;
	memcpy(code + len + 1, &rel, 4);
	memcpy(data, rq->data, DIFF_PAGE);
	memcpy(stack, rq->stack, DIFF_PAGE);

	memset(&reply, 0, sizeof reply);
	reply.magic = DIFF_MAGIC;
	for (int i = 0; i < 8; i++)
		ctrl[CTRL_IN_REGS / 4 + i] = rq->regs[i];
	/* Only the arithmetic flags and DF come from the request; IF stays set. */
	ctrl[CTRL_IN_EFLAGS / 4] = 0x202u | (rq->eflags & 0xcd5u);
	ctrl[CTRL_ENTRY / 4] = DIFF_CODE_BASE;

	if (sigsetjmp(fault_return, 1) == 0) {
		snippet_running = 1;
		alarm(SNIPPET_TIMEOUT);
		diff_enter();
		snippet_running = 0;
		alarm(0);
		reply.outcome = DIFF_DONE;
		reply.eip = DIFF_CODE_BASE + len;
		for (int i = 0; i < 8; i++)
			reply.regs[i] = ctrl[CTRL_OUT_REGS / 4 + i];
		reply.eflags = ctrl[CTRL_OUT_EFLAGS / 4];
	} else {
		alarm(0);
	}
	memcpy(reply.data, data, DIFF_PAGE);
	memcpy(reply.stack, stack, DIFF_PAGE);
}

int main(void)
{
	static struct diff_request rq;
	struct diff_hello hello = { DIFF_MAGIC, DIFF_VERSION, sizeof(struct diff_request),
	                            sizeof(struct diff_reply) };
	uint8_t *code = map_window(DIFF_CODE_BASE, PROT_READ | PROT_WRITE | PROT_EXEC);
	uint8_t *data = map_window(DIFF_DATA_BASE, PROT_READ | PROT_WRITE);
	uint8_t *stack = map_window(DIFF_STACK_BASE, PROT_READ | PROT_WRITE);

	map_window(CTRL_BASE, PROT_READ | PROT_WRITE);
	install_handlers();
	write_full(&hello, sizeof hello);
	while (read_full(&rq, sizeof rq)) {
		if (rq.magic != DIFF_MAGIC) {
			fprintf(stderr, "diffrun: bad request magic 0x%08x\n", rq.magic);
			return 2;
		}
		run_request(&rq, code, data, stack);
		write_full(&reply, sizeof reply);
	}
	return 0;
}
