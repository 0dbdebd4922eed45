/*
 * System semantics of the interpreter, with expected values from the Intel
 * SDM (Vol. 3: privilege rules, exception error codes; Vol. 2: POPF, IRET,
 * far CALL/RET, MOV to segment registers) and DESIGN.md §3 (the CPU-host
 * boundary: software interrupts stop with soft_int, translations are the
 * host's, unimplemented opcodes are their own stop).
 *
 * Everything runs on the flat test host (cpu_testhost.h): code at 0x1000,
 * the stack at 8 MiB, data at 1 MiB.
 */
#include "cpu_testhost.h"

#define CODE 0x1000u
#define DATA 0x100000u

/* Run `code` at CODE with the current state. */
#define RUN(th, budget, stop, ...)                                                             \
	({                                                                                         \
		static const uint8_t code_[] = { __VA_ARGS__ };                                        \
		th_run_code((th), CODE, code_, sizeof(code_), (budget), (stop));                       \
	})

static bool is_exception(enum cpu_stop_kind k, const struct cpu_stop *st, uint8_t vector,
                         bool has_error, uint32_t error)
{
	return k == CPU_STOP_EXCEPTION && st->vector == vector && st->has_error == has_error &&
	       (!has_error || st->error == error) && !st->soft_int;
}

static struct testhost *host_at(unsigned ring, uint32_t eflags)
{
	struct testhost *th = th_create();
	th_setup_flat(th, ring);
	cpu_set_eflags(&th->cpu, eflags);
	return th;
}

/* popf: IF changes only when CPL <= IOPL, IOPL only at CPL 0 (SDM POPF). */
static void test_popf(void)
{
	static const struct {
		const char *name;
		unsigned ring;
		uint32_t start, pushed, expect;
	} cases[] = {
		{ "popf cpl1 iopl0 keeps IF and IOPL", 1, 0x0002, 0x3202, 0x0000 },
		{ "popf cpl1 iopl1 sets IF, keeps IOPL", 1, 0x1002, 0x3202, 0x1200 },
		{ "popf cpl1 iopl1 clears IF", 1, 0x1202, 0x0002, 0x1000 },
		{ "popf cpl3 iopl0 keeps IF", 3, 0x0002, 0x0202, 0x0000 },
		{ "popf cpl3 iopl0 keeps IF set", 3, 0x0202, 0x0002, 0x0200 },
		{ "popf cpl3 iopl3 sets IF, keeps IOPL", 3, 0x3002, 0x0202, 0x3200 },
		{ "popf cpl0 changes IOPL and IF", 0, 0x0002, 0x3202, 0x3200 },
	};
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct testhost *th = host_at(cases[i].ring, cases[i].start);
		struct cpu_stop st;
		th->cpu.regs[CPU_EBX] = cases[i].pushed;
		enum cpu_stop_kind k = RUN(th, 4, &st,
			0x53,        /* push %ebx */
			0x9d,        /* popf */
			0x9c,        /* pushf */
			0x58,        /* pop %eax */
		);
		uint32_t got = th->cpu.regs[CPU_EAX] & 0x3200;
		th_check(cases[i].name, k == CPU_STOP_BUDGET && got == cases[i].expect,
		         "kind %s, IF|IOPL %#x, expected %#x", cpu_stop_kind_name(k), got,
		         cases[i].expect);
		th_destroy(th);
	}
}

/* iret to the same level: IF only when CPL <= IOPL, IOPL only at CPL 0 (SDM IRET). */
static void test_iret_flags(void)
{
	static const struct {
		const char *name;
		unsigned ring;
		uint32_t start, pushed, expect;
	} cases[] = {
		{ "iret cpl1 iopl0 keeps IF and IOPL", 1, 0x0002, 0x3202, 0x0000 },
		{ "iret cpl1 iopl1 sets IF", 1, 0x1002, 0x0202, 0x1200 },
		{ "iret cpl3 iopl0 keeps IF", 3, 0x0002, 0x3202, 0x0000 },
		{ "iret cpl3 iopl3 clears IF, keeps IOPL", 3, 0x3202, 0x0002, 0x3000 },
	};
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct testhost *th = host_at(cases[i].ring, cases[i].start);
		struct cpu_stop st;
		th->cpu.regs[CPU_EBX] = cases[i].pushed;
		enum cpu_stop_kind k = RUN(th, 6, &st,
			0x53,                         /* push %ebx */
			0x0e,                         /* push %cs */
			0x68, 0x0c, 0x10, 0x00, 0x00, /* push $0x100c */
			0xcf,                         /* iret */
			0xcc, 0xcc, 0xcc, 0xcc,       /* int3 (skipped) */
			0x9c,                         /* 0x100c: pushf */
			0x58,                         /* pop %eax */
		);
		uint32_t got = th->cpu.regs[CPU_EAX] & 0x3200;
		th_check(cases[i].name, k == CPU_STOP_BUDGET && got == cases[i].expect,
		         "kind %s eip %#x, IF|IOPL %#x, expected %#x", cpu_stop_kind_name(k),
		         th->cpu.eip, got, cases[i].expect);
		th_destroy(th);
	}
}

/* int n, int3, into: stops with soft_int, the vector, eip and next_eip (DESIGN §3). */
static void test_soft_int(void)
{
	struct testhost *th = host_at(3, 0x202);
	struct cpu_stop st;
	uint64_t before = th->cpu.icount;
	enum cpu_stop_kind k = RUN(th, 10, &st, 0x90, 0xcd, 0x80 /* nop; int $0x80 */);
	th_check("int 0x80 stops as soft interrupt",
	         k == CPU_STOP_EXCEPTION && st.soft_int && st.vector == 0x80 && !st.has_error,
	         "kind %s soft %d vector %#x", cpu_stop_kind_name(k), st.soft_int, st.vector);
	th_check("int 0x80 eip and next_eip",
	         st.eip == 0x1001 && st.next_eip == 0x1003 && th->cpu.eip == 0x1001,
	         "eip %#x next %#x cpu.eip %#x", st.eip, st.next_eip, th->cpu.eip);
	th_check("int 0x80 is not retired", th->cpu.icount == before + 1, "icount +%llu",
	         (unsigned long long)(th->cpu.icount - before));

	k = RUN(th, 10, &st, 0xcc /* int3 */);
	th_check("int3 is vector 3, soft", k == CPU_STOP_EXCEPTION && st.soft_int && st.vector == 3 &&
	         st.next_eip == 0x1001, "vector %u soft %d next %#x", st.vector, st.soft_int, st.next_eip);

	cpu_set_eflags(&th->cpu, 0x202 | EFLAGS_OF);
	k = RUN(th, 10, &st, 0xce /* into */);
	th_check("into with OF is vector 4, soft", k == CPU_STOP_EXCEPTION && st.soft_int &&
	         st.vector == 4 && st.next_eip == 0x1001, "vector %u soft %d", st.vector, st.soft_int);
	cpu_set_eflags(&th->cpu, 0x202);
	k = RUN(th, 1, &st, 0xce /* into */);
	th_check("into without OF does nothing", k == CPU_STOP_BUDGET && th->cpu.eip == 0x1001,
	         "kind %s", cpu_stop_kind_name(k));
	th_destroy(th);
}

