/* SPDX-License-Identifier: MIT */
/* dma_guest.c - the DMA layer's platform in the guest: identity mapping, the frame allocator,
 * the options swiotlb= and bounce_policy=, and the end-of-run counters.
 *
 * mode=confidential (docs/confidential.md): devices see only shared memory, so every mapping
 * bounces (force_bounce) and the platform converts memory with mm/mem_encrypt.h - the bounce pool
 * and every dma_alloc_coherent() buffer (the virtqueues) become shared when allocated and private
 * again when freed. With cc_io=convert a page-aligned buffer is converted itself instead of
 * bounced (dma/convert.h). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "dma/dma.h"
#include "dma/swiotlb.h"
#include "mm/dma_guest.h"
#include "dma/dma_platform.h"
#include "kernel/options.h"
#include "kernel/panic.h"
#include "kernel/report.h"
#include "mm/mem_encrypt.h"
#include "mm/mm.h"

static void *guest_phys_to_virt(uint64_t phys) { return phys_to_virt(phys); }
static uint64_t guest_virt_to_phys(const void *virt) { return virt_to_phys(virt); }

static void *guest_alloc_pages(size_t bytes, uint64_t max_phys, uint64_t *phys)
{
    uint64_t pages = ALIGN_UP(bytes, PAGE_SIZE) / PAGE_SIZE;
    /* Below 4 GiB when the limit says so; otherwise anywhere, high memory first. A limit below
     * 4 GiB that the DMA32 frame does not meet (a 24-bit ISA device) is refused below. */
    /* Confidential mode: whole 2 MiB runs 2 MiB-aligned, so their conversion carries the 2M
     * page-size hint (hypercall/map_gpa.c) - the bounce pool, typically. */
    uint64_t align = confidential() && pages % 512 == 0 ? 512 : 1;
    uint64_t pa = alloc_pages_aligned(max_phys < ZONE_DMA32_END ? FRAME_DMA32 : FRAME_PREFER_HIGH, pages, align);
    if (pa == FRAME_NONE)
        return NULL;
    if (pa + pages * PAGE_SIZE - 1 > max_phys) {
        free_pages(pa, pages);
        return NULL;
    }
    memset(phys_to_virt(pa), 0, pages * PAGE_SIZE);
    *phys = pa;
    return phys_to_virt(pa);
}

static void guest_free_pages(void *virt, size_t bytes)
{
    free_pages(virt_to_phys(virt), ALIGN_UP(bytes, PAGE_SIZE) / PAGE_SIZE);
}

static int guest_share_pages(uint64_t phys, size_t bytes)
{
    return set_memory_shared(phys, ALIGN_UP(bytes, PAGE_SIZE) / PAGE_SIZE);
}

static int guest_unshare_pages(uint64_t phys, size_t bytes)
{
    return set_memory_private(phys, ALIGN_UP(bytes, PAGE_SIZE) / PAGE_SIZE);
}

static bool guest_pages_private(uint64_t phys, size_t bytes) { return cc_range_private(phys, bytes); }

static struct dma_platform platform = {
    .phys_to_virt = guest_phys_to_virt,
    .virt_to_phys = guest_virt_to_phys,
    .alloc_pages = guest_alloc_pages,
    .free_pages = guest_free_pages,
};

static void print_report(void)
{
    char json[1536];
    dma_stats_json(json, sizeof(json));
    printf(REPORT_PREFIX " dma %s\n", json);
}

void dma_guest_init(void)
{
    platform.trace = trace_on(TRACE_DMA);
    platform.force_bounce = kopts.swiotlb_force;
    if (confidential()) {
        platform.force_bounce = true;
        platform.share_pages = guest_share_pages;
        platform.unshare_pages = guest_unshare_pages;
        platform.pages_private = guest_pages_private;
        platform.convert = kopts.cc_io == CC_IO_CONVERT;
    }
    if (dma_init(&platform, kopts.swiotlb_bytes, kopts.bounce_policy) != 0)
        panic("dma: cannot allocate a %" PRIu64 " KiB bounce pool below 4 GiB", (kopts.swiotlb_bytes >> 10));
    struct dma_stats s;
    dma_get_stats(&s);
    printf("dma: bounce pool %" PRIu64 " KiB, %" PRIu64 " slots of %u bytes, FROM_DEVICE policy '%s'%s%s\n",
           (kopts.swiotlb_bytes >> 10), s.slots_total, SWIOTLB_SLOT_SIZE, bounce_policy_name(dma_bounce_policy()),
           platform.force_bounce ? ", every mapping bounces" : "",
           !confidential() ? ""
               : platform.convert
               ? " (confidential: pool shared; whole private pages are converted instead, cc_io=convert)"
               : " (confidential: pool and coherent memory shared, cc_io=bounce)");
    report_register(print_report);
}

void dma_guest_set_force_bounce(bool on) { platform.force_bounce = on; }
void dma_guest_set_convert(bool on) { platform.convert = on && platform.pages_private != NULL; }
bool dma_guest_convert(void) { return platform.convert; }
bool dma_guest_force_bounce(void) { return platform.force_bounce; }
void dma_guest_set_trace(bool on) { platform.trace = on; }
bool dma_guest_trace(void) { return platform.trace; }
