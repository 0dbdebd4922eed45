/*
 * Step 9: ring 3.  The user program (user.S) is mapped with USER PTEs at
 * its link address and entered with an iret to cs 0x73, ss 0x7b.  Its
 * system calls arrive directly through the DPL-3 trap gate on the
 * SET_STACK stack (§A6.4: EFLAGS pushed with IF = 1, irq_enabled
 * untouched); its write to an unmapped page is reflected as #PF with cr2
 * in lguest_data (§A3.3); its write to a clean page is fixed up by the
 * host alone, which sets DIRTY.
 */
#include "minikernel.h"

/* The user program's pages and a stack, in the current address space. */
static void map_user_program(void)
{
	u32 pages = ((u32)__user_end - USER_BASE) / PAGE_SIZE;
	for (u32 i = 0; i < pages; i++)
		map_page(current_pgdir, USER_BASE + i * PAGE_SIZE, (u32)__user_phys + i * PAGE_SIZE,
		         i == 0 ? PTE_USER_RO : PTE_USER_RW);
	map_page(current_pgdir, USER_STACK_PAGE, pa(alloc_page()), PTE_USER_RW);
}

void step_user(void)
{
	map_user_program();
	u32 *clean_pte = pte_slot(current_pgdir, (u32)user_clean_page, 0);
	u32 exit_value = enter_user((u32)user_start, USER_STACK_PAGE + PAGE_SIZE);

	expect("SYS_EXIT value", exit_value, 0x600d);
	expect("syscall frame at the SET_STACK top", traps.syscall_frame + 20, (u32)syscall_stack_top);
	expect("syscall cs", traps.syscall_cs, USER_CS);
	expect("syscall ss", traps.syscall_ss, USER_DS);
	expect("syscall eflags IF", traps.syscall_eflags & X86_EFLAGS_IF, X86_EFLAGS_IF);
	expect("irq_enabled untouched by the syscall", traps.syscall_irq_enabled, 0x202);
	expect("system calls reported", traps.nreported, 3);
	expect("%gs:0 in ring 3", traps.reported[0], 0x715c0de);
	expect("reflected #PF count", traps.pf_user, 1);
	expect("#PF cr2", traps.pf_cr2, USER_FAULT_ADDR);
	expect("#PF error code (user write, not present)", traps.pf_error, 6);
	expect("value written after the fault", traps.reported[1], 0x600dcafe);
	u32 *fault_pte = pte_slot(current_pgdir, USER_FAULT_ADDR, 0);
	expect("faulted page PTE accessed, dirty", fault_pte ? *fault_pte & (PTE_A | PTE_D) : 0, PTE_A | PTE_D);
	expect("clean page write", traps.reported[2], 0x5a5a5a5a);
	expect("clean page PTE now dirty", clean_pte ? *clean_pte & (PTE_A | PTE_D) : 0, PTE_A | PTE_D);
	expect("no other reflected #PF", traps.count[14], 2);
	step_done(9, "user mode: iret to ring 3, int $0x80, #PF mapped by the kernel, clean-page write");
}
