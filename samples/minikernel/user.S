/*
 * The user program, linked at 0x08048000 (guest.ld's .user section) and
 * run at CPL 3 by step 9.  It talks to the kernel only with int $0x80:
 * eax = call number, ebx = argument.  Page 0 is code (mapped read-only),
 * page 1 is a data page the kernel maps writable but clean.
 */
#define SYS_WRITE 1
#define SYS_REPORT 2
#define SYS_EXIT 3
#define USER_TLS_SEL 0x33
#define USER_FAULT_ADDR 0x40000000

	.section .user, "awx"
	.globl user_start, user_msg, user_clean_page
user_start:
	/* A system call that prints. */
	movl $SYS_WRITE, %eax
	movl $user_msg, %ebx
	int $0x80
	/* Thread-local storage: the TLS entry through %gs. */
	movl $USER_TLS_SEL, %eax
	movl %eax, %gs
	movl %gs:0, %ebx
	movl $SYS_REPORT, %eax
	int $0x80
	/* A write to an unmapped page: the kernel maps one and we retry. */
	movl $0x600dcafe, USER_FAULT_ADDR
	movl USER_FAULT_ADDR, %ebx
	movl $SYS_REPORT, %eax
	int $0x80
	/* Read a clean page, then write it: the host sets DIRTY by itself. */
	movl user_clean_page, %ebx
	movl $0x5a5a5a5a, user_clean_page
	movl user_clean_page, %ebx
	movl $SYS_REPORT, %eax
	int $0x80
	movl $SYS_EXIT, %eax
	movl $0x600d, %ebx
	int $0x80
1:	jmp 1b

user_msg:
	.asciz "  ring 3: hello through int $0x80\n"

	.balign 4096
user_clean_page:
	.long 0x11111111
