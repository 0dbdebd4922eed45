/*
 * Lazy arithmetic flags.
 *
 * Most instructions that set flags are followed by one that overwrites
 * them, so add/sub/logic only record their operands and result
 * (struct lazy_flags); the six arithmetic flags are computed when
 * something reads them.  Conditions after a compare are answered straight
 * from the operands.
 */
#include "core.h"

/* The arithmetic flags as they are now (eflags or the pending operation). */
uint32_t flags_arith(const struct cpu *cpu)
{
	const struct lazy_flags *lf = &cpu->priv->lf;
	if (lf->op == LF_NONE)
		return cpu->eflags & EFLAGS_ARITH;
	unsigned size = lf->size;
	uint32_t m = size_mask(size);
	uint32_t sign = 1u << (size * 8 - 1);
	uint32_t a = lf->a & m, b = lf->b & m, res = lf->res & m;
	uint32_t f = flags_szp(res, size);
	switch (lf->op) {
	case LF_ADD:
	case LF_ADC:
		if (lf->op == LF_ADD ? res < a : (res < a || (lf->carry && res == a)))
			f |= EFLAGS_CF;
		if ((a ^ res) & (b ^ res) & sign)
			f |= EFLAGS_OF;
		f |= (a ^ b ^ res) & EFLAGS_AF;
		break;
	case LF_SUB:
	case LF_SBB:
		if ((uint64_t)a < (uint64_t)b + (lf->op == LF_SBB ? lf->carry : 0))
			f |= EFLAGS_CF;
		if ((a ^ b) & (a ^ res) & sign)
			f |= EFLAGS_OF;
		f |= (a ^ b ^ res) & EFLAGS_AF;
		break;
	case LF_INC:
		f |= lf->carry;
		if (res == sign)
			f |= EFLAGS_OF;
		f |= (a ^ 1 ^ res) & EFLAGS_AF;
		break;
	case LF_DEC:
		f |= lf->carry;
		if (res == sign - 1)
			f |= EFLAGS_OF;
		f |= (a ^ 1 ^ res) & EFLAGS_AF;
		break;
	default: /* LF_LOGIC: CF, OF and AF clear */
		break;
	}
	return f;
}

/* CF alone, without computing the other five (adc, sbb, inc, dec, rcl, rcr). */
uint32_t flags_cf(const struct cpu *cpu)
{
	const struct lazy_flags *lf = &cpu->priv->lf;
	uint32_t m = size_mask(lf->size);
	switch (lf->op) {
	case LF_NONE: return cpu->eflags & EFLAGS_CF;
	case LF_ADD: return (lf->res & m) < (lf->a & m);
	case LF_SUB: return (lf->a & m) < (lf->b & m);
	case LF_INC:
	case LF_DEC: return lf->carry;
	case LF_LOGIC: return 0;
	default: return flags_arith(cpu) & EFLAGS_CF;
	}
}

/* Fold a pending operation into cpu->eflags. */
void flags_materialize(struct cpu *cpu)
{
	if (cpu->priv->lf.op == LF_NONE)
		return;
	uint32_t f = flags_arith(cpu);
	cpu->eflags = (cpu->eflags & ~EFLAGS_ARITH) | f;
	cpu->priv->lf.op = LF_NONE;
}
