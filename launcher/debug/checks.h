/*
 * The porting checkers (`--check=LIST`, `--check-fatal`).
 *
 * Each checker (debug/check_<name>.c) watches the event stream for one
 * family of mistakes that real ports made (see docs/checkers/) and
 * reports what it finds as
 *
 *     lguest: check <name>: <text>
 *
 * on stderr, plus an EV_CHECK event carrying the finding's sequence
 * number.  The last CHECKS_KEPT findings of the guest, text included, are
 * kept here (checks_finding) for the trace, the debuggers and the crash
 * report.  A finding about the very event
 * that kills the guest is held back and printed after the death reason,
 * as an indented hint line, so that the reason stays the first line
 * (launcher contract).  With --check-fatal the first finding kills the
 * guest instead: exit 1, the finding as the reason.
 *
 * Checkers may also watch guest-physical pages: every CPU access to such
 * a page reaches their `access` function (host.h, watched_phys).
 *
 * One guest per launcher: checker state lives in each checker's file and
 * is reset by checks_enable() at every (re)boot.
 */
#ifndef LGUEST_CHECKS_H
#define LGUEST_CHECKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cpu/cpu.h"
#include "debug/events.h"

struct lguest;

struct checker {
	const char *name;
	/* A fresh guest is about to run: forget everything. */
	void (*start)(struct lguest *lg);
	/* One event of the stream. */
	void (*event)(struct lguest *lg, const struct event *e);
	/* An access to a watched page (may be NULL if the checker watches none). */
	void (*access)(struct lguest *lg, uint32_t va, uint32_t phys, unsigned size, enum cpu_access access,
	               uint64_t value);
};

extern const struct checker check_stack_dma, check_tlb_flush, check_trap_numbers, check_boot_sanity;

#define CHECKS_ALL 0xfu

/*
 * Parse --check=LIST: "all", "none", or names separated by commas.
 * Returns false (with a message in err) for an unknown name.
 */
bool checks_parse(const char *list, unsigned *mask, char *err, size_t errlen);

/* The names of every checker, comma-separated, for the usage text and errors. */
const char *checks_names(void);

/* Attach the chosen checkers to a freshly loaded guest. */
void checks_enable(struct lguest *lg, unsigned mask, bool fatal);

/* After the death reason is printed: print findings held back as hints, detach. */
void checks_finish(struct lguest *lg);

/* The findings kept, newest last: older ones are forgotten (their stderr lines stay). */
#define CHECKS_KEPT 64u
/* A finding's text is cut at this many bytes (NUL included). */
#define CHECK_TEXT_MAX 448u

/* One finding, as kept for whoever shows findings after the fact. */
struct check_finding {
	/* The EV_CHECK event: stamp, arg[0] checker, arg[1] detail word, arg[2] sequence number. */
	struct event ev;
	/* What followed `lguest: check NAME: ` on stderr, on one line (control characters as spaces). */
	char text[CHECK_TEXT_MAX];
};

/*
 * How many findings were reported since checks_enable(): also the
 * sequence number of the newest (the first is 1).
 */
unsigned checks_count(void);

/*
 * Finding number seq of this guest; NULL if there is no such finding or
 * it is older than the last CHECKS_KEPT.  The text is there already when
 * the EV_CHECK event reaches the sinks, the stamp in ev only after.
 */
const struct check_finding *checks_finding(unsigned seq);

/* The name of checker `index` (EV_CHECK's arg[0]); NULL for an unknown index.  No state: lgdbg uses it too. */
const char *checks_name(unsigned index);

/* Report one finding of checker `who`; `word` goes into the EV_CHECK event. */
void check_report(struct lguest *lg, const struct checker *who, uint32_t word, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/*
 * Start or stop watching accesses to the guest-physical page holding
 * phys, on behalf of checker `who`; a page stays watched while any
 * checker wants it.
 */
void check_watch_page(struct lguest *lg, const struct checker *who, uint32_t phys);
void check_unwatch_page(struct lguest *lg, const struct checker *who, uint32_t phys);

/* "0x1234 (symbol+0x10)" into buf: an address with its symbol, for findings. */
const char *check_where(struct lguest *lg, uint32_t addr, char *buf, size_t len);

#endif