/* A hook that faults every access to page 0x600 with a made-up error code. */
static bool fault_with_odd_code(struct testhost *th, uint32_t va, enum cpu_access access,
                                enum cpu_xlate_result *result, uint32_t *pf_error)
{
	(void)th, (void)access;
	if ((va >> 12) != 0x600)
		return false;
	*result = CPU_XLATE_FAULT;
	*pf_error = 0x1d;
	return true;
}

/* #PF: the error code is whatever translate reported; cr2 and stop.addr are the address. */
static void test_page_fault(void)
{
	struct testhost *th = host_at(1, 0x202);
	struct cpu_stop st;
	th_set_perm(th, 0x500000, 0);
	th->cpu.regs[CPU_EAX] = 0x500010;
	enum cpu_stop_kind k = RUN(th, 10, &st, 0x8b, 0x18 /* mov (%eax),%ebx */);
	th_check("#PF read of a not-present page at cpl1",
	         is_exception(k, &st, CPU_PF, true, 0) && th->cpu.cr2 == 0x500010 &&
	         st.addr == 0x500010 && st.eip == CODE,
	         "kind %s vector %u error %#x cr2 %#x", cpu_stop_kind_name(k), st.vector, st.error,
	         th->cpu.cr2);

	th_destroy(th);
	th = host_at(3, 0x202);
	th_set_perm(th, 0x500000, TH_P | TH_U);
	th->cpu.regs[CPU_EAX] = 0x500ffc;
	k = RUN(th, 10, &st, 0x89, 0x18 /* mov %ebx,(%eax) */);
	th_check("#PF write to a read-only page at cpl3 has P|W|U",
	         is_exception(k, &st, CPU_PF, true, 7) && th->cpu.cr2 == 0x500ffc,
	         "error %#x cr2 %#x", st.error, th->cpu.cr2);

	th->hook = fault_with_odd_code;
	th->cpu.regs[CPU_EAX] = 0x600123;
	k = RUN(th, 10, &st, 0x8b, 0x18 /* mov (%eax),%ebx */);
	th_check("#PF error code is the host's", is_exception(k, &st, CPU_PF, true, 0x1d) &&
	         st.addr == 0x600123, "error %#x addr %#x", st.error, st.addr);
	th_destroy(th);
}

/* Privileged instructions and IOPL-sensitive ones are #GP(0) at CPL 1 and 3. */
static void test_privileged(void)
{
	static const struct {
		const char *name;
		uint8_t bytes[4];
		unsigned len;
	} insns[] = {
		{ "hlt", { 0xf4 }, 1 },
		{ "cli", { 0xfa }, 1 },
		{ "sti", { 0xfb }, 1 },
		{ "lgdt", { 0x0f, 0x01, 0x10 }, 3 },
		{ "lidt", { 0x0f, 0x01, 0x18 }, 3 },
		{ "lldt", { 0x0f, 0x00, 0xd0 }, 3 },
		{ "ltr", { 0x0f, 0x00, 0xd8 }, 3 },
		{ "mov to cr3", { 0x0f, 0x22, 0xd8 }, 3 },
		{ "mov from cr0", { 0x0f, 0x20, 0xc0 }, 3 },
		{ "mov to dr7", { 0x0f, 0x23, 0xf8 }, 3 },
		{ "invlpg", { 0x0f, 0x01, 0x38 }, 3 },
		{ "clts", { 0x0f, 0x06 }, 2 },
		{ "rdmsr", { 0x0f, 0x32 }, 2 },
		{ "wrmsr", { 0x0f, 0x30 }, 2 },
		{ "wbinvd", { 0x0f, 0x09 }, 2 },
		{ "invd", { 0x0f, 0x08 }, 2 },
		{ "lmsw", { 0x0f, 0x01, 0xf0 }, 3 },
		{ "in al,dx", { 0xec }, 1 },
		{ "out dx,al", { 0xee }, 1 },
		{ "in al,imm", { 0xe4, 0x60 }, 2 },
		{ "insb", { 0x6c }, 1 },
		{ "outsb", { 0x6e }, 1 },
		{ "sysenter", { 0x0f, 0x34 }, 2 },
	};
	static const unsigned rings[] = { 1, 3 };
	for (unsigned r = 0; r < 2; r++) {
		for (unsigned i = 0; i < sizeof(insns) / sizeof(insns[0]); i++) {
			struct testhost *th = host_at(rings[r], 0x202);
			struct cpu_stop st;
			char name[80];
			th->cpu.regs[CPU_EAX] = DATA;
			th->cpu.regs[CPU_EBX] = 0x12345678;
			th_put(th, CODE, insns[i].bytes, insns[i].len);
			th->cpu.eip = CODE;
			enum cpu_stop_kind k = cpu_run(&th->cpu, 5, &st);
			snprintf(name, sizeof(name), "#GP(0) for %s at cpl%u", insns[i].name, rings[r]);
			th_check(name, is_exception(k, &st, CPU_GP, true, 0) && st.eip == CODE &&
			         th->cpu.regs[CPU_EBX] == 0x12345678 && th->io_outs == 0,
			         "kind %s vector %u error %#x eip %#x", cpu_stop_kind_name(k), st.vector,
			         st.error, st.eip);
			th_destroy(th);
		}
	}

	/* With IOPL 1, ring 1 may use cli/sti and port I/O. */
	struct testhost *th = host_at(1, 0x1202);
	struct cpu_stop st;
	th->io_in_value = 0xab;
	th->cpu.regs[CPU_EDX] = 0x3f8;
	enum cpu_stop_kind k = RUN(th, 3, &st, 0xfa /* cli */, 0xec /* in (%dx),%al */, 0xee /* out */);
	th_check("cpl1 iopl1 cli and port I/O reach the host",
	         k == CPU_STOP_BUDGET && !(cpu_get_eflags(&th->cpu) & EFLAGS_IF) &&
	         (th->cpu.regs[CPU_EAX] & 0xff) == 0xab && th->io_outs == 1 &&
	         th->io_last_port == 0x3f8 && th->io_last_value == 0xab,
	         "kind %s eax %#x outs %u", cpu_stop_kind_name(k), th->cpu.regs[CPU_EAX], th->io_outs);
	th_destroy(th);

	/* hlt at CPL 0 stops with eip past it. */
	th = host_at(0, 0x202);
	k = RUN(th, 5, &st, 0xf4 /* hlt */);
	th_check("hlt at cpl0 stops past it", k == CPU_STOP_HLT && th->cpu.eip == CODE + 1,
	         "kind %s eip %#x", cpu_stop_kind_name(k), th->cpu.eip);
	th_destroy(th);
}

