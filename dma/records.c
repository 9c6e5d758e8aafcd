/* SPDX-License-Identifier: MIT */
/* records.c - the table of direct mappings (see records.h). */
#include "dma/records.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static uint32_t hash(dma_addr_t addr) { return (uint32_t)((addr >> 9) * 0x9e3779b1u) % DMA_RECORDS_BUCKETS; }

void dma_records_init(struct dma_records *d)
{
    memset(d->bucket, 0xff, sizeof(d->bucket)); /* -1: empty */
    d->free_head = -1;
    d->never_used = 0;
    d->live = 0;
    d->dropped = 0;
}

void dma_records_add(struct dma_records *d, const struct dma_dev *dev, dma_addr_t addr, uint64_t size,
                     enum dma_data_direction dir)
{
    int32_t i;
    if (d->free_head >= 0) {
        i = d->free_head;
        d->free_head = d->e[i].next;
    } else if (d->never_used < DMA_RECORDS_MAX) {
        i = d->never_used++;
    } else {
        d->dropped++;
        return;
    }
    uint32_t b = hash(addr);
    d->e[i] = (struct dma_record){.dev = dev, .addr = addr, .size = size, .dir = (uint8_t)dir, .next = d->bucket[b]};
    d->bucket[b] = i;
    d->live++;
}

enum dma_verdict dma_records_remove(struct dma_records *d, const struct dma_dev *dev, dma_addr_t addr, uint64_t size,
                                    enum dma_data_direction dir, bool coherent, char *why, size_t whylen)
{
    uint32_t b = hash(addr);
    int32_t *link = &d->bucket[b], match = -1;
    int32_t *match_link = NULL;
    bool exact = false;
    /* Prefer an exact record; the same buffer may legitimately be mapped more than once. */
    for (int32_t i = *link; i >= 0; link = &d->e[i].next, i = *link) {
        const struct dma_record *e = &d->e[i];
        if (e->dev != dev || e->addr != addr)
            continue;
        bool e_exact = e->size == size && e->dir == dir && (e->dir == DMA_NONE) == coherent;
        if (match < 0 || e_exact) {
            match = i;
            match_link = link;
            exact = e_exact;
        }
    }
    if (match < 0) {
        if (d->dropped)
            return DMA_OK; /* it may be one of the unrecorded mappings */
        snprintf(why, whylen, "unmap of %#" PRIx64 ": not mapped (double unmap?)", addr);
        return DMA_REFUSED;
    }
    struct dma_record *e = &d->e[match];
    if (coherent && !exact) { /* a free refused changes nothing: the right free must still work */
        snprintf(why, whylen, "free of %#" PRIx64 " as %" PRIu64 " bytes, but it is recorded as %" PRIu64 " bytes %s",
                 addr, size, e->size,
                 e->dir == DMA_NONE ? "of coherent memory" : dma_dir_name((enum dma_data_direction)e->dir));
        return DMA_REFUSED;
    }
    enum dma_verdict v = DMA_OK;
    if (!exact) {
        if (e->dir == DMA_NONE)
            snprintf(why, whylen,
                     "unmap of %#" PRIx64 ": that is %" PRIu64 " bytes of coherent memory, not a streaming mapping",
                     addr, e->size);
        else
            snprintf(why, whylen,
                     "unmap of %#" PRIx64 " as %" PRIu64 " bytes %s, but it was mapped as %" PRIu64 " bytes %s", addr,
                     size, dma_dir_name(dir), e->size, dma_dir_name((enum dma_data_direction)e->dir));
        v = DMA_MISMATCH;
    }
    *match_link = e->next;
    e->next = d->free_head;
    d->free_head = match;
    d->live--;
    return v;
}

enum dma_verdict dma_records_check_sync(const struct dma_records *d, const struct dma_dev *dev, dma_addr_t addr,
                                        uint64_t size, enum dma_data_direction dir, char *why, size_t whylen)
{
    /* A sync may cover part of a mapping, so the record is found by range, not by key: walk all
     * live records. Syncs of direct mappings are rare (x86 is cache-coherent; nothing is copied). */
    for (int b = 0; b < DMA_RECORDS_BUCKETS; b++) {
        for (int32_t i = d->bucket[b]; i >= 0; i = d->e[i].next) {
            const struct dma_record *e = &d->e[i];
            if (e->dev != dev || addr < e->addr || size > e->size || addr - e->addr > e->size - size)
                continue;
            if (e->dir == DMA_NONE) { /* whatever dir says, DMA_NONE included */
                snprintf(why, whylen, "sync of %#" PRIx64 ": that is coherent memory, not a streaming mapping", addr);
                return DMA_REFUSED;
            }
            if (e->dir != dir) {
                snprintf(why, whylen, "sync of %#" PRIx64 " as %s, but it was mapped %s", addr, dma_dir_name(dir),
                         dma_dir_name((enum dma_data_direction)e->dir));
                return DMA_REFUSED;
            }
            return DMA_OK;
        }
    }
    if (d->dropped)
        return DMA_OK;
    snprintf(why, whylen, "sync of [%#" PRIx64 ", +%" PRIu64 ") outside any live mapping", addr, size);
    return DMA_NOT_MINE;
}

const struct dma_record *dma_records_find(const struct dma_records *d, dma_addr_t addr)
{
    for (int32_t i = d->bucket[hash(addr)]; i >= 0; i = d->e[i].next)
        if (d->e[i].addr == addr)
            return &d->e[i];
    return NULL;
}

bool dma_records_full(const struct dma_records *d) { return d->free_head < 0 && d->never_used == DMA_RECORDS_MAX; }
