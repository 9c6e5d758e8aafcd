/* SPDX-License-Identifier: MIT */
/* swiotlb.h - the bounce pool: a region below 4 GiB cut into 2 KiB slots.
 *
 * Vocabulary and rules follow Linux's kernel/dma/swiotlb.c and Documentation/core-api/swiotlb.rst:
 *  - a mapping takes contiguous slots, at most SWIOTLB_MAX_MAPPING_SLOTS (256 KiB);
 *  - the bounce address keeps the original's offset bits under the device's min_align_mask; with
 *    no such mask, mappings of a page or more start on a page boundary;
 *  - the slots of a mapping never cross the device's segment boundary.
 *
 * Index: a bitmap of used slots plus a summary bit per 64-slot word that is completely used, and
 * a next-fit cursor, which steps back onto the slots of a mapping released right behind it (so a
 * map/unmap/map sequence reuses the same, cache-hot slots). Finding free slots skips used words
 * 64 at a time and full stretches of words 4096 at a time, so a map costs O(slots needed) when
 * free slots are near the cursor, not O(pool).
 *
 * Clean slots: a second bitmap marks slots known to be all zero. Under the zero policy the slots
 * of a mapping the device writes (FROM_DEVICE, BIDIRECTIONAL) are cleared when it is torn down -
 * right after the copy-back, while they are in the cache - so a map usually finds its slots
 * already clean and zeroes only the ones another use left dirty (a TO_DEVICE mapping, or one made
 * under another policy). The pool's memory must be zero at init.
 *
 * Invariants (checked by swiotlb_check(), used by the tests and the fuzzer):
 *  - a live mapping is a head bit (its first slot) and meta.nslots > 0 there, and its meta.nslots
 *    slots have their used bits set; runs of live mappings never overlap;
 *  - slot i is used  <=>  i lies in the run of the nearest head at or before it (its owner,
 *    swiotlb_slot_owner()); every other meta entry is zero;
 *  - summary bit w is set  <=>  used word w is all ones;
 *  - used_slots equals the number of set bits, less the parked run's: a mapping released right
 *    behind the cursor keeps its used and head bits and its meta until the next map, which takes
 *    its slots as they are when it would be placed there anyway (same size, no alignment rule or
 *    boundary of the device's, within its mask) and frees them first otherwise. It is no live
 *    mapping (swiotlb_slot_owner() says 0); a map + unmap cycle of one size touches no bitmap.
 *  - a slot marked clean holds only zeros (the map that fills slots clears their mark first;
 *    swiotlb_check() reads every clean slot: O(pool), for tests and the fuzzer). A device that
 *    writes into a slot after its unmap breaks it, and the check says so.
 */
#ifndef BOUNCE_DMA_SWIOTLB_H
#define BOUNCE_DMA_SWIOTLB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dma/dma.h"
#include "dma/dma_internal.h"

#define SWIOTLB_SLOT_SHIFT 11
#define SWIOTLB_SLOT_SIZE (1u << SWIOTLB_SLOT_SHIFT)
#define SWIOTLB_MAX_MAPPING_SLOTS 128 /* Linux's IO_TLB_SEGSIZE: 256 KiB */

/* Per slot; meaningful at the first slot of a live mapping. */
struct swiotlb_meta {
    uint64_t orig_phys;        /* the original buffer */
    const struct dma_dev *dev; /* who mapped it: unmaps and syncs must come from the same device */
    uint32_t size;             /* bytes mapped */
    uint16_t offset;           /* where the mapping starts inside its first slot */
    uint16_t nslots;
    uint8_t dir;
    uint8_t attrs;
    uint8_t clear_on_unmap; /* mapped under the zero policy: leave the slots clean */
};

