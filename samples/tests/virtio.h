/*
 * Driving the lguest bus from a test guest (samples/tests/dev-<name>/),
 * the way Linux 3.19's lguest_device.c and virtio_ring.c do it, with
 * physical addresses (the guest stays in linear mode: virtual = physical).
 *
 * Facts used (lguest-abi.md §9.4, addendum §A11):
 *  - the device descriptor page is at guest-physical `mem`, the RAM size,
 *    read from boot_params' only e820 entry (0x2d0: u64 addr, u64 size);
 *  - records are packed from offset 0: u8 type, num_vq, feature_len,
 *    config_len, status; num_vq x {u16 num, u16 irq, u32 pfn}; the
 *    offered feature bytes; the accepted feature bytes; the config;
 *  - a 256-entry ring at pfn*4096: descriptors, then the avail ring, then
 *    the used ring at the next page boundary (pfn*4096 + 8192);
 *  - kick = NOTIFY(pfn*4096); status change = NOTIFY(mem + record offset);
 *  - IRQ n arrives at vector 32 + n.
 * The kernel command line (at boot_params.cmd_line_ptr) picks a variant,
 * so one guest ELF can cover several related tests.
 */
#ifndef SAMPLES_TESTS_VIRTIO_H
#define SAMPLES_TESTS_VIRTIO_H

#include "common.h"

#define VIRTIO_ID_BLOCK 2
#define VIRTIO_ID_CONSOLE 3

/* A virtio-blk request starts with this header; one status byte ends it. */
#define BLK_T_IN 0
#define BLK_T_OUT 1
#define BLK_T_FLUSH 4
#define BLK_T_GET_ID 8

struct blk_hdr {
	u32 type, ioprio;
	u64 sector;
};

#define STATUS_ACKNOWLEDGE 1
#define STATUS_DRIVER 2
#define STATUS_DRIVER_OK 4
#define STATUS_FAILED 0x80

#define VRING_NUM 256
#define VRING_DESC_F_NEXT 1
#define VRING_DESC_F_WRITE 2
#define VRING_DESC_F_INDIRECT 4
#define VRING_AVAIL_F_NO_INTERRUPT 1
#define VRING_BYTES (3 * 4096)
#define VRING_USED_OFFSET 8192

#define RECORD_HEADER 5
#define VQCONFIG_SIZE 8

struct vring_desc {
	u64 addr;
	u32 len;
	u16 flags;
	u16 next;
};

struct vring_avail {
	u16 flags;
	u16 idx;
	u16 ring[VRING_NUM];
};

struct vring_used_elem {
	u32 id;
	u32 len;
};

struct vring_used {
	u16 flags;
	u16 idx;
	struct vring_used_elem ring[VRING_NUM];
};

/* ---- boot_params ---- */

/* A pointer to a physical address; hidden from the compiler, which
 * otherwise treats small constant addresses as out of bounds. */
static inline volatile void *phys(u32 addr)
{
	asm("" : "+r"(addr));
	return (volatile void *)addr;
}

/* The RAM size, which is also where the descriptor page starts. */
static inline u32 guest_mem(void)
{
	return *(volatile u32 *)phys(0x2d8);
}

/* Is `word` one of the space-separated words of the kernel command line? */
static inline int has_arg(const char *word)
{
	const char *p = (const char *)phys(*(volatile u32 *)phys(0x228));
	while (*p) {
		const char *w = word;
		while (*p && *p == *w) {
			p++;
			w++;
		}
		if (!*w && (!*p || *p == ' '))
			return 1;
		while (*p && *p != ' ')
			p++;
		while (*p == ' ')
			p++;
	}
	return 0;
}

/* ---- Device records ---- */

/* One device as its record in the descriptor page describes it. */
struct lg_dev {
	volatile u8 *rec;
	u32 offset;
	u8 type, num_vq, feature_len, config_len;
};

static inline u32 record_size(const volatile u8 *rec)
{
	return RECORD_HEADER + VQCONFIG_SIZE * rec[1] + 2u * rec[2] + rec[3];
}

