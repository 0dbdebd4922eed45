/* Crash capture: the report written when a guest dies (debug/crash.c). */
#ifndef LGUEST_CRASH_H
#define LGUEST_CRASH_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct lguest;

/*
 * Where a launcher with this pid writes its report by default:
 * ${TMPDIR:-/tmp}/lguest-crash-<pid>.txt (lgdbg looks there too).
 */
void crash_report_path(int pid, char *buf, size_t len);

/* Write the whole report for a dead (or stopped) guest. */
void crash_report(struct lguest *lg, FILE *f);

/* One address through the guest's page tables, beside the shadow entry. */
void crash_walk(struct lguest *lg, uint32_t va, FILE *f);

#endif
