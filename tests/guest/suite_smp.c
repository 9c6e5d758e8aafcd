/* SPDX-License-Identifier: MIT */
/* suite_smp.c - the application processors: every CPU the MADT lists came up, each reported the
 * APIC ID the MADT gives it (read by that CPU from its own APIC), and the per-CPU data is each
 * CPU's own. With one CPU the suite checks that the boot CPU is all there is. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/acpi.h"
#include "drivers/acpi_madt.h"
#include "kernel/cpu.h"
#include "kernel/percpu.h"
#include "kernel/smp_call.h"
#include "kernel/spinlock.h"
#include "mm/mm.h"
#include "ktest/ktest.h"

static void every_listed_cpu_came_up(struct ktest *t)
{
    const struct madt_info *m = acpi_madt(ktest_boot_info()->rsdp, NULL);
    unsigned enabled = 0;
    for (unsigned i = 0; m && i < m->ncpus; i++)
        enabled += m->cpu[i].enabled;
    KEXPECT_EQ(t, cpu_count(), m && enabled ? enabled : 1u);
    KEXPECT_EQ(t, cpus_online(), cpu_count());
    for (unsigned i = 0; i < cpu_count(); i++) {
        const struct cpu *c = cpu_get(i);
        KASSERT(t, c != NULL);
        KEXPECT_MSG(t, c->online, "CPU %u (APIC ID %" PRIu32 ") is not online", i, c->apic_id);
        KEXPECT_MSG(t, c->seen_apic_id == c->apic_id, "CPU %u: the MADT says APIC ID %" PRIu32 ", it read %" PRIu32, i,
                    c->apic_id, c->seen_apic_id);
    }
    ktest_note(t, "%u of %u CPUs online", cpus_online(), cpu_count());
}

static void per_cpu_data_is_each_cpus_own(struct ktest *t)
{
    KEXPECT(t, this_cpu() == cpu_get(0)); /* we run on the boot CPU */
    for (unsigned i = 0; i < cpu_count(); i++) {
        const struct cpu *c = cpu_get(i);
        KEXPECT(t, c->self == c);
        KEXPECT_EQ(t, c->index, i);
        for (unsigned k = 0; k < i; k++) {
            const struct cpu *o = cpu_get(k);
            KEXPECT(t, o != c && o->apic_id != c->apic_id);
            KEXPECT(t,
                    (const uint8_t *)o + sizeof(*o) <= (const uint8_t *)c ||
                        (const uint8_t *)c + sizeof(*c) <= (const uint8_t *)o);
        }
    }
}

static void record_index(void *arg)
{
    uint32_t *seen = arg;
    seen[this_cpu()->index] = this_cpu()->index + 1; /* + 1: 0 means "did not run" */
}

/* A call-function IPI reaches every CPU, one at a time and all at once, and each runs the
 * function itself (it records its own index, read through its own GS). */
static void calls_reach_every_cpu(struct ktest *t)
{
    static uint32_t seen[MAX_CPUS];
    for (unsigned i = 0; i < cpu_count(); i++) {
        if (!cpu_get(i)->online)
            continue; /* every_listed_cpu_came_up reports it */
        seen[i] = 0;
        KEXPECT_MSG(t, smp_call_on(i, record_index, seen), "CPU %u did not run the call in time", i);
        KEXPECT_EQ(t, seen[i], i + 1);
    }
    memset(seen, 0, sizeof(seen));
    KEXPECT(t, smp_call_others(record_index, seen));
    for (unsigned i = 1; i < cpu_count(); i++)
        KEXPECT_MSG(t, seen[i] == (cpu_get(i)->online ? i + 1 : 0), "CPU %u: %" PRIu32 " after smp_call_others", i,
                    seen[i]);
    KEXPECT_EQ(t, seen[0], 0); /* not the caller */
}

/* An NMI IPI reaches every other CPU's NMI handler. */
static void nmis_reach_every_cpu(struct ktest *t)
{
    if (cpu_count() == 1) {
        ktest_note(t, "one CPU: no other to send an NMI to");
        return;
    }
    for (unsigned i = 1; i < cpu_count(); i++)
        KEXPECT_MSG(t, !cpu_get(i)->online || smp_nmi(i), "CPU %u did not count the NMI in time", i);
}

