/*
 * Instruction snippets on the flat test host, for what the native
 * differential test (CPL 3, flat segments) cannot reach: segment
 * prefixes with non-zero bases, 16-bit addressing into memory, far
 * pointer loads, bit offsets outside the operand, pop with an
 * ESP-relative destination, instruction fetch across pages and the
 * 15-byte limit, and the coverage table.  Expected values follow the
 * Intel SDM Vol. 2 instruction pages.
 */
#include "cpu_testhost.h"

#define CODE 0x1000u
#define DATA 0x100000u

#define RUN(th, budget, stop, ...)                                                             \
	({                                                                                         \
		static const uint8_t code_[] = { __VA_ARGS__ };                                        \
		th_run_code((th), CODE, code_, sizeof(code_), (budget), (stop));                       \
	})

/* A host whose FS has base 0x123000 (GDT entry 7, ring 1). */
static struct testhost *host(void)
{
	struct testhost *th = th_create();
	th->gdt[7] = th_descriptor(0x123000, 0xfffff, 0x3, 1, true, true, true);
	cpu_load_segment_raw(&th->cpu, CPU_FS, 0x39);
	return th;
}

static void test_addressing(void)
{
	struct testhost *th = host();
	struct cpu_stop st;
	th_put32(th, 0x3004, 0x11223344);
	th->cpu.regs[CPU_EBX] = 0xffff1000; /* only bx counts in 16-bit addressing */
	th->cpu.regs[CPU_ESI] = 0x00002000;
	enum cpu_stop_kind k = RUN(th, 1, &st, 0x67, 0x8b, 0x40, 0x04 /* mov 4(%bx,%si),%eax */);
	th_check("16-bit addressing [bx+si+disp8]",
	         k == CPU_STOP_BUDGET && th->cpu.regs[CPU_EAX] == 0x11223344 && th->cpu.eip == CODE + 4,
	         "kind %s eax %#x", cpu_stop_kind_name(k), th->cpu.regs[CPU_EAX]);

	th->cpu.regs[CPU_EBX] = 0x10;
	th_put32(th, 0x123010, 0xa5a5b6b6);
	k = RUN(th, 1, &st, 0x64, 0x0f, 0xb7, 0x43, 0x02 /* movzwl %fs:2(%ebx),%eax */);
	th_check("fs override with a base", k == CPU_STOP_BUDGET && th->cpu.regs[CPU_EAX] == 0xa5a5,
	         "eax %#x", th->cpu.regs[CPU_EAX]);

	th->cpu.regs[CPU_EAX] = 0xffffffff;
	th->cpu.regs[CPU_EDI] = DATA;
	k = RUN(th, 1, &st, 0x66, 0x89, 0x07 /* mov %ax,(%edi) */);
	th_check("0x66 store writes two bytes", k == CPU_STOP_BUDGET && th_get32(th, DATA) == 0xffff,
	         "mem %#x", th_get32(th, DATA));

	th->cpu.regs[CPU_ESI] = 0x10;
	th->cpu.regs[CPU_EDI] = DATA + 0x40;
	th->cpu.regs[CPU_ECX] = 0;
	k = RUN(th, 1, &st, 0x64, 0xa5 /* movsl %fs:(%esi),%es:(%edi) */);
	th_check("movs source honours the fs override",
	         k == CPU_STOP_BUDGET && th_get32(th, DATA + 0x40) == 0xa5a5b6b6 &&
	         th->cpu.regs[CPU_ESI] == 0x14 && th->cpu.regs[CPU_EDI] == DATA + 0x44,
	         "mem %#x esi %#x", th_get32(th, DATA + 0x40), th->cpu.regs[CPU_ESI]);

	th->cpu.regs[CPU_EBX] = 0x20;
	th->cpu.regs[CPU_EAX] = 0x05;
	th->ram[0x123025] = 0x99;
	k = RUN(th, 1, &st, 0x64, 0xd7 /* xlat %fs:(%ebx) */);
	th_check("xlat with an override", k == CPU_STOP_BUDGET && th->cpu.regs[CPU_EAX] == 0x99,
	         "eax %#x", th->cpu.regs[CPU_EAX]);
	th_destroy(th);
}

