/* SPDX-License-Identifier: MIT */
/* test_virtio_blk_cfg.c - host unit tests for drivers/virtio_blk_cfg.c: what a virtio-blk
 * configuration (virtio 1.2 5.2.4) means for the driver. The values real devices offer (QEMU's
 * virtio-blk-pci; qemu-storage-daemon's vhost-user-blk with size_max 0) are accepted, only what
 * cannot be driven is refused with its reason, and - against a model that cuts requests into
 * descriptors as the driver does - no request within the limits needs more descriptors than the
 * device takes. */
#include "tests/host/host_test.h"

#include <string.h>

#include "drivers/virtio_blk_cfg.h"
#include "lib/units.h"

/* What QEMU 10's virtio-blk-pci offers, and what the driver brings (virtio_blk_probe.c). */
static struct vblk_cfg qemu_cfg(void)
{
    return (struct vblk_cfg){.has_seg_max = true,
                             .has_blk_size = true,
                             .capacity = 65536,
                             .seg_max = 254,
                             .blk_size = 512,
                             .device_qmax = 256,
                             .depth = 32,
                             .map_max = 256 * 1024,
                             .max_block_size = KiB(4),
                             .max_request_bytes = 1024 * 1024,
                             .max_segments = 256};
}

static int limits(const struct vblk_cfg *c, struct vblk_limits *l, char *why)
{
    memset(why, 0, 200);
    return vblk_cfg_limits(c, l, why, 200);
}

static void test_qemu_virtio_blk_pci(void **state)
{
    (void)state;
    struct vblk_cfg c = qemu_cfg();
    struct vblk_limits l;
    char why[200];
    assert_int_equal(limits(&c, &l, why), 0);
    assert_int_equal(l.qsize, 256);
    assert_int_equal(l.block_size, 512);
    assert_int_equal(l.piece_max, 256 * 1024);
    assert_int_equal(l.seg_limit, 254);
    assert_int_equal(l.max_sectors, MiB(1) / 512);
}

/* The issue that started this: vhost-user-blk offers SIZE_MAX with size_max 0. */
static void test_size_max_0_is_no_limit(void **state)
{
    (void)state;
    struct vblk_cfg c = qemu_cfg();
    c.has_size_max = true, c.size_max = 0, c.seg_max = 126, c.device_qmax = 128;
    struct vblk_limits l;
    char why[200];
    assert_int_equal(limits(&c, &l, why), 0);
    assert_int_equal(l.piece_max, c.map_max);
    assert_int_equal(l.qsize, 128);
    assert_int_equal(l.seg_limit, 126);
    char d[120];
    vblk_cfg_describe(&c, &l, d, sizeof(d));
    assert_string_equal(d, "size_max 0 (no limit), seg_max 126, blk_size 512");
}

static void test_size_max_below_a_sector_is_drivable(void **state)
{
    (void)state;
    struct vblk_cfg c = qemu_cfg();
    c.has_size_max = true, c.size_max = 100;
    struct vblk_limits l;
    char why[200];
    assert_int_equal(limits(&c, &l, why), 0);
    assert_int_equal(l.piece_max, 100);
    assert_true(l.max_sectors >= 1);
    /* ...unless one sector needs more descriptors than a request may have. */
    c.seg_max = 5;
    assert_int_equal(limits(&c, &l, why), -1);
    assert_non_null(strstr(why, "one 512-byte block needs more than the 5 data descriptors of 100 bytes"));
}

static void test_seg_max_0_is_taken_as_1(void **state)
{
    (void)state;
    struct vblk_cfg c = qemu_cfg();
    c.seg_max = 0;
    struct vblk_limits l;
    char why[200];
    assert_int_equal(limits(&c, &l, why), 0);
    assert_int_equal(l.seg_limit, 1);
    assert_int_equal(l.max_segments, 1);
    assert_int_equal(l.max_sectors, 512); /* one descriptor of 256 KiB */
    char d[120];
    vblk_cfg_describe(&c, &l, d, sizeof(d));
    assert_non_null(strstr(d, "seg_max 0 (taken as 1)"));
}

static void test_blk_size(void **state)
{
    (void)state;
    struct vblk_cfg c = qemu_cfg();
    struct vblk_limits l;
    char why[200];
    static const struct {
        uint32_t blk_size, block_size;
    } accepted[] = {
        {512, 512}, {1024, 1024}, {KiB(4), KiB(4)},  {0, 512},
        {3, 512},   {256, 512},   {KiB(4) - 1, 512}, {0xffffffffu, 512},
    };
    for (size_t i = 0; i < sizeof(accepted) / sizeof(accepted[0]); i++) {
        c.blk_size = accepted[i].blk_size;
        assert_int_equal(limits(&c, &l, why), 0);
        assert_int_equal(l.block_size, accepted[i].block_size);
        assert_int_equal(l.max_sectors % (l.block_size / 512), 0);
    }
    c.blk_size = 8192;
    assert_int_equal(limits(&c, &l, why), -1);
    assert_non_null(strstr(why, "logical block size 8192 is larger than a page"));
    c.has_blk_size = false; /* not negotiated: the field means nothing */
    assert_int_equal(limits(&c, &l, why), 0);
    assert_int_equal(l.block_size, 512);
}

