/* SPDX-License-Identifier: MIT */
/* suite_dma.c - the DMA API (dma/dma.h) on the guest's real memory: when a mapping bounces, what
 * the CPU sees after each policy x direction x partial device write, the stale-slot leak of the
 * `none` policy, syncs, pool exhaustion, misuse reports, scatter-gather and coherent memory.
 *
 * The "device" is the test itself: it reads and writes the memory behind a DMA address through
 * phys_to_virt(dma_addr), exactly where a bus-mastering device would (no IOMMU: DMA address =
 * physical address).
 *
 * Every case leaves the DMA layer as it found it - bounce policy, trace, platform force_bounce, no
 * live mappings, no frames held - because the counters are printed at the end of the run
 * ("BOUNCE-REPORT dma {...}") and other suites run after this one. guard_begin()/guard_end()
 * restore the policy and the trace setting and check the rest; the one case that sets the
 * platform's force_bounce puts back what it found. Cases about RAM above 4 GiB skip without it;
 * the others make a low buffer bounce with dev->force_bounce instead, the same slot path.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dma/dma.h"
#include "mm/dma_guest.h"
#include "dma/swiotlb.h"
#include "mm/mm.h"
#include "ktest/ktest.h"
#include "lib/units.h"

#define NO_HIGH_REASON "no RAM above 4 GiB (boot with -m 6G on -machine pc)"

static bool have_high(void) { return mm_frames()->zones[ZONE_HIGH].managed > 0; }

static struct dma_stats stats_now(void)
{
    struct dma_stats s;
    dma_get_stats(&s);
    return s;
}

/* ---- leave the DMA layer as it was found ---- */

struct guard {
    enum bounce_policy policy;
    bool trace, force_bounce, convert;
    uint64_t live_maps, slots_in_use, coherent_live, free_frames;
};

static void guard_begin(struct guard *g)
{
    struct dma_stats s = stats_now();
    g->policy = dma_bounce_policy();
    g->trace = dma_guest_trace();
    g->force_bounce = dma_guest_force_bounce();
    g->convert = dma_guest_convert();
    g->live_maps = s.maps - s.unmaps;
    g->slots_in_use = s.slots_in_use;
    g->coherent_live = s.coherent_allocs - s.coherent_frees;
    g->free_frames = frame_alloc_free_frames(mm_frames());
}

static void guard_end(struct ktest *t, const struct guard *g)
{
    dma_set_bounce_policy(g->policy);
    dma_guest_set_trace(g->trace);
    dma_guest_set_force_bounce(g->force_bounce);
    dma_guest_set_convert(g->convert);
    struct dma_stats s = stats_now();
    KEXPECT_MSG(t, s.maps - s.unmaps == g->live_maps, "%" PRIu64 " live mappings left behind",
                (s.maps - s.unmaps - g->live_maps));
    KEXPECT_EQ(t, s.slots_in_use, g->slots_in_use);
    KEXPECT_EQ(t, s.coherent_allocs - s.coherent_frees, g->coherent_live);
    KEXPECT_EQ(t, frame_alloc_free_frames(mm_frames()), g->free_frames);
}

/* For the cases about the direct path: in a confidential guest (or with swiotlb_force) the
 * platform bounces every mapping, so it stops for the case (guard_end() puts it back). The "device"
 * of these cases is the test itself, so no real device ever sees the private buffers. */
static void direct_path(struct ktest *t)
{
    if (!dma_guest_force_bounce())
        return;
    ktest_note(t, "the platform bounces every mapping (mode=confidential or swiotlb_force): off for this case");
    dma_guest_set_force_bounce(false);
    dma_guest_set_convert(false);
}

/* ---- buffers and byte patterns ---- */

struct buf {
    uint64_t pa, pages;
    uint8_t *va;
};

static bool buf_alloc(struct buf *b, enum frame_zone_pref pref, uint64_t pages)
{
    b->pages = pages;
    b->pa = alloc_pages(pref, pages);
    b->va = b->pa == FRAME_NONE ? NULL : phys_to_virt(b->pa);
    return b->va != NULL;
}

static void buf_free(struct ktest *t, struct buf *b)
{
    if (b->va)
        KEXPECT(t, free_pages(b->pa, b->pages));
    b->va = NULL;
}

/* Pattern bytes are never zero, and differ between seeds at every index, so "zeros", "the
 * original" and "what the device wrote" can always be told apart. */
static uint8_t pat(uint8_t seed, size_t i) { return (uint8_t)((i * 131 + seed * 17u) % 255 + 1); }

static void fill_pat(uint8_t *p, size_t from, size_t to, uint8_t seed)
{
    for (size_t i = from; i < to; i++)
        p[i] = pat(seed, i);
}

#define ALL_GOOD ((size_t)-1)

/* The first index in [from, to) that breaks the expectation, or ALL_GOOD. */
static size_t bad_pat(const uint8_t *p, size_t from, size_t to, uint8_t seed)
{
    for (size_t i = from; i < to; i++)
        if (p[i] != pat(seed, i))
            return i;
    return ALL_GOOD;
}

static size_t bad_byte(const uint8_t *p, size_t from, size_t to, uint8_t v)
{
    for (size_t i = from; i < to; i++)
        if (p[i] != v)
            return i;
    return ALL_GOOD;
}

static size_t bad_same(const uint8_t *p, const uint8_t *want, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++)
        if (p[i] != want[i])
            return i;
    return ALL_GOOD;
}

enum { ORIG = 1, DEVICE = 2, OTHER = 3, CANARY = 0xcc };

/* A 32-bit device (PIIX IDE bus master) and a buffer it has to bounce: above 4 GiB when there is
 * RAM there, else below 4 GiB with dev->force_bounce set - the same slot path for another reason. */
static void dev32_init(struct dma_dev *dev, const char *name)
{
    *dev = (struct dma_dev){.name = name, .dma_mask = DMA_BIT_MASK(32)};
}

static bool bounce_buf(struct ktest *t, struct dma_dev *dev, struct buf *b, uint64_t pages)
{
    if (!buf_alloc(b, FRAME_PREFER_HIGH, pages)) {
        ktest_fail(t, __FILE__, __LINE__, "no %" PRIu64 " free frames", pages);
        return false;
    }
    if (b->pa + pages * PAGE_SIZE <= GiB(4) && !dev->force_bounce) {
        static const char *noted; /* once per case */
        dev->force_bounce = true;
        if (noted != t->name)
            ktest_note(t, "no RAM above 4 GiB: %s bounces buffers below 4 GiB by force_bounce", dev->name);
        noted = t->name;
    }
    return true;
}

/* ---- the bounce decision ---- */

