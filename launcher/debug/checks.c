/*
 * What every checker shares: the --check list, the finding format, the
 * held-back findings of a dying guest, watched pages and a page-table
 * walk that never kills (guest_walk in host/pagetables.c).  See checks.h for the contract.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "debug/checks.h"
#include "host/host.h"

static const struct checker *const all_checkers[] = {
	&check_stack_dma, &check_tlb_flush, &check_trap_numbers, &check_boot_sanity,
};
#define NCHECKERS (sizeof(all_checkers) / sizeof(all_checkers[0]))

static unsigned checker_index(const struct checker *who);

/* The one set of enabled checkers (one guest per launcher). */
static struct {
	unsigned mask;
	bool fatal;
	/*
	 * Findings since checks_enable(); finding number seq is
	 * kept[(seq - 1) % CHECKS_KEPT] while it is among the last CHECKS_KEPT.
	 */
	unsigned findings;
	struct check_finding kept[CHECKS_KEPT];
	/*
	 * Findings up to this sequence number are printed (or were the death
	 * reason); the ones after it are held back: the guest may be dying of
	 * the same event.
	 */
	unsigned printed;
	/* Which checkers watch each guest page (bit i: all_checkers[i]); NULL until the first watch. */
	uint8_t *owners;
} checks;

const char *checks_names(void)
{
	return "stack-dma,tlb-flush,trap-numbers,boot-sanity";
}

