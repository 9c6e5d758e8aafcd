/* SPDX-License-Identifier: MIT */
/* records.h - the table every direct (not bounced) mapping is recorded in.
 *
 * Bounced mappings are tracked by the pool itself; a mapping the device reaches directly leaves
 * no trace anywhere else, so every one is recorded here - not an optional debugging aid, as
 * Linux's CONFIG_DMA_API_DEBUG is, but how unmaps, syncs and frees are checked at all: the
 * coherent buffers (dir DMA_NONE) and the converted mappings (convert.c) are kept here too,
 * keyed by device and DMA address, and unmaps and syncs are checked against the record. When the
 * table is full, new mappings go unrecorded and "not mapped" can no longer be told from
 * "unrecorded": lookups that miss are then not reported as misuse.
 */
#ifndef BOUNCE_DMA_RECORDS_H
#define BOUNCE_DMA_RECORDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dma/dma.h"
#include "dma/dma_internal.h"

#define DMA_RECORDS_MAX 8192
#define DMA_RECORDS_BUCKETS 2048

struct dma_record {
    const struct dma_dev *dev;
    dma_addr_t addr;
    uint64_t size;
    int32_t next; /* next entry in the bucket or the free list; -1 ends it */
    uint8_t dir;
};

struct dma_records {
    int32_t bucket[DMA_RECORDS_BUCKETS];
    int32_t free_head;  /* entries freed by removals */
    int32_t never_used; /* entries from here on were never handed out: no free list to build */
    uint32_t live;
    uint64_t dropped; /* mappings not recorded because the table was full */
    struct dma_record e[DMA_RECORDS_MAX];
};

void dma_records_init(struct dma_records *d);
void dma_records_add(struct dma_records *d, const struct dma_dev *dev, dma_addr_t addr, uint64_t size,
                     enum dma_data_direction dir);
/* DMA_OK: removed. DMA_MISMATCH: removed, but size or direction differ from the map (why says
 * how). DMA_REFUSED: no such mapping (why says so) - or DMA_OK if unrecorded mappings make that
 * unknowable.
 * `coherent`: the record of a dma_alloc_coherent() buffer (dir DMA_NONE) is wanted, for its free:
 * only an exact record (same size) is removed; any other is DMA_REFUSED, nothing changes. A streaming
 * unmap (!coherent) never matches a coherent buffer's record exactly, whatever its dir. */
enum dma_verdict dma_records_remove(struct dma_records *d, const struct dma_dev *dev, dma_addr_t addr, uint64_t size,
                                    enum dma_data_direction dir, bool coherent, char *why, size_t whylen);
/* The first record at exactly addr, of any device; NULL if none. */
const struct dma_record *dma_records_find(const struct dma_records *d, dma_addr_t addr);
/* True when no further mapping can be recorded. */
bool dma_records_full(const struct dma_records *d);

/* DMA_OK if [addr, addr + size) lies in a recorded mapping of dev with that direction;
 * DMA_REFUSED (why says so) if it lies in one of another kind; DMA_NOT_MINE (why says so) if in
 * none - or DMA_OK if unrecorded mappings make that unknowable. */
enum dma_verdict dma_records_check_sync(const struct dma_records *d, const struct dma_dev *dev, dma_addr_t addr,
                                        uint64_t size, enum dma_data_direction dir, char *why, size_t whylen);

#endif