static void dev32_bounces_high_buffer(struct ktest *t)
{
    if (!have_high()) {
        ktest_skip(t, NO_HIGH_REASON);
        return;
    }
    struct guard g;
    guard_begin(&g);
    struct dma_dev dev;
    dev32_init(&dev, "piix-ide");
    struct buf b;
    KASSERT(t, buf_alloc(&b, FRAME_HIGH, 1));
    KEXPECT(t, b.pa >= GiB(4));
    const size_t size = 512;
    fill_pat(b.va, 0, size, ORIG);
    KEXPECT(t, !dma_capable(&dev, b.pa, size));
    struct dma_stats s0 = stats_now();
    dma_addr_t d = dma_map_single(&dev, b.va, size, DMA_TO_DEVICE);
    struct dma_stats s1 = stats_now();
    if (dma_mapping_error(&dev, d)) {
        ktest_fail(t, __FILE__, __LINE__, "map failed");
    } else {
        KEXPECT(t, d != b.pa);
        KEXPECT_MSG(t, d + size - 1 <= DMA_BIT_MASK(32), "bounce address %#" PRIx64 " beyond the device's mask", d);
        KEXPECT_EQ(t, s1.bounced_maps, s0.bounced_maps + 1);
        KEXPECT_EQ(t, s1.maps, s0.maps + 1);
        KEXPECT(t, s1.slots_in_use > s0.slots_in_use);
        KEXPECT_EQ(t, bad_pat(phys_to_virt(d), 0, size, ORIG), ALL_GOOD); /* the device reads the data */
        dma_unmap_single(&dev, d, size, DMA_TO_DEVICE);
        struct dma_stats s2 = stats_now();
        KEXPECT_EQ(t, s2.slots_in_use, s0.slots_in_use);
        KEXPECT_EQ(t, s2.unmaps, s0.unmaps + 1);
        ktest_note(t, "cpu %#" PRIx64 " -> dma %#" PRIx64 ", %" PRIu64 " slot(s) while mapped", b.pa, d,
                   (s1.slots_in_use - s0.slots_in_use));
    }
    buf_free(t, &b);
    guard_end(t, &g);
}

static void dev32_maps_low_buffer_directly(struct ktest *t)
{
    struct guard g;
    guard_begin(&g);
    direct_path(t);
    struct dma_dev dev;
    dev32_init(&dev, "piix-ide");
    struct buf b;
    KASSERT(t, buf_alloc(&b, FRAME_DMA32, 1));
    struct dma_stats s0 = stats_now();
    dma_addr_t d = dma_map_single(&dev, b.va + 100, 1000, DMA_FROM_DEVICE);
    struct dma_stats s1 = stats_now();
    KEXPECT_EQ(t, d, b.pa + 100);
    KEXPECT_EQ(t, s1.bounced_maps, s0.bounced_maps);
    KEXPECT_EQ(t, s1.maps, s0.maps + 1);
    KEXPECT_EQ(t, s1.slots_in_use, s0.slots_in_use);
    KEXPECT_EQ(t, s1.bytes_zeroed, s0.bytes_zeroed); /* a direct mapping touches nothing */
    if (!dma_mapping_error(&dev, d))
        dma_unmap_single(&dev, d, 1000, DMA_FROM_DEVICE);
    KEXPECT_EQ(t, stats_now().misuse, s0.misuse);
    buf_free(t, &b);
    guard_end(t, &g);
}

static void dev64_never_bounces(struct ktest *t)
{
    struct guard g;
    guard_begin(&g);
    direct_path(t);
    struct dma_dev dev = {.name = "nvme", .dma_mask = DMA_BIT_MASK(64)};
    struct buf lo, hi = {0};
    KASSERT(t, buf_alloc(&lo, FRAME_DMA32, 1));
    if (have_high() && !buf_alloc(&hi, FRAME_HIGH, 1))
        ktest_fail(t, __FILE__, __LINE__, "no high frame");
    struct buf *bufs[2] = {&lo, &hi};
    struct dma_stats s0 = stats_now();
    for (int i = 0; i < 2; i++) {
        if (!bufs[i]->va)
            continue;
        for (int dir = DMA_BIDIRECTIONAL; dir <= DMA_FROM_DEVICE; dir++) {
            dma_addr_t d = dma_map_single(&dev, bufs[i]->va, PAGE_SIZE, (enum dma_data_direction)dir);
            KEXPECT_EQ(t, d, bufs[i]->pa);
            if (!dma_mapping_error(&dev, d))
                dma_unmap_single(&dev, d, PAGE_SIZE, (enum dma_data_direction)dir);
        }
    }
    struct dma_stats s1 = stats_now();
    KEXPECT_EQ(t, s1.bounced_maps, s0.bounced_maps);
    KEXPECT_EQ(t, s1.bytes_copied_in + s1.bytes_copied_out + s1.bytes_zeroed,
               s0.bytes_copied_in + s0.bytes_copied_out + s0.bytes_zeroed);
    if (!hi.va)
        ktest_note(t, "only a buffer below 4 GiB checked: no RAM above 4 GiB");
    buf_free(t, &hi);
    buf_free(t, &lo);
    guard_end(t, &g);
}

static void dev_force_bounce(struct ktest *t)
{
    struct guard g;
    guard_begin(&g);
    direct_path(t);
    struct dma_dev dev = {.name = "forced", .dma_mask = DMA_BIT_MASK(64), .force_bounce = true};
    struct buf b;
    KASSERT(t, buf_alloc(&b, FRAME_DMA32, 1));
    fill_pat(b.va, 0, 256, ORIG);
    struct dma_stats s0 = stats_now();
    dma_addr_t d = dma_map_single(&dev, b.va, 256, DMA_TO_DEVICE);
    KEXPECT(t, !dma_mapping_error(&dev, d));
    KEXPECT(t, d != b.pa);
    KEXPECT_EQ(t, stats_now().bounced_maps, s0.bounced_maps + 1);
    if (!dma_mapping_error(&dev, d)) {
        KEXPECT_EQ(t, bad_pat(phys_to_virt(d), 0, 256, ORIG), ALL_GOOD);
        dma_unmap_single(&dev, d, 256, DMA_TO_DEVICE);
    }
    /* The same device without the flag maps the same buffer directly. */
    dev.force_bounce = false;
    d = dma_map_single(&dev, b.va, 256, DMA_TO_DEVICE);
    KEXPECT_EQ(t, d, b.pa);
    if (!dma_mapping_error(&dev, d))
        dma_unmap_single(&dev, d, 256, DMA_TO_DEVICE);
    buf_free(t, &b);
    guard_end(t, &g);
}

/* Is the platform forcing bounces now? dma_guest has no getter, so ask the DMA layer: a 64-bit
 * device mapping a byte of the kernel's own memory bounces only if the platform forces it. */
static bool platform_forcing(void)
{
    static uint8_t probe_byte;
    struct dma_dev dev = {.name = "probe", .dma_mask = DMA_BIT_MASK(64)};
    dma_addr_t d = dma_map_single(&dev, &probe_byte, 1, DMA_TO_DEVICE);
    if (dma_mapping_error(&dev, d))
        return false;
    dma_unmap_single(&dev, d, 1, DMA_TO_DEVICE);
    return d != virt_to_phys(&probe_byte);
}

static void platform_force_bounce(struct ktest *t)
{
    struct guard g;
    guard_begin(&g);
    bool was = platform_forcing();
    struct dma_dev d64 = {.name = "nvme", .dma_mask = DMA_BIT_MASK(64)}, d32;
    dev32_init(&d32, "piix-ide");
    struct buf b;
    KASSERT(t, buf_alloc(&b, FRAME_DMA32, 1));
    fill_pat(b.va, 0, PAGE_SIZE, ORIG);
    dma_guest_set_force_bounce(true);
    dma_guest_set_convert(false); /* cc_io=convert would convert this page instead (guard_end restores) */
    struct dma_stats s0 = stats_now();
    struct dma_dev *devs[2] = {&d64, &d32};
    for (int i = 0; i < 2; i++) {
        dma_addr_t d = dma_map_single(devs[i], b.va, PAGE_SIZE, DMA_BIDIRECTIONAL);
        KEXPECT_MSG(t, !dma_mapping_error(devs[i], d) && d != b.pa, "%s: dma %#" PRIx64 " for cpu %#" PRIx64,
                    devs[i]->name, d, b.pa);
        if (!dma_mapping_error(devs[i], d))
            dma_unmap_single(devs[i], d, PAGE_SIZE, DMA_BIDIRECTIONAL);
    }
    KEXPECT_EQ(t, stats_now().bounced_maps, s0.bounced_maps + 2);
    dma_guest_set_force_bounce(was);
    KEXPECT(t, platform_forcing() == was);
    buf_free(t, &b);
    guard_end(t, &g);
}

/* ---- policy x direction x what the device writes ---- */

enum wr { WR_ALL, WR_PART, WR_NONE };
static const char *const wr_names[] = {"all", "part", "none"};

static void policy_matrix(struct ktest *t, enum bounce_policy pol)
{
    struct guard g;
    guard_begin(&g);
    dma_set_bounce_policy(pol);
    struct dma_dev dev;
    dev32_init(&dev, "piix-ide");
    struct buf b;
    static uint8_t seen[8192]; /* what the device found in the slot at map time */
    const size_t off = 96, size = 5000;
    if (!bounce_buf(t, &dev, &b, 2))
        goto out;
    uint8_t *orig = b.va + off;
    for (int dir = DMA_BIDIRECTIONAL; dir <= DMA_FROM_DEVICE; dir++) {
        for (int w = WR_ALL; w <= WR_NONE; w++) {
            const char *dn = dma_dir_name((enum dma_data_direction)dir);
            size_t wlo = w == WR_ALL ? 0 : size / 4, whi = w == WR_ALL ? size : w == WR_PART ? size / 2 + 1 : size / 4;
            memset(b.va, CANARY, 2 * PAGE_SIZE);
            fill_pat(orig, 0, size, ORIG);
            struct dma_stats s0 = stats_now();
            dma_addr_t d = dma_map_single(&dev, orig, size, (enum dma_data_direction)dir);
            if (dma_mapping_error(&dev, d) || d == b.pa + off) {
                ktest_fail(t, __FILE__, __LINE__, "%s: map did not bounce (%#" PRIx64 ")", dn, d);
                if (!dma_mapping_error(&dev, d))
                    dma_unmap_single(&dev, d, size, (enum dma_data_direction)dir);
                continue;
            }
            uint8_t *slot = phys_to_virt(d);
            memcpy(seen, slot, size);
            /* What the device sees before it writes. */
            size_t bad;
            if (dir != DMA_FROM_DEVICE || pol == BOUNCE_COPY)
                bad = bad_pat(slot, 0, size, ORIG);
            else if (pol == BOUNCE_ZERO)
                bad = bad_byte(slot, 0, size, 0);
            else
                bad = ALL_GOOD; /* none: whatever the previous user left */
            KEXPECT_MSG(t, bad == ALL_GOOD, "%s/%s: slot byte %zu at map is %#x", dn, wr_names[w], bad,
                        bad == ALL_GOOD ? 0 : slot[bad]);
            struct dma_stats sm = stats_now(); /* after the map, before the unmap */
            fill_pat(slot, wlo, whi, DEVICE);  /* the device's DMA */
            dma_unmap_single(&dev, d, size, (enum dma_data_direction)dir);
            struct dma_stats s1 = stats_now();

            /* What the CPU sees now. */
            if (dir == DMA_TO_DEVICE) {
                bad = bad_pat(orig, 0, size, ORIG); /* nothing comes back from a TO_DEVICE mapping */
                KEXPECT_MSG(t, bad == ALL_GOOD, "%s/%s: byte %zu changed", dn, wr_names[w], bad);
            } else {
                bad = bad_pat(orig, wlo, whi, DEVICE);
                KEXPECT_MSG(t, bad == ALL_GOOD, "%s/%s: written byte %zu is not the device's", dn, wr_names[w], bad);
                size_t bad_lo, bad_hi;
                const char *want;
                if (dir == DMA_BIDIRECTIONAL || pol == BOUNCE_COPY) {
                    want = "the original's";
                    bad_lo = bad_pat(orig, 0, wlo, ORIG);
                    bad_hi = bad_pat(orig, whi, size, ORIG);
                } else if (pol == BOUNCE_ZERO) {
                    want = "zero";
                    bad_lo = bad_byte(orig, 0, wlo, 0);
                    bad_hi = bad_byte(orig, whi, size, 0);
                } else {
                    want = "the slot's previous contents";
                    bad_lo = bad_same(orig, seen, 0, wlo);
                    bad_hi = bad_same(orig, seen, whi, size);
                }
                KEXPECT_MSG(t, bad_lo == ALL_GOOD && bad_hi == ALL_GOOD, "%s/%s: unwritten byte %zu is not %s", dn,
                            wr_names[w], bad_lo != ALL_GOOD ? bad_lo : bad_hi, want);
            }
            /* Nothing outside [orig, orig + size) was written. */
            KEXPECT_EQ(t, bad_byte(b.va, 0, off, CANARY), ALL_GOOD);
            KEXPECT_EQ(t, bad_byte(b.va, off + size, 2 * PAGE_SIZE, CANARY), ALL_GOOD);

            /* The books. */
            bool from = dir == DMA_FROM_DEVICE;
            uint64_t read = !from || pol == BOUNCE_COPY ? size : 0;
            KEXPECT_EQ(t, s1.orig_bytes_read - s0.orig_bytes_read, read);
            KEXPECT_EQ(t, s1.bytes_copied_in - s0.bytes_copied_in, read);
            /* Zeroing: only the zero policy zeroes, whole slots, for mappings the device writes - at
             * map the slots some other use left dirty (a multiple of 2 KiB, at most the run), at
             * unmap the whole run. */
            uint64_t run = (((d & (SWIOTLB_SLOT_SIZE - 1)) + size + (SWIOTLB_SLOT_SIZE - 1)) / SWIOTLB_SLOT_SIZE) *
                SWIOTLB_SLOT_SIZE;
            uint64_t zmap = sm.bytes_zeroed - s0.bytes_zeroed, zunmap = s1.bytes_zeroed - sm.bytes_zeroed;
            bool zeroing = pol == BOUNCE_ZERO && dir != DMA_TO_DEVICE; /* TO_DEVICE slots stay dirty */
            KEXPECT_EQ(t, zunmap, zeroing ? run : 0);
            KEXPECT_MSG(t, zeroing ? zmap % SWIOTLB_SLOT_SIZE == 0 && zmap <= run : zmap == 0,
                        "%s/%s: %" PRIu64 " bytes zeroed at map", dn, wr_names[w], zmap);
            KEXPECT_EQ(t, s1.bytes_copied_out - s0.bytes_copied_out, dir == DMA_TO_DEVICE ? 0 : size);
            KEXPECT_EQ(t, s1.bounced_maps - s0.bounced_maps, 1);
            KEXPECT_EQ(t, s1.bytes_bounced - s0.bytes_bounced, size);
            KEXPECT_EQ(t, s1.misuse, s0.misuse);
        }
    }
    buf_free(t, &b);
out:
    guard_end(t, &g);
}

/* The exact column: under the zero policy, mapped with DMA_ATTR_EXACT_COMPLETION, the device
 * writes a prefix (all, part, none) and the driver completes with its length. The original gets
 * exactly the written bytes and keeps every other byte; nothing is zeroed, at map or unmap; a
 * FROM_DEVICE original is never read; one memcpy of what was written comes back. */
