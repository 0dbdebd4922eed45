/*
 * The decoded-instruction cache (launcher/cpu/dcache.c): every way code
 * can change under a decoded entry must be seen by the next execution.
 * Code patched by a guest store, by the host (cpu_code_modified), shared
 * between two virtual mappings of one physical page, overwritten by rep
 * stosb from the page that is executing, and an instruction straddling
 * two pages whose second page changes.  Each test first runs the code so
 * that it is decoded, then changes it, then runs it again: a stale entry
 * would replay the old instruction.  (The first instruction of each
 * cpu_run() is decoded the ordinary way, as it opens the fetch window, so
 * the code under test starts with a nop.)
 */
#include "cpu_testhost.h"
#include "cpu/core.h"

#define CODE 0x1000u
#define ALIAS 0x400000u /* a second virtual address of the CODE page */

/* The test host's identity map, plus ALIAS mapped onto the physical page CODE. */
static enum cpu_xlate_result alias_translate(void *opaque, struct cpu *cpu, uint32_t va,
                                             enum cpu_access access, struct cpu_translation *t,
                                             uint32_t *pf_error)
{
	if ((va & ~0xfffu) == ALIAS)
		va = CODE + (va & 0xfffu);
	return th_translate(opaque, cpu, va, access, t, pf_error);
}

/* Run from `eip` for at most `budget` instructions. */
static enum cpu_stop_kind run_at(struct testhost *th, uint32_t eip, uint64_t budget,
                                 struct cpu_stop *st)
{
	th->cpu.eip = eip;
	return cpu_run(&th->cpu, budget, st);
}

/* A guest store into the page being executed changes an instruction already decoded. */
static void test_guest_store(void)
{
	struct testhost *th = th_create();
	struct cpu_stop st;
	static const uint8_t code[] = {
		0x90,                               /* 1000: nop */
		0xb8, 0x01, 0x00, 0x00, 0x00,       /* 1001: mov $1,%eax */
		0x83, 0xf8, 0x02,                   /* 1006: cmp $2,%eax */
		0x74, 0x08,                         /* 1009: je 1013 */
		0x89, 0x1d, 0x02, 0x10, 0x00, 0x00, /* 100b: mov %ebx,0x1002 */
		0xeb, 0xee,                         /* 1011: jmp 1001 */
		0xcc,                               /* 1013: int3 */
	};
	th_put(th, CODE, code, sizeof(code));
	th->cpu.regs[CPU_EBX] = 2;
	enum cpu_stop_kind k = run_at(th, CODE, 100, &st);
	th_check("code patched by a guest store is seen",
	         k == CPU_STOP_EXCEPTION && st.vector == CPU_BP && th->cpu.regs[CPU_EAX] == 2 &&
	         th->cpu.icount == 9,
	         "kind %s eax %u icount %llu", cpu_stop_kind_name(k), th->cpu.regs[CPU_EAX],
	         (unsigned long long)th->cpu.icount);
	th_destroy(th);
}

/* The host rewrites an instruction and says so with cpu_code_modified(). */
static void test_host_write(void)
{
	struct testhost *th = th_create();
	struct cpu_stop st;
	static const uint8_t code[] = { 0x90, 0xb8, 0x01, 0x00, 0x00, 0x00, /* mov $1,%eax */ 0xcc };
	th_put(th, CODE, code, sizeof(code));
	run_at(th, CODE, 10, &st);
	bool first = th->cpu.regs[CPU_EAX] == 1;
	th->ram[CODE + 2] = 7;
	cpu_code_modified(&th->cpu, CODE + 2, 1);
	enum cpu_stop_kind k = run_at(th, CODE, 10, &st);
	th_check("code patched by the host is seen",
	         first && k == CPU_STOP_EXCEPTION && th->cpu.regs[CPU_EAX] == 7,
	         "first run %s, eax %u", first ? "ok" : "wrong", th->cpu.regs[CPU_EAX]);
	th_destroy(th);
}

/*
 * One physical page at two virtual addresses: both run the same decoded
 * entries (a TLB flush, as on a new page table, keeps them), and a store
 * through one mapping is seen when running through the other.
 */
