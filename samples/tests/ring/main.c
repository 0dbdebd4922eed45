/*
 * The asynchronous hypercall ring (addendum §A2.3, §A1 step 1).
 *
 * Calls queued in lguest_data.hcalls are performed only when a synchronous
 * hypercall arrives, in ring order from the host's own cursor; each
 * performed entry's status becomes 0xFF; a NOTIFY in the ring stops the
 * walk, and the synchronous call then waits until the ring is drained.
 */
#include "../common.h"

TRAP_STUB(de_first, 100, 0);
TRAP_STUB(de_second, 101, 0);

static const char ring1[] = "ring 1\n";
static const char ring2[] = "ring 2\n";
static const char ring5[] = "ring 5\n";
static const char wrong[] = "entry behind the cursor was run\n";
static const char sync1[] = "sync 1\n";

/* A host-handled trap that is not a hypercall: `in` at CPL 1 (§A7). */
static void emulated_in(void)
{
	u32 eax = 0;
	asm volatile("inb $0x60, %%al" : "+a"(eax) : : "memory");
}

void guest_main(void)
{
	guest_init();

	/* §A2.3: entries 0-2; the NOTIFY at 1 stops the walk, so 2 runs at
	 * the next pass and the synchronous NOTIFY only after that (§A1). */
	queue_async(0, LHCALL_LOAD_IDT_ENTRY, 0, gate_lo(de_first), gate_hi(de_first, GATE_TRAP, 0));
	queue_async(1, LHCALL_NOTIFY, (u32)ring1, 0, 0);
	queue_async(2, LHCALL_NOTIFY, (u32)ring2, 0, 0);

	/* §A2.3: "processed only when a synchronous hypercall arrives". */
	emulated_in();
	check("ring untouched by a trap", lg_data.hcall_status[0] | lg_data.hcall_status[1], 0);

	early_puts(sync1);
	check("status 0 written back", lg_data.hcall_status[0], 0xff);
	check("status 1 written back", lg_data.hcall_status[1], 0xff);
	check("status 2 written back", lg_data.hcall_status[2], 0xff);
	check("status 3 untouched", lg_data.hcall_status[3], 0xff);

	/* The IDT entry loaded through the ring is live. */
	divide_by_zero();
	check("ring-loaded gate used", trap_rec.vector, 100);

	/* §A2.3 "performs the call exactly like a synchronous one", in
	 * order: the second LOAD_IDT_ENTRY for vector 0 wins. */
	queue_async(3, LHCALL_LOAD_IDT_ENTRY, 0, gate_lo(de_first), gate_hi(de_first, GATE_TRAP, 0));
	queue_async(4, LHCALL_LOAD_IDT_ENTRY, 0, gate_lo(de_second), gate_hi(de_second, GATE_TRAP, 0));
	hcall(LHCALL_FLUSH_ASYNC, 0, 0, 0, 0);
	divide_by_zero();
	check("ring performed in order", trap_rec.vector, 101);

	/* §A2.3 "walks from its own cursor": the cursor is now at 5, so an
	 * entry put back at 0 waits; the walk runs 5 and stops at 6 (0xFF). */
	queue_async(0, LHCALL_NOTIFY, (u32)wrong, 0, 0);
	queue_async(5, LHCALL_NOTIFY, (u32)ring5, 0, 0);
	hcall(LHCALL_FLUSH_ASYNC, 0, 0, 0, 0);
	check("entry behind the cursor waits", lg_data.hcall_status[0], 0);
	check("entry at the cursor ran", lg_data.hcall_status[5], 0xff);
	lg_data.hcall_status[0] = 0xff;

	finish();
}
