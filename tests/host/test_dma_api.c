/* SPDX-License-Identifier: MIT */
/* test_dma_api.c - host unit tests for the DMA API (dma/dma.h) over the fake platform.
 *
 * The fake platform (tools/hostlib/dma_fake_platform.h) gives buffers made-up physical addresses
 * below 4 GiB ("low": a 32-bit device reaches them) or above ("high": it does not). A "fake
 * device" reads and writes through the DMA address it was given: phys_to_virt(dma_addr) is the
 * bounce slot for a bounced mapping and the original itself for a direct one. Each test then
 * asserts exactly what the CPU sees in the original, and the counters.
 *
 * Misuse messages are printed on stdout by dma/mapping.c ("dma: MISUSE by ..."); TAP readers
 * ignore those lines.
 */
#define _GNU_SOURCE /* REG_ERR in <ucontext.h> */
#include "tests/host/host_test.h"

#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>

#include "dma/dma.h"
#include "dma/dma_internal.h"
#include "dma/dma_platform.h"
#include "dma/swiotlb.h"
#include "tools/hostlib/dma_fake_platform.h"
#include "lib/units.h"

#define SLOT ((size_t)SWIOTLB_SLOT_SIZE)

/* ---- fixture and helpers ---- */

static void watch_stop(void);

static int setup(void **state)
{
    (void)state;
    return 0;
}

/* Every test brings the layer up itself (pool size and policy vary); this always takes it down. */
static int teardown(void **state)
{
    (void)state;
    watch_stop();
    dma_shutdown();
    fake_platform_reset();
    return 0;
}

static void start(size_t pool_bytes, enum bounce_policy policy)
{
    assert_int_equal(dma_init(fake_platform(), pool_bytes, policy), 0);
}

static void restart(size_t pool_bytes, enum bounce_policy policy)
{
    dma_shutdown();
    fake_platform_reset();
    start(pool_bytes, policy);
}

static struct dma_stats now(void)
{
    struct dma_stats s;
    dma_get_stats(&s);
    return s;
}

static void pool_ok(void)
{
    char why[256] = "";
    const struct swiotlb_pool *p = dma_installed_pool();
    if (p != NULL && !swiotlb_check(p, why, sizeof(why)))
        fail_msg("swiotlb_check: %s", why);
}

static uint64_t pool_start(void)
{
    assert_non_null(dma_installed_pool());
    return dma_installed_pool()->start;
}

static bool in_pool(dma_addr_t a) { return swiotlb_contains(dma_installed_pool(), a); }

/* What the device sees at a DMA address. */
static uint8_t *bus(dma_addr_t a) { return fake_platform()->phys_to_virt(a); }

struct buf {
    uint8_t *v;
    uint64_t phys;
    size_t len;
};

static struct buf buf_high(size_t len, int fill)
{
    struct buf b = {.len = len};
    b.v = fake_alloc_high(len, &b.phys);
    assert_non_null(b.v);
    memset(b.v, fill, len);
    return b;
}

static struct buf buf_low(size_t len, int fill)
{
    struct buf b = {.len = len};
    b.v = fake_alloc_low(len, &b.phys);
    assert_non_null(b.v);
    memset(b.v, fill, len);
    return b;
}

/* Every byte of [p, p + n) is `want`; otherwise fail naming `what` and the first wrong byte. */
static void expect_fill(const char *what, const uint8_t *p, size_t n, int want)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != (uint8_t)want)
            fail_msg("%s: byte %zu is %#x, expected %#x", what, i, p[i], (uint8_t)want);
}

static void expect_bytes(const char *what, const uint8_t *got, const uint8_t *want, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (got[i] != want[i])
            fail_msg("%s: byte %zu is %#x, expected %#x", what, i, got[i], want[i]);
}

static void expect_u64(const char *what, const char *counter, uint64_t got, uint64_t want)
{
    if (got != want)
        fail_msg("%s: %s is %" PRIu64 ", expected %" PRIu64, what, counter, got, want);
}

/* stmt must be reported as exactly one misuse by dev, leaving the pool consistent. */
#define EXPECT_MISUSE(dev, stmt)                                                        \
    do {                                                                                \
        uint64_t misuse0_ = now().misuse;                                               \
        stmt;                                                                           \
        assert_int_equal(now().misuse, misuse0_ + 1);                                   \
        assert_true(strncmp(dma_last_misuse(), (dev)->name, strlen((dev)->name)) == 0); \
        assert_true(strlen(dma_last_misuse()) > strlen((dev)->name) + 2);               \
        pool_ok();                                                                      \
    } while (0)

#define EXPECT_NO_MISUSE(stmt)                    \
    do {                                          \
        uint64_t misuse0_ = now().misuse;         \
        stmt;                                     \
        assert_int_equal(now().misuse, misuse0_); \
        pool_ok();                                \
    } while (0)

static struct dma_dev dev32 = {.name = "nic32", .dma_mask = DMA_BIT_MASK(32)};
static struct dma_dev dev64 = {.name = "nvme64", .dma_mask = DMA_BIT_MASK(64)};

/* ---- init ---- */

static void test_init_and_pool_size(void **state)
{
    (void)state;
    assert_int_equal(dma_init(fake_platform(), 3000, BOUNCE_ZERO), -1); /* not a multiple of 2 KiB */
    assert_null(dma_installed_pool());
    assert_int_equal(dma_init(fake_platform(), 100 * SLOT, BOUNCE_COPY), 0);
    assert_int_equal(now().slots_total, 100);
    assert_int_equal(dma_bounce_policy(), BOUNCE_COPY);
    assert_true(pool_start() + 100 * SLOT <= DMA_BIT_MASK(32)); /* the pool is below 4 GiB */
    pool_ok();
    restart(0, BOUNCE_ZERO); /* no pool at all: direct mappings only */
    assert_null(dma_installed_pool());
    struct buf lo = buf_low(PAGE_SIZE, 1), hi = buf_high(PAGE_SIZE, 2);
    dma_addr_t a = dma_map_single(&dev32, lo.v, PAGE_SIZE, DMA_TO_DEVICE);
    assert_int_equal(a, lo.phys);
    assert_true(dma_mapping_error(&dev32, dma_map_single(&dev32, hi.v, PAGE_SIZE, DMA_TO_DEVICE)));
    assert_int_equal(now().map_failures, 1);
    EXPECT_NO_MISUSE(dma_unmap_single(&dev32, a, PAGE_SIZE, DMA_TO_DEVICE));
}

/* ---- direct or bounce ---- */

static void test_bounce_only_when_unreachable_or_forced(void **state)
{
    (void)state;
    start(64 * SLOT, BOUNCE_ZERO);
    struct buf lo = buf_low(KiB(8), 0x11), hi = buf_high(KiB(8), 0x22);
    struct dma_dev forced = {.name = "forced", .dma_mask = DMA_BIT_MASK(64), .force_bounce = true};
    struct dma_dev narrow = {.name = "narrow",
                             .dma_mask = lo.phys + (PAGE_SIZE - 1)}; /* reaches lo's first page only */
    const struct {
        const char *what;
        struct dma_dev *dev;
        struct buf *b;
        size_t size;
        bool platform_force, bounce;
    } cases[] = {
        {"32-bit device, low buffer", &dev32, &lo, KiB(8), false, false},
        {"32-bit device, high buffer", &dev32, &hi, KiB(8), false, true},
        {"64-bit device, high buffer", &dev64, &hi, KiB(8), false, false},
        {"64-bit device, low buffer", &dev64, &lo, KiB(8), false, false},
        {"forced device, low buffer", &forced, &lo, KiB(8), false, true},
        {"forced device, high buffer", &forced, &hi, 100, false, true},
        {"forcing platform, 64-bit device, high", &dev64, &hi, KiB(8), true, true},
        {"forcing platform, 32-bit device, low", &dev32, &lo, 1, true, true},
        {"mask ends inside the buffer", &narrow, &lo, KiB(8), false, true},
        {"mask covers the mapping exactly", &narrow, &lo, PAGE_SIZE, false, false},
        {"mask one byte short", &narrow, &lo, 4097, false, true},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        fake_platform()->force_bounce = cases[i].platform_force;
        struct dma_stats s0 = now();
        dma_addr_t a = dma_map_single(cases[i].dev, cases[i].b->v, cases[i].size, DMA_TO_DEVICE);
        assert_false(dma_mapping_error(cases[i].dev, a));
        struct dma_stats s1 = now();
        expect_u64(cases[i].what, "maps", s1.maps, s0.maps + 1);
        expect_u64(cases[i].what, "bytes_mapped", s1.bytes_mapped, s0.bytes_mapped + cases[i].size);
        if (cases[i].bounce) {
            if (!in_pool(a))
                fail_msg("%s: %#" PRIx64 " is not a bounce address", cases[i].what, a);
            expect_u64(cases[i].what, "bounced_maps", s1.bounced_maps, s0.bounced_maps + 1);
            expect_u64(cases[i].what, "bytes_bounced", s1.bytes_bounced, s0.bytes_bounced + cases[i].size);
            assert_true(s1.slots_in_use > 0);
            expect_bytes(cases[i].what, bus(a), cases[i].b->v, cases[i].size);
        } else {
            /* Direct: the DMA address is the physical address, and no slot is touched. */
            expect_u64(cases[i].what, "dma address", a, cases[i].b->phys);
            expect_u64(cases[i].what, "bounced_maps", s1.bounced_maps, s0.bounced_maps);
            expect_u64(cases[i].what, "slots_in_use", s1.slots_in_use, 0);
            expect_u64(cases[i].what, "bytes_copied_in", s1.bytes_copied_in, s0.bytes_copied_in);
            expect_u64(cases[i].what, "orig_bytes_read", s1.orig_bytes_read, s0.orig_bytes_read);
        }
        EXPECT_NO_MISUSE(dma_unmap_single(cases[i].dev, a, cases[i].size, DMA_TO_DEVICE));
        expect_u64(cases[i].what, "slots_in_use after unmap", now().slots_in_use, 0);
    }
    fake_platform()->force_bounce = false;
    /* dma_map_page takes the same decision. */
    dma_addr_t a = dma_map_page(&dev32, hi.phys, 100, 200, DMA_TO_DEVICE);
    assert_true(in_pool(a));
    expect_bytes("map_page", bus(a), hi.v + 100, 200);
    EXPECT_NO_MISUSE(dma_unmap_page(&dev32, a, 200, DMA_TO_DEVICE));
    a = dma_map_page(&dev32, lo.phys, 100, 200, DMA_TO_DEVICE);
    assert_int_equal(a, lo.phys + 100);
    EXPECT_NO_MISUSE(dma_unmap_page(&dev32, a, 200, DMA_TO_DEVICE));

    assert_true(dma_capable(&dev32, 0xfffff000, PAGE_SIZE));
    assert_false(dma_capable(&dev32, 0xfffff000, 4097));
    assert_false(dma_capable(&dev32, 0x1000, 0));
    assert_false(dma_capable(&dev64, ~0ull - 10, 100)); /* wraps around */
}

/* ---- what a FROM_DEVICE/TO_DEVICE/BIDIRECTIONAL bounce gives back, per policy ---- */

struct write_pattern {
    const char *name;
    size_t from, len; /* the stretch the device writes */
};

static const struct write_pattern patterns[] = {
    {"all", 0, 3000}, {"first half", 0, 1500}, {"middle", 1000, 1000}, {"none", 0, 0}, {"last byte", 2999, 1},
};

#define STALE 0x5A  /* what the previous user of the slots left there */
#define ORIG 0xC3   /* the original's contents */
#define DEVICE 0xD7 /* what the device writes */
#define GUARD 0x11  /* around the original: must never change */