static void test_stack_forms(void)
{
	struct testhost *th = host();
	struct cpu_stop st;
	th->cpu.regs[CPU_ESP] = 0x800000;
	th_put32(th, 0x800000, 0xabcdef01);
	enum cpu_stop_kind k = RUN(th, 1, &st, 0x8f, 0x44, 0x24, 0x04 /* pop 4(%esp) */);
	/* The address uses esp after the pop: 0x800004 + 4. */
	th_check("pop with an esp-based destination uses the incremented esp",
	         k == CPU_STOP_BUDGET && th_get32(th, 0x800008) == 0xabcdef01 &&
	         th->cpu.regs[CPU_ESP] == 0x800004,
	         "mem %#x esp %#x", th_get32(th, 0x800008), th->cpu.regs[CPU_ESP]);

	th->cpu.regs[CPU_ESP] = 0x800000;
	th_put32(th, 0x7ffffc, 0xffffffff);
	k = RUN(th, 2, &st, 0x0f, 0xa0, /* push %fs */ 0x0f, 0xa9 /* pop %gs */);
	th_check("push fs writes the selector word, pop gs loads it",
	         k == CPU_STOP_BUDGET && th_get32(th, 0x7ffffc) == 0xffff0039 &&
	         th->cpu.seg[CPU_GS].selector == 0x39 && th->cpu.seg[CPU_GS].base == 0x123000 &&
	         th->cpu.regs[CPU_ESP] == 0x800000,
	         "mem %#x gs %#x", th_get32(th, 0x7ffffc), th->cpu.seg[CPU_GS].selector);

	th->cpu.regs[CPU_ESP] = 0x800000;
	th->cpu.regs[CPU_EBP] = 0x800100;
	th_put32(th, 0x8000fc, 0x5555);
	k = RUN(th, 1, &st, 0xc8, 0x04, 0x00, 0x02 /* enter $4,$2 */);
	/* push ebp; push [ebp-4]; push frame; ebp = frame; esp -= 4 */
	th_check("enter with nesting level 2",
	         k == CPU_STOP_BUDGET && th->cpu.regs[CPU_EBP] == 0x7ffffc &&
	         th->cpu.regs[CPU_ESP] == 0x800000 - 12 - 4 && th_get32(th, 0x7ffffc) == 0x800100 &&
	         th_get32(th, 0x7ffff8) == 0x5555 && th_get32(th, 0x7ffff4) == 0x7ffffc,
	         "ebp %#x esp %#x", th->cpu.regs[CPU_EBP], th->cpu.regs[CPU_ESP]);
	k = RUN(th, 1, &st, 0xc9 /* leave */);
	th_check("leave undoes enter", th->cpu.regs[CPU_EBP] == 0x800100 &&
	         th->cpu.regs[CPU_ESP] == 0x800000, "ebp %#x esp %#x", th->cpu.regs[CPU_EBP],
	         th->cpu.regs[CPU_ESP]);

	th->cpu.regs[CPU_EBX] = DATA;
	th_put32(th, DATA, 0x12345678);
	th_put32(th, DATA + 4, 0x21);
	k = RUN(th, 1, &st, 0x0f, 0xb4, 0x0b /* lfs (%ebx),%ecx */);
	th_check("lfs loads the offset and the selector",
	         k == CPU_STOP_BUDGET && th->cpu.regs[CPU_ECX] == 0x12345678 &&
	         th->cpu.seg[CPU_FS].selector == 0x21 && th->cpu.seg[CPU_FS].base == 0,
	         "ecx %#x fs %#x", th->cpu.regs[CPU_ECX], th->cpu.seg[CPU_FS].selector);
	th_destroy(th);
}

