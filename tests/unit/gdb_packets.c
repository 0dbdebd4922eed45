/*
 * The gdb stub's packet layer without a socket: the framing parser fed
 * good, malformed, oversized and random bytes, and the command layer fed
 * well-formed and malformed packets against a real (not running) guest.
 * Every malformed request must get an error reply, and nothing may crash
 * (this runs under ASan/UBSan).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "debug/gdbstub_internal.h"
#include "host/host.h"

static int failures, checks;

static void check(const char *name, bool ok, const char *why)
{
	checks++;
	if (ok) {
		printf("PASS %s\n", name);
	} else {
		failures++;
		printf("FAIL %s: %s\n", name, why);
	}
}

/* ---- replies collected instead of sent ---- */

static char replies[64][GDB_MAX_PACKET + 1];
static unsigned nreplies;

static void collect(struct gdbstub *g, const char *payload, size_t len)
{
	(void)g;
	if (nreplies < 64) {
		memcpy(replies[nreplies], payload, len);
		replies[nreplies][len] = '\0';
		nreplies++;
	}
}

/* Dispatch one packet; return its last reply ("" if none). */
static const char *send_pkt(struct gdbstub *g, const char *text, enum gdb_action *act)
{
	static char pkt[GDB_MAX_PACKET + 1];
	size_t len = strlen(text);
	memcpy(pkt, text, len + 1);
	nreplies = 0;
	enum gdb_action a = gdb_dispatch(g, pkt, len);
	if (act)
		*act = a;
	return nreplies ? replies[nreplies - 1] : "";
}

static bool is_error(const char *r)
{
	return r[0] == 'E' && strlen(r) == 3;
}

/* ---- framing ---- */

static enum rsp_event feed_str(struct rsp_parser *p, const char *s, size_t len)
{
	enum rsp_event last = RSP_NONE;
	for (size_t i = 0; i < len; i++) {
		enum rsp_event e = rsp_feed(p, (uint8_t)s[i]);
		if (e != RSP_NONE)
			last = e;
	}
	return last;
}

static void test_framing(void)
{
	static struct rsp_parser p;
	char framed[64];
	rsp_init(&p);

	check("rsp: good packet", feed_str(&p, "$qC#b4", 6) == RSP_PACKET && strcmp(p.buf, "qC") == 0, p.buf);
	check("rsp: bad checksum", feed_str(&p, "$qC#00", 6) == RSP_BAD_CHECKSUM, "accepted");
	check("rsp: non-hex checksum", feed_str(&p, "$qC#zz", 6) == RSP_BAD_CHECKSUM, "accepted");
	check("rsp: ctrl-c", rsp_feed(&p, 0x03) == RSP_INTERRUPT, "not an interrupt");
	check("rsp: ack and nak", rsp_feed(&p, '+') == RSP_ACK && rsp_feed(&p, '-') == RSP_NAK, "not seen");
	check("rsp: '$' restarts a packet", feed_str(&p, "$garbage$qC#b4", 14) == RSP_PACKET && strcmp(p.buf, "qC") == 0,
	      p.buf);
	check("rsp: stray bytes between packets", feed_str(&p, "xyz#12$qC#b4", 12) == RSP_PACKET, "lost the packet");

	size_t big = GDB_MAX_PACKET + 100;
	char *huge = malloc(big + 4);
	huge[0] = '$';
	memset(huge + 1, 'a', big - 1);
	memcpy(huge + big, "#00", 3);
	check("rsp: oversized packet reported", feed_str(&p, huge, big + 3) == RSP_OVERSIZED, "not reported");
	free(huge);
	check("rsp: packet after an oversized one", feed_str(&p, "$qC#b4", 6) == RSP_PACKET, "parser stuck");

	const char raw[] = "a}b#c$d*e";
	size_t n = rsp_frame(raw, sizeof(raw) - 1, framed);
	bool ok = feed_str(&p, framed, n) == RSP_PACKET;
	size_t un = rsp_unescape(p.buf, p.len);
	check("rsp: frame escapes and round-trips", ok && un == sizeof(raw) - 1 && memcmp(p.buf, raw, un) == 0, framed);

	/* Random bytes: nothing may crash, and a clean packet still parses afterwards. */
	srand(12345);
	for (int i = 0; i < 200000; i++)
		rsp_feed(&p, (uint8_t)rand());
	feed_str(&p, "#00", 3);
	check("rsp: random bytes then a packet", feed_str(&p, "$qC#b4", 6) == RSP_PACKET, "parser stuck");

	uint32_t v;
	const char *e;
	check("rsp: hex32 overflow refused", !rsp_parse_hex32("123456789", &v, &e), "accepted");
	check("rsp: hex32 empty refused", !rsp_parse_hex32(",", &v, &e), "accepted");
}

