/* SPDX-License-Identifier: MIT */
/* dma_fake_platform.h - a fake physical address space for running dma/ natively.
 *
 * Host memory (mmap'ed, page-aligned, so tests can mprotect it) is given made-up physical
 * addresses: a "low" arena below 4 GiB, where the bounce pool and 32-bit-reachable buffers live,
 * and a "high" arena above 4 GiB, which a 32-bit device cannot reach. The DMA layer only ever
 * sees the made-up addresses, so mask and bounce decisions are tested exactly as in the guest.
 * The fake physical address space is one reservation of host address space with the regions
 * mapped into it at their physical offsets: a translation is an addition, as in the guest's
 * identity map, and an address between regions (each is followed by an unmapped page) faults.
 */
#ifndef BOUNCE_TOOLS_HOSTLIB_DMA_FAKE_PLATFORM_H
#define BOUNCE_TOOLS_HOSTLIB_DMA_FAKE_PLATFORM_H

#include <stdbool.h>
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

/* A confidential platform: every page starts private; share_pages/unshare_pages convert pages and,
 * like the bounce VMM (docs/confidential.md), destroy their contents - here by filling them with
 * FAKE_CONVERT_JUNK, so code that relies on contents surviving a conversion is caught.
 * fake_convert_fail_after(n): the (n+1)th conversion call from now fails (-EIO), changing nothing;
 * -1 never. Call before dma_init() (the pool is shared there); fake_platform_reset() ends it. */
#define FAKE_CONVERT_JUNK 0xdd
void fake_platform_confidential(bool convert);
void fake_convert_fail_after(int n);
bool fake_page_shared(uint64_t phys);
uint64_t fake_convert_calls(void);

#endif
