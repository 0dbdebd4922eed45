/*
 * Interpreter throughput: runs four small guest loops on a flat 16 MiB
 * identity-mapped host and prints millions of guest instructions per
 * second of CPU time for each (best of three runs).  Not a test: numbers
 * depend on the machine.
 *
 *   integer  register arithmetic, shifts, imul, lea; one loop branch
 *   memory   indexed loads and stores, a read-modify-write, push/pop
 *   branchy  compare-and-branch ladder with a call/ret every few rounds
 *   mixed    rep movsl, a lodsb checksum loop, a call with a stack argument
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cpu/cpu.h"

#define RAM_SIZE (16u << 20)
#define CODE_ADDR 0x1000u

static uint8_t *ram;

/* Everything is mapped one to one, writable and user. */
static enum cpu_xlate_result flat_translate(void *opaque, struct cpu *cpu, uint32_t va,
                                            enum cpu_access access, struct cpu_translation *t,
                                            uint32_t *pf_error)
{
	(void)opaque, (void)cpu, (void)access;
	if (va >= RAM_SIZE) {
		*pf_error = 0;
		return CPU_XLATE_FAULT;
	}
	t->host_page = ram + (va & ~0xfffu);
	t->phys_page = va & ~0xfffu;
	t->writable = true;
	t->user = true;
	t->watched = false;
	return CPU_XLATE_OK;
}

static const uint8_t integer_loop[] = {
	0xb9, 0x00, 0x00, 0x00, 0x00,       /* mov    $0x0,%ecx */
	0xb8, 0x01, 0x00, 0x00, 0x00,       /* mov    $0x1,%eax */
	0xbb, 0x03, 0x00, 0x00, 0x00,       /* mov    $0x3,%ebx */
	0xba, 0x07, 0x00, 0x00, 0x00,       /* mov    $0x7,%edx */
	0x01, 0xd8,                         /* 1: add %ebx,%eax */
	0x31, 0xc2,                         /* xor    %eax,%edx */
	0x8d, 0x74, 0x58, 0x01,             /* lea    0x1(%eax,%ebx,2),%esi */
	0xc1, 0xe3, 0x03,                   /* shl    $0x3,%ebx */
	0x29, 0xd3,                         /* sub    %edx,%ebx */
	0x0f, 0xaf, 0xc6,                   /* imul   %esi,%eax */
	0x09, 0xcf,                         /* or     %ecx,%edi */
	0xc1, 0xca, 0x05,                   /* ror    $0x5,%edx */
	0x41,                               /* inc    %ecx */
	0x81, 0xf9, 0xff, 0xff, 0xff, 0x7f, /* cmp    $0x7fffffff,%ecx */
	0x75, 0xe2,                         /* jne    1b */
	0xf4,                               /* hlt */
};

static const uint8_t memory_loop[] = {
	0xbe, 0x00, 0x00, 0x10, 0x00,       /* mov    $0x100000,%esi */
	0xbf, 0x00, 0x00, 0x20, 0x00,       /* mov    $0x200000,%edi */
	0x31, 0xc9,                         /* xor    %ecx,%ecx */
	0x31, 0xd2,                         /* xor    %edx,%edx */
	0x8b, 0x04, 0x8e,                   /* 1: mov (%esi,%ecx,4),%eax */
	0x01, 0xc2,                         /* add    %eax,%edx */
	0x89, 0x14, 0x8f,                   /* mov    %edx,(%edi,%ecx,4) */
	0x0f, 0xb6, 0x5c, 0x8e, 0x03,       /* movzbl 0x3(%esi,%ecx,4),%ebx */
	0x01, 0x5f, 0x08,                   /* add    %ebx,0x8(%edi) */
	0x50,                               /* push   %eax */
	0x58,                               /* pop    %eax */
	0x41,                               /* inc    %ecx */
	0x81, 0xe1, 0xff, 0xff, 0x00, 0x00, /* and    $0xffff,%ecx */
	0xeb, 0xe5,                         /* jmp    1b */
};

static const uint8_t branchy_loop[] = {
	0x31, 0xc9,                   /* xor    %ecx,%ecx */
	0x89, 0xc8,                   /* 1: mov %ecx,%eax */
	0x83, 0xe0, 0x07,             /* and    $0x7,%eax */
	0x83, 0xf8, 0x03,             /* cmp    $0x3,%eax */
	0x72, 0x0e,                   /* jb     2f */
	0xa9, 0x01, 0x00, 0x00, 0x00, /* test   $0x1,%eax */
	0x74, 0x0c,                   /* je     3f */
	0xe8, 0x0a, 0x00, 0x00, 0x00, /* call   4f */
	0xeb, 0x0b,                   /* jmp    5f */
	0x83, 0xc2, 0x02,             /* 2: add $0x2,%edx */
	0xeb, 0x06,                   /* jmp    5f */
	0x4a,                         /* 3: dec %edx */
	0xeb, 0x03,                   /* jmp    5f */
	0x31, 0xca,                   /* 4: xor %ecx,%edx */
	0xc3,                         /* ret */
	0x41,                         /* 5: inc %ecx */
	0xeb, 0xda,                   /* jmp    1b */
};

