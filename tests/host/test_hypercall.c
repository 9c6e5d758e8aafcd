/* SPDX-License-Identifier: MIT */
/* test_hypercall.c - the pure parts of the KVM hypercall client (hypercall/map_gpa.c): the
 * KVM_HC_MAP_GPA_RANGE encoding with its page-size hint, the merging of page runs into as few
 * hypercalls as possible (examples, then a randomized comparison with a bitmap model), and the
 * names of the results. */
#include "tests/host/host_test.h"

#include <string.h>

#include "hypercall/kvm_hypercall.h"
#include "lib/units.h"

#define MB2 (512ull)          /* 4 KiB pages in 2 MiB */
#define GB1 (512ull * 512ull) /* 4 KiB pages in 1 GiB */

static void expect_args(struct map_gpa_args a, uint64_t gpa, uint64_t npages, uint64_t attrs)
{
    assert_int_equal(a.gpa, gpa);
    assert_int_equal(a.npages, npages);
    assert_int_equal(a.attrs, attrs);
}

static void test_encode_4k_ranges_and_the_private_bit(void **state)
{
    (void)state;
    expect_args(map_gpa_encode(0x1000, 1, false), 0x1000, 1, KVM_MAP_GPA_RANGE_PAGE_SZ_4K);
    expect_args(map_gpa_encode(0x1000, 1, true), 0x1000, 1, KVM_MAP_GPA_RANGE_PAGE_SZ_4K | KVM_MAP_GPA_RANGE_ENCRYPTED);
    assert_int_equal(KVM_MAP_GPA_RANGE_ENCRYPTED, 0x10); /* bit 4, hypercalls.rst */
    expect_args(map_gpa_encode(0x7000, 3, false), 0x7000, 3, 0);
    /* a 2 MiB-aligned start with a length that is not a whole number of 2 MiB pages */
    expect_args(map_gpa_encode(0x200000, 511, false), 0x200000, 511, 0);
    expect_args(map_gpa_encode(0x200000, 513, true), 0x200000, 513, KVM_MAP_GPA_RANGE_ENCRYPTED);
    /* 2 MiB of pages that do not start on a 2 MiB boundary */
    expect_args(map_gpa_encode(0x201000, 512, false), 0x201000, 512, 0);
}

static void test_encode_2m_hint_when_start_and_length_are_2m_multiples(void **state)
{
    (void)state;
    expect_args(map_gpa_encode(0x200000, MB2, false), 0x200000, MB2, KVM_MAP_GPA_RANGE_PAGE_SZ_2M);
    expect_args(map_gpa_encode(0x400000, 3 * MB2, true), 0x400000, 3 * MB2,
                KVM_MAP_GPA_RANGE_PAGE_SZ_2M | KVM_MAP_GPA_RANGE_ENCRYPTED);
    /* 1 GiB-aligned start, length only a 2 MiB multiple: the smaller size is the honest hint */
    expect_args(map_gpa_encode(0x40000000, MB2, false), 0x40000000, MB2, KVM_MAP_GPA_RANGE_PAGE_SZ_2M);
    /* the 64 MiB bounce pool at 0x4000000 */
    expect_args(map_gpa_encode(0x4000000, 16384, false), 0x4000000, 16384, KVM_MAP_GPA_RANGE_PAGE_SZ_2M);
}

static void test_encode_1g_hint_when_start_and_length_are_1g_multiples(void **state)
{
    (void)state;
    expect_args(map_gpa_encode(0, GB1, false), 0, GB1, KVM_MAP_GPA_RANGE_PAGE_SZ_1G);
    expect_args(map_gpa_encode(0x40000000, 2 * GB1, true), 0x40000000, 2 * GB1,
                KVM_MAP_GPA_RANGE_PAGE_SZ_1G | KVM_MAP_GPA_RANGE_ENCRYPTED);
    /* 1 GiB long but only 2 MiB aligned */
    expect_args(map_gpa_encode(0x200000, GB1, false), 0x200000, GB1, KVM_MAP_GPA_RANGE_PAGE_SZ_2M);
    /* 1 GiB aligned, 1 GiB + 4 KiB long */
    expect_args(map_gpa_encode(0x40000000, GB1 + 1, false), 0x40000000, GB1 + 1, KVM_MAP_GPA_RANGE_PAGE_SZ_4K);
    /* above 4 GiB and near the top of a 52-bit physical address space */
    expect_args(map_gpa_encode(0x140000000ull, GB1, false), 0x140000000ull, GB1, KVM_MAP_GPA_RANGE_PAGE_SZ_1G);
    expect_args(map_gpa_encode(0xfffffc0000000ull, GB1, false), 0xfffffc0000000ull, GB1, KVM_MAP_GPA_RANGE_PAGE_SZ_1G);
}

