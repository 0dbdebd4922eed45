/*
 * The shell's loop.  Commands come from -ex arguments and -x files
 * (scripted: run them, then quit), from readline at a terminal (prompt,
 * history in ~/.lgdbg_history, tab completion of commands and kernel
 * symbols, Ctrl-C abandons the line -- or, while the guest runs, stops
 * it), or from a pipe (one command a line, no prompt).
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <readline/history.h>
#include <readline/readline.h>

#include "shell.h"

#define PROMPT "(lgdbg) "

volatile int shell_interrupted;

/* Ctrl-C only raises a flag: whoever is waiting (readline, a running guest) acts on it. */
static void on_sigint(int sig)
{
	(void)sig;
	shell_interrupted = 1;
}

/* Report a failed command on stderr; returns false so a command can `return shell_error(...)`. */
bool shell_error(const char *fmt, ...)
{
	va_list ap;
	fflush(stdout);
	fprintf(stderr, "lgdbg: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	return false;
}

/* gdb's one-letter habits. */
static const char *const aliases[][2] = {
	{"c", "continue"}, {"s", "step"}, {"si", "step"}, {"stepi", "step"}, {"b", "break"}, {"q", "quit"},
	{"d", "delete"}, {"disassemble", "disas"}, {"where", "bt"}, {"backtrace", "bt"},
};

/* The command a word names: exactly, by alias, or as the unique command it begins. */
static const struct shell_command *find_command(const char *word)
{
	const struct shell_command *found = NULL;
	size_t n;
	for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++)
		if (!strcmp(word, aliases[i][0]))
			word = aliases[i][1];
	n = strlen(word);
	for (size_t i = 0; i < shell_ncommands; i++) {
		if (!strcmp(shell_commands[i].name, word))
			return &shell_commands[i];
		if (!strncmp(shell_commands[i].name, word, n)) {
			if (found)
				return NULL;
			found = &shell_commands[i];
		}
	}
	return found;
}

/* One command line; false if it failed. */
static bool run_line(struct shell *sh, char *line)
{
	char word[32];
	while (*line == ' ' || *line == '\t')
		line++;
	size_t end = strlen(line);
	while (end && (line[end - 1] == ' ' || line[end - 1] == '\n' || line[end - 1] == '\r'))
		line[--end] = '\0';
	if (!*line || *line == '#')
		return true;
	size_t n = strcspn(line, " \t/");
	if (n >= sizeof(word))
		return shell_error("unknown command '%s' (help lists them)", line);
	memcpy(word, line, n);
	word[n] = '\0';
	const struct shell_command *c = find_command(word);
	if (!c)
		return shell_error("unknown or ambiguous command '%s' (help lists them)", word);
	const char *args = line + n;
	while (*args == ' ' || *args == '\t')
		args++;
	if (sh->s.fd < 0 && strcmp(c->name, "help") != 0)
		return shell_error("not attached to a launcher any more");
	bool ok = c->run(sh, args);
	fflush(stdout);
	return ok;
}

static struct shell *completing;

/* Commands for the first word, kernel symbols after it. */
static char *complete_word(const char *text, int state)
{
	static size_t i;
	static bool first_word;
	size_t n = strlen(text);
	if (!state) {
		i = 0;
		first_word = rl_point == (int)n || strspn(rl_line_buffer, " ") + n == (size_t)rl_point;
	}
	if (first_word) {
		while (i < shell_ncommands)
			if (!strncmp(shell_commands[i++].name, text, n))
				return strdup(shell_commands[i - 1].name);
		return NULL;
	}
	const struct symbols *syms = &completing->s.syms;
	while (i < syms->count)
		if (!strncmp(syms->sym[i++].name, text, n))
			return strdup(syms->sym[i - 1].name);
	return NULL;
}

/* readline's completion hook: only our words (commands, symbols), never file names. */
static char **complete(const char *text, int start, int end)
{
	(void)start;
	(void)end;
	rl_attempted_completion_over = 1;
	return rl_completion_matches(text, complete_word);
}

static char *got_line;
static bool line_ready;

/*
 * readline hands a finished line here (NULL at end of input): keep it for
 * read_command() and take readline off the terminal until the next prompt.
 */
static void on_line(char *line)
{
	got_line = line;
	line_ready = true;
	rl_callback_handler_remove();
}

/* One line from readline; NULL at end of input.  Ctrl-C abandons the line and prompts again. */
static char *read_command(void)
{
	line_ready = false;
	rl_callback_handler_install(PROMPT, on_line);
	while (!line_ready) {
		struct pollfd p = {STDIN_FILENO, POLLIN, 0};
		int r = poll(&p, 1, -1);
		if (r < 0 && errno == EINTR && shell_interrupted) {
			shell_interrupted = 0;
			rl_free_line_state();
			rl_callback_sigcleanup();
			rl_replace_line("", 0);
			printf("^C\n");
			rl_on_new_line();
			rl_redisplay();
			continue;
		}
		if (r > 0)
			rl_callback_read_char();
	}
	return got_line;
}

/* The interactive loop, with history kept across sessions.  A failed command is only reported: exit 0. */
static int interactive(struct shell *sh)
{
	char history[4096];
	const char *home = getenv("HOME");
	snprintf(history, sizeof(history), "%s/.lgdbg_history", home && *home ? home : ".");
	completing = sh;
	rl_readline_name = "lgdbg";
	rl_catch_signals = 0;
	rl_variable_bind("enable-bracketed-paste", "off"); /* plain text on the terminal, for people and tests */
	rl_attempted_completion_function = complete;
	using_history();
	read_history(history);
	while (!sh->done) {
		char *line = read_command();
		if (!line) {
			printf("quit\n");
			run_line(sh, (char[]){"quit"});
			break;
		}
		if (*line && (!history_length || strcmp(history_get(history_base + history_length - 1)->line, line)))
			add_history(line);
		run_line(sh, line);
		free(line);
	}
	write_history(history);
	return 0;
}

/* Commands from a stream (a -x file or a pipe); returns the number that failed. */
static int run_stream(struct shell *sh, FILE *f)
{
	char *line = NULL;
	size_t cap = 0;
	int failures = 0;
	while (!sh->done && getline(&line, &cap, f) >= 0)
		failures += !run_line(sh, line);
	free(line);
	return failures;
}

/*
 * Run the session: scripted (-ex, -x) or piped commands, then quit; or the
 * interactive loop at a terminal.  Exit status 1 if a scripted command failed.
 */
int shell_main(struct shell *sh, char **ex, unsigned nex, char **files, unsigned nfiles)
{
	struct sigaction sa;
	int failures = 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigint;
	sigaction(SIGINT, &sa, NULL); /* no SA_RESTART: a wait for the guest ends at Ctrl-C */

	if (nex || nfiles) {
		for (unsigned i = 0; i < nex && !sh->done; i++) {
			char *line = strdup(ex[i]);
			failures += line ? !run_line(sh, line) : 1;
			free(line);
		}
		for (unsigned i = 0; i < nfiles && !sh->done; i++) {
			FILE *f = fopen(files[i], "r");
			if (!f) {
				failures += !shell_error("cannot read %s: %s", files[i], strerror(errno));
				continue;
			}
			failures += run_stream(sh, f);
			fclose(f);
		}
	} else {
		if (isatty(STDIN_FILENO) && isatty(STDOUT_FILENO)) {
			sh->interactive = true;
			return interactive(sh);
		}
		failures += run_stream(sh, stdin);
	}
	if (!sh->done)
		run_line(sh, (char[]){"quit"});
	return failures ? 1 : 0;
}