static void exact_completion_matrix(struct ktest *t)
{
    struct guard g;
    guard_begin(&g);
    dma_set_bounce_policy(BOUNCE_ZERO);
    struct dma_dev dev;
    dev32_init(&dev, "piix-ide");
    struct buf b;
    const size_t off = 96, size = 5000;
    if (!bounce_buf(t, &dev, &b, 2))
        goto out;
    uint8_t *orig = b.va + off;
    for (int dir = DMA_BIDIRECTIONAL; dir <= DMA_FROM_DEVICE; dir += 2) { /* the two the device writes */
        for (int w = WR_ALL; w <= WR_NONE; w++) {
            const char *dn = dma_dir_name((enum dma_data_direction)dir);
            size_t written = w == WR_ALL ? size : w == WR_PART ? size / 2 + 1 : 0;
            memset(b.va, CANARY, 2 * PAGE_SIZE);
            fill_pat(orig, 0, size, ORIG);
            struct dma_stats s0 = stats_now();
            dma_addr_t d =
                dma_map_single_attrs(&dev, orig, size, (enum dma_data_direction)dir, DMA_ATTR_EXACT_COMPLETION);
            if (dma_mapping_error(&dev, d) || d == b.pa + off) {
                ktest_fail(t, __FILE__, __LINE__, "%s: map did not bounce (%#" PRIx64 ")", dn, d);
                if (!dma_mapping_error(&dev, d))
                    dma_unmap_single_written(&dev, d, size, (enum dma_data_direction)dir, 0);
                continue;
            }
            fill_pat(phys_to_virt(d), 0, written, DEVICE); /* the device's DMA: a prefix */
            dma_unmap_single_written(&dev, d, size, (enum dma_data_direction)dir, written);
            struct dma_stats s1 = stats_now();
            size_t bad = bad_pat(orig, 0, written, DEVICE);
            KEXPECT_MSG(t, bad == ALL_GOOD, "%s/%s: written byte %zu is not the device's", dn, wr_names[w], bad);
            bad = bad_pat(orig, written, size, ORIG);
            KEXPECT_MSG(t, bad == ALL_GOOD, "%s/%s: unwritten byte %zu is not the original's", dn, wr_names[w], bad);
            KEXPECT_EQ(t, bad_byte(b.va, 0, off, CANARY), ALL_GOOD);
            KEXPECT_EQ(t, bad_byte(b.va, off + size, 2 * PAGE_SIZE, CANARY), ALL_GOOD);
            KEXPECT_EQ(t, s1.bytes_zeroed - s0.bytes_zeroed, 0);
            KEXPECT_EQ(t, s1.orig_bytes_read - s0.orig_bytes_read, dir == DMA_FROM_DEVICE ? 0 : size);
            KEXPECT_EQ(t, s1.bytes_copied_out - s0.bytes_copied_out, written);
            KEXPECT_EQ(t, s1.exact_unmaps - s0.exact_unmaps, 1);
            KEXPECT_EQ(t, s1.bytes_not_written - s0.bytes_not_written, size - written);
            KEXPECT_EQ(t, s1.misuse, s0.misuse);
        }
    }
    buf_free(t, &b);
out:
    guard_end(t, &g);
}

static void policy_zero_matrix(struct ktest *t) { policy_matrix(t, BOUNCE_ZERO); }
static void policy_copy_matrix(struct ktest *t) { policy_matrix(t, BOUNCE_COPY); }
static void policy_none_matrix(struct ktest *t) { policy_matrix(t, BOUNCE_NONE); }

/* The zero policy never reads the original of a FROM_DEVICE mapping; copy reads all of it. */
static void zero_never_reads_original(struct ktest *t)
{
    struct guard g;
    guard_begin(&g);
    struct dma_dev dev;
    dev32_init(&dev, "piix-ide");
    struct buf b;
    if (!bounce_buf(t, &dev, &b, 4))
        goto out;
    const size_t size = 4 * PAGE_SIZE;
    enum bounce_policy pols[2] = {BOUNCE_ZERO, BOUNCE_COPY};
    for (int i = 0; i < 2; i++) {
        dma_set_bounce_policy(pols[i]);
        struct dma_stats s0 = stats_now();
        dma_addr_t d = dma_map_single(&dev, b.va, size, DMA_FROM_DEVICE);
        KEXPECT(t, !dma_mapping_error(&dev, d));
        if (!dma_mapping_error(&dev, d)) {
            fill_pat(phys_to_virt(d), 0, size, DEVICE); /* the device writes everything */
            dma_unmap_single(&dev, d, size, DMA_FROM_DEVICE);
        }
        struct dma_stats s1 = stats_now();
        uint64_t read = s1.orig_bytes_read - s0.orig_bytes_read;
        KEXPECT_EQ(t, read, pols[i] == BOUNCE_COPY ? size : 0);
        KEXPECT_EQ(t, bad_pat(b.va, 0, size, DEVICE), ALL_GOOD);
        ktest_note(t, "policy %s: %" PRIu64 " bytes of the original read for a %zu-byte FROM_DEVICE mapping",
                   bounce_policy_name(pols[i]), read, size);
    }
    buf_free(t, &b);
out:
    guard_end(t, &g);
}

/* ---- stale slots: what a FROM_DEVICE mapping inherits from the previous user of its slots ---- */

/* Fill every free slot of the pool with mappings of a forced-bounce device (TO_DEVICE, no CPU
 * sync: nothing is copied), so the next mapping must land on whatever the caller frees next. */
struct fillers {
    struct dma_dev dev;
    struct buf b;
    dma_addr_t *addr;
    size_t *len;
    size_t n;
};

static bool fillers_fill(struct ktest *t, struct fillers *f)
{
    struct dma_stats s = stats_now();
    size_t cap = (size_t)(s.slots_total - s.slots_in_use) + 1; /* at most one mapping per free slot */
    f->dev = (struct dma_dev){.name = "filler", .dma_mask = DMA_BIT_MASK(64), .force_bounce = true};
    f->n = 0;
    f->addr = malloc(cap * sizeof(*f->addr));
    f->len = malloc(cap * sizeof(*f->len));
    if (!f->addr || !f->len ||
        !buf_alloc(&f->b, FRAME_PREFER_HIGH, SWIOTLB_MAX_MAPPING_SLOTS * SWIOTLB_SLOT_SIZE / PAGE_SIZE)) {
        ktest_fail(t, __FILE__, __LINE__, "no memory for the fillers");
        return false;
    }
    bool trace = dma_guest_trace();
    dma_guest_set_trace(false); /* a few hundred maps nobody wants to read */
    const size_t sizes[2] = {dma_max_mapping_size(&f->dev), SWIOTLB_SLOT_SIZE};
    for (int i = 0; i < 2; i++) {
        while (f->n < cap) {
            dma_addr_t d = dma_map_single_attrs(&f->dev, f->b.va, sizes[i], DMA_TO_DEVICE, DMA_ATTR_SKIP_CPU_SYNC);
            if (dma_mapping_error(&f->dev, d))
                break;
            f->addr[f->n] = d;
            f->len[f->n++] = sizes[i];
        }
    }
    dma_guest_set_trace(trace);
    s = stats_now();
    KEXPECT_MSG(t, s.slots_in_use == s.slots_total, "pool not full: %" PRIu64 " of %" PRIu64 " slots", s.slots_in_use,
                s.slots_total);
    return true;
}

static void fillers_drain(struct ktest *t, struct fillers *f)
{
    bool trace = dma_guest_trace();
    dma_guest_set_trace(false);
    for (size_t i = 0; i < f->n; i++)
        dma_unmap_single_attrs(&f->dev, f->addr[i], f->len[i], DMA_TO_DEVICE, DMA_ATTR_SKIP_CPU_SYNC);
    dma_guest_set_trace(trace);
    f->n = 0;
    free(f->addr);
    free(f->len);
    f->addr = NULL;
    f->len = NULL;
    buf_free(t, &f->b);
}

static const char secret_text[] = "password=hunter2 "; /* 17 characters, repeated */

static void put_secret(uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)secret_text[i % (sizeof(secret_text) - 1)];
}

