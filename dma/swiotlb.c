/* SPDX-License-Identifier: MIT */
/* swiotlb.c - the bounce pool: slot allocation and the copies (see swiotlb.h). */
#include "dma/swiotlb.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "lib/units.h"

#define WORD_BITS 64u

/* Inlined into the map and unmap paths: a 64 KiB bounce costs one memcpy plus this bookkeeping, and
 * a call with its saved registers is a measurable part of it (`make bench`). */
#define HOT static inline __attribute__((always_inline))

static uint32_t nsummary(const struct swiotlb_pool *p) { return (p->nwords + WORD_BITS - 1) / WORD_BITS; }
static bool slot_used(const struct swiotlb_pool *p, uint32_t i)
{
    return (p->used[i / WORD_BITS] >> (i % WORD_BITS)) & 1;
}
static uint64_t slot_addr(const struct swiotlb_pool *p, uint32_t i)
{
    return p->start + ((uint64_t)i << SWIOTLB_SLOT_SHIFT);
}
static uint32_t min_u32(uint32_t a, uint32_t b) { return a < b ? a : b; }

size_t swiotlb_meta_bytes(uint64_t bytes)
{
    uint64_t nslots = bytes >> SWIOTLB_SLOT_SHIFT, nwords = (nslots + WORD_BITS - 1) / WORD_BITS;
    uint64_t nsum = (nwords + WORD_BITS - 1) / WORD_BITS;
    return (size_t)(3 * nwords * 8 + nsum * 8 + nslots * sizeof(struct swiotlb_meta));
}

/* Recompute the summary bit of word w. */
static void update_full(struct swiotlb_pool *p, uint32_t w)
{
    uint64_t bit = 1ull << (w % WORD_BITS);
    if (p->used[w] == ~0ull)
        p->full[w / WORD_BITS] |= bit;
    else
        p->full[w / WORD_BITS] &= ~bit;
}

int swiotlb_pool_init(struct swiotlb_pool *p, void *vaddr, uint64_t phys, uint64_t bytes, void *meta, size_t meta_bytes,
                      void *(*phys_to_virt)(uint64_t phys))
{
    if (bytes == 0 || bytes % SWIOTLB_SLOT_SIZE != 0 || phys % PAGE_SIZE != 0 ||
        (bytes >> SWIOTLB_SLOT_SHIFT) >= (1u << 30) || meta_bytes < swiotlb_meta_bytes(bytes))
        return -1;
    memset(p, 0, sizeof(*p));
    p->start = phys;
    p->end = phys + bytes;
    p->vaddr = vaddr;
    p->phys_to_virt = phys_to_virt;
    p->nslots = (uint32_t)(bytes >> SWIOTLB_SLOT_SHIFT);
    p->nwords = (p->nslots + WORD_BITS - 1) / WORD_BITS;
    uint8_t *m = meta;
    p->used = (uint64_t *)m;
    m += p->nwords * 8;
    p->full = (uint64_t *)m;
    m += nsummary(p) * 8;
    p->clean = (uint64_t *)m;
    m += p->nwords * 8;
    p->head = (uint64_t *)m;
    m += p->nwords * 8;
    p->meta = (struct swiotlb_meta *)m;

    memset(p->used, 0, p->nwords * 8);
    memset(p->full, 0, nsummary(p) * 8);
    memset(p->clean, 0xff, p->nwords * 8); /* the caller hands us zeroed memory */
    memset(p->head, 0, p->nwords * 8);
    memset(p->meta, 0, p->nslots * sizeof(struct swiotlb_meta));
    /* Bits past the last slot read as used, and summary bits past the last word as full, so the
     * searches need no end-of-pool special cases inside a word. */
    if (p->nslots % WORD_BITS)
        p->used[p->nwords - 1] = ~0ull << (p->nslots % WORD_BITS);
    for (uint32_t w = 0; w < p->nwords; w++)
        update_full(p, w);
    if (p->nwords % WORD_BITS)
        p->full[nsummary(p) - 1] |= ~0ull << (p->nwords % WORD_BITS);
    return 0;
}

/* The first free slot at or after i, or nslots. Used words are skipped 64 slots at a time; runs of
 * full words 4096 slots at a time through the summary. */
