/*
 * Hypercalls (addendum §A2): the guest's `int $0x1f` with the call number
 * in eax and arguments in ebx, ecx, edx, esi, plus the 64-entry ring of
 * asynchronous calls in lguest_data that the host runs first.
 *
 * Grossly wrong calls kill the guest with lg.ko's own words; no hypercall
 * writes any register.
 */
#include <stdio.h>
#include <string.h>

#include "host.h"

#define SHUTDOWN_MSG_LEN 128
#define GUEST_TSC_KHZ 1000000u /* 1 instruction = 1 ns: a 1 GHz TSC (§A9) */

static const char *const names[] = {
	[LHCALL_FLUSH_ASYNC] = "FLUSH_ASYNC",       [LHCALL_LGUEST_INIT] = "LGUEST_INIT",
	[LHCALL_SHUTDOWN] = "SHUTDOWN",             [LHCALL_NEW_PGTABLE] = "NEW_PGTABLE",
	[LHCALL_FLUSH_TLB] = "FLUSH_TLB",           [LHCALL_LOAD_IDT_ENTRY] = "LOAD_IDT_ENTRY",
	[LHCALL_SET_STACK] = "SET_STACK",           [LHCALL_TS] = "TS",
	[LHCALL_SET_CLOCKEVENT] = "SET_CLOCKEVENT", [LHCALL_HALT] = "HALT",
	[LHCALL_SET_PTE] = "SET_PTE",               [LHCALL_SET_PGD] = "SET_PGD",
	[LHCALL_LOAD_TLS] = "LOAD_TLS",             [LHCALL_NOTIFY] = "NOTIFY",
	[LHCALL_LOAD_GDT_ENTRY] = "LOAD_GDT_ENTRY", [LHCALL_SEND_INTERRUPTS] = "SEND_INTERRUPTS",
};

/* The name of a hypercall number, or NULL for numbers the profile lacks. */
const char *hypercall_name(uint32_t nr)
{
	return nr < sizeof(names) / sizeof(names[0]) ? names[nr] : NULL;
}

/*
 * SHUTDOWN(msg, how): lg.ko always read 128 bytes, whatever the string's
 * length; RESTART (2) replaces the reason even when that read failed.
 */
static void guest_shutdown(struct lguest *lg, uint32_t msg_addr, uint32_t how)
{
	char msg[SHUTDOWN_MSG_LEN];
	if (lg_read(lg, msg_addr, msg, sizeof(msg))) {
		msg[sizeof(msg) - 1] = '\0';
		end_guest(lg, GUEST_POWEROFF, "CRASH: %s", msg);
	}
	if (how == LGUEST_SHUTDOWN_RESTART) {
		lg->death = GUEST_RESTART;
		snprintf(lg->death_reason, sizeof(lg->death_reason), "restart");
	}
}

/* SET_STACK(ss, esp, pages) (§A2.2): checked, then the pages are pinned. */
static void guest_set_stack(struct lguest *lg, uint32_t seg, uint32_t esp, uint32_t pages)
{
	if ((seg & 3) != 1) {
		kill_guest(lg, "bad stack segment %i", (int)seg);
		return;
	}
	if (pages > 2) {
		kill_guest(lg, "bad stack pages %u", pages);
		return;
	}
	lg->cpu.tss_ss[1] = (uint16_t)seg;
	lg->cpu.tss_esp[1] = esp;
	lg->stack_pages = pages;
	pin_stack_pages(lg);
}

/* SET_CLOCKEVENT(delta): a one-shot timer for IRQ 0, delta in ns; 0 cancels (§A9). */
static void guest_set_clockevent(struct lguest *lg, uint32_t delta)
{
	lg->timer_armed = delta != 0;
	lg->timer_deadline_ns = guest_now_ns(lg) + delta;
}

/* TS(v): the guest wants CR0.TS while it runs, so x87 use raises #NM (§A6.6). */
static void guest_set_ts(struct lguest *lg, uint32_t v)
{
	lg->ts = v != 0;
	if (lg->ts)
		lg->cpu.cr0 |= CR0_TS;
	else
		lg->cpu.cr0 &= ~CR0_TS;
}

