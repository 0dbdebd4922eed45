/*
 * Bug: a DMA buffer on the stack (the Plan 9 port's "invalid DMAs where
 * there is a virtual address on the stack").
 *
 * post_message() puts its message in its own stack frame, publishes it
 * on the console's transmit ring and returns.  The kick comes later,
 * after another function has reused that stack, so the host prints
 * whatever the stack holds by then.  The stack-dma checker says where
 * the buffer was posted and that its bytes changed before the host read
 * them.  With "fixed" on the command line the message is static.
 */
#include "../../tests/common.h"
#include "../../tests/virtio.h"

#define MSG_LEN 14

static struct vq txq;
static char static_msg[16] = "hello, static\n";

/* The mistake: msg dies when this function returns, but the ring still points at it. */
static __attribute__((noinline)) void post_message(void)
{
	volatile char msg[16] = "hello, stack!\n";
	struct vbuf b = {msg, MSG_LEN, 0};
	vq_add(&txq, &b, 1);
}

/* The fix: a buffer that outlives the call. */
static __attribute__((noinline)) void post_static_message(void)
{
	struct vbuf b = {static_msg, MSG_LEN, 0};
	vq_add(&txq, &b, 1);
}

/* Any later call reuses the stack the message was on. */
static __attribute__((noinline)) void scribble(void)
{
	volatile char junk[64];
	for (unsigned i = 0; i < sizeof(junk); i++)
		junk[i] = '#';
}

void guest_main(void)
{
	struct lg_dev console;
	guest_init();
	if (!dev_find_type(&console, VIRTIO_ID_CONSOLE))
		power_off("no console");
	dev_start(&console);
	vq_init(&txq, &console, 1);
	if (has_arg("fixed"))
		post_static_message();
	else
		post_message();
	scribble();
	vq_kick(&txq);
	power_off("done");
}
