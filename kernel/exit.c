/* SPDX-License-Identifier: MIT */
/* exit.c - end a guest run through isa-debug-exit (see exit.h). */
#include "kernel/exit.h"

#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include "kernel/cpu.h"

#define ISA_DEBUG_EXIT_PORT 0xf4

const char *exit_code_name(int code)
{
    switch (code) {
    case EXIT_PASS: return "pass";
    case EXIT_FAIL: return "test failure";
    case EXIT_BAD_CMDLINE: return "bad command line";
    case EXIT_PANIC: return "panic";
    case EXIT_SKIP: return "all skipped";
    default: return "unknown";
    }
}

_Noreturn void bounce_exit(enum exit_code code)
{
    outl(ISA_DEBUG_EXIT_PORT, (uint32_t)code);
    /* Still here: no isa-debug-exit device (another VMM, or QEMU without it). Stop the CPU. */
    printf("bounce: exit %d (%s), but no isa-debug-exit device at 0x%x: halting\n", (int)code,
           exit_code_name((int)code), ISA_DEBUG_EXIT_PORT);
    halt_forever();
}

/* newlib's exit() and abort() end here. */
_Noreturn void _exit(int code) { bounce_exit((enum exit_code)code); }
