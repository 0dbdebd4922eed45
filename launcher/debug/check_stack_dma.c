/*
 * stack-dma: buffers on the kernel stack that the host reads after the
 * guest has moved on (docs/checkers/stack-dma.md).  The Plan 9 port's
 * "invalid DMAs where there is a virtual address on the stack".
 *
 * "The kernel stack" is every guest-physical page the guest's esp has
 * been in at CPL 1 (sampled at each event: hypercalls, traps, interrupt
 * deliveries, TLB fills), from the lowest esp seen in that page to the
 * page's end, plus the pages SET_STACK names.  Separate IRQ stacks count
 * as soon as esp has been seen in them.
 *
 * Checked:
 *  - vring buffers: the avail ring pages are watched, so the moment the
 *    guest publishes a chain (writes avail->idx) is its "posting": eip,
 *    symbol and the first bytes of each on-stack buffer are kept.  When
 *    the host takes the chain (EV_VQ_BUFFER) the finding says where it
 *    was posted, where the host used it, and whether the bytes changed
 *    in between;
 *  - lguest_data itself (INIT's argument), which the host uses for the
 *    guest's whole life;
 *  - async-ring entries whose argument is a buffer (NOTIFY, LOAD_TLS,
 *    SHUTDOWN): the host reads it only at the next synchronous call.
 * A synchronous NOTIFY of a string (Linux's early console, 17 bytes on
 * the stack) is read while the guest is stopped and is fine.
 */
#include <stdio.h>
#include <string.h>

#include "debug/checks.h"
#include "host/host.h"

#define NO_STACK 0xffffu
#define SNAPSHOT 64
#define MAX_POSTED 32
#define MAX_FINDINGS 8 /* a driver that does this once does it for every request */
#define VRING_NUM 256
#define AVAIL_OFFSET (16 * VRING_NUM)
#define DESC_F_NEXT 1
#define DESC_F_WRITE 2

/* A buffer on the stack, as the guest published it. */
struct posted {
	uint32_t dev, queue, head, addr, len;
	uint32_t eip;
	uint64_t icount;
	uint8_t bytes[SNAPSHOT];
};

static struct {
	uint16_t low_esp[1u << 20]; /* per guest page: lowest esp offset seen at CPL 1, or NO_STACK */
	uint16_t avail_seen[MAX_DEVICES][MAX_VQS];
	struct posted posted[MAX_POSTED];
	unsigned nposted, nfindings;
	uint32_t npages;
	uint32_t last_esp, last_esp_page, last_cr3; /* the last esp sampled, and where */
} dma;

/* Call fn for every virtqueue the launcher created. */
#define FOR_EACH_VQ(lg, d, q) \
	for (unsigned d = 0; d < (lg)->devices.count; d++) \
		for (unsigned q = 0; q < (lg)->devices.dev[d].num_vq; q++)

static void dma_start(struct lguest *lg)
{
	memset(&dma, 0, sizeof(dma));
	memset(dma.low_esp, 0xff, sizeof(dma.low_esp));
	dma.last_esp_page = 1; /* no page: page addresses have the low bits clear */
	dma.npages = lg->mem.mapped_bytes / GUEST_PAGE_SIZE + 1;
	FOR_EACH_VQ(lg, d, q)
		check_watch_page(lg, &check_stack_dma, (lg->devices.dev[d].vq[q].pfn + 1) * GUEST_PAGE_SIZE);
}

/* Note that the stack reaches down to guest-physical pa. */
static void mark_stack(uint32_t pa)
{
	uint32_t pfn = pa >> 12;
	if (pfn < dma.npages && (pa & 0xfff) < dma.low_esp[pfn])
		dma.low_esp[pfn] = (uint16_t)(pa & 0xfff);
}

/* Does [pa, pa+len) overlap the stack? */
static bool on_stack(uint32_t pa, uint32_t len)
{
	uint32_t end = pa + (len ? len : 1);
	if (end < pa)
		return false;
	for (uint32_t p = pa; p < end; p = (p & ~0xfffu) + GUEST_PAGE_SIZE) {
		uint32_t pfn = p >> 12, last = end - 1 < (p | 0xfffu) ? (end - 1) & 0xfff : 0xfff;
		if (pfn < dma.npages && dma.low_esp[pfn] != NO_STACK && last >= dma.low_esp[pfn])
			return true;
	}
	return false;
}

