/*
 * One gdb packet in, its replies out.  This file knows the commands of
 * the remote protocol as gdb 13 speaks them (registers, memory,
 * breakpoints and watchpoints, resume requests, queries) and nothing of
 * sockets: replies go through g->send, so tests can drive it directly.
 *
 * Every malformed request gets an error reply ("Exx"), every unknown one
 * the empty reply that means "not supported"; nothing here can stop the
 * launcher.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "debug/gdbstub_internal.h"
#include "host/host.h"

/* Error numbers in replies: errno values, as gdbserver uses them. */
#define E_PERM "E01"
#define E_NOENT "E02"
#define E_FAULT "E0e"
#define E_INVAL "E16"

/*
 * The target description: i386 with 32-bit registers, x87 (gdb's i386
 * support requires it), orig_eax (so gdb's GNU/Linux ABI, which `catch
 * syscall` needs, accepts us) and cr0/cr2/cr3/cr4 with named bits.  The
 * regnum order is the order of the 'g' packet.
 */
static const char target_xml[] =
	"<?xml version=\"1.0\"?>\n"
	"<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n"
	"<target version=\"1.0\">\n"
	"<architecture>i386</architecture>\n"
	"<osabi>GNU/Linux</osabi>\n"
	"<feature name=\"org.gnu.gdb.i386.core\">\n"
	"<flags id=\"i386_eflags\" size=\"4\">\n"
	"<field name=\"CF\" start=\"0\" end=\"0\"/><field name=\"\" start=\"1\" end=\"1\"/>"
	"<field name=\"PF\" start=\"2\" end=\"2\"/><field name=\"AF\" start=\"4\" end=\"4\"/>"
	"<field name=\"ZF\" start=\"6\" end=\"6\"/><field name=\"SF\" start=\"7\" end=\"7\"/>"
	"<field name=\"TF\" start=\"8\" end=\"8\"/><field name=\"IF\" start=\"9\" end=\"9\"/>"
	"<field name=\"DF\" start=\"10\" end=\"10\"/><field name=\"OF\" start=\"11\" end=\"11\"/>"
	"<field name=\"NT\" start=\"14\" end=\"14\"/><field name=\"RF\" start=\"16\" end=\"16\"/>"
	"<field name=\"VM\" start=\"17\" end=\"17\"/><field name=\"AC\" start=\"18\" end=\"18\"/>"
	"<field name=\"VIF\" start=\"19\" end=\"19\"/><field name=\"VIP\" start=\"20\" end=\"20\"/>"
	"<field name=\"ID\" start=\"21\" end=\"21\"/>\n"
	"</flags>\n"
	"<reg name=\"eax\" bitsize=\"32\" type=\"int32\" regnum=\"0\"/>\n"
	"<reg name=\"ecx\" bitsize=\"32\" type=\"int32\"/>\n"
	"<reg name=\"edx\" bitsize=\"32\" type=\"int32\"/>\n"
	"<reg name=\"ebx\" bitsize=\"32\" type=\"int32\"/>\n"
	"<reg name=\"esp\" bitsize=\"32\" type=\"data_ptr\"/>\n"
	"<reg name=\"ebp\" bitsize=\"32\" type=\"data_ptr\"/>\n"
	"<reg name=\"esi\" bitsize=\"32\" type=\"int32\"/>\n"
	"<reg name=\"edi\" bitsize=\"32\" type=\"int32\"/>\n"
	"<reg name=\"eip\" bitsize=\"32\" type=\"code_ptr\"/>\n"
	"<reg name=\"eflags\" bitsize=\"32\" type=\"i386_eflags\"/>\n"
	"<reg name=\"cs\" bitsize=\"32\" type=\"int32\"/>\n"
	"<reg name=\"ss\" bitsize=\"32\" type=\"int32\"/>\n"
	"<reg name=\"ds\" bitsize=\"32\" type=\"int32\"/>\n"
	"<reg name=\"es\" bitsize=\"32\" type=\"int32\"/>\n"
	"<reg name=\"fs\" bitsize=\"32\" type=\"int32\"/>\n"
	"<reg name=\"gs\" bitsize=\"32\" type=\"int32\"/>\n"
	"<reg name=\"st0\" bitsize=\"80\" type=\"i387_ext\"/>\n"
	"<reg name=\"st1\" bitsize=\"80\" type=\"i387_ext\"/>\n"
	"<reg name=\"st2\" bitsize=\"80\" type=\"i387_ext\"/>\n"
	"<reg name=\"st3\" bitsize=\"80\" type=\"i387_ext\"/>\n"
	"<reg name=\"st4\" bitsize=\"80\" type=\"i387_ext\"/>\n"
	"<reg name=\"st5\" bitsize=\"80\" type=\"i387_ext\"/>\n"
	"<reg name=\"st6\" bitsize=\"80\" type=\"i387_ext\"/>\n"
	"<reg name=\"st7\" bitsize=\"80\" type=\"i387_ext\"/>\n"
	"<reg name=\"fctrl\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
	"<reg name=\"fstat\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
	"<reg name=\"ftag\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
	"<reg name=\"fiseg\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
	"<reg name=\"fioff\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
	"<reg name=\"foseg\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
	"<reg name=\"fooff\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
	"<reg name=\"fop\" bitsize=\"32\" type=\"int\" group=\"float\"/>\n"
	"</feature>\n"
	"<feature name=\"org.gnu.gdb.i386.linux\">\n"
	"<reg name=\"orig_eax\" bitsize=\"32\" type=\"int\" regnum=\"32\"/>\n"
	"</feature>\n"
	"<feature name=\"org.lguest.i386.sys\">\n"
	"<flags id=\"lguest_cr0\" size=\"4\">\n"
	"<field name=\"PE\" start=\"0\" end=\"0\"/><field name=\"MP\" start=\"1\" end=\"1\"/>"
	"<field name=\"EM\" start=\"2\" end=\"2\"/><field name=\"TS\" start=\"3\" end=\"3\"/>"
	"<field name=\"ET\" start=\"4\" end=\"4\"/><field name=\"NE\" start=\"5\" end=\"5\"/>"
	"<field name=\"WP\" start=\"16\" end=\"16\"/><field name=\"AM\" start=\"18\" end=\"18\"/>"
	"<field name=\"NW\" start=\"29\" end=\"29\"/><field name=\"CD\" start=\"30\" end=\"30\"/>"
	"<field name=\"PG\" start=\"31\" end=\"31\"/>\n"
	"</flags>\n"
	"<flags id=\"lguest_cr4\" size=\"4\">\n"
	"<field name=\"VME\" start=\"0\" end=\"0\"/><field name=\"PVI\" start=\"1\" end=\"1\"/>"
	"<field name=\"TSD\" start=\"2\" end=\"2\"/><field name=\"DE\" start=\"3\" end=\"3\"/>"
	"<field name=\"PSE\" start=\"4\" end=\"4\"/><field name=\"PAE\" start=\"5\" end=\"5\"/>"
	"<field name=\"MCE\" start=\"6\" end=\"6\"/><field name=\"PGE\" start=\"7\" end=\"7\"/>"
	"<field name=\"PCE\" start=\"8\" end=\"8\"/><field name=\"OSFXSR\" start=\"9\" end=\"9\"/>"
	"<field name=\"OSXMMEXCPT\" start=\"10\" end=\"10\"/>\n"
	"</flags>\n"
	"<reg name=\"cr0\" bitsize=\"32\" type=\"lguest_cr0\" regnum=\"33\" group=\"system\"/>\n"
	"<reg name=\"cr2\" bitsize=\"32\" type=\"int32\" group=\"system\"/>\n"
	"<reg name=\"cr3\" bitsize=\"32\" type=\"int32\" group=\"system\"/>\n"
	"<reg name=\"cr4\" bitsize=\"32\" type=\"lguest_cr4\" group=\"system\"/>\n"
	"</feature>\n"
	"</target>\n";

