/* SPDX-License-Identifier: MIT */
/* exit.h - how a guest run ends: an exit code through QEMU's isa-debug-exit device.
 *
 * Writing v to port 0xf4 makes QEMU exit with status (v << 1) | 1 (`-device
 * isa-debug-exit,iobase=0xf4,iosize=0x04`). The codes follow kvm-unit-tests where it has a
 * convention (77 = skipped, 63 = abort/panic, so QEMU's status stays below 128).
 */
#ifndef BOUNCE_KERNEL_EXIT_H
#define BOUNCE_KERNEL_EXIT_H

enum exit_code {
    EXIT_PASS = 0,        /* every selected test passed (or none was selected)  -> QEMU status 1 */
    EXIT_FAIL = 1,        /* at least one test failed                            -> QEMU status 3 */
    EXIT_BAD_CMDLINE = 2, /* unknown or malformed command-line option            -> QEMU status 5 */
    EXIT_PANIC = 63,      /* panic or unexpected exception outside a test        -> QEMU status 127 */
    EXIT_SKIP = 77,       /* every selected test was skipped                     -> QEMU status 155 */
};

const char *exit_code_name(int code);

/* Leave through isa-debug-exit; halt if the device is missing. Prints nothing on the way out, so
 * the run's last line stays the test summary. */
_Noreturn void bounce_exit(enum exit_code code);

#endif
