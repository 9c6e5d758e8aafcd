/* SPDX-License-Identifier: MIT */
/* suite_irq.c - interrupts as the local APIC delivers them (Intel SDM vol. 3A, chapter 11): a
 * vector reaches its handler on the CPU it was sent to; the EOI ends it, and until then the APIC
 * holds back interrupts of the same priority class; vectors nobody owns and the spurious vector
 * are counted, not fatal; the timer interrupts at its calibrated rate, counted against the ACPI
 * PM timer (a clock the calibration did not use); the I/O APICs start masked and hold what is
 * routed. Each check has a way to fail: a count that does not move, a vector that is delivered
 * when the APIC must hold it, a rate off by more than the tolerance. */
#include <inttypes.h>
#include <stdio.h>

#include "drivers/acpi.h"
#include "drivers/acpi_fadt.h"
#include "drivers/acpi_madt.h"
#include "drivers/ioapic.h"
#include "kernel/apic.h"
#include "kernel/cpu.h"
#include "kernel/irq.h"
#include "kernel/percpu.h"
#include "kernel/time.h"
#include "ktest/ktest.h"

#define DELIVERY_TIMEOUT_NS (200 * NSEC_PER_MSEC)

static bool no_apic(struct ktest *t)
{
    if (irq_available())
        return false;
    ktest_skip(t, "no local APIC with a calibrated timer (no MADT: interrupts are not used)");
    return true;
}

/* What the test handlers saw. */
struct seen {
    volatile uint32_t count;
    volatile uint32_t cpu;       /* index of the CPU it last ran on */
    volatile bool in_service;    /* its vector was in the APIC's ISR while it ran */
    int vector;                  /* its own */
    int held_vector;             /* sent from inside the handler, to be held until the EOI */
    volatile bool held_in_irr;   /* ... and it was: requested, not delivered, during the handler */
    volatile uint32_t held_seen; /* deliveries of held_vector */
};
static struct seen seen;

static void count_delivery(void *arg)
{
    (void)arg;
    seen.cpu = this_cpu()->index;
    seen.in_service = apic_in_service((uint8_t)seen.vector);
    seen.count++;
}

static void count_held(void *arg)
{
    (void)arg;
    seen.held_seen++;
}

struct at_least {
    volatile uint32_t *counter;
    uint32_t value;
};
static bool reached(void *arg)
{
    const struct at_least *a = arg;
    return *a->counter >= a->value;
}

static bool self_ipi(uint8_t vector) { return apic_send_ipi(0, APIC_ICR_SELF | APIC_ICR_FIXED | vector); }

/* Five self-IPIs: five deliveries, on this CPU, each in service while its handler ran and none
 * left in service after (the dispatcher's EOI). */
static void vectors_are_delivered(struct ktest *t)
{
    if (no_apic(t))
        return;
    seen = (struct seen){0};
    seen.vector = irq_alloc("test", count_delivery, NULL);
    KASSERT(t, seen.vector >= IRQ_VECTOR_FIRST);
    for (uint32_t i = 1; i <= 5; i++) {
        KEXPECT(t, self_ipi((uint8_t)seen.vector));
        struct at_least want = {&seen.count, i};
        KEXPECT_MSG(t, irq_wait_until(reached, &want, DELIVERY_TIMEOUT_NS), "self-IPI %u on vector %#x not delivered",
                    i, seen.vector);
        KEXPECT(t, seen.in_service);
        KEXPECT_EQ(t, seen.cpu, this_cpu()->index);
    }
    KEXPECT(t, !apic_in_service((uint8_t)seen.vector));
    KEXPECT_EQ(t, irq_count_on(seen.vector, this_cpu()->index), 5u);
    KEXPECT_EQ(t, irq_count(seen.vector), 5u);
    irq_free(seen.vector);
}

/* SDM 11.8.3.1: while a vector is in service, the APIC delivers nothing of its priority class or
 * below. The handler of the higher vector sends the lower one of the same class and opens
 * interrupts: it must stay requested (IRR) and undelivered until the handler's EOI; then it
 * arrives. A missing or early EOI fails this either way. */
static void held_vector(void *arg)
{
    (void)arg;
    seen.count++;
    self_ipi((uint8_t)seen.held_vector);
    delay_ns(NSEC_PER_MSEC);                /* time for the IPI to reach the IRR */
    __asm__ volatile("sti; nop; nop; cli"); /* an open window: only a higher class could come in */
    seen.held_in_irr = apic_requested((uint8_t)seen.held_vector) && seen.held_seen == 0;
}

