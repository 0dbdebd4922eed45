/* Encoding and decoding of trace files (traces/FORMAT.md); no file I/O here. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "debug/trace_format.h"

bool trace_buf_reserve(struct trace_buf *b, size_t more)
{
	if (b->len + more <= b->cap)
		return true;
	size_t cap = b->cap ? b->cap : 4096;
	while (cap < b->len + more)
		cap *= 2;
	uint8_t *p = realloc(b->data, cap);
	if (!p)
		return false;
	b->data = p;
	b->cap = cap;
	return true;
}

void trace_buf_free(struct trace_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof(*b));
}

/* Append an unsigned LEB128 number: 7 bits a byte, low bits first. */
static void put_varint(struct trace_buf *b, uint64_t v)
{
	uint8_t *p = b->data + b->len;
	while (v >= 0x80) {
		*p++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*p++ = (uint8_t)v;
	b->len = (size_t)(p - b->data);
}

/* Append a length-prefixed byte string. */
static void put_bytes(struct trace_buf *b, const void *s, size_t len)
{
	put_varint(b, len);
	memcpy(b->data + b->len, s, len);
	b->len += len;
}

/* A signed difference as an unsigned number with small magnitude: 0,-1,1,-2 -> 0,1,2,3. */
static uint32_t zigzag32(int32_t v)
{
	return ((uint32_t)v << 1) ^ (uint32_t)(v >> 31);
}
static uint64_t zigzag64(int64_t v)
{
	return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}
static int32_t unzigzag32(uint32_t v)
{
	return (int32_t)(v >> 1) ^ -(int32_t)(v & 1);
}
static int64_t unzigzag64(uint64_t v)
{
	return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

bool trace_encode_header(struct trace_buf *b, const char *abi, const char *kernel, const char *cmdline,
                         uint32_t mem_mb, const struct symbols *syms)
{
	size_t need = TRACE_MAGIC_LEN + 4 + 3 * 5 + strlen(abi) + strlen(kernel) + strlen(cmdline) + 2 * 10;
	for (size_t i = 0; i < syms->count; i++)
		need += 3 * 5 + strlen(syms->sym[i].name);
	if (!trace_buf_reserve(b, need))
		return false;
	memcpy(b->data + b->len, TRACE_MAGIC, TRACE_MAGIC_LEN);
	b->len += TRACE_MAGIC_LEN;
	for (unsigned i = 0; i < 4; i++)
		b->data[b->len++] = (uint8_t)(TRACE_VERSION >> (8 * i));
	put_bytes(b, abi, strlen(abi));
	put_bytes(b, kernel, strlen(kernel));
	put_bytes(b, cmdline, strlen(cmdline));
	put_varint(b, mem_mb);
	put_varint(b, syms->count);
	uint32_t prev = 0;
	for (size_t i = 0; i < syms->count; i++) {
		const struct symbol *s = &syms->sym[i];
		put_varint(b, s->addr - prev); /* sorted by address: never negative */
		put_varint(b, s->size);
		put_bytes(b, s->name, strlen(s->name));
		prev = s->addr;
	}
	return true;
}

void trace_encode_event(struct trace_buf *b, struct trace_cursor *c, const struct event *e, const void *payload,
                        uint32_t payload_len)
{
	unsigned nargs = e->nargs < EVENT_ARGS ? e->nargs : EVENT_ARGS;
	uint8_t *p = b->data + b->len;
	*p++ = e->kind;
	*p++ = e->sub;
	*p++ = (uint8_t)(nargs | (unsigned)(e->cpl & 3) << TRACE_INFO_CPL_SHIFT | (payload ? TRACE_INFO_PAYLOAD : 0));
	b->len += 3;
	put_varint(b, zigzag64((int64_t)(e->icount - c->icount)));
	put_varint(b, zigzag32((int32_t)(e->eip - c->eip)));
	for (unsigned i = 0; i < nargs; i++)
		put_varint(b, e->arg[i]);
	if (payload)
		put_bytes(b, payload, payload_len);
	c->icount = e->icount;
	c->eip = e->eip;
}

void trace_encode_boot(struct trace_buf *b, struct trace_cursor *c)
{
	b->data[b->len++] = TRACE_TAG_BOOT;
	memset(c, 0, sizeof(*c));
}

void trace_encode_end(struct trace_buf *b, uint64_t nevents)
{
	b->data[b->len++] = TRACE_TAG_END;
	put_varint(b, nevents);
}

/* Record why reading stopped, with the byte offset where it did. */
static bool reader_fail(struct trace_reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool reader_fail(struct trace_reader *r, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(r->err, sizeof(r->err), "byte %zu: ", r->pos);
	va_start(ap, fmt);
	vsnprintf(r->err + n, sizeof(r->err) - (size_t)n, fmt, ap);
	va_end(ap);
	return false;
}

/* Read a varint that must fit in `bits` bits. */
static bool get_varint(struct trace_reader *r, uint64_t *v, unsigned bits, const char *what)
{
	uint64_t value = 0;
	for (unsigned shift = 0;; shift += 7) {
		if (r->pos >= r->len)
			return reader_fail(r, "file ends inside %s (truncated trace)", what);
		uint8_t byte = r->data[r->pos++];
		if (shift >= 64 || (shift && (uint64_t)(byte & 0x7f) >> (64 - shift)))
			return reader_fail(r, "%s: number too long (corrupt trace)", what);
		value |= (uint64_t)(byte & 0x7f) << shift;
		if (!(byte & 0x80))
			break;
	}
	if (bits < 64 && value >> bits)
		return reader_fail(r, "%s: %llu does not fit in %u bits (corrupt trace)", what,
		                   (unsigned long long)value, bits);
	*v = value;
	return true;
}

/* Read a length-prefixed byte string in place. */
static bool get_bytes(struct trace_reader *r, const uint8_t **s, uint32_t *len, uint32_t max, const char *what)
{
	uint64_t n;
	if (!get_varint(r, &n, 32, what))
		return false;
	if (n > max)
		return reader_fail(r, "%s: length %llu is over the limit of %u (corrupt trace)", what,
		                   (unsigned long long)n, max);
	if (n > r->len - r->pos)
		return reader_fail(r, "file ends inside %s (truncated trace)", what);
	*s = r->data + r->pos;
	*len = (uint32_t)n;
	r->pos += n;
	return true;
}

/* Read a header string as a new NUL-terminated copy. */
static bool get_string(struct trace_reader *r, char **out, const char *what)
{
	const uint8_t *s;
	uint32_t len;
	if (!get_bytes(r, &s, &len, 1u << 16, what))
		return false;
	if (memchr(s, 0, len))
		return reader_fail(r, "%s contains a NUL byte (corrupt trace)", what);
	*out = strndup((const char *)s, len);
	return *out || reader_fail(r, "out of memory");
}

void trace_header_free(struct trace_header *h)
{
	free(h->abi);
	free(h->kernel);
	free(h->cmdline);
	symbols_free(&h->syms);
	memset(h, 0, sizeof(*h));
}

/* The symbol table: addresses as differences, each name a string. */
static bool get_symbols(struct trace_reader *r, struct symbols *syms)
{
	uint64_t count, v;
	if (!get_varint(r, &count, 32, "the symbol count"))
		return false;
	if (count > (r->len - r->pos) / 3) /* every symbol takes at least three bytes */
		return reader_fail(r, "symbol count %llu is more than the file can hold (corrupt or truncated trace)",
		                   (unsigned long long)count);
	syms->sym = calloc(count ? count : 1, sizeof(*syms->sym));
	if (!syms->sym)
		return reader_fail(r, "out of memory");
	uint32_t addr = 0;
	for (size_t i = 0; i < count; i++) {
		struct symbol *s = &syms->sym[i];
		if (!get_varint(r, &v, 32, "a symbol address"))
			return false;
		addr += (uint32_t)v;
		s->addr = addr;
		if (!get_varint(r, &v, 32, "a symbol size"))
			return false;
		s->size = (uint32_t)v;
		if (!get_string(r, &s->name, "a symbol name"))
			return false;
		syms->count = i + 1;
	}
	return true;
}

bool trace_reader_open(struct trace_reader *r, const uint8_t *data, size_t len, struct trace_header *h)
{
	uint64_t mem;
	memset(r, 0, sizeof(*r));
	memset(h, 0, sizeof(*h));
	r->data = data;
	r->len = len;
	if (len < TRACE_MAGIC_LEN || memcmp(data, TRACE_MAGIC, TRACE_MAGIC_LEN) != 0)
		return reader_fail(r, "not an lguest trace (no \"%s\" magic at the start)", TRACE_MAGIC);
	r->pos = TRACE_MAGIC_LEN;
	if (len < TRACE_MAGIC_LEN + 4)
		return reader_fail(r, "file ends inside the version (truncated trace)");
	h->version = (uint32_t)data[8] | (uint32_t)data[9] << 8 | (uint32_t)data[10] << 16 | (uint32_t)data[11] << 24;
	if (h->version != TRACE_VERSION)
		return reader_fail(r, "trace format version %u; this program reads version %u only", h->version,
		                   TRACE_VERSION);
	r->pos += 4;
	if (!get_string(r, &h->abi, "the ABI name") || !get_string(r, &h->kernel, "the kernel path") ||
	    !get_string(r, &h->cmdline, "the kernel arguments") || !get_varint(r, &mem, 32, "the memory size") ||
	    !get_symbols(r, &h->syms))
		return false;
	h->mem_mb = (uint32_t)mem;
	return true;
}

/* The fields of an event record after its tag byte. */
static bool get_event(struct trace_reader *r, struct trace_record *rec)
{
	uint64_t v;
	if (r->len - r->pos < 2)
		return reader_fail(r, "file ends inside event %llu (truncated trace)", (unsigned long long)r->nevents);
	struct event *e = &rec->ev;
	e->kind = (uint8_t)rec->tag;
	e->sub = r->data[r->pos++];
	uint8_t info = r->data[r->pos++];
	unsigned nargs = info & TRACE_INFO_NARGS;
	if (info & ~(TRACE_INFO_NARGS | TRACE_INFO_CPL | TRACE_INFO_PAYLOAD) || nargs > EVENT_ARGS) {
		r->pos--;
		return reader_fail(r, "event %llu: bad info byte 0x%02x (corrupt trace)", (unsigned long long)r->nevents,
		                   info);
	}
	e->nargs = (uint8_t)nargs;
	e->cpl = (uint8_t)((info & TRACE_INFO_CPL) >> TRACE_INFO_CPL_SHIFT);
	if (!get_varint(r, &v, 64, "an instruction count"))
		return false;
	e->icount = r->cursor.icount + (uint64_t)unzigzag64(v);
	if (!get_varint(r, &v, 32, "an eip"))
		return false;
	e->eip = r->cursor.eip + (uint32_t)unzigzag32((uint32_t)v);
	memset(e->arg, 0, sizeof(e->arg));
	for (unsigned i = 0; i < nargs; i++) {
		if (!get_varint(r, &v, 32, "an event argument"))
			return false;
		e->arg[i] = (uint32_t)v;
	}
	if ((info & TRACE_INFO_PAYLOAD) && !get_bytes(r, &rec->payload, &rec->payload_len, TRACE_PAYLOAD_MAX, "a payload"))
		return false;
	r->cursor.icount = e->icount;
	r->cursor.eip = e->eip;
	r->nevents++;
	return true;
}

enum trace_step trace_reader_next(struct trace_reader *r, struct trace_record *rec)
{
	uint64_t n;
	memset(rec, 0, sizeof(*rec));
	if (r->pos >= r->len) {
		reader_fail(r, "file ends after %llu events without an end record (truncated trace: did the launcher die?)",
		            (unsigned long long)r->nevents);
		return TRACE_STEP_ERROR;
	}
	rec->tag = r->data[r->pos++];
	rec->boot = r->boot;
	switch (rec->tag) {
	case TRACE_TAG_END:
		if (!get_varint(r, &n, 64, "the end record"))
			return TRACE_STEP_ERROR;
		if (n != r->nevents) {
			reader_fail(r, "the end record counts %llu events but the file holds %llu (corrupt trace)",
			            (unsigned long long)n, (unsigned long long)r->nevents);
			return TRACE_STEP_ERROR;
		}
		if (r->pos != r->len) {
			reader_fail(r, "%zu bytes after the end record (corrupt trace)", r->len - r->pos);
			return TRACE_STEP_ERROR;
		}
		return TRACE_STEP_END;
	case TRACE_TAG_BOOT:
		memset(&r->cursor, 0, sizeof(r->cursor));
		rec->boot = ++r->boot;
		return TRACE_STEP_RECORD;
	case 0xff:
		r->pos--;
		reader_fail(r, "record tag 0xff is not used (corrupt trace)");
		return TRACE_STEP_ERROR;
	default:
		rec->boot = r->boot;
		return get_event(r, rec) ? TRACE_STEP_RECORD : TRACE_STEP_ERROR;
	}
}
