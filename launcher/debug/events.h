/*
 * The one event stream (DESIGN §2.6).  Everything the host does that a
 * porter may want to see becomes a `struct event`, stamped with the
 * instruction count, eip and CPL: hypercalls, traps and what the host did
 * with them, interrupts raised, delivered or held back, TLB fills and
 * flushes, NOTIFYs, virtqueue buffers, console traffic, checker findings
 * and the guest's death.  The trace writer, the checkers, the crash
 * report and the debugger all read this stream; nothing re-derives it.
 *
 * The last EVENT_RING_SIZE events are always kept (a memcpy each), for
 * crash reports.  Other consumers register as sinks.
 */
#ifndef LGUEST_EVENTS_H
#define LGUEST_EVENTS_H

#include <stdbool.h>
#include <stdint.h>

struct lguest;

enum event_kind {
	EV_HYPERCALL = 1, /* arg: nr, a1, a2, a3, a4; sub: EVH_SYNC or EVH_ASYNC */
	EV_TRAP,          /* arg: vector, error code, cr2; sub: what the host did (enum trap_action) */
	EV_IRQ_RAISED,    /* arg: irq */
	EV_IRQ_DELIVERED, /* arg: irq, vector */
	EV_IRQ_HELD,      /* arg: irq; sub: why (enum irq_held) */
	EV_TLB_FILL,      /* arg: va, guest pte (after A/D), slot, error code, guest-physical address of the
	                     PTE (0 in linear mode); sub: 1 in linear mode */
	EV_TLB_FLUSH,     /* arg: argument; sub: enum tlb_flush */
	EV_NOTIFY,        /* arg: address; sub: enum notify_kind */
	EV_VQ_BUFFER,     /* arg: device index, queue, head, guest address, length, flags (bit 1 = device writes) */
	EV_CONSOLE_OUT,   /* arg: guest address, length */
	EV_CONSOLE_IN,    /* arg: length */
	EV_CHECK,         /* arg: checker index (checks_name()), the checker's detail word, the finding's sequence
	                     number (1 = the first since the guest booted; in the launcher its text is
	                     checks_finding(seq)->text, in a trace the record's payload) */
	EV_DEATH,         /* arg: enum guest_death */
	EV_NOTE,          /* sub: enum note; arg: note-specific */
	EV_KINDS
};

enum { EVH_SYNC = 0, EVH_ASYNC = 1 };
enum trap_action { TRAP_REFLECTED, TRAP_DIRECT, TRAP_SERVICED, TRAP_IGNORED, TRAP_KILLED, TRAP_HYPERCALL };
enum irq_held { HELD_BLOCKED, HELD_NOIRQ_WINDOW, HELD_IRQS_DISABLED, HELD_NO_GATE };
enum tlb_flush { FLUSH_ALL, FLUSH_USER, FLUSH_PTE, FLUSH_PGD, FLUSH_NEW_PGTABLE_NEW, FLUSH_NEW_PGTABLE_CACHED };
enum notify_kind { NOTIFY_STATUS, NOTIFY_KICK, NOTIFY_EARLY_CONSOLE, NOTIFY_BAD };
enum note { NOTE_SYSCALL_VECTOR /* arg: the guest's vector, honoured by the 2.6.31 profile */ };

#define EVENT_ARGS 6
struct event {
	uint64_t icount;
	uint32_t eip;
	uint8_t cpl;
	uint8_t kind;
	uint8_t sub;
	uint8_t nargs;
	uint32_t arg[EVENT_ARGS];
};

/* A consumer of events. */
struct event_sink {
	void (*event)(void *ctx, struct lguest *lg, const struct event *e);
	void *ctx;
};

#define EVENT_RING_SIZE 64
#define EVENT_HCALL_HISTORY 256
#define EVENT_MAX_SINKS 4

struct event_stream {
	struct event ring[EVENT_RING_SIZE];
	uint64_t count; /* events emitted so far; ring[(count-1) % size] is the newest */
	/* The last hypercalls alone, for the debuggers' "recent hypercalls" views. */
	struct event hcalls[EVENT_HCALL_HISTORY];
	uint64_t nhcalls;
	struct event_sink sink[EVENT_MAX_SINKS];
	unsigned nsinks;
};

/* Add a consumer; false if there is no room. */
bool events_add_sink(struct event_stream *s, const struct event_sink *sink);
/* Remove every consumer registered with this ctx (a trace stopped from the debugger). */
void events_remove_sink(struct event_stream *s, void *ctx);

/* Emit an event with up to EVENT_ARGS arguments, stamped with the CPU's count, eip and CPL. */
void event_emit(struct lguest *lg, enum event_kind kind, uint8_t sub, unsigned nargs, const uint32_t *args);

/* Shorthands for the common arities. */
#define EMIT(lg, kind, sub, ...) \
	event_emit((lg), (kind), (sub), sizeof((uint32_t[]){__VA_ARGS__}) / sizeof(uint32_t), (uint32_t[]){__VA_ARGS__})

/* The last n events, oldest first; returns how many were copied. */
unsigned events_last(const struct event_stream *s, struct event *out, unsigned n);
/* The last n hypercalls (of s->nhcalls so far), oldest first; returns how many were copied. */
unsigned events_last_hypercalls(const struct event_stream *s, struct event *out, unsigned n);

/* Names for messages and the trace viewer. */
const char *event_kind_name(unsigned kind);
const char *trap_action_name(unsigned a);
const char *irq_held_name(unsigned h);
const char *tlb_flush_name(unsigned f);
const char *notify_kind_name(unsigned k);

/* One line describing an event ("hypercall SET_STACK(0x69, 0xc0400000, 2)"), without the stamp. */
void event_describe(const struct event *e, char *buf, unsigned len);

/* A buffer this long holds any description whole, a finding's text included. */
#define EVENT_DESCRIBE_MAX 512u

/*
 * Where event_describe() gets a checker finding's text: the function
 * returns the text of finding number seq, or NULL if it has none.  Only
 * the launcher's checkers (debug/checks.c) install one; without it (lgdbg,
 * which reads findings from a trace or the control socket) an EV_CHECK
 * reads "check NAME finding #SEQ" and the text is shown beside it.
 */
void events_set_finding_text(const char *(*text)(unsigned seq));

#endif
