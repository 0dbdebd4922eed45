/*
 * Putting a guest kernel into memory the way the 3.x launcher did.
 *
 * Two kernel formats: an ELF32 i386 executable (vmlinux, or a Plan 9
 * kernel from `8l -H5`), each PT_LOAD segment placed at its physical
 * address; or a bzImage, whose protected-mode part goes to 1 MB.  Every
 * number in the file is checked before it is used: the file is untrusted
 * input just like the guest.
 */
#include "boot.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_PHNUM 2048u

/* Read exactly `len` bytes at `off`, or say why not. */
static bool read_at(int fd, void *buf, size_t len, off_t off)
{
	uint8_t *p = buf;
	while (len) {
		ssize_t n = pread(fd, p, len, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		p += n;
		off += n;
		len -= (size_t)n;
	}
	return true;
}

/* Round up to a whole number of guest pages (64-bit, so it cannot wrap). */
static uint64_t page_round_up(uint64_t v)
{
	return (v + GUEST_PAGE_SIZE - 1) & ~(uint64_t)(GUEST_PAGE_SIZE - 1);
}

/* The checks that make an ELF header one we can boot. */
static bool check_elf_header(const Elf32_Ehdr *eh, const char *path, uint64_t file_size, char *err,
                             size_t errlen)
{
	if (eh->e_ident[EI_CLASS] != ELFCLASS32) {
		snprintf(err, errlen, "%s: not a 32-bit ELF file (class %u)", path, eh->e_ident[EI_CLASS]);
		return false;
	}
	if (eh->e_ident[EI_DATA] != ELFDATA2LSB) {
		snprintf(err, errlen, "%s: not a little-endian ELF file", path);
		return false;
	}
	if (eh->e_machine != EM_386) {
		snprintf(err, errlen, "%s: ELF machine %u is not i386 (%u)", path, eh->e_machine, EM_386);
		return false;
	}
	if (eh->e_type != ET_EXEC) {
		snprintf(err, errlen, "%s: ELF type %u is not an executable (ET_EXEC)", path, eh->e_type);
		return false;
	}
	if (eh->e_phentsize != sizeof(Elf32_Phdr)) {
		snprintf(err, errlen, "%s: Malformed elf header: program header size %u, expected %zu", path,
		         eh->e_phentsize, sizeof(Elf32_Phdr));
		return false;
	}
	if (eh->e_phnum < 1 || eh->e_phnum > MAX_PHNUM) {
		snprintf(err, errlen, "%s: Malformed elf header: %u program headers (1 to %u allowed)", path,
		         eh->e_phnum, MAX_PHNUM);
		return false;
	}
	if ((uint64_t)eh->e_phoff + (uint64_t)eh->e_phnum * sizeof(Elf32_Phdr) > file_size) {
		snprintf(err, errlen, "%s: program headers at offset %#x (%u entries) run past the end of the %llu-byte file",
		         path, eh->e_phoff, eh->e_phnum, (unsigned long long)file_size);
		return false;
	}
	return true;
}

/* One PT_LOAD segment: within the file, within RAM, clear of boot_params. */
static bool check_segment(const Elf32_Phdr *ph, unsigned idx, const char *path, uint64_t file_size,
                          const struct guest_mem *m, char *err, size_t errlen)
{
	uint64_t end = (uint64_t)ph->p_paddr + ph->p_memsz;

	if (ph->p_filesz > ph->p_memsz) {
		snprintf(err, errlen, "%s: segment %u: file size %#x is larger than memory size %#x", path, idx,
		         ph->p_filesz, ph->p_memsz);
		return false;
	}
	if ((uint64_t)ph->p_offset + ph->p_filesz > file_size) {
		snprintf(err, errlen, "%s: segment %u: file bytes %#x-%#llx run past the end of the %llu-byte file",
		         path, idx, ph->p_offset, (unsigned long long)ph->p_offset + ph->p_filesz,
		         (unsigned long long)file_size);
		return false;
	}
	if (end > m->ram_bytes) {
		snprintf(err, errlen,
		         "%s: segment %u at physical %#x-%#llx does not fit in guest memory (%#x bytes); try more memory",
		         path, idx, ph->p_paddr, (unsigned long long)end, m->ram_bytes);
		return false;
	}
	if (ph->p_memsz && ph->p_paddr < BOOT_CMDLINE_ADDR + GUEST_PAGE_SIZE) {
		snprintf(err, errlen,
		         "%s: segment %u at physical %#x overlaps boot_params and the command line (0x0-0x1fff)",
		         path, idx, ph->p_paddr);
		return false;
	}
	return true;
}

/*
 * Place one segment: map the file privately when its offset and address
 * agree modulo the page size and no other segment shares its pages (the
 * 3.x launcher's fast path), copy it otherwise (Plan 9's `8l -H5` output).
 * Either way the bytes between p_filesz and p_memsz end up zero.
 */
static bool place_segment(struct guest_mem *m, int fd, const Elf32_Phdr *ph, bool may_map, unsigned idx,
                          const char *path, char *err, size_t errlen)
{
	uint8_t *dst = guest_ptr(m, ph->p_paddr);
	bool mapped = false;

	if (may_map && ph->p_filesz && (ph->p_offset % GUEST_PAGE_SIZE) == (ph->p_paddr % GUEST_PAGE_SIZE)) {
		uint32_t skew = ph->p_paddr % GUEST_PAGE_SIZE;
		size_t len = (size_t)page_round_up((uint64_t)skew + ph->p_filesz);
		void *want = dst - skew;
		void *got = mmap(want, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, fd, ph->p_offset - skew);
		mapped = (got == want);
	}
	if (!mapped && ph->p_filesz && !read_at(fd, dst, ph->p_filesz, ph->p_offset)) {
		snprintf(err, errlen, "%s: segment %u: cannot read %#x bytes at offset %#x", path, idx, ph->p_filesz,
		         ph->p_offset);
		return false;
	}
	memset(dst + ph->p_filesz, 0, ph->p_memsz - ph->p_filesz);
	return true;
}

/* Do the page-rounded ranges of two segments share a page? */
static bool pages_overlap(const Elf32_Phdr *a, const Elf32_Phdr *b)
{
	uint64_t a0 = a->p_paddr & ~(GUEST_PAGE_SIZE - 1), a1 = page_round_up((uint64_t)a->p_paddr + a->p_memsz);
	uint64_t b0 = b->p_paddr & ~(GUEST_PAGE_SIZE - 1), b1 = page_round_up((uint64_t)b->p_paddr + b->p_memsz);
	return a0 < b1 && b0 < a1;
}

/* An ELF32 kernel: validate everything, then place each PT_LOAD segment. */
static bool load_elf(struct guest_mem *m, int fd, const char *path, uint64_t file_size, struct boot_image *img,
                     char *err, size_t errlen)
{
	Elf32_Ehdr eh;
	if (file_size < sizeof(eh) || !read_at(fd, &eh, sizeof(eh), 0)) {
		snprintf(err, errlen, "%s: truncated ELF header (%llu bytes)", path, (unsigned long long)file_size);
		return false;
	}
	if (!check_elf_header(&eh, path, file_size, err, errlen))
		return false;

	Elf32_Phdr *ph = calloc(eh.e_phnum, sizeof(*ph));
	if (!ph) {
		snprintf(err, errlen, "%s: out of memory for %u program headers", path, eh.e_phnum);
		return false;
	}
	bool ok = read_at(fd, ph, (size_t)eh.e_phnum * sizeof(*ph), eh.e_phoff);
	if (!ok)
		snprintf(err, errlen, "%s: cannot read the program headers", path);

	unsigned loads = 0;
	img->image_low = UINT32_MAX;
	img->image_high = 0;
	for (unsigned i = 0; ok && i < eh.e_phnum; i++) {
		if (ph[i].p_type != PT_LOAD)
			continue;
		ok = check_segment(&ph[i], i, path, file_size, m, err, errlen);
		for (unsigned j = 0; ok && j < i; j++) {
			if (ph[j].p_type != PT_LOAD || !ph[i].p_memsz || !ph[j].p_memsz)
				continue;
			uint64_t i0 = ph[i].p_paddr, i1 = i0 + ph[i].p_memsz;
			uint64_t j0 = ph[j].p_paddr, j1 = j0 + ph[j].p_memsz;
			if (i0 < j1 && j0 < i1) {
				snprintf(err, errlen,
				         "%s: segment %u (physical %#x-%#llx) overlaps segment %u (physical %#x-%#llx)", path,
				         i, ph[i].p_paddr, (unsigned long long)i1, j, ph[j].p_paddr,
				         (unsigned long long)j1);
				ok = false;
			}
		}
		if (ok && ph[i].p_memsz) {
			loads++;
			if (ph[i].p_paddr < img->image_low)
				img->image_low = ph[i].p_paddr;
			if (ph[i].p_paddr + ph[i].p_memsz > img->image_high)
				img->image_high = ph[i].p_paddr + ph[i].p_memsz;
		}
	}
	if (ok && loads == 0) {
		snprintf(err, errlen, "%s: no loadable (PT_LOAD) segment with any size", path);
		ok = false;
	}
	for (unsigned i = 0; ok && i < eh.e_phnum; i++) {
		if (ph[i].p_type != PT_LOAD || !ph[i].p_memsz)
			continue;
		bool may_map = true;
		for (unsigned j = 0; j < eh.e_phnum; j++)
			if (j != i && ph[j].p_type == PT_LOAD && ph[j].p_memsz && pages_overlap(&ph[i], &ph[j]))
				may_map = false;
		ok = place_segment(m, fd, &ph[i], may_map, i, path, err, errlen);
	}
	free(ph);
	img->entry = eh.e_entry;
	img->is_elf = true;
	return ok;
}

/*
 * A bzImage: only "HdrS" is checked, as the 3.x launcher did; the part
 * after the real-mode setup sectors goes to 1 MB and runs from
 * code32_start.
 */
static bool load_bzimage(struct guest_mem *m, int fd, const char *path, uint64_t file_size, struct boot_image *img,
                         char *err, size_t errlen)
{
	uint8_t hdr[0x240];
	if (file_size < sizeof(hdr) || !read_at(fd, hdr, sizeof(hdr), 0)) {
		snprintf(err, errlen, "%s: neither an ELF file nor a bzImage (too short for a boot header: %llu bytes)",
		         path, (unsigned long long)file_size);
		return false;
	}
	if (memcmp(hdr + 0x202, "HdrS", 4) != 0) {
		snprintf(err, errlen, "%s: neither an ELF file nor a bzImage (no \"HdrS\" at offset 0x202)", path);
		return false;
	}
	unsigned setup_sects = hdr[0x1f1]; /* read as is: the 3.x launcher did not map 0 to 4 */
	uint64_t start = (uint64_t)(setup_sects + 1) * 512;
	if (start >= file_size) {
		snprintf(err, errlen, "%s: bzImage setup (%u sectors, ends at offset %#llx) leaves no kernel in the %llu-byte file",
		         path, setup_sects, (unsigned long long)start, (unsigned long long)file_size);
		return false;
	}
	uint64_t len = file_size - start;
	if (BOOT_BZIMAGE_LOAD + len > m->ram_bytes) {
		snprintf(err, errlen, "%s: bzImage kernel of %#llx bytes at physical %#x does not fit in guest memory (%#x bytes)",
		         path, (unsigned long long)len, BOOT_BZIMAGE_LOAD, m->ram_bytes);
		return false;
	}
	if (!read_at(fd, guest_ptr(m, BOOT_BZIMAGE_LOAD), (size_t)len, (off_t)start)) {
		snprintf(err, errlen, "%s: cannot read the bzImage kernel", path);
		return false;
	}
	img->entry = get_le32(hdr + 0x214);
	img->image_low = BOOT_BZIMAGE_LOAD;
	img->image_high = BOOT_BZIMAGE_LOAD + (uint32_t)len;
	img->is_elf = false;
	return true;
}

/* Open a file we are about to load and learn its size. */
static int open_input(const char *path, uint64_t *size, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		close(fd);
		return -1;
	}
	*size = (uint64_t)st.st_size;
	return fd;
}

