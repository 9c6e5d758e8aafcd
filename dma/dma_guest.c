/* dma_guest.c - the DMA layer's platform in the guest: identity mapping, the frame allocator,
 * the options swiotlb= and bounce_policy=, and the end-of-run counters. */
#include <stdio.h>
#include <string.h>

#include "dma/dma.h"
#include "dma/dma_guest.h"
#include "dma/dma_platform.h"
#include "kernel/options.h"
#include "kernel/panic.h"
#include "kernel/report.h"
#include "mm/mm.h"

static void *guest_phys_to_virt(uint64_t phys) { return phys_to_virt(phys); }
static uint64_t guest_virt_to_phys(const void *virt) { return virt_to_phys(virt); }

static void *guest_alloc_pages(size_t bytes, uint64_t max_phys, uint64_t *phys)
{
    uint64_t pages = ALIGN_UP(bytes, PAGE_SIZE) / PAGE_SIZE;
    /* Below 4 GiB when the limit says so; otherwise anywhere, high memory first. A limit below
     * 4 GiB that the DMA32 frame does not meet (a 24-bit ISA device) is refused below. */
    uint64_t pa = alloc_pages(max_phys < ZONE_DMA32_END ? FRAME_DMA32 : FRAME_PREFER_HIGH, pages);
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

static struct dma_platform platform = {
    .phys_to_virt = guest_phys_to_virt,
    .virt_to_phys = guest_virt_to_phys,
    .alloc_pages = guest_alloc_pages,
    .free_pages = guest_free_pages,
};

static void print_report(void)
{
    char json[1024];
    dma_stats_json(json, sizeof(json));
    printf(REPORT_PREFIX " dma %s\n", json);
}

void dma_guest_init(void)
{
    platform.trace = trace_on(TRACE_DMA);
    platform.force_bounce = kopts.swiotlb_force;
    if (dma_init(&platform, kopts.swiotlb_bytes, kopts.bounce_policy) != 0)
        panic("dma: cannot allocate a %llu KiB bounce pool below 4 GiB", (unsigned long long)(kopts.swiotlb_bytes >> 10));
    struct dma_stats s;
    dma_get_stats(&s);
    printf("dma: bounce pool %llu KiB, %llu slots of %u bytes, FROM_DEVICE policy '%s'%s\n",
           (unsigned long long)(kopts.swiotlb_bytes >> 10), (unsigned long long)s.slots_total, 2048u,
           bounce_policy_name(dma_bounce_policy()), platform.force_bounce ? ", every mapping bounces" : "");
    report_register(print_report);
}

void dma_guest_set_force_bounce(bool on) { platform.force_bounce = on; }
bool dma_guest_force_bounce(void) { return platform.force_bounce; }
void dma_guest_set_trace(bool on) { platform.trace = on; }
bool dma_guest_trace(void) { return platform.trace; }
