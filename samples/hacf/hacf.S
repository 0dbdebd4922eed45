/*
 * Stage 1: Halt And Catch Fire.
 *
 * The smallest guest that proves the launcher can load a kernel and find
 * its first instruction: that instruction jumps to itself, forever.
 *
 * The 13 bytes "GenuineLguest" (no NUL) come first, as in the Plan 9
 * paper's l.s.  A 2.6.23 launcher searched the image for them and started
 * the guest at the byte right after them, so the loop had to follow the
 * signature immediately.  A 3.x launcher (the one we replay) starts at the
 * ELF entry point instead, so `start` is simply the address of _HACF and
 * the signature is only a souvenir.  Both rules land on the same byte.
 */
	.section .text.entry, "ax"

	.type lguest_signature, @object
lguest_signature:
	.ascii "GenuineLguest"
	.size lguest_signature, . - lguest_signature

	.globl start
	.globl _HACF
	.type _HACF, @function
start:
_HACF:
	jmp _HACF
	.size _HACF, . - _HACF