static void test_encode_never_sets_reserved_bits(void **state)
{
    (void)state;
    struct rng r = rng_begin();
    for (int i = 0; i < 100000; i++) {
        uint64_t gpa = (rng_next(&r) & 0xfffffffff000ull) >> (rng_below(&r, 40));
        gpa &= ~0xfffull;
        uint64_t n = rng_below(&r, 4) == 0 ? GB1 * (1 + rng_below(&r, 4)) : 1 + rng_below(&r, 1u << 12);
        bool priv = rng_below(&r, 2);
        struct map_gpa_args a = map_gpa_encode(gpa, n, priv);
        RAND_ASSERT((a.attrs & ~0x1full) == 0);
        RAND_ASSERT(((a.attrs & KVM_MAP_GPA_RANGE_ENCRYPTED) != 0) == priv);
        uint64_t hint = a.attrs & 0xf, unit = hint == 2 ? GB1 : hint == 1 ? MB2 : 1;
        RAND_ASSERT(hint <= 2);
        RAND_ASSERT((gpa >> 12) % unit == 0 && n % unit == 0); /* honest */
        /* and the largest honest one */
        if (hint < 2)
            RAND_ASSERT(!((gpa >> 12) % (hint == 1 ? GB1 : MB2) == 0 && n % (hint == 1 ? GB1 : MB2) == 0));
        RAND_ASSERT(a.gpa == gpa && a.npages == n);
    }
}

/* ENOSYS means "not offered" only from a host that never converted anything; after a
 * conversion it is a refusal (issue 30), as every other error is. */
static void test_judge_enosys_after_service_is_a_failure(void **state)
{
    (void)state;
    assert_int_equal(map_gpa_judge(0, false), MAP_GPA_CONVERTED);
    assert_int_equal(map_gpa_judge(0, true), MAP_GPA_CONVERTED);
    assert_int_equal(map_gpa_judge(-KVM_ENOSYS, false), MAP_GPA_NOT_OFFERED);
    assert_int_equal(map_gpa_judge(-KVM_ENOSYS, true), MAP_GPA_FAILED);
    assert_int_equal(map_gpa_judge(-KVM_EINVAL, false), MAP_GPA_FAILED);
    assert_int_equal(map_gpa_judge(-KVM_EINVAL, true), MAP_GPA_FAILED);
    assert_int_equal(map_gpa_judge(1, false), MAP_GPA_FAILED); /* not an answer KVM gives */
}

static void test_result_names(void **state)
{
    (void)state;
    assert_string_equal(kvm_hc_result_name(0), "ok");
    assert_non_null(strstr(kvm_hc_result_name(-KVM_ENOSYS), "ENOSYS"));
    assert_non_null(strstr(kvm_hc_result_name(-1000), "does not offer"));
    assert_non_null(strstr(kvm_hc_result_name(-KVM_EINVAL), "EINVAL"));
    assert_non_null(strstr(kvm_hc_result_name(-KVM_EPERM), "EPERM"));
    assert_non_null(strstr(kvm_hc_result_name(-12345), "unknown"));
    assert_non_null(strstr(kvm_hc_result_name(7), "positive"));
}

/* ---- coalescing ---- */

static size_t coalesce(uint64_t (*runs)[2], size_t n) { return coalesce_page_runs(runs, n); }

