/*
 * The virtio block device through a real vring (addendum §A11 "Block"):
 * run with --block=FILE, where FILE is 64 KiB whose byte i is
 * (i*7 + (i>>9)*13) & 0xff.  Reads, a write the test script then finds on
 * disk, flush, GET_ID (a read in 3.x), a short read at the end, and the
 * queue's interrupt on and off.
 *
 * Variants (kernel command line):
 *   (none)   the round trip; sector 5 is rewritten with (0xa5 ^ j*3) & 0xff
 *   pastend  a write running past the end of the file: the guest dies
 *            "Write past end 65024+1024"
 *   layout   print every record (type, queues, IRQs, capacity) and the
 *            first byte of each disk: for two --block devices
 */
#include "../virtio.h"

static struct lg_dev blk;
static struct vq bq;
static struct blk_hdr hdr;
static u8 data[1024];
static u8 blk_status;

static u8 disk_pattern(u32 i)
{
	return (u8)(i * 7 + (i >> 9) * 13);
}

static u8 new_pattern(u32 j)
{
	return (u8)(0xa5 ^ (j * 3));
}

/*
 * One request: the header, the data split at `split` into two
 * descriptors (readable for a write, writable otherwise), the status byte.
 * Returns the used length (0xffffffff if the request was not served).
 */
static u32 request(u32 type, u32 sector, u32 len, u32 split)
{
	u32 id, used_len;
	u16 data_flags = type == BLK_T_OUT ? 0 : VRING_DESC_F_WRITE;
	struct vbuf req[4];
	unsigned n = 0;
	hdr = (struct blk_hdr){type, 0, sector};
	blk_status = 0xff;
	req[n++] = (struct vbuf){&hdr, sizeof(hdr), 0};
	if (split && split < len) {
		req[n++] = (struct vbuf){data, split, data_flags};
		req[n++] = (struct vbuf){data + split, len - split, data_flags};
	} else if (len) {
		req[n++] = (struct vbuf){data, len, data_flags};
	}
	req[n++] = (struct vbuf){&blk_status, 1, VRING_DESC_F_WRITE};
	u16 head = vq_add(&bq, req, n);
	vq_kick(&bq);
	if (!vq_get_used(&bq, &id, &used_len) || id != head)
		return 0xffffffff;
	return used_len;
}

/* Bytes of data[0..len) that differ from pattern(base + i). */
static u32 mismatches(u32 len, u32 base, u8 (*pattern)(u32))
{
	u32 bad = 0;
	for (u32 i = 0; i < len; i++)
		bad += ((volatile u8 *)data)[i] != pattern(base + i);
	return bad;
}

static void start_block(void)
{
	if (!dev_find(&blk, 0) || blk.type != VIRTIO_ID_BLOCK) {
		say("no block device first");
		finish();
	}
	vq_init(&bq, &blk, 0);
	dev_start(&blk);
	dev_set_status(&blk, STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_DRIVER_OK);
}

static void round_trip(void)
{
	start_block();
	volatile u8 *cfg = dev_config(&blk);
	check("feature_len", blk.feature_len, 2);
	check("offered SEG_MAX and FLUSH", get16(dev_offered(&blk)), 0x0204);
	check("config_len", blk.config_len, 16);
	say_hex("capacity", get32(cfg));
	check("capacity high word", get32(cfg + 4), 0);
	check("seg_max", get32(cfg + 12), 254);

	/* Read sector 3 with interrupts on. */
	irqs_on();
	check("read used len", request(BLK_T_IN, 3, 512, 200), 513);
	check("read status", blk_status, 0);
	check("read sector 3 matches the disk", mismatches(512, 3 * 512, disk_pattern), 0);
	check("read irq delivered", irq_count[bq.irq], 1);

	/* Write sector 5. */
	for (u32 j = 0; j < 512; j++)
		data[j] = new_pattern(j);
	irqs_on();
	check("write used len", request(BLK_T_OUT, 5, 512, 256), 1);
	check("write status", blk_status, 0);
	check("write irq delivered", irq_count[bq.irq], 2);

	/* Read it back with the queue's interrupt off. */
	vq_interrupts(&bq, 0);
	irqs_on();
	for (u32 j = 0; j < 512; j++)
		data[j] = 0;
	check("read back used len", request(BLK_T_IN, 5, 512, 0), 513);
	check("read back matches the write", mismatches(512, 0, new_pattern), 0);
	irq_window();
	check("no irq with NO_INTERRUPT", irq_count[bq.irq], 2);
	vq_interrupts(&bq, 1);

	/* Flush: status OK, used length 1. */
	check("flush used len", request(BLK_T_FLUSH, 0, 0, 0), 1);
	check("flush status", blk_status, 0);

	/* GET_ID: the 3.x launcher serves it as a read of the sector given. */
	check("get id used len", request(BLK_T_GET_ID, 0, 20, 0), 21);
	check("get id status", blk_status, 0);
	check("get id reads like sector 0", mismatches(20, 0, disk_pattern), 0);

	/* A read running past the end is short, status OK. */
	check("short read used len", request(BLK_T_IN, 127, 1024, 0), 513);
	check("short read status", blk_status, 0);
	check("short read data", mismatches(512, 127 * 512, disk_pattern), 0);

	/* A read wholly past the end: nothing read, status OK. */
	check("read past the end used len", request(BLK_T_IN, 200, 512, 0), 1);
	finish();
}

static void write_past_end(void)
{
	start_block();
	for (u32 j = 0; j < 1024; j++)
		data[j] = new_pattern(j);
	say("writing past the end");
	request(BLK_T_OUT, 127, 1024, 0);
	say("not ok survived a write past the end");
	finish();
}

/* Print every record; read the first byte of each block device. */
static void layout(void)
{
	struct lg_dev d;
	for (unsigned i = 0; dev_find(&d, i); i++) {
		out_str("dev ");
		out_dec(i);
		out_str(" type ");
		out_dec(d.type);
		out_str(" offset ");
		out_dec(d.offset);
		out_str(" irqs");
		for (unsigned q = 0; q < d.num_vq; q++) {
			out_str(" ");
			out_dec(get16(dev_vqconfig(&d, q) + 2));
		}
		if (d.type == VIRTIO_ID_BLOCK) {
			blk = d;
			vq_init(&bq, &blk, 0);
			dev_start(&blk);
			out_str(" capacity ");
			out_dec(get32(dev_config(&d)));
			request(BLK_T_IN, 0, 512, 0);
			out_str(" first byte ");
			out_hex(data[0]);
		}
		out_end();
	}
	finish();
}

void guest_main(void)
{
	guest_init();
	irq_gates_install();
	if (has_arg("pastend"))
		write_past_end();
	if (has_arg("layout"))
		layout();
	round_trip();
}
