/*
 * What a guest needs to talk to lguest (the default 3.19 profile):
 * hypercall numbers, the lguest_data layout and a hypercall helper.
 * Written from shared/reference/lguest-abi.md §3, §4.5 and the addendum.
 */
#ifndef SAMPLES_LGUEST_H
#define SAMPLES_LGUEST_H

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;

#define LHCALL_FLUSH_ASYNC 0
#define LHCALL_LGUEST_INIT 1
#define LHCALL_SHUTDOWN 2
#define LHCALL_NEW_PGTABLE 4
#define LHCALL_FLUSH_TLB 5
#define LHCALL_LOAD_IDT_ENTRY 6
#define LHCALL_SET_STACK 7
#define LHCALL_TS 8
#define LHCALL_SET_CLOCKEVENT 9
#define LHCALL_HALT 10
#define LHCALL_SET_PTE 14
#define LHCALL_SET_PGD 15
#define LHCALL_LOAD_TLS 16
#define LHCALL_NOTIFY 17
#define LHCALL_LOAD_GDT_ENTRY 18
#define LHCALL_SEND_INTERRUPTS 19

#define LGUEST_SHUTDOWN_POWEROFF 1
#define LGUEST_SHUTDOWN_RESTART 2

#define LHCALL_RING_SIZE 64

/* One asynchronous hypercall: the call number then four arguments. */
struct hcall_args {
	u32 arg0, arg1, arg2, arg3, arg4;
};

/* struct lguest_data as 3.x guests after `pgdir` left it: 1392 bytes. */
struct lguest_data {
	u32 irq_enabled;        /* 0 */
	u32 blocked_interrupts; /* 4 */
	u32 cr2;                /* 8 */
	u32 time_sec;           /* 12 */
	u32 time_nsec;          /* 16 */
	u32 irq_pending;        /* 20 */
	u8 hcall_status[LHCALL_RING_SIZE];       /* 24 */
	struct hcall_args hcalls[LHCALL_RING_SIZE]; /* 88 */
	u32 reserve_mem;        /* 1368 */
	u32 tsc_khz;            /* 1372 */
	u32 noirq_start;        /* 1376 */
	u32 noirq_end;          /* 1380 */
	u32 kernel_address;     /* 1384 */
	u32 syscall_vec;        /* 1388 */
};
_Static_assert(sizeof(struct lguest_data) == 1392, "lguest_data is 1392 bytes in 3.x");

/* A synchronous hypercall: int $0x1f, eax = call, ebx/ecx/edx/esi = args. */
static inline u32 hcall(u32 call, u32 a1, u32 a2, u32 a3, u32 a4)
{
	asm volatile("int $0x1f"
	             : "+a"(call)
	             : "b"(a1), "c"(a2), "d"(a3), "S"(a4)
	             : "memory");
	return call;
}

/* Prepare lguest_data the way Linux does before LGUEST_INIT. */
static inline void lguest_data_prepare(struct lguest_data *ld)
{
	for (int i = 0; i < LHCALL_RING_SIZE; i++)
		ld->hcall_status[i] = 0xff;
	ld->syscall_vec = 0x80;
	ld->blocked_interrupts = 0;
}

/* Print a NUL-terminated string through the early console (NOTIFY). */
static inline void early_puts(const char *s)
{
	hcall(LHCALL_NOTIFY, (u32)s, 0, 0, 0);
}

/* Power off with a message; does not return. */
static inline __attribute__((noreturn)) void power_off(const char *msg)
{
	hcall(LHCALL_SHUTDOWN, (u32)msg, LGUEST_SHUTDOWN_POWEROFF, 0, 0);
	for (;;)
		;
}

#endif
