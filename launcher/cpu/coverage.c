/*
 * Opcode coverage for `make coverage`: which one-byte and 0x0F opcodes
 * the decoder implements, with a short mnemonic.  Kept next to the
 * decoder so that whoever adds an opcode sees this table too.
 */
#include "core.h"

static const char *const one_byte[256] = {
	[0x00] = "add Eb,Gb", [0x01] = "add Ev,Gv", [0x02] = "add Gb,Eb", [0x03] = "add Gv,Ev",
	[0x04] = "add al,Ib", [0x05] = "add eAX,Iz", [0x06] = "push es", [0x07] = "pop es",
	[0x08] = "or Eb,Gb", [0x09] = "or Ev,Gv", [0x0a] = "or Gb,Eb", [0x0b] = "or Gv,Ev",
	[0x0c] = "or al,Ib", [0x0d] = "or eAX,Iz", [0x0e] = "push cs", [0x0f] = "two-byte escape",
	[0x10] = "adc Eb,Gb", [0x11] = "adc Ev,Gv", [0x12] = "adc Gb,Eb", [0x13] = "adc Gv,Ev",
	[0x14] = "adc al,Ib", [0x15] = "adc eAX,Iz", [0x16] = "push ss", [0x17] = "pop ss",
	[0x18] = "sbb Eb,Gb", [0x19] = "sbb Ev,Gv", [0x1a] = "sbb Gb,Eb", [0x1b] = "sbb Gv,Ev",
	[0x1c] = "sbb al,Ib", [0x1d] = "sbb eAX,Iz", [0x1e] = "push ds", [0x1f] = "pop ds",
	[0x20] = "and Eb,Gb", [0x21] = "and Ev,Gv", [0x22] = "and Gb,Eb", [0x23] = "and Gv,Ev",
	[0x24] = "and al,Ib", [0x25] = "and eAX,Iz", [0x26] = "es: prefix", [0x27] = "daa",
	[0x28] = "sub Eb,Gb", [0x29] = "sub Ev,Gv", [0x2a] = "sub Gb,Eb", [0x2b] = "sub Gv,Ev",
	[0x2c] = "sub al,Ib", [0x2d] = "sub eAX,Iz", [0x2e] = "cs: prefix", [0x2f] = "das",
	[0x30] = "xor Eb,Gb", [0x31] = "xor Ev,Gv", [0x32] = "xor Gb,Eb", [0x33] = "xor Gv,Ev",
	[0x34] = "xor al,Ib", [0x35] = "xor eAX,Iz", [0x36] = "ss: prefix", [0x37] = "aaa",
	[0x38] = "cmp Eb,Gb", [0x39] = "cmp Ev,Gv", [0x3a] = "cmp Gb,Eb", [0x3b] = "cmp Gv,Ev",
	[0x3c] = "cmp al,Ib", [0x3d] = "cmp eAX,Iz", [0x3e] = "ds: prefix", [0x3f] = "aas",
	[0x40 ... 0x47] = "inc r", [0x48 ... 0x4f] = "dec r",
	[0x50 ... 0x57] = "push r", [0x58 ... 0x5f] = "pop r",
	[0x60] = "pusha", [0x61] = "popa", [0x62] = "bound", [0x63] = "arpl",
	[0x64] = "fs: prefix", [0x65] = "gs: prefix", [0x66] = "operand-size prefix",
	[0x67] = "address-size prefix", [0x68] = "push Iz", [0x69] = "imul Gv,Ev,Iz",
	[0x6a] = "push Ib", [0x6b] = "imul Gv,Ev,Ib", [0x6c] = "insb", [0x6d] = "insw/insd",
	[0x6e] = "outsb", [0x6f] = "outsw/outsd",
	[0x70 ... 0x7f] = "jcc rel8",
	[0x80] = "grp1 add/or/adc/sbb/and/sub/xor/cmp Eb,Ib", [0x81] = "grp1 Ev,Iz",
	[0x82] = "grp1 Eb,Ib (alias)", [0x83] = "grp1 Ev,Ib",
	[0x84] = "test Eb,Gb", [0x85] = "test Ev,Gv", [0x86] = "xchg Eb,Gb", [0x87] = "xchg Ev,Gv",
	[0x88] = "mov Eb,Gb", [0x89] = "mov Ev,Gv", [0x8a] = "mov Gb,Eb", [0x8b] = "mov Gv,Ev",
	[0x8c] = "mov Ev,Sw", [0x8d] = "lea", [0x8e] = "mov Sw,Ew", [0x8f] = "pop Ev",
	[0x90] = "nop/pause", [0x91 ... 0x97] = "xchg eAX,r", [0x98] = "cbw/cwde",
	[0x99] = "cwd/cdq", [0x9a] = "call far ptr", [0x9b] = "wait (x87)", [0x9c] = "pushf",
	[0x9d] = "popf", [0x9e] = "sahf", [0x9f] = "lahf",
	[0xa0] = "mov al,moffs", [0xa1] = "mov eAX,moffs", [0xa2] = "mov moffs,al",
	[0xa3] = "mov moffs,eAX", [0xa4] = "movsb", [0xa5] = "movsw/movsd", [0xa6] = "cmpsb",
	[0xa7] = "cmpsw/cmpsd", [0xa8] = "test al,Ib", [0xa9] = "test eAX,Iz", [0xaa] = "stosb",
	[0xab] = "stosw/stosd", [0xac] = "lodsb", [0xad] = "lodsw/lodsd", [0xae] = "scasb",
	[0xaf] = "scasw/scasd",
	[0xb0 ... 0xb7] = "mov r8,Ib", [0xb8 ... 0xbf] = "mov r,Iv",
	[0xc0] = "grp2 rol/ror/rcl/rcr/shl/shr/sal/sar Eb,Ib", [0xc1] = "grp2 Ev,Ib",
	[0xc2] = "ret Iw", [0xc3] = "ret", [0xc4] = "les", [0xc5] = "lds",
	[0xc6] = "mov Eb,Ib", [0xc7] = "mov Ev,Iz", [0xc8] = "enter", [0xc9] = "leave",
	[0xca] = "retf Iw", [0xcb] = "retf", [0xcc] = "int3", [0xcd] = "int Ib", [0xce] = "into",
	[0xcf] = "iret",
	[0xd0] = "grp2 Eb,1", [0xd1] = "grp2 Ev,1", [0xd2] = "grp2 Eb,cl", [0xd3] = "grp2 Ev,cl",
	[0xd4] = "aam", [0xd5] = "aad", [0xd7] = "xlat",
	[0xd8 ... 0xdf] = "x87 escape (x87.c)",
	[0xe0] = "loopne", [0xe1] = "loope", [0xe2] = "loop", [0xe3] = "jecxz",
	[0xe4] = "in al,Ib", [0xe5] = "in eAX,Ib", [0xe6] = "out Ib,al", [0xe7] = "out Ib,eAX",
	[0xe8] = "call rel", [0xe9] = "jmp rel", [0xea] = "jmp far ptr", [0xeb] = "jmp rel8",
	[0xec] = "in al,dx", [0xed] = "in eAX,dx", [0xee] = "out dx,al", [0xef] = "out dx,eAX",
	[0xf0] = "lock prefix", [0xf2] = "repne prefix", [0xf3] = "rep prefix", [0xf4] = "hlt",
	[0xf5] = "cmc", [0xf6] = "grp3 test/not/neg/mul/imul/div/idiv Eb",
	[0xf7] = "grp3 test/not/neg/mul/imul/div/idiv Ev", [0xf8] = "clc", [0xf9] = "stc",
	[0xfa] = "cli", [0xfb] = "sti", [0xfc] = "cld", [0xfd] = "std", [0xfe] = "grp4 inc/dec Eb",
	[0xff] = "grp5 inc/dec/call/callf/jmp/jmpf/push",
};

