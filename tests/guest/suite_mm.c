/* SPDX-License-Identifier: MIT */
/* suite_mm.c - the frame allocator on the guest's real memory, both zones. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "mm/mm.h"
#include "ktest/ktest.h"

static void fill(uint64_t pa, uint64_t bytes, uint64_t seed)
{
    uint64_t *p = phys_to_virt(pa);
    for (uint64_t i = 0; i < bytes / 8; i++)
        p[i] = seed ^ (pa + i * 8);
}

static bool check(uint64_t pa, uint64_t bytes, uint64_t seed)
{
    const uint64_t *p = phys_to_virt(pa);
    for (uint64_t i = 0; i < bytes / 8; i++)
        if (p[i] != (seed ^ (pa + i * 8)))
            return false;
    return true;
}

static void zones_consistent(struct ktest *t)
{
    const struct frame_allocator *fa = mm_frames();
    const struct zone *lo = &fa->zones[ZONE_DMA32], *hi = &fa->zones[ZONE_HIGH];
    KEXPECT(t, lo->managed > 0);
    KEXPECT(t, lo->free <= lo->managed && hi->free <= hi->managed);
    KEXPECT(t, lo->end_pfn <= (GiB(4) >> PAGE_SHIFT));
    if (hi->managed)
        KEXPECT(t, hi->base_pfn >= (GiB(4) >> PAGE_SHIFT));
    ktest_note(t, "dma32: %" PRIu64 " MiB managed, high: %" PRIu64 " MiB managed", (lo->managed >> 8),
               (hi->managed >> 8));
}

static void single_frame_dma32(struct ktest *t)
{
    uint64_t before = frame_alloc_free_frames(mm_frames());
    uint64_t pa = alloc_pages(FRAME_DMA32, 1);
    KASSERT(t, pa != FRAME_NONE);
    KEXPECT(t, pa < GiB(4) && pa % PAGE_SIZE == 0);
    KEXPECT(t, frame_is_allocated(mm_frames(), pa));
    fill(pa, PAGE_SIZE, 0x1111);
    KEXPECT(t, check(pa, PAGE_SIZE, 0x1111));
    KEXPECT(t, free_pages(pa, 1));
    KEXPECT(t, frame_is_free(mm_frames(), pa));
    KEXPECT_EQ(t, frame_alloc_free_frames(mm_frames()), before);
}

static void memory_above_4g(struct ktest *t)
{
    if (mm_frames()->zones[ZONE_HIGH].managed == 0) {
        ktest_skip(t, "no RAM above 4 GiB (boot with -m 6G on -machine pc)");
        return;
    }
    uint64_t pa = alloc_pages(FRAME_HIGH, 256);
    KASSERT(t, pa != FRAME_NONE);
    KEXPECT(t, pa >= GiB(4));
    fill(pa, 256 * PAGE_SIZE, 0xfeedface);
    KEXPECT(t, check(pa, 256 * PAGE_SIZE, 0xfeedface));
    uint64_t pref = alloc_pages(FRAME_PREFER_HIGH, 1);
    KEXPECT(t, pref != FRAME_NONE && pref >= GiB(4));
    KEXPECT(t, free_pages(pref, 1));
    KEXPECT(t, free_pages(pa, 256));
    ktest_note(t, "wrote and read back 1 MiB at %#" PRIx64, pa);
}

static void contiguous_and_aligned(struct ktest *t)
{
    uint64_t pa = alloc_pages_aligned(FRAME_DMA32, 64, 16);
    KASSERT(t, pa != FRAME_NONE);
    KEXPECT_EQ(t, pa % (16 * PAGE_SIZE), 0);
    for (uint64_t i = 0; i < 64; i++)
        KEXPECT(t, frame_is_allocated(mm_frames(), pa + i * PAGE_SIZE));
    fill(pa, 64 * PAGE_SIZE, 7);
    KEXPECT(t, check(pa, 64 * PAGE_SIZE, 7));
    KEXPECT(t, free_pages(pa, 64));
}

static void bad_frees_refused(struct ktest *t)
{
    struct frame_allocator *fa = mm_frames();
    uint64_t misuse = fa->stats.misuse;
    uint64_t pa = alloc_pages(FRAME_DMA32, 2);
    KASSERT(t, pa != FRAME_NONE);
    KEXPECT(t, free_pages(pa, 2));
    uint64_t free_now = frame_alloc_free_frames(fa);
    KEXPECT(t, !free_pages(pa, 1));                                               /* double free */
    KEXPECT(t, !free_pages(ktest_boot_info()->text_start & ~(PAGE_SIZE - 1), 1)); /* the kernel image */
    KEXPECT(t, !free_pages(pa + 1, 1));                                           /* misaligned */
    KEXPECT_EQ(t, frame_alloc_free_frames(fa), free_now);
    KEXPECT_EQ(t, fa->stats.misuse, misuse + 3);
}

