/* SPDX-License-Identifier: MIT */
/* test_ide_prd.c - host unit tests for drivers/ide_prd.c (the bus-master IDE PRD table builder). */
#include "tests/host/host_test.h"

#include <string.h>

#include "drivers/ide_prd.h"
#include "lib/units.h"

#define P(a, l) ((struct ide_prd_piece){(a), (l)})
#define GiB4 0x100000000ull

static void assert_prd(const struct ide_prd *e, uint32_t base, uint32_t count, uint16_t flags)
{
    assert_int_equal(e->base, base);
    assert_int_equal(e->count, count);
    assert_int_equal(e->flags, flags);
}

static void test_one_page_is_one_entry_with_eot(void **state)
{
    (void)state;
    struct ide_prd prd[4];
    const struct ide_prd_piece p[] = {P(0x12345000, PAGE_SIZE)};
    assert_int_equal(ide_prd_build(p, 1, prd, ARRAY_LEN(prd)), 1);
    assert_prd(&prd[0], 0x12345000, PAGE_SIZE, IDE_PRD_EOT);
}

static void test_64k_region_is_encoded_as_count_zero(void **state)
{
    (void)state;
    struct ide_prd prd[4];
    const struct ide_prd_piece p[] = {P(0x20000, 0x10000)};
    assert_int_equal(ide_prd_build(p, 1, prd, ARRAY_LEN(prd)), 1);
    assert_prd(&prd[0], 0x20000, 0, IDE_PRD_EOT);
    assert_int_equal(ide_prd_bytes(&prd[0]), 0x10000);
}

static void test_piece_crossing_64k_is_split_at_the_boundary(void **state)
{
    (void)state;
    struct ide_prd prd[4];
    const struct ide_prd_piece p[] = {P(0x1f000, 0x2000)};
    assert_int_equal(ide_prd_build(p, 1, prd, ARRAY_LEN(prd)), 2);
    assert_prd(&prd[0], 0x1f000, 0x1000, 0);
    assert_prd(&prd[1], 0x20000, 0x1000, IDE_PRD_EOT);
}

static void test_unaligned_128k_piece_spans_three_windows(void **state)
{
    (void)state;
    struct ide_prd prd[4];
    const struct ide_prd_piece p[] = {P(0x30200, 0x20000)};
    assert_int_equal(ide_prd_build(p, 1, prd, ARRAY_LEN(prd)), 3);
    assert_prd(&prd[0], 0x30200, 0xfe00, 0);
    assert_prd(&prd[1], 0x40000, 0, 0); /* a whole 64 KiB window */
    assert_prd(&prd[2], 0x50000, 0x200, IDE_PRD_EOT);
}

static void test_several_pieces_keep_order_and_eot_only_on_last(void **state)
{
    (void)state;
    struct ide_prd prd[8];
    const struct ide_prd_piece p[] = {P(0x9000, 512), P(0x3000, PAGE_SIZE), P(0x7fe00, 1024)};
    assert_int_equal(ide_prd_build(p, 3, prd, ARRAY_LEN(prd)), 4);
    assert_prd(&prd[0], 0x9000, 512, 0);
    assert_prd(&prd[1], 0x3000, PAGE_SIZE, 0);
    assert_prd(&prd[2], 0x7fe00, 512, 0);
    assert_prd(&prd[3], 0x80000, 512, IDE_PRD_EOT);
}

static void test_region_ending_exactly_at_4g_is_accepted(void **state)
{
    (void)state;
    struct ide_prd prd[2];
    const struct ide_prd_piece p[] = {P(0xfffff000, 0x1000)};
    assert_int_equal(ide_prd_build(p, 1, prd, ARRAY_LEN(prd)), 1);
    assert_prd(&prd[0], 0xfffff000, 0x1000, IDE_PRD_EOT);
}

static void test_rejects_bad_pieces(void **state)
{
    (void)state;
    struct ide_prd prd[8];
    const struct ide_prd_piece ok = P(0x1000, 0x1000);
    const struct ide_prd_piece bad[] = {
        P(0x1000, 0),          /* empty */
        P(0x1000, 511),        /* odd length */
        P(0x1001, 512),        /* odd address */
        P(GiB4, 512),          /* above 4 GiB */
        P(0xfffff000, 0x2000), /* starts below 4 GiB, ends above */
        P(0xffffffffe, 2),     /* far above */
    };
    assert_int_equal(ide_prd_build(&ok, 0, prd, ARRAY_LEN(prd)), -1); /* no piece at all */
    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        const struct ide_prd_piece two[] = {ok, bad[i]};
        assert_int_equal(ide_prd_build(&bad[i], 1, prd, ARRAY_LEN(prd)), -1);
        assert_int_equal(ide_prd_build(two, 2, prd, ARRAY_LEN(prd)), -1);
    }
}

static void test_too_many_entries_fails_without_writing_past_max(void **state)
{
    (void)state;
    struct ide_prd prd[4];
    memset(prd, 0xa5, sizeof(prd));
    const struct ide_prd_piece p[] = {P(0x0f000, 0x30000)}; /* 4 windows */
    assert_int_equal(ide_prd_build(p, 1, prd, 3), -1);
    for (size_t k = 0; k < sizeof(prd[3]); k++)
        assert_int_equal(((const uint8_t *)&prd[3])[k], 0xa5);
    assert_int_equal(ide_prd_build(p, 1, prd, 4), 4);
    assert_int_equal(ide_prd_build(p, 1, prd, 0), -1);
}

