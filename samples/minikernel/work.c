/*
 * `work=N` on the kernel command line: after the checks, N rounds of what
 * a busy little system does, so the launcher's speed (and the cost of
 * tracing and checking) can be measured on a kernel-shaped load rather
 * than on a tight loop.  Without `work=` none of this runs.
 *
 * One round is about a million guest instructions:
 *  - two processes, each in its own address space (page directories that
 *    share the kernel half, like pgd_alloc), entered in turn with
 *    NEW_PGTABLE (a context switch);
 *  - each process stores into WORK_PAGES pages of its heap, which are not
 *    mapped: every first touch is a #PF that the kernel serves with a fresh
 *    zeroed page and SET_PTE, like an anonymous mapping; then it makes
 *    WORK_SYSCALLS null system calls, sums its heap and exits with the sum;
 *  - on exit the kernel unmaps the heap (PTEs cleared, then FLUSH_TLB(0),
 *    as munmap's TLB shootdown), so the next round faults again;
 *  - between the processes and after the kernel's own integer work (a
 *    bitwise CRC-32 of its text) the kernel idles in HALT until the next
 *    tick of a periodic timer, which also interrupts the processes.
 */
#include "minikernel.h"

#define WORK_CODE_ADDR 0x60000000u /* where the processes see their code */
#define WORK_HEAP_ADDR 0x70000000u /* their heap, mapped on demand */
#define WORK_PAGES 32u
#define WORK_STRIDE 64u          /* bytes between the words a process stores */
#define WORK_SYSCALLS 1024u
#define WORK_PATTERN 0x9e3779b9u /* word i of the heap holds i * WORK_PATTERN */
#define WORK_TICK_NS 100000u     /* the periodic timer: every 100 us of guest time */
#define WORK_CRC_BYTES 9728u     /* the kernel's integer work per round */
#define WORK_SPACES 2u

/*
 * The process: position-independent code in the kernel's text, mapped
 * read-only at WORK_CODE_ADDR in each address space (as a vDSO is).  It
 * uses registers only (no stack) and leaves with SYS_EXIT(sum of the
 * words it stored).
 */
#define STR_(x) #x
#define STR(x) STR_(x)
void work_process(void);
asm(".pushsection .text\n"
    ".globl work_process\n"
    "work_process:\n"
    "	movl $" STR(WORK_HEAP_ADDR) ", %edi\n"
    "	xorl %eax, %eax\n"
    "1:	movl %eax, (%edi)\n"
    "	addl $" STR(WORK_PATTERN) ", %eax\n"
    "	addl $" STR(WORK_STRIDE) ", %edi\n"
    "	cmpl $" STR(WORK_HEAP_ADDR) " + " STR(WORK_PAGES) " * 4096, %edi\n"
    "	jb 1b\n"
    "	movl $" STR(WORK_SYSCALLS) ", %ecx\n"
    "2:	xorl %eax, %eax\n"
    "	int $0x80\n"
    "	decl %ecx\n"
    "	jnz 2b\n"
    "	movl $" STR(WORK_HEAP_ADDR) ", %esi\n"
    "	xorl %ebx, %ebx\n"
    "3:	addl (%esi), %ebx\n"
    "	addl $" STR(WORK_STRIDE) ", %esi\n"
    "	cmpl $" STR(WORK_HEAP_ADDR) " + " STR(WORK_PAGES) " * 4096, %esi\n"
    "	jb 3b\n"
    "	movl $" STR(SYS_EXIT) ", %eax\n"
    "	int $0x80\n"
    "4:	jmp 4b\n"
    ".popsection\n");

/* One process's address space and the pages its heap faults in. */
struct work_space {
	u32 *pgdir;
	u32 *heap[WORK_PAGES];
};
static struct work_space spaces[WORK_SPACES];
static u32 spaces_ready;

/*
 * The #PF handler's question (traps.c): is this a first touch of the
 * current process's heap?  If so, give it a zeroed page and say so.
 */
int work_page_fault(u32 cr2)
{
	u32 index = (cr2 - WORK_HEAP_ADDR) / PAGE_SIZE;
	if (!spaces_ready || cr2 < WORK_HEAP_ADDR || index >= WORK_PAGES)
		return 0;
	for (u32 s = 0; s < WORK_SPACES; s++) {
		if (spaces[s].pgdir != current_pgdir)
			continue;
		zero_page(spaces[s].heap[index]);
		map_page(current_pgdir, WORK_HEAP_ADDR + index * PAGE_SIZE, pa(spaces[s].heap[index]), PTE_USER_RW);
		return 1;
	}
	return 0;
}