/* #DE, #UD, and unimplemented opcodes. */
static void test_faults(void)
{
	struct testhost *th = host_at(3, 0x202);
	struct cpu_stop st;
	th->cpu.regs[CPU_EAX] = 1234;
	th->cpu.regs[CPU_EDX] = 0;
	enum cpu_stop_kind k = RUN(th, 10, &st,
		0xb9, 0x00, 0x00, 0x00, 0x00, /* mov $0,%ecx */
		0xf7, 0xf1,                   /* div %ecx */
	);
	th_check("#DE on division by zero", is_exception(k, &st, CPU_DE, false, 0) &&
	         st.eip == CODE + 5 && th->cpu.regs[CPU_EAX] == 1234,
	         "kind %s vector %u eip %#x", cpu_stop_kind_name(k), st.vector, st.eip);

	th->cpu.regs[CPU_EAX] = 0;
	th->cpu.regs[CPU_EDX] = 0x80000000u;
	th->cpu.regs[CPU_ECX] = 0xffffffffu;
	k = RUN(th, 10, &st, 0xf7, 0xf9 /* idiv %ecx */);
	th_check("#DE on idiv overflow", is_exception(k, &st, CPU_DE, false, 0), "kind %s vector %u",
	         cpu_stop_kind_name(k), st.vector);

	th->cpu.regs[CPU_EDX] = 1;
	th->cpu.regs[CPU_ECX] = 1;
	k = RUN(th, 10, &st, 0xf7, 0xf1 /* div %ecx: quotient 2^32 */);
	th_check("#DE on div quotient overflow", is_exception(k, &st, CPU_DE, false, 0),
	         "kind %s vector %u", cpu_stop_kind_name(k), st.vector);

	static const struct {
		const char *name;
		uint8_t bytes[4];
		unsigned len;
	} uds[] = {
		{ "#UD for ud2", { 0x0f, 0x0b }, 2 },
		{ "#UD for lock nop", { 0xf0, 0x90 }, 2 },
		{ "#UD for lock add to a register", { 0xf0, 0x83, 0xc0, 0x01 }, 4 },
		{ "#UD for lea with a register operand", { 0x8d, 0xc1 }, 2 },
		{ "#UD for mov to cs", { 0x8e, 0xc8 }, 2 },
		{ "#UD for les with a register operand", { 0xc4, 0xc1 }, 2 },
		{ "#UD for vmcall", { 0x0f, 0x01, 0xc1 }, 3 },
	};
	for (unsigned i = 0; i < sizeof(uds) / sizeof(uds[0]); i++) {
		th_put(th, CODE, uds[i].bytes, uds[i].len);
		th->cpu.eip = CODE;
		k = cpu_run(&th->cpu, 5, &st);
		th_check(uds[i].name, is_exception(k, &st, CPU_UD, false, 0) && st.eip == CODE,
		         "kind %s vector %u", cpu_stop_kind_name(k), st.vector);
	}

	th->cpu.regs[CPU_EAX] = DATA;
	k = RUN(th, 1, &st, 0xf0, 0x83, 0x00, 0x01 /* lock addl $1,(%eax) */);
	th_check("lock add to memory is legal", k == CPU_STOP_BUDGET && th_get32(th, DATA) == 1,
	         "kind %s", cpu_stop_kind_name(k));

	k = RUN(th, 5, &st, 0x90, 0x0f, 0x05, 0x11, 0x22 /* nop; syscall; ... */);
	th_check("unimplemented opcode stops with its bytes",
	         k == CPU_STOP_UNIMPLEMENTED && st.eip == CODE + 1 && th->cpu.eip == CODE + 1 &&
	         st.insn_len == 16 && st.insn[0] == 0x0f && st.insn[1] == 0x05 && st.insn[2] == 0x11,
	         "kind %s eip %#x len %u bytes %02x %02x", cpu_stop_kind_name(k), st.eip, st.insn_len,
	         st.insn[0], st.insn[1]);
	th_destroy(th);
}

/*
 * iret from ring 1 to ring 3 (stack switch, data segments nulled), a
 * software interrupt at ring 3, and the host's gate delivery back into
 * ring 1 on the TSS stack (SDM Vol. 3 §6.12.1).
 */
static void test_ring_transitions(void)
{
	struct testhost *th = host_at(1, 0x002);
	struct cpu_stop st;
	th->cpu.tss_ss[1] = TH_SEL_DATA1 | 1;
	th->cpu.tss_esp[1] = 0x900000;
	static const uint8_t user[] = {
		0xb8, 0x07, 0x00, 0x00, 0x00, /* 0x2000: mov $7,%eax */
		0xcd, 0x80,                   /* int $0x80 */
		0xf4,                         /* 0x2007: hlt */
	};
	static const uint8_t handler[] = { 0xcf /* 0x3000: iret */ };
	th_put(th, 0x2000, user, sizeof(user));
	th_put(th, 0x3000, handler, sizeof(handler));
	enum cpu_stop_kind k = RUN(th, 20, &st,
		0x6a, 0x33,                   /* push $0x33 (ss) */
		0x68, 0x00, 0x00, 0x70, 0x00, /* push $0x700000 (esp) */
		0x68, 0x02, 0x02, 0x00, 0x00, /* push $0x202 (eflags) */
		0x6a, 0x2b,                   /* push $0x2b (cs) */
		0x68, 0x00, 0x20, 0x00, 0x00, /* push $0x2000 (eip) */
		0xcf,                         /* iret */
	);
	th_check("iret to ring 3 then int 0x80", k == CPU_STOP_EXCEPTION && st.soft_int &&
	         st.vector == 0x80 && st.eip == 0x2005 && st.next_eip == 0x2007,
	         "kind %s vector %#x eip %#x", cpu_stop_kind_name(k), st.vector, st.eip);
	th_check("iret to ring 3 loads cs, ss, esp and cpl",
	         th->cpu.cpl == 3 && th->cpu.seg[CPU_CS].selector == 0x2b &&
	         th->cpu.seg[CPU_SS].selector == 0x33 && th->cpu.regs[CPU_ESP] == 0x700000 &&
	         th->cpu.regs[CPU_EAX] == 7,
	         "cpl %u cs %#x ss %#x esp %#x", th->cpu.cpl, th->cpu.seg[CPU_CS].selector,
	         th->cpu.seg[CPU_SS].selector, th->cpu.regs[CPU_ESP]);
	th_check("iret to ring 3 nulls ring-1 data segments",
	         !th->cpu.seg[CPU_DS].usable && th->cpu.seg[CPU_DS].selector == 0 &&
	         !th->cpu.seg[CPU_ES].usable && !th->cpu.seg[CPU_FS].usable &&
	         !th->cpu.seg[CPU_GS].usable,
	         "ds %#x usable %d", th->cpu.seg[CPU_DS].selector, th->cpu.seg[CPU_DS].usable);
	th_check("iret from cpl1 iopl0 keeps IF clear", !(th->cpu.eflags & EFLAGS_IF), "eflags %#x",
	         th->cpu.eflags);

	/* The host delivers the trap through a ring-1 trap gate. */
	th->cpu.eip = st.next_eip;
	struct cpu_stop fault;
	bool ok = cpu_deliver_gate(&th->cpu, TH_SEL_CODE1, 0x3000, false, true, 0x55, &fault);
	uint32_t sp = th->cpu.regs[CPU_ESP];
	th_check("deliver_gate switches to tss_ss[1]:tss_esp[1]",
	         ok && th->cpu.cpl == 1 && th->cpu.seg[CPU_CS].selector == (TH_SEL_CODE1 | 1) &&
	         th->cpu.seg[CPU_SS].selector == (TH_SEL_DATA1 | 1) && sp == 0x900000 - 24 &&
	         th->cpu.eip == 0x3000,
	         "ok %d cpl %u cs %#x ss %#x esp %#x", ok, th->cpu.cpl, th->cpu.seg[CPU_CS].selector,
	         th->cpu.seg[CPU_SS].selector, sp);
	th_check("deliver_gate frame: error, eip, cs, eflags, esp, ss",
	         th_get32(th, sp) == 0x55 && th_get32(th, sp + 4) == 0x2007 &&
	         th_get32(th, sp + 8) == 0x2b && (th_get32(th, sp + 12) & 0x3ff) == 0x002 &&
	         th_get32(th, sp + 16) == 0x700000 && th_get32(th, sp + 20) == 0x33,
	         "%#x %#x %#x %#x %#x %#x", th_get32(th, sp), th_get32(th, sp + 4),
	         th_get32(th, sp + 8), th_get32(th, sp + 12), th_get32(th, sp + 16),
	         th_get32(th, sp + 20));

	/* Pop the error code the way a handler would, then iret back to ring 3. */
	th->cpu.regs[CPU_ESP] += 4;
	k = cpu_run(&th->cpu, 5, &st);
	th_check("iret from the handler returns to ring 3",
	         is_exception(k, &st, CPU_GP, true, 0) && st.eip == 0x2007 && th->cpu.cpl == 3 &&
	         th->cpu.regs[CPU_ESP] == 0x700000,
	         "kind %s vector %u eip %#x cpl %u esp %#x", cpu_stop_kind_name(k), st.vector, st.eip,
	         th->cpu.cpl, th->cpu.regs[CPU_ESP]);

	/* An interrupt gate clears IF; a trap gate keeps it. */
	th->cpu.eflags |= EFLAGS_IF;
	ok = cpu_deliver_gate(&th->cpu, TH_SEL_CODE1, 0x3000, true, false, 0, &fault);
	th_check("interrupt gate clears IF, pushes IF set",
	         ok && !(th->cpu.eflags & EFLAGS_IF) &&
	         (th_get32(th, th->cpu.regs[CPU_ESP] + 8) & EFLAGS_IF) &&
	         th->cpu.regs[CPU_ESP] == 0x900000 - 20,
	         "ok %d eflags %#x esp %#x", ok, th->cpu.eflags, th->cpu.regs[CPU_ESP]);
	th_destroy(th);

	/* A fault while pushing leaves the state unchanged and is returned. */
	th = host_at(3, 0x202);
	th->cpu.tss_ss[1] = TH_SEL_DATA1 | 1;
	th->cpu.tss_esp[1] = 0x900000;
	th_set_perm(th, 0x8ff000, 0);
	th->cpu.eip = 0x2007;
	ok = cpu_deliver_gate(&th->cpu, TH_SEL_CODE1, 0x3000, false, false, 0, &fault);
	th_check("deliver_gate fault returns #PF and changes nothing",
	         !ok && fault.kind == CPU_STOP_EXCEPTION && fault.vector == CPU_PF &&
	         fault.error == 0x2 && th->cpu.cpl == 3 && th->cpu.eip == 0x2007 &&
	         th->cpu.regs[CPU_ESP] == 0x800000 && th->cpu.seg[CPU_SS].selector == 0x33,
	         "ok %d vector %u error %#x cpl %u esp %#x", ok, fault.vector, fault.error,
	         th->cpu.cpl, th->cpu.regs[CPU_ESP]);
	th_destroy(th);
}

