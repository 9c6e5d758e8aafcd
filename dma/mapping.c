/* SPDX-License-Identifier: MIT */
/* mapping.c - the DMA API (dma.h): decide direct or bounce, keep the books, narrate.
 *
 * A streaming mapping is direct when the device reaches the whole buffer (it lies within the
 * device's DMA mask) and nothing forces a bounce; it then costs nothing but a record for misuse
 * checks. Otherwise it goes through the swiotlb pool - or, in a confidential guest with
 * cc_io=convert, converts its own pages to shared when it can (dma/convert.h). The DMA address
 * is the physical address: there is no IOMMU, and in this guest's confidential mode shared and
 * private memory differ by page attributes, not by an address bit.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dma/convert.h"
#include "dma/dma.h"
#include "dma/records.h"
#include "dma/dma_internal.h"
#include "dma/dma_platform.h"
#include "dma/swiotlb.h"
#include "dma/trace.h"
#include "lib/json.h"
#include "lib/units.h"

static const struct dma_platform *plat;
static struct swiotlb_pool pool_storage;
static struct swiotlb_pool *pool; /* NULL until dma_init() sets one up */
static void *pool_virt, *pool_meta;
static size_t pool_bytes;
static struct dma_records *records;
static struct convert_table *convtab; /* NULL unless the platform converts */
static struct dma_stats stats;
static enum bounce_policy policy = BOUNCE_ZERO;
static char last_misuse[256];

struct swiotlb_pool *dma_installed_pool(void) { return pool; }

enum bounce_policy dma_bounce_policy(void) { return policy; }
void dma_set_bounce_policy(enum bounce_policy p) { policy = p; }

int dma_init(const struct dma_platform *platform, size_t bytes, int initial_policy)
{
    plat = platform;
    policy = (enum bounce_policy)initial_policy;
    memset(&stats, 0, sizeof(stats));
    last_misuse[0] = '\0';
    records = malloc(sizeof(*records));
    if (records == NULL)
        return -1;
    dma_records_init(records);
    /* The table of conversion mappings, whenever the platform can convert (so tests can switch
     * the convert path on and off at run time). */
    if ((plat->convert || plat->pages_private) && (convtab = convert_table_new()) == NULL) {
        dma_shutdown();
        return -1;
    }
    if (bytes == 0)
        return 0; /* no bounce pool: every mapping must be direct */
    uint64_t phys;
    pool_virt = plat->alloc_pages(bytes, DMA_BIT_MASK(32), &phys);
    pool_bytes = bytes;
    pool_meta = malloc(swiotlb_meta_bytes(bytes));
    if (pool_virt == NULL || pool_meta == NULL ||
        swiotlb_pool_init(&pool_storage, pool_virt, phys, bytes, pool_meta, swiotlb_meta_bytes(bytes),
                          plat->phys_to_virt) != 0) {
        dma_shutdown();
        return -1;
    }
    if (plat->share_pages) {
        if (plat->share_pages(phys, bytes) != 0) {
            dma_shutdown();
            return -1;
        }
        /* A conversion leaves the contents undefined; the pool's clean-slot marks say zero. */
        memset(pool_virt, 0, bytes);
    }
    pool = &pool_storage;
    stats.slots_total = pool->nslots;
    return 0;
}

void dma_shutdown(void)
{
    if (pool_virt)
        plat->free_pages(pool_virt, pool_bytes);
    free(pool_meta);
    free(records);
    convert_table_free(convtab);
    convtab = NULL;
    pool = NULL;
    pool_virt = pool_meta = NULL;
    records = NULL;
    pool_bytes = 0;
}

static void __attribute__((format(printf, 2, 3))) misuse(const struct dma_dev *dev, const char *fmt, ...)
{
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    snprintf(last_misuse, sizeof(last_misuse), "%s: %s", dev ? dev->name : "?", msg);
    stats.misuse++;
    dma_trace_misuse(last_misuse);
}

const char *dma_last_misuse(void) { return last_misuse; }

size_t dma_bounce_pool_bytes(void) { return pool ? pool_bytes : 0; }

size_t dma_bounce_bytes_in_use(void) { return pool ? (size_t)pool->used_slots * SWIOTLB_SLOT_SIZE : 0; }

