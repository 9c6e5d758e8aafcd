/* SPDX-License-Identifier: MIT */
/* test_virtio_blk_done.c - host unit tests for drivers/virtio_blk_done.c: what a completed
 * virtio-blk request says, from its status byte and the used ring's len (virtio 1.2 2.7.8,
 * 5.2.6), checked case by case against the spec's rule - the device wrote the first `len` bytes
 * of the device-writable part (data, then the status byte) and nothing past them may be relied
 * on - written out here as an independent model. */
#include "tests/host/host_test.h"

#include "abi/virtio_blk.h"
#include "drivers/virtio_blk_done.h"
#include "lib/units.h"

static void expect(bool reads, uint32_t data, uint32_t len, uint8_t st, enum blk_status want, uint32_t written,
                   bool short_len)
{
    struct vblk_done d = vblk_done(reads, data, len, st);
    if (d.status != want || d.data_written != written || d.len_short != short_len)
        fail_msg("%s of %u data bytes, used len %u, status byte %#x: got status %d / %u written / short %d, "
                 "expected %d / %u / %d",
                 reads ? "read" : "write", data, len, st, d.status, d.data_written, d.len_short, want, written,
                 short_len);
}

static void test_a_read_that_succeeds_wrote_all_its_data(void **state)
{
    (void)state;
    expect(true, PAGE_SIZE, 4097, VIRTIO_BLK_S_OK, BLK_OK, PAGE_SIZE, false);
    expect(true, 1, 2, VIRTIO_BLK_S_OK, BLK_OK, 1, false);
}

static void test_an_error_that_claims_everything_copies_nothing(void **state)
{
    (void)state;
    /* QEMU reports the whole length with IOERR, whatever it wrote: not a count. */
    expect(true, PAGE_SIZE, 4097, VIRTIO_BLK_S_IOERR, BLK_EIO, 0, false);
    expect(true, PAGE_SIZE, 4097, VIRTIO_BLK_S_UNSUPP, BLK_EUNSUPP, 0, false);
    expect(true, PAGE_SIZE, 4097, 0xff, BLK_EPROTO, 0, false); /* never written */
    expect(true, PAGE_SIZE, 4097, 7, BLK_EPROTO, 0, false);
}

static void test_a_len_short_of_the_status_byte_fails_and_counts_the_prefix(void **state)
{
    (void)state;
    /* Truthful device, error after 1536 bytes: the prefix is the device's data. */
    expect(true, PAGE_SIZE, 1536, VIRTIO_BLK_S_IOERR, BLK_EIO, 1536, true);
    /* The status byte says OK, but by the device's own count it was never written. */
    expect(true, PAGE_SIZE, PAGE_SIZE, VIRTIO_BLK_S_OK, BLK_EIO, PAGE_SIZE, true);
    expect(true, PAGE_SIZE, 0, VIRTIO_BLK_S_OK, BLK_EIO, 0, true);
}

static void test_writes_and_flushes_have_only_the_status_byte(void **state)
{
    (void)state;
    expect(false, PAGE_SIZE, 1, VIRTIO_BLK_S_OK, BLK_OK, 0, false);
    expect(false, 0, 1, VIRTIO_BLK_S_IOERR, BLK_EIO, 0, false);
    expect(false, PAGE_SIZE, 0, VIRTIO_BLK_S_OK, BLK_EIO, 0, true);
}

static void test_status_bytes(void **state)
{
    (void)state;
    assert_int_equal(vblk_status_of(VIRTIO_BLK_S_OK), BLK_OK);
    assert_int_equal(vblk_status_of(VIRTIO_BLK_S_IOERR), BLK_EIO);
    assert_int_equal(vblk_status_of(VIRTIO_BLK_S_UNSUPP), BLK_EUNSUPP);
    for (int b = 3; b < 256; b++)
        assert_int_equal(vblk_status_of((uint8_t)b), BLK_EPROTO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_read_that_succeeds_wrote_all_its_data),
        cmocka_unit_test(test_an_error_that_claims_everything_copies_nothing),
        cmocka_unit_test(test_a_len_short_of_the_status_byte_fails_and_counts_the_prefix),
        cmocka_unit_test(test_writes_and_flushes_have_only_the_status_byte),
        cmocka_unit_test(test_status_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
