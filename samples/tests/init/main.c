/*
 * What LGUEST_INIT writes back, and what hypercalls leave alone.
 * The test script checks that time_sec/time_nsec are the same on two runs
 * (DESIGN §2.5: deterministic time) and not both zero.
 */
#include "../common.h"

/* NOTIFY(0) with recognisable values in every other register; returns how
 * many registers came back changed (addendum §A2.2: "No hypercall writes
 * any register"; "NOTIFY(0) does nothing"). */
static u32 registers_changed_by_hypercall(void)
{
	u32 eax = LHCALL_NOTIFY, ebx = 0, ecx = 0x11111111, edx = 0x22222222;
	u32 esi = 0x33333333, edi = 0x44444444;
	asm volatile("int $0x1f"
	             : "+a"(eax), "+b"(ebx), "+c"(ecx), "+d"(edx), "+S"(esi), "+D"(edi)
	             : : "memory");
	return (eax != LHCALL_NOTIFY) + (ebx != 0) + (ecx != 0x11111111) + (edx != 0x22222222) +
	       (esi != 0x33333333) + (edi != 0x44444444);
}

void guest_main(void)
{
	lguest_data_prepare(&lg_data);
	lg_data.noirq_start = 0x1234;
	lg_data.noirq_end = 0x5678;
	lg_data.kernel_address = 0xc0000000;
	hcall(LHCALL_LGUEST_INIT, (u32)&lg_data, 0, 0, 0);

	/* §A2.1 step 2 and DESIGN §2.5: tsc_khz = 1000000 (1 insn = 1 ns). */
	check("tsc_khz", lg_data.tsc_khz, 1000000);
	/* §A2.1 step 6, §A4.6: reserve_mem = 2^32 - 0xFFFE1000. */
	check("reserve_mem", lg_data.reserve_mem, 0x1f000);
	/* §A2.1: INIT reads these and does not write them. */
	check("noirq_start kept", lg_data.noirq_start, 0x1234);
	check("noirq_end kept", lg_data.noirq_end, 0x5678);
	check("kernel_address kept", lg_data.kernel_address, 0xc0000000);
	check("irq_enabled untouched", lg_data.irq_enabled, 0);
	/* §A9: the time is a wall clock; nanoseconds stay below 1e9. */
	check("time_nsec below 1e9", lg_data.time_nsec < 1000000000, 1);
	u32 sec = lg_data.time_sec, nsec = lg_data.time_nsec;

	check("registers kept across a hypercall", registers_changed_by_hypercall(), 0);
	for (int i = 0; i < 10; i++)
		hcall(LHCALL_FLUSH_ASYNC, 0, 0, 0, 0);
	/* §A9: time is written only at INIT and at interrupt delivery. */
	check("time still between interrupts", lg_data.time_sec == sec && lg_data.time_nsec == nsec, 1);
	say_hex("time_sec", sec);
	say_hex("time_nsec", nsec);
	finish();
}