/* ---- commands against a real guest ---- */

static void put_bytes(struct lguest *lg, uint32_t pa, const char *s)
{
	memcpy(guest_ptr(&lg->mem, pa), s, strlen(s));
}

static void test_commands(struct gdbstub *g, struct lguest *lg)
{
	enum gdb_action act;
	const char *r;
	char name[96];

	r = send_pkt(g, "?", NULL);
	check("cmd: ? is a stop reply", strncmp(r, "T05", 3) == 0, r);
	r = send_pkt(g, "g", NULL);
	check("cmd: g has every register (196 bytes)", strlen(r) == 392, r);
	r = send_pkt(g, "G00", NULL);
	check("cmd: G with a wrong length", is_error(r), r);
	r = send_pkt(g, "p8", NULL);
	check("cmd: p8 is eip (little-endian)", strcmp(r, "00100000") == 0, r);
	r = send_pkt(g, "p23", NULL);
	check("cmd: p23 is cr3", strcmp(r, "00000000") == 0, r);
	r = send_pkt(g, "P0=78563412", NULL);
	check("cmd: P0 writes eax", strcmp(r, "OK") == 0 && lg->cpu.regs[CPU_EAX] == 0x12345678, r);
	r = send_pkt(g, "P23=00100000", NULL);
	check("cmd: P cr3 refused", is_error(r), r);
	r = send_pkt(g, "P22=efbeadde", NULL);
	check("cmd: P cr2 accepted", strcmp(r, "OK") == 0 && lg->cpu.cr2 == 0xdeadbeef, r);
	r = send_pkt(g, "Pa=ffff0000", NULL);
	check("cmd: P bad selector refused", is_error(r), r);

	static const char *const malformed[] = {
		"p", "p99", "pzz", "P8", "P8=12", "P8=zzzzzzzz", "m", "mzz", "m100", "m100,", "m100,zz", "m1,2,3",
		"M100,2:abc", "M100,2:zzzz", "M100,2", "X100,5:ab", "Z0", "Z0,", "Z0,100", "Z2,100,0", "Z2,ffffffff,10",
		"z0,100,1", "z2,100,4", "vCont;x", "vCont;", "vCont;C", "sZZ", "C", "Czz", "S05;zz", "H", "T2",
		"qXfer:features:read:target.xml:zz", "qXfer:features:read:other.xml:0,10", "QCatchSyscalls:1;zz",
		"QCatchSyscalls:2", "QCatchSyscalls:1;100", "qRcmd,zz", "qRcmd,1", "g0", "m123456789,4",
	};
	for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++) {
		r = send_pkt(g, malformed[i], &act);
		snprintf(name, sizeof(name), "cmd: malformed '%s' gets an error", malformed[i]);
		check(name, is_error(r) && act == GDB_ACT_NONE, r);
	}
	static char nul_pkt[] = "m0\0,4";
	nreplies = 0;
	gdb_dispatch(g, nul_pkt, sizeof(nul_pkt) - 1);
	check("cmd: NUL inside a packet", nreplies == 1 && is_error(replies[0]), replies[0]);

	static const char *const unsupported[] = {"", "!", "bc", "vFile:open:", "qOffsets", "Z9,0,0", "Qfoo", "j"};
	for (size_t i = 0; i < sizeof(unsupported) / sizeof(unsupported[0]); i++) {
		r = send_pkt(g, unsupported[i], &act);
		snprintf(name, sizeof(name), "cmd: unsupported '%s' gets the empty reply", unsupported[i]);
		check(name, r[0] == '\0' && nreplies == 1 && act == GDB_ACT_NONE, r);
	}

	r = send_pkt(g, "qSupported:multiprocess+;swbreak+", NULL);
	check("cmd: qSupported", strstr(r, "PacketSize=") && strstr(r, "qXfer:features:read+") &&
	                             strstr(r, "QStartNoAckMode+") && strstr(r, "vContSupported+") && strstr(r, "swbreak+"),
	      r);
	static char xml[65536];
	size_t xl = 0;
	for (int guard = 0; guard < 100; guard++) {
		char q[80];
		snprintf(q, sizeof(q), "qXfer:features:read:target.xml:%zx,200", xl);
		r = send_pkt(g, q, NULL);
		if ((r[0] != 'm' && r[0] != 'l') || xl + strlen(r + 1) >= sizeof(xml))
			break;
		memcpy(xml + xl, r + 1, strlen(r + 1));
		xl += strlen(r + 1);
		if (r[0] == 'l')
			break;
	}
	xml[xl] = '\0';
	check("cmd: target.xml in chunks", strstr(xml, "<architecture>i386</architecture>") && strstr(xml, "cr3") &&
	                                       strstr(xml, "</target>"),
	      "incomplete");
	check("cmd: qAttached, qC, threads", !strcmp(send_pkt(g, "qAttached", NULL), "1") &&
	                                         !strcmp(send_pkt(g, "qC", NULL), "QC01") &&
	                                         !strcmp(send_pkt(g, "qfThreadInfo", NULL), "m01") &&
	                                         !strcmp(send_pkt(g, "qsThreadInfo", NULL), "l"),
	      "wrong answer");
	check("cmd: vCont?", !strcmp(send_pkt(g, "vCont?", NULL), "vCont;c;C;s;S"), "wrong answer");

	/* Breakpoints: never in guest memory; alias below PAGE_OFFSET in linear mode. */
	put_bytes(lg, 0x2000, "\x90\x90");
	r = send_pkt(g, "Z0,c0002000,1", NULL);
	uint32_t bp;
	bool alias;
	check("cmd: Z0 does not patch memory", !strcmp(r, "OK") && !memcmp(guest_ptr(&lg->mem, 0x2000), "\x90\x90", 2), r);
	check("cmd: linear-mode alias matches", gdb_bp_at(g, 0x2000, &bp, &alias) && alias && bp == 0xc0002000, "no match");
	check("cmd: z0 removes", !strcmp(send_pkt(g, "z0,c0002000,1", NULL), "OK") && !gdb_bp_at(g, 0x2000, &bp, &alias),
	      "still there");
	for (unsigned i = 0; i < 1000; i++) {
		char q[40];
		snprintf(q, sizeof(q), "Z2,%x,4", 0x10000 + 8 * i);
		send_pkt(g, q, NULL);
	}
	check("cmd: a thousand watchpoints", g->nwps == 1000 && gdb_page_watched(g, 0x11000) && !gdb_page_watched(g, 0x30000),
	      "not kept");
	char why[48];
	check("cmd: write watch hit names the address", gdb_watch_hit(g, 0x10008, 4, CPU_ACCESS_WRITE, why, sizeof(why)) &&
	                                                     !strcmp(why, "watch:00010008;"),
	      why);
	check("cmd: read does not hit a write watch", !gdb_watch_hit(g, 0x10008, 4, CPU_ACCESS_READ, why, sizeof(why)), why);

	/* Memory views. */
	put_bytes(lg, 0x3000, "lguest");
	r = send_pkt(g, "m3000,6", NULL);
	check("mem: linear mode reads guest-physical", !strcmp(r, "6c6775657374"), r);
	r = send_pkt(g, "mc0003000,6", NULL);
	check("mem: PAGE_OFFSET alias in linear mode", !strcmp(r, "6c6775657374"), r);
	r = send_pkt(g, "mffffff00,4", NULL);
	check("mem: past the end of memory", is_error(r), r);
	r = send_pkt(g, "M3000,2:4c47", NULL);
	check("mem: M writes", !strcmp(r, "OK") && !memcmp(guest_ptr(&lg->mem, 0x3000), "LG", 2), r);
	r = send_pkt(g, "X3002,2:}]}\x03", NULL);
	check("mem: X writes escaped bytes", !strcmp(r, "OK") && !memcmp(guest_ptr(&lg->mem, 0x3002), "}#", 2), r);

	/* A page table: va 0x400000 -> pa 0x5000. */
	put_le32(guest_ptr(&lg->mem, 0x10000 + 4 * 1), 0x11000 | 0x7);
	put_le32(guest_ptr(&lg->mem, 0x11000), 0x5000 | 0x7);
	put_bytes(lg, 0x5000, "paged");
	lg->linear_pages = false;
	lg->slot[lg->cur_slot].gpgdir = 0x10000;
	r = send_pkt(g, "m400000,5", NULL);
	check("mem: walks the guest's page tables", !strcmp(r, "7061676564"), r);
	r = send_pkt(g, "m800000,4", NULL);
	check("mem: unmapped address is an error", is_error(r), r);
	r = send_pkt(g, "m400ffe,4", NULL);
	check("mem: a read running into an unmapped page is cut short", strlen(r) == 4, r);
	send_pkt(g, "qRcmd,6d656d7669657720736861646f77", NULL); /* memview shadow */
	r = send_pkt(g, "m400000,5", NULL);
	check("mem: shadow view has nothing before a fill", is_error(r), r);
	send_pkt(g, "qRcmd,7068797320206f6e", NULL); /* phys  on */
	r = send_pkt(g, "m5000,5", NULL);
	check("mem: physical view", !strcmp(r, "7061676564"), r);

	/* Monitor output comes as O packets, then OK. */
	r = send_pkt(g, "qRcmd,7074203078343030303030", NULL); /* pt 0x400000 */
	char text[4096] = "";
	for (unsigned i = 0; i + 1 < nreplies && replies[i][0] == 'O'; i++) {
		size_t hl = strlen(replies[i] + 1) / 2, tl = strlen(text);
		if (tl + hl < sizeof(text) && rsp_fromhex(replies[i] + 1, hl, (uint8_t *)text + tl))
			text[tl + hl] = '\0';
	}
	check("monitor: pt shows the walk", !strcmp(r, "OK") && strstr(text, "pte[0]") && strstr(text, "0x00005000"), text);
	r = send_pkt(g, "qRcmd,6e6f2d73756368", NULL); /* no-such */
	check("monitor: unknown command answered", !strcmp(r, "OK") && nreplies == 2, r);

	/* Resume requests and syscall catching. */
	send_pkt(g, "vCont;s:1;c", &act);
	check("cmd: vCont;s:1;c steps", act == GDB_ACT_RESUME && g->run == GDB_STEP, "not a step");
	send_pkt(g, "c100", &act);
	check("cmd: c addr continues there", act == GDB_ACT_RESUME && g->run == GDB_CONTINUE && lg->cpu.eip == 0x100,
	      "wrong");
	r = send_pkt(g, "QCatchSyscalls:1;2;11", NULL);
	check("cmd: QCatchSyscalls list", !strcmp(r, "OK") && gdb_catches(g, 2) && gdb_catches(g, 0x11) && !gdb_catches(g, 1),
	      r);
	send_pkt(g, "QCatchSyscalls:0", NULL);
	check("cmd: QCatchSyscalls:0", !gdb_catches(g, 2), "still catching");
	send_pkt(g, "D", &act);
	check("cmd: D detaches", act == GDB_ACT_DETACH && !strcmp(replies[0], "OK"), replies[0]);
	send_pkt(g, "k", &act);
	check("cmd: k kills", act == GDB_ACT_KILL, "no kill");
}

int main(void)
{
	static struct lguest lg;
	static struct gdbstub g;
	char err[256];
	struct lguest_options opt = {.abi = &abi_3_19, .mem_mb = 4, .syscall_vector = 0x80};

	test_framing();
	if (!lguest_create(&lg, &opt, err, sizeof(err))) {
		printf("FAIL gdb_packets: lguest_create: %s\n", err);
		return 1;
	}
	lg.image.entry = 0x1000;
	lguest_start(&lg);
	g.send = collect;
	g.listen_fd = g.fd = -1;
	gdb_session_init(&g, &lg);
	test_commands(&g, &lg);
	gdb_session_free(&g);
	lguest_destroy(&lg);
	if (!checks)
		printf("FAIL gdb_packets: no checks ran\n");
	return failures || !checks;
}
