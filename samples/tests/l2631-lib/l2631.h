/*
 * The guest side of the 2.6.31-3.0 lguest ABI (addendum part B, the
 * launcher's --abi=2.6.31), for the p9-* and l2631-* test guests.
 *
 * Both guests are linked at 0xC0100000 and loaded at physical 0x100000,
 * like a 2.6.31 vmlinux or a Plan 9 kernel.  The host built the first
 * page tables (all RAM at 0 and at PAGE_OFFSET), so once the entry code
 * has left its physical addresses everything runs high; every address a
 * hypercall or a vring carries is guest-physical, hence PADDR().
 *
 * Before including, a guest may define L2631_VMCALL to make its
 * hypercalls with `vmcall` (0F 01 C1, as Linux 2.6.31-2.6.33 did) instead
 * of `int $0x1f`.
 *
 * Provided: struct lguest_data_2631 (1396 bytes), hc() for hypercalls, a
 * window of page-table entries onto the device pages above RAM, a tiny
 * virtio console transmit driver, and line output through it.
 */
#ifndef SAMPLES_TESTS_L2631_H
#define SAMPLES_TESTS_L2631_H

#include "lguest.h"

#define PAGE_OFFSET 0xC0000000u
#define PADDR(p) ((u32)(p) - PAGE_OFFSET)
#define KADDR(pa) ((void *)((u32)(pa) + PAGE_OFFSET))
#define PAGE_SIZE 4096u

/* Where the guests map the lguest bus pages (the descriptor page at `mem`
 * and the rings after it): PDE index 896, far from RAM's aliases. */
#define DEVICE_WINDOW 0xE0000000u
#define DEVICE_WINDOW_PAGES 64u

/* struct lguest_data of the 2.6.31-3.0 guests (lguest-abi.md §4.4). */
struct lguest_data_2631 {
	u32 irq_enabled;        /* 0 */
	u32 blocked_interrupts; /* 4 */
	u32 cr2;                /* 8 */
	u32 time_sec;           /* 12 */
	u32 time_nsec;          /* 16 */
	u32 irq_pending;        /* 20 */
	u8 hcall_status[LHCALL_RING_SIZE];          /* 24 */
	struct hcall_args hcalls[LHCALL_RING_SIZE]; /* 88 */
	u32 reserve_mem;        /* 1368 */
	u32 tsc_khz;            /* 1372 */
	u32 pgdir;              /* 1376: written by the host at INIT */
	u32 noirq_start;        /* 1380 */
	u32 noirq_end;          /* 1384 */
	u32 kernel_address;     /* 1388 */
	u32 syscall_vec;        /* 1392 */
};
_Static_assert(sizeof(struct lguest_data_2631) == 1396, "lguest_data is 1396 bytes in 2.6.31-3.0");
_Static_assert(__builtin_offsetof(struct lguest_data_2631, pgdir) == 1376, "pgdir at 1376");
_Static_assert(__builtin_offsetof(struct lguest_data_2631, syscall_vec) == 1392, "syscall_vec at 1392");

#ifdef L2631_VMCALL
#define HCALL_INSN ".byte 0x0f, 0x01, 0xc1" /* vmcall: the host rewrites it to int $0x1f; nop */
#else
#define HCALL_INSN "int $0x1f"
#endif

/* A synchronous hypercall: eax = call, ebx/ecx/edx/esi = arguments. */
static inline u32 hc(u32 call, u32 a1, u32 a2, u32 a3, u32 a4)
{
	asm volatile(HCALL_INSN : "+a"(call) : "b"(a1), "c"(a2), "d"(a3), "S"(a4) : "memory");
	return call;
}

/* RAM size as the launcher wrote it in boot_params' first e820 entry. */
static inline u32 boot_ram_bytes(void)
{
	return *(volatile u32 *)KADDR(0x2d0 + 8);
}

/* Does the kernel command line (at physical 0x1000) hold this word? */
static inline int cmdline_has(const char *word)
{
	const char *p = KADDR(*(volatile u32 *)KADDR(0x228));
	while (*p) {
		const char *w = word;
		while (*p == ' ')
			p++;
		while (*w && *p == *w) {
			p++;
			w++;
		}
		if (!*w && (*p == ' ' || !*p))
			return 1;
		while (*p && *p != ' ')
			p++;
	}
	return 0;
}

/* Fill a page-table page so that DEVICE_WINDOW maps the pages from
 * physical `mem` on (supervisor, writable).  Only the pages actually
 * touched are checked by the host, so mapping a few beyond the pfn limit
 * is harmless. */
