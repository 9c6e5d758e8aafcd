/* SPDX-License-Identifier: MIT */
/* suite_blk.c - the block drivers, the page cache and readahead, on the test disks.
 *
 * The data disk (tools/mkdisk data) has self-describing sectors: every byte read is checked
 * against where it should have come from, so misplaced, stale, zeroed or torn data is caught
 * and named. The scratch disk (tools/mkdisk scratch) takes writes. Disks are recognised by
 * content, so the suite runs unchanged over IDE (PIO or DMA) and virtio-blk, on any machine.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "dma/dma.h"
#include "drivers/blk.h"
#include "drivers/pagecache.h"
#include "drivers/refusals.h"
#include "kernel/irq.h"
#include "kernel/options.h"
#include "kernel/time.h"
#include "mm/mm.h"
#include "ktest/ktest.h"
#include "abi/testdisk.h"
#include "tests/guest/testdisk_find.h"
#include "lib/units.h"

#define CHUNK (64 * 1024)

static struct blk_dev *data_disk(struct ktest *t) { return testdisk_for_case(t, TEST_DISK_DATA); }

/* The data disk, for cases that read all of it: not when an error is injected on purpose. */
static struct blk_dev *whole_data_disk(struct ktest *t)
{
    if (kopts.expect_eio) {
        ktest_skip(t, "an I/O error is injected at LBA %" PRIu64, kopts.expect_eio);
        return NULL;
    }
    return data_disk(t);
}

/* Check `len` bytes read from byte offset pos of the data disk; report the first bad sector. */
static bool verify(struct ktest *t, const uint8_t *buf, uint64_t pos, size_t len)
{
    char why[120];
    for (size_t off = 0; off < len; off += SECTOR_SIZE) {
        if (testdisk_check(buf + off, (pos + off) / SECTOR_SIZE, TESTDISK_ID_READONLY, why, sizeof(why)) !=
            TESTDISK_OK) {
            ktest_fail(t, __FILE__, __LINE__, "%s", why);
            return false;
        }
    }
    return true;
}

static bool bounces_reads(const struct blk_dev *d)
{
    return d->fills_by_dma && d->dma &&
        (kopts.swiotlb_force ||
         (mm_frames()->zones[ZONE_HIGH].managed > 0 && kopts.pagecache_zone == PAGECACHE_HIGH &&
          d->dma->dma_mask < GiB(4)));
}

/* Every disk the drivers registered, which of them are the test disks, what was refused; a disk
 * named by require= must be among them. */
static void disks_found(struct ktest *t)
{
    struct blk_dev *data = testdisk_find(TEST_DISK_DATA), *scratch = testdisk_find(TEST_DISK_SCRATCH);
    for (size_t i = 0; i < blk_count(); i++) {
        struct blk_dev *d = blk_get(i);
        ktest_note(t, "%s: %" PRIu64 " sectors, %u-byte blocks, %s%s%s", d->name, d->capacity, d->block_size, d->model,
                   d == data ? " [data disk]" : "", d == scratch ? " [scratch disk]" : "");
    }
    for (size_t i = 0; i < dev_refusal_count(); i++)
        ktest_note(t, "refused by %s: %s: %s", dev_refusal_get(i)->driver, dev_refusal_get(i)->where,
                   dev_refusal_get(i)->reason);
    for (int k = 0; k < TEST_DISK_KINDS; k++)
        if ((kopts.require >> k) & 1)
            testdisk_for_case(t, (enum test_disk)k);
    if (data)
        KEXPECT(t, data->capacity >= MiB(1) / TESTDISK_SECTOR); /* a data disk of 1 MiB at least */
    else if (kopts.require == 0)
        testdisk_for_case(t, TEST_DISK_DATA); /* skips, saying why */
}

