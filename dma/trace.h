/* SPDX-License-Identifier: MIT */
/* trace.h - the DMA layer's narration (trace=dma): one line per event, formatted here, so the
 * mapping code (mapping.c) reads as logic - it fills in what happened and hands it over.
 *
 * The lines are the interface of the host-side tools (tools/rig/analyze.py reads them) and of
 * the docs that quote them (docs/bounce.md): their text does not change lightly.
 */
#ifndef BOUNCE_DMA_TRACE_H
#define BOUNCE_DMA_TRACE_H

#include <stddef.h>
#include <stdint.h>

#include "dma/dma.h"

/* Which way a mapping went. */
enum dma_map_path {
    DMA_MAP_DIRECT,         /* the device reaches the buffer: its address is the DMA address */
    DMA_MAP_CONVERTED,      /* cc_io=convert: the buffer itself was made shared */
    DMA_MAP_CONVERT_FAILED, /* ... but the host refused to share it (reported even untraced) */
    DMA_MAP_UNCONVERTIBLE,  /* could not be converted (`reason`): it bounces, another event follows */
    DMA_MAP_NO_POOL,        /* had to bounce, and there is no pool */
    DMA_MAP_POOL_FAILED,    /* had to bounce, and the pool refused (`reason`, slots in use) */
    DMA_MAP_BOUNCED,        /* through slots [index, index + nslots) */
};

struct dma_map_event {
    enum dma_map_path path;
    const struct dma_dev *dev;
    enum dma_data_direction dir;
    size_t size;
    uint64_t phys;
    dma_addr_t addr;
    unsigned attrs;
    enum bounce_policy policy;
    const char *reason;
    uint32_t index, nslots;     /* BOUNCED: the slots; POOL_FAILED: slots used of nslots */
    uint64_t copied_in, zeroed; /* BOUNCED */
};

enum dma_unmap_path { DMA_UNMAP_BOUNCED, DMA_UNMAP_CONVERTED, DMA_UNMAP_DIRECT };

struct dma_unmap_event {
    enum dma_unmap_path path;
    const struct dma_dev *dev;
    enum dma_data_direction dir;
    size_t size; /* as the caller said; BOUNCED: as it was mapped */
    dma_addr_t addr;
    uint64_t orig;  /* BOUNCED: the original buffer */
    uint32_t index; /* BOUNCED: its first slot */
    bool exact;     /* completed with the number of bytes the device wrote */
    uint64_t copied, cleared;
};

void dma_trace_map(const struct dma_map_event *e);
void dma_trace_unmap(const struct dma_unmap_event *e);
void dma_trace_sync(const struct dma_dev *dev, dma_addr_t addr, size_t size, enum dma_data_direction dir, bool for_cpu,
                    uint64_t copied);
/* Printed whether traced or not: misuse of the API ("dev: what"), and coherent memory the host
 * would not take back (it stays shared, out of the allocator). */
void dma_trace_misuse(const char *what);
void dma_trace_stuck_shared(const struct dma_dev *dev, dma_addr_t addr);
void dma_trace_stuck_converted(uint64_t phys, uint64_t len);
void dma_trace_alloc_coherent(const struct dma_dev *dev, size_t size, const void *cpu, dma_addr_t addr);

#endif