static size_t bad_secret(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != (uint8_t)secret_text[i % (sizeof(secret_text) - 1)])
            return i;
    return ALL_GOOD;
}

/* Buffer A's mapping puts a secret into its slots (the CPU sends it TO_DEVICE, or a device writes
 * it FROM_DEVICE); A is unmapped. Buffer B then gets a FROM_DEVICE mapping on exactly those slots
 * (every other slot is taken by fillers), the device writes nothing, B is unmapped. Returns what B
 * holds, per policy: none -> A's secret, zero -> zeros, copy -> B's own bytes. */
static void stale_slot(struct ktest *t, enum bounce_policy pol, enum dma_data_direction first_dir)
{
    const size_t size = 3000;
    struct dma_dev dev;
    dev32_init(&dev, "piix-ide");
    struct buf a = {0}, b = {0};
    struct fillers f = {0};
    if (!bounce_buf(t, &dev, &a, 1) || !bounce_buf(t, &dev, &b, 1))
        goto out;
    dma_set_bounce_policy(pol);
    if (first_dir == DMA_TO_DEVICE)
        put_secret(a.va, size); /* the CPU writes a secret to the device */
    else
        memset(a.va, 0, size);
    fill_pat(b.va, 0, size, OTHER); /* B's own, initialised contents */

    dma_addr_t da = dma_map_single(&dev, a.va, size, first_dir);
    if (dma_mapping_error(&dev, da)) {
        ktest_fail(t, __FILE__, __LINE__, "map of A failed");
        goto out;
    }
    if (first_dir == DMA_FROM_DEVICE)
        put_secret(phys_to_virt(da), size); /* a device reads a secret into A */
    if (!fillers_fill(t, &f)) {
        dma_unmap_single(&dev, da, size, first_dir);
        goto out;
    }
    dma_unmap_single(&dev, da, size, first_dir);
    if (first_dir == DMA_FROM_DEVICE)
        KEXPECT_EQ(t, bad_secret(a.va, size), ALL_GOOD); /* A got its data, as it should */

    dma_addr_t db = dma_map_single(&dev, b.va, size, DMA_FROM_DEVICE);
    KEXPECT_MSG(t, db == da, "B mapped at %#" PRIx64 ", not on A's slots at %#" PRIx64, db, da);
    if (!dma_mapping_error(&dev, db))
        dma_unmap_single(&dev, db, size, DMA_FROM_DEVICE); /* the device wrote nothing */
    fillers_drain(t, &f);
    if (db != da)
        goto out;

    size_t bad;
    if (pol == BOUNCE_NONE) {
        bad = bad_secret(b.va, size);
        KEXPECT_MSG(t, bad == ALL_GOOD, "A's secret did not leak into B (byte %zu)", bad);
        if (bad == ALL_GOOD)
            ktest_note(
                t, "policy none, A mapped %s: B at %#" PRIx64 " now starts \"%.17s\" - A's secret, via slot %#" PRIx64,
                dma_dir_name(first_dir), b.pa, (const char *)b.va, db);
    } else if (pol == BOUNCE_ZERO) {
        bad = bad_byte(b.va, 0, size, 0);
        KEXPECT_MSG(t, bad == ALL_GOOD, "policy zero: B byte %zu is %#x, not zero", bad,
                    bad == ALL_GOOD ? 0 : b.va[bad]);
    } else {
        bad = bad_pat(b.va, 0, size, OTHER);
        KEXPECT_MSG(t, bad == ALL_GOOD, "policy copy: B byte %zu is not B's own", bad);
    }
out:
    if (f.addr)
        fillers_drain(t, &f);
    buf_free(t, &b);
    buf_free(t, &a);
}

static void stale_slot_none_leaks(struct ktest *t)
{
    struct guard g;
    guard_begin(&g);
    stale_slot(t, BOUNCE_NONE, DMA_TO_DEVICE);
    stale_slot(t, BOUNCE_NONE, DMA_FROM_DEVICE);
    guard_end(t, &g);
}

static void stale_slot_zero_and_copy_do_not_leak(struct ktest *t)
{
    struct guard g;
    guard_begin(&g);
    stale_slot(t, BOUNCE_ZERO, DMA_TO_DEVICE);
    stale_slot(t, BOUNCE_ZERO, DMA_FROM_DEVICE);
    stale_slot(t, BOUNCE_COPY, DMA_TO_DEVICE);
    stale_slot(t, BOUNCE_COPY, DMA_FROM_DEVICE);
    guard_end(t, &g);
}

/* ---- DMA_ATTR_PRESERVE: Linux's behaviour for one mapping ---- */

static void preserve_attr_under_zero(struct ktest *t)
{
    struct guard g;
    guard_begin(&g);
    dma_set_bounce_policy(BOUNCE_ZERO);
    struct dma_dev dev;
    dev32_init(&dev, "piix-ide");
    struct buf b;
    const size_t size = SWIOTLB_SLOT_SIZE, wlo = 512, whi = 1024;
    if (!bounce_buf(t, &dev, &b, 1))
        goto out;
    for (int preserve = 1; preserve >= 0; preserve--) {
        fill_pat(b.va, 0, size, ORIG);
        struct dma_stats s0 = stats_now();
        dma_addr_t d = dma_map_single_attrs(&dev, b.va, size, DMA_FROM_DEVICE, preserve ? DMA_ATTR_PRESERVE : 0);
        if (dma_mapping_error(&dev, d)) {
            ktest_fail(t, __FILE__, __LINE__, "map failed");
            continue;
        }
        uint8_t *slot = phys_to_virt(d);
        KEXPECT_EQ(t, preserve ? bad_pat(slot, 0, size, ORIG) : bad_byte(slot, 0, size, 0), ALL_GOOD);
        struct dma_stats sm = stats_now();
        fill_pat(slot, wlo, whi, DEVICE);
        dma_unmap_single_attrs(&dev, d, size, DMA_FROM_DEVICE, preserve ? DMA_ATTR_PRESERVE : 0);
        struct dma_stats s1 = stats_now();
        KEXPECT_EQ(t, bad_pat(b.va, wlo, whi, DEVICE), ALL_GOOD);
        if (preserve) {
            KEXPECT_EQ(t, bad_pat(b.va, 0, wlo, ORIG), ALL_GOOD);
            KEXPECT_EQ(t, bad_pat(b.va, whi, size, ORIG), ALL_GOOD);
            KEXPECT_EQ(t, s1.orig_bytes_read - s0.orig_bytes_read, size);
        } else { /* the attribute held for that one mapping only */
            KEXPECT_EQ(t, bad_byte(b.va, 0, wlo, 0), ALL_GOOD);
            KEXPECT_EQ(t, bad_byte(b.va, whi, size, 0), ALL_GOOD);
            KEXPECT_EQ(t, s1.orig_bytes_read, s0.orig_bytes_read);
        }
        /* Either way the zero policy leaves the slot clean when the mapping goes (one 2 KiB slot),
         * having zeroed it at map only if an earlier use left it dirty. */
        KEXPECT_EQ(t, s1.bytes_zeroed - sm.bytes_zeroed, SWIOTLB_SLOT_SIZE);
        KEXPECT(t, sm.bytes_zeroed - s0.bytes_zeroed == 0 || sm.bytes_zeroed - s0.bytes_zeroed == SWIOTLB_SLOT_SIZE);
    }
    KEXPECT_EQ(t, dma_bounce_policy(), BOUNCE_ZERO);
    buf_free(t, &b);
out:
    guard_end(t, &g);
}

/* ---- syncs: ownership handed back and forth inside a live mapping ---- */

static void sync_for_cpu_from_device(struct ktest *t)
{
    struct guard g;
    guard_begin(&g);
    dma_set_bounce_policy(BOUNCE_ZERO);
    struct dma_dev dev;
    dev32_init(&dev, "piix-ide");
    struct buf b;
    const size_t size = 6000;
    if (!bounce_buf(t, &dev, &b, 2))
        goto out;
    fill_pat(b.va, 0, size, ORIG);
    dma_addr_t d = dma_map_single(&dev, b.va, size, DMA_FROM_DEVICE);
    if (dma_mapping_error(&dev, d)) {
        ktest_fail(t, __FILE__, __LINE__, "map failed");
        goto free;
    }
    uint8_t *slot = phys_to_virt(d);
    fill_pat(slot, 0, 3000, DEVICE); /* the device fills the first half (a status block, say) */

    /* The CPU takes [1000, 1500) back: exactly those bytes arrive, the rest is untouched. */
    struct dma_stats s0 = stats_now();
    dma_sync_single_for_cpu(&dev, d + 1000, 500, DMA_FROM_DEVICE);
    struct dma_stats s1 = stats_now();
    KEXPECT_EQ(t, bad_pat(b.va, 0, 1000, ORIG), ALL_GOOD);
    KEXPECT_EQ(t, bad_pat(b.va, 1000, 1500, DEVICE), ALL_GOOD);
    KEXPECT_EQ(t, bad_pat(b.va, 1500, size, ORIG), ALL_GOOD);
    KEXPECT_EQ(t, s1.bytes_copied_out - s0.bytes_copied_out, 500);
    KEXPECT_EQ(t, s1.syncs_for_cpu - s0.syncs_for_cpu, 1);

    /* Give it back to the device (nothing to copy for FROM_DEVICE), which writes the rest. */
    dma_sync_single_for_device(&dev, d, size, DMA_FROM_DEVICE);
    struct dma_stats s2 = stats_now();
    KEXPECT_EQ(t, s2.bytes_copied_in, s1.bytes_copied_in);
    KEXPECT_EQ(t, s2.orig_bytes_read, s1.orig_bytes_read);
    KEXPECT_EQ(t, s2.syncs_for_device - s1.syncs_for_device, 1);
    fill_pat(slot, 3000, size, DEVICE);
    dma_unmap_single(&dev, d, size, DMA_FROM_DEVICE);
    KEXPECT_EQ(t, bad_pat(b.va, 0, size, DEVICE), ALL_GOOD);
    KEXPECT_EQ(t, stats_now().misuse, s0.misuse);
free:
    buf_free(t, &b);
out:
    guard_end(t, &g);
}

static void sync_for_device_to_device(struct ktest *t)
{
    struct guard g;
    guard_begin(&g);
    struct dma_dev dev;
    dev32_init(&dev, "piix-ide");
    struct buf b;
    const size_t size = 6000;
    if (!bounce_buf(t, &dev, &b, 2))
        goto out;
    fill_pat(b.va, 0, size, ORIG);
    dma_addr_t d = dma_map_single(&dev, b.va, size, DMA_TO_DEVICE);
    if (dma_mapping_error(&dev, d)) {
        ktest_fail(t, __FILE__, __LINE__, "map failed");
        goto free;
    }
    uint8_t *slot = phys_to_virt(d);
    KEXPECT_EQ(t, bad_pat(slot, 0, size, ORIG), ALL_GOOD);

    /* The CPU takes the buffer back (nothing to copy for TO_DEVICE) and rewrites part of it:
     * the device does not see that until sync_for_device. */
    struct dma_stats s0 = stats_now();
    dma_sync_single_for_cpu(&dev, d, size, DMA_TO_DEVICE);
    struct dma_stats s1 = stats_now();
    KEXPECT_EQ(t, s1.bytes_copied_out, s0.bytes_copied_out);
    fill_pat(b.va, 2000, 4000, OTHER);
    KEXPECT_EQ(t, bad_pat(slot, 0, size, ORIG), ALL_GOOD);
    dma_sync_single_for_device(&dev, d + 2000, 2000, DMA_TO_DEVICE);
    struct dma_stats s2 = stats_now();
    KEXPECT_EQ(t, bad_pat(slot, 0, 2000, ORIG), ALL_GOOD);
    KEXPECT_EQ(t, bad_pat(slot, 2000, 4000, OTHER), ALL_GOOD);
    KEXPECT_EQ(t, bad_pat(slot, 4000, size, ORIG), ALL_GOOD);
    KEXPECT_EQ(t, s2.bytes_copied_in - s1.bytes_copied_in, 2000);
    KEXPECT_EQ(t, s2.orig_bytes_read - s1.orig_bytes_read, 2000);
    KEXPECT_EQ(t, s2.syncs_for_device - s1.syncs_for_device, 1);
    dma_unmap_single(&dev, d, size, DMA_TO_DEVICE);
    KEXPECT_EQ(t, stats_now().bytes_copied_out, s0.bytes_copied_out); /* TO_DEVICE: nothing comes back */
    KEXPECT_EQ(t, stats_now().misuse, s0.misuse);
free:
    buf_free(t, &b);
out:
    guard_end(t, &g);
}

/* ---- the pool runs out, and recovers ---- */

