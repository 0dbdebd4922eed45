/*
 * Hostile vring guests: one variant per validation rule of the 3.19
 * launcher (addendum §A11 "Service rules", "NOTIFY dispatch", "Block").
 * Each variant starts the console (or, for block-*, the first --block
 * device) the way Linux does, breaks one rule in its ring, kicks, and must
 * be killed with the rule's own words.  The variant is the one word on
 * the kernel command line:
 *
 *   avail-idx       avail idx moved from 0 to 300     "Guest moved used index from 0 to 300"
 *   head            avail ring names head 300         "Guest says index 300 is available"
 *   next            a descriptor links to 300         "Desc next is 300"
 *   out-after-in    readable after writable           "Descriptor has out after in"
 *   loop            two descriptors linked in a ring  "Looped descriptor"
 *   beyond          buffer at the guest limit         "Invalid address 0x..."
 *   straddle        buffer across the guest limit     "Invalid address 0x..."
 *   wrap            buffer wrapping past 4 GB         "Invalid address 0xfffffff0..."
 *   zero-at-limit   a 0-byte buffer at the limit: addr + len > limit is false, so it is accepted
 *   notify-limit    NOTIFY(limit - 1) prints the one byte there; NOTIFY(limit) "Bad NOTIFY <limit>"
 *   block-no-status a request with no writable byte   "Bad virtblk cmd with no room for status"
 *   block-empty-status the only writable descriptor is empty: the same
 *   block-short-header a 8-byte header                "iovec too short!"
 *
 * Two more rules of the 3.x launcher's console (its console_input and
 * console_output), not yet in the addendum:
 *   rx-readable     a readable buffer in the receive queue   "Output buffers in console in queue?"
 *   tx-writable     a writable buffer in the transmit queue  "Input buffers in console output queue?"
 */
#include "../virtio.h"

static struct lg_dev dev;
static struct vq vq;
static u8 buf[64] = "hostile\n";

/* The end of guest memory as the host sees it: after the last ring. */
static u32 guest_limit(void)
{
	struct lg_dev d;
	u32 limit = guest_mem() + 4096;
	for (unsigned i = 0; dev_find(&d, i); i++)
		for (unsigned q = 0; q < d.num_vq; q++) {
			u32 end = (get32(dev_vqconfig(&d, q) + 4) + 3) * 4096;
			if (end > limit)
				limit = end;
		}
	return limit;
}

/* Start a device and take queue q, as Linux's probe would. */
static void open_queue(u8 type, unsigned q)
{
	if (!dev_find_type(&dev, type)) {
		say("device missing");
		finish();
	}
	vq_init(&vq, &dev, q);
	dev_start(&dev);
}

static void set_desc(u16 i, u32 addr, u32 len, u16 flags, u16 next)
{
	vq.desc[i].addr = addr;
	vq.desc[i].len = len;
	vq.desc[i].flags = flags;
	vq.desc[i].next = next;
}

/* Publish head 0 and kick. */
static void publish_and_kick(void)
{
	vq.avail->ring[0] = 0;
	vq.avail->idx = 1;
	vq_kick(&vq);
}

/* The transmit queue with one descriptor at (addr, len). */
static void transmit_buffer(u32 addr, u32 len)
{
	open_queue(VIRTIO_ID_CONSOLE, 1);
	set_desc(0, addr, len, 0, 0);
	publish_and_kick();
}

static struct vring_desc indirect_table[2] __attribute__((aligned(16)));

static struct {
	u32 type, ioprio;
	u64 sector;
} hdr;
static u8 status_byte;

static void block_request(const struct vbuf *bufs, unsigned n)
{
	open_queue(VIRTIO_ID_BLOCK, 0);
	vq_add(&vq, bufs, n);
	vq_kick(&vq);
}

