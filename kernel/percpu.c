/* SPDX-License-Identifier: MIT */
/* percpu.c - the list of CPUs and the GS base (see percpu.h). */
#include "kernel/percpu.h"

#include "kernel/cpu.h"

static struct cpu *cpus[MAX_CPUS];
static unsigned ncpus;
static struct cpu boot_cpu;

void cpu_init_boot(void)
{
    if (ncpus == 0) {
        cpu_register(&boot_cpu);
        boot_cpu.online = 1;
    }
    cpu_set_current(&boot_cpu);
}

void cpu_set_current(struct cpu *c) { wrmsr(MSR_GS_BASE, (uint64_t)(uintptr_t)c); }

bool cpu_register(struct cpu *c)
{
    if (ncpus == MAX_CPUS)
        return false;
    c->self = c;
    c->index = ncpus;
    cpus[ncpus++] = c;
    return true;
}

unsigned cpu_count(void) { return ncpus; }
struct cpu *cpu_get(unsigned i) { return i < ncpus ? cpus[i] : NULL; }

unsigned cpus_online(void)
{
    unsigned n = 0;
    for (unsigned i = 0; i < ncpus; i++)
        n += __atomic_load_n(&cpus[i]->online, __ATOMIC_ACQUIRE) != 0;
    return n;
}
