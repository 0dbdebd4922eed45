/*
 * The virtio console through real vrings (addendum §A11 "Console",
 * "Service rules"): transmit chains of several descriptors with the
 * queue's interrupt on and off, and receive console input into posted
 * buffers, woken from HALT by the receive IRQ.
 *
 * Variants (kernel command line):
 *   (none)  transmit tests; stdout is compared byte for byte
 *   echo    echo every input buffer as "echo <len>: <bytes>" (control
 *           bytes as ^X, newline as \n) until a '#' arrives, then power off
 *   null    post receive buffers, then keep running (timer HALTs and a
 *           busy loop) to a power-off of our own: with stdin at EOF the
 *           launcher must only say so, once
 */
#include "../virtio.h"

static struct lg_dev con;
static struct vq rx, tx;

/* Transmit a chain of strings, one descriptor each; returns the head. */
static u16 transmit(const char *const *parts, unsigned n)
{
	struct vbuf bufs[8];
	for (unsigned i = 0; i < n; i++) {
		u32 len = 0;
		while (parts[i][len])
			len++;
		bufs[i] = (struct vbuf){parts[i], len, 0};
	}
	return vq_add(&tx, bufs, n);
}

/* Check that exactly the chain `head` came back, used length 0 (§A11 "Transmit"). */
static void check_used(const char *what, u16 head)
{
	u32 id, len;
	check_detail(what, " used", vq_get_used(&tx, &id, &len), 1);
	check_detail(what, " used id", id, head);
	check_detail(what, " used len", len, 0);
}

static void transmit_tests(void)
{
	static const char *const hello[] = {"Hello, ", "vring ", "world!\n"};
	static const char *const quiet[] = {"no ", "interrupt ", "for ", "this\n"};
	static const char *const batch1[] = {"batch ", "one\n"};
	static const char *const batch2[] = {"batch ", "two\n"};
	static const char line[] = "forty single-byte descriptors in chain\n";

	check("console is record 0", dev_find(&con, 0) && con.type == VIRTIO_ID_CONSOLE, 1);
	check("console has 2 queues", con.num_vq, 2);
	check("console feature_len", con.feature_len, 0);
	check("console config_len", con.config_len, 0);
	vq_init(&rx, &con, 0);
	vq_init(&tx, &con, 1);
	check("receive queue irq", rx.irq, 1);
	check("transmit queue irq", tx.irq, 2);
	check("ring size", tx.num, 256);
	check("rings follow the descriptor page", rx.pfn * 4096, guest_mem() + 4096);
	check("transmit ring after receive ring", tx.pfn, rx.pfn + 3);
	dev_start(&con);

	/* Interrupts on: the IRQ arrives right after the kick (§A1). */
	irqs_on();
	u16 head = transmit(hello, 3);
	vq_kick(&tx);
	check_used("three-buffer chain", head);
	check("transmit irq delivered", irq_count[tx.irq], 1);
	check("no receive irq", irq_count[rx.irq], 0);

	/* VRING_AVAIL_F_NO_INTERRUPT: used entries but no IRQ. */
	irqs_on();
	vq_interrupts(&tx, 0);
	head = transmit(quiet, 4);
	vq_kick(&tx);
	irq_window();
	check_used("chain with interrupts off", head);
	check("no irq with NO_INTERRUPT", irq_count[tx.irq], 1);

	/* Two chains, one kick: both served, the IRQ raised for the batch. */
	vq_interrupts(&tx, 1);
	irqs_on();
	u16 h1 = transmit(batch1, 2), h2 = transmit(batch2, 2);
	vq_kick(&tx);
	check_used("batch first chain", h1);
	check_used("batch second chain", h2);
	check("batch irq", irq_count[tx.irq], 2);

	/* A long chain: one descriptor per byte. */
	struct vbuf bytes[sizeof(line) - 1];
	for (u32 i = 0; i < sizeof(line) - 1; i++)
		bytes[i] = (struct vbuf){&line[i], 1, 0};
	irqs_on();
	head = vq_add(&tx, bytes, sizeof(line) - 1);
	vq_kick(&tx);
	check_used("long chain", head);
	check("long chain irq", irq_count[tx.irq], 3);

	/* irq_enabled = 0: the IRQ waits (irq_pending) until interrupts are
	 * re-enabled and SEND_INTERRUPTS asks for it (§A5). */
	lg_data.irq_enabled = 0;
	head = transmit(hello, 3);
	vq_kick(&tx);
	irq_window();
	check_used("chain with irq_enabled 0", head);
	check("irq held while disabled", irq_count[tx.irq], 3);
	lg_data.irq_enabled = 0x200;
	hcall(LHCALL_SEND_INTERRUPTS, 0, 0, 0, 0);
	check("held irq delivered on enable", irq_count[tx.irq], 4);

	/* blocked_interrupts holds the queue's IRQ back until cleared (§A5). */
	lg_data.irq_enabled = 0x200;
	lg_data.blocked_interrupts = 1u << tx.irq;
	head = transmit(hello, 3);
	vq_kick(&tx);
	irq_window();
	check_used("chain with its irq blocked", head);
	check("blocked irq held", irq_count[tx.irq], 4);
	lg_data.blocked_interrupts = 0;
	irq_window();
	check("unblocked irq delivered", irq_count[tx.irq], 5);
	finish();
}

