/* The --trace writer: an event sink that buffers records and writes them in large blocks. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "debug/checks.h"
#include "debug/trace.h"
#include "debug/trace_format.h"
#include "host/host.h"

/* The buffer is written out once it holds this much: a few writes a second at most. */
#define TRACE_FLUSH_BYTES (256u * 1024)
/* VRING_DESC_F_WRITE in an EV_VQ_BUFFER's flags: the device writes this buffer. */
#define VQ_BUFFER_DEVICE_WRITES 2u

struct trace_writer {
	int fd;
	char *path;
	struct trace_buf buf;
	struct trace_cursor cursor;
	uint64_t nevents;
	unsigned boots;
	int error; /* errno of the first failed write or allocation; 0 if none */

	/*
	 * The console's receive chain being filled: its buffers arrive as
	 * EV_VQ_BUFFER events, the input itself as EV_CONSOLE_IN (length only).
	 */
	uint16_t rx_head;
	unsigned rx_count;
	uint32_t rx_addr[MAX_CHAIN_IOV], rx_len[MAX_CHAIN_IOV];
};

/* Write out everything buffered; after a failure, drop it and remember the error. */
static void flush_buffer(struct trace_writer *t)
{
	size_t done = 0;
	while (!t->error && done < t->buf.len) {
		ssize_t n = write(t->fd, t->buf.data + done, t->buf.len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			t->error = n < 0 ? errno : EIO;
		else
			done += (size_t)n;
	}
	t->buf.len = 0;
}

/* A launcher pointer to guest-physical [addr, addr+len), cut at the end of guest memory; NULL if none of it is. */
static const uint8_t *guest_bytes(const struct lguest *lg, uint32_t addr, uint32_t *len)
{
	if (!lg->mem.base || addr >= lg->mem.limit_bytes)
		return NULL;
	uint32_t room = lg->mem.limit_bytes - addr;
	if (*len > room)
		*len = room;
	if (*len > TRACE_PAYLOAD_MAX)
		*len = TRACE_PAYLOAD_MAX;
	return guest_ptr(&lg->mem, addr);
}

/* Is device `index` the console? */
static bool is_console(const struct lguest *lg, uint32_t index)
{
	return index < lg->devices.count && lg->devices.dev[index].type == VIRTIO_ID_CONSOLE;
}

/* Remember a buffer of the console's receive chain, where injected input will land. */
static void note_rx_buffer(struct trace_writer *t, const struct event *e)
{
	if (t->rx_count && e->arg[2] != t->rx_head)
		t->rx_count = 0;
	t->rx_head = (uint16_t)e->arg[2];
	if (t->rx_count < MAX_CHAIN_IOV) {
		t->rx_addr[t->rx_count] = e->arg[3];
		t->rx_len[t->rx_count] = e->arg[4];
		t->rx_count++;
	}
}

/* Gather the n input bytes the console just wrote into its receive chain. */
static uint8_t *gather_input(struct trace_writer *t, const struct lguest *lg, uint32_t n, uint32_t *got)
{
	uint8_t *bytes = malloc(n ? n : 1);
	*got = 0;
	for (unsigned i = 0; bytes && i < t->rx_count && *got < n; i++) {
		uint32_t len = t->rx_len[i] < n - *got ? t->rx_len[i] : n - *got;
		const uint8_t *p = guest_bytes(lg, t->rx_addr[i], &len);
		if (!p)
			break;
		memcpy(bytes + *got, p, len);
		*got += len;
	}
	t->rx_count = 0;
	return bytes;
}

/* The sink: encode one event, with the text that belongs to it. */
static void trace_event(void *ctx, struct lguest *lg, const struct event *e)
{
	struct trace_writer *t = ctx;
	const void *payload = NULL;
	uint8_t *owned = NULL;
	uint32_t len = 0;

	if (t->error)
		return;
	switch (e->kind) {
	case EV_NOTIFY:
		if (e->sub != NOTIFY_EARLY_CONSOLE)
			break;
		len = TRACE_PAYLOAD_MAX;
		payload = guest_bytes(lg, e->arg[0], &len);
		if (payload)
			len = (uint32_t)strnlen(payload, len); /* the string, as the early console prints it */
		break;
	case EV_VQ_BUFFER:
		if (!is_console(lg, e->arg[0]))
			break;
		if (e->arg[1] == 0 && (e->arg[5] & VQ_BUFFER_DEVICE_WRITES))
			note_rx_buffer(t, e);
		break;
	case EV_CONSOLE_OUT:
		len = e->arg[1];
		payload = guest_bytes(lg, e->arg[0], &len);
		break;
	case EV_CONSOLE_IN:
		payload = owned = gather_input(t, lg, e->arg[0], &len);
		break;
	case EV_CHECK: {
		const struct check_finding *f = checks_finding(e->arg[2]);
		if (f) {
			payload = f->text;
			len = (uint32_t)strnlen(f->text, sizeof(f->text));
		}
		break;
	}
	case EV_DEATH:
		payload = lg->death_reason;
		len = (uint32_t)strnlen(lg->death_reason, sizeof(lg->death_reason));
		break;
	}
	if (!payload)
		len = 0;
	if (!trace_buf_reserve(&t->buf, TRACE_RECORD_MAX + len)) {
		t->error = ENOMEM;
	} else {
		trace_encode_event(&t->buf, &t->cursor, e, payload, len);
		t->nevents++;
		if (t->buf.len >= TRACE_FLUSH_BYTES)
			flush_buffer(t);
	}
	free(owned);
}

struct trace_writer *trace_open(const char *path, const struct lguest *lg, const char *kernel, const char *cmdline,
                                char *err, size_t errlen)
{
	struct trace_writer *t = calloc(1, sizeof(*t));
	if (!t || !(t->path = strdup(path))) {
		free(t);
		snprintf(err, errlen, "--trace: out of memory");
		return NULL;
	}
	t->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (t->fd < 0) {
		snprintf(err, errlen, "--trace: cannot create %s: %s", path, strerror(errno));
		free(t->path);
		free(t);
		return NULL;
	}
	if (!trace_encode_header(&t->buf, lg->abi->name, kernel, cmdline, lg->opt.mem_mb, &lg->syms))
		t->error = ENOMEM;
	return t;
}

bool trace_attach(struct trace_writer *t, struct lguest *lg)
{
	if (t->boots++ && !t->error) {
		if (trace_buf_reserve(&t->buf, 1))
			trace_encode_boot(&t->buf, &t->cursor);
		else
			t->error = ENOMEM;
	}
	t->rx_count = 0;
	return events_add_sink(&lg->events, &(struct event_sink){trace_event, t});
}

void trace_detach(struct trace_writer *t, struct lguest *lg)
{
	events_remove_sink(&lg->events, t);
}

bool trace_close(struct trace_writer *t, char *err, size_t errlen)
{
	if (!t->error && !trace_buf_reserve(&t->buf, 11))
		t->error = ENOMEM;
	if (!t->error)
		trace_encode_end(&t->buf, t->nevents);
	flush_buffer(t);
	if (close(t->fd) != 0 && !t->error)
		t->error = errno;
	bool ok = !t->error;
	if (!ok)
		snprintf(err, errlen, "--trace: writing %s failed: %s", t->path, strerror(t->error));
	trace_buf_free(&t->buf);
	free(t->path);
	free(t);
	return ok;
}