size_t dma_max_mapping_size(const struct dma_dev *dev)
{
    size_t max = (size_t)SWIOTLB_MAX_MAPPING_SLOTS * SWIOTLB_SLOT_SIZE;
    if (dev->min_align_mask) { /* the preserved offset eats into the first slot */
        size_t lost = ((size_t)dev->min_align_mask + SWIOTLB_SLOT_SIZE) & ~(size_t)(SWIOTLB_SLOT_SIZE - 1);
        max = lost < max ? max - lost : 0;
    }
    if (dev->max_segment_size && dev->max_segment_size < max)
        max = dev->max_segment_size;
    return max;
}

static bool must_bounce(const struct dma_dev *dev, uint64_t phys, size_t size)
{
    return plat->force_bounce || dev->force_bounce || !dma_capable(dev, phys, size);
}

static bool valid_dir(enum dma_data_direction dir)
{
    return dir == DMA_BIDIRECTIONAL || dir == DMA_TO_DEVICE || dir == DMA_FROM_DEVICE;
}

/* Where a mapping went, as place() decided: what the narration needs beyond the arguments. */
struct map_outcome {
    enum dma_map_path path;
    const char *unconvertible;    /* set: conversion was tried and refused for this reason first */
    struct swiotlb_map_info info; /* BOUNCED, POOL_FAILED */
};

/* Map [phys, phys + size) for dev: directly, by conversion, or through the bounce pool. */
static dma_addr_t place(struct dma_dev *dev, uint64_t phys, size_t size, enum dma_data_direction dir, unsigned attrs,
                        struct map_outcome *o)
{
    o->unconvertible = NULL;
    if (!must_bounce(dev, phys, size)) {
        dma_records_add(records, dev, phys, size, dir);
        stats.maps++;
        stats.bytes_mapped += size;
        o->path = DMA_MAP_DIRECT;
        return phys;
    }
    if (plat->convert) {
        o->unconvertible = convert_unsuitable(convtab, plat, dev, phys, size);
        if (o->unconvertible == NULL) {
            dma_addr_t a = convert_map(convtab, plat, dev, phys, size, dir, attrs, policy, &stats);
            if (a == DMA_MAPPING_ERROR) {
                stats.map_failures++;
                o->path = DMA_MAP_CONVERT_FAILED;
                return DMA_MAPPING_ERROR;
            }
            stats.maps++;
            stats.bytes_mapped += size;
            o->path = DMA_MAP_CONVERTED;
            return a;
        }
        stats.convert_fallbacks++;
    }
    if (pool == NULL) {
        stats.map_failures++;
        o->path = DMA_MAP_NO_POOL;
        return DMA_MAPPING_ERROR;
    }
    dma_addr_t addr = swiotlb_tbl_map_single(pool, dev, phys, size, dir, attrs, policy, &stats, &o->info);
    if (addr == DMA_MAPPING_ERROR) {
        stats.map_failures++;
        o->path = DMA_MAP_POOL_FAILED;
        return DMA_MAPPING_ERROR;
    }
    stats.maps++;
    stats.bounced_maps++;
    stats.bytes_mapped += size;
    stats.bytes_bounced += size; /* slots_in_use and slots_high_water: read from the pool by dma_get_stats() */
    o->path = DMA_MAP_BOUNCED;
    return addr;
}

/* The trace=dma lines of a map: built only when narrated, so an untraced map pays one test. */
static void narrate_map(const struct dma_dev *dev, uint64_t phys, size_t size, enum dma_data_direction dir,
                        unsigned attrs, dma_addr_t addr, const struct map_outcome *o)
{
    struct dma_map_event e = {.path = o->path,
                              .dev = dev,
                              .dir = dir,
                              .size = size,
                              .phys = phys,
                              .addr = addr,
                              .attrs = attrs,
                              .policy = policy};
    if (o->unconvertible) {
        struct dma_map_event u = e;
        u.path = DMA_MAP_UNCONVERTIBLE;
        u.reason = o->unconvertible;
        dma_trace_map(&u);
    }
    if (o->path == DMA_MAP_BOUNCED) {
        e.index = o->info.index;
        e.nslots = o->info.nslots;
        e.copied_in = o->info.copied_in;
        e.zeroed = o->info.zeroed;
    } else if (o->path == DMA_MAP_POOL_FAILED) {
        e.reason = swiotlb_error_name(o->info.error);
        e.index = pool->used_slots;
        e.nslots = pool->nslots;
    }
    dma_trace_map(&e);
}

