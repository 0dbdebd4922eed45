/*
 * The boot phase, run at physical addresses (head_32.S plus lguest_entry).
 *
 * The kernel is linked at 0xC0100000 but loaded at 0x100000, and until the
 * first NEW_PGTABLE lguest maps every address to itself (linear mode,
 * §A3.2).  So this file reaches every global through pa(): its code runs
 * fine (calls are relative), but an absolute address of a global would
 * point into the unmapped top of the address space.  Nothing here may
 * call into the rest of the kernel.
 */
#include "minikernel.h"

/* In .data, not .bss: entry.S fills it before BSS is cleared. */
struct boot_report boot_report __attribute__((section(".data")));

struct lguest_data lguest_data __attribute__((aligned(4096)));
u32 swapper_pg_dir[1024] __attribute__((aligned(4096)));
u32 kernel_ptes[KERNEL_PTE_PAGES][1024] __attribute__((aligned(4096)));

void boot_physical(void);

/* What the launcher put in boot_params (esi pointed at it: address 0). */
static void read_boot_params(struct boot_report *r)
{
	const u8 *boot_params = (const u8 *)r->entry_esi;
	r->e820_count = boot_params[0x1e8];
	r->e820_size = *(const u32 *)(boot_params + 0x2d0 + 8);
	r->version = *(const u16 *)(boot_params + 0x206);
}

/*
 * Fill lguest_data as lguest_entry does and introduce ourselves.  The noirq
 * window is given as *virtual* addresses: the host compares them with the
 * guest's eip, and lguest_iret runs at its linked address.
 */
static void lguest_init_physical(struct boot_report *r)
{
	struct lguest_data *ld = (struct lguest_data *)pa(&lguest_data);

	for (int i = 0; i < LHCALL_RING_SIZE; i++)
		ld->hcall_status[i] = 0xff;
	ld->syscall_vec = SYSCALL_VECTOR;
	ld->kernel_address = PAGE_OFFSET;
	ld->noirq_start = (u32)lguest_noirq_start;
	ld->noirq_end = (u32)lguest_noirq_end;
	ld->blocked_interrupts = 1; /* the timer waits for time init */
	hcall(LHCALL_LGUEST_INIT, (u32)ld, 0, 0, 0);
	r->init_tsc_khz = ld->tsc_khz;
	r->init_reserve_mem = ld->reserve_mem;
	r->init_time_sec = ld->time_sec;
}

/*
 * initial_page_table as head_32.S builds it: the first KERNEL_MAP_MB of
 * RAM mapped both at 0 (so this code keeps running after the switch) and
 * at PAGE_OFFSET, PDEs 0x63, PTEs 0x3 (no ACCESSED, DIRTY or USER).
 */
static void build_initial_page_table(void)
{
	u32 *pgdir = (u32 *)pa(swapper_pg_dir);
	u32(*ptes)[1024] = (u32(*)[1024])pa(kernel_ptes);

	for (u32 t = 0; t < KERNEL_PTE_PAGES; t++) {
		for (u32 i = 0; i < 1024; i++)
			ptes[t][i] = ((t * 1024 + i) * PAGE_SIZE) | PTE_KERNEL;
		pgdir[t] = (u32)ptes[t] | PDE_KERNEL;
		pgdir[PAGE_OFFSET / 0x400000u + t] = (u32)ptes[t] | PDE_KERNEL;
	}
}

/* Called by start, on the physical boot stack; returns with paging on. */
void boot_physical(void)
{
	struct boot_report *r = (struct boot_report *)pa(&boot_report);

	read_boot_params(r);
	lguest_init_physical(r);
	build_initial_page_table();
	hcall(LHCALL_NEW_PGTABLE, pa(swapper_pg_dir), 0, 0, 0);
}
