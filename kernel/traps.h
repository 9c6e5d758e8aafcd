/* SPDX-License-Identifier: MIT */
/* traps.h - descriptor tables, exception handling, and catching exceptions on purpose.
 *
 * Any exception is fatal (a register dump, a symbolized backtrace, exit code EXIT_PANIC) unless
 * code has armed a catch: then the handler records what happened and longjmps back to it. Tests
 * use this to provoke #UD or #PF and report the result, and the test runner arms one around
 * every test case so a crashing test is a failed test, not a crashed run.
 */
#ifndef BOUNCE_KERNEL_TRAPS_H
#define BOUNCE_KERNEL_TRAPS_H

#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>

#include "lib/units.h"

/* Layout pushed by kernel/entry.S: general registers, then vector and error code, then the
 * hardware frame (Intel SDM vol. 3, 6.14.2: 64-bit mode always pushes SS:RSP). */
/* A CPU's own GDT and TSS (with its double-fault stack); the IDT is shared. For the application
 * processors (init/smp.c): the boot CPU's are traps_init()'s. */
struct cpu_tables {
    uint64_t gdt[5];
    uint8_t tss[104];
    uint8_t df_stack[KiB(4)] __attribute__((aligned(16)));
};
/* Load this CPU's tables (the GDT, its TSS, the shared IDT). */
void traps_init_cpu(struct cpu_tables *t);

struct trap_frame;
/* Handle `vector` with fn on every CPU (interrupts, IPIs, NMI) instead of the fatal dump. The
 * handler runs with interrupts off and returns to the interrupted code. */
void traps_set_handler(uint8_t vector, void (*fn)(struct trap_frame *f));

struct trap_frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, error_code;
    uint64_t rip, cs, rflags, rsp, ss;
};

enum {
    VEC_DE = 0,
    VEC_DB = 1,
    VEC_NMI = 2,
    VEC_BP = 3,
    VEC_OF = 4,
    VEC_BR = 5,
    VEC_UD = 6,
    VEC_NM = 7,
    VEC_DF = 8,
    VEC_TS = 10,
    VEC_NP = 11,
    VEC_SS = 12,
    VEC_GP = 13,
    VEC_PF = 14,
    VEC_MF = 16,
    VEC_AC = 17,
    VEC_MC = 18,
    VEC_XM = 19,
    VEC_VE = 20,
    VEC_CP = 21,
};

/* #PF error code bits (Intel SDM vol. 3, 4.7). */
#define PF_PRESENT (1u << 0)
#define PF_WRITE (1u << 1)
#define PF_USER (1u << 2)
#define PF_RSVD (1u << 3)
#define PF_FETCH (1u << 4)

struct trap_catch {
    jmp_buf env;
    struct trap_catch *prev; /* catches nest: the innermost armed one gets the exception */
    bool caught;
    uint8_t vector;
    uint64_t error_code, rip, cr2;
};

/* Load the kernel's GDT (with a TSS for the #DF stack) and IDT. */
void traps_init(void);

/* Run fn(arg) with a catch armed. Returns true if an exception interrupted it (details in *c). */
bool trap_run(void (*fn)(void *arg), void *arg, struct trap_catch *c);

const char *trap_name(unsigned vector);

/* Print the frame: registers, control registers, decoded error code, backtrace. */
void trap_dump(const struct trap_frame *f);

#endif
