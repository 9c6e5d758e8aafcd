/* SPDX-License-Identifier: MIT */
/* test_swiotlb.c - host unit tests for dma/swiotlb.c, the bounce pool, driven directly.
 *
 * Placement (swiotlb_find_slots/swiotlb_release_slots) touches only the bookkeeping, so most
 * pools here have no memory behind them (vaddr NULL) and may sit at any 4 KiB-aligned physical
 * address. The copy paths (swiotlb_tbl_map_single/unmap/sync) need memory: those pools and the
 * originals come from the fake physical address space (tools/hostlib/dma_fake_platform.h), whose
 * translation such a pool is given.
 *
 * The bookkeeping is malloc'ed with exactly swiotlb_meta_bytes(), so ASan catches any overrun.
 */
#include "tests/host/host_test.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dma/dma.h"
#include "dma/dma_platform.h"
#include "dma/swiotlb.h"
#include "tools/hostlib/dma_fake_platform.h"
#include "lib/units.h"

#define SLOT ((uint64_t)SWIOTLB_SLOT_SIZE)
#define MAX_MAP (SWIOTLB_MAX_MAPPING_SLOTS * SLOT)

struct env {
    struct swiotlb_pool p;
    void *mem;  /* the pool's memory, NULL for placement-only pools */
    void *meta; /* exactly meta_bytes, malloc'ed */
    size_t meta_bytes;
    struct dma_stats st;
};

static int setup(void **state)
{
    /* No pool of the API layer's own: this only installs the fake platform's translation. */
    assert_int_equal(dma_init(fake_platform(), 0, BOUNCE_ZERO), 0);
    struct env *e = calloc(1, sizeof(*e));
    assert_non_null(e);
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    struct env *e = *state;
    free(e->meta);
    free(e);
    dma_shutdown();
    fake_platform_reset();
    return 0;
}

static void assert_pool_ok(const struct swiotlb_pool *p)
{
    char why[256] = "";
    if (!swiotlb_check(p, why, sizeof(why)))
        fail_msg("swiotlb_check: %s", why);
}

/* A placement-only pool of nslots slots at phys. */
static void pool_at(struct env *e, uint32_t nslots, uint64_t phys)
{
    uint64_t bytes = (uint64_t)nslots * SLOT;
    free(e->meta);
    e->mem = NULL;
    e->meta_bytes = swiotlb_meta_bytes(bytes);
    e->meta = malloc(e->meta_bytes);
    assert_non_null(e->meta);
    assert_int_equal(swiotlb_pool_init(&e->p, NULL, phys, bytes, e->meta, e->meta_bytes, NULL), 0);
    assert_pool_ok(&e->p);
}

/* A pool with memory, in the fake low arena. */
static void pool_with_memory(struct env *e, uint32_t nslots)
{
    uint64_t bytes = (uint64_t)nslots * SLOT, phys;
    free(e->meta);
    e->mem = fake_alloc_low(bytes, &phys);
    assert_non_null(e->mem);
    e->meta_bytes = swiotlb_meta_bytes(bytes);
    e->meta = malloc(e->meta_bytes);
    assert_non_null(e->meta);
    assert_int_equal(
        swiotlb_pool_init(&e->p, e->mem, phys, bytes, e->meta, e->meta_bytes, fake_platform()->phys_to_virt), 0);
    assert_pool_ok(&e->p);
}

static struct dma_dev plain_dev(void) { return (struct dma_dev){.name = "plain", .dma_mask = DMA_BIT_MASK(64)}; }

static uint64_t slot_phys(const struct swiotlb_pool *p, int64_t i) { return p->start + (uint64_t)i * SLOT; }

/* The slots a mapping of `size` bytes takes when `offset` bytes of its first slot are skipped. */
static uint32_t slots_for(uint64_t offset, uint64_t size) { return (uint32_t)((offset + size + SLOT - 1) / SLOT); }

/* The mapping claimed at slot c covers exactly n slots, all owned by it. */
static void assert_owned(const struct swiotlb_pool *p, int64_t c, uint32_t n)
{
    assert_true(c >= 0);
    assert_int_equal(p->meta[c].nslots, n);
    for (uint32_t k = 0; k < n; k++)
        assert_int_equal(swiotlb_slot_owner(p, (uint32_t)(c + k)), (uint32_t)c + 1);
    if (c + n < p->nslots)
        assert_int_not_equal(swiotlb_slot_owner(p, (uint32_t)(c + n)), (uint32_t)c + 1);
}

/* ---- init ---- */

static void test_meta_bytes_cover_every_table(void **state)
{
    (void)state;
    assert_int_equal(swiotlb_meta_bytes(0), 0);
    size_t prev = 0;
    for (uint64_t n = 1; n <= 300; n++) {
        size_t b = swiotlb_meta_bytes(n * SLOT);
        /* used, clean and head bitmaps, summary word(s), meta per slot */
        uint64_t words = (n + 63) / 64;
        assert_true(b >= 3 * words * 8 + 8 + n * sizeof(struct swiotlb_meta));
        assert_true(b >= prev);
        prev = b;
    }
}

static void test_init_rejects_bad_arguments(void **state)
{
    struct env *e = *state;
    size_t mb = swiotlb_meta_bytes(64 * SLOT);
    uint64_t *meta = malloc(mb);
    assert_non_null(meta);
    struct swiotlb_pool p;
    assert_int_equal(swiotlb_pool_init(&p, NULL, FAKE_LOW_BASE, 0, meta, mb, NULL), -1);        /* empty */
    assert_int_equal(swiotlb_pool_init(&p, NULL, FAKE_LOW_BASE, 1000, meta, mb, NULL), -1);     /* < a slot */
    assert_int_equal(swiotlb_pool_init(&p, NULL, FAKE_LOW_BASE, SLOT + 1, meta, mb, NULL), -1); /* not a multiple */
    assert_int_equal(swiotlb_pool_init(&p, NULL, FAKE_LOW_BASE, 64 * SLOT - 512, meta, mb, NULL), -1);
    assert_int_equal(swiotlb_pool_init(&p, NULL, FAKE_LOW_BASE + SWIOTLB_SLOT_SIZE, 64 * SLOT, meta, mb, NULL),
                     -1); /* not page-aligned */
    assert_int_equal(swiotlb_pool_init(&p, NULL, FAKE_LOW_BASE + 8, 64 * SLOT, meta, mb, NULL), -1);
    assert_int_equal(swiotlb_pool_init(&p, NULL, FAKE_LOW_BASE, 64 * SLOT, meta, mb - 1, NULL),
                     -1); /* bookkeeping short */
    assert_int_equal(swiotlb_pool_init(&p, NULL, FAKE_LOW_BASE, 65 * SLOT, meta, mb, NULL), -1);
    /* 2^30 slots: refused before the (absurd) bookkeeping size is even looked at. */
    assert_int_equal(swiotlb_pool_init(&p, NULL, 0, (1ull << 30) * SLOT, meta, SIZE_MAX, NULL), -1);
    /* Exactly enough works, and so does more. */
    assert_int_equal(swiotlb_pool_init(&p, NULL, FAKE_LOW_BASE, 64 * SLOT, meta, mb, NULL), 0);
    assert_pool_ok(&p);
    assert_int_equal(swiotlb_pool_init(&p, NULL, FAKE_LOW_BASE, 32 * SLOT, meta, mb, NULL), 0);
    assert_pool_ok(&p);
    assert_int_equal(p.nslots, 32);
    free(meta);
    (void)e;
}

/* Every size, including the ones whose last bitmap word or last summary word is partial: the
 * pool hands out exactly nslots single slots, never one past the end, then refuses. */