/* ---- Input ---- */

#define RX_BUFS 4
#define RX_BUF_SIZE 8
static u8 rx_buf[RX_BUFS][RX_BUF_SIZE];
static u8 rx_of_head[VRING_NUM];

/* Hand receive buffer b (back) to the host. */
static void post_rx(unsigned b)
{
	const struct vbuf buf = {rx_buf[b], RX_BUF_SIZE, VRING_DESC_F_WRITE};
	rx_of_head[vq_add(&rx, &buf, 1)] = (u8)b;
}

/* Send out_line through the transmit queue (interrupts off for it). */
static void transmit_line(void)
{
	u32 id, len;
	out_line[out_len++] = '\n';
	const struct vbuf b = {out_line, out_len, 0};
	vq_add(&tx, &b, 1);
	vq_kick(&tx);
	out_len = 0;
	if (!vq_get_used(&tx, &id, &len))
		say("not ok echo line not served");
}

static void out_byte_escaped(u8 c)
{
	char s[3] = {(char)c, 0, 0};
	if (c == '\n') {
		s[0] = '\\';
		s[1] = 'n';
	} else if (c < 0x20 || c == 0x7f) {
		s[0] = '^';
		s[1] = (char)(c ^ 0x40);
	}
	out_str(s);
}

/* Start the console with every receive buffer posted, transmit quiet. */
static void console_setup_input(void)
{
	if (!dev_find_type(&con, VIRTIO_ID_CONSOLE)) {
		say("no console");
		finish();
	}
	vq_init(&rx, &con, 0);
	vq_init(&tx, &con, 1);
	dev_start(&con);
	vq_interrupts(&tx, 0);
	for (unsigned b = 0; b < RX_BUFS; b++)
		post_rx(b);
	vq_kick(&rx);
}

static void echo_loop(void)
{
	console_setup_input();
	for (;;) {
		u32 id, len;
		/* Linux's idle: HALT with irq_enabled = 0; the input IRQ wakes us. */
		lg_data.irq_enabled = 0;
		hcall(LHCALL_HALT, 0, 0, 0, 0);
		while (vq_get_used(&rx, &id, &len)) {
			unsigned b = rx_of_head[id % VRING_NUM];
			int done = 0;
			out_str("echo ");
			out_dec(len);
			out_str(": ");
			for (u32 i = 0; i < len && i < RX_BUF_SIZE; i++) {
				u8 c = ((volatile u8 *)rx_buf[b])[i];
				out_byte_escaped(c);
				done |= c == '#';
			}
			transmit_line();
			if (done) {
				out_str("bye after ");
				out_dec(irq_count[rx.irq]);
				out_str(" input interrupts");
				transmit_line();
				finish();
			}
			post_rx(b);
		}
	}
}

/* Busy work the launcher's input poll (every 1M instructions) will interrupt. */
static void spin(u32 rounds)
{
	asm volatile("1: decl %0\n\tjnz 1b" : "+r"(rounds) : : "memory");
}

static void null_input(void)
{
	console_setup_input();
	for (int i = 0; i < 3; i++) {
		lg_data.irq_enabled = 0;
		hcall(LHCALL_SET_CLOCKEVENT, 100000, 0, 0, 0);
		hcall(LHCALL_HALT, 0, 0, 0, 0);
	}
	spin(2000000);
	check("timer woke every halt", irq_count[0], 3);
	check("no input arrived", rx.used->idx, 0);
	say("still running after console EOF");
	finish();
}

void guest_main(void)
{
	guest_init();
	irq_gates_install();
	if (has_arg("echo"))
		echo_loop();
	if (has_arg("null"))
		null_input();
	transmit_tests();
}