static void test_bits_and_misc(void)
{
	struct testhost *th = host();
	struct cpu_stop st;
	th->cpu.regs[CPU_EBX] = DATA + 8;
	th->cpu.regs[CPU_EAX] = (uint32_t)-33; /* bit -33: dword at -8, bit 31 */
	th_put32(th, DATA, 0x80000000u);
	enum cpu_stop_kind k = RUN(th, 2, &st, 0x0f, 0xa3, 0x03, /* bt %eax,(%ebx) */ 0x0f, 0xab, 0x03);
	th_check("bt with a negative register offset reaches below the operand",
	         k == CPU_STOP_BUDGET && (cpu_get_eflags(&th->cpu) & EFLAGS_CF) &&
	         th_get32(th, DATA) == 0x80000000u,
	         "CF %u mem %#x", cpu_get_eflags(&th->cpu) & EFLAGS_CF, th_get32(th, DATA));
	th->cpu.regs[CPU_EAX] = 64 + 3;
	k = RUN(th, 1, &st, 0x0f, 0xab, 0x03 /* bts %eax,(%ebx) */);
	th_check("bts with a large register offset sets a bit beyond the operand",
	         k == CPU_STOP_BUDGET && th_get32(th, DATA + 16) == 8, "mem %#x", th_get32(th, DATA + 16));
	k = RUN(th, 1, &st, 0x0f, 0xba, 0x33, 0x23 /* btrl $35,(%ebx) */);
	th_check("bt imm offsets wrap within the operand",
	         k == CPU_STOP_BUDGET && th_get32(th, DATA + 8) == 0, "mem %#x", th_get32(th, DATA + 8));

	th_put32(th, DATA + 8, 10);
	th_put32(th, DATA + 12, 20);
	th->cpu.regs[CPU_EAX] = 21;
	k = RUN(th, 1, &st, 0x62, 0x03 /* bound %eax,(%ebx) */);
	th_check("bound out of range is #BR", k == CPU_STOP_EXCEPTION && st.vector == CPU_BR,
	         "kind %s vector %u", cpu_stop_kind_name(k), st.vector);
	th->cpu.regs[CPU_EAX] = 20;
	k = RUN(th, 1, &st, 0x62, 0x03);
	th_check("bound in range passes", k == CPU_STOP_BUDGET, "kind %s", cpu_stop_kind_name(k));

	th->cpu.regs[CPU_EAX] = 0x21;
	k = RUN(th, 2, &st, 0x0f, 0x03, 0xc8, /* lsl %eax,%ecx */ 0x0f, 0x00, 0xe0 /* verr %ax */);
	th_check("lsl of a flat ring-1 data segment", k == CPU_STOP_BUDGET &&
	         th->cpu.regs[CPU_ECX] == 0xffffffffu && (cpu_get_eflags(&th->cpu) & EFLAGS_ZF),
	         "ecx %#x", th->cpu.regs[CPU_ECX]);
	th->cpu.regs[CPU_EAX] = 0x10;
	k = RUN(th, 1, &st, 0x0f, 0x02, 0xc8 /* lar %eax,%ecx */);
	th_check("lar of a ring-0 segment at cpl1 clears ZF",
	         k == CPU_STOP_BUDGET && !(cpu_get_eflags(&th->cpu) & EFLAGS_ZF), "eflags %#x",
	         cpu_get_eflags(&th->cpu));

	th->cpu.regs[CPU_EAX] = 0x3;
	th->cpu.regs[CPU_EBX] = 0x20;
	k = RUN(th, 1, &st, 0x63, 0xc3 /* arpl %ax,%bx */);
	th_check("arpl raises the rpl", k == CPU_STOP_BUDGET && th->cpu.regs[CPU_EBX] == 0x23 &&
	         (cpu_get_eflags(&th->cpu) & EFLAGS_ZF), "ebx %#x", th->cpu.regs[CPU_EBX]);
	th_destroy(th);
}

static void test_fetch(void)
{
	struct testhost *th = host();
	struct cpu_stop st;
	/* mov $imm32,%eax straddling 0x1fff/0x2000 with 0x2000 not present. */
	static const uint8_t straddle[] = { 0xb8, 0x01, 0x02, 0x03, 0x04 };
	th_put(th, 0x1ffe, straddle, sizeof(straddle));
	th_set_perm(th, 0x2000, 0);
	th->cpu.eip = 0x1ffe;
	enum cpu_stop_kind k = cpu_run(&th->cpu, 1, &st);
	th_check("fetch across into a missing page is #PF at the page",
	         k == CPU_STOP_EXCEPTION && st.vector == CPU_PF && st.error == 0 &&
	         th->cpu.cr2 == 0x2000 && st.eip == 0x1ffe && th->last_access == CPU_ACCESS_FETCH,
	         "kind %s vector %u cr2 %#x", cpu_stop_kind_name(k), st.vector, th->cpu.cr2);
	th_set_perm(th, 0x2000, TH_P | TH_W | TH_U);
	th->cpu.eip = 0x1ffe;
	k = cpu_run(&th->cpu, 1, &st);
	th_check("fetch across pages", k == CPU_STOP_BUDGET && th->cpu.regs[CPU_EAX] == 0x04030201,
	         "eax %#x", th->cpu.regs[CPU_EAX]);

	static const uint8_t too_long[16] = { 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
	                                      0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x90, 0x90 };
	k = th_run_code(th, CODE, too_long, 15, 1, &st);
	th_check("15-byte instruction runs", k == CPU_STOP_BUDGET && th->cpu.eip == CODE + 15,
	         "kind %s eip %#x", cpu_stop_kind_name(k), th->cpu.eip);
	static const uint8_t longer[17] = { 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
	                                    0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x90, 0x90 };
	k = th_run_code(th, CODE, longer, sizeof(longer), 1, &st);
	th_check("16-byte instruction is #GP(0)",
	         k == CPU_STOP_EXCEPTION && st.vector == CPU_GP && st.error == 0,
	         "kind %s vector %u", cpu_stop_kind_name(k), st.vector);

	th->gdt[8] = th_descriptor(0, 0x1fff, 0xb, 1, true, true, false);
	cpu_load_segment_raw(&th->cpu, CPU_CS, 0x41);
	th->cpu.regs[CPU_EAX] = 0x2000;
	k = RUN(th, 1, &st, 0xff, 0xe0 /* jmp *%eax */);
	th_check("jmp beyond the cs limit is #GP(0) at the jmp",
	         k == CPU_STOP_EXCEPTION && st.vector == CPU_GP && st.eip == CODE,
	         "kind %s vector %u eip %#x", cpu_stop_kind_name(k), st.vector, st.eip);
	th_destroy(th);
}

