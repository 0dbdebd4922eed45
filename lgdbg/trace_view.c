/*
 * `lgdbg trace`: read a whole trace into memory, keep the events the
 * filters let through, and print them as text or as trace-event JSON.
 *
 * The text is meant to be diffed (tests/traces.test keeps golden copies):
 * one event per line, `<icount> <eip> <symbol+off> cpl<N> <description>`,
 * with nothing in it that changes from one run of the same guest to the
 * next.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "debug/checks.h"
#include "debug/trace_format.h"
#include "host/host.h"
#include "event_filter.h"
#include "trace_view.h"

const char trace_view_usage[] =
	"Usage: lgdbg trace FILE [filters] [--json=OUT]\n"
	"\n"
	"Prints the trace FILE (written by `lguest --trace=FILE`) one event a line:\n"
	"    <icount> <eip> <symbol+off> cpl<N> <description>\n"
	"after '#' lines describing the run.  Console text and death reasons are\n"
	"shown quoted after the description.\n"
	"\n"
	"Filters (an event is shown when it passes all that are given):\n"
	"  --kind=KIND[,KIND...]    event kinds: hypercall, trap, irq-raised,\n"
	"                           irq-delivered, irq-held, tlb-fill, tlb-flush,\n"
	"                           notify, vq-buffer, console-out, console-in,\n"
	"                           check, death\n"
	"  --hcall=NAME[,NAME...]   only these hypercalls (SET_STACK, LHCALL_HALT,\n"
	"                           or a number)\n"
	"  --addr=LO-HI             eip from LO to HI, both included\n"
	"  --addr=SYMBOL            eip inside the kernel symbol SYMBOL (a label\n"
	"                           without a size: up to the next symbol)\n"
	"  --from=ICOUNT            events at or after this instruction count\n"
	"  --to=ICOUNT              events at or before this instruction count\n"
	"\n"
	"  --json=OUT               write Chrome/Perfetto trace-event JSON to OUT\n"
	"                           ('-' for stdout) instead of the text\n"
	"  -h, --help               this text\n"
	"\n"
	"Exit codes: 0 success; 2 usage error, or FILE unreadable, damaged,\n"
	"truncated or of another format version (the events before the damage\n"
	"are still printed as text).\n";

/* A trace read into memory: its header and every record up to the end or the damage. */
struct trace_file {
	uint8_t *data;
	size_t len;
	struct trace_header header;
	struct trace_record *rec;
	size_t nrec, cap;
	bool damaged;
	char err[300];
};

/* Print a usage error and point at --help; the exit code for it. */
static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "lgdbg trace: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\n(lgdbg trace --help lists the options)\n");
	return 2;
}

/* The whole file in memory; false with a message on failure. */
static bool read_file(const char *path, struct trace_file *tf)
{
	FILE *fp = fopen(path, "rb");
	if (!fp) {
		snprintf(tf->err, sizeof(tf->err), "%s", strerror(errno));
		return false;
	}
	size_t cap = 1 << 16;
	tf->data = malloc(cap);
	while (tf->data) {
		tf->len += fread(tf->data + tf->len, 1, cap - tf->len, fp);
		if (tf->len < cap)
			break;
		uint8_t *more = realloc(tf->data, cap * 2);
		if (!more) {
			free(tf->data);
			tf->data = NULL;
			break;
		}
		tf->data = more;
		cap *= 2;
	}
	bool ok = tf->data && !ferror(fp);
	if (!ok)
		snprintf(tf->err, sizeof(tf->err), "%s", tf->data ? strerror(errno) : "out of memory");
	fclose(fp);
	return ok;
}

/*
 * Read the header and every record.  False if the header is unusable; a
 * file damaged later keeps the records before the damage, with
 * tf->damaged set and tf->err saying what is wrong.
 */
