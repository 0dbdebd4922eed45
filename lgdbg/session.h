/*
 * lgdbg's side of the control socket (launcher/debug/control.h): find a
 * launcher, connect, say hello, and send requests one line at a time.
 */
#ifndef LGDBG_SESSION_H
#define LGDBG_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "symbols.h"

struct session {
	int fd;
	char *in;            /* bytes received, not yet consumed */
	size_t inlen, incap;
	int pid;             /* the launcher's */
	char kernel[4096];
	char state[16];      /* running, stopped, dead */
	char holder[16];     /* who controls the guest: lgdbg, gdb, none */
	struct symbols syms; /* the kernel's, for names and completion */
	pid_t child;         /* `lgdbg run`: the launcher we started, else 0 */
};

/*
 * Connect to the launcher `target` names: NULL (the only one running as
 * this user), a pid, or a socket path.  On failure prints what the user
 * can do about it and returns false.
 */
bool session_attach(struct session *s, const char *target);

/* Connect to the socket of launcher `pid` (our child), waiting up to 10 s for it to appear. */
bool session_attach_child(struct session *s, pid_t pid);

/*
 * One request.  True for "ok"; *body (malloc'd, may be empty) holds the
 * body, or the error message on "error: ...".  A lost connection is an
 * error too ("the launcher went away").
 */
bool session_request(struct session *s, char **body, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Send a request without waiting; read its response later with session_response. */
bool session_send(struct session *s, const char *line);
/* Wait for the next response; *interrupted is set (and the wait ends early) if the flag becomes true. */
bool session_response(struct session *s, char **body, volatile int *interrupt_flag, bool *interrupted);

/* The value of "name value" in a body, or NULL. */
const char *body_value(const char *body, const char *name, char *buf, size_t len);

void session_close(struct session *s);

#endif