static void fill_case(enum bounce_policy policy, enum dma_data_direction dir, const struct write_pattern *pat)
{
    const size_t n = 3000, off = 0x123;
    char what[128];
    snprintf(what, sizeof(what), "policy %s, %s, device writes %s", bounce_policy_name(policy), dma_dir_name(dir),
             pat->name);
    /* A pool of exactly the mapping's 2 slots, so every mapping lands on the same slots. */
    restart(2 * SLOT, policy);
    /* The previous user maps under the copy policy, so its data stays in the slots (the zero
     * policy would have cleared them at its unmap) and this map finds them dirty. */
    dma_set_bounce_policy(BOUNCE_COPY);
    struct buf stale = buf_high(n, STALE);
    dma_addr_t s = dma_map_single(&dev32, stale.v, n, DMA_TO_DEVICE);
    assert_int_equal(s, pool_start());
    dma_unmap_single(&dev32, s, n, DMA_TO_DEVICE);
    dma_set_bounce_policy(policy);

    struct buf o = buf_high(off + n + 100, GUARD);
    memset(o.v + off, ORIG, n);
    dma_stats_reset();
    dma_addr_t a = dma_map_single(&dev32, o.v + off, n, dir);
    assert_int_equal(a, s);

    bool to = dir == DMA_TO_DEVICE, from = dir == DMA_FROM_DEVICE;
    /* What the slot holds when the device gets it. */
    int slot = !from ? ORIG : policy == BOUNCE_ZERO ? 0 : policy == BOUNCE_COPY ? ORIG : STALE;
    expect_fill(what, bus(a), n, slot);
    struct dma_stats m = now();
    uint64_t copied_in = (!from || policy == BOUNCE_COPY) ? n : 0;
    expect_u64(what, "bytes_copied_in", m.bytes_copied_in, copied_in);
    expect_u64(what, "orig_bytes_read", m.orig_bytes_read, copied_in);
    /* The zero policy zeroes the (dirty) slots whole when the device will write them, so that its
     * unmap can leave them clean; a TO_DEVICE mapping zeroes nothing. */
    expect_u64(what, "bytes_zeroed", m.bytes_zeroed, policy == BOUNCE_ZERO && !to ? 2 * SLOT : 0);
    expect_u64(what, "bytes_copied_out", m.bytes_copied_out, 0);
    expect_u64(what, "slots_in_use", m.slots_in_use, 2);
    expect_fill(what, o.v + off, n, ORIG); /* mapping changes nothing in the original */

    memset(bus(a) + pat->from, DEVICE, pat->len);
    dma_unmap_single(&dev32, a, n, dir);

    uint8_t want[3000];
    for (size_t i = 0; i < n; i++) {
        bool written = i >= pat->from && i < pat->from + pat->len;
        want[i] = to ? ORIG : written ? DEVICE : from ? (uint8_t)slot : ORIG;
    }
    expect_bytes(what, o.v + off, want, n);
    expect_fill(what, o.v, off, GUARD);
    expect_fill(what, o.v + off + n, 100, GUARD);
    struct dma_stats u = now();
    expect_u64(what, "bytes_copied_out", u.bytes_copied_out, to ? 0 : n);
    /* ... and clears them again when the mapping goes. */
    expect_u64(what, "bytes_zeroed", u.bytes_zeroed, policy == BOUNCE_ZERO && !to ? 4 * SLOT : 0);
    if (policy == BOUNCE_ZERO && !to)
        expect_fill(what, bus(a), 2 * SLOT, 0);
    expect_u64(what, "bytes_copied_in", u.bytes_copied_in, copied_in);
    expect_u64(what, "orig_bytes_read", u.orig_bytes_read, copied_in);
    expect_u64(what, "maps", u.maps, 1);
    expect_u64(what, "unmaps", u.unmaps, 1);
    expect_u64(what, "bounced_maps", u.bounced_maps, 1);
    expect_u64(what, "bytes_bounced", u.bytes_bounced, n);
    expect_u64(what, "slots_in_use", u.slots_in_use, 0);
    expect_u64(what, "slots_high_water", u.slots_high_water, 2);
    expect_u64(what, "misuse", u.misuse, 0);
    pool_ok();
}

static void test_every_policy_direction_and_write_pattern(void **state)
{
    (void)state;
    static const enum bounce_policy policies[] = {BOUNCE_ZERO, BOUNCE_COPY, BOUNCE_NONE};
    static const enum dma_data_direction dirs[] = {DMA_TO_DEVICE, DMA_FROM_DEVICE, DMA_BIDIRECTIONAL};
    for (size_t p = 0; p < ARRAY_LEN(policies); p++)
        for (size_t d = 0; d < ARRAY_LEN(dirs); d++)
            for (size_t w = 0; w < ARRAY_LEN(patterns); w++)
                fill_case(policies[p], dirs[d], &patterns[w]);
}

/* ---- exact completion: dma_unmap_*_written ---- */

/* The device writes the first min(claimed, n) bytes and the driver reports `claimed`. Against the
 * byte model: the original gets exactly the written bytes, every other byte keeps its value
 * (ORIG), whatever the policy put in the slots; more than was mapped is clamped and is misuse,
 * and so is anything "written" into a TO_DEVICE mapping. The slots are left dirty with STALE by
 * an earlier TO_DEVICE mapping, so what the map puts in them can be seen: with
 * DMA_ATTR_EXACT_COMPLETION nothing (the device finds STALE and no byte is zeroed, map or
 * unmap), without it what the policy says. Either way STALE never reaches the original. */
#define STALE 0x5A
static void exact_case(enum bounce_policy policy, enum dma_data_direction dir, unsigned attrs, size_t claimed)
{
    const size_t n = 3000, off = 0x123;
    char what[128];
    snprintf(what, sizeof(what), "exact: policy %s, %s,%s device wrote %zu", bounce_policy_name(policy),
             dma_dir_name(dir), attrs ? " EXACT_COMPLETION," : "", claimed);
    restart(2 * SLOT, policy);
    struct buf stale = buf_high(n, STALE);
    dma_unmap_single(&dev32, dma_map_single(&dev32, stale.v, n, DMA_TO_DEVICE), n, DMA_TO_DEVICE);
    struct buf o = buf_high(off + n + 100, GUARD);
    memset(o.v + off, ORIG, n);
    dma_stats_reset();
    dma_addr_t a = dma_map_single_attrs(&dev32, o.v + off, n, dir, attrs);
    assert_true(in_pool(a));
    bool exact_fromdev = attrs && dir == DMA_FROM_DEVICE;
    if (exact_fromdev && policy != BOUNCE_COPY) { /* not zeroed, not read: the slot is as it was left */
        expect_fill(what, bus(a), n, STALE);
        expect_u64(what, "bytes_zeroed at map", now().bytes_zeroed, 0);
        expect_u64(what, "orig_bytes_read", now().orig_bytes_read, 0);
    }
    size_t w = dir == DMA_TO_DEVICE ? 0 : claimed < n ? claimed : n;
    memset(bus(a), DEVICE, w);
    bool lie = (dir == DMA_TO_DEVICE && claimed) || claimed > n;
    uint64_t misuse0 = now().misuse, zeroed0 = now().bytes_zeroed;
    dma_unmap_single_written(&dev32, a, n, dir, claimed);
    expect_u64(what, "misuse", now().misuse - misuse0, lie);

    uint8_t want[3000];
    for (size_t i = 0; i < n; i++)
        want[i] = i < w ? DEVICE : ORIG;
    expect_bytes(what, o.v + off, want, n);
    expect_fill(what, o.v, off, GUARD);
    expect_fill(what, o.v + off + n, 100, GUARD);
    struct dma_stats u = now();
    expect_u64(what, "bytes_copied_out", u.bytes_copied_out, w);
    expect_u64(what, "exact_unmaps", u.exact_unmaps, 1);
    expect_u64(what, "bytes_not_written", u.bytes_not_written, dir == DMA_TO_DEVICE ? 0 : n - w);
    expect_u64(what, "slots_in_use", u.slots_in_use, 0);
    if (attrs) /* one memcpy of what was written, nothing cleared */
        expect_u64(what, "bytes_zeroed at unmap", u.bytes_zeroed - zeroed0, 0);
    pool_ok(); /* clean slots hold only zeros */
    /* The next user of the slots under the zero policy still gets zeros, exact completion or not;
     * and completed without a length, it brings no STALE byte into its original. */
    if (policy == BOUNCE_ZERO) {
        memset(o.v + off, ORIG, n);
        dma_addr_t b = dma_map_single(&dev32, o.v + off, n, DMA_FROM_DEVICE);
        expect_fill(what, bus(b), n, 0);
        dma_unmap_single(&dev32, b, n, DMA_FROM_DEVICE);
        expect_fill(what, o.v + off, n, 0);
    }
}

static void test_exact_completion_copies_back_what_was_written_and_nothing_else(void **state)
{
    (void)state;
    static const enum bounce_policy policies[] = {BOUNCE_ZERO, BOUNCE_COPY, BOUNCE_NONE};
    static const enum dma_data_direction dirs[] = {DMA_TO_DEVICE, DMA_FROM_DEVICE, DMA_BIDIRECTIONAL};
    static const unsigned attrs[] = {0, DMA_ATTR_EXACT_COMPLETION};
    static const size_t lengths[] = {0, 1, 1500, SWIOTLB_SLOT_SIZE, 2999, 3000, 3500, SIZE_MAX - 1};
    for (size_t p = 0; p < ARRAY_LEN(policies); p++)
        for (size_t d = 0; d < ARRAY_LEN(dirs); d++)
            for (size_t x = 0; x < ARRAY_LEN(attrs); x++)
                for (size_t l = 0; l < ARRAY_LEN(lengths); l++)
                    exact_case(policies[p], dirs[d], attrs[x], lengths[l]);
}

/* A mapping made for exact completion and completed without a length broke its promise: misuse,
 * and the whole mapping goes back (no byte the device wrote is lost; the rest is what the slot
 * held). The same unmap with SKIP_CPU_SYNC copies nothing and is no misuse - a failed sg map
 * undoes its entries that way. */
static void test_exact_completion_mapping_unmapped_without_a_length_is_misuse(void **state)
{
    (void)state;
    start(4 * SLOT, BOUNCE_ZERO);
    struct buf o = buf_high(PAGE_SIZE, ORIG);
    dma_addr_t a = dma_map_single_attrs(&dev32, o.v, PAGE_SIZE, DMA_FROM_DEVICE, DMA_ATTR_EXACT_COMPLETION);
    memset(bus(a), DEVICE, PAGE_SIZE);
    EXPECT_MISUSE(&dev32, dma_unmap_single(&dev32, a, PAGE_SIZE, DMA_FROM_DEVICE));
    assert_non_null(strstr(dma_last_misuse(), "exact completion"));
    expect_fill("exact mapping unmapped whole", o.v, PAGE_SIZE, DEVICE);
    a = dma_map_single_attrs(&dev32, o.v, PAGE_SIZE, DMA_FROM_DEVICE, DMA_ATTR_EXACT_COMPLETION);
    EXPECT_NO_MISUSE(dma_unmap_single_attrs(&dev32, a, PAGE_SIZE, DMA_FROM_DEVICE, DMA_ATTR_SKIP_CPU_SYNC));
    a = dma_map_single_attrs(&dev32, o.v, PAGE_SIZE, DMA_TO_DEVICE, DMA_ATTR_EXACT_COMPLETION);
    EXPECT_NO_MISUSE(dma_unmap_single(&dev32, a, PAGE_SIZE, DMA_TO_DEVICE)); /* nothing to copy back */
}

/* A scatterlist: the total fills the entries in order; direct entries have nothing to copy. */
static void test_exact_completion_of_a_scatterlist_fills_entries_in_order(void **state)
{
    (void)state;
    start(32 * SLOT, BOUNCE_ZERO);
    struct buf a = buf_high(3000, ORIG), b = buf_low(2000, ORIG), c = buf_high(4000, ORIG);
    struct scatterlist sg[3] = {
        {.phys = a.phys, .length = 3000}, {.phys = b.phys, .length = 2000}, {.phys = c.phys, .length = 4000}};
    assert_int_equal(dma_map_sg(&dev32, sg, 3, DMA_FROM_DEVICE), 3);
    assert_true(in_pool(sg[0].dma_address) && !in_pool(sg[1].dma_address) && in_pool(sg[2].dma_address));
    memset(bus(sg[0].dma_address), DEVICE, 3000);
    memset(b.v, DEVICE, 2000); /* direct: the device writes the original itself */
    memset(bus(sg[2].dma_address), DEVICE, 1000);
    EXPECT_NO_MISUSE(dma_unmap_sg_written(&dev32, sg, 3, DMA_FROM_DEVICE, 6000));
    expect_fill("sg entry 0", a.v, 3000, DEVICE);
    expect_fill("sg entry 1", b.v, 2000, DEVICE);
    expect_fill("sg entry 2 written", c.v, 1000, DEVICE);
    expect_fill("sg entry 2 not written", c.v + 1000, 3000, ORIG);
    assert_int_equal(now().bytes_copied_out, 4000);
    assert_int_equal(now().bytes_not_written, 3000);
    /* A total beyond the list is clamped and reported once. */
    assert_int_equal(dma_map_sg(&dev32, sg, 3, DMA_FROM_DEVICE), 3);
    EXPECT_MISUSE(&dev32, dma_unmap_sg_written(&dev32, sg, 3, DMA_FROM_DEVICE, 10000));
}

/* A direct mapping has no slot: the device writes the original itself, whatever the policy. */
static void test_direct_mappings_ignore_the_policy(void **state)
{
    (void)state;
    static const enum bounce_policy policies[] = {BOUNCE_ZERO, BOUNCE_COPY, BOUNCE_NONE};
    for (size_t p = 0; p < ARRAY_LEN(policies); p++) {
        restart(16 * SLOT, policies[p]);
        struct buf o = buf_high(3000, ORIG);
        dma_addr_t a = dma_map_single(&dev64, o.v, 3000, DMA_FROM_DEVICE);
        assert_int_equal(a, o.phys);
        assert_ptr_equal(bus(a), o.v);
        expect_fill("direct map", o.v, 3000, ORIG);
        memset(bus(a) + 1000, DEVICE, 1000);
        EXPECT_NO_MISUSE(dma_unmap_single(&dev64, a, 3000, DMA_FROM_DEVICE));
        expect_fill("direct unmap", o.v, 1000, ORIG);
        expect_fill("direct unmap", o.v + 1000, 1000, DEVICE);
        expect_fill("direct unmap", o.v + 2000, 1000, ORIG);
        struct dma_stats s = now();
        assert_int_equal(s.bytes_copied_in + s.bytes_copied_out + s.bytes_zeroed + s.orig_bytes_read, 0);
        assert_int_equal(s.bounced_maps, 0);
    }
}

/* The `none` policy is a real leak: a FROM_DEVICE mapping on slots a previous user filled gives
 * that user's data to whoever owns the new original, wherever the device does not write. */