static const uint8_t mixed_loop[] = {
	0xbe, 0x00, 0x00, 0x10, 0x00, /* 1: mov $0x100000,%esi */
	0xbf, 0x00, 0x00, 0x20, 0x00, /* mov    $0x200000,%edi */
	0xb9, 0x40, 0x00, 0x00, 0x00, /* mov    $0x40,%ecx */
	0xfc,                         /* cld */
	0xf3, 0xa5,                   /* rep movsl */
	0xbe, 0x00, 0x00, 0x20, 0x00, /* mov    $0x200000,%esi */
	0xb9, 0x00, 0x01, 0x00, 0x00, /* mov    $0x100,%ecx */
	0x31, 0xd2,                   /* xor    %edx,%edx */
	0xac,                         /* 2: lodsb */
	0x0f, 0xb6, 0xc0,             /* movzbl %al,%eax */
	0x01, 0xc2,                   /* add    %eax,%edx */
	0xd1, 0xc2,                   /* rol    %edx */
	0x3c, 0x80,                   /* cmp    $0x80,%al */
	0x72, 0x03,                   /* jb     3f */
	0x83, 0xf2, 0x55,             /* xor    $0x55,%edx */
	0xe2, 0xef,                   /* 3: loop 2b */
	0x52,                         /* push   %edx */
	0xe8, 0x05, 0x00, 0x00, 0x00, /* call   4f */
	0x83, 0xc4, 0x04,             /* add    $0x4,%esp */
	0xeb, 0xc6,                   /* jmp    1b */
	0x8b, 0x44, 0x24, 0x04,       /* 4: mov 0x4(%esp),%eax */
	0xa3, 0x00, 0x00, 0x30, 0x00, /* mov    %eax,0x300000 */
	0xc3,                         /* ret */
};

/*
 * CPU time of this thread: the machine may be shared, and time spent
 * waiting for a core is not the interpreter's.
 */
static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Descriptor for a flat 4 GiB segment of `type` at ring 3. */
static uint64_t flat_descriptor(unsigned type)
{
	return 0x00cf00000000ffffull | ((uint64_t)(0x10u | type | 0x60u | 0x80u) << 40);
}

/* Run one loop for `budget` instructions and print its rate. */
static void bench(const char *name, const uint8_t *code, size_t len, uint64_t budget)
{
	static const struct cpu_host_ops ops = { .translate = flat_translate };
	static uint64_t gdt[3];
	struct cpu cpu;
	struct cpu_stop stop;

	gdt[1] = flat_descriptor(0xb);
	gdt[2] = flat_descriptor(0x3);
	memset(ram, 0, RAM_SIZE);
	memcpy(ram + CODE_ADDR, code, len);
	cpu_init(&cpu, &ops, NULL);
	cpu.gdt = gdt;
	cpu.gdt_entries = 3;
	cpu_load_segment_raw(&cpu, CPU_CS, 0x0b);
	for (int s = 0; s < CPU_NSREGS; s++)
		if (s != CPU_CS)
			cpu_load_segment_raw(&cpu, (enum cpu_sreg)s, 0x13);
	cpu.regs[CPU_ESP] = 0x800000;
	cpu.eip = CODE_ADDR;

	double best = 0;
	for (int round = 0; round < 3; round++) {
		uint64_t start = cpu.icount;
		double t0 = now();
		enum cpu_stop_kind kind = cpu_run(&cpu, budget, &stop);
		double dt = now() - t0;
		if (kind != CPU_STOP_BUDGET) {
			printf("%-8s stopped early: %s at %#x\n", name, cpu_stop_kind_name(kind), stop.eip);
			break;
		}
		double rate = (cpu.icount - start) / dt / 1e6;
		if (rate > best)
			best = rate;
	}
	printf("%-8s %7.1f M instructions/s  (best of 3 x %llu instructions)\n", name, best,
	       (unsigned long long)budget);
	cpu_destroy(&cpu);
}

int main(int argc, char **argv)
{
	uint64_t budget = argc > 1 ? strtoull(argv[1], NULL, 0) : 100000000ull;
	ram = calloc(1, RAM_SIZE);
	if (!ram)
		return 1;
	bench("integer", integer_loop, sizeof(integer_loop), budget);
	bench("memory", memory_loop, sizeof(memory_loop), budget);
	bench("branchy", branchy_loop, sizeof(branchy_loop), budget);
	bench("mixed", mixed_loop, sizeof(mixed_loop), budget);
	free(ram);
	return 0;
}