enum { REG_EIP = 8, REG_EFLAGS = 9, REG_CS = 10, REG_ST0 = 16, REG_FCTRL = 24, REG_ORIG_EAX = 32, REG_CR0 = 33,
       NREGS = 37 };
/* gdb's order of the segment registers, as our CPU numbers them. */
static const enum cpu_sreg gdb_sregs[6] = {CPU_CS, CPU_SS, CPU_DS, CPU_ES, CPU_FS, CPU_GS};
#define X87_BYTES 10u

static unsigned reg_size(unsigned n)
{
	return n >= REG_ST0 && n < REG_ST0 + 8 ? X87_BYTES : 4;
}

/* The register image gdb sees for register n (little-endian). */
static void get_reg(struct gdbstub *g, unsigned n, uint8_t *out)
{
	struct cpu *cpu = &g->lg->cpu;
	uint32_t v = 0;
	if (n < 8) {
		v = cpu->regs[n];
	} else if (n == REG_EIP) {
		v = cpu->eip;
	} else if (n == REG_EFLAGS) {
		v = cpu_get_eflags(cpu);
	} else if (n < REG_ST0) {
		v = cpu->seg[gdb_sregs[n - REG_CS]].selector;
	} else if (n < REG_FCTRL) {
		memset(out, 0, X87_BYTES);
		memcpy(out, &cpu->fpu.st[(cpu->fpu.top + n - REG_ST0) & 7], X87_BYTES);
		return;
	} else if (n < REG_ORIG_EAX) {
		const struct cpu_x87 *f = &cpu->fpu;
		const uint32_t fpu[8] = {f->control, (uint32_t)(f->status | (f->top & 7) << 11), f->tag, f->last_cs,
		                         f->last_ip, f->last_ds, f->last_dp, f->last_opcode};
		v = fpu[n - REG_FCTRL];
	} else if (n == REG_ORIG_EAX) {
		v = g->orig_eax;
	} else {
		const uint32_t cr[4] = {cpu->cr0, cpu->cr2, cpu->cr3, cpu->cr4};
		v = cr[n - REG_CR0];
	}
	put_le32(out, v);
}