static void exhaustion_and_recovery(struct ktest *t)
{
    struct guard g;
    guard_begin(&g);
    struct dma_dev dev;
    dev32_init(&dev, "piix-ide");
    enum { NBUF = 4 };
    struct buf b[NBUF] = {0};
    dma_addr_t *addr = NULL;
    const size_t max = dma_max_mapping_size(&dev);
    KEXPECT_EQ(t, max, (size_t)SWIOTLB_MAX_MAPPING_SLOTS * SWIOTLB_SLOT_SIZE);
    for (int i = 0; i < NBUF; i++)
        if (!bounce_buf(t, &dev, &b[i], max / PAGE_SIZE + 1))
            goto out;
    for (int i = 0; i < NBUF; i++)
        fill_pat(b[i].va, 0, max, (uint8_t)(ORIG + i));

    struct dma_stats s0 = stats_now();
    /* Mappings of the largest size (256 KiB: 64 MiB = 256 of them), or smaller if the pool
     * (swiotlb=) holds fewer than two of those. */
    size_t sz = max;
    while (sz > PAGE_SIZE && sz * 2 > s0.slots_total * SWIOTLB_SLOT_SIZE)
        sz /= 2;
    const uint64_t per = sz / SWIOTLB_SLOT_SIZE;
    uint64_t free_slots = s0.slots_total - s0.slots_in_use, want = free_slots / per;
    size_t cap = (size_t)want + 2, n = 0;
    addr = malloc(cap * sizeof(*addr));
    KEXPECT(t, addr != NULL);
    if (addr == NULL)
        goto out;

    /* One byte too many never fits a bounce slot run. */
    KEXPECT(t, dma_mapping_error(&dev, dma_map_single(&dev, b[0].va, max + 1, DMA_TO_DEVICE)));
    KEXPECT_EQ(t, stats_now().map_failures, s0.map_failures + 1);

    bool trace = dma_guest_trace();
    dma_guest_set_trace(false); /* quiet for the bulk; the failing map below is narrated */
    uint64_t t_failures = stats_now().map_failures;
    while (n < cap) {
        dma_addr_t d = dma_map_single(&dev, b[n % NBUF].va, sz, DMA_TO_DEVICE);
        if (dma_mapping_error(&dev, d))
            break;
        addr[n++] = d;
    }
    dma_guest_set_trace(trace);
    struct dma_stats s1 = stats_now();
    KEXPECT_EQ(t, s1.map_failures, t_failures + 1);
    KEXPECT_MSG(t, n <= want && n > 0, "%zu mappings of %zu KiB in %" PRIu64 " free slots", n, sz >> 10, free_slots);
    if (s0.slots_in_use == 0) {
        /* From an empty pool, next fit wastes at most the run before the cursor and the run at the
         * end of the pool: fewer than two mappings' worth of slots stay free. */
        KEXPECT_MSG(t, n + 2 >= want, "%zu mappings of %zu KiB in %" PRIu64 " free slots", n, sz >> 10, free_slots);
        KEXPECT(t, s1.slots_in_use + 2 * per > s0.slots_total);
    }
    KEXPECT(t, dma_mapping_error(&dev, dma_map_single(&dev, b[0].va, sz, DMA_TO_DEVICE))); /* still full */
    KEXPECT_EQ(t, stats_now().map_failures, s1.map_failures + 1);
    for (size_t i = 0; i < n; i++) { /* each mapping still holds its own buffer's data (head and tail) */
        const uint8_t *slot = phys_to_virt(addr[i]);
        uint8_t seed = (uint8_t)(ORIG + i % NBUF);
        if (bad_pat(slot, 0, 64, seed) != ALL_GOOD || bad_pat(slot, sz - 64, sz, seed) != ALL_GOOD) {
            ktest_fail(t, __FILE__, __LINE__, "mapping %zu at %#" PRIx64 " lost its data", i, addr[i]);
            break;
        }
    }
    ktest_note(t, "%zu mappings of %zu KiB filled the pool (%" PRIu64 " of %" PRIu64 " slots); the next map failed", n,
               sz >> 10, s1.slots_in_use, s1.slots_total);

    dma_guest_set_trace(false);
    for (size_t i = 0; i < n; i++)
        dma_unmap_single(&dev, addr[i], sz, DMA_TO_DEVICE);
    dma_guest_set_trace(trace);
    KEXPECT_EQ(t, stats_now().slots_in_use, s0.slots_in_use);
    dma_addr_t d = dma_map_single(&dev, b[1].va, sz, DMA_TO_DEVICE); /* and the pool works again */
    KEXPECT(t, !dma_mapping_error(&dev, d));
    if (!dma_mapping_error(&dev, d)) {
        KEXPECT_EQ(t, bad_pat(phys_to_virt(d), 0, sz, ORIG + 1), ALL_GOOD);
        dma_unmap_single(&dev, d, sz, DMA_TO_DEVICE);
    }
    KEXPECT_EQ(t, stats_now().misuse, s0.misuse);
out:
    free(addr);
    for (int i = 0; i < NBUF; i++)
        buf_free(t, &b[i]);
    guard_end(t, &g);
}

/* ---- misuse is reported, not accepted ---- */

static void misuse_reported(struct ktest *t)
{
    struct guard g;
    guard_begin(&g);
    direct_path(t);
    struct dma_dev bdev, ddev = {.name = "direct64", .dma_mask = DMA_BIT_MASK(64)};
    dev32_init(&bdev, "piix-ide");
    struct buf b, lo;
    const size_t size = 3000;
    if (!bounce_buf(t, &bdev, &b, 1))
        goto out;
    if (!buf_alloc(&lo, FRAME_DMA32, 1)) {
        buf_free(t, &b);
        goto out;
    }
    fill_pat(b.va, 0, size, ORIG);
    uint64_t expected = stats_now().misuse;
    struct dma_stats s0 = stats_now();
    dma_addr_t d;

#define EXPECT_MISUSE(what, needle)                                                                            \
    do {                                                                                                       \
        expected++;                                                                                            \
        KEXPECT_MSG(t, stats_now().misuse == expected, "%s: not counted as misuse", what);                     \
        KEXPECT_MSG(t, strstr(dma_last_misuse(), needle) != NULL, "%s: last misuse \"%s\" lacks \"%s\"", what, \
                    dma_last_misuse(), needle);                                                                \
    } while (0)

    /* Bounced: double unmap. The second is refused and changes nothing. */
    d = dma_map_single(&bdev, b.va, size, DMA_FROM_DEVICE);
    KEXPECT(t, !dma_mapping_error(&bdev, d));
    dma_unmap_single(&bdev, d, size, DMA_FROM_DEVICE);
    fill_pat(b.va, 0, size, ORIG);
    uint64_t unmaps = stats_now().unmaps;
    dma_unmap_single(&bdev, d, size, DMA_FROM_DEVICE);
    EXPECT_MISUSE("bounced double unmap", "double unmap");
    KEXPECT_EQ(t, stats_now().unmaps, unmaps);
    KEXPECT_EQ(t, bad_pat(b.va, 0, size, ORIG), ALL_GOOD); /* nothing copied out by the refused unmap */

    /* Bounced: unmap with the wrong size is reported, and torn down as it was mapped. */
    d = dma_map_single(&bdev, b.va, size, DMA_TO_DEVICE);
    dma_unmap_single(&bdev, d, size - 1000, DMA_TO_DEVICE);
    EXPECT_MISUSE("bounced unmap with the wrong size", "mapped as 3000 bytes");
    KEXPECT_EQ(t, stats_now().slots_in_use, s0.slots_in_use);

    /* Bounced: unmap of an address inside a mapping, not its start. */
    d = dma_map_single(&bdev, b.va, size, DMA_TO_DEVICE);
    dma_unmap_single(&bdev, d + 16, size - 16, DMA_TO_DEVICE);
    EXPECT_MISUSE("bounced unmap of the middle", "not its start");
    KEXPECT(t, stats_now().slots_in_use > s0.slots_in_use); /* still mapped */

    /* Bounced: syncs reaching outside the mapping, or with the wrong direction, copy nothing. */
    fill_pat(phys_to_virt(d), 0, size, DEVICE);
    dma_sync_single_for_cpu(&bdev, d + 2000, 2000, DMA_TO_DEVICE);
    EXPECT_MISUSE("bounced sync past the end", "reaches outside");
    dma_sync_single_for_cpu(&bdev, d, size, DMA_FROM_DEVICE);
    EXPECT_MISUSE("bounced sync with the wrong direction", "it was mapped TO_DEVICE");
    dma_unmap_single(&bdev, d, size, DMA_TO_DEVICE);
    dma_sync_single_for_device(&bdev, d, size, DMA_TO_DEVICE);
    EXPECT_MISUSE("bounced sync after unmap", "no live mapping");
    KEXPECT_EQ(t, bad_pat(b.va, 0, size, ORIG), ALL_GOOD);

    /* Direct: the same mistakes, caught by the records of direct mappings. */
    d = dma_map_single(&ddev, lo.va, size, DMA_FROM_DEVICE);
    KEXPECT_EQ(t, d, lo.pa);
    dma_sync_single_for_cpu(&ddev, d + 2000, 2000, DMA_FROM_DEVICE);
    EXPECT_MISUSE("direct sync past the end", "outside any live mapping");
    dma_unmap_single(&ddev, d, size + 1, DMA_FROM_DEVICE);
    EXPECT_MISUSE("direct unmap with the wrong size", "mapped as 3000 bytes");
    dma_unmap_single(&ddev, d, size, DMA_FROM_DEVICE);
    EXPECT_MISUSE("direct double unmap", "double unmap");

    /* Maps that can never be valid. */
    KEXPECT(t, dma_mapping_error(&ddev, dma_map_single(&ddev, lo.va, size, DMA_NONE)));
    EXPECT_MISUSE("map with DMA_NONE", "direction NONE");
    KEXPECT(t, dma_mapping_error(&ddev, dma_map_single(&ddev, lo.va, 0, DMA_TO_DEVICE)));
    EXPECT_MISUSE("map of 0 bytes", "map of 0 bytes");
#undef EXPECT_MISUSE

    /* State intact: nothing live, and both kinds of mapping still work. */
    struct dma_stats s1 = stats_now();
    KEXPECT_EQ(t, s1.slots_in_use, s0.slots_in_use);
    KEXPECT_EQ(t, s1.maps - s1.unmaps, s0.maps - s0.unmaps);
    d = dma_map_single(&bdev, b.va, size, DMA_BIDIRECTIONAL);
    KEXPECT(t, !dma_mapping_error(&bdev, d) && d != b.pa);
    if (!dma_mapping_error(&bdev, d))
        dma_unmap_single(&bdev, d, size, DMA_BIDIRECTIONAL);
    d = dma_map_single(&ddev, lo.va, size, DMA_BIDIRECTIONAL);
    KEXPECT_EQ(t, d, lo.pa);
    if (!dma_mapping_error(&ddev, d))
        dma_unmap_single(&ddev, d, size, DMA_BIDIRECTIONAL);
    KEXPECT_EQ(t, stats_now().misuse, expected);
    ktest_note(t, "%" PRIu64 " misuses reported; the last: %s", (expected - s0.misuse), dma_last_misuse());
    buf_free(t, &lo);
    buf_free(t, &b);
out:
    guard_end(t, &g);
}

