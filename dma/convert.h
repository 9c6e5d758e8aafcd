/* SPDX-License-Identifier: MIT */
/* convert.h - the "convert" mapping path of a confidential guest (cc_io=convert), inside dma/.
 *
 * Instead of bouncing through the shared pool, a buffer made of whole private pages is itself
 * converted to shared for the transfer and back to private at unmap; the DMA address is its
 * physical address. Conversions are destructive (docs/confidential.md), so contents that must
 * survive are copied to a private temporary and back around each conversion:
 *  - map: under the copy policy, DMA_ATTR_PRESERVE, or a direction the device reads
 *    (TO_DEVICE, BIDIRECTIONAL), the original is saved, the pages converted, the original copied
 *    back - into shared memory, where the host sees it: the copy policy's leak, exactly. Under the
 *    zero policy with FROM_DEVICE the original is never read: the pages are converted and zeroed
 *    (the contract does not promise zeros, so the guest makes them), and bytes the device does not
 *    write come back as zeros, as with a zero-policy bounce. Under `none` they are left as the
 *    host left them.
 *  - unmap: whatever the buffer holds (what the device wrote, or the original for TO_DEVICE) is
 *    saved, the pages converted back to private, and copied back. DMA_ATTR_SKIP_CPU_SYNC does not
 *    skip this: a conversion would otherwise lose the data, not just leave it unsynced.
 *  - sync: CPU and device see the same shared pages, so there is nothing to copy; the range and
 *    direction are still checked against the mapping.
 * A mapping that is not page-aligned and a whole number of pages, or whose pages are not all
 * private (already shared: the boot-shared image, or a second mapping of a converted buffer), or
 * that the device cannot reach, falls back to the bounce pool (counted).
 *
 * Live conversion mappings are recorded in a hash table keyed by address, so unmap and sync find
 * them and misuse is caught as for the other paths.
 */
#ifndef BOUNCE_DMA_CONVERT_H
#define BOUNCE_DMA_CONVERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dma/dma.h"
#include "dma/dma_internal.h"
#include "dma/dma_platform.h"

struct convert_table;

struct convert_table *convert_table_new(void);
void convert_table_free(struct convert_table *t);

/* Why a mapping could not take the convert path (it bounces instead); NULL when it can. */
const char *convert_unsuitable(const struct convert_table *t, const struct dma_platform *plat,
                               const struct dma_dev *dev, uint64_t phys, size_t size);

/* Map by conversion (convert_unsuitable() said yes). Returns phys, or DMA_MAPPING_ERROR if the
 * host refused the conversion (the buffer's contents are then restored where they were saved). */
dma_addr_t convert_map(struct convert_table *t, const struct dma_platform *plat, const struct dma_dev *dev,
                       uint64_t phys, size_t size, enum dma_data_direction dir, unsigned attrs,
                       enum bounce_policy policy, struct dma_stats *st);

/* Unmap if addr starts a live conversion mapping. DMA_NOT_MINE if it does not; DMA_REFUSED if
 * another device mapped it (why says so, nothing changes); DMA_OK torn down; DMA_MISMATCH torn
 * down as it was mapped, but size or direction differ (why says how). */
enum dma_verdict convert_unmap(struct convert_table *t, const struct dma_platform *plat, const struct dma_dev *dev,
                               dma_addr_t addr, size_t size, enum dma_data_direction dir, struct dma_stats *st,
                               char *why, size_t whylen);

/* A sync: DMA_NOT_MINE if [addr, addr + size) is in no conversion mapping; DMA_REFUSED (why)
 * if it is in one of another device or direction; DMA_OK if it is fine (nothing to copy). */
enum dma_verdict convert_sync(const struct convert_table *t, const struct dma_dev *dev, dma_addr_t addr, size_t size,
                              enum dma_data_direction dir, char *why, size_t whylen);

#endif
