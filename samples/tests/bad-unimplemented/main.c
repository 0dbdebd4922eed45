/* Hostile: an instruction the interpreter does not implement (SSSE3
 * pshufb on MMX registers, 0f 38 00 c1) stops the guest with
 * "unimplemented instruction 0f 38 00 c1 ... at 0x<eip>" (DESIGN §3: never
 * a #UD the guest could catch, so a #UD gate is loaded to prove it). */
#include "../common.h"

TRAP_STUB(ud_stub, 6, 0);

void guest_main(void)
{
	guest_init();
	set_gate(6, ud_stub, GATE_TRAP, 0);
	asm volatile(".globl unimplemented_here\n"
	             "unimplemented_here: .byte 0x0f, 0x38, 0x00, 0xc1" ::: "memory");
	early_puts("must not print\n");
}
