/*
 * Building a host-side guest for unit tests: created and started as the
 * launcher would, without a kernel, so a test can drive hypercalls, traps
 * and page-table rules directly.  Shared by tests/unit/host_*.c.
 */
#ifndef HOST_TESTGUEST_H
#define HOST_TESTGUEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/host.h"

/* A started guest with `mb` MB of RAM and an initrd of `initrd_len` bytes (page-aligned). */
static inline struct lguest *new_guest(const struct abi_profile *abi, uint32_t mb, uint32_t initrd_len)
{
	struct lguest_options opt = {.abi = abi, .mem_mb = mb, .syscall_vector = 0x80};
	struct lguest *lg = calloc(1, sizeof(*lg));
	char err[200];
	if (!lg || !lguest_create(lg, &opt, err, sizeof(err))) {
		printf("FAIL creating a %u MB guest: %s\n", mb, lg ? err : "out of memory");
		exit(1);
	}
	lg->image.initrd_len = initrd_len;
	lg->image.initrd_addr = initrd_len ? lg->mem.ram_bytes - initrd_len : 0;
	lguest_start(lg);
	return lg;
}

static inline void free_guest(struct lguest *lg)
{
	lguest_destroy(lg);
	free(lg);
}

/* Put a 1396- or 1392-byte lguest_data at `addr` with this syscall_vec and kernel_address. */
static inline void write_lguest_data(struct lguest *lg, uint32_t addr, const struct abi_profile *layout, uint32_t vec,
                              uint32_t kernel_address)
{
	memset(guest_ptr(&lg->mem, addr), 0, layout->lguest_data_size);
	memset(guest_ptr(&lg->mem, addr + LD_HCALL_STATUS), 0xff, LHCALL_RING_SIZE);
	put_le32(guest_ptr(&lg->mem, addr + layout->off_syscall_vec), vec);
	put_le32(guest_ptr(&lg->mem, addr + layout->off_kernel_address), kernel_address);
}

/* Make LGUEST_INIT(addr) as the first hypercall. */
static inline void do_init(struct lguest *lg, uint32_t addr)
{
	lg->hcall = (struct hcall_args){LHCALL_LGUEST_INIT, addr, 0, 0, 0};
	lg->hcall_pending = true;
	do_hypercalls(lg);
}

#endif