static void test_tiny_and_odd_pools_hand_out_exactly_their_slots(void **state)
{
    struct env *e = *state;
    static const uint32_t sizes[] = {
        1, 2, 3, 5, 31, 63, 64, 65, 100, 127, 128, 129, 191, (PAGE_SIZE - 1), PAGE_SIZE, 4097, 64 * 64 * 2 + 1};
    struct dma_dev dev = plain_dev();
    for (size_t s = 0; s < ARRAY_LEN(sizes); s++) {
        uint32_t n = sizes[s];
        pool_at(e, n, FAKE_LOW_BASE);
        assert_int_equal(e->p.nslots, n);
        assert_int_equal(e->p.nwords, (n + 63) / 64);
        assert_int_equal(e->p.used_slots, 0);
        for (uint32_t i = 0; i < n; i++) {
            int64_t c = swiotlb_find_slots(&e->p, &dev, 0x1234, 100);
            assert_int_equal(c, i); /* next fit from an empty pool goes straight up */
        }
        assert_int_equal(e->p.used_slots, n);
        assert_int_equal(e->p.high_water, n);
        assert_int_equal(swiotlb_find_slots(&e->p, &dev, 0x1234, 100), -1);
        assert_pool_ok(&e->p);
        for (uint32_t i = 0; i < n; i++)
            swiotlb_release_slots(&e->p, i);
        assert_int_equal(e->p.used_slots, 0);
        assert_int_equal(e->p.high_water, n);
        assert_pool_ok(&e->p);
    }
}

/* 100 slots: the second bitmap word has 36 real slots; the other 28 bits must read as used so no
 * search ever returns slot 100..127, and a run may end exactly at slot 99. */
static void test_100_slot_pool_never_hands_out_padding(void **state)
{
    struct env *e = *state;
    struct dma_dev dev = plain_dev();
    pool_at(e, 100, FAKE_LOW_BASE);
    assert_int_equal(e->p.nwords, 2);
    assert_true((e->p.used[1] >> 36) == (~0ull >> 36));
    assert_int_equal(e->p.used[1] & ((1ull << 36) - 1), 0);
    /* 49 two-slot runs (of 3000 bytes: no page alignment), then the last pair 98-99. */
    for (int i = 0; i < 50; i++)
        assert_int_equal(swiotlb_find_slots(&e->p, &dev, 0, 3000), 2 * i);
    assert_int_equal(e->p.used_slots, 100);
    assert_int_equal(e->p.used[1], ~0ull);
    assert_true(e->p.full[0] & 2);
    assert_int_equal(swiotlb_find_slots(&e->p, &dev, 0, 1), -1);
    assert_pool_ok(&e->p);
    /* A 3-slot run can never be placed at 98. */
    swiotlb_release_slots(&e->p, 98);
    assert_int_equal(swiotlb_find_slots(&e->p, &dev, 0, 4097), -1);
    assert_int_equal(swiotlb_find_slots(&e->p, &dev, 0, PAGE_SIZE), 98);
    assert_pool_ok(&e->p);
}

/* ---- placement rules ---- */

static void test_multislot_mappings_are_contiguous_and_sized(void **state)
{
    struct env *e = *state;
    struct dma_dev dev = plain_dev();
    static const struct {
        size_t size;
        uint32_t nslots;
    } cases[] = {{1, 1},      {SWIOTLB_SLOT_SIZE, 1}, {2049, 2},     {PAGE_SIZE, 2}, {4097, 3},
                 {65536, 32}, {MAX_MAP - 1, 128},     {MAX_MAP, 128}};
    pool_at(e, 512, FAKE_LOW_BASE);
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        uint64_t orig = 0x200000000ull + 0x10000 * i;
        int64_t c = swiotlb_find_slots(&e->p, &dev, orig, cases[i].size);
        assert_true(c >= 0);
        assert_owned(&e->p, c, cases[i].nslots);
        assert_int_equal(e->p.meta[c].size, cases[i].size);
        assert_int_equal(e->p.meta[c].orig_phys, orig);
        assert_int_equal(e->p.meta[c].offset, 0);
        assert_pool_ok(&e->p);
    }
    uint32_t used = e->p.used_slots;
    assert_int_equal(swiotlb_find_slots(&e->p, &dev, 0, MAX_MAP + 1), SWIOTLB_TOO_LARGE); /* > 128 slots */
    assert_int_equal(swiotlb_find_slots(&e->p, &dev, 0, 0), SWIOTLB_TOO_LARGE); /* nothing to map: no valid size */
    assert_int_equal(swiotlb_find_slots(&e->p, &dev, 0, SIZE_MAX), SWIOTLB_TOO_LARGE);
    assert_int_equal(e->p.used_slots, used);
    assert_pool_ok(&e->p);
}

/* No min_align_mask: a mapping of a page or more starts on a page boundary; a smaller one
 * may start on any slot. */
static void test_page_sized_mappings_start_page_aligned(void **state)
{
    struct env *e = *state;
    struct dma_dev dev = plain_dev();
    pool_at(e, 64, FAKE_LOW_BASE);
    assert_int_equal(swiotlb_find_slots(&e->p, &dev, 0x5000, 100), 0);
    assert_int_equal(swiotlb_find_slots(&e->p, &dev, 0x5000, (PAGE_SIZE - 1)), 1); /* below a page: odd slot is fine */
    int64_t c = swiotlb_find_slots(&e->p, &dev, 0x5000, PAGE_SIZE);                /* cursor at 3: skips to 4 */
    assert_int_equal(c, 4);
    assert_int_equal(slot_phys(&e->p, c) % PAGE_SIZE, 0);
    assert_int_equal(swiotlb_slot_owner(&e->p, 3), 0);
    assert_int_equal(swiotlb_find_slots(&e->p, &dev, 0x5000, 100), 6);
    c = swiotlb_find_slots(&e->p, &dev, 0x5123, PAGE_SIZE * 3 + 1); /* odd original: alignment is of the bounce */
    assert_int_equal(c, 8);
    assert_int_equal(e->p.meta[c].offset, 0);
    assert_pool_ok(&e->p);
    /* The same on a pool whose start is only page- (not 8 KiB-) aligned. */
    pool_at(e, 64, FAKE_LOW_BASE + 0x1000);
    for (int i = 0; i < 14; i++) {
        c = swiotlb_find_slots(&e->p, &dev, 0x777, i % 2 ? 100 : PAGE_SIZE + (size_t)i * 1000);
        assert_true(c >= 0);
        if (i % 2 == 0)
            assert_int_equal(slot_phys(&e->p, c) % PAGE_SIZE, 0);
    }
    assert_pool_ok(&e->p);
}