static void test_none_policy_leaks_the_previous_users_data(void **state)
{
    (void)state;
    static const enum bounce_policy policies[] = {BOUNCE_NONE, BOUNCE_ZERO, BOUNCE_COPY};
    const size_t n = 4 * SLOT;
    for (size_t p = 0; p < ARRAY_LEN(policies); p++) {
        restart(n, policies[p]); /* a pool of exactly 4 slots: both mappings land on them */
        struct buf secret = buf_high(n, 0);
        for (size_t i = 0; i < n; i++)
            secret.v[i] = (uint8_t)("password=hunter2;"[i % 17]);
        dma_addr_t a = dma_map_single(&dev32, secret.v, n, DMA_TO_DEVICE); /* user A sends its secret */
        dma_unmap_single(&dev32, a, n, DMA_TO_DEVICE);

        struct buf victim = buf_high(n, 0xEE); /* user B receives; the device writes only 100 bytes */
        dma_addr_t b = dma_map_single(&dev32, victim.v, n, DMA_FROM_DEVICE);
        assert_int_equal(b, a);
        memset(bus(b), DEVICE, 100);
        dma_unmap_single(&dev32, b, n, DMA_FROM_DEVICE);
        expect_fill("device data", victim.v, 100, DEVICE);
        if (policies[p] == BOUNCE_NONE)
            expect_bytes("none: B now holds A's secret", victim.v + 100, secret.v + 100, n - 100);
        else if (policies[p] == BOUNCE_ZERO)
            expect_fill("zero: B gets zeros", victim.v + 100, n - 100, 0);
        else
            expect_fill("copy: B keeps its own bytes", victim.v + 100, n - 100, 0xEE);
        assert_true(policies[p] == BOUNCE_NONE || memmem(victim.v, n, "hunter2", 7) == NULL);
    }
}

static void test_preserve_gives_copy_behaviour_under_zero(void **state)
{
    (void)state;
    start(64 * SLOT, BOUNCE_ZERO);
    struct buf p = buf_high(5000, ORIG), z = buf_high(5000, ORIG);
    dma_addr_t ap = dma_map_single_attrs(&dev32, p.v, 5000, DMA_FROM_DEVICE, DMA_ATTR_PRESERVE);
    dma_addr_t az = dma_map_single(&dev32, z.v, 5000, DMA_FROM_DEVICE);
    assert_true(in_pool(ap) && in_pool(az));
    expect_fill("preserve slot", bus(ap), 5000, ORIG);
    expect_fill("zero slot", bus(az), 5000, 0);
    struct dma_stats s = now();
    assert_int_equal(s.orig_bytes_read, 5000); /* only the PRESERVE mapping's original was read */
    assert_int_equal(s.bytes_copied_in, 5000);
    assert_int_equal(s.bytes_zeroed, 0); /* a fresh pool is clean: nothing to zero at map */
    memset(bus(ap) + 2000, DEVICE, 1000);
    memset(bus(az) + 2000, DEVICE, 1000);
    EXPECT_NO_MISUSE(dma_unmap_single_attrs(&dev32, ap, 5000, DMA_FROM_DEVICE, DMA_ATTR_PRESERVE));
    EXPECT_NO_MISUSE(dma_unmap_single(&dev32, az, 5000, DMA_FROM_DEVICE));
    expect_fill("preserve", p.v, 2000, ORIG);
    expect_fill("preserve", p.v + 2000, 1000, DEVICE);
    expect_fill("preserve", p.v + 3000, 2000, ORIG);
    expect_fill("zero", z.v, 2000, 0);
    expect_fill("zero", z.v + 2000, 1000, DEVICE);
    expect_fill("zero", z.v + 3000, 2000, 0);
    assert_int_equal(now().bytes_copied_out, 10000);
    assert_int_equal(now().bytes_zeroed, 2 * 3 * SLOT); /* both mappings' slots cleared at unmap */
}

static void test_skip_cpu_sync_skips_copies_but_not_the_zero_fill(void **state)
{
    (void)state;
    const size_t n = PAGE_SIZE;
    /* FROM_DEVICE: the slot (left STALE by the previous user) is still zeroed at map. */
    start(2 * SLOT, BOUNCE_COPY); /* under copy the previous user's data stays in the slots */
    struct buf stale = buf_high(n, STALE);
    dma_addr_t s = dma_map_single(&dev32, stale.v, n, DMA_TO_DEVICE);
    dma_unmap_single(&dev32, s, n, DMA_TO_DEVICE);
    dma_set_bounce_policy(BOUNCE_ZERO);
    struct buf o = buf_high(n, ORIG);
    dma_stats_reset();
    dma_addr_t a = dma_map_single_attrs(&dev32, o.v, n, DMA_FROM_DEVICE, DMA_ATTR_SKIP_CPU_SYNC);
    assert_int_equal(a, s);
    expect_fill("skip: zeroed anyway", bus(a), n, 0);
    assert_int_equal(now().bytes_zeroed, n);
    assert_int_equal(now().orig_bytes_read, 0);
    memset(bus(a), DEVICE, 1000);
    /* The caller syncs itself: that copies; the unmap with SKIP_CPU_SYNC then copies nothing. */
    EXPECT_NO_MISUSE(dma_sync_single_for_cpu(&dev32, a, n, DMA_FROM_DEVICE));
    expect_fill("synced", o.v, 1000, DEVICE);
    expect_fill("synced", o.v + 1000, n - 1000, 0);
    memset(bus(a), 0x77, n); /* the device writes again after the sync */
    EXPECT_NO_MISUSE(dma_unmap_single_attrs(&dev32, a, n, DMA_FROM_DEVICE, DMA_ATTR_SKIP_CPU_SYNC));
    expect_fill("not copied at unmap", o.v, 1000, DEVICE);
    assert_int_equal(now().bytes_copied_out, n);

    /* TO_DEVICE: nothing copied in at map (the slot holds zeros: the zero policy cleared it when
     * the last mapping went), until the caller syncs for the device. */
    struct buf t = buf_high(n, ORIG);
    dma_stats_reset();
    a = dma_map_single_attrs(&dev32, t.v, n, DMA_TO_DEVICE, DMA_ATTR_SKIP_CPU_SYNC);
    assert_int_equal(a, s);
    expect_fill("skip: not copied in", bus(a), n, 0);
    assert_int_equal(now().bytes_copied_in, 0);
    assert_int_equal(now().orig_bytes_read, 0);
    EXPECT_NO_MISUSE(dma_sync_single_for_device(&dev32, a, n, DMA_TO_DEVICE));
    expect_fill("synced for device", bus(a), n, ORIG);
    assert_int_equal(now().bytes_copied_in, n);
    EXPECT_NO_MISUSE(dma_unmap_single_attrs(&dev32, a, n, DMA_TO_DEVICE, DMA_ATTR_SKIP_CPU_SYNC));

    /* BIDIRECTIONAL with SKIP_CPU_SYNC at unmap only: copied in at map, not out at unmap. */
    struct buf b = buf_high(n, ORIG);
    a = dma_map_single(&dev32, b.v, n, DMA_BIDIRECTIONAL);
    expect_fill("bidi in", bus(a), n, ORIG);
    memset(bus(a), DEVICE, n);
    EXPECT_NO_MISUSE(dma_unmap_single_attrs(&dev32, a, n, DMA_BIDIRECTIONAL, DMA_ATTR_SKIP_CPU_SYNC));
    expect_fill("bidi not out", b.v, n, ORIG);
}

/* ---- syncs ---- */

static void test_sync_copies_per_direction(void **state)
{
    (void)state;
    static const enum dma_data_direction dirs[] = {DMA_TO_DEVICE, DMA_FROM_DEVICE, DMA_BIDIRECTIONAL};
    const size_t n = 5000;
    for (size_t d = 0; d < ARRAY_LEN(dirs); d++) {
        enum dma_data_direction dir = dirs[d];
        bool cpu_copies = dir != DMA_TO_DEVICE, dev_copies = dir != DMA_FROM_DEVICE;
        const char *what = dma_dir_name(dir);
        restart(64 * SLOT, BOUNCE_ZERO);
        struct buf o = buf_high(n, ORIG);
        dma_addr_t a = dma_map_single(&dev32, o.v, n, dir);
        assert_true(in_pool(a));
        dma_stats_reset();
        memset(bus(a), DEVICE, n);

        /* for_cpu: slot -> original for FROM_DEVICE and BIDIRECTIONAL. */
        EXPECT_NO_MISUSE(dma_sync_single_for_cpu(&dev32, a, n, dir));
        expect_fill(what, o.v, n, cpu_copies ? DEVICE : ORIG);
        expect_u64(what, "bytes_copied_out", now().bytes_copied_out, cpu_copies ? n : 0);
        expect_u64(what, "syncs_for_cpu", now().syncs_for_cpu, 1);

        /* for_device: original -> slot for TO_DEVICE and BIDIRECTIONAL. */
        memset(o.v + 1000, 0xE8, 1000);
        EXPECT_NO_MISUSE(dma_sync_single_for_device(&dev32, a, n, dir));
        expect_fill(what, bus(a) + 1000, 1000, dev_copies ? 0xE8 : DEVICE);
        expect_u64(what, "bytes_copied_in", now().bytes_copied_in, dev_copies ? n : 0);
        expect_u64(what, "orig_bytes_read", now().orig_bytes_read, dev_copies ? n : 0);
        expect_u64(what, "syncs_for_device", now().syncs_for_device, 1);

        /* A partial sync copies exactly its stretch. */
        memset(bus(a), 0x99, n);
        o.v[0] = 0x42;
        EXPECT_NO_MISUSE(dma_sync_single_for_cpu(&dev32, a + 500, 200, dir));
        if (cpu_copies) {
            expect_fill(what, o.v + 500, 200, 0x99);
            expect_fill(what, o.v + 1, 499, DEVICE);
            expect_fill(what, o.v + 700, 300, DEVICE);
        } else {
            expect_fill(what, o.v + 500, 200, ORIG);
        }
        assert_int_equal(o.v[0], 0x42);
        memset(o.v + 4000, 0x31, 1000);
        EXPECT_NO_MISUSE(dma_sync_single_for_device(&dev32, a + 4000, 1000, dir));
        expect_fill(what, bus(a) + 4000, 1000, dev_copies ? 0x31 : 0x99);
        expect_fill(what, bus(a) + 3999, 1, 0x99);
        EXPECT_NO_MISUSE(dma_unmap_single(&dev32, a, n, dir));
    }
    /* Direct mappings: syncs are checked and counted, nothing is copied. */
    struct buf lo = buf_low(n, ORIG);
    dma_addr_t a = dma_map_single(&dev32, lo.v, n, DMA_BIDIRECTIONAL);
    assert_int_equal(a, lo.phys);
    struct dma_stats s0 = now();
    EXPECT_NO_MISUSE(dma_sync_single_for_cpu(&dev32, a, n, DMA_BIDIRECTIONAL));
    EXPECT_NO_MISUSE(dma_sync_single_for_device(&dev32, a + 100, 100, DMA_BIDIRECTIONAL));
    struct dma_stats s1 = now();
    assert_int_equal(s1.syncs_for_cpu, s0.syncs_for_cpu + 1);
    assert_int_equal(s1.syncs_for_device, s0.syncs_for_device + 1);
    assert_int_equal(s1.bytes_copied_in + s1.bytes_copied_out, s0.bytes_copied_in + s0.bytes_copied_out);
    EXPECT_NO_MISUSE(dma_unmap_single(&dev32, a, n, DMA_BIDIRECTIONAL));
}

/* ---- pool rules through the API ---- */

static void test_bounce_addresses_follow_the_pool_rules(void **state)
{
    (void)state;
    start(256 * SLOT, BOUNCE_ZERO);
    struct buf o = buf_high(KiB(300), ORIG);
    /* No min_align_mask: a page or more starts page-aligned. */
    dma_addr_t small = dma_map_single(&dev32, o.v + 0x123, 100, DMA_TO_DEVICE); /* slot 0 */
    dma_addr_t a = dma_map_single(&dev32, o.v + 0x123, 5000, DMA_TO_DEVICE);
    assert_int_equal(a % PAGE_SIZE, 0);
    assert_int_equal(a, small + 2 * SLOT);
    expect_bytes("page-aligned bounce", bus(a), o.v + 0x123, 5000);
    dma_unmap_single(&dev32, a, 5000, DMA_TO_DEVICE);
    dma_unmap_single(&dev32, small, 100, DMA_TO_DEVICE);
    /* min_align_mask 0xfff (NVMe): the low 12 bits survive. */
    struct dma_dev nvme = {.name = "nvme32", .dma_mask = DMA_BIT_MASK(32), .min_align_mask = 0xfff};
    static const size_t offs[] = {0, 1, 0x7ff, 0x800, 0x801, 0xabc, 0xfff};
    for (size_t i = 0; i < ARRAY_LEN(offs); i++) {
        a = dma_map_single(&nvme, o.v + offs[i], 9000, DMA_TO_DEVICE);
        assert_false(dma_mapping_error(&nvme, a));
        assert_int_equal(a & 0xfff, (o.phys + offs[i]) & 0xfff);
        expect_bytes("min_align bounce", bus(a), o.v + offs[i], 9000);
        EXPECT_NO_MISUSE(dma_unmap_single(&nvme, a, 9000, DMA_TO_DEVICE));
    }
    /* Segment boundary 16 KiB: no mapping's slots ever cross one. */
    struct dma_dev seg = {.name = "seg16k", .dma_mask = DMA_BIT_MASK(32), .seg_boundary_mask = 0x3fff};
    size_t nlive = 0;
    for (size_t i = 0; nlive < 64; i++) {
        size_t size = 1 + (i * 2731) % 16384;
        a = dma_map_single(&seg, o.v + i, size, DMA_TO_DEVICE);
        if (dma_mapping_error(&seg, a))
            break;
        uint64_t last = a + size - 1;
        assert_int_equal(a & ~0x3fffull, last & ~0x3fffull);
        expect_bytes("segment bounce", bus(a), o.v + i, size);
        nlive++;
    }
    assert_true(nlive > 10);
    assert_true(now().map_failures == 1 || nlive == 64);
    pool_ok();
}

