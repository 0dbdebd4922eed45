/*
 * Crash capture: when a guest dies, everything a porter needs to see why,
 * in one report that makes sense without the launcher: the reason (the
 * guest's own message verbatim), registers, the fault decoded (for a page
 * fault, the guest's page-table walk of the address beside what the
 * shadow holds), the code at eip disassembled, the stack with return
 * addresses named, the IDT and GDT in brief, and the last 64 events.
 */
#include <capstone/capstone.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "debug/crash.h"
#include "debug/inspect.h"
#include "host/host.h"

#define CODE_BYTES 32
#define STACK_WORDS 24

static const char *death_name(enum guest_death d)
{
	switch (d) {
	case GUEST_POWEROFF: return "the guest powered off (SHUTDOWN)";
	case GUEST_KILLED: return "the host killed the guest";
	case GUEST_RESTART: return "the guest asked to restart (SHUTDOWN restart)";
	case GUEST_LIMIT: return "a launcher limit stopped the guest";
	case GUEST_ALIVE: break;
	}
	return "the guest is alive";
}

/* General, segment and control registers, named and symbolized. */
static void report_registers(struct lguest *lg, FILE *f)
{
	struct cpu *cpu = &lg->cpu;
	char sym[160], names[64];
	uint32_t efl = cpu_get_eflags(cpu);

	fprintf(f, "registers:\n");
	for (unsigned i = 0; i < 8; i++)
		fprintf(f, "  %s 0x%08x%s", cpu_reg_name(i), cpu->regs[i], i % 4 == 3 ? "\n" : "");
	describe_addr(lg, cpu->eip, sym, sizeof(sym));
	cpu_eflags_names(efl, names, sizeof(names));
	fprintf(f, "  eip 0x%08x%s  cpl %u\n  eflags 0x%08x [%s%s ] iopl %u\n", cpu->eip, sym, cpu->cpl, efl,
	        *names ? " " : "", names, (efl >> 12) & 3);
	for (unsigned i = 0; i < CPU_NSREGS; i++)
		fprintf(f, "  %s 0x%04x base 0x%08x limit 0x%08x%s", cpu_sreg_name(i), cpu->seg[i].selector, cpu->seg[i].base,
		        cpu->seg[i].limit, i % 2 ? "\n" : "");
	fprintf(f, "  cr0 0x%08x cr2 0x%08x cr3 0x%08x\n", cpu->cr0, cpu->cr2, cpu->cr3);
	fprintf(f, "  paging: %s", lg->linear_pages ? "1:1 linear mode (no NEW_PGTABLE yet)" : "guest page tables");
	if (!lg->linear_pages)
		fprintf(f, ", shadow slot %u for page directory 0x%x", lg->cur_slot, lg->slot[lg->cur_slot].gpgdir);
	fprintf(f, "\n  kernel stack (SET_STACK): ss1 0x%x esp1 0x%x, %u page(s)\n", cpu->tss_ss[1], cpu->tss_esp[1],
	        lg->stack_pages);
	if (lg->initialized)
		fprintf(f, "  lguest_data at 0x%x: irq_enabled 0x%x blocked_interrupts 0x%x cr2 0x%x; irqs pending 0x%x%s\n",
		        lg->lguest_data, ld_read32(lg, LD_IRQ_ENABLED), ld_read32(lg, LD_BLOCKED_INTERRUPTS),
		        ld_read32(lg, LD_CR2), lg->irqs_pending, lg->halted ? "; halted" : "");
	else
		fprintf(f, "  lguest_data: none (no LGUEST_INIT yet)\n");
}

/* One address through the guest's page tables, beside what the shadow maps. */
void crash_walk(struct lguest *lg, uint32_t va, FILE *f)
{
	uint32_t pa, pde, pte;
	bool ok = guest_walk(lg, va, &pa, &pde, &pte);
	if (lg->linear_pages) {
		fprintf(f, "  0x%08x: linear mode, physical 0x%08x%s\n", va, va,
		        guest_range_ok(&lg->mem, va, 1) ? "" : " (beyond guest memory)");
		return;
	}
	fprintf(f, "  0x%08x: PDE[%u] = 0x%08x%s", va, va >> 22, pde, (pde & 1) ? "" : " (not present)");
	if (pde & 1)
		fprintf(f, ", PTE[%u] = 0x%08x%s [%s%s%s%s%s]", (va >> 12) & 0x3ff, pte, (pte & 1) ? "" : " (not present)",
		        (pte & 1) ? "P" : "-", (pte & 2) ? " RW" : " RO", (pte & 4) ? " USER" : " SUPERVISOR",
		        (pte & 0x20) ? " A" : "", (pte & 0x40) ? " D" : "");
	if (ok)
		fprintf(f, " -> physical 0x%08x", pa);
	uint32_t s = shadow_entry(lg, va);
	fprintf(f, "\n    shadow (what the CPU uses): %s", (s & 1) ? "" : "nothing mapped");
	if (s & 1)
		fprintf(f, "0x%08x [%s%s]", s, (s & 2) ? "RW" : "RO (clean: the first write faults to set D)",
		        (s & 4) ? " USER" : "");
	fprintf(f, "\n");
}

/* The fault behind the death, if the last trap event says there was one. */
static void report_fault(struct lguest *lg, FILE *f, const struct event *ev, unsigned n)
{
	for (unsigned i = n; i-- > 0;) {
		if (ev[i].kind != EV_TRAP)
			continue;
		fprintf(f, "last trap: vector %u, error code 0x%x, %s\n", ev[i].arg[0], ev[i].arg[1],
		        trap_action_name(ev[i].sub));
		if (ev[i].arg[0] == 14) {
			uint32_t e = ev[i].arg[1];
			fprintf(f, "  page fault at 0x%08x: %s, %s, %s mode\n", ev[i].arg[2],
			        (e & 1) ? "protection violation on a mapped page" : "page not mapped in the shadow",
			        (e & 2) ? "write" : "read", (e & 4) ? "user" : "kernel");
			crash_walk(lg, ev[i].arg[2], f);
		}
		return;
	}
}

