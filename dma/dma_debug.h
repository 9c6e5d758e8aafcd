/* SPDX-License-Identifier: MIT */
/* dma_debug.h - bookkeeping of direct (not bounced) streaming mappings, to catch API misuse.
 *
 * Bounced mappings are tracked by the pool itself; a mapping the device reaches directly leaves
 * no trace anywhere else, so - like Linux's CONFIG_DMA_API_DEBUG - every one is recorded here,
 * keyed by device and DMA address, and unmaps and syncs are checked against the record. When the
 * table is full, new mappings go unrecorded and "not mapped" can no longer be told from
 * "unrecorded": lookups that miss are then not reported as misuse.
 */
#ifndef BOUNCE_DMA_DMA_DEBUG_H
#define BOUNCE_DMA_DMA_DEBUG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dma/dma.h"

#define DMA_DEBUG_ENTRIES 8192
#define DMA_DEBUG_BUCKETS 2048

struct dma_debug_entry {
    const struct dma_dev *dev;
    dma_addr_t addr;
    uint64_t size;
    int32_t next; /* next entry in the bucket or the free list; -1 ends it */
    uint8_t dir;
};

struct dma_debug {
    int32_t bucket[DMA_DEBUG_BUCKETS];
    int32_t free_head;  /* entries freed by removals */
    int32_t never_used; /* entries from here on were never handed out: no free list to build */
    uint32_t live;
    uint64_t dropped; /* mappings not recorded because the table was full */
    struct dma_debug_entry e[DMA_DEBUG_ENTRIES];
};

void dma_debug_init(struct dma_debug *d);
void dma_debug_add(struct dma_debug *d, const struct dma_dev *dev, dma_addr_t addr, uint64_t size,
                   enum dma_data_direction dir);
/* 0: removed. 1: removed, but size or direction differ from the map (why says how).
 * -1: no such mapping (why says so) - or 0 if unrecorded mappings make that unknowable.
 * `coherent`: the record of a dma_alloc_coherent() buffer (dir DMA_NONE) is wanted, for its free:
 * only an exact record (same size) is removed; any other is -1 and nothing changes. A streaming
 * unmap (!coherent) never matches a coherent buffer's record exactly, whatever its dir. */
int dma_debug_remove(struct dma_debug *d, const struct dma_dev *dev, dma_addr_t addr, uint64_t size,
                     enum dma_data_direction dir, bool coherent, char *why, size_t whylen);
/* The first record at exactly addr, of any device; NULL if none. */
const struct dma_debug_entry *dma_debug_find(const struct dma_debug *d, dma_addr_t addr);
/* True when no further mapping can be recorded. */
bool dma_debug_full(const struct dma_debug *d);

#define DMA_DEBUG_NOT_FOUND (-2)
/* 0 if [addr, addr + size) lies in a recorded mapping of dev with that direction; -1 (why says
 * so) if it lies in one of another kind; DMA_DEBUG_NOT_FOUND (why says so) if in none - or 0 if
 * unrecorded mappings make that unknowable. */
int dma_debug_check_sync(const struct dma_debug *d, const struct dma_dev *dev, dma_addr_t addr, uint64_t size,
                         enum dma_data_direction dir, char *why, size_t whylen);

#endif