/* The bounce address keeps (orig & min_align_mask): checked on real copies. */
static void test_min_align_mask_preserves_the_offset_bits(void **state)
{
    struct env *e = *state;
    static const uint32_t masks[] = {0x7ff, 0xfff, 0x3fff};
    static const uint64_t lows[] = {0x000, 0x001, 0x7ff, 0x800, 0x801, 0xabc, 0xfff, 0x1234, 0x3fff};
    static const size_t sizes[] = {1, 100, SWIOTLB_SLOT_SIZE, 3000, PAGE_SIZE, 5000, 20000};
    uint64_t ophys;
    uint8_t *orig = fake_alloc_high(64 * 1024, &ophys);
    assert_non_null(orig);
    for (size_t i = 0; i < 64 * 1024; i++)
        orig[i] = (uint8_t)(i * 7 + 3);
    pool_with_memory(e, 128);
    for (size_t m = 0; m < ARRAY_LEN(masks); m++) {
        struct dma_dev dev = {.name = "aligned", .dma_mask = DMA_BIT_MASK(32), .min_align_mask = masks[m]};
        for (size_t l = 0; l < ARRAY_LEN(lows); l++) {
            for (size_t s = 0; s < ARRAY_LEN(sizes); s++) {
                uint64_t o = ophys + lows[l];
                struct swiotlb_map_info info;
                uint64_t dma =
                    swiotlb_tbl_map_single(&e->p, &dev, o, sizes[s], DMA_TO_DEVICE, 0, BOUNCE_ZERO, &e->st, &info);
                assert_int_not_equal(dma, DMA_MAPPING_ERROR);
                assert_true(swiotlb_contains(&e->p, dma) && dma + sizes[s] <= e->p.end);
                assert_int_equal(dma & masks[m], o & masks[m]);
                assert_int_equal(e->p.meta[info.index].offset, o & masks[m] & (SLOT - 1));
                assert_int_equal(info.nslots, slots_for(o & masks[m] & (SLOT - 1), sizes[s]));
                assert_int_equal(swiotlb_orig_addr(&e->p, dma), o);
                assert_memory_equal(e->p.vaddr + (dma - e->p.start), orig + lows[l], sizes[s]);
                assert_pool_ok(&e->p);
                struct swiotlb_unmap_info out;
                char why[200];
                assert_int_equal(swiotlb_tbl_unmap_single(&e->p, &dev, dma, sizes[s], DMA_TO_DEVICE, 0, &e->st, &out,
                                                          why, sizeof(why)),
                                 DMA_OK);
                assert_int_equal(out.copied, 0);
            }
        }
    }
    assert_int_equal(e->p.used_slots, 0);
    assert_pool_ok(&e->p);
}

static void test_segment_boundary_is_never_crossed(void **state)
{
    struct env *e = *state;
    struct dma_dev dev = {.name = "seg16k", .dma_mask = DMA_BIT_MASK(64), .seg_boundary_mask = 0x3fff};
    pool_at(e, 64, FAKE_LOW_BASE); /* pool start is 16 KiB-aligned: a segment is slots 8k..8k+7 */
    for (int i = 0; i < 6; i++)
        assert_int_equal(swiotlb_find_slots(&e->p, &dev, 0, 100), i);
    /* 3 slots at 6 would cross into the next segment. */
    int64_t c = swiotlb_find_slots(&e->p, &dev, 0, 5000);
    assert_int_equal(c, 8);
    /* A whole segment fits exactly, at the next segment start. */
    c = swiotlb_find_slots(&e->p, &dev, 0, 8 * SLOT);
    assert_int_equal(c, 16);
    /* More than a segment can never fit, however empty the pool. */
    assert_int_equal(swiotlb_find_slots(&e->p, &dev, 0, 8 * SLOT + 1), SWIOTLB_TOO_LARGE);
    /* Fill up to the end; the wrap-around search must then respect the boundary too: 6-7 are
     * free, but a 3-slot mapping there would cross into 8. */
    for (int i = 0; i < 5; i++)
        assert_int_equal(swiotlb_find_slots(&e->p, &dev, 0, 8 * SLOT), 24 + 8 * i);
    assert_int_equal(e->p.cursor, 0);
    assert_int_equal(swiotlb_find_slots(&e->p, &dev, 0, 3000), 6); /* 2 slots fit in 6-7 */
    assert_int_equal(swiotlb_find_slots(&e->p, &dev, 0, SWIOTLB_SLOT_SIZE), 11);
    swiotlb_release_slots(&e->p, 6);
    e->p.cursor = 0;
    /* Free: 6-7 and 12-15. Three slots at 6 would cross 8: they go to 12. */
    assert_int_equal(swiotlb_find_slots(&e->p, &dev, 0, 4097), 12);
    /* Free: 6-7 and 15. The search from 15 runs off the end, wraps, and finds 6-7. */
    assert_int_equal(swiotlb_find_slots(&e->p, &dev, 0, 4097), -1);
    assert_int_equal(swiotlb_find_slots(&e->p, &dev, 0, 3000), 6);
    assert_pool_ok(&e->p);

    /* A pool that starts in the middle of a segment. */
    pool_at(e, 64, FAKE_LOW_BASE + 0x3000); /* slot 0 is at offset 12 KiB of a 16 KiB segment */
    c = swiotlb_find_slots(&e->p, &dev, 0, 3 * SLOT);
    assert_int_equal(c, 2);
    for (int i = 0; i < 30; i++) {
        c = swiotlb_find_slots(&e->p, &dev, 0, (size_t)(1 + (i * 3001) % (8 * SLOT)));
        if (c < 0)
            break;
        uint64_t a = slot_phys(&e->p, c), z = a + (uint64_t)e->p.meta[c].nslots * SLOT - 1;
        assert_int_equal(a & ~0x3fffull, z & ~0x3fffull);
    }
    assert_pool_ok(&e->p);

    /* 2 KiB segments: only single-slot mappings can bounce. */
    struct dma_dev tiny = {.name = "seg2k", .dma_mask = DMA_BIT_MASK(64), .seg_boundary_mask = 0x7ff};
    pool_at(e, 8, FAKE_LOW_BASE);
    assert_int_equal(swiotlb_find_slots(&e->p, &tiny, 0, SWIOTLB_SLOT_SIZE), 0);
    assert_int_equal(swiotlb_find_slots(&e->p, &tiny, 0, 2049), SWIOTLB_TOO_LARGE);
}

/* A boundary mask of all ones (Linux's ULONG_MAX default: dma_get_seg_boundary() without parms)
 * and the common 4 GiB one limit nothing inside a pool below 4 GiB. */
static void test_all_ones_segment_boundary_limits_nothing(void **state)
{
    struct env *e = *state;
    static const uint64_t masks[] = {DMA_BIT_MASK(32), DMA_BIT_MASK(40), DMA_BIT_MASK(63), DMA_BIT_MASK(64)};
    for (size_t m = 0; m < ARRAY_LEN(masks); m++) {
        struct dma_dev dev = {.name = "seg", .dma_mask = DMA_BIT_MASK(64), .seg_boundary_mask = masks[m]};
        pool_at(e, 256, FAKE_LOW_BASE);
        assert_int_equal(swiotlb_find_slots(&e->p, &dev, 0, 100), 0);
        assert_int_equal(swiotlb_find_slots(&e->p, &dev, 0, MAX_MAP), 2);
        assert_int_equal(swiotlb_find_slots(&e->p, &dev, 0, 5000), 130);
        assert_pool_ok(&e->p);
    }
}

