/* SPDX-License-Identifier: MIT */
/* test_memrange.c - host unit tests for mm/memrange.c. */
#include "tests/host/host_test.h"

#include <string.h>

#include "lib/memrange.h"

#define R(b, l, t) ((struct mem_range){(b), (l), (t)})

static void assert_range(const struct mem_range *r, uint64_t base, uint64_t len, uint32_t type)
{
    assert_int_equal(r->base, base);
    assert_int_equal(r->len, len);
    assert_int_equal(r->type, type);
}

/* ---- memrange_normalize ---- */

static void test_normalize_sorts_by_base(void **state)
{
    (void)state;
    struct mem_range r[4] = {
        R(0x300000, 0x1000, MEM_USABLE),
        R(0x100000, 0x1000, MEM_ACPI_NVS),
        R(0x200000, 0x1000, MEM_RESERVED),
    };
    assert_int_equal(memrange_normalize(r, 3, ARRAY_LEN(r)), 3);
    assert_range(&r[0], 0x100000, 0x1000, MEM_ACPI_NVS);
    assert_range(&r[1], 0x200000, 0x1000, MEM_RESERVED);
    assert_range(&r[2], 0x300000, 0x1000, MEM_USABLE);
}

static void test_normalize_higher_type_wins_overlap_in_the_middle(void **state)
{
    (void)state;
    struct mem_range r[8] = {
        R(0x0, 0x100000, MEM_USABLE),
        R(0x40000, 0x20000, MEM_RESERVED),
    };
    assert_int_equal(memrange_normalize(r, 2, ARRAY_LEN(r)), 3);
    assert_range(&r[0], 0x0, 0x40000, MEM_USABLE);
    assert_range(&r[1], 0x40000, 0x20000, MEM_RESERVED);
    assert_range(&r[2], 0x60000, 0xa0000, MEM_USABLE);
}

static void test_normalize_lower_type_never_overrides_higher(void **state)
{
    (void)state;
    /* The usable range comes second and is fully inside the reserved one: it must vanish. */
    struct mem_range r[8] = {
        R(0x0, 0x100000, MEM_RESERVED),
        R(0x20000, 0x10000, MEM_USABLE),
    };
    assert_int_equal(memrange_normalize(r, 2, ARRAY_LEN(r)), 1);
    assert_range(&r[0], 0x0, 0x100000, MEM_RESERVED);
}

static void test_normalize_partial_overlap_at_the_edges(void **state)
{
    (void)state;
    struct mem_range r[8] = {
        R(0x1000, 0x3000, MEM_USABLE),       /* [0x1000, 0x4000) */
        R(0x3000, 0x3000, MEM_ACPI_RECLAIM), /* [0x3000, 0x6000) */
        R(0x5000, 0x3000, MEM_BOOT_RECLAIM), /* [0x5000, 0x8000): loses [0x5000, 0x6000) */
    };
    assert_int_equal(memrange_normalize(r, 3, ARRAY_LEN(r)), 3);
    assert_range(&r[0], 0x1000, 0x2000, MEM_USABLE);
    assert_range(&r[1], 0x3000, 0x3000, MEM_ACPI_RECLAIM);
    assert_range(&r[2], 0x6000, 0x2000, MEM_BOOT_RECLAIM);
}

static void test_normalize_merges_adjacent_and_overlapping_same_type(void **state)
{
    (void)state;
    struct mem_range r[8] = {
        R(0x2000, 0x1000, MEM_USABLE),
        R(0x0, 0x2000, MEM_USABLE),
        R(0x2800, 0x2000, MEM_USABLE),
    };
    assert_int_equal(memrange_normalize(r, 3, ARRAY_LEN(r)), 1);
    assert_range(&r[0], 0x0, 0x4800, MEM_USABLE);
}

static void test_normalize_keeps_adjacent_ranges_of_different_types_apart(void **state)
{
    (void)state;
    struct mem_range r[8] = {
        R(0x0, 0x1000, MEM_USABLE),
        R(0x1000, 0x1000, MEM_LOADER),
        R(0x2000, 0x1000, MEM_USABLE),
    };
    assert_int_equal(memrange_normalize(r, 3, ARRAY_LEN(r)), 3);
    assert_range(&r[0], 0x0, 0x1000, MEM_USABLE);
    assert_range(&r[1], 0x1000, 0x1000, MEM_LOADER);
    assert_range(&r[2], 0x2000, 0x1000, MEM_USABLE);
}

static void test_normalize_drops_empty_ranges(void **state)
{
    (void)state;
    struct mem_range r[8] = {
        R(0x5000, 0, MEM_RESERVED), R(0x0, 0x1000, MEM_USABLE),
        R(0x800, 0, MEM_MMIO), /* empty, inside a usable range: must not split it */
    };
    assert_int_equal(memrange_normalize(r, 3, ARRAY_LEN(r)), 1);
    assert_range(&r[0], 0x0, 0x1000, MEM_USABLE);

    struct mem_range only_empty[2] = {R(0x1000, 0, MEM_USABLE)};
    assert_int_equal(memrange_normalize(only_empty, 1, ARRAY_LEN(only_empty)), 0);
    assert_int_equal(memrange_normalize(only_empty, 0, ARRAY_LEN(only_empty)), 0);
}

static void test_normalize_preserves_holes(void **state)
{
    (void)state;
    struct mem_range r[8] = {
        R(0x100000, 0x1000, MEM_USABLE),
        R(0x0, 0x1000, MEM_USABLE),
    };
    assert_int_equal(memrange_normalize(r, 2, ARRAY_LEN(r)), 2);
    assert_range(&r[0], 0x0, 0x1000, MEM_USABLE);
    assert_range(&r[1], 0x100000, 0x1000, MEM_USABLE);
}

static void test_normalize_clamps_range_that_wraps_past_the_top(void **state)
{
    (void)state;
    struct mem_range r[8] = {
        R(UINT64_MAX - 0xfff, 0x2000, MEM_RESERVED),
        R(0x0, 0x1000, MEM_USABLE),
    };
    assert_int_equal(memrange_normalize(r, 2, ARRAY_LEN(r)), 2);
    assert_range(&r[0], 0x0, 0x1000, MEM_USABLE);
    /* Clamped to end at UINT64_MAX rather than wrapping around to low addresses. */
    assert_range(&r[1], UINT64_MAX - 0xfff, 0xfff, MEM_RESERVED);
}

static void test_normalize_returns_minus_one_when_splitting_exceeds_cap(void **state)
{
    (void)state;
    /* One range split by a hole in the middle needs three entries. */
    struct mem_range r[2] = {
        R(0x0, 0x3000, MEM_USABLE),
        R(0x1000, 0x1000, MEM_RESERVED),
    };
    assert_int_equal(memrange_normalize(r, 2, 2), -1);

    struct mem_range fits[3] = {
        R(0x0, 0x3000, MEM_USABLE),
        R(0x1000, 0x1000, MEM_RESERVED),
    };
    assert_int_equal(memrange_normalize(fits, 2, 3), 3);
    assert_range(&fits[2], 0x2000, 0x1000, MEM_USABLE);
}

static void test_normalize_rejects_count_above_cap(void **state)
{
    (void)state;
    struct mem_range r[4] = {R(0x0, 0x1000, MEM_USABLE), R(0x2000, 0x1000, MEM_USABLE)};
    assert_int_equal(memrange_normalize(r, 2, 1), -1);
}

/* The reference model for the randomized test: one type per page over a small address space. */
#define MODEL_PAGES 256

static void model_paint(uint32_t *model, const struct mem_range *r, size_t n)
{
    memset(model, 0, MODEL_PAGES * sizeof(*model));
    for (size_t i = 0; i < n; i++)
        for (uint64_t p = r[i].base / PAGE_SIZE; p < memrange_end(&r[i]) / PAGE_SIZE; p++)
            if (r[i].type > model[p])
                model[p] = r[i].type;
}

/* Number of maximal runs of one non-zero type: what a correct normalize must return. */
static size_t model_runs(const uint32_t *model)
{
    size_t runs = 0;
    for (size_t p = 0; p < MODEL_PAGES; p++)
        if (model[p] != 0 && (p == 0 || model[p - 1] != model[p]))
            runs++;
    return runs;
}

static void test_normalize_matches_per_page_model(void **state)
{
    (void)state;
    struct rng rng = rng_begin();
    for (int iter = 0; iter < 1000; iter++) {
        struct mem_range r[64], orig[32];
        uint32_t want[MODEL_PAGES], got[MODEL_PAGES];
        size_t n = (size_t)rng_below(&rng, 16);
        for (size_t i = 0; i < n; i++) {
            uint64_t b = rng_below(&rng, MODEL_PAGES), l = rng_below(&rng, MODEL_PAGES - b + 1);
            if (!rng_one_in(&rng, 4))
                l = l % 24; /* mostly short ranges, so there are holes and many overlaps */
            r[i] = R(b * PAGE_SIZE, l * PAGE_SIZE, (uint32_t)(1 + rng_below(&rng, MEM_TYPE_MAX - 1)));
        }
        memcpy(orig, r, n * sizeof(r[0]));
        model_paint(want, orig, n);
        size_t runs = model_runs(want);
        size_t cap = n + (size_t)rng_below(&rng, n + 2); /* sometimes too small for the result */

        int out = memrange_normalize(r, n, cap);
        if (runs > cap) {
            RAND_ASSERT(out == -1);
            continue;
        }
        RAND_ASSERT(out == (int)runs);
        for (int i = 0; i < out; i++) {
            RAND_ASSERT(r[i].len > 0);
            RAND_ASSERT(r[i].base % PAGE_SIZE == 0 && r[i].len % PAGE_SIZE == 0);
            RAND_ASSERT(memrange_end(&r[i]) <= MODEL_PAGES * PAGE_SIZE);
            if (i > 0) {
                RAND_ASSERT(memrange_end(&r[i - 1]) <= r[i].base); /* sorted, disjoint */
                /* Adjacent entries of the same type should have been merged. */
                RAND_ASSERT(memrange_end(&r[i - 1]) < r[i].base || r[i - 1].type != r[i].type);
            }
        }
        model_paint(got, r, (size_t)out);
        RAND_ASSERT(memcmp(got, want, sizeof(want)) == 0);
    }
}

/* ---- memrange_subtract ---- */

static void test_subtract_splits_range_in_the_middle(void **state)
{
    (void)state;
    struct mem_range r[4] = {R(0x0, 0x10000, MEM_USABLE), R(0x20000, 0x1000, MEM_ACPI_NVS)};
    assert_int_equal(memrange_subtract(r, 2, ARRAY_LEN(r), 0x4000, 0x2000), 3);
    assert_range(&r[0], 0x0, 0x4000, MEM_USABLE);
    assert_range(&r[1], 0x6000, 0xa000, MEM_USABLE);
    assert_range(&r[2], 0x20000, 0x1000, MEM_ACPI_NVS);
}

static void test_subtract_trims_head(void **state)
{
    (void)state;
    struct mem_range r[2] = {R(0x10000, 0x10000, MEM_USABLE)};
    assert_int_equal(memrange_subtract(r, 1, ARRAY_LEN(r), 0x8000, 0x10000), 1);
    assert_range(&r[0], 0x18000, 0x8000, MEM_USABLE);
}

static void test_subtract_trims_tail(void **state)
{
    (void)state;
    struct mem_range r[2] = {R(0x10000, 0x10000, MEM_USABLE)};
    assert_int_equal(memrange_subtract(r, 1, ARRAY_LEN(r), 0x18000, 0x10000), 1);
    assert_range(&r[0], 0x10000, 0x8000, MEM_USABLE);
}

static void test_subtract_removes_whole_ranges(void **state)
{
    (void)state;
    struct mem_range r[4] = {
        R(0x0, 0x1000, MEM_USABLE),
        R(0x2000, 0x1000, MEM_USABLE),
        R(0x4000, 0x1000, MEM_RESERVED),
        R(0x8000, 0x1000, MEM_USABLE),
    };
    /* Removes the first three entirely (exact bounds for the first): consecutive removals must not skip. */
    assert_int_equal(memrange_subtract(r, 4, ARRAY_LEN(r), 0x0, 0x5000), 1);
    assert_range(&r[0], 0x8000, 0x1000, MEM_USABLE);
}

static void test_subtract_spanning_several_ranges_trims_both_ends(void **state)
{
    (void)state;
    struct mem_range r[4] = {
        R(0x0, 0x2000, MEM_USABLE),
        R(0x3000, 0x1000, MEM_USABLE),
        R(0x5000, 0x2000, MEM_USABLE),
    };
    assert_int_equal(memrange_subtract(r, 3, ARRAY_LEN(r), 0x1000, 0x5000), 2);
    assert_range(&r[0], 0x0, 0x1000, MEM_USABLE);
    assert_range(&r[1], 0x6000, 0x1000, MEM_USABLE);
}

static void test_subtract_disjoint_or_empty_hole_is_a_no_op(void **state)
{
    (void)state;
    struct mem_range r[4] = {R(0x1000, 0x1000, MEM_USABLE), R(0x3000, 0x1000, MEM_USABLE)};
    assert_int_equal(memrange_subtract(r, 2, ARRAY_LEN(r), 0x2000, 0x1000), 2); /* exactly the gap */
    assert_int_equal(memrange_subtract(r, 2, ARRAY_LEN(r), 0x10000, 0x1000), 2);
    assert_int_equal(memrange_subtract(r, 2, ARRAY_LEN(r), 0x1800, 0), 2);
    assert_range(&r[0], 0x1000, 0x1000, MEM_USABLE);
    assert_range(&r[1], 0x3000, 0x1000, MEM_USABLE);
}

static void test_subtract_returns_minus_one_when_split_exceeds_cap(void **state)
{
    (void)state;
    struct mem_range r[2] = {R(0x0, 0x1000, MEM_USABLE), R(0x2000, 0x3000, MEM_USABLE)};
    assert_int_equal(memrange_subtract(r, 2, 2, 0x3000, 0x1000), -1);
    /* Trimming needs no extra entry, so it works at cap. */
    assert_int_equal(memrange_subtract(r, 2, 2, 0x2000, 0x1000), 2);
    assert_range(&r[1], 0x3000, 0x2000, MEM_USABLE);
}

/* ---- page_align, total ---- */

static void test_page_align_shrinks_to_whole_pages_and_drops_slivers(void **state)
{
    (void)state;
    struct mem_range r[5] = {
        R(0x800, 0x2000, MEM_USABLE),             /* [0x800, 0x2800) -> [0x1000, 0x2000) */
        R(0x3001, 0xffe, MEM_USABLE),             /* inside one page: dropped */
        R(0x5000, 0x2000, MEM_RESERVED),          /* already aligned: kept */
        R(0x8800, 0x1000, MEM_USABLE),            /* straddles a boundary but holds no whole page: dropped */
        R(UINT64_MAX - 0x7ff, 0x7ff, MEM_USABLE), /* rounding the base up would wrap: dropped */
    };
    assert_int_equal(memrange_page_align(r, 5), 2);
    assert_range(&r[0], 0x1000, 0x1000, MEM_USABLE);
    assert_range(&r[1], 0x5000, 0x2000, MEM_RESERVED);
}

static void test_total_sums_lengths_of_one_type(void **state)
{
    (void)state;
    const struct mem_range r[] = {
        R(0x0, 0x1000, MEM_USABLE),
        R(0x1000, 0x5000, MEM_RESERVED),
        R(GiB(4), GiB(2), MEM_USABLE),
    };
    assert_int_equal(memrange_total(r, 3, MEM_USABLE), GiB(2) + 0x1000);
    assert_int_equal(memrange_total(r, 3, MEM_RESERVED), 0x5000);
    assert_int_equal(memrange_total(r, 3, MEM_MMIO), 0);
    assert_int_equal(memrange_total(r, 0, MEM_USABLE), 0);
}

/* ---- memrange_find ---- */

static void test_find_aligns_inside_the_range(void **state)
{
    (void)state;
    const struct mem_range r[] = {R(0x1000, MiB(4), MEM_USABLE)};
    uint64_t at = 0;
    assert_true(memrange_find(r, 1, MEM_USABLE, 0x1000, MiB(2), 0, UINT64_MAX, &at));
    assert_int_equal(at, MiB(2));
    /* 2 MiB aligned needs [2M, 4M) or beyond: [2M, 4M+4K) has room for 2 MiB but not 2M+8K. */
    assert_true(memrange_find(r, 1, MEM_USABLE, MiB(2), MiB(2), 0, UINT64_MAX, &at));
    assert_int_equal(at, MiB(2));
    assert_false(memrange_find(r, 1, MEM_USABLE, MiB(2) + 0x2000, MiB(2), 0, UINT64_MAX, &at));
}

static void test_find_respects_min_and_limit(void **state)
{
    (void)state;
    const struct mem_range r[] = {R(0x0, MiB(16), MEM_USABLE)};
    uint64_t at = 0;
    assert_true(memrange_find(r, 1, MEM_USABLE, 0x1000, 0x1000, 0x5001, UINT64_MAX, &at));
    assert_int_equal(at, 0x6000);
    /* The allocation must end at or below the limit: exactly fitting is fine. */
    assert_true(memrange_find(r, 1, MEM_USABLE, 0x2000, 0x1000, MiB(1), MiB(1) + 0x2000, &at));
    assert_int_equal(at, MiB(1));
    assert_false(memrange_find(r, 1, MEM_USABLE, 0x3000, 0x1000, MiB(1), MiB(1) + 0x2000, &at));
    assert_false(memrange_find(r, 1, MEM_USABLE, 0x1000, 0x1000, MiB(16), UINT64_MAX, &at));
}

static void test_find_chooses_lowest_address_in_unsorted_ranges(void **state)
{
    (void)state;
    const struct mem_range r[] = {
        R(MiB(64), MiB(1), MEM_USABLE),  R(MiB(8), MiB(1), MEM_USABLE),
        R(MiB(1), MiB(1), MEM_RESERVED), /* lower, but the wrong type */
        R(MiB(4), 0x1000, MEM_USABLE),   /* lower, but too small */
        R(MiB(16), MiB(1), MEM_USABLE),
    };
    uint64_t at = 0;
    assert_true(memrange_find(r, 5, MEM_USABLE, 0x2000, 0x1000, 0, UINT64_MAX, &at));
    assert_int_equal(at, MiB(8));
    assert_true(memrange_find(r, 5, MEM_USABLE, 0x1000, 0x1000, 0, UINT64_MAX, &at));
    assert_int_equal(at, MiB(4));
    assert_false(memrange_find(r, 5, MEM_ACPI_NVS, 0x1000, 0x1000, 0, UINT64_MAX, &at));
    assert_false(memrange_find(r, 5, MEM_USABLE, MiB(2), 0x1000, 0, UINT64_MAX, &at));
}

/* ---- memrange_covers ---- */

static void test_covers_joins_unsorted_adjacent_ranges(void **state)
{
    (void)state;
    const struct mem_range r[] = {
        R(0x3000, 0x1000, MEM_USABLE), R(0x2000, 0x1000, MEM_USABLE),   R(0x1000, 0x1000, MEM_USABLE),
        R(0x6000, 0x1000, MEM_USABLE), R(0x4000, 0x1000, MEM_RESERVED),
    };
    assert_true(memrange_covers(r, 5, MEM_USABLE, 0x1000, 0x3000));
    assert_true(memrange_covers(r, 5, MEM_USABLE, 0x1800, 0x2000));
    assert_false(memrange_covers(r, 5, MEM_USABLE, 0x1000, 0x4000)); /* [0x4000, 0x5000) is reserved */
    assert_false(memrange_covers(r, 5, MEM_USABLE, 0x3000, 0x4000)); /* across the reserved range and a hole */
    assert_false(memrange_covers(r, 5, MEM_USABLE, 0x0, 0x2000));    /* starts in a hole */
    assert_true(memrange_covers(r, 5, MEM_RESERVED, 0x4000, 0x1000));
    assert_false(memrange_covers(r, 5, MEM_RESERVED, 0x3000, 0x2000));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_normalize_sorts_by_base),
        cmocka_unit_test(test_normalize_higher_type_wins_overlap_in_the_middle),
        cmocka_unit_test(test_normalize_lower_type_never_overrides_higher),
        cmocka_unit_test(test_normalize_partial_overlap_at_the_edges),
        cmocka_unit_test(test_normalize_merges_adjacent_and_overlapping_same_type),
        cmocka_unit_test(test_normalize_keeps_adjacent_ranges_of_different_types_apart),
        cmocka_unit_test(test_normalize_drops_empty_ranges),
        cmocka_unit_test(test_normalize_preserves_holes),
        cmocka_unit_test(test_normalize_clamps_range_that_wraps_past_the_top),
        cmocka_unit_test(test_normalize_returns_minus_one_when_splitting_exceeds_cap),
        cmocka_unit_test(test_normalize_rejects_count_above_cap),
        cmocka_unit_test(test_normalize_matches_per_page_model),
        cmocka_unit_test(test_subtract_splits_range_in_the_middle),
        cmocka_unit_test(test_subtract_trims_head),
        cmocka_unit_test(test_subtract_trims_tail),
        cmocka_unit_test(test_subtract_removes_whole_ranges),
        cmocka_unit_test(test_subtract_spanning_several_ranges_trims_both_ends),
        cmocka_unit_test(test_subtract_disjoint_or_empty_hole_is_a_no_op),
        cmocka_unit_test(test_subtract_returns_minus_one_when_split_exceeds_cap),
        cmocka_unit_test(test_page_align_shrinks_to_whole_pages_and_drops_slivers),
        cmocka_unit_test(test_total_sums_lengths_of_one_type),
        cmocka_unit_test(test_find_aligns_inside_the_range),
        cmocka_unit_test(test_find_respects_min_and_limit),
        cmocka_unit_test(test_find_chooses_lowest_address_in_unsorted_ranges),
        cmocka_unit_test(test_covers_joins_unsorted_adjacent_ranges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
