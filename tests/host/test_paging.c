/* SPDX-License-Identifier: MIT */
/* test_paging.c - host unit tests for mm/paging.c.
 *
 * Table pages are page-aligned heap pages and a "physical" address is just the host pointer, so
 * phys_to_virt is the identity (user-space pointers fit PTE_ADDR_MASK). The mapped physical
 * addresses are only numbers: nothing here touches the memory a page table maps.
 */
#include "tests/host/host_test.h"

#include <stdlib.h>
#include <string.h>

#include "mm/paging.h"
#include "lib/units.h"

#define SZ_4K 0x1000ull
#define SZ_2M 0x200000ull
#define SZ_1G 0x40000000ull
#define NO_LIMIT SIZE_MAX

/* The test's side of struct pt_ctx: every table page it handed out, so teardown frees them all. */
struct env {
    struct pt_ctx pt;
    void **pages;
    size_t npages, cap;
    size_t limit; /* alloc_table fails once this many tables (beyond the root) exist */
};

static uint64_t page_alloc(struct env *e)
{
    if (e->npages == e->cap) {
        e->cap = e->cap ? 2 * e->cap : 64;
        e->pages = realloc(e->pages, e->cap * sizeof(*e->pages));
        assert_non_null(e->pages);
    }
    void *p = aligned_alloc(PAGE_SIZE, PAGE_SIZE);
    assert_non_null(p);
    memset(p, 0, PAGE_SIZE);
    e->pages[e->npages++] = p;
    return (uint64_t)(uintptr_t)p;
}

static uint64_t alloc_table(void *arg)
{
    struct env *e = arg;
    if (e->npages - 1 >= e->limit) /* the root is pages[0] and not counted */
        return 0;
    return page_alloc(e);
}

static void *identity(uint64_t phys) { return (void *)(uintptr_t)phys; }

static int setup(void **state)
{
    struct env *e = calloc(1, sizeof(*e));
    assert_non_null(e);
    e->limit = NO_LIMIT;
    e->pt = (struct pt_ctx){.alloc_table = alloc_table, .phys_to_virt = identity, .arg = e};
    e->pt.root = page_alloc(e);
    *state = e;
    return 0;
}

static int teardown(void **state)
{
    struct env *e = *state;
    for (size_t i = 0; i < e->npages; i++)
        free(e->pages[i]);
    free(e->pages);
    free(e);
    return 0;
}

static uint64_t level_size(int level) { return SZ_4K << (9 * (level - 1)); }

/* The physical address va translates to, or UINT64_MAX if it is unmapped. */
static uint64_t translate(const struct env *e, uint64_t va, uint64_t *pte_out, int *level_out)
{
    uint64_t pte;
    int level;
    if (!pt_lookup(&e->pt, va, &pte, &level))
        return UINT64_MAX;
    uint64_t size = level_size(level);
    if (pte_out)
        *pte_out = pte;
    if (level_out)
        *level_out = level;
    return (pte & PTE_ADDR_MASK & ~(size - 1)) + (va & (size - 1));
}

static void assert_maps(const struct env *e, uint64_t va, uint64_t pa, int level)
{
    int got_level = 0;
    assert_int_equal(translate(e, va, NULL, &got_level), pa);
    assert_int_equal(got_level, level);
}

static void assert_unmapped(const struct env *e, uint64_t va)
{
    uint64_t pte;
    int level;
    assert_false(pt_lookup(&e->pt, va, &pte, &level));
}

/* ---- mapping and page sizes ---- */

static void test_map_4k_page_creates_a_level_1_leaf(void **state)
{
    struct env *e = *state;
    assert_int_equal(pt_map(&e->pt, 0x7000, 0x123000, SZ_4K, PT_WRITE), 0);
    uint64_t pte;
    int level;
    assert_true(pt_lookup(&e->pt, 0x7abc, &pte, &level));
    assert_int_equal(level, 1);
    assert_int_equal(pte & PTE_ADDR_MASK, 0x123000);
    assert_true(pte & PTE_P);
    assert_int_equal(pte & PTE_PAT4K, 0);
    assert_int_equal(translate(e, 0x7abc, NULL, NULL), 0x123abc);
    assert_unmapped(e, 0x6000);
    assert_unmapped(e, 0x8000);
    assert_int_equal(e->pt.tables_allocated, 3); /* PDPT, PD, PT */
}

