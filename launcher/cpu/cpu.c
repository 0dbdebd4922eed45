/*
 * The interpreter's run loop and life cycle.
 *
 * cpu_run() executes one instruction after another until something needs
 * the host: the budget is spent, an exception or software interrupt
 * happened, or somebody asked it to stop.  Exceptions unwind with longjmp
 * from cpu_raise() to the single setjmp in cpu_run(); every instruction is
 * written so that nothing architectural changes before its last possible
 * fault, which is what makes the faults precise.
 */
#include <stdlib.h>
#include <string.h>

#include "core.h"

/* Refresh every derived view of the state the host may have edited directly. */
void cpu_resync(struct cpu *cpu)
{
	for (int s = 0; s < CPU_NSREGS; s++)
		seg_window_refresh(cpu, (enum cpu_sreg)s);
	cpu_set_cpl(cpu, cpu->cpl);
}

/* Power-on state: everything zero, segments unusable, paging and WP on. */
void cpu_init(struct cpu *cpu, const struct cpu_host_ops *ops, void *opaque)
{
	memset(cpu, 0, sizeof(*cpu));
	cpu->priv = calloc(1, sizeof(*cpu->priv));
	if (!cpu->priv)
		abort();
	cpu->ops = ops;
	cpu->opaque = opaque;
	cpu->cr0 = CR0_PE | CR0_PG | CR0_WP | CR0_NE | CR0_MP;
	cpu->eflags = EFLAGS_FIXED1;
	dcache_init(cpu);
	x87_reset(&cpu->fpu);
	cpu_tlb_flush(cpu);
	cpu_resync(cpu);
}

/* Release what cpu_init() allocated. */
void cpu_destroy(struct cpu *cpu)
{
	dcache_destroy(cpu);
	free(cpu->priv);
	cpu->priv = NULL;
}

/* Change privilege level: the TLB class and the code-page cache follow. */
void cpu_set_cpl(struct cpu *cpu, unsigned cpl)
{
	cpu->cpl = cpl;
	cpu->priv->tlb_cur = cpu->tlb[cpl == 3];
	fetch_invalidate(cpu);
}

/* End the current instruction with `kind`; the state rolls back to its start. */
_Noreturn void cpu_stop_now(struct cpu *cpu, enum cpu_stop_kind kind)
{
	struct cpu_stop *st = cpu->priv->stop;
	memset(st, 0, sizeof(*st));
	st->kind = kind;
	longjmp(*cpu->priv->catcher, 1);
}

/* Raise a fault: stop with the vector and error code, eip at the instruction. */
_Noreturn void cpu_raise(struct cpu *cpu, uint8_t vector, bool has_error, uint32_t error)
{
	struct cpu_stop *st = cpu->priv->stop;
	memset(st, 0, sizeof(*st));
	st->kind = CPU_STOP_EXCEPTION;
	st->vector = vector;
	st->has_error = has_error;
	st->error = has_error ? error : 0;
	if (vector == CPU_PF)
		st->addr = cpu->cr2;
	longjmp(*cpu->priv->catcher, 1);
}

/* A software interrupt: like a fault, but the host also learns where to return. */
_Noreturn void cpu_raise_soft(struct cpu *cpu, uint8_t vector, uint32_t next_eip)
{
	struct cpu_stop *st = cpu->priv->stop;
	memset(st, 0, sizeof(*st));
	st->kind = CPU_STOP_EXCEPTION;
	st->vector = vector;
	st->soft_int = true;
	st->next_eip = next_eip;
	longjmp(*cpu->priv->catcher, 1);
}

/* Stop at an opcode we do not implement, keeping the bytes for the message. */
_Noreturn void cpu_unimplemented(struct cpu *cpu)
{
	struct cpu_stop *st = cpu->priv->stop;
	memset(st, 0, sizeof(*st));
	st->kind = CPU_STOP_UNIMPLEMENTED;
	uint32_t la = cpu->seg[CPU_CS].base + cpu->priv->insn_eip;
	uint32_t n = 0;
	while (n < sizeof(st->insn) && cpu_read_linear(cpu, la + n, &st->insn[n], 1))
		n++;
	st->insn_len = (uint8_t)n;
	longjmp(*cpu->priv->catcher, 1);
}

/*
 * Finish a stop: the instruction did not happen, so the state goes back to
 * its start.  General registers were never touched before the fault; the
 * flags and the x87 unit may have been, so their snapshots come back.
 */
