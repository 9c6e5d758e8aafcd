/* SPDX-License-Identifier: MIT */
/* testdisk_find.h - the test disks among the block devices, found by content, and - when one is
 * missing - the true reason: not attached, refused by a driver, or there but not recognised.
 *
 * A case that needs a disk asks testdisk_for_case(): a disk named by `require=` that is missing
 * fails the case (a step that attaches its disks cannot pass without them); otherwise the case
 * is skipped with the reason.
 */
#ifndef BOUNCE_TESTS_GUEST_TESTDISK_FIND_H
#define BOUNCE_TESTS_GUEST_TESTDISK_FIND_H

#include <stddef.h>

#include "drivers/blk.h"
#include "kernel/options.h"
#include "ktest/ktest.h"

/* The first disk of this kind, or NULL. */
struct blk_dev *testdisk_find(enum test_disk kind);

/* The disk for a test case, or NULL after failing (kind required) or skipping the case. */
struct blk_dev *testdisk_for_case(struct ktest *t, enum test_disk kind);

/* Why no disk of this kind was found: "not attached (no block device found)", "refused by a
 * driver: ...", "not recognised: vda (...)". */
void testdisk_why_missing(enum test_disk kind, char *buf, size_t len);

const char *testdisk_kind_name(enum test_disk kind); /* "data", "scratch" */

#endif
