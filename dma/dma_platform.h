/* SPDX-License-Identifier: MIT */
/* dma_platform.h - what the DMA layer needs from its environment.
 *
 * The guest installs identity translation and the frame allocator (mm/dma_guest.c); the host
 * unit tests, the fuzzer and the bench install a fake physical address space
 * (tools/hostlib/dma_fake_platform.c), so "above 4 GiB" and "below 4 GiB" can be tested on any
 * machine. Nothing in dma/ touches hardware or the kernel: it includes only lib/ and abi/, which
 * make test checks (tools/check-layers.py).
 */
#ifndef BOUNCE_DMA_DMA_PLATFORM_H
#define BOUNCE_DMA_DMA_PLATFORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct dma_platform {
    void *(*phys_to_virt)(uint64_t phys);
    uint64_t (*virt_to_phys)(const void *virt);
    /* Zeroed, page-aligned memory lying entirely at or below max_phys; NULL if there is none. */
    void *(*alloc_pages)(size_t bytes, uint64_t max_phys, uint64_t *phys);
    void (*free_pages)(void *virt, size_t bytes);
    /* Make memory visible to the host (confidential guests); NULL when all memory is shared. */
    int (*share_pages)(uint64_t phys, size_t bytes);
    int (*unshare_pages)(uint64_t phys, size_t bytes);
    /* True if every page of the range is private (convertible); NULL when nothing is. */
    bool (*pages_private)(uint64_t phys, size_t bytes);
    bool force_bounce; /* every mapping of every device bounces (confidential guests) */
    /* A mapping that would bounce converts its own pages to shared instead, when it can
     * (cc_io=convert, dma/convert.h); needs share_pages, unshare_pages and pages_private. */
    bool convert;
    bool trace; /* one line per map, sync and unmap (trace=dma) */
};

/* Install the platform and the bounce pool: `pool_bytes` (a multiple of the slot size) is
 * allocated below 4 GiB through alloc_pages, its bookkeeping with malloc. Returns 0 or -1. */
int dma_init(const struct dma_platform *platform, size_t pool_bytes, int policy);
/* Free the pool (host tests set up a fresh one per test). */
void dma_shutdown(void);

#endif
