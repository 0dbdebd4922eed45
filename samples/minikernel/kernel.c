/*
 * kernel_main and steps 1-8 of the boot: what the physical phase found,
 * the page tables, segments and stacks, the IDT, the timer, the clocks and
 * the FPU.  Each step checks what Linux 3.19 relies on at that point and
 * prints one line.  Steps 9 and 10 are in user.c and churn.c.
 */
#include "minikernel.h"

#define LD(field) (*(volatile __typeof__(lguest_data.field) *)&lguest_data.field)

void kernel_main(void);
extern char halt_return[];

/* Read a word at addr; returns 1 if that raised a reflected #PF instead. */
static int probe_read(u32 addr, u32 *value)
{
	u32 before = traps.count[14], v = 0;
	asm volatile("movl $1f, fault_resume\n\t"
	             "movl (%1), %0\n"
	             "1:\tmovl $0, fault_resume"
	             : "+r"(v)
	             : "r"(addr)
	             : "memory");
	*value = v;
	return traps.count[14] != before;
}

/* Our own PTE for a kernel virtual address (in the shared kernel tables). */
static u32 kernel_pte(const void *addr)
{
	u32 phys = pa(addr);
	return kernel_ptes[phys >> 22][(phys >> 12) & 1023];
}

/* Step 1: the state lguest started us in (§A10), recorded by entry.S. */
void step_boot_report(void)
{
	expect("esp at entry", boot_report.entry_esp, 0);
	expect("esi at entry (&boot_params)", boot_report.entry_esi, 0);
	expect("eflags at entry", boot_report.entry_eflags, 0x202);
	expect("cs at entry", boot_report.entry_cs & 0xffff, KERNEL_CS);
	expect("ss at entry", boot_report.entry_ss & 0xffff, KERNEL_DS);
	expect("entry is start's physical address", pa(start), 0x100000);
	expect("boot_params e820 entries", boot_report.e820_count, 1);
	expect_true("boot_params e820 covers the mapped RAM", boot_report.e820_size >= KERNEL_MAP_MB * 0x100000u);
	expect("boot_params version", boot_report.version, 0x207);
	step_done(1, "entry at physical 0x100000 with esp 0, boot_params read");
}

/* Step 2: what LGUEST_INIT wrote back (§A2.1). */
void step_init_report(void)
{
	expect_true("tsc_khz written", boot_report.init_tsc_khz != 0);
	expect_true("reserve_mem written", boot_report.init_reserve_mem != 0);
	expect_true("time written", boot_report.init_time_sec != 0);
	expect("kernel_address kept", lguest_data.kernel_address, PAGE_OFFSET);
	expect("timer still blocked", lguest_data.blocked_interrupts, 1);
	step_done(2, "LGUEST_INIT in linear mode");
	early_write("  tsc_khz ");
	early_dec(boot_report.init_tsc_khz);
	early_write(", reserve_mem ");
	early_hex(boot_report.init_reserve_mem);
	early_write("\n");
}

/*
 * Step 3: we run at 0xC01xxxxx on the tables built at physical addresses.
 * The host set ACCESSED and DIRTY in our PTEs as it filled its shadow
 * (§A3.3): text is accessed but clean, the stack dirty, untouched pages
 * unchanged (linear mode writes nothing back).  Then the identity map at
 * 0 is removed; that is safe only because esp is already high.
 */
void step_page_tables(void)
{
	u32 esp, value;
	asm volatile("movl %%esp, %0" : "=r"(esp));
	expect_true("running high", (u32)step_page_tables >= PAGE_OFFSET);
	expect_true("stack high", esp >= PAGE_OFFSET);
	expect("text PTE accessed, clean", kernel_pte(start) & (PTE_A | PTE_D), PTE_A);
	expect("stack PTE accessed, dirty", kernel_pte((void *)(esp - 4)) & (PTE_A | PTE_D), PTE_A | PTE_D);
	expect("untouched PTE unchanged", kernel_pte(va(0xE00000)), 0xE00000 | PTE_KERNEL);
	expect("same page through the low alias", probe_read(0x100000, &value), 0);
	expect("low alias reads the kernel", value, *(u32 *)start);

	for (u32 i = 0; i < KERNEL_PTE_PAGES; i++) {
		swapper_pg_dir[i] = 0;
		hcall(LHCALL_SET_PGD, pa(swapper_pg_dir), i, 0, 0);
	}
	step_done(3, "page tables: NEW_PGTABLE, running high, A/D set by the host, low alias zapped");
}

