/*
 * The mini kernel: a small freestanding guest that boots the way a Linux
 * 3.x lguest kernel does (see README.md for the path it takes).  This
 * header holds what its files share: the memory layout, the page-table
 * and segment constants, the trap frame, and the console/check helpers.
 */
#ifndef MINIKERNEL_H
#define MINIKERNEL_H

#include "lguest.h"

/* ---- Memory layout ---- */

#define PAGE_OFFSET 0xC0000000u /* kernel virtual = physical + PAGE_OFFSET */
#define PAGE_SIZE 4096u
#define KERNEL_MAP_MB 16u /* mapped at 0 (until zapped) and at PAGE_OFFSET */
#define KERNEL_PTE_PAGES (KERNEL_MAP_MB / 4u)
#define USER_BASE 0x08048000u    /* where the user program is linked */
#define USER_STACK_PAGE 0xBFFFF000u
#define USER_TLS_PAGE 0xBFFFE000u
#define USER_FAULT_ADDR 0x40000000u /* unmapped until the user touches it */
#define CHURN_ADDR 0x50000000u      /* the page-table churn test's user page */

#define pa(x) ((u32)(x) - PAGE_OFFSET)
#define va(x) ((void *)((u32)(x) + PAGE_OFFSET))

/* Page-table entry bits. */
#define PTE_P 0x001u
#define PTE_RW 0x002u
#define PTE_USER 0x004u
#define PTE_A 0x020u
#define PTE_D 0x040u
#define PTE_FLAGS 0xfffu
#define PDE_KERNEL 0x063u /* head_32.S's PDE_IDENT_ATTR: P|RW|A|D */
#define PDE_USER 0x067u   /* _PAGE_TABLE: the most a guest PDE may carry (§A3.3) */
#define PTE_KERNEL 0x003u /* head_32.S's initial PTEs: P|RW, no A/D */
#define PTE_USER_RW (PTE_P | PTE_RW | PTE_USER)
#define PTE_USER_RO (PTE_P | PTE_USER)

/* Segment selectors (Linux's i386 GDT layout). */
#define KERNEL_CS 0x61
#define KERNEL_DS 0x69
#define USER_CS 0x73 /* GDT 14, RPL 3 */
#define USER_DS 0x7b /* GDT 15, RPL 3 */
#define USER_TLS_SEL 0x33 /* GDT 6 (the first TLS entry), RPL 3 */

#define X86_EFLAGS_IF 0x200u
#define SYSCALL_VECTOR 0x80u
#define CR0_TS 8u

/* System calls of the user program: eax = number, ebx = argument. */
#define SYS_WRITE 1 /* ebx = NUL-terminated string */
#define SYS_REPORT 2 /* ebx = a value the kernel records */
#define SYS_EXIT 3

/* ---- Shared state ---- */

extern struct lguest_data lguest_data;

/* What the physical-address boot phase found, for kernel_main to report. */
struct boot_report {
	u32 entry_esp;      /* esp at entry: lguest starts us with 0 */
	u32 entry_esi;      /* &boot_params, which is 0 */
	u32 entry_eflags;
	u32 entry_cs, entry_ss; /* stored as 16-bit values by entry.S */
	u32 e820_count, e820_size, version;
	u32 init_tsc_khz, init_reserve_mem, init_time_sec;
};
extern struct boot_report boot_report;

extern u32 swapper_pg_dir[1024];
extern u32 kernel_ptes[KERNEL_PTE_PAGES][1024];

/* The register frame built by trap_common (entry.S) below the CPU's frame. */
struct trap_frame {
	u32 edi, esi, ebp, esp_unused, ebx, edx, ecx, eax; /* pushal */
	u32 ds, es, fs, gs;
	u32 vector, error; /* error is 0 for vectors without one */
	u32 eip, cs, eflags;
	u32 user_esp, user_ss; /* only for a trap from ring 3 */
};

/* ---- entry.S ---- */
extern char start[], _text[], _etext[], __bss_start[], __bss_stop[];
extern char __user_phys[], __user_end[];
extern char trap_vectors[];      /* 256 stubs, TRAP_STUB_SIZE bytes apart */
#define TRAP_STUB_SIZE 16u
extern char lguest_noirq_start[], lguest_noirq_end[];
extern char send_interrupts_return[]; /* just after lg_restore_fl's int $0x1f */
extern u8 kernel_stack[], kernel_stack_top[];
extern u8 syscall_stack[], syscall_stack_top[]; /* the SET_STACK stack: 2 pages */
void lg_restore_fl_asm(void);
u32 enter_user(u32 eip, u32 esp);              /* returns the value SYS_EXIT passed */
__attribute__((noreturn)) void leave_user(u32 value);
extern char user_start[], user_msg[], user_clean_page[];

/* ---- cmdline.c: "word" flags and "word=N" numbers on the kernel command line ---- */
int cmdline_flag(const char *word);
int cmdline_number(const char *word, u32 *value);

/* ---- console.c ---- */
void early_write(const char *s);
void early_hex(u32 v);
void early_dec(u32 v);
void expect(const char *what, u32 got, u32 want);
void expect_true(const char *what, int cond);
void step_done(u32 number, const char *title);
u32 checks_passed(void);
u32 checks_failed(void);
__attribute__((noreturn)) void kernel_power_off(const char *msg);

/* ---- irqflags.c ---- */
u32 save_flags(void);
void irq_disable(void);
void irq_enable(void);
void restore_flags(u32 flags);
void safe_halt(void);
u64 rdtsc(void);

/* ---- traps.c ---- */
void load_idt(void);
void trap_dispatch(struct trap_frame *f);
/* What the trap handlers saw, for the checks. */
struct trap_log {
	u32 count[256];
	u32 last_eip[32], last_error[32];
	u32 pf_cr2, pf_error, pf_user;
	u32 nm_irq_enabled;
	u32 ticks, tick_rearms, ticks_in_noirq, ticks_irq_enabled_nonzero;
	u32 tick_eip, tick_sec[8], tick_nsec[8];
	u64 tick_tsc[8];
	u32 syscall_frame, syscall_eflags, syscall_irq_enabled, syscall_cs, syscall_ss;
	u32 reported[8], nreported;
};
extern volatile struct trap_log traps;
extern volatile u32 fault_resume;   /* one-shot: where a fault handler resumes */
extern volatile u32 tick_rearm_ns;  /* >0: each tick re-arms the clock event */
extern volatile u32 tick_rearm_left;

/* ---- mm.c ---- */
void *alloc_page(void);
u32 *pte_slot(u32 *pgdir, u32 vaddr, int create);
void map_page(u32 *pgdir, u32 vaddr, u32 phys, u32 flags);
void zero_page(void *page);
void copy_page(void *to, const void *from);
void set_cr3(u32 *pgdir);
extern u32 *current_pgdir;

/* ---- the steps (kernel.c, user.c, churn.c) ---- */
void step_boot_report(void);
void step_init_report(void);
void step_page_tables(void);
void step_segments(void);
void step_idt(void);
void step_timer(void);
void step_clock(void);
void step_fpu(void);
void step_user(void);
void step_churn(void);

/* ---- work.c: the `work=N` load, after the checks ---- */
void work_from_cmdline(void);
int work_page_fault(u32 cr2); /* 1 if it mapped a work process's heap page */

#endif