/*
 * Write register n.  Selectors are loaded from the host-held GDT (refused
 * if the descriptor is not usable); cr0, cr3 and cr4 belong to the host's
 * paging and are refused unless unchanged (a 'G' packet resends them).
 */
static bool set_reg(struct gdbstub *g, unsigned n, const uint8_t *in)
{
	struct cpu *cpu = &g->lg->cpu;
	uint32_t v = get_le32(in);
	if (n < 8) {
		cpu->regs[n] = v;
	} else if (n == REG_EIP) {
		cpu->eip = v;
	} else if (n == REG_EFLAGS) {
		cpu_set_eflags(cpu, v);
	} else if (n < REG_ST0) {
		enum cpu_sreg s = gdb_sregs[n - REG_CS];
		if (v > 0xffff)
			return false;
		if (cpu->seg[s].selector != v && !cpu_load_segment_raw(cpu, s, (uint16_t)v))
			return false;
	} else if (n < REG_FCTRL) {
		long double x = 0;
		memcpy(&x, in, X87_BYTES);
		cpu->fpu.st[(cpu->fpu.top + n - REG_ST0) & 7] = x;
	} else if (n < REG_ORIG_EAX) {
		struct cpu_x87 *f = &cpu->fpu;
		switch (n - REG_FCTRL) {
		case 0: f->control = (uint16_t)v; break;
		case 1: f->status = (uint16_t)(v & ~0x3800u); f->top = (uint8_t)((v >> 11) & 7); break;
		case 2: f->tag = (uint16_t)v; break;
		case 3: f->last_cs = (uint16_t)v; break;
		case 4: f->last_ip = v; break;
		case 5: f->last_ds = (uint16_t)v; break;
		case 6: f->last_dp = v; break;
		default: f->last_opcode = (uint16_t)v; break;
		}
	} else if (n == REG_ORIG_EAX) {
		g->orig_eax = v;
	} else if (n == REG_CR0 + 1) {
		cpu->cr2 = v;
	} else {
		const uint32_t cr[4] = {cpu->cr0, cpu->cr2, cpu->cr3, cpu->cr4};
		return cr[n - REG_CR0] == v;
	}
	return true;
}

void gdb_session_init(struct gdbstub *g, struct lguest *lg)
{
	g->lg = lg;
	g->run = GDB_STOPPED;
	g->stop_pending = false;
	g->orig_eax = 0xffffffffu;
	g->view = VIEW_GUEST;
	snprintf(g->stop_reply, sizeof(g->stop_reply), "T05thread:01;");
	gdb_clear_points(g);
}