/* Fill *d with the index'th record; 0 if the page has fewer (type 0 ends the list). */
static inline int dev_find(struct lg_dev *d, unsigned index)
{
	volatile u8 *page = (volatile u8 *)guest_mem();
	u32 offset = 0;
	for (unsigned i = 0;; i++) {
		volatile u8 *rec = page + offset;
		if (offset + RECORD_HEADER > 4096 || rec[0] == 0)
			return 0;
		if (i == index) {
			d->rec = rec;
			d->offset = offset;
			d->type = rec[0];
			d->num_vq = rec[1];
			d->feature_len = rec[2];
			d->config_len = rec[3];
			return 1;
		}
		offset += record_size(rec);
	}
}

/* The first device of a type, or 0. */
static inline int dev_find_type(struct lg_dev *d, u8 type)
{
	for (unsigned i = 0; dev_find(d, i); i++)
		if (d->type == type)
			return 1;
	return 0;
}

static inline volatile u8 *dev_vqconfig(const struct lg_dev *d, unsigned q)
{
	return d->rec + RECORD_HEADER + VQCONFIG_SIZE * q;
}

static inline volatile u8 *dev_offered(const struct lg_dev *d)
{
	return d->rec + RECORD_HEADER + VQCONFIG_SIZE * d->num_vq;
}

static inline volatile u8 *dev_accepted(const struct lg_dev *d)
{
	return dev_offered(d) + d->feature_len;
}

static inline volatile u8 *dev_config(const struct lg_dev *d)
{
	return dev_offered(d) + 2 * d->feature_len;
}

/* Little-endian reads from a record (the fields are not aligned). */
static inline u32 get16(const volatile u8 *p)
{
	return p[0] | (u32)p[1] << 8;
}

static inline u32 get32(const volatile u8 *p)
{
	return get16(p) | get16(p + 2) << 16;
}

/* The address that reports a status change of this device. */
static inline u32 dev_status_addr(const struct lg_dev *d)
{
	return guest_mem() + d->offset;
}

/* Write the status byte without telling the host (Linux's set_status). */
static inline void dev_set_status(const struct lg_dev *d, u8 status)
{
	d->rec[4] = status;
}

/* Write the status byte and NOTIFY the record (Linux's status_notify). */
static inline void dev_status_notify(const struct lg_dev *d, u8 status)
{
	d->rec[4] = status;
	hcall(LHCALL_NOTIFY, dev_status_addr(d), 0, 0, 0);
}

/* Linux's probe up to finalize_features: ACKNOWLEDGE, DRIVER, accept
 * every offered feature, then the one status NOTIFY (status 3). */
static inline void dev_start(const struct lg_dev *d)
{
	dev_set_status(d, STATUS_ACKNOWLEDGE);
	dev_set_status(d, STATUS_ACKNOWLEDGE | STATUS_DRIVER);
	for (unsigned i = 0; i < d->feature_len; i++)
		dev_accepted(d)[i] = dev_offered(d)[i];
	dev_status_notify(d, STATUS_ACKNOWLEDGE | STATUS_DRIVER);
}

/* ---- Virtqueues ---- */

struct vq {
	u32 pfn, num, irq;
	volatile struct vring_desc *desc;
	volatile struct vring_avail *avail;
	volatile struct vring_used *used;
	u16 next_desc; /* descriptors are handed out round the table */
	u16 used_seen; /* used entries already taken */
};

/* Map queue q of a device, taking the ring as it is now. */
static inline void vq_init(struct vq *vq, const struct lg_dev *d, unsigned q)
{
	volatile u8 *c = dev_vqconfig(d, q);
	vq->num = get16(c);
	vq->irq = get16(c + 2);
	vq->pfn = get32(c + 4);
	vq->desc = (volatile struct vring_desc *)(vq->pfn * 4096);
	vq->avail = (volatile struct vring_avail *)(vq->pfn * 4096 + 16 * VRING_NUM);
	vq->used = (volatile struct vring_used *)(vq->pfn * 4096 + VRING_USED_OFFSET);
	vq->next_desc = 0;
	vq->used_seen = vq->used->idx;
}

