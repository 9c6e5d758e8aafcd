/* SPDX-License-Identifier: MIT */
/* irq.h - external interrupts: who owns each vector, counting, EOI, and sleeping until one comes.
 *
 * Vectors 32-255 are the external interrupts (Intel SDM vol. 3A 6.2); the local APIC accepts
 * them by priority class, vector >> 4 (11.8.3.1), so the kernel's own live at the top: the
 * call-function IPI at 0xf0, the spurious vector at 0xff, the wake-up timer at 0xe0. Device
 * vectors are handed out from IRQ_VECTOR_FIRST..IRQ_VECTOR_LAST by irq_alloc(), each with its
 * handler and argument; the dispatcher counts every delivery per vector and per CPU, runs the
 * handler and signals the EOI (11.8.5) after it, so a level-triggered source is acknowledged at
 * the device before the I/O APIC may deliver it again.
 *
 * A vector nobody owns is counted (irq_unexpected_count()), acknowledged if the APIC holds it
 * in service, and reported - never fatal: a device or a host that sends what it should not
 * cannot stop the guest.
 *
 * The kernel runs with interrupts off; they are on only while a CPU sleeps in HLT, inside
 * irq_wait_until() (or parked, on an application processor), so handlers run at those points.
 */
#ifndef BOUNCE_KERNEL_IRQ_H
#define BOUNCE_KERNEL_IRQ_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/time.h"

#define IRQ_VECTOR_FIRST 0x30
#define IRQ_VECTOR_LAST 0xdf
#define IRQ_WAKE_VECTOR 0xe0 /* the APIC timer's one-shot that bounds every sleep */

typedef void (*irq_handler_fn)(void *arg);

/* Take the vectors nobody owns (call first, before other modules install their handlers). */
void irq_init(void);
/* A free device vector with fn(arg) as its handler on every CPU (the IDT is shared); name says
 * whose it is in reports. -1 when none is left. */
int irq_alloc(const char *name, irq_handler_fn fn, void *arg);
void irq_free(int vector);
const char *irq_name(int vector); /* NULL if not allocated */

/* Tests: lose the vector's interrupts - each is counted and acknowledged (EOI) as usual but not
 * handed to its handler, as if lost between the device and its driver - or stop losing them.
 * Only for an edge-triggered source: a level-triggered one, never acknowledged at the device,
 * would be delivered again at once. */
void irq_set_lost(int vector, bool lost);
uint64_t irq_lost_count(void); /* interrupts lost that way */

/* Deliveries of a vector on CPU cpu (its index), and on all CPUs. */
uint64_t irq_count_on(int vector, unsigned cpu);
uint64_t irq_count(int vector);
/* Interrupts on vectors nobody owns, and the last such vector. */
uint64_t irq_unexpected_count(void);
int irq_last_unexpected(void);

/* Interrupts can be waited for: a local APIC with a calibrated timer (for the bound). */
bool irq_available(void);
/* Sleep in HLT until cond(arg) holds or timeout_ns passes, checking cond with interrupts off
 * after every wake-up; the APIC timer wakes the CPU at least every IRQ_WAKE_MAX_NS, so no
 * interrupt that never comes can hold it past the timeout. Returns the last value of cond.
 * Without irq_available(), polls like wait_until(). */
#define IRQ_WAKE_MAX_NS (50 * NSEC_PER_MSEC)
bool irq_wait_until(bool (*cond)(void *arg), void *arg, uint64_t timeout_ns);

#endif