static bool load_trace(const char *path, struct trace_file *tf)
{
	struct trace_reader r;
	if (!read_file(path, tf))
		return false;
	if (!trace_reader_open(&r, tf->data, tf->len, &tf->header)) {
		snprintf(tf->err, sizeof(tf->err), "%s", r.err);
		return false;
	}
	for (;;) {
		struct trace_record rec;
		enum trace_step step = trace_reader_next(&r, &rec);
		if (step == TRACE_STEP_END)
			return true;
		if (step == TRACE_STEP_ERROR) {
			tf->damaged = true;
			snprintf(tf->err, sizeof(tf->err), "%s", r.err);
			return true;
		}
		if (tf->nrec == tf->cap) {
			size_t cap = tf->cap ? tf->cap * 2 : 1024;
			struct trace_record *more = realloc(tf->rec, cap * sizeof(*more));
			if (!more) {
				snprintf(tf->err, sizeof(tf->err), "out of memory after %zu records", tf->nrec);
				return false;
			}
			tf->rec = more;
			tf->cap = cap;
		}
		tf->rec[tf->nrec++] = rec;
	}
}

/*
 * Give back what load_trace() took, even after a failed load.  Payloads point
 * into tf->data, so the raw bytes go last.
 */
static void free_trace(struct trace_file *tf)
{
	trace_header_free(&tf->header);
	free(tf->rec);
	free(tf->data);
}

/* "name", "name+0x1c" or "?" for an eip. */
static void symbolize(const struct symbols *syms, uint32_t eip, char *buf, size_t len)
{
	const struct symbol *s = symbols_lookup(syms, eip);
	if (!s)
		snprintf(buf, len, "?");
	else if (eip == s->addr)
		snprintf(buf, len, "%s", s->name);
	else
		snprintf(buf, len, "%s+0x%x", s->name, eip - s->addr);
}

/* Bytes shown of a payload in the text view; the rest is counted.  A finding's text is shown whole. */
#define TEXT_PAYLOAD_SHOWN 256u

/* Payload bytes as a C-style quoted string on one line, at most `limit` of them. */
static void print_quoted(FILE *out, const uint8_t *p, uint32_t len, uint32_t limit)
{
	uint32_t shown = len < limit ? len : limit;
	fputc('"', out);
	for (uint32_t i = 0; i < shown; i++) {
		switch (p[i]) {
		case '\n': fputs("\\n", out); break;
		case '\r': fputs("\\r", out); break;
		case '\t': fputs("\\t", out); break;
		case '"': fputs("\\\"", out); break;
		case '\\': fputs("\\\\", out); break;
		default:
			if (p[i] >= 0x20 && p[i] < 0x7f)
				fputc(p[i], out);
			else
				fprintf(out, "\\x%02x", p[i]);
		}
	}
	fputc('"', out);
	if (shown < len)
		fprintf(out, " (+%" PRIu32 " more bytes)", len - shown);
}

/* The text view: the run's description, then one line per event shown. */
static void print_text(FILE *out, const struct trace_file *tf, const struct event_filter *f)
{
	const struct trace_header *h = &tf->header;
	char sym[256], desc[EVENT_DESCRIBE_MAX];
	fprintf(out, "# lguest trace, format version %" PRIu32 "\n", h->version);
	fprintf(out, "# kernel %s, arguments \"%s\"\n", h->kernel, h->cmdline);
	fprintf(out, "# %" PRIu32 " MB, --abi=%s, %zu symbols\n", h->mem_mb, h->abi, h->syms.count);
	for (size_t i = 0; i < tf->nrec; i++) {
		const struct trace_record *r = &tf->rec[i];
		if (r->tag == TRACE_TAG_BOOT) {
			fprintf(out, "# boot %u: the guest restarted; counts begin again\n", r->boot);
			continue;
		}
		if (!event_filter_passes(f, &r->ev))
			continue;
		symbolize(&h->syms, r->ev.eip, sym, sizeof(sym));
		event_describe(&r->ev, desc, sizeof(desc));
		fprintf(out, "%" PRIu64 " 0x%08" PRIx32 " %s cpl%u %s", r->ev.icount, r->ev.eip, sym, r->ev.cpl, desc);
		if (r->payload) {
			fputc(' ', out);
			print_quoted(out, r->payload, r->payload_len,
			             r->ev.kind == EV_CHECK ? CHECK_TEXT_MAX : TEXT_PAYLOAD_SHOWN);
		}
		fputc('\n', out);
	}
}