static void test_max_mapping_size_and_unreachable_pool(void **state)
{
    (void)state;
    start(256 * SLOT, BOUNCE_ZERO);
    struct buf o = buf_high(KiB(300), ORIG);
    struct dma_dev nvme = {.name = "nvme32", .dma_mask = DMA_BIT_MASK(32), .min_align_mask = 0xfff};
    struct dma_dev seg = {.name = "seg", .dma_mask = DMA_BIT_MASK(32), .max_segment_size = KiB(64)};
    assert_int_equal(dma_max_mapping_size(&dev32), KiB(256));
    assert_int_equal(dma_max_mapping_size(&nvme), KiB(252));
    assert_int_equal(dma_max_mapping_size(&seg), KiB(64));

    dma_addr_t a = dma_map_single(&dev32, o.v, KiB(256), DMA_TO_DEVICE); /* 128 slots: the most */
    assert_true(in_pool(a));
    assert_int_equal(now().slots_in_use, 128);
    EXPECT_NO_MISUSE(dma_unmap_single(&dev32, a, KiB(256), DMA_TO_DEVICE));
    EXPECT_NO_MISUSE(a = dma_map_single(&dev32, o.v, KiB(256) + 1, DMA_TO_DEVICE)); /* a mapping error, not misuse */
    assert_true(dma_mapping_error(&dev32, a));
    assert_int_equal(now().map_failures, 1);
    /* min_align_mask 0xfff: dma_max_mapping_size() is safe for every offset... */
    a = dma_map_single(&nvme, o.v + 0xfff, KiB(252), DMA_TO_DEVICE);
    assert_true(in_pool(a));
    assert_int_equal(a & 0xfff, 0xfff);
    dma_unmap_single(&nvme, a, KiB(252), DMA_TO_DEVICE);
    /* ...beyond it, an offset within the slot makes it 129 slots. */
    a = dma_map_single(&nvme, o.v + 0x7ff, KiB(256), DMA_TO_DEVICE);
    assert_true(dma_mapping_error(&nvme, a));
    assert_int_equal(now().map_failures, 2);
    /* A device that cannot reach the pool cannot bounce at all. */
    struct dma_dev isa = {.name = "isa24", .dma_mask = DMA_BIT_MASK(24)};
    struct buf lo = buf_low(PAGE_SIZE, ORIG);
    EXPECT_NO_MISUSE(a = dma_map_single(&isa, lo.v, 100, DMA_TO_DEVICE));
    assert_true(dma_mapping_error(&isa, a));
    assert_int_equal(now().map_failures, 3);
    assert_int_equal(now().slots_in_use, 0);
    assert_int_equal(now().maps, 2);
    pool_ok();
}

static void test_exhaustion_fails_cleanly_and_recovers(void **state)
{
    (void)state;
    start(16 * SLOT, BOUNCE_ZERO);
    struct buf o[10];
    dma_addr_t a[10];
    for (int i = 0; i < 10; i++)
        o[i] = buf_high(PAGE_SIZE, 0x30 + i);
    for (int i = 0; i < 8; i++) {
        a[i] = dma_map_single(&dev32, o[i].v, PAGE_SIZE, i % 2 ? DMA_TO_DEVICE : DMA_BIDIRECTIONAL);
        assert_true(in_pool(a[i]));
    }
    assert_int_equal(now().slots_in_use, 16);
    struct dma_stats s0 = now();
    EXPECT_NO_MISUSE(a[8] = dma_map_single(&dev32, o[8].v, PAGE_SIZE, DMA_FROM_DEVICE));
    assert_true(dma_mapping_error(&dev32, a[8]));
    assert_true(dma_mapping_error(&dev32, dma_map_single(&dev32, o[8].v, 1, DMA_TO_DEVICE)));
    struct dma_stats s1 = now();
    assert_int_equal(s1.map_failures, s0.map_failures + 2);
    assert_int_equal(s1.maps, s0.maps);
    assert_int_equal(s1.bytes_zeroed + s1.bytes_copied_in, s0.bytes_zeroed + s0.bytes_copied_in);
    assert_int_equal(s1.slots_in_use, 16);
    expect_fill("not touched by the failure", o[8].v, PAGE_SIZE, 0x38);
    for (int i = 0; i < 8; i++)
        expect_bytes("live mapping intact", bus(a[i]), o[i].v, PAGE_SIZE);
    EXPECT_NO_MISUSE(dma_unmap_single(&dev32, a[5], PAGE_SIZE, DMA_TO_DEVICE));
    a[9] = dma_map_single(&dev32, o[9].v, PAGE_SIZE, DMA_TO_DEVICE);
    assert_int_equal(a[9], a[5]);
    expect_bytes("after recovery", bus(a[9]), o[9].v, PAGE_SIZE);
    for (int i = 0; i < 10; i++)
        if (i != 5 && i != 8)
            EXPECT_NO_MISUSE(
                dma_unmap_single(&dev32, a[i], PAGE_SIZE, i == 9 || i % 2 ? DMA_TO_DEVICE : DMA_BIDIRECTIONAL));
    assert_int_equal(now().slots_in_use, 0);
    assert_int_equal(now().slots_high_water, 16);
    for (int i = 0; i < 10; i++)
        expect_fill("original", o[i].v, PAGE_SIZE, 0x30 + i); /* BIDIRECTIONAL copied the same bytes back */
}

/* ---- misuse ---- */

static void test_unmap_of_unmapped_address_is_misuse(void **state)
{
    (void)state;
    start(16 * SLOT, BOUNCE_ZERO);
    struct buf hi = buf_high(PAGE_SIZE, ORIG), lo = buf_low(PAGE_SIZE, ORIG);
    dma_addr_t live = dma_map_single(&dev32, hi.v, 100, DMA_FROM_DEVICE);
    memset(bus(live), DEVICE, 100);
    struct dma_stats s0 = now();
    EXPECT_MISUSE(&dev32,
                  dma_unmap_single(&dev32, pool_start() + 8 * SLOT, 100, DMA_FROM_DEVICE)); /* bounced: free slot */
    EXPECT_MISUSE(&dev32, dma_unmap_single(&dev32, lo.phys, 100, DMA_TO_DEVICE));           /* direct: never mapped */
    EXPECT_MISUSE(&dev32, dma_unmap_single(&dev32, DMA_MAPPING_ERROR, 100, DMA_TO_DEVICE));
    EXPECT_MISUSE(&dev32, dma_unmap_page(&dev32, 0, 100, DMA_TO_DEVICE));
    assert_int_equal(now().unmaps, s0.unmaps);
    assert_int_equal(now().bytes_copied_out, s0.bytes_copied_out);
    /* A direct mapping of another device is not this device's. */
    dma_addr_t d = dma_map_single(&dev64, lo.v, 100, DMA_TO_DEVICE);
    EXPECT_MISUSE(&dev32, dma_unmap_single(&dev32, d, 100, DMA_TO_DEVICE));
    EXPECT_NO_MISUSE(dma_unmap_single(&dev64, d, 100, DMA_TO_DEVICE));
    /* The live mapping was not disturbed. */
    expect_fill("live slot", bus(live), 100, DEVICE);
    EXPECT_NO_MISUSE(dma_unmap_single(&dev32, live, 100, DMA_FROM_DEVICE));
    expect_fill("live unmapped", hi.v, 100, DEVICE);
}

static void test_double_unmap_is_misuse(void **state)
{
    (void)state;
    start(16 * SLOT, BOUNCE_ZERO);
    struct buf hi = buf_high(PAGE_SIZE, ORIG), lo = buf_low(PAGE_SIZE, ORIG);
    dma_addr_t b = dma_map_single(&dev32, hi.v, 3000, DMA_FROM_DEVICE);
    memset(bus(b), DEVICE, 3000);
    EXPECT_NO_MISUSE(dma_unmap_single(&dev32, b, 3000, DMA_FROM_DEVICE));
    expect_fill("first unmap", hi.v, 3000, DEVICE);
    memset(bus(b), 0x66, 3000); /* the device keeps writing into the freed slot */
    char why[200];
    assert_false(swiotlb_check(dma_installed_pool(), why, sizeof(why))); /* and the pool's check sees it */
    assert_non_null(strstr(why, "marked clean but byte 0 is 0x66"));
    memset(bus(b), 0, 3000);
    struct dma_stats s0 = now();
    EXPECT_MISUSE(&dev32, dma_unmap_single(&dev32, b, 3000, DMA_FROM_DEVICE));
    expect_fill("second unmap copies nothing", hi.v, 3000, DEVICE);
    assert_int_equal(now().bytes_copied_out, s0.bytes_copied_out);
    assert_int_equal(now().unmaps, s0.unmaps);

    dma_addr_t d = dma_map_single(&dev32, lo.v, 3000, DMA_FROM_DEVICE);
    assert_int_equal(d, lo.phys);
    EXPECT_NO_MISUSE(dma_unmap_single(&dev32, d, 3000, DMA_FROM_DEVICE));
    EXPECT_MISUSE(&dev32, dma_unmap_single(&dev32, d, 3000, DMA_FROM_DEVICE));
    assert_int_equal(now().unmaps, s0.unmaps + 1);
    /* Mapped twice, unmapped twice: fine; a third time is not. */
    d = dma_map_single(&dev32, lo.v, 3000, DMA_TO_DEVICE);
    dma_addr_t d2 = dma_map_single(&dev32, lo.v, 3000, DMA_TO_DEVICE);
    assert_int_equal(d, d2);
    EXPECT_NO_MISUSE(dma_unmap_single(&dev32, d, 3000, DMA_TO_DEVICE));
    EXPECT_NO_MISUSE(dma_unmap_single(&dev32, d, 3000, DMA_TO_DEVICE));
    EXPECT_MISUSE(&dev32, dma_unmap_single(&dev32, d, 3000, DMA_TO_DEVICE));
}

static void test_unmap_with_other_size_or_direction_is_reported_and_torn_down_as_mapped(void **state)
{
    (void)state;
    start(16 * SLOT, BOUNCE_ZERO);
    struct buf a = buf_high(PAGE_SIZE, ORIG), b = buf_high(PAGE_SIZE, ORIG), c = buf_high(PAGE_SIZE, ORIG),
               lo = buf_low(PAGE_SIZE, ORIG);
    /* Wrong size: the whole mapped size is copied back and its slots freed. */
    dma_addr_t x = dma_map_single(&dev32, a.v, 3000, DMA_FROM_DEVICE);
    memset(bus(x), DEVICE, 3000);
    struct dma_stats s0 = now();
    EXPECT_MISUSE(&dev32, dma_unmap_single(&dev32, x, 100, DMA_FROM_DEVICE));
    assert_non_null(strstr(dma_last_misuse(), "3000"));
    expect_fill("wrong size", a.v, 3000, DEVICE);
    expect_fill("wrong size", a.v + 3000, 1096, ORIG);
    assert_int_equal(now().bytes_copied_out, s0.bytes_copied_out + 3000);
    assert_int_equal(now().unmaps, s0.unmaps + 1);
    assert_int_equal(now().slots_in_use, 0);
    EXPECT_MISUSE(&dev32, dma_unmap_single(&dev32, x, 3000, DMA_FROM_DEVICE)); /* it is gone */
    /* Wrong direction, TO_DEVICE unmapped as FROM_DEVICE: nothing comes back (as mapped). */
    x = dma_map_single(&dev32, b.v, 3000, DMA_TO_DEVICE);
    memset(bus(x), DEVICE, 3000);
    EXPECT_MISUSE(&dev32, dma_unmap_single(&dev32, x, 3000, DMA_FROM_DEVICE));
    expect_fill("TO_DEVICE as FROM_DEVICE", b.v, PAGE_SIZE, ORIG);
    assert_int_equal(now().slots_in_use, 0);
    /* FROM_DEVICE unmapped as TO_DEVICE: still copied back (as mapped). */
    x = dma_map_single(&dev32, c.v, 3000, DMA_FROM_DEVICE);
    memset(bus(x), DEVICE, 1000);
    EXPECT_MISUSE(&dev32, dma_unmap_single(&dev32, x, 3000, DMA_TO_DEVICE));
    expect_fill("FROM_DEVICE as TO_DEVICE", c.v, 1000, DEVICE);
    expect_fill("FROM_DEVICE as TO_DEVICE", c.v + 1000, 2000, 0);
    assert_int_equal(now().slots_in_use, 0);
    /* Direct: reported, and the record is gone. */
    x = dma_map_single(&dev32, lo.v, 3000, DMA_TO_DEVICE);
    assert_int_equal(x, lo.phys);
    uint64_t unmaps = now().unmaps;
    EXPECT_MISUSE(&dev32, dma_unmap_single(&dev32, x, 100, DMA_TO_DEVICE));
    EXPECT_MISUSE(&dev32, dma_unmap_single(&dev32, x, 3000, DMA_TO_DEVICE));
    x = dma_map_single(&dev32, lo.v, 3000, DMA_TO_DEVICE);
    EXPECT_MISUSE(&dev32, dma_unmap_single(&dev32, x, 3000, DMA_BIDIRECTIONAL));
    assert_int_equal(now().unmaps, unmaps + 2);
}

