/*
 * Hypercalls that look wrong but are accepted: the guest must survive all
 * of them and power off normally.
 */
#include "../common.h"

void guest_main(void)
{
	guest_init();
	/* §A2.2 LOAD_IDT_ENTRY: vectors 2, 8, 15 and 31 are ignored, and
	 * that is checked first, so even a bad type is not looked at. */
	hcall(LHCALL_LOAD_IDT_ENTRY, 2, 0x00600000, 0x8c00, 0);
	hcall(LHCALL_LOAD_IDT_ENTRY, 8, 0x00600000, 0x8c00, 0);
	hcall(LHCALL_LOAD_IDT_ENTRY, 15, 0x00600000, 0x8c00, 0);
	hcall(LHCALL_LOAD_IDT_ENTRY, 31, 0x00600000, 0x8c00, 0);
	say("ok ignored idt vectors 2 8 15 31");
	/* §A2.2: a non-present entry is zeroed before the type check. */
	hcall(LHCALL_LOAD_IDT_ENTRY, 0x30, 0x00600000, 0x0c00, 0);
	say("ok non-present gate of any type");
	/* §A2.2 SET_PGD: 1024 itself is not rejected. */
	hcall(LHCALL_SET_PGD, 0x200000, 1024, 0, 0);
	say("ok set_pgd 1024");
	/* §A2.2: NOTIFY(0) does nothing (no output, no kill). */
	hcall(LHCALL_NOTIFY, 0, 0, 0, 0);
	say("ok notify 0");
	/* §A2.2: TS only records the flag. */
	hcall(LHCALL_TS, 1, 0, 0, 0);
	hcall(LHCALL_TS, 0, 0, 0, 0);
	say("ok ts");
	/* §A2.2 LOAD_GDT_ENTRY: 31 is the last entry. */
	hcall(LHCALL_LOAD_GDT_ENTRY, 31, 0, 0, 0);
	say("ok gdt entry 31");
	/* §A2.3: a FLUSH_ASYNC with an empty ring. */
	hcall(LHCALL_FLUSH_ASYNC, 0, 0, 0, 0);
	say("ok flush_async");
	finish();
}
