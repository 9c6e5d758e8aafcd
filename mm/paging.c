/* SPDX-License-Identifier: MIT */
/* paging.c - 4-level page-table construction (see paging.h). Intel SDM vol. 3, chapter 4.5. */
#include "mm/paging.h"

#include <stddef.h>

#define PT_ENTRIES 512
#define SIZE_4K (1ull << 12)
#define SIZE_2M (1ull << 21)

static unsigned index_at(uint64_t va, int level) { return (unsigned)(va >> (12 + 9 * (level - 1))) & 511; }

uint64_t pt_cache_bits(enum cache_mode m, int level)
{
    (void)level; /* the PAT bit (bit 7 in a PTE, bit 12 in a large leaf) is always 0 in our layout */
    return ((m & 1) ? PTE_PWT : 0) | ((m & 2) ? PTE_PCD : 0);
}

enum cache_mode pt_cache_mode(uint64_t pte, int level)
{
    (void)level;
    return (enum cache_mode)(((pte & PTE_PWT) ? 1 : 0) | ((pte & PTE_PCD) ? 2 : 0));
}

static uint64_t leaf_bits(unsigned flags, int level)
{
    uint64_t e = PTE_P | PTE_A | pt_cache_bits(PT_CACHE_OF(flags), level);
    if (flags & PT_WRITE)
        e |= PTE_W | PTE_D;
    if (!(flags & PT_EXEC))
        e |= PTE_NX;
    if (level > 1)
        e |= PTE_PS;
    return e;
}

static uint64_t *table_of(const struct pt_ctx *pt, uint64_t entry) { return pt->phys_to_virt(entry & PTE_ADDR_MASK); }

/* Intermediate entries are as permissive as possible; the leaf decides access. */
#define TABLE_BITS (PTE_P | PTE_W | PTE_A)

/* Turn a 2 MiB leaf into a table of 512 4 KiB leaves with the same attributes. */
static int split_2m(struct pt_ctx *pt, uint64_t *pde)
{
    uint64_t t = pt->alloc_table(pt->arg);
    if (t == 0)
        return -1;
    pt->tables_allocated++;
    uint64_t *pte = pt->phys_to_virt(t);
    uint64_t base = *pde & PTE_ADDR_MASK & ~(SIZE_2M - 1);
    uint64_t attrs = *pde & ~PTE_ADDR_MASK & ~PTE_PS; /* keeps NX (bit 63) and bits 0-11 */
    if (*pde & PTE_PATLG)                             /* the PAT bit moves from bit 12 to bit 7 */
        attrs |= PTE_PAT4K;
    for (int i = 0; i < PT_ENTRIES; i++)
        pte[i] = (base + (uint64_t)i * SIZE_4K) | attrs;
    *pde = t | TABLE_BITS;
    return 0;
}

/* The entry at `level` for va, creating tables down to it. Level 1 = PTE, 2 = PDE. If a 2 MiB leaf
 * is in the way of a level-1 request it is split first. NULL when out of table memory. */
static uint64_t *walk_create(struct pt_ctx *pt, uint64_t va, int level)
{
    uint64_t *table = pt->phys_to_virt(pt->root);
    for (int l = 4; l > level; l--) {
        uint64_t *e = &table[index_at(va, l)];
        if (*e & PTE_P && *e & PTE_PS) {
            if (l != 2 || split_2m(pt, e) != 0)
                return NULL; /* 1 GiB leaves are never created here, so never split */
        } else if (!(*e & PTE_P)) {
            uint64_t t = pt->alloc_table(pt->arg);
            if (t == 0)
                return NULL;
            pt->tables_allocated++;
            *e = t | TABLE_BITS;
        }
        table = table_of(pt, *e);
    }
    return &table[index_at(va, level)];
}

int pt_map(struct pt_ctx *pt, uint64_t va, uint64_t pa, uint64_t size, unsigned flags)
{
    if ((va | pa | size) & (SIZE_4K - 1))
        return -1;
    while (size > 0) {
        bool huge = !(flags & PT_NO_HUGE) && ((va | pa) & (SIZE_2M - 1)) == 0 && size >= SIZE_2M;
        if (huge) {
            uint64_t *pde = walk_create(pt, va, 2);
            if (pde == NULL)
                return -1;
            if (*pde & PTE_P && !(*pde & PTE_PS)) {
                /* A 4 KiB table is already here: fill it rather than orphan it. */
                uint64_t *pte = table_of(pt, *pde);
                for (int i = 0; i < PT_ENTRIES; i++)
                    pte[i] = (pa + (uint64_t)i * SIZE_4K) | leaf_bits(flags, 1);
            } else {
                *pde = pa | leaf_bits(flags, 2);
            }
            va += SIZE_2M;
            pa += SIZE_2M;
            size -= SIZE_2M;
        } else {
            uint64_t *pte = walk_create(pt, va, 1);
            if (pte == NULL)
                return -1;
            *pte = pa | leaf_bits(flags, 1);
            va += SIZE_4K;
            pa += SIZE_4K;
            size -= SIZE_4K;
        }
    }
    return 0;
}

int pt_unmap(struct pt_ctx *pt, uint64_t va, uint64_t size)
{
    if ((va | size) & (SIZE_4K - 1))
        return -1;
    while (size > 0) {
        uint64_t *pde = NULL, *table = pt->phys_to_virt(pt->root);
        for (int l = 4; l > 2 && table; l--) {
            uint64_t e = table[index_at(va, l)];
            table = (e & PTE_P) && !(e & PTE_PS) ? table_of(pt, e) : NULL;
        }
        if (table)
            pde = &table[index_at(va, 2)];
        uint64_t step = SIZE_4K;
        if (pde == NULL || !(*pde & PTE_P)) {
            step = SIZE_2M - (va & (SIZE_2M - 1)); /* nothing mapped in this 2 MiB block */
        } else if (*pde & PTE_PS && (va & (SIZE_2M - 1)) == 0 && size >= SIZE_2M) {
            *pde = 0;
            step = SIZE_2M;
        } else {
            if (*pde & PTE_PS && split_2m(pt, pde) != 0)
                return -1;
            table_of(pt, *pde)[index_at(va, 1)] = 0;
        }
        if (step >= size)
            break;
        va += step;
        size -= step;
    }
    return 0;
}

bool pt_lookup(const struct pt_ctx *pt, uint64_t va, uint64_t *pte, int *level)
{
    uint64_t *table = pt->phys_to_virt(pt->root);
    for (int l = 4; l >= 1; l--) {
        uint64_t e = table[index_at(va, l)];
        if (!(e & PTE_P))
            return false;
        if (l == 1 || (e & PTE_PS)) {
            *pte = e;
            *level = l;
            return true;
        }
        table = table_of(pt, e);
    }
    return false;
}
