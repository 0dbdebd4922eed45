/*
 * Benchmark guest: LGUEST_INIT, then N FLUSH_ASYNC hypercalls, then power
 * off.  N comes from the kernel command line ("count=N", default 0), so
 * tools/bench can time the loop against an empty run and get the cost of
 * one hypercall round trip (guest int $0x1f -> host -> guest).
 */
#include "lguest.h"

static struct lguest_data lguest_data;
static char stack[4096] __attribute__((aligned(16)));

/* Parse "count=N" out of the command line boot_params points at. */
static u32 count_from_cmdline(void)
{
	const char *p;
	asm("movl 0x228, %0" : "=r"(p)); /* boot_params.hdr.cmd_line_ptr */
	u32 n = 0;
	for (; *p; p++) {
		if (p[0] == 'c' && p[1] == 'o' && p[2] == 'u' && p[3] == 'n' && p[4] == 't' && p[5] == '=') {
			for (p += 6; *p >= '0' && *p <= '9'; p++)
				n = n * 10 + (u32)(*p - '0');
			break;
		}
	}
	return n;
}

void cmain(void)
{
	lguest_data_prepare(&lguest_data);
	hcall(LHCALL_LGUEST_INIT, (u32)&lguest_data, 0, 0, 0);
	for (u32 i = count_from_cmdline(); i; i--)
		hcall(LHCALL_FLUSH_ASYNC, 0, 0, 0, 0);
	power_off("done");
}

__attribute__((section(".text.entry"), naked)) void start(void)
{
	asm volatile("mov %0, %%esp\n\tcall cmain" : : "i"(stack + sizeof(stack)));
}
