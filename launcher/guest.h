/*
 * Guest-physical memory: one flat range starting at guest-physical 0.
 *
 * We reserve RAM plus 256 device pages above it (as the historical launcher
 * did), but the guest may only touch what lg.ko's pfn limit allowed: RAM
 * plus the device pages actually in use.  Every guest-supplied address goes
 * through guest_range_ok() before we touch it.
 */
#ifndef LGUEST_GUEST_H
#define LGUEST_GUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GUEST_PAGE_SIZE 4096u
#define GUEST_DEVICE_PAGES 256u

struct guest_mem {
	uint8_t *base;         /* launcher address of guest-physical 0 */
	uint32_t ram_bytes;    /* RAM, as given on the command line */
	uint32_t mapped_bytes; /* RAM plus the reserved device pages */
	uint32_t limit_bytes;  /* RAM plus device pages in use: lg.ko's pfn_limit * 4096 */
};

/* Reserve zeroed memory for `ram_mb` megabytes of RAM and the device pages. */
bool guest_mem_init(struct guest_mem *m, uint32_t ram_mb, char *err, size_t errlen);
void guest_mem_destroy(struct guest_mem *m);

/*
 * lg.ko's address check for [addr, addr+len): the end must lie in a page
 * below the pfn limit ((addr+len)/4096 < pfn_limit, strictly) and must not
 * wrap.  Note the quirk: the very last byte of the last page is unreachable.
 */
bool guest_range_ok(const struct guest_mem *m, uint32_t addr, uint32_t len);

/* Launcher pointer for guest-physical `addr`; only after guest_range_ok(). */
static inline void *guest_ptr(const struct guest_mem *m, uint32_t addr)
{
	return m->base + addr;
}

/* Little-endian loads and stores at launcher pointers into guest memory. */
static inline uint32_t get_le32(const void *p)
{
	const uint8_t *b = p;
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}
static inline uint16_t get_le16(const void *p)
{
	const uint8_t *b = p;
	return (uint16_t)(b[0] | b[1] << 8);
}
static inline void put_le32(void *p, uint32_t v)
{
	uint8_t *b = p;
	b[0] = (uint8_t)v;
	b[1] = (uint8_t)(v >> 8);
	b[2] = (uint8_t)(v >> 16);
	b[3] = (uint8_t)(v >> 24);
}
static inline void put_le16(void *p, uint16_t v)
{
	uint8_t *b = p;
	b[0] = (uint8_t)v;
	b[1] = (uint8_t)(v >> 8);
}

#endif