/* The instructions at eip, disassembled. */
static void report_code(struct lguest *lg, FILE *f)
{
	uint8_t code[CODE_BYTES];
	uint32_t n = inspect_move(lg, VIEW_GUEST, lg->cpu.eip, code, sizeof(code), false);
	csh cs;
	cs_insn *insn;
	char sym[160];

	fprintf(f, "code at eip:");
	if (n == 0) {
		fprintf(f, " not mapped\n");
		return;
	}
	for (uint32_t i = 0; i < n && i < 16; i++)
		fprintf(f, " %02x", code[i]);
	fprintf(f, "\n");
	if (cs_open(CS_ARCH_X86, CS_MODE_32, &cs) != CS_ERR_OK)
		return;
	size_t count = cs_disasm(cs, code, n, lg->cpu.eip, 6, &insn);
	for (size_t i = 0; i < count; i++) {
		describe_addr(lg, (uint32_t)insn[i].address, sym, sizeof(sym));
		fprintf(f, "  %s0x%08x%s: %s %s\n", i == 0 ? "=> " : "   ", (uint32_t)insn[i].address, sym,
		        insn[i].mnemonic, insn[i].op_str);
	}
	if (count == 0)
		fprintf(f, "  (capstone cannot decode these bytes)\n");
	cs_free(insn, count);
	cs_close(&cs);
}

/* The top of the stack, with anything that points into the kernel named. */
static void report_stack(struct lguest *lg, FILE *f)
{
	uint8_t buf[STACK_WORDS * 4];
	uint32_t esp = lg->cpu.regs[CPU_ESP];
	uint32_t n = inspect_move(lg, VIEW_GUEST, esp, buf, sizeof(buf), false) / 4;
	char sym[160];
	fprintf(f, "stack at 0x%08x:%s\n", esp, n ? "" : " not mapped");
	for (uint32_t i = 0; i < n; i++) {
		uint32_t w = get_le32(buf + 4 * i);
		describe_addr(lg, w, sym, sizeof(sym));
		fprintf(f, "  [esp+0x%02x] 0x%08x%s\n", 4 * i, w, sym);
	}
}

/* The IDT as loaded through LOAD_IDT_ENTRY, runs of alike gates folded. */
static void report_idt(struct lguest *lg, FILE *f)
{
	char sym[160];
	unsigned loaded = 0;
	fprintf(f, "IDT (loaded with LOAD_IDT_ENTRY):\n");
	for (unsigned v = 0; v < 256; v++) {
		if (!idt_present(lg, v))
			continue;
		loaded++;
		unsigned last = v;
		uint32_t hi = lg->idt_hi[v];
		while (last + 1 < 256 && idt_present(lg, last + 1) && ((lg->idt_hi[last + 1] ^ hi) & 0xff00u) == 0 &&
		       v >= 32)
			last++;
		uint32_t off = gate_offset(lg->idt_lo[v], hi);
		describe_addr(lg, off, sym, sizeof(sym));
		if (last == v)
			fprintf(f, "  %3u: %s gate dpl %u -> 0x%08x%s\n", v, gate_type(hi) == 0xe ? "interrupt" : "trap",
			        gate_dpl(hi), off, sym);
		else
			fprintf(f, "  %3u-%u: %s gates dpl %u (first -> 0x%08x%s)\n", v, last,
			        gate_type(hi) == 0xe ? "interrupt" : "trap", gate_dpl(hi), off, sym);
		loaded += last - v;
		v = last;
	}
	if (!loaded)
		fprintf(f, "  empty: the guest loaded no gates, so every trap is fatal\n");
}

/* The last events from the always-on ring. */
static void report_events(struct lguest *lg, FILE *f, const struct event *ev, unsigned n)
{
	char desc[EVENT_DESCRIBE_MAX], sym[160];
	fprintf(f, "last %u events (instruction count, eip, cpl, what):\n", n);
	for (unsigned i = 0; i < n; i++) {
		event_describe(&ev[i], desc, sizeof(desc));
		describe_addr(lg, ev[i].eip, sym, sizeof(sym));
		fprintf(f, "  %10llu 0x%08x%s cpl%u %s\n", (unsigned long long)ev[i].icount, ev[i].eip, sym, ev[i].cpl, desc);
	}
}

void crash_report_path(int pid, char *buf, size_t len)
{
	const char *dir = getenv("TMPDIR");
	snprintf(buf, len, "%s/lguest-crash-%d.txt", dir && *dir ? dir : "/tmp", pid);
}

void crash_report(struct lguest *lg, FILE *f)
{
	struct event ev[EVENT_RING_SIZE];
	unsigned n = events_last(&lg->events, ev, EVENT_RING_SIZE);

	fprintf(f, "lguest crash report\n");
	fprintf(f, "reason: %s\n", lg->death_reason);
	fprintf(f, "what happened: %s, after %llu instructions (%llu ns of guest time), --abi=%s\n",
	        death_name(lg->death), (unsigned long long)lg->cpu.icount, (unsigned long long)guest_now_ns(lg),
	        lg->abi->name);
	report_registers(lg, f);
	report_fault(lg, f, ev, n);
	report_code(lg, f);
	report_stack(lg, f);
	report_idt(lg, f);
	fprintf(f, "GDT (host-held, after lguest's fixups):\n");
	inspect_gdt(lg, f);
	report_events(lg, f, ev, n);
}