static dma_addr_t map_phys(struct dma_dev *dev, uint64_t phys, size_t size, enum dma_data_direction dir, unsigned attrs)
{
    if (!valid_dir(dir)) {
        misuse(dev, "map of %#" PRIx64 " with direction %s", phys, dma_dir_name(dir));
        return DMA_MAPPING_ERROR;
    }
    if (size == 0) {
        misuse(dev, "map of 0 bytes at %#" PRIx64, phys);
        return DMA_MAPPING_ERROR;
    }
    if (dev->max_segment_size && size > dev->max_segment_size) {
        misuse(dev, "map of %zu bytes at %#" PRIx64 ", more than the device's %u-byte segments", size, phys,
               dev->max_segment_size);
        return DMA_MAPPING_ERROR;
    }
    struct map_outcome o;
    dma_addr_t addr = place(dev, phys, size, dir, attrs, &o);
    /* A refused conversion is reported whether traced or not. */
    if (plat->trace || o.path == DMA_MAP_CONVERT_FAILED)
        narrate_map(dev, phys, size, dir, attrs, addr, &o);
    return addr;
}

/* Report a verdict that is not DMA_OK as misuse; true if the mapping was torn down all the same. */
static bool torn_down(struct dma_dev *dev, enum dma_verdict v, const char *why)
{
    if (v != DMA_OK)
        misuse(dev, "%s", why);
    return v == DMA_OK || v == DMA_MISMATCH;
}

/* The trace=dma line of an unmap. */
static void narrate_unmap(const struct dma_dev *dev, dma_addr_t addr, size_t size, enum dma_data_direction dir,
                          size_t written, enum dma_unmap_path path, const struct swiotlb_unmap_info *info)
{
    struct dma_unmap_event e = {.path = path, .dev = dev, .dir = dir, .size = size, .addr = addr};
    if (path == DMA_UNMAP_BOUNCED) {
        e.size = info->mapped;
        e.orig = info->orig_phys;
        e.index = info->index;
        e.exact = written != SWIOTLB_WRITTEN_ALL;
        e.copied = info->copied;
        e.cleared = info->cleared;
    }
    dma_trace_unmap(&e);
}

/* written: bytes the device wrote from the start of the mapping, or SWIOTLB_WRITTEN_ALL. */
static void unmap_addr(struct dma_dev *dev, dma_addr_t addr, size_t size, enum dma_data_direction dir, unsigned attrs,
                       size_t written)
{
    char why[200];
    struct swiotlb_unmap_info info;
    enum dma_unmap_path path;
    if (swiotlb_contains(pool, addr)) {
        path = DMA_UNMAP_BOUNCED;
        if (!torn_down(
                dev,
                swiotlb_tbl_unmap_written(pool, dev, addr, size, dir, attrs, written, &stats, &info, why, sizeof(why)),
                why))
            return;
    } else {
        enum dma_verdict v = convert_unmap(convtab, plat, dev, addr, size, dir, &stats, why, sizeof(why));
        path = DMA_UNMAP_CONVERTED;
        if (v == DMA_NOT_MINE) {
            path = DMA_UNMAP_DIRECT;
            v = dma_records_remove(records, dev, addr, size, dir, false, why, sizeof(why));
        }
        if (!torn_down(dev, v, why))
            return;
    }
    stats.unmaps++;
    if (plat->trace) /* built only when narrated: an untraced unmap pays one test */
        narrate_unmap(dev, addr, size, dir, written, path, &info);
}

dma_addr_t dma_map_single_attrs(struct dma_dev *dev, void *cpu_addr, size_t size, enum dma_data_direction dir,
                                unsigned attrs)
{
    return map_phys(dev, plat->virt_to_phys(cpu_addr), size, dir, attrs);
}

void dma_unmap_single_attrs(struct dma_dev *dev, dma_addr_t addr, size_t size, enum dma_data_direction dir,
                            unsigned attrs)
{
    unmap_addr(dev, addr, size, dir, attrs, SWIOTLB_WRITTEN_ALL);
}

dma_addr_t dma_map_page_attrs(struct dma_dev *dev, uint64_t page_phys, size_t offset, size_t size,
                              enum dma_data_direction dir, unsigned attrs)
{
    return map_phys(dev, page_phys + offset, size, dir, attrs);
}

void dma_unmap_page_attrs(struct dma_dev *dev, dma_addr_t addr, size_t size, enum dma_data_direction dir,
                          unsigned attrs)
{
    unmap_addr(dev, addr, size, dir, attrs, SWIOTLB_WRITTEN_ALL);
}

