/*
 * Legacy split virtqueues, read with suspicion.
 *
 * The rings live in guest memory and the guest can write anything into
 * them at any time, so every index, every descriptor link and every
 * buffer address is checked before it is used, with the 3.19 launcher's
 * words when one is bad (addendum §A11, "Service rules").
 *
 * Layout of a 256-entry ring at pfn * 4096: descriptors (16 bytes each:
 * u64 addr, u32 len, u16 flags, u16 next), then the avail ring (u16 flags,
 * u16 idx, u16 ring[256]), then, at the next 4096 boundary, the used ring
 * (u16 flags, u16 idx, {u32 id, u32 len}[256]).
 */
#include <string.h>

#include "devices.h"
#include "host/host.h"

#define VRING_DESC_F_NEXT 1
#define VRING_DESC_F_WRITE 2
#define VRING_DESC_F_INDIRECT 4
#define VRING_AVAIL_F_NO_INTERRUPT 1
#define DESC_SIZE 16
#define AVAIL_OFFSET (DESC_SIZE * VIRTQUEUE_NUM)
#define USED_OFFSET (2 * GUEST_PAGE_SIZE)
#define RING_BYTES (3 * GUEST_PAGE_SIZE)

static uint8_t *ring_base(struct lguest *lg, struct virtqueue *vq)
{
	return guest_ptr(&lg->mem, vq->pfn * GUEST_PAGE_SIZE);
}

static uint16_t avail_idx(struct lguest *lg, struct virtqueue *vq)
{
	return get_le16(ring_base(lg, vq) + AVAIL_OFFSET + 2);
}

bool vq_has_buffers(struct lguest *lg, struct virtqueue *vq)
{
	return avail_idx(lg, vq) != vq->last_avail_idx;
}

/*
 * Is a guest buffer wholly inside guest memory?  The launcher's
 * check_pointer: addr + len must not pass the limit (so an empty buffer
 * exactly at the limit is fine) and must not wrap.
 */
static bool buffer_ok(struct lguest *lg, uint64_t addr, uint32_t len)
{
	return addr <= lg->mem.limit_bytes && len <= lg->mem.limit_bytes - addr;
}

/* Follow one descriptor chain (direct, or through one indirect table) into c->iov. */
static bool walk_chain(struct lguest *lg, struct virtqueue *vq, struct chain *c)
{
	const uint8_t *table = ring_base(lg, vq);
	unsigned max = VIRTQUEUE_NUM, i = c->head, count = 0;
	bool indirect = false;

	for (;;) {
		const uint8_t *d = table + DESC_SIZE * i;
		uint64_t addr = (uint64_t)get_le32(d + 4) << 32 | get_le32(d);
		uint32_t len = get_le32(d + 8);
		uint16_t flags = get_le16(d + 12), next = get_le16(d + 14);

		if (++count > max) {
			kill_guest(lg, "Looped descriptor");
			return false;
		}
		if (flags & VRING_DESC_F_INDIRECT) {
			if (indirect) {
				kill_guest(lg, "Indirect within indirect");
				return false;
			}
			if (len % DESC_SIZE || !len) {
				kill_guest(lg, "Invalid size for indirect buffer table");
				return false;
			}
			if (!buffer_ok(lg, addr, len)) {
				kill_guest(lg, "Invalid address 0x%llx len %u in the %s device's queue %u",
				           (unsigned long long)addr, len, vq->dev->name, vq->index);
				return false;
			}
			table = guest_ptr(&lg->mem, (uint32_t)addr);
			max = len / DESC_SIZE;
			i = 0;
			count = 0;
			indirect = true;
			continue;
		}
		if (!buffer_ok(lg, addr, len)) {
			kill_guest(lg, "Invalid address 0x%llx len %u in the %s device's queue %u", (unsigned long long)addr,
			           len, vq->dev->name, vq->index);
			return false;
		}
		if (c->out + c->in == MAX_CHAIN_IOV) {
			kill_guest(lg, "Looped descriptor");
			return false;
		}
		EMIT(lg, EV_VQ_BUFFER, 0, (uint32_t)(vq->dev - lg->devices.dev), vq->index, c->head, (uint32_t)addr, len,
		     flags);
		struct iovec *iov = &c->iov[c->out + c->in];
		iov->iov_base = guest_ptr(&lg->mem, (uint32_t)addr);
		iov->iov_len = len;
		if (flags & VRING_DESC_F_WRITE) {
			c->in++;
		} else {
			if (c->in) {
				kill_guest(lg, "Descriptor has out after in");
				return false;
			}
			c->out++;
		}
		if (!(flags & VRING_DESC_F_NEXT))
			return true;
		if (next >= max) {
			kill_guest(lg, "Desc next is %u", next);
			return false;
		}
		i = next;
	}
}

/*
 * Take the next available chain.  Returns false when there is none, or
 * when the guest broke a rule (it is then killed).
 */
bool vq_get_chain(struct lguest *lg, struct virtqueue *vq, struct chain *c)
{
	uint8_t *avail = ring_base(lg, vq) + AVAIL_OFFSET;
	uint16_t idx = get_le16(avail + 2);

	if ((uint16_t)(idx - vq->last_avail_idx) > VIRTQUEUE_NUM) {
		kill_guest(lg, "Guest moved used index from %u to %u", vq->last_avail_idx, idx);
		return false;
	}
	if (idx == vq->last_avail_idx)
		return false;
	uint16_t head = get_le16(avail + 4 + 2 * (vq->last_avail_idx % VIRTQUEUE_NUM));
	vq->last_avail_idx++;
	if (head >= VIRTQUEUE_NUM) {
		kill_guest(lg, "Guest says index %u is available", head);
		return false;
	}
	c->head = head;
	c->out = c->in = 0;
	return walk_chain(lg, vq, c);
}

/* Publish a finished chain in the used ring. */
void vq_add_used(struct lguest *lg, struct virtqueue *vq, uint16_t head, uint32_t len)
{
	uint8_t *used = ring_base(lg, vq) + USED_OFFSET;
	uint16_t idx = get_le16(used + 2);
	uint8_t *e = used + 4 + 8 * (idx % VIRTQUEUE_NUM);
	put_le32(e, head);
	put_le32(e + 4, len);
	put_le16(used + 2, (uint16_t)(idx + 1));
	vq->pending_used = true;
}

/* Interrupt the guest for new used entries, unless it asked us not to. */
void vq_trigger_irq(struct lguest *lg, struct virtqueue *vq, bool force)
{
	if (!vq->pending_used && !force)
		return;
	vq->pending_used = false;
	if (get_le16(ring_base(lg, vq) + AVAIL_OFFSET) & VRING_AVAIL_F_NO_INTERRUPT)
		return;
	set_interrupt(lg, vq->irq);
}

/* A device reset zeroes the whole ring and forgets where we were. */
void vq_reset(struct lguest *lg, struct virtqueue *vq)
{
	memset(ring_base(lg, vq), 0, RING_BYTES);
	cpu_code_modified(&lg->cpu, vq->pfn * GUEST_PAGE_SIZE, RING_BYTES);
	vq->last_avail_idx = 0;
	vq->pending_used = false;
}
