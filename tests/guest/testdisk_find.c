/* SPDX-License-Identifier: MIT */
/* testdisk_find.c - find the test disks by content (see testdisk_find.h and testdisk.h). */
#include "tests/guest/testdisk_find.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "drivers/refusals.h"
#include "abi/testdisk.h"

const char *testdisk_kind_name(enum test_disk kind) { return kind == TEST_DISK_DATA ? "data" : "scratch"; }

/* Is d a disk of this kind? If not, why (may be NULL). Reads the first logical block: on a disk
 * with 4096-byte blocks a 512-byte read is refused. */
static bool is_kind(struct blk_dev *d, enum test_disk kind, char *why, size_t len)
{
    static uint8_t block[BLK_MAX_BLOCK_SIZE] __attribute__((aligned(BLK_MAX_BLOCK_SIZE)));
    if (why)
        why[0] = '\0';
    if (d->capacity == 0) {
        if (why)
            snprintf(why, len, "empty");
        return false;
    }
    enum blk_status st = blk_rw(d, BLK_READ, 0, d->block_size / SECTOR_SIZE, block);
    if (st != BLK_OK) {
        if (why)
            snprintf(why, len, "reading sector 0: %s", blk_status_name(st));
        return false;
    }
    if (kind == TEST_DISK_DATA)
        return testdisk_check(block, 0, TESTDISK_ID_READONLY, why, len) == TESTDISK_OK;
    if (memcmp(block, TESTDISK_SCRATCH_LABEL, 8) != 0) {
        if (why)
            snprintf(why, len, "sector 0 does not start with the scratch label %s", TESTDISK_SCRATCH_LABEL);
        return false;
    }
    if (d->read_only) {
        if (why)
            snprintf(why, len, "a scratch disk, but read-only");
        return false;
    }
    return true;
}

struct blk_dev *testdisk_find(enum test_disk kind)
{
    for (size_t i = 0; i < blk_count(); i++)
        if (is_kind(blk_get(i), kind, NULL, 0))
            return blk_get(i);
    return NULL;
}

/* Append to buf (always NUL-terminated, never past len). */
static void append(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void append(char *buf, size_t len, const char *fmt, ...)
{
    size_t used = strlen(buf);
    if (used + 1 >= len)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + used, len - used, fmt, ap);
    va_end(ap);
}

void testdisk_why_missing(enum test_disk kind, char *buf, size_t len)
{
    buf[0] = '\0';
    size_t refused = dev_refusal_count(), unrecognised = 0;
    enum test_disk other = kind == TEST_DISK_DATA ? TEST_DISK_SCRATCH : TEST_DISK_DATA;
    for (size_t i = 0; i < blk_count(); i++) {
        struct blk_dev *d = blk_get(i);
        char why[100];
        if (is_kind(d, other, NULL, 0) || is_kind(d, kind, why, sizeof(why)))
            continue; /* the other test disk is no candidate */
        append(buf, len, "%s %s (%s)", unrecognised++ ? "," : "not recognised:", d->name, why);
    }
    for (size_t i = 0; i < refused; i++) {
        const struct dev_refusal *r = dev_refusal_get(i);
        append(buf, len, "%s%s %s: %s",
               i                  ? "; "
                   : unrecognised ? "; refused by a driver: "
                                  : "refused by a driver: ",
               r->driver, r->where, r->reason);
    }
    if (unrecognised == 0 && refused == 0)
        append(buf, len, "not attached (%zu other block devices)", blk_count());
}

struct blk_dev *testdisk_for_case(struct ktest *t, enum test_disk kind)
{
    struct blk_dev *d = testdisk_find(kind);
    if (d)
        return d;
    char why[400];
    testdisk_why_missing(kind, why, sizeof(why));
    if ((kopts.require >> kind) & 1)
        ktest_fail(t, __FILE__, __LINE__, "the %s disk is required (require=) and missing: %s",
                   testdisk_kind_name(kind), why);
    else
        ktest_skip(t, "no %s disk: %s", testdisk_kind_name(kind), why);
    return NULL;
}