int dma_map_sg_attrs(struct dma_dev *dev, struct scatterlist *sg, int nents, enum dma_data_direction dir,
                     unsigned attrs)
{
    for (int i = 0; i < nents; i++) {
        sg[i].dma_address = map_phys(dev, sg[i].phys, sg[i].length, dir, attrs);
        sg[i].dma_length = sg[i].length;
        if (sg[i].dma_address == DMA_MAPPING_ERROR) {
            /* Undo what was mapped; the device never saw it, so there is nothing to copy back. */
            for (int k = 0; k < i; k++)
                unmap_addr(dev, sg[k].dma_address, sg[k].length, dir, attrs | DMA_ATTR_SKIP_CPU_SYNC,
                           SWIOTLB_WRITTEN_ALL);
            return 0;
        }
    }
    return nents;
}

void dma_unmap_sg_attrs(struct dma_dev *dev, struct scatterlist *sg, int nents, enum dma_data_direction dir,
                        unsigned attrs)
{
    for (int i = 0; i < nents; i++)
        unmap_addr(dev, sg[i].dma_address, sg[i].length, dir, attrs, SWIOTLB_WRITTEN_ALL);
}

/* ---- exact completion ---- */

/* What the device says it wrote, as far as it can be believed: at most the mapping (more is the
 * driver's or the device's lie: clamped, and counted as misuse), nothing into a TO_DEVICE one. */
static size_t written_within(struct dma_dev *dev, dma_addr_t addr, size_t size, enum dma_data_direction dir,
                             size_t written)
{
    if (dir == DMA_TO_DEVICE && written) {
        misuse(dev, "unmap of %#" PRIx64 ": %zu bytes written into a TO_DEVICE mapping", addr, written);
        return 0;
    }
    if (written > size) {
        misuse(dev, "unmap of %#" PRIx64 ": %zu bytes written into a %zu-byte mapping (clamped)", addr, written, size);
        return size;
    }
    return written;
}

/* One mapping completed exactly; w already within it (written_within). */
static void unmap_exact(struct dma_dev *dev, dma_addr_t addr, size_t size, enum dma_data_direction dir, size_t w)
{
    stats.exact_unmaps++;
    if (dir != DMA_TO_DEVICE)
        stats.bytes_not_written += size - w;
    unmap_addr(dev, addr, size, dir, 0, w);
}

void dma_unmap_single_written(struct dma_dev *dev, dma_addr_t addr, size_t size, enum dma_data_direction dir,
                              size_t written)
{
    unmap_exact(dev, addr, size, dir, written_within(dev, addr, size, dir, written));
}

void dma_unmap_page_written(struct dma_dev *dev, dma_addr_t addr, size_t size, enum dma_data_direction dir,
                            size_t written)
{
    unmap_exact(dev, addr, size, dir, written_within(dev, addr, size, dir, written));
}

void dma_unmap_sg_written(struct dma_dev *dev, struct scatterlist *sg, int nents, enum dma_data_direction dir,
                          size_t written)
{
    size_t total = 0;
    for (int i = 0; i < nents; i++)
        total += sg[i].length;
    size_t left = written_within(dev, nents ? sg[0].dma_address : 0, total, dir, written);
    for (int i = 0; i < nents; i++) {
        size_t w = left < sg[i].length ? left : sg[i].length; /* the entries are filled in order */
        left -= w;
        unmap_exact(dev, sg[i].dma_address, sg[i].length, dir, w);
    }
}

static void sync(struct dma_dev *dev, dma_addr_t addr, size_t size, enum dma_data_direction dir, bool for_cpu)
{
    char why[200];
    uint64_t copied = 0;
    const char *what = for_cpu ? "sync_for_cpu" : "sync_for_device";
    enum dma_verdict v;
    if (size == 0) {
        misuse(dev, "%s of 0 bytes at %#" PRIx64, what, addr);
        return;
    }
    if (swiotlb_contains(pool, addr)) {
        const struct dma_dev *owner = swiotlb_mapping_dev(pool, addr);
        if (owner != NULL && owner != dev) {
            misuse(dev, "%s of %#" PRIx64 ", which %s mapped", what, addr, owner->name);
            return;
        }
        v = swiotlb_sync_single(pool, addr, size, dir, for_cpu, &stats, &copied, why, sizeof(why));
    } else if ((v = convert_sync(convtab, dev, addr, size, dir, why, sizeof(why))) != DMA_NOT_MINE) {
        /* a converted buffer: the device and the CPU share the pages, nothing to copy */
    } else {
        v = dma_records_check_sync(records, dev, addr, size, dir, why, sizeof(why)); /* coherent: nothing to copy */
    }
    if (v != DMA_OK) { /* the last table asked: not in it (DMA_NOT_MINE) is misuse too */
        misuse(dev, "%s", why);
        return;
    }
    if (for_cpu)
        stats.syncs_for_cpu++;
    else
        stats.syncs_for_device++;
    if (plat->trace)
        dma_trace_sync(dev, addr, size, dir, for_cpu, copied);
}

