/*
 * The kernel's symbol table, so messages can say "_HACF" instead of a bare
 * address.  Read from the ELF .symtab (functions, objects and untyped
 * labels); a kernel without one simply gets no names.
 */
#ifndef LGUEST_SYMBOLS_H
#define LGUEST_SYMBOLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct symbol {
	uint32_t addr;
	uint32_t size;
	char *name;
};

struct symbols {
	struct symbol *sym; /* sorted by address */
	size_t count;
};

/* Load the symbols of an ELF file; a file without them leaves the table empty. */
void symbols_load(struct symbols *s, const char *path);
void symbols_free(struct symbols *s);

/*
 * The symbol covering `addr`: the nearest one at or below it, within its
 * size (or, for size-less labels, before the next symbol).  NULL if none.
 */
const struct symbol *symbols_lookup(const struct symbols *s, uint32_t addr);

/* The address of a symbol by name, for tests and the debugger. */
bool symbols_find(const struct symbols *s, const char *name, uint32_t *addr);

/* " (name)" or " (name+0x12)" for messages; empty when unknown. */
void symbols_describe(const struct symbols *s, uint32_t addr, char *buf, size_t len);

#endif
