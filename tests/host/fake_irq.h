/* SPDX-License-Identifier: MIT */
/* fake_irq.h - kernel/irq.h's vectors and kernel/percpu.h's CPUs for host tests of drivers that
 * ask for interrupts: irq_alloc() hands out FAKE_IRQ_VECTOR while fake_irq_free_vectors lasts
 * (then -1, as when every vector is taken); cpu_get(0) is the boot CPU, APIC ID 0. */
#ifndef BOUNCE_TESTS_HOST_FAKE_IRQ_H
#define BOUNCE_TESTS_HOST_FAKE_IRQ_H

#define FAKE_IRQ_VECTOR 0x30

extern int fake_irq_free_vectors;
extern unsigned fake_irq_freed; /* irq_free() calls */

/* A driver's interrupt handler that counts its calls, to hand to the code under test. */
extern unsigned fake_irq_handler_calls;
void fake_irq_handler(void *arg);

#endif
