/*
 * Host rules that a guest meets rarely but must meet exactly, each citing
 * the addendum: where SET_PTE into the switcher dies in each profile,
 * int $6 under 2.6.31, lguest_data at physical 0, a HALT inside the
 * noirq window, and the 2.6.31 profile's RAM limit.
 */
#include <stdio.h>
#include <string.h>

#include "host/host.h"
#include "host_testguest.h"

static unsigned failures;

static void check(const char *name, bool ok, const char *got)
{
	if (ok) {
		printf("PASS %s\n", name);
	} else {
		printf("FAIL %s: got \"%s\"\n", name, got);
		failures++;
	}
}

#define LD_ADDR 0x5000u

/* Part B: the 2.6.31 hosts died in the shadow lookup, 3.10+ checked SET_PTE first (§A2.2). */
static void test_set_pte_switcher(void)
{
	struct lguest *lg = new_guest(&abi_2_6_31, 16, 0);
	guest_set_pte(lg, lg->host_pgdir, 0xFFC00000u, 0);
	check("2.6.31: SET_PTE at 0xFFC00000 kills \"attempt to access switcher pages\"",
	      lg->death == GUEST_KILLED && !strcmp(lg->death_reason, "attempt to access switcher pages"),
	      lg->death_reason);
	free_guest(lg);

	lg = new_guest(&abi_3_19, 16, 0);
	guest_set_pte(lg, 0, 0xFFC00000u, 0);
	check("3.19: SET_PTE at 0xFFC00000 is guest space (switcher at 0xFFFE1000)", lg->death == GUEST_ALIVE,
	      lg->death_reason);
	guest_set_pte(lg, 0, 0xFFFE1000u, 0);
	check("3.19: SET_PTE at the switcher kills \"attempt to set pte into Switcher pages\"",
	      lg->death == GUEST_KILLED && !strcmp(lg->death_reason, "attempt to set pte into Switcher pages"),
	      lg->death_reason);
	free_guest(lg);
}

/* `int $6` at CPL 1 with a DPL-1 trap gate for #UD, as a stop from the CPU. */
static struct lguest *int6_guest(const struct abi_profile *abi)
{
	struct lguest *lg = new_guest(abi, 16, 0);
	write_lguest_data(lg, LD_ADDR, abi, 0x80, 0xC0000000u);
	do_init(lg, LD_ADDR);
	load_idt_entry(lg, 6, (GUEST_KERNEL_CS << 16) | 0x3000, 0x0010af00u); /* handler 0x103000, P, DPL 1, trap */
	lg->cpu.regs[CPU_ESP] = 0x9000;
	lg->cpu.eip = 0x100100;
	struct cpu_stop stop = {.kind = CPU_STOP_EXCEPTION, .vector = 6, .soft_int = true, .eip = 0x100100,
	                        .next_eip = 0x100102};
	handle_cpu_stop(lg, &stop);
	return lg;
}

/* Part B: #UD is not direct-capable in 2.6.31, so int $6 meets the host's DPL-0 gate (§A6.3). */
static void test_int6(void)
{
	struct lguest *lg = int6_guest(&abi_2_6_31);
	check("2.6.31: int $6 is #GP(0x32), here with no gate for 13",
	      lg->death == GUEST_KILLED && !strcmp(lg->death_reason, "unhandled trap 13 at 0x100100 (0x32)"),
	      lg->death_reason);
	free_guest(lg);

	lg = int6_guest(&abi_3_19);
	char got[80];
	snprintf(got, sizeof(got), "death %d, eip 0x%x", lg->death, lg->cpu.eip);
	check("3.19: int $6 through a DPL-1 trap gate goes direct to the handler",
	      lg->death == GUEST_ALIVE && lg->cpu.eip == 0x103000, got);
	free_guest(lg);
}

/* §A2.1: INIT takes any guest-physical address that passes the range check, 0 included. */
static void test_init_at_zero(void)
{
	struct lguest *lg = new_guest(&abi_3_19, 16, 0);
	write_lguest_data(lg, 0, &abi_3_19, 0x80, 0xC0000000u);
	do_init(lg, 0);
	lg->hcall = (struct hcall_args){LHCALL_FLUSH_ASYNC, 0, 0, 0, 0};
	lg->hcall_pending = true;
	do_hypercalls(lg);
	check("INIT with lguest_data at physical 0, then another hypercall", lg->death == GUEST_ALIVE && lg->initialized,
	      lg->death_reason);
	free_guest(lg);
}

/* §A5.2 step 2 never delivers inside the noirq window, and a halted eip does not move. */
static void test_halt_in_noirq_window(void)
{
	struct lguest *lg = new_guest(&abi_3_19, 16, 0);
	write_lguest_data(lg, LD_ADDR, &abi_3_19, 0x80, 0xC0000000u);
	put_le32(guest_ptr(&lg->mem, LD_ADDR + abi_3_19.off_noirq_start), 0x100100);
	put_le32(guest_ptr(&lg->mem, LD_ADDR + abi_3_19.off_noirq_end), 0x100110);
	do_init(lg, LD_ADDR);
	lg->cpu.eip = 0x100104;
	lg->halted = true;
	set_interrupt(lg, 0);
	enum guest_death d = lguest_run(lg);
	check("HALT inside the noirq window with an IRQ pending is reported, not waited on",
	      d == GUEST_LIMIT && !strcmp(lg->death_reason, "guest halted with no interrupt that can wake it"),
	      lg->death_reason);
	free_guest(lg);
}

/* Part B: RAM is mapped at 0xC0000000 too, below the switcher's PDE at 1023. */
static void test_2631_ram_limit(void)
{
	struct lguest_options opt = {.abi = &abi_2_6_31, .mem_mb = 1024, .syscall_vector = 0x80};
	static struct lguest lg;
	char err[200] = "";
	bool ok = lguest_create(&lg, &opt, err, sizeof(err));
	check("--abi=2.6.31 refuses 1024 MB of RAM", !ok && strstr(err, "at most 1020 MB"), err);
	if (ok)
		lguest_destroy(&lg);
}

int main(void)
{
	test_set_pte_switcher();
	test_int6();
	test_init_at_zero();
	test_halt_in_noirq_window();
	test_2631_ram_limit();
	return failures ? 1 : 0;
}
