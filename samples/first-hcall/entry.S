/*
 * Entry for stage 2.  lguest starts us with esp = 0, so before any `call`
 * we must point esp at a stack of our own: a push at esp = 0 would land at
 * 0xfffffffc, the top of the address space, which belongs to the host.
 */
	.section .text.entry, "ax"
	.globl start
start:
	movl $boot_stack_top, %esp
	call guest_main
	/* guest_main powers the guest off; it never returns. */
1:	jmp 1b

	.section .bss
	.balign 16
boot_stack:
	.skip 4096
boot_stack_top:
