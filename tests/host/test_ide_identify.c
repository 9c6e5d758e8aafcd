/* SPDX-License-Identifier: MIT */
/* test_ide_identify.c - host unit tests for drivers/ide_identify.c: IDENTIFY DEVICE words built
 * here from ATA8-ACS 7.16 (QEMU's disk, and drives that send garbage), not by the parser. */
#include "tests/host/host_test.h"

#include <string.h>

#include "drivers/ide_identify.h"
#include "lib/units.h"

/* Two characters per word, the first in the high byte, space-padded to `nwords` words. */
static void put_string(uint16_t *id, int word, int nwords, const char *s)
{
    for (int i = 0; i < nwords; i++) {
        char a = s[0] ? *s++ : ' ', b = s[0] ? *s++ : ' ';
        id[word + i] = (uint16_t)((uint8_t)a << 8 | (uint8_t)b);
    }
}

/* QEMU's "QEMU HARDDISK" of `sectors`, LBA48 and FLUSH CACHE EXT, DMA. */
static void qemu_disk(uint16_t id[256], uint64_t sectors)
{
    memset(id, 0, 512);
    id[0] = 0x0040;
    put_string(id, 10, 10, "QM00001");
    put_string(id, 27, 20, "QEMU HARDDISK");
    id[49] = (1u << 9) | (1u << 8); /* LBA, DMA */
    uint64_t c28 = sectors < 0x0fffffff ? sectors : 0x0fffffff;
    id[60] = (uint16_t)c28;
    id[61] = (uint16_t)(c28 >> 16);
    id[83] = 0x4000 | (1u << 10) | (1u << 13); /* valid, LBA48, FLUSH CACHE EXT */
    for (int i = 0; i < 4; i++)
        id[100 + i] = (uint16_t)(sectors >> (16 * i));
}

static void test_qemu_disk(void **state)
{
    (void)state;
    uint16_t id[256];
    struct ide_identity w;
    char why[160];
    qemu_disk(id, 65536);
    assert_true(ide_parse_identify(id, &w, why, sizeof(why)));
    assert_int_equal(w.sectors, 65536);
    assert_true(w.lba48 && w.flush_ext && w.dma);
    assert_string_equal(w.model, "QEMU HARDDISK");
    assert_string_equal(w.serial, "QM00001");
    /* A disk beyond 28 bits: the 48-bit count, the 28-bit words saturated. */
    qemu_disk(id, 1ull << 40);
    assert_true(ide_parse_identify(id, &w, why, sizeof(why)));
    assert_int_equal(w.sectors, 1ull << 40);
    /* Word 83 not valid (bits 15:14 != 01): no LBA48, the 28-bit count. */
    qemu_disk(id, 1000);
    id[83] = 0xffff;
    assert_true(ide_parse_identify(id, &w, why, sizeof(why)));
    assert_false(w.lba48 || w.flush_ext);
    assert_int_equal(w.sectors, 1000);
}

static void expect_refused(const uint16_t id[256], const char *reason)
{
    struct ide_identity w;
    char why[160] = "";
    assert_false(ide_parse_identify(id, &w, why, sizeof(why)));
    if (strstr(why, reason) == NULL)
        fail_msg("refused for \"%s\", expected \"%s\"", why, reason);
}

/* Words a drive should never send, each refused with its reason. */
static void test_garbage_is_refused(void **state)
{
    (void)state;
    uint16_t id[256];
    qemu_disk(id, 100);
    id[0] = 0x8000;
    expect_refused(id, "not an ATA device");
    qemu_disk(id, 100);
    id[49] = 0;
    expect_refused(id, "no LBA");
    qemu_disk(id, 100);
    id[106] = 0x4000 | (1u << 12);    /* logical sectors of words 117-118 */
    id[117] = (uint16_t)(KiB(4) / 2); /* in words: 4 KiB sectors */
    expect_refused(id, "logical sectors of 4096 bytes");
    qemu_disk(id, 100);
    id[61] = 0x1000; /* bit 28 */
    expect_refused(id, "more than 28 bits");
    qemu_disk(id, 100);
    id[103] = 1; /* bit 48 */
    expect_refused(id, "more than 48 bits");
    qemu_disk(id, 0);
    expect_refused(id, "no user-addressable sectors");
    memset(id, 0xff, sizeof(id)); /* a floating bus */
    expect_refused(id, "not an ATA device");
}

/* Unprintable and NUL characters in the strings: shown as '?', or ending the string. */
static void test_strings_are_made_printable(void **state)
{
    (void)state;
    uint16_t id[256];
    struct ide_identity w;
    char why[160];
    qemu_disk(id, 100);
    put_string(id, 27, 20, "  DISK\x01\x7f");
    id[10] = 0x4100; /* "A" then a NUL: the serial ends there */
    assert_true(ide_parse_identify(id, &w, why, sizeof(why)));
    assert_string_equal(w.model, "DISK??");
    assert_string_equal(w.serial, "A");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_qemu_disk),
        cmocka_unit_test(test_garbage_is_refused),
        cmocka_unit_test(test_strings_are_made_printable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