bool boot_load_kernel(struct guest_mem *m, const char *path, struct boot_image *img, char *err, size_t errlen)
{
	uint64_t size;
	unsigned char magic[4] = {0};
	memset(img, 0, sizeof(*img));
	int fd = open_input(path, &size, err, errlen);
	if (fd < 0)
		return false;
	if (size == 0) {
		snprintf(err, errlen, "%s: empty file", path);
		close(fd);
		return false;
	}
	bool ok;
	if (size >= 4 && read_at(fd, magic, 4, 0) && memcmp(magic, ELFMAG, SELFMAG) == 0)
		ok = load_elf(m, fd, path, size, img, err, errlen);
	else
		ok = load_bzimage(m, fd, path, size, img, err, errlen);
	close(fd);
	return ok;
}

bool boot_load_initrd(struct guest_mem *m, const char *path, struct boot_image *img, char *err, size_t errlen)
{
	uint64_t size;
	int fd = open_input(path, &size, err, errlen);
	if (fd < 0)
		return false;
	uint64_t len = page_round_up(size);
	bool ok = false;
	if (len >= m->ram_bytes || m->ram_bytes - len < img->image_high) {
		snprintf(err, errlen, "%s: initrd of %llu bytes does not fit between the kernel (ends at %#x) and the top of memory (%#x)",
		         path, (unsigned long long)size, img->image_high, m->ram_bytes);
	} else {
		img->initrd_addr = m->ram_bytes - (uint32_t)len;
		img->initrd_len = (uint32_t)len;
		ok = read_at(fd, guest_ptr(m, img->initrd_addr), (size_t)size, 0);
		if (!ok)
			snprintf(err, errlen, "%s: cannot read %llu bytes", path, (unsigned long long)size);
	}
	close(fd);
	return ok;
}

