/* Hostile: hlt at CPL 1 is #GP(0), not port I/O, so it is reflected; with
 * no gate for 13 the host kills "unhandled trap 13 at 0x<eip> (0x0)"
 * (addendum §A6.1, §A7, §A12). */
#include "../common.h"

void guest_main(void)
{
	guest_init();
	asm volatile(".globl fault_here\nfault_here: hlt" ::: "memory");
	early_puts("must not print\n");
}