static void test_next_fit_wraps_around(void **state)
{
    struct env *e = *state;
    struct dma_dev dev = plain_dev();
    pool_at(e, 8, FAKE_LOW_BASE);
    assert_int_equal(swiotlb_find_slots(&e->p, &dev, 0, PAGE_SIZE), 0); /* A */
    assert_int_equal(swiotlb_find_slots(&e->p, &dev, 0, PAGE_SIZE), 2); /* B */
    assert_int_equal(swiotlb_find_slots(&e->p, &dev, 0, PAGE_SIZE), 4); /* C */
    swiotlb_release_slots(&e->p, 0);
    /* Next fit: the cursor is at 6, so the freed 0-1 are not reused yet. */
    assert_int_equal(swiotlb_find_slots(&e->p, &dev, 0, PAGE_SIZE), 6);
    assert_int_equal(e->p.cursor, 0); /* ended exactly at the end of the pool */
    assert_int_equal(swiotlb_find_slots(&e->p, &dev, 0, PAGE_SIZE), 0);
    assert_int_equal(swiotlb_find_slots(&e->p, &dev, 0, 1), -1);
    swiotlb_release_slots(&e->p, 4);
    swiotlb_release_slots(&e->p, 6);
    /* Cursor at 2 (B, used): the search runs on to 4. */
    assert_int_equal(swiotlb_find_slots(&e->p, &dev, 0, SWIOTLB_SLOT_SIZE), 4);
    assert_int_equal(swiotlb_find_slots(&e->p, &dev, 0, PAGE_SIZE), 6);
    /* Cursor wrapped to 0; slot 5 is the only free one. */
    assert_int_equal(swiotlb_find_slots(&e->p, &dev, 0, SWIOTLB_SLOT_SIZE), 5);
    assert_int_equal(e->p.used_slots, 8);
    assert_pool_ok(&e->p);
    /* Wrap-around with the free run straddling the cursor: 6-7 free, cursor at 7. */
    swiotlb_release_slots(&e->p, 6);
    e->p.cursor = 7;
    assert_int_equal(swiotlb_find_slots(&e->p, &dev, 0, (PAGE_SIZE - 1)), 6); /* found on the wrapped pass */
    assert_pool_ok(&e->p);
}

static void test_dma_mask_limits_the_reachable_slots(void **state)
{
    struct env *e = *state;
    pool_at(e, 32, FAKE_LOW_BASE);
    uint64_t start = e->p.start;
    struct dma_dev dev = {.name = "4slots", .dma_mask = start + 4 * SLOT - 1};
    for (int i = 0; i < 4; i++)
        assert_int_equal(swiotlb_find_slots(&e->p, &dev, 0, 1), i);
    assert_int_equal(swiotlb_find_slots(&e->p, &dev, 0, 1), -1); /* 28 free, none reachable */
    assert_int_equal(e->p.used_slots, 4);
    /* A mask ending inside slot 5: slot 5 is not wholly reachable. */
    dev.dma_mask = start + 5 * SLOT + 1000;
    assert_int_equal(swiotlb_find_slots(&e->p, &dev, 0, 1), 4);
    assert_int_equal(swiotlb_find_slots(&e->p, &dev, 0, 1), -1);
    /* A 2-slot mapping needs two reachable slots. */
    dev.dma_mask = start + 7 * SLOT - 1;
    assert_int_equal(swiotlb_find_slots(&e->p, &dev, 0, PAGE_SIZE), -1); /* 5-6: not page-aligned */
    assert_int_equal(swiotlb_find_slots(&e->p, &dev, 0, (PAGE_SIZE - 1)), 5);
    /* Below the pool, or a 24-bit device: nothing. */
    dev.dma_mask = start - 1;
    assert_int_equal(swiotlb_find_slots(&e->p, &dev, 0, 1), SWIOTLB_UNREACHABLE);
    dev.dma_mask = DMA_BIT_MASK(24);
    assert_int_equal(swiotlb_find_slots(&e->p, &dev, 0, 1), SWIOTLB_UNREACHABLE);
    dev.dma_mask = 0;
    assert_int_equal(swiotlb_find_slots(&e->p, &dev, 0, 1), SWIOTLB_UNREACHABLE);
    assert_int_equal(e->p.used_slots, 7);
    assert_pool_ok(&e->p);
}

static void test_fragmented_pool_fails_only_without_a_run(void **state)
{
    struct env *e = *state;
    struct dma_dev dev = plain_dev();
    pool_at(e, 16, FAKE_LOW_BASE);
    for (int i = 0; i < 16; i++)
        assert_int_equal(swiotlb_find_slots(&e->p, &dev, 0, 1), i);
    for (int i = 0; i < 16; i += 2)
        swiotlb_release_slots(&e->p, (uint32_t)i);
    assert_int_equal(e->p.used_slots, 8);
    assert_int_equal(swiotlb_find_slots(&e->p, &dev, 0, 2049), -1); /* 8 free, no two adjacent */
    assert_pool_ok(&e->p);
    swiotlb_release_slots(&e->p, 11);
    assert_int_equal(swiotlb_find_slots(&e->p, &dev, 0, 2049), 10);
    assert_int_equal(swiotlb_find_slots(&e->p, &dev, 0, 3000), -1);
    /* A page-sized mapping needs an even start: take 12, free 13; the only pair is 13-14. */
    assert_int_equal(swiotlb_find_slots(&e->p, &dev, 0, 1), 12);
    swiotlb_release_slots(&e->p, 13);
    assert_int_equal(swiotlb_find_slots(&e->p, &dev, 0, PAGE_SIZE), -1);
    assert_int_equal(swiotlb_find_slots(&e->p, &dev, 0, (PAGE_SIZE - 1)), 13);
    assert_pool_ok(&e->p);
}

/* 8195 slots: 129 bitmap words, 3 summary words. Runs of full words are skipped through the
 * summary; the searches must still find the one free slot or run wherever it is. */
static void test_large_pool_finds_the_last_free_slot(void **state)
{
    struct env *e = *state;
    struct dma_dev dev = plain_dev();
    pool_at(e, 64 * 64 * 2 + 3, FAKE_LOW_BASE);
    assert_int_equal(e->p.nwords, 129);
    for (int i = 0; i < 64; i++)
        assert_int_equal(swiotlb_find_slots(&e->p, &dev, 0, MAX_MAP), 128 * i);
    for (int i = 0; i < 3; i++)
        assert_int_equal(swiotlb_find_slots(&e->p, &dev, 0, 1), 8192 + i);
    assert_int_equal(e->p.used_slots, e->p.nslots);
    assert_int_equal(e->p.full[0], ~0ull);
    assert_int_equal(e->p.full[1], ~0ull);
    assert_pool_ok(&e->p);
    assert_int_equal(swiotlb_find_slots(&e->p, &dev, 0, 1), -1);
    swiotlb_release_slots(&e->p, 8193);
    assert_int_equal(e->p.cursor, 0);
    assert_int_equal(swiotlb_find_slots(&e->p, &dev, 0, 1), 8193);
    swiotlb_release_slots(&e->p, PAGE_SIZE);
    assert_int_equal(swiotlb_find_slots(&e->p, &dev, 0, MAX_MAP), PAGE_SIZE);
    swiotlb_release_slots(&e->p, 128 * 50);
    swiotlb_release_slots(&e->p, 128 * 51);
    /* Cursor inside the freed area with too little room after it: the run that starts before the
     * cursor is found on the wrapped pass. */
    e->p.cursor = 128 * 51 + 5;
    assert_int_equal(swiotlb_find_slots(&e->p, &dev, 0, MAX_MAP), 128 * 50);
    assert_int_equal(swiotlb_find_slots(&e->p, &dev, 0, 100 * SLOT), 128 * 51);
    assert_pool_ok(&e->p);
}

/* ---- the copies, at the pool level ---- */

