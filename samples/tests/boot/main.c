/*
 * What the launcher prepares before the first instruction (addendum §A10):
 * boot_params at physical 0, the command line at 0x1000, the initrd, and
 * the initial registers.  Values that depend on the command line (memory
 * size, initrd) are printed for tests/loader.test to compare.
 */
#include "../common.h"

/* Read guest-physical memory in linear mode (virtual = physical); asm so
 * the compiler cannot treat address 0 as a null pointer. */
static u32 peek32(u32 addr)
{
	u32 v;
	asm volatile("movl (%1), %0" : "=r"(v) : "r"(addr) : "memory");
	return v;
}

static u32 peek8(u32 addr)
{
	return peek32(addr) & 0xff;
}

static u32 peek16(u32 addr)
{
	return peek32(addr) & 0xffff;
}

/* Sum of the boot_params bytes other than the fields the launcher sets:
 * must be 0, since boot_params is built from zeroes. */
static u32 stray_boot_param_bytes(void)
{
	static const u16 set_fields[][2] = {
		{0x1e8, 1}, {0x2d0, 20}, {0x228, 4}, {0x230, 4}, {0x206, 2},
		{0x23c, 4}, {0x211, 1}, {0x218, 4}, {0x21c, 4}, {0x210, 1},
	};
	u32 sum = 0;
	for (u32 a = 0; a < 4096; a++) {
		int in_field = 0;
		for (u32 f = 0; f < sizeof(set_fields) / sizeof(set_fields[0]); f++)
			if (a >= set_fields[f][0] && a < set_fields[f][0] + set_fields[f][1])
				in_field = 1;
		if (!in_field)
			sum += peek8(a);
	}
	return sum;
}

void guest_main(void)
{
	/* The entry code saved the registers before anything else ran;
	 * INIT changes nothing that is checked below, and NOTIFY needs it. */
	guest_init();
	/* §A10 "Initial CPU". */
	check("eax 0", boot_regs.eax, 0);
	check("ebx 0", boot_regs.ebx, 0);
	check("ecx 0", boot_regs.ecx, 0);
	check("edx 0", boot_regs.edx, 0);
	check("esi 0 (&boot_params)", boot_regs.esi, 0);
	check("edi 0", boot_regs.edi, 0);
	check("ebp 0", boot_regs.ebp, 0);
	check("esp 0", boot_regs.esp, 0);
	check("eflags 0x202", boot_regs.eflags, 0x202);
	check("cs 0x61", boot_regs.cs, 0x61);
	check("ds 0x69", boot_regs.ds, 0x69);
	check("es 0x69", boot_regs.es, 0x69);
	check("ss 0x69", boot_regs.ss, 0x69);
	check("fs 0", boot_regs.fs, 0);
	check("gs 0", boot_regs.gs, 0);

	/* §A10 "boot_params at physical 0". */
	check("e820_entries", peek8(0x1e8), 1);
	check("e820[0].addr", peek32(0x2d0) | peek32(0x2d4), 0);
	check("e820[0].size high", peek32(0x2dc), 0);
	check("e820[0].type", peek32(0x2e0), 1);
	check("cmd_line_ptr", peek32(0x228), 0x1000);
	check("kernel_alignment", peek32(0x230), 0x1000000);
	check("version", peek16(0x206), 0x207);
	check("hardware_subarch", peek32(0x23c), 1);
	check("loadflags", peek8(0x211), 0x40);
	check("nothing else set", stray_boot_param_bytes(), 0);
	say_hex("mem", peek32(0x2d8));
	say_hex("type_of_loader", peek8(0x210));
	u32 ramdisk = peek32(0x218);
	say_hex("ramdisk_image", ramdisk);
	say_hex("ramdisk_size", peek32(0x21c));
	if (ramdisk)
		say_hex("ramdisk_first_word", peek32(ramdisk));

	/* §A10 "Command line": at 0x1000, NUL-terminated.  Linear mode lets
	 * NOTIFY print it in place, between two markers. */
	early_puts("cmdline [");
	early_puts((const char *)0x1000);
	say("]");
	finish();
}
