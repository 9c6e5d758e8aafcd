/* SPDX-License-Identifier: MIT */
/* irq.c - vector ownership, dispatch with counts and EOI, and sleeping in HLT (see irq.h). */
#include "kernel/irq.h"

#include <inttypes.h>
#include <stdio.h>

#include "kernel/apic.h"
#include "kernel/report.h"
#include "lib/json.h"
#include "kernel/cpu.h"
#include "kernel/percpu.h"
#include "kernel/spinlock.h"
#include "kernel/traps.h"

#define NVECTORS 256
#define FIRST_EXTERNAL 32 /* below: exceptions (SDM vol. 3A 6.15) */

/* The interrupt bookkeeping: the owner of each device vector, and what every vector did. */
static struct {
    struct spinlock lock; /* allocation only: deliveries read the table, which is set before use */
    struct {
        const char *name;
        irq_handler_fn fn;
        void *arg;
        bool lost; /* irq_set_lost(): delivered, counted, acknowledged, not handled */
    } owner[NVECTORS];
    uint64_t count[NVECTORS][MAX_CPUS]; /* deliveries, by vector and CPU index */
    uint64_t unexpected;                /* vectors nobody owns */
    int last_unexpected;
    uint64_t lost; /* deliveries withheld from their handler by irq_set_lost() */
} irq = {.lock = SPINLOCK_INIT, .last_unexpected = -1};

static void count_here(int vector) { __atomic_fetch_add(&irq.count[vector][this_cpu()->index], 1, __ATOMIC_RELAXED); }

static void dispatch(struct trap_frame *f)
{
    int v = (int)(f->vector & 0xff);
    count_here(v);
    if (irq.owner[v].lost)
        irq.lost++;
    else if (irq.owner[v].fn != NULL)
        irq.owner[v].fn(irq.owner[v].arg);
    apic_eoi();
}

/* A vector nobody owns: counted; acknowledged only if the APIC has it in service (an INT n
 * instruction is not the APIC's, and an EOI then would end some other interrupt). */
static void unexpected(struct trap_frame *f)
{
    int v = (int)(f->vector & 0xff);
    count_here(v);
    __atomic_fetch_add(&irq.unexpected, 1, __ATOMIC_RELAXED);
    irq.last_unexpected = v;
    if (apic_in_service((uint8_t)v))
        apic_eoi();
}

static void wake(struct trap_frame *f)
{
    (void)f;
    count_here(IRQ_WAKE_VECTOR);
    apic_eoi();
}

/* BOUNCE-REPORT irq: what nobody owned, the APIC's spurious count, the sleeps cut by their bound,
 * and each allocated vector's deliveries by CPU. */
static void print_report(void)
{
    struct json_writer w;
    printf(REPORT_PREFIX " irq ");
    json_begin(&w, NULL, 0);
    json_u64(&w, "unexpected", irq_unexpected_count());
    json_u64(&w, "spurious", apic_spurious_count());
    json_u64(&w, "wake_timer", irq_count(IRQ_WAKE_VECTOR)); /* sleeps ended by their bound */
    json_u64(&w, "lost_on_purpose", irq.lost);
    json_object(&w, "vectors");
    for (int v = IRQ_VECTOR_FIRST; v <= IRQ_VECTOR_LAST; v++) {
        if (irq.owner[v].name == NULL)
            continue;
        char key[8];
        snprintf(key, sizeof(key), "0x%02x", v);
        json_object(&w, key);
        json_str(&w, "owner", irq.owner[v].name);
        json_key(&w, "by_cpu");
        json_append(&w, "[");
        for (unsigned c = 0; c < cpu_count() && c < MAX_CPUS; c++)
            json_append(&w, "%s%" PRIu64, c ? "," : "", irq_count_on(v, c));
        json_append(&w, "]");
        json_close(&w);
    }
    json_end(&w);
    printf("\n");
}

void irq_init(void)
{
    report_register(print_report);
    for (int v = FIRST_EXTERNAL; v < NVECTORS; v++)
        traps_set_handler((uint8_t)v, unexpected);
    traps_set_handler(IRQ_WAKE_VECTOR, wake);
}

int irq_alloc(const char *name, irq_handler_fn fn, void *arg)
{
    uint64_t flags = spin_lock(&irq.lock);
    int got = -1;
    for (int v = IRQ_VECTOR_FIRST; v <= IRQ_VECTOR_LAST && got < 0; v++)
        if (irq.owner[v].name == NULL) {
            irq.owner[v].fn = fn;
            irq.owner[v].arg = arg;
            irq.owner[v].lost = false;
            irq.owner[v].name = name;
            for (unsigned c = 0; c < MAX_CPUS; c++)
                irq.count[v][c] = 0;
            traps_set_handler((uint8_t)v, dispatch);
            got = v;
        }
    spin_unlock(&irq.lock, flags);
    return got;
}

void irq_free(int vector)
{
    if (vector < IRQ_VECTOR_FIRST || vector > IRQ_VECTOR_LAST)
        return;
    uint64_t flags = spin_lock(&irq.lock);
    traps_set_handler((uint8_t)vector, unexpected);
    irq.owner[vector].name = NULL;
    irq.owner[vector].fn = NULL;
    spin_unlock(&irq.lock, flags);
}

void irq_set_lost(int vector, bool lost)
{
    if (vector >= IRQ_VECTOR_FIRST && vector <= IRQ_VECTOR_LAST)
        irq.owner[vector].lost = lost;
}

uint64_t irq_lost_count(void) { return irq.lost; }

const char *irq_name(int vector) { return vector >= 0 && vector < NVECTORS ? irq.owner[vector].name : NULL; }

uint64_t irq_count_on(int vector, unsigned cpu)
{
    return vector >= 0 && vector < NVECTORS && cpu < MAX_CPUS
        ? __atomic_load_n(&irq.count[vector][cpu], __ATOMIC_RELAXED)
        : 0;
}

uint64_t irq_count(int vector)
{
    uint64_t n = 0;
    for (unsigned c = 0; c < MAX_CPUS; c++)
        n += irq_count_on(vector, c);
    return n;
}

uint64_t irq_unexpected_count(void) { return __atomic_load_n(&irq.unexpected, __ATOMIC_RELAXED); }
int irq_last_unexpected(void) { return irq.last_unexpected; }

bool irq_available(void) { return apic_mode() != APIC_NONE && apic_timer_hz() != 0; }

bool irq_wait_until(bool (*cond)(void *arg), void *arg, uint64_t timeout_ns)
{
    if (!irq_available())
        return wait_until(cond, arg, timeout_ns);
    uint64_t flags = read_rflags();
    uint64_t deadline = time_ns() + timeout_ns;
    bool met;
    for (;;) {
        __asm__ volatile("cli" ::: "memory");
        if ((met = cond(arg)))
            break;
        uint64_t now = time_ns();
        if (now >= deadline)
            break;
        uint64_t nap = deadline - now < IRQ_WAKE_MAX_NS ? deadline - now : IRQ_WAKE_MAX_NS;
        apic_timer_oneshot(IRQ_WAKE_VECTOR, nap);
        /* STI's interrupt shadow (SDM vol. 2B, STI): nothing is delivered before HLT starts, so an
         * interrupt that arrives after the check above still wakes the HLT. */
        __asm__ volatile("sti; hlt; cli" ::: "memory");
        apic_timer_stop();
    }
    if (flags & RFLAGS_IF)
        __asm__ volatile("sti" ::: "memory");
    return met;
}
