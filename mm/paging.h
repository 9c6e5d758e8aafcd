/* SPDX-License-Identifier: MIT */
/* paging.h - building and editing x86-64 4-level page tables.
 *
 * Pure logic: tables are reached through the ops in struct pt_ctx (allocate a zeroed table page,
 * turn a table's physical address into a pointer), so the host unit tests run the same code on
 * page-aligned heap memory. The guest's ops are in mm/mmu.c. Nothing here flushes the TLB: the
 * caller knows whether the tables are live.
 *
 * Memory types go through the PAT (Intel SDM vol. 3, 11.12). The kernel programs IA32_PAT with
 * Linux's layout, so the PWT/PCD bits alone select WB, WC, UC- and UC and the PAT bit stays 0:
 *   index 0 WB, 1 WC, 2 UC-, 3 UC, 4 WB, 5 WP, 6 UC-, 7 WT.
 */
#ifndef BOUNCE_MM_PAGING_H
#define BOUNCE_MM_PAGING_H

#include <stdbool.h>
#include <stdint.h>

#define PTE_P (1ull << 0)
#define PTE_W (1ull << 1)
#define PTE_U (1ull << 2)
#define PTE_PWT (1ull << 3)
#define PTE_PCD (1ull << 4)
#define PTE_A (1ull << 5)
#define PTE_D (1ull << 6)
#define PTE_PS (1ull << 7)    /* in a PDE or PDPTE: maps a 2 MiB or 1 GiB page */
#define PTE_PAT4K (1ull << 7) /* in a PTE: the PAT bit */
#define PTE_G (1ull << 8)
#define PTE_PATLG (1ull << 12) /* in a 2 MiB/1 GiB leaf: the PAT bit */
#define PTE_NX (1ull << 63)
#define PTE_ADDR_MASK 0x000ffffffffff000ull

#define PAT_LINUX_LAYOUT 0x0407050600070106ull /* the IA32_PAT value described above */

enum cache_mode { CACHE_WB = 0, CACHE_WC = 1, CACHE_UC_MINUS = 2, CACHE_UC = 3 };

/* Flags for pt_map(). */
#define PT_WRITE (1u << 0)
#define PT_EXEC (1u << 1)    /* without it the mapping is no-execute */
#define PT_NO_HUGE (1u << 2) /* use 4 KiB pages even where 2 MiB would fit */
#define PT_CACHE(m) ((unsigned)(m) << 4)
#define PT_CACHE_OF(f) ((enum cache_mode)(((f) >> 4) & 3))

struct pt_ctx {
    uint64_t root;                      /* physical address of the PML4 */
    uint64_t (*alloc_table)(void *arg); /* a zeroed, page-aligned page; 0 when out of memory */
    void *(*phys_to_virt)(uint64_t phys);
    void *arg;
    uint64_t tables_allocated;
};

/* Map [va, va+size) to [pa, pa+size). va, pa and size must be page-aligned. Uses 2 MiB pages where
 * both addresses are 2 MiB-aligned and at least 2 MiB remains (unless PT_NO_HUGE), and splits an
 * existing 2 MiB page when only part of it changes. Replaces existing mappings. Returns 0 or -1
 * (misaligned arguments, or out of table memory - in which case a prefix may be mapped). */
int pt_map(struct pt_ctx *pt, uint64_t va, uint64_t pa, uint64_t size, unsigned flags);

/* Remove the mappings of [va, va+size), splitting 2 MiB pages as needed. Returns 0 or -1. */
int pt_unmap(struct pt_ctx *pt, uint64_t va, uint64_t size);

/* The leaf entry mapping va and its level (1 = 4 KiB, 2 = 2 MiB, 3 = 1 GiB). False if unmapped. */
bool pt_lookup(const struct pt_ctx *pt, uint64_t va, uint64_t *pte, int *level);

/* The PTE bits that select a cache mode for a leaf at the given level. */
uint64_t pt_cache_bits(enum cache_mode m, int level);
/* The cache mode a leaf entry selects (assuming the PAT layout above). */
enum cache_mode pt_cache_mode(uint64_t pte, int level);

#endif