/* QEMU's TCG says so in the hypervisor leaf (its vendor signature "TCGTCGTCGTCG"). */
static bool under_tcg(void)
{
    if (!(cpuid(1, 0).ecx & (1u << 31)))
        return false;
    struct cpuid_regs r = cpuid(0x40000000, 0);
    char sig[13];
    memcpy(sig, &r.ebx, 4);
    memcpy(sig + 4, &r.ecx, 4);
    memcpy(sig + 8, &r.edx, 4);
    sig[12] = '\0';
    return strcmp(sig, "TCGTCGTCGTCG") == 0;
}

/* What a CPU reads at a test address. */
static void read_probe(void *arg)
{
    volatile uint64_t *at = arg;
    uint64_t *out = (uint64_t *)(uintptr_t)at[1] + this_cpu()->index; /* at[1]: where to put it */
    *out = at[0];
}

/* A mapping changed on this CPU is seen changed on the others: every CPU reads a test page (so
 * its TLB holds the translation), the page is remapped to another frame through mmu_map (which
 * shoots the old translation down), and every CPU must read the new frame's contents. */
static void remap_is_seen_on_every_cpu(struct ktest *t)
{
    static const uint64_t va = 0x7f0000000000ull; /* canonical, far from RAM: nobody's */
    static uint64_t got[MAX_CPUS];
    uint64_t a = alloc_pages(FRAME_DMA32, 1), b = alloc_pages(FRAME_DMA32, 1);
    KASSERT(t, a != FRAME_NONE && b != FRAME_NONE);
    uint64_t *pa = phys_to_virt(a), *pb = phys_to_virt(b);
    pa[0] = 0xaaaa, pb[0] = 0xbbbb;
    pa[1] = pb[1] = (uint64_t)(uintptr_t)got;
    KASSERT(t, mmu_map(va, a, PAGE_SIZE, PT_WRITE) == 0);
    memset(got, 0, sizeof(got));
    KEXPECT(t, smp_call_others(read_probe, (void *)(uintptr_t)va));
    for (unsigned i = 1; i < cpu_count(); i++)
        KEXPECT_EQ(t, got[i], cpu_get(i)->online ? 0xaaaa : 0);
    /* Without a shootdown the others may go on reading the old frame through their TLBs. Under
     * TCG (QEMU's hypervisor signature TCGTCGTCGTCG) they do, every time: there the test can tell
     * and requires it; elsewhere a TLB may have dropped the entry, and the count is only noted. */
    KASSERT(t, mmu_map_this_cpu_only(va, b, PAGE_SIZE, PT_WRITE) == 0);
    memset(got, 0, sizeof(got));
    KEXPECT(t, smp_call_others(read_probe, (void *)(uintptr_t)va));
    unsigned stale = 0, others = 0;
    for (unsigned i = 1; i < cpu_count(); i++)
        if (cpu_get(i)->online) {
            others++;
            stale += got[i] == 0xaaaa;
        }
    if (under_tcg())
        KEXPECT_MSG(t, stale == others, "only %u of %u CPUs read the old frame before the shootdown", stale, others);
    ktest_note(t, "before the shootdown %u of %u other CPU(s) still read the old frame%s", stale, others,
               under_tcg() ? " (TCG: required)" : "");
    KASSERT(t, mmu_map(va, b, PAGE_SIZE, PT_WRITE) == 0); /* the shootdown happens here */
    memset(got, 0, sizeof(got));
    KEXPECT(t, smp_call_others(read_probe, (void *)(uintptr_t)va));
    for (unsigned i = 1; i < cpu_count(); i++)
        KEXPECT_MSG(t, got[i] == (cpu_get(i)->online ? 0xbbbb : 0),
                    "CPU %u still reads %#" PRIx64 " through the old translation", i, got[i]);
    KEXPECT_EQ(t, mmu_unmap(va, PAGE_SIZE), 0);
    free_pages(a, 1);
    free_pages(b, 1);
    ktest_note(t, "after it %u other CPU(s) read the new frame", others);
}

/* ---- everyone at once: the locks of the frame allocator, the heap and the console */

#define TORTURE_ROUNDS 20000
static struct spinlock torture_lock = SPINLOCK_INIT;
static volatile uint64_t torture_count;

static void torture(void *arg)
{
    (void)arg;
    for (int i = 0; i < TORTURE_ROUNDS; i++) {
        uint64_t flags = spin_lock(&torture_lock);
        uint64_t v = torture_count; /* a read-modify-write that loses counts unless it is exclusive */
        cpu_relax();
        torture_count = v + 1;
        spin_unlock(&torture_lock, flags);
    }
}

