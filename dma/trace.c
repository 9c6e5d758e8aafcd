/* SPDX-License-Identifier: MIT */
/* trace.c - the DMA layer's narration, one line per event (see trace.h). */
#include "dma/trace.h"

#include <inttypes.h>
#include <stdio.h>

/* What a bounced map did to its slots. */
static const char *slots_filled(const struct dma_map_event *e, char *buf, size_t len)
{
    if (e->copied_in && e->zeroed)
        snprintf(buf, len, "zeroed %" PRIu64 " B of dirty slots, copied in %" PRIu64 " B", e->zeroed, e->copied_in);
    else if (e->copied_in)
        snprintf(buf, len, "copied in %" PRIu64 " B", e->copied_in);
    else if (e->zeroed)
        snprintf(buf, len, "zeroed %" PRIu64 " B of dirty slots", e->zeroed);
    else if (e->dir != DMA_TO_DEVICE && (e->attrs & DMA_ATTR_EXACT_COMPLETION))
        return "slots not zeroed: exact completion copies back only what is written";
    else if (e->dir != DMA_TO_DEVICE && e->policy != BOUNCE_NONE)
        return "slots already zero";
    else if (e->dir != DMA_TO_DEVICE)
        return "slots left as the last user left them";
    else
        return "nothing copied in (the caller syncs)";
    return buf;
}

/* What a conversion did with the contents. */
static const char *converted_contents(const struct dma_map_event *e)
{
    if (e->dir != DMA_FROM_DEVICE || e->policy == BOUNCE_COPY || (e->attrs & DMA_ATTR_PRESERVE))
        return "contents copied aside and back";
    return e->policy == BOUNCE_ZERO ? "zeroed, the original never read" : "left as the host left it";
}

void dma_trace_map(const struct dma_map_event *e)
{
    char what[80];
    printf("dma: map   %s %s %zu B  cpu %#" PRIx64, e->dev->name, dma_dir_name(e->dir), e->size, e->phys);
    switch (e->path) {
    case DMA_MAP_DIRECT: printf(" = dma %#" PRIx64 "  direct (within the device's mask)\n", e->addr); break;
    case DMA_MAP_CONVERTED:
        printf(" = dma %#" PRIx64 "  converted to shared (%s, policy %s%s)\n", e->addr, converted_contents(e),
               bounce_policy_name(e->policy), e->attrs & DMA_ATTR_PRESERVE ? ", PRESERVE" : "");
        break;
    case DMA_MAP_CONVERT_FAILED: printf(" -> FAILED: the host refused to share the pages\n"); break;
    case DMA_MAP_UNCONVERTIBLE: printf("  cannot be converted (%s): bounces\n", e->reason); break;
    case DMA_MAP_NO_POOL: printf(" -> FAILED: there is no bounce pool\n"); break;
    case DMA_MAP_POOL_FAILED: printf(" -> FAILED: %s (%u of %u slots used)\n", e->reason, e->index, e->nslots); break;
    case DMA_MAP_BOUNCED:
        printf(" -> dma %#" PRIx64 "  slots %u+%u  %s (policy %s%s)\n", e->addr, e->index, e->nslots,
               slots_filled(e, what, sizeof(what)), bounce_policy_name(e->policy),
               e->attrs & DMA_ATTR_PRESERVE               ? ", PRESERVE"
                   : e->attrs & DMA_ATTR_EXACT_COMPLETION ? ", EXACT"
                                                          : "");
        break;
    }
}

void dma_trace_unmap(const struct dma_unmap_event *e)
{
    switch (e->path) {
    case DMA_UNMAP_BOUNCED:
        printf("dma: unmap %s %s %zu B  dma %#" PRIx64 " -> cpu %#" PRIx64 "  slot %u  ", e->dev->name,
               dma_dir_name(e->dir), e->size, e->addr, e->orig, e->index);
        if (e->copied && e->exact)
            printf("copied out %" PRIu64 " B, the bytes the device wrote", e->copied);
        else if (e->copied)
            printf("copied out %" PRIu64 " B", e->copied);
        else
            printf("nothing copied out");
        if (e->cleared)
            printf(", slots cleared (%" PRIu64 " B)", e->cleared);
        printf("\n");
        break;
    case DMA_UNMAP_CONVERTED:
        printf("dma: unmap %s %s %zu B  dma %#" PRIx64 "  converted back to private (contents copied aside and back)\n",
               e->dev->name, dma_dir_name(e->dir), e->size, e->addr);
        break;
    case DMA_UNMAP_DIRECT:
        printf("dma: unmap %s %s %zu B  dma %#" PRIx64 "  direct\n", e->dev->name, dma_dir_name(e->dir), e->size,
               e->addr);
        break;
    }
}

void dma_trace_sync(const struct dma_dev *dev, dma_addr_t addr, size_t size, enum dma_data_direction dir, bool for_cpu,
                    uint64_t copied)
{
    printf("dma: %s %s %s %zu B  dma %#" PRIx64 "  %s %" PRIu64 " B\n", for_cpu ? "sync_for_cpu" : "sync_for_device",
           dev->name, dma_dir_name(dir), size, addr, copied ? (for_cpu ? "copied out" : "copied in") : "copied",
           copied);
}

void dma_trace_alloc_coherent(const struct dma_dev *dev, size_t size, const void *cpu, dma_addr_t addr)
{
    printf("dma: alloc_coherent %s %zu B  cpu %p = dma %#" PRIx64 "\n", dev->name, size, cpu, addr);
}

void dma_trace_misuse(const char *what) { printf("dma: MISUSE by %s\n", what); }

void dma_trace_stuck_shared(const struct dma_dev *dev, dma_addr_t addr)
{
    printf("dma: %s: coherent memory at %#" PRIx64 " could not be made private again: not freed\n", dev->name, addr);
}

void dma_trace_stuck_converted(uint64_t phys, uint64_t len)
{
    printf("dma: could not convert [%#" PRIx64 ", +%" PRIu64 ") back to private: it stays shared\n", phys, len);
}
