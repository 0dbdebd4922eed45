/*
 * Loading a guest: the kernel (ELF or bzImage), an optional initrd at the
 * top of RAM, and the Linux boot_params page at guest-physical 0 with the
 * command line at 0x1000, exactly as the 3.x launcher prepared them
 * (shared/reference/lguest-abi-addendum.md §A10).
 */
#ifndef LGUEST_BOOT_H
#define LGUEST_BOOT_H

#include "guest.h"

#define BOOT_CMDLINE_ADDR 0x1000u
#define BOOT_BZIMAGE_LOAD 0x100000u

struct boot_image {
	uint32_t entry;      /* first instruction (guest-physical for Linux) */
	uint32_t image_low;  /* lowest loaded guest-physical byte */
	uint32_t image_high; /* one past the highest */
	bool is_elf;
	uint32_t initrd_addr; /* 0 when there is none */
	uint32_t initrd_len;  /* page-aligned length */
};

/*
 * Load `path` into guest memory.  On failure, `err` says which file,
 * which segment and why, with hex addresses.
 */
bool boot_load_kernel(struct guest_mem *m, const char *path, struct boot_image *img, char *err, size_t errlen);

/* Load an initrd at the top of RAM (mem - its page-aligned size). */
bool boot_load_initrd(struct guest_mem *m, const char *path, struct boot_image *img, char *err, size_t errlen);

/* Fill boot_params at 0 and the command line at 0x1000. */
bool boot_setup_params(struct guest_mem *m, const struct boot_image *img, const char *cmdline, char *err,
                       size_t errlen);

#endif
