/* SPDX-License-Identifier: MIT */
/* smp_call.h - running a function on other CPUs, and the TLB shootdown built on it.
 *
 * The caller writes the function into the target's struct cpu, sends it the call IPI
 * (SMP_CALL_VECTOR, fixed delivery) and waits, bounded, until the target says it has run it. One
 * caller at a time - the boot CPU, where everything runs today; the locks that let any CPU call
 * come with the allocator's (issue 28, step 5). A CPU that does not answer in time is reported by
 * the false return, never waited for forever.
 */
#ifndef BOUNCE_KERNEL_SMP_CALL_H
#define BOUNCE_KERNEL_SMP_CALL_H

#include <stdbool.h>
#include <stdint.h>

#define SMP_CALL_VECTOR 0xf0
#define SMP_CALL_TIMEOUT_NS (2 * NSEC_PER_SEC)

/* Take the call and NMI vectors on every CPU (the boot CPU, before the others start). */
void smp_call_init(void);
/* Run fn(arg) on CPU i (directly when it is this one). False if it did not run within the time. */
bool smp_call_on(unsigned i, void (*fn)(void *arg), void *arg);
/* Run fn(arg) on every other online CPU, all at once. False if any did not within the time. */
bool smp_call_others(void (*fn)(void *arg), void *arg);
/* Run fn(arg) on every online CPU at once, this one included (it runs its share while the
 * others run theirs). False if any other did not finish within the time. */
bool smp_call_all(void (*fn)(void *arg), void *arg);
/* Send an NMI to CPU i and wait for its handler to count it. */
bool smp_nmi(unsigned i);
/* [va, va + size) changed in the page tables: flush it on every other online CPU (this one's is
 * the caller's: mm/ flushes its own). Nothing to do before the other CPUs are up (mm/ maps
 * before smp_init()). False if a CPU did not confirm. */
bool tlb_shootdown(uint64_t va, uint64_t size);

#endif
