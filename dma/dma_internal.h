/* SPDX-License-Identifier: MIT */
/* dma_internal.h - shared between the files of dma/, not for drivers. */
#ifndef BOUNCE_DMA_DMA_INTERNAL_H
#define BOUNCE_DMA_DMA_INTERNAL_H

#include <stdint.h>

/* The installed bounce pool, NULL when there is none: for the host tests and the fuzzer, which
 * check its invariants (swiotlb_check()) after every operation. */
struct swiotlb_pool *dma_debug_pool(void);

#endif
