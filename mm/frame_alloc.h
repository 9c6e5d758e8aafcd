/* SPDX-License-Identifier: MIT */
/* frame_alloc.h - the physical frame allocator.
 *
 * Two zones, split at 4 GiB, because that is the line devices care about: a 32-bit DMA engine
 * (the PIIX IDE bus master) can reach ZONE_DMA32 and nothing above it. Each zone keeps two bits per
 * 4 KiB frame of its span - `used` (1 = not free) and `ram` (1 = RAM this allocator manages) - and a
 * next-fit hint, so a single-frame allocation costs O(1) amortised and a contiguous one a scan for a
 * run of clear bits. The `ram` map is what lets frame_free() refuse frames it never handed out.
 *
 * Pure logic: the caller hands in the memory map and the storage for the bitmaps, so the same
 * code runs in the guest and in the host unit tests.
 */
#ifndef BOUNCE_MM_FRAME_ALLOC_H
#define BOUNCE_MM_FRAME_ALLOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/memrange.h"

#define ZONE_DMA32_END GiB(4)
#define FRAME_NONE UINT64_MAX

enum zone_id { ZONE_DMA32, ZONE_HIGH, NR_ZONES };

/* Where an allocation may come from. */
enum frame_zone_pref {
    FRAME_DMA32,       /* below 4 GiB only */
    FRAME_HIGH,        /* at or above 4 GiB only */
    FRAME_PREFER_HIGH, /* above 4 GiB if any is free, else below: keeps DMA32 for those who need it */
};

struct zone {
    const char *name;
    uint64_t base_pfn, end_pfn; /* the span the bitmap covers: [base_pfn, end_pfn) */
    uint64_t *used;             /* 1 bit per frame of the span; 1 = allocated, reserved or not RAM */
    uint64_t *ram;              /* 1 bit per frame of the span; 1 = RAM managed here (free or allocated) */
    uint64_t managed;           /* frames of RAM handed to this zone */
    uint64_t free;              /* frames currently free */
    uint64_t hint;              /* word index where the next single-frame search starts */
};

struct frame_stats {
    uint64_t allocs, frees, failures, misuse;
};

struct frame_allocator {
    struct zone zones[NR_ZONES];
    struct frame_stats stats;
};

/* Bytes of bitmap storage frame_alloc_init() needs for the usable RAM in this map. */
size_t frame_alloc_bitmap_bytes(const struct mem_range *map, size_t n);

/* Set up the zones over the span of every MEM_USABLE and MEM_BOOT_RECLAIM range in `map`, with every
 * frame marked in use, then release the MEM_USABLE frames (MEM_BOOT_RECLAIM ones wait for
 * frame_alloc_release()). `storage` must hold frame_alloc_bitmap_bytes() bytes. */
void frame_alloc_init(struct frame_allocator *fa, const struct mem_range *map, size_t n, void *storage,
                      size_t storage_bytes);

/* Mark frames in use without allocating them (the kernel image, the bitmaps themselves).
 * Partially covered frames count as covered. Frames outside the zones are ignored. */
void frame_alloc_reserve(struct frame_allocator *fa, uint64_t base, uint64_t len);

/* Hand RAM to the allocator after init (firmware boot-services memory once it is ours).
 * Only whole frames inside a zone's span are released. Returns the number of frames added. */
uint64_t frame_alloc_release(struct frame_allocator *fa, uint64_t base, uint64_t len);

/* Allocate `count` physically contiguous frames whose first frame is aligned to `align_frames`
 * (a power of two, 1 for none). Returns the physical address or FRAME_NONE. */
uint64_t frame_alloc(struct frame_allocator *fa, enum frame_zone_pref pref, uint64_t count, uint64_t align_frames);

/* Free frames from frame_alloc(). Freeing a frame that is not allocated (a double free, or an
 * address that was never RAM) frees nothing, counts a misuse and returns false. */
bool frame_free(struct frame_allocator *fa, uint64_t phys, uint64_t count);

/* True if the frame at `phys` is managed RAM and currently allocated. */
bool frame_is_allocated(const struct frame_allocator *fa, uint64_t phys);
/* True if the frame at `phys` is managed RAM and free. */
bool frame_is_free(const struct frame_allocator *fa, uint64_t phys);

uint64_t frame_alloc_free_frames(const struct frame_allocator *fa);
uint64_t frame_alloc_managed_frames(const struct frame_allocator *fa);
int frame_zone_of(uint64_t phys); /* the zone a physical address falls in by address */

#endif
