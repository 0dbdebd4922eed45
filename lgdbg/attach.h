/*
 * `lgdbg attach [PID|SOCKET]`, `lgdbg run [lguest options] KERNEL [args]`
 * and their scripting options (-ex CMD, -x FILE): find or start a
 * launcher, attach, stop the guest, and hand over to the shell.
 */
#ifndef LGDBG_ATTACH_H
#define LGDBG_ATTACH_H

/* argv[0] is the program; the rest as on lgdbg's command line.  Returns the exit code. */
int attach_main(int argc, char **argv);

extern const char attach_usage[];

#endif
