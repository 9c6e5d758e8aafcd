/* SPDX-License-Identifier: MIT */
/* suite_workload.c - the KVM rig's workload: one cold, sequential read of the whole data disk
 * through the page cache, every sector verified. Readahead fills page-cache pages (above 4 GiB
 * with -m 6G) by DMA; the rig's host-side observers attribute KVM's faults to those pages through
 * the BOUNCE-REPORT pagecache line. Nothing else touches page-cache memory, so what the host
 * sees on those pages is the DMA layer's doing. Not part of tests=all.
 */
#include <inttypes.h>
#include <stdlib.h>

#include "drivers/blk.h"
#include "drivers/pagecache.h"
#include "kernel/time.h"
#include "ktest/ktest.h"
#include "abi/testdisk.h"
#include "tests/guest/testdisk_find.h"

#define CHUNK (64 * 1024)

static void readahead_whole_disk(struct ktest *t)
{
    struct blk_dev *d = testdisk_for_case(t, TEST_DISK_DATA);
    if (d == NULL)
        return;
    static uint8_t buf[CHUNK];
    char why[120];
    uint64_t bytes = d->capacity * SECTOR_SIZE, t0 = time_ns();
    for (uint64_t pos = 0; pos < bytes; pos += CHUNK) {
        size_t n = bytes - pos < CHUNK ? (size_t)(bytes - pos) : CHUNK;
        KASSERT(t, pagecache_read(d, pos, buf, n) == BLK_OK);
        for (size_t off = 0; off < n; off += SECTOR_SIZE)
            if (testdisk_check(buf + off, (pos + off) / SECTOR_SIZE, TESTDISK_ID_READONLY, why, sizeof(why)) !=
                TESTDISK_OK) {
                ktest_fail(t, __FILE__, __LINE__, "%s", why);
                return;
            }
    }
    uint64_t ns = time_ns() - t0;
    ktest_note(t, "%s: %" PRIu64 " MiB in %" PRIu64 " ms", d->name, (bytes >> 20), (ns / NSEC_PER_MSEC));
}

static const struct ktest_case cases[] = {KTEST_CASE(readahead_whole_disk)};
KTEST_SELFTEST_SUITE(workload, "the KVM rig's readahead workload", false, cases);