static void eoi_releases_the_same_class(struct ktest *t)
{
    if (no_apic(t))
        return;
    seen = (struct seen){0};
    int lo = irq_alloc("test-held", count_held, NULL), hi = irq_alloc("test-holder", held_vector, NULL);
    KASSERT(t, lo >= 0 && hi >= 0);
    if ((lo >> 4) != (hi >> 4)) {
        irq_free(lo);
        irq_free(hi);
        ktest_skip(t, "no two free vectors in one priority class (%#x, %#x)", lo, hi);
        return;
    }
    KASSERT(t, lo < hi);
    seen.held_vector = lo;
    KEXPECT(t, self_ipi((uint8_t)hi));
    struct at_least want = {&seen.held_seen, 1};
    KEXPECT_MSG(t, irq_wait_until(reached, &want, DELIVERY_TIMEOUT_NS), "the held vector %#x never arrived", lo);
    KEXPECT_EQ(t, seen.count, 1u);
    KEXPECT_MSG(t, seen.held_in_irr, "vector %#x was not held in the IRR while %#x was in service", lo, hi);
    KEXPECT(t, !apic_in_service((uint8_t)lo) && !apic_in_service((uint8_t)hi));
    irq_free(lo);
    irq_free(hi);
}

static bool unexpected_moved(void *arg) { return irq_unexpected_count() != *(uint64_t *)arg; }
static bool spurious_moved(void *arg) { return apic_spurious_count() != *(uint64_t *)arg; }

/* A vector nobody owns, and the spurious vector sent as a fixed interrupt: counted, acknowledged
 * (not left in service, which would block every lower class), and the kernel goes on. */
static void unowned_vectors_are_counted(struct ktest *t)
{
    if (no_apic(t))
        return;
    int v = IRQ_VECTOR_LAST;
    while (v >= IRQ_VECTOR_FIRST && irq_name(v) != NULL)
        v--;
    KASSERT(t, v >= IRQ_VECTOR_FIRST);
    uint64_t before = irq_unexpected_count();
    KEXPECT(t, self_ipi((uint8_t)v));
    KEXPECT_MSG(t, irq_wait_until(unexpected_moved, &before, DELIVERY_TIMEOUT_NS), "vector %#x: not counted", v);
    KEXPECT_EQ(t, irq_unexpected_count(), before + 1);
    KEXPECT_EQ(t, irq_last_unexpected(), v);
    KEXPECT(t, !apic_in_service((uint8_t)v));
    before = apic_spurious_count();
    KEXPECT(t, self_ipi(APIC_SPURIOUS_VECTOR));
    KEXPECT_MSG(t, irq_wait_until(spurious_moved, &before, DELIVERY_TIMEOUT_NS), "the spurious vector: not counted");
    KEXPECT(t, !apic_in_service(APIC_SPURIOUS_VECTOR));
}

/* The PM timer's ticks since `start`, modulo its width. */
static uint32_t pm_since(const struct acpi_pm_timer *pm, uint32_t start)
{
    uint32_t mask = pm->bits == 32 ? 0xffffffffu : 0xffffffu;
    return ((inl(pm->port) & mask) - start) & mask;
}

#define TICK_NS NSEC_PER_MSEC /* 1 kHz */
#define TICK_WINDOW_MS 200u   /* 200 ticks expected */
#define TICK_TOLERANCE_PCT 10u

/* The timer in periodic mode at 1 kHz, slept through in HLT for 200 ms of the PM timer: the ticks
 * counted agree with the calibration within 10 %. Then one-shot: once, not before its time. */
static void timer_interrupts_at_its_calibrated_rate(struct ktest *t)
{
    if (no_apic(t))
        return;
    struct acpi_pm_timer pm;
    const char *why = NULL;
    if (!acpi_find_pm_timer(ktest_boot_info()->rsdp, &pm, &why)) {
        ktest_skip(t, "no ACPI PM timer to count against: %s", why);
        return;
    }
    seen = (struct seen){0};
    seen.vector = irq_alloc("test-timer", count_delivery, NULL);
    KASSERT(t, seen.vector >= 0);
    uint32_t mask = pm.bits == 32 ? 0xffffffffu : 0xffffffu, start = inl(pm.port) & mask;
    uint32_t window = PM_TIMER_HZ / 1000 * TICK_WINDOW_MS;
    apic_timer_periodic((uint8_t)seen.vector, TICK_NS);
    while (pm_since(&pm, start) < window) /* woken by every tick */
        __asm__ volatile("sti; hlt; cli" ::: "memory");
    apic_timer_stop();
    uint32_t ticks = seen.count, elapsed = pm_since(&pm, start);
    uint64_t expected = (uint64_t)elapsed * NSEC_PER_SEC / PM_TIMER_HZ / TICK_NS;
    KEXPECT_MSG(t,
                ticks * 100u >= expected * (100u - TICK_TOLERANCE_PCT) &&
                    ticks * 100u <= expected * (100u + TICK_TOLERANCE_PCT),
                "%" PRIu32 " ticks of 1 ms in %" PRIu64 " ms of the PM timer", ticks,
                (uint64_t)elapsed * 1000 / PM_TIMER_HZ);
    ktest_note(t, "%" PRIu32 " timer interrupts at 1 kHz in %" PRIu64 " us of the PM timer (%" PRIu64 " expected)",
               ticks, (uint64_t)elapsed * 1000000 / PM_TIMER_HZ, expected);

    seen.count = 0;
    uint64_t t0 = time_ns();
    apic_timer_oneshot((uint8_t)seen.vector, 20 * NSEC_PER_MSEC);
    while (seen.count == 0 && time_ns() - t0 < NSEC_PER_SEC)
        __asm__ volatile("sti; hlt; cli" ::: "memory");
    uint64_t took = time_ns() - t0;
    delay_ns(30 * NSEC_PER_MSEC); /* a one-shot timer that repeated would tick again by now */
    __asm__ volatile("sti; nop; cli");
    apic_timer_stop();
    KEXPECT_EQ(t, seen.count, 1u);
    KEXPECT_MSG(t, took >= 19 * NSEC_PER_MSEC, "a 20 ms one-shot fired after %" PRIu64 " us", took / 1000);
    irq_free(seen.vector);
}