/* Two address spaces sharing the kernel half, each with the process's code. */
static int make_spaces(void)
{
	u32 code_page = pa(work_process) & ~(PAGE_SIZE - 1);
	for (u32 s = 0; s < WORK_SPACES; s++) {
		u32 *pgdir = alloc_page();
		if (!pgdir)
			return 0;
		for (u32 i = PAGE_OFFSET >> 22; i < 1024; i++)
			pgdir[i] = swapper_pg_dir[i];
		/* Two pages, in case the code straddles a page boundary. */
		map_page(pgdir, WORK_CODE_ADDR, code_page, PTE_USER_RO);
		map_page(pgdir, WORK_CODE_ADDR + PAGE_SIZE, code_page + PAGE_SIZE, PTE_USER_RO);
		for (u32 i = 0; i < WORK_PAGES; i++)
			if (!(spaces[s].heap[i] = alloc_page()))
				return 0;
		spaces[s].pgdir = pgdir;
	}
	spaces_ready = 1;
	return 1;
}

/* munmap of the heap: clear the PTEs, then one flush of the user half. */
static void unmap_heap(struct work_space *space)
{
	for (u32 i = 0; i < WORK_PAGES; i++) {
		u32 *pte = pte_slot(space->pgdir, WORK_HEAP_ADDR + i * PAGE_SIZE, 0);
		if (pte)
			*pte = 0;
	}
	hcall(LHCALL_FLUSH_TLB, 0, 0, 0, 0);
}

/* Idle as Linux does: HALT with interrupts off until the next tick arrives. */
static u32 idle_until_tick(void)
{
	u32 seen = traps.ticks, halts = 0;
	for (;;) {
		irq_disable();
		if (traps.ticks != seen) {
			irq_enable();
			return halts;
		}
		safe_halt();
		halts++;
	}
}

/* Bitwise CRC-32 (no table) of len bytes, going round the kernel's text. */
static u32 crc_of_text(u32 crc, u32 len)
{
	const u8 *text = (const u8 *)_text;
	u32 size = (u32)(_etext - _text);
	for (u32 i = 0; i < len; i++) {
		crc ^= text[i % size];
		for (int bit = 0; bit < 8; bit++)
			crc = (crc >> 1) ^ (0xEDB88320u & -(crc & 1));
	}
	return crc;
}

/* What each process's exit value must be: the sum of the words it stored. */
static u32 expected_sum(void)
{
	u32 sum = 0, word = 0;
	for (u32 i = 0; i < WORK_PAGES * PAGE_SIZE / WORK_STRIDE; i++) {
		sum += word;
		word += WORK_PATTERN;
	}
	return sum;
}

/* Run `rounds` rounds and print one line saying what they did. */
static void run_work(u32 rounds)
{
	u32 syscalls0 = traps.count[SYSCALL_VECTOR], faults0 = traps.count[14];
	u32 ticks0 = traps.count[32], halts = 0, switches = 0, crc = ~0u;
	u32 want = expected_sum();

	if (!make_spaces())
		kernel_power_off("minikernel: work: out of memory");
	tick_rearm_ns = WORK_TICK_NS;
	tick_rearm_left = 0xffffffffu;
	hcall(LHCALL_SET_CLOCKEVENT, WORK_TICK_NS, 0, 0, 0);
	for (u32 r = 0; r < rounds; r++) {
		for (u32 s = 0; s < WORK_SPACES; s++) {
			set_cr3(spaces[s].pgdir);
			switches++;
			u32 entry = WORK_CODE_ADDR + (pa(work_process) & (PAGE_SIZE - 1));
			if (enter_user(entry, 0) != want)
				kernel_power_off("minikernel: work: a process summed its heap wrong");
			unmap_heap(&spaces[s]);
			halts += idle_until_tick();
		}
		crc = crc_of_text(crc, WORK_CRC_BYTES);
		halts += idle_until_tick();
	}
	tick_rearm_left = 0;
	set_cr3(swapper_pg_dir);

	early_write("work: ");
	early_dec(rounds);
	early_write(" rounds, ");
	early_dec(traps.count[SYSCALL_VECTOR] - syscalls0);
	early_write(" system calls, ");
	early_dec(traps.count[14] - faults0);
	early_write(" page faults, ");
	early_dec(switches);
	early_write(" address-space switches, ");
	early_dec(traps.count[32] - ticks0);
	early_write(" timer ticks, ");
	early_dec(halts);
	early_write(" HALTs, crc ");
	early_hex(~crc);
	early_write("\n");
}

/* kernel_main's last step: the work the command line asks for, if any. */
void work_from_cmdline(void)
{
	u32 rounds;
	if (cmdline_number("work=", &rounds))
		run_work(rounds);
}
