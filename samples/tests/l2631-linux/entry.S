/*
 * The l2631-linux guest's entry, modelled on Linux 2.6.31's lguest_entry
 * (arch/x86/lguest/i386_head.S): at physical 0x100000, on the page tables
 * the host built, LGUEST_INIT is made with `vmcall`, which the 2.6.31 host
 * rewrites in place into `int $0x1f; nop` (lguest-abi.md §2.1, addendum
 * part B).  Then a stack at its high address and a jump to the high half.
 * The four bytes at the call site are kept before the call, so that the
 * C code can show the rewrite.
 */
#define PAGE_OFFSET 0xC0000000
#define PADDR(x) ((x) - PAGE_OFFSET)

	.section .text.entry, "ax"
	.globl start, init_vmcall
start:
	movl PADDR(init_vmcall), %eax
	movl %eax, PADDR(init_site_before)
	movl $1, %eax                   /* LHCALL_LGUEST_INIT */
	movl $PADDR(lgdata), %ebx
init_vmcall:
	.byte 0x0f, 0x01, 0xc1          /* vmcall */
	movl $(kernel_stack + 8192), %esp
	movl $l2631_main, %eax
	jmp *%eax

/* A window in which the host must not deliver interrupts (unused here,
 * but Linux declares one, so lguest_data names it). */
	.text
	.globl l2631_noirq_start, l2631_noirq_end
l2631_noirq_start:
	iret
l2631_noirq_end:
