/* SPDX-License-Identifier: MIT */
/* test_frame_alloc.c - host unit tests for mm/frame_alloc.c.
 *
 * Physical addresses are only numbers here: the allocator never touches the frames, only its
 * bitmaps (malloc'ed), so the maps can place RAM on both sides of 4 GiB.
 */
#include "tests/host/host_test.h"

#include <stdlib.h>
#include <string.h>

#include "mm/frame_alloc.h"
#include "lib/units.h"

#define R(b, l, t) ((struct mem_range){(b), (l), (t)})
#define PFN(a) ((uint64_t)(a) >> PAGE_SHIFT)

/* Low RAM with a hole, boot-services memory, and a usable range straddling 4 GiB. */
static const struct mem_range straddle_map[] = {
    R(0x0, 0x9f000, MEM_USABLE), /* 159 frames */
    R(0x9f000, 0x61000, MEM_RESERVED),
    R(0x100000, 0x100000, MEM_USABLE),       /* 256 frames */
    R(0x200000, 0x100000, MEM_BOOT_RECLAIM), /* 256 frames, after frame_alloc_release() */
    R(0xfec00000, 0x1000, MEM_MMIO),
    R(GiB(4) - MiB(2), MiB(4), MEM_USABLE), /* 512 frames below 4 GiB, 512 above */
    R(GiB(4) + MiB(2), MiB(1), MEM_ACPI_NVS),
    R(GiB(4) + MiB(3), MiB(1) + 0x800, MEM_USABLE), /* 256 frames: the partial one is not RAM */
};
#define STRADDLE_DMA32_FRAMES (159 + 256 + 512)
#define STRADDLE_HIGH_FRAMES (512 + 256)

struct env {
    struct frame_allocator fa;
    const struct mem_range *map;
    size_t n;
    void *bitmaps;
};

static struct env *env_new(const struct mem_range *map, size_t n)
{
    struct env *e = calloc(1, sizeof(*e));
    assert_non_null(e);
    size_t bytes = frame_alloc_bitmap_bytes(map, n);
    e->bitmaps = malloc(bytes ? bytes : 1);
    assert_non_null(e->bitmaps);
    e->map = map;
    e->n = n;
    frame_alloc_init(&e->fa, map, n, e->bitmaps, bytes);
    return e;
}

static int setup_straddle(void **state)
{
    *state = env_new(straddle_map, ARRAY_LEN(straddle_map));
    return 0;
}

static int teardown_env(void **state)
{
    struct env *e = *state;
    free(e->bitmaps);
    free(e);
    return 0;
}

static bool in_usable_ram(const struct env *e, uint64_t phys, uint64_t count)
{
    return memrange_covers(e->map, e->n, MEM_USABLE, phys, count * PAGE_SIZE);
}

static uint64_t alloc_ok(struct frame_allocator *fa, enum frame_zone_pref pref, uint64_t count, uint64_t align)
{
    uint64_t phys = frame_alloc(fa, pref, count, align);
    assert_int_not_equal(phys, FRAME_NONE);
    return phys;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Allocates single frames from `pref` until it fails; returns how many (addresses in out[]). */
static size_t drain_single(struct env *e, enum frame_zone_pref pref, uint64_t *out, size_t cap)
{
    size_t k = 0;
    for (;;) {
        uint64_t phys = frame_alloc(&e->fa, pref, 1, 1);
        if (phys == FRAME_NONE)
            return k;
        assert_true(k < cap);
        out[k++] = phys;
    }
}

static void assert_distinct(uint64_t *v, size_t n)
{
    qsort(v, n, sizeof(v[0]), cmp_u64);
    for (size_t i = 1; i < n; i++)
        assert_true(v[i - 1] != v[i]);
}

/* Everything the misuse tests promise not to change. */
struct snapshot {
    uint64_t free[NR_ZONES], managed[NR_ZONES];
    struct frame_stats stats;
};

static struct snapshot take_snapshot(const struct frame_allocator *fa)
{
    struct snapshot s;
    for (int z = 0; z < NR_ZONES; z++) {
        s.free[z] = fa->zones[z].free;
        s.managed[z] = fa->zones[z].managed;
    }
    s.stats = fa->stats;
    return s;
}

static void assert_only_misuse_grew(const struct snapshot *before, const struct frame_allocator *fa, uint64_t by)
{
    for (int z = 0; z < NR_ZONES; z++) {
        assert_int_equal(fa->zones[z].free, before->free[z]);
        assert_int_equal(fa->zones[z].managed, before->managed[z]);
    }
    assert_int_equal(fa->stats.allocs, before->stats.allocs);
    assert_int_equal(fa->stats.frees, before->stats.frees);
    assert_int_equal(fa->stats.failures, before->stats.failures);
    assert_int_equal(fa->stats.misuse, before->stats.misuse + by);
}

/* ---- init ---- */

static void test_init_sets_zone_spans_and_counts(void **state)
{
    struct env *e = *state;
    const struct zone *dma = &e->fa.zones[ZONE_DMA32], *high = &e->fa.zones[ZONE_HIGH];
    /* Spans include the boot-reclaim range, which is not managed until released. */
    assert_int_equal(dma->base_pfn, 0);
    assert_int_equal(dma->end_pfn, PFN(GiB(4)));
    assert_int_equal(high->base_pfn, PFN(GiB(4)));
    assert_int_equal(high->end_pfn, PFN(GiB(4) + MiB(4)));
    assert_int_equal(dma->managed, STRADDLE_DMA32_FRAMES);
    assert_int_equal(dma->free, STRADDLE_DMA32_FRAMES);
    assert_int_equal(high->managed, STRADDLE_HIGH_FRAMES);
    assert_int_equal(high->free, STRADDLE_HIGH_FRAMES);
    assert_int_equal(frame_alloc_free_frames(&e->fa), STRADDLE_DMA32_FRAMES + STRADDLE_HIGH_FRAMES);
    assert_int_equal(frame_alloc_managed_frames(&e->fa), STRADDLE_DMA32_FRAMES + STRADDLE_HIGH_FRAMES);
    assert_string_equal(dma->name, "dma32");
    assert_string_equal(high->name, "high");

    assert_true(frame_is_free(&e->fa, 0x0));
    assert_true(frame_is_free(&e->fa, GiB(4) - PAGE_SIZE));
    assert_true(frame_is_free(&e->fa, GiB(4)));
    assert_false(frame_is_free(&e->fa, 0x9f000));         /* reserved hole */
    assert_false(frame_is_free(&e->fa, 0x200000));        /* boot reclaim, not yet released */
    assert_false(frame_is_free(&e->fa, GiB(4) + MiB(4))); /* the partial frame past the last range */
    assert_false(frame_is_allocated(&e->fa, 0x0));
    assert_false(frame_is_allocated(&e->fa, 0x9f000));
}

static void test_bitmap_bytes_cover_both_zone_spans(void **state)
{
    (void)state;
    /* Two bits per frame of each span, in whole 64-bit words. */
    size_t dma = 2 * (PFN(GiB(4)) / 64) * 8, high = 2 * (1024 / 64) * 8;
    assert_int_equal(frame_alloc_bitmap_bytes(straddle_map, ARRAY_LEN(straddle_map)), dma + high);

    const struct mem_range odd[] = {R(0x5000, 0x41000, MEM_USABLE)}; /* 65 frames: two words per map */
    assert_int_equal(frame_alloc_bitmap_bytes(odd, 1), 2 * 2 * 8);

    const struct mem_range no_ram[] = {R(0x0, MiB(1), MEM_RESERVED), R(MiB(1), 0xfff, MEM_USABLE)};
    assert_int_equal(frame_alloc_bitmap_bytes(no_ram, 2), 0);
}

static void test_init_with_too_little_storage_leaves_later_zones_empty(void **state)
{
    (void)state;
    size_t dma_bytes = 2 * (PFN(GiB(4)) / 64) * 8;
    void *storage = malloc(dma_bytes);
    assert_non_null(storage);
    struct frame_allocator fa;
    frame_alloc_init(&fa, straddle_map, ARRAY_LEN(straddle_map), storage, dma_bytes);
    assert_int_equal(fa.zones[ZONE_DMA32].managed, STRADDLE_DMA32_FRAMES);
    assert_int_equal(fa.zones[ZONE_HIGH].managed, 0);
    assert_int_equal(frame_alloc(&fa, FRAME_HIGH, 1, 1), FRAME_NONE);
    uint64_t phys = frame_alloc(&fa, FRAME_PREFER_HIGH, 1, 1);
    assert_true(phys < GiB(4));
    assert_int_equal(frame_alloc_release(&fa, GiB(4) + MiB(3), MiB(1)), 0);
    free(storage);
}

static void test_zone_of_splits_at_4gib(void **state)
{
    (void)state;
    assert_int_equal(frame_zone_of(0), ZONE_DMA32);
    assert_int_equal(frame_zone_of(GiB(4) - 1), ZONE_DMA32);
    assert_int_equal(frame_zone_of(GiB(4)), ZONE_HIGH);
    assert_int_equal(frame_zone_of(UINT64_MAX - 1), ZONE_HIGH);
}

/* ---- single frames and zones ---- */

static void test_dma32_single_frames_stay_below_4gib_in_usable_ram(void **state)
{
    struct env *e = *state;
    static uint64_t got[STRADDLE_DMA32_FRAMES + 1];
    size_t n = drain_single(e, FRAME_DMA32, got, ARRAY_LEN(got));
    assert_int_equal(n, STRADDLE_DMA32_FRAMES);
    assert_int_equal(e->fa.stats.failures, 1);
    assert_int_equal(e->fa.zones[ZONE_DMA32].free, 0);
    assert_int_equal(e->fa.zones[ZONE_HIGH].free, STRADDLE_HIGH_FRAMES); /* DMA32 never spills upward */
    for (size_t i = 0; i < n; i++) {
        assert_true(got[i] < GiB(4));
        assert_true(got[i] % PAGE_SIZE == 0);
        assert_true(in_usable_ram(e, got[i], 1));
        assert_true(frame_is_allocated(&e->fa, got[i]));
    }
    assert_distinct(got, n);
}

static void test_high_single_frames_never_below_4gib_and_fail_when_full(void **state)
{
    struct env *e = *state;
    static uint64_t got[STRADDLE_HIGH_FRAMES + 1];
    size_t n = drain_single(e, FRAME_HIGH, got, ARRAY_LEN(got));
    assert_int_equal(n, STRADDLE_HIGH_FRAMES);
    for (size_t i = 0; i < n; i++) {
        assert_true(got[i] >= GiB(4));
        assert_true(in_usable_ram(e, got[i], 1));
    }
    assert_distinct(got, n);
    assert_int_equal(e->fa.stats.failures, 1);
    assert_int_equal(e->fa.stats.allocs, STRADDLE_HIGH_FRAMES);
    assert_int_equal(e->fa.zones[ZONE_DMA32].free, STRADDLE_DMA32_FRAMES);
}

static void test_prefer_high_falls_back_to_dma32_when_high_is_full(void **state)
{
    struct env *e = *state;
    assert_true(alloc_ok(&e->fa, FRAME_PREFER_HIGH, 1, 1) >= GiB(4));
    for (int i = 1; i < STRADDLE_HIGH_FRAMES; i++)
        assert_true(alloc_ok(&e->fa, FRAME_HIGH, 1, 1) >= GiB(4));
    uint64_t phys = alloc_ok(&e->fa, FRAME_PREFER_HIGH, 1, 1);
    assert_true(phys < GiB(4));
    assert_true(in_usable_ram(e, phys, 1));
    assert_int_equal(e->fa.stats.failures, 0); /* a fallback is not a failure */
    /* A run too long for high alone falls back too. */
    phys = alloc_ok(&e->fa, FRAME_PREFER_HIGH, 64, 1);
    assert_true(phys < GiB(4) && in_usable_ram(e, phys, 64));
}

/* ---- contiguous runs ---- */

static void test_contiguous_runs_are_aligned_and_inside_one_usable_range(void **state)
{
    struct env *e = *state;
    uint64_t phys = alloc_ok(&e->fa, FRAME_DMA32, 16, 16);
    assert_int_equal(phys % (16 * PAGE_SIZE), 0);
    assert_true(in_usable_ram(e, phys, 16));
    for (uint64_t i = 0; i < 16; i++)
        assert_true(frame_is_allocated(&e->fa, phys + i * PAGE_SIZE));

    /* The only 2 MiB-aligned run of 512 free frames below 4 GiB is the one just under it. */
    assert_int_equal(alloc_ok(&e->fa, FRAME_DMA32, 512, 512), GiB(4) - MiB(2));
    assert_int_equal(alloc_ok(&e->fa, FRAME_HIGH, 512, 512), GiB(4));
    assert_int_equal(alloc_ok(&e->fa, FRAME_HIGH, 256, 256), GiB(4) + MiB(3));
    assert_int_equal(e->fa.zones[ZONE_HIGH].free, 0);
    assert_int_equal(e->fa.zones[ZONE_DMA32].free, STRADDLE_DMA32_FRAMES - 16 - 512);
}

static void test_contiguous_run_never_spans_the_4gib_split(void **state)
{
    struct env *e = *state;
    /* [4G-2M, 4G+2M) is one usable range, but each zone holds only 512 frames of it. */
    assert_int_equal(frame_alloc(&e->fa, FRAME_PREFER_HIGH, 1024, 1), FRAME_NONE);
    assert_int_equal(frame_alloc(&e->fa, FRAME_DMA32, 513, 1), FRAME_NONE);
    assert_int_equal(e->fa.stats.failures, 2);
    assert_int_equal(frame_alloc_free_frames(&e->fa), STRADDLE_DMA32_FRAMES + STRADDLE_HIGH_FRAMES);
}

/* The zone starts at an odd frame, so alignment is only right if it is of the physical address. */
static const struct mem_range holey_map[] = {
    R(0x101000, 0x8000, MEM_USABLE),                                    /* pfn 0x101..0x108 */
    R(0x109000, 0x1000, MEM_RESERVED), R(0x10a000, 0x8000, MEM_USABLE), /* pfn 0x10a..0x111 */
};

static int setup_holey(void **state)
{
    *state = env_new(holey_map, ARRAY_LEN(holey_map));
    return 0;
}

static void test_contiguous_run_never_crosses_a_hole(void **state)
{
    struct env *e = *state;
    assert_int_equal(frame_alloc(&e->fa, FRAME_DMA32, 9, 1), FRAME_NONE);
    assert_int_equal(alloc_ok(&e->fa, FRAME_DMA32, 8, 1), 0x101000);
    /* Aligned to 4 frames, the first fit past the hole is pfn 0x10c, not 0x10a. */
    assert_int_equal(alloc_ok(&e->fa, FRAME_DMA32, 4, 4), 0x10c000);
    assert_int_equal(frame_alloc(&e->fa, FRAME_DMA32, 4, 4), FRAME_NONE); /* 0x110 has only 2 */
    assert_int_equal(alloc_ok(&e->fa, FRAME_DMA32, 2, 2), 0x10a000);
    assert_int_equal(alloc_ok(&e->fa, FRAME_DMA32, 1, 1), 0x110000);
    assert_int_equal(alloc_ok(&e->fa, FRAME_DMA32, 1, 1), 0x111000);
    assert_int_equal(e->fa.zones[ZONE_DMA32].free, 0);
    assert_int_equal(e->fa.stats.failures, 2);
}

/* ---- exhaustion ---- */

static void test_exhaustion_returns_none_and_freeing_restores_counts(void **state)
{
    struct env *e = *state;
    static uint64_t runs[STRADDLE_DMA32_FRAMES], singles[STRADDLE_DMA32_FRAMES];
    size_t nruns = 0, nsingles;
    uint64_t phys;
    while ((phys = frame_alloc(&e->fa, FRAME_DMA32, 7, 1)) != FRAME_NONE) {
        assert_true(in_usable_ram(e, phys, 7));
        runs[nruns++] = phys;
    }
    assert_int_equal(e->fa.stats.failures, 1);
    nsingles = drain_single(e, FRAME_DMA32, singles, ARRAY_LEN(singles));
    assert_int_equal(e->fa.stats.failures, 2);
    assert_int_equal(nruns * 7 + nsingles, STRADDLE_DMA32_FRAMES);
    assert_int_equal(e->fa.zones[ZONE_DMA32].free, 0);

    for (size_t i = 0; i < nruns; i++)
        assert_true(frame_free(&e->fa, runs[i], 7));
    for (size_t i = 0; i < nsingles; i++)
        assert_true(frame_free(&e->fa, singles[i], 1));
    assert_int_equal(e->fa.zones[ZONE_DMA32].free, STRADDLE_DMA32_FRAMES);
    assert_int_equal(e->fa.zones[ZONE_DMA32].managed, STRADDLE_DMA32_FRAMES);
    assert_int_equal(e->fa.zones[ZONE_HIGH].free, STRADDLE_HIGH_FRAMES);
    assert_int_equal(e->fa.stats.allocs, e->fa.stats.frees);
    assert_int_equal(e->fa.stats.misuse, 0);

    /* Everything is findable again, wherever the next-fit hint was left. */
    assert_int_equal(drain_single(e, FRAME_DMA32, singles, ARRAY_LEN(singles)), STRADDLE_DMA32_FRAMES);
}

/* ---- misuse: refused, counted, and nothing else changes ---- */

static void test_double_free_is_refused(void **state)
{
    struct env *e = *state;
    uint64_t phys = alloc_ok(&e->fa, FRAME_DMA32, 4, 1);
    assert_true(frame_free(&e->fa, phys, 4));
    struct snapshot s = take_snapshot(&e->fa);
    assert_false(frame_free(&e->fa, phys, 4));
    assert_false(frame_free(&e->fa, phys + PAGE_SIZE, 1));
    assert_only_misuse_grew(&s, &e->fa, 2);
}

static void test_free_of_reserved_frame_is_refused(void **state)
{
    struct env *e = *state;
    frame_alloc_reserve(&e->fa, 0x100000, PAGE_SIZE);
    struct snapshot s = take_snapshot(&e->fa);
    assert_false(frame_free(&e->fa, 0x100000, 1));
    assert_only_misuse_grew(&s, &e->fa, 1);
    assert_false(frame_is_free(&e->fa, 0x100000));
}

static void test_free_of_non_ram_frame_is_refused(void **state)
{
    struct env *e = *state;
    struct snapshot s = take_snapshot(&e->fa);
    assert_false(frame_free(&e->fa, 0xa0000, 1));         /* reserved hole inside the DMA32 span */
    assert_false(frame_free(&e->fa, 0xfec00000, 1));      /* MMIO inside the span */
    assert_false(frame_free(&e->fa, 0x200000, 1));        /* boot reclaim, not released yet */
    assert_false(frame_free(&e->fa, GiB(4) + MiB(2), 1)); /* ACPI NVS inside the high span */
    assert_false(frame_free(&e->fa, GiB(8), 1));          /* outside every zone */
    assert_only_misuse_grew(&s, &e->fa, 5);
}

static void test_misaligned_free_is_refused(void **state)
{
    struct env *e = *state;
    uint64_t phys = alloc_ok(&e->fa, FRAME_DMA32, 2, 1);
    struct snapshot s = take_snapshot(&e->fa);
    assert_false(frame_free(&e->fa, phys + 0x800, 1));
    assert_false(frame_free(&e->fa, phys + 1, 2));
    assert_only_misuse_grew(&s, &e->fa, 2);
    assert_true(frame_is_allocated(&e->fa, phys));
    assert_true(frame_free(&e->fa, phys, 2));
}

static void test_free_extending_past_an_allocation_frees_nothing(void **state)
{
    struct env *e = *state;
    /* Fresh allocator: the first 4-frame run is at 0 and the frames after it are free. */
    uint64_t phys = alloc_ok(&e->fa, FRAME_DMA32, 4, 4);
    assert_int_equal(phys, 0);
    struct snapshot s = take_snapshot(&e->fa);
    assert_false(frame_free(&e->fa, phys, 5));
    assert_only_misuse_grew(&s, &e->fa, 1);
    for (uint64_t i = 0; i < 4; i++)
        assert_true(frame_is_allocated(&e->fa, phys + i * PAGE_SIZE));
}

static void test_free_running_off_the_end_of_a_zone_is_refused(void **state)
{
    struct env *e = *state;
    uint64_t last = alloc_ok(&e->fa, FRAME_DMA32, 512, 512); /* ends exactly at 4 GiB */
    uint64_t first_high = alloc_ok(&e->fa, FRAME_HIGH, 1, 1);
    assert_int_equal(first_high, GiB(4));
    struct snapshot s = take_snapshot(&e->fa);
    assert_false(frame_free(&e->fa, last, 513)); /* would cross into the high zone */
    assert_false(frame_free(&e->fa, GiB(4), UINT64_MAX));
    assert_only_misuse_grew(&s, &e->fa, 2);
}

static void test_zero_count_is_misuse(void **state)
{
    struct env *e = *state;
    uint64_t phys = alloc_ok(&e->fa, FRAME_DMA32, 1, 1);
    struct snapshot s = take_snapshot(&e->fa);
    assert_int_equal(frame_alloc(&e->fa, FRAME_DMA32, 0, 1), FRAME_NONE);
    assert_int_equal(frame_alloc(&e->fa, FRAME_PREFER_HIGH, 0, 1), FRAME_NONE);
    assert_false(frame_free(&e->fa, phys, 0));
    assert_only_misuse_grew(&s, &e->fa, 3);
}

static void test_non_power_of_two_alignment_is_misuse(void **state)
{
    struct env *e = *state;
    struct snapshot s = take_snapshot(&e->fa);
    assert_int_equal(frame_alloc(&e->fa, FRAME_DMA32, 1, 3), FRAME_NONE);
    assert_int_equal(frame_alloc(&e->fa, FRAME_HIGH, 4, 6), FRAME_NONE);
    assert_int_equal(frame_alloc(&e->fa, FRAME_PREFER_HIGH, 1, 0), FRAME_NONE);
    assert_int_equal(frame_alloc(&e->fa, FRAME_DMA32, 1, (1ull << 63) + 1), FRAME_NONE);
    assert_only_misuse_grew(&s, &e->fa, 4);
}

/* ---- reserve and release ---- */

static void test_release_of_boot_reclaim_adds_frames_once(void **state)
{
    struct env *e = *state;
    assert_int_equal(frame_alloc_release(&e->fa, 0x200000, 0x100000), 256);
    assert_int_equal(e->fa.zones[ZONE_DMA32].managed, STRADDLE_DMA32_FRAMES + 256);
    assert_int_equal(e->fa.zones[ZONE_DMA32].free, STRADDLE_DMA32_FRAMES + 256);
    assert_true(frame_is_free(&e->fa, 0x2ff000));
    assert_int_equal(frame_alloc_release(&e->fa, 0x200000, 0x100000), 0); /* already managed */
    assert_int_equal(frame_alloc_release(&e->fa, 0x200800, 0x1000), 0);   /* no whole frame */
    assert_int_equal(frame_alloc_release(&e->fa, GiB(8), MiB(1)), 0);     /* outside the zones */
    assert_int_equal(e->fa.zones[ZONE_DMA32].managed, STRADDLE_DMA32_FRAMES + 256);
}

static void test_released_frames_are_found_after_exhaustion(void **state)
{
    struct env *e = *state;
    static uint64_t got[STRADDLE_DMA32_FRAMES + 256];
    assert_int_equal(drain_single(e, FRAME_DMA32, got, ARRAY_LEN(got)), STRADDLE_DMA32_FRAMES);
    /* The next-fit hint now sits past the boot-reclaim range; release must pull it back. */
    assert_int_equal(frame_alloc_release(&e->fa, 0x200000, 0x100000), 256);
    size_t n = drain_single(e, FRAME_DMA32, got, ARRAY_LEN(got));
    assert_int_equal(n, 256);
    for (size_t i = 0; i < n; i++)
        assert_true(got[i] >= 0x200000 && got[i] < 0x300000);
}

static void test_reserve_then_release_returns_the_frame(void **state)
{
    struct env *e = *state;
    static uint64_t got[STRADDLE_DMA32_FRAMES];
    frame_alloc_reserve(&e->fa, 0x101000, PAGE_SIZE);
    assert_int_equal(e->fa.zones[ZONE_DMA32].managed, STRADDLE_DMA32_FRAMES - 1);
    assert_int_equal(e->fa.zones[ZONE_DMA32].free, STRADDLE_DMA32_FRAMES - 1);
    assert_false(frame_is_free(&e->fa, 0x101000));
    assert_false(frame_is_allocated(&e->fa, 0x101000)); /* reserved is neither */

    size_t n = drain_single(e, FRAME_DMA32, got, ARRAY_LEN(got));
    assert_int_equal(n, STRADDLE_DMA32_FRAMES - 1);
    for (size_t i = 0; i < n; i++)
        assert_true(got[i] != 0x101000);
    for (size_t i = 0; i < n; i++)
        assert_true(frame_free(&e->fa, got[i], 1));

    assert_int_equal(frame_alloc_release(&e->fa, 0x101000, PAGE_SIZE), 1);
    assert_int_equal(e->fa.zones[ZONE_DMA32].managed, STRADDLE_DMA32_FRAMES);
    assert_int_equal(e->fa.zones[ZONE_DMA32].free, STRADDLE_DMA32_FRAMES);
    assert_true(frame_is_free(&e->fa, 0x101000));
}

static void test_reserve_covers_partial_frames_and_ignores_non_ram(void **state)
{
    struct env *e = *state;
    frame_alloc_reserve(&e->fa, 0x100800, PAGE_SIZE); /* touches two frames */
    assert_false(frame_is_free(&e->fa, 0x100000));
    assert_false(frame_is_free(&e->fa, 0x101000));
    assert_true(frame_is_free(&e->fa, 0x102000));
    assert_int_equal(e->fa.zones[ZONE_DMA32].free, STRADDLE_DMA32_FRAMES - 2);

    struct snapshot s = take_snapshot(&e->fa);
    frame_alloc_reserve(&e->fa, 0x9f000, 0x61000); /* the reserved hole */
    frame_alloc_reserve(&e->fa, 0x200000, 0x1000); /* boot reclaim not yet released */
    frame_alloc_reserve(&e->fa, GiB(8), MiB(1));   /* outside the zones */
    frame_alloc_reserve(&e->fa, 0x100000, 0x2000); /* already reserved */
    frame_alloc_reserve(&e->fa, 0x105800, 0);      /* empty: covers no frame at all */
    assert_only_misuse_grew(&s, &e->fa, 0);
    assert_true(frame_is_free(&e->fa, 0x105000));
}

static void test_reserve_of_allocated_frame_makes_its_free_a_misuse(void **state)
{
    struct env *e = *state;
    uint64_t phys = alloc_ok(&e->fa, FRAME_HIGH, 1, 1);
    uint64_t free_before = e->fa.zones[ZONE_HIGH].free;
    frame_alloc_reserve(&e->fa, phys, PAGE_SIZE);
    assert_int_equal(e->fa.zones[ZONE_HIGH].managed, STRADDLE_HIGH_FRAMES - 1);
    assert_int_equal(e->fa.zones[ZONE_HIGH].free, free_before); /* it was not free */
    struct snapshot s = take_snapshot(&e->fa);
    assert_false(frame_free(&e->fa, phys, 1));
    assert_only_misuse_grew(&s, &e->fa, 1);
}

/* ---- randomized, against a reference model ---- */

/* RAM on both sides of 4 GiB with holes, and boot-services memory released part-way through. */
static const struct mem_range rand_map[] = {
    R(GiB(4) - MiB(3) + 0x5000, MiB(1) - 0x5000, MEM_USABLE), /* an odd first frame: see holey_map */
    R(GiB(4) - MiB(2), 0x3000, MEM_RESERVED),
    R(GiB(4) - MiB(2) + 0x3000, MiB(1) - 0x3000, MEM_USABLE),
    R(GiB(4) - MiB(1), 0x80000, MEM_BOOT_RECLAIM),
    R(GiB(4) - 0x80000, MiB(1), MEM_USABLE),
    R(GiB(4) + 0x80000, 0x5000, MEM_MMIO),
    R(GiB(4) + 0x85000, 0x7b000, MEM_USABLE),
};
#define M_BASE PFN(GiB(4) - MiB(3)) /* model frame 0; frames 0-4 are outside the DMA32 zone */
#define M_SPLIT (PFN(GiB(4)) - M_BASE)
#define M_FRAMES (PFN(GiB(4) + MiB(1)) - M_BASE)
#define M_RECLAIM_BASE (GiB(4) - MiB(1))
#define M_RECLAIM_LEN 0x80000ull
#define M_MAX_ALLOCS 1024

enum { M_NOT_RAM, M_FREE, M_USED, M_RESERVED };

struct live {
    uint64_t phys, count;  /* what is still allocated (prefix frees shrink it) */
    uint64_t aligned_phys; /* the address frame_alloc() returned, for the alignment check */
    uint64_t align;
    int zone;
};

struct model {
    uint8_t state[M_FRAMES];
    int owner[M_FRAMES]; /* index into live[] + 1, or 0 */
    struct live live[M_MAX_ALLOCS];
    size_t nlive;
    uint64_t reserved[M_FRAMES]; /* addresses of frames reserved while free, to release later */
    size_t nreserved;
    struct frame_stats stats;
};

static uint64_t zone_lo(int z) { return z == ZONE_DMA32 ? 0 : M_SPLIT; }
static uint64_t zone_hi(int z) { return z == ZONE_DMA32 ? M_SPLIT : M_FRAMES; }
static uint64_t m_idx(uint64_t phys) { return PFN(phys) - M_BASE; }
static uint64_t m_phys(uint64_t idx) { return (idx + M_BASE) << PAGE_SHIFT; }

static bool model_has_run(const struct model *m, int z, uint64_t count, uint64_t align)
{
    for (uint64_t i = zone_lo(z); i + count <= zone_hi(z); i++) {
        if ((i + M_BASE) % align != 0)
            continue;
        uint64_t k = 0;
        while (k < count && m->state[i + k] == M_FREE)
            k++;
        if (k == count)
            return true;
    }
    return false;
}

static void model_check(const struct model *m, const struct frame_allocator *fa)
{
    for (int z = 0; z < NR_ZONES; z++) {
        uint64_t nfree = 0, nused = 0;
        for (uint64_t i = zone_lo(z); i < zone_hi(z); i++) {
            nfree += m->state[i] == M_FREE;
            nused += m->state[i] == M_USED;
        }
        RAND_ASSERT(fa->zones[z].free == nfree);
        RAND_ASSERT(fa->zones[z].managed == nfree + nused);
    }
    RAND_ASSERT(memcmp(&fa->stats, &m->stats, sizeof(m->stats)) == 0);
    for (uint64_t i = 0; i < M_FRAMES; i++) {
        RAND_ASSERT(frame_is_free(fa, m_phys(i)) == (m->state[i] == M_FREE));
        RAND_ASSERT(frame_is_allocated(fa, m_phys(i)) == (m->state[i] == M_USED));
    }
    for (size_t a = 0; a < m->nlive; a++) {
        const struct live *l = &m->live[a];
        RAND_ASSERT(l->aligned_phys % (l->align * PAGE_SIZE) == 0);
        uint64_t first = m_idx(l->phys);
        RAND_ASSERT(first >= zone_lo(l->zone) && first + l->count <= zone_hi(l->zone));
        /* Owned by this allocation alone: live allocations are disjoint and still in use. */
        for (uint64_t k = 0; k < l->count; k++)
            RAND_ASSERT(m->owner[first + k] == (int)a + 1 && m->state[first + k] == M_USED);
    }
}

static void model_set_owner(struct model *m, size_t a)
{
    uint64_t first = m_idx(m->live[a].phys);
    for (uint64_t k = 0; k < m->live[a].count; k++)
        m->owner[first + k] = (int)a + 1;
}

static void op_alloc(struct model *m, struct frame_allocator *fa, struct rng *rng)
{
    enum frame_zone_pref pref = (enum frame_zone_pref)rng_below(rng, 3);
    uint64_t count = rng_one_in(rng, 3) ? 1 + rng_below(rng, 24) : 1;
    uint64_t align = rng_one_in(rng, 3) ? 1ull << rng_below(rng, 6) : 1;
    if (m->nlive == M_MAX_ALLOCS)
        return;

    int want = -1; /* the zone a correct allocator must use; -1 = must fail */
    if (pref != FRAME_DMA32 && model_has_run(m, ZONE_HIGH, count, align))
        want = ZONE_HIGH;
    else if (pref != FRAME_HIGH && model_has_run(m, ZONE_DMA32, count, align))
        want = ZONE_DMA32;

    uint64_t phys = frame_alloc(fa, pref, count, align);
    if (want < 0) {
        RAND_ASSERT(phys == FRAME_NONE);
        m->stats.failures++;
        return;
    }
    RAND_ASSERT(phys != FRAME_NONE);
    RAND_ASSERT(phys % (align * PAGE_SIZE) == 0);
    RAND_ASSERT(PFN(phys) >= M_BASE && m_idx(phys) + count <= M_FRAMES);
    uint64_t first = m_idx(phys);
    RAND_ASSERT(first >= zone_lo(want) && first + count <= zone_hi(want));
    for (uint64_t k = 0; k < count; k++) {
        RAND_ASSERT(m->state[first + k] == M_FREE); /* RAM, and not part of a live allocation */
        m->state[first + k] = M_USED;
    }
    m->live[m->nlive] = (struct live){phys, count, phys, align, want};
    model_set_owner(m, m->nlive);
    m->nlive++;
    m->stats.allocs++;
}

/* Frees a whole live allocation, or sometimes only its first frames. */
static void op_free(struct model *m, struct frame_allocator *fa, struct rng *rng)
{
    if (m->nlive == 0)
        return;
    size_t a = (size_t)rng_below(rng, m->nlive);
    struct live *l = &m->live[a];
    uint64_t count = rng_one_in(rng, 4) ? 1 + rng_below(rng, l->count) : l->count;
    RAND_ASSERT(frame_free(fa, l->phys, count));
    m->stats.frees++;
    for (uint64_t k = 0; k < count; k++) {
        m->state[m_idx(l->phys) + k] = M_FREE;
        m->owner[m_idx(l->phys) + k] = 0;
    }
    l->phys += count * PAGE_SIZE;
    l->count -= count;
    if (l->count == 0) {
        m->live[a] = m->live[--m->nlive];
        if (a < m->nlive)
            model_set_owner(m, a);
    }
}

/* A free the model says is invalid: double frees, holes, misalignment, zone crossings. */
static void op_bad_free(struct model *m, struct frame_allocator *fa, struct rng *rng)
{
    uint64_t idx = rng_below(rng, M_FRAMES), count = 1 + rng_below(rng, 8);
    uint64_t phys = m_phys(idx) + (rng_one_in(rng, 8) ? 8 * (1 + rng_below(rng, 511)) : 0);
    bool valid = phys % PAGE_SIZE == 0 && idx + count <= M_FRAMES && (idx >= M_SPLIT || idx + count <= M_SPLIT);
    for (uint64_t k = 0; valid && k < count; k++)
        valid = m->state[idx + k] == M_USED;
    if (valid)
        return; /* a legal partial free of live allocations: not what this op is for */
    RAND_ASSERT(!frame_free(fa, phys, count));
    m->stats.misuse++;
}

/* Reserves a few frames, possibly partially covered; skipped if any of them is allocated. */
static void op_reserve(struct model *m, struct frame_allocator *fa, struct rng *rng)
{
    uint64_t base = m_phys(rng_below(rng, M_FRAMES)) + rng_below(rng, PAGE_SIZE);
    uint64_t len = 1 + rng_below(rng, 2 * PAGE_SIZE);
    uint64_t first = m_idx(base), last = m_idx(ALIGN_UP(base + len, PAGE_SIZE));
    if (last > M_FRAMES)
        return;
    for (uint64_t i = first; i < last; i++)
        if (m->state[i] == M_USED)
            return;
    frame_alloc_reserve(fa, base, len);
    for (uint64_t i = first; i < last; i++) {
        if (m->state[i] == M_FREE) {
            m->state[i] = M_RESERVED;
            m->reserved[m->nreserved++] = m_phys(i);
        }
    }
}

/* Releases the boot-reclaim range, or frames reserved earlier. */
static void op_release(struct model *m, struct frame_allocator *fa, struct rng *rng)
{
    uint64_t base, len;
    if (m->nreserved > 0 && !rng_one_in(rng, 4)) {
        size_t r = (size_t)rng_below(rng, m->nreserved);
        base = m->reserved[r];
        len = PAGE_SIZE;
        m->reserved[r] = m->reserved[--m->nreserved];
    } else {
        base = M_RECLAIM_BASE;
        len = M_RECLAIM_LEN;
    }
    uint64_t added = 0;
    for (uint64_t i = m_idx(base); i < m_idx(base + len); i++) {
        if (m->state[i] == M_NOT_RAM || m->state[i] == M_RESERVED) {
            m->state[i] = M_FREE;
            added++;
        }
    }
    /* Drop reservations the boot-reclaim release just made free again. */
    for (size_t r = 0; r < m->nreserved;) {
        if (m->state[m_idx(m->reserved[r])] != M_RESERVED)
            m->reserved[r] = m->reserved[--m->nreserved];
        else
            r++;
    }
    RAND_ASSERT(frame_alloc_release(fa, base, len) == added);
}

static int setup_rand(void **state)
{
    *state = env_new(rand_map, ARRAY_LEN(rand_map));
    return 0;
}

static void test_random_ops_match_reference_model(void **state)
{
    static struct model model;
    struct env *e = *state;
    struct model *m = &model;
    struct rng rng = rng_begin();
    memset(m, 0, sizeof(*m));
    for (uint64_t i = 0; i < M_FRAMES; i++)
        if (memrange_covers(rand_map, ARRAY_LEN(rand_map), MEM_USABLE, m_phys(i), PAGE_SIZE))
            m->state[i] = M_FREE;
    model_check(m, &e->fa);

    for (int op = 0; op < 6000; op++) {
        uint64_t dice = rng_below(&rng, 100);
        if (dice < 50)
            op_alloc(m, &e->fa, &rng);
        else if (dice < 85)
            op_free(m, &e->fa, &rng);
        else if (dice < 93)
            op_bad_free(m, &e->fa, &rng);
        else if (dice < 97)
            op_reserve(m, &e->fa, &rng);
        else
            op_release(m, &e->fa, &rng);
        model_check(m, &e->fa);
    }

    /* Free and release everything: the counts must come back exactly. */
    while (m->nlive > 0) {
        struct live *l = &m->live[m->nlive - 1];
        RAND_ASSERT(frame_free(&e->fa, l->phys, l->count));
        m->nlive--;
    }
    for (size_t r = 0; r < m->nreserved; r++)
        RAND_ASSERT(frame_alloc_release(&e->fa, m->reserved[r], PAGE_SIZE) == 1);
    frame_alloc_release(&e->fa, M_RECLAIM_BASE, M_RECLAIM_LEN);
    uint64_t ram = 0;
    for (uint64_t i = 0; i < M_FRAMES; i++)
        ram += m->state[i] != M_NOT_RAM || (m_phys(i) >= M_RECLAIM_BASE && m_phys(i) < M_RECLAIM_BASE + M_RECLAIM_LEN);
    RAND_ASSERT(frame_alloc_free_frames(&e->fa) == ram);
    RAND_ASSERT(frame_alloc_managed_frames(&e->fa) == ram);
    print_message("# %llu allocs, %llu frees, %llu failures, %llu misuses\n", (unsigned long long)e->fa.stats.allocs,
                  (unsigned long long)e->fa.stats.frees, (unsigned long long)e->fa.stats.failures,
                  (unsigned long long)e->fa.stats.misuse);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup_straddle, teardown_env)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_init_sets_zone_spans_and_counts),
        cmocka_unit_test(test_bitmap_bytes_cover_both_zone_spans),
        cmocka_unit_test(test_init_with_too_little_storage_leaves_later_zones_empty),
        cmocka_unit_test(test_zone_of_splits_at_4gib),
        T(test_dma32_single_frames_stay_below_4gib_in_usable_ram),
        T(test_high_single_frames_never_below_4gib_and_fail_when_full),
        T(test_prefer_high_falls_back_to_dma32_when_high_is_full),
        T(test_contiguous_runs_are_aligned_and_inside_one_usable_range),
        T(test_contiguous_run_never_spans_the_4gib_split),
        cmocka_unit_test_setup_teardown(test_contiguous_run_never_crosses_a_hole, setup_holey, teardown_env),
        T(test_exhaustion_returns_none_and_freeing_restores_counts),
        T(test_double_free_is_refused),
        T(test_free_of_reserved_frame_is_refused),
        T(test_free_of_non_ram_frame_is_refused),
        T(test_misaligned_free_is_refused),
        T(test_free_extending_past_an_allocation_frees_nothing),
        T(test_free_running_off_the_end_of_a_zone_is_refused),
        T(test_zero_count_is_misuse),
        T(test_non_power_of_two_alignment_is_misuse),
        T(test_release_of_boot_reclaim_adds_frames_once),
        T(test_released_frames_are_found_after_exhaustion),
        T(test_reserve_then_release_returns_the_frame),
        T(test_reserve_covers_partial_frames_and_ignores_non_ram),
        T(test_reserve_of_allocated_frame_makes_its_free_a_misuse),
        cmocka_unit_test_setup_teardown(test_random_ops_match_reference_model, setup_rand, teardown_env),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