/* A flat 4 GB segment: the two descriptor words. */
static void flat_segment(u32 type, u32 dpl, u32 *lo, u32 *hi)
{
	*lo = 0x0000ffffu;
	*hi = 0x00cf0000u | 0x8000u | (dpl << 13) | 0x1000u | (type << 8);
}

static u32 tls_array[6] __attribute__((aligned(8)));

/*
 * Step 4: the SET_STACK stack is pinned (§A4.4: the host fills both pages
 * writable, setting A and D before we touch them); the user segments and
 * a TLS entry are loaded, and %gs reaches the TLS page through it.
 */
void step_segments(void)
{
	u32 lo, hi, gs_value;
	u8 *top_page = syscall_stack + PAGE_SIZE, *bottom_page = syscall_stack;

	expect("syscall stack PTE before SET_STACK", kernel_pte(top_page) & (PTE_A | PTE_D), 0);
	hcall(LHCALL_SET_STACK, KERNEL_DS, (u32)syscall_stack_top, 2, 0);
	expect("top stack page pinned", kernel_pte(top_page) & (PTE_A | PTE_D), PTE_A | PTE_D);
	expect("second stack page pinned", kernel_pte(bottom_page) & (PTE_A | PTE_D), PTE_A | PTE_D);

	flat_segment(0xA, 3, &lo, &hi);
	hcall(LHCALL_LOAD_GDT_ENTRY, USER_CS >> 3, lo, hi, 0);
	flat_segment(0x2, 3, &lo, &hi);
	hcall(LHCALL_LOAD_GDT_ENTRY, USER_DS >> 3, lo, hi, 0);

	/* The TLS page: a user page with a marker, reached as %gs:0. */
	u32 *tls_page = alloc_page();
	map_page(swapper_pg_dir, USER_TLS_PAGE, pa(tls_page), PTE_USER_RW);
	tls_page[0] = 0x715c0de;
	tls_array[0] = (USER_TLS_PAGE << 16) | 0x0fffu;
	tls_array[1] = (USER_TLS_PAGE & 0xff000000u) | 0x0040f200u | ((USER_TLS_PAGE >> 16) & 0xffu);
	hcall(LHCALL_LOAD_TLS, pa(tls_array), 0, 0, 0);
	asm volatile("movl %1, %%gs\n\t"
	             "movl %%gs:0, %0\n\t"
	             "movl %2, %%gs"
	             : "=r"(gs_value)
	             : "r"(USER_TLS_SEL), "r"(0)
	             : "memory");
	expect("%gs:0 through the TLS entry", gs_value, 0x715c0de);
	step_done(4, "SET_STACK pinned 2 pages, user segments 0x73/0x7b and TLS loaded");
}

/*
 * Step 5: the IDT.  Exceptions with trap gates go straight to us (#UD,
 * #DE); `int $0x40` and `int3` from the kernel become #GP(n*8+2) (§A6.3);
 * a kernel int $0x80 is a direct system call; a read of the low alias
 * step 3 removed is a #PF reflected with cr2 in lguest_data.
 */
void step_idt(void)
{
	extern char ud2_at[], div_at[], int40_at[], int3_at[];
	u32 zero = 0, one = 1;

	load_idt();
	asm volatile("movl $1f, fault_resume\n"
	             "ud2_at:\tud2\n1:" ::: "memory");
	expect("#UD count", traps.count[6], 1);
	expect("#UD eip", traps.last_eip[6], (u32)ud2_at);
	asm volatile("movl $1f, fault_resume\n"
	             "div_at:\tdivl %%ecx\n1:"
	             : "+a"(one), "+d"(zero)
	             : "c"(0)
	             : "memory");
	expect("#DE count", traps.count[0], 1);
	expect("#DE eip", traps.last_eip[0], (u32)div_at);
	asm volatile("movl $1f, fault_resume\n"
	             "int40_at:\tint $0x40\n1:" ::: "memory");
	expect("int $0x40 is #GP", traps.count[13], 1);
	expect("its error code", traps.last_error[13], 0x40 * 8 + 2);
	expect("its eip", traps.last_eip[13], (u32)int40_at);
	expect("nothing at vector 0x40", traps.count[0x40], 0);
	u32 value;
	expect("step 3's zapped low alias faults", probe_read(0x100000, &value), 1);
	expect("its cr2", traps.pf_cr2, 0x100000);
	expect("its error code (read, supervisor, not present)", traps.pf_error, 0);
	asm volatile("movl $1f, fault_resume\n"
	             "int3_at:\tint3\n1:" ::: "memory");
	expect("int3 at a DPL-0 gate is #GP", traps.count[13], 2);
	expect("its error code", traps.last_error[13], 3 * 8 + 2);
	expect("its eip", traps.last_eip[13], (u32)int3_at);
	asm volatile("int $0x80" : : "a"(SYS_REPORT), "b"(0x5ca11) : "memory");
	expect("kernel int $0x80", traps.count[SYSCALL_VECTOR], 1);
	expect("its argument", traps.reported[0], 0x5ca11);
	traps.nreported = 0;
	step_done(5, "IDT: trap gates 0-31, interrupt gates 32-255, DPL-3 trap gate at 0x80");
}