/* The whole disk, front to back, through the page cache: readahead should carry it. */
static void sequential_read_whole_disk(struct ktest *t)
{
    struct blk_dev *d = whole_data_disk(t);
    if (d == NULL)
        return;
    uint8_t *buf = malloc(CHUNK);
    KASSERT(t, buf != NULL);
    pagecache_invalidate(d);
    pagecache_reset_stats();
    struct dma_stats before, after;
    dma_get_stats(&before);
    uint64_t bytes = d->capacity * SECTOR_SIZE, t0 = time_ns();
    bool ok = true;
    for (uint64_t pos = 0; pos < bytes && ok; pos += CHUNK) {
        size_t n = bytes - pos < CHUNK ? (size_t)(bytes - pos) : CHUNK;
        enum blk_status st = pagecache_read(d, pos, buf, n);
        KEXPECT_MSG(t, st == BLK_OK, "read at %" PRIu64 ": %s", pos, blk_status_name(st));
        ok = st == BLK_OK && verify(t, buf, pos, n);
    }
    uint64_t ns = time_ns() - t0;
    dma_get_stats(&after);
    struct pagecache_stats ps;
    pagecache_get_stats(&ps);
    free(buf);
    KEXPECT(t, ps.async_windows > 0);
    KEXPECT_MSG(t, ps.sync_windows <= 2, "%" PRIu64 " synchronous windows: readahead did not keep ahead",
                ps.sync_windows);
    KEXPECT(t, ps.filled_pages == (bytes + PAGE_SIZE - 1) / PAGE_SIZE);
    ktest_note(t,
               "%s: %" PRIu64 " MiB in %" PRIu64 " ms (%" PRIu64 " KiB/s); %" PRIu64 " misses, %" PRIu64
               " hits, windows %" PRIu64 " sync + %" PRIu64 " async, "
               "%" PRIu64 " waits, %" PRIu64 " requests",
               d->name, (bytes >> 20), (ns / 1000000), (bytes * 1000000 / (ns / 1000 + 1) / 1024), ps.misses, ps.hits,
               ps.sync_windows, ps.async_windows, ps.waits, ps.requests);
    uint64_t bounced = after.bytes_bounced - before.bytes_bounced;
    ktest_note(t,
               "dma: %" PRIu64 " KiB bounced, %" PRIu64 " KiB zeroed, %" PRIu64 " KiB of originals read, %" PRIu64
               " requeues",
               (bounced >> 10), ((after.bytes_zeroed - before.bytes_zeroed) >> 10),
               ((after.orig_bytes_read - before.orig_bytes_read) >> 10), d->stats.requeues);
    if (bounces_reads(d)) {
        KEXPECT_MSG(t, bounced >= bytes, "only %" PRIu64 " of %" PRIu64 " bytes bounced", bounced, bytes);
        if (d->completes_exactly && dma_bounce_policy() == BOUNCE_ZERO) {
            /* Mapped for exact completion: nothing zeroed, nothing read, every read completed with
             * the length the device reported - all of it, as every read succeeded. */
            KEXPECT_EQ(t, after.orig_bytes_read - before.orig_bytes_read, 0);
            KEXPECT_EQ(t, after.bytes_zeroed - before.bytes_zeroed, 0);
            KEXPECT(t, after.exact_unmaps - before.exact_unmaps >= ps.requests);
            KEXPECT_EQ(t, after.bytes_not_written - before.bytes_not_written, 0);
        } else if (dma_bounce_policy() == BOUNCE_ZERO) {
            KEXPECT_EQ(t, after.orig_bytes_read - before.orig_bytes_read, 0);
            KEXPECT(t, after.bytes_zeroed - before.bytes_zeroed >= bytes);
        } else if (dma_bounce_policy() == BOUNCE_COPY) {
            KEXPECT(t, after.orig_bytes_read - before.orig_bytes_read >= bytes);
        }
    }
}

static void cache_pages_above_4g(struct ktest *t)
{
    struct blk_dev *d = data_disk(t);
    if (d == NULL)
        return;
    if (mm_frames()->zones[ZONE_HIGH].managed == 0 || kopts.pagecache_zone != PAGECACHE_HIGH) {
        ktest_skip(t, "no RAM above 4 GiB for the page cache");
        return;
    }
    uint8_t b[SECTOR_SIZE];
    KASSERT(t, pagecache_read(d, PAGE_SIZE * 7, b, sizeof(b)) == BLK_OK);
    uint64_t phys = pagecache_page_phys(d, PAGE_SIZE * 7);
    KEXPECT_MSG(t, phys >= GiB(4), "page-cache page at %#" PRIx64, phys);
}

