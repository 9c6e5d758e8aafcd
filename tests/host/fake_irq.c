/* SPDX-License-Identifier: MIT */
/* fake_irq.c - vectors and the boot CPU for host tests (see fake_irq.h). */
#include "tests/host/fake_irq.h"

#include <stddef.h>

#include "kernel/irq.h"
#include "kernel/percpu.h"

int fake_irq_free_vectors = 1;
unsigned fake_irq_freed;
unsigned fake_irq_handler_calls;

void fake_irq_handler(void *arg)
{
    (void)arg;
    fake_irq_handler_calls++;
}

int irq_alloc(const char *name, irq_handler_fn fn, void *arg)
{
    (void)name;
    (void)fn;
    (void)arg;
    return fake_irq_free_vectors-- > 0 ? FAKE_IRQ_VECTOR : -1;
}

void irq_free(int vector)
{
    (void)vector;
    fake_irq_freed++;
}

struct cpu *cpu_get(unsigned i)
{
    static struct cpu boot_cpu = {.apic_id = 0};
    return i == 0 ? &boot_cpu : NULL;
}
