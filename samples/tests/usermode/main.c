/*
 * Ring 3 (addendum §A6.1, §A6.2, §A6.3, §A3.3, §A7): SET_STACK, iret to
 * user segments 0x73/0x7b, a direct system call on the SET_STACK stack,
 * reflected user faults with the user bit in the error code.
 * Each user snippet ends with `int $3` through a DPL-3 trap gate whose
 * handler, back_to_kernel, returns from enter_user().
 */
#include "../common.h"

#define PAGE 4096

TRAP_STUB(sys_stub, 0x80, 0);
TRAP_STUB(pf_stub, 14, 1);
TRAP_STUB(gp_stub, 13, 1);

static u32 pgdir[1024] __attribute__((aligned(PAGE)));
static u32 pt0[1024] __attribute__((aligned(PAGE)));
u8 kernel_stack[PAGE] __attribute__((aligned(PAGE)));
u8 user_stack[PAGE] __attribute__((aligned(PAGE)));
u32 kernel_page[1024] __attribute__((aligned(PAGE)));
u32 kernel_esp_saved;

void enter_user(void (*entry)(void), u32 user_esp);
void back_to_kernel(void);
void user_syscall(void), user_fault_unmapped(void), user_fault_supervisor(void);
void user_int40(void), user_in(void), user_int1f(void), user_cli(void);

/* enter_user(entry, esp): iret to ring 3 at entry; back_to_kernel (the
 * int $3 handler) unwinds to our caller. */
asm(".text\n"
    "enter_user:\n"
    "	pushl %ebp\n	pushl %ebx\n	pushl %esi\n	pushl %edi\n"
    "	movl %esp, kernel_esp_saved\n"
    "	movl 20(%esp), %eax\n"
    "	movl 24(%esp), %ecx\n"
    "	pushl $0x7b\n	pushl %ecx\n	pushl $0x202\n	pushl $0x73\n	pushl %eax\n"
    "	iret\n"
    "back_to_kernel:\n"
    "	movl $0x69, %eax\n	movw %ax, %ds\n	movw %ax, %es\n"
    "	movl kernel_esp_saved, %esp\n"
    "	popl %edi\n	popl %esi\n	popl %ebx\n	popl %ebp\n"
    "	ret\n");

/* The user snippets.  USER_SNIPPET(name, body): load user data segments,
 * run body with trap_resume pointing after it, return to the kernel. */
#define USER_SNIPPET(name, body)                                   \
	asm(".text\n" #name ":\n"                                  \
	    "	movl $0x7b, %eax\n	movw %ax, %ds\n	movw %ax, %es\n" \
	    "	movl $1f, trap_resume\n"                           \
	    ".globl " #name "_at\n" #name "_at:\n"                 \
	    "	" body "\n"                                        \
	    "1:	movl $0, trap_resume\n"                            \
	    "	.byte 0xcd, 0x03\n")

USER_SNIPPET(user_syscall, "int $0x80");
USER_SNIPPET(user_fault_unmapped, "movl 0x800000, %eax");
USER_SNIPPET(user_fault_supervisor, "movl kernel_page, %eax");
USER_SNIPPET(user_int40, "int $0x40");
USER_SNIPPET(user_in, "inb $0x60, %al");
USER_SNIPPET(user_int1f, "int $0x1f");
USER_SNIPPET(user_cli, "cli");

#define LABEL_ADDRESS(name) ({ extern char name[]; (u32)name; })
#define USER_ESP ((u32)user_stack + PAGE)
#define KERNEL_ESP ((u32)kernel_stack + PAGE)

/* Run one snippet; returns how many traps other than the final int $3
 * reached our stubs. */
static u32 run_user(void (*snippet)(void))
{
	u32 before = trap_rec.count;
	enter_user(snippet, USER_ESP);
	return trap_rec.count - before;
}

