/* SPDX-License-Identifier: MIT */
/* suite_blkbench.c - block read benchmark on the data disk (tools/bench-blk.py runs it per driver
 * and policy). Not part of tests=all: it measures rather than checks, and it is slow under PIO.
 *
 * Sequential: the whole disk through the page cache (readahead on), cold cache.
 * Random: 4 KiB reads at scrambled page-aligned offsets, each page once, cold cache, readahead not
 * triggered (random misses are read alone), for a fixed time budget.
 * Each phase reports MB/s or IOPS and the DMA layer's work per MiB read, as one JSON line
 * "BOUNCE-REPORT blkbench {...}" per phase.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dma/dma.h"
#include "drivers/blk.h"
#include "drivers/pagecache.h"
#include "kernel/options.h"
#include "kernel/report.h"
#include "kernel/time.h"
#include "mm/mm.h"
#include "ktest/ktest.h"
#include "abi/testdisk.h"
#include "lib/units.h"

#define RANDOM_BUDGET_NS (2 * NSEC_PER_SEC)

static struct blk_dev *bench_disk(struct ktest *t)
{
    static uint8_t s[SECTOR_SIZE] __attribute__((aligned(SECTOR_SIZE)));
    for (size_t i = 0; i < blk_count(); i++) {
        struct blk_dev *d = blk_get(i);
        if (blk_rw(d, BLK_READ, 0, 1, s) == BLK_OK &&
            testdisk_check(s, 0, TESTDISK_ID_READONLY, NULL, 0) == TESTDISK_OK)
            return d;
    }
    ktest_skip(t, "no data disk attached");
    return NULL;
}

static const char *driver_of(const struct blk_dev *d)
{
    if (strncmp(d->name, "ide", 3) == 0)
        return d->fills_by_dma ? "ide-dma" : "ide-pio";
    return "virtio-blk";
}

/* Per MiB read: what the DMA layer moved. */
static void report(struct blk_dev *d, const char *phase, uint64_t bytes, uint64_t ns, uint64_t ops,
                   const struct dma_stats *a, const struct dma_stats *b)
{
    double mib = (double)bytes / (1 << 20);
    printf(REPORT_PREFIX " blkbench {\"phase\":\"%s\",\"driver\":\"%s\",\"disk\":\"%s\",\"policy\":\"%s\","
                         "\"bytes\":%" PRIu64 ",\"ns\":%" PRIu64 ",\"ops\":%" PRIu64 ",\"mb_per_s\":%.2f,\"iops\":%.0f,"
                         "\"per_mib\":{\"bounced\":%.0f,\"zeroed\":%.0f,\"copied_in\":%.0f,\"copied_out\":%.0f,"
                         "\"orig_read\":%.0f,\"maps\":%.1f}}\n",
           phase, driver_of(d), d->name, bounce_policy_name(dma_bounce_policy()), bytes, ns, ops,
           (double)bytes / 1e6 / ((double)ns / 1e9), (double)ops / ((double)ns / 1e9),
           (double)(b->bytes_bounced - a->bytes_bounced) / mib, (double)(b->bytes_zeroed - a->bytes_zeroed) / mib,
           (double)(b->bytes_copied_in - a->bytes_copied_in) / mib,
           (double)(b->bytes_copied_out - a->bytes_copied_out) / mib,
           (double)(b->orig_bytes_read - a->orig_bytes_read) / mib, (double)(b->maps - a->maps) / mib);
}

static void sequential(struct ktest *t)
{
    struct blk_dev *d = bench_disk(t);
    if (d == NULL)
        return;
    static uint8_t buf[64 * 1024];
    pagecache_invalidate(d);
    struct dma_stats a, b;
    dma_get_stats(&a);
    uint64_t bytes = d->capacity * SECTOR_SIZE, t0 = time_ns();
    for (uint64_t pos = 0; pos < bytes; pos += sizeof(buf))
        KASSERT(t, pagecache_read(d, pos, buf, bytes - pos < sizeof(buf) ? bytes - pos : sizeof(buf)) == BLK_OK);
    uint64_t ns = time_ns() - t0;
    dma_get_stats(&b);
    report(d, "sequential", bytes, ns, bytes / sizeof(buf), &a, &b);
}

static void random_4k(struct ktest *t)
{
    struct blk_dev *d = bench_disk(t);
    if (d == NULL)
        return;
    static uint8_t buf[PAGE_SIZE];
    pagecache_invalidate(d);
    uint64_t pages = d->capacity / (PAGE_SIZE / SECTOR_SIZE), ops = 0;
    struct dma_stats a, b;
    dma_get_stats(&a);
    uint64_t t0 = time_ns(), ns;
    /* Visit pages in a scrambled order with no repeats (an odd stride over a power-of-two count
     * is a permutation), so every read is a miss and no two in a row are adjacent. */
    uint64_t first = ktest_rand(t) % pages, stride = (pages / 2 + 12345) | 1;
    do {
        uint64_t page = (first + ops * stride) % pages;
        KASSERT(t, pagecache_read(d, page * PAGE_SIZE, buf, sizeof(buf)) == BLK_OK);
        ops++;
    } while ((ns = time_ns() - t0) < RANDOM_BUDGET_NS && ops < pages);
    dma_get_stats(&b);
    report(d, "random4k", ops * PAGE_SIZE, ns, ops, &a, &b);
}

static const struct ktest_case cases[] = {KTEST_CASE(sequential), KTEST_CASE(random_4k)};
KTEST_SELFTEST_SUITE(blkbench, "block read benchmark (tools/bench-blk.py)", false, cases);