/* A JSON string: control characters and bytes above 0x7e as \u00XX, so any bytes give valid JSON. */
static void print_json_string(FILE *out, const uint8_t *p, size_t len)
{
	fputc('"', out);
	for (size_t i = 0; i < len; i++) {
		if (p[i] == '"' || p[i] == '\\')
			fprintf(out, "\\%c", p[i]);
		else if (p[i] >= 0x20 && p[i] < 0x7f)
			fputc(p[i], out);
		else
			fprintf(out, "\\u%04x", p[i]);
	}
	fputc('"', out);
}

/* Our own strings (descriptions, symbols, the header's fields) as JSON strings. */
static void print_json_cstring(FILE *out, const char *s)
{
	print_json_string(out, (const uint8_t *)s, strlen(s));
}

/* One event as a trace-event "instant": ts in microseconds at 1 instruction = 1 ns. */
static void print_json_event(FILE *out, const struct trace_header *h, const struct trace_record *r)
{
	char sym[256], desc[EVENT_DESCRIBE_MAX];
	const struct event *e = &r->ev;
	symbolize(&h->syms, e->eip, sym, sizeof(sym));
	event_describe(e, desc, sizeof(desc));
	fprintf(out, ",\n{\"name\":");
	print_json_cstring(out, desc);
	fprintf(out, ",\"cat\":");
	print_json_cstring(out, event_kind_name(e->kind));
	fprintf(out, ",\"ph\":\"i\",\"s\":\"t\",\"ts\":%" PRIu64 ".%03u,\"pid\":1,\"tid\":%u,\"args\":{", e->icount / 1000,
	        (unsigned)(e->icount % 1000), r->boot + 1);
	fprintf(out, "\"icount\":%" PRIu64 ",\"eip\":\"0x%08" PRIx32 "\",\"symbol\":", e->icount, e->eip);
	print_json_cstring(out, sym);
	fprintf(out, ",\"cpl\":%u,\"sub\":%u,\"arg\":[", e->cpl, e->sub);
	for (unsigned i = 0; i < e->nargs; i++)
		fprintf(out, "%s%" PRIu32, i ? "," : "", e->arg[i]);
	fputc(']', out);
	if (r->payload) {
		fprintf(out, ",\"text\":");
		print_json_string(out, r->payload, r->payload_len);
	}
	fprintf(out, "}}");
}

/* The JSON export: metadata naming the guest, then one instant event per event shown. */
static bool write_json(const char *path, const struct trace_file *tf, const struct event_filter *f)
{
	const struct trace_header *h = &tf->header;
	FILE *out = strcmp(path, "-") == 0 ? stdout : fopen(path, "w");
	if (!out) {
		fprintf(stderr, "lgdbg trace: cannot create %s: %s\n", path, strerror(errno));
		return false;
	}
	fprintf(out, "{\"displayTimeUnit\":\"ns\",\n\"otherData\":{\"format_version\":%" PRIu32 ",\"abi\":", h->version);
	print_json_cstring(out, h->abi);
	fprintf(out, ",\"kernel\":");
	print_json_cstring(out, h->kernel);
	fprintf(out, ",\"cmdline\":");
	print_json_cstring(out, h->cmdline);
	fprintf(out, ",\"mem_mb\":%" PRIu32 "},\n\"traceEvents\":[\n", h->mem_mb);
	fprintf(out, "{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":1,\"args\":{\"name\":");
	print_json_cstring(out, h->kernel);
	fprintf(out, "}}");
	unsigned boots = 1;
	for (size_t i = 0; i < tf->nrec; i++)
		if (tf->rec[i].tag == TRACE_TAG_BOOT)
			boots = tf->rec[i].boot + 1;
	for (unsigned b = 0; b < boots; b++)
		fprintf(out, ",\n{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,\"tid\":%u,\"args\":{\"name\":\"boot %u\"}}",
		        b + 1, b);
	for (size_t i = 0; i < tf->nrec; i++)
		if (tf->rec[i].tag != TRACE_TAG_BOOT && event_filter_passes(f, &tf->rec[i].ev))
			print_json_event(out, h, &tf->rec[i]);
	fprintf(out, "\n]}\n");
	bool ok = !ferror(out);
	if ((out != stdout && fclose(out) != 0) || (out == stdout && fflush(out) != 0))
		ok = false;
	if (!ok)
		fprintf(stderr, "lgdbg trace: writing %s failed\n", path);
	return ok;
}

