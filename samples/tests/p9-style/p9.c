/*
 * A guest that behaves like Plan 9's 9lguest kernel on a 2.6.31-3.0 host
 * (addendum part B, "Known guest facts"; lguest-abi.md §4.4, §5.4, §11).
 * entry.S has already made LGUEST_INIT, copied the host's page directory
 * and switched to it; p9_main runs at 0xC01xxxxx and:
 *  - reports what INIT wrote (reserve_mem, pgdir) and the host-built
 *    tables it found (the PDEs at 0 and 768, a PTE never touched);
 *  - maps the lguest bus pages, sets the console's status to 1 without
 *    notifying, and prints everything through the transmit ring: the
 *    first kick is what starts the device;
 *  - does FLUSH_TLB(1) before each SET_STACK, loads user segments and a
 *    DPL-3 trap gate at 0x40, drops to user mode and makes two system
 *    calls with `int $0x40`, which must arrive directly;
 *  - powers off with SHUTDOWN(msg, 0).
 * With "switcher" on the command line it reads 0xFFC00000 instead, which
 * the 2.6.31 host answers by killing the guest.
 */
#include "../l2631-lib/l2631.h"

#define USER_CS 0x73
#define USER_DS 0x7b
#define KERNEL_SS 0x69

/* First in the bss: a launcher that copied past p_filesz would have
 * filled it with the symbol table that follows the data in the file. */
u32 bss_first[4] __attribute__((section(".bss.first")));

struct lguest_data_2631 lgdata __attribute__((aligned(PAGE_SIZE)));
u8 boot_stack[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
u32 p9_pgdir[1024] __attribute__((aligned(PAGE_SIZE)));
static u32 window_ptes[1024] __attribute__((aligned(PAGE_SIZE)));
static u8 kernel_stack[2][PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
static u8 user_stack[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));

/* Initialised data, so that the data segment has file bytes. */
static const char *volatile banner = "p9: hello from 0xC01xxxxx";

void p9_main(void);
void p9_syscall(void), p9_user(void), p9_user_int(void);

/* What pushal and the CPU left on the kernel stack at int $0x40. */
struct syscall_frame {
	u32 edi, esi, ebp, esp0, ebx, edx, ecx, eax;
	u32 es, ds;
	u32 eip, cs, eflags, user_esp, user_ss;
};

/* SET_STACK, as 9lguest does it: a full TLB flush first, because with
 * kernel_address 0 a reused shadow slot keeps every old mapping. */
static void set_stack(u32 esp)
{
	hc(LHCALL_FLUSH_TLB, 1, 0, 0, 0);
	hc(LHCALL_SET_STACK, KERNEL_SS, esp, 1, 0);
}

/* High word of a flat 4 GB DPL-3 segment of this type (0xA code, 0x2 data). */
static u32 flat_hi(u32 type)
{
	return 0x00cf0000u | 0x8000u | (3u << 13) | 0x1000u | (type << 8);
}

/* SHUTDOWN with arg2 = 0, as 9lguest passes it: still a power-off. */
static __attribute__((noreturn)) void shutdown(const char *msg)
{
	hc(LHCALL_SHUTDOWN, PADDR(msg), 0, 0, 0);
	for (;;)
		;
}

static u32 syscalls;

/* The C half of the int $0x40 entry (entry.S). */
void p9_syscall_c(struct syscall_frame *f)
{
	syscalls++;
	if (f->eax != 0) {
		say_hex("syscall eax", f->eax);
		say_hex("syscall eip", f->eip - (u32)p9_user_int);
		say_hex("syscall cs", f->cs);
		say_hex("syscall eflags", f->eflags);
		say_hex("syscall user esp", f->user_esp - (u32)user_stack);
		say_hex("syscall ss", f->user_ss);
		say_hex("syscall kernel stack offset", (u32)&f->eip - (u32)kernel_stack[1]);
		say_hex("syscall irq_enabled", lgdata.irq_enabled);
		return;
	}
	say_hex("exit syscall number", syscalls);
	if (con.lost)
		shutdown("p9: console kicks were not consumed");
	shutdown("p9 done");
}

/* iret to ring 3 at p9_user with user data segments. */
static __attribute__((noreturn)) void drop_to_user(void)
{
	asm volatile("movl %0, %%ds\n\t"
	             "movl %0, %%es\n\t"
	             "pushl %0\n\t"
	             "pushl %1\n\t"
	             "pushl $0x202\n\t"
	             "pushl %2\n\t"
	             "pushl %3\n\t"
	             "iret"
	             :
	             : "r"(USER_DS), "r"((u32)user_stack + PAGE_SIZE), "r"(USER_CS), "r"((u32)p9_user)
	             : "memory");
	__builtin_unreachable();
}

/* Everything after the switch to high addresses; never returns. */
void p9_main(void)
{
	u32 mem = boot_ram_bytes();
	u32 *host_pgdir = KADDR(lgdata.pgdir);

	set_stack((u32)kernel_stack[0] + PAGE_SIZE);

	/* The lguest bus pages are not RAM: the host's tables do not map them. */
	fill_device_window(window_ptes, mem);
	p9_pgdir[DEVICE_WINDOW >> 22] = PADDR(window_ptes) | 0x7;
	hc(LHCALL_SET_PGD, PADDR(p9_pgdir), DEVICE_WINDOW >> 22, 0, 0);
	if (!console_find(mem))
		shutdown("p9: no console");
	console_set_status(1, 0);

	say(banner);
	say_hex("reserve_mem", lgdata.reserve_mem);
	say_hex("pgdir", lgdata.pgdir);
	say_hex("kernel_address", lgdata.kernel_address);
	say_hex("pde[0]", host_pgdir[0]);
	say_hex("pde[768]", host_pgdir[768]);
	say_hex("pde[1023]", host_pgdir[1023]);
	say_hex("pte for 0x800000", ((u32 *)KADDR(host_pgdir[2] & ~0xfffu))[0]);
	say_hex("bss", bss_first[0] | bss_first[1] | bss_first[2] | bss_first[3]);
	say_hex("console status", *con.status);

	if (cmdline_has("switcher")) {
		say("reading 0xffc00000");
		say_hex("read", *(volatile u32 *)0xFFC00000u);
		shutdown("p9: read the switcher page");
	}

	hc(LHCALL_LOAD_GDT_ENTRY, 14, 0x0000ffffu, flat_hi(0xA), 0);
	hc(LHCALL_LOAD_GDT_ENTRY, 15, 0x0000ffffu, flat_hi(0x2), 0);
	hc(LHCALL_LOAD_IDT_ENTRY, 0x40, (0x60u << 16) | ((u32)p9_syscall & 0xffff),
	   ((u32)p9_syscall & 0xffff0000u) | 0x8000u | (3u << 13) | (0xFu << 8), 0);
	set_stack((u32)kernel_stack[1] + PAGE_SIZE);
	drop_to_user();
}
