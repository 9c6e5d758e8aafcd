/* SPDX-License-Identifier: MIT */
/* test_pvh_check.c - host unit tests for kernel/boot/pvh_check.c: where a PVH loader may point the
 * kernel (inside its own memory map, below the 4 GiB the entry code maps), and where not. */
#include "tests/host/host_test.h"

#include "kernel/boot/pvh_check.h"
#include "lib/units.h"

/* QEMU's map for -m 6G: low RAM, the BIOS area (reserved: the RSDP is there), RAM to 3 GiB,
 * RAM above 4 GiB. */
static const struct mem_range map[] = {
    {0, 0x9fc00, MEM_USABLE},
    {0xf0000, 0x10000, MEM_RESERVED},
    {MiB(1), GiB(3) - MiB(1), MEM_USABLE},
    {GiB(4), GiB(3), MEM_USABLE},
};
#define N (sizeof(map) / sizeof(map[0]))

static void test_inside_the_map(void **state)
{
    (void)state;
    assert_int_equal(pvh_bytes_at(map, N, 0x7000), 0x9fc00 - 0x7000);    /* the command line, in low RAM */
    assert_int_equal(pvh_bytes_at(map, N, 0xf5250), 0x100000 - 0xf5250); /* the RSDP, in the BIOS area */
    assert_int_equal(pvh_bytes_at(map, N, 0x9fbff), 1);                  /* the last byte of a range */
}

static void test_outside_the_map_or_beyond_4g(void **state)
{
    (void)state;
    assert_int_equal(pvh_bytes_at(map, N, 0x9fc00), 0);         /* just past a range: a hole */
    assert_int_equal(pvh_bytes_at(map, N, 0xfec00000), 0);      /* the I/O APIC: in no range */
    assert_int_equal(pvh_bytes_at(map, N, GiB(4) + 0x1000), 0); /* RAM, but beyond what is mapped */
    assert_int_equal(pvh_bytes_at(map, N, UINT64_MAX), 0);
    assert_int_equal(pvh_bytes_at(map, 0, 0x7000), 0); /* no map at all */
}

/* A range that runs over 4 GiB counts only up to it: the rest is not mapped. */
static void test_counts_stop_at_4g(void **state)
{
    (void)state;
    static const struct mem_range big[] = {{GiB(3), GiB(2), MEM_USABLE}};
    assert_int_equal(pvh_bytes_at(big, 1, GiB(4) - 16), 16);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_inside_the_map),
        cmocka_unit_test(test_outside_the_map_or_beyond_4g),
        cmocka_unit_test(test_counts_stop_at_4g),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