static void test_map_uses_2m_page_when_aligned_and_large_enough(void **state)
{
    struct env *e = *state;
    assert_int_equal(pt_map(&e->pt, SZ_1G, 5 * SZ_2M, SZ_2M, PT_WRITE), 0);
    uint64_t pte;
    int level;
    assert_true(pt_lookup(&e->pt, SZ_1G + 0x1234, &pte, &level));
    assert_int_equal(level, 2);
    assert_true(pte & PTE_PS);
    assert_int_equal(pte & PTE_ADDR_MASK, 5 * SZ_2M);
    assert_maps(e, SZ_1G + SZ_2M - 1, 6 * SZ_2M - 1, 2);
    assert_unmapped(e, SZ_1G + SZ_2M);
    assert_int_equal(e->pt.tables_allocated, 2); /* PDPT, PD: no page table */
}

static void test_map_uses_4k_pages_unless_both_addresses_are_2m_aligned(void **state)
{
    struct env *e = *state;
    /* va aligned, pa not */
    assert_int_equal(pt_map(&e->pt, 0x40000000, 0x80001000, 2 * SZ_2M, 0), 0);
    /* pa aligned, va not */
    assert_int_equal(pt_map(&e->pt, 0x80001000, 0x40000000, 2 * SZ_2M, 0), 0);
    /* both aligned, but less than 2 MiB */
    assert_int_equal(pt_map(&e->pt, 0xc0000000, 0xc0000000, SZ_2M - SZ_4K, 0), 0);
    for (uint64_t off = 0; off < 2 * SZ_2M; off += SZ_4K) {
        assert_maps(e, 0x40000000 + off, 0x80001000 + off, 1);
        assert_maps(e, 0x80001000 + off, 0x40000000 + off, 1);
    }
    for (uint64_t off = 0; off < SZ_2M - SZ_4K; off += SZ_4K)
        assert_maps(e, 0xc0000000 + off, 0xc0000000 + off, 1);
    assert_unmapped(e, 0xc0000000 + SZ_2M - SZ_4K);
}

static void test_map_uses_4k_head_and_tail_around_2m_middle(void **state)
{
    struct env *e = *state;
    uint64_t va = 3 * SZ_2M - 2 * SZ_4K, pa = 0x10000000 + SZ_2M - 2 * SZ_4K; /* same offset in 2M */
    uint64_t size = 2 * SZ_4K + SZ_2M + 3 * SZ_4K;
    assert_int_equal(pt_map(&e->pt, va, pa, size, PT_WRITE), 0);
    for (uint64_t off = 0; off < size; off += SZ_4K) {
        bool middle = off >= 2 * SZ_4K && off < 2 * SZ_4K + SZ_2M;
        assert_maps(e, va + off, pa + off, middle ? 2 : 1);
    }
    assert_unmapped(e, va - SZ_4K);
    assert_unmapped(e, va + size);
}

static void test_map_never_uses_2m_pages_with_no_huge(void **state)
{
    struct env *e = *state;
    assert_int_equal(pt_map(&e->pt, SZ_1G, 2 * SZ_1G, 2 * SZ_2M, PT_NO_HUGE | PT_WRITE), 0);
    for (uint64_t off = 0; off < 2 * SZ_2M; off += SZ_4K)
        assert_maps(e, SZ_1G + off, 2 * SZ_1G + off, 1);
}

static void test_map_sets_write_and_no_execute_from_flags(void **state)
{
    struct env *e = *state;
    const unsigned flag_sets[] = {0, PT_WRITE, PT_EXEC, PT_WRITE | PT_EXEC};
    for (size_t i = 0; i < 4; i++) {
        unsigned f = flag_sets[i];
        for (int huge = 0; huge <= 1; huge++) {
            uint64_t va = (uint64_t)(2 * i + (size_t)huge) * SZ_1G; /* a fresh PD each */
            uint64_t pte;
            int level;
            assert_int_equal(pt_map(&e->pt, va, va, SZ_2M, f | (huge ? 0 : PT_NO_HUGE)), 0);
            assert_true(pt_lookup(&e->pt, va, &pte, &level));
            assert_int_equal(level, huge ? 2 : 1);
            assert_true(pte & PTE_P);
            assert_int_equal(!!(pte & PTE_W), !!(f & PT_WRITE));
            assert_int_equal(!!(pte & PTE_NX), !(f & PT_EXEC));
            assert_int_equal(pte & PTE_U, 0);
        }
    }
}