void gdb_session_free(struct gdbstub *g)
{
	free(g->bps);
	free(g->wps);
	g->bps = NULL;
	g->wps = NULL;
	g->nbps = g->bps_cap = g->nwps = g->wps_cap = 0;
}

void gdb_clear_points(struct gdbstub *g)
{
	g->nbps = 0;
	g->nwps = 0;
	g->catch_on = g->catch_all = false;
	memset(g->catch_set, 0, sizeof(g->catch_set));
	if (g->lg) {
		g->lg->cpu.exec_hook = false;
		cpu_tlb_flush(&g->lg->cpu);
	}
}

void gdb_reply(struct gdbstub *g, const char *payload)
{
	g->send(g, payload, strlen(payload));
}

void gdb_replyf(struct gdbstub *g, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	gdb_reply(g, buf);
}

void gdb_console(struct gdbstub *g, const char *text)
{
	static char pkt[GDB_MAX_PACKET];
	size_t len = strlen(text), max = (GDB_MAX_PACKET - 2) / 2;
	for (size_t off = 0; off < len; off += max) {
		size_t n = len - off < max ? len - off : max;
		pkt[0] = 'O';
		rsp_tohex((const uint8_t *)text + off, n, pkt + 1);
		g->send(g, pkt, 1 + 2 * n);
	}
}

/* Do [a, a+alen) and [b, b+blen) overlap?  (64-bit: no wrap-around.) */
static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

bool gdb_bp_at(struct gdbstub *g, uint32_t eip, uint32_t *bp_addr, bool *alias)
{
	for (size_t i = 0; i < g->nbps; i++)
		if (g->bps[i].addr == eip) {
			*bp_addr = eip;
			*alias = false;
			return true;
		}
	if (!g->lg->linear_pages)
		return false;
	for (size_t i = 0; i < g->nbps; i++)
		if (g->bps[i].addr >= KERNEL_PAGE_OFFSET && g->bps[i].addr - KERNEL_PAGE_OFFSET == eip) {
			*bp_addr = g->bps[i].addr;
			*alias = true;
			return true;
		}
	return false;
}

/* Where the guest touches a watchpoint's bytes: its address, or in linear mode also below PAGE_OFFSET. */
static bool wp_overlaps(struct gdbstub *g, const struct gdb_wp *w, uint32_t va, uint32_t len, bool *alias)
{
	*alias = false;
	if (overlaps(va, len, w->addr, w->len))
		return true;
	if (g->lg->linear_pages && w->addr >= KERNEL_PAGE_OFFSET && overlaps(va, len, w->addr - KERNEL_PAGE_OFFSET, w->len)) {
		*alias = true;
		return true;
	}
	return false;
}

bool gdb_page_watched(struct gdbstub *g, uint32_t va_page)
{
	bool alias;
	for (size_t i = 0; i < g->nwps; i++)
		if (wp_overlaps(g, &g->wps[i], va_page, GUEST_PAGE_SIZE, &alias))
			return true;
	return false;
}

bool gdb_watch_hit(struct gdbstub *g, uint32_t va, unsigned size, int access, char *why, size_t whylen)
{
	bool alias;
	for (size_t i = 0; i < g->nwps; i++) {
		const struct gdb_wp *w = &g->wps[i];
		bool wanted = access == CPU_ACCESS_WRITE ? (w->type == 2 || w->type == 4)
		            : access == CPU_ACCESS_READ ? (w->type == 3 || w->type == 4) : false;
		if (!wanted || !wp_overlaps(g, w, va, size, &alias))
			continue;
		uint32_t hit = alias ? va + KERNEL_PAGE_OFFSET : va;
		if (hit < w->addr)
			hit = w->addr;
		static const char *const kinds[] = {"watch", "rwatch", "awatch"};
		snprintf(why, whylen, "%s:%08x;", kinds[w->type - 2], hit);
		return true;
	}
	return false;
}

bool gdb_catches(struct gdbstub *g, uint32_t nr)
{
	if (!g->catch_on)
		return false;
	return g->catch_all || (nr < 256 && (g->catch_set[nr / 8] & (1u << (nr % 8))));
}