/* Far call/ret/jmp, including a return to an outer ring. */
static void test_far_transfers(void)
{
	struct testhost *th = host_at(1, 0x002);
	struct cpu_stop st;
	static const uint8_t callee[] = { 0xca, 0x04, 0x00 /* 0x2000: lret $4 */ };
	th_put(th, 0x2000, callee, sizeof(callee));
	enum cpu_stop_kind k = RUN(th, 3, &st,
		0x6a, 0x11,                                     /* push $0x11 */
		0x9a, 0x00, 0x20, 0x00, 0x00, 0x19, 0x00,       /* lcall $0x19,$0x2000 */
	);
	th_check("far call pushes cs and eip",
	         k == CPU_STOP_BUDGET && th->cpu.eip == CODE + 9 &&
	         th_get32(th, 0x800000 - 12) == CODE + 9 && th_get32(th, 0x800000 - 8) == 0x19 &&
	         th->cpu.regs[CPU_ESP] == 0x800000,
	         "kind %s eip %#x esp %#x", cpu_stop_kind_name(k), th->cpu.eip, th->cpu.regs[CPU_ESP]);

	k = RUN(th, 5, &st, 0xea, 0x00, 0x20, 0x00, 0x00, 0x08, 0x00 /* ljmp $0x08,$0x2000 */);
	th_check("far jmp to a ring-0 code segment is #GP(sel)",
	         is_exception(k, &st, CPU_GP, true, 0x08), "kind %s vector %u error %#x",
	         cpu_stop_kind_name(k), st.vector, st.error);
	k = RUN(th, 5, &st, 0x9a, 0x00, 0x20, 0x00, 0x00, 0x2b, 0x00 /* lcall $0x2b,$0x2000 */);
	th_check("far call to a ring-3 code segment is #GP(sel)",
	         is_exception(k, &st, CPU_GP, true, 0x28) && th->cpu.regs[CPU_ESP] == 0x800000,
	         "vector %u error %#x", st.vector, st.error);
	k = RUN(th, 5, &st, 0xea, 0x00, 0x20, 0x00, 0x00, 0x00, 0x00 /* ljmp $0,$0x2000 */);
	th_check("far jmp to the null selector is #GP(0)", is_exception(k, &st, CPU_GP, true, 0),
	         "vector %u error %#x", st.vector, st.error);

	k = RUN(th, 10, &st,
		0x6a, 0x33,                   /* push $0x33 */
		0x68, 0x00, 0x00, 0x70, 0x00, /* push $0x700000 */
		0x6a, 0x2b,                   /* push $0x2b */
		0x68, 0x00, 0x30, 0x00, 0x00, /* push $0x3000 */
		0xcb,                         /* lret */
	);
	th_check("far ret to ring 3 switches stacks and cpl",
	         th->cpu.cpl == 3 && th->cpu.regs[CPU_ESP] == 0x700000 &&
	         th->cpu.seg[CPU_SS].selector == 0x33 && !th->cpu.seg[CPU_DS].usable,
	         "kind %s cpl %u esp %#x", cpu_stop_kind_name(k), th->cpu.cpl, th->cpu.regs[CPU_ESP]);
	th_destroy(th);

	th = host_at(3, 0x202);
	k = RUN(th, 10, &st,
		0x6a, 0x21,                   /* push $0x21 */
		0x68, 0x00, 0x00, 0x70, 0x00, /* push $0x700000 */
		0x6a, 0x19,                   /* push $0x19 */
		0x68, 0x00, 0x30, 0x00, 0x00, /* push $0x3000 */
		0xcb,                         /* lret */
	);
	th_check("far ret to an inner ring is #GP(sel)", is_exception(k, &st, CPU_GP, true, 0x18) &&
	         th->cpu.cpl == 3, "vector %u error %#x cpl %u", st.vector, st.error, th->cpu.cpl);
	th_destroy(th);
}

