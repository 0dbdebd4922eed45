/*
 * The lguest bus as the 3.x launcher laid it out (addendum §A11):
 * descriptor records packed from the start of the page at `mem`, devices
 * in command-line order with the console last, ring pages after the
 * descriptor page in the same order, one IRQ per queue from 1.  NOTIFY
 * addresses are dispatched here: a record (status change), a ring (kick),
 * or anything else in guest memory (the early console).
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "devices.h"
#include "host/host.h"

#define RECORD_HEADER 5
#define VQCONFIG_SIZE 8
#define RING_PAGES 3 /* 256 descriptors, avail ring, padding, used ring */

/* The launcher pointer to a device's record in the descriptor page. */
uint8_t *device_record(struct lguest *lg, struct device *dev)
{
	return guest_ptr(&lg->mem, lg->mem.ram_bytes + dev->desc_offset);
}

static uint32_t record_size(const struct device *dev)
{
	return RECORD_HEADER + VQCONFIG_SIZE * dev->num_vq + 2u * dev->feature_len + dev->config_len;
}

/*
 * Append a device: its record, its rings, its IRQs.  The pfn limit grows
 * to cover the pages now in use, exactly as lg.ko was told.
 */
struct device *device_add(struct lguest *lg, const char *name, uint8_t type, unsigned num_vq,
                          const uint8_t *features, uint8_t feature_len, const void *config, uint8_t config_len)
{
	struct lguest_devices *d = &lg->devices;
	if (d->count == MAX_DEVICES)
		return NULL;
	struct device *dev = &d->dev[d->count];
	uint32_t offset = d->count ? d->dev[d->count - 1].desc_offset + record_size(&d->dev[d->count - 1]) : 0;

	memset(dev, 0, sizeof(*dev));
	dev->name = name;
	dev->type = type;
	dev->num_vq = num_vq;
	dev->feature_len = feature_len;
	dev->config_len = config_len;
	dev->desc_offset = offset;
	if (offset + record_size(dev) > GUEST_PAGE_SIZE ||
	    d->next_page + num_vq * RING_PAGES * GUEST_PAGE_SIZE > lg->mem.mapped_bytes)
		return NULL;

	uint8_t *rec = device_record(lg, dev);
	rec[0] = type;
	rec[1] = (uint8_t)num_vq;
	rec[2] = feature_len;
	rec[3] = config_len;
	rec[4] = 0;
	for (unsigned i = 0; i < num_vq; i++) {
		struct virtqueue *vq = &dev->vq[i];
		vq->dev = dev;
		vq->index = i;
		vq->pfn = d->next_page / GUEST_PAGE_SIZE;
		vq->irq = d->next_irq++;
		d->next_page += RING_PAGES * GUEST_PAGE_SIZE;
		uint8_t *vc = rec + RECORD_HEADER + VQCONFIG_SIZE * i;
		put_le16(vc, VIRTQUEUE_NUM);
		put_le16(vc + 2, (uint16_t)vq->irq);
		put_le32(vc + 4, vq->pfn);
	}
	uint8_t *feat = rec + RECORD_HEADER + VQCONFIG_SIZE * num_vq;
	if (feature_len)
		memcpy(feat, features, feature_len);
	memset(feat + feature_len, 0, feature_len);
	if (config_len)
		memcpy(feat + 2 * feature_len, config, config_len);
	lg->mem.limit_bytes = d->next_page;
	d->count++;
	return dev;
}

/* Block devices in command-line order, then the console, which always exists. */
bool devices_setup(struct lguest *lg, const char *const *block_files, unsigned nblock, char *err, size_t errlen)
{
	struct lguest_devices *d = &lg->devices;
	memset(d, 0, sizeof(*d));
	d->next_page = lg->mem.ram_bytes + GUEST_PAGE_SIZE;
	d->next_irq = 1;
	memset(guest_ptr(&lg->mem, lg->mem.ram_bytes), 0, GUEST_PAGE_SIZE);
	lg->mem.limit_bytes = d->next_page;
	for (unsigned i = 0; i < nblock; i++)
		if (!block_setup(lg, block_files[i], err, errlen))
			return false;
	return console_setup(lg, err, errlen);
}