static void test_exhaustion_fails_cleanly_and_recovers(void **state)
{
    struct env *e = *state;
    struct dma_dev dev = {.name = "d32", .dma_mask = DMA_BIT_MASK(32)};
    uint64_t ophys;
    uint8_t *orig = fake_alloc_high(10 * PAGE_SIZE, &ophys);
    assert_non_null(orig);
    for (int b = 0; b < 10; b++)
        memset(orig + PAGE_SIZE * b, 0x30 + b, PAGE_SIZE);
    pool_with_memory(e, 16);
    uint64_t dma[8];
    struct swiotlb_map_info info;
    for (int b = 0; b < 8; b++) {
        dma[b] = swiotlb_tbl_map_single(&e->p, &dev, ophys + PAGE_SIZE * (uint64_t)b, PAGE_SIZE, DMA_TO_DEVICE, 0,
                                        BOUNCE_ZERO, &e->st, &info);
        assert_int_not_equal(dma[b], DMA_MAPPING_ERROR);
    }
    struct dma_stats before = e->st;
    assert_int_equal(swiotlb_tbl_map_single(&e->p, &dev, ophys + PAGE_SIZE * 8, PAGE_SIZE, DMA_TO_DEVICE, 0,
                                            BOUNCE_ZERO, &e->st, &info),
                     DMA_MAPPING_ERROR);
    assert_int_equal(
        swiotlb_tbl_map_single(&e->p, &dev, ophys + PAGE_SIZE * 8, 1, DMA_FROM_DEVICE, 0, BOUNCE_ZERO, &e->st, &info),
        DMA_MAPPING_ERROR);
    assert_memory_equal(&before, &e->st, sizeof(before)); /* a failed map copies and zeroes nothing */
    assert_pool_ok(&e->p);
    for (int b = 0; b < 8; b++) {
        uint8_t want[PAGE_SIZE];
        memset(want, 0x30 + b, sizeof(want));
        assert_memory_equal(e->p.vaddr + (dma[b] - e->p.start), want, PAGE_SIZE);
    }
    struct swiotlb_unmap_info out;
    char why[200];
    assert_int_equal(
        swiotlb_tbl_unmap_single(&e->p, &dev, dma[3], PAGE_SIZE, DMA_TO_DEVICE, 0, &e->st, &out, why, sizeof(why)),
        DMA_OK);
    uint64_t again = swiotlb_tbl_map_single(&e->p, &dev, ophys + PAGE_SIZE * 9, PAGE_SIZE, DMA_TO_DEVICE, 0,
                                            BOUNCE_ZERO, &e->st, &info);
    assert_int_equal(again, dma[3]);
    assert_memory_equal(e->p.vaddr + (again - e->p.start), orig + PAGE_SIZE * 9, PAGE_SIZE);
    assert_pool_ok(&e->p);
}

/* What the slot holds after a FROM_DEVICE map, per policy and attribute. */
/* ---- parking: a mapping released right behind the cursor keeps its bookkeeping ---- */

/* A parked mapping is no mapping: its slots have no owner, swiotlb_check() holds, and the
 * parked field must name a mapping's first slot (the check can fail). */
static void test_parked_slots_belong_to_no_mapping(void **state)
{
    struct env *e = *state;
    struct dma_dev dev = plain_dev();
    char why[256];
    pool_at(e, 256, FAKE_LOW_BASE);
    assert_int_equal(swiotlb_find_slots(&e->p, &dev, 0, KiB(64)), 0);
    assert_int_equal(swiotlb_find_slots(&e->p, &dev, 0, KiB(64)), 32);
    swiotlb_release_slots(&e->p, 32); /* right behind the cursor: parked */
    assert_int_equal(e->p.parked, 33);
    assert_int_equal(e->p.used_slots, 32);
    assert_pool_ok(&e->p);
    for (uint32_t k = 32; k < 64; k++)
        assert_int_equal(swiotlb_slot_owner(&e->p, k), 0);
    e->p.parked = 34; /* not a mapping's first slot */
    assert_false(swiotlb_check(&e->p, why, sizeof(why)));
    e->p.parked = 33;
    e->p.used_slots++; /* the parked slots counted as used */
    assert_false(swiotlb_check(&e->p, why, sizeof(why)));
    e->p.used_slots--;
    /* The next map of the same shape gets them; releasing a mapping elsewhere frees them. */
    assert_int_equal(swiotlb_find_slots(&e->p, &dev, 0, KiB(64)), 32);
    assert_int_equal(e->p.parked, 0);
    assert_owned(&e->p, 32, 32);
    swiotlb_release_slots(&e->p, 32); /* parked, the cursor back at 32 */
    swiotlb_release_slots(&e->p, 0);  /* 32 freed, 0 parked: it is right behind the cursor now */
    assert_int_equal(e->p.parked, 1);
    assert_int_equal(e->p.cursor, 0);
    assert_int_equal(e->p.used_slots, 0);
    assert_int_equal(e->p.used[0], 0xffffffffull);
    assert_pool_ok(&e->p);
    assert_int_equal(swiotlb_find_slots(&e->p, &dev, 0, 1), 0); /* another shape: freed, then found */
    assert_owned(&e->p, 0, 1);
    assert_int_equal(e->p.used[0], 1);
    assert_pool_ok(&e->p);
}

/* Parked slots are taken as they are only where the search would place the mapping anyway: a
 * device whose mask, alignment rule or segment boundary rules them out, a different size, or a
 * cursor moved away, gets what the search finds - the parked slots freed first. */
static void test_parked_slots_only_where_the_search_would_place(void **state)
{
    struct env *e = *state;
    struct dma_dev dev = plain_dev();
    pool_at(e, 256, FAKE_LOW_BASE);

    /* A DMA mask that stops below the parked slots. */
    assert_int_equal(swiotlb_find_slots(&e->p, &dev, 0, KiB(64)), 0);
    assert_int_equal(swiotlb_find_slots(&e->p, &dev, 0, KiB(64)), 32);
    assert_int_equal(swiotlb_find_slots(&e->p, &dev, 0, KiB(64)), 64);
    swiotlb_release_slots(&e->p, 0);  /* not behind the cursor: freed */
    swiotlb_release_slots(&e->p, 64); /* parked, cursor 64 */
    struct dma_dev low = {.name = "low", .dma_mask = slot_phys(&e->p, 64) - 1};
    assert_int_equal(swiotlb_find_slots(&e->p, &low, 0, KiB(64)), 0);
    assert_pool_ok(&e->p);
    assert_int_equal(e->p.used_slots, 64);

    /* An alignment rule: the offset bits kept, one slot more. */
    swiotlb_release_slots(&e->p, 0); /* behind the cursor (32): parked */
    assert_int_equal(e->p.parked, 1);
    struct dma_dev align = {.name = "align", .dma_mask = DMA_BIT_MASK(64), .min_align_mask = PAGE_SIZE - 1};
    int64_t c = swiotlb_find_slots(&e->p, &align, 0x10200, KiB(64));
    assert_true(c >= 0);
    assert_int_equal(e->p.meta[c].offset, 0x200);
    assert_owned(&e->p, c, 33);
    assert_pool_ok(&e->p);

    /* A segment boundary the parked slots would cross. */
    pool_at(e, 256, FAKE_LOW_BASE);
    assert_int_equal(swiotlb_find_slots(&e->p, &dev, 0, KiB(32)), 0);
    assert_int_equal(swiotlb_find_slots(&e->p, &dev, 0, KiB(64)), 16);
    swiotlb_release_slots(&e->p, 16); /* parked: slots 16-47 straddle a 64 KiB boundary */
    struct dma_dev seg = {.name = "seg", .dma_mask = DMA_BIT_MASK(64), .seg_boundary_mask = KiB(64) - 1};
    assert_int_equal(swiotlb_find_slots(&e->p, &seg, 0, KiB(64)), 32);
    assert_pool_ok(&e->p);

    /* Another size, and a cursor moved away. */
    pool_at(e, 256, FAKE_LOW_BASE);
    assert_int_equal(swiotlb_find_slots(&e->p, &dev, 0, KiB(64)), 0);
    swiotlb_release_slots(&e->p, 0); /* parked at 0 */
    assert_int_equal(swiotlb_find_slots(&e->p, &dev, 0, KiB(32)), 0);
    assert_owned(&e->p, 0, 16);
    assert_int_equal(e->p.used_slots, 16);
    assert_pool_ok(&e->p);
    swiotlb_release_slots(&e->p, 0); /* parked at 0 */
    e->p.cursor = 100;
    assert_int_equal(swiotlb_find_slots(&e->p, &dev, 0, KiB(32)), 100);
    assert_int_equal(e->p.used_slots, 16);
    assert_pool_ok(&e->p);
}