static void test_two_mappings(void)
{
	struct testhost *th = th_create();
	struct cpu_stop st;
	th->ops.translate = alias_translate;
	static const uint8_t code[] = { 0x90, 0xb8, 0x05, 0x00, 0x00, 0x00, /* mov $5,%eax */ 0xcc };
	th_put(th, CODE, code, sizeof(code));
	run_at(th, CODE, 10, &st);
	const struct cpu_private *p = th->cpu.priv;
	const struct dc_entry *e = &p->dcache[(CODE + 1) & (DC_ENTRIES - 1)];
	uint32_t gen = p->page_gen[CODE >> 12];
	cpu_tlb_flush(&th->cpu);
	th->cpu.regs[CPU_EAX] = 0;
	enum cpu_stop_kind k = run_at(th, ALIAS, 10, &st);
	th_check("the same physical code through a second mapping shares its entries",
	         k == CPU_STOP_EXCEPTION && th->cpu.regs[CPU_EAX] == 5 && (gen & 1) &&
	         p->page_gen[CODE >> 12] == gen && e->phys == CODE + 1 && e->gen == gen &&
	         e->kind == DC_MOV_RI,
	         "eax %u gen %u -> %u entry phys %#x kind %u", th->cpu.regs[CPU_EAX], gen,
	         p->page_gen[CODE >> 12], e->phys, e->kind);

	/* mov %ebx,ALIAS+2 patches the immediate through the alias; then run at CODE. */
	static const uint8_t store[] = { 0x89, 0x1d, 0x02, 0x00, 0x40, 0x00, 0xcc };
	th_put(th, 0x3000, store, sizeof(store));
	th->cpu.regs[CPU_EBX] = 9;
	run_at(th, 0x3000, 1, &st);
	k = run_at(th, CODE, 10, &st);
	th_check("a store through one mapping is seen through the other",
	         k == CPU_STOP_EXCEPTION && th->cpu.regs[CPU_EAX] == 9, "eax %u",
	         th->cpu.regs[CPU_EAX]);
	th_destroy(th);
}

/* rep stosb overwrites, from the page that is executing, an instruction decoded earlier. */
static void test_rep_stos_own_page(void)
{
	struct testhost *th = th_create();
	struct cpu_stop st;
	static const uint8_t code[] = {
		0xbf, 0x10, 0x10, 0x00, 0x00, /* 1000: mov $0x1010,%edi */
		0xb9, 0x05, 0x00, 0x00, 0x00, /* 1005: mov $5,%ecx */
		0xb0, 0x90,                   /* 100a: mov $0x90,%al */
		0xf3, 0xaa,                   /* 100c: rep stosb */
		0x90, 0x90,                   /* 100e: nop; nop */
		0xb8, 0x01, 0x00, 0x00, 0x00, /* 1010: mov $1,%eax: becomes five nops */
		0xcc,                         /* 1015: int3 */
	};
	th_put(th, CODE, code, sizeof(code));
	run_at(th, 0x100e, 3, &st);
	bool decoded = th->cpu.regs[CPU_EAX] == 1;
	th->cpu.regs[CPU_EAX] = 0;
	enum cpu_stop_kind k = run_at(th, CODE, 100, &st);
	th_check("rep stosb into the executing page is seen",
	         decoded && k == CPU_STOP_EXCEPTION && st.vector == CPU_BP && st.eip == 0x1015 &&
	         th->cpu.regs[CPU_EAX] == 0x90 && th->cpu.icount == 3 + 3 + 5 + 2 + 5,
	         "kind %s eip %#x eax %#x icount %llu", cpu_stop_kind_name(k), st.eip,
	         th->cpu.regs[CPU_EAX], (unsigned long long)th->cpu.icount);
	th_destroy(th);
}