/* Random extents anywhere on the disk, of random sizes, at sector (not page) granularity. */
static void random_reads(struct ktest *t)
{
    struct blk_dev *d = whole_data_disk(t);
    if (d == NULL)
        return;
    uint8_t *buf = malloc(16 * 1024);
    KASSERT(t, buf != NULL);
    pagecache_invalidate(d);
    pagecache_reset_stats();
    uint64_t sectors = d->capacity;
    for (int i = 0; i < 300 && t->failures == 0; i++) {
        uint32_t n = 1 + (uint32_t)(ktest_rand(t) % 32);
        uint64_t lba = ktest_rand(t) % (sectors - n);
        enum blk_status st = pagecache_read(d, lba * SECTOR_SIZE, buf, n * SECTOR_SIZE);
        KEXPECT_MSG(t, st == BLK_OK, "read of %u sectors at %" PRIu64 ": %s", n, lba, blk_status_name(st));
        if (st == BLK_OK)
            verify(t, buf, lba * SECTOR_SIZE, n * SECTOR_SIZE);
    }
    struct pagecache_stats ps;
    pagecache_get_stats(&ps);
    KEXPECT(t, ps.random_reads > 0);
    ktest_note(t, "%" PRIu64 " misses (%" PRIu64 " read alone), %" PRIu64 " hits", ps.misses, ps.random_reads, ps.hits);
    free(buf);
}

/* Windows start at readahead= and double up to readahead_max=. */
static void readahead_windows_grow(struct ktest *t)
{
    struct blk_dev *d = whole_data_disk(t);
    if (d == NULL)
        return;
    if (kopts.readahead_max_bytes == 0) {
        ktest_skip(t, "readahead is off (readahead_max=0)");
        return;
    }
    uint8_t b[PAGE_SIZE];
    pagecache_invalidate(d);
    pagecache_reset_stats();
    uint64_t span = d->capacity * SECTOR_SIZE < MiB(8) ? d->capacity * SECTOR_SIZE : MiB(8);
    for (uint64_t pos = 0; pos < span; pos += sizeof(b)) {
        KASSERT(t, pagecache_read(d, pos, b, sizeof(b)) == BLK_OK);
        if (!verify(t, b, pos, sizeof(b)))
            return;
    }
    struct pagecache_stats ps;
    pagecache_get_stats(&ps);
    KEXPECT_EQ(t, ps.sync_windows, 1);
    KEXPECT_EQ(t, ps.misses, 1);
    /* 8 MiB in windows of 128K, 256K, 512K, then 1M: at least a handful of async windows. */
    KEXPECT(t, ps.async_windows >= 4);
    KEXPECT(t, ps.readahead_pages >= span / PAGE_SIZE - 1);
    ktest_note(t,
               "8 MiB in 4 KiB reads: %" PRIu64 " sync + %" PRIu64 " async windows, %" PRIu64 " requests, %" PRIu64
               " waits",
               ps.sync_windows, ps.async_windows, ps.requests, ps.waits);
}

/* Direct reads (no cache) into buffers above and below 4 GiB, at offsets inside pages. */
static void direct_reads_any_buffer(struct ktest *t)
{
    struct blk_dev *d = whole_data_disk(t);
    if (d == NULL)
        return;
    enum frame_zone_pref zones[2] = {FRAME_DMA32, FRAME_HIGH};
    for (int z = 0; z < 2; z++) {
        if (zones[z] == FRAME_HIGH && mm_frames()->zones[ZONE_HIGH].managed == 0)
            continue;
        uint64_t pa = alloc_pages(zones[z], 65);
        KASSERT(t, pa != FRAME_NONE);
        uint8_t *buf = phys_to_virt(pa);
        uint32_t per_block = d->block_size / SECTOR_SIZE, max = d->max_sectors < 512 ? d->max_sectors : 512;
        for (int i = 0; i < 40; i++) {
            uint32_t n = per_block * (1 + (uint32_t)(ktest_rand(t) % (max / per_block)));
            uint32_t off = (uint32_t)(ktest_rand(t) % 8) * SECTOR_SIZE;
            uint64_t lba = per_block * (ktest_rand(t) % ((d->capacity - n) / per_block));
            enum blk_status st = blk_rw(d, BLK_READ, lba, n, buf + off);
            KEXPECT_MSG(t, st == BLK_OK, "direct read of %u at %" PRIu64 ": %s", n, lba, blk_status_name(st));
            if (st == BLK_OK && !verify(t, buf + off, lba * SECTOR_SIZE, (size_t)n * SECTOR_SIZE))
                break;
        }
        free_pages(pa, 65);
    }
}