static void test_from_device_fill_per_policy(void **state)
{
    struct env *e = *state;
    struct dma_dev dev = {.name = "d32", .dma_mask = DMA_BIT_MASK(32)};
    uint64_t ophys;
    uint8_t *orig = fake_alloc_high(PAGE_SIZE, &ophys);
    assert_non_null(orig);
    memset(orig, 0xC3, PAGE_SIZE);
    pool_with_memory(e, 2);
    static const struct {
        enum bounce_policy policy;
        unsigned attrs;
        int want; /* -1: stale (left as it was) */
        uint64_t copied_in, zeroed;
    } cases[] = {
        /* Dirty slots are zeroed whole under the zero policy: 2 slots for these 3000 bytes. */
        {BOUNCE_ZERO, 0, 0x00, 0, 2 * SLOT},
        {BOUNCE_ZERO, DMA_ATTR_PRESERVE, 0xC3, 3000, 2 * SLOT},
        {BOUNCE_ZERO, DMA_ATTR_SKIP_CPU_SYNC, 0x00, 0, 2 * SLOT}, /* the zero-fill is not a sync */
        {BOUNCE_COPY, 0, 0xC3, 3000, 0},
        {BOUNCE_COPY, DMA_ATTR_SKIP_CPU_SYNC, 0x00, 0, 2 * SLOT}, /* no copy, so no stale bytes either */
        {BOUNCE_NONE, 0, -1, 0, 0},
        {BOUNCE_NONE, DMA_ATTR_PRESERVE, 0xC3, 3000, 0},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        memset(e->mem, 0x5A, 2 * SLOT); /* what the previous user left... */
        e->p.clean[0] &= ~3ull;         /* ...and the pool's record of it: those slots are dirty */
        memset(&e->st, 0, sizeof(e->st));
        struct swiotlb_map_info info;
        uint64_t dma = swiotlb_tbl_map_single(&e->p, &dev, ophys + 7, 3000, DMA_FROM_DEVICE, cases[i].attrs,
                                              cases[i].policy, &e->st, &info);
        assert_int_equal(dma, e->p.start);
        uint8_t want[3000];
        memset(want, cases[i].want < 0 ? 0x5A : cases[i].want, sizeof(want));
        assert_memory_equal(e->mem, want, sizeof(want));
        assert_int_equal(info.copied_in, cases[i].copied_in);
        assert_int_equal(info.zeroed, cases[i].zeroed);
        assert_int_equal(e->st.bytes_copied_in, cases[i].copied_in);
        assert_int_equal(e->st.orig_bytes_read, cases[i].copied_in);
        assert_int_equal(e->st.bytes_zeroed, cases[i].zeroed);
        struct swiotlb_unmap_info out;
        char why[200];
        assert_int_equal(swiotlb_tbl_unmap_single(&e->p, &dev, dma, 3000, DMA_FROM_DEVICE, DMA_ATTR_SKIP_CPU_SYNC,
                                                  &e->st, &out, why, sizeof(why)),
                         DMA_OK);
        assert_int_equal(out.copied, 0);
        assert_int_equal(e->p.used_slots, 0);
    }
    uint8_t want[PAGE_SIZE];
    memset(want, 0xC3, sizeof(want));
    assert_memory_equal(orig, want, sizeof(want)); /* every unmap above skipped the copy-out */
}

static void test_unmap_and_sync_refuse_what_is_not_a_mapping(void **state)
{
    struct env *e = *state;
    struct dma_dev dev = {.name = "d32", .dma_mask = DMA_BIT_MASK(32), .min_align_mask = 0xfff};
    uint64_t ophys;
    uint8_t *orig = fake_alloc_high(8192, &ophys);
    assert_non_null(orig);
    pool_with_memory(e, 16);
    struct swiotlb_map_info info;
    uint64_t o = ophys + 0x100;
    uint64_t dma = swiotlb_tbl_map_single(&e->p, &dev, o, 3000, DMA_FROM_DEVICE, 0, BOUNCE_ZERO, &e->st, &info);
    assert_int_equal(dma, e->p.start + 0x100);
    char why[200];
    uint64_t n;
    struct swiotlb_unmap_info u;
    /* Inside the mapping, before it (in its first slot), in its last slot's slack, in a free slot. */
    static const int64_t bad[] = {
        1, 2999, -1, -0x100, 3000, 3100, 4 * SWIOTLB_SLOT_SIZE, -0x100 + 16 * SWIOTLB_SLOT_SIZE - 1};
    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        why[0] = '\0';
        assert_int_equal(swiotlb_tbl_unmap_single(&e->p, &dev, dma + (uint64_t)bad[i], 3000, DMA_FROM_DEVICE, 0, &e->st,
                                                  &u, why, sizeof(why)),
                         DMA_REFUSED);
        assert_true(strlen(why) > 0);
        assert_int_equal(u.copied, 0);
        assert_int_equal(e->p.used_slots, 2);
    }
    /* Syncs: inside is fine, anything reaching out of [dma, dma + 3000) or of the wrong direction is not. */
    assert_int_equal(swiotlb_sync_single(&e->p, dma, 3000, DMA_FROM_DEVICE, true, &e->st, &n, why, sizeof(why)),
                     DMA_OK);
    assert_int_equal(n, 3000);
    assert_int_equal(swiotlb_sync_single(&e->p, dma + 100, 2900, DMA_FROM_DEVICE, true, &e->st, &n, why, sizeof(why)),
                     DMA_OK);
    assert_int_equal(n, 2900);
    assert_int_equal(swiotlb_sync_single(&e->p, dma + 100, 2900, DMA_FROM_DEVICE, false, &e->st, &n, why, sizeof(why)),
                     DMA_OK);
    assert_int_equal(n, 0); /* for_device copies nothing into a FROM_DEVICE slot */
    static const struct {
        int64_t off;
        size_t size;
        enum dma_data_direction dir;
    } bad_sync[] = {
        {100, 2901, DMA_FROM_DEVICE},
        {0, 3001, DMA_FROM_DEVICE},
        {0, 0, DMA_FROM_DEVICE},
        {-1, 10, DMA_FROM_DEVICE},
        {3000, 1, DMA_FROM_DEVICE},
        {2999, 2, DMA_FROM_DEVICE},
        {0, SIZE_MAX, DMA_FROM_DEVICE},
        {4 * SWIOTLB_SLOT_SIZE, 1, DMA_FROM_DEVICE},
        {0, 10, DMA_TO_DEVICE},
        {0, 10, DMA_BIDIRECTIONAL},
        {0, 10, DMA_NONE},
    };
    for (size_t i = 0; i < ARRAY_LEN(bad_sync); i++) {
        why[0] = '\0';
        assert_int_equal(swiotlb_sync_single(&e->p, dma + (uint64_t)bad_sync[i].off, bad_sync[i].size, bad_sync[i].dir,
                                             true, &e->st, &n, why, sizeof(why)),
                         DMA_REFUSED);
        assert_true(strlen(why) > 0);
        assert_int_equal(n, 0);
    }
    /* Wrong size and direction: reported (1), torn down as it was mapped (3000 bytes copied out). */
    memset(e->mem, 0xEE, PAGE_SIZE);
    assert_int_equal(swiotlb_tbl_unmap_single(&e->p, &dev, dma, 17, DMA_TO_DEVICE, 0, &e->st, &u, why, sizeof(why)),
                     DMA_MISMATCH);
    assert_true(strstr(why, "3000") != NULL);
    assert_int_equal(u.copied, 3000);
    assert_int_equal(u.mapped, 3000); /* what it was mapped as, not what the unmap said */
    assert_int_equal(u.orig_phys, o);
    assert_int_equal(orig[0x100], 0xEE);
    assert_int_equal(orig[0x100 + 2999], 0xEE);
    assert_int_equal(orig[0x100 + 3000], 0);
    assert_int_equal(orig[0xff], 0);
    assert_int_equal(e->p.used_slots, 0);
    assert_int_equal(swiotlb_orig_addr(&e->p, dma), 0);
    /* Now it is gone: a second unmap is refused. */
    assert_int_equal(swiotlb_tbl_unmap_single(&e->p, &dev, dma, 3000, DMA_FROM_DEVICE, 0, &e->st, &u, why, sizeof(why)),
                     DMA_REFUSED);
    assert_pool_ok(&e->p);
}

