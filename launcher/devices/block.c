/*
 * The virtio block device (type 2), backed by a file (addendum §A11,
 * "Block"): one queue, features SEG_MAX and FLUSH, config capacity,
 * size_max and seg_max.  A request is a 16-byte header the guest wrote,
 * data, and a status byte at the very end of what we may write.
 *
 * Writes land in the file before the used entry is published, and the
 * file is fdatasync'ed at exit, so nothing the guest was told is done can
 * be lost.  The file never grows: a write past its end ends the guest.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "devices.h"
#include "host/host.h"

#define VIRTIO_BLK_T_OUT 1
#define VIRTIO_BLK_T_SCSI_CMD 2
#define VIRTIO_BLK_T_FLUSH 4
#define VIRTIO_BLK_S_OK 0
#define VIRTIO_BLK_S_IOERR 1
#define VIRTIO_BLK_S_UNSUPP 2
#define VIRTIO_BLK_F_SEG_MAX 2
#define VIRTIO_BLK_F_FLUSH 9
#define BLOCK_SEG_MAX 254
#define OUTHDR_SIZE 16

struct block {
	int fd;
	uint64_t len; /* the file's length when we opened it: the disk never grows */
};

/* Take `len` bytes off the front of the guest's readable iovecs (iov_consume). */
static bool consume(struct iovec *iov, unsigned num, uint8_t *out, size_t len)
{
	for (unsigned i = 0; i < num && len; i++) {
		size_t n = iov[i].iov_len < len ? iov[i].iov_len : len;
		memcpy(out, iov[i].iov_base, n);
		out += n;
		len -= n;
		iov[i].iov_base = (uint8_t *)iov[i].iov_base + n;
		iov[i].iov_len -= n;
	}
	return len == 0;
}

static size_t iov_total(const struct iovec *iov, unsigned n)
{
	size_t t = 0;
	for (unsigned i = 0; i < n; i++)
		t += iov[i].iov_len;
	return t;
}

/*
 * Write the guest's data at off, never past the end of the file.  `sector`
 * is only for the message: off stands in for it when it is beyond the disk.
 */
static bool write_request(struct lguest *lg, struct block *b, struct iovec *iov, unsigned n, uint64_t off,
                          uint64_t sector)
{
	size_t total = iov_total(iov, n);
	uint64_t room = off < b->len ? b->len - off : 0;
	uint64_t pos = off;
	for (unsigned i = 0; i < n && room; i++) {
		size_t len = iov[i].iov_len < room ? iov[i].iov_len : (size_t)room;
		if (pwrite(b->fd, iov[i].iov_base, len, (off_t)pos) != (ssize_t)len)
			return false;
		pos += len;
		room -= len;
	}
	if (off + total > b->len)
		kill_guest(lg, "Write past end %llu+%zu", (unsigned long long)(sector * 512), total);
	return true;
}

/* Serve one request chain; returns the used length. */
static uint32_t serve_request(struct lguest *lg, struct block *b, struct chain *c)
{
	uint8_t hdr[OUTHDR_SIZE], *status = NULL;
	if (!consume(c->iov, c->out, hdr, sizeof(hdr))) {
		kill_guest(lg, "iovec too short!");
		return 0;
	}
	for (unsigned i = c->out + c->in; i-- > c->out;)
		if (c->iov[i].iov_len) {
			status = (uint8_t *)c->iov[i].iov_base + --c->iov[i].iov_len;
			break;
		}
	if (!status) {
		kill_guest(lg, "Bad virtblk cmd with no room for status");
		return 0;
	}
	uint32_t type = get_le32(hdr);
	uint64_t sector = (uint64_t)get_le32(hdr + 12) << 32 | get_le32(hdr + 8);
	/* A sector beyond the disk stands for "past the end": sector * 512 could wrap. */
	uint64_t off = sector > b->len / 512 ? b->len + 1 : sector * 512;
	uint32_t wlen = 1;

	if (type & VIRTIO_BLK_T_SCSI_CMD) {
		fprintf(stderr, "lguest: Scsi commands unsupported\n");
		*status = VIRTIO_BLK_S_UNSUPP;
	} else if (type & VIRTIO_BLK_T_OUT) {
		*status = write_request(lg, b, c->iov, c->out, off, sector) ? VIRTIO_BLK_S_OK : VIRTIO_BLK_S_IOERR;
	} else if (type & VIRTIO_BLK_T_FLUSH) {
		*status = fdatasync(b->fd) == 0 ? VIRTIO_BLK_S_OK : VIRTIO_BLK_S_IOERR;
	} else {
		ssize_t n = c->in && off < b->len ? preadv(b->fd, c->iov + c->out, (int)c->in, (off_t)off) : 0;
		for (unsigned i = c->out; i < c->out + c->in; i++)
			cpu_code_modified(&lg->cpu, (uint32_t)((uint8_t *)c->iov[i].iov_base - lg->mem.base),
			                  (uint32_t)c->iov[i].iov_len);
		*status = n >= 0 ? VIRTIO_BLK_S_OK : VIRTIO_BLK_S_IOERR;
		if (n > 0)
			wlen += (uint32_t)n;
	}
	cpu_code_modified(&lg->cpu, (uint32_t)(status - lg->mem.base), 1);
	return wlen;
}

/* A kick: serve every available request, then one interrupt for the batch. */
static void block_service(struct lguest *lg, struct virtqueue *vq)
{
	struct block *b = vq->dev->state;
	struct chain c;
	while (lg->death == GUEST_ALIVE && vq_get_chain(lg, vq, &c)) {
		uint32_t wlen = serve_request(lg, b, &c);
		if (lg->death != GUEST_ALIVE)
			break;
		vq_add_used(lg, vq, c.head, wlen);
	}
	vq_trigger_irq(lg, vq, false);
}

/* --block=FILE: open it and describe it on the bus. */
bool block_setup(struct lguest *lg, const char *path, char *err, size_t errlen)
{
	struct stat st;
	int fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return false;
	}
	struct block *b = calloc(1, sizeof(*b));
	if (!b) {
		close(fd);
		snprintf(err, errlen, "%s: out of memory", path);
		return false;
	}
	b->fd = fd;
	b->len = (uint64_t)st.st_size;

	uint8_t features[2] = {0, 0};
	features[VIRTIO_BLK_F_SEG_MAX / 8] |= 1u << (VIRTIO_BLK_F_SEG_MAX % 8);
	features[VIRTIO_BLK_F_FLUSH / 8] |= 1u << (VIRTIO_BLK_F_FLUSH % 8);
	uint8_t config[16] = {0};
	uint64_t capacity = b->len / 512;
	put_le32(config, (uint32_t)capacity);
	put_le32(config + 4, (uint32_t)(capacity >> 32));
	put_le32(config + 12, BLOCK_SEG_MAX); /* size_max (offset 8) is not offered: left 0 */

	struct device *dev = device_add(lg, "block", VIRTIO_ID_BLOCK, 1, features, sizeof(features), config, sizeof(config));
	if (!dev) {
		close(fd);
		free(b);
		snprintf(err, errlen, "%s: too many devices", path);
		return false;
	}
	dev->state = b;
	dev->vq[0].service = block_service;
	return true;
}

/* At exit: everything written is on the disk, then the file is closed. */
void block_shutdown(struct lguest *lg, struct device *dev)
{
	struct block *b = dev->state;
	(void)lg;
	if (!b)
		return;
	fdatasync(b->fd);
	close(b->fd);
	free(b);
	dev->state = NULL;
}
