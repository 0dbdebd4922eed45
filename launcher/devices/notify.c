/*
 * What a NOTIFY hypercall means to the launcher (addendum §A11, "NOTIFY
 * dispatch"): a device status change, a virtqueue kick, or, for any other
 * address inside guest memory, the early console: a NUL-terminated string
 * written to stdout as it is.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "host/host.h"

/* Write the guest's string at `addr`, up to its NUL or the end of guest memory. */
static void early_console(struct lguest *lg, uint32_t addr)
{
	const char *s = guest_ptr(&lg->mem, addr);
	size_t len = strnlen(s, lg->mem.limit_bytes - addr);
	fflush(stdout);
	while (len) {
		ssize_t n = write(STDOUT_FILENO, s, len);
		if (n <= 0)
			break;
		s += n;
		len -= (size_t)n;
	}
}

void service_notify(struct lguest *lg, uint32_t addr)
{
	if (addr >= lg->mem.limit_bytes) {
		kill_guest(lg, "Bad NOTIFY 0x%x", addr);
		return;
	}
	early_console(lg, addr);
}