/* ---- randomized: the builder against a byte-stream model ----
 *
 * The model does not split anything itself. It checks properties any correct table has: the
 * entries, read in order, describe exactly the pieces' bytes in order; no entry crosses a 64 KiB
 * boundary; only the last entry has EOT; and the number of entries is the number of 64 KiB
 * windows each piece touches, summed (so the builder splits no more than it has to). */

static uint64_t windows_touched(uint64_t addr, uint64_t len) { return ((addr + len - 1) >> 16) - (addr >> 16) + 1; }

static int model_valid(const struct ide_prd_piece *p, size_t n)
{
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (p[i].len == 0 || (p[i].len & 1) || (p[i].addr & 1) || p[i].addr + p[i].len > GiB4)
            return 0;
    return 1;
}

static struct ide_prd_piece random_piece(struct rng *r)
{
    uint64_t addr, len;
    switch (rng_below(r, 4)) {
    case 0: /* a page, as the block layer hands them out */
        addr = rng_below(r, GiB4 >> 12) << 12;
        len = PAGE_SIZE;
        break;
    case 1: /* sectors, anywhere sector-aligned */
        addr = rng_below(r, GiB4 >> 9) << 9;
        len = (1 + rng_below(r, 256)) * 512;
        break;
    case 2: /* close to a 64 KiB boundary, so it crosses often */
        addr = ((rng_below(r, GiB4 >> 16) << 16) | 0xffff) - rng_below(r, PAGE_SIZE);
        addr &= ~1ull;
        len = 2 + 2 * rng_below(r, 0x10000);
        break;
    default: /* odd-but-even sizes, up to 256 KiB */
        addr = 2 * rng_below(r, GiB4 / 2);
        len = 2 + 2 * rng_below(r, 0x20000);
        break;
    }
    if (rng_one_in(r, 40)) { /* now and then something the builder must refuse */
        switch (rng_below(r, 4)) {
        case 0: len = 0; break;
        case 1: len |= 1; break;
        case 2: addr |= 1; break;
        default: addr = GiB4 - rng_below(r, len); break; /* straddles 4 GiB, or starts at it */
        }
    }
    return P(addr, (uint32_t)len);
}

static void test_random_tables_match_model(void **state)
{
    (void)state;
    struct rng r = rng_begin();
    enum { MAX_PIECES = 24, MAX_PRD = 128 };
    struct ide_prd_piece pieces[MAX_PIECES];
    struct ide_prd prd[MAX_PRD + 1];
    for (int iter = 0; iter < 20000; iter++) {
        size_t n = rng_below(&r, MAX_PIECES + 1);
        for (size_t i = 0; i < n; i++)
            pieces[i] = random_piece(&r);
        uint64_t need = 0;
        int valid = model_valid(pieces, n);
        for (size_t i = 0; valid && i < n; i++)
            need += windows_touched(pieces[i].addr, pieces[i].len);
        /* Sometimes too little room, sometimes exactly enough, usually plenty. */
        size_t max = rng_one_in(&r, 4) && need > 0 ? (size_t)rng_below(&r, need) : MAX_PRD;
        if (rng_one_in(&r, 8) && need > 0 && need <= MAX_PRD)
            max = (size_t)need;
        memset(&prd[max], 0x5a, sizeof(prd[max]));
        int got = ide_prd_build(pieces, n, prd, max);

        const uint8_t *canary = (const uint8_t *)&prd[max];
        for (size_t k = 0; k < sizeof(prd[max]); k++)
            RAND_ASSERT(canary[k] == 0x5a);
        if (!valid || need > max) {
            RAND_ASSERT(got == -1);
            continue;
        }
        RAND_ASSERT(got >= 0 && (uint64_t)got == need);
        /* Walk the pieces' bytes and the entries' bytes side by side. */
        size_t e = 0;
        uint64_t e_off = 0;
        for (size_t i = 0; i < n; i++) {
            uint64_t addr = pieces[i].addr, left = pieces[i].len;
            while (left > 0) {
                RAND_ASSERT(e < (size_t)got);
                uint64_t bytes = ide_prd_bytes(&prd[e]);
                RAND_ASSERT((prd[e].base >> 16) == ((prd[e].base + bytes - 1) >> 16)); /* no crossing */
                RAND_ASSERT((prd[e].base & 1) == 0 && (bytes & 1) == 0);
                RAND_ASSERT(prd[e].flags == (e == (size_t)got - 1 ? IDE_PRD_EOT : 0));
                uint64_t step = bytes - e_off < left ? bytes - e_off : left;
                RAND_ASSERT(prd[e].base + e_off == addr);
                addr += step;
                left -= step;
                e_off += step;
                if (e_off == bytes) {
                    e++;
                    e_off = 0;
                }
            }
            RAND_ASSERT(e_off == 0); /* an entry never spans two pieces */
        }
        RAND_ASSERT(e == (size_t)got);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_page_is_one_entry_with_eot),
        cmocka_unit_test(test_64k_region_is_encoded_as_count_zero),
        cmocka_unit_test(test_piece_crossing_64k_is_split_at_the_boundary),
        cmocka_unit_test(test_unaligned_128k_piece_spans_three_windows),
        cmocka_unit_test(test_several_pieces_keep_order_and_eot_only_on_last),
        cmocka_unit_test(test_region_ending_exactly_at_4g_is_accepted),
        cmocka_unit_test(test_rejects_bad_pieces),
        cmocka_unit_test(test_too_many_entries_fails_without_writing_past_max),
        cmocka_unit_test(test_random_tables_match_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
