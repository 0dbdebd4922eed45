/*
 * The decoded-instruction cache: filling entries from instruction bytes,
 * and forgetting them when their page is written.
 *
 * Each physical page has a generation (cpu->priv->page_gen).  It is odd
 * while decoded entries of the page may exist; an entry is valid only
 * while its recorded generation equals the page's.  Making a page odd
 * also takes write permission out of every TLB entry that maps it, and
 * resolve_page() never caches it again while the page stays odd, so all
 * guest writes to such a page reach lin_copy_as(), which calls
 * dcache_page_written().  The host reports its own writes through
 * cpu_code_modified().  Either way the generation moves on and the page
 * becomes even (writable through the TLB) until code is decoded there
 * again.
 */
#include <stdlib.h>

#include "core.h"

/* Allocate the cache and the page generations (all zero: no code anywhere). */
void dcache_init(struct cpu *cpu)
{
	struct cpu_private *p = cpu->priv;
	p->dcache = calloc(DC_ENTRIES, sizeof(*p->dcache));
	p->page_gen = calloc(DC_PAGES, sizeof(*p->page_gen));
	if (!p->dcache || !p->page_gen)
		abort();
}

void dcache_destroy(struct cpu *cpu)
{
	free(cpu->priv->dcache);
	free(cpu->priv->page_gen);
	cpu->priv->dcache = NULL;
	cpu->priv->page_gen = NULL;
}

/* A page now holds decoded code: no TLB entry may let writes to it bypass the slow path. */
static void tlb_revoke_writes(struct cpu *cpu, uint32_t phys_page)
{
	for (int c = 0; c < 2; c++)
		for (unsigned i = 0; i < CPU_TLB_SIZE; i++) {
			struct cpu_tlb_entry *e = &cpu->tlb[c][i];
			if (e->tag_write != CPU_TLB_INVALID && e->phys_page == phys_page)
				e->tag_write = CPU_TLB_INVALID;
		}
}

/* A write reached a physical page: its decoded entries are stale from now on. */
void dcache_page_written(struct cpu *cpu, uint32_t phys_page)
{
	uint32_t *gen = &cpu->priv->page_gen[phys_page >> 12];
	if (*gen & 1)
		++*gen;
}

/*
 * Decode a ModRM operand starting at bytes[pos] (the ModRM byte) into the
 * entry's register or memory fields, with the 32-bit addressing rules of
 * decode_ea().  Returns the position after it, or 0 when the bytes run
 * out before the operand ends.
 */
static unsigned decode_modrm(const uint8_t *bytes, uint32_t avail, unsigned pos, struct dc_entry *e,
                             uint8_t *modrm_out)
{
	if (pos >= avail)
		return 0;
	uint8_t modrm = bytes[pos++];
	unsigned mod = modrm >> 6, rm = modrm & 7;
	*modrm_out = modrm;
	e->base = e->index = DC_NOREG;
	e->scale = 0;
	e->seg = CPU_DS;
	e->disp = 0;
	if (mod == 3)
		return pos;
	if (rm == 4) {
		if (pos >= avail)
			return 0;
		uint8_t sib = bytes[pos++];
		unsigned base = sib & 7, index = (sib >> 3) & 7;
		if (index != 4) {
			e->index = (uint8_t)index;
			e->scale = sib >> 6;
		}
		if (base == 5 && mod == 0) {
			mod = 2; /* a disp32 and no base */
		} else {
			e->base = (uint8_t)base;
			if (base == CPU_ESP || base == CPU_EBP)
				e->seg = CPU_SS;
		}
	} else if (rm == 5 && mod == 0) {
		mod = 2;
	} else {
		e->base = (uint8_t)rm;
		if (rm == CPU_EBP)
			e->seg = CPU_SS;
	}
	if (mod == 1) {
		if (pos >= avail)
			return 0;
		e->disp = sext8(bytes[pos++]);
	} else if (mod == 2) {
		if (pos + 4 > avail)
			return 0;
		__builtin_memcpy(&e->disp, bytes + pos, 4);
		pos += 4;
	}
	return pos;
}