struct swiotlb_pool {
    uint64_t start, end; /* physical (= DMA) addresses of the pool: [start, end) */
    uint8_t *vaddr;      /* the pool's virtual address */
    uint32_t nslots, nwords;
    uint64_t *used;  /* bit per slot */
    uint64_t *full;  /* bit per used word: that word is all ones */
    uint64_t *clean; /* bit per slot: known to be all zero */
    /* Bit per slot: the first slot of a live mapping. Not an owner per slot: storing one costs a
     * store per slot at map and unmap (measured: a quarter of a 64 KiB map + unmap), while the
     * owner of any slot is the nearest head at or before it, at most 3 words back. */
    uint64_t *head;
    struct swiotlb_meta *meta;
    void *(*phys_to_virt)(uint64_t phys); /* where an original buffer is (the platform's translation) */
    uint32_t cursor;                      /* next-fit: where the next search starts */
    /* A released mapping's first slot + 1, or 0: its slots still marked used, its head and meta
     * kept, for the next map of the same shape (release_slots() in swiotlb.c). Not counted in
     * used_slots; no mapping to unmap or sync. */
    uint32_t parked;
    uint32_t used_slots, high_water;
};

/* Bytes of bookkeeping for a pool of `bytes`. */
size_t swiotlb_meta_bytes(uint64_t bytes);
/* Set up a pool over [phys, phys + bytes) (a multiple of the slot size) mapped at vaddr, with its
 * bookkeeping in `meta` (swiotlb_meta_bytes() of it, any alignment of 8). Returns 0 or -1. */
int swiotlb_pool_init(struct swiotlb_pool *p, void *vaddr, uint64_t phys, uint64_t bytes, void *meta, size_t meta_bytes,
                      void *(*phys_to_virt)(uint64_t phys));

static inline bool swiotlb_contains(const struct swiotlb_pool *p, uint64_t addr)
{
    return p != NULL && addr >= p->start && addr < p->end;
}

/* Why a mapping could not be placed. */
enum swiotlb_error {
    SWIOTLB_FULL = -1,        /* no free run fits now: retry after unmaps */
    SWIOTLB_TOO_LARGE = -2,   /* more than SWIOTLB_MAX_MAPPING_SLOTS, or larger than a segment */
    SWIOTLB_UNREACHABLE = -3, /* the device's DMA mask does not reach enough of the pool */
};
const char *swiotlb_error_name(int err);

/* Find and claim slots for a mapping of `size` bytes of the original at orig_phys, honouring
 * the device's min_align_mask and segment boundary. Returns the first slot's index, or a
 * negative enum swiotlb_error. No data is copied. */
int64_t swiotlb_find_slots(struct swiotlb_pool *p, const struct dma_dev *dev, uint64_t orig_phys, size_t size);
/* Release the mapping that starts at slot `index`. */
void swiotlb_release_slots(struct swiotlb_pool *p, uint32_t index);

/* The slot-level outcome of a map, for tracing. */
struct swiotlb_map_info {
    uint32_t index, nslots;
    uint64_t copied_in, zeroed;
    int error; /* enum swiotlb_error when the map failed */
};

/* Bounce a mapping: claim slots, then fill them per direction, policy and attributes.
 * Returns the bounce (DMA) address, or DMA_MAPPING_ERROR when the pool has no room. */
uint64_t swiotlb_tbl_map_single(struct swiotlb_pool *p, const struct dma_dev *dev, uint64_t orig_phys, size_t size,
                                enum dma_data_direction dir, unsigned attrs, enum bounce_policy policy,
                                struct dma_stats *st, struct swiotlb_map_info *info);