static void test_coalesce_examples(void **state)
{
    (void)state;
    assert_int_equal(coalesce(NULL, 0), 0);

    uint64_t touching[][2] = {{10, 5}, {15, 5}, {20, 1}};
    assert_int_equal(coalesce(touching, 3), 1);
    assert_int_equal(touching[0][0], 10);
    assert_int_equal(touching[0][1], 11);

    uint64_t unsorted_gap[][2] = {{100, 4}, {0, 1}, {50, 10}, {1, 2}};
    assert_int_equal(coalesce(unsorted_gap, 4), 3);
    assert_int_equal(unsorted_gap[0][0], 0);
    assert_int_equal(unsorted_gap[0][1], 3);
    assert_int_equal(unsorted_gap[1][0], 50);
    assert_int_equal(unsorted_gap[1][1], 10);
    assert_int_equal(unsorted_gap[2][0], 100);
    assert_int_equal(unsorted_gap[2][1], 4);

    uint64_t overlap_contained[][2] = {{10, 100}, {20, 5}, {105, 10}, {200, 0}};
    assert_int_equal(coalesce(overlap_contained, 4), 1); /* the empty run is dropped */
    assert_int_equal(overlap_contained[0][0], 10);
    assert_int_equal(overlap_contained[0][1], 105);

    uint64_t one_apart[][2] = {{0, 1}, {2, 1}};
    assert_int_equal(coalesce(one_apart, 2), 2);

    uint64_t empties[][2] = {{5, 0}, {7, 0}};
    assert_int_equal(coalesce(empties, 2), 0);

    uint64_t huge[][2] = {{1ull << 40, 1ull << 30}, {(1ull << 40) + (1ull << 30), 1}};
    assert_int_equal(coalesce(huge, 2), 1);
    assert_int_equal(huge[0][1], (1ull << 30) + 1);
}

#define UNIVERSE 700

/* Random runs over a small frame universe against a bitmap: the result must be sorted, every run
 * non-empty and separated from the next by at least one frame (else they should have merged),
 * and cover exactly the frames the input covered. */
static void test_coalesce_matches_a_bitmap_model(void **state)
{
    (void)state;
    struct rng r = rng_begin();
    static uint64_t runs[300][2];
    for (int iter = 0; iter < 20000; iter++) {
        bool model[UNIVERSE] = {false}, got[UNIVERSE] = {false};
        size_t n = rng_below(&r, 300);
        uint64_t base = rng_one_in(&r, 4) ? (rng_next(&r) >> 20) : 0; /* sometimes far from 0 */
        for (size_t i = 0; i < n; i++) {
            uint64_t s = rng_below(&r, UNIVERSE - 1);
            uint64_t max = UNIVERSE - s,
                     len = rng_one_in(&r, 8) ? 0 : 1 + rng_below(&r, rng_one_in(&r, 4) ? max : (max < 8 ? max : 8));
            if (len > max)
                len = max;
            runs[i][0] = base + s;
            runs[i][1] = len;
            for (uint64_t f = s; f < s + len; f++)
                model[f] = true;
        }
        size_t m = coalesce(runs, n);
        RAND_ASSERT(m <= n);
        for (size_t i = 0; i < m; i++) {
            RAND_ASSERT(runs[i][1] > 0);
            RAND_ASSERT(runs[i][0] >= base && runs[i][0] - base + runs[i][1] <= UNIVERSE);
            if (i > 0)
                RAND_ASSERT(runs[i][0] > runs[i - 1][0] + runs[i - 1][1]); /* sorted, a gap between */
            for (uint64_t f = runs[i][0] - base; f < runs[i][0] - base + runs[i][1]; f++)
                got[f] = true;
        }
        RAND_ASSERT(memcmp(model, got, sizeof(model)) == 0);
        /* minimal: as many runs as the model has maximal runs */
        size_t model_runs = 0;
        for (size_t f = 0; f < UNIVERSE; f++)
            model_runs += model[f] && (f == 0 || !model[f - 1]);
        RAND_ASSERT(model_runs == m);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_encode_4k_ranges_and_the_private_bit),
        cmocka_unit_test(test_judge_enosys_after_service_is_a_failure),
        cmocka_unit_test(test_encode_2m_hint_when_start_and_length_are_2m_multiples),
        cmocka_unit_test(test_encode_1g_hint_when_start_and_length_are_1g_multiples),
        cmocka_unit_test(test_encode_never_sets_reserved_bits),
        cmocka_unit_test(test_result_names),
        cmocka_unit_test(test_coalesce_examples),
        cmocka_unit_test(test_coalesce_matches_a_bitmap_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
