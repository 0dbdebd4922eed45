/*
 * Shared scaffolding for the launcher test guests (samples/tests/<name>/).
 *
 * Each test guest is one .c file that includes this header once and
 * defines guest_main().  The header provides:
 *  - the entry point `start`, which saves every register the launcher
 *    handed over (boot_regs), sets up a stack (the launcher starts us with
 *    esp = 0) and calls guest_main;
 *  - lg_data, the guest's lguest_data, and guest_init() for LGUEST_INIT;
 *  - a reporting convention: check() prints "ok <what>\n" or
 *    "not ok <what>: got 0x.. want 0x..\n" through NOTIFY, and finish()
 *    powers off with "done" (exit 0, stderr "lguest: CRASH: done");
 *  - gate and segment descriptor encoders, and trap handler stubs that
 *    record the frame the host pushed (trap_rec) and resume at trap_resume.
 * The tests/NAME.test scripts compare the whole stdout, so a failed check shows
 * up there with the value the guest actually saw.
 */
#ifndef SAMPLES_TESTS_COMMON_H
#define SAMPLES_TESTS_COMMON_H

#include "lguest.h"

#define STACK_SIZE 16384

/* Registers exactly as the launcher started us (addendum §A10). */
struct boot_regs {
	u32 eax, ebx, ecx, edx, esi, edi, ebp, esp, eflags;
	u32 cs, ds, es, ss, fs, gs;
};

struct boot_regs boot_regs;
u8 guest_stack[STACK_SIZE] __attribute__((aligned(4096)));
struct lguest_data lg_data __attribute__((aligned(4096)));

void guest_main(void);

/* The entry point.  Nothing may touch the stack before esp is loaded, and
 * mov does not change EFLAGS, so pushf still sees the launcher's value. */
asm(".pushsection .text.entry,\"ax\"\n"
    ".globl start\n"
    "start:\n"
    "	movl %eax, boot_regs+0\n"
    "	movl %ebx, boot_regs+4\n"
    "	movl %ecx, boot_regs+8\n"
    "	movl %edx, boot_regs+12\n"
    "	movl %esi, boot_regs+16\n"
    "	movl %edi, boot_regs+20\n"
    "	movl %ebp, boot_regs+24\n"
    "	movl %esp, boot_regs+28\n"
    "	movl $guest_stack+" "16384" ", %esp\n"
    "	pushfl\n"
    "	popl boot_regs+32\n"
    "	movw %cs, boot_regs+36\n"
    "	movw %ds, boot_regs+40\n"
    "	movw %es, boot_regs+44\n"
    "	movw %ss, boot_regs+48\n"
    "	movw %fs, boot_regs+52\n"
    "	movw %gs, boot_regs+56\n"
    "	call guest_main\n"
    "1:	jmp 1b\n"
    ".popsection\n");
_Static_assert(STACK_SIZE == 16384, "the entry code hard-codes the stack size");

/* LGUEST_INIT with lguest_data prepared as Linux does. */
static inline void guest_init(void)
{
	lguest_data_prepare(&lg_data);
	hcall(LHCALL_LGUEST_INIT, (u32)&lg_data, 0, 0, 0);
}

/* ---- Reporting: one line at a time, sent with NOTIFY. ---- */

static char out_line[160];
static u32 out_len;
static u32 checks_failed;

static inline void out_str(const char *s)
{
	while (*s && out_len < sizeof(out_line) - 2)
		out_line[out_len++] = *s++;
}

/* Hex as the kernel's %#x prints it: 0x0 for zero, lower case. */
static inline void out_hex(u32 v)
{
	char digits[9];
	int n = 0;
	do {
		digits[n++] = "0123456789abcdef"[v & 15];
		v >>= 4;
	} while (v);
	out_str("0x");
	while (n)
		out_line[out_len < sizeof(out_line) - 2 ? out_len++ : out_len] = digits[--n];
}

/* End the line and send it to the console. */
static inline void out_end(void)
{
	out_line[out_len++] = '\n';
	out_line[out_len] = 0;
	early_puts(out_line);
	out_len = 0;
}

/* Print a whole line: "<text>\n". */
static inline void say(const char *text)
{
	out_str(text);
	out_end();
}

/* Print "<what> 0x<value>\n": for values the test script compares. */
static inline void say_hex(const char *what, u32 value)
{
	out_str(what);
	out_str(" ");
	out_hex(value);
	out_end();
}

/* One check: "ok <what><detail>" or "not ok <what><detail>: got .. want ..". */
static inline void check_detail(const char *what, const char *detail, u32 got, u32 want)
{
	if (got == want) {
		out_str("ok ");
	} else {
		checks_failed++;
		out_str("not ok ");
	}
	out_str(what);
	out_str(detail);
	if (got != want) {
		out_str(": got ");
		out_hex(got);
		out_str(" want ");
		out_hex(want);
	}
	out_end();
}

/* One check: "ok <what>" or "not ok <what>: got .. want ..". */
static inline void check(const char *what, u32 got, u32 want)
{
	check_detail(what, "", got, want);
}

/* Power off; the message says whether every check passed. */
static inline __attribute__((noreturn)) void finish(void)
{
	power_off(checks_failed ? "checks failed" : "done");
}

