/*
 * lgdbg's shell: the commands (commands.c, disas.c), the loop that reads
 * them from readline, -ex, -x FILE or a pipe (shell.c), and the
 * subcommands that start it (attach.c).
 */
#ifndef LGDBG_SHELL_H
#define LGDBG_SHELL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "session.h"

struct shell {
	struct session s;
	bool interactive; /* readline at a terminal */
	bool done;        /* quit or detach ran */
};

struct shell_command {
	const char *name;
	const char *args;    /* usage after the name */
	const char *summary; /* one line */
	const char *help;    /* the rest of `help NAME` */
	bool (*run)(struct shell *sh, const char *args);
};

extern const struct shell_command shell_commands[];
extern const size_t shell_ncommands;

/* Set by the SIGINT handler: Ctrl-C while the guest runs stops it. */
extern volatile int shell_interrupted;

/* Run the commands: the -ex list, then the -x files, else stdin (readline at a terminal).  Returns the exit code. */
int shell_main(struct shell *sh, char **ex, unsigned nex, char **files, unsigned nfiles);

/* Print a command's error (stderr, "lgdbg: ..."); returns false for the caller to return. */
bool shell_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- disas.c ---- */
/* " <name+0x12>" for an address (empty when no symbol covers it). */
void sym_suffix(const struct symbols *syms, uint32_t addr, char *buf, size_t len);
/* An address: 0x..., decimal, SYMBOL[+OFF], or $REG (needs the registers); false with a message. */
bool parse_address(struct shell *sh, const char *text, uint32_t *addr);
/* Read guest memory through the launcher; returns the bytes read (0 if unmapped). */
size_t read_guest(struct shell *sh, uint32_t addr, uint8_t *buf, size_t len);
/* A register's value from the launcher ("eip", "esp", ...). */
bool get_register(struct shell *sh, const char *name, uint32_t *v);
/* Disassemble count instructions from addr (or, count 0, the symbol's whole body up to len bytes). */
bool disassemble(struct shell *sh, uint32_t addr, uint32_t len, unsigned count);
bool cmd_disas(struct shell *sh, const char *args);
bool cmd_x(struct shell *sh, const char *args);

#endif