static void test_map_cache_modes_select_pat_entries_and_round_trip(void **state)
{
    struct env *e = *state;
    const struct {
        enum cache_mode mode;
        uint64_t bits;
    } cases[] = {
        {CACHE_WB, 0},
        {CACHE_WC, PTE_PWT},
        {CACHE_UC_MINUS, PTE_PCD},
        {CACHE_UC, PTE_PWT | PTE_PCD},
    };
    for (size_t i = 0; i < 4; i++) {
        for (int level = 1; level <= 2; level++) {
            assert_int_equal(pt_cache_bits(cases[i].mode, level), cases[i].bits);
            uint64_t va = (uint64_t)(2 * i + (size_t)level) * SZ_1G, pte;
            unsigned flags = PT_CACHE(cases[i].mode) | PT_WRITE | (level == 1 ? PT_NO_HUGE : 0);
            int got;
            assert_int_equal(pt_map(&e->pt, va, va, SZ_2M, flags), 0);
            assert_true(pt_lookup(&e->pt, va, &pte, &got));
            assert_int_equal(got, level);
            assert_int_equal(pte & (PTE_PWT | PTE_PCD), cases[i].bits);
            assert_int_equal(pt_cache_mode(pte, level), cases[i].mode);
            /* The PAT bit stays clear: PWT/PCD alone pick entries 0-3 of the Linux layout. */
            assert_int_equal(pte & (level == 1 ? PTE_PAT4K : PTE_PATLG), 0);
        }
    }
}

static void test_map_replaces_existing_mappings(void **state)
{
    struct env *e = *state;
    assert_int_equal(pt_map(&e->pt, 0x5000, 0x1000, SZ_4K, 0), 0);
    assert_int_equal(pt_map(&e->pt, 0x5000, 0x9000, SZ_4K, PT_WRITE | PT_CACHE(CACHE_UC)), 0);
    uint64_t pte;
    assert_int_equal(translate(e, 0x5000, &pte, NULL), 0x9000);
    assert_true(pte & PTE_W);
    assert_int_equal(pt_cache_mode(pte, 1), CACHE_UC);

    /* 2M over 2M */
    assert_int_equal(pt_map(&e->pt, SZ_1G, 0, SZ_2M, 0), 0);
    assert_int_equal(pt_map(&e->pt, SZ_1G, 4 * SZ_2M, SZ_2M, PT_EXEC), 0);
    assert_maps(e, SZ_1G + 0x4000, 4 * SZ_2M + 0x4000, 2);
}

static void test_map_2m_over_existing_page_table_reuses_it(void **state)
{
    struct env *e = *state;
    assert_int_equal(pt_map(&e->pt, SZ_2M, 0x3000, SZ_4K, 0), 0);
    uint64_t tables = e->pt.tables_allocated;
    assert_int_equal(pt_map(&e->pt, SZ_2M, 8 * SZ_2M, SZ_2M, PT_WRITE), 0);
    /* The page table is filled rather than orphaned: same translation, no table leaked or added. */
    assert_int_equal(e->pt.tables_allocated, tables);
    for (uint64_t off = 0; off < SZ_2M; off += SZ_4K) {
        uint64_t pte;
        int level;
        assert_int_equal(translate(e, SZ_2M + off, &pte, &level), 8 * SZ_2M + off);
        assert_int_equal(level, 1);
        assert_true(pte & PTE_W);
    }
}

static void test_map_works_in_the_higher_half(void **state)
{
    struct env *e = *state;
    uint64_t va = 0xffffffff80000000ull; /* the last 2 GiB: the kernel's usual place */
    assert_int_equal(pt_map(&e->pt, va, SZ_2M, SZ_2M + SZ_4K, PT_EXEC), 0);
    assert_maps(e, va, SZ_2M, 2);
    assert_maps(e, va + SZ_2M, 2 * SZ_2M, 1);
    assert_unmapped(e, 0x00007fff80000000ull); /* the top of the lower half: PML4 slot 255, not 511 */
}

/* ---- splitting 2 MiB pages ---- */

static void test_map_4k_inside_2m_page_splits_it_and_keeps_the_rest(void **state)
{
    struct env *e = *state;
    const uint64_t va = SZ_2M, pa = 16 * SZ_2M;
    assert_int_equal(pt_map(&e->pt, va, pa, SZ_2M, PT_WRITE | PT_CACHE(CACHE_WC)), 0);
    uint64_t tables = e->pt.tables_allocated;
    assert_int_equal(pt_map(&e->pt, va + 5 * SZ_4K, 0x7777000, SZ_4K, PT_EXEC | PT_CACHE(CACHE_UC)), 0);
    assert_int_equal(e->pt.tables_allocated, tables + 1);

    uint64_t pte;
    assert_int_equal(translate(e, va + 5 * SZ_4K, &pte, NULL), 0x7777000);
    assert_false(pte & PTE_W);
    assert_false(pte & PTE_NX);
    assert_int_equal(pt_cache_mode(pte, 1), CACHE_UC);
    for (uint64_t i = 0; i < 512; i++) {
        if (i == 5)
            continue;
        int level;
        assert_int_equal(translate(e, va + i * SZ_4K, &pte, &level), pa + i * SZ_4K);
        assert_int_equal(level, 1);
        assert_true(pte & PTE_W);
        assert_true(pte & PTE_NX);
        assert_int_equal(pte & PTE_PAT4K, 0); /* the old PS bit must not turn into the PAT bit */
        assert_int_equal(pt_cache_mode(pte, 1), CACHE_WC);
    }
}

static void test_split_moves_the_large_page_pat_bit_to_the_4k_position(void **state)
{
    struct env *e = *state;
    assert_int_equal(pt_map(&e->pt, SZ_2M, 4 * SZ_2M, SZ_2M, PT_WRITE), 0);
    /* pt_map never sets the PAT bit, but a split must carry whatever a leaf holds (e.g. WP/WT). */
    uint64_t *pml4 = identity(e->pt.root);
    uint64_t *pdpt = identity(pml4[0] & PTE_ADDR_MASK);
    uint64_t *pd = identity(pdpt[0] & PTE_ADDR_MASK);
    pd[1] |= PTE_PATLG;
    assert_int_equal(pt_map(&e->pt, SZ_2M, 0x1000, SZ_4K, PT_WRITE), 0);
    for (uint64_t i = 1; i < 512; i++) {
        uint64_t pte;
        assert_int_equal(translate(e, SZ_2M + i * SZ_4K, &pte, NULL), 4 * SZ_2M + i * SZ_4K);
        assert_true(pte & PTE_PAT4K);
    }
}

/* ---- unmapping ---- */

static void test_unmap_part_of_2m_page_splits_it(void **state)
{
    struct env *e = *state;
    assert_int_equal(pt_map(&e->pt, SZ_2M, 0, SZ_2M, PT_WRITE | PT_CACHE(CACHE_UC_MINUS)), 0);
    /* Aligned start but shorter than 2 MiB: must split, not drop the whole page. */
    assert_int_equal(pt_unmap(&e->pt, SZ_2M, 2 * SZ_4K), 0);
    assert_int_equal(pt_unmap(&e->pt, SZ_2M + 100 * SZ_4K, 3 * SZ_4K), 0);
    for (uint64_t i = 0; i < 512; i++) {
        if (i < 2 || (i >= 100 && i < 103)) {
            assert_unmapped(e, SZ_2M + i * SZ_4K);
            continue;
        }
        uint64_t pte;
        int level;
        assert_int_equal(translate(e, SZ_2M + i * SZ_4K, &pte, &level), i * SZ_4K);
        assert_int_equal(level, 1);
        assert_true(pte & PTE_W);
        assert_int_equal(pt_cache_mode(pte, 1), CACHE_UC_MINUS);
    }
}

static void test_unmap_whole_aligned_2m_clears_it_without_splitting(void **state)
{
    struct env *e = *state;
    assert_int_equal(pt_map(&e->pt, SZ_1G, 0, 2 * SZ_2M, 0), 0);
    uint64_t tables = e->pt.tables_allocated;
    assert_int_equal(pt_unmap(&e->pt, SZ_1G, SZ_2M), 0);
    assert_int_equal(e->pt.tables_allocated, tables);
    assert_unmapped(e, SZ_1G);
    assert_unmapped(e, SZ_1G + SZ_2M - 1);
    assert_maps(e, SZ_1G + SZ_2M, SZ_2M, 2);
}

static void test_unmap_range_of_4k_pages_and_2m_pages(void **state)
{
    struct env *e = *state;
    uint64_t va = SZ_2M - 4 * SZ_4K, size = 4 * SZ_4K + 2 * SZ_2M + 4 * SZ_4K;
    assert_int_equal(pt_map(&e->pt, va, va, size, 0), 0);
    assert_int_equal(pt_unmap(&e->pt, va + SZ_4K, size - 2 * SZ_4K), 0);
    assert_maps(e, va, va, 1);
    for (uint64_t off = SZ_4K; off < size - SZ_4K; off += SZ_4K)
        assert_unmapped(e, va + off);
    assert_maps(e, va + size - SZ_4K, va + size - SZ_4K, 1);
}

static void test_unmap_of_unmapped_range_is_fine(void **state)
{
    struct env *e = *state;
    assert_int_equal(pt_unmap(&e->pt, 0, SZ_1G), 0);
    assert_int_equal(pt_unmap(&e->pt, 0xffff800000000000ull, 4 * SZ_2M), 0);
    assert_int_equal(e->pt.tables_allocated, 0);

    /* Mostly holes, starting mid-2M: skipping a hole must stop at the next 2 MiB boundary, or the
     * page near the start of the next block (at a lower offset than the range's start) is missed. */
    assert_int_equal(pt_map(&e->pt, 5 * SZ_2M + SZ_4K, 0x1000, SZ_4K, 0), 0);
    assert_int_equal(pt_unmap(&e->pt, 3 * SZ_2M + 3 * SZ_4K, 4 * SZ_2M), 0);
    assert_unmapped(e, 5 * SZ_2M + SZ_4K);
    assert_int_equal(pt_unmap(&e->pt, 5 * SZ_2M + SZ_4K, SZ_4K), 0); /* again */
    assert_int_equal(pt_unmap(&e->pt, 5 * SZ_2M, 0), 0);
}

static void test_misaligned_arguments_are_rejected(void **state)
{
    struct env *e = *state;
    assert_int_equal(pt_map(&e->pt, 0x1001, 0x2000, SZ_4K, 0), -1);
    assert_int_equal(pt_map(&e->pt, 0x1000, 0x2800, SZ_4K, 0), -1);
    assert_int_equal(pt_map(&e->pt, 0x1000, 0x2000, 0x800, 0), -1);
    assert_int_equal(e->pt.tables_allocated, 0);
    assert_unmapped(e, 0x1000);

    assert_int_equal(pt_map(&e->pt, 0x1000, 0x2000, SZ_4K, 0), 0);
    assert_int_equal(pt_unmap(&e->pt, 0x1800, SZ_4K), -1);
    assert_int_equal(pt_unmap(&e->pt, 0x1000, 0x10), -1);
    assert_maps(e, 0x1000, 0x2000, 1);
}

/* ---- out of table memory ---- */

static void test_map_fails_cleanly_when_out_of_table_memory(void **state)
{
    struct env *e = *state;
    e->limit = 0;
    assert_int_equal(pt_map(&e->pt, 0x1000, 0x1000, SZ_4K, 0), -1);
    assert_unmapped(e, 0x1000);

    e->limit = 2; /* PDPT and PD, but no page table */
    assert_int_equal(pt_map(&e->pt, 0x1000, 0x1000, SZ_4K, 0), -1);
    assert_int_equal(e->pt.tables_allocated, 2);
    assert_unmapped(e, 0x1000);

    e->limit = NO_LIMIT; /* the tables made so far are reused */
    assert_int_equal(pt_map(&e->pt, 0x1000, 0x1000, SZ_4K, 0), 0);
    assert_int_equal(e->pt.tables_allocated, 3);
    assert_maps(e, 0x1000, 0x1000, 1);
}

static void test_map_out_of_memory_part_way_leaves_a_mapped_prefix(void **state)
{
    struct env *e = *state;
    e->limit = 4; /* PDPT, PD and two page tables: 4 MiB of 4K pages */
    assert_int_equal(pt_map(&e->pt, 0, 0, 3 * SZ_2M, PT_NO_HUGE), -1);
    assert_int_equal(e->pt.tables_allocated, 4);
    for (uint64_t off = 0; off < 2 * SZ_2M; off += SZ_4K)
        assert_maps(e, off, off, 1);
    assert_unmapped(e, 2 * SZ_2M);
}

static void test_split_fails_cleanly_when_out_of_table_memory(void **state)
{
    struct env *e = *state;
    assert_int_equal(pt_map(&e->pt, SZ_2M, 0, SZ_2M, PT_WRITE), 0);
    e->limit = e->pt.tables_allocated;
    assert_int_equal(pt_map(&e->pt, SZ_2M + SZ_4K, 0x5000, SZ_4K, 0), -1);
    assert_int_equal(pt_unmap(&e->pt, SZ_2M + SZ_4K, SZ_4K), -1);
    /* The 2 MiB page is untouched by either failure. */
    for (uint64_t off = 0; off < SZ_2M; off += 0x10000)
        assert_maps(e, SZ_2M + off, off, 2);
}

