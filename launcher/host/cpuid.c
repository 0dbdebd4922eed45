/*
 * The CPU we present through CPUID.
 *
 * On real lguest the host never saw CPUID: the processor answered, and a
 * 3.x guest kernel masked the answer itself (addendum §A13).  We must
 * answer for the processor, so we present a fixed, documented CPU whose
 * every advertised feature our interpreter implements (tests/unit prove
 * it): a GenuineIntel family 5 part with an x87 FPU, TSC, CMPXCHG8B and
 * CMOV, the minimum an i686 (M686) Linux kernel demands.  No PAE, PGE,
 * SEP, MMX, FXSR or SSE: we do not implement them.  User space sees the
 * same answers.  The values never change, so runs stay deterministic.
 *
 * Why family 5: a 3.x kernel's lguest_cpuid forces family 5 anyway once
 * its paravirt ops are in place, but before that, startup_32 of a kernel
 * built with CONFIG_MICROCODE_EARLY asks the processor directly, and for
 * Intel family 6 or later it issues wrmsr, which faults at CPL 1 (on a
 * real lguest host too).  Family 5 lets that loader skip itself.  The
 * AMD identity is avoided for the same reason (addendum §A13).
 */
#include "host.h"

#define CPUID_FPU (1u << 0)
#define CPUID_TSC (1u << 4)
#define CPUID_CX8 (1u << 8)
#define CPUID_CMOV (1u << 15)

/* Family 5, model 2, stepping 12: the signature of a P54C Pentium. */
#define CPUID_SIGNATURE 0x0000052Cu
#define CPUID_FEATURES_EDX (CPUID_FPU | CPUID_TSC | CPUID_CX8 | CPUID_CMOV)

void lguest_cpuid(void *opaque, struct cpu *cpu, uint32_t leaf, uint32_t subleaf, uint32_t out[4])
{
	(void)opaque;
	(void)cpu;
	(void)subleaf;
	out[0] = out[1] = out[2] = out[3] = 0;
	switch (leaf) {
	case 0: /* highest leaf 1, "GenuineIntel" in ebx, edx, ecx */
		out[0] = 1;
		out[1] = 0x756e6547u;
		out[3] = 0x49656e69u;
		out[2] = 0x6c65746eu;
		break;
	case 1:
		out[0] = CPUID_SIGNATURE;
		out[3] = CPUID_FEATURES_EDX;
		break;
	default: /* no other basic leaves, no extended or hypervisor leaves */
		break;
	}
}
