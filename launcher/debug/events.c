/* The event stream: stamping, the always-on ring, sinks, and plain-text descriptions. */
#include <stdio.h>
#include <string.h>

#include "debug/checks.h"
#include "debug/events.h"
#include "host/host.h"

/* event_describe()'s source of finding texts; NULL outside the launcher (events.h). */
static const char *(*finding_text)(unsigned seq);

void events_set_finding_text(const char *(*text)(unsigned seq))
{
	finding_text = text;
}

bool events_add_sink(struct event_stream *s, const struct event_sink *sink)
{
	if (s->nsinks == EVENT_MAX_SINKS)
		return false;
	s->sink[s->nsinks++] = *sink;
	return true;
}

void events_remove_sink(struct event_stream *s, void *ctx)
{
	unsigned kept = 0;
	for (unsigned i = 0; i < s->nsinks; i++)
		if (s->sink[i].ctx != ctx)
			s->sink[kept++] = s->sink[i];
	s->nsinks = kept;
}

void event_emit(struct lguest *lg, enum event_kind kind, uint8_t sub, unsigned nargs, const uint32_t *args)
{
	struct event_stream *s = &lg->events;
	struct event *e = &s->ring[s->count % EVENT_RING_SIZE];
	e->icount = lg->cpu.icount;
	e->eip = lg->cpu.eip;
	e->cpl = (uint8_t)lg->cpu.cpl;
	e->kind = (uint8_t)kind;
	e->sub = sub;
	e->nargs = (uint8_t)(nargs < EVENT_ARGS ? nargs : EVENT_ARGS);
	memset(e->arg, 0, sizeof(e->arg));
	memcpy(e->arg, args, e->nargs * sizeof(uint32_t));
	s->count++;
	if (kind == EV_HYPERCALL)
		s->hcalls[s->nhcalls++ % EVENT_HCALL_HISTORY] = *e;
	for (unsigned i = 0; i < s->nsinks; i++)
		s->sink[i].event(s->sink[i].ctx, lg, e);
}

/* The newest n of the count events a ring of size slots has seen, oldest first. */
static unsigned ring_tail(const struct event *ring, unsigned size, uint64_t count, struct event *out, unsigned n)
{
	uint64_t have = count < size ? count : size;
	if (n > have)
		n = (unsigned)have;
	for (unsigned i = 0; i < n; i++)
		out[i] = ring[(count - n + i) % size];
	return n;
}

unsigned events_last(const struct event_stream *s, struct event *out, unsigned n)
{
	return ring_tail(s->ring, EVENT_RING_SIZE, s->count, out, n);
}

unsigned events_last_hypercalls(const struct event_stream *s, struct event *out, unsigned n)
{
	return ring_tail(s->hcalls, EVENT_HCALL_HISTORY, s->nhcalls, out, n);
}

static const char *name_from(const char *const *names, unsigned n, unsigned i)
{
	return i < n && names[i] ? names[i] : "?";
}
#define NAME_FROM(table, i) name_from((table), sizeof(table) / sizeof((table)[0]), (i))

const char *event_kind_name(unsigned kind)
{
	static const char *const names[] = {
		[EV_HYPERCALL] = "hypercall", [EV_TRAP] = "trap", [EV_IRQ_RAISED] = "irq-raised",
		[EV_IRQ_DELIVERED] = "irq-delivered", [EV_IRQ_HELD] = "irq-held", [EV_TLB_FILL] = "tlb-fill",
		[EV_TLB_FLUSH] = "tlb-flush", [EV_NOTIFY] = "notify", [EV_VQ_BUFFER] = "vq-buffer",
		[EV_CONSOLE_OUT] = "console-out", [EV_CONSOLE_IN] = "console-in", [EV_CHECK] = "check",
		[EV_DEATH] = "death", [EV_NOTE] = "note",
	};
	return NAME_FROM(names, kind);
}

const char *trap_action_name(unsigned a)
{
	static const char *const names[] = {"reflected", "direct", "serviced", "ignored", "killed", "hypercall"};
	return NAME_FROM(names, a);
}

const char *irq_held_name(unsigned h)
{
	static const char *const names[] = {"blocked_interrupts", "noirq window", "irq_enabled clear", "no gate"};
	return NAME_FROM(names, h);
}

