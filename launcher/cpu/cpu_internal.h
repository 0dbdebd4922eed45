/*
 * What the interpreter's own files share with each other (not for the
 * host).  The core (decoder, executor, segmentation, memory) implements
 * these; the x87 unit uses them.
 *
 * Exceptions do not return: cpu_raise() unwinds to cpu_run(), which
 * restores the state from before the instruction and reports the stop.
 */
#ifndef LGUEST_CPU_INTERNAL_H
#define LGUEST_CPU_INTERNAL_H

#include "cpu.h"

/* Raise an exception in the current instruction; never returns. */
_Noreturn void cpu_raise(struct cpu *cpu, uint8_t vector, bool has_error, uint32_t error);

/* End the current instruction as CPU_STOP_UNIMPLEMENTED; never returns. */
_Noreturn void cpu_unimplemented(struct cpu *cpu);

/*
 * Segmented memory access at the current CPL: segment checks (limit,
 * type, null selector), then translation.  On any fault they raise.
 */
uint16_t cpu_mem_read16(struct cpu *cpu, enum cpu_sreg seg, uint32_t off);
uint32_t cpu_mem_read32(struct cpu *cpu, enum cpu_sreg seg, uint32_t off);
uint64_t cpu_mem_read64(struct cpu *cpu, enum cpu_sreg seg, uint32_t off);
void cpu_mem_write16(struct cpu *cpu, enum cpu_sreg seg, uint32_t off, uint16_t v);
void cpu_mem_write32(struct cpu *cpu, enum cpu_sreg seg, uint32_t off, uint32_t v);
void cpu_mem_write64(struct cpu *cpu, enum cpu_sreg seg, uint32_t off, uint64_t v);

/*
 * Check that [off, off+len) may be written (segment and translation),
 * raising the fault a real write would, without writing.  Multi-part
 * stores (fnsave, fxsave, pusha, far calls) probe first so that a fault
 * leaves memory untouched.
 */
void cpu_mem_probe_write(struct cpu *cpu, enum cpu_sreg seg, uint32_t off, uint32_t len);

/*
 * Execute one x87 instruction.  `opcode` is 0xD8..0xDF, `modrm` its ModRM
 * byte; for memory forms (mod != 3) `seg`:`off` is the effective address.
 * `opsize16` is true under a 0x66 prefix (fnstenv/fldenv/fnsave/frstor
 * 16-bit images).  Raises #NM itself when CR0.EM or CR0.TS is set.
 */
void x87_execute(struct cpu *cpu, uint8_t opcode, uint8_t modrm, enum cpu_sreg seg, uint32_t off,
                 bool opsize16);

/* fwait/wait (0x9B): #NM when CR0.TS and CR0.MP are both set, else check pending exceptions. */
void x87_wait(struct cpu *cpu);

/* The state fninit produces (also the power-on state). */
void x87_reset(struct cpu_x87 *fpu);

/* The status word as fnstsw reports it (TOP merged in). */
uint16_t x87_status_word(const struct cpu_x87 *fpu);

#endif