/* Tear a bounced mapping down, copying back for FROM_DEVICE/BIDIRECTIONAL (and clearing the slots
 * if it was mapped under the zero policy). `written`: how many bytes, from the start of the
 * mapping, the device wrote (exact completion: only those are copied back, the rest of the
 * original is neither read nor written), or SWIOTLB_WRITTEN_ALL when the driver does not know
 * (the whole mapping is copied back: unwritten bytes arrive as the policy filled them). The
 * caller clamps `written` to the mapping. A tlb_addr that is not the start of a live mapping, or
 * one that another device mapped, is refused (DMA_REFUSED, nothing changes). A size or direction
 * that differs from the map is reported (DMA_MISMATCH) but the mapping is still torn down as it
 * was made. `why` receives the reason in both cases. DMA_OK when all was right.
 *
 * Slots after an exact completion under the zero policy: of a mapping made without
 * DMA_ATTR_EXACT_COMPLETION (zeroed at map, like any other), the written part is copied back and
 * cleared, and only the slots that clearing covers whole are marked clean; the others are left
 * marked dirty, because nothing but the device's word says it wrote no further. A mapping made
 * WITH the attribute was never zeroed: its slots hold whatever their last user left, the device
 * writes over part of that, the unmap copies back exactly the written part and clears nothing -
 * one memcpy, the floor of any bounce - and the slots stay dirty. A dirty slot is zeroed by the
 * next map that needs it clean, so the zero policy's guarantee - no stale slot byte reaches an
 * original completed without a length - holds, and swiotlb_check() verifies "clean => all zero"
 * itself. Who could see a stale slot otherwise: in a normal guest nobody, since an exact
 * completion copies only what the device wrote into it for this mapping (a device that claims
 * more than it wrote is trusted there as it is with the data itself); in a confidential guest the
 * pool is shared memory, so the host sees and may write every slot anyway - a stale byte it lets
 * through is no different from a byte it wrote, and what the pool must never hold is private
 * data, which no path copies into a slot under the zero policy. A mapping made with the attribute
 * and completed without a length is misuse (returns 1): the whole mapping is copied back. */
#define SWIOTLB_WRITTEN_ALL SIZE_MAX
/* What an unmap did: the mapping it tore down, the bytes it copied back and cleared. */
struct swiotlb_unmap_info {
    uint64_t orig_phys;
    uint32_t index, mapped; /* its first slot, its size as mapped */
    uint64_t copied, cleared;
};
enum dma_verdict swiotlb_tbl_unmap_written(struct swiotlb_pool *p, const struct dma_dev *dev, uint64_t tlb_addr,
                                           size_t size, enum dma_data_direction dir, unsigned attrs, size_t written,
                                           struct dma_stats *st, struct swiotlb_unmap_info *info, char *why,
                                           size_t whylen);
static inline enum dma_verdict swiotlb_tbl_unmap_single(struct swiotlb_pool *p, const struct dma_dev *dev,
                                                        uint64_t tlb_addr, size_t size, enum dma_data_direction dir,
                                                        unsigned attrs, struct dma_stats *st,
                                                        struct swiotlb_unmap_info *info, char *why, size_t whylen)
{
    return swiotlb_tbl_unmap_written(p, dev, tlb_addr, size, dir, attrs, SWIOTLB_WRITTEN_ALL, st, info, why, whylen);
}
/* Sync [tlb_addr, tlb_addr + size), which must lie inside one live mapping (else DMA_REFUSED and
 * why). */
enum dma_verdict swiotlb_sync_single(struct swiotlb_pool *p, uint64_t tlb_addr, size_t size,
                                     enum dma_data_direction dir, bool for_cpu, struct dma_stats *st, uint64_t *copied,
                                     char *why, size_t whylen);

/* The original buffer behind a live bounce address (for tracing); 0 if none. */
uint64_t swiotlb_orig_addr(const struct swiotlb_pool *p, uint64_t tlb_addr);
/* The first slot + 1 of the live mapping holding slot i, or 0 when the slot is free. */
uint32_t swiotlb_slot_owner(const struct swiotlb_pool *p, uint32_t i);
/* The device and size of the live mapping containing tlb_addr; NULL and 0 if none. */
const struct dma_dev *swiotlb_mapping_dev(const struct swiotlb_pool *p, uint64_t tlb_addr);
uint32_t swiotlb_mapping_size(const struct swiotlb_pool *p, uint64_t tlb_addr);

/* Verify every invariant listed above. Returns true, or false with the first violation in why. */
bool swiotlb_check(const struct swiotlb_pool *p, char *why, size_t whylen);

#endif