bool checks_parse(const char *list, unsigned *mask, char *err, size_t errlen)
{
	char copy[256];
	*mask = 0;
	if (strcmp(list, "all") == 0) {
		*mask = CHECKS_ALL;
		return true;
	}
	if (strcmp(list, "none") == 0 || !*list)
		return true;
	snprintf(copy, sizeof(copy), "%s", list);
	for (char *save = NULL, *name = strtok_r(copy, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
		unsigned i;
		for (i = 0; i < NCHECKERS; i++)
			if (strcmp(name, all_checkers[i]->name) == 0)
				break;
		if (i == NCHECKERS) {
			snprintf(err, errlen, "unknown checker '%s' (known: %s, all, none)", name, checks_names());
			return false;
		}
		*mask |= 1u << i;
	}
	return true;
}

const char *checks_name(unsigned index)
{
	return index < NCHECKERS ? all_checkers[index]->name : NULL;
}

const struct check_finding *checks_finding(unsigned seq)
{
	if (seq == 0 || seq > checks.findings || checks.findings - seq >= CHECKS_KEPT)
		return NULL;
	return &checks.kept[(seq - 1) % CHECKS_KEPT];
}

/* event_describe()'s way to a finding's text (events.h): only the launcher has findings. */
static const char *finding_text(unsigned seq)
{
	const struct check_finding *f = checks_finding(seq);
	return f ? f->text : NULL;
}

/* Print the findings held back, as `lguest: check ...` lines (or hints after a death). */
static void print_held(const char *prefix)
{
	for (unsigned seq = checks.printed + 1; seq <= checks.findings; seq++) {
		const struct check_finding *f = checks_finding(seq);
		fprintf(stderr, "%scheck %s: %s\n", prefix, checks_name(f->ev.arg[0]), f->text);
	}
	checks.printed = checks.findings;
}

/* The event sink: print what earlier events found while the guest lives on, then dispatch. */
static void checks_event(void *ctx, struct lguest *lg, const struct event *e)
{
	(void)ctx;
	if (e->kind == EV_CHECK)
		return;
	if (lg->death == GUEST_ALIVE)
		print_held("lguest: ");
	for (unsigned i = 0; i < NCHECKERS; i++)
		if (checks.mask & (1u << i))
			all_checkers[i]->event(lg, e);
}

/* A watched page was accessed: every enabled checker with an access function sees it. */
static void checks_access(struct lguest *lg, uint32_t va, uint32_t phys, unsigned size, enum cpu_access access,
                          uint64_t value)
{
	if (lg->death == GUEST_ALIVE)
		print_held("lguest: ");
	for (unsigned i = 0; i < NCHECKERS; i++)
		if ((checks.mask & (1u << i)) && all_checkers[i]->access)
			all_checkers[i]->access(lg, va, phys, size, access, value);
}

void checks_enable(struct lguest *lg, unsigned mask, bool fatal)
{
	checks.mask = mask & CHECKS_ALL;
	checks.fatal = fatal;
	checks.findings = 0;
	checks.printed = 0;
	events_set_finding_text(finding_text);
	free(checks.owners);
	checks.owners = NULL;
	if (!checks.mask)
		return;
	struct event_sink sink = {checks_event, NULL};
	if (!events_add_sink(&lg->events, &sink)) {
		fprintf(stderr, "lguest: no room for the checkers' event sink; checkers off\n");
		checks.mask = 0;
		return;
	}
	lg->watch_access = checks_access;
	for (unsigned i = 0; i < NCHECKERS; i++)
		if (checks.mask & (1u << i))
			all_checkers[i]->start(lg);
}

void checks_finish(struct lguest *lg)
{
	print_held("  ");
	free(checks.owners);
	checks.owners = NULL;
	free(lg->watched_phys);
	lg->watched_phys = NULL;
	lg->watched_pages = 0;
	lg->watch_access = NULL;
}

unsigned checks_count(void)
{
	return checks.findings;
}

void check_report(struct lguest *lg, const struct checker *who, uint32_t word, const char *fmt, ...)
{
	/* Make room: a finding still held back is printed before it is forgotten. */
	if (checks.findings - checks.printed == CHECKS_KEPT)
		print_held(lg->death == GUEST_ALIVE ? "lguest: " : "  ");
	unsigned seq = ++checks.findings;
	struct check_finding *f = &checks.kept[(seq - 1) % CHECKS_KEPT];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(f->text, sizeof(f->text), fmt, ap);
	va_end(ap);
	for (char *c = f->text; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = ' ';

	unsigned checker = checker_index(who);
	f->ev = (struct event){.kind = EV_CHECK, .nargs = 3, .arg = {checker, word, seq}};
	EMIT(lg, EV_CHECK, 0, checker, word, seq);
	events_last(&lg->events, &f->ev, 1); /* the same event, now stamped */
	if (checks.fatal && lg->death == GUEST_ALIVE) {
		checks.printed = seq; /* it becomes the death reason */
		kill_guest(lg, "check %s: %s", who->name, f->text);
	}
}

/* The index of a checker in all_checkers. */
static unsigned checker_index(const struct checker *who)
{
	unsigned i = 0;
	while (i < NCHECKERS && all_checkers[i] != who)
		i++;
	return i;
}

/* The watched-page bitmap and its owners, created at the first watch; false if memory ran out. */
static bool have_bitmap(struct lguest *lg)
{
	if (lg->watched_phys)
		return true;
	uint32_t pages = lg->mem.mapped_bytes / GUEST_PAGE_SIZE + 1;
	lg->watched_phys = calloc((pages + 7) / 8, 1);
	checks.owners = calloc(pages, 1);
	if (!lg->watched_phys || !checks.owners) {
		free(lg->watched_phys);
		free(checks.owners);
		lg->watched_phys = NULL;
		checks.owners = NULL;
		return false;
	}
	lg->watched_pages = pages;
	return true;
}

void check_watch_page(struct lguest *lg, const struct checker *who, uint32_t phys)
{
	uint32_t pfn = phys >> 12;
	if (!have_bitmap(lg) || pfn >= lg->watched_pages)
		return;
	checks.owners[pfn] |= (uint8_t)(1u << checker_index(who));
	if (phys_page_watched(lg, phys))
		return;
	lg->watched_phys[pfn >> 3] |= (uint8_t)(1u << (pfn & 7));
	/* Translations the CPU cached before were not watched: make it ask again. */
	cpu_tlb_flush(&lg->cpu);
}

void check_unwatch_page(struct lguest *lg, const struct checker *who, uint32_t phys)
{
	uint32_t pfn = phys >> 12;
	if (!phys_page_watched(lg, phys))
		return;
	checks.owners[pfn] &= (uint8_t)~(1u << checker_index(who));
	if (!checks.owners[pfn])
		lg->watched_phys[pfn >> 3] &= (uint8_t)~(1u << (pfn & 7));
}


const char *check_where(struct lguest *lg, uint32_t addr, char *buf, size_t len)
{
	char sym[160];
	describe_addr(lg, addr, sym, sizeof(sym));
	snprintf(buf, len, "0x%x%s", addr, sym);
	return buf;
}