/* Status 0, or FAILED: forget negotiated features and ring contents (§A11). */
static void device_reset(struct lguest *lg, struct device *dev)
{
	uint8_t *rec = device_record(lg, dev);
	memset(rec + RECORD_HEADER + VQCONFIG_SIZE * dev->num_vq + dev->feature_len, 0, dev->feature_len);
	for (unsigned i = 0; i < dev->num_vq; i++)
		vq_reset(lg, &dev->vq[i]);
	dev->running = false;
	if (dev->reset)
		dev->reset(lg, dev);
}

/* A NOTIFY of a device's record: the guest changed its status byte. */
static void status_notify(struct lguest *lg, struct device *dev)
{
	uint8_t status = device_record(lg, dev)[4];
	if (status == 0) {
		device_reset(lg, dev);
	} else if (status & VIRTIO_CONFIG_S_FAILED) {
		fprintf(stderr, "lguest: Device %s configuration FAILED\n", dev->name);
		if (dev->running)
			device_reset(lg, dev);
	} else if (lg->abi->start_on_first_kick) {
		if (status & VIRTIO_CONFIG_S_DRIVER_OK)
			dev->running = true;
	} else if (dev->running) {
		kill_guest(lg, "Device %s features finalized twice", dev->name);
	} else {
		dev->running = true;
	}
}

/* A NOTIFY of a ring's address: the guest kicked that queue. */
static void kick(struct lguest *lg, struct virtqueue *vq)
{
	struct device *dev = vq->dev;
	if (!dev->running) {
		if (!lg->abi->start_on_first_kick) {
			kill_guest(lg, "Notification on %s before setup!", dev->name);
			return;
		}
		dev->running = true;
	}
	vq->service(lg, vq);
}

/* Write the guest's string at `addr`, up to its NUL or the end of guest memory. */
static void early_console(struct lguest *lg, uint32_t addr)
{
	const char *s = guest_ptr(&lg->mem, addr);
	console_write(s, strnlen(s, lg->mem.limit_bytes - addr));
}

/* NOTIFY dispatch, in the 3.19 launcher's order (§A11). */
void service_notify(struct lguest *lg, uint32_t addr)
{
	struct lguest_devices *d = &lg->devices;
	for (unsigned i = 0; i < d->count; i++)
		if (addr == lg->mem.ram_bytes + d->dev[i].desc_offset) {
			EMIT(lg, EV_NOTIFY, NOTIFY_STATUS, addr, i, device_record(lg, &d->dev[i])[4]);
			status_notify(lg, &d->dev[i]);
			return;
		}
	for (unsigned i = 0; i < d->count; i++)
		for (unsigned q = 0; q < d->dev[i].num_vq; q++)
			if (addr == d->dev[i].vq[q].pfn * GUEST_PAGE_SIZE) {
				EMIT(lg, EV_NOTIFY, NOTIFY_KICK, addr, i, q);
				kick(lg, &d->dev[i].vq[q]);
				return;
			}
	if (addr >= lg->mem.limit_bytes) {
		EMIT(lg, EV_NOTIFY, NOTIFY_BAD, addr);
		kill_guest(lg, "Bad NOTIFY 0x%x", addr);
		return;
	}
	EMIT(lg, EV_NOTIFY, NOTIFY_EARLY_CONSOLE, addr);
	early_console(lg, addr);
}

/* Look for console input (at HALT and between runs); waits up to timeout_ms (-1: forever). */
void devices_poll_input(struct lguest *lg, int timeout_ms)
{
	struct lguest_devices *d = &lg->devices;
	for (unsigned i = 0; i < d->count; i++)
		if (d->dev[i].type == VIRTIO_ID_CONSOLE)
			console_poll(lg, &d->dev[i], timeout_ms);
}

/* The IRQs devices may still raise on their own: console input not yet at EOF. */
uint32_t devices_irq_sources(struct lguest *lg)
{
	struct lguest_devices *d = &lg->devices;
	uint32_t mask = 0;
	for (unsigned i = 0; i < d->count; i++)
		if (d->dev[i].type == VIRTIO_ID_CONSOLE && console_input_possible(lg, &d->dev[i]))
			mask |= 1u << d->dev[i].vq[0].irq;
	return mask;
}

/* At exit: data published to the guest must be on disk; the terminal restored. */
void devices_shutdown(struct lguest *lg)
{
	struct lguest_devices *d = &lg->devices;
	for (unsigned i = 0; i < d->count; i++)
		if (d->dev[i].type == VIRTIO_ID_BLOCK)
			block_shutdown(lg, &d->dev[i]);
	console_restore_terminal();
}
