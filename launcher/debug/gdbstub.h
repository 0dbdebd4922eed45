/*
 * The gdb remote stub: `lguest --gdb[=PORT|unix:PATH]`.
 *
 * A stock gdb connects with `target remote` and debugs the guest from its
 * first instruction: breakpoints that never touch guest memory, unlimited
 * exact watchpoints, single steps that do not wander into interrupt
 * delivery, `catch syscall` on hypercalls, and `monitor` commands that
 * show lguest's own state.  docs/gdb.md is the user's guide.
 *
 * The launcher opens the stub once, then attaches it to each guest it
 * runs (a reboot runs a fresh guest); the guest is stopped before its
 * first instruction until gdb connects and continues it.
 */
#ifndef LGUEST_GDBSTUB_H
#define LGUEST_GDBSTUB_H

#include <stdbool.h>
#include <stddef.h>

struct lguest;
struct gdbstub;

/*
 * Listen where `spec` says: "" (port 1234), "PORT" (0 picks a free one),
 * or "unix:PATH", each optionally followed by ",script=FILE" to write a
 * gdb script that loads `kernel`'s symbols and connects.  TCP listens on
 * 127.0.0.1 only; the unix socket is user-only.  Prints the gdb command
 * line to stderr.  NULL with a message in err on failure.
 */
struct gdbstub *gdbstub_open(const char *spec, const char *kernel, char *err, size_t errlen);

/* Debug this guest (sets lg->dbg): it stays stopped until gdb says continue. */
void gdbstub_attach(struct gdbstub *g, struct lguest *lg);

/* Close the connection and the listening socket (and remove a unix socket). */
void gdbstub_close(struct gdbstub *g);

#endif