static uint32_t next_free(const struct swiotlb_pool *p, uint32_t i)
{
    while (i < p->nslots) {
        uint32_t w = i / WORD_BITS;
        uint64_t free_bits = ~p->used[w] & (~0ull << (i % WORD_BITS));
        if (free_bits)
            return w * WORD_BITS + (uint32_t)__builtin_ctzll(free_bits);
        w++;
        uint32_t s = w / WORD_BITS;
        if (s >= nsummary(p))
            return p->nslots;
        uint64_t not_full = ~p->full[s] & (~0ull << (w % WORD_BITS));
        while (not_full == 0) {
            if (++s >= nsummary(p))
                return p->nslots;
            not_full = ~p->full[s];
        }
        i = (s * WORD_BITS + (uint32_t)__builtin_ctzll(not_full)) * WORD_BITS;
    }
    return p->nslots;
}

/* How many free slots start at i, counting no further than the first used slot (the answer may
 * exceed `want`, never the pool). */
static uint32_t free_run(const struct swiotlb_pool *p, uint32_t i, uint32_t want)
{
    uint32_t n = 0;
    while (n < want && i + n < p->nslots) {
        uint32_t pos = i + n;
        uint64_t used_bits = p->used[pos / WORD_BITS] >> (pos % WORD_BITS);
        if (used_bits)
            return min_u32(n + (uint32_t)__builtin_ctzll(used_bits), p->nslots - i);
        n += WORD_BITS - pos % WORD_BITS;
    }
    return min_u32(n, p->nslots - i);
}

/* The words a run of slots [i, i + n) touches, and its bits in the first and the last of them
 * (the same word for most runs: both masks apply). A run of at most SWIOTLB_MAX_MAPPING_SLOTS
 * spans at most 3 words. Every bitmap operation on a run is a loop over w0..w1 with run_mask();
 * the masks are worked out once per mapping, not once per bitmap and word (`make bench`: the
 * walks were a fifth of a 64 KiB map + unmap). An empty run has w1 < w0. */
struct run_words {
    uint32_t w0, w1;
    uint64_t first, last;
};

static inline struct run_words run_words(uint32_t i, uint32_t n)
{
    uint32_t end = i + n;
    if (n == 0)
        return (struct run_words){1, 0, 0, 0};
    return (struct run_words){i / WORD_BITS, (end - 1) / WORD_BITS, ~0ull << (i % WORD_BITS),
                              ~0ull >> (WORD_BITS - 1 - (end - 1) % WORD_BITS)};
}

/* The run's bits in word w (w0 <= w <= w1). */
static inline uint64_t run_mask(const struct run_words *r, uint32_t w)
{
    return (w == r->w0 ? r->first : ~0ull) & (w == r->w1 ? r->last : ~0ull);
}

/* Set or clear the run's bits in a bitmap. */
static inline void assign_run(uint64_t *map, const struct run_words *r, bool set)
{
    for (uint32_t w = r->w0; w <= r->w1; w++)
        map[w] = set ? map[w] | run_mask(r, w) : map[w] & ~run_mask(r, w);
}

/* Mark the run used or free, and keep the summary bits of the words it touches: a word can only
 * become full when slots are taken, and is never full after some are freed. */
static inline void set_range(struct swiotlb_pool *p, const struct run_words *r, bool used)
{
    for (uint32_t w = r->w0; w <= r->w1; w++) {
        uint64_t bit = 1ull << (w % WORD_BITS);
        if (used) {
            p->used[w] |= run_mask(r, w);
            if (p->used[w] == ~0ull)
                p->full[w / WORD_BITS] |= bit;
        } else {
            p->used[w] &= ~run_mask(r, w);
            p->full[w / WORD_BITS] &= ~bit;
        }
    }
}

/* The placement rules of one mapping, in slots. */
struct placement {
    uint32_t nslots;
    uint32_t offset; /* bytes into the first slot */
    uint32_t stride; /* the first slot's index is congruent to residue modulo stride */
    uint32_t residue;
    uint64_t boundary; /* seg_boundary_mask, or 0 */
    uint32_t limit;    /* slots at or past this index are beyond the device's mask */
};

static uint64_t round_up_pow2_mask(uint64_t m)
{
    while (m & (m + 1)) /* not of the form 2^k - 1: widen it */
        m |= m >> 1;
    return m;
}

const char *swiotlb_error_name(int err)
{
    switch (err) {
    case SWIOTLB_FULL: return "no room in the bounce pool";
    case SWIOTLB_TOO_LARGE: return "too large to bounce";
    case SWIOTLB_UNREACHABLE: return "the device cannot reach the bounce pool";
    default: return "?";
    }
}

/* Work out where a mapping may go. Returns 0 or an enum swiotlb_error. */
HOT int plan(const struct swiotlb_pool *p, const struct dma_dev *dev, uint64_t orig, size_t size, struct placement *pl)
{
    uint64_t min_align = round_up_pow2_mask(dev->min_align_mask);
    uint64_t align_mask; /* address bits of the first slot that must match `target` */
    uint64_t target;
    pl->offset = (uint32_t)(orig & min_align & (SWIOTLB_SLOT_SIZE - 1));
    if (size == 0 || size > (size_t)SWIOTLB_MAX_MAPPING_SLOTS * SWIOTLB_SLOT_SIZE)
        return SWIOTLB_TOO_LARGE;
    pl->nslots = (uint32_t)((pl->offset + size + SWIOTLB_SLOT_SIZE - 1) >> SWIOTLB_SLOT_SHIFT);
    if (pl->nslots > SWIOTLB_MAX_MAPPING_SLOTS)
        return SWIOTLB_TOO_LARGE;
    if (min_align == 0 && size >= PAGE_SIZE) {
        align_mask = PAGE_SIZE - 1; /* no device rule: keep page-sized mappings page-aligned, as Linux does */
        target = 0;
    } else {
        align_mask = min_align;
        target = orig;
    }
    align_mask &= ~(uint64_t)(SWIOTLB_SLOT_SIZE - 1);
    pl->stride = (uint32_t)((align_mask >> SWIOTLB_SLOT_SHIFT) + 1);
    if (pl->stride == 0) /* the mask's bits above the slot size do not fit 32 bits */
        return SWIOTLB_UNREACHABLE;
    /* Want ((start >> 11) + i) % stride == (target >> 11) % stride. */
    pl->residue = (uint32_t)(((target >> SWIOTLB_SLOT_SHIFT) - (p->start >> SWIOTLB_SLOT_SHIFT)) & (pl->stride - 1));
    /* All ones (Linux's ULONG_MAX default) limits nothing, like 0; mask + 1 would wrap to 0. */
    pl->boundary = dev->seg_boundary_mask == ~0ull ? 0 : dev->seg_boundary_mask;
    if (pl->boundary && ((uint64_t)pl->nslots << SWIOTLB_SLOT_SHIFT) > pl->boundary + 1)
        return SWIOTLB_TOO_LARGE; /* can never fit between two boundaries */
    uint64_t last = dev->dma_mask < p->end - 1 ? dev->dma_mask : p->end - 1;
    pl->limit = last < p->start ? 0 : (uint32_t)((last + 1 - p->start) >> SWIOTLB_SLOT_SHIFT);
    return pl->limit >= pl->nslots ? 0 : SWIOTLB_UNREACHABLE;
}

static uint32_t align_candidate(const struct placement *pl, uint32_t i)
{
    return i + ((pl->residue - i) & (pl->stride - 1));
}

/* Whether [c, c + nslots) would cross the device's segment boundary. */
static inline bool crosses_boundary(const struct swiotlb_pool *p, const struct placement *pl, uint32_t c)
{
    uint64_t a = slot_addr(p, c), z = a + ((uint64_t)pl->nslots << SWIOTLB_SLOT_SHIFT) - 1;
    return pl->boundary && (a & ~pl->boundary) != (z & ~pl->boundary);
}

/* Whether every slot of the run is free. */
static inline bool run_free(const struct swiotlb_pool *p, const struct run_words *r)
{
    for (uint32_t w = r->w0; w <= r->w1; w++)
        if (p->used[w] & run_mask(r, w))
            return false;
    return true;
}

/* The n slots at c are a live mapping's now: count them, and move the cursor past them. */
HOT int64_t taken(struct swiotlb_pool *p, uint32_t c, uint32_t n)
{
    p->used_slots += n;
    if (p->used_slots > p->high_water)
        p->high_water = p->used_slots;
    p->cursor = c + n < p->nslots ? c + n : 0;
    return c;
}

HOT int64_t claim(struct swiotlb_pool *p, const struct dma_dev *dev, uint64_t orig_phys, size_t size,
                  const struct placement *pl, uint32_t c, const struct run_words *r)
{
    set_range(p, r, true);
    p->head[c / WORD_BITS] |= 1ull << (c % WORD_BITS);
    p->meta[c] = (struct swiotlb_meta){.orig_phys = orig_phys,
                                       .dev = dev,
                                       .size = (uint32_t)size,
                                       .offset = (uint16_t)pl->offset,
                                       .nslots = (uint16_t)pl->nslots};
    return taken(p, c, pl->nslots);
}

/* Mark the slots of the mapping at `index` free: the used and head bits, the meta entry. */
HOT void clear_slots(struct swiotlb_pool *p, uint32_t index)
{
    struct run_words r = run_words(index, p->meta[index].nslots);
    set_range(p, &r, false);
    p->head[index / WORD_BITS] &= ~(1ull << (index % WORD_BITS));
    p->meta[index] = (struct swiotlb_meta){0};
}

/* The parked mapping's slots (see release_slots()), freed for real. */
HOT void unpark(struct swiotlb_pool *p)
{
    if (p->parked) {
        clear_slots(p, p->parked - 1);
        p->parked = 0;
    }
}

/* Whether a map of `size` bytes for dev would be placed on the parked slots: the cursor is still
 * on them, and the placement rules put this mapping where the parked one was - no alignment rule
 * of the device's, no segment boundary, the same size (so the same number of slots, page-aligned
 * if a page or more, as plan() places them: release_slots() parks no other), and every slot
 * within the device's DMA mask. Then the search below would pick exactly these slots (its first
 * candidate is the cursor's run), and they are taken as they are. Otherwise they are freed first. */
HOT bool fits_parked(const struct swiotlb_pool *p, const struct dma_dev *dev, size_t size)
{
    uint32_t c = p->parked - 1;
    const struct swiotlb_meta *m = &p->meta[c];
    return p->cursor == c && m->size == size && dev->min_align_mask == 0 &&
        (dev->seg_boundary_mask == 0 || dev->seg_boundary_mask == ~0ull) &&
        slot_addr(p, c + m->nslots) - 1 <= dev->dma_mask;
}

/* Whether the mapping at `index` is of the shape a device without rules would give: no offset
 * into its first slot, page-aligned if a page or more (plan()). */
static inline bool plain_shape(const struct swiotlb_pool *p, uint32_t index)
{
    const struct swiotlb_meta *m = &p->meta[index];
    return m->offset == 0 && (m->size < PAGE_SIZE || slot_addr(p, index) % PAGE_SIZE == 0);
}

/* *all_dirty: the slots found are known to have no clean mark (the parked ones, reused). */
HOT int64_t find_slots(struct swiotlb_pool *p, const struct dma_dev *dev, uint64_t orig_phys, size_t size,
                       bool *all_dirty)
{
    *all_dirty = false;
    if (p->parked) {
        if (fits_parked(p, dev, size)) {
            /* Its clean bits: all clear since its map, unless its unmap cleared the slots. */
            *all_dirty = !p->meta[p->parked - 1].clear_on_unmap;
            uint32_t c = p->parked - 1;
            p->parked = 0;
            p->meta[c].orig_phys = orig_phys;
            p->meta[c].dev = dev;
            return taken(p, c, p->meta[c].nslots);
        }
        unpark(p);
    }
    struct placement pl;
    int err = plan(p, dev, orig_phys, size, &pl);
    if (err)
        return err;
    if (p->nslots - p->used_slots < pl.nslots)
        return SWIOTLB_FULL;
    uint32_t first = p->cursor < pl.limit ? p->cursor : 0;
    /* The common case first: the run at the cursor, which steps back onto the slots of a mapping
     * released right behind it. The search below would pick the same run (its first candidate
     * is this one), it only costs more to get there. */
    uint32_t c = align_candidate(&pl, first);
    struct run_words r = run_words(c, pl.nslots);
    if (c + pl.nslots <= pl.limit && !crosses_boundary(p, &pl, c) && run_free(p, &r))
        return claim(p, dev, orig_phys, size, &pl, c, &r);
    /* Next fit: search [first, limit), then wrap around to [0, first). */
    for (int pass = 0; pass < 2; pass++) {
        uint32_t i = pass == 0 ? first : 0;
        uint32_t stop = pass == 0 ? pl.limit : first;
        while (i < stop) {
            i = next_free(p, i);
            if (i >= stop)
                break;
            c = align_candidate(&pl, i);
            if (c + pl.nslots > pl.limit)
                break;
            if (crosses_boundary(p, &pl, c)) {
                /* Resume at the first slot past the boundary. */
                uint64_t a = slot_addr(p, c);
                i = (uint32_t)((((a | pl.boundary) + 1) - p->start) >> SWIOTLB_SLOT_SHIFT);
                continue;
            }
            uint32_t run = free_run(p, c, pl.nslots);
            if (run >= pl.nslots) {
                r = run_words(c, pl.nslots);
                return claim(p, dev, orig_phys, size, &pl, c, &r);
            }
            /* Slot c + run is used, and every start in (c, c + run] would include it. */
            i = c + run + 1;
        }
    }
    return SWIOTLB_FULL;
}

int64_t swiotlb_find_slots(struct swiotlb_pool *p, const struct dma_dev *dev, uint64_t orig_phys, size_t size)
{
    bool all_dirty;
    return find_slots(p, dev, orig_phys, size, &all_dirty);
}

HOT void release_slots(struct swiotlb_pool *p, uint32_t index)
{
    uint32_t n = p->meta[index].nslots;
    unpark(p); /* at most one mapping is parked */
    p->used_slots -= n;
    /* The mapping just behind the cursor is going: hand its slots to the next map, which finds
     * them still in the cache (and, under the zero policy, already clean). They are parked: still
     * marked used, head and meta kept, so a next map of the same shape takes them without a
     * search or a bitmap update, and any other map frees them first (find_slots()). */
    if (index + n == p->cursor || (index + n == p->nslots && p->cursor == 0)) { /* no division: it costs */
        p->cursor = index;
        if (plain_shape(p, index)) {
            p->parked = index + 1;
            return;
        }
    }
    clear_slots(p, index);
}

void swiotlb_release_slots(struct swiotlb_pool *p, uint32_t index) { release_slots(p, index); }

/* Zero the slots of the run not known to be clean, whole slots. Returns the bytes zeroed.
 * In the steady state of the zero policy every slot is clean and this is one word test. */
static uint64_t zero_dirty_slots(struct swiotlb_pool *p, const struct run_words *r)
{
    uint64_t zeroed = 0;
    for (uint32_t w = r->w0; w <= r->w1; w++) {
        for (uint64_t dirty = ~p->clean[w] & run_mask(r, w); dirty; dirty &= dirty - 1) {
            uint64_t k = (uint64_t)w * WORD_BITS + (uint64_t)__builtin_ctzll(dirty);
            memset(p->vaddr + (k << SWIOTLB_SLOT_SHIFT), 0, SWIOTLB_SLOT_SIZE);
            zeroed += SWIOTLB_SLOT_SIZE;
        }
    }
    return zeroed;
}

uint64_t swiotlb_tbl_map_single(struct swiotlb_pool *p, const struct dma_dev *dev, uint64_t orig_phys, size_t size,
                                enum dma_data_direction dir, unsigned attrs, enum bounce_policy policy,
                                struct dma_stats *st, struct swiotlb_map_info *info)
{
    bool all_dirty;
    int64_t idx = find_slots(p, dev, orig_phys, size, &all_dirty);
    info->copied_in = info->zeroed = 0;
    info->error = idx < 0 ? (int)idx : 0;
    if (idx < 0)
        return DMA_MAPPING_ERROR;
    struct swiotlb_meta *m = &p->meta[idx];
    m->dir = (uint8_t)dir;
    m->attrs = (uint8_t)attrs;
    bool device_writes = dir != DMA_TO_DEVICE;
    /* A mapping whose completion says how much the device wrote copies back only that: no slot
     * byte it did not write can reach the original, so nothing needs zeroing (see swiotlb.h). */
    bool exact = device_writes && (attrs & DMA_ATTR_EXACT_COMPLETION);
    m->clear_on_unmap = policy == BOUNCE_ZERO && device_writes && !exact;
    uint8_t *slot = p->vaddr + ((uint64_t)idx << SWIOTLB_SLOT_SHIFT) + m->offset;
    info->index = (uint32_t)idx;
    info->nslots = m->nslots;
    struct run_words r = run_words((uint32_t)idx, m->nslots);

    /* What the slots must hold before the device gets them. TO_DEVICE and BIDIRECTIONAL: the data,
     * unless the caller syncs it itself. FROM_DEVICE: what the policy says - the original under
     * copy (or DMA_ATTR_PRESERVE), zeros under zero, stale bytes under none. Any slot the device
     * may write that is not filled by a copy is zeroed (except under none), even with
     * DMA_ATTR_SKIP_CPU_SYNC: that is not a sync but the guarantee that no stale slot data reaches
     * the original. Under the zero policy, slots the device writes start whole-clean and are
     * cleared when the mapping goes; a TO_DEVICE mapping leaves its slots dirty (zeroing them
     * would protect nothing), for the next FROM_DEVICE map to zero; so does an exact-completion
     * mapping, which is not zeroed either. */
    bool copy_in = !(attrs & DMA_ATTR_SKIP_CPU_SYNC) &&
        (dir != DMA_FROM_DEVICE || (attrs & DMA_ATTR_PRESERVE) || policy == BOUNCE_COPY);
    if (device_writes && !exact && (policy == BOUNCE_ZERO || (!copy_in && policy != BOUNCE_NONE))) {
        info->zeroed = zero_dirty_slots(p, &r);
        st->bytes_zeroed += info->zeroed;
    }
    if (copy_in) {
        memcpy(slot, p->phys_to_virt(orig_phys), size);
        info->copied_in = size;
        st->bytes_copied_in += size;
        st->orig_bytes_read += size;
    }
    if (!all_dirty)
        assign_run(p->clean, &r, false); /* the copy or the device will write them */
    return slot_addr(p, (uint32_t)idx) + m->offset;
}

/* The nearest head at or before slot i, or -1. */
HOT int64_t head_at_or_before(const struct swiotlb_pool *p, uint32_t i)
{
    uint32_t w = i / WORD_BITS;
    uint64_t bits = p->head[w] & (~0ull >> (WORD_BITS - 1 - i % WORD_BITS));
    while (bits == 0) {
        if (w == 0)
            return -1;
        bits = p->head[--w];
    }
    return (int64_t)w * WORD_BITS + 63 - __builtin_clzll(bits);
}

HOT uint32_t slot_owner(const struct swiotlb_pool *p, uint32_t i)
{
    if (i >= p->nslots)
        return 0;
    /* The common case, a mapping's own first slot: its meta entry, which the caller reads next
     * anyway, is set at a live mapping's first slot and nowhere else (see the invariants). */
    if (p->meta[i].nslots != 0)
        return i + 1 == p->parked ? 0 : i + 1;
    if (!slot_used(p, i))
        return 0;
    int64_t h = head_at_or_before(p, i); /* a used slot always has one within its run */
    return h < 0 || (uint32_t)h + 1 == p->parked ? 0 : (uint32_t)h + 1;
}

uint32_t swiotlb_slot_owner(const struct swiotlb_pool *p, uint32_t i) { return slot_owner(p, i); }

/* The live mapping containing addr: its first slot, or -1. */
HOT int64_t mapping_of(const struct swiotlb_pool *p, uint64_t addr)
{
    if (!swiotlb_contains(p, addr))
        return -1;
    return (int64_t)slot_owner(p, (uint32_t)((addr - p->start) >> SWIOTLB_SLOT_SHIFT)) - 1;
}

uint64_t swiotlb_orig_addr(const struct swiotlb_pool *p, uint64_t tlb_addr)
{
    int64_t h = mapping_of(p, tlb_addr);
    if (h < 0)
        return 0;
    uint64_t head = slot_addr(p, (uint32_t)h) + p->meta[h].offset;
    return tlb_addr >= head ? p->meta[h].orig_phys + (tlb_addr - head) : 0;
}

const struct dma_dev *swiotlb_mapping_dev(const struct swiotlb_pool *p, uint64_t tlb_addr)
{
    int64_t h = mapping_of(p, tlb_addr);
    return h < 0 ? NULL : p->meta[h].dev;
}

uint32_t swiotlb_mapping_size(const struct swiotlb_pool *p, uint64_t tlb_addr)
{
    int64_t h = mapping_of(p, tlb_addr);
    return h < 0 ? 0 : p->meta[h].size;
}

enum dma_verdict swiotlb_tbl_unmap_written(struct swiotlb_pool *p, const struct dma_dev *dev, uint64_t tlb_addr,
                                           size_t size, enum dma_data_direction dir, unsigned attrs, size_t written,
                                           struct dma_stats *st, struct swiotlb_unmap_info *info, char *why,
                                           size_t whylen)
{
    int64_t h = mapping_of(p, tlb_addr);
    if (h < 0) {
        *info = (struct swiotlb_unmap_info){0};
        snprintf(why, whylen, "unmap of %#" PRIx64 ": no live mapping there (double unmap?)", tlb_addr);
        return DMA_REFUSED;
    }
    const struct swiotlb_meta *m = &p->meta[h];
    *info = (struct swiotlb_unmap_info){.orig_phys = m->orig_phys, .index = (uint32_t)h, .mapped = m->size};
    if (m->dev != dev) {
        snprintf(why, whylen, "unmap of %#" PRIx64 ", which %s mapped", tlb_addr, m->dev->name);
        return DMA_REFUSED;
    }
    uint64_t head = slot_addr(p, (uint32_t)h) + m->offset;
    if (tlb_addr != head) {
        snprintf(why, whylen, "unmap of %#" PRIx64 ": inside the mapping at %#" PRIx64 ", not its start", tlb_addr,
                 head);
        return DMA_REFUSED;
    }
    enum dma_verdict v = DMA_OK;
    if (size != m->size || dir != (enum dma_data_direction)m->dir) {
        snprintf(why, whylen, "unmap of %#" PRIx64 " as %zu bytes %s, but it was mapped as %u bytes %s", tlb_addr, size,
                 dma_dir_name(dir), m->size, dma_dir_name((enum dma_data_direction)m->dir));
        v = DMA_MISMATCH; /* reported; tear it down as it was mapped, which is what the slots hold */
    }
    enum dma_data_direction mdir = (enum dma_data_direction)m->dir;
    bool copy_out = mdir != DMA_TO_DEVICE && !(attrs & DMA_ATTR_SKIP_CPU_SYNC);
    if (copy_out && written == SWIOTLB_WRITTEN_ALL && (m->attrs & DMA_ATTR_EXACT_COMPLETION) && v == DMA_OK) {
        snprintf(why, whylen,
                 "unmap of %#" PRIx64 " without a length, but it was mapped for exact completion: the bytes "
                 "the device did not write come back as stale slot bytes",
                 tlb_addr);
        v = DMA_MISMATCH; /* reported; the whole mapping goes back, so no byte the device wrote is lost */
    }
    /* What goes back: the whole mapping, or exactly what the device wrote. */
    uint32_t back = written == SWIOTLB_WRITTEN_ALL || written > m->size ? m->size : (uint32_t)written;
    uint8_t *slot = p->vaddr + (tlb_addr - p->start), *orig = copy_out ? p->phys_to_virt(m->orig_phys) : NULL;
    if (copy_out)
        memcpy(orig, slot, back);
    if (m->clear_on_unmap) {
        /* Leave the slots clean for the next map: one memset over the run, from the start of the
         * first slot (the offset before the mapping too: clean must hold even if a device wrote
         * outside its mapping). Not interleaved with the copy in 4 KiB steps: measured
         * (`make bench`), two whole passes beat 32 short ones - each memcpy/memset call pays its
         * start-up, and a 64 KiB slot is still in L2 for the second pass. After an exact
         * completion only the head and the copied part are cleared, and only the slots that
         * covers whole are marked clean (see swiotlb.h). */
        uint8_t *first = p->vaddr + ((uint64_t)h << SWIOTLB_SLOT_SHIFT);
        uint32_t clear = written == SWIOTLB_WRITTEN_ALL ? (uint32_t)m->nslots << SWIOTLB_SLOT_SHIFT : m->offset + back;
        memset(first, 0, clear);
        st->bytes_zeroed += clear;
        info->cleared = clear;
        struct run_words r = run_words((uint32_t)h, clear >> SWIOTLB_SLOT_SHIFT);
        assign_run(p->clean, &r, true);
    }
    if (copy_out) {
        info->copied = back;
        st->bytes_copied_out += back;
    }
    release_slots(p, (uint32_t)h);
    return v;
}

enum dma_verdict swiotlb_sync_single(struct swiotlb_pool *p, uint64_t tlb_addr, size_t size,
                                     enum dma_data_direction dir, bool for_cpu, struct dma_stats *st, uint64_t *copied,
                                     char *why, size_t whylen)
{
    int64_t h = mapping_of(p, tlb_addr);
    *copied = 0;
    if (h < 0) {
        snprintf(why, whylen, "sync of %#" PRIx64 ": no live mapping there", tlb_addr);
        return DMA_REFUSED;
    }
    const struct swiotlb_meta *m = &p->meta[h];
    uint64_t head = slot_addr(p, (uint32_t)h) + m->offset;
    if (tlb_addr < head || size == 0 || size > m->size || tlb_addr - head > m->size - size) {
        snprintf(why, whylen, "sync of [%#" PRIx64 ", +%zu) reaches outside the mapping [%#" PRIx64 ", +%u)", tlb_addr,
                 size, head, m->size);
        return DMA_REFUSED;
    }
    if (dir != (enum dma_data_direction)m->dir) {
        snprintf(why, whylen, "sync of %#" PRIx64 " as %s, but it was mapped %s", tlb_addr, dma_dir_name(dir),
                 dma_dir_name((enum dma_data_direction)m->dir));
        return DMA_REFUSED;
    }
    uint8_t *slot = p->vaddr + (tlb_addr - p->start);
    uint8_t *orig = p->phys_to_virt(m->orig_phys + (tlb_addr - head));
    if (for_cpu && (dir == DMA_FROM_DEVICE || dir == DMA_BIDIRECTIONAL)) {
        memcpy(orig, slot, size);
        st->bytes_copied_out += size;
        *copied = size;
    } else if (!for_cpu && (dir == DMA_TO_DEVICE || dir == DMA_BIDIRECTIONAL)) {
        memcpy(slot, orig, size);
        st->bytes_copied_in += size;
        st->orig_bytes_read += size;
        *copied = size;
    }
    return DMA_OK;
}

bool swiotlb_check(const struct swiotlb_pool *p, char *why, size_t whylen)
{
    uint32_t counted = 0, run_end = 0; /* the run of the nearest head so far ends before run_end */
    for (uint32_t i = 0; i < p->nslots; i++) {
        bool used = slot_used(p, i), head = (p->head[i / WORD_BITS] >> (i % WORD_BITS)) & 1;
        const struct swiotlb_meta *m = &p->meta[i];
        counted += used;
        if (head) {
            if (i < run_end) {
                snprintf(why, whylen, "mapping at slot %u starts inside the run of an earlier one", i);
                return false;
            }
            if (m->size == 0 || m->nslots == 0 ||
                m->nslots != (m->offset + m->size + SWIOTLB_SLOT_SIZE - 1) / SWIOTLB_SLOT_SIZE ||
                i + m->nslots > p->nslots) {
                snprintf(why, whylen, "mapping at slot %u: %u slots for offset %u + %u bytes", i, m->nslots, m->offset,
                         m->size);
                return false;
            }
            run_end = i + m->nslots;
        } else if (m->nslots != 0 || m->size != 0 || m->orig_phys != 0 || m->dev != NULL) {
            snprintf(why, whylen, "slot %u: no mapping starts there but its meta entry is set (%u slots)", i,
                     m->nslots);
            return false;
        }
        if (used != (i < run_end)) {
            snprintf(why, whylen, "slot %u: used bit %d but %s", i, used,
                     i < run_end ? "it lies in a live mapping's run" : "no live mapping's run holds it");
            return false;
        }
    }
    for (uint32_t i = 0; i < p->nslots; i++) {
        if (!((p->clean[i / WORD_BITS] >> (i % WORD_BITS)) & 1))
            continue;
        static const uint8_t zero[SWIOTLB_SLOT_SIZE];
        if (p->vaddr == NULL) /* a placement-only pool has no bytes */
            break;
        const uint8_t *b = p->vaddr + ((uint64_t)i << SWIOTLB_SLOT_SHIFT);
        if (memcmp(b, zero, SWIOTLB_SLOT_SIZE) == 0)
            continue;
        uint32_t k = 0;
        while (b[k] == 0)
            k++;
        snprintf(why, whylen, "slot %u: marked clean but byte %u is %#x", i, k, b[k]);
        return false;
    }
    uint32_t parked_slots = 0;
    if (p->parked) {
        uint32_t c = p->parked - 1;
        if (c >= p->nslots || !((p->head[c / WORD_BITS] >> (c % WORD_BITS)) & 1)) {
            snprintf(why, whylen, "parked slot %u is no mapping's first slot", c);
            return false;
        }
        parked_slots = p->meta[c].nslots;
    }
    if (counted != p->used_slots + parked_slots) {
        snprintf(why, whylen, "used_slots %u (and %u parked) but %u bits set", p->used_slots, parked_slots, counted);
        return false;
    }
    for (uint32_t w = 0; w < p->nwords; w++) {
        bool full = (p->full[w / WORD_BITS] >> (w % WORD_BITS)) & 1;
        if (full != (p->used[w] == ~0ull)) {
            snprintf(why, whylen, "summary bit of word %u is %d but the word is %#" PRIx64, w, full, p->used[w]);
            return false;
        }
    }
    if (p->nslots % WORD_BITS &&
        (p->used[p->nwords - 1] >> (p->nslots % WORD_BITS)) != (~0ull >> (p->nslots % WORD_BITS))) {
        snprintf(why, whylen, "bits past the last slot are not all set");
        return false;
    }
    return true;
}
