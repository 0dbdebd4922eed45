/*
 * The mini kernel's assembly: what must not be C.
 *
 *  - start: the entry point, at a *physical* address (the ELF entry is
 *    phys_start).  lguest gives us esp = 0, so we record the entry state,
 *    take a stack at a physical address, clear BSS, and run the boot phase
 *    (boot.c) in linear mode.  It returns after NEW_PGTABLE, and we jump to
 *    kernel_main at its linked, high virtual address with a high stack.
 *  - trap_vectors: one 16-byte stub per vector (0-255) that pushes the
 *    vector (and a 0 where the CPU pushes no error code), then
 *    trap_common, which saves registers and calls trap_dispatch (traps.c).
 *  - lguest_iret: Linux's way back from every trap.  The frame's EFLAGS is
 *    stored into lguest_data.irq_enabled right before the iret; the host
 *    never delivers an interrupt between those two instructions because
 *    they lie in the noirq window we declared at LGUEST_INIT (§A5.4).
 *  - lg_restore_fl_asm, safe_halt: the irq-flag paths with labels the
 *    checks look for in interrupt frames.
 *  - enter_user/leave_user: drop to ring 3, and come back on SYS_EXIT.
 */
#define PAGE_OFFSET 0xC0000000
#define pa(x) ((x) - PAGE_OFFSET)
#define KERNEL_DS 0x69
#define USER_CS 0x73
#define USER_DS 0x7b
#define LD_IRQ_ENABLED 0
#define LD_IRQ_PENDING 20
#define LHCALL_HALT 10
#define LHCALL_SEND_INTERRUPTS 19

	.section .text.entry, "ax"
	.globl start
start:
	/* Record what lguest handed over (addendum §A10) before touching it. */
	movl %esp, pa(boot_report + 0)
	movl %esi, pa(boot_report + 4)
	movl $pa(boot_stack_top), %esp
	pushfl
	popl pa(boot_report + 8)
	movw %cs, pa(boot_report + 12)
	movw %ss, pa(boot_report + 16)
	/* Clear BSS at its physical address, as head_32.S does. */
	cld
	xorl %eax, %eax
	movl $pa(__bss_start), %edi
	movl $__bss_stop, %ecx
	subl $__bss_start, %ecx
	shrl $2, %ecx
	rep stosl
	call boot_physical
	/* Paging is on: continue at the high virtual addresses. */
	movl $kernel_stack_top, %esp
	movl $kernel_main, %eax
	jmp *%eax

/* ---- Traps: 256 stubs, then the common path ---- */

	.text
	.balign 16
	.globl trap_vectors
trap_vectors:
	vector = 0
	.rept 256
	.balign 16
	.if vector == 8 || (vector >= 10 && vector <= 14) || vector == 17
	.else
	pushl $0
	.endif
	pushl $vector
	jmp trap_common
	vector = vector + 1
	.endr

/* Save the registers as struct trap_frame and call trap_dispatch(frame). */
trap_common:
	pushl %gs
	pushl %fs
	pushl %es
	pushl %ds
	pushal
	movl $KERNEL_DS, %eax
	movl %eax, %ds
	movl %eax, %es
	pushl %esp
	call trap_dispatch
	addl $4, %esp
	popal
	popl %ds
	popl %es
	popl %fs
	popl %gs
	addl $8, %esp		/* vector and error code */
	/* fall through */

/*
 * lguest_iret: return from a trap.  irq_enabled takes the frame's EFLAGS
 * inside the noirq window, through %ss because %ds may already be the
 * user's.
 */
	.globl lguest_iret, lguest_noirq_start, lguest_noirq_end
lguest_iret:
	pushl %eax
	movl 12(%esp), %eax
lguest_noirq_start:
	movl %eax, %ss:lguest_data + LD_IRQ_ENABLED
	popl %eax
	iret
lguest_noirq_end:

/*
 * lg_restore_fl_asm: local_irq_restore(flags in eax).  When the flags
 * re-enable interrupts and the host has marked one pending while they
 * were off, ask for it with SEND_INTERRUPTS (§A5.4).
 */
	.globl lg_restore_fl_asm, send_interrupts_return
lg_restore_fl_asm:
	movl %eax, lguest_data + LD_IRQ_ENABLED
	testl lguest_data + LD_IRQ_PENDING, %eax
	jnz 1f
	ret
1:	pushl %eax
	movl $LHCALL_SEND_INTERRUPTS, %eax
	int $0x1f
send_interrupts_return:
	popl %eax
	ret

/* safe_halt: HALT, called with irq_enabled = 0 like Linux's idle (§A5.5). */
	.globl safe_halt, halt_return
safe_halt:
	movl $LHCALL_HALT, %eax
	int $0x1f
halt_return:
	ret

/*
 * enter_user(eip, esp): iret to ring 3 and return here only when the user
 * program makes SYS_EXIT; the return value is its argument.  The kernel
 * context (callee-saved registers, esp) is kept in saved_kernel_esp.
 */
	.globl enter_user, leave_user
enter_user:
	pushl %ebp
	pushl %ebx
	pushl %esi
	pushl %edi
	movl %esp, saved_kernel_esp
	movl 20(%esp), %ecx
	movl 24(%esp), %edx
	movl $USER_DS, %eax
	movl %eax, %ds
	movl %eax, %es
	pushl $USER_DS
	pushl %edx
	pushl $0x202
	pushl $USER_CS
	pushl %ecx
	jmp lguest_iret

/* leave_user(value): abandon the syscall stack and return from enter_user. */
leave_user:
	movl 4(%esp), %eax
	movl saved_kernel_esp, %esp
	movl $KERNEL_DS, %ecx
	movl %ecx, %ds
	movl %ecx, %es
	xorl %ecx, %ecx
	movl %ecx, %gs
	popl %edi
	popl %esi
	popl %ebx
	popl %ebp
	ret

/* ---- Stacks ---- */

	/* The boot stack lives in .data: BSS is cleared while we stand on it. */
	.data
	.balign 4096
boot_stack:
	.skip 4096
boot_stack_top:

	.bss
	.balign 4096
	.globl kernel_stack, kernel_stack_top, syscall_stack, syscall_stack_top
kernel_stack:
	.skip 16384
kernel_stack_top:
	/* The stack SET_STACK names: ring 3 traps land here.  Two pages. */
syscall_stack:
	.skip 8192
syscall_stack_top:
saved_kernel_esp:
	.long 0
