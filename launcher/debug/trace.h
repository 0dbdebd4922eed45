/*
 * --trace=FILE: every event of the run, written to a compact binary file
 * (traces/FORMAT.md) that `lgdbg trace FILE` renders.
 *
 * The writer is an event sink.  It encodes each event into a memory
 * buffer and writes the buffer out in large blocks, so tracing costs no
 * system call per event.  Console text travels with its events: the early
 * console's string, the bytes of the console's transmit buffers, the
 * input the launcher injected, and the death reason.
 *
 * One writer lasts the whole launcher run; each boot of the guest (the
 * first, and one per restart) is attached to it.
 */
#ifndef LGUEST_TRACE_H
#define LGUEST_TRACE_H

#include <stdbool.h>
#include <stddef.h>

struct lguest;
struct trace_writer;

/*
 * Create FILE and write the header from the loaded guest (ABI profile,
 * memory size, symbol table) and the kernel path and arguments.  NULL
 * with a message in err on failure.
 */
struct trace_writer *trace_open(const char *path, const struct lguest *lg, const char *kernel, const char *cmdline,
                                char *err, size_t errlen);

/* Record the events of this boot of the guest; false if its stream has no room for another sink. */
bool trace_attach(struct trace_writer *t, struct lguest *lg);

/* Stop recording this boot's events (the writer stays open). */
void trace_detach(struct trace_writer *t, struct lguest *lg);

/*
 * Write the end record, flush and close, and free the writer.  False with
 * a message in err if any write failed along the way.
 */
bool trace_close(struct trace_writer *t, char *err, size_t errlen);

#endif
