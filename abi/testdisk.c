/* SPDX-License-Identifier: MIT */
/* testdisk.c - build and check self-describing test sectors (see testdisk.h). */
#include "abi/testdisk.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static uint64_t fnv1a(const uint8_t *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

static void payload(uint8_t *p, uint64_t lba, uint64_t id)
{
    uint64_t x = (lba * 0x9e3779b97f4a7c15ull) ^ (id << 40) ^ 0x2545f4914f6cdd1dull;
    for (int i = 0; i < 480; i += 8) {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        put64(p + i, x * 0x2545f4914f6cdd1dull);
    }
}

void testdisk_fill(uint8_t *buf, uint64_t lba, uint64_t id)
{
    memcpy(buf, TESTDISK_MAGIC, 8);
    put64(buf + 8, lba);
    put64(buf + 16, id);
    payload(buf + 24, lba, id);
    put64(buf + 504, fnv1a(buf, 504));
}

enum testdisk_result testdisk_check(const uint8_t *buf, uint64_t lba, uint64_t id, char *why, size_t whylen)
{
    char dummy[1];
    if (why == NULL) {
        why = dummy;
        whylen = sizeof(dummy);
    }
    bool zero = true;
    for (int i = 0; i < TESTDISK_SECTOR && zero; i++)
        zero = buf[i] == 0;
    if (zero) {
        snprintf(why, whylen, "sector %" PRIu64 " reads as all zeros", lba);
        return TESTDISK_ZEROED;
    }
    if (memcmp(buf, TESTDISK_MAGIC, 8) != 0) {
        snprintf(why, whylen, "sector %" PRIu64 " has no test-disk magic", lba);
        return TESTDISK_NO_MAGIC;
    }
    if (get64(buf + 504) != fnv1a(buf, 504)) {
        snprintf(why, whylen, "sector %" PRIu64 " fails its checksum", lba);
        return TESTDISK_BAD_SUM;
    }
    if (get64(buf + 8) != lba) {
        snprintf(why, whylen, "sector %" PRIu64 " holds sector %" PRIu64, lba, get64(buf + 8));
        return TESTDISK_WRONG_LBA;
    }
    if (get64(buf + 16) != id) {
        snprintf(why, whylen, "sector %" PRIu64 " belongs to disk %#" PRIx64 ", not %#" PRIx64, lba, get64(buf + 16),
                 id);
        return TESTDISK_WRONG_ID;
    }
    uint8_t expect[480];
    payload(expect, lba, id);
    if (memcmp(expect, buf + 24, sizeof(expect)) != 0) {
        snprintf(why, whylen, "sector %" PRIu64 " has a valid header but the wrong payload", lba);
        return TESTDISK_BAD_PAYLOAD;
    }
    return TESTDISK_OK;
}
