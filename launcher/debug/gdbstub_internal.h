/*
 * The gdb stub's insides, shared by its files and by the unit test
 * (tests/unit/gdb_packets.c), which drives the packet layer without a
 * socket:
 *
 *   gdbstub_rsp.c      framing: bytes in, whole packets out (and back)
 *   gdbstub_cmds.c     one packet in, replies out: registers, memory,
 *                      breakpoints, resume requests, queries
 *   gdbstub_mem.c      guest memory as gdb sees it: the guest's own page
 *                      tables, the shadow (what the CPU maps now), physical
 *   gdbstub_monitor.c  `monitor ...` commands
 *   gdbstub.c          the socket, and the run loop's debugger hooks
 */
#ifndef LGUEST_GDBSTUB_INTERNAL_H
#define LGUEST_GDBSTUB_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "debug/inspect.h"
#include "debug/debugger.h"
#include "debug/events.h"
#include "debug/gdbstub.h"

/* The largest packet payload we accept or send (advertised as PacketSize). */
#define GDB_MAX_PACKET 16384u

/* ---- framing (gdbstub_rsp.c) ---- */

enum rsp_event {
	RSP_NONE,         /* byte consumed, nothing complete yet */
	RSP_PACKET,       /* a whole packet with a good checksum: payload in buf[0..len) */
	RSP_BAD_CHECKSUM, /* a whole packet whose checksum did not match */
	RSP_OVERSIZED,    /* a whole packet longer than GDB_MAX_PACKET (payload dropped) */
	RSP_INTERRUPT,    /* Ctrl-C (0x03) outside a packet */
	RSP_ACK,          /* '+' */
	RSP_NAK,          /* '-' */
};

struct rsp_parser {
	enum { RSP_IDLE, RSP_BODY, RSP_SUM1, RSP_SUM2 } state;
	char buf[GDB_MAX_PACKET + 1]; /* NUL-terminated payload */
	size_t len;
	bool overflow;
	uint8_t sum, sent_sum;
};

void rsp_init(struct rsp_parser *p);
/* Feed one byte; returns what it completed. */
enum rsp_event rsp_feed(struct rsp_parser *p, uint8_t byte);
/* Frame a payload as $...#cs, escaping $ # } *; returns the framed length (out >= 2*len+4). */
size_t rsp_frame(const char *payload, size_t len, char *out);
/* Undo X-packet binary escapes in place; returns the new length. */
size_t rsp_unescape(char *data, size_t len);
/* Hex helpers: -1 on a bad digit. */
int rsp_hexval(char c);
void rsp_tohex(const uint8_t *in, size_t len, char *out);
/* Decode 2*len hex digits; false on a bad digit. */
bool rsp_fromhex(const char *in, size_t len, uint8_t *out);
/* Parse a hex number up to a delimiter; false if empty, bad or above 32 bits.  *end past it. */
bool rsp_parse_hex32(const char *s, uint32_t *v, const char **end);

/* ---- the session (all files) ---- */

struct gdb_bp {
	uint32_t addr;
	uint8_t type; /* 0 software, 1 hardware: both work the same way here */
};

struct gdb_wp {
	uint32_t addr, len;
	uint8_t type; /* 2 write, 3 read, 4 access */
};

enum gdb_run {
	GDB_STOPPED,  /* serving gdb; the guest waits */
	GDB_CONTINUE, /* running until something stops it */
	GDB_STEP,     /* running one instruction */
	GDB_DETACHED, /* no debugger: the guest runs on, nothing stops it */
};

/* What a packet asks the transport to do next. */
enum gdb_action { GDB_ACT_NONE, GDB_ACT_RESUME, GDB_ACT_DETACH, GDB_ACT_KILL };

#define GDB_HCALL_HISTORY 32 /* shown by `monitor hypercalls`, from the event stream's history */

struct gdbstub {
	struct debugger hooks;
	struct lguest *lg;