/* Read an immediate of `size` bytes (1: sign-extended) at bytes[pos]; 0 when out of bytes. */
static unsigned decode_imm(const uint8_t *bytes, uint32_t avail, unsigned pos, unsigned size,
                           uint32_t *imm)
{
	if (pos + size > avail)
		return 0;
	if (size == 1) {
		*imm = sext8(bytes[pos]);
	} else {
		__builtin_memcpy(imm, bytes + pos, 4);
	}
	return pos + size;
}

/*
 * Recognise the forms exec_decoded() runs: 32-bit operand and address
 * size, no prefixes.  Returns the instruction length, or 0 for anything
 * else (the entry then stays DC_GENERIC).
 */
static unsigned decode_fast(const uint8_t *b, uint32_t avail, struct dc_entry *e)
{
	uint8_t op = b[0], modrm = 0;
	unsigned pos;
	bool reg_form;

	if (op < 0x40 && (op & 7) == 1) { /* alu r/m32, r32 */
		pos = decode_modrm(b, avail, 1, e, &modrm);
		if (!pos || modrm < 0xc0)
			return 0;
		e->kind = (uint8_t)(DC_ALU_RR + (op >> 3));
		e->r1 = modrm & 7;
		e->r2 = (modrm >> 3) & 7;
		return pos;
	}
	if (op < 0x40 && (op & 7) == 3) { /* alu r32, r/m32 */
		pos = decode_modrm(b, avail, 1, e, &modrm);
		if (!pos)
			return 0;
		e->r1 = (modrm >> 3) & 7;
		if (modrm >= 0xc0) {
			e->kind = (uint8_t)(DC_ALU_RR + (op >> 3));
			e->r2 = modrm & 7;
		} else {
			e->kind = DC_ALU_RM;
			e->r2 = op >> 3;
		}
		return pos;
	}
	if (op < 0x40 && (op & 7) == 5) { /* alu eax, imm32 */
		e->kind = (uint8_t)(DC_ALU_RI + (op >> 3));
		e->r1 = CPU_EAX;
		return decode_imm(b, avail, 1, 4, &e->imm);
	}
	switch (op) {
	case 0x40 ... 0x4f:
		e->kind = op < 0x48 ? DC_INC : DC_DEC;
		e->r1 = op & 7;
		return 1;
	case 0x50 ... 0x5f:
		e->kind = op < 0x58 ? DC_PUSH : DC_POP;
		e->r1 = op & 7;
		return 1;
	case 0x70 ... 0x7f:
		e->kind = DC_JCC;
		e->r1 = op & 0xf;
		return decode_imm(b, avail, 1, 1, &e->disp);
	case 0x81:
	case 0x83:
		pos = decode_modrm(b, avail, 1, e, &modrm);
		if (!pos || modrm < 0xc0)
			return 0;
		e->kind = (uint8_t)(DC_ALU_RI + ((modrm >> 3) & 7));
		e->r1 = modrm & 7;
		return decode_imm(b, avail, pos, op == 0x81 ? 4 : 1, &e->imm);
	case 0x85:
		pos = decode_modrm(b, avail, 1, e, &modrm);
		if (!pos || modrm < 0xc0)
			return 0;
		e->kind = DC_TEST_RR;
		e->r1 = modrm & 7;
		e->r2 = (modrm >> 3) & 7;
		return pos;
	case 0x89:
	case 0x8b:
	case 0x8d:
		pos = decode_modrm(b, avail, 1, e, &modrm);
		if (!pos)
			return 0;
		reg_form = modrm >= 0xc0;
		if (op == 0x8d) {
			if (reg_form)
				return 0; /* #UD: the ordinary path raises it */
			e->kind = DC_LEA;
			e->r1 = (modrm >> 3) & 7;
		} else if (reg_form) {
			e->kind = DC_MOV_RR;
			e->r1 = op == 0x89 ? modrm & 7 : (modrm >> 3) & 7;
			e->r2 = op == 0x89 ? (modrm >> 3) & 7 : modrm & 7;
		} else {
			e->kind = op == 0x89 ? DC_STORE : DC_LOAD;
			e->r1 = (modrm >> 3) & 7;
		}
		return pos;
	case 0xb8 ... 0xbf:
		e->kind = DC_MOV_RI;
		e->r1 = op & 7;
		return decode_imm(b, avail, 1, 4, &e->imm);
	case 0xc1:
	case 0xd1:
		pos = decode_modrm(b, avail, 1, e, &modrm);
		if (!pos || modrm < 0xc0)
			return 0;
		e->kind = DC_SHIFT_RI;
		e->r1 = modrm & 7;
		e->r2 = (modrm >> 3) & 7;
		if (op == 0xd1) {
			e->imm = 1;
			return pos;
		}
		if (pos >= avail)
			return 0;
		e->imm = b[pos];
		return pos + 1;
	case 0xc3:
		e->kind = DC_RET;
		return 1;
	case 0xe8:
	case 0xe9:
		e->kind = op == 0xe8 ? DC_CALL : DC_JMP;
		return decode_imm(b, avail, 1, 4, &e->disp);
	case 0xeb:
		e->kind = DC_JMP;
		return decode_imm(b, avail, 1, 1, &e->disp);
	case 0x0f:
		break;
	default:
		return 0;
	}
	if (avail < 2)
		return 0;
	op = b[1];
	if (op >= 0x80 && op <= 0x8f) {
		e->kind = DC_JCC;
		e->r1 = op & 0xf;
		return decode_imm(b, avail, 2, 4, &e->disp);
	}
	if (op != 0xaf && op != 0xb6)
		return 0;
	pos = decode_modrm(b, avail, 2, e, &modrm);
	if (!pos)
		return 0;
	e->r1 = (modrm >> 3) & 7;
	e->r2 = modrm & 7;
	if (op == 0xaf) {
		if (modrm < 0xc0)
			return 0;
		e->kind = DC_IMUL_RR;
	} else {
		e->kind = modrm >= 0xc0 ? DC_MOVZX8_RR : DC_MOVZX8_RM;
	}
	return pos;
}

