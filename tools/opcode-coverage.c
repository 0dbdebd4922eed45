/*
 * `make coverage`: print the one-byte and the two-byte (0x0F) opcode maps
 * as 16x16 grids, implemented opcodes marked, followed by a list of every
 * opcode with the interpreter's mnemonic or "-" for the ones it stops at
 * with CPU_STOP_UNIMPLEMENTED.
 */
#include <stdio.h>

#include "cpu/cpu.h"

/* One map as a grid (rows: high nibble, columns: low nibble). */
static unsigned print_grid(unsigned map, const char *title)
{
	unsigned implemented = 0;
	printf("%s (# implemented, . not)\n    ", title);
	for (unsigned lo = 0; lo < 16; lo++)
		printf(" %X", lo);
	printf("\n");
	for (unsigned hi = 0; hi < 16; hi++) {
		printf("  %X ", hi);
		for (unsigned lo = 0; lo < 16; lo++) {
			bool yes = cpu_opcode_coverage(map, (uint8_t)(hi << 4 | lo)) != NULL;
			implemented += yes;
			printf(" %c", yes ? '#' : '.');
		}
		printf("\n");
	}
	printf("  %u of 256 implemented\n\n", implemented);
	return implemented;
}

static void print_list(unsigned map, const char *prefix)
{
	for (unsigned op = 0; op < 256; op++) {
		const char *name = cpu_opcode_coverage(map, (uint8_t)op);
		printf("%s%02X  %s\n", prefix, op, name ? name : "-");
	}
}

int main(void)
{
	print_grid(1, "One-byte opcode map");
	print_grid(2, "Two-byte opcode map (0F xx)");
	print_list(1, "");
	print_list(2, "0F ");
	return 0;
}