/* mov $imm32,%eax across 0x1fff/0x2000: the second page changes, by the guest and by the host. */
static void test_straddle(void)
{
	struct testhost *th = th_create();
	struct cpu_stop st;
	static const uint8_t straddle[] = { 0x90, 0xb8, 0x01, 0x02, 0x03, 0x04, /* mov $0x04030201,%eax */ 0xcc };
	th_put(th, 0x1ffc, straddle, sizeof(straddle));
	run_at(th, 0x1ffc, 10, &st);
	bool first = th->cpu.regs[CPU_EAX] == 0x04030201;

	static const uint8_t store[] = { 0x88, 0x1d, 0x00, 0x20, 0x00, 0x00 }; /* mov %bl,0x2000 */
	th_put(th, 0x3000, store, sizeof(store));
	th->cpu.regs[CPU_EBX] = 0xaa;
	run_at(th, 0x3000, 1, &st);
	enum cpu_stop_kind k = run_at(th, 0x1ffc, 10, &st);
	th_check("straddling instruction sees a guest store to its second page",
	         first && k == CPU_STOP_EXCEPTION && th->cpu.regs[CPU_EAX] == 0x04aa0201,
	         "eax %#x", th->cpu.regs[CPU_EAX]);

	th->ram[0x2001] = 0xbb;
	cpu_code_modified(&th->cpu, 0x2001, 1);
	k = run_at(th, 0x1ffc, 10, &st);
	th_check("straddling instruction sees a host write to its second page",
	         k == CPU_STOP_EXCEPTION && th->cpu.regs[CPU_EAX] == 0xbbaa0201, "eax %#x",
	         th->cpu.regs[CPU_EAX]);
	th_destroy(th);
}

/*
 * Cached code keeps the budget, single-step and precise faults: a loop
 * of decoded forms stops after exactly the budget, a #PF in a decoded
 * load leaves eip and registers at the load, and TF traps after each.
 */
static void test_exactness(void)
{
	struct testhost *th = th_create();
	struct cpu_stop st;
	static const uint8_t loop[] = {
		0x01, 0xd8,       /* 1000: add %ebx,%eax */
		0x41,             /* 1002: inc %ecx */
		0x8b, 0x16,       /* 1003: mov (%esi),%edx */
		0xeb, 0xf9,       /* 1005: jmp 1000 */
	};
	th_put(th, CODE, loop, sizeof(loop));
	th->cpu.regs[CPU_EBX] = 1;
	th->cpu.regs[CPU_ESI] = 0x100000;
	enum cpu_stop_kind k = run_at(th, CODE, 1001, &st);
	th_check("decoded loop stops after exactly the budget",
	         k == CPU_STOP_BUDGET && th->cpu.icount == 1001 && th->cpu.regs[CPU_EAX] == 251 &&
	         th->cpu.regs[CPU_ECX] == 250 && th->cpu.eip == 0x1002,
	         "icount %llu eax %u ecx %u eip %#x", (unsigned long long)th->cpu.icount,
	         th->cpu.regs[CPU_EAX], th->cpu.regs[CPU_ECX], th->cpu.eip);

	th_set_perm(th, 0x100000, 0);
	k = cpu_run(&th->cpu, 100, &st);
	th_check("#PF in a decoded load is precise",
	         k == CPU_STOP_EXCEPTION && st.vector == CPU_PF && st.eip == 0x1003 &&
	         th->cpu.regs[CPU_ECX] == 251 && th->cpu.regs[CPU_EAX] == 251,
	         "kind %s vector %u eip %#x", cpu_stop_kind_name(k), st.vector, st.eip);

	th_set_perm(th, 0x100000, TH_P | TH_W | TH_U);
	cpu_set_eflags(&th->cpu, cpu_get_eflags(&th->cpu) | EFLAGS_TF);
	k = run_at(th, CODE, 100, &st);
	th_check("TF traps after one decoded instruction",
	         k == CPU_STOP_EXCEPTION && st.vector == CPU_DB && st.next_eip == 0x1002 &&
	         th->cpu.eip == 0x1002,
	         "kind %s vector %u eip %#x", cpu_stop_kind_name(k), st.vector, th->cpu.eip);
	th_destroy(th);
}

int main(void)
{
	test_guest_store();
	test_host_write();
	test_two_mappings();
	test_rep_stos_own_page();
	test_straddle();
	test_exactness();
	return th_finish();
}