/* Write extents of self-describing sectors to the scratch disk, flush, read them back. */
static void scratch_write_and_read_back(struct ktest *t)
{
    struct blk_dev *d = testdisk_for_case(t, TEST_DISK_SCRATCH);
    if (d == NULL)
        return;
    enum frame_zone_pref zone = mm_frames()->zones[ZONE_HIGH].managed ? FRAME_HIGH : FRAME_DMA32;
    uint64_t wpa = alloc_pages(zone, 64), rpa = alloc_pages(zone, 64);
    KASSERT(t, wpa != FRAME_NONE && rpa != FRAME_NONE);
    uint8_t *w = phys_to_virt(wpa), *r = phys_to_virt(rpa);
    char why[120];
    uint32_t max = d->max_sectors < 512 ? d->max_sectors : 512, per_block = d->block_size / SECTOR_SIZE;
    for (int i = 0; i < 24 && t->failures == 0; i++) {
        /* Even rounds move whole pages (so cc_io=convert shares the buffers themselves), odd
         * rounds any number of blocks (which bounce in every mode when blocks are sectors). */
        uint32_t n = i % 2 == 0 && max >= 8 ? 8 * (1 + (uint32_t)(ktest_rand(t) % (max / 8)))
                                            : per_block * (1 + (uint32_t)(ktest_rand(t) % (max / per_block)));
        /* never the first block: it holds the label */
        uint64_t lba = per_block * (1 + ktest_rand(t) % ((d->capacity - n) / per_block - 1));
        for (uint32_t k = 0; k < n; k++)
            testdisk_fill(w + k * SECTOR_SIZE, lba + k, TESTDISK_ID_SCRATCH);
        KEXPECT_EQ(t, blk_rw(d, BLK_WRITE, lba, n, w), BLK_OK);
        memset(r, 0xee, (size_t)n * SECTOR_SIZE);
        KEXPECT_EQ(t, blk_rw(d, BLK_READ, lba, n, r), BLK_OK);
        for (uint32_t k = 0; k < n; k++)
            if (testdisk_check(r + k * SECTOR_SIZE, lba + k, TESTDISK_ID_SCRATCH, why, sizeof(why)) != TESTDISK_OK) {
                ktest_fail(t, __FILE__, __LINE__, "after writing %u sectors at %" PRIu64 ": %s", n, lba, why);
                break;
            }
    }
    if (d->has_flush) {
        struct blk_req *f = calloc(1, sizeof(*f));
        KASSERT(t, f != NULL);
        f->op = BLK_FLUSH;
        KEXPECT_EQ(t, blk_submit_wait(d, f), BLK_OK);
        free(f);
    }
    KEXPECT(t, testdisk_find(TEST_DISK_SCRATCH) == d); /* the label survived */
    free_pages(wpa, 64);
    free_pages(rpa, 64);
}

/* Bad requests are refused by the block layer, not sent to the device. */
static void invalid_requests_refused(struct ktest *t)
{
    struct blk_dev *d = data_disk(t);
    if (d == NULL)
        return;
    static uint8_t b[SECTOR_SIZE * 2] __attribute__((aligned(SECTOR_SIZE)));
    KEXPECT_EQ(t, blk_rw(d, BLK_READ, d->capacity, 1, b), BLK_EINVAL);
    KEXPECT_EQ(t, blk_rw(d, BLK_READ, d->capacity - 1, 2, b), BLK_EINVAL);
    KEXPECT_EQ(t, blk_rw(d, BLK_READ, 0, 1, b + 1), BLK_EINVAL);
    if (d->block_size > SECTOR_SIZE) { /* not whole logical blocks: refused before the device sees it */
        KEXPECT_EQ(t, blk_rw(d, BLK_READ, 1, d->block_size / SECTOR_SIZE, b), BLK_EINVAL);
        KEXPECT_EQ(t, blk_rw(d, BLK_READ, 0, 1, b), BLK_EINVAL);
    }
    KEXPECT_EQ(t, pagecache_read(d, d->capacity * SECTOR_SIZE - 100, b, 200), BLK_EINVAL);
}

/* With expect_eio=LBA (a blkdebug rule on the data disk): the error reaches the caller, nothing
 * hangs, and reads elsewhere - and the same read again - behave. */
