/* dma_fake_platform.h - a fake physical address space for running dma/ natively.
 *
 * Host memory (mmap'ed, page-aligned, so tests can mprotect it) is given made-up physical
 * addresses: a "low" arena below 4 GiB, where the bounce pool and 32-bit-reachable buffers live,
 * and a "high" arena above 4 GiB, which a 32-bit device cannot reach. The DMA layer only ever
 * sees the made-up addresses, so mask and bounce decisions are tested exactly as in the guest.
 */
#ifndef BOUNCE_TESTS_HOST_DMA_FAKE_PLATFORM_H
#define BOUNCE_TESTS_HOST_DMA_FAKE_PLATFORM_H

#include <stddef.h>
#include <stdint.h>

#include "dma/dma_platform.h"

#define FAKE_LOW_BASE 0x10000000ull   /* 256 MiB */
#define FAKE_HIGH_BASE 0x100000000ull /* 4 GiB */

/* The platform to pass to dma_init(); trace and force_bounce may be changed freely. */
struct dma_platform *fake_platform(void);

/* Memory at made-up physical addresses, zeroed. Returns the host pointer; *phys gets the address. */
void *fake_alloc_low(size_t bytes, uint64_t *phys);
void *fake_alloc_high(size_t bytes, uint64_t *phys);

/* Release every region (call after dma_shutdown()). */
void fake_platform_reset(void);

#endif
