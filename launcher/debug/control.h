/*
 * The control socket: how `lgdbg attach` reaches a running launcher.
 *
 * Every launcher listens on a user-only unix socket,
 *
 *     ${XDG_RUNTIME_DIR:-/tmp}/lguest-<uid>/<pid>.sock
 *
 * (the directory is 0700 and must belong to us), removed at exit.  lgdbg
 * finds it from the launcher's pid.  The protocol is a request per line
 * and a response per request: "ok" or "error: WHY", body lines (a body
 * line starting with '.' gets a second '.'), then a line ".".
 * docs/lgdbg.md describes every request.
 *
 * The run loop calls control_poll() (installed as lg->poll_front_end)
 * about every million instructions and while the guest is halted --
 * never per hypercall -- so an idle socket
 * costs one poll() per million instructions.  A client that asks to stop
 * or to set a breakpoint takes lg->dbg (debug/debugger.h), unless gdb
 * holds it: then lgdbg may only look.
 */
#ifndef LGUEST_CONTROL_H
#define LGUEST_CONTROL_H

#include <stdbool.h>
#include <stddef.h>

struct lguest;
struct control;

/* The protocol version spoken in the hello line. */
#define CONTROL_PROTOCOL 1

/*
 * The directory holding this user's control sockets; false (with a
 * message in err) if it cannot be made private (created 0700, ours, not
 * a symlink).  lgdbg uses the same rule to find launchers.
 */
bool control_dir(char *buf, size_t len, bool create, char *err, size_t errlen);

/*
 * Listen on <dir>/<pid>.sock.  `kernel` is the guest's file (lgdbg loads
 * its symbols).  With wait_for_client the first guest stays stopped
 * before its first instruction until a client attaches and continues it
 * (`lgdbg run`).  `announce` prints the socket's path on stderr.
 * NULL, with a message in err, when the socket cannot be made.
 */
struct control *control_open(const char *kernel, bool wait_for_client, bool announce, char *err, size_t errlen);

/* Serve this (freshly loaded) guest. */
void control_attach(struct control *c, struct lguest *lg);

/*
 * The run loop's hook: accept a client, answer its requests.  True when
 * the guest must stop now: the caller goes round its loop so the
 * debugger's before_run hook sees the stop.
 */
bool control_poll(struct lguest *lg);

/*
 * The guest is dead and its reason printed.  If a client is attached,
 * tell it, and keep answering it (crash report, registers, memory) until
 * it detaches: the launcher exits only then.
 */
void control_guest_ended(struct control *c, struct lguest *lg);

/* Close everything and remove the socket. */
void control_close(struct control *c);

#endif