/* swiotlb_check() is what the other tests and the fuzzer lean on: it must see each kind of damage. */
static void test_check_detects_each_broken_invariant(void **state)
{
    struct env *e = *state;
    struct dma_dev dev = plain_dev();
    char why[256];
    pool_at(e, 100, FAKE_LOW_BASE);
    assert_int_equal(swiotlb_find_slots(&e->p, &dev, 0, 3 * SLOT), 0); /* slots 0-2 */
    assert_int_equal(swiotlb_find_slots(&e->p, &dev, 0, 100), 3);      /* slot 3 */
    for (int i = 0; i < 60; i++)
        assert_int_equal(swiotlb_find_slots(&e->p, &dev, 0, 1), 4 + i); /* word 0 full */
    assert_pool_ok(&e->p);

#define BREAK_AND_RESTORE(lvalue, bad)                        \
    do {                                                      \
        __typeof__(lvalue) saved_ = (lvalue);                 \
        (lvalue) = (bad);                                     \
        why[0] = '\0';                                        \
        assert_false(swiotlb_check(&e->p, why, sizeof(why))); \
        assert_true(strlen(why) > 0);                         \
        (lvalue) = saved_;                                    \
        assert_pool_ok(&e->p);                                \
    } while (0)

    BREAK_AND_RESTORE(e->p.used[0], e->p.used[0] & ~2ull);       /* used slot without its bit */
    BREAK_AND_RESTORE(e->p.head[1], e->p.head[1] | (1ull << 6)); /* a mapping starting at free slot 70 */
    BREAK_AND_RESTORE(e->p.used[1], e->p.used[1] | 1);           /* free slot with its bit */
    BREAK_AND_RESTORE(e->p.full[0], e->p.full[0] & ~1ull);       /* full word not summarised */
    BREAK_AND_RESTORE(e->p.full[0], e->p.full[0] | 2ull);        /* partial word summarised */
    BREAK_AND_RESTORE(e->p.used_slots, e->p.used_slots + 1);
    BREAK_AND_RESTORE(e->p.used[1], e->p.used[1] & ~(1ull << 50)); /* padding past slot 99 */
    BREAK_AND_RESTORE(e->p.meta[0].nslots, 2);                     /* slot 2 outside its owner's run */
    BREAK_AND_RESTORE(e->p.meta[0].size, 2 * SLOT);                /* 3 slots for 2 slots' worth of bytes */
    BREAK_AND_RESTORE(e->p.meta[0].size, 0);
    BREAK_AND_RESTORE(e->p.head[0], e->p.head[0] | 2ull);  /* a head inside the run of the one at 0 */
    BREAK_AND_RESTORE(e->p.head[0], e->p.head[0] & ~1ull); /* used slots 0-2 held by no mapping */
    BREAK_AND_RESTORE(e->p.meta[1].nslots, 1);             /* meta of a slot that is no head */
    BREAK_AND_RESTORE(e->p.meta[3].nslots, 0);

    /* A hole: slot 1 of the 3-slot mapping at 0 released behind its back, with the bitmap, the
     * summary and the count all consistent with each other. The mapping no longer holds
     * meta.nslots slots: "its meta.nslots slots have their used bits set" is broken. */
    e->p.used[0] &= ~2ull;
    e->p.full[0] &= ~1ull;
    e->p.used_slots--;
    why[0] = '\0';
    assert_false(swiotlb_check(&e->p, why, sizeof(why)));
    assert_true(strlen(why) > 0);
#undef BREAK_AND_RESTORE
}

/* ---- randomized, against a reference model ---- */

#define RMAX_SLOTS 8200
#define RMAX_LIVE 8200

struct rmodel {
    uint32_t owner[RMAX_SLOTS];   /* first slot + 1 of the mapping holding slot i, 0 free */
    uint32_t run[RMAX_SLOTS + 1]; /* scratch: free slots starting at i */
    uint32_t live[RMAX_LIVE];     /* first slots of the live mappings */
    uint32_t nlive, used, high_water;
};

/* The rules of swiotlb.h, in addresses: would the mapping fit with its first slot at c? */
static bool rule_ok(const struct swiotlb_pool *p, const struct dma_dev *dev, uint64_t orig, size_t size, uint64_t c,
                    const uint32_t *run)
{
    uint64_t mask = dev->min_align_mask, off = orig & mask & (SLOT - 1);
    uint64_t n = (off + size + SLOT - 1) / SLOT;
    if (size == 0 || size > MAX_MAP || n > SWIOTLB_MAX_MAPPING_SLOTS || c + n > p->nslots)
        return false;
    if (run != NULL && run[c] < n)
        return false;
    uint64_t a = p->start + c * SLOT, last = a + n * SLOT - 1, dma = a + off;
    if ((dma & mask) != (orig & mask))
        return false;
    if (mask == 0 && size >= PAGE_SIZE && dma % PAGE_SIZE != 0)
        return false;
    if (last > dev->dma_mask)
        return false;
    if (dev->seg_boundary_mask && (a & ~dev->seg_boundary_mask) != (last & ~dev->seg_boundary_mask))
        return false;
    return true;
}

static void rmodel_runs(struct rmodel *m, uint32_t nslots)
{
    m->run[nslots] = 0;
    for (uint32_t i = nslots; i-- > 0;)
        m->run[i] = m->owner[i] ? 0 : m->run[i + 1] + 1;
}

static struct dma_dev random_dev(struct rng *r, const struct swiotlb_pool *p)
{
    static const uint64_t bounds[] = {
        0, 0, 0, 0x7ff, 0xfff, 0x1fff, 0x3fff, 0xffff, 0xfffff, DMA_BIT_MASK(32), DMA_BIT_MASK(64)};
    static const uint32_t aligns[] = {0, 0, 0, 0x7ff, 0xfff, 0xfff, 0x1fff, 0x3fff, 0xffff};
    struct dma_dev d = {.name = "rand"};
    switch (rng_below(r, 6)) {
    case 0: d.dma_mask = DMA_BIT_MASK(64); break;
    case 1: d.dma_mask = DMA_BIT_MASK(32); break;
    case 2: d.dma_mask = p->start + (1 + rng_below(r, p->nslots)) * SLOT - 1; break;                /* ends on a slot */
    case 3: d.dma_mask = p->start + rng_below(r, p->nslots) * SLOT + rng_below(r, SLOT - 1); break; /* inside one */
    case 4: d.dma_mask = p->start - 1; break;                                                       /* below the pool */
    default: d.dma_mask = DMA_BIT_MASK(64); break;
    }
    d.seg_boundary_mask = bounds[rng_below(r, ARRAY_LEN(bounds))];
    d.min_align_mask = aligns[rng_below(r, ARRAY_LEN(aligns))];
    return d;
}