static void test_unmap_inside_a_mapping_is_refused(void **state)
{
    (void)state;
    start(16 * SLOT, BOUNCE_ZERO);
    struct buf hi = buf_high(KiB(8), ORIG), lo = buf_low(KiB(8), ORIG);
    dma_addr_t x = dma_map_single(&dev32, hi.v, 5000, DMA_FROM_DEVICE);
    memset(bus(x), DEVICE, 5000);
    struct dma_stats s0 = now();
    static const size_t inside[] = {1, SLOT, 4999, 5000, 3 * SLOT - 1};
    for (size_t i = 0; i < ARRAY_LEN(inside); i++)
        EXPECT_MISUSE(&dev32, dma_unmap_single(&dev32, x + inside[i], 5000 - 1, DMA_FROM_DEVICE));
    assert_int_equal(now().slots_in_use, 3);
    assert_int_equal(now().unmaps, s0.unmaps);
    assert_int_equal(now().bytes_copied_out, s0.bytes_copied_out);
    expect_fill("still mapped", hi.v, KiB(8), ORIG);
    EXPECT_NO_MISUSE(dma_unmap_single(&dev32, x, 5000, DMA_FROM_DEVICE));
    expect_fill("unmapped", hi.v, 5000, DEVICE);

    x = dma_map_single(&dev32, lo.v, 5000, DMA_FROM_DEVICE);
    assert_int_equal(x, lo.phys);
    EXPECT_MISUSE(&dev32, dma_unmap_single(&dev32, x + 16, 5000 - 16, DMA_FROM_DEVICE));
    EXPECT_NO_MISUSE(dma_unmap_single(&dev32, x, 5000, DMA_FROM_DEVICE));
}

static void test_bad_syncs_are_misuse_and_copy_nothing(void **state)
{
    (void)state;
    start(16 * SLOT, BOUNCE_ZERO);
    struct buf hi = buf_high(PAGE_SIZE, ORIG), lo = buf_low(PAGE_SIZE, ORIG), other = buf_low(PAGE_SIZE, ORIG);
    dma_addr_t x = dma_map_single(&dev32, hi.v, 3000, DMA_FROM_DEVICE);
    dma_addr_t t = dma_map_single(&dev32, hi.v, 3000, DMA_TO_DEVICE); /* to check for_device too */
    memset(bus(x), DEVICE, 3000);
    memset(bus(t), DEVICE, 3000);
    dma_addr_t d = dma_map_single(&dev32, lo.v, 3000, DMA_BIDIRECTIONAL);
    struct dma_stats s0 = now();
    /* Outside any live mapping. */
    EXPECT_MISUSE(&dev32, dma_sync_single_for_cpu(&dev32, pool_start() + 10 * SLOT, 16, DMA_FROM_DEVICE));
    EXPECT_MISUSE(&dev32, dma_sync_single_for_device(&dev32, pool_start() + 10 * SLOT, 16, DMA_TO_DEVICE));
    EXPECT_MISUSE(&dev32, dma_sync_single_for_cpu(&dev32, other.phys, 16, DMA_BIDIRECTIONAL));
    EXPECT_MISUSE(&dev32, dma_sync_single_for_cpu(&dev32, x - 1, 16, DMA_FROM_DEVICE));
    /* Reaching past the end. */
    EXPECT_MISUSE(&dev32, dma_sync_single_for_cpu(&dev32, x + 100, 2901, DMA_FROM_DEVICE));
    EXPECT_MISUSE(&dev32, dma_sync_single_for_cpu(&dev32, x + 2999, 2, DMA_FROM_DEVICE));
    EXPECT_MISUSE(&dev32, dma_sync_single_for_cpu(&dev32, x, 3001, DMA_FROM_DEVICE));
    EXPECT_MISUSE(&dev32, dma_sync_single_for_device(&dev32, t + 100, 2901, DMA_TO_DEVICE));
    EXPECT_MISUSE(&dev32, dma_sync_single_for_cpu(&dev32, d + 100, 2901, DMA_BIDIRECTIONAL));
    EXPECT_MISUSE(&dev32, dma_sync_single_for_device(&dev32, d + 3000, 1, DMA_BIDIRECTIONAL));
    /* The wrong direction. */
    EXPECT_MISUSE(&dev32, dma_sync_single_for_cpu(&dev32, x, 3000, DMA_BIDIRECTIONAL));
    EXPECT_MISUSE(&dev32, dma_sync_single_for_device(&dev32, t, 3000, DMA_BIDIRECTIONAL));
    EXPECT_MISUSE(&dev32, dma_sync_single_for_cpu(&dev32, d, 3000, DMA_FROM_DEVICE));
    /* Another device's mapping. */
    EXPECT_MISUSE(&dev64, dma_sync_single_for_cpu(&dev64, d, 3000, DMA_BIDIRECTIONAL));
    struct dma_stats s1 = now();
    assert_int_equal(s1.bytes_copied_out, s0.bytes_copied_out);
    assert_int_equal(s1.bytes_copied_in, s0.bytes_copied_in);
    assert_int_equal(s1.syncs_for_cpu + s1.syncs_for_device,
                     s0.syncs_for_cpu + s0.syncs_for_device); /* refused: not counted */
    expect_fill("refused syncs copy nothing back", hi.v, PAGE_SIZE, ORIG);
    expect_fill("refused syncs copy nothing in", bus(t), 3000, DEVICE);
    /* Everything still unmaps cleanly. */
    EXPECT_NO_MISUSE(dma_unmap_single(&dev32, t, 3000, DMA_TO_DEVICE));
    EXPECT_NO_MISUSE(dma_unmap_single(&dev32, x, 3000, DMA_FROM_DEVICE));
    EXPECT_NO_MISUSE(dma_unmap_single(&dev32, d, 3000, DMA_BIDIRECTIONAL));
    expect_fill("unmapped", hi.v, 3000, DEVICE);
}

static void test_bad_maps_are_misuse(void **state)
{
    (void)state;
    start(16 * SLOT, BOUNCE_ZERO);
    struct buf hi = buf_high(KiB(8), ORIG), lo = buf_low(KiB(8), ORIG);
    struct dma_dev seg = {.name = "seg4k", .dma_mask = DMA_BIT_MASK(32), .max_segment_size = PAGE_SIZE};
    dma_addr_t a;
    EXPECT_MISUSE(&dev32, a = dma_map_single(&dev32, hi.v, 100, DMA_NONE));
    assert_true(dma_mapping_error(&dev32, a));
    EXPECT_MISUSE(&dev32, a = dma_map_single(&dev32, lo.v, 100, DMA_NONE));
    assert_true(dma_mapping_error(&dev32, a));
    EXPECT_MISUSE(&dev32, a = dma_map_single(&dev32, lo.v, 100, (enum dma_data_direction)7));
    assert_true(dma_mapping_error(&dev32, a));
    EXPECT_MISUSE(&dev32, a = dma_map_page(&dev32, hi.phys, 0, 100, (enum dma_data_direction) - 1));
    assert_true(dma_mapping_error(&dev32, a));
    EXPECT_MISUSE(&dev32, a = dma_map_single(&dev32, hi.v, 0, DMA_TO_DEVICE));
    assert_true(dma_mapping_error(&dev32, a));
    EXPECT_MISUSE(&dev32, a = dma_map_single(&dev32, lo.v, 0, DMA_FROM_DEVICE));
    assert_true(dma_mapping_error(&dev32, a));
    EXPECT_MISUSE(&seg, a = dma_map_single(&seg, hi.v, 4097, DMA_TO_DEVICE));
    assert_true(dma_mapping_error(&seg, a));
    EXPECT_MISUSE(&seg, a = dma_map_single(&seg, lo.v, 4097, DMA_TO_DEVICE));
    assert_true(dma_mapping_error(&seg, a));
    struct dma_stats s = now();
    assert_int_equal(s.maps, 0);
    assert_int_equal(s.map_failures, 0); /* misuse, not a full pool */
    assert_int_equal(s.slots_in_use, 0);
    assert_int_equal(s.bytes_copied_in + s.bytes_zeroed + s.orig_bytes_read, 0);
    /* The limit itself is fine. */
    EXPECT_NO_MISUSE(a = dma_map_single(&seg, hi.v, PAGE_SIZE, DMA_TO_DEVICE));
    assert_true(in_pool(a));
    EXPECT_NO_MISUSE(dma_unmap_single(&seg, a, PAGE_SIZE, DMA_TO_DEVICE));
}

static void test_free_coherent_with_wrong_handle_is_misuse(void **state)
{
    (void)state;
    start(16 * SLOT, BOUNCE_ZERO);
    dma_addr_t h, h2;
    uint8_t *p = dma_alloc_coherent(&dev32, 5000, &h);
    uint8_t *q = dma_alloc_coherent(&dev32, 100, &h2);
    assert_non_null(p);
    assert_non_null(q);
    EXPECT_MISUSE(&dev32, dma_free_coherent(&dev32, 5000, p, h + PAGE_SIZE));
    EXPECT_MISUSE(&dev32, dma_free_coherent(&dev32, 5000, p, h2));
    EXPECT_MISUSE(&dev32, dma_free_coherent(&dev32, 5000, NULL, h));
    assert_int_equal(now().coherent_frees, 0);
    EXPECT_NO_MISUSE(dma_free_coherent(&dev32, 5000, p, h));
    EXPECT_NO_MISUSE(dma_free_coherent(&dev32, 100, q, h2));
    assert_int_equal(now().coherent_frees, 2);
}

/* ---- scatter-gather ---- */

static void test_sg_maps_every_entry(void **state)
{
    (void)state;
    start(32 * SLOT, BOUNCE_ZERO);
    struct buf lo = buf_low(PAGE_SIZE, ORIG), h1 = buf_high(6000, ORIG), h2 = buf_high(100, ORIG);
    struct scatterlist sg[3] = {
        {.phys = lo.phys, .length = PAGE_SIZE}, {.phys = h1.phys, .length = 6000}, {.phys = h2.phys, .length = 100}};
    assert_int_equal(dma_map_sg(&dev32, sg, 3, DMA_FROM_DEVICE), 3);
    assert_int_equal(sg[0].dma_address, lo.phys); /* direct */
    assert_true(in_pool(sg[1].dma_address) && in_pool(sg[2].dma_address));
    for (int i = 0; i < 3; i++) {
        assert_int_equal(sg[i].dma_length, sg[i].length);
        memset(bus(sg[i].dma_address), DEVICE + i, sg[i].dma_length / 2);
    }
    EXPECT_NO_MISUSE(dma_sync_sg_for_cpu(&dev32, sg, 3, DMA_FROM_DEVICE));
    expect_fill("sg synced", h1.v, 3000, DEVICE + 1);
    EXPECT_NO_MISUSE(dma_sync_sg_for_device(&dev32, sg, 3, DMA_FROM_DEVICE));
    EXPECT_NO_MISUSE(dma_unmap_sg(&dev32, sg, 3, DMA_FROM_DEVICE));
    expect_fill("sg 0", lo.v, SWIOTLB_SLOT_SIZE, DEVICE);
    expect_fill("sg 0", lo.v + SWIOTLB_SLOT_SIZE, SWIOTLB_SLOT_SIZE, ORIG); /* direct: the rest was never touched */
    expect_fill("sg 1", h1.v, 3000, DEVICE + 1);
    expect_fill("sg 1", h1.v + 3000, 3000, 0);
    expect_fill("sg 2", h2.v, 50, DEVICE + 2);
    expect_fill("sg 2", h2.v + 50, 50, 0);
    assert_int_equal(now().slots_in_use, 0);
    assert_int_equal(now().maps, 3);
    assert_int_equal(now().unmaps, 3);
}

static void test_sg_failure_undoes_every_entry(void **state)
{
    (void)state;
    start(8 * SLOT, BOUNCE_ZERO);
    struct buf lo = buf_low(PAGE_SIZE, ORIG), hi[5];
    for (int i = 0; i < 5; i++)
        hi[i] = buf_high(PAGE_SIZE, ORIG + i);
    /* One direct entry, four bounced that fill the pool, and a fifth that does not fit. */
    struct scatterlist sg[6] = {{.phys = lo.phys, .length = PAGE_SIZE}};
    for (int i = 0; i < 5; i++)
        sg[1 + i] = (struct scatterlist){.phys = hi[i].phys, .length = PAGE_SIZE};
    static const enum dma_data_direction dirs[] = {DMA_FROM_DEVICE, DMA_BIDIRECTIONAL, DMA_TO_DEVICE};
    for (size_t d = 0; d < ARRAY_LEN(dirs); d++) {
        struct dma_stats s0 = now();
        EXPECT_NO_MISUSE(assert_int_equal(dma_map_sg(&dev32, sg, 6, dirs[d]), 0));
        struct dma_stats s1 = now();
        assert_int_equal(s1.slots_in_use, 0);
        assert_int_equal(s1.map_failures, s0.map_failures + 1);
        assert_int_equal(s1.maps - s0.maps, s1.unmaps - s0.unmaps); /* every map undone */
        assert_int_equal(s1.bytes_copied_out, s0.bytes_copied_out); /* the device never had them */
        expect_fill("direct entry untouched", lo.v, PAGE_SIZE, ORIG);
        for (int i = 0; i < 5; i++)
            expect_fill("bounced entry untouched", hi[i].v, PAGE_SIZE, ORIG + i);
        /* The direct entry's record is gone too. */
        EXPECT_MISUSE(&dev32, dma_unmap_single(&dev32, lo.phys, PAGE_SIZE, dirs[d]));
        pool_ok();
    }
    /* A misuse in the middle (a zero-length entry) undoes the same way. */
    struct scatterlist bad[3] = {
        {.phys = hi[0].phys, .length = 100}, {.phys = hi[1].phys, .length = 0}, {.phys = hi[2].phys, .length = 100}};
    EXPECT_MISUSE(&dev32, assert_int_equal(dma_map_sg(&dev32, bad, 3, DMA_TO_DEVICE), 0));
    assert_int_equal(now().slots_in_use, 0);
    EXPECT_MISUSE(&dev32, assert_int_equal(dma_map_sg(&dev32, sg, 6, DMA_NONE), 0));
    /* And with room, the same list maps whole. */
    assert_int_equal(dma_map_sg(&dev32, sg, 5, DMA_TO_DEVICE), 5);
    assert_int_equal(now().slots_in_use, 8);
    EXPECT_NO_MISUSE(dma_unmap_sg(&dev32, sg, 5, DMA_TO_DEVICE));
    assert_int_equal(now().slots_in_use, 0);
}

