/*
 * mkbadkernel DIR: write small kernel files for tests/loader.test.
 *
 * Two good kernels (good.elf and good.bz) run a ten-instruction guest that
 * calls LGUEST_INIT and powers off with the message "elf ok" or "bzimage
 * ok".  Every other file is one of them with a single defect, so that the
 * launcher's loader has exactly one thing to complain about.  The ELF
 * layouts are built by hand from the System V ABI (i386 supplement) so the
 * tool needs no <elf.h> quirks and says exactly which byte is wrong.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOAD_ADDR 0x100000u
#define CODE_OFFSET 0x1000u
#define CODE_SIZE 0x80u
#define PT_LOAD 1
#define EHDR_SIZE 52
#define PHDR_SIZE 32

/* The guest: store syscall_vec 0x80 into a zeroed lguest_data at 0x200000,
 * LGUEST_INIT(0x200000), SHUTDOWN(LOAD_ADDR + 0x40, POWEROFF), jmp . */
static const uint8_t guest_code[] = {
	0xc7, 0x05, 0x6c, 0x05, 0x20, 0x00, 0x80, 0x00, 0x00, 0x00,
	0xb8, 0x01, 0x00, 0x00, 0x00,
	0xbb, 0x00, 0x00, 0x20, 0x00,
	0xcd, 0x1f,
	0xb8, 0x02, 0x00, 0x00, 0x00,
	0xbb, 0x40, 0x00, 0x10, 0x00,
	0xb9, 0x01, 0x00, 0x00, 0x00,
	0xcd, 0x1f,
	0xeb, 0xfe,
};
#define MESSAGE_OFFSET 0x40

/* One program header, in host-independent form. */
struct segment {
	uint32_t type, offset, paddr, filesz, memsz;
};

/* An ELF file under construction: the header fields we vary, the program
 * headers, and the raw bytes. */
struct elf_image {
	uint8_t class, data;
	uint16_t type, machine, phentsize, phnum;
	uint32_t phoff, size;
	struct segment seg[2];
	int nseg;
	uint8_t bytes[CODE_OFFSET + CODE_SIZE];
};

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = v & 0xff;
	p[1] = v >> 8;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, v & 0xffff);
	put16(p + 2, v >> 16);
}

/* The guest code and its power-off message, placed at p. */
static void put_guest(uint8_t *p, const char *message)
{
	memcpy(p, guest_code, sizeof(guest_code));
	strcpy((char *)p + MESSAGE_OFFSET, message);
}

/* A correct one-segment kernel that the variants then spoil. */
static struct elf_image good_elf(void)
{
	struct elf_image e;
	memset(&e, 0, sizeof(e));
	e.class = 1;		/* ELFCLASS32 */
	e.data = 1;		/* little endian */
	e.type = 2;		/* ET_EXEC */
	e.machine = 3;		/* EM_386 */
	e.phentsize = PHDR_SIZE;
	e.phoff = EHDR_SIZE;
	e.nseg = 1;
	e.seg[0] = (struct segment){PT_LOAD, CODE_OFFSET, LOAD_ADDR, CODE_SIZE, CODE_SIZE};
	e.size = CODE_OFFSET + CODE_SIZE;
	put_guest(e.bytes + CODE_OFFSET, "elf ok");
	return e;
}

/* Serialise the header and program headers into e->bytes.  phnum is
 * written as given (e->phnum), even when it disagrees with nseg. */
static void encode_elf(struct elf_image *e)
{
	uint8_t *h = e->bytes;
	memset(h, 0, EHDR_SIZE + 2 * PHDR_SIZE);
	memcpy(h, "\177ELF", 4);
	h[4] = e->class;
	h[5] = e->data;
	h[6] = 1;		/* EV_CURRENT */
	put16(h + 16, e->type);
	put16(h + 18, e->machine);
	put32(h + 20, 1);
	put32(h + 24, LOAD_ADDR);	/* e_entry */
	put32(h + 28, e->phoff);
	put16(h + 40, EHDR_SIZE);
	put16(h + 42, e->phentsize);
	put16(h + 44, e->phnum);
	for (int i = 0; i < e->nseg; i++) {
		uint8_t *p = h + EHDR_SIZE + i * PHDR_SIZE;
		put32(p + 0, e->seg[i].type);
		put32(p + 4, e->seg[i].offset);
		put32(p + 8, e->seg[i].paddr);	/* p_vaddr */
		put32(p + 12, e->seg[i].paddr);
		put32(p + 16, e->seg[i].filesz);
		put32(p + 20, e->seg[i].memsz);
		put32(p + 24, 7);		/* RWX */
		put32(p + 28, 0x1000);
	}
}

