/* The filters shared by `lgdbg trace` and the shell's `trace` command. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "event_filter.h"
#include "host/host.h"

void event_filter_init(struct event_filter *f)
{
	memset(f, 0, sizeof(*f));
	f->to = UINT64_MAX;
}

void event_filter_free(struct event_filter *f)
{
	free(f->addr_text);
	f->addr_text = NULL;
}

/* A whole unsigned number (decimal, or hex with 0x). */
static bool parse_u64(const char *s, uint64_t *v)
{
	char *end;
	errno = 0;
	unsigned long long n = strtoull(s, &end, 0);
	if (errno || end == s || *end || *s == '-')
		return false;
	*v = n;
	return true;
}

/* The number of a hypercall given by name (with or without LHCALL_, any case) or by number. */
static bool hcall_number(const char *name, uint32_t *nr)
{
	uint64_t v;
	if (parse_u64(name, &v) && v <= UINT32_MAX) {
		*nr = (uint32_t)v;
		return true;
	}
	if (strncasecmp(name, "LHCALL_", 7) == 0)
		name += 7;
	for (uint32_t i = 0; i < 256; i++)
		if (hypercall_name(i) && strcasecmp(hypercall_name(i), name) == 0) {
			*nr = i;
			return true;
		}
	return false;
}

/* --kind=LIST (names as event_kind_name spells them) or --hcall=LIST. */
static bool parse_list(struct event_filter *f, bool kinds, const char *list, char *err, size_t errlen)
{
	char *copy = strdup(list), *save = NULL;
	bool ok = copy != NULL;
	if (!ok)
		snprintf(err, errlen, "out of memory");
	for (char *name = copy ? strtok_r(copy, ",", &save) : NULL; ok && name; name = strtok_r(NULL, ",", &save)) {
		if (kinds) {
			unsigned k = 1;
			while (k < EV_KINDS && strcmp(event_kind_name(k), name) != 0)
				k++;
			if (k == EV_KINDS) {
				snprintf(err, errlen, "unknown event kind '%s'", name);
				ok = false;
			} else {
				f->kind[k] = true;
			}
		} else if (f->nhcalls == MAX_HCALL_FILTER) {
			snprintf(err, errlen, "too many hypercalls in --hcall (at most %d)", MAX_HCALL_FILTER);
			ok = false;
		} else if (!hcall_number(name, &f->hcall[f->nhcalls++])) {
			snprintf(err, errlen, "unknown hypercall '%s'", name);
			ok = false;
		}
	}
	if (kinds)
		f->kinds_given = true;
	free(copy);
	return ok;
}

bool event_filter_set(struct event_filter *f, const char *name, const char *value, char *err, size_t errlen)
{
	if (!strcmp(name, "kind"))
		return parse_list(f, true, value, err, errlen);
	if (!strcmp(name, "hcall"))
		return parse_list(f, false, value, err, errlen);
	if (!strcmp(name, "addr")) {
		free(f->addr_text);
		f->addr_text = strdup(value);
		return f->addr_text != NULL;
	}
	if (!strcmp(name, "from") || !strcmp(name, "to")) {
		if (parse_u64(value, name[0] == 'f' ? &f->from : &f->to))
			return true;
		snprintf(err, errlen, "--%s wants an instruction count, not '%s'", name, value);
		return false;
	}
	snprintf(err, errlen, "unknown filter --%s (filters: --kind --hcall --addr --from --to)", name);
	return false;
}

/* The last address a size-less label covers: everything before the next symbol. */
static uint64_t label_end(const struct symbols *syms, uint32_t addr)
{
	for (size_t i = 0; i < syms->count; i++)
		if (syms->sym[i].addr > addr)
			return syms->sym[i].addr - 1;
	return UINT32_MAX;
}

bool event_filter_resolve(struct event_filter *f, const struct symbols *syms, char *err, size_t errlen)
{
	if (!f->addr_text)
		return true;
	const char *dash = strchr(f->addr_text, '-');
	uint64_t lo, hi;
	if (dash) {
		char *lo_text = strndup(f->addr_text, (size_t)(dash - f->addr_text));
		bool ok = lo_text && parse_u64(lo_text, &lo) && parse_u64(dash + 1, &hi) && lo <= hi && hi <= UINT32_MAX;
		free(lo_text);
		if (!ok) {
			snprintf(err, errlen, "--addr wants LO-HI (LO <= HI, 32-bit) or a symbol, not '%s'", f->addr_text);
			return false;
		}
	} else {
		uint32_t addr;
		if (!symbols_find(syms, f->addr_text, &addr)) {
			snprintf(err, errlen, "--addr: no symbol '%s' in the symbol table", f->addr_text);
			return false;
		}
		const struct symbol *s = symbols_lookup(syms, addr);
		lo = addr;
		hi = s && s->size ? (uint64_t)addr + s->size - 1 : label_end(syms, addr);
	}
	f->addr_lo = (uint32_t)lo;
	f->addr_hi = (uint32_t)hi;
	return true;
}

bool event_filter_passes(const struct event_filter *f, const struct event *e)
{
	if (f->kinds_given && !f->kind[e->kind])
		return false;
	if (f->nhcalls) {
		bool found = false;
		for (unsigned i = 0; i < f->nhcalls && !found; i++)
			found = e->kind == EV_HYPERCALL && e->arg[0] == f->hcall[i];
		if (!found)
			return false;
	}
	if (f->addr_text && (e->eip < f->addr_lo || e->eip > f->addr_hi))
		return false;
	return e->icount >= f->from && e->icount <= f->to;
}
