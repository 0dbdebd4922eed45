/*
 * Trap paths at CPL 1 (addendum §A6, §A7): direct trap gates, reflected
 * faults, #GP emulation of cli and port I/O, and software int rules.
 * Each stub records the frame the guest received in trap_rec.
 */
#include "../common.h"

TRAP_STUB(de_trap_stub, 0, 0);
TRAP_STUB(de_intr_stub, 100, 0);
TRAP_STUB(bp_stub, 3, 0);
TRAP_STUB(ud_stub, 6, 0);
TRAP_STUB(gp_stub, 13, 1);
TRAP_STUB(int40_stub, 0x40, 0);

/* Address of a labelled instruction, for comparing with frame eips. */
#define LABEL_ADDRESS(name) ({ extern char name[]; (u32)name; })

/* Run one faulting instruction; returns how many traps it caused. */
#define TRAPS_DURING(insn)                                          \
	({                                                          \
		u32 before_ = trap_rec.count;                       \
		RUN_FAULTING(".globl " #insn "_at\n" #insn "_at: " insn_##insn, : : : "memory", "eax"); \
		trap_rec.count - before_;                           \
	})

#define insn_hlt "hlt"
#define insn_movcr3 "movl %%cr3, %%eax"
#define insn_sti "sti"
#define insn_int40 "int $0x40"
#define insn_int3 ".byte 0xcd, 0x03"
#define insn_int14 "int $14"
#define insn_ud2 "ud2"

/* A divide by zero with its own label, for the eip check. */
static __attribute__((noinline)) u32 divide_traps(void)
{
	u32 before = trap_rec.count;
	asm volatile("movl $1f, trap_resume\n"
	             ".globl divide_at\n"
	             "divide_at: divl %%ecx\n"
	             "1:" : : "a"(1), "d"(0), "c"(0) : "memory");
	return trap_rec.count - before;
}

/* `in` of each width with a marker in eax; returns the resulting eax. */
static u32 in_byte(void)
{
	u32 eax = 0x12345678;
	asm volatile("inb $0x60, %%al" : "+a"(eax) : : "memory");
	return eax;
}

static u32 in_word(void)
{
	u32 eax = 0x12345678;
	asm volatile("inw $0x60, %%ax" : "+a"(eax) : : "memory");
	return eax;
}

static u32 in_long(void)
{
	u32 eax = 0x12345678;
	asm volatile("inl $0x60, %%eax" : "+a"(eax) : : "memory");
	return eax;
}

static u32 in_byte_dx(void)
{
	u32 eax = 0x12345678;
	asm volatile("inb %%dx, %%al" : "+a"(eax) : "d"(0x3f8) : "memory");
	return eax;
}

void guest_main(void)
{
	guest_init();
	set_gate(0, de_trap_stub, GATE_TRAP, 0);
	set_gate(13, gp_stub, GATE_INTERRUPT, 0);

	/* §A6.1 + §A6.4: #DE through a trap gate goes direct: the frame has
	 * the faulting eip, cs 0x61, IF = 1 whatever irq_enabled says, and
	 * irq_enabled is not touched. */
	lg_data.irq_enabled = 0;
	check("#DE trap gate taken", divide_traps(), 1);
	check("#DE vector", trap_rec.vector, 0);
	check("#DE frame eip", trap_rec.eip, LABEL_ADDRESS(divide_at));
	check("#DE frame cs", trap_rec.cs, 0x61);
	check("#DE frame IF = 1 (direct)", trap_rec.eflags & 0x200, 0x200);
	check("#DE direct leaves irq_enabled", lg_data.irq_enabled, 0);
	lg_data.irq_enabled = 0x200;
	divide_traps();
	check("#DE direct leaves irq_enabled 0x200", trap_rec.irq_enabled, 0x200);

	/* §A6.1: through an interrupt gate #DE is reflected by the host:
	 * IF pushed from irq_enabled (§A6.2 step 2), irq_enabled cleared
	 * (step 7). */
	set_gate(0, de_intr_stub, GATE_INTERRUPT, 0);
	lg_data.irq_enabled = 0x200;
	check("#DE interrupt gate taken", divide_traps(), 1);
	check("#DE interrupt gate stub", trap_rec.vector, 100);
	check("#DE reflected frame eip", trap_rec.eip, LABEL_ADDRESS(divide_at));
	check("#DE reflected frame IF from irq_enabled", trap_rec.eflags & 0x200, 0x200);
	check("#DE interrupt gate clears irq_enabled", lg_data.irq_enabled, 0);
	divide_traps();
	check("#DE reflected IF clear when disabled", trap_rec.eflags & 0x200, 0);
	lg_data.irq_enabled = 0x200;

	/* §A7: privileged instructions other than cli and port I/O are
	 * reflected as #GP(0), eip at the instruction. */
	check("hlt -> #GP", TRAPS_DURING(hlt), 1);
	check("hlt #GP vector", trap_rec.vector, 13);
	check("hlt #GP error code", trap_rec.err, 0);
	check("hlt #GP eip", trap_rec.eip, LABEL_ADDRESS(hlt_at));
	check("mov cr3 -> #GP", TRAPS_DURING(movcr3), 1);
	check("mov cr3 #GP error code", trap_rec.err, 0);
	check("sti -> #GP", TRAPS_DURING(sti), 1);
	check("sti #GP error code", trap_rec.err, 0);

	/* §A7: cli at CPL 1 is skipped silently; irq_enabled untouched. */
	lg_data.irq_enabled = 0x200;
	u32 before = trap_rec.count;
	asm volatile("cli" ::: "memory");
	check("cli skipped without a trap", trap_rec.count - before, 0);
	check("cli leaves irq_enabled", lg_data.irq_enabled, 0x200);

	/* §A7 table, 3.19 column: in writes ones, out is dropped. */
	before = trap_rec.count;
	check("inb imm: AL = 0xff, rest kept", in_byte(), 0x123456ff);
	check("inw imm: low 16 bits ones", in_word(), 0x1234ffff);
	check("inl imm: all ones", in_long(), 0xffffffff);
	check("inb dx: AL = 0xff", in_byte_dx(), 0x123456ff);
	asm volatile("outb %%al, $0x80\n\toutl %%eax, %%dx" : : "a"(0), "d"(0x3f8) : "memory");
	check("in/out emulated without a trap", trap_rec.count - before, 0);

	/* §A6.3: int $0x40 at CPL 1 is #GP(0x40*8+2) even with a gate. */
	set_gate(0x40, int40_stub, GATE_TRAP, 3);
	check("int $0x40 -> #GP", TRAPS_DURING(int40), 1);
	check("int $0x40 #GP vector", trap_rec.vector, 13);
	check("int $0x40 #GP error code", trap_rec.err, 0x202);
	check("int $0x40 #GP eip at the int", trap_rec.eip, LABEL_ADDRESS(int40_at));
	/* §A6.3: int 14 always #GP(14*8+2). */
	check("int $14 -> #GP", TRAPS_DURING(int14), 1);
	check("int $14 #GP error code", trap_rec.err, 0x72);
	/* §A6.3: int 3 with a never-loaded gate counts as DPL 0: #GP(0x1a). */
	check("int $3 without gate -> #GP", TRAPS_DURING(int3), 1);
	check("int $3 #GP error code", trap_rec.err, 0x1a);
	/* §A6.3: with a DPL-1 trap gate, int 3 goes direct; eip after it. */
	set_gate(3, bp_stub, GATE_TRAP, 1);
	u32 after_int3;
	before = trap_rec.count;
	asm volatile(".byte 0xcd, 0x03\n1:\n\tmovl $1b, %0" : "=r"(after_int3) : : "memory");
	check("int $3 via DPL-1 trap gate", trap_rec.count - before, 1);
	check("int $3 vector", trap_rec.vector, 3);
	check("int $3 frame eip after the int", trap_rec.eip, after_int3);

	/* §A6.1: #UD (6) through a trap gate goes direct. */
	set_gate(6, ud_stub, GATE_TRAP, 0);
	check("ud2 -> #UD", TRAPS_DURING(ud2), 1);
	check("#UD vector", trap_rec.vector, 6);
	check("#UD eip", trap_rec.eip, LABEL_ADDRESS(ud2_at));
	finish();
}
