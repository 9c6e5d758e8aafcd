/* SPDX-License-Identifier: MIT */
/* memrange.h - physical address ranges: the boot memory map and the arithmetic on it.
 *
 * Pure logic (no hardware access): compiled into the guest and natively for the host unit tests.
 */
#ifndef BOUNCE_LIB_MEMRANGE_H
#define BOUNCE_LIB_MEMRANGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/units.h"

/* What a range of physical address space holds, as both boot paths report it. The order matters
 * to memrange_normalize(): where two ranges overlap, the higher-numbered (more restrictive) type wins. */
enum mem_type {
    MEM_USABLE = 1,   /* free RAM (E820 type 1, EfiConventionalMemory) */
    MEM_BOOT_RECLAIM, /* firmware boot-services RAM: free once we run on our own stack and page tables */
    MEM_ACPI_RECLAIM, /* ACPI tables (E820 3) */
    MEM_ACPI_NVS,     /* ACPI NVS (E820 4) */
    MEM_PERSISTENT,   /* persistent memory (E820 7) */
    MEM_LOADER,       /* UEFI loader code/data: our image and the firmware's allocations for us */
    MEM_MMIO,         /* device memory the firmware reported */
    MEM_UNUSABLE,     /* E820 5, EfiUnusableMemory */
    MEM_RESERVED,     /* anything else, including firmware runtime services */
    MEM_TYPE_MAX,
};

struct mem_range {
    uint64_t base;
    uint64_t len;
    uint32_t type; /* enum mem_type */
};

static inline uint64_t memrange_end(const struct mem_range *r) { return r->base + r->len; }

const char *mem_type_name(uint32_t type);

/* Sort by base, resolve overlaps (the more restrictive type wins), merge adjacent ranges of the
 * same type, drop empty ones. Returns the new count (never more than n + the overlaps split,
 * bounded by cap). Returns -1 if splitting would need more than cap entries. */
int memrange_normalize(struct mem_range *r, size_t n, size_t cap);

/* Remove [base, base+len) from every range of the array (splitting where needed).
 * Returns the new count, or -1 if the result would exceed cap. */
int memrange_subtract(struct mem_range *r, size_t n, size_t cap, uint64_t base, uint64_t len);

/* Shrink every range to whole pages (base rounded up, end rounded down); empty ranges dropped. */
size_t memrange_page_align(struct mem_range *r, size_t n);

/* Sum of the lengths of ranges of the given type. */
uint64_t memrange_total(const struct mem_range *r, size_t n, uint32_t type);

/* Lowest address >= min with `size` bytes, aligned to `align`, inside one range of `type`,
 * ending at or below `limit`. Returns false when there is none. */
bool memrange_find(const struct mem_range *r, size_t n, uint32_t type, uint64_t size, uint64_t align, uint64_t min,
                   uint64_t limit, uint64_t *out);

/* True if [base, base+len) lies entirely inside ranges of the given type. */
bool memrange_covers(const struct mem_range *r, size_t n, uint32_t type, uint64_t base, uint64_t len);

#endif