/* ---- coherent memory ---- */

static void test_coherent_memory_is_zeroed_and_within_the_mask(void **state)
{
    (void)state;
    start(16 * SLOT, BOUNCE_ZERO);
    struct dma_dev split = {.name = "split", .dma_mask = DMA_BIT_MASK(64), .coherent_mask = DMA_BIT_MASK(32)};
    struct dma_dev isa = {.name = "isa24", .dma_mask = DMA_BIT_MASK(24)};
    const struct {
        struct dma_dev *dev;
        size_t size;
        uint64_t mask;
    } cases[] = {
        {&dev32, 10000, DMA_BIT_MASK(32)}, {&split, 1, DMA_BIT_MASK(32)}, {&dev64, 3 * PAGE_SIZE, DMA_BIT_MASK(64)}};
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        dma_addr_t h = 0;
        uint8_t *p = dma_alloc_coherent(cases[i].dev, cases[i].size, &h);
        assert_non_null(p);
        assert_true(h + cases[i].size - 1 <= cases[i].mask);
        assert_int_equal(fake_platform()->virt_to_phys(p), h);
        assert_ptr_equal(bus(h), p);
        expect_fill("coherent memory is zeroed", p, cases[i].size, 0);
        memset(p, 0xAB, cases[i].size); /* CPU and device share it */
        assert_int_equal(bus(h)[cases[i].size - 1], 0xAB);
        EXPECT_NO_MISUSE(dma_free_coherent(cases[i].dev, cases[i].size, p, h));
    }
    assert_int_equal(now().coherent_allocs, 3);
    assert_int_equal(now().coherent_frees, 3);
    dma_addr_t h;
    EXPECT_NO_MISUSE(assert_null(dma_alloc_coherent(&isa, PAGE_SIZE, &h))); /* nothing below 16 MiB here */
    EXPECT_MISUSE(&dev32, assert_null(dma_alloc_coherent(&dev32, 0, &h)));
    assert_int_equal(now().coherent_allocs, 3);
    assert_int_equal(now().slots_in_use, 0); /* coherent memory is not bounce slots */
}

/* ---- counters as JSON ---- */

/* A flat JSON object of string keys and number or string values; returns the number of keys,
 * or -1 if s is not one. */
static int json_flat_object(const char *s)
{
    int keys = 0;
    if (*s++ != '{')
        return -1;
    for (;;) {
        if (*s++ != '"')
            return -1;
        while (*s && *s != '"')
            s++;
        if (*s++ != '"' || *s++ != ':')
            return -1;
        if (*s == '"') {
            s++;
            while (*s && *s != '"')
                s++;
            if (*s++ != '"')
                return -1;
        } else {
            if (*s < '0' || *s > '9')
                return -1;
            while (*s >= '0' && *s <= '9')
                s++;
        }
        keys++;
        if (*s == '}')
            return s[1] == '\0' ? keys : -1;
        if (*s++ != ',')
            return -1;
    }
}

static unsigned long long json_value(const char *json, const char *name)
{
    char key[64];
    snprintf(key, sizeof(key), "\"%s\":", name);
    const char *p = strstr(json, key);
    if (p == NULL)
        fail_msg("%s missing from %s", name, json);
    assert_null(strstr(p + 1, key)); /* once */
    return strtoull(p + strlen(key), NULL, 10);
}