void dma_sync_single_for_cpu(struct dma_dev *dev, dma_addr_t addr, size_t size, enum dma_data_direction dir)
{
    sync(dev, addr, size, dir, true);
}

void dma_sync_single_for_device(struct dma_dev *dev, dma_addr_t addr, size_t size, enum dma_data_direction dir)
{
    sync(dev, addr, size, dir, false);
}

void dma_sync_sg_for_cpu(struct dma_dev *dev, struct scatterlist *sg, int nents, enum dma_data_direction dir)
{
    for (int i = 0; i < nents; i++)
        sync(dev, sg[i].dma_address, sg[i].dma_length, dir, true);
}

void dma_sync_sg_for_device(struct dma_dev *dev, struct scatterlist *sg, int nents, enum dma_data_direction dir)
{
    for (int i = 0; i < nents; i++)
        sync(dev, sg[i].dma_address, sg[i].dma_length, dir, false);
}

static size_t page_round(size_t size) { return (size_t)ALIGN_UP(size, PAGE_SIZE); }

void *dma_alloc_coherent(struct dma_dev *dev, size_t size, dma_addr_t *handle)
{
    uint64_t mask = dev->coherent_mask ? dev->coherent_mask : dev->dma_mask, phys;
    if (size == 0) {
        misuse(dev, "dma_alloc_coherent of 0 bytes");
        return NULL;
    }
    void *p = plat->alloc_pages(page_round(size), mask, &phys);
    if (p == NULL)
        return NULL;
    if (plat->share_pages) {
        if (plat->share_pages(phys, page_round(size)) != 0) {
            /* Runs before the refusal may be shared now: take them back before the frames return
             * to the allocator, or keep the frames out of it if even that is refused. */
            if (plat->unshare_pages == NULL || plat->unshare_pages(phys, page_round(size)) == 0)
                plat->free_pages(p, page_round(size));
            return NULL;
        }
        memset(p, 0, page_round(size)); /* a conversion leaves the contents undefined: zeroed is the promise */
    }
    stats.coherent_allocs++;
    dma_records_add(records, dev, phys, page_round(size), DMA_NONE); /* DMA_NONE marks a coherent buffer */
    *handle = phys;
    if (plat->trace)
        dma_trace_alloc_coherent(dev, size, p, phys);
    return p;
}

void dma_free_coherent(struct dma_dev *dev, size_t size, void *cpu_addr, dma_addr_t handle)
{
    char why[200];
    if (cpu_addr == NULL || plat->virt_to_phys(cpu_addr) != handle) {
        misuse(dev, "dma_free_coherent of %p with handle %#" PRIx64 " that do not belong together", cpu_addr, handle);
        return;
    }
    if (dma_records_remove(records, dev, handle, page_round(size), DMA_NONE, true, why, sizeof(why)) != DMA_OK) {
        misuse(dev, "dma_free_coherent: %s", why); /* not allocated (a double free), or another size */
        return;
    }
    /* Back to private before the frames return to the allocator, whose next user may keep secrets
     * in them. Frames the host would not take back stay out of the allocator: shared for good. */
    if (plat->unshare_pages && plat->unshare_pages(handle, page_round(size)) != 0) {
        dma_trace_stuck_shared(dev, handle);
        stats.coherent_frees++;
        return;
    }
    plat->free_pages(cpu_addr, page_round(size));
    stats.coherent_frees++;
}

void dma_get_stats(struct dma_stats *out)
{
    if (pool) {
        stats.slots_in_use = pool->used_slots;
        stats.slots_high_water = pool->high_water;
    }
    *out = stats;
}

void dma_stats_reset(void)
{
    memset(&stats, 0, sizeof(stats));
    if (pool) {
        pool->high_water = pool->used_slots;
        stats.slots_total = pool->nslots;
    }
}

int dma_stats_json(char *buf, size_t size)
{
    struct dma_stats s;
    struct json_writer w;
    dma_get_stats(&s);
    json_begin(&w, buf, size);
    json_str(&w, "policy", bounce_policy_name(policy));
    json_u64(&w, "pool_bytes", pool_bytes);
#define DMA_STATS_JSON(name, what) json_u64(&w, #name, s.name);
    DMA_STATS(DMA_STATS_JSON)
#undef DMA_STATS_JSON
    return (int)json_end(&w);
}