/* Spin for about n instructions without any hypercall. */
static void busy_loop(u32 n)
{
	for (volatile u32 i = 0; i < n; i++)
		;
}

/*
 * Step 6: time init and the idle loop.  The clock event is armed, the
 * timer unblocked, interrupts enabled; each tick arrives at vector 32
 * through the interrupt gate (irq_enabled = 0 in the handler) and re-arms
 * the clock.  We wait in HALT with irq_enabled = 0 as Linux's idle does;
 * the host wakes us and sets irq_enabled to 0x200 (§A5.5).  Then a tick
 * withheld while interrupts are off is fetched by restore_flags'
 * SEND_INTERRUPTS, and a burst of ticks around lguest_iret never lands
 * inside the noirq window.
 */
void step_timer(void)
{
	u32 halts = 0, flags_at_halt = 1, flags_after = 0;

	tick_rearm_ns = 100000;
	tick_rearm_left = 4;
	hcall(LHCALL_SET_CLOCKEVENT, 100000, 0, 0, 0);
	LD(blocked_interrupts) &= ~1u;
	irq_enable();
	for (;;) {
		irq_disable();
		if (traps.ticks >= 5) {
			irq_enable();
			break;
		}
		flags_at_halt = save_flags();
		safe_halt();
		flags_after |= save_flags();
		halts++;
	}
	expect("ticks", traps.ticks, 5);
	expect("vector 32 count", traps.count[32], 5);
	expect("HALTs, one per tick", halts, 5);
	expect("irq_enabled at HALT", flags_at_halt, 0);
	expect("irq_enabled after waking", flags_after & X86_EFLAGS_IF, X86_EFLAGS_IF);
	expect("ticks that found irq_enabled set", traps.ticks_irq_enabled_nonzero, 0);
	expect("tick interrupted HALT's return", traps.tick_eip, (u32)halt_return);

	/* A tick withheld while interrupts are off (§A5.2 step 4). */
	u32 before = traps.ticks;
	irq_disable();
	hcall(LHCALL_SET_CLOCKEVENT, 2000, 0, 0, 0);
	busy_loop(3000);
	expect("tick withheld", traps.ticks, before);
	expect("irq_pending set", LD(irq_pending), X86_EFLAGS_IF);
	restore_flags(X86_EFLAGS_IF);
	expect("delivered by SEND_INTERRUPTS", traps.ticks, before + 1);
	expect("right after the hypercall", traps.tick_eip, (u32)send_interrupts_return);
	expect("irq_pending never cleared", LD(irq_pending), X86_EFLAGS_IF);

	/* Ticks every 97 ns while kernel system calls return through lguest_iret. */
	before = traps.ticks;
	tick_rearm_ns = 97;
	tick_rearm_left = 299;
	hcall(LHCALL_SET_CLOCKEVENT, 97, 0, 0, 0);
	while (traps.ticks < before + 300)
		asm volatile("int $0x80" : : "a"(0) : "memory");
	expect("burst ticks", traps.ticks, before + 300);
	expect("ticks inside the noirq window", traps.ticks_in_noirq, 0);
	step_done(6, "timer: IRQ 0 at vector 32, HALT with irq_enabled 0, SEND_INTERRUPTS, noirq window");
}

/*
 * Step 7: the clocks.  lguest_data.time moves only when the host tries
 * to deliver an interrupt (§A9); rdtsc moves with every instruction.
 */