static void unwind_instruction(struct cpu *cpu)
{
	struct cpu_private *p = cpu->priv;
	cpu->eip = p->insn_eip;
	cpu->eflags = p->eflags_saved;
	p->lf = p->lf_saved;
	if (p->fpu_saved_valid)
		cpu->fpu = p->fpu_saved;
	p->fpu_saved_valid = false;
	p->after = 0;
	/* A raise may come from the middle of a segment load or a CPL change. */
	for (int s = 0; s < CPU_NSREGS; s++)
		seg_window_refresh(cpu, (enum cpu_sreg)s);
	if (p->tlb_cur != cpu->tlb[cpu->cpl == 3])
		cpu_set_cpl(cpu, cpu->cpl);
}

/* Fill in a stop that is not an exception. */
static enum cpu_stop_kind stop_with(struct cpu *cpu, struct cpu_stop *stop, enum cpu_stop_kind kind)
{
	memset(stop, 0, sizeof(*stop));
	stop->kind = kind;
	stop->eip = cpu->eip;
	if (kind == CPU_STOP_WATCH)
		stop->addr = cpu->priv->watch_addr;
	if (kind == CPU_STOP_EXCEPTION) { /* the single-step trap: eip is past the instruction */
		stop->vector = CPU_DB;
		stop->next_eip = cpu->eip;
	}
	return kind;
}

/*
 * Run until something needs the host.  exec_run() (exec.c) is the
 * instruction loop; exceptions come back here through the setjmp.
 */
enum cpu_stop_kind cpu_run(struct cpu *cpu, uint64_t budget, struct cpu_stop *stop)
{
	struct cpu_private *p = cpu->priv;
	jmp_buf here;
	jmp_buf *outer = p->catcher;
	enum cpu_stop_kind kind;

	cpu_resync(cpu);
	p->stop = stop;
	p->catcher = &here;
	const uint64_t end = budget > UINT64_MAX - cpu->icount ? UINT64_MAX : cpu->icount + budget;
	if (setjmp(here)) {
		unwind_instruction(cpu);
		stop->eip = cpu->eip;
		kind = stop->kind;
		goto out;
	}
	kind = stop_with(cpu, stop, exec_run(cpu, end));
out:
	flags_materialize(cpu);
	p->catcher = outer;
	return kind;
}

/* Signal-safe: just a flag the loop polls. */
void cpu_request_stop(struct cpu *cpu)
{
	cpu->stop_requested = 1;
}

uint32_t cpu_get_eflags(struct cpu *cpu)
{
	flags_materialize(cpu);
	return cpu->eflags;
}

void cpu_set_eflags(struct cpu *cpu, uint32_t eflags)
{
	cpu->priv->lf.op = LF_NONE;
	cpu->eflags = (eflags | EFLAGS_FIXED1) & ~0xffc08028u;
}

const char *cpu_stop_kind_name(enum cpu_stop_kind kind)
{
	switch (kind) {
	case CPU_STOP_BUDGET: return "budget";
	case CPU_STOP_EXCEPTION: return "exception";
	case CPU_STOP_HLT: return "hlt";
	case CPU_STOP_UNIMPLEMENTED: return "unimplemented";
	case CPU_STOP_EXEC_HOOK: return "exec-hook";
	case CPU_STOP_WATCH: return "watch";
	case CPU_STOP_REQUEST: return "request";
	case CPU_STOP_HOST: return "host";
	}
	return "unknown";
}

void cpu_eflags_names(uint32_t eflags, char *buf, unsigned len)
{
	static const struct { uint32_t bit; const char *name; } flags[] = {
		{EFLAGS_CF, "CF"}, {EFLAGS_PF, "PF"}, {EFLAGS_AF, "AF"}, {EFLAGS_ZF, "ZF"}, {EFLAGS_SF, "SF"},
		{EFLAGS_TF, "TF"}, {EFLAGS_IF, "IF"}, {EFLAGS_DF, "DF"}, {EFLAGS_OF, "OF"}, {EFLAGS_NT, "NT"},
		{EFLAGS_RF, "RF"}, {EFLAGS_VM, "VM"},
	};
	unsigned used = 0;
	if (len)
		buf[0] = '\0';
	for (unsigned i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		if (!(eflags & flags[i].bit) || used + 4 > len)
			continue;
		if (used)
			buf[used++] = ' ';
		buf[used++] = flags[i].name[0];
		buf[used++] = flags[i].name[1];
		buf[used] = '\0';
	}
}
