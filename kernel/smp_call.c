/* SPDX-License-Identifier: MIT */
/* smp_call.c - call-function IPIs, NMIs and TLB shootdown (see smp_call.h). */
#include "kernel/smp_call.h"

#include "kernel/apic.h"
#include "kernel/cpu.h"
#include "kernel/percpu.h"
#include "kernel/time.h"
#include "kernel/traps.h"
#include "lib/units.h"

static void call_handler(struct trap_frame *f)
{
    (void)f;
    struct cpu *c = this_cpu();
    uint32_t seq = __atomic_load_n(&c->call_seq, __ATOMIC_ACQUIRE);
    if (seq != c->call_done) {
        c->call_fn(c->call_arg);
        c->calls++;
        __atomic_store_n(&c->call_done, seq, __ATOMIC_RELEASE);
    }
    apic_eoi();
}

static void nmi_handler(struct trap_frame *f)
{
    (void)f;
    __atomic_fetch_add(&this_cpu()->nmis, 1, __ATOMIC_RELEASE); /* NMIs need no EOI */
}

void smp_call_init(void)
{
    traps_set_handler(SMP_CALL_VECTOR, call_handler);
    traps_set_handler(VEC_NMI, nmi_handler);
}

/* Ask CPU c to run fn(arg); returns the sequence number to wait for. */
static uint32_t post(struct cpu *c, void (*fn)(void *arg), void *arg)
{
    c->call_fn = fn;
    c->call_arg = arg;
    uint32_t seq = c->call_seq + 1;
    __atomic_store_n(&c->call_seq, seq, __ATOMIC_RELEASE);
    apic_send_ipi(c->apic_id, APIC_ICR_FIXED | SMP_CALL_VECTOR);
    return seq;
}

struct awaited {
    struct cpu *c;
    uint64_t value; /* call_done to reach, or NMI count to leave */
};

static bool call_done(void *arg)
{
    const struct awaited *a = arg;
    return __atomic_load_n(&a->c->call_done, __ATOMIC_ACQUIRE) == a->value;
}

/* Wait for c to finish call seq, by the deadline SMP_CALL_TIMEOUT_NS after t0. */
static bool wait_done(struct cpu *c, uint32_t seq, uint64_t t0)
{
    struct awaited a = {c, seq};
    uint64_t spent = time_ns() - t0;
    return wait_until(call_done, &a, spent < SMP_CALL_TIMEOUT_NS ? SMP_CALL_TIMEOUT_NS - spent : 0);
}

bool smp_call_on(unsigned i, void (*fn)(void *arg), void *arg)
{
    struct cpu *c = cpu_get(i);
    if (c == NULL || !__atomic_load_n(&c->online, __ATOMIC_ACQUIRE))
        return false;
    if (c == this_cpu()) {
        fn(arg);
        return true;
    }
    return wait_done(c, post(c, fn, arg), time_ns());
}

/* Post fn to every other online CPU; then, with `self_too`, run it here; then wait for all. */
static bool call_everywhere(void (*fn)(void *arg), void *arg, bool self_too)
{
    uint32_t seq[MAX_CPUS] = {0};
    struct cpu *self = this_cpu();
    uint64_t t0 = time_ns();
    for (unsigned i = 0; i < cpu_count(); i++) {
        struct cpu *c = cpu_get(i);
        if (c != self && __atomic_load_n(&c->online, __ATOMIC_ACQUIRE))
            seq[i] = post(c, fn, arg);
    }
    if (self_too)
        fn(arg);
    bool all = true;
    for (unsigned i = 0; i < cpu_count(); i++)
        if (seq[i] && !wait_done(cpu_get(i), seq[i], t0))
            all = false;
    return all;
}

bool smp_call_others(void (*fn)(void *arg), void *arg) { return call_everywhere(fn, arg, false); }
bool smp_call_all(void (*fn)(void *arg), void *arg) { return call_everywhere(fn, arg, true); }

static bool nmi_counted(void *arg)
{
    const struct awaited *a = arg;
    return __atomic_load_n(&a->c->nmis, __ATOMIC_ACQUIRE) != a->value;
}

bool smp_nmi(unsigned i)
{
    struct cpu *c = cpu_get(i);
    if (c == NULL || !__atomic_load_n(&c->online, __ATOMIC_ACQUIRE) || c == this_cpu())
        return false;
    struct awaited a = {c, __atomic_load_n(&c->nmis, __ATOMIC_ACQUIRE)};
    apic_send_ipi(c->apic_id, APIC_ICR_NMI);
    return wait_until(nmi_counted, &a, SMP_CALL_TIMEOUT_NS);
}

struct range {
    uint64_t va, size;
};

static void flush(void *arg)
{
    const struct range *r = arg;
    if (r->size > 64 * PAGE_SIZE) { /* a full flush beats 64 invlpg */
        write_cr3(read_cr3());
        return;
    }
    for (uint64_t a = ALIGN_DOWN(r->va, PAGE_SIZE); a < r->va + r->size; a += PAGE_SIZE)
        invlpg((uintptr_t)a);
}

bool tlb_shootdown(uint64_t va, uint64_t size)
{
    if (cpus_online() <= 1)
        return true;
    struct range r = {va, size};
    return smp_call_others(flush, &r);
}