const char *tlb_flush_name(unsigned f)
{
	static const char *const names[] = {"all", "user", "pte", "pgd", "new-pgtable(new slot)",
	                                    "new-pgtable(cached slot: nothing dropped)"};
	return NAME_FROM(names, f);
}

const char *notify_kind_name(unsigned k)
{
	static const char *const names[] = {"status", "kick", "early-console", "bad"};
	return NAME_FROM(names, k);
}

/*
 * An EV_CHECK: "check NAME: TEXT" where the text is at hand, else
 * "check NAME finding #SEQ" (a record of a trace written before findings
 * were numbered has no number: "check NAME finding").
 */
static void describe_finding(const struct event *e, char *buf, unsigned len)
{
	const char *name = checks_name(e->arg[0]);
	char unknown[24];
	if (!name) {
		snprintf(unknown, sizeof(unknown), "%u", e->arg[0]);
		name = unknown;
	}
	const char *text = e->nargs >= 3 && finding_text ? finding_text(e->arg[2]) : NULL;
	if (text)
		snprintf(buf, len, "check %s: %s", name, text);
	else if (e->nargs >= 3)
		snprintf(buf, len, "check %s finding #%u", name, e->arg[2]);
	else
		snprintf(buf, len, "check %s finding", name);
}

void event_describe(const struct event *e, char *buf, unsigned len)
{
	const uint32_t *a = e->arg;
	const char *hn;
	switch (e->kind) {
	case EV_HYPERCALL:
		hn = hypercall_name(a[0]);
		if (hn)
			snprintf(buf, len, "hypercall %s(0x%x, 0x%x, 0x%x, 0x%x)%s", hn, a[1], a[2], a[3], a[4],
			         e->sub == EVH_ASYNC ? " [async]" : "");
		else
			snprintf(buf, len, "hypercall %u(0x%x, 0x%x, 0x%x, 0x%x)%s", a[0], a[1], a[2], a[3], a[4],
			         e->sub == EVH_ASYNC ? " [async]" : "");
		break;
	case EV_TRAP:
		if (a[0] == 14)
			snprintf(buf, len, "trap 14 error 0x%x cr2 0x%x: %s", a[1], a[2], trap_action_name(e->sub));
		else
			snprintf(buf, len, "trap %u error 0x%x: %s", a[0], a[1], trap_action_name(e->sub));
		break;
	case EV_IRQ_RAISED: snprintf(buf, len, "irq %u raised", a[0]); break;
	case EV_IRQ_DELIVERED: snprintf(buf, len, "irq %u delivered at vector %u", a[0], a[1]); break;
	case EV_IRQ_HELD: snprintf(buf, len, "irq %u held back: %s", a[0], irq_held_name(e->sub)); break;
	case EV_TLB_FILL: snprintf(buf, len, "tlb fill va 0x%x pte 0x%x slot %u", a[0], a[1], a[2]); break;
	case EV_TLB_FLUSH: snprintf(buf, len, "tlb flush %s 0x%x", tlb_flush_name(e->sub), a[0]); break;
	case EV_NOTIFY: snprintf(buf, len, "notify 0x%x: %s", a[0], notify_kind_name(e->sub)); break;
	case EV_VQ_BUFFER:
		snprintf(buf, len, "vq device %u queue %u head %u: 0x%x len %u %s", a[0], a[1], a[2], a[3], a[4],
		         (a[5] & 2) ? "in" : "out");
		break;
	case EV_CONSOLE_OUT: snprintf(buf, len, "console out %u bytes at 0x%x", a[1], a[0]); break;
	case EV_CONSOLE_IN: snprintf(buf, len, "console in %u bytes", a[0]); break;
	case EV_CHECK: describe_finding(e, buf, len); break;
	case EV_DEATH: {
		static const char *const how[] = {"alive", "powered off", "killed", "restart requested", "stopped by a launcher limit"};
		snprintf(buf, len, "guest death: %s", a[0] < 5 ? how[a[0]] : "?");
		break;
	}
	case EV_NOTE:
		snprintf(buf, len, "note: syscall vector 0x%x honoured; a real lguest host needed lg.syscall_vector=%u", a[0],
		         a[0]);
		break;
	default: snprintf(buf, len, "event %u", e->kind); break;
	}
}
