/* Hostile: a guest PDE with flags outside 0x67 (here PSE, 0x80) kills
 * "bad page directory entry" at the first fill through it (addendum §A3.3
 * step 2).  The code page is mapped by a good PDE; the bad one covers
 * 4 MB - 8 MB. */
#include "../common.h"

static u32 pgdir[1024] __attribute__((aligned(4096)));
static u32 pt0[1024] __attribute__((aligned(4096)));

void guest_main(void)
{
	guest_init();
	for (u32 i = 0; i < 1024; i++)
		pt0[i] = (i << 12) | 0x3;
	pgdir[0] = (u32)pt0 | 0x7;
	pgdir[1] = (u32)pt0 | 0x87;
	hcall(LHCALL_NEW_PGTABLE, (u32)pgdir, 0, 0, 0);
	*(volatile u8 *)0x400000 = 1;
	early_puts("must not print\n");
}
