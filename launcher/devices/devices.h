/*
 * The lguest bus (addendum §A11, lguest-abi.md §9.4): a page of device
 * descriptor records at guest-physical `mem`, each followed in later
 * pages by its virtqueues (legacy split vrings of 256 entries, aligned to
 * 4096), one IRQ per queue counting from 1.  The guest kicks a queue, or
 * reports a status change, with NOTIFY of an address in that layout.
 *
 *   bus.c        the descriptor page, status changes, NOTIFY dispatch
 *   virtqueue.c  reading descriptor chains safely, publishing used entries
 *   console.c    virtio console: stdout and stdin, raw terminal mode
 *   block.c      virtio block device backed by a file
 */
#ifndef LGUEST_DEVICES_H
#define LGUEST_DEVICES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

struct lguest;

#define VIRTIO_ID_BLOCK 2
#define VIRTIO_ID_CONSOLE 3
#define VIRTQUEUE_NUM 256u
#define MAX_DEVICES 16
#define MAX_VQS 2
#define MAX_CHAIN_IOV VIRTQUEUE_NUM

#define VIRTIO_CONFIG_S_DRIVER_OK 4
#define VIRTIO_CONFIG_S_FAILED 0x80

struct device;

/* One virtqueue as the launcher sees it. */
struct virtqueue {
	struct device *dev;
	unsigned index;
	uint32_t pfn;            /* the ring's first page */
	unsigned irq;
	uint16_t last_avail_idx; /* the next avail entry we will consume */
	bool pending_used;       /* used entries added since the last interrupt */
	void (*service)(struct lguest *lg, struct virtqueue *vq);
};

/* A descriptor chain, split into what the guest wrote (out) and what we may fill (in). */
struct chain {
	uint16_t head;
	unsigned out, in;
	struct iovec iov[MAX_CHAIN_IOV];
};

struct device {
	const char *name;
	uint8_t type;
	uint32_t desc_offset; /* record offset in the descriptor page */
	unsigned num_vq;
	struct virtqueue vq[MAX_VQS];
	uint8_t feature_len, config_len;
	bool running;
	void *state; /* the device type's own data */
	void (*reset)(struct lguest *lg, struct device *dev);
};

struct lguest_devices {
	struct device dev[MAX_DEVICES];
	unsigned count;
	uint32_t next_page; /* next free device page (guest-physical) */
	unsigned next_irq;
};

/* bus.c */
bool devices_setup(struct lguest *lg, const char *const *block_files, unsigned nblock, char *err, size_t errlen);
void devices_poll_input(struct lguest *lg, int timeout_ms);
uint32_t devices_irq_sources(struct lguest *lg);
void devices_shutdown(struct lguest *lg);
struct device *device_add(struct lguest *lg, const char *name, uint8_t type, unsigned num_vq,
                          const uint8_t *features, uint8_t feature_len, const void *config, uint8_t config_len);
uint8_t *device_record(struct lguest *lg, struct device *dev);

/* virtqueue.c */
bool vq_get_chain(struct lguest *lg, struct virtqueue *vq, struct chain *c);
void vq_add_used(struct lguest *lg, struct virtqueue *vq, uint16_t head, uint32_t len);
void vq_trigger_irq(struct lguest *lg, struct virtqueue *vq, bool force);
void vq_reset(struct lguest *lg, struct virtqueue *vq);
bool vq_has_buffers(struct lguest *lg, struct virtqueue *vq);

void console_write(const void *buf, size_t len);
bool console_setup(struct lguest *lg, char *err, size_t errlen);
void console_poll(struct lguest *lg, struct device *dev, int timeout_ms);
bool console_input_possible(struct lguest *lg, struct device *dev);
void console_restore_terminal(void);

/* block.c */
bool block_setup(struct lguest *lg, const char *path, char *err, size_t errlen);
void block_shutdown(struct lguest *lg, struct device *dev);

#endif