/*
 * Where the guest's esp is, at CPL 1.  An esp on a page boundary is an
 * empty stack whose top is that boundary (or a push about to cross it):
 * the page above is not stack, so it is not marked.
 */
static void sample_esp(struct lguest *lg)
{
	uint32_t pa, esp = lg->cpu.regs[CPU_ESP];
	if (lg->cpu.cpl != 1 || !(esp & 0xfff))
		return;
	/* Most events find esp where the last one did: skip the page walk then. */
	if ((esp & ~0xfffu) == dma.last_esp_page && lg->cpu.cr3 == dma.last_cr3 && esp >= dma.last_esp)
		return;
	if (!guest_walk(lg, esp, &pa, NULL, NULL))
		return;
	mark_stack(pa);
	dma.last_esp = esp;
	dma.last_esp_page = esp & ~0xfffu;
	dma.last_cr3 = lg->cpu.cr3;
}

/* SET_STACK(ss, esp, pages): those pages are stack, whole. */
static void set_stack(struct lguest *lg, uint32_t esp, uint32_t pages)
{
	uint32_t pa;
	for (uint32_t i = 0; i < pages && i < 2; i++)
		if (guest_walk(lg, (esp - 1 - i * GUEST_PAGE_SIZE) & ~0xfffu, &pa, NULL, NULL))
			mark_stack(pa & ~0xfffu);
}

/* Copy up to SNAPSHOT bytes of a guest buffer. */
static void snapshot(struct lguest *lg, uint32_t addr, uint32_t len, uint8_t *out)
{
	memset(out, 0, SNAPSHOT);
	if (guest_range_ok(&lg->mem, addr, len < SNAPSHOT ? len : SNAPSHOT))
		memcpy(out, guest_ptr(&lg->mem, addr), len < SNAPSHOT ? len : SNAPSHOT);
}

/* A chain the guest just published: keep every buffer of it that lies on the stack. */
static void chain_published(struct lguest *lg, unsigned d, unsigned q, uint16_t head)
{
	const uint8_t *table = guest_ptr(&lg->mem, lg->devices.dev[d].vq[q].pfn * GUEST_PAGE_SIZE);
	for (unsigned i = head, n = 0; i < VRING_NUM && n < VRING_NUM; n++) {
		const uint8_t *desc = table + 16 * i;
		uint32_t addr = get_le32(desc), len = get_le32(desc + 8);
		uint16_t flags = get_le16(desc + 12);
		if (on_stack(addr, len) && dma.nposted < MAX_POSTED) {
			struct posted *p = &dma.posted[dma.nposted++];
			*p = (struct posted){d, q, head, addr, len, lg->cpu.eip, lg->cpu.icount, {0}};
			snapshot(lg, addr, len, p->bytes);
		}
		if (!(flags & DESC_F_NEXT))
			break;
		i = get_le16(desc + 14);
	}
}

/* A write to an avail ring page: a new avail->idx publishes chains. */
static void dma_access(struct lguest *lg, uint32_t va, uint32_t phys, unsigned size, enum cpu_access access,
                       uint64_t value)
{
	(void)va;
	if (access != CPU_ACCESS_WRITE)
		return;
	FOR_EACH_VQ(lg, d, q) {
		uint32_t idx_addr = lg->devices.dev[d].vq[q].pfn * GUEST_PAGE_SIZE + AVAIL_OFFSET + 2;
		if (phys > idx_addr || phys + size < idx_addr + 2)
			continue;
		uint16_t idx = (uint16_t)(value >> (8 * (idx_addr - phys)));
		const uint8_t *ring = guest_ptr(&lg->mem, idx_addr + 2);
		for (uint16_t i = dma.avail_seen[d][q]; i != idx && (uint16_t)(i - dma.avail_seen[d][q]) < VRING_NUM; i++)
			chain_published(lg, d, q, get_le16(ring + 2 * (i % VRING_NUM)) % VRING_NUM);
		dma.avail_seen[d][q] = idx;
	}
}