static const char *out_dir;

/* Write len bytes to DIR/name, or die: a test tool has no partial result. */
static void write_file(const char *name, const void *bytes, size_t len)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", out_dir, name);
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(bytes, 1, len, f) != len || fclose(f) != 0) {
		fprintf(stderr, "mkbadkernel: %s: %s\n", path, strerror(errno));
		exit(1);
	}
}

/* Encode and write an ELF variant, with phnum defaulting to nseg. */
static void write_elf(const char *name, struct elf_image e)
{
	if (e.phnum == 0)
		e.phnum = e.nseg;
	encode_elf(&e);
	write_file(name, e.bytes, e.size);
}

/* Like write_elf, but keep a phnum of 0 as 0. */
static void write_elf_raw_phnum(const char *name, struct elf_image e, uint16_t phnum)
{
	e.phnum = phnum;
	encode_elf(&e);
	write_file(name, e.bytes, e.size);
}

/* The ELF family: one good file, then one defect per file.  Where a
 * second segment is the culprit, segment 0 stays good so the message must
 * name segment 1. */
static void write_elf_variants(void)
{
	struct elf_image e = good_elf();
	write_elf("good.elf", e);

	e = good_elf();
	encode_elf(&e);
	write_file("truncated-header.elf", e.bytes, 20);

	e = good_elf();
	e.class = 2;		/* ELFCLASS64 */
	write_elf("wrong-class.elf", e);

	e = good_elf();
	e.machine = 62;		/* EM_X86_64 */
	write_elf("wrong-machine.elf", e);

	e = good_elf();
	e.type = 3;		/* ET_DYN */
	write_elf("wrong-type.elf", e);

	e = good_elf();
	e.phentsize = 40;
	write_elf("wrong-phentsize.elf", e);

	write_elf_raw_phnum("phnum-zero.elf", good_elf(), 0);
	write_elf_raw_phnum("phnum-huge.elf", good_elf(), 3000);
	/* 100 headers of 32 bytes from offset 52 end at 3252: legal count,
	 * but past the end of a 52 + 64 byte file. */
	e = good_elf();
	e.size = EHDR_SIZE + 2 * PHDR_SIZE;
	write_elf_raw_phnum("phdrs-beyond-file.elf", e, 100);

	e = good_elf();
	e.nseg = 2;
	e.seg[1] = (struct segment){PT_LOAD, CODE_OFFSET, 0x400000, 0x100000, 0x100000};
	write_elf("segment-beyond-file.elf", e);

	e = good_elf();
	e.nseg = 2;
	e.seg[1] = (struct segment){PT_LOAD, CODE_OFFSET, 0x7f000000, CODE_SIZE, CODE_SIZE};
	write_elf("segment-beyond-memory.elf", e);

	e = good_elf();
	e.nseg = 2;
	e.seg[1] = (struct segment){PT_LOAD, CODE_OFFSET, LOAD_ADDR + 0x40, CODE_SIZE, CODE_SIZE};
	write_elf("overlapping-segments.elf", e);

	e = good_elf();
	e.nseg = 2;
	e.seg[1] = (struct segment){PT_LOAD, CODE_OFFSET, 0x400000, CODE_SIZE, CODE_SIZE / 2};
	write_elf("filesz-over-memsz.elf", e);
}

/* The bzImage family.  A bzImage is 512-byte setup sectors, the first of
 * which holds the boot header ("HdrS" at 0x202, setup_sects at 0x1f1,
 * code32_start at 0x214), then the protected-mode code. */
static void write_bzimage_variants(void)
{
	enum { SETUP_SECTS = 1, SIZE = (SETUP_SECTS + 1) * 512 + CODE_SIZE };
	static uint8_t bz[SIZE];
	memset(bz, 0, sizeof(bz));
	bz[0x1f1] = SETUP_SECTS;
	memcpy(bz + 0x202, "HdrS", 4);
	put16(bz + 0x206, 0x20a);
	put32(bz + 0x214, LOAD_ADDR);
	put_guest(bz + (SETUP_SECTS + 1) * 512, "bzimage ok");
	write_file("good.bz", bz, sizeof(bz));

	bz[0x1f1] = 200;
	write_file("setup-past-file.bz", bz, sizeof(bz));

	bz[0x1f1] = SETUP_SECTS;
	memcpy(bz + 0x202, "HdrX", 4);
	write_file("no-hdrs.bz", bz, sizeof(bz));

	write_file("empty", "", 0);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: mkbadkernel DIR\n");
		return 2;
	}
	out_dir = argv[1];
	write_elf_variants();
	write_bzimage_variants();
	return 0;
}
