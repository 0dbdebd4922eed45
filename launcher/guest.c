/* Guest-physical memory: reservation and the range check lg.ko used. */
#include "guest.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

/*
 * RAM and the device pages come from one anonymous mapping, so guest
 * memory starts zeroed (Linux relies on that for its BSS when the kernel
 * is mapped from the file) and the ELF loader can map kernel segments over
 * parts of it.
 */
bool guest_mem_init(struct guest_mem *m, uint32_t ram_mb, char *err, size_t errlen)
{
	uint64_t ram = (uint64_t)ram_mb << 20;
	uint64_t total = ram + (uint64_t)GUEST_DEVICE_PAGES * GUEST_PAGE_SIZE;

	memset(m, 0, sizeof(*m));
	if (ram_mb == 0 || total > 0xC0000000ull) {
		snprintf(err, errlen, "memory size %u MB is not between 1 and %u", ram_mb,
		         (unsigned)((0xC0000000ull - GUEST_DEVICE_PAGES * GUEST_PAGE_SIZE) >> 20));
		return false;
	}
	void *p = mmap(NULL, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED) {
		snprintf(err, errlen, "cannot reserve %llu bytes of guest memory: %s",
		         (unsigned long long)total, strerror(errno));
		return false;
	}
	m->base = p;
	m->ram_bytes = (uint32_t)ram;
	m->mapped_bytes = (uint32_t)total;
	m->limit_bytes = (uint32_t)ram;
	return true;
}

/* Give the reservation back. */
void guest_mem_destroy(struct guest_mem *m)
{
	if (m->base)
		munmap(m->base, m->mapped_bytes);
	m->base = NULL;
}

/* lguest_address_ok() of the 3.x hosts, strict comparison included. */
bool guest_range_ok(const struct guest_mem *m, uint32_t addr, uint32_t len)
{
	uint32_t end = addr + len;
	if (end < addr)
		return false;
	return end / GUEST_PAGE_SIZE < m->limit_bytes / GUEST_PAGE_SIZE;
}
