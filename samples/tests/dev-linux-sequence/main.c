/*
 * Linux 3.19's probe sequence on the lguest bus, replayed step by step
 * (addendum §A11 "NOTIFY dispatch"; acceptance notes, "Devices"):
 * read the offered features, write the accepted ones and NOTIFY the
 * record with status 3 (this starts the device in the 3.19 profile), kick
 * a queue during probe, write DRIVER_OK without a NOTIFY, and later reset
 * with status 0 + NOTIFY.  Run with one --block device.
 *
 * Variants (kernel command line):
 *   early-kick  a kick before any status NOTIFY: "Notification on console before setup!"
 *   twice       a second start: "Device console features finalized twice"
 *   failed      FAILED status, before and while running: a warning, the guest goes on
 */
#include "../virtio.h"

static struct blk_hdr hdr;
static u8 sector_buf[512];
static u8 blk_status;

/* The byte the test script wrote at offset i of the disk. */
static u8 disk_pattern(u32 i)
{
	return (u8)(i * 7 + (i >> 9) * 13);
}

/* One read request through the block queue; checks what comes back. */
static void block_read(struct vq *vq, u32 sector, const char *what)
{
	u32 id, len;
	hdr.type = 0;
	hdr.ioprio = 0;
	hdr.sector = sector;
	blk_status = 0xff;
	const struct vbuf req[3] = {
		{&hdr, sizeof(hdr), 0},
		{sector_buf, sizeof(sector_buf), VRING_DESC_F_WRITE},
		{&blk_status, 1, VRING_DESC_F_WRITE},
	};
	u16 head = vq_add(vq, req, 3);
	vq_kick(vq);
	check_detail(what, " served", vq_get_used(vq, &id, &len), 1);
	check_detail(what, " used id", id, head);
	check_detail(what, " used len", len, 513);
	check_detail(what, " status", blk_status, 0);
	u32 bad = 0;
	for (u32 i = 0; i < 512; i++)
		bad += ((volatile u8 *)sector_buf)[i] != disk_pattern(sector * 512 + i);
	check_detail(what, " data", bad, 0);
}

/* Bytes of a ring that are not zero. */
static u32 ring_nonzero(const struct vq *vq)
{
	const volatile u8 *p = (const volatile u8 *)(vq->pfn * 4096);
	u32 n = 0;
	for (u32 i = 0; i < VRING_BYTES; i++)
		n += p[i] != 0;
	return n;
}

/* Send a string through the console's transmit queue. */
static void console_write(struct vq *tx, const char *s)
{
	u32 len = 0, id;
	while (s[len])
		len++;
	const struct vbuf b = {s, len, 0};
	vq_add(tx, &b, 1);
	vq_kick(tx);
	check("console transmit served", vq_get_used(tx, &id, &len), 1);
}

static void find_console(struct lg_dev *con)
{
	if (!dev_find_type(con, VIRTIO_ID_CONSOLE)) {
		say("no console record");
		finish();
	}
}

/* A kick on a device nobody started (§A11 NOTIFY dispatch, rule 2). */
static void variant_early_kick(void)
{
	struct lg_dev con;
	struct vq tx;
	find_console(&con);
	vq_init(&tx, &con, 1);
	say("kicking before setup");
	vq_kick(&tx);
	say("not ok survived an early kick");
	finish();
}

/* A second start without a reset (§A11 NOTIFY dispatch, rule 1). */
static void variant_twice(void)
{
	struct lg_dev con;
	find_console(&con);
	dev_start(&con);
	say("started once");
	dev_start(&con);
	say("not ok survived a second start");
	finish();
}

/* FAILED warns, and resets a running device (§A11 rule 1). */
static void variant_failed(void)
{
	struct lg_dev con;
	struct vq tx;
	find_console(&con);
	vq_init(&tx, &con, 1);
	dev_status_notify(&con, STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_FAILED);
	say("ok continued after FAILED before start");
	dev_start(&con);
	console_write(&tx, "console running\n");
	dev_status_notify(&con, STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_FAILED);
	check("FAILED while running zeroed the ring", ring_nonzero(&tx), 0);
	/* The reset means a new start is not a second one. */
	vq_init(&tx, &con, 1);
	dev_start(&con);
	console_write(&tx, "console restarted\n");
	finish();
}

void guest_main(void)
{
	struct lg_dev blk, con;
	struct vq bq, tx;

	guest_init();
	if (has_arg("early-kick"))
		variant_early_kick();
	if (has_arg("twice"))
		variant_twice();
	if (has_arg("failed"))
		variant_failed();

	check("block record first", dev_find(&blk, 0) && blk.type == VIRTIO_ID_BLOCK, 1);
	find_console(&con);
	check("feature_len 2", blk.feature_len, 2);
	/* Linux reads the offered features first: SEG_MAX (bit 2), FLUSH (bit 9). */
	check("offered features byte 0", dev_offered(&blk)[0], 0x04);
	check("offered features byte 1", dev_offered(&blk)[1], 0x02);
	check("accepted features start clear", get16(dev_accepted(&blk)), 0);
	check("status starts 0", blk.rec[4], 0);

	/* ACKNOWLEDGE, DRIVER (no NOTIFY), then finalize_features: the
	 * accepted bits and the one NOTIFY, with status 3. */
	vq_init(&bq, &blk, 0);
	dev_start(&blk);
	check("accepted features kept", get16(dev_accepted(&blk)), 0x0204);
	check("status 3 kept", blk.rec[4], 3);

	/* A kick during probe: the device already runs. */
	block_read(&bq, 0, "probe read");

	/* virtio_dev_probe ends with DRIVER_OK, which lguest never notifies. */
	dev_set_status(&blk, STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_DRIVER_OK);
	block_read(&bq, 1, "read after DRIVER_OK");

	/* The console, the same way: it may transmit during probe. */
	vq_init(&tx, &con, 1);
	dev_start(&con);
	console_write(&tx, "console during probe\n");
	dev_set_status(&con, STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_DRIVER_OK);

	/* lg_reset: status 0 and a NOTIFY.  The host forgets the accepted
	 * features and zeroes the ring. */
	dev_status_notify(&blk, 0);
	check("reset cleared accepted features", get16(dev_accepted(&blk)), 0);
	check("reset kept offered features", get16(dev_offered(&blk)), 0x0204);
	check("reset zeroed the ring", ring_nonzero(&bq), 0);

	/* After a reset the device can be probed again from ring index 0. */
	vq_init(&bq, &blk, 0);
	dev_start(&blk);
	block_read(&bq, 2, "read after reset");
	check("used index restarted", bq.used->idx, 1);
	finish();
}