/* Every CPU adds TORTURE_ROUNDS under one lock at the same time: none is lost. */
static void lock_torture_loses_nothing(struct ktest *t)
{
    torture_count = 0;
    KEXPECT(t, smp_call_all(torture, NULL));
    KEXPECT_EQ(t, torture_count, (uint64_t)TORTURE_ROUNDS * cpus_online());
    ktest_note(t, "%u CPUs x %d rounds under one lock: %" PRIu64, cpus_online(), TORTURE_ROUNDS, torture_count);
}

#define FRAME_BLOCKS 24
struct alloc_result {
    uint32_t bad;        /* blocks whose contents another CPU changed */
    uint32_t failed;     /* allocations that failed */
    uint64_t bytes_heap; /* malloc'ed and checked */
};
static struct alloc_result alloc_results[MAX_CPUS];

/* Each CPU allocates frames of 1-4 pages and heap blocks, fills each with a pattern of its own,
 * prints a line, and checks every byte before freeing: a frame or block handed to two CPUs, or
 * a heap corrupted by two at once, shows as a changed byte. */
static void allocate_and_check(void *arg)
{
    (void)arg;
    struct cpu *me = this_cpu();
    struct alloc_result *r = &alloc_results[me->index];
    uint64_t pa[FRAME_BLOCKS], n[FRAME_BLOCKS];
    uint8_t *heap[FRAME_BLOCKS];
    uint8_t pat = (uint8_t)(0x40 + me->index);
    for (int i = 0; i < FRAME_BLOCKS; i++) {
        n[i] = 1 + (uint64_t)(i % 4);
        pa[i] = alloc_pages(FRAME_PREFER_HIGH, n[i]);
        heap[i] = malloc(64 + 97 * (size_t)i);
        r->failed += pa[i] == FRAME_NONE || heap[i] == NULL;
        if (pa[i] != FRAME_NONE)
            memset(phys_to_virt(pa[i]), pat, n[i] * PAGE_SIZE);
        if (heap[i])
            memset(heap[i], pat, 64 + 97 * (size_t)i);
    }
    printf("smp: CPU %u filled %d blocks\n", me->index, FRAME_BLOCKS);
    for (int i = 0; i < FRAME_BLOCKS; i++) {
        const uint8_t *p = pa[i] != FRAME_NONE ? phys_to_virt(pa[i]) : NULL;
        for (uint64_t k = 0; p && k < n[i] * PAGE_SIZE; k++)
            if (p[k] != pat) {
                r->bad++;
                break;
            }
        for (size_t k = 0; heap[i] && k < 64 + 97 * (size_t)i; k++)
            if (heap[i][k] != pat) {
                r->bad++;
                break;
            }
        if (pa[i] != FRAME_NONE)
            free_pages(pa[i], n[i]);
        r->bytes_heap += heap[i] ? 64 + 97 * (size_t)i : 0;
        free(heap[i]);
    }
}

static void concurrent_allocation_keeps_every_block(struct ktest *t)
{
    memset(alloc_results, 0, sizeof(alloc_results));
    uint64_t free_before = frame_alloc_free_frames(mm_frames());
    KEXPECT(t, smp_call_all(allocate_and_check, NULL));
    for (unsigned i = 0; i < cpu_count(); i++) {
        KEXPECT_MSG(t, alloc_results[i].bad == 0, "CPU %u: %" PRIu32 " block(s) changed by another CPU", i,
                    alloc_results[i].bad);
        KEXPECT_MSG(t, alloc_results[i].failed == 0, "CPU %u: %" PRIu32 " allocation(s) failed", i,
                    alloc_results[i].failed);
    }
    KEXPECT_EQ(t, frame_alloc_free_frames(mm_frames()), free_before); /* every frame came back */
}

static const struct ktest_case cases[] = {
    KTEST_CASE(every_listed_cpu_came_up),
    KTEST_CASE(per_cpu_data_is_each_cpus_own),
    KTEST_CASE(calls_reach_every_cpu),
    KTEST_CASE(nmis_reach_every_cpu),
    KTEST_CASE(remap_is_seen_on_every_cpu),
    KTEST_CASE(lock_torture_loses_nothing),
    KTEST_CASE(concurrent_allocation_keeps_every_block),
};
KTEST_SUITE(smp, "application processors: up, per-CPU data, calls, NMIs, TLB shootdown, locks", cases);
