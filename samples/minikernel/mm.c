/*
 * Memory management: a page allocator and the page-table updates Linux
 * makes through lguest's pv ops.  The guest owns ordinary i386 page
 * tables, but the host's shadow copy is what the CPU uses, so every change
 * must be told to the host: SET_PGD for a page-directory entry, SET_PTE
 * for a page-table entry, NEW_PGTABLE to switch address spaces (§A4).
 */
#include "minikernel.h"

extern char _end[];

u32 *current_pgdir = swapper_pg_dir;
static u32 next_free_phys;

/* zero_page/copy_page: whole pages with the string instructions. */
void zero_page(void *page)
{
	u32 count = PAGE_SIZE / 4;
	asm volatile("rep stosl" : "+D"(page), "+c"(count) : "a"(0) : "memory");
}

void copy_page(void *to, const void *from)
{
	u32 count = PAGE_SIZE / 4;
	asm volatile("rep movsl" : "+D"(to), "+S"(from), "+c"(count) : : "memory");
}

/* The next free page above the kernel image, zeroed; NULL when the mapped RAM runs out. */
void *alloc_page(void)
{
	if (!next_free_phys)
		next_free_phys = (pa(_end) + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
	if (next_free_phys >= (KERNEL_MAP_MB - 1) * 0x100000u)
		return 0;
	void *page = va(next_free_phys);
	next_free_phys += PAGE_SIZE;
	zero_page(page);
	return page;
}

/*
 * The PTE for vaddr in pgdir.  With create, a missing page table is
 * allocated and its PDE set (USER for the user half, like _PAGE_TABLE)
 * and announced with SET_PGD, as Linux's set_pmd does.
 */
u32 *pte_slot(u32 *pgdir, u32 vaddr, int create)
{
	u32 idx = vaddr >> 22;
	if (!(pgdir[idx] & PTE_P)) {
		if (!create)
			return 0;
		u32 *table = alloc_page();
		if (!table)
			return 0;
		pgdir[idx] = pa(table) | (vaddr < PAGE_OFFSET ? PDE_USER : PDE_KERNEL);
		hcall(LHCALL_SET_PGD, pa(pgdir), idx, 0, 0);
	}
	u32 *table = va(pgdir[idx] & ~PTE_FLAGS);
	return &table[(vaddr >> 12) & 1023];
}

/* set_pte_at(): write the entry, then SET_PTE so the shadow follows. */
void map_page(u32 *pgdir, u32 vaddr, u32 phys, u32 flags)
{
	u32 *pte = pte_slot(pgdir, vaddr, 1);
	if (!pte)
		return;
	*pte = phys | flags;
	hcall(LHCALL_SET_PTE, pa(pgdir), vaddr, *pte, 0);
}

/* write_cr3(): switch address space.  lguest has no cr3 to read back. */
void set_cr3(u32 *pgdir)
{
	current_pgdir = pgdir;
	hcall(LHCALL_NEW_PGTABLE, pa(pgdir), 0, 0, 0);
}