/* rep movs in bulk: overlapping copies propagate, page ends and faults stay exact. */
static void test_rep_bulk(void)
{
	struct testhost *th = host();
	struct cpu_stop st;
	th->ram[DATA] = 0x5a;
	th->cpu.regs[CPU_ESI] = DATA;
	th->cpu.regs[CPU_EDI] = DATA + 1;
	th->cpu.regs[CPU_ECX] = 100;
	enum cpu_stop_kind k = RUN(th, 1000, &st, 0xf3, 0xa4, /* rep movsb */ 0xcc);
	bool filled = true;
	for (unsigned i = 0; i <= 100; i++)
		filled = filled && th->ram[DATA + i] == 0x5a;
	th_check("overlapping rep movsb repeats the first byte", k == CPU_STOP_EXCEPTION && filled &&
	         th->cpu.regs[CPU_ECX] == 0, "kind %s ecx %u", cpu_stop_kind_name(k), th->cpu.regs[CPU_ECX]);

	th_set_perm(th, 0x202000, TH_P | TH_U);
	th->cpu.regs[CPU_ESI] = DATA;
	th->cpu.regs[CPU_EDI] = 0x201000;
	th->cpu.regs[CPU_ECX] = 2000; /* 8000 bytes: runs into the read-only page */
	uint64_t before = th->cpu.icount;
	k = RUN(th, 100000, &st, 0xf3, 0xa5 /* rep movsl */);
	th_check("rep movsl stops at a read-only page with the done part kept",
	         k == CPU_STOP_EXCEPTION && st.vector == CPU_PF && st.error == 3 &&
	         th->cpu.regs[CPU_ECX] == 2000 - 1024 && th->cpu.regs[CPU_EDI] == 0x202000 &&
	         th->cpu.icount == before + 1024 && th->cpu.eip == CODE,
	         "kind %s vector %u ecx %u edi %#x icount +%llu", cpu_stop_kind_name(k), st.vector,
	         th->cpu.regs[CPU_ECX], th->cpu.regs[CPU_EDI],
	         (unsigned long long)(th->cpu.icount - before));

	th->cpu.regs[CPU_EDI] = 0x300000;
	th->cpu.regs[CPU_ECX] = 5000;
	th->cpu.regs[CPU_EAX] = 0x01020304;
	before = th->cpu.icount;
	k = RUN(th, 4321, &st, 0xf3, 0xab /* rep stosl */);
	th_check("rep stosl honours the budget exactly",
	         k == CPU_STOP_BUDGET && th->cpu.icount == before + 4321 &&
	         th->cpu.regs[CPU_ECX] == 5000 - 4321 && th->cpu.regs[CPU_EDI] == 0x300000 + 4 * 4321 &&
	         th_get32(th, 0x300000 + 4 * 4320) == 0x01020304 && th_get32(th, 0x300000 + 4 * 4321) == 0,
	         "kind %s ecx %u edi %#x", cpu_stop_kind_name(k), th->cpu.regs[CPU_ECX],
	         th->cpu.regs[CPU_EDI]);
	th_destroy(th);
}

static void test_coverage_table(void)
{
	th_check("coverage lists add and cmpxchg8b",
	         cpu_opcode_coverage(1, 0x01) && cpu_opcode_coverage(2, 0xc7), "missing");
	th_check("coverage leaves syscall out", cpu_opcode_coverage(2, 0x05) == NULL, "listed");
}

int main(void)
{
	test_addressing();
	test_stack_forms();
	test_bits_and_misc();
	test_fetch();
	test_rep_bulk();
	test_coverage_table();
	return th_finish();
}
