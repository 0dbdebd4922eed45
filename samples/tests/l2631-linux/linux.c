/*
 * A guest in the style of Linux 2.6.31-2.6.33 on a 2.6.31-3.0 host
 * (lguest-abi.md §2.1, §4.4, §5.4, §9.4; addendum part B):
 *  - every hypercall is a `vmcall` (0F 01 C1), which the host rewrites
 *    into `int $0x1f; nop` the first time it runs: the bytes of the INIT
 *    site and of hcall_site are shown before and after;
 *  - lguest_data in the 1396-byte layout, initialised statically as Linux
 *    did (statuses 0xFF, kernel_address PAGE_OFFSET, syscall_vec 0x80);
 *  - an early-console line by NOTIFY of a string, then the lguest bus
 *    pages mapped by a new PDE in the host-built page directory and
 *    SET_PGD, as Linux's set_pmd did;
 *  - the console's status notified at every change: 1, 3, then 7
 *    (DRIVER_OK, which starts the device), and only then output through
 *    the transmit ring;
 *  - a `ud2` under a trap gate at vector 6 is reflected by the host, not
 *    delivered directly (part B: #UD is not direct-capable), which shows
 *    in the pushed EFLAGS: IF comes from irq_enabled (0), where a direct
 *    trap would push the real IF (1) (§A6.2, §A6.4);
 *  - SHUTDOWN(POWEROFF) with Linux's message.
 */
#define L2631_VMCALL
#include "../l2631-lib/l2631.h"

extern char l2631_noirq_start[], l2631_noirq_end[], init_vmcall[], hcall_site[];

struct lguest_data_2631 lgdata __attribute__((aligned(PAGE_SIZE))) = {
	.hcall_status = {[0 ... LHCALL_RING_SIZE - 1] = 0xff},
	.blocked_interrupts = 1,
	.noirq_start = (u32)l2631_noirq_start,
	.noirq_end = (u32)l2631_noirq_end,
	.kernel_address = PAGE_OFFSET,
	.syscall_vec = 0x80,
};
u32 init_site_before;
u8 kernel_stack[8192] __attribute__((aligned(PAGE_SIZE)));
static u32 window_ptes[1024] __attribute__((aligned(PAGE_SIZE)));

void l2631_main(void);
void ud_handler(void);
extern char ud_site[];
u32 ud_eip, ud_eflags;

/* #UD handler: note the frame, return past the two-byte ud2. */
asm(".text\n"
    "ud_handler:\n"
    "	pushl %eax\n"
    "	movl 4(%esp), %eax\n"
    "	movl %eax, ud_eip\n"
    "	movl 12(%esp), %eax\n"
    "	movl %eax, ud_eflags\n"
    "	addl $2, 4(%esp)\n"
    "	popl %eax\n"
    "	iret\n");

/* The hypercall most of this guest uses: one vmcall site, hcall_site,
 * which is rewritten the first time it runs. */
static __attribute__((noipa)) u32 lhcall(u32 call, u32 a1, u32 a2, u32 a3)
{
	asm volatile(".globl hcall_site\n"
	             "hcall_site:\n\t"
	             ".byte 0x0f, 0x01, 0xc1"
	             : "+a"(call)
	             : "b"(a1), "c"(a2), "d"(a3), "S"(0)
	             : "memory");
	return call;
}

/* The first three bytes of a call site, as one number: 0xc1010f is a
 * vmcall, 0x901fcd is int $0x1f; nop. */
static u32 site_bytes(const void *site)
{
	return *(const volatile u32 *)site & 0xffffff;
}

/* The high half of the boot, from entry.S; powers off at the end. */
void l2631_main(void)
{
	static const char early[] = "l2631: early console\n";
	u32 mem = boot_ram_bytes();
	u32 hcall_site_before = site_bytes(hcall_site);
	u32 *host_pgdir = KADDR(lgdata.pgdir);

	lhcall(LHCALL_NOTIFY, PADDR(early), 0, 0);
	u32 hcall_site_after = site_bytes(hcall_site);

	/* Map the lguest bus pages through the host's own page directory. */
	fill_device_window(window_ptes, mem);
	host_pgdir[DEVICE_WINDOW >> 22] = PADDR(window_ptes) | 0x7;
	lhcall(LHCALL_SET_PGD, lgdata.pgdir, DEVICE_WINDOW >> 22, 0);
	if (!console_find(mem)) {
		lhcall(LHCALL_SHUTDOWN, PADDR("l2631: no console"), LGUEST_SHUTDOWN_POWEROFF, 0);
		return;
	}
	console_set_status(1, 1);
	console_set_status(1 | 2, 1);
	console_set_status(1 | 2 | 4, 1);

	say("l2631: virtio console");
	say_hex("init site before", init_site_before & 0xffffff);
	say_hex("init site after", site_bytes(init_vmcall));
	say_hex("hcall site before", hcall_site_before);
	say_hex("hcall site after", hcall_site_after);
	say_hex("reserve_mem", lgdata.reserve_mem);
	say_hex("pgdir", lgdata.pgdir);
	say_hex("pde[0]", host_pgdir[0]);
	say_hex("pde[768]", host_pgdir[768]);
	say_hex("tsc_khz", lgdata.tsc_khz);
	say_hex("console status", *con.status);

	lgdata.irq_enabled = 0;
	lhcall(LHCALL_LOAD_IDT_ENTRY, 6, (0x60u << 16) | ((u32)ud_handler & 0xffff),
	       ((u32)ud_handler & 0xffff0000u) | 0x8000u | (0xFu << 8));
	asm volatile(".globl ud_site\nud_site: ud2" ::: "memory");
	say_hex("ud2 frame eip offset", ud_eip - (u32)ud_site);
	say_hex("ud2 frame IF", ud_eflags & 0x200);
	lhcall(LHCALL_SHUTDOWN, PADDR(con.lost ? "l2631: console kicks were not consumed" : "Power down"),
	       LGUEST_SHUTDOWN_POWEROFF, 0);
}
