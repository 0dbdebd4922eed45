/*
 * The pipe protocol between the CPU differential test (tests/unit/cpu_diff.c,
 * a 64-bit program) and its native runner (tests/native/diffrun.c, a 32-bit
 * program that executes the same snippets on the host processor).
 *
 * Both sides map the same three 4 KiB windows at the same fixed addresses,
 * so an instruction computes identical addresses natively and in the
 * interpreter: the snippet runs from the code window, its memory operands
 * land in the data window and its pushes in the stack window.
 *
 * Every field is a fixed-width integer or byte array, so the structures have
 * the same layout in the 32-bit and the 64-bit program.
 */
#ifndef CPU_DIFF_PROTO_H
#define CPU_DIFF_PROTO_H

#include <stdint.h>

#define DIFF_CODE_BASE 0x10000000u
#define DIFF_DATA_BASE 0x20000000u
#define DIFF_STACK_BASE 0x30000000u
#define DIFF_PAGE 4096u
#define DIFF_CODE_MAX 64u

#define DIFF_MAGIC 0x46464944u /* "DIFF" */
#define DIFF_VERSION 1u

/* Sent once by the runner when it is ready, so stale builds are caught. */
struct diff_hello {
	uint32_t magic;
	uint32_t version;
	uint32_t request_size;
	uint32_t reply_size;
};

/* One snippet to run: code, registers (esp included), flags, memory. */
struct diff_request {
	uint32_t magic;
	uint32_t code_len;
	uint32_t regs[8];
	uint32_t eflags; /* arithmetic flags and DF; the runner keeps IF itself */
	uint8_t code[DIFF_CODE_MAX];
	uint8_t data[DIFF_PAGE];
	uint8_t stack[DIFF_PAGE];
};

/* How a snippet ended. */
enum diff_outcome {
	DIFF_DONE = 0,    /* ran to its end */
	DIFF_FAULT = 1,   /* an exception (or a trap such as int3) stopped it */
	DIFF_TIMEOUT = 2, /* it did not finish in time */
	DIFF_OTHER = 3,   /* the interpreter stopped for another reason (see detail) */
};

/*
 * The state after the snippet.  For DONE, eip is the snippet's end.  For
 * FAULT, the registers are those the exception saw: eip points at the
 * faulting instruction, or after it for traps (int3, into); fault_addr is
 * the #PF linear address.
 */
struct diff_reply {
	uint32_t magic;
	uint32_t outcome;
	uint32_t vector;
	uint32_t error;
	uint32_t fault_addr;
	uint32_t eip;
	uint32_t regs[8];
	uint32_t eflags;
	uint8_t data[DIFF_PAGE];
	uint8_t stack[DIFF_PAGE];
};

#endif
