/* SPDX-License-Identifier: MIT */
/* guestmem.c - range checks and the shared-page bitmap (see guestmem.h). */
#include "tools/vmm/guestmem.h"

bool gm_in_ram(const struct guest_mem *gm, uint64_t gpa, uint64_t len)
{
    return gpa <= gm->size && len <= gm->size - gpa;
}

bool gm_page_shared(const struct guest_mem *gm, uint64_t pfn)
{
    if (pfn >= gm->size / PAGE_SIZE)
        return false;
    return (gm->shared[pfn / 64] >> (pfn % 64)) & 1;
}

bool gm_is_shared(const struct guest_mem *gm, uint64_t gpa, uint64_t len)
{
    if (!gm_in_ram(gm, gpa, len))
        return false;
    if (len == 0)
        return true;
    /* Whole bitmap words at a time: a guest may describe gigabytes in one descriptor. */
    uint64_t p = gpa >> PAGE_SHIFT, last = (gpa + len - 1) >> PAGE_SHIFT;
    while (p <= last) {
        uint64_t w = p / 64, lo = p % 64;
        uint64_t hi = (last / 64 == w) ? last % 64 : 63;
        uint64_t mask = (hi - lo == 63) ? ~0ull : (((1ull << (hi - lo + 1)) - 1) << lo);
        if ((gm->shared[w] & mask) != mask)
            return false;
        p = (w + 1) * 64;
    }
    return true;
}

void *gm_shared_ptr(const struct guest_mem *gm, uint64_t gpa, uint64_t len)
{
    return gm_is_shared(gm, gpa, len) ? gm->host + gpa : NULL;
}

void gm_set_pages(struct guest_mem *gm, uint64_t pfn, uint64_t n, bool shared)
{
    for (uint64_t p = pfn; p < pfn + n; p++) {
        uint64_t bit = 1ull << (p % 64);
        if (shared)
            gm->shared[p / 64] |= bit;
        else
            gm->shared[p / 64] &= ~bit;
    }
}

uint64_t gm_count_shared(const struct guest_mem *gm)
{
    uint64_t n = 0, pages = gm->size / PAGE_SIZE;
    for (uint64_t p = 0; p < pages; p++)
        n += gm_page_shared(gm, p);
    return n;
}

bool gm_next_run(const struct guest_mem *gm, bool shared, uint64_t *pfn, uint64_t *n)
{
    uint64_t pages = gm->size / PAGE_SIZE, p = *pfn;
    while (p < pages && gm_page_shared(gm, p) != shared)
        p++;
    if (p >= pages)
        return false;
    uint64_t e = p;
    while (e < pages && gm_page_shared(gm, e) == shared)
        e++;
    *pfn = p;
    *n = e - p;
    return true;
}
