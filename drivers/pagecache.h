/* SPDX-License-Identifier: MIT */
/* pagecache.h - a page cache of 4 KiB pages over block devices, with sequential readahead.
 *
 * This is the workload bounce exists to reproduce: readahead fills page-cache pages by DMA, the
 * pages come from the zone above 4 GiB, and a 32-bit device must bounce every one of them. The
 * readahead follows Linux's on-demand algorithm (mm/readahead.c), simplified:
 *  - a miss that continues a sequential stream (or starts at page 0) reads a window synchronously,
 *    starting at `readahead=` (default 128 KiB), and marks one page of it PG_READAHEAD;
 *  - reaching a marked page starts the next window asynchronously, twice as large, up to
 *    `readahead_max=` (default 1 MiB), so I/O stays one window ahead of the reader;
 *  - a random miss reads only what was asked for.
 * Pages are NOT zeroed when allocated unless `init_on_alloc` is given (as Linux's init_on_alloc=1):
 * zeroing would be the page's first access, a write, and would hide from the host whether the DMA
 * layer reads the page before it is written - which is the point of the experiment.
 */
#ifndef BOUNCE_DRIVERS_PAGECACHE_H
#define BOUNCE_DRIVERS_PAGECACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "drivers/blk.h"

/* The page cache's counters, declared once: the struct and the end-of-run report
 * ("BOUNCE-REPORT pagecache {...}") are made from this list, in this order. X(name, what). */
#define PAGECACHE_STATS(X)                                                                    \
    X(hits, "page lookups by readers that found the page")                                    \
    X(misses, "page lookups by readers that did not")                                         \
    X(sync_windows, "readahead windows read because a reader missed")                         \
    X(async_windows, "windows started by reaching a PG_READAHEAD page")                       \
    X(readahead_pages, "pages read ahead of any reader")                                      \
    X(random_reads, "misses read alone (not sequential)")                                     \
    X(waits, "times a reader waited for a page still being read")                             \
    X(filled_pages, "pages filled by the device")                                             \
    X(dma_filled_pages, "... by DMA (not PIO)")                                               \
    X(evictions, "pages evicted to make room")                                                \
    X(io_errors, "requests that failed")                                                      \
    X(requests, "requests sent to the block layer")                                           \
    X(partial_pages, "pages filled by a request that failed after them (blk_req.bytes_done)") \
    X(page_retries, "pages of a failed request read again on their own for a reader")

struct pagecache_stats {
#define PAGECACHE_STATS_FIELD(name, what) uint64_t name;
    PAGECACHE_STATS(PAGECACHE_STATS_FIELD)
#undef PAGECACHE_STATS_FIELD
    uint64_t pages, max_pages; /* held now, and the most it may hold */
};

/* Set up from the options (pagecache=, pagecache_zone=, readahead=, readahead_max=, init_on_alloc)
 * and register the end-of-run report with the physical ranges filled by DMA. */
void pagecache_init(void);

/* Read len bytes at byte offset pos of the device through the cache. Returns 0, or the status of
 * the failed read (the pages it covered are dropped, so a later read tries the device again).
 * A request that fails still fills the pages the device transferred before the error (as far as
 * its driver can tell: blk_req.bytes_done), and a page a reader wants that a failed request did
 * not fill is read once more on its own before the error is reported - so a bad sector fails the
 * reads of its own page, not of the readahead window around it (Linux: filemap_read_folio after
 * a failed readahead). */
enum blk_status pagecache_read(struct blk_dev *dev, uint64_t pos, void *buf, size_t len);

/* Drop every page of the device (the next reads go to the disk again) - not in flight ones. */
void pagecache_invalidate(struct blk_dev *dev);

void pagecache_get_stats(struct pagecache_stats *out);
void pagecache_reset_stats(void);

/* The physical address of the cached page holding byte pos, or 0 (tests check zones with it). */
uint64_t pagecache_page_phys(struct blk_dev *dev, uint64_t pos);

#endif