/* Allocate 2 MiB chunks until the zone is empty, check the failure is clean, give everything back. */
static void exhaustion_and_recovery(struct ktest *t)
{
    struct frame_allocator *fa = mm_frames();
    enum frame_zone_pref pref = fa->zones[ZONE_HIGH].managed ? FRAME_HIGH : FRAME_DMA32;
    const struct zone *z = &fa->zones[pref == FRAME_HIGH ? ZONE_HIGH : ZONE_DMA32];
    uint64_t free_before = z->free, failures = fa->stats.failures, n = 0;
    size_t cap = (size_t)(z->free / 512 + 2);
    uint64_t *chunks = malloc(cap * sizeof(*chunks));
    KASSERT(t, chunks != NULL);
    /* In DMA32 keep 8 MiB back, so the rest of the kernel is not starved while we hold it. */
    while (n < cap && (pref == FRAME_HIGH || z->free > MiB(8) / PAGE_SIZE)) {
        uint64_t pa = alloc_pages(pref, 512);
        if (pa == FRAME_NONE)
            break;
        chunks[n++] = pa;
    }
    if (pref == FRAME_HIGH) {
        KEXPECT(t, alloc_pages(FRAME_HIGH, 512) == FRAME_NONE);
        KEXPECT(t, fa->stats.failures > failures);
        KEXPECT_MSG(t, z->free < 512, "%" PRIu64 " frames left but no 2 MiB run", z->free);
    }
    for (uint64_t i = 0; i < n; i++)
        KEXPECT(t, free_pages(chunks[i], 512));
    KEXPECT_EQ(t, z->free, free_before);
    ktest_note(t, "held %" PRIu64 " MiB of zone %s at once", (n * 2), z->name);
    free(chunks);
}

/* Random allocations and frees; every live block keeps its own pattern intact. */
static void random_alloc_free(struct ktest *t)
{
    enum { SLOTS = 64 };
    uint64_t addr[SLOTS] = {0}, count[SLOTS] = {0};
    uint64_t free_before = frame_alloc_free_frames(mm_frames());
    for (int op = 0; op < 1500; op++) {
        unsigned s = (unsigned)(ktest_rand(t) % SLOTS);
        if (addr[s]) {
            KEXPECT_MSG(t, check(addr[s], PAGE_SIZE, s), "block %u at %#" PRIx64 " was overwritten", s, addr[s]);
            KEXPECT(t, free_pages(addr[s], count[s]));
            addr[s] = 0;
        } else {
            count[s] = 1 + ktest_rand(t) % 32;
            enum frame_zone_pref pref = (enum frame_zone_pref)(ktest_rand(t) % 3);
            addr[s] = alloc_pages(pref, count[s]);
            if (addr[s] == FRAME_NONE) {
                KEXPECT_MSG(t, pref == FRAME_HIGH, "allocation of %" PRIu64 " frames failed", count[s]);
                addr[s] = 0;
                continue;
            }
            fill(addr[s], PAGE_SIZE, s);
        }
    }
    for (unsigned s = 0; s < SLOTS; s++)
        if (addr[s])
            KEXPECT(t, free_pages(addr[s], count[s]));
    KEXPECT_EQ(t, frame_alloc_free_frames(mm_frames()), free_before);
}

static const struct ktest_case cases[] = {
    KTEST_CASE(zones_consistent),       KTEST_CASE(single_frame_dma32), KTEST_CASE(memory_above_4g),
    KTEST_CASE(contiguous_and_aligned), KTEST_CASE(bad_frees_refused),  KTEST_CASE(exhaustion_and_recovery),
    KTEST_CASE(random_alloc_free),
};
KTEST_SUITE(mm, "physical frame allocator", cases);
