/* SPDX-License-Identifier: MIT */
/* test_efi_memmap.c - host unit tests for kernel/boot/efi_memmap.c: UEFI memory maps built byte by
 * byte from UEFI 2.10 7.2 (EFI_MEMORY_DESCRIPTOR: Type, padding, PhysicalStart, VirtualStart,
 * NumberOfPages, Attribute), as OVMF hands them over and as a firmware should never. */
#include "tests/host/host_test.h"

#include <string.h>

#include "kernel/boot/efi_memmap.h"
#include "lib/units.h"

#define MAXD 8

struct map {
    uint8_t b[MAXD * 64];
    size_t size, desc_size;
};

static void start(struct map *m, size_t desc_size)
{
    memset(m, 0xcc, sizeof(*m)); /* padding and unknown trailing fields: garbage */
    m->size = 0;
    m->desc_size = desc_size;
}

static void add(struct map *m, uint32_t type, uint64_t phys, uint64_t pages)
{
    uint8_t *d = m->b + m->size;
    memcpy(d, &type, 4);
    memcpy(d + 8, &phys, 8);
    memcpy(d + 16, &(uint64_t){0}, 8);
    memcpy(d + 24, &pages, 8);
    memcpy(d + 32, &(uint64_t){0xf}, 8);
    m->size += m->desc_size;
}

static int convert(const struct map *m, struct mem_range *out, size_t cap, const char **why)
{
    *why = NULL;
    return efi_memmap_convert(m->b, m->size, m->desc_size, out, cap, why);
}

/* OVMF's shape: conventional memory split into several descriptors, boot-services data, loader
 * data, MMIO; a descriptor size of 48 (bigger than the structure, as OVMF reports). */
static void test_merges_neighbours_and_maps_types(void **state)
{
    (void)state;
    struct map m;
    start(&m, 48);
    add(&m, 7, 0, 160);            /* conventional: 640 KiB */
    add(&m, 7, 0x100000, 256);     /* conventional, not adjacent */
    add(&m, 7, 0x200000, 256);     /* ... adjacent: merged */
    add(&m, 4, 0x300000, 16);      /* boot-services data */
    add(&m, 2, 0x310000, 1);       /* loader data */
    add(&m, 11, 0xfec00000, 1);    /* MMIO */
    add(&m, 14, 0x100000000, 256); /* persistent memory */
    add(&m, 5, 0x400000, 1);       /* runtime services code: reserved */
    struct mem_range r[MAXD];
    const char *why;
    int n = convert(&m, r, MAXD, &why);
    assert_int_equal(n, 7);
    assert_int_equal(r[0].type, MEM_USABLE);
    assert_int_equal(r[0].len, 160 * PAGE_SIZE);
    assert_int_equal(r[1].base, 0x100000);
    assert_int_equal(r[1].len, 512 * PAGE_SIZE);
    assert_int_equal(r[2].type, MEM_BOOT_RECLAIM);
    assert_int_equal(r[3].type, MEM_LOADER);
    assert_int_equal(r[4].type, MEM_MMIO);
    assert_int_equal(r[5].type, MEM_PERSISTENT);
    assert_int_equal(r[6].type, MEM_RESERVED);
}

/* Descriptor sizes a firmware must not report: 0 (the walk would never advance), smaller than
 * the structure; a map that is not whole descriptors; a range past 2^64; more ranges than room. */
static void test_maps_that_lie_are_refused(void **state)
{
    (void)state;
    struct map m;
    struct mem_range r[MAXD];
    const char *why;
    start(&m, 40);
    add(&m, 7, 0, 16);
    assert_int_equal(efi_memmap_convert(m.b, m.size, 0, r, MAXD, &why), -1);
    assert_non_null(strstr(why, "descriptor size"));
    assert_int_equal(efi_memmap_convert(m.b, m.size, 24, r, MAXD, &why), -1);
    assert_non_null(strstr(why, "smaller than EFI_MEMORY_DESCRIPTOR"));
    assert_int_equal(efi_memmap_convert(m.b, m.size - 1, 40, r, MAXD, &why), -1);
    assert_non_null(strstr(why, "whole number"));
    start(&m, 40);
    add(&m, 7, 0xfffffffffffff000ull, 2);
    assert_int_equal(convert(&m, r, MAXD, &why), -1);
    assert_non_null(strstr(why, "past the end"));
    start(&m, 40);
    for (int i = 0; i < 3; i++)
        add(&m, (uint32_t)(i % 2 ? 7 : 4), (uint64_t)i * 0x100000, 1); /* never adjacent */
    assert_int_equal(convert(&m, r, 2, &why), -1);
    assert_non_null(strstr(why, "more ranges"));
    assert_int_equal(convert(&m, r, 3, &why), 3);
}

/* An empty map is a map of nothing, not an error (kmain then finds no memory and says so). */
static void test_empty_map(void **state)
{
    (void)state;
    struct map m;
    struct mem_range r[MAXD];
    const char *why;
    start(&m, 40);
    assert_int_equal(convert(&m, r, MAXD, &why), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_merges_neighbours_and_maps_types),
        cmocka_unit_test(test_maps_that_lie_are_refused),
        cmocka_unit_test(test_empty_map),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
