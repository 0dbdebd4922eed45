/*
 * Guest code and memory as the shell shows them: addresses (numbers,
 * kernel symbols, registers), `x/FMT ADDR`, and `disas` through
 * capstone with every address and branch target named from the
 * kernel's symbol table and the current eip marked "=>".
 */
#include <capstone/capstone.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/host.h"
#include "shell.h"

#define DISAS_DEFAULT 12u
#define DISAS_MAX_BYTES 65536u
#define X_MAX_UNITS 4096u

/* The symbol covering addr, also at its KERNEL_PAGE_OFFSET alias (a kernel in linear mode). */
static const struct symbol *lookup(const struct symbols *syms, uint32_t addr, uint32_t *base)
{
	const struct symbol *s = symbols_lookup(syms, addr);
	*base = addr;
	if (!s && addr < KERNEL_PAGE_OFFSET && (s = symbols_lookup(syms, addr + KERNEL_PAGE_OFFSET))) {
		/* Only a symbol with a size proves the alias: a label would swallow every low address. */
		if (!s->size)
			return NULL;
		*base = addr + KERNEL_PAGE_OFFSET;
	}
	return s;
}

void sym_suffix(const struct symbols *syms, uint32_t addr, char *buf, size_t len)
{
	uint32_t at;
	const struct symbol *s = lookup(syms, addr, &at);
	if (!s)
		snprintf(buf, len, "%s", "");
	else if (at == s->addr)
		snprintf(buf, len, " <%s>", s->name);
	else
		snprintf(buf, len, " <%s+0x%x>", s->name, at - s->addr);
}

bool get_register(struct shell *sh, const char *name, uint32_t *v)
{
	char *body, buf[32];
	bool ok = session_request(&sh->s, &body, "regs") && body_value(body, name, buf, sizeof(buf));
	if (ok)
		*v = (uint32_t)strtoul(buf, NULL, 0);
	free(body);
	return ok;
}

bool parse_address(struct shell *sh, const char *text, uint32_t *addr)
{
	char name[256], *end;
	unsigned long off = 0;
	while (isspace((unsigned char)*text))
		text++;
	if (!*text)
		return shell_error("an address is needed");
	unsigned long v = strtoul(text, &end, 0);
	if (end != text && !*end && v <= 0xffffffffu) {
		*addr = (uint32_t)v;
		return true;
	}
	size_t n = strcspn(text, "+");
	if (n >= sizeof(name))
		return shell_error("'%s' is not an address", text);
	memcpy(name, text, n);
	name[n] = '\0';
	if (text[n] == '+') {
		off = strtoul(text + n + 1, &end, 0);
		if (end == text + n + 1 || *end)
			return shell_error("'%s' is not SYMBOL+OFFSET", text);
	}
	if (name[0] == '$') {
		const char *reg = strcmp(name + 1, "pc") == 0 ? "eip" : strcmp(name + 1, "sp") == 0 ? "esp" : name + 1;
		if (!get_register(sh, reg, addr))
			return shell_error("no register %s", name);
	} else if (!symbols_find(&sh->s.syms, name, addr)) {
		return shell_error("no symbol '%s' in %s", name, sh->s.kernel);
	}
	*addr += (uint32_t)off;
	return true;
}

size_t read_guest(struct shell *sh, uint32_t addr, uint8_t *buf, size_t len)
{
	char *body;
	size_t n = 0;
	if (len > DISAS_MAX_BYTES)
		len = DISAS_MAX_BYTES;
	if (session_request(&sh->s, &body, "mem 0x%x %zu", addr, len))
		for (const char *p = body; n < len && isxdigit((unsigned char)p[0]) && isxdigit((unsigned char)p[1]); p += 2) {
			char hex[3] = {p[0], p[1], 0};
			buf[n++] = (uint8_t)strtoul(hex, NULL, 16);
		}
	free(body);
	return n;
}

/* A branch or call with an immediate target: the target's name after the operands. */
static void branch_target(const struct symbols *syms, const cs_insn *in, char *buf, size_t len)
{
	char *end;
	buf[0] = '\0';
	if (in->mnemonic[0] != 'j' && strcmp(in->mnemonic, "call") != 0)
		return;
	unsigned long t = strtoul(in->op_str, &end, 16);
	if (end != in->op_str && !*end)
		sym_suffix(syms, (uint32_t)t, buf, len);
}

bool disassemble(struct shell *sh, uint32_t addr, uint32_t len, unsigned count)
{
	csh cs;
	cs_insn *insn;
	uint32_t eip = 0;
	size_t want = count ? count * 15u : len;
	uint8_t *code = malloc(want ? want : 1);
	if (!code)
		return shell_error("out of memory");
	size_t n = read_guest(sh, addr, code, want);
	if (n == 0) {
		free(code);
		return shell_error("cannot read guest memory at 0x%08x", addr);
	}
	get_register(sh, "eip", &eip);
	if (cs_open(CS_ARCH_X86, CS_MODE_32, &cs) != CS_ERR_OK) {
		free(code);
		return shell_error("capstone cannot start");
	}
	size_t got = cs_disasm(cs, code, n, addr, count, &insn);
	for (size_t i = 0; i < got; i++) {
		char sym[300], target[300], bytes[64] = "";
		sym_suffix(&sh->s.syms, (uint32_t)insn[i].address, sym, sizeof(sym));
		branch_target(&sh->s.syms, &insn[i], target, sizeof(target));
		for (unsigned b = 0; b < insn[i].size && b < 8; b++)
			snprintf(bytes + 3 * b, sizeof(bytes) - 3 * b, "%02x ", insn[i].bytes[b]);
		printf("%s0x%08x%s:  %-24s %s%s%s%s\n", insn[i].address == eip ? "=> " : "   ", (uint32_t)insn[i].address,
		       sym, bytes, insn[i].mnemonic, insn[i].op_str[0] ? " " : "", insn[i].op_str, target);
	}
	if (got == 0)
		printf("   0x%08x:  (capstone cannot decode these bytes)\n", addr);
	else if (count && got < count && addr + n < 0xffffffffu)
		printf("   (memory ends or the code cannot be decoded after 0x%08x)\n",
		       (uint32_t)(insn[got - 1].address + insn[got - 1].size));
	cs_free(insn, got);
	cs_close(&cs);
	free(code);
	return true;
}