/* ---- Descriptors ---- */

#define GATE_INTERRUPT 0xE
#define GATE_TRAP 0xF

/* The two words of a present gate to handler, as LOAD_IDT_ENTRY takes
 * them (selector 0x60, as Linux passes __KERNEL_CS; the host forces 0x61
 * anyway, addendum §A2.2). */
static inline u32 gate_lo(void (*handler)(void))
{
	return (0x60u << 16) | ((u32)handler & 0xffff);
}

static inline u32 gate_hi(void (*handler)(void), u32 type, u32 dpl)
{
	return ((u32)handler & 0xffff0000u) | 0x8000u | (dpl << 13) | (type << 8);
}

/* LOAD_IDT_ENTRY for a present gate to handler. */
static inline void set_gate(u32 vector, void (*handler)(void), u32 type, u32 dpl)
{
	hcall(LHCALL_LOAD_IDT_ENTRY, vector, gate_lo(handler), gate_hi(handler, type, dpl), 0);
}

/* Put one call in the async ring (addendum §A2.3): arguments first, then
 * the status byte that hands the entry to the host. */
static inline void queue_async(u32 slot, u32 call, u32 a1, u32 a2, u32 a3)
{
	lg_data.hcalls[slot] = (struct hcall_args){call, a1, a2, a3, 0};
	asm volatile("" ::: "memory");
	lg_data.hcall_status[slot] = 0;
}

/* The two words of a flat 4 GB segment descriptor: type is the 4-bit
 * type field (0xA code, 0x2 data, without the accessed bit). */
static inline u32 seg_lo_flat(void)
{
	return 0x0000ffffu;
}

static inline u32 seg_hi_flat(u32 type, u32 dpl)
{
	return 0x00cf0000u | 0x8000u | (dpl << 13) | 0x1000u | (type << 8);
}

/* ---- Trap stubs ---- */

/* What the last trap stub saw.  Offsets are used by the asm below. */
struct trap_record {
	u32 vector;       /* 0 */
	u32 err;          /* 4: 0xffffffff when the vector pushes none */
	u32 eip;          /* 8 */
	u32 cs;           /* 12 */
	u32 eflags;       /* 16 */
	u32 outer_esp;    /* 20: only meaningful for a trap from ring 3 */
	u32 outer_ss;     /* 24: likewise */
	u32 entry_esp;    /* 28: esp at the first instruction of the stub */
	u32 irq_enabled;  /* 32: lg_data.irq_enabled at the stub's entry */
	u32 count;        /* 36 */
};
volatile struct trap_record trap_rec;
/* Where the stub makes the guest resume (0: return where the frame says).
 * One-shot: the stub clears it. */
volatile u32 trap_resume;

/* trap_stub NAME VECTOR HAS_ERROR: record the frame, pop the error code,
 * redirect to trap_resume if set, iret.  Only memory and flags change. */
asm(".macro trap_stub name, vector, err\n"
    ".pushsection .text\n"
    ".globl \\name\n"
    "\\name:\n"
    "	movl %esp, trap_rec+28\n"
    "	pushl %eax\n"
    "	movl lg_data, %eax\n"
    "	movl %eax, trap_rec+32\n"
    "	movl $\\vector, trap_rec+0\n"
    "	.if \\err\n"
    "	popl %eax\n"
    "	xchgl %eax, (%esp)\n"
    "	movl %eax, trap_rec+4\n"
    "	popl %eax\n"
    "	.else\n"
    "	movl $0xffffffff, trap_rec+4\n"
    "	popl %eax\n"
    "	.endif\n"
    "	pushl %eax\n"
    "	movl 4(%esp), %eax\n"
    "	movl %eax, trap_rec+8\n"
    "	movl 8(%esp), %eax\n"
    "	movl %eax, trap_rec+12\n"
    "	movl 12(%esp), %eax\n"
    "	movl %eax, trap_rec+16\n"
    "	movl 16(%esp), %eax\n"
    "	movl %eax, trap_rec+20\n"
    "	movl 20(%esp), %eax\n"
    "	movl %eax, trap_rec+24\n"
    "	movl trap_resume, %eax\n"
    "	testl %eax, %eax\n"
    "	jz 1f\n"
    "	movl %eax, 4(%esp)\n"
    "	movl $0, trap_resume\n"
    "1:	incl trap_rec+36\n"
    "	popl %eax\n"
    "	iret\n"
    ".popsection\n"
    ".endm\n");

/* Declare and emit a stub: TRAP_STUB(de_stub, 0, 0). */
#define TRAP_STUB(name, vector, has_error) \
	void name(void);                   \
	asm("trap_stub " #name ", " #vector ", " #has_error)

/* Run `insn` (an asm string) with trap_resume set to just after it, so a
 * faulting instruction is skipped by the stub. */
#define RUN_FAULTING(insn, ...) \
	asm volatile("movl $1f, trap_resume\n\t" insn "\n1:" __VA_ARGS__)

/* Divide by zero (#DE, vector 0), resuming after the divl. */
static inline void divide_by_zero(void)
{
	RUN_FAULTING("divl %%ecx", : : "a"(1), "d"(0), "c"(0) : "memory");
}

#endif