static void test_stats_json_has_every_counter(void **state)
{
    (void)state;
    start(32 * SLOT, BOUNCE_ZERO);
    struct buf hi = buf_high(5000, ORIG), lo = buf_low(100, ORIG);
    dma_addr_t a = dma_map_single(&dev32, hi.v, 5000, DMA_FROM_DEVICE);
    dma_addr_t b = dma_map_single_attrs(&dev32, hi.v, 3000, DMA_FROM_DEVICE, DMA_ATTR_PRESERVE);
    dma_addr_t d = dma_map_single(&dev32, lo.v, 100, DMA_TO_DEVICE);
    dma_sync_single_for_cpu(&dev32, a, 10, DMA_FROM_DEVICE);
    dma_sync_single_for_device(&dev32, a, 10, DMA_FROM_DEVICE);
    dma_unmap_single_written(&dev32, a, 5000, DMA_FROM_DEVICE, 4000);
    dma_unmap_single(&dev32, a, 5000, DMA_FROM_DEVICE);    /* misuse */
    dma_map_single(&dev32, hi.v, KiB(300), DMA_TO_DEVICE); /* failure */
    dma_addr_t h;
    void *c = dma_alloc_coherent(&dev32, 100, &h);
    dma_free_coherent(&dev32, 100, c, h);
    dma_set_bounce_policy(BOUNCE_NONE);

    char json[KiB(2)];
    int len = dma_stats_json(json, sizeof(json));
    assert_true(len > 0 && (size_t)len < sizeof(json));
    assert_int_equal(strlen(json), (size_t)len);
    /* policy, pool_bytes, then one field per counter of DMA_STATS, each with the counter's value. */
#define DMA_STATS_COUNT(name, what) +1
    assert_int_equal(json_flat_object(json), 2 DMA_STATS(DMA_STATS_COUNT));
#undef DMA_STATS_COUNT
    assert_non_null(strstr(json, "\"policy\":\"none\""));
    assert_int_equal(json_value(json, "pool_bytes"), 32 * SLOT);
    struct dma_stats s = now();
#define DMA_STATS_CHECK(name, what)                                                            \
    if (json_value(json, #name) != s.name)                                                     \
        fail_msg("%s: %llu in the JSON, %llu in the counters", #name, json_value(json, #name), \
                 (unsigned long long)s.name);
    DMA_STATS(DMA_STATS_CHECK)
#undef DMA_STATS_CHECK
    /* The values themselves, for this sequence. */
    assert_int_equal(s.maps, 3);
    assert_int_equal(s.unmaps, 1);
    assert_int_equal(s.bounced_maps, 2);
    /* The 5000-byte mapping, completed exactly with 4000 bytes: those copied back and cleared. */
    assert_int_equal(s.bytes_zeroed, 4000);
    assert_int_equal(s.orig_bytes_read, 3000);
    assert_int_equal(s.bytes_copied_out, 10 + 4000);
    assert_int_equal(s.exact_unmaps, 1);
    assert_int_equal(s.bytes_not_written, 1000);
    assert_int_equal(s.slots_in_use, 2);
    assert_int_equal(s.slots_high_water, 5);
    assert_int_equal(s.slots_total, 32);
    assert_int_equal(s.misuse, 1);
    assert_int_equal(s.map_failures, 1);
    assert_int_equal(s.syncs_for_cpu, 1);
    assert_int_equal(s.syncs_for_device, 1);
    assert_int_equal(s.coherent_allocs, 1);
    assert_int_equal(s.coherent_frees, 1);
    /* snprintf semantics: truncated, terminated, full length returned. */
    char small[16];
    assert_int_equal(dma_stats_json(small, sizeof(small)), len);
    assert_int_equal(strlen(small), sizeof(small) - 1);
    assert_memory_equal(small, json, sizeof(small) - 1);
    /* Reset: counters to 0, the pool's size and occupancy stay. */
    dma_stats_reset();
    s = now();
    assert_int_equal(s.maps + s.misuse + s.bytes_zeroed + s.map_failures, 0);
    assert_int_equal(s.slots_total, 32);
    assert_int_equal(s.slots_in_use, 2);
    assert_int_equal(s.slots_high_water, 2);
    dma_unmap_single_attrs(&dev32, b, 3000, DMA_FROM_DEVICE, DMA_ATTR_PRESERVE);
    dma_unmap_single(&dev32, d, 100, DMA_TO_DEVICE);
    assert_int_equal(now().misuse, 0);
}

/* ---- the zero policy never reads the original: proved with page protections ----
 *
 * The original is mapped PROT_NONE, so every access the DMA layer makes to it faults. The
 * SIGSEGV handler records, per page, whether the first access was a read or a write (the x86
 * page-fault error code's bit 1), opens the page, and returns: the access retries and succeeds.
 *
 * This is exactly what the host observes of a guest (docs/bounce.md): a receive buffer the guest
 * has never touched is not backed by a host page yet. Under `copy`, the DMA layer first READS it
 * (to copy it into the slot), so KVM maps the shared zero page, and the later write at unmap is a
 * copy-on-write: three faults for the one page, read before write. Under `zero`, the first and
 * only touch is the WRITE at unmap: one fault, and the page is allocated straight away.
 */
enum { ACCESS_NONE = 0, ACCESS_READ = 1, ACCESS_WRITE = 2 };
enum { PHASE_IDLE = 0, PHASE_MAP = 1, PHASE_DEVICE = 2, PHASE_UNMAP = 3 };
#define WATCH_PAGES 4

static struct {
    uint8_t *base;
    bool installed;
    volatile sig_atomic_t phase, faults;
    volatile sig_atomic_t first[WATCH_PAGES], first_phase[WATCH_PAGES];
    struct sigaction old;
} watch;

static void watch_handler(int sig, siginfo_t *si, void *ctx)
{
    (void)sig;
    uint8_t *addr = si->si_addr;
    if (watch.base != NULL && addr >= watch.base && addr < watch.base + WATCH_PAGES * PAGE_SIZE) {
        size_t pg = (size_t)(addr - watch.base) / PAGE_SIZE;
        bool write = (((ucontext_t *)ctx)->uc_mcontext.gregs[REG_ERR] & 2) != 0;
        if (watch.first[pg] == ACCESS_NONE) {
            watch.first[pg] = write ? ACCESS_WRITE : ACCESS_READ;
            watch.first_phase[pg] = watch.phase;
        }
        watch.faults++;
        mprotect(watch.base + pg * PAGE_SIZE, PAGE_SIZE, PROT_READ | PROT_WRITE);
        return;
    }
    /* Not ours: put the previous handler back; the access faults again into it. */
    sigaction(SIGSEGV, &watch.old, NULL);
    watch.installed = false;
}

static void watch_start(uint8_t *base)
{
    watch.base = base;
    watch.phase = PHASE_IDLE;
    watch.faults = 0;
    for (int i = 0; i < WATCH_PAGES; i++)
        watch.first[i] = watch.first_phase[i] = 0;
    if (!watch.installed) {
        struct sigaction sa;
        memset(&sa, 0, sizeof(sa));
        sa.sa_sigaction = watch_handler;
        sa.sa_flags = SA_SIGINFO;
        sigemptyset(&sa.sa_mask);
        assert_int_equal(sigaction(SIGSEGV, &sa, &watch.old), 0);
        watch.installed = true;
    }
    assert_int_equal(mprotect(base, WATCH_PAGES * PAGE_SIZE, PROT_NONE), 0);
}

static void watch_stop(void)
{
    if (watch.base != NULL)
        mprotect(watch.base, WATCH_PAGES * PAGE_SIZE, PROT_READ | PROT_WRITE);
    if (watch.installed)
        sigaction(SIGSEGV, &watch.old, NULL);
    watch.installed = false;
    watch.base = NULL;
}

/* One exact completion of `written` bytes of an n-byte FROM_DEVICE mapping of orig (mapped with
 * attrs), watched: every page the device wrote is first touched by the unmap's write, the others
 * never; the original gets the device's bytes and keeps the rest. */
static void exact_watch(uint8_t *orig, size_t n, size_t written, unsigned attrs)
{
    const char *what = attrs ? "mapped for exact completion" : "exact completion";
    memset(orig, 0xAA, n);
    watch_start(orig);
    watch.phase = PHASE_MAP;
    dma_addr_t a = dma_map_single_attrs(&dev32, orig, n, DMA_FROM_DEVICE, attrs);
    watch.phase = PHASE_DEVICE;
    memset(bus(a), DEVICE, written);
    watch.phase = PHASE_UNMAP;
    dma_unmap_single_written(&dev32, a, n, DMA_FROM_DEVICE, written);
    watch.phase = PHASE_IDLE;
    for (int pg = 0; pg < WATCH_PAGES; pg++) {
        bool touched = (size_t)pg * PAGE_SIZE < written;
        if (watch.first[pg] != (touched ? ACCESS_WRITE : ACCESS_NONE) ||
            (touched && watch.first_phase[pg] != PHASE_UNMAP))
            fail_msg("%s: page %d first accessed by a %s", what, pg,
                     watch.first[pg] == ACCESS_READ        ? "READ"
                         : watch.first[pg] == ACCESS_WRITE ? "write"
                                                           : "nothing");
    }
    watch_stop();
    expect_fill(what, orig, written, DEVICE);
    expect_fill(what, orig + written, n - written, 0xAA);
}

static void test_zero_policy_never_reads_the_original(void **state)
{
    (void)state;
    const size_t n = WATCH_PAGES * PAGE_SIZE, written = n / 2 + 100;
    start(64 * SLOT, BOUNCE_ZERO);
    uint64_t phys;
    uint8_t *orig = fake_alloc_high(n, &phys);
    assert_non_null(orig);

    /* zero: the map does not touch the original; the unmap's first access to every page is a write. */
    memset(orig, 0xAA, n);
    watch_start(orig);
    watch.phase = PHASE_MAP;
    dma_addr_t a = dma_map_single(&dev32, orig, n, DMA_FROM_DEVICE);
    assert_true(in_pool(a));
    assert_int_equal(watch.faults, 0);
    assert_int_equal(now().orig_bytes_read, 0);
    assert_int_equal(now().bytes_zeroed, 0); /* the fresh pool's slots are already clean */
    expect_fill("zero: the device gets zeros", bus(a), n, 0);
    watch.phase = PHASE_DEVICE;
    memset(bus(a), DEVICE, written);
    assert_int_equal(watch.faults, 0);
    watch.phase = PHASE_UNMAP;
    dma_unmap_single(&dev32, a, n, DMA_FROM_DEVICE);
    watch.phase = PHASE_IDLE;
    for (int pg = 0; pg < WATCH_PAGES; pg++) {
        if (watch.first[pg] != ACCESS_WRITE || watch.first_phase[pg] != PHASE_UNMAP)
            fail_msg("zero: page %d first accessed by a %s in phase %d", pg,
                     watch.first[pg] == ACCESS_READ        ? "READ"
                         : watch.first[pg] == ACCESS_WRITE ? "write"
                                                           : "nothing",
                     (int)watch.first_phase[pg]);
    }
    assert_int_equal(watch.faults, WATCH_PAGES); /* one fault per page */
    watch_stop();
    assert_int_equal(now().orig_bytes_read, 0);
    expect_fill("zero", orig, written, DEVICE);
    expect_fill("zero", orig + written, n - written, 0);

    /* zero with exact completion: the same, and the bytes the device did not write are never
     * touched - the pages past the written length see no access at all; mapped for exact
     * completion, no byte is zeroed either. */
    exact_watch(orig, n, written, 0);
    dma_stats_reset();
    exact_watch(orig, n, written, DMA_ATTR_EXACT_COMPLETION);
    assert_int_equal(now().bytes_zeroed, 0);
    assert_int_equal(now().orig_bytes_read, 0);
    assert_int_equal(now().bytes_copied_out, written);

    /* copy: the map reads every page first. */
    dma_set_bounce_policy(BOUNCE_COPY);
    memset(orig, 0xAA, n);
    watch_start(orig);
    watch.phase = PHASE_MAP;
    a = dma_map_single(&dev32, orig, n, DMA_FROM_DEVICE);
    for (int pg = 0; pg < WATCH_PAGES; pg++) {
        if (watch.first[pg] != ACCESS_READ || watch.first_phase[pg] != PHASE_MAP)
            fail_msg("copy: page %d first accessed by a %s in phase %d", pg,
                     watch.first[pg] == ACCESS_READ        ? "read"
                         : watch.first[pg] == ACCESS_WRITE ? "WRITE"
                                                           : "nothing",
                     (int)watch.first_phase[pg]);
    }
    assert_int_equal(watch.faults, WATCH_PAGES);
    assert_int_equal(now().orig_bytes_read, n);
    watch.phase = PHASE_DEVICE;
    memset(bus(a), DEVICE, written);
    watch.phase = PHASE_UNMAP;
    dma_unmap_single(&dev32, a, n, DMA_FROM_DEVICE);
    assert_int_equal(watch.faults, WATCH_PAGES); /* already open: the writes do not fault here */
    watch_stop();
    expect_fill("copy", orig, written, DEVICE);
    expect_fill("copy", orig + written, n - written, 0xAA);

    /* PRESERVE under zero reads, like copy. */
    dma_set_bounce_policy(BOUNCE_ZERO);
    watch_start(orig);
    watch.phase = PHASE_MAP;
    a = dma_map_single_attrs(&dev32, orig, n, DMA_FROM_DEVICE, DMA_ATTR_PRESERVE);
    assert_int_equal(watch.first[0], ACCESS_READ);
    assert_int_equal(watch.faults, WATCH_PAGES);
    dma_unmap_single(&dev32, a, n, DMA_FROM_DEVICE);
    watch_stop();
}

/* ---- the confidential platform: shared pool and coherent memory, and cc_io=convert ---- */

#define PG ((size_t)4096)

static void start_cc(bool convert, enum bounce_policy policy)
{
    fake_platform_confidential(convert);
    start(32 * SLOT, policy);
}

static bool all_shared(uint64_t phys, size_t len, bool want)
{
    for (uint64_t pa = phys; pa < phys + len; pa += PG)
        if (fake_page_shared(pa) != want)
            return false;
    return true;
}

static bool all_bytes(const uint8_t *p, size_t len, uint8_t v)
{
    for (size_t i = 0; i < len; i++)
        if (p[i] != v)
            return false;
    return true;
}

static void fill_seq(uint8_t *p, size_t len)
{
    for (size_t i = 0; i < len; i++)
        p[i] = (uint8_t)(i * 7 + 1);
}

static bool is_seq(const uint8_t *p, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++)
        if (p[i] != (uint8_t)(i * 7 + 1))
            return false;
    return true;
}

/* The pool and coherent memory are shared - and zero, although the conversion left junk. */
static void test_confidential_pool_and_coherent_memory_are_shared_and_zero(void **state)
{
    (void)state;
    start_cc(false, BOUNCE_ZERO);
    const struct swiotlb_pool *p = dma_installed_pool();
    assert_true(all_shared(p->start, p->end - p->start, true));
    assert_true(all_bytes(bus(p->start), p->end - p->start, 0));
    dma_addr_t h;
    uint8_t *c = dma_alloc_coherent(&dev64, 3 * PG, &h);
    assert_non_null(c);
    assert_true(all_shared(h, 3 * PG, true));
    assert_true(all_bytes(c, 3 * PG, 0));
    EXPECT_NO_MISUSE(dma_free_coherent(&dev64, 3 * PG, c, h));
    assert_true(all_shared(h, 3 * PG, false));
    /* Every mapping bounces, reachable or not, and no conversion happens per mapping. */
    uint64_t calls = fake_convert_calls();
    struct buf b = buf_low(PG, 0x11);
    dma_addr_t a = dma_map_single(&dev64, b.v, PG, DMA_TO_DEVICE);
    assert_true(in_pool(a));
    dma_unmap_single(&dev64, a, PG, DMA_TO_DEVICE);
    assert_int_equal(fake_convert_calls(), calls);
    assert_int_equal(now().convert_maps + now().convert_fallbacks, 0);
}

/* A coherent buffer the host will not take back stays out of the allocator. */
static void test_confidential_coherent_free_refused_by_the_host(void **state)
{
    (void)state;
    start_cc(false, BOUNCE_ZERO);
    dma_addr_t h;
    uint8_t *c = dma_alloc_coherent(&dev64, PG, &h);
    assert_non_null(c);
    fake_convert_fail_after(0);
    EXPECT_NO_MISUSE(dma_free_coherent(&dev64, PG, c, h));
    assert_true(fake_page_shared(h));
    assert_int_equal(now().coherent_frees, 1);
    fake_convert_fail_after(0); /* and a refused share fails the allocation */
    assert_null(dma_alloc_coherent(&dev64, PG, &h));
}

static void test_convert_to_device_keeps_contents_across_both_conversions(void **state)
{
    (void)state;
    start_cc(true, BOUNCE_ZERO);
    struct buf b = buf_low(2 * PG, 0);
    fill_seq(b.v, 2 * PG);
    struct dma_stats s0 = now();
    dma_addr_t a;
    EXPECT_NO_MISUSE(a = dma_map_single(&dev64, b.v, 2 * PG, DMA_TO_DEVICE));
    assert_int_equal(a, b.phys); /* the buffer itself */
    assert_true(all_shared(b.phys, 2 * PG, true));
    assert_true(is_seq(bus(a), 0, 2 * PG)); /* what the device reads: the original */
    EXPECT_NO_MISUSE(dma_sync_single_for_device(&dev64, a + 100, 200, DMA_TO_DEVICE));
    EXPECT_NO_MISUSE(dma_unmap_single(&dev64, a, 2 * PG, DMA_TO_DEVICE));
    assert_true(all_shared(b.phys, 2 * PG, false));
    assert_true(is_seq(b.v, 0, 2 * PG));
    struct dma_stats s = now();
    assert_int_equal(s.maps - s0.maps, 1);
    assert_int_equal(s.unmaps - s0.unmaps, 1);
    assert_int_equal(s.bounced_maps, s0.bounced_maps);
    assert_int_equal(s.convert_maps, 1);
    assert_int_equal(s.conversions, 2);
    assert_int_equal(s.pages_converted, 4);
    assert_int_equal(s.convert_bytes_copied, 4 * 2 * PG); /* aside and back, at map and at unmap */
    assert_int_equal(s.orig_bytes_read - s0.orig_bytes_read, 2 * PG);
    assert_int_equal(s.syncs_for_device - s0.syncs_for_device, 1);
    assert_int_equal(s.bytes_mapped - s0.bytes_mapped, 2 * PG);
}

/* FROM_DEVICE, zero: the original is never read; the device starts from zeros (not the host's
 * junk); what it does not write comes back as zeros; what it wrote survives the conversion back. */
static void test_convert_from_device_zero_never_reads_the_original(void **state)
{
    (void)state;
    start_cc(true, BOUNCE_ZERO);
    struct buf b = buf_low(PG, 0xee);
    struct dma_stats s0 = now();
    dma_addr_t a = dma_map_single(&dev64, b.v, PG, DMA_FROM_DEVICE);
    assert_int_equal(a, b.phys);
    assert_int_equal(now().orig_bytes_read, s0.orig_bytes_read);
    assert_true(all_bytes(bus(a), PG, 0));
    memset(bus(a), 0x42, 1000);
    dma_unmap_single(&dev64, a, PG, DMA_FROM_DEVICE);
    assert_false(fake_page_shared(b.phys));
    assert_true(all_bytes(b.v, 1000, 0x42));
    assert_true(all_bytes(b.v + 1000, PG - 1000, 0));
    struct dma_stats s = now();
    assert_int_equal(s.bytes_zeroed - s0.bytes_zeroed, PG);
    assert_int_equal(s.convert_bytes_copied - s0.convert_bytes_copied, 2 * PG); /* the unmap only */
}

/* FROM_DEVICE, copy or PRESERVE: the original goes into shared memory (the copy policy's leak) and
 * the bytes the device does not write keep it. BIDIRECTIONAL keeps it whatever the policy. */
static void test_convert_keeps_the_original_under_copy_preserve_and_bidirectional(void **state)
{
    (void)state;
    static const struct {
        enum bounce_policy policy;
        enum dma_data_direction dir;
        unsigned attrs;
    } cases[] = {
        {BOUNCE_COPY, DMA_FROM_DEVICE, 0},
        {BOUNCE_ZERO, DMA_FROM_DEVICE, DMA_ATTR_PRESERVE},
        {BOUNCE_ZERO, DMA_BIDIRECTIONAL, 0},
        {BOUNCE_NONE, DMA_BIDIRECTIONAL, 0},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        dma_shutdown();
        fake_platform_reset();
        start_cc(true, cases[i].policy);
        struct buf b = buf_low(PG, 0);
        fill_seq(b.v, PG);
        dma_addr_t a = dma_map_single_attrs(&dev64, b.v, PG, cases[i].dir, cases[i].attrs);
        assert_int_equal(a, b.phys);
        assert_true(is_seq(bus(a), 0, PG)); /* in shared memory now */
        assert_int_equal(now().orig_bytes_read, PG);
        memset(bus(a), 0x42, 1000);
        dma_unmap_single_attrs(&dev64, a, PG, cases[i].dir, cases[i].attrs);
        assert_true(all_bytes(b.v, 1000, 0x42));
        assert_true(is_seq(b.v, 1000, PG));
        assert_false(fake_page_shared(b.phys));
    }
}

/* FROM_DEVICE, none: the device starts from whatever the host left in the page. */
static void test_convert_from_device_none_leaves_what_the_host_left(void **state)
{
    (void)state;
    start_cc(true, BOUNCE_NONE);
    struct buf b = buf_low(PG, 0xee);
    dma_addr_t a = dma_map_single(&dev64, b.v, PG, DMA_FROM_DEVICE);
    assert_int_equal(a, b.phys);
    assert_true(all_bytes(bus(a), PG, FAKE_CONVERT_JUNK));
    assert_int_equal(now().orig_bytes_read + now().bytes_zeroed, 0);
    dma_unmap_single(&dev64, a, PG, DMA_FROM_DEVICE);
    assert_true(all_bytes(b.v, PG, FAKE_CONVERT_JUNK));
}

/* What cannot be converted bounces, counted: not whole pages, a device that forces bouncing, a
 * buffer beyond the device's mask, pages already shared (a second mapping of the same page). */
static void test_convert_falls_back_to_the_bounce_pool(void **state)
{
    (void)state;
    start_cc(true, BOUNCE_ZERO);
    struct buf lo = buf_low(2 * PG, 0x11), hi = buf_high(PG, 0x22);
    struct dma_dev forced = {.name = "forced", .dma_mask = DMA_BIT_MASK(64), .force_bounce = true};
    dma_addr_t a[5];
    a[0] = dma_map_single(&dev64, lo.v + 16, PG, DMA_TO_DEVICE); /* misaligned */
    a[1] = dma_map_single(&dev64, lo.v, 1000, DMA_TO_DEVICE);    /* part of a page */
    a[2] = dma_map_single(&forced, lo.v, PG, DMA_TO_DEVICE);
    a[3] = dma_map_single(&dev32, hi.v, PG, DMA_TO_DEVICE); /* beyond 32 bits */
    dma_addr_t first = dma_map_single(&dev64, lo.v + PG, PG, DMA_TO_DEVICE);
    a[4] = dma_map_single(&dev64, lo.v + PG, PG, DMA_TO_DEVICE); /* shared by the first */
    assert_int_equal(first, lo.phys + PG);
    for (int i = 0; i < 5; i++)
        assert_true(in_pool(a[i]));
    struct dma_stats s = now();
    assert_int_equal(s.convert_fallbacks, 5);
    assert_int_equal(s.convert_maps, 1);
    assert_int_equal(s.bounced_maps, 5);
    EXPECT_NO_MISUSE({
        dma_unmap_single(&dev64, a[0], PG, DMA_TO_DEVICE);
        dma_unmap_single(&dev64, a[1], 1000, DMA_TO_DEVICE);
        dma_unmap_single(&forced, a[2], PG, DMA_TO_DEVICE);
        dma_unmap_single(&dev32, a[3], PG, DMA_TO_DEVICE);
        dma_unmap_single(&dev64, a[4], PG, DMA_TO_DEVICE);
        dma_unmap_single(&dev64, first, PG, DMA_TO_DEVICE);
    });
    assert_true(all_shared(lo.phys, 2 * PG, false));
    assert_true(all_bytes(lo.v, 2 * PG, 0x11));
}

/* The host refuses: the map fails and the buffer is as it was, private; a refused conversion back
 * leaves the buffer shared but its contents in place. */
static void test_convert_refused_by_the_host(void **state)
{
    (void)state;
    start_cc(true, BOUNCE_ZERO);
    struct buf b = buf_low(PG, 0);
    fill_seq(b.v, PG);
    fake_convert_fail_after(0);
    dma_addr_t a = dma_map_single(&dev64, b.v, PG, DMA_TO_DEVICE);
    assert_true(dma_mapping_error(&dev64, a));
    assert_int_equal(now().map_failures, 1);
    assert_int_equal(now().maps, 0);
    assert_false(fake_page_shared(b.phys));
    assert_true(is_seq(b.v, 0, PG));
    a = dma_map_single(&dev64, b.v, PG, DMA_BIDIRECTIONAL);
    assert_int_equal(a, b.phys);
    memset(bus(a), 0x42, 10);
    fake_convert_fail_after(0);
    EXPECT_NO_MISUSE(dma_unmap_single(&dev64, a, PG, DMA_BIDIRECTIONAL));
    assert_true(fake_page_shared(b.phys)); /* stays shared */
    assert_true(all_bytes(b.v, 10, 0x42));
    assert_true(is_seq(b.v, 10, PG));
    assert_int_equal(now().unmaps, 1);
}

static void test_convert_misuse_is_reported(void **state)
{
    (void)state;
    start_cc(true, BOUNCE_ZERO);
    struct buf b = buf_low(2 * PG, 0x33);
    dma_addr_t a = dma_map_single(&dev64, b.v, 2 * PG, DMA_FROM_DEVICE);
    assert_int_equal(a, b.phys);
    EXPECT_NO_MISUSE(dma_sync_single_for_cpu(&dev64, a + PG, 100, DMA_FROM_DEVICE));
    EXPECT_MISUSE(&dev64, dma_sync_single_for_cpu(&dev64, a, 100, DMA_TO_DEVICE));
    EXPECT_MISUSE(&dev32, dma_sync_single_for_cpu(&dev32, a, 100, DMA_FROM_DEVICE));
    EXPECT_MISUSE(&dev32, dma_unmap_single(&dev32, a, 2 * PG, DMA_FROM_DEVICE)); /* refused: */
    assert_true(all_shared(b.phys, 2 * PG, true));                               /* still live */
    EXPECT_MISUSE(&dev64, dma_unmap_single(&dev64, a, PG, DMA_FROM_DEVICE));     /* wrong size: torn down */
    assert_true(all_shared(b.phys, 2 * PG, false));
    EXPECT_MISUSE(&dev64, dma_unmap_single(&dev64, a, 2 * PG, DMA_FROM_DEVICE)); /* double */
    assert_int_equal(now().maps, now().unmaps);
}

/* A scatterlist of pages: each entry converted on its own; a failure undoes the ones before. */
static void test_convert_scatterlist(void **state)
{
    (void)state;
    start_cc(true, BOUNCE_ZERO);
    struct buf b = buf_low(3 * PG, 0);
    fill_seq(b.v, 3 * PG);
    struct scatterlist sg[3] = {
        {.phys = b.phys + 2 * PG, .length = PG}, {.phys = b.phys, .length = PG}, {.phys = b.phys + PG, .length = PG}};
    assert_int_equal(dma_map_sg(&dev64, sg, 3, DMA_TO_DEVICE), 3);
    for (int i = 0; i < 3; i++)
        assert_int_equal(sg[i].dma_address, sg[i].phys);
    dma_unmap_sg(&dev64, sg, 3, DMA_TO_DEVICE);
    fake_convert_fail_after(2); /* the third entry's conversion is refused */
    assert_int_equal(dma_map_sg(&dev64, sg, 3, DMA_TO_DEVICE), 0);
    assert_true(all_shared(b.phys, 3 * PG, false));
    assert_true(is_seq(b.v, 0, 3 * PG));
    struct dma_stats s = now();
    assert_int_equal(s.maps, s.unmaps);
    assert_int_equal(s.convert_maps, 5);
    assert_int_equal(s.map_failures, 1);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

/* With DMA_ATTR_SKIP_CPU_SYNC nothing is copied at map - and then a slot the device may write must
 * still not hand the previous user's bytes to this original, whatever the policy (but none). */
static void test_skip_cpu_sync_never_leaks_the_previous_users_data(void **state)
{
    (void)state;
    static const struct {
        enum bounce_policy policy;
        enum dma_data_direction dir;
        unsigned attrs;
    } cases[] = {
        {BOUNCE_COPY, DMA_FROM_DEVICE, DMA_ATTR_SKIP_CPU_SYNC},
        {BOUNCE_ZERO, DMA_FROM_DEVICE, DMA_ATTR_SKIP_CPU_SYNC | DMA_ATTR_PRESERVE},
        {BOUNCE_ZERO, DMA_BIDIRECTIONAL, DMA_ATTR_SKIP_CPU_SYNC},
        {BOUNCE_COPY, DMA_BIDIRECTIONAL, DMA_ATTR_SKIP_CPU_SYNC},
    };
    const size_t n = PAGE_SIZE;
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        restart(2 * SLOT, BOUNCE_COPY); /* under copy, A's secret stays in the slots after its unmap */
        struct buf a = buf_high(n, 0);
        memcpy(a.v, "password=hunter2", 16);
        dma_addr_t da = dma_map_single(&dev32, a.v, n, DMA_TO_DEVICE);
        dma_unmap_single(&dev32, da, n, DMA_TO_DEVICE);
        dma_set_bounce_policy(cases[i].policy);
        struct buf b = buf_high(n, 0xEE);
        dma_addr_t db = dma_map_single_attrs(&dev32, b.v, n, cases[i].dir, cases[i].attrs);
        assert_int_equal(db, da); /* the same slots */
        assert_null(memmem(bus(db), n, "hunter2", 7));
        /* The caller syncs for the CPU (as SKIP_CPU_SYNC requires) without the device writing. */
        EXPECT_NO_MISUSE(dma_sync_single_for_cpu(&dev32, db, n, cases[i].dir));
        EXPECT_NO_MISUSE(dma_unmap_single_attrs(&dev32, db, n, cases[i].dir, cases[i].attrs));
        if (memmem(b.v, n, "hunter2", 7) != NULL)
            fail_msg("case %zu (%s, %s): B received A's secret", i, bounce_policy_name(cases[i].policy),
                     dma_dir_name(cases[i].dir));
    }
}

/* Under the zero policy the slots of a mapping the device writes are cleared when it goes, and the
 * next map of those slots (the cursor steps back onto them) has nothing to zero. A TO_DEVICE
 * mapping leaves its slots dirty, and the next map the device writes through zeroes them. */
static void test_zero_policy_leaves_device_written_slots_clean(void **state)
{
    (void)state;
    start(64 * SLOT, BOUNCE_ZERO);
    static const enum dma_data_direction dirs[] = {DMA_FROM_DEVICE, DMA_BIDIRECTIONAL, DMA_TO_DEVICE, DMA_FROM_DEVICE};
    struct buf o = buf_high(6000, ORIG);
    dma_addr_t first = 0;
    for (size_t i = 0; i < ARRAY_LEN(dirs); i++) {
        bool after_to = i > 0 && dirs[i - 1] == DMA_TO_DEVICE;
        dma_stats_reset();
        dma_addr_t a = dma_map_single(&dev32, o.v, 6000, dirs[i]);
        if (i == 0)
            first = a;
        assert_int_equal(a, first); /* map, unmap, map: the same (cache-hot) slots */
        /* Zeroed at map: nothing after a mapping that cleared them; all 3 after a TO_DEVICE one. */
        assert_int_equal(now().bytes_zeroed, after_to ? 3 * SLOT : 0);
        if (dirs[i] == DMA_FROM_DEVICE)
            expect_fill("the device gets zeros", bus(a), 6000, 0);
        memset(bus(a), DEVICE, 6000);
        EXPECT_NO_MISUSE(dma_unmap_single(&dev32, a, 6000, dirs[i]));
        bool cleared = dirs[i] != DMA_TO_DEVICE;
        if (cleared)
            expect_fill("cleared at unmap", bus(a), 3 * SLOT, 0);
        else
            expect_fill("left as the device wrote it", bus(a), 6000, DEVICE);
        assert_int_equal(now().bytes_zeroed, (after_to ? 3 * SLOT : 0) + (cleared ? 3 * SLOT : 0));
        memset(o.v, ORIG, 6000);
    }
}

/* A bounced mapping belongs to the device that made it. */
static void test_other_devices_cannot_unmap_or_sync_a_bounce(void **state)
{
    (void)state;
    start(64 * SLOT, BOUNCE_ZERO);
    struct dma_dev other = {.name = "other32", .dma_mask = DMA_BIT_MASK(32)};
    struct buf o = buf_high(3000, ORIG);
    dma_addr_t a = dma_map_single(&dev32, o.v, 3000, DMA_FROM_DEVICE);
    assert_true(in_pool(a));
    EXPECT_MISUSE(&other, dma_unmap_single(&other, a, 3000, DMA_FROM_DEVICE));
    EXPECT_MISUSE(&other, dma_sync_single_for_cpu(&other, a, 3000, DMA_FROM_DEVICE));
    assert_int_equal(now().slots_in_use, 2); /* still dev32's */
    EXPECT_NO_MISUSE(dma_unmap_single(&dev32, a, 3000, DMA_FROM_DEVICE));
    EXPECT_MISUSE(&dev32, dma_sync_single_for_cpu(&dev32, a, 0, DMA_FROM_DEVICE)); /* 0 bytes */
}

static void test_coherent_double_free_is_misuse(void **state)
{
    (void)state;
    start(64 * SLOT, BOUNCE_ZERO);
    dma_addr_t h;
    void *c = dma_alloc_coherent(&dev32, 100, &h);
    assert_non_null(c);
    EXPECT_NO_MISUSE(dma_free_coherent(&dev32, 100, c, h));
    EXPECT_MISUSE(&dev32, dma_free_coherent(&dev32, 100, c, h));
    assert_int_equal(now().coherent_frees, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_init_and_pool_size),
        T(test_skip_cpu_sync_never_leaks_the_previous_users_data),
        T(test_zero_policy_leaves_device_written_slots_clean),
        T(test_other_devices_cannot_unmap_or_sync_a_bounce),
        T(test_coherent_double_free_is_misuse),
        T(test_bounce_only_when_unreachable_or_forced),
        T(test_every_policy_direction_and_write_pattern),
        T(test_exact_completion_copies_back_what_was_written_and_nothing_else),
        T(test_exact_completion_of_a_scatterlist_fills_entries_in_order),
        T(test_exact_completion_mapping_unmapped_without_a_length_is_misuse),
        T(test_direct_mappings_ignore_the_policy),
        T(test_none_policy_leaks_the_previous_users_data),
        T(test_preserve_gives_copy_behaviour_under_zero),
        T(test_skip_cpu_sync_skips_copies_but_not_the_zero_fill),
        T(test_sync_copies_per_direction),
        T(test_bounce_addresses_follow_the_pool_rules),
        T(test_max_mapping_size_and_unreachable_pool),
        T(test_exhaustion_fails_cleanly_and_recovers),
        T(test_unmap_of_unmapped_address_is_misuse),
        T(test_double_unmap_is_misuse),
        T(test_unmap_with_other_size_or_direction_is_reported_and_torn_down_as_mapped),
        T(test_unmap_inside_a_mapping_is_refused),
        T(test_bad_syncs_are_misuse_and_copy_nothing),
        T(test_bad_maps_are_misuse),
        T(test_free_coherent_with_wrong_handle_is_misuse),
        T(test_sg_maps_every_entry),
        T(test_sg_failure_undoes_every_entry),
        T(test_coherent_memory_is_zeroed_and_within_the_mask),
        T(test_stats_json_has_every_counter),
        T(test_zero_policy_never_reads_the_original),
        T(test_confidential_pool_and_coherent_memory_are_shared_and_zero),
        T(test_confidential_coherent_free_refused_by_the_host),
        T(test_convert_to_device_keeps_contents_across_both_conversions),
        T(test_convert_from_device_zero_never_reads_the_original),
        T(test_convert_keeps_the_original_under_copy_preserve_and_bidirectional),
        T(test_convert_from_device_none_leaves_what_the_host_left),
        T(test_convert_falls_back_to_the_bounce_pool),
        T(test_convert_refused_by_the_host),
        T(test_convert_misuse_is_reported),
        T(test_convert_scatterlist),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