static inline void fill_device_window(u32 *ptes, u32 mem)
{
	for (u32 i = 0; i < 1024; i++)
		ptes[i] = i < DEVICE_WINDOW_PAGES ? (mem + i * PAGE_SIZE) | 0x3 : 0;
}

/* ---- The virtio console's transmit queue ---- */

struct vring_desc {
	u64 addr;
	u32 len;
	u16 flags, next;
};

#define VQ_NUM 256u
#define VRING_AVAIL_F_NO_INTERRUPT 1
#define VIRTIO_ID_CONSOLE 3

/* What the driver knows of the console once it found it. */
struct console_tx {
	volatile u8 *status;     /* the status byte of its device record */
	u32 record_paddr;        /* NOTIFY address of a status change */
	u32 ring_paddr;          /* NOTIFY address of a transmit kick */
	struct vring_desc *desc; /* the ring, through DEVICE_WINDOW */
	volatile u16 *avail;     /* flags, idx, ring[] */
	volatile u16 *used;      /* flags, idx, {id, len}[] */
	u16 next_avail;
	u32 lost;                /* kicks whose buffer the launcher did not consume */
};

static struct console_tx con;
static char con_buf[160];

/* Walk the descriptor page (§9.4 record layout) for the console; 0 if none. */
static inline int console_find(u32 mem)
{
	u8 *page = (u8 *)DEVICE_WINDOW;
	u32 off = 0;
	while (off + 5 <= PAGE_SIZE && page[off]) {
		u8 *rec = page + off;
		u32 num_vq = rec[1], feature_len = rec[2], config_len = rec[3];
		if (rec[0] == VIRTIO_ID_CONSOLE && num_vq >= 2) {
			u32 pfn = *(u32 *)(rec + 5 + 8 + 4); /* queue 1: transmit */
			u8 *ring = (u8 *)DEVICE_WINDOW + (pfn * PAGE_SIZE - mem);
			con.status = rec + 4;
			con.record_paddr = mem + off;
			con.ring_paddr = pfn * PAGE_SIZE;
			con.desc = (struct vring_desc *)ring;
			con.avail = (volatile u16 *)(ring + 16 * VQ_NUM);
			con.used = (volatile u16 *)(ring + 2 * PAGE_SIZE);
			con.avail[0] = VRING_AVAIL_F_NO_INTERRUPT;
			return 1;
		}
		off += 5 + 8 * num_vq + 2 * feature_len + config_len;
	}
	return 0;
}

/* Write the console's status byte; tell the host only if asked to. */
static inline void console_set_status(u8 status, int notify)
{
	*con.status = status;
	if (notify)
		hc(LHCALL_NOTIFY, con.record_paddr, 0, 0, 0);
}

/* Send bytes through the transmit ring and kick it.  The launcher serves
 * the kick before the guest resumes, so one buffer is enough; a kick it
 * did not consume is counted in con.lost. */
static inline void console_write(const char *s, u32 len)
{
	u16 slot = con.next_avail % VQ_NUM;
	u16 used_before = con.used[1];
	for (u32 i = 0; i < len && i < sizeof(con_buf); i++)
		con_buf[i] = s[i];
	con.desc[slot] = (struct vring_desc){PADDR(con_buf), len, 0, 0};
	con.avail[2 + slot] = slot;
	asm volatile("" ::: "memory");
	con.avail[1] = ++con.next_avail;
	hc(LHCALL_NOTIFY, con.ring_paddr, 0, 0, 0);
	if (con.used[1] != (u16)(used_before + 1))
		con.lost++;
}

/* ---- Lines of output ---- */

static char line[150];
static u32 line_len;

/* Append text to the line being built. */
static inline void put_str(const char *s)
{
	while (*s && line_len < sizeof(line) - 1)
		line[line_len++] = *s++;
}

/* Hex as the kernel's %#x prints it: 0x0 for zero. */
static inline void put_hex(u32 v)
{
	char digits[8];
	int n = 0;
	do {
		digits[n++] = "0123456789abcdef"[v & 15];
		v >>= 4;
	} while (v);
	put_str("0x");
	while (n && line_len < sizeof(line) - 1)
		line[line_len++] = digits[--n];
}

/* End the line and send it through the console. */
static inline void put_end(void)
{
	line[line_len++] = '\n';
	console_write(line, line_len);
	line_len = 0;
}

/* One line "<what> 0x<value>". */
static inline void say_hex(const char *what, u32 v)
{
	put_str(what);
	put_str(" ");
	put_hex(v);
	put_end();
}

/* One line of text. */
static inline void say(const char *text)
{
	put_str(text);
	put_end();
}

#endif
