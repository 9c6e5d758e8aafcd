/* SPDX-License-Identifier: MIT */
/* mm.c - bring up physical memory from the boot memory map. */
#include "mm/mm.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "kernel/panic.h"
#include "kernel/spinlock.h"

#define LOW_RESERVED MiB(1) /* real-mode IVT, BDA, EBDA, VGA and BIOS ROMs: never handed out */
#define MAP_CAP (2 * BOOT_MEM_MAX)

static struct frame_allocator frames;
static struct mem_range boot_map[BOOT_MEM_MAX];
static size_t boot_map_n;

struct frame_allocator *mm_frames(void) { return &frames; }

const struct mem_range *mm_boot_map(size_t *n)
{
    *n = boot_map_n;
    return boot_map;
}

bool mm_overlaps_memory(uint64_t phys, uint64_t len)
{
    size_t n;
    const struct mem_range *map = mm_boot_map(&n);
    for (size_t i = 0; i < n; i++) {
        bool memory = map[i].type != MEM_MMIO && map[i].type != MEM_RESERVED && map[i].type != MEM_UNUSABLE;
        if (memory && phys < memrange_end(&map[i]) && map[i].base < phys + len)
            return true;
    }
    return false;
}

/* Every CPU allocates frames: the allocator (pure, mm/frame_alloc.c) runs under this lock. */
static struct spinlock frames_lock = SPINLOCK_INIT;

uint64_t alloc_pages(enum frame_zone_pref pref, uint64_t count) { return alloc_pages_aligned(pref, count, 1); }

uint64_t alloc_pages_aligned(enum frame_zone_pref pref, uint64_t count, uint64_t align_pages)
{
    uint64_t flags = spin_lock(&frames_lock);
    uint64_t pa = frame_alloc(&frames, pref, count, align_pages);
    spin_unlock(&frames_lock, flags);
    return pa;
}

bool free_pages(uint64_t phys, uint64_t count)
{
    uint64_t flags = spin_lock(&frames_lock);
    bool ok = frame_free(&frames, phys, count);
    spin_unlock(&frames_lock, flags);
    if (ok)
        return true;
    printf("mm: bad free of %" PRIu64 " frame(s) at 0x%" PRIx64 " (not allocated)\n", count, phys);
    return false;
}

void mm_init(const struct boot_info *bi, uint64_t heap_bytes, uint64_t keep_out_below)
{
    memcpy(boot_map, bi->mem, bi->nmem * sizeof(bi->mem[0]));
    int n = memrange_normalize(boot_map, bi->nmem, BOOT_MEM_MAX);
    if (n < 0)
        panic("mm: boot memory map has too many ranges");
    boot_map_n = (size_t)n;

    /* What the allocator may manage: the map minus low memory and the kernel image. */
    static struct mem_range avail[MAP_CAP];
    memcpy(avail, boot_map, boot_map_n * sizeof(avail[0]));
    n = memrange_subtract(avail, boot_map_n, MAP_CAP, 0, LOW_RESERVED);
    if (n >= 0)
        n = memrange_subtract(avail, (size_t)n, MAP_CAP, bi->image_start, bi->image_end - bi->image_start);
    /* Confidential mode: [0, keep_out_below) is the boot-shared region the host can read
     * (docs/confidential.md). Nothing the kernel allocates may land there - not the bitmaps below,
     * not a page table, not a byte of the heap - so it is left out before anything is placed. */
    if (n >= 0 && keep_out_below > 0)
        n = memrange_subtract(avail, (size_t)n, MAP_CAP, 0, keep_out_below);
    if (n < 0)
        panic("mm: memory map too fragmented");
    size_t navail = memrange_page_align(avail, (size_t)n);

    /* The bitmaps go in the first usable RAM below 4 GiB: both boot paths map it already. */
    uint64_t bytes = ALIGN_UP(frame_alloc_bitmap_bytes(avail, navail), PAGE_SIZE), where;
    if (!memrange_find(avail, navail, MEM_USABLE, bytes, PAGE_SIZE, 0, GiB(4), &where))
        panic("mm: no room below 4 GiB for %" PRIu64 " bytes of frame bitmaps", bytes);
    n = memrange_subtract(avail, navail, MAP_CAP, where, bytes);
    if (n < 0)
        panic("mm: memory map too fragmented");
    navail = (size_t)n;
    frame_alloc_init(&frames, avail, navail, phys_to_virt(where), bytes);

    mmu_init(bi, boot_map, boot_map_n);

    /* Now on our own stack and page tables: firmware boot-services memory is free RAM. */
    uint64_t reclaimed = 0;
    for (size_t i = 0; i < navail; i++)
        if (avail[i].type == MEM_BOOT_RECLAIM)
            reclaimed += frame_alloc_release(&frames, avail[i].base, avail[i].len);
    if (reclaimed)
        printf("mm: reclaimed %" PRIu64 " KiB of firmware boot-services memory\n", (reclaimed * PAGE_SIZE / 1024));

    heap_init(heap_bytes);
}

void mm_print_map(void)
{
    printf("memory map (%zu ranges):\n", boot_map_n);
    for (size_t i = 0; i < boot_map_n; i++) {
        const struct mem_range *r = &boot_map[i];
        printf("  [0x%012" PRIx64 "-0x%012" PRIx64 "] %10" PRIu64 " KiB  %s\n", r->base, (memrange_end(r) - 1),
               (r->len / 1024), mem_type_name(r->type));
    }
}

void mm_print_zones(void)
{
    for (int z = 0; z < NR_ZONES; z++) {
        const struct zone *zn = &frames.zones[z];
        printf("zone %-5s: %8" PRIu64 " frames managed, %8" PRIu64 " free (%" PRIu64 " MiB free)", zn->name,
               zn->managed, zn->free, (zn->free * PAGE_SIZE >> 20));
        if (zn->managed)
            printf(", span [%#" PRIx64 "-%#" PRIx64 ")", (zn->base_pfn << PAGE_SHIFT), (zn->end_pfn << PAGE_SHIFT));
        printf("\n");
    }
}
