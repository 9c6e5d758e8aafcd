/* SPDX-License-Identifier: MIT */
/* memrange.c - arithmetic on physical address ranges (see memrange.h). */
#include "lib/memrange.h"

#define MEMRANGE_MAX 512 /* largest array memrange_normalize() accepts: 2 boundaries each on the stack */

const char *mem_type_name(uint32_t type)
{
    static const char *const names[MEM_TYPE_MAX] = {
        [MEM_USABLE] = "usable",     [MEM_BOOT_RECLAIM] = "boot-reclaim", [MEM_ACPI_RECLAIM] = "acpi-reclaim",
        [MEM_ACPI_NVS] = "acpi-nvs", [MEM_PERSISTENT] = "persistent",     [MEM_LOADER] = "loader",
        [MEM_MMIO] = "mmio",         [MEM_UNUSABLE] = "unusable",         [MEM_RESERVED] = "reserved",
    };
    return type > 0 && type < MEM_TYPE_MAX ? names[type] : "?";
}

static void sort_u64(uint64_t *v, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        uint64_t x = v[i];
        size_t j = i;
        for (; j > 0 && v[j - 1] > x; j--)
            v[j] = v[j - 1];
        v[j] = x;
    }
}

/* A sweep over the sorted boundaries: each elementary interval takes the most restrictive type of
 * the ranges that cover it. O(n^2) for n ranges, which is fine for memory maps (n is ~100). */
int memrange_normalize(struct mem_range *r, size_t n, size_t cap)
{
    if (n > MEMRANGE_MAX || cap > MEMRANGE_MAX || n > cap)
        return -1;
    struct mem_range in[MEMRANGE_MAX];
    uint64_t edge[2 * MEMRANGE_MAX];
    size_t nin = 0, nedge = 0;
    for (size_t i = 0; i < n; i++) {
        if (r[i].len == 0)
            continue;
        /* Clamp ranges that would wrap past the top of the address space. */
        uint64_t end = r[i].base + r[i].len < r[i].base ? UINT64_MAX : r[i].base + r[i].len;
        in[nin] = (struct mem_range){r[i].base, end - r[i].base, r[i].type};
        nin++;
        edge[nedge++] = r[i].base;
        edge[nedge++] = end;
    }
    sort_u64(edge, nedge);

    size_t out = 0;
    for (size_t e = 0; e + 1 < nedge; e++) {
        uint64_t lo = edge[e], hi = edge[e + 1];
        if (lo == hi)
            continue;
        uint32_t type = 0;
        for (size_t i = 0; i < nin; i++)
            if (in[i].base <= lo && memrange_end(&in[i]) >= hi && in[i].type > type)
                type = in[i].type;
        if (type == 0)
            continue; /* a hole */
        if (out > 0 && r[out - 1].type == type && memrange_end(&r[out - 1]) == lo) {
            r[out - 1].len += hi - lo;
            continue;
        }
        if (out == cap)
            return -1;
        r[out++] = (struct mem_range){lo, hi - lo, type};
    }
    return (int)out;
}

int memrange_subtract(struct mem_range *r, size_t n, size_t cap, uint64_t base, uint64_t len)
{
    uint64_t end = base + len;
    if (len == 0)
        return (int)n;
    for (size_t i = 0; i < n; i++) {
        uint64_t rb = r[i].base, re = memrange_end(&r[i]);
        if (re <= base || rb >= end)
            continue;
        if (rb < base && re > end) { /* the hole splits this range in two */
            if (n == cap)
                return -1;
            for (size_t j = n; j > i + 1; j--)
                r[j] = r[j - 1];
            r[i + 1] = (struct mem_range){end, re - end, r[i].type};
            r[i].len = base - rb;
            n++;
            i++;
        } else if (rb < base) {
            r[i].len = base - rb;
        } else if (re > end) {
            r[i].base = end;
            r[i].len = re - end;
        } else { /* entirely covered: remove */
            for (size_t j = i; j + 1 < n; j++)
                r[j] = r[j + 1];
            n--;
            i--;
        }
    }
    return (int)n;
}

size_t memrange_page_align(struct mem_range *r, size_t n)
{
    size_t out = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t b = ALIGN_UP(r[i].base, PAGE_SIZE), e = ALIGN_DOWN(memrange_end(&r[i]), PAGE_SIZE);
        if (b < e && b >= r[i].base) /* b < r.base only if rounding up wrapped */
            r[out++] = (struct mem_range){b, e - b, r[i].type};
    }
    return out;
}

uint64_t memrange_total(const struct mem_range *r, size_t n, uint32_t type)
{
    uint64_t sum = 0;
    for (size_t i = 0; i < n; i++)
        if (r[i].type == type)
            sum += r[i].len;
    return sum;
}

bool memrange_find(const struct mem_range *r, size_t n, uint32_t type, uint64_t size, uint64_t align, uint64_t min,
                   uint64_t limit, uint64_t *out)
{
    bool found = false;
    for (size_t i = 0; i < n; i++) {
        if (r[i].type != type)
            continue;
        uint64_t b = r[i].base > min ? r[i].base : min;
        b = ALIGN_UP(b, align);
        uint64_t e = memrange_end(&r[i]) < limit ? memrange_end(&r[i]) : limit;
        if (b < e && e - b >= size && (!found || b < *out)) {
            *out = b;
            found = true;
        }
    }
    return found;
}

bool memrange_covers(const struct mem_range *r, size_t n, uint32_t type, uint64_t base, uint64_t len)
{
    /* Ranges may be unsorted and adjacent: repeatedly extend the covered prefix. */
    uint64_t pos = base, end = base + len;
    bool progress = true;
    while (pos < end && progress) {
        progress = false;
        for (size_t i = 0; i < n; i++) {
            if (r[i].type == type && r[i].base <= pos && memrange_end(&r[i]) > pos) {
                pos = memrange_end(&r[i]);
                progress = true;
            }
        }
    }
    return pos >= end;
}
