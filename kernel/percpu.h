/* SPDX-License-Identifier: MIT */
/* percpu.h - each CPU's own data, and the list of CPUs. GS's base points at the running CPU's
 * struct cpu (its first field points at itself, so %gs:0 is the struct's address). The boot CPU
 * registers first (index 0); init/smp.c registers the others as it starts them.
 */
#ifndef BOUNCE_KERNEL_PERCPU_H
#define BOUNCE_KERNEL_PERCPU_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/traps.h"

#define MAX_CPUS 64
#define CPU_STACK_BYTES (16 * 1024)

struct cpu {
    struct cpu *self;      /* %gs:0 */
    uint32_t index;        /* 0 = the boot CPU, then in the MADT's order */
    uint32_t apic_id;      /* as the MADT lists it */
    uint32_t seen_apic_id; /* as the CPU itself read it, once up */
    volatile uint32_t online;
    uint64_t up_ns; /* from the INIT IPI to the report */
    /* A call asked of this CPU (kernel/smp_call.c): written by the caller, then call_seq; the
     * CPU runs it and sets call_done to call_seq. */
    void (*call_fn)(void *arg);
    void *call_arg;
    volatile uint32_t call_seq, call_done;
    volatile uint64_t calls, nmis; /* served: call-function IPIs, NMIs */
    struct cpu_tables tables;
    uint8_t stack[CPU_STACK_BYTES] __attribute__((aligned(16)));
};

/* The boot CPU: CPU 0, registered and behind GS from the first thing kmain does, so locks and
 * this_cpu() work before the others start. */
void cpu_init_boot(void);
/* Point this CPU's GS base at c. */
void cpu_set_current(struct cpu *c);
/* Add c to the list (its index is its place); false when MAX_CPUS are listed. */
bool cpu_register(struct cpu *c);
unsigned cpu_count(void);        /* listed, online or not */
unsigned cpus_online(void);      /* reported in */
struct cpu *cpu_get(unsigned i); /* NULL past the list */

static inline struct cpu *this_cpu(void)
{
    struct cpu *c;
    __asm__ volatile("mov %%gs:0, %0" : "=r"(c));
    return c;
}

#endif