void step_clock(void)
{
	u32 ok_time = 1, ok_tsc = 1, ok_gap = 1;
	u32 sec0, nsec0;
	u64 t0, t1;

	tick_rearm_ns = 100000;
	tick_rearm_left = 7;
	u32 first = traps.ticks;
	hcall(LHCALL_SET_CLOCKEVENT, 100000, 0, 0, 0);
	while (traps.ticks < first + 8) {
		irq_disable();
		if (traps.ticks < first + 8)
			safe_halt();
		else
			irq_enable();
	}
	for (u32 k = 1; k < 8; k++) {
		u32 a = (first + k - 1) % 8, b = (first + k) % 8;
		u64 ta = (u64)traps.tick_sec[a] * 1000000000u + traps.tick_nsec[a];
		u64 tb = (u64)traps.tick_sec[b] * 1000000000u + traps.tick_nsec[b];
		if (tb <= ta)
			ok_time = 0;
		if (traps.tick_tsc[b] <= traps.tick_tsc[a])
			ok_tsc = 0;
		if (tb - ta < 100000 || traps.tick_tsc[b] - traps.tick_tsc[a] < 100000)
			ok_gap = 0;
	}
	expect_true("lguest_data.time advances at each tick", ok_time);
	expect_true("rdtsc advances between ticks", ok_tsc);
	expect_true("both by at least the clock event's 100 us", ok_gap);

	irq_disable();
	sec0 = LD(time_sec);
	nsec0 = LD(time_nsec);
	t0 = rdtsc();
	busy_loop(1000);
	t1 = rdtsc();
	expect_true("rdtsc advances", t1 > t0);
	expect_true("time still between interrupts", LD(time_sec) == sec0 && LD(time_nsec) == nsec0);
	restore_flags(X86_EFLAGS_IF);
	step_done(7, "clocks: lguest_data.time and rdtsc advance between ticks");
}

/*
 * Step 8: Linux's FPU check (the Pentium fdiv test: x - (x / y) * y must
 * be 0), then TS: with TS requested, the first x87 instruction raises
 * #NM, which the host reflects; the handler clears TS and the instruction
 * is retried (§A6.6).
 */
void step_fpu(void)
{
	extern char fninit_at[];
	static const double x = 4195835.0, y = 3145727.0;
	int fdiv_bug = -1, product = 0;

	asm volatile("fninit\n\t"
	             "fldl %1\n\t"
	             "fdivl %2\n\t"
	             "fmull %2\n\t"
	             "fldl %1\n\t"
	             "fsubp %%st, %%st(1)\n\t"
	             "fistpl %0\n\t"
	             "fwait\n\t"
	             "fninit"
	             : "=m"(fdiv_bug)
	             : "m"(x), "m"(y));
	expect("fdiv check", (u32)fdiv_bug, 0);
	expect("no #NM while TS is clear", traps.count[7], 0);

	static const double six = 6.0, seven = 7.0;
	hcall(LHCALL_TS, 1, 0, 0, 0);
	asm volatile("fninit_at:\tfninit\n\t"
	             "fldl %1\n\t"
	             "fmull %2\n\t"
	             "fistpl %0\n\t"
	             "fwait"
	             : "=m"(product)
	             : "m"(six), "m"(seven));
	expect("#NM with TS set", traps.count[7], 1);
	expect("#NM at the first x87 instruction", traps.last_eip[7], (u32)fninit_at);
	expect("x87 works after the handler cleared TS", (u32)product, 42);
	step_done(8, "FPU: fdiv check, #NM with TS set reflected to vector 7");
}

/* After step 3's NEW_PGTABLE, entry.S jumps here on the high stack. */
void kernel_main(void)
{
	step_boot_report();
	step_init_report();
	step_page_tables();
	step_segments();
	step_idt();
	step_timer();
	step_clock();
	step_fpu();
	step_user();
	step_churn();
	work_from_cmdline();

	static char verdict[80];
	char *p = verdict;
	const char *head = checks_failed() ? "minikernel: checks failed: " : "minikernel: all ";
	while (*head)
		*p++ = *head++;
	u32 n = checks_failed() ? checks_failed() : checks_passed();
	char digits[10];
	int k = 0;
	do {
		digits[k++] = (char)('0' + n % 10);
		n /= 10;
	} while (n);
	while (k)
		*p++ = digits[--k];
	const char *tail = checks_failed() ? "" : " checks passed";
	while (*tail)
		*p++ = *tail++;
	*p = 0;
	kernel_power_off(verdict);
}