/* Segment register loads: #GP/#NP/#SS with the SDM's error codes. */
static void test_segment_loads(void)
{
	static const struct {
		const char *name;
		bool to_ss;
		uint16_t sel;
		uint8_t vector;
		uint32_t error;
	} cases[] = {
		{ "ds beyond the gdt is #GP(sel)", false, 0x100, CPU_GP, 0x100 },
		{ "ds with TI=1 is #GP(sel)", false, 0x3d, CPU_GP, 0x3c },
		{ "ds not present is #NP(sel)", false, 0x39, CPU_NP, 0x38 },
		{ "ds with dpl 0 at cpl 1 is #GP(sel)", false, 0x10, CPU_GP, 0x10 },
		{ "ds with rpl 3 > dpl 1 is #GP(sel)", false, 0x23, CPU_GP, 0x20 },
		{ "ds with execute-only code is #GP(sel)", false, 0x49, CPU_GP, 0x48 },
		{ "ss with rpl != cpl is #GP(sel)", true, 0x33, CPU_GP, 0x30 },
		{ "ss with dpl 0 is #GP(sel)", true, 0x11, CPU_GP, 0x10 },
		{ "ss not present is #SS(sel)", true, 0x41, CPU_SS_FAULT, 0x40 },
		{ "ss read-only data is #GP(sel)", true, 0x51, CPU_GP, 0x50 },
		{ "ss null is #GP(0)", true, 0x0, CPU_GP, 0 },
		{ "ss with a code segment is #GP(sel)", true, 0x19, CPU_GP, 0x18 },
	};
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct testhost *th = host_at(1, 0x002);
		struct cpu_stop st;
		th->gdt[7] = th_descriptor(0, 0xfffff, 0x3, 1, false, true, true);
		th->gdt[8] = th_descriptor(0, 0xfffff, 0x3, 1, false, true, true);
		th->gdt[9] = th_descriptor(0, 0xfffff, 0x8, 1, true, true, true);
		th->gdt[10] = th_descriptor(0, 0xfffff, 0x1, 1, true, true, true);
		th->cpu.regs[CPU_EAX] = cases[i].sel;
		enum cpu_stop_kind k;
		if (cases[i].to_ss)
			k = RUN(th, 5, &st, 0x8e, 0xd0 /* mov %eax,%ss */);
		else
			k = RUN(th, 5, &st, 0x8e, 0xd8 /* mov %eax,%ds */);
		th_check(cases[i].name,
		         is_exception(k, &st, cases[i].vector, true, cases[i].error) &&
		         th->cpu.seg[CPU_DS].selector == (TH_SEL_DATA1 | 1) &&
		         th->cpu.seg[CPU_SS].selector == (TH_SEL_DATA1 | 1),
		         "kind %s vector %u error %#x", cpu_stop_kind_name(k), st.vector, st.error);
		th_destroy(th);
	}

	struct testhost *th = host_at(1, 0x002);
	struct cpu_stop st;
	th->cpu.regs[CPU_EAX] = 0;
	th->cpu.regs[CPU_EBX] = DATA;
	enum cpu_stop_kind k = RUN(th, 5, &st,
		0x8e, 0xd8, /* mov %eax,%ds */
		0x8b, 0x03, /* mov (%ebx),%eax */
	);
	th_check("null ds loads, then access is #GP(0)",
	         is_exception(k, &st, CPU_GP, true, 0) && st.eip == CODE + 2 &&
	         !th->cpu.seg[CPU_DS].usable,
	         "kind %s vector %u eip %#x", cpu_stop_kind_name(k), st.vector, st.eip);

	th->cpu.regs[CPU_EAX] = TH_SEL_CODE1 | 1;
	k = RUN(th, 2, &st, 0x8e, 0xd8, /* mov %eax,%ds */ 0x8b, 0x03 /* mov (%ebx),%eax */);
	th_check("readable code loads into ds", k == CPU_STOP_BUDGET, "kind %s vector %u",
	         cpu_stop_kind_name(k), st.vector);
	th_destroy(th);
}

/* Bases and limits on every access, expand-down, and the stack's #SS(0). */
static void test_segment_limits(void)
{
	struct testhost *th = host_at(1, 0x002);
	struct cpu_stop st;
	th->gdt[10] = th_descriptor(DATA, 0xfff, 0x3, 1, true, true, false);
	th->gdt[11] = th_descriptor(0x200000, 0xfff, 0x3, 1, true, true, false);
	th->gdt[12] = th_descriptor(0, 0xfff, 0x7, 1, true, true, false);
	th->gdt[13] = th_descriptor(0x123000, 0xfffff, 0x3, 1, true, true, true);
	th_put32(th, DATA + 0xffc, 0xcafef00d);
	th_put32(th, 0x123004, 0x600df00d);

	th->cpu.regs[CPU_EAX] = 0x51;
	th->cpu.regs[CPU_EBX] = 0xffc;
	enum cpu_stop_kind k = RUN(th, 2, &st, 0x8e, 0xd8, /* mov %eax,%ds */ 0x8b, 0x0b /* mov (%ebx),%ecx */);
	th_check("ds base applies", k == CPU_STOP_BUDGET && th->cpu.regs[CPU_ECX] == 0xcafef00d,
	         "kind %s ecx %#x", cpu_stop_kind_name(k), th->cpu.regs[CPU_ECX]);
	th->cpu.regs[CPU_EBX] = 0xffd;
	k = RUN(th, 2, &st, 0x8b, 0x0b /* mov (%ebx),%ecx */);
	th_check("ds limit: dword at 0xffd of a 0xfff limit is #GP(0)",
	         is_exception(k, &st, CPU_GP, true, 0), "kind %s vector %u", cpu_stop_kind_name(k),
	         st.vector);

	th->cpu.regs[CPU_EAX] = 0x69;
	k = RUN(th, 2, &st, 0x8e, 0xe0, /* mov %eax,%fs */ 0x64, 0xa1, 0x04, 0x00, 0x00, 0x00 /* mov %fs:4,%eax */);
	th_check("fs base applies", k == CPU_STOP_BUDGET && th->cpu.regs[CPU_EAX] == 0x600df00d,
	         "kind %s eax %#x", cpu_stop_kind_name(k), th->cpu.regs[CPU_EAX]);

	th->cpu.regs[CPU_EAX] = 0x61;
	th->cpu.regs[CPU_EBX] = 0x800;
	k = RUN(th, 2, &st, 0x8e, 0xc0, /* mov %eax,%es */ 0x26, 0x8b, 0x0b /* mov %es:(%ebx),%ecx */);
	th_check("expand-down: below the limit is #GP(0)", is_exception(k, &st, CPU_GP, true, 0),
	         "kind %s vector %u", cpu_stop_kind_name(k), st.vector);
	th->cpu.regs[CPU_EBX] = DATA + 0xffc;
	k = RUN(th, 1, &st, 0x26, 0x8b, 0x0b /* mov %es:(%ebx),%ecx */);
	th_check("expand-down: above the limit is fine",
	         k == CPU_STOP_BUDGET && th->cpu.regs[CPU_ECX] == 0xcafef00d, "kind %s ecx %#x",
	         cpu_stop_kind_name(k), th->cpu.regs[CPU_ECX]);

	th->cpu.regs[CPU_EAX] = 0x59;
	th->cpu.regs[CPU_ECX] = 0x1002;
	k = RUN(th, 3, &st,
		0x8e, 0xd0, /* mov %eax,%ss */
		0x89, 0xcc, /* mov %ecx,%esp */
		0x50,       /* push %eax */
	);
	th_check("stack limit: push past the limit is #SS(0)",
	         is_exception(k, &st, CPU_SS_FAULT, true, 0) && th->cpu.regs[CPU_ESP] == 0x1002,
	         "kind %s vector %u esp %#x", cpu_stop_kind_name(k), st.vector, th->cpu.regs[CPU_ESP]);
	th->cpu.regs[CPU_ESP] = 0x1000;
	k = RUN(th, 1, &st, 0x50 /* push %eax */);
	th_check("stack base applies to push", k == CPU_STOP_BUDGET && th_get32(th, 0x200ffc) == 0x59,
	         "kind %s mem %#x", cpu_stop_kind_name(k), th_get32(th, 0x200ffc));
	th_destroy(th);
}

