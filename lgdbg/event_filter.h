/*
 * Event filters, as `lgdbg trace` and the shell's `trace` command spell
 * them: --kind=K[,K], --hcall=NAME[,NAME], --addr=LO-HI|SYMBOL,
 * --from=N, --to=N (instruction counts).
 */
#ifndef LGDBG_EVENT_FILTER_H
#define LGDBG_EVENT_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "debug/events.h"
#include "symbols.h"

#define MAX_HCALL_FILTER 64

struct event_filter {
	bool kinds_given;
	bool kind[256];
	unsigned nhcalls;
	uint32_t hcall[MAX_HCALL_FILTER];
	char *addr_text; /* resolved once the symbols are known */
	uint32_t addr_lo, addr_hi;
	uint64_t from, to;
};

/* Everything passes. */
void event_filter_init(struct event_filter *f);
void event_filter_free(struct event_filter *f);

/*
 * Apply one filter: `name` is kind, hcall, addr, from or to.  False with a
 * message in err (no "lgdbg" prefix) when the value or the name is bad.
 */
bool event_filter_set(struct event_filter *f, const char *name, const char *value, char *err, size_t errlen);

/* Turn --addr into a range, now that the symbols are known. */
bool event_filter_resolve(struct event_filter *f, const struct symbols *syms, char *err, size_t errlen);

/* Does the event pass every filter given? */
bool event_filter_passes(const struct event_filter *f, const struct event *e);

#endif