/*
 * Decode the instruction at guest-physical `phys`, whose bytes are
 * readable at `bytes` for `avail` bytes (the rest of the fetch window),
 * into entry `e`.  The page is marked as holding code first.  Decoding
 * reads only those bytes and never faults: forms it does not know, and
 * instructions that run past the window, become DC_GENERIC.
 */
void dcache_fill(struct cpu *cpu, struct dc_entry *e, uint32_t phys, const uint8_t *bytes,
                 uint32_t avail)
{
	uint32_t *gen = &cpu->priv->page_gen[phys >> 12];
	if (!(*gen & 1)) {
		++*gen;
		tlb_revoke_writes(cpu, phys & ~0xfffu);
	}
	struct dc_entry d = { .phys = phys, .gen = *gen, .kind = DC_GENERIC };
	unsigned len = decode_fast(bytes, avail < 15 ? avail : 15, &d);
	if (len == 0) {
		d.kind = DC_GENERIC;
		d.len = 0;
	} else {
		d.len = (uint8_t)len;
	}
	*e = d;
}

/*
 * The host wrote guest-physical [phys, phys+len): forget every decoded
 * instruction of the pages it touched.
 */
void cpu_code_modified(struct cpu *cpu, uint32_t phys, uint32_t len)
{
	if (len == 0)
		return;
	uint64_t last = ((uint64_t)phys + len - 1) >> 12;
	if (last >= DC_PAGES)
		last = DC_PAGES - 1;
	for (uint64_t page = phys >> 12; page <= last; page++)
		dcache_page_written(cpu, (uint32_t)(page << 12));
}
