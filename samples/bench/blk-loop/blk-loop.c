/*
 * Benchmark guest: sequential block I/O through the virtio block device's
 * vring, the way a `dd bs=64k` in a Linux guest reaches the disk.  Run
 * with --block=FILE (tools/bench makes a 64 MiB file) and "mb=N" on the
 * kernel command line:
 *   - read N MiB from sector 0 on, in 64 KiB requests, one per kick,
 *     going round to sector 0 again at the end of the disk (so N may be
 *     larger than the disk, for runs long enough to time);
 *   - then write N MiB the same way, then power off.
 * The word "nowrite" skips the writes (and "noread" the reads), so
 * tools/bench can time each phase as the difference of two runs.
 *
 * Every request is the usual three descriptors (header, data, status),
 * served by the host at the kick; the queue's interrupt is taken after
 * each one, as virtio_blk's completion path would.  The guest checks each
 * status byte and used length, and prints one line saying what it moved;
 * any failure powers off with "checks failed".
 */
#include "../../tests/virtio.h"

#define REQUEST_BYTES 65536u
#define SECTOR_BYTES 512u

static struct lg_dev blk;
static struct vq bq;
static struct blk_hdr hdr;
static u8 blk_status;
static u8 buffer[REQUEST_BYTES] __attribute__((aligned(4096)));
static u32 disk_requests; /* whole 64 KiB requests that fit on the disk */

/* The u32 after "word=" on the kernel command line; 0 if absent. */
static u32 arg_number(const char *word)
{
	const char *p = (const char *)phys(*(volatile u32 *)phys(0x228));
	while (*p) {
		const char *w = word;
		while (*w && *p == *w) {
			p++;
			w++;
		}
		if (!*w) {
			u32 n = 0;
			while (*p >= '0' && *p <= '9')
				n = n * 10 + (u32)(*p++ - '0');
			return n;
		}
		while (*p && *p != ' ')
			p++;
		while (*p == ' ')
			p++;
	}
	return 0;
}

/* One 64 KiB request at `sector`; 1 if the host served it without error. */
static int transfer(u32 type, u32 sector)
{
	u32 id, used_len;
	u16 data_flags = type == BLK_T_OUT ? 0 : VRING_DESC_F_WRITE;
	hdr = (struct blk_hdr){type, 0, sector};
	blk_status = 0xff;
	struct vbuf req[3] = {
		{&hdr, sizeof(hdr), 0},
		{buffer, REQUEST_BYTES, data_flags},
		{&blk_status, 1, VRING_DESC_F_WRITE},
	};
	u16 head = vq_add(&bq, req, 3);
	irqs_on();
	vq_kick(&bq);
	if (!vq_get_used(&bq, &id, &used_len) || id != head || blk_status != 0)
		return 0;
	return used_len == (type == BLK_T_OUT ? 1 : REQUEST_BYTES + 1);
}

/* `mib` MiB of one kind of request from sector 0 on, round the disk; the number served. */
static u32 sweep(u32 type, u32 mib)
{
	u32 requests = mib * (1048576u / REQUEST_BYTES), served = 0;
	for (u32 i = 0; i < requests; i++)
		served += transfer(type, (i % disk_requests) * (REQUEST_BYTES / SECTOR_BYTES));
	return served;
}

void guest_main(void)
{
	u32 mib = arg_number("mb=");
	guest_init();
	irq_gates_install();
	if (!dev_find(&blk, 0) || blk.type != VIRTIO_ID_BLOCK) {
		say("blk-loop: no block device (run with --block=FILE)");
		power_off("checks failed");
	}
	vq_init(&bq, &blk, 0);
	dev_start(&blk);
	dev_set_status(&blk, STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_DRIVER_OK);
	disk_requests = get32(dev_config(&blk)) / (REQUEST_BYTES / SECTOR_BYTES);
	if (!disk_requests) {
		say("blk-loop: the disk is smaller than one 64 KiB request");
		power_off("checks failed");
	}

	u32 requests = mib * (1048576u / REQUEST_BYTES);
	if (!has_arg("noread"))
		check("read requests served", sweep(BLK_T_IN, mib), requests);
	for (u32 i = 0; i < REQUEST_BYTES; i++)
		buffer[i] = (u8)(i * 7 + 1);
	if (!has_arg("nowrite"))
		check("write requests served", sweep(BLK_T_OUT, mib), requests);
	check("queue interrupts", irq_count[bq.irq] > 0 || requests == 0, 1);
	finish();
}