/* Hook: page 0x300 is shadowed read-only until a write asks (lguest's clean PTEs). */
static unsigned ro_calls, ro_write_calls;
static bool clean_then_dirty(struct testhost *th, uint32_t va, enum cpu_access access,
                             enum cpu_xlate_result *result, uint32_t *pf_error)
{
	(void)pf_error;
	(void)result;
	if ((va >> 12) != 0x300)
		return false;
	ro_calls++;
	if (access == CPU_ACCESS_WRITE)
		ro_write_calls++;
	th->perm[0x300] = access == CPU_ACCESS_WRITE ? (TH_P | TH_W | TH_U) : (TH_P | TH_U);
	return false; /* fall through to the normal translation with those permissions */
}

/* The TLB: read-only cached entries miss on write; watched pages; XLATE_STOP. */
static void test_translation(void)
{
	struct testhost *th = host_at(1, 0x002);
	struct cpu_stop st;
	th->hook = clean_then_dirty;
	th->cpu.regs[CPU_EAX] = 0x300000;
	enum cpu_stop_kind k = RUN(th, 4, &st,
		0x8b, 0x18,       /* mov (%eax),%ebx */
		0x8b, 0x58, 0x04, /* mov 4(%eax),%ebx */
		0x89, 0x58, 0x08, /* mov %ebx,8(%eax) */
		0x89, 0x58, 0x0c, /* mov %ebx,12(%eax) */
	);
	th_check("write through a read-only cached translation calls translate again",
	         k == CPU_STOP_BUDGET && ro_calls == 2 && ro_write_calls == 1 &&
	         th->last_access == CPU_ACCESS_WRITE,
	         "kind %s calls %u write calls %u", cpu_stop_kind_name(k), ro_calls, ro_write_calls);
	th_destroy(th);

	th = host_at(1, 0x002);
	th_set_perm(th, DATA, TH_P | TH_W | TH_U | TH_WATCH);
	th->cpu.regs[CPU_EAX] = DATA;
	k = RUN(th, 3, &st, 0x8b, 0x18, /* mov (%eax),%ebx */ 0x8b, 0x18, 0x89, 0x18);
	th_check("watched pages call mem_access on every access",
	         k == CPU_STOP_BUDGET && th->mem_access_calls == 3, "kind %s calls %u",
	         cpu_stop_kind_name(k), th->mem_access_calls);
	th->stop_on_watch = true;
	k = RUN(th, 3, &st, 0x8b, 0x18, /* mov (%eax),%ebx */ 0x90);
	th_check("mem_access can stop after the instruction",
	         k == CPU_STOP_WATCH && th->cpu.eip == CODE + 2 && st.addr == DATA,
	         "kind %s eip %#x addr %#x", cpu_stop_kind_name(k), th->cpu.eip, st.addr);
	th_destroy(th);

	th = host_at(1, 0x002);
	th->hook = NULL;
	th_set_perm(th, 0x600000, 0);
	th->cpu.regs[CPU_EAX] = 0x600000;
	k = RUN(th, 10, &st, 0xb9, 0x05, 0x00, 0x00, 0x00, /* mov $5,%ecx */ 0x8b, 0x18);
	th_check("translation faults report the access kind to the host",
	         is_exception(k, &st, CPU_PF, true, 0) && th->last_access == CPU_ACCESS_READ &&
	         th->last_cpl == 1,
	         "kind %s access %d cpl %u", cpu_stop_kind_name(k), th->last_access, th->last_cpl);
	th_destroy(th);
}

static bool stop_on_page_600(struct testhost *th, uint32_t va, enum cpu_access access,
                             enum cpu_xlate_result *result, uint32_t *pf_error)
{
	(void)th, (void)access, (void)pf_error;
	if ((va >> 12) != 0x600)
		return false;
	*result = CPU_XLATE_STOP;
	return true;
}

static bool stop_at_second(void *opaque, struct cpu *cpu, uint32_t eip)
{
	(void)opaque, (void)cpu;
	return eip == CODE + 1;
}

/* Precise faults, host stops, the exec hook and stop requests. */
static void test_precise(void)
{
	struct testhost *th = host_at(1, 0x002);
	struct cpu_stop st;
	th_set_perm(th, 0x500000, 0);
	th->cpu.regs[CPU_ESP] = 0x500010;
	enum cpu_stop_kind k = RUN(th, 5, &st, 0x50 /* push %eax */);
	th_check("push to an unmapped page leaves esp unchanged",
	         is_exception(k, &st, CPU_PF, true, 2) && th->cpu.regs[CPU_ESP] == 0x500010 &&
	         th->cpu.cr2 == 0x50000c,
	         "kind %s esp %#x cr2 %#x", cpu_stop_kind_name(k), th->cpu.regs[CPU_ESP], th->cpu.cr2);

	th->cpu.regs[CPU_ESP] = 0x501010;
	th_put32(th, 0x501000, 0xdeadbeef);
	k = RUN(th, 5, &st, 0x60 /* pusha */);
	th_check("pusha across into an unmapped page writes nothing",
	         is_exception(k, &st, CPU_PF, true, 2) && th->cpu.regs[CPU_ESP] == 0x501010 &&
	         th_get32(th, 0x501000) == 0xdeadbeef,
	         "kind %s esp %#x mem %#x", cpu_stop_kind_name(k), th->cpu.regs[CPU_ESP],
	         th_get32(th, 0x501000));

	th_set_perm(th, 0x3000, TH_P | TH_U);
	th_put32(th, 0x2ffc, 0x11111111);
	k = RUN(th, 5, &st, 0xc7, 0x05, 0xfe, 0x2f, 0x00, 0x00, 0x44, 0x33, 0x22, 0x11 /* movl $0x11223344,0x2ffe */);
	th_check("a write straddling into a read-only page writes nothing",
	         is_exception(k, &st, CPU_PF, true, 3) && th_get32(th, 0x2ffc) == 0x11111111 &&
	         th->cpu.cr2 == 0x3000,
	         "kind %s error %#x mem %#x cr2 %#x", cpu_stop_kind_name(k), st.error,
	         th_get32(th, 0x2ffc), th->cpu.cr2);
	th_set_perm(th, 0x3000, TH_P | TH_W | TH_U);
	th->cpu.regs[CPU_ESP] = 0x800000;
	k = RUN(th, 1, &st, 0xc7, 0x05, 0xfe, 0x2f, 0x00, 0x00, 0x44, 0x33, 0x22, 0x11);
	th_check("a write straddling two pages lands in both",
	         k == CPU_STOP_BUDGET && th_get32(th, 0x2ffc) == 0x33441111 &&
	         th_get32(th, 0x3000) == 0x1122,
	         "kind %s mem %#x %#x", cpu_stop_kind_name(k), th_get32(th, 0x2ffc), th_get32(th, 0x3000));

	th->hook = stop_on_page_600;
	th->cpu.regs[CPU_EAX] = 0x600000;
	th->cpu.regs[CPU_ECX] = 1;
	k = RUN(th, 10, &st, 0x41, /* inc %ecx */ 0x8b, 0x18 /* mov (%eax),%ebx */);
	th_check("XLATE_STOP stops before the instruction",
	         k == CPU_STOP_HOST && st.eip == CODE + 1 && th->cpu.eip == CODE + 1 &&
	         th->cpu.regs[CPU_ECX] == 2,
	         "kind %s eip %#x ecx %u", cpu_stop_kind_name(k), st.eip, th->cpu.regs[CPU_ECX]);
	th->hook = NULL;

	struct cpu_host_ops ops = th->ops;
	ops.exec = stop_at_second;
	th->cpu.ops = &ops;
	th->cpu.exec_hook = true;
	uint64_t before = th->cpu.icount;
	k = RUN(th, 10, &st, 0x90, 0x90, 0x90);
	th_check("exec hook stops before the instruction",
	         k == CPU_STOP_EXEC_HOOK && th->cpu.eip == CODE + 1 && th->cpu.icount == before + 1,
	         "kind %s eip %#x", cpu_stop_kind_name(k), th->cpu.eip);
	th->cpu.ignore_exec_hook_once = true;
	k = cpu_run(&th->cpu, 2, &st);
	th_check("ignore_exec_hook_once steps over it", k == CPU_STOP_BUDGET && th->cpu.eip == CODE + 3,
	         "kind %s eip %#x", cpu_stop_kind_name(k), th->cpu.eip);
	th->cpu.exec_hook = false;
	th->cpu.ops = &th->ops;

	cpu_request_stop(&th->cpu);
	before = th->cpu.icount;
	k = RUN(th, 10, &st, 0x90);
	th_check("a stop request ends the run at a boundary",
	         k == CPU_STOP_REQUEST && th->cpu.icount == before && th->cpu.stop_requested == 0,
	         "kind %s", cpu_stop_kind_name(k));
	th_destroy(th);
}

