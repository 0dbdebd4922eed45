/*
 * The kernel command line (boot_params.hdr.cmd_line_ptr at 0x228), read
 * the simple way: space-separated words, "word" flags and "word=N"
 * numbers.  Used after the kernel runs high, so addresses go through va().
 */
#include "minikernel.h"

/* What follows `word` in the argument that starts with it, or 0 if none does. */
static const char *cmdline_after(const char *word)
{
	const char *p = va(*(volatile u32 *)va(0x228));
	while (*p) {
		const char *w = word, *q = p;
		while (*w && *q == *w) {
			q++;
			w++;
		}
		if (!*w)
			return q;
		while (*p && *p != ' ')
			p++;
		while (*p == ' ')
			p++;
	}
	return 0;
}

int cmdline_number(const char *word, u32 *value)
{
	const char *p = cmdline_after(word);
	if (!p || *p < '0' || *p > '9')
		return 0;
	u32 n = 0;
	while (*p >= '0' && *p <= '9')
		n = n * 10 + (u32)(*p++ - '0');
	*value = n;
	return 1;
}

int cmdline_flag(const char *word)
{
	const char *p = cmdline_after(word);
	return p && (*p == ' ' || *p == '\0');
}
