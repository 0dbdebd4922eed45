/*
 * CPUID never advertises a feature the interpreter lacks: every bit the
 * host's answer sets in leaf 1 must have a probe here, and the probe must
 * run on the interpreter without stopping as unimplemented or faulting.
 * A feature bit added to launcher/host/cpuid.c without a probe fails this
 * test until someone proves the interpreter has it.
 */
#include "cpu_testhost.h"
#include "host/host.h"

/* One feature and a snippet that uses it (run at CPL 1, flat segments). */
struct probe {
	unsigned reg; /* 3 = EDX, 2 = ECX of leaf 1 */
	unsigned bit;
	const char *name;
	uint8_t code[16];
	unsigned len, insns;
};

static const struct probe probes[] = {
	{3, 0, "FPU: fninit; fld1; fistp [0x2000]", {0xdb, 0xe3, 0xd9, 0xe8, 0xdb, 0x1d, 0x00, 0x20, 0x00, 0x00}, 10, 3},
	{3, 4, "TSC: rdtsc", {0x0f, 0x31}, 2, 1},
	{3, 8, "CX8: mov esi, 0x2000; cmpxchg8b [esi]", {0xbe, 0x00, 0x20, 0x00, 0x00, 0x0f, 0xc7, 0x0e}, 8, 2},
	{3, 15, "CMOV: cmove eax, ecx", {0x0f, 0x44, 0xc1}, 3, 1},
};

/* The probe for a feature bit, or NULL. */
static const struct probe *probe_for(unsigned reg, unsigned bit)
{
	for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++)
		if (probes[i].reg == reg && probes[i].bit == bit)
			return &probes[i];
	return NULL;
}

int main(void)
{
	uint32_t leaf0[4], leaf1[4];
	lguest_cpuid(NULL, NULL, 0, 0, leaf0);
	lguest_cpuid(NULL, NULL, 1, 0, leaf1);
	th_check("leaf 0: GenuineIntel, highest leaf 1",
	         leaf0[0] == 1 && leaf0[1] == 0x756e6547u && leaf0[3] == 0x49656e69u && leaf0[2] == 0x6c65746eu,
	         "eax %#x", leaf0[0]);
	th_check("leaf 1: family 5 (no early microcode wrmsr, as the guest masks it anyway)",
	         ((leaf1[0] >> 8) & 0xf) == 5, "signature %#x", leaf1[0]);

	for (unsigned reg = 2; reg <= 3; reg++) {
		for (unsigned bit = 0; bit < 32; bit++) {
			if (!(leaf1[reg] & (1u << bit)))
				continue;
			const struct probe *p = probe_for(reg, bit);
			char name[120];
			snprintf(name, sizeof(name), "advertised %s bit %u has a probe", reg == 3 ? "EDX" : "ECX", bit);
			th_check(name, p != NULL, "no probe: the interpreter's support is unproven");
			if (!p)
				continue;
			struct testhost *th = th_create();
			struct cpu_stop stop;
			th_setup_flat(th, 1);
			th->cpu.regs[CPU_ESP] = 0x8000;
			enum cpu_stop_kind k = th_run_code(th, 0x1000, p->code, p->len, p->insns, &stop);
			snprintf(name, sizeof(name), "advertised %s runs", p->name);
			th_check(name, k == CPU_STOP_BUDGET && th->cpu.eip == 0x1000 + p->len, "stop %s (vector %u) at %#x",
			         cpu_stop_kind_name(k), stop.vector, stop.eip);
			th_destroy(th);
		}
	}
	return th_finish();
}