/*
 * Faults are precise for every instruction that writes more than one
 * thing: after the fault all registers, eflags and eip are as before.
 * 0x500000 is read-only, 0x600000 is not mapped, 0x100000 holds a far
 * pointer with a selector beyond the GDT.
 */
static void test_precise_table(void)
{
	static const struct {
		const char *name;
		uint8_t bytes[8];
		unsigned len;
		uint32_t esp, ebp;
		uint8_t vector;
	} cases[] = {
		{ "pop to an unmapped esp-relative slot", { 0x8f, 0x44, 0x24, 0x04 }, 4, 0x5ffff8, 0, CPU_PF },
		{ "xadd to read-only memory", { 0x0f, 0xc1, 0x03 }, 3, 0, 0, CPU_PF },
		{ "xchg with read-only memory", { 0x87, 0x03 }, 2, 0, 0, CPU_PF },
		{ "cmpxchg with read-only memory", { 0x0f, 0xb1, 0x0b }, 3, 0, 0, CPU_PF },
		{ "cmpxchg8b with read-only memory", { 0x0f, 0xc7, 0x0b }, 3, 0, 0, CPU_PF },
		{ "les with a bad selector", { 0xc4, 0x02 }, 2, 0, 0, CPU_GP },
		{ "lds with a bad selector", { 0xc5, 0x0a }, 2, 0, 0, CPU_GP },
		{ "lodsl from an unmapped page", { 0xad }, 1, 0, 0, CPU_PF },
		{ "movsl from an unmapped page", { 0xa5 }, 1, 0, 0, CPU_PF },
		{ "stosl to read-only memory", { 0xab }, 1, 0, 0, CPU_PF },
		{ "call with an unmapped stack", { 0xff, 0xd0 }, 2, 0x601000, 0, CPU_PF },
		{ "push from an unmapped page", { 0xff, 0x36 }, 2, 0, 0, CPU_PF },
		{ "ret with an unmapped stack", { 0xc3 }, 1, 0x600010, 0, CPU_PF },
		{ "far call with an unmapped stack", { 0x9a, 0x00, 0x20, 0x00, 0x00, 0x19, 0x00 }, 7,
		  0x601000, 0, CPU_PF },
		{ "enter reading an unmapped frame", { 0xc8, 0x08, 0x00, 0x03 }, 4, 0, 0x600ffc, CPU_PF },
		{ "popa from an unmapped stack", { 0x61 }, 1, 0x600000, 0, CPU_PF },
		{ "inc of read-only memory", { 0xff, 0x03 }, 2, 0, 0, CPU_PF },
		{ "shl of read-only memory", { 0xd1, 0x23 }, 2, 0, 0, CPU_PF },
		{ "bts on read-only memory", { 0x0f, 0xab, 0x03 }, 3, 0, 0, CPU_PF },
	};
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct testhost *th = host_at(1, 0x8d7); /* CF PF AF ZF SF OF set */
		struct cpu_stop st;
		th_set_perm(th, 0x500000, TH_P | TH_U);
		th_set_perm(th, 0x600000, 0);
		th_put32(th, DATA, 0x1000);
		th_put32(th, DATA + 4, 0x100);
		uint32_t regs[8] = { 0x11, 0x22, DATA, 0x500000, 0x800000, 0x800100, 0x600000, 0x500010 };
		if (cases[i].esp)
			regs[CPU_ESP] = cases[i].esp;
		if (cases[i].ebp)
			regs[CPU_EBP] = cases[i].ebp;
		memcpy(th->cpu.regs, regs, sizeof(regs));
		for (uint32_t a = 0x7fff00; a < 0x800000; a += 4)
			th_put32(th, a, 0xa5a5a5a5);
		th_put(th, CODE, cases[i].bytes, cases[i].len);
		th->cpu.eip = CODE;
		enum cpu_stop_kind k = cpu_run(&th->cpu, 1, &st);
		bool stack_untouched = true;
		for (uint32_t a = 0x7fff00; a < 0x800000; a += 4)
			stack_untouched = stack_untouched && th_get32(th, a) == 0xa5a5a5a5;
		char name[96];
		snprintf(name, sizeof(name), "precise: %s", cases[i].name);
		th_check(name,
		         k == CPU_STOP_EXCEPTION && st.vector == cases[i].vector &&
		         memcmp(th->cpu.regs, regs, sizeof(regs)) == 0 && th->cpu.eip == CODE &&
		         cpu_get_eflags(&th->cpu) == 0x8d7 && stack_untouched &&
		         th->cpu.seg[CPU_CS].selector == (TH_SEL_CODE1 | 1),
		         "kind %s vector %u eax %#x ecx %#x edx %#x esp %#x ebp %#x esi %#x edi %#x "
		         "eflags %#x stack %s",
		         cpu_stop_kind_name(k), st.vector, th->cpu.regs[0], th->cpu.regs[1],
		         th->cpu.regs[2], th->cpu.regs[4], th->cpu.regs[5], th->cpu.regs[6],
		         th->cpu.regs[7], cpu_get_eflags(&th->cpu), stack_untouched ? "ok" : "written");
		th_destroy(th);
	}

	/* loop to a target beyond the CS limit: #GP(0) with ecx unchanged. */
	struct testhost *th = host_at(1, 0x002);
	struct cpu_stop st;
	th->gdt[8] = th_descriptor(0, 0x1010, 0xb, 1, true, true, false);
	cpu_load_segment_raw(&th->cpu, CPU_CS, 0x41);
	th->cpu.regs[CPU_ECX] = 5;
	enum cpu_stop_kind k = RUN(th, 1, &st, 0xe2, 0x7f /* loop .+0x81 */);
	th_check("precise: loop beyond the cs limit keeps ecx",
	         k == CPU_STOP_EXCEPTION && st.vector == CPU_GP && th->cpu.regs[CPU_ECX] == 5,
	         "kind %s vector %u ecx %u", cpu_stop_kind_name(k), st.vector, th->cpu.regs[CPU_ECX]);
	th_destroy(th);
}