	/* Where replies go: the socket, or the unit test's collector. */
	void (*send)(struct gdbstub *g, const char *payload, size_t len);

	/* Transport (gdbstub.c). */
	int listen_fd, fd;
	char *unix_path, *script_path, *kernel_path;
	struct trace_writer *trace; /* `monitor trace on`: a trace started from gdb */
	char trace_path[512];
	char where[160]; /* "127.0.0.1:1234" or the socket path, for messages */
	struct rsp_parser parser;
	bool no_ack;
	uint64_t last_poll_ns;

	/* Breakpoints and watchpoints: growable, unlimited. */
	struct gdb_bp *bps;
	size_t nbps, bps_cap;
	struct gdb_wp *wps;
	size_t nwps, wps_cap;

	/* Run control. */
	enum gdb_run run;
	bool stop_pending;       /* a stop happened; report it at the next chance */
	char stop_reply[96];     /* the last stop reply, also the answer to '?' */
	char stop_note[400];     /* said to gdb's console (O packet) before the stop reply */
	bool step_ran;           /* the stepped instruction has executed */
	bool step_began_halted;  /* stepping a halted guest: the step ends at the interrupt */
	bool step_irqs;          /* monitor step-irqs on: deliver interrupts during stepi */
	uint32_t orig_eax;       /* the hypercall number at a syscall stop, else all ones */

	/* catch syscall: the hypercall numbers gdb wants (QCatchSyscalls). */
	bool catch_on, catch_all;
	uint8_t catch_set[32];

	enum mem_view view;
};

/* gdbstub_cmds.c */
void gdb_session_init(struct gdbstub *g, struct lguest *lg);
void gdb_session_free(struct gdbstub *g);
enum gdb_action gdb_dispatch(struct gdbstub *g, char *pkt, size_t len);
void gdb_reply(struct gdbstub *g, const char *payload);
void gdb_replyf(struct gdbstub *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Text for gdb's console: O packets, split to fit. */
void gdb_console(struct gdbstub *g, const char *text);
/* Forget every breakpoint, watchpoint and catchpoint (detach, disconnect). */
void gdb_clear_points(struct gdbstub *g);
/* Breakpoint matching, with the linear-mode alias; *alias says it matched addr - PAGE_OFFSET. */
bool gdb_bp_at(struct gdbstub *g, uint32_t eip, uint32_t *bp_addr, bool *alias);
bool gdb_page_watched(struct gdbstub *g, uint32_t va_page);
/* A watched access: the matching watchpoint's stop reply text, or false. */
bool gdb_watch_hit(struct gdbstub *g, uint32_t va, unsigned size, int access, char *why, size_t whylen);
bool gdb_catches(struct gdbstub *g, uint32_t nr);

/* gdbstub_mem.c */
struct gdb_walk {
	bool linear;         /* 1:1 linear mode: no tables yet */
	bool alias;          /* linear mode, address above PAGE_OFFSET read at addr - PAGE_OFFSET */
	uint32_t pgdir;      /* guest-physical page directory (cr3) */
	uint32_t pde, pte;   /* the guest's entries (pte valid if the PDE is present) */
	uint32_t pte_addr;   /* guest-physical address of the PTE */
	bool mapped;
	uint32_t pa;
	const char *why;     /* why not mapped */
};
void gdb_walk_guest(struct lguest *lg, uint32_t va, struct gdb_walk *w);
/* Read or write through a view; returns how many bytes from the start could be moved. */
size_t gdb_mem_read(struct gdbstub *g, uint32_t addr, uint8_t *buf, size_t len);
size_t gdb_mem_write(struct gdbstub *g, uint32_t addr, const uint8_t *buf, size_t len);
const char *gdb_view_name(enum mem_view v);

/* gdbstub_monitor.c */
void gdb_monitor(struct gdbstub *g, const char *cmd);

#endif
