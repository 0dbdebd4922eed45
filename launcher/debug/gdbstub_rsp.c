/*
 * The remote serial protocol's framing, byte by byte, with no socket in
 * sight: `$payload#cs` packets, '+'/'-' acknowledgements and the bare
 * Ctrl-C byte.  A packet that grows past GDB_MAX_PACKET is read to its end
 * and reported as oversized (so the reply can be an error rather than a
 * retransmission loop); a '$' inside a packet starts over, as gdb's own
 * reader does; any other stray byte between packets is ignored.
 */
#include <string.h>

#include "debug/gdbstub_internal.h"

void rsp_init(struct rsp_parser *p)
{
	memset(p, 0, sizeof(*p));
	p->state = RSP_IDLE;
}

enum rsp_event rsp_feed(struct rsp_parser *p, uint8_t byte)
{
	int v;
	switch (p->state) {
	case RSP_IDLE:
		if (byte == '$') {
			p->state = RSP_BODY;
			p->len = 0;
			p->sum = 0;
			p->overflow = false;
		} else if (byte == 0x03) {
			return RSP_INTERRUPT;
		} else if (byte == '+') {
			return RSP_ACK;
		} else if (byte == '-') {
			return RSP_NAK;
		}
		return RSP_NONE;
	case RSP_BODY:
		if (byte == '#') {
			p->state = RSP_SUM1;
		} else if (byte == '$') {
			p->len = 0;
			p->sum = 0;
			p->overflow = false;
		} else {
			p->sum = (uint8_t)(p->sum + byte);
			if (p->len < GDB_MAX_PACKET)
				p->buf[p->len++] = (char)byte;
			else
				p->overflow = true;
		}
		return RSP_NONE;
	case RSP_SUM1:
		v = rsp_hexval((char)byte);
		p->sent_sum = (uint8_t)((v < 0 ? 0x100 : v) << 4);
		p->state = v < 0 ? RSP_IDLE : RSP_SUM2;
		return v < 0 ? RSP_BAD_CHECKSUM : RSP_NONE;
	case RSP_SUM2:
		p->state = RSP_IDLE;
		p->buf[p->len] = '\0';
		v = rsp_hexval((char)byte);
		if (p->overflow)
			return RSP_OVERSIZED;
		if (v < 0 || (uint8_t)(p->sent_sum | v) != p->sum)
			return RSP_BAD_CHECKSUM;
		return RSP_PACKET;
	}
	return RSP_NONE;
}

size_t rsp_frame(const char *payload, size_t len, char *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = 0;
	uint8_t sum = 0;
	out[n++] = '$';
	for (size_t i = 0; i < len; i++) {
		uint8_t c = (uint8_t)payload[i];
		if (c == '$' || c == '#' || c == '}' || c == '*') {
			out[n++] = '}';
			sum = (uint8_t)(sum + '}');
			c ^= 0x20;
		}
		out[n++] = (char)c;
		sum = (uint8_t)(sum + c);
	}
	out[n++] = '#';
	out[n++] = hex[sum >> 4];
	out[n++] = hex[sum & 15];
	return n;
}

size_t rsp_unescape(char *data, size_t len)
{
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		if (data[i] == '}' && i + 1 < len)
			data[o++] = (char)(data[++i] ^ 0x20);
		else
			data[o++] = data[i];
	}
	return o;
}

int rsp_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

void rsp_tohex(const uint8_t *in, size_t len, char *out)
{
	static const char hex[] = "0123456789abcdef";
	for (size_t i = 0; i < len; i++) {
		out[2 * i] = hex[in[i] >> 4];
		out[2 * i + 1] = hex[in[i] & 15];
	}
	out[2 * len] = '\0';
}

bool rsp_fromhex(const char *in, size_t len, uint8_t *out)
{
	for (size_t i = 0; i < len; i++) {
		int hi = rsp_hexval(in[2 * i]), lo = hi < 0 ? -1 : rsp_hexval(in[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

bool rsp_parse_hex32(const char *s, uint32_t *v, const char **end)
{
	uint64_t acc = 0;
	const char *p = s;
	int d;
	while ((d = rsp_hexval(*p)) >= 0) {
		acc = acc << 4 | (uint64_t)d;
		if (acc > 0xffffffffu)
			return false;
		p++;
	}
	if (p == s)
		return false;
	*v = (uint32_t)acc;
	if (end)
		*end = p;
	return true;
}
