/* Socket helpers shared by the gdb stub and the control socket (debug/sockets.c). */
#ifndef LGUEST_SOCKETS_H
#define LGUEST_SOCKETS_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Listen on a unix socket at `path` that only this user may connect to
 * (created under umask 077, then mode 0600).  `type_flags` are OR-ed into
 * SOCK_STREAM (SOCK_CLOEXEC, SOCK_NONBLOCK).  Returns the descriptor, or
 * -1 with errno set.
 */
int unix_listen_private(const char *path, int backlog, int type_flags);

/*
 * Write all of buf to a connected socket.  A failure shuts the socket
 * down (the reading side then sees the end) and returns false.
 */
bool send_all(int fd, const void *buf, size_t len);

#endif