/* ---- randomized, against a per-page model ---- */

#define W_PAGES 2048 /* a 8 MiB window starting 2 MiB below a 1 GiB boundary, so it spans two PDs */
#define W_BASE (SZ_1G - SZ_2M)

struct page_model {
    uint64_t pa; /* UINT64_MAX = unmapped */
    unsigned flags;
};

static void test_random_map_unmap_matches_page_model(void **state)
{
    struct env *e = *state;
    static struct page_model m[W_PAGES];
    struct rng rng = rng_begin();
    for (size_t i = 0; i < W_PAGES; i++)
        m[i].pa = UINT64_MAX;

    for (int op = 0; op < 400; op++) {
        /* Start and length are mostly 2 MiB-aligned, so both page sizes and every split happen. */
        uint64_t first = rng_one_in(&rng, 2) ? 512 * rng_below(&rng, W_PAGES / 512) : rng_below(&rng, W_PAGES);
        uint64_t count = rng_one_in(&rng, 2) ? 512 * (1 + rng_below(&rng, 2)) : 1 + rng_below(&rng, 700);
        if (first + count > W_PAGES)
            count = W_PAGES - first;
        uint64_t va = W_BASE + first * SZ_4K;
        if (rng_one_in(&rng, 3)) {
            RAND_ASSERT(pt_unmap(&e->pt, va, count * SZ_4K) == 0);
            for (uint64_t k = 0; k < count; k++)
                m[first + k].pa = UINT64_MAX;
        } else {
            /* pa keeps va's offset within 2 MiB half the time, so huge pages are possible. */
            uint64_t pa = SZ_1G * (1 + rng_below(&rng, 4)) + (va & (SZ_2M - 1)) +
                (rng_one_in(&rng, 2) ? 0 : SZ_4K * (1 + rng_below(&rng, 511)));
            unsigned flags = (unsigned)rng_below(&rng, 8) | PT_CACHE(rng_below(&rng, 4));
            RAND_ASSERT(pt_map(&e->pt, va, pa, count * SZ_4K, flags) == 0);
            for (uint64_t k = 0; k < count; k++)
                m[first + k] = (struct page_model){pa + k * SZ_4K, flags};
        }
        for (uint64_t i = 0; i < W_PAGES; i++) {
            uint64_t pte;
            int level;
            bool mapped = pt_lookup(&e->pt, W_BASE + i * SZ_4K, &pte, &level);
            RAND_ASSERT(mapped == (m[i].pa != UINT64_MAX));
            if (!mapped)
                continue;
            RAND_ASSERT(translate(e, W_BASE + i * SZ_4K, NULL, NULL) == m[i].pa);
            RAND_ASSERT(!!(pte & PTE_W) == !!(m[i].flags & PT_WRITE));
            RAND_ASSERT(!!(pte & PTE_NX) == !(m[i].flags & PT_EXEC));
            RAND_ASSERT(pt_cache_mode(pte, level) == PT_CACHE_OF(m[i].flags));
            RAND_ASSERT(level == 1 || !(m[i].flags & PT_NO_HUGE));
        }
    }
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_map_4k_page_creates_a_level_1_leaf),
        T(test_map_uses_2m_page_when_aligned_and_large_enough),
        T(test_map_uses_4k_pages_unless_both_addresses_are_2m_aligned),
        T(test_map_uses_4k_head_and_tail_around_2m_middle),
        T(test_map_never_uses_2m_pages_with_no_huge),
        T(test_map_sets_write_and_no_execute_from_flags),
        T(test_map_cache_modes_select_pat_entries_and_round_trip),
        T(test_map_replaces_existing_mappings),
        T(test_map_2m_over_existing_page_table_reuses_it),
        T(test_map_works_in_the_higher_half),
        T(test_map_4k_inside_2m_page_splits_it_and_keeps_the_rest),
        T(test_split_moves_the_large_page_pat_bit_to_the_4k_position),
        T(test_unmap_part_of_2m_page_splits_it),
        T(test_unmap_whole_aligned_2m_clears_it_without_splitting),
        T(test_unmap_range_of_4k_pages_and_2m_pages),
        T(test_unmap_of_unmapped_range_is_fine),
        T(test_misaligned_arguments_are_rejected),
        T(test_map_fails_cleanly_when_out_of_table_memory),
        T(test_map_out_of_memory_part_way_leaves_a_mapped_prefix),
        T(test_split_fails_cleanly_when_out_of_table_memory),
        T(test_random_map_unmap_matches_page_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
