/* SPDX-License-Identifier: MIT */
/* testdisk.h - the format of the test disks: every 512-byte sector describes itself.
 *
 *   bytes   0..7    magic "BNCDISK1"
 *   bytes   8..15   LBA of this sector (little-endian)
 *   bytes  16..23   disk id (little-endian)
 *   bytes  24..503  payload: an xorshift64 stream seeded from (disk id, LBA)
 *   bytes 504..511  FNV-1a 64 of bytes 0..503
 *
 * So a sector read from the wrong place (LBA mismatch), from another disk or an older write
 * (id or payload mismatch), zeroed (no magic) or torn (checksum) is detected and named. The same
 * code builds the images on the host (tools/mkdisk.c) and checks them in the guest. Pure logic.
 *
 * A scratch disk (for write tests) is zeros except for a label in its first sector, so the guest
 * can tell it from the data disk and from any other disk (the UEFI boot disk).
 */
#ifndef BOUNCE_ABI_TESTDISK_H
#define BOUNCE_ABI_TESTDISK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TESTDISK_SECTOR 512
#define TESTDISK_MAGIC "BNCDISK1"
#define TESTDISK_ID_READONLY 0x5244u      /* "DR": the read-only data disk */
#define TESTDISK_ID_SCRATCH 0x5353u       /* "SS": what write tests put on the scratch disk */
#define TESTDISK_SCRATCH_LABEL "BNCSCRT1" /* the first 8 bytes of a fresh scratch disk; the rest is 0 */

/* Write the sector `lba` of disk `id` into buf (512 bytes). */
void testdisk_fill(uint8_t *buf, uint64_t lba, uint64_t id);

enum testdisk_result {
    TESTDISK_OK,
    TESTDISK_ZEROED,   /* all zero bytes: nothing was written (or zeros came back) */
    TESTDISK_NO_MAGIC, /* not a test-disk sector at all */
    TESTDISK_BAD_SUM,  /* torn or corrupted */
    TESTDISK_WRONG_LBA,
    TESTDISK_WRONG_ID,
    TESTDISK_BAD_PAYLOAD,
};

/* Check that buf holds sector `lba` of disk `id`. On failure, why (if not NULL) says what is wrong. */
enum testdisk_result testdisk_check(const uint8_t *buf, uint64_t lba, uint64_t id, char *why, size_t whylen);

#endif