/* rep string instructions: one instruction per iteration, resumable. */
static void test_rep_budget(void)
{
	struct testhost *th = host_at(3, 0x202);
	struct cpu_stop st;
	for (unsigned i = 0; i < 100; i++)
		th->ram[DATA + i] = (uint8_t)(i + 1);
	th->cpu.regs[CPU_ESI] = DATA;
	th->cpu.regs[CPU_EDI] = 0x200000;
	th->cpu.regs[CPU_ECX] = 100;
	uint64_t before = th->cpu.icount;
	enum cpu_stop_kind k = RUN(th, 30, &st, 0xf3, 0xa4, /* rep movsb */ 0xcc /* int3 */);
	th_check("rep movsb stops after exactly the budget",
	         k == CPU_STOP_BUDGET && th->cpu.eip == CODE && th->cpu.regs[CPU_ECX] == 70 &&
	         th->cpu.regs[CPU_ESI] == DATA + 30 && th->cpu.icount == before + 30 &&
	         th->ram[0x200000 + 29] == 30 && th->ram[0x200000 + 30] == 0,
	         "kind %s eip %#x ecx %u", cpu_stop_kind_name(k), th->cpu.eip, th->cpu.regs[CPU_ECX]);
	k = cpu_run(&th->cpu, 1000, &st);
	th_check("rep movsb resumes and completes",
	         k == CPU_STOP_EXCEPTION && st.vector == 3 && th->cpu.regs[CPU_ECX] == 0 &&
	         th->cpu.icount == before + 100 && memcmp(th->ram + DATA, th->ram + 0x200000, 100) == 0,
	         "kind %s ecx %u icount %llu", cpu_stop_kind_name(k), th->cpu.regs[CPU_ECX],
	         (unsigned long long)(th->cpu.icount - before));

	th->cpu.regs[CPU_EDI] = 0x200000;
	th->cpu.regs[CPU_ECX] = 100;
	th->cpu.regs[CPU_EAX] = 31;
	k = RUN(th, 1000, &st, 0xf2, 0xae, /* repne scasb */ 0xcc);
	th_check("repne scasb stops at the match",
	         k == CPU_STOP_EXCEPTION && th->cpu.regs[CPU_EDI] == 0x200000 + 31 &&
	         th->cpu.regs[CPU_ECX] == 69 && (cpu_get_eflags(&th->cpu) & EFLAGS_ZF),
	         "edi %#x ecx %u", th->cpu.regs[CPU_EDI], th->cpu.regs[CPU_ECX]);

	th_set_perm(th, 0x201000, 0);
	th->cpu.regs[CPU_EDI] = 0x200ffe;
	th->cpu.regs[CPU_ECX] = 10;
	k = RUN(th, 1000, &st, 0xf3, 0xaa /* rep stosb */);
	th_check("rep stosb faults mid-way with the iterations done kept",
	         is_exception(k, &st, CPU_PF, true, 6) && th->cpu.regs[CPU_ECX] == 8 &&
	         th->cpu.regs[CPU_EDI] == 0x201000 && th->cpu.eip == CODE,
	         "kind %s ecx %u edi %#x", cpu_stop_kind_name(k), th->cpu.regs[CPU_ECX],
	         th->cpu.regs[CPU_EDI]);
	th_destroy(th);
}

/* Self-modifying code is seen at once, and so are host writes. */
static void test_self_modifying(void)
{
	struct testhost *th = host_at(1, 0x002);
	struct cpu_stop st;
	enum cpu_stop_kind k = RUN(th, 10, &st,
		0xc6, 0x05, 0x08, 0x10, 0x00, 0x00, 0x42, /* movb $0x42,0x1008 */
		0xb0, 0x00,                               /* 0x1007: mov $0,%al */
		0xcc,                                     /* int3 */
	);
	th_check("self-modifying code is seen", k == CPU_STOP_EXCEPTION &&
	         (th->cpu.regs[CPU_EAX] & 0xff) == 0x42, "kind %s eax %#x", cpu_stop_kind_name(k),
	         th->cpu.regs[CPU_EAX]);
	static const uint8_t patched[] = { 0xb0, 0x17, 0xcc };
	th_put(th, CODE, patched, sizeof(patched));
	th->cpu.eip = CODE;
	k = cpu_run(&th->cpu, 10, &st);
	th_check("host-patched code is seen", k == CPU_STOP_EXCEPTION &&
	         (th->cpu.regs[CPU_EAX] & 0xff) == 0x17, "eax %#x", th->cpu.regs[CPU_EAX]);
	th_destroy(th);
}

/* TF: a single-step #DB trap after each instruction, eip past it (SDM Vol. 3 §17.3.1.4). */
static void test_single_step(void)
{
	struct testhost *th = host_at(3, 0x302);
	struct cpu_stop st;
	uint64_t before = th->cpu.icount;
	enum cpu_stop_kind k = RUN(th, 10, &st, 0x40, /* inc %eax */ 0x40);
	th_check("TF traps with #DB after one instruction",
	         k == CPU_STOP_EXCEPTION && st.vector == CPU_DB && !st.soft_int && !st.has_error &&
	         st.eip == CODE + 1 && th->cpu.eip == CODE + 1 && th->cpu.icount == before + 1 &&
	         th->cpu.regs[CPU_EAX] == 1,
	         "kind %s vector %u eip %#x", cpu_stop_kind_name(k), st.vector, st.eip);
	cpu_set_eflags(&th->cpu, 0x202);
	th->cpu.regs[CPU_EBX] = 0x302;
	k = RUN(th, 3, &st, 0x53, /* push %ebx */ 0x9d, /* popf */ 0x40, 0x40);
	th_check("popf setting TF traps after the next instruction",
	         k == CPU_STOP_EXCEPTION && st.vector == CPU_DB && st.eip == CODE + 3,
	         "kind %s vector %u eip %#x", cpu_stop_kind_name(k), st.vector, st.eip);
	th_destroy(th);
}

/* The unprivileged reporters return the documented values. */
static void test_reporters(void)
{
	struct testhost *th = host_at(3, 0x202);
	struct cpu_stop st;
	th->cpu.regs[CPU_EAX] = DATA;
	enum cpu_stop_kind k = RUN(th, 3, &st,
		0x0f, 0x01, 0x00, /* sgdtl (%eax) */
		0x0f, 0x01, 0xe1, /* smsw %ecx */
		0x0f, 0xa2,       /* cpuid */
	);
	th_check("sgdt at cpl3 reports the host gdt size",
	         k == CPU_STOP_BUDGET && (th_get32(th, DATA) & 0xffff) == TH_GDT_ENTRIES * 8 - 1,
	         "kind %s limit %#x", cpu_stop_kind_name(k), th_get32(th, DATA) & 0xffff);
	th_check("cpuid asks the host", th->cpu.regs[CPU_EAX] == DATA &&
	         th->cpu.regs[CPU_ECX] == 0x6c65746e, "eax %#x", th->cpu.regs[CPU_EAX]);
	th_destroy(th);
}

int main(void)
{
	test_popf();
	test_iret_flags();
	test_soft_int();
	test_page_fault();
	test_privileged();
	test_faults();
	test_ring_transitions();
	test_far_transfers();
	test_segment_loads();
	test_segment_limits();
	test_translation();
	test_precise();
	test_precise_table();
	test_rep_budget();
	test_self_modifying();
	test_reporters();
	test_single_step();
	return th_finish();
}