/* The host takes a vring buffer: was it on the stack when it was posted? */
static void buffer_used(struct lguest *lg, const struct event *e)
{
	char posted_at[200], used_at[200];
	const uint32_t *a = e->arg;
	for (unsigned i = 0; i < dma.nposted; i++) {
		struct posted *p = &dma.posted[i];
		if (p->dev != a[0] || p->queue != a[1] || p->head != a[2] || p->addr != a[3])
			continue;
		uint8_t now[SNAPSHOT];
		snapshot(lg, p->addr, p->len, now);
		if (dma.nfindings++ < MAX_FINDINGS)
			check_report(lg, &check_stack_dma, p->addr,
			             "vring buffer 0x%x (%u bytes) on the kernel stack, posted at eip %s; the host %s it "
			             "later, at eip %s, %llu instructions after the guest resumed%s; make the buffer "
			             "static or allocate it",
			             p->addr, p->len, check_where(lg, p->eip, posted_at, sizeof(posted_at)),
			             (a[5] & DESC_F_WRITE) ? "writes" : "reads",
			             check_where(lg, e->eip, used_at, sizeof(used_at)),
			             (unsigned long long)(e->icount - p->icount),
			             (a[5] & DESC_F_WRITE) ? ""
			             : memcmp(now, p->bytes, SNAPSHOT) ? ", and by then the bytes had changed"
			                                               : " (the bytes had not changed yet)");
		dma.posted[i] = dma.posted[--dma.nposted];
		return;
	}
}

/* An async call whose argument is a buffer the host reads at the next synchronous call. */
static void async_buffer(struct lguest *lg, const struct event *e)
{
	static const uint32_t len_of[] = {[LHCALL_SHUTDOWN] = 128, [LHCALL_LOAD_TLS] = 24, [LHCALL_NOTIFY] = 1};
	char where[200];
	uint32_t nr = e->arg[0], pa;
	if (nr >= sizeof(len_of) / sizeof(len_of[0]) || !len_of[nr] || !guest_walk(lg, e->arg[1], &pa, NULL, NULL))
		return;
	if (nr == LHCALL_NOTIFY)
		pa = e->arg[1]; /* NOTIFY takes a guest-physical address */
	if (on_stack(pa, len_of[nr]) && dma.nfindings++ < MAX_FINDINGS)
		check_report(lg, &check_stack_dma, e->arg[1],
		             "async %s(0x%x) points into the kernel stack: the host reads async-ring entries only at "
		             "the next synchronous hypercall (eip %s), after the function that queued it may have "
		             "returned",
		             hypercall_name(nr), e->arg[1], check_where(lg, e->eip, where, sizeof(where)));
}

static void dma_event(struct lguest *lg, const struct event *e)
{
	char where[200];
	if (e->cpl == 1)
		sample_esp(lg);
	switch (e->kind) {
	case EV_HYPERCALL:
		if (e->arg[0] == LHCALL_SET_STACK)
			set_stack(lg, e->arg[2], e->arg[3]);
		else if (e->arg[0] == LHCALL_LGUEST_INIT && !lg->initialized &&
		         on_stack(e->arg[1], lg->abi->lguest_data_size))
			check_report(lg, &check_stack_dma, e->arg[1],
			             "lguest_data at 0x%x (LGUEST_INIT at eip %s) lies on the kernel stack: the host reads "
			             "and writes it for the guest's whole life",
			             e->arg[1], check_where(lg, e->eip, where, sizeof(where)));
		else if (e->sub == EVH_ASYNC)
			async_buffer(lg, e);
		break;
	case EV_VQ_BUFFER:
		buffer_used(lg, e);
		break;
	default:
		break;
	}
}

const struct checker check_stack_dma = {
	.name = "stack-dma",
	.start = dma_start,
	.event = dma_event,
	.access = dma_access,
};