/* Grow an array by one element; false when out of memory. */
static bool grow(void **arr, size_t *cap, size_t n, size_t elem)
{
	if (n < *cap)
		return true;
	size_t ncap = *cap ? *cap * 2 : 8;
	void *p = realloc(*arr, ncap * elem);
	if (!p)
		return false;
	*arr = p;
	*cap = ncap;
	return true;
}

/* Z/z: insert or remove a breakpoint (0, 1) or a watchpoint (2, 3, 4). */
static void cmd_point(struct gdbstub *g, const char *p, bool insert)
{
	uint32_t type, addr, kind;
	const char *e;
	if (!rsp_parse_hex32(p, &type, &e) || *e != ',' || !rsp_parse_hex32(e + 1, &addr, &e) || *e != ',' ||
	    !rsp_parse_hex32(e + 1, &kind, &e) || (*e && *e != ';')) {
		gdb_reply(g, E_INVAL);
		return;
	}
	if (type > 4) {
		gdb_reply(g, "");
		return;
	}
	if (type <= 1) {
		if (insert) {
			if (!grow((void **)&g->bps, &g->bps_cap, g->nbps, sizeof(*g->bps))) {
				gdb_reply(g, E_PERM);
				return;
			}
			g->bps[g->nbps++] = (struct gdb_bp){addr, (uint8_t)type};
		} else {
			size_t i = 0;
			while (i < g->nbps && !(g->bps[i].addr == addr && g->bps[i].type == type))
				i++;
			if (i == g->nbps) {
				gdb_reply(g, E_NOENT);
				return;
			}
			g->bps[i] = g->bps[--g->nbps];
		}
		g->lg->cpu.exec_hook = g->nbps > 0;
		gdb_reply(g, "OK");
		return;
	}
	if (kind == 0 || (uint64_t)addr + kind > 0x100000000ull) {
		gdb_reply(g, E_INVAL);
		return;
	}
	if (insert) {
		if (!grow((void **)&g->wps, &g->wps_cap, g->nwps, sizeof(*g->wps))) {
			gdb_reply(g, E_PERM);
			return;
		}
		g->wps[g->nwps++] = (struct gdb_wp){addr, kind, (uint8_t)type};
	} else {
		size_t i = 0;
		while (i < g->nwps && !(g->wps[i].addr == addr && g->wps[i].len == kind && g->wps[i].type == type))
			i++;
		if (i == g->nwps) {
			gdb_reply(g, E_NOENT);
			return;
		}
		g->wps[i] = g->wps[--g->nwps];
	}
	/* Translations are re-asked (and marked watched or not) after a flush. */
	cpu_tlb_flush(&g->lg->cpu);
	gdb_reply(g, "OK");
}

/* g: every register. */
static void cmd_read_regs(struct gdbstub *g)
{
	char out[NREGS * 2 * X87_BYTES + 1];
	size_t o = 0;
	uint8_t v[X87_BYTES];
	for (unsigned n = 0; n < NREGS; n++) {
		get_reg(g, n, v);
		rsp_tohex(v, reg_size(n), out + o);
		o += 2 * reg_size(n);
	}
	g->send(g, out, o);
}

/* G: every register, in the 'g' layout. */
static void cmd_write_regs(struct gdbstub *g, const char *hex, size_t len)
{
	size_t want = 0;
	for (unsigned n = 0; n < NREGS; n++)
		want += 2 * reg_size(n);
	if (len != want) {
		gdb_reply(g, E_INVAL);
		return;
	}
	bool ok = true;
	uint8_t v[X87_BYTES];
	for (unsigned n = 0; n < NREGS; n++) {
		if (!rsp_fromhex(hex, reg_size(n), v)) {
			gdb_reply(g, E_INVAL);
			return;
		}
		ok &= set_reg(g, n, v);
		hex += 2 * reg_size(n);
	}
	gdb_reply(g, ok ? "OK" : E_PERM);
}

