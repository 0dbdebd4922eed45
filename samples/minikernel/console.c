/*
 * The early console and the check bookkeeping.
 *
 * Output goes out the way Linux 3.19's lguest early console sends it: at
 * most 16 characters at a time, copied into a 17-byte buffer on the stack
 * and handed to the launcher with NOTIFY(physical address) (§A10 item 10).
 *
 * Each step makes several checks and prints one line: "ok N title", or
 * "not ok N title: <first failed check>: got 0x.. want 0x..".  The test
 * compares the whole stdout with a golden file.
 */
#include "minikernel.h"

/* Send one NUL-terminated string in 16-byte chunks. */
void early_write(const char *s)
{
	while (*s) {
		char scratch[17];
		u32 n = 0;
		while (n < 16 && s[n]) {
			scratch[n] = s[n];
			n++;
		}
		scratch[n] = 0;
		hcall(LHCALL_NOTIFY, pa(scratch), 0, 0, 0);
		s += n;
	}
}

/* Hexadecimal the way the kernel's %#x prints it (0x0 for zero). */
void early_hex(u32 v)
{
	char buf[11];
	int n = 10;
	buf[n] = 0;
	do {
		buf[--n] = "0123456789abcdef"[v & 15];
		v >>= 4;
	} while (v);
	buf[--n] = 'x';
	buf[--n] = '0';
	early_write(buf + n);
}

void early_dec(u32 v)
{
	char buf[11];
	int n = 10;
	buf[n] = 0;
	do {
		buf[--n] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	early_write(buf + n);
}

static u32 passed, failed;
/* The first failure of the current step, printed on its line. */
static const char *step_fail_what;
static u32 step_fail_got, step_fail_want, step_failures;

/* One check: got must equal want. */
void expect(const char *what, u32 got, u32 want)
{
	if (got == want) {
		passed++;
		return;
	}
	failed++;
	if (!step_failures++) {
		step_fail_what = what;
		step_fail_got = got;
		step_fail_want = want;
	}
}

void expect_true(const char *what, int cond)
{
	expect(what, cond != 0, 1);
}

/* Print the step's line and start the next step's bookkeeping. */
void step_done(u32 number, const char *title)
{
	early_write(step_failures ? "not ok " : "ok ");
	early_dec(number);
	early_write(" ");
	early_write(title);
	if (step_failures) {
		early_write(": ");
		early_write(step_fail_what);
		early_write(": got ");
		early_hex(step_fail_got);
		early_write(" want ");
		early_hex(step_fail_want);
	}
	early_write("\n");
	step_failures = 0;
}

u32 checks_passed(void)
{
	return passed;
}

u32 checks_failed(void)
{
	return failed;
}

/* SHUTDOWN with a message: the host reads it at a physical address. */
void kernel_power_off(const char *msg)
{
	hcall(LHCALL_SHUTDOWN, pa(msg), LGUEST_SHUTDOWN_POWEROFF, 0, 0);
	for (;;)
		;
}