/* ---- scatter-gather and coherent memory ---- */

static void sg_high_pages_bounce_each(struct ktest *t)
{
    if (!have_high()) {
        ktest_skip(t, NO_HIGH_REASON);
        return;
    }
    struct guard g;
    guard_begin(&g);
    enum { N = 4 };
    struct dma_dev dev;
    dev32_init(&dev, "piix-ide");
    struct buf b[N] = {0};
    struct scatterlist sg[N];
    /* Each entry in its own allocation of two frames, so no two are contiguous. */
    static const uint32_t offs[N] = {0, 512, 0, 100}, lens[N] = {PAGE_SIZE, 1000, PAGE_SIZE, 3000};
    for (int i = 0; i < N; i++) {
        if (!buf_alloc(&b[i], FRAME_HIGH, 2)) {
            ktest_fail(t, __FILE__, __LINE__, "no high frames");
            goto out;
        }
        sg[i] = (struct scatterlist){.phys = b[i].pa + offs[i], .length = lens[i]};
        fill_pat(b[i].va + offs[i], 0, lens[i], (uint8_t)(ORIG + i));
    }
    struct dma_stats s0 = stats_now();
    int mapped = dma_map_sg(&dev, sg, N, DMA_BIDIRECTIONAL);
    KEXPECT_EQ(t, mapped, N);
    if (mapped != N)
        goto out; /* dma_map_sg undid what it had mapped */
    struct dma_stats s1 = stats_now();
    KEXPECT_EQ(t, s1.bounced_maps - s0.bounced_maps, N);
    for (int i = 0; i < N; i++) {
        KEXPECT_MSG(t, sg[i].dma_address != sg[i].phys && sg[i].dma_address + lens[i] - 1 <= DMA_BIT_MASK(32),
                    "entry %d: cpu %#" PRIx64 " -> dma %#" PRIx64, i, sg[i].phys, sg[i].dma_address);
        KEXPECT_EQ(t, sg[i].dma_length, lens[i]);
        if (dma_mapping_error(&dev, sg[i].dma_address))
            continue;
        uint8_t *slot = phys_to_virt(sg[i].dma_address);
        KEXPECT_EQ(t, bad_pat(slot, 0, lens[i], (uint8_t)(ORIG + i)), ALL_GOOD);
        fill_pat(slot, 0, lens[i] / 2, DEVICE); /* the device rewrites the first half of each */
    }
    dma_unmap_sg(&dev, sg, N, DMA_BIDIRECTIONAL);
    for (int i = 0; i < N; i++) {
        KEXPECT_EQ(t, bad_pat(b[i].va + offs[i], 0, lens[i] / 2, DEVICE), ALL_GOOD);
        KEXPECT_EQ(t, bad_pat(b[i].va + offs[i], lens[i] / 2, lens[i], (uint8_t)(ORIG + i)), ALL_GOOD);
    }
    struct dma_stats s2 = stats_now();
    KEXPECT_EQ(t, s2.slots_in_use, s0.slots_in_use);
    KEXPECT_EQ(t, s2.misuse, s0.misuse);
out:
    for (int i = 0; i < N; i++)
        buf_free(t, &b[i]);
    guard_end(t, &g);
}

static void alloc_coherent_32bit(struct ktest *t)
{
    struct guard g;
    guard_begin(&g);
    struct dma_dev dev = {.name = "ring", .dma_mask = DMA_BIT_MASK(64), .coherent_mask = DMA_BIT_MASK(32)};
    const size_t size = 3 * PAGE_SIZE + 100;
    struct dma_stats s0 = stats_now();
    dma_addr_t h = 0;
    uint8_t *p = dma_alloc_coherent(&dev, size, &h);
    KASSERT(t, p != NULL);
    KEXPECT_EQ(t, h, virt_to_phys(p));
    KEXPECT_MSG(t, h + size - 1 <= DMA_BIT_MASK(32), "coherent memory at %#" PRIx64 ", above the 32-bit mask", h);
    KEXPECT_EQ(t, bad_byte(p, 0, size, 0), ALL_GOOD);
    KEXPECT_EQ(t, stats_now().coherent_allocs, s0.coherent_allocs + 1);
    KEXPECT_EQ(t, stats_now().bounced_maps, s0.bounced_maps);
    memset(p, 0xab, size);
    dma_free_coherent(&dev, size, p, h);
    KEXPECT_EQ(t, stats_now().coherent_frees, s0.coherent_frees + 1);

    /* Without a coherent mask the DMA mask applies: a 64-bit device may get memory anywhere. */
    dev.coherent_mask = 0;
    p = dma_alloc_coherent(&dev, PAGE_SIZE, &h);
    KEXPECT(t, p != NULL);
    if (p) {
        KEXPECT_EQ(t, h, virt_to_phys(p));
        if (have_high())
            KEXPECT_MSG(t, h >= GiB(4), "64-bit coherent memory at %#" PRIx64 ": high RAM was free", h);
        dma_free_coherent(&dev, PAGE_SIZE, p, h);
    }
    KEXPECT_EQ(t, stats_now().misuse, s0.misuse);
    guard_end(t, &g);
}

static const struct ktest_case cases[] = {
    KTEST_CASE(dev32_bounces_high_buffer), KTEST_CASE(dev32_maps_low_buffer_directly),
    KTEST_CASE(dev64_never_bounces),       KTEST_CASE(dev_force_bounce),
    KTEST_CASE(platform_force_bounce),     KTEST_CASE(policy_zero_matrix),
    KTEST_CASE(policy_copy_matrix),        KTEST_CASE(policy_none_matrix),
    KTEST_CASE(exact_completion_matrix),   KTEST_CASE(zero_never_reads_original),
    KTEST_CASE(stale_slot_none_leaks),     KTEST_CASE(stale_slot_zero_and_copy_do_not_leak),
    KTEST_CASE(preserve_attr_under_zero),  KTEST_CASE(sync_for_cpu_from_device),
    KTEST_CASE(sync_for_device_to_device), KTEST_CASE(exhaustion_and_recovery),
    KTEST_CASE(misuse_reported),           KTEST_CASE(sg_high_pages_bounce_each),
    KTEST_CASE(alloc_coherent_32bit),
};
KTEST_SUITE(dma, "DMA mapping and bounce buffers on real guest memory", cases);
