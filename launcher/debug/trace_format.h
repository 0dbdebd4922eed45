/*
 * The trace file format (traces/FORMAT.md), shared by the launcher's
 * trace writer (debug/trace.c) and lgdbg's trace viewer.
 *
 * A trace is a header (magic, version, the ABI profile, kernel path and
 * arguments, memory size, the kernel's symbol table) followed by one
 * record per event.  Records are small: the instruction count and eip are
 * stored as the difference from the previous record, every number as a
 * LEB128 varint.  An end record closes the file, so a trace cut short by a
 * dying launcher is told apart from a complete one.
 *
 * This file only encodes and decodes bytes in memory; writing files is the
 * writer's job, reading them the viewer's.
 */
#ifndef LGUEST_TRACE_FORMAT_H
#define LGUEST_TRACE_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "debug/events.h"
#include "symbols.h"

#define TRACE_MAGIC "LGTRACE"   /* plus its NUL: 8 bytes */
#define TRACE_MAGIC_LEN 8
#define TRACE_VERSION 1u

/* The first byte of a record: an event kind (1..0xfd) or one of these. */
enum { TRACE_TAG_END = 0x00, TRACE_TAG_BOOT = 0xfe };

/* The "info" byte of an event record. */
#define TRACE_INFO_NARGS 0x07u
#define TRACE_INFO_CPL_SHIFT 3
#define TRACE_INFO_CPL 0x18u
#define TRACE_INFO_PAYLOAD 0x20u

/* Payload bytes (console text, a death reason) are cut at this length. */
#define TRACE_PAYLOAD_MAX (1u << 20)
/* An event record without its payload is never longer than this. */
#define TRACE_RECORD_MAX (3 + 10 + 5 + EVENT_ARGS * 5 + 5)

/* A growable byte buffer. */
struct trace_buf {
	uint8_t *data;
	size_t len, cap;
};

/* Make room for `more` bytes; false if memory ran out. */
bool trace_buf_reserve(struct trace_buf *b, size_t more);
void trace_buf_free(struct trace_buf *b);

/* What a trace file says about the run it records. */
struct trace_header {
	uint32_t version;
	char *abi;     /* the --abi profile name */
	char *kernel;  /* the kernel path as given to the launcher */
	char *cmdline; /* the kernel arguments */
	uint32_t mem_mb;
	struct symbols syms;
};

/* Append the header; false if memory ran out. */
bool trace_encode_header(struct trace_buf *b, const char *abi, const char *kernel, const char *cmdline,
                         uint32_t mem_mb, const struct symbols *syms);

/* The delta base for records: reset at every boot. */
struct trace_cursor {
	uint64_t icount;
	uint32_t eip;
};

/*
 * Append one event record (the buffer must have room for
 * TRACE_RECORD_MAX + payload_len more bytes).  payload may be NULL.
 */
void trace_encode_event(struct trace_buf *b, struct trace_cursor *c, const struct event *e, const void *payload,
                        uint32_t payload_len);

/* Append a boot record (the guest restarted: counts begin again) and reset the cursor. */
void trace_encode_boot(struct trace_buf *b, struct trace_cursor *c);

/* Append the end record: the number of event records written. */
void trace_encode_end(struct trace_buf *b, uint64_t nevents);

/* One decoded record. */
struct trace_record {
	int tag;                /* TRACE_TAG_BOOT, or an event kind */
	struct event ev;        /* for events */
	const uint8_t *payload; /* points into the trace; NULL when absent */
	uint32_t payload_len;
	unsigned boot;          /* 0 for the first run of the guest, 1 after its first restart... */
};

/* Reads a whole trace held in memory. */
struct trace_reader {
	const uint8_t *data;
	size_t len, pos;
	struct trace_cursor cursor;
	uint64_t nevents;
	unsigned boot;
	char err[256];
};

enum trace_step { TRACE_STEP_RECORD, TRACE_STEP_END, TRACE_STEP_ERROR };

/*
 * Check the magic and version and decode the header into h (free it with
 * trace_header_free).  On failure r->err says why: not a trace, another
 * version, or cut short.
 */
bool trace_reader_open(struct trace_reader *r, const uint8_t *data, size_t len, struct trace_header *h);
void trace_header_free(struct trace_header *h);

/*
 * The next record.  TRACE_STEP_END after a valid end record that closes
 * the file; TRACE_STEP_ERROR (with r->err) for a damaged or truncated file.
 */
enum trace_step trace_reader_next(struct trace_reader *r, struct trace_record *rec);

#endif