/* A word of guest memory for a hint: 0 where there is none, and never a kill. */
static uint32_t peek32(struct lguest *lg, uint32_t addr)
{
	return guest_range_ok(&lg->mem, addr, 4) ? get_le32(guest_ptr(&lg->mem, addr)) : 0;
}

/*
 * When a 3.19 INIT finds a syscall vector it cannot accept, look at where
 * the 2.6.31 layout keeps it (and vice versa) to tell the user which
 * profile the guest was built for.
 */
static const char *other_profile_hint(struct lguest *lg, uint32_t addr)
{
	if (lg->abi == &abi_3_19) {
		uint32_t vec2631 = peek32(lg, addr + abi_2_6_31.off_syscall_vec);
		uint32_t before = peek32(lg, addr + abi_3_19.off_syscall_vec - 4);
		uint32_t vec319 = peek32(lg, addr + abi_3_19.off_syscall_vec);
		if (vec2631 == 0x80 || vec2631 == 0x40 || vec2631 == lg->opt.syscall_vector ||
		    (vec319 == 0 && before >= 0xC0000000u && before < abi_3_19.switcher_addr))
			return " (lguest_data looks like a 2.6.31-3.0 guest's, with pgdir: try --abi=2.6.31)";
	} else {
		uint32_t vec319 = peek32(lg, addr + abi_3_19.off_syscall_vec);
		if (vec319 == 0x80 || vec319 == lg->opt.syscall_vector)
			return " (lguest_data looks like a 3.x guest's, without pgdir: try --abi=3.19)";
	}
	return "";
}

/* LGUEST_INIT(&lguest_data), in lg.ko's order (§A2.1). */
static void initialize(struct lguest *lg, uint32_t addr)
{
	const struct abi_profile *abi = lg->abi;

	if (!guest_range_ok(&lg->mem, addr, abi->lguest_data_size)) {
		kill_guest(lg, "bad guest page 0x%x", addr);
		return;
	}
	lg->lguest_data = addr;
	lg->initialized = true;
	ld_write32(lg, abi->off_tsc_khz, GUEST_TSC_KHZ);

	/*
	 * lg.ko accepted 0x80 or its module parameter.  The 2.6.31 profile
	 * also honours any other plausible vector the guest names (the Plan 9
	 * port's 0x40), noting that a real host needed lg.syscall_vector.
	 */
	uint32_t vec = ld_read32(lg, abi->off_syscall_vec);
	bool host_vector = vec == 0x80 || vec == lg->opt.syscall_vector;
	bool plausible = vec >= 32 && vec <= 255 && vec != LGUEST_TRAP_ENTRY;
	if (!host_vector && !(abi->guest_syscall_vec && plausible)) {
		kill_guest(lg, "bad syscall vector%s", other_profile_hint(lg, addr));
		return;
	}
	lg->guest_syscall_vec = vec;
	if (!host_vector) {
		EMIT(lg, EV_NOTE, NOTE_SYSCALL_VECTOR, vec);
		if (lg->opt.verbose)
			fprintf(stderr, "lguest: syscall vector %#x honoured; a real host needed lg.syscall_vector=%u\n", vec, vec);
	}

	lg->noirq_start = ld_read32(lg, abi->off_noirq_start);
	lg->noirq_end = ld_read32(lg, abi->off_noirq_end);
	write_guest_time(lg);

	lg->kernel_address = ld_read32(lg, abi->off_kernel_address);
	ld_write32(lg, abi->off_reserve_mem, 0u - abi->switcher_addr);
	if (abi->switcher_kills ? (lg->kernel_address >> 22) >= 1023 : lg->kernel_address >= abi->switcher_addr) {
		kill_guest(lg, "bad kernel address 0x%x", lg->kernel_address);
		return;
	}
	if (abi->off_pgdir >= 0)
		ld_write32(lg, (uint32_t)abi->off_pgdir, lg->host_pgdir);
	drop_all_shadows(lg);
	pin_stack_pages(lg);
}

