/* SPDX-License-Identifier: MIT */
/* frame_alloc.c - bitmap frame allocator with two zones (see frame_alloc.h).
 *
 * Invariants (checked by the host unit tests against a reference model):
 *  - a frame is free  <=>  its `ram` bit is set and its `used` bit is clear;
 *  - zone->free equals the number of free frames, zone->managed the number of `ram` bits;
 *  - zone->hint is at or before the first word holding a free frame that a free or release made,
 *    and the single-frame search wraps around once, so every free frame is found.
 */
#include "mm/frame_alloc.h"

#include <string.h>

#define BITS_PER_WORD 64u

static const char *const zone_names[NR_ZONES] = {"dma32", "high"};

static uint64_t words_for(uint64_t frames) { return (frames + BITS_PER_WORD - 1) / BITS_PER_WORD; }

static bool test_bit(const uint64_t *bm, uint64_t i) { return (bm[i / BITS_PER_WORD] >> (i % BITS_PER_WORD)) & 1; }
static void set_bit(uint64_t *bm, uint64_t i) { bm[i / BITS_PER_WORD] |= 1ull << (i % BITS_PER_WORD); }
static void clear_bit(uint64_t *bm, uint64_t i) { bm[i / BITS_PER_WORD] &= ~(1ull << (i % BITS_PER_WORD)); }

/* The span of RAM in each zone: [lowest frame, highest frame + 1) over the MEM_USABLE ranges and the
 * MEM_BOOT_RECLAIM ones, which frame_alloc_release() hands over once the firmware's memory is ours. */
static void zone_spans(const struct mem_range *map, size_t n, uint64_t lo[NR_ZONES], uint64_t hi[NR_ZONES])
{
    const uint64_t split = ZONE_DMA32_END >> PAGE_SHIFT;
    for (int z = 0; z < NR_ZONES; z++) {
        lo[z] = UINT64_MAX;
        hi[z] = 0;
    }
    for (size_t i = 0; i < n; i++) {
        if (map[i].type != MEM_USABLE && map[i].type != MEM_BOOT_RECLAIM)
            continue;
        uint64_t b = ALIGN_UP(map[i].base, PAGE_SIZE) >> PAGE_SHIFT;
        uint64_t e = ALIGN_DOWN(memrange_end(&map[i]), PAGE_SIZE) >> PAGE_SHIFT;
        for (int z = 0; z < NR_ZONES; z++) {
            uint64_t zb = z == ZONE_DMA32 ? 0 : split, ze = z == ZONE_DMA32 ? split : UINT64_MAX;
            uint64_t cb = b > zb ? b : zb, ce = e < ze ? e : ze;
            if (cb < ce) {
                lo[z] = cb < lo[z] ? cb : lo[z];
                hi[z] = ce > hi[z] ? ce : hi[z];
            }
        }
    }
}

size_t frame_alloc_bitmap_bytes(const struct mem_range *map, size_t n)
{
    uint64_t lo[NR_ZONES], hi[NR_ZONES];
    size_t bytes = 0;
    zone_spans(map, n, lo, hi);
    for (int z = 0; z < NR_ZONES; z++)
        if (lo[z] < hi[z])
            bytes += 2 * words_for(hi[z] - lo[z]) * sizeof(uint64_t);
    return bytes;
}

void frame_alloc_init(struct frame_allocator *fa, const struct mem_range *map, size_t n, void *storage,
                      size_t storage_bytes)
{
    uint64_t lo[NR_ZONES], hi[NR_ZONES];
    uint64_t *words = storage, *limit = (uint64_t *)((char *)storage + storage_bytes);
    memset(fa, 0, sizeof(*fa));
    zone_spans(map, n, lo, hi);
    for (int z = 0; z < NR_ZONES; z++) {
        struct zone *zn = &fa->zones[z];
        zn->name = zone_names[z];
        if (lo[z] >= hi[z])
            continue; /* empty zone: base == end, no bitmaps */
        uint64_t nw = words_for(hi[z] - lo[z]);
        if ((uint64_t)(limit - words) < 2 * nw)
            break; /* the caller gave too little: leave the remaining zones empty rather than overrun */
        zn->base_pfn = lo[z];
        zn->end_pfn = hi[z];
        zn->used = words;
        zn->ram = words + nw;
        memset(zn->used, 0xff, nw * sizeof(uint64_t));
        memset(zn->ram, 0, nw * sizeof(uint64_t));
        words += 2 * nw;
    }
    for (size_t i = 0; i < n; i++)
        if (map[i].type == MEM_USABLE)
            frame_alloc_release(fa, map[i].base, map[i].len);
}

static struct zone *zone_for_pfn(struct frame_allocator *fa, uint64_t pfn)
{
    for (int z = 0; z < NR_ZONES; z++)
        if (pfn >= fa->zones[z].base_pfn && pfn < fa->zones[z].end_pfn)
            return &fa->zones[z];
    return NULL;
}

static void lower_hint(struct zone *z, uint64_t idx)
{
    if (idx / BITS_PER_WORD < z->hint)
        z->hint = idx / BITS_PER_WORD;
}

uint64_t frame_alloc_release(struct frame_allocator *fa, uint64_t base, uint64_t len)
{
    uint64_t first = ALIGN_UP(base, PAGE_SIZE) >> PAGE_SHIFT;
    uint64_t last = ALIGN_DOWN(base + len, PAGE_SIZE) >> PAGE_SHIFT;
    uint64_t added = 0;
    for (uint64_t pfn = first; pfn < last; pfn++) {
        struct zone *z = zone_for_pfn(fa, pfn);
        if (!z || test_bit(z->ram, pfn - z->base_pfn))
            continue; /* outside the zones, or already managed */
        set_bit(z->ram, pfn - z->base_pfn);
        clear_bit(z->used, pfn - z->base_pfn);
        z->managed++;
        z->free++;
        lower_hint(z, pfn - z->base_pfn);
        added++;
    }
    return added;
}

void frame_alloc_reserve(struct frame_allocator *fa, uint64_t base, uint64_t len)
{
    if (len == 0)
        return; /* covers no frame (rounding an unaligned base would otherwise reserve one) */
    uint64_t first = base >> PAGE_SHIFT, last = ALIGN_UP(base + len, PAGE_SIZE) >> PAGE_SHIFT;
    for (uint64_t pfn = first; pfn < last; pfn++) {
        struct zone *z = zone_for_pfn(fa, pfn);
        if (!z || !test_bit(z->ram, pfn - z->base_pfn))
            continue;
        if (!test_bit(z->used, pfn - z->base_pfn))
            z->free--;
        set_bit(z->used, pfn - z->base_pfn);
        clear_bit(z->ram, pfn - z->base_pfn);
        z->managed--;
    }
}

/* Next-fit search for one free frame, starting at the hint word and wrapping once. */
static int64_t find_one(struct zone *z)
{
    uint64_t nbits = z->end_pfn - z->base_pfn, nw = words_for(nbits);
    for (uint64_t k = 0; k < nw; k++) {
        uint64_t w = (z->hint + k) % nw;
        uint64_t inv = ~z->used[w];
        if (inv == 0)
            continue;
        z->hint = w;
        return (int64_t)(w * BITS_PER_WORD + (uint64_t)__builtin_ctzll(inv)); /* tail bits are always set */
    }
    return -1;
}

/* First-fit search for `count` free frames starting at a multiple of `align` (in physical frame
 * numbers). Skips whole words, and after a collision restarts past the used frame, so the cost is
 * O(span / 64 + count) rather than O(span * count). */
static int64_t find_run(struct zone *z, uint64_t count, uint64_t align)
{
    uint64_t nbits = z->end_pfn - z->base_pfn;
    uint64_t start = ALIGN_UP(z->base_pfn, align) - z->base_pfn;
    while (start + count <= nbits) {
        uint64_t i = start, end = start + count;
        while (i < end) {
            if (i % BITS_PER_WORD == 0 && end - i >= BITS_PER_WORD && z->used[i / BITS_PER_WORD] == 0) {
                i += BITS_PER_WORD;
                continue;
            }
            if (test_bit(z->used, i))
                break;
            i++;
        }
        if (i >= end)
            return (int64_t)start;
        i++; /* past the used frame; then past any fully used words */
        while (i % BITS_PER_WORD == 0 && i + BITS_PER_WORD <= nbits && z->used[i / BITS_PER_WORD] == ~0ull)
            i += BITS_PER_WORD;
        start = ALIGN_UP(i + z->base_pfn, align) - z->base_pfn;
    }
    return -1;
}

