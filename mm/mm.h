/* SPDX-License-Identifier: MIT */
/* mm.h - the kernel's physical memory: frames, the identity map, the heap.
 *
 * All RAM is identity-mapped (virtual == physical), so a physical address is a usable pointer
 * once cast; phys_to_virt()/virt_to_phys() say where that assumption is made.
 */
#ifndef BOUNCE_MM_MM_H
#define BOUNCE_MM_MM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/boot_info.h"
#include "mm/frame_alloc.h"
#include "mm/paging.h"

static inline void *phys_to_virt(uint64_t pa) { return (void *)(uintptr_t)pa; }
static inline uint64_t virt_to_phys(const void *va) { return (uint64_t)(uintptr_t)va; }

/* Build the frame allocator from the boot memory map, switch to the kernel's page tables,
 * reclaim firmware boot-services memory, and set up a heap of heap_bytes for malloc. RAM below
 * keep_out_below is never handed out (0: no limit; the confidential mode passes the end of the
 * boot-shared region, so that everything allocated - bitmaps, page tables, heap - is private). */
void mm_init(const struct boot_info *bi, uint64_t heap_bytes, uint64_t keep_out_below);

/* Contiguous frames; FRAME_NONE when the zone preference cannot be met. */
uint64_t alloc_pages(enum frame_zone_pref pref, uint64_t count);
uint64_t alloc_pages_aligned(enum frame_zone_pref pref, uint64_t count, uint64_t align_pages);
/* False (and counted as misuse) if the frames were not allocated. */
bool free_pages(uint64_t phys, uint64_t count);

struct frame_allocator *mm_frames(void);
/* The boot memory map after normalization (sorted, overlaps resolved). */
const struct mem_range *mm_boot_map(size_t *n);
/* Whether any byte of [phys, phys + len) is memory in the boot map (RAM, firmware or ACPI data,
 * our image): what a device's registers, as a table or the command line places them, must not be. */
bool mm_overlaps_memory(uint64_t phys, uint64_t len);
void mm_print_map(void);
void mm_print_zones(void);

/* --- mmu.c: the kernel's page tables --- */
void mmu_init(const struct boot_info *bi, const struct mem_range *map, size_t n);
/* Map device memory uncached (PAT UC) and return its address. Panics if tables run out. */
void *mmio_map(uint64_t phys, uint64_t size);
/* Map firmware tables (ACPI in reserved memory) read-only, write-back, if not mapped yet. */
const void *firmware_map(uint64_t phys, uint64_t size);
int mmu_map(uint64_t va, uint64_t pa, uint64_t size, unsigned flags);
/* mmu_map, flushed on this CPU only: the other CPUs keep what their TLBs hold. For the smp suite,
 * to show what the shootdown mmu_map does is for - nothing else may use it. */
int mmu_map_this_cpu_only(uint64_t va, uint64_t pa, uint64_t size, unsigned flags);
int mmu_unmap(uint64_t va, uint64_t size);
bool mmu_lookup(uint64_t va, uint64_t *pte, int *level);
uint64_t mmu_tables_allocated(void);

/* --- heap.c: the region newlib's malloc grows into through sbrk() --- */
void heap_init(uint64_t bytes);
void heap_stats(uint64_t *base, uint64_t *size, uint64_t *used);

#endif