/* do_hcall(): one call, synchronous or from the ring. */
static void do_hcall(struct lguest *lg, const struct hcall_args *a, uint8_t how)
{
	EMIT(lg, EV_HYPERCALL, how, a->nr, a->a1, a->a2, a->a3, a->a4);
	switch (a->nr) {
	case LHCALL_FLUSH_ASYNC:
	case LHCALL_SEND_INTERRUPTS:
		break; /* their only effect is the exit to the host */
	case LHCALL_LGUEST_INIT:
		kill_guest(lg, "already have lguest_data");
		break;
	case LHCALL_SHUTDOWN:
		guest_shutdown(lg, a->a1, a->a2);
		break;
	case LHCALL_NEW_PGTABLE:
		guest_new_pagetable(lg, a->a1);
		break;
	case LHCALL_FLUSH_TLB:
		guest_flush_tlb(lg, a->a1 != 0);
		break;
	case LHCALL_LOAD_IDT_ENTRY:
		load_idt_entry(lg, a->a1, a->a2, a->a3);
		break;
	case LHCALL_SET_STACK:
		guest_set_stack(lg, a->a1, a->a2, a->a3);
		break;
	case LHCALL_TS:
		guest_set_ts(lg, a->a1);
		break;
	case LHCALL_SET_CLOCKEVENT:
		guest_set_clockevent(lg, a->a1);
		break;
	case LHCALL_HALT:
		lg->halted = true;
		break;
	case LHCALL_SET_PTE:
		guest_set_pte(lg, a->a1, a->a2, a->a3);
		break;
	case LHCALL_SET_PGD:
		guest_set_pgd(lg, a->a1, a->a2);
		break;
	case LHCALL_LOAD_TLS:
		load_tls(lg, a->a1);
		break;
	case LHCALL_NOTIFY:
		lg->pending_notify = a->a1;
		break;
	case LHCALL_LOAD_GDT_ENTRY:
		load_gdt_entry(lg, a->a1, a->a2, a->a3);
		break;
	default:
		kill_guest(lg, "Bad hypercall %li\n", (long)(int32_t)a->nr);
		break;
	}
}

/* do_async_hcalls() (§A2.3): run the ring from the host's cursor until a 0xFF. */
static void do_async_hcalls(struct lguest *lg)
{
	uint8_t st[LHCALL_RING_SIZE];
	if (!lg_read(lg, lg->lguest_data + LD_HCALL_STATUS, st, sizeof(st)))
		return;
	for (unsigned i = 0; i < LHCALL_RING_SIZE; i++) {
		unsigned n = lg->next_hcall;
		if (st[n] == 0xff)
			break;
		lg->next_hcall = (n + 1) % LHCALL_RING_SIZE;

		uint8_t raw[LD_HCALL_SIZE];
		if (!guest_range_ok(&lg->mem, lg->lguest_data + LD_HCALLS + n * LD_HCALL_SIZE, LD_HCALL_SIZE)) {
			kill_guest(lg, "Fetching async hypercalls");
			break;
		}
		lg_read(lg, lg->lguest_data + LD_HCALLS + n * LD_HCALL_SIZE, raw, sizeof(raw));
		struct hcall_args a = {get_le32(raw), get_le32(raw + 4), get_le32(raw + 8), get_le32(raw + 12),
		                       get_le32(raw + 16)};
		do_hcall(lg, &a, EVH_ASYNC);

		uint8_t done = 0xff;
		if (!lg_write(lg, lg->lguest_data + LD_HCALL_STATUS + n, &done, 1)) {
			kill_guest(lg, "Writing result for async hypercall");
			break;
		}
		if (lg->pending_notify)
			break;
	}
}

/*
 * do_hypercalls(): the pending synchronous call, after the async ring.
 * If the ring produced a NOTIFY, the synchronous call waits for the next
 * round so the launcher can service the notify first (§A1).
 */
void do_hypercalls(struct lguest *lg)
{
	if (!lg->initialized) {
		EMIT(lg, EV_HYPERCALL, EVH_SYNC, lg->hcall.nr, lg->hcall.a1, lg->hcall.a2, lg->hcall.a3, lg->hcall.a4);
		if (lg->hcall.nr != LHCALL_LGUEST_INIT)
			kill_guest(lg, "hypercall %li before INIT", (long)(int32_t)lg->hcall.nr);
		else
			initialize(lg, lg->hcall.a1);
		lg->hcall_pending = false;
		return;
	}
	do_async_hcalls(lg);
	if (!lg->pending_notify) {
		do_hcall(lg, &lg->hcall, EVH_SYNC);
		lg->hcall_pending = false;
	}
}