static uint64_t alloc_in_zone(struct zone *z, uint64_t count, uint64_t align)
{
    if (z->used == NULL || z->free < count)
        return FRAME_NONE;
    int64_t bit = (count == 1 && align == 1) ? find_one(z) : find_run(z, count, align);
    if (bit < 0)
        return FRAME_NONE;
    for (uint64_t i = 0; i < count; i++)
        set_bit(z->used, (uint64_t)bit + i);
    z->free -= count;
    return (z->base_pfn + (uint64_t)bit) << PAGE_SHIFT;
}

uint64_t frame_alloc(struct frame_allocator *fa, enum frame_zone_pref pref, uint64_t count, uint64_t align_frames)
{
    uint64_t phys = FRAME_NONE;
    if (count == 0 || align_frames == 0 || (align_frames & (align_frames - 1)) != 0) {
        fa->stats.misuse++;
        return FRAME_NONE;
    }
    if (pref == FRAME_HIGH || pref == FRAME_PREFER_HIGH)
        phys = alloc_in_zone(&fa->zones[ZONE_HIGH], count, align_frames);
    if (phys == FRAME_NONE && (pref == FRAME_DMA32 || pref == FRAME_PREFER_HIGH))
        phys = alloc_in_zone(&fa->zones[ZONE_DMA32], count, align_frames);
    if (phys == FRAME_NONE)
        fa->stats.failures++;
    else
        fa->stats.allocs++;
    return phys;
}

bool frame_free(struct frame_allocator *fa, uint64_t phys, uint64_t count)
{
    uint64_t pfn = phys >> PAGE_SHIFT;
    struct zone *z = zone_for_pfn(fa, pfn);
    if ((phys & (PAGE_SIZE - 1)) != 0 || count == 0 || z == NULL || count > z->end_pfn - pfn) {
        fa->stats.misuse++;
        return false;
    }
    /* Check the whole run first, so a bad free changes nothing. */
    for (uint64_t i = pfn - z->base_pfn; i < pfn - z->base_pfn + count; i++) {
        if (!test_bit(z->ram, i) || !test_bit(z->used, i)) {
            fa->stats.misuse++;
            return false;
        }
    }
    for (uint64_t i = pfn - z->base_pfn; i < pfn - z->base_pfn + count; i++)
        clear_bit(z->used, i);
    z->free += count;
    lower_hint(z, pfn - z->base_pfn);
    fa->stats.frees++;
    return true;
}

/* The two bits of the frame at phys; false if it lies in no zone's span. */
static bool frame_bits(const struct frame_allocator *fa, uint64_t phys, bool *ram, bool *used)
{
    uint64_t pfn = phys >> PAGE_SHIFT;
    for (int z = 0; z < NR_ZONES; z++) {
        const struct zone *zn = &fa->zones[z];
        if (pfn >= zn->base_pfn && pfn < zn->end_pfn) {
            *ram = test_bit(zn->ram, pfn - zn->base_pfn);
            *used = test_bit(zn->used, pfn - zn->base_pfn);
            return true;
        }
    }
    return false;
}

bool frame_is_allocated(const struct frame_allocator *fa, uint64_t phys)
{
    bool ram, used;
    return frame_bits(fa, phys, &ram, &used) && ram && used;
}

bool frame_is_free(const struct frame_allocator *fa, uint64_t phys)
{
    bool ram, used;
    return frame_bits(fa, phys, &ram, &used) && ram && !used;
}

uint64_t frame_alloc_free_frames(const struct frame_allocator *fa)
{
    return fa->zones[ZONE_DMA32].free + fa->zones[ZONE_HIGH].free;
}

uint64_t frame_alloc_managed_frames(const struct frame_allocator *fa)
{
    return fa->zones[ZONE_DMA32].managed + fa->zones[ZONE_HIGH].managed;
}

int frame_zone_of(uint64_t phys) { return phys < ZONE_DMA32_END ? ZONE_DMA32 : ZONE_HIGH; }
