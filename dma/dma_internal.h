/* SPDX-License-Identifier: MIT */
/* dma_internal.h - shared between the files of dma/, not for drivers. */
#ifndef BOUNCE_DMA_DMA_INTERNAL_H
#define BOUNCE_DMA_DMA_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

/* What checking an unmap or a sync against a table of live mappings found (the records of
 * direct and converted mappings, records.c and convert.c; the bounce pool, swiotlb.c). Every
 * verdict but DMA_OK comes with `why`, the message a misuse report prints. */
enum dma_verdict {
    DMA_OK,       /* as recorded: done */
    DMA_MISMATCH, /* done as it was recorded, but the caller's size or direction differ: misuse */
    DMA_REFUSED,  /* not done - another device's, not its start, not mapped: misuse, nothing changed */
    DMA_NOT_MINE, /* in no mapping of this table: the next table may hold it */
};

/* The installed bounce pool, NULL when there is none: for the host tests and the fuzzer, which
 * check its invariants (swiotlb_check()) after every operation. */
struct swiotlb_pool *dma_installed_pool(void);

#endif