struct on_cpu {
    int vector;
    unsigned cpu;
    uint64_t before;
};
static bool delivered_on(void *arg)
{
    const struct on_cpu *o = arg;
    return irq_count_on(o->vector, o->cpu) != o->before;
}

/* A fixed IPI to each online CPU by its APIC ID is counted on that CPU and no other. */
static void interrupts_arrive_where_sent(struct ktest *t)
{
    if (no_apic(t))
        return;
    seen = (struct seen){0};
    seen.vector = irq_alloc("test-ipi", count_delivery, NULL);
    KASSERT(t, seen.vector >= 0);
    for (unsigned i = 0; i < cpu_count(); i++) {
        struct cpu *c = cpu_get(i);
        if (!c->online)
            continue;
        struct on_cpu o = {seen.vector, i, irq_count_on(seen.vector, i)};
        uint64_t total = irq_count(seen.vector);
        KEXPECT(t, apic_send_ipi(c->apic_id, APIC_ICR_FIXED | (uint8_t)seen.vector));
        KEXPECT_MSG(t, irq_wait_until(delivered_on, &o, DELIVERY_TIMEOUT_NS),
                    "CPU %u (APIC ID %" PRIu32 "): not delivered", i, c->apic_id);
        KEXPECT_EQ(t, irq_count(seen.vector), total + 1); /* there, and nowhere else */
    }
    ktest_note(t, "vector %#x delivered on each of %u CPUs", seen.vector, cpus_online());
    irq_free(seen.vector);
}

/* Every I/O APIC pin no driver has routed is masked; an entry written reads back as routed. */
static void io_apic_entries_hold_the_routing(struct ktest *t)
{
    if (no_apic(t))
        return;
    const struct madt_info *m = acpi_madt(ktest_boot_info()->rsdp, NULL);
    if (m == NULL || m->nioapics == 0) {
        ktest_skip(t, "the MADT lists no I/O APIC");
        return;
    }
    uint32_t gsi = m->ioapic[0].gsi_base, masked = 0;
    for (; ioapic_entry(gsi) != UINT64_MAX; gsi++) {
        uint64_t e = ioapic_entry(gsi);
        if (IOAPIC_MASKED(e))
            masked++;
        else
            KEXPECT_MSG(t, irq_name(IOAPIC_VECTOR(e)) != NULL,
                        "GSI %" PRIu32 ": unmasked on vector %#x, which nobody owns", gsi, IOAPIC_VECTOR(e));
    }
    uint32_t last = gsi - 1; /* the first chip's last pin: no ISA device of ours, and PCI uses MSI-X */
    KASSERT(t, IOAPIC_MASKED(ioapic_entry(last)));
    const char *why = NULL;
    int v = irq_alloc("test-route", count_delivery, NULL);
    KASSERT(t, v >= 0);
    KEXPECT(t, ioapic_route(last, (uint8_t)v, cpu_get(0)->apic_id, false, false, &why));
    uint64_t e = ioapic_entry(last);
    ioapic_mask(last);
    KEXPECT_EQ(t, IOAPIC_VECTOR(e), (uint8_t)v);
    KEXPECT_EQ(t, IOAPIC_DEST(e), cpu_get(0)->apic_id);
    KEXPECT(t, !IOAPIC_MASKED(e));
    KEXPECT(t, IOAPIC_MASKED(ioapic_entry(last)));
    KEXPECT(t, !ioapic_route(0xffffff, (uint8_t)v, 0, false, false, &why));
    irq_free(v);
    ktest_note(t, "I/O APIC 0: %" PRIu32 " pins, %" PRIu32 " routed by drivers", gsi - m->ioapic[0].gsi_base,
               gsi - m->ioapic[0].gsi_base - masked);
}

static const struct ktest_case cases[] = {
    KTEST_CASE(vectors_are_delivered),        KTEST_CASE(eoi_releases_the_same_class),
    KTEST_CASE(unowned_vectors_are_counted),  KTEST_CASE(timer_interrupts_at_its_calibrated_rate),
    KTEST_CASE(interrupts_arrive_where_sent), KTEST_CASE(io_apic_entries_hold_the_routing),
};
KTEST_SUITE(irq, "interrupts: delivery, EOI and priority, unowned vectors, the APIC timer's rate, I/O APIC", cases);