bool boot_setup_params(struct guest_mem *m, const struct boot_image *img, const char *cmdline, char *err,
                       size_t errlen)
{
	uint8_t *bp = guest_ptr(m, 0);
	size_t len = strlen(cmdline);

	if (len >= GUEST_PAGE_SIZE) {
		snprintf(err, errlen, "kernel command line is %zu bytes; at most %u fit at %#x", len,
		         GUEST_PAGE_SIZE - 1, BOOT_CMDLINE_ADDR);
		return false;
	}
	memset(bp, 0, 2 * GUEST_PAGE_SIZE);
	bp[0x1e8] = 1;                              /* e820_entries */
	put_le32(bp + 0x2d0, 0);                    /* e820_map[0].addr (u64) */
	put_le32(bp + 0x2d4, 0);
	put_le32(bp + 0x2d8, m->ram_bytes);         /* e820_map[0].size (u64) */
	put_le32(bp + 0x2dc, 0);
	put_le32(bp + 0x2e0, 1);                    /* E820_RAM */
	put_le32(bp + 0x228, BOOT_CMDLINE_ADDR);    /* hdr.cmd_line_ptr */
	put_le32(bp + 0x230, 0x1000000);            /* hdr.kernel_alignment */
	put_le16(bp + 0x206, 0x207);                /* hdr.version */
	put_le32(bp + 0x23c, 1);                    /* hdr.hardware_subarch: lguest */
	bp[0x211] |= 0x40;                          /* hdr.loadflags: KEEP_SEGMENTS */
	if (img->initrd_addr) {
		put_le32(bp + 0x218, img->initrd_addr); /* hdr.ramdisk_image */
		put_le32(bp + 0x21c, img->initrd_len);  /* hdr.ramdisk_size */
		bp[0x210] = 0xff;                       /* hdr.type_of_loader */
	}
	memcpy(bp + BOOT_CMDLINE_ADDR, cmdline, len + 1);
	return true;
}