static void test_capacity(void **state)
{
    (void)state;
    struct vblk_cfg c = qemu_cfg();
    struct vblk_limits l;
    char why[200];
    c.capacity = 0; /* an empty disk */
    assert_int_equal(limits(&c, &l, why), 0);
    c.capacity = UINT64_MAX / 512;
    assert_int_equal(limits(&c, &l, why), 0);
    c.capacity = UINT64_MAX / 512 + 1;
    assert_int_equal(limits(&c, &l, why), -1);
    assert_non_null(strstr(why, "does not fit in 64 bits"));
}

static void test_queue_size(void **state)
{
    (void)state;
    struct vblk_cfg c = qemu_cfg();
    struct vblk_limits l;
    char why[200];
    c.device_qmax = 0;
    assert_int_equal(limits(&c, &l, why), -1);
    assert_string_equal(why, "the device has no request queue");
    c.device_qmax = 3;
    assert_int_equal(limits(&c, &l, why), -1);
    c.device_qmax = 100; /* not a power of two: the largest one below */
    assert_int_equal(limits(&c, &l, why), 0);
    assert_int_equal(l.qsize, 64);
    c.device_qmax = 32768;
    assert_int_equal(limits(&c, &l, why), 0);
    assert_int_equal(l.qsize, 512); /* depth 32 x 10, rounded up */
}

/* The model: the driver cuts each segment into pieces of at most piece_max bytes, one
 * descriptor each (virtio_blk.c). Requests are built to need as many pieces as possible. */
static void test_no_request_within_the_limits_needs_more_descriptors(void **state)
{
    (void)state;
    struct rng r = rng_begin();
    static const uint32_t blk_sizes[] = {512, 1024, KiB(4), 0, 7};
    for (int round = 0; round < 20000; round++) {
        struct vblk_cfg c = qemu_cfg();
        c.has_size_max = rng_one_in(&r, 2);
        c.size_max = rng_one_in(&r, 4) ? 0 : 1 + (uint32_t)rng_below(&r, rng_one_in(&r, 2) ? KiB(2) : MiB(1));
        c.has_seg_max = !rng_one_in(&r, 4);
        c.seg_max = (uint32_t)rng_below(&r, 300);
        c.blk_size = blk_sizes[rng_below(&r, 5)];
        c.device_qmax = 1 + (uint32_t)rng_below(&r, 1024);
        c.depth = 1 + (uint32_t)rng_below(&r, 128);
        c.map_max = KiB(2) * (1 + rng_below(&r, 128));
        struct vblk_limits l;
        char why[200];
        if (limits(&c, &l, why) != 0) {
            RAND_ASSERT(why[0] != '\0');
            continue;
        }
        RAND_ASSERT(l.qsize >= 4 && (l.qsize & (l.qsize - 1)) == 0 && l.qsize <= c.device_qmax);
        RAND_ASSERT(l.seg_limit >= 1 && l.seg_limit <= l.qsize - 2);
        RAND_ASSERT(!c.has_seg_max || l.seg_limit <= (c.seg_max ? c.seg_max : 1));
        RAND_ASSERT(l.piece_max >= 1 && l.piece_max <= c.map_max);
        RAND_ASSERT(!c.has_size_max || c.size_max == 0 || l.piece_max <= c.size_max);
        RAND_ASSERT(l.max_sectors >= l.block_size / 512 && l.max_sectors % (l.block_size / 512) == 0);
        RAND_ASSERT(l.max_sectors * 512ull <= c.max_request_bytes || l.seg_limit == 1);
        RAND_ASSERT(l.max_segments >= 1 && l.max_segments <= c.max_segments);
        /* A worst-case request: max_segments segments, each just over a multiple of piece_max. */
        uint64_t left = l.max_sectors * 512ull, pieces = 0;
        for (uint32_t s = 0; s < l.max_segments && left; s++) {
            uint64_t len = (uint64_t)l.piece_max * rng_below(&r, 3) + 512;
            len = (len + 511) / 512 * 512;
            if (len > left || s == l.max_segments - 1)
                len = left;
            left -= len;
            pieces += (len + l.piece_max - 1) / l.piece_max;
        }
        RAND_ASSERT(pieces <= l.seg_limit);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_qemu_virtio_blk_pci),
        cmocka_unit_test(test_size_max_0_is_no_limit),
        cmocka_unit_test(test_size_max_below_a_sector_is_drivable),
        cmocka_unit_test(test_seg_max_0_is_taken_as_1),
        cmocka_unit_test(test_blk_size),
        cmocka_unit_test(test_capacity),
        cmocka_unit_test(test_queue_size),
        cmocka_unit_test(test_no_request_within_the_limits_needs_more_descriptors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
