/* swiotlb.c - the bounce pool: slot allocation and the copies (see swiotlb.h). */
#include "dma/swiotlb.h"

#include <stdio.h>
#include <string.h>

#include "dma/dma_internal.h"

#define WORD_BITS 64u

static uint32_t nsummary(const struct swiotlb_pool *p) { return (p->nwords + WORD_BITS - 1) / WORD_BITS; }
static bool slot_used(const struct swiotlb_pool *p, uint32_t i) { return (p->used[i / WORD_BITS] >> (i % WORD_BITS)) & 1; }
static uint64_t slot_addr(const struct swiotlb_pool *p, uint32_t i) { return p->start + ((uint64_t)i << SWIOTLB_SLOT_SHIFT); }
static uint32_t min_u32(uint32_t a, uint32_t b) { return a < b ? a : b; }

static size_t align8(size_t x) { return (x + 7) & ~(size_t)7; }

size_t swiotlb_meta_bytes(uint64_t bytes)
{
    uint64_t nslots = bytes >> SWIOTLB_SLOT_SHIFT, nwords = (nslots + WORD_BITS - 1) / WORD_BITS;
    uint64_t nsum = (nwords + WORD_BITS - 1) / WORD_BITS;
    return (size_t)(2 * nwords * 8 + nsum * 8 + align8(nslots * sizeof(uint32_t)) + nslots * sizeof(struct swiotlb_meta));
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

int swiotlb_pool_init(struct swiotlb_pool *p, void *vaddr, uint64_t phys, uint64_t bytes, void *meta,
                      size_t meta_bytes)
{
    if (bytes == 0 || bytes % SWIOTLB_SLOT_SIZE != 0 || phys % 4096 != 0 || (bytes >> SWIOTLB_SLOT_SHIFT) >= (1u << 30) ||
        meta_bytes < swiotlb_meta_bytes(bytes))
        return -1;
    memset(p, 0, sizeof(*p));
    p->start = phys;
    p->end = phys + bytes;
    p->vaddr = vaddr;
    p->nslots = (uint32_t)(bytes >> SWIOTLB_SLOT_SHIFT);
    p->nwords = (p->nslots + WORD_BITS - 1) / WORD_BITS;
    uint8_t *m = meta;
    p->used = (uint64_t *)m;
    m += p->nwords * 8;
    p->full = (uint64_t *)m;
    m += nsummary(p) * 8;
    p->clean = (uint64_t *)m;
    m += p->nwords * 8;
    p->owner = (uint32_t *)m;
    m += align8(p->nslots * sizeof(uint32_t));
    p->meta = (struct swiotlb_meta *)m;

    memset(p->used, 0, p->nwords * 8);
    memset(p->full, 0, nsummary(p) * 8);
    memset(p->clean, 0xff, p->nwords * 8); /* the caller hands us zeroed memory */
    memset(p->owner, 0, p->nslots * sizeof(uint32_t));
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

static void set_range(struct swiotlb_pool *p, uint32_t i, uint32_t n, bool used)
{
    for (uint32_t pos = i; pos < i + n;) {
        uint32_t w = pos / WORD_BITS, bit = pos % WORD_BITS, cnt = min_u32(WORD_BITS - bit, i + n - pos);
        uint64_t mask = (cnt == WORD_BITS ? ~0ull : ((1ull << cnt) - 1)) << bit;
        if (used)
            p->used[w] |= mask;
        else
            p->used[w] &= ~mask;
        update_full(p, w);
        pos += cnt;
    }
}

/* The placement rules of one mapping, in slots. */
struct placement {
    uint32_t nslots;
    uint32_t offset;   /* bytes into the first slot */
    uint32_t stride;   /* the first slot's index is congruent to residue modulo stride */
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
static int plan(const struct swiotlb_pool *p, const struct dma_dev *dev, uint64_t orig, size_t size, struct placement *pl)
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
    if (min_align == 0 && size >= 4096) {
        align_mask = 4096 - 1; /* no device rule: keep page-sized mappings page-aligned, as Linux does */
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

int64_t swiotlb_find_slots(struct swiotlb_pool *p, const struct dma_dev *dev, uint64_t orig_phys, size_t size)
{
    struct placement pl;
    int err = plan(p, dev, orig_phys, size, &pl);
    if (err)
        return err;
    if (p->nslots - p->used_slots < pl.nslots)
        return SWIOTLB_FULL;
    uint32_t first = p->cursor < pl.limit ? p->cursor : 0;
    /* Next fit: search [first, limit), then wrap around to [0, first). */
    for (int pass = 0; pass < 2; pass++) {
        uint32_t i = pass == 0 ? first : 0;
        uint32_t stop = pass == 0 ? pl.limit : first;
        while (i < stop) {
            i = next_free(p, i);
            if (i >= stop)
                break;
            uint32_t c = align_candidate(&pl, i);
            if (c + pl.nslots > pl.limit)
                break;
            uint64_t a = slot_addr(p, c), z = a + ((uint64_t)pl.nslots << SWIOTLB_SLOT_SHIFT) - 1;
            if (pl.boundary && (a & ~pl.boundary) != (z & ~pl.boundary)) {
                /* Crosses a segment boundary: resume at the first slot past it. */
                i = (uint32_t)((((a | pl.boundary) + 1) - p->start) >> SWIOTLB_SLOT_SHIFT);
                continue;
            }
            uint32_t run = free_run(p, c, pl.nslots);
            if (run >= pl.nslots) {
                set_range(p, c, pl.nslots, true);
                for (uint32_t k = c; k < c + pl.nslots; k++)
                    p->owner[k] = c + 1;
                p->meta[c] = (struct swiotlb_meta){.orig_phys = orig_phys, .dev = dev, .size = (uint32_t)size,
                                                   .offset = (uint16_t)pl.offset, .nslots = (uint16_t)pl.nslots};
                p->used_slots += pl.nslots;
                if (p->used_slots > p->high_water)
                    p->high_water = p->used_slots;
                p->cursor = c + pl.nslots < p->nslots ? c + pl.nslots : 0;
                return c;
            }
            /* Slot c + run is used, and every start in (c, c + run] would include it. */
            i = c + run + 1;
        }
    }
    return SWIOTLB_FULL;
}

void swiotlb_release_slots(struct swiotlb_pool *p, uint32_t index)
{
    uint32_t n = p->meta[index].nslots;
    /* The mapping just behind the cursor is going: hand its slots to the next map, which finds
     * them still in the cache (and, under the zero policy, already clean). */
    if ((index + n) % p->nslots == p->cursor)
        p->cursor = index;
    set_range(p, index, n, false);
    for (uint32_t k = index; k < index + n; k++)
        p->owner[k] = 0;
    memset(&p->meta[index], 0, sizeof(p->meta[index]));
    p->used_slots -= n;
}

/* Mark [i, i + n) clean or not, a word at a time. */
static void set_clean(struct swiotlb_pool *p, uint32_t i, uint32_t n, bool clean)
{
    for (uint32_t pos = i; pos < i + n;) {
        uint32_t w = pos / WORD_BITS, bit = pos % WORD_BITS, cnt = min_u32(WORD_BITS - bit, i + n - pos);
        uint64_t mask = (cnt == WORD_BITS ? ~0ull : ((1ull << cnt) - 1)) << bit;
        if (clean)
            p->clean[w] |= mask;
        else
            p->clean[w] &= ~mask;
        pos += cnt;
    }
}

/* Zero the slots of [i, i + n) not known to be clean, whole slots. Returns the bytes zeroed.
 * In the steady state of the zero policy every slot is clean and this is one word test. */
static uint64_t zero_dirty_slots(struct swiotlb_pool *p, uint32_t i, uint32_t n)
{
    uint64_t zeroed = 0;
    for (uint32_t pos = i; pos < i + n;) {
        uint32_t w = pos / WORD_BITS, bit = pos % WORD_BITS, cnt = min_u32(WORD_BITS - bit, i + n - pos);
        uint64_t mask = (cnt == WORD_BITS ? ~0ull : ((1ull << cnt) - 1)) << bit;
        for (uint64_t dirty = ~p->clean[w] & mask; dirty; dirty &= dirty - 1) {
            uint64_t k = (uint64_t)w * WORD_BITS + (uint64_t)__builtin_ctzll(dirty);
            memset(p->vaddr + (k << SWIOTLB_SLOT_SHIFT), 0, SWIOTLB_SLOT_SIZE);
            zeroed += SWIOTLB_SLOT_SIZE;
        }
        pos += cnt;
    }
    return zeroed;
}

uint64_t swiotlb_tbl_map_single(struct swiotlb_pool *p, const struct dma_dev *dev, uint64_t orig_phys, size_t size,
                                enum dma_data_direction dir, unsigned attrs, enum bounce_policy policy,
                                struct dma_stats *st, struct swiotlb_map_info *info)
{
    int64_t idx = swiotlb_find_slots(p, dev, orig_phys, size);
    info->copied_in = info->zeroed = 0;
    info->error = idx < 0 ? (int)idx : 0;
    if (idx < 0)
        return DMA_MAPPING_ERROR;
    struct swiotlb_meta *m = &p->meta[idx];
    m->dir = (uint8_t)dir;
    m->attrs = (uint8_t)attrs;
    bool device_writes = dir != DMA_TO_DEVICE;
    m->clear_on_unmap = policy == BOUNCE_ZERO && device_writes;
    uint8_t *slot = p->vaddr + ((uint64_t)idx << SWIOTLB_SLOT_SHIFT) + m->offset;
    info->index = (uint32_t)idx;
    info->nslots = m->nslots;

    /* What the slots must hold before the device gets them. TO_DEVICE and BIDIRECTIONAL: the data,
     * unless the caller syncs it itself. FROM_DEVICE: what the policy says - the original under
     * copy (or DMA_ATTR_PRESERVE), zeros under zero, stale bytes under none. Any slot the device
     * may write that is not filled by a copy is zeroed (except under none), even with
     * DMA_ATTR_SKIP_CPU_SYNC: that is not a sync but the guarantee that no stale slot data reaches
     * the original. Under the zero policy, slots the device writes start whole-clean and are
     * cleared when the mapping goes; a TO_DEVICE mapping leaves its slots dirty (zeroing them
     * would protect nothing), for the next FROM_DEVICE map to zero. */
    bool copy_in = !(attrs & DMA_ATTR_SKIP_CPU_SYNC) &&
                   (dir != DMA_FROM_DEVICE || (attrs & DMA_ATTR_PRESERVE) || policy == BOUNCE_COPY);
    if (device_writes && (policy == BOUNCE_ZERO || (!copy_in && policy != BOUNCE_NONE)))
        info->zeroed = zero_dirty_slots(p, (uint32_t)idx, m->nslots);
    if (copy_in) {
        memcpy(slot, dma_phys_to_virt(orig_phys), size);
        info->copied_in = size;
    }
    set_clean(p, (uint32_t)idx, m->nslots, false); /* the copy or the device will write them */
    st->bytes_copied_in += info->copied_in;
    st->orig_bytes_read += info->copied_in;
    st->bytes_zeroed += info->zeroed;
    return slot_addr(p, (uint32_t)idx) + m->offset;
}

/* The live mapping containing addr: its first slot, or -1. */
static int64_t mapping_of(const struct swiotlb_pool *p, uint64_t addr)
{
    if (!swiotlb_contains(p, addr))
        return -1;
    uint32_t owner = p->owner[(addr - p->start) >> SWIOTLB_SLOT_SHIFT];
    return owner ? (int64_t)owner - 1 : -1;
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

int swiotlb_tbl_unmap_written(struct swiotlb_pool *p, uint64_t tlb_addr, size_t size, enum dma_data_direction dir,
                              unsigned attrs, size_t written, struct dma_stats *st, uint64_t *copied_out, char *why,
                              size_t whylen)
{
    int64_t h = mapping_of(p, tlb_addr);
    *copied_out = 0;
    if (h < 0) {
        snprintf(why, whylen, "unmap of %#llx: no live mapping there (double unmap?)", (unsigned long long)tlb_addr);
        return -1;
    }
    const struct swiotlb_meta *m = &p->meta[h];
    uint64_t head = slot_addr(p, (uint32_t)h) + m->offset;
    if (tlb_addr != head) {
        snprintf(why, whylen, "unmap of %#llx: inside the mapping at %#llx, not its start", (unsigned long long)tlb_addr,
                 (unsigned long long)head);
        return -1;
    }
    int rc = 0;
    if (size != m->size || dir != (enum dma_data_direction)m->dir) {
        snprintf(why, whylen, "unmap of %#llx as %zu bytes %s, but it was mapped as %u bytes %s",
                 (unsigned long long)tlb_addr, size, dma_dir_name(dir), m->size,
                 dma_dir_name((enum dma_data_direction)m->dir));
        rc = 1; /* reported; tear it down as it was mapped, which is what the slots hold */
    }
    enum dma_data_direction mdir = (enum dma_data_direction)m->dir;
    bool copy_out = mdir != DMA_TO_DEVICE && !(attrs & DMA_ATTR_SKIP_CPU_SYNC);
    /* What goes back: the whole mapping, or exactly what the device wrote. */
    uint32_t back = written == SWIOTLB_WRITTEN_ALL || written > m->size ? m->size : (uint32_t)written;
    uint8_t *slot = p->vaddr + (tlb_addr - p->start), *orig = copy_out ? dma_phys_to_virt(m->orig_phys) : NULL;
    if (m->clear_on_unmap) {
        /* Copy back and clear in 4 KiB steps, so each piece of the slot is cleared while it is
         * still in the cache from the copy; then the slots are clean for the next map. After an
         * exact completion only what was copied is cleared (see swiotlb.h). */
        for (uint32_t off = 0; off < back; off += 4096) {
            uint32_t n = back - off < 4096 ? back - off : 4096;
            if (copy_out)
                memcpy(orig + off, slot + off, n);
            memset(slot + off, 0, n);
        }
        /* And the offset before the mapping; for a whole completion also the tail after it: clean
         * must hold even if a device wrote outside its mapping. Nothing for page-sized mappings. */
        uint8_t *first = p->vaddr + ((uint64_t)h << SWIOTLB_SLOT_SHIFT);
        memset(first, 0, m->offset);
        uint32_t clean_slots = m->nslots;
        if (written == SWIOTLB_WRITTEN_ALL) {
            memset(slot + m->size, 0, ((uint32_t)m->nslots << SWIOTLB_SLOT_SHIFT) - m->offset - m->size);
            st->bytes_zeroed += (uint64_t)m->nslots << SWIOTLB_SLOT_SHIFT;
        } else {
            clean_slots = (m->offset + back) >> SWIOTLB_SLOT_SHIFT; /* the slots cleared whole */
            st->bytes_zeroed += m->offset + back;
        }
        set_clean(p, (uint32_t)h, clean_slots, true);
    } else if (copy_out) {
        memcpy(orig, slot, back);
    }
    if (copy_out) {
        *copied_out = back;
        st->bytes_copied_out += back;
    }
    swiotlb_release_slots(p, (uint32_t)h);
    return rc;
}

int swiotlb_sync_single(struct swiotlb_pool *p, uint64_t tlb_addr, size_t size, enum dma_data_direction dir,
                        bool for_cpu, struct dma_stats *st, uint64_t *copied, char *why, size_t whylen)
{
    int64_t h = mapping_of(p, tlb_addr);
    *copied = 0;
    if (h < 0) {
        snprintf(why, whylen, "sync of %#llx: no live mapping there", (unsigned long long)tlb_addr);
        return -1;
    }
    const struct swiotlb_meta *m = &p->meta[h];
    uint64_t head = slot_addr(p, (uint32_t)h) + m->offset;
    if (tlb_addr < head || size == 0 || size > m->size || tlb_addr - head > m->size - size) {
        snprintf(why, whylen, "sync of [%#llx, +%zu) reaches outside the mapping [%#llx, +%u)",
                 (unsigned long long)tlb_addr, size, (unsigned long long)head, m->size);
        return -1;
    }
    if (dir != (enum dma_data_direction)m->dir) {
        snprintf(why, whylen, "sync of %#llx as %s, but it was mapped %s", (unsigned long long)tlb_addr,
                 dma_dir_name(dir), dma_dir_name((enum dma_data_direction)m->dir));
        return -1;
    }
    uint8_t *slot = p->vaddr + (tlb_addr - p->start);
    uint8_t *orig = dma_phys_to_virt(m->orig_phys + (tlb_addr - head));
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
    return 0;
}

bool swiotlb_check(const struct swiotlb_pool *p, char *why, size_t whylen)
{
    uint32_t counted = 0;
    for (uint32_t i = 0; i < p->nslots; i++) {
        bool used = slot_used(p, i);
        uint32_t o = p->owner[i];
        counted += used;
        if (used != (o != 0)) {
            snprintf(why, whylen, "slot %u: used bit %d but owner %u", i, used, o);
            return false;
        }
        if (o == 0)
            continue;
        uint32_t h = o - 1;
        const struct swiotlb_meta *m = &p->meta[h];
        if (h > i || p->owner[h] != o || m->nslots == 0 || i >= h + m->nslots) {
            snprintf(why, whylen, "slot %u: owner %u does not hold it (nslots %u)", i, h, m->nslots);
            return false;
        }
        if (h == i && (m->size == 0 || m->nslots != (m->offset + m->size + SWIOTLB_SLOT_SIZE - 1) / SWIOTLB_SLOT_SIZE ||
                       h + m->nslots > p->nslots)) {
            snprintf(why, whylen, "mapping at slot %u: %u slots for offset %u + %u bytes", i, m->nslots, m->offset,
                     m->size);
            return false;
        }
        for (uint32_t k = h + 1; h == i && k < h + m->nslots; k++) {
            if (p->owner[k] != o) {
                snprintf(why, whylen, "mapping at slot %u: its slot %u is owned by %u", h, k, p->owner[k]);
                return false;
            }
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
    if (counted != p->used_slots) {
        snprintf(why, whylen, "used_slots %u but %u bits set", p->used_slots, counted);
        return false;
    }
    for (uint32_t w = 0; w < p->nwords; w++) {
        bool full = (p->full[w / WORD_BITS] >> (w % WORD_BITS)) & 1;
        if (full != (p->used[w] == ~0ull)) {
            snprintf(why, whylen, "summary bit of word %u is %d but the word is %#llx", w, full,
                     (unsigned long long)p->used[w]);
            return false;
        }
    }
    if (p->nslots % WORD_BITS && (p->used[p->nwords - 1] >> (p->nslots % WORD_BITS)) !=
                                     (~0ull >> (p->nslots % WORD_BITS))) {
        snprintf(why, whylen, "bits past the last slot are not all set");
        return false;
    }
    return true;
}