/* p n / P n=value: one register. */
static void cmd_one_reg(struct gdbstub *g, const char *p, bool write)
{
	uint32_t n;
	const char *e;
	uint8_t v[X87_BYTES];
	char hex[2 * X87_BYTES + 1];
	if (!rsp_parse_hex32(p, &n, &e) || n >= NREGS || (write ? *e != '=' : *e != '\0')) {
		gdb_reply(g, write ? E_INVAL : E_NOENT);
		return;
	}
	if (!write) {
		get_reg(g, n, v);
		rsp_tohex(v, reg_size(n), hex);
		gdb_reply(g, hex);
		return;
	}
	if (strlen(e + 1) != 2 * reg_size(n) || !rsp_fromhex(e + 1, reg_size(n), v)) {
		gdb_reply(g, E_INVAL);
		return;
	}
	gdb_reply(g, set_reg(g, n, v) ? "OK" : E_PERM);
}

/* m addr,len: memory, in the session's view; a short read is a partial answer. */
static void cmd_read_mem(struct gdbstub *g, const char *p)
{
	static uint8_t buf[GDB_MAX_PACKET / 2];
	static char hex[GDB_MAX_PACKET + 1];
	uint32_t addr, len;
	const char *e;
	if (!rsp_parse_hex32(p, &addr, &e) || *e != ',' || !rsp_parse_hex32(e + 1, &len, &e) || *e) {
		gdb_reply(g, E_INVAL);
		return;
	}
	if (len > sizeof(buf))
		len = sizeof(buf);
	size_t got = gdb_mem_read(g, addr, buf, len);
	if (got == 0 && len > 0) {
		gdb_reply(g, E_FAULT);
		return;
	}
	rsp_tohex(buf, got, hex);
	g->send(g, hex, 2 * got);
}

/* M addr,len:hex and X addr,len:binary: all or nothing as far as gdb is told. */
static void cmd_write_mem(struct gdbstub *g, char *p, size_t plen, bool binary)
{
	static uint8_t buf[GDB_MAX_PACKET];
	uint32_t addr, len;
	const char *e;
	if (!rsp_parse_hex32(p, &addr, &e) || *e != ',' || !rsp_parse_hex32(e + 1, &len, &e) || *e != ':') {
		gdb_reply(g, E_INVAL);
		return;
	}
	char *data = (char *)e + 1;
	size_t dlen = plen - (size_t)(data - p);
	if (binary) {
		dlen = rsp_unescape(data, dlen);
		if (dlen != len || len > sizeof(buf)) {
			gdb_reply(g, E_INVAL);
			return;
		}
		memcpy(buf, data, len);
	} else if (len > sizeof(buf) || dlen != 2 * (size_t)len || !rsp_fromhex(data, len, buf)) {
		gdb_reply(g, E_INVAL);
		return;
	}
	gdb_reply(g, gdb_mem_write(g, addr, buf, len) == len ? "OK" : E_FAULT);
}

/* c/s/C/S with an optional address (C and S carry a signal, which a guest cannot take: ignored). */
static enum gdb_action cmd_resume(struct gdbstub *g, char op, const char *p)
{
	uint32_t v;
	const char *e = p;
	if (op == 'C' || op == 'S') {
		if (!rsp_parse_hex32(p, &v, &e)) {
			gdb_reply(g, E_INVAL);
			return GDB_ACT_NONE;
		}
		if (*e == ';')
			e++;
		else if (*e) {
			gdb_reply(g, E_INVAL);
			return GDB_ACT_NONE;
		}
	}
	if (*e) {
		if (!rsp_parse_hex32(e, &v, &e) || *e) {
			gdb_reply(g, E_INVAL);
			return GDB_ACT_NONE;
		}
		g->lg->cpu.eip = v;
	}
	g->run = (op == 's' || op == 'S') ? GDB_STEP : GDB_CONTINUE;
	return GDB_ACT_RESUME;
}

/* Does a vCont thread id name our only thread (or all threads)? */
static bool names_our_thread(const char *tid)
{
	return strcmp(tid, "1") == 0 || strcmp(tid, "01") == 0 || strcmp(tid, "-1") == 0 || strcmp(tid, "p1.1") == 0 ||
	       strcmp(tid, "p1.-1") == 0 || strcmp(tid, "p-1.-1") == 0;
}

