/* SPDX-License-Identifier: MIT */
/* dma_fake_platform.c - see dma_fake_platform.h. */
#define _DEFAULT_SOURCE
#include "tools/hostlib/dma_fake_platform.h"
#include "lib/units.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define MAX_REGIONS 256

struct region {
    uint8_t *host;
    uint64_t phys;
    size_t len;
};

static struct region regions[MAX_REGIONS];
static int nregions;
static uint64_t next_low = FAKE_LOW_BASE, next_high = FAKE_HIGH_BASE;

/* The whole fake physical address space [0, FAKE_PHYS_END) is one reservation of host address
 * space, inaccessible except where a region is mapped, so that a physical address translates by
 * an addition - as in the guest, whose memory is identity-mapped (mm/mm.h) - and an access to an
 * address no region holds faults. */
#define FAKE_PHYS_END (FAKE_HIGH_BASE + (16ull << 30))
static uint8_t *fake_base; /* the host address of physical address 0 */

static size_t page_round(size_t n) { return (size_t)ALIGN_UP(n, PAGE_SIZE); }

static void *add_region(size_t bytes, uint64_t *next, uint64_t end, uint64_t *phys)
{
    size_t len = page_round(bytes ? bytes : 1);
    if (nregions == MAX_REGIONS || *next > end || len > end - *next)
        return NULL;
    if (fake_base == NULL) {
        void *r = mmap(NULL, FAKE_PHYS_END, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (r == MAP_FAILED)
            return NULL;
        fake_base = r;
    }
    void *p = mmap(fake_base + *next, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    regions[nregions++] = (struct region){p, *next, len};
    *phys = *next;
    *next += len + PAGE_SIZE; /* a gap: an access running off a region is not silently another one */
    return p;
}

void *fake_alloc_low(size_t bytes, uint64_t *phys) { return add_region(bytes, &next_low, FAKE_HIGH_BASE, phys); }
void *fake_alloc_high(size_t bytes, uint64_t *phys) { return add_region(bytes, &next_high, FAKE_PHYS_END, phys); }

static void *fake_phys_to_virt(uint64_t phys)
{
    if (phys < FAKE_PHYS_END && fake_base != NULL)
        return fake_base + phys; /* an address between regions translates, and faults when used */
    fprintf(stderr, "fake platform: physical address %#" PRIx64 " is outside the fake address space\n", phys);
    abort();
}

static uint64_t fake_virt_to_phys(const void *virt)
{
    const uint8_t *v = virt;
    for (int i = 0; i < nregions; i++)
        if (v >= regions[i].host && v < regions[i].host + regions[i].len)
            return regions[i].phys + (uint64_t)(v - regions[i].host);
    fprintf(stderr, "fake platform: pointer %p is in no region\n", virt);
    abort();
}

static void *fake_alloc_pages(size_t bytes, uint64_t max_phys, uint64_t *phys)
{
    void *p = max_phys < FAKE_HIGH_BASE ? fake_alloc_low(bytes, phys) : fake_alloc_high(bytes, phys);
    return p != NULL && *phys + page_round(bytes) - 1 <= max_phys ? p : NULL;
}

static void fake_free_pages(void *virt, size_t bytes)
{
    (void)virt;
    (void)bytes; /* regions live until fake_platform_reset(): a use after free stays visible as data */
}

/* ---- the confidential platform: page states and destructive conversions ---- */

#define MAX_SHARED 65536
static uint64_t shared[MAX_SHARED]; /* physical addresses of shared pages, unordered */
static int nshared, fail_after = -1;
static uint64_t convert_calls;

static int shared_index(uint64_t page)
{
    for (int i = 0; i < nshared; i++)
        if (shared[i] == page)
            return i;
    return -1;
}

bool fake_page_shared(uint64_t phys) { return shared_index(ALIGN_DOWN(phys, PAGE_SIZE)) >= 0; }
uint64_t fake_convert_calls(void) { return convert_calls; }
void fake_convert_fail_after(int n) { fail_after = n; }

static int convert(uint64_t phys, size_t bytes, bool to_shared)
{
    convert_calls++;
    if (fail_after == 0) {
        fail_after = -1;
        return -5; /* -EIO: the host refused */
    }
    if (fail_after > 0)
        fail_after--;
    if (phys % PAGE_SIZE != 0 || bytes == 0) {
        fprintf(stderr, "fake platform: conversion of [%#" PRIx64 ", +%zu) is not whole pages\n", phys, bytes);
        abort();
    }
    for (uint64_t pa = phys; pa < phys + page_round(bytes); pa += PAGE_SIZE) {
        int i = shared_index(pa);
        if (to_shared && i < 0) {
            if (nshared == MAX_SHARED)
                abort();
            shared[nshared++] = pa;
        } else if (!to_shared && i >= 0) {
            shared[i] = shared[--nshared];
        } else {
            continue; /* already in that state: nothing happens to it */
        }
        memset(fake_phys_to_virt(pa), FAKE_CONVERT_JUNK, PAGE_SIZE); /* the other copy is gone */
    }
    return 0;
}

static int fake_share(uint64_t phys, size_t bytes) { return convert(phys, bytes, true); }
static int fake_unshare(uint64_t phys, size_t bytes) { return convert(phys, bytes, false); }

static bool fake_pages_private(uint64_t phys, size_t bytes)
{
    for (uint64_t pa = ALIGN_DOWN(phys, PAGE_SIZE); pa < phys + bytes; pa += PAGE_SIZE)
        if (shared_index(pa) >= 0)
            return false;
    return true;
}

static struct dma_platform platform = {
    .phys_to_virt = fake_phys_to_virt,
    .virt_to_phys = fake_virt_to_phys,
    .alloc_pages = fake_alloc_pages,
    .free_pages = fake_free_pages,
};

struct dma_platform *fake_platform(void) { return &platform; }

void fake_platform_reset(void)
{
    /* Inaccessible again, pages dropped, the reservation kept: a stale pointer still faults. */
    for (int i = 0; i < nregions; i++)
        mmap(regions[i].host, regions[i].len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1,
             0);
    nregions = 0;
    next_low = FAKE_LOW_BASE;
    next_high = FAKE_HIGH_BASE;
    platform.trace = false;
    platform.force_bounce = false;
    platform.convert = false;
    platform.share_pages = platform.unshare_pages = NULL;
    platform.pages_private = NULL;
    nshared = 0;
    fail_after = -1;
    convert_calls = 0;
}

void fake_platform_confidential(bool convert_path)
{
    platform.force_bounce = true;
    platform.share_pages = fake_share;
    platform.unshare_pages = fake_unshare;
    platform.pages_private = fake_pages_private;
    platform.convert = convert_path;
}
