/* Hostile: a guest PTE with PSE kills "bad page table entry" when the
 * host fills it (addendum §A3.3 step 5). */
#include "../common.h"

static u32 pgdir[1024] __attribute__((aligned(4096)));
static u32 pt0[1024] __attribute__((aligned(4096)));
static u8 victim[4096] __attribute__((aligned(4096)));

void guest_main(void)
{
	guest_init();
	for (u32 i = 0; i < 1024; i++)
		pt0[i] = (i << 12) | 0x3;
	pt0[(u32)victim >> 12] |= 0x80;
	pgdir[0] = (u32)pt0 | 0x7;
	hcall(LHCALL_NEW_PGTABLE, (u32)pgdir, 0, 0, 0);
	*(volatile u8 *)victim = 1;
	early_puts("must not print\n");
}