/* vCont;action[:thread]...: the first action for our thread decides. */
static enum gdb_action cmd_vcont(struct gdbstub *g, char *p)
{
	char *save = NULL;
	for (char *act = strtok_r(p, ";", &save); act; act = strtok_r(NULL, ";", &save)) {
		char *colon = strchr(act, ':');
		if (colon) {
			*colon = '\0';
			if (!names_our_thread(colon + 1))
				continue;
		}
		char op = act[0];
		if ((op == 'c' || op == 's') && act[1] == '\0') {
			g->run = op == 's' ? GDB_STEP : GDB_CONTINUE;
			return GDB_ACT_RESUME;
		}
		if ((op == 'C' || op == 'S') && rsp_hexval(act[1]) >= 0 && rsp_hexval(act[2]) >= 0 && act[3] == '\0') {
			g->run = op == 'S' ? GDB_STEP : GDB_CONTINUE;
			return GDB_ACT_RESUME;
		}
		gdb_reply(g, E_INVAL);
		return GDB_ACT_NONE;
	}
	gdb_reply(g, E_INVAL);
	return GDB_ACT_NONE;
}

/* qXfer:features:read:ANNEX:offset,length */
static void cmd_xfer_features(struct gdbstub *g, const char *p)
{
	static char out[GDB_MAX_PACKET];
	uint32_t off, len;
	const char *e;
	const char annex[] = "target.xml:";
	if (strncmp(p, annex, sizeof(annex) - 1) != 0) {
		gdb_reply(g, E_NOENT);
		return;
	}
	p += sizeof(annex) - 1;
	if (!rsp_parse_hex32(p, &off, &e) || *e != ',' || !rsp_parse_hex32(e + 1, &len, &e) || *e) {
		gdb_reply(g, E_INVAL);
		return;
	}
	size_t total = sizeof(target_xml) - 1;
	if (off >= total) {
		gdb_reply(g, "l");
		return;
	}
	size_t n = total - off;
	if (len > (GDB_MAX_PACKET - 1) / 2)
		len = (GDB_MAX_PACKET - 1) / 2; /* room for escapes */
	if (n > len)
		n = len;
	out[0] = off + n < total ? 'm' : 'l';
	memcpy(out + 1, target_xml + off, n);
	g->send(g, out, n + 1);
}

/* QCatchSyscalls:0 or QCatchSyscalls:1[;nr]... */
static void cmd_catch_syscalls(struct gdbstub *g, const char *p)
{
	uint8_t set[32] = {0};
	if (strcmp(p, "0") == 0) {
		g->catch_on = false;
		gdb_reply(g, "OK");
		return;
	}
	if (p[0] != '1' || (p[1] != '\0' && p[1] != ';')) {
		gdb_reply(g, E_INVAL);
		return;
	}
	bool all = p[1] == '\0';
	for (const char *q = p + 1; *q == ';';) {
		uint32_t nr;
		if (!rsp_parse_hex32(q + 1, &nr, &q) || nr >= 256 || (*q && *q != ';')) {
			gdb_reply(g, E_INVAL);
			return;
		}
		set[nr / 8] |= (uint8_t)(1u << (nr % 8));
	}
	g->catch_on = true;
	g->catch_all = all;
	memcpy(g->catch_set, set, sizeof(set));
	gdb_reply(g, "OK");
}

/* qRcmd,HEX: a monitor command; its output goes to gdb's console, then OK. */
static void cmd_monitor(struct gdbstub *g, const char *hex)
{
	static char cmd[GDB_MAX_PACKET / 2 + 1];
	size_t n = strlen(hex);
	if (n % 2 || n / 2 >= sizeof(cmd) || !rsp_fromhex(hex, n / 2, (uint8_t *)cmd)) {
		gdb_reply(g, E_INVAL);
		return;
	}
	cmd[n / 2] = '\0';
	gdb_monitor(g, cmd);
	gdb_reply(g, "OK");
}