static size_t random_size(struct rng *r)
{
    switch (rng_below(r, 8)) {
    case 0: return 1 + rng_below(r, 64);
    case 1: return 1 + rng_below(r, SLOT);
    case 2: return PAGE_SIZE;
    case 3: return SLOT + 1 + rng_below(r, 3 * SLOT);
    case 4: return 1 + rng_below(r, 32 * SLOT);
    case 5: return rng_one_in(r, 4) ? MAX_MAP : MAX_MAP - rng_below(r, 3 * SLOT);
    case 6: return rng_one_in(r, 8) ? 0 : MAX_MAP + 1 + rng_below(r, PAGE_SIZE);
    default: return 1 + rng_below(r, MAX_MAP);
    }
}

static void rmodel_check(const struct rmodel *m, const struct swiotlb_pool *p)
{
    char why[256] = "";
    if (!swiotlb_check(p, why, sizeof(why)))
        fail_msg("swiotlb_check: %s; seed=%llu (rerun with BOUNCE_TEST_SEED=%llu)", why, test_seed(), test_seed());
    RAND_ASSERT(p->used_slots == m->used);
    RAND_ASSERT(p->high_water == m->high_water);
    for (uint32_t i = 0; i < p->nslots; i++)
        RAND_ASSERT(swiotlb_slot_owner(p, i) == m->owner[i]);
}

static void rand_find(struct rmodel *m, struct swiotlb_pool *p, const struct dma_dev *dev, struct rng *r)
{
    uint64_t orig = rng_next(r) & DMA_BIT_MASK(44);
    size_t size = random_size(r);
    int64_t c = swiotlb_find_slots(p, dev, orig, size);
    rmodel_runs(m, p->nslots);
    if (c < 0) {
        /* A failure is only allowed when no placement in the whole pool satisfies every rule. */
        for (uint64_t k = 0; k < p->nslots; k++)
            if (rule_ok(p, dev, orig, size, k, m->run))
                fail_msg("find_slots(orig %#" PRIx64 ", size %zu, mask %#" PRIx64 ", boundary %#" PRIx64
                         ", align %#x) failed, but slot %" PRIu64 " "
                         "fits (pool %u slots at %#" PRIx64 ", %u used); seed=%llu",
                         orig, size, dev->dma_mask, dev->seg_boundary_mask, dev->min_align_mask, k, p->nslots, p->start,
                         p->used_slots, test_seed());
        return;
    }
    /* A success: every rule holds and every slot was free. */
    uint64_t off = orig & dev->min_align_mask & (SLOT - 1);
    uint32_t n = slots_for(off, size);
    RAND_ASSERT((uint64_t)c < p->nslots);
    RAND_ASSERT(rule_ok(p, dev, orig, size, (uint64_t)c, m->run));
    RAND_ASSERT(p->meta[c].nslots == n && p->meta[c].offset == off && p->meta[c].size == size &&
                p->meta[c].orig_phys == orig);
    for (uint32_t k = 0; k < n; k++)
        m->owner[c + k] = (uint32_t)c + 1;
    m->live[m->nlive++] = (uint32_t)c;
    m->used += n;
    if (m->used > m->high_water)
        m->high_water = m->used;
}

static void rand_release(struct rmodel *m, struct swiotlb_pool *p, struct rng *r)
{
    if (m->nlive == 0)
        return;
    uint32_t k = (uint32_t)rng_below(r, m->nlive), c = m->live[k];
    uint32_t n = p->meta[c].nslots;
    m->live[k] = m->live[--m->nlive];
    swiotlb_release_slots(p, c);
    for (uint32_t i = 0; i < n; i++) {
        RAND_ASSERT(m->owner[c + i] == c + 1);
        m->owner[c + i] = 0;
    }
    m->used -= n;
}

static void test_random_ops_match_reference_model(void **state)
{
    struct env *e = *state;
    static struct rmodel model;
    static const uint32_t sizes[] = {1,   2,   3,   5,   8,   17,  31,  63,   64,   65,
                                     100, 127, 128, 129, 200, 300, 512, 1000, 4100, 8195};
    struct rng rng = rng_begin();
    uint64_t finds = 0, fails = 0, releases = 0;
    for (int round = 0; round < 40; round++) {
        struct rmodel *m = &model;
        memset(m, 0, sizeof(*m));
        uint32_t nslots = sizes[rng_below(&rng, ARRAY_LEN(sizes))];
        /* Anywhere 4 KiB-aligned below 3 GiB: the pool start's alignment varies, so do the residues. */
        uint64_t phys = (1 + rng_below(&rng, 0xC0000)) * PAGE_SIZE;
        pool_at(e, nslots, phys);
        struct dma_dev devs[4];
        for (int d = 0; d < 4; d++)
            devs[d] = random_dev(&rng, &e->p);
        int ops = nslots > 1000 ? 3000 : 800;
        for (int op = 0; op < ops; op++) {
            /* Alternate filling and draining phases, so the pool is both nearly full and nearly empty. */
            uint64_t find_pct = (op / 200) % 2 ? 85 : 35;
            if (rng_one_in(&rng, 50))
                devs[rng_below(&rng, 4)] = random_dev(&rng, &e->p);
            if (rng_below(&rng, 100) < find_pct) {
                uint32_t before = m->nlive;
                rand_find(m, &e->p, &devs[rng_below(&rng, 4)], &rng);
                finds++;
                fails += m->nlive == before;
            } else {
                rand_release(m, &e->p, &rng);
                releases++;
            }
            rmodel_check(m, &e->p);
        }
        while (m->nlive > 0)
            rand_release(m, &e->p, &rng);
        rmodel_check(m, &e->p);
        RAND_ASSERT(e->p.used_slots == 0);
    }
    print_message("# %llu finds (%llu failed), %llu releases\n", (unsigned long long)finds, (unsigned long long)fails,
                  (unsigned long long)releases);
    RAND_ASSERT(fails > 0 && fails < finds);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_meta_bytes_cover_every_table),
        T(test_init_rejects_bad_arguments),
        T(test_tiny_and_odd_pools_hand_out_exactly_their_slots),
        T(test_100_slot_pool_never_hands_out_padding),
        T(test_multislot_mappings_are_contiguous_and_sized),
        T(test_page_sized_mappings_start_page_aligned),
        T(test_min_align_mask_preserves_the_offset_bits),
        T(test_segment_boundary_is_never_crossed),
        T(test_all_ones_segment_boundary_limits_nothing),
        T(test_next_fit_wraps_around),
        T(test_dma_mask_limits_the_reachable_slots),
        T(test_fragmented_pool_fails_only_without_a_run),
        T(test_large_pool_finds_the_last_free_slot),
        T(test_exhaustion_fails_cleanly_and_recovers),
        T(test_parked_slots_belong_to_no_mapping),
        T(test_parked_slots_only_where_the_search_would_place),
        T(test_from_device_fill_per_policy),
        T(test_unmap_and_sync_refuse_what_is_not_a_mapping),
        T(test_check_detects_each_broken_invariant),
        T(test_random_ops_match_reference_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