/* The frame checks shared by every fault from ring 3 (§A6.2 step 1). */
static void check_user_frame(const char *what, u32 error_code_pushed)
{
	check_detail(what, ": frame cs", trap_rec.cs, 0x73);
	check_detail(what, ": frame ss", trap_rec.outer_ss, 0x7b);
	check_detail(what, ": frame esp", trap_rec.outer_esp, USER_ESP);
	check_detail(what, ": on the SET_STACK stack", trap_rec.entry_esp,
	             KERNEL_ESP - 20 - (error_code_pushed ? 4 : 0));
}

void guest_main(void)
{
	guest_init();
	for (u32 i = 0; i < 1024; i++)
		pt0[i] = (i << 12) | 0x7;
	pt0[(u32)kernel_page >> 12] = (u32)kernel_page | 0x3;
	pgdir[0] = (u32)pt0 | 0x7;
	hcall(LHCALL_NEW_PGTABLE, (u32)pgdir, 0, 0, 0);
	hcall(LHCALL_SET_STACK, 0x69, KERNEL_ESP, 1, 0);
	hcall(LHCALL_LOAD_GDT_ENTRY, 14, seg_lo_flat(), seg_hi_flat(0xA, 3), 0);
	hcall(LHCALL_LOAD_GDT_ENTRY, 15, seg_lo_flat(), seg_hi_flat(0x2, 3), 0);
	set_gate(3, back_to_kernel, GATE_TRAP, 3);
	set_gate(13, gp_stub, GATE_INTERRUPT, 0);
	set_gate(14, pf_stub, GATE_INTERRUPT, 0);
	set_gate(0x80, sys_stub, GATE_TRAP, 3);

	/* §A6.1: 0x80 behind a DPL-3 trap gate goes direct, on ss1:esp1
	 * (§A6.4), with the eip after the int. */
	check("int $0x80 from ring 3", run_user(user_syscall), 1);
	check("syscall vector", trap_rec.vector, 0x80);
	check("syscall frame eip after the int", trap_rec.eip, LABEL_ADDRESS(user_syscall_at) + 2);
	check_user_frame("syscall", 0);

	/* §A3.3: a user read under a non-present PDE: error code 4 (U). */
	kernel_page[0] = 1;
	check("user read of unmapped page", run_user(user_fault_unmapped), 1);
	check("unmapped: vector", trap_rec.vector, 14);
	check("unmapped: error code", trap_rec.err, 4);
	check("unmapped: cr2", lg_data.cr2, 0x800000);
	check("unmapped: eip", trap_rec.eip, LABEL_ADDRESS(user_fault_unmapped_at));
	check_user_frame("unmapped", 1);

	/* §A3.3 step 4: a user read of a page without USER, already in the
	 * shadow from the kernel's own access: error code 5 (P|U). */
	check("user read of supervisor page", run_user(user_fault_supervisor), 1);
	check("supervisor page: error code", trap_rec.err, 5);
	check("supervisor page: cr2", lg_data.cr2, (u32)kernel_page);

	/* §A6.3: int $0x40 from ring 3 is #GP(0x202); int $0x1f is
	 * #GP(0xfa). */
	check("user int $0x40", run_user(user_int40), 1);
	check("user int $0x40 error code", trap_rec.err, 0x202);
	check_user_frame("user int $0x40", 1);
	check("user int $0x1f", run_user(user_int1f), 1);
	check("user int $0x1f error code", trap_rec.err, 0xfa);
	/* §A7: in/out and cli at CPL 3 are not emulated: #GP(0). */
	check("user in", run_user(user_in), 1);
	check("user in: #GP(0)", trap_rec.err, 0);
	check("user in: eip", trap_rec.eip, LABEL_ADDRESS(user_in_at));
	check("user cli", run_user(user_cli), 1);
	check("user cli: #GP(0)", trap_rec.err, 0);

	/* §A6.1: a system call behind an interrupt gate exits to the host
	 * as a "host interrupt" and is silently lost. */
	set_gate(0x80, sys_stub, GATE_INTERRUPT, 3);
	check("syscall behind an interrupt gate is lost", run_user(user_syscall), 0);
	finish();
}
