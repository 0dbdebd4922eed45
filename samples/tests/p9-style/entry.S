/*
 * The p9-style guest's ELF header, its Plan 9 style symbol table, its
 * entry code and its system call entry (see guest.ld for the file layout).
 *
 * Entry, at physical 0x100000 on the page tables the 2.6.31 host built
 * (addendum part B): set a stack at a physical address, LGUEST_INIT with
 * the 1396-byte lguest_data (kernel_address left 0, syscall_vec 0x40),
 * only then set the async statuses to 0xFF, copy the page directory the
 * host reported in lguest_data.pgdir into our own, NEW_PGTABLE, and jump
 * to the high (0xC01xxxxx) addresses where p9_main runs.
 */
#define KZERO 0xC0000000
#define PADDR(x) ((x) - KZERO)
#define LD_HCALL_STATUS 24
#define LD_PGDIR 1376
#define LD_NOIRQ_START 1380
#define LD_NOIRQ_END 1384
#define LD_SYSCALL_VEC 1392

	.section .p9.header, "a"
	/* ELF header: i386 executable, entry at the physical address. */
	.byte 0x7f, 'E', 'L', 'F', 1, 1, 1, 0
	.fill 8, 1, 0
	.short 2, 3                     /* ET_EXEC, EM_386 */
	.long 1                         /* e_version */
	.long PADDR(start)              /* e_entry */
	.long 52                        /* e_phoff */
	.long 0                         /* e_shoff: no section headers, as 8l */
	.long 0                         /* e_flags */
	.short 52, 32, 3                /* e_ehsize, e_phentsize, e_phnum */
	.short 40, 0, 0                 /* e_shentsize, e_shnum, e_shstrndx */
	/* Text: PT_LOAD, R+X. */
	.long 1, p9_text_off, p9_text_vaddr, PADDR(p9_text_vaddr), p9_text_size, p9_text_size, 5, 0x1000
	/* Data and bss: PT_LOAD, R+W. */
	.long 1, p9_data_off, p9_data_vaddr, PADDR(p9_data_vaddr), p9_data_filesz, p9_data_memsz, 6, 0x1000
	/* The symbol table: type 0 (PT_NULL).  Its addresses are junk that
	 * would land on the text if a loader wrongly placed it. */
	.long 0, p9_syms_off, p9_text_vaddr, PADDR(p9_text_vaddr), p9_syms_size, p9_syms_size, 4, 4

	/* A few entries in Plan 9's a.out symbol format: a big-endian value,
	 * a type byte with 0x80 set, a NUL-terminated name. */
	.section .p9.syms, "a"
	.byte 0xc0, 0x10, 0x00, 0x00, 'T' | 0x80
	.asciz "_main"
	.byte 0xc0, 0x10, 0x00, 0x00, 'T' | 0x80
	.asciz "start"
	.byte 0x00, 0x00, 0x00, 0x00, 'f' | 0x80
	.asciz "l.s"
	.byte 0xde, 0xad, 0xbe, 0xef, 'D' | 0x80
	.asciz "junk"

	.section .text.entry, "ax"
	.globl start
start:
	movl $PADDR(boot_stack + 4096), %esp
	movl $0x40, PADDR(lgdata) + LD_SYSCALL_VEC
	movl $noirq_start, PADDR(lgdata) + LD_NOIRQ_START
	movl $noirq_end, PADDR(lgdata) + LD_NOIRQ_END
	movl $1, %eax                   /* LHCALL_LGUEST_INIT */
	movl $PADDR(lgdata), %ebx
	int $0x1f

	/* The async ring is ours only now. */
	movl $PADDR(lgdata) + LD_HCALL_STATUS, %edi
	movl $64, %ecx
	movb $0xff, %al
	rep stosb

	/* Our page directory starts as a copy of the host's. */
	movl PADDR(lgdata) + LD_PGDIR, %esi
	movl $PADDR(p9_pgdir), %edi
	movl $1024, %ecx
	rep movsl
	movl $4, %eax                   /* LHCALL_NEW_PGTABLE */
	movl $PADDR(p9_pgdir), %ebx
	int $0x1f

	addl $KZERO, %esp
	movl $p9_main, %eax
	jmp *%eax

/*
 * int $0x40 from user mode: a DPL-3 trap gate that the CPU delivers
 * directly on the SET_STACK stack.  p9_syscall_c gets the saved frame and
 * returns only when the caller goes back to user mode.
 */
	.text
	.globl p9_syscall
p9_syscall:
	pushl %ds
	pushl %es
	pushal
	movl $0x69, %ecx
	movl %ecx, %ds
	movl %ecx, %es
	pushl %esp
	call p9_syscall_c
	addl $4, %esp
	popal
	popl %es
	popl %ds
noirq_start:
	iret
noirq_end:

/* User mode: two system calls, the second one never returns. */
	.globl p9_user, p9_user_int
p9_user:
	movl $0x5ca11, %eax
p9_user_int:
	int $0x40
	xorl %eax, %eax
	int $0x40
1:	jmp 1b
