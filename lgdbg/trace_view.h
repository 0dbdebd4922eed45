/*
 * `lgdbg trace FILE [filters] [--json=OUT]`: a trace written by
 * `lguest --trace=FILE`, rendered as stable text (one event per line) or
 * exported as Chrome/Perfetto trace-event JSON.
 */
#ifndef LGDBG_TRACE_VIEW_H
#define LGDBG_TRACE_VIEW_H

/* The subcommand; argv[0] is "trace".  Returns the exit code (0, or 2 for usage and file errors). */
int trace_view_main(int argc, char **argv);

/* The subcommand's usage text. */
extern const char trace_view_usage[];

#endif