void guest_main(void)
{
	guest_init();
	u32 limit = guest_limit();

	if (has_arg("avail-idx")) {
		open_queue(VIRTIO_ID_CONSOLE, 1);
		vq.avail->idx = 300;
		vq_kick(&vq);
	} else if (has_arg("head")) {
		open_queue(VIRTIO_ID_CONSOLE, 1);
		vq.avail->ring[0] = 300;
		vq.avail->idx = 1;
		vq_kick(&vq);
	} else if (has_arg("next")) {
		open_queue(VIRTIO_ID_CONSOLE, 1);
		set_desc(0, (u32)buf, 8, VRING_DESC_F_NEXT, 300);
		publish_and_kick();
	} else if (has_arg("out-after-in")) {
		open_queue(VIRTIO_ID_CONSOLE, 1);
		set_desc(0, (u32)buf, 8, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
		set_desc(1, (u32)buf, 8, 0, 0);
		publish_and_kick();
	} else if (has_arg("loop")) {
		open_queue(VIRTIO_ID_CONSOLE, 1);
		set_desc(0, (u32)buf, 8, VRING_DESC_F_NEXT, 1);
		set_desc(1, (u32)buf, 8, VRING_DESC_F_NEXT, 0);
		publish_and_kick();
	} else if (has_arg("beyond")) {
		transmit_buffer(limit, 16);
	} else if (has_arg("straddle")) {
		transmit_buffer(limit - 8, 16);
	} else if (has_arg("wrap")) {
		transmit_buffer(0xfffffff0u, 0x20);
	} else if (has_arg("zero-at-limit")) {
		transmit_buffer(limit, 0);
		u32 id, len;
		check("empty buffer at the limit served", vq_get_used(&vq, &id, &len), 1);
	} else if (has_arg("notify-limit")) {
		*(volatile u8 *)(limit - 1) = 'Z';
		hcall(LHCALL_NOTIFY, limit - 1, 0, 0, 0);
		hcall(LHCALL_NOTIFY, limit, 0, 0, 0);
	} else if (has_arg("block-no-status")) {
		const struct vbuf req[2] = {{&hdr, sizeof(hdr), 0}, {buf, 64, 0}};
		block_request(req, 2);
	} else if (has_arg("block-empty-status")) {
		const struct vbuf req[2] = {{&hdr, sizeof(hdr), 0}, {&status_byte, 0, VRING_DESC_F_WRITE}};
		block_request(req, 2);
	} else if (has_arg("block-short-header")) {
		const struct vbuf req[2] = {{&hdr, 8, 0}, {&status_byte, 1, VRING_DESC_F_WRITE}};
		block_request(req, 2);
	} else if (has_arg("rx-readable")) {
		open_queue(VIRTIO_ID_CONSOLE, 0);
		set_desc(0, (u32)buf, 8, 0, 0);
		publish_and_kick();
		hcall(LHCALL_HALT, 0, 0, 0, 0);
	} else if (has_arg("indirect-ok")) {
		/* §A11: indirect tables are accepted (a length that is a multiple of 16). */
		static const char text[] = "via an indirect table\n";
		open_queue(VIRTIO_ID_CONSOLE, 1);
		indirect_table[0] = (struct vring_desc){(u32)text, 4, VRING_DESC_F_NEXT, 1};
		indirect_table[1] = (struct vring_desc){(u32)text + 4, sizeof(text) - 5, 0, 0};
		set_desc(0, (u32)indirect_table, 2 * sizeof(struct vring_desc), VRING_DESC_F_INDIRECT, 0);
		publish_and_kick();
		u32 id, len;
		check("indirect chain served", vq_get_used(&vq, &id, &len), 1);
	} else if (has_arg("indirect-size")) {
		open_queue(VIRTIO_ID_CONSOLE, 1);
		set_desc(0, (u32)indirect_table, 24, VRING_DESC_F_INDIRECT, 0);
		publish_and_kick();
	} else if (has_arg("indirect-nested")) {
		open_queue(VIRTIO_ID_CONSOLE, 1);
		indirect_table[0] = (struct vring_desc){(u32)indirect_table, 32, VRING_DESC_F_INDIRECT, 0};
		set_desc(0, (u32)indirect_table, 2 * sizeof(struct vring_desc), VRING_DESC_F_INDIRECT, 0);
		publish_and_kick();
	} else if (has_arg("indirect-loop")) {
		open_queue(VIRTIO_ID_CONSOLE, 1);
		indirect_table[0] = (struct vring_desc){(u32)buf, 8, VRING_DESC_F_NEXT, 1};
		indirect_table[1] = (struct vring_desc){(u32)buf, 8, VRING_DESC_F_NEXT, 0};
		set_desc(0, (u32)indirect_table, 2 * sizeof(struct vring_desc), VRING_DESC_F_INDIRECT, 0);
		publish_and_kick();
	} else if (has_arg("tx-writable")) {
		open_queue(VIRTIO_ID_CONSOLE, 1);
		set_desc(0, (u32)buf, 8, VRING_DESC_F_WRITE, 0);
		publish_and_kick();
	} else {
		say("no variant given");
	}
	say("survived");
	finish();
}
