/*
 * boot-sanity: the first steps of a port (docs/checkers/boot-sanity.md).
 *
 *  - the entry point lies outside the loaded image;
 *  - the first hypercall is not LGUEST_INIT;
 *  - at INIT, lguest_data lies outside guest memory, or its hcall_status
 *    bytes are not all 0xFF and the host then runs leftover entries as
 *    async calls at the next hypercall.  Entries that are all zero run as
 *    FLUSH_ASYNC, which does nothing, and a guest that sets the statuses
 *    right after INIT (Plan 9) is never looked at: neither is reported;
 *  - a SHUTDOWN message that runs outside guest memory.
 *
 * Most of these also kill the guest; the finding then follows the death
 * reason as a hint that says where and why.
 */
#include <stdio.h>

#include "debug/checks.h"
#include "host/host.h"

#define SHUTDOWN_MSG_LEN 128

static bool seen_hypercall;
static bool after_init;        /* the next hypercall is the first after INIT */
static unsigned init_not_ff;   /* hcall_status entries that were not 0xFF at INIT */
static uint32_t init_eip;

static void boot_start(struct lguest *lg)
{
	char where[200];
	seen_hypercall = false;
	after_init = false;
	if (lg->image.entry < lg->image.image_low || lg->image.entry >= lg->image.image_high)
		check_report(lg, &check_boot_sanity, lg->image.entry,
		             "entry point %s lies outside the loaded image 0x%x-0x%x: the guest starts in memory "
		             "the ELF file never filled",
		             check_where(lg, lg->image.entry, where, sizeof(where)), lg->image.image_low,
		             lg->image.image_high);
}

/* The name of a hypercall for messages, or its number. */
static const char *call_name(uint32_t nr, char *buf, size_t len)
{
	const char *name = hypercall_name(nr);
	if (name)
		snprintf(buf, len, "%s (%u)", name, nr);
	else
		snprintf(buf, len, "number %u", nr);
	return buf;
}

/* INIT: is lguest_data in guest memory, and is its async ring empty? */
static void check_init(struct lguest *lg, const struct event *e)
{
	char where[200];
	uint32_t addr = e->arg[1], size = lg->abi->lguest_data_size;
	if (!guest_range_ok(&lg->mem, addr, size)) {
		check_report(lg, &check_boot_sanity, addr,
		             "LGUEST_INIT at %s: lguest_data 0x%x-0x%x lies outside guest memory (0x0-0x%x); "
		             "INIT takes the guest-physical address of lguest_data",
		             check_where(lg, e->eip, where, sizeof(where)), addr, addr + size, lg->mem.limit_bytes);
		return;
	}
	const uint8_t *status = guest_ptr(&lg->mem, addr + LD_HCALL_STATUS);
	init_not_ff = 0;
	for (unsigned i = 0; i < LHCALL_RING_SIZE; i++)
		init_not_ff += status[i] != 0xff;
	init_eip = e->eip;
	after_init = init_not_ff != 0;
}

/*
 * The async entries the host runs at the first call after an INIT whose
 * ring was not empty: one that is not all zero is leftover memory run as
 * a hypercall, because the guest never set hcall_status to 0xFF.
 */
static void check_first_after_init(struct lguest *lg, const struct event *e)
{
	char where[200], at[200], name[48];
	if (e->sub != EVH_ASYNC) {
		after_init = false;
		return;
	}
	if (!(e->arg[0] | e->arg[1] | e->arg[2] | e->arg[3] | e->arg[4]))
		return;
	after_init = false;
	check_report(lg, &check_boot_sanity, init_not_ff,
	             "hcall_status was not set to 0xFF at LGUEST_INIT (%s): %u of %u entries were not 0xFF, and at "
	             "the next call (%s) the host ran them as asynchronous hypercalls, among them %s(0x%x, 0x%x, "
	             "0x%x, 0x%x); set every entry to 0xFF before INIT, as Linux does",
	             check_where(lg, init_eip, at, sizeof(at)), init_not_ff, LHCALL_RING_SIZE,
	             check_where(lg, e->eip, where, sizeof(where)), call_name(e->arg[0], name, sizeof(name)),
	             e->arg[1], e->arg[2], e->arg[3], e->arg[4]);
}

static void boot_event(struct lguest *lg, const struct event *e)
{
	char where[200], name[48];
	if (e->kind != EV_HYPERCALL)
		return;
	if (!seen_hypercall) {
		seen_hypercall = true;
		if (e->arg[0] == LHCALL_LGUEST_INIT)
			check_init(lg, e);
		else
			check_report(lg, &check_boot_sanity, e->arg[0],
			             "the first hypercall, at %s, is %s, not LGUEST_INIT: lguest refuses every call "
			             "until INIT has told it where lguest_data is",
			             check_where(lg, e->eip, where, sizeof(where)), call_name(e->arg[0], name, sizeof(name)));
		return;
	}
	if (after_init)
		check_first_after_init(lg, e);
	if (e->arg[0] == LHCALL_SHUTDOWN && !guest_range_ok(&lg->mem, e->arg[1], SHUTDOWN_MSG_LEN))
		check_report(lg, &check_boot_sanity, e->arg[1],
		             "SHUTDOWN at %s: the message at 0x%x runs outside guest memory (0x0-0x%x); lguest "
		             "always reads %u bytes, whatever the string's length",
		             check_where(lg, e->eip, where, sizeof(where)), e->arg[1], lg->mem.limit_bytes,
		             SHUTDOWN_MSG_LEN);
}

const struct checker check_boot_sanity = {
	.name = "boot-sanity",
	.start = boot_start,
	.event = boot_event,
};