static void injected_read_error(struct ktest *t)
{
    struct blk_dev *d = data_disk(t);
    if (d == NULL)
        return;
    if (kopts.expect_eio == 0) {
        ktest_skip(t, "no error injected (expect_eio=LBA with a blkdebug rule on the data disk)");
        return;
    }
    static uint8_t b[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
    uint32_t per_block = d->block_size / SECTOR_SIZE; /* reads of whole logical blocks */
    uint64_t bad = kopts.expect_eio - kopts.expect_eio % per_block, t0 = time_ns();
    memset(b, 0xa5, sizeof(b));
    enum blk_status st = blk_rw(d, BLK_READ, bad, per_block, b);
    KEXPECT_MSG(t, st == BLK_EIO, "read of LBA %" PRIu64 " gave %s, expected an I/O error", bad, blk_status_name(st));
    if (d->completes_exactly && kopts.swiotlb_force) { /* bounced, completed with what the device wrote */
        size_t i = 0;
        while (i < sizeof(b) && b[i] == 0xa5)
            i++;
        KEXPECT_MSG(t, i == sizeof(b), "exact completion of a failed read changed byte %zu of the buffer to %#x", i,
                    b[i]);
    }
    KEXPECT_MSG(t, time_ns() - t0 < 5 * NSEC_PER_SEC, "the error took %" PRIu64 " ms",
                ((time_ns() - t0) / NSEC_PER_MSEC));
    KEXPECT_EQ(t, blk_rw(d, BLK_READ, bad + 64, 8, b), BLK_OK);
    verify(t, b, (bad + 64) * SECTOR_SIZE, PAGE_SIZE);
    pagecache_invalidate(d);
    KEXPECT_EQ(t, pagecache_read(d, kopts.expect_eio * SECTOR_SIZE, b, SECTOR_SIZE), BLK_EIO);
    KEXPECT_EQ(t, pagecache_read(d, 0, b, sizeof(b)), BLK_OK);
    verify(t, b, 0, sizeof(b));
    KEXPECT_EQ(t, blk_rw(d, BLK_READ, bad, per_block, b), BLK_EIO); /* still failing, still not hanging */

    /* The bad sector's page and the one before it, in one read: the read fails, the good page
     * does not - the device transferred it before the error (a PIO drive says how far it got:
     * blk_req.bytes_done) or the page cache reads it again on its own. Each of the two pages is
     * accounted for once: the good one as partial or retried, the bad one as retried (and failed). */
    uint64_t bad_page = kopts.expect_eio * SECTOR_SIZE / PAGE_SIZE;
    if (bad_page == 0) {
        ktest_note(t, "the error is in page 0: no page before it to check");
        return;
    }
    static uint8_t two[2 * PAGE_SIZE];
    struct pagecache_stats before, after;
    pagecache_invalidate(d);
    pagecache_get_stats(&before);
    KEXPECT_EQ(t, pagecache_read(d, (bad_page - 1) * PAGE_SIZE, two, sizeof(two)), BLK_EIO);
    KEXPECT_EQ(t, pagecache_read(d, (bad_page - 1) * PAGE_SIZE, two, PAGE_SIZE), BLK_OK);
    verify(t, two, (bad_page - 1) * PAGE_SIZE, PAGE_SIZE);
    pagecache_get_stats(&after);
    uint64_t partial = after.partial_pages - before.partial_pages, retried = after.page_retries - before.page_retries;
    ktest_note(t, "%s: a failed read of pages %" PRIu64 "-%" PRIu64 ": %" PRIu64 " partial, %" PRIu64 " read again",
               d->name, bad_page - 1, bad_page, partial, retried);
    KEXPECT_MSG(t, partial + retried == 2 && retried >= 1,
                "%" PRIu64 " partial + %" PRIu64 " retried pages, expected 1 + 1 or 0 + 2", partial, retried);
    if (!d->fills_by_dma) /* PIO: the drive delivered every sector before the bad one */
        KEXPECT_EQ(t, partial, 1);
}

/* A read that runs into the injected error: the device may deliver the sectors before it (the
 * VMM does, with --bad-sector; QEMU's blkdebug fails the whole request). What the rest of the
 * caller's buffer holds afterwards is the DMA layer's doing when the read bounced:
 * dma_completion=exact leaves it as it was (only what the device wrote comes back); otherwise the
 * whole slot comes back - zeros under the zero policy, under copy the original, the same bytes as
 * "as it was" (the original is this buffer). One line for the rig: "partial read: ...". */
static void partial_read(struct ktest *t)
{
    struct blk_dev *d = data_disk(t);
    if (d == NULL)
        return;
    if (kopts.expect_eio == 0) {
        ktest_skip(t, "no error injected (expect_eio=LBA with a bad sector on the data disk)");
        return;
    }
    enum { SECTORS = 32 };
    static uint8_t buf[SECTORS * SECTOR_SIZE] __attribute__((aligned(PAGE_SIZE)));
    uint32_t per_block = d->block_size / SECTOR_SIZE;
    uint64_t bad = kopts.expect_eio, start = bad >= SECTORS / 2 ? bad - SECTORS / 2 : 0;
    start -= start % per_block;
    if (start + SECTORS > d->capacity) {
        ktest_skip(t, "the error at LBA %" PRIu64 " is too close to the end of the disk", bad);
        return;
    }
    for (size_t i = 0; i < sizeof(buf); i++)
        buf[i] = (uint8_t)(0xa5 ^ i);
    struct dma_stats before, after;
    dma_get_stats(&before);
    enum blk_status st = blk_rw(d, BLK_READ, start, SECTORS, buf);
    dma_get_stats(&after);
    KEXPECT_MSG(t, st == BLK_EIO, "read of LBA %" PRIu64 " +%u over the error gave %s", start, SECTORS,
                blk_status_name(st));
    char why[120];
    uint32_t k = 0; /* sectors from the start that hold the disk's data */
    while (k < SECTORS &&
           testdisk_check(buf + k * SECTOR_SIZE, start + k, TESTDISK_ID_READONLY, why, sizeof(why)) == TESTDISK_OK)
        k++;
    KEXPECT_MSG(t, start + k <= bad, "%u sectors of disk data, reaching past the bad sector %" PRIu64, k, bad);
    bool kept = true, zeros = true;
    for (size_t i = (size_t)k * SECTOR_SIZE; i < sizeof(buf); i++) {
        kept = kept && buf[i] == (uint8_t)(0xa5 ^ i);
        zeros = zeros && buf[i] == 0;
    }
    const char *rest = kept ? "as it was" : zeros ? "zeros" : "other bytes";
    bool bounced = after.bounced_maps > before.bounced_maps;
    ktest_note(t,
               "partial read: %s lba %" PRIu64 " +%u, error at %" PRIu64
               ": the device wrote %u sectors; the rest %s (%s, policy %s, "
               "%s completion)",
               d->name, start, SECTORS, bad, k, rest, bounced ? "bounced" : "not bounced",
               bounce_policy_name(dma_bounce_policy()), d->completes_exactly && bounced ? "exact" : "whole");
    if (!bounced)
        return; /* the device wrote the buffer itself: whatever it left is its own doing */
    if (d->completes_exactly)
        KEXPECT_MSG(t, kept, "exact completion: the bytes the device did not write changed (%s)", rest);
    else if (dma_bounce_policy() == BOUNCE_ZERO)
        KEXPECT_MSG(t, zeros, "zero policy: the bytes the device did not write are %s, not zeros", rest);
    else if (dma_bounce_policy() == BOUNCE_COPY)
        KEXPECT_MSG(t, kept, "copy policy: the bytes the device did not write are %s, not the original", rest);
}

/* io=irq: every disk whose driver routed an interrupt completed by it - interrupts were taken,
 * and none of its completions had to be found by the fallback poll (a lost interrupt). A disk
 * that could not get one said why at boot and is polled: named here. io=poll: no disk took any. */
static void completions_came_as_asked(struct ktest *t)
{
    if (blk_count() == 0) {
        ktest_skip(t, "no block device attached");
        return;
    }
    for (size_t i = 0; i < blk_count(); i++) {
        const struct blk_dev *d = blk_get(i);
        const struct blk_stats *s = &d->stats;
        uint64_t requests = s->reads + s->writes + s->flushes;
        if (kopts.io == IO_POLL || !d->irq_driven) {
            KEXPECT_MSG(t, s->irqs == 0 && !d->irq_driven, "%s: %" PRIu64 " interrupts under io=poll", d->name,
                        s->irqs);
            if (kopts.io == IO_IRQ)
                ktest_note(t, "%s: polled (no interrupt: see the boot log)", d->name);
            continue;
        }
        KEXPECT_MSG(t, requests == 0 || s->irqs > 0, "%s: %" PRIu64 " requests, no interrupt", d->name, requests);
        KEXPECT_MSG(t, s->irqs_lost == 0, "%s: %" PRIu64 " completions found by the fallback poll (lost interrupts)",
                    d->name, s->irqs_lost);
        /* Routed to the boot CPU: delivered there, and nowhere else; at least once per one taken. */
        uint64_t delivered = irq_count(d->irq_vector), here = irq_count_on(d->irq_vector, 0);
        KEXPECT_MSG(t, here == delivered && delivered >= s->irqs,
                    "%s: vector %#x delivered %" PRIu64 " times, %" PRIu64 " on CPU 0, %" PRIu64 " taken", d->name,
                    d->irq_vector, delivered, here, s->irqs);
        ktest_note(t,
                   "%s: %" PRIu64 " requests, %" PRIu64 " interrupts (%" PRIu64 " completed nothing), %" PRIu64 " lost",
                   d->name, requests, s->irqs, s->irqs_empty, s->irqs_lost);
    }
}

/* io=irq: an interrupt lost between the device and the driver (irq_set_lost: delivered and
 * acknowledged, never handled) does not hang the request: the block layer's fallback poll finds
 * it after BLK_IRQ_FALLBACK_NS without progress, completes it - the data right - and counts it as
 * lost. Run last: completions_came_as_asked expects no lost interrupt before it. */
static void lost_interrupt_is_recovered(struct ktest *t)
{
    struct blk_dev *d = data_disk(t);
    if (d == NULL)
        return;
    if (kopts.io != IO_IRQ || !d->irq_driven) {
        ktest_skip(t, "%s is polled (%s)", d->name, kopts.io != IO_IRQ ? "io=poll" : "no interrupt: see the boot log");
        return;
    }
    if (d->irq_level) {
        ktest_skip(t,
                   "%s's line is level-triggered: a dropped interrupt, never acknowledged at the device, "
                   "would come straight back",
                   d->name);
        return;
    }
    uint64_t pa = alloc_pages(FRAME_DMA32, 1);
    KASSERT(t, pa != FRAME_NONE);
    uint8_t *buf = phys_to_virt(pa);
    uint32_t n = d->block_size / SECTOR_SIZE;
    uint64_t lost = d->stats.irqs_lost, withheld = irq_lost_count(), t0 = time_ns();
    irq_set_lost(d->irq_vector, true);
    enum blk_status st = blk_rw(d, BLK_READ, 8 * n, n, buf);
    irq_set_lost(d->irq_vector, false);
    uint64_t took = time_ns() - t0;
    KEXPECT_MSG(t, st == BLK_OK, "read with its interrupt lost: %s", blk_status_name(st));
    if (st == BLK_OK)
        verify(t, buf, 8 * n * (uint64_t)SECTOR_SIZE, (size_t)n * SECTOR_SIZE);
    KEXPECT_MSG(t, irq_lost_count() > withheld, "no interrupt was withheld (%" PRIu64 ")", irq_lost_count() - withheld);
    KEXPECT_EQ(t, d->stats.irqs_lost, lost + 1);
    KEXPECT_MSG(t, took >= BLK_IRQ_FALLBACK_NS / 2 && took < BLK_TIMEOUT_NS,
                "the lost completion was found after %" PRIu64 " ms", took / NSEC_PER_MSEC);
    ktest_note(t, "%s: a read whose interrupt was lost completed after %" PRIu64 " ms, by the fallback poll", d->name,
               took / NSEC_PER_MSEC);
    free_pages(pa, 1);
}

static const struct ktest_case cases[] = {
    KTEST_CASE(disks_found),
    KTEST_CASE(sequential_read_whole_disk),
    KTEST_CASE(cache_pages_above_4g),
    KTEST_CASE(random_reads),
    KTEST_CASE(readahead_windows_grow),
    KTEST_CASE(direct_reads_any_buffer),
    KTEST_CASE(scratch_write_and_read_back),
    KTEST_CASE(invalid_requests_refused),
    KTEST_CASE(injected_read_error),
    KTEST_CASE(partial_read),
    KTEST_CASE(completions_came_as_asked),
    KTEST_CASE(lost_interrupt_is_recovered),
};
KTEST_SUITE(blk, "block drivers, page cache and readahead on the test disks", cases);