/* The q and Q packets. */
static void cmd_query(struct gdbstub *g, char *p)
{
	if (strncmp(p, "qSupported", 10) == 0)
		gdb_replyf(g, "PacketSize=%x;qXfer:features:read+;QStartNoAckMode+;swbreak+;hwbreak+;vContSupported+;"
		           "QCatchSyscalls+",
		           GDB_MAX_PACKET);
	else if (strncmp(p, "qXfer:features:read:", 20) == 0)
		cmd_xfer_features(g, p + 20);
	else if (strcmp(p, "qAttached") == 0 || strncmp(p, "qAttached:", 10) == 0)
		gdb_reply(g, "1");
	else if (strcmp(p, "qC") == 0)
		gdb_reply(g, "QC01");
	else if (strcmp(p, "qfThreadInfo") == 0)
		gdb_reply(g, "m01");
	else if (strcmp(p, "qsThreadInfo") == 0)
		gdb_reply(g, "l");
	else if (strncmp(p, "qThreadExtraInfo,", 17) == 0) {
		char hex[64];
		const char *what = g->lg->halted ? "lguest guest CPU (halted)" : "lguest guest CPU";
		rsp_tohex((const uint8_t *)what, strlen(what), hex);
		gdb_reply(g, hex);
	} else if (strncmp(p, "qRcmd,", 6) == 0)
		cmd_monitor(g, p + 6);
	else if (strcmp(p, "qSymbol::") == 0)
		gdb_reply(g, "OK");
	else if (strcmp(p, "QStartNoAckMode") == 0) {
		gdb_reply(g, "OK");
		g->no_ack = true;
	} else if (strncmp(p, "QCatchSyscalls:", 15) == 0)
		cmd_catch_syscalls(g, p + 15);
	else if (strcmp(p, "QNonStop:0") == 0 || strncmp(p, "QPassSignals:", 13) == 0 ||
	         strncmp(p, "QProgramSignals:", 16) == 0)
		gdb_reply(g, "OK");
	else
		gdb_reply(g, "");
}

enum gdb_action gdb_dispatch(struct gdbstub *g, char *pkt, size_t len)
{
	uint32_t tid;
	const char *e;
	if (len == 0) {
		gdb_reply(g, "");
		return GDB_ACT_NONE;
	}
	if (strlen(pkt) != len && pkt[0] != 'X') {
		gdb_reply(g, E_INVAL); /* a NUL inside a text packet */
		return GDB_ACT_NONE;
	}
	switch (pkt[0]) {
	case '?':
		gdb_reply(g, g->stop_reply);
		break;
	case 'g':
		if (len == 1)
			cmd_read_regs(g);
		else
			gdb_reply(g, E_INVAL);
		break;
	case 'G': cmd_write_regs(g, pkt + 1, len - 1); break;
	case 'p': cmd_one_reg(g, pkt + 1, false); break;
	case 'P': cmd_one_reg(g, pkt + 1, true); break;
	case 'm': cmd_read_mem(g, pkt + 1); break;
	case 'M': cmd_write_mem(g, pkt + 1, len - 1, false); break;
	case 'X': cmd_write_mem(g, pkt + 1, len - 1, true); break;
	case 'c':
	case 's':
	case 'C':
	case 'S':
		return cmd_resume(g, pkt[0], pkt + 1);
	case 'Z':
	case 'z':
		cmd_point(g, pkt + 1, pkt[0] == 'Z');
		break;
	case 'H':
		if ((pkt[1] == 'g' || pkt[1] == 'c') && pkt[2])
			gdb_reply(g, "OK");
		else
			gdb_reply(g, E_INVAL);
		break;
	case 'T':
		gdb_reply(g, rsp_parse_hex32(pkt + 1, &tid, &e) && !*e && tid == 1 ? "OK" : E_NOENT);
		break;
	case 'D':
		gdb_reply(g, "OK");
		return GDB_ACT_DETACH;
	case 'k':
		return GDB_ACT_KILL;
	case 'q':
	case 'Q':
		cmd_query(g, pkt);
		break;
	case 'v':
		if (strcmp(pkt, "vCont?") == 0)
			gdb_reply(g, "vCont;c;C;s;S");
		else if (strncmp(pkt, "vCont;", 6) == 0)
			return cmd_vcont(g, pkt + 6);
		else if (strncmp(pkt, "vKill", 5) == 0) {
			gdb_reply(g, "OK");
			return GDB_ACT_KILL;
		} else
			gdb_reply(g, "");
		break;
	default:
		gdb_reply(g, "");
		break;
	}
	return GDB_ACT_NONE;
}