static const char *const two_byte[256] = {
	[0x00] = "grp6 sldt/str/lldt/ltr/verr/verw", [0x01] = "grp7 sgdt/sidt/lgdt/lidt/smsw/lmsw/invlpg",
	[0x02] = "lar", [0x03] = "lsl", [0x06] = "clts", [0x08] = "invd", [0x09] = "wbinvd",
	[0x0b] = "ud2", [0x0d] = "prefetch (nop)", [0x18 ... 0x1f] = "hint nop Ev",
	[0x20] = "mov r,crN", [0x21] = "mov r,drN", [0x22] = "mov crN,r", [0x23] = "mov drN,r",
	[0x30] = "wrmsr", [0x31] = "rdtsc", [0x32] = "rdmsr", [0x34] = "sysenter (#GP)",
	[0x35] = "sysexit (#GP)",
	[0x40 ... 0x4f] = "cmovcc", [0x80 ... 0x8f] = "jcc rel32", [0x90 ... 0x9f] = "setcc",
	[0xa0] = "push fs", [0xa1] = "pop fs", [0xa2] = "cpuid", [0xa3] = "bt Ev,Gv",
	[0xa4] = "shld Ib", [0xa5] = "shld cl", [0xa8] = "push gs", [0xa9] = "pop gs",
	[0xab] = "bts Ev,Gv", [0xac] = "shrd Ib", [0xad] = "shrd cl",
	[0xae] = "grp15 lfence/mfence/sfence/clflush", [0xaf] = "imul Gv,Ev",
	[0xb0] = "cmpxchg Eb,Gb", [0xb1] = "cmpxchg Ev,Gv", [0xb2] = "lss", [0xb3] = "btr Ev,Gv",
	[0xb4] = "lfs", [0xb5] = "lgs", [0xb6] = "movzx Gv,Eb", [0xb7] = "movzx Gv,Ew",
	[0xb9] = "ud1", [0xba] = "grp8 bt/bts/btr/btc Ev,Ib", [0xbb] = "btc Ev,Gv",
	[0xbc] = "bsf", [0xbd] = "bsr", [0xbe] = "movsx Gv,Eb", [0xbf] = "movsx Gv,Ew",
	[0xc0] = "xadd Eb,Gb", [0xc1] = "xadd Ev,Gv", [0xc7] = "grp9 cmpxchg8b",
	[0xc8 ... 0xcf] = "bswap r", [0xff] = "ud0",
};

const char *cpu_opcode_coverage(unsigned map, uint8_t opcode)
{
	if (map == 1)
		return one_byte[opcode];
	if (map == 2)
		return two_byte[opcode];
	return NULL;
}
