/* SPDX-License-Identifier: MIT */
/* spinlock.h - mutual exclusion between CPUs, with interrupts off while held on this CPU (an
 * interrupt handler on the holder that took the same lock would wait forever).
 *
 * Test-and-test-and-set on one word (SDM vol. 3A 9.10.6.1: PAUSE in the wait loop). A recursive
 * lock remembers its holder (the CPU's index + 1) and a depth, for newlib's malloc lock, which is
 * recursive by contract. No waiting is unbounded in practice: holders never sleep, and every
 * section guarded here is short and bounded.
 */
#ifndef BOUNCE_KERNEL_SPINLOCK_H
#define BOUNCE_KERNEL_SPINLOCK_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/cpu.h"
#include "kernel/percpu.h"

#define RFLAGS_IF (1ull << 9)

struct spinlock {
    volatile uint32_t locked;
    uint32_t holder; /* recursive locks: the holding CPU's index + 1, 0 when free */
    uint32_t depth;
    uint64_t flags; /* recursive locks: RFLAGS before the outermost acquisition */
};

#define SPINLOCK_INIT \
    {                 \
        0, 0, 0, 0    \
    }

static inline void spin_acquire(struct spinlock *l)
{
    while (__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE))
        while (__atomic_load_n(&l->locked, __ATOMIC_RELAXED))
            cpu_relax();
}

static inline uint64_t spin_lock(struct spinlock *l)
{
    uint64_t flags = read_rflags();
    __asm__ volatile("cli" ::: "memory");
    spin_acquire(l);
    return flags;
}

static inline void spin_unlock(struct spinlock *l, uint64_t flags)
{
    __atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE);
    if (flags & RFLAGS_IF)
        __asm__ volatile("sti" ::: "memory");
}

/* Recursive: the holder may take it again; interrupts stay off until the outermost unlock. */
static inline void spin_lock_recursive(struct spinlock *l)
{
    uint32_t me = this_cpu()->index + 1;
    uint64_t f = read_rflags();
    __asm__ volatile("cli" ::: "memory");
    if (__atomic_load_n(&l->holder, __ATOMIC_RELAXED) == me) {
        l->depth++;
        return;
    }
    spin_acquire(l);
    l->holder = me;
    l->depth = 1;
    l->flags = f;
}

static inline void spin_unlock_recursive(struct spinlock *l)
{
    if (--l->depth)
        return;
    l->holder = 0;
    spin_unlock(l, l->flags);
}

#endif