/* One buffer of a chain: flags 0 (the host reads it) or VRING_DESC_F_WRITE. */
struct vbuf {
	const volatile void *addr;
	u32 len;
	u16 flags;
};

/* Put a chain of n buffers in the table and publish its head; returns the head. */
static inline u16 vq_add(struct vq *vq, const struct vbuf *bufs, unsigned n)
{
	u16 head = vq->next_desc;
	for (unsigned i = 0; i < n; i++) {
		u16 at = (u16)((head + i) % VRING_NUM);
		vq->desc[at].addr = (u32)bufs[i].addr;
		vq->desc[at].len = bufs[i].len;
		vq->desc[at].flags = bufs[i].flags | (i + 1 < n ? VRING_DESC_F_NEXT : 0);
		vq->desc[at].next = (u16)((at + 1) % VRING_NUM);
	}
	vq->next_desc = (u16)((head + n) % VRING_NUM);
	vq->avail->ring[vq->avail->idx % VRING_NUM] = head;
	asm volatile("" ::: "memory");
	vq->avail->idx++;
	return head;
}

/* Tell the host the queue has new buffers (Linux's lg_notify). */
static inline void vq_kick(const struct vq *vq)
{
	hcall(LHCALL_NOTIFY, vq->pfn * 4096, 0, 0, 0);
}

/* Take the next used entry; 0 if the host has published none. */
static inline int vq_get_used(struct vq *vq, u32 *id, u32 *len)
{
	*id = *len = 0xffffffff;
	if (vq->used->idx == vq->used_seen)
		return 0;
	volatile struct vring_used_elem *e = &vq->used->ring[vq->used_seen % VRING_NUM];
	*id = e->id;
	*len = e->len;
	vq->used_seen++;
	return 1;
}

/* Ask the host for no interrupts on this queue (or allow them again). */
static inline void vq_interrupts(struct vq *vq, int on)
{
	vq->avail->flags = on ? 0 : VRING_AVAIL_F_NO_INTERRUPT;
}

/* ---- Interrupts ---- */

/* Interrupts seen per IRQ number (vector 32 + n); the stubs only count. */
volatile u32 irq_count[8];

#define IRQ_STUB(n)                                             \
	void irq_stub_##n(void);                                \
	asm(".pushsection .text\n"                              \
	    "irq_stub_" #n ":\n"                                \
	    "	incl irq_count+4*" #n "\n"                     \
	    "	iret\n"                                         \
	    ".popsection")

IRQ_STUB(0);
IRQ_STUB(1);
IRQ_STUB(2);
IRQ_STUB(3);
IRQ_STUB(4);
IRQ_STUB(5);
IRQ_STUB(6);
IRQ_STUB(7);

/* Interrupt gates for IRQs 0-7 (vectors 32-39), as Linux installs them. */
static inline void irq_gates_install(void)
{
	void (*const stubs[8])(void) = {irq_stub_0, irq_stub_1, irq_stub_2, irq_stub_3,
	                                irq_stub_4, irq_stub_5, irq_stub_6, irq_stub_7};
	for (u32 i = 0; i < 8; i++)
		set_gate(32 + i, stubs[i], GATE_INTERRUPT, 0);
}

/* Let interrupts in (an interrupt gate clears irq_enabled again). */
static inline void irqs_on(void)
{
	lg_data.irq_enabled = 0x200;
	lg_data.blocked_interrupts = 0;
}

/* Give the host a point to deliver anything pending: a harmless hypercall. */
static inline void irq_window(void)
{
	hcall(LHCALL_FLUSH_ASYNC, 0, 0, 0, 0);
}

/* ---- Small output helpers ---- */

static inline void out_dec(u32 v)
{
	char digits[10];
	int n = 0;
	do {
		digits[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n && out_len < sizeof(out_line) - 2)
		out_line[out_len++] = digits[--n];
}

#endif
