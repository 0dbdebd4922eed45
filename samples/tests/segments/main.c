/*
 * Segments (addendum §A8): the host-held GDT, the DPL and accessed-bit
 * fixups of LOAD_GDT_ENTRY and LOAD_TLS, empty entries and no LDT.
 */
#include "../common.h"

TRAP_STUB(gp_stub, 13, 1);

static u32 fs_target = 0xf5f5f5f5;
static u32 tls_a[4] = {0xaaaa0001, 0xaaaa0002, 0, 0};
static u32 tls_b[4] = {0xbbbb0001, 0xbbbb0002, 0, 0};
static u32 tls_desc[6];

/* A byte-granular data segment descriptor: base, limit 0xfff, DPL. */
static void data_desc(u32 *d, u32 base, u32 dpl)
{
	d[0] = (base << 16) | 0x0fff;
	d[1] = (base & 0xff000000u) | ((base >> 16) & 0xff) | 0x00409200u | (dpl << 13);
}

/* Access rights of a selector as `lar` reports them (masked as the SDM
 * defines for 32-bit operands), or 0xffffffff if lar refuses it. */
static u32 access_rights(u32 selector)
{
	u32 rights = 0xffffffff;
	u8 valid;
	asm volatile("larl %2, %0\n\tsetz %1" : "+r"(rights), "=q"(valid) : "r"(selector));
	return valid ? rights & 0x00f0ff00u : 0xffffffff;
}

/* Load %fs; returns 1 if that raised a #GP. */
static u32 load_fs_faults(u32 selector)
{
	u32 before = trap_rec.count;
	RUN_FAULTING("movw %w0, %%fs", : : "r"(selector) : "memory");
	return trap_rec.count - before;
}

void guest_main(void)
{
	guest_init();
	set_gate(13, gp_stub, GATE_INTERRUPT, 0);

	/* §A8: a DPL-0 data segment gets DPL 1, so CPL 1 can load it. */
	hcall(LHCALL_LOAD_GDT_ENTRY, 20, seg_lo_flat(), seg_hi_flat(0x2, 0), 0);
	check("DPL-0 entry loads into %fs at CPL 1", load_fs_faults(20 * 8 + 1), 0);
	u32 v;
	asm volatile("movl %%fs:(%1), %0" : "=r"(v) : "r"(&fs_target) : "memory");
	check("read through %fs", v, 0xf5f5f5f5);

	/* §A8: entries never loaded are empty: #GP(selector). */
	check("never-loaded entry 21 faults", load_fs_faults(21 * 8 + 1), 1);
	check("never-loaded entry #GP error code", trap_rec.err, 21 * 8);
	/* §A8: no LDT, a TI=1 selector faults. */
	check("LDT selector faults", load_fs_faults(0x4 | 1), 1);
	check("LDT selector #GP error code", trap_rec.err, 0x4);

	/* §A2.2 LOAD_TLS + §A8: entries 6-8 from 24 bytes, with fixups. */
	data_desc(&tls_desc[0], (u32)tls_a, 3);
	data_desc(&tls_desc[2], (u32)tls_b, 0);
	hcall(LHCALL_LOAD_TLS, (u32)tls_desc, 0, 0, 0);
	asm volatile("movw %w1, %%gs\n\tmovl %%gs:4, %0" : "=r"(v) : "r"(6 * 8 + 3) : "memory");
	check("TLS entry 6 via %gs", v, 0xaaaa0002);
	asm volatile("movw %w1, %%gs\n\tmovl %%gs:0, %0" : "=r"(v) : "r"(7 * 8 + 1) : "memory");
	check("TLS entry 7 (DPL 0 raised) via %gs", v, 0xbbbb0001);
	asm volatile("movw %w0, %%gs" : : "r"(0));

	/* §A8 fixups as lar sees them: DPL raised to 1 and the accessed bit
	 * set.  Entry 22 is loaded but never used in a segment register, so
	 * the processor cannot have set the accessed bit itself. */
	hcall(LHCALL_LOAD_GDT_ENTRY, 22, seg_lo_flat(), seg_hi_flat(0x2, 0), 0);
	check("lar entry 22: DPL 1, accessed", access_rights(22 * 8 + 1), 0x00c0b300);
	check("lar entry 12 (boot code segment)", access_rights(0x61), 0x00c0bb00);
	finish();
}