enum { OPT_KIND = 256, OPT_HCALL, OPT_ADDR, OPT_FROM, OPT_TO, OPT_JSON };

static const struct option trace_options[] = {
	{"kind", required_argument, NULL, OPT_KIND}, {"hcall", required_argument, NULL, OPT_HCALL},
	{"addr", required_argument, NULL, OPT_ADDR}, {"from", required_argument, NULL, OPT_FROM},
	{"to", required_argument, NULL, OPT_TO},     {"json", required_argument, NULL, OPT_JSON},
	{"help", no_argument, NULL, 'h'},            {NULL, 0, NULL, 0},
};

/*
 * `lgdbg trace FILE [filters] [--json=OUT]`: parse the options, load the
 * trace, print or export it.  Exit 2 for a usage error or a damaged file.
 */
int trace_view_main(int argc, char **argv)
{
	static const char *const filter_names[] = {[OPT_KIND - OPT_KIND] = "kind", [OPT_HCALL - OPT_KIND] = "hcall",
	                                           [OPT_ADDR - OPT_KIND] = "addr", [OPT_FROM - OPT_KIND] = "from",
	                                           [OPT_TO - OPT_KIND] = "to"};
	struct event_filter f;
	struct trace_file tf = {0};
	const char *json = NULL;
	char err[300];
	int c, rc = 0;

	event_filter_init(&f);
	optind = 0; /* a fresh scan, whatever ran getopt before */
	while (rc == 0 && (c = getopt_long(argc, argv, "h", trace_options, NULL)) != -1) {
		switch (c) {
		case 'h':
			fputs(trace_view_usage, stdout);
			event_filter_free(&f);
			return 0;
		case OPT_KIND:
		case OPT_HCALL:
		case OPT_ADDR:
		case OPT_FROM:
		case OPT_TO:
			if (!event_filter_set(&f, filter_names[c - OPT_KIND], optarg, err, sizeof(err)))
				rc = usage_error("%s", err);
			break;
		case OPT_JSON: json = optarg; break;
		default: rc = usage_error("%s", "bad option"); break;
		}
	}
	if (rc == 0 && argc - optind != 1)
		rc = usage_error("%s", argc - optind ? "one trace file, please" : "which trace file?");
	if (rc) {
		event_filter_free(&f);
		return rc;
	}
	const char *path = argv[optind];
	if (!load_trace(path, &tf)) {
		fprintf(stderr, "lgdbg trace: %s: %s\n", path, tf.err);
		free_trace(&tf);
		event_filter_free(&f);
		return 2;
	}
	if (!event_filter_resolve(&f, &tf.header.syms, err, sizeof(err)))
		rc = usage_error("%s", err);
	else if (json && tf.damaged)
		rc = 2; /* no half a JSON file: say why below */
	else if (json)
		rc = write_json(json, &tf, &f) ? 0 : 2;
	else
		print_text(stdout, &tf, &f);
	if (tf.damaged) {
		fflush(stdout);
		fprintf(stderr, "lgdbg trace: %s: %s\n", path, tf.err);
		rc = 2;
	}
	free_trace(&tf);
	event_filter_free(&f);
	return rc;
}
