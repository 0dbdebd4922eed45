/*
 * The control socket's insides, shared by its two files:
 *   control.c       the socket, run control (stop, step, continue,
 *                   breakpoints, watchpoints) and the debugger hooks
 *   control_cmds.c  requests that only look: registers, memory, events,
 *                   the crash report, IDT/GDT/page tables/TLB
 */
#ifndef LGUEST_CONTROL_INTERNAL_H
#define LGUEST_CONTROL_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "debug/control.h"
#include "debug/debugger.h"
#include "debug/events.h"

#define CONTROL_MAX_POINTS 64
#define CONTROL_LINE_MAX 1024

enum control_run {
	CTL_FREE,     /* our hooks are not installed: the guest runs as without a debugger */
	CTL_RUNNING,  /* ours, running until a breakpoint, a watchpoint or a stop request */
	CTL_STEPPING, /* ours, running until step_until instructions */
	CTL_STOPPED,  /* ours, stopped: serving the client */
};

struct control_point {
	unsigned id;
	bool watch;       /* a watchpoint; else a breakpoint */
	bool temporary;   /* tbreak: deleted when hit */
	uint32_t addr, len;
	uint8_t access;   /* watchpoints: 1 read, 2 write, 3 both */
};

struct control {
	struct debugger hooks;
	struct lguest *lg;
	int listen_fd, fd;
	char path[108];
	char *kernel;
	bool wait_for_client;

	/* Bytes read from the client, not yet a whole line. */
	char in[CONTROL_LINE_MAX];
	size_t inlen;

	enum control_run run;
	uint64_t step_until;
	bool stop_requested;   /* stop at the next before_run */
	char stop_why[700];    /* what stopped it, for the replies */
	bool resume_pending;   /* a continue or step waits for its reply (at the stop) */
	bool stop_reply_pending; /* a stop request waits for its reply */

	struct control_point points[CONTROL_MAX_POINTS];
	unsigned npoints, next_id;

	struct gdbstub *gdb; /* opened by a "gdb" request */
};

/*
 * Answer a request that only looks at the guest, writing the body to
 * `body`.  Returns 1 done, 0 not an inspection request, -1 failed (the
 * message in err).
 */
int control_inspect(struct control *c, const char *cmd, const char *arg, FILE *body, char *err, size_t errlen);

/* "running", "stopped" or "dead", and who controls the guest: "lgdbg", "gdb" or "none". */
const char *control_state(const struct control *c);
const char *control_holder(const struct control *c);

#endif
