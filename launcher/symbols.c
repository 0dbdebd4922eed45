/* Reading an ELF32 symbol table and answering "which symbol is this address in?". */
#include "symbols.h"

#include <elf.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * Order symbols by address, sized ones before labels at the same address,
 * then by name: a total order, so every C library sorts them alike and
 * messages and golden traces name the same symbol everywhere.
 */
static int by_address(const void *a, const void *b)
{
	const struct symbol *x = a, *y = b;
	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	if (x->size != y->size)
		return x->size > y->size ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* Read a whole file into memory (kernels are a few megabytes). */
static uint8_t *slurp(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	uint8_t *buf = NULL;
	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) == 0 && st.st_size > 0 && (buf = malloc((size_t)st.st_size))) {
		size_t got = 0;
		while (got < (size_t)st.st_size) {
			ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
			if (n <= 0)
				break;
			got += (size_t)n;
		}
		if (got != (size_t)st.st_size) {
			free(buf);
			buf = NULL;
		}
		*len = got;
	}
	close(fd);
	return buf;
}

/* Is [off, off+len) inside a buffer of `size` bytes? */
static bool inside(uint64_t off, uint64_t len, size_t size)
{
	return off <= size && len <= size - off;
}

void symbols_load(struct symbols *s, const char *path)
{
	size_t len = 0;
	uint8_t *f = slurp(path, &len);
	s->sym = NULL;
	s->count = 0;
	if (!f)
		return;
	Elf32_Ehdr eh;
	if (len < sizeof(eh))
		goto out;
	memcpy(&eh, f, sizeof(eh)); /* copies, not casts: a crafted file may put anything at odd offsets */
	if (memcmp(f, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS32 || eh.e_shentsize != sizeof(Elf32_Shdr) ||
	    !inside(eh.e_shoff, (uint64_t)eh.e_shnum * sizeof(Elf32_Shdr), len))
		goto out;
	for (unsigned i = 0; i < eh.e_shnum; i++) {
		Elf32_Shdr sh, strs;
		memcpy(&sh, f + eh.e_shoff + i * sizeof(sh), sizeof(sh));
		if (sh.sh_type != SHT_SYMTAB || sh.sh_link >= eh.e_shnum)
			continue;
		memcpy(&strs, f + eh.e_shoff + sh.sh_link * sizeof(strs), sizeof(strs));
		if (!inside(sh.sh_offset, sh.sh_size, len) || !inside(strs.sh_offset, strs.sh_size, len))
			continue;
		size_t n = sh.sh_size / sizeof(Elf32_Sym);
		const char *names = (const char *)(f + strs.sh_offset);
		s->sym = calloc(n ? n : 1, sizeof(*s->sym));
		if (!s->sym)
			goto out;
		for (size_t k = 0; k < n; k++) {
			Elf32_Sym sym;
			memcpy(&sym, f + sh.sh_offset + k * sizeof(sym), sizeof(sym));
			unsigned type = ELF32_ST_TYPE(sym.st_info);
			if (sym.st_shndx == SHN_UNDEF || sym.st_name >= strs.sh_size)
				continue;
			if (type != STT_FUNC && type != STT_OBJECT && type != STT_NOTYPE)
				continue;
			const char *name = names + sym.st_name;
			size_t max = strs.sh_size - sym.st_name;
			size_t nl = strnlen(name, max);
			if (nl == 0 || nl == max)
				continue;
			s->sym[s->count].addr = sym.st_value;
			s->sym[s->count].size = sym.st_size;
			s->sym[s->count].name = strndup(name, nl);
			if (s->sym[s->count].name)
				s->count++;
		}
		break;
	}
	if (s->count)
		qsort(s->sym, s->count, sizeof(*s->sym), by_address);
out:
	free(f);
}

void symbols_free(struct symbols *s)
{
	for (size_t i = 0; i < s->count; i++)
		free(s->sym[i].name);
	free(s->sym);
	s->sym = NULL;
	s->count = 0;
}

const struct symbol *symbols_lookup(const struct symbols *s, uint32_t addr)
{
	size_t lo = 0, hi = s->count;
	while (lo < hi) { /* first symbol above addr */
		size_t mid = (lo + hi) / 2;
		if (s->sym[mid].addr <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return NULL;
	const struct symbol *best = &s->sym[lo - 1];
	/* Among symbols at the same address prefer one with a size that covers addr. */
	for (size_t i = lo; i-- > 0 && s->sym[i].addr == best->addr;)
		if (s->sym[i].size && addr - s->sym[i].addr < s->sym[i].size)
			return &s->sym[i];
	if (best->size)
		return addr - best->addr < best->size ? best : NULL;
	return best;
}

bool symbols_find(const struct symbols *s, const char *name, uint32_t *addr)
{
	for (size_t i = 0; i < s->count; i++)
		if (strcmp(s->sym[i].name, name) == 0) {
			*addr = s->sym[i].addr;
			return true;
		}
	return false;
}

void symbols_describe(const struct symbols *s, uint32_t addr, char *buf, size_t len)
{
	const struct symbol *sym = symbols_lookup(s, addr);
	if (!sym)
		snprintf(buf, len, "%s", "");
	else if (sym->addr == addr)
		snprintf(buf, len, " (%s)", sym->name);
	else
		snprintf(buf, len, " (%s+%#x)", sym->name, addr - sym->addr);
}