/*
 * disas [ADDR|SYMBOL [N]]: a symbol with a size is shown whole; an
 * address gives N instructions; nothing means the function around eip.
 */
bool cmd_disas(struct shell *sh, const char *args)
{
	char where[256] = "", count[32] = "";
	uint32_t addr, base;
	unsigned long n = 0;
	sscanf(args, "%255s %31s", where, count);
	if (count[0]) {
		char *end;
		n = strtoul(count, &end, 0);
		if (*end || n == 0 || n > 10000)
			return shell_error("usage: disas [ADDR|SYMBOL [N]]");
	}
	if (where[0]) {
		if (!parse_address(sh, where, &addr))
			return false;
	} else if (!get_register(sh, "eip", &addr)) {
		return shell_error("cannot read eip");
	}
	const struct symbol *s = lookup(&sh->s.syms, addr, &base);
	if (!n && s && s->size && s->size <= DISAS_MAX_BYTES && (!where[0] || base == s->addr)) {
		uint32_t start = addr - (base - s->addr);
		printf("%s: 0x%08x, %u bytes\n", s->name, start, s->size);
		return disassemble(sh, start, s->size, 0);
	}
	return disassemble(sh, addr, 0, n ? (unsigned)n : DISAS_DEFAULT);
}

/* x/FMT ADDR: COUNT, then a format (x d u c s i) and a size (b h w), as in gdb. */
bool cmd_x(struct shell *sh, const char *args)
{
	unsigned long count = 1;
	char fmt = 'x', size = 'w', *end;
	const char *p = args;
	if (*p == '/') {
		p++;
		if (isdigit((unsigned char)*p)) {
			count = strtoul(p, &end, 10);
			p = end;
		}
		for (; *p && !isspace((unsigned char)*p); p++) {
			if (strchr("xducsi", *p))
				fmt = *p;
			else if (strchr("bhw", *p))
				size = *p;
			else
				return shell_error("x: unknown format letter '%c' (formats x d u c s i, sizes b h w)", *p);
		}
	}
	uint32_t addr;
	if (count == 0 || count > X_MAX_UNITS)
		return shell_error("x: count from 1 to %u", X_MAX_UNITS);
	if (!parse_address(sh, p, &addr))
		return false;
	if (fmt == 'i')
		return disassemble(sh, addr, 0, (unsigned)count);
	unsigned unit = fmt == 'c' || fmt == 's' ? 1 : size == 'b' ? 1 : size == 'h' ? 2 : 4;
	size_t want = fmt == 's' ? 4096 : count * unit;
	uint8_t *buf = malloc(want);
	if (!buf)
		return shell_error("out of memory");
	size_t got = read_guest(sh, addr, buf, want);
	char sym[300];
	if (fmt == 's') {
		size_t len = strnlen((char *)buf, got);
		sym_suffix(&sh->s.syms, addr, sym, sizeof(sym));
		printf("0x%08x%s: \"", addr, sym);
		for (size_t i = 0; i < len; i++)
			printf(isprint(buf[i]) && buf[i] != '"' && buf[i] != '\\' ? "%c" : "\\x%02x", buf[i]);
		printf("\"%s\n", len == got ? " (no NUL before unmapped memory)" : "");
		free(buf);
		return got > 0 || shell_error("cannot read guest memory at 0x%08x", addr);
	}
	unsigned per_line = 16 / unit;
	for (size_t i = 0; i * unit + unit <= got; i++) {
		uint32_t at = addr + (uint32_t)(i * unit), v = 0;
		for (unsigned b = 0; b < unit; b++)
			v |= (uint32_t)buf[i * unit + b] << (8 * b);
		if (i % per_line == 0) {
			sym_suffix(&sh->s.syms, at, sym, sizeof(sym));
			printf("%s0x%08x%s:", i ? "\n" : "", at, sym);
		}
		if (fmt == 'x')
			printf(" 0x%0*x", (int)unit * 2, v);
		else if (fmt == 'd')
			printf(" %d", unit == 1 ? (int)(int8_t)v : unit == 2 ? (int)(int16_t)v : (int)(int32_t)v);
		else if (fmt == 'u')
			printf(" %u", v);
		else
			printf(isprint((int)v) ? " '%c'" : " '\\x%02x'", v);
	}
	if (got >= unit)
		printf("\n");
	free(buf);
	if (got < count * unit)
		return shell_error("cannot read guest memory at 0x%08x", addr + (uint32_t)(got / unit * unit));
	return true;
}
