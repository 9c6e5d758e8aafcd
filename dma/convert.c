/* SPDX-License-Identifier: MIT */
/* convert.c - mapping by converting the buffer itself (see convert.h). */
#include "dma/convert.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dma/records.h"
#include "dma/trace.h"
#include "lib/units.h"

/* The live conversion mappings are kept in a table of records (records.h): the same checks. */
struct convert_table {
    struct dma_records records;
    uint8_t *scratch; /* one private page: the way through when a large temporary cannot be had */
};

struct convert_table *convert_table_new(void)
{
    struct convert_table *t = malloc(sizeof(*t));
    uint8_t *scratch = malloc(PAGE_SIZE);
    if (t == NULL || scratch == NULL) {
        free(t);
        free(scratch);
        return NULL;
    }
    dma_records_init(&t->records);
    t->scratch = scratch;
    return t;
}

void convert_table_free(struct convert_table *t)
{
    if (t)
        free(t->scratch);
    free(t);
}

const char *convert_unsuitable(const struct convert_table *t, const struct dma_platform *plat,
                               const struct dma_dev *dev, uint64_t phys, size_t size)
{
    if (t == NULL)
        return "no conversion table";
    if (phys % PAGE_SIZE != 0 || size % PAGE_SIZE != 0)
        return "not whole pages";
    if (dev->force_bounce)
        return "the device forces a bounce";
    if (!dma_capable(dev, phys, size))
        return "beyond the device's DMA mask";
    if (plat->share_pages == NULL || plat->unshare_pages == NULL || plat->pages_private == NULL)
        return "the platform cannot convert";
    if (!plat->pages_private(phys, size))
        return "not all private (shared already)";
    if (dma_records_full(&t->records))
        return "too many conversion mappings live";
    return NULL;
}

/* Convert [phys, phys + size) to shared (or back to private), keeping its contents when asked:
 * copied to a private temporary before the (destructive) conversion and back after it - also when
 * the host refused, so a failed conversion leaves the buffer as it was. Without the memory for a
 * temporary of the whole size, page by page through the scratch page (one call per page). */
static int convert_range(struct convert_table *t, const struct dma_platform *plat, uint64_t phys, size_t size,
                         bool to_shared, bool keep, struct dma_stats *st)
{
    int (*conv)(uint64_t, size_t) = to_shared ? plat->share_pages : plat->unshare_pages;
    uint8_t *va = plat->phys_to_virt(phys);
    int rc = 0;
    uint8_t *tmp = keep ? malloc(size) : NULL;
    if (!keep || tmp != NULL) {
        if (keep)
            memcpy(tmp, va, size);
        rc = conv(phys, size);
        st->conversions++;
        if (keep) {
            memcpy(va, tmp, size);
            st->convert_bytes_copied += 2 * (uint64_t)size;
        }
        free(tmp);
        if (rc == 0)
            st->pages_converted += size / PAGE_SIZE;
        return rc;
    }
    for (size_t off = 0; off < size; off += PAGE_SIZE) {
        memcpy(t->scratch, va + off, PAGE_SIZE);
        int r = conv(phys + off, PAGE_SIZE);
        st->conversions++;
        memcpy(va + off, t->scratch, PAGE_SIZE);
        st->convert_bytes_copied += 2 * PAGE_SIZE;
        if (r == 0)
            st->pages_converted++;
        else
            rc = r;
    }
    return rc;
}

dma_addr_t convert_map(struct convert_table *t, const struct dma_platform *plat, const struct dma_dev *dev,
                       uint64_t phys, size_t size, enum dma_data_direction dir, unsigned attrs,
                       enum bounce_policy policy, struct dma_stats *st)
{
    /* The device reads the buffer, or its untouched bytes must survive: the original is needed. */
    bool keep = dir != DMA_FROM_DEVICE || policy == BOUNCE_COPY || (attrs & DMA_ATTR_PRESERVE);
    if (keep)
        st->orig_bytes_read += size;
    if (convert_range(t, plat, phys, size, true, keep, st) != 0) {
        /* Some runs may have been converted before the refusal: take them back (their contents
         * are in place again if they were kept; otherwise there was nothing worth keeping). */
        convert_range(t, plat, phys, size, false, keep, st);
        return DMA_MAPPING_ERROR;
    }
    if (!keep && policy == BOUNCE_ZERO) {
        memset(plat->phys_to_virt(phys), 0, size);
        st->bytes_zeroed += size;
    }
    dma_records_add(&t->records, dev, phys, size, dir); /* convert_unsuitable() checked there is room */
    st->convert_maps++;
    return phys;
}

enum dma_verdict convert_unmap(struct convert_table *t, const struct dma_platform *plat, const struct dma_dev *dev,
                               dma_addr_t addr, size_t size, enum dma_data_direction dir, struct dma_stats *st,
                               char *why, size_t whylen)
{
    const struct dma_record *e = t ? dma_records_find(&t->records, addr) : NULL;
    if (e == NULL)
        return DMA_NOT_MINE;
    if (e->dev != dev) {
        snprintf(why, whylen, "unmap of %#" PRIx64 ", which %s mapped", addr, e->dev->name);
        return DMA_REFUSED;
    }
    uint64_t phys = e->addr, mapped = e->size; /* torn down as mapped, whatever the caller says */
    enum dma_verdict v = dma_records_remove(&t->records, dev, addr, size, dir, false, why, whylen);
    if (convert_range(t, plat, phys, mapped, false, true, st) != 0)
        dma_trace_stuck_converted(phys, mapped);
    return v;
}

enum dma_verdict convert_sync(const struct convert_table *t, const struct dma_dev *dev, dma_addr_t addr, size_t size,
                              enum dma_data_direction dir, char *why, size_t whylen)
{
    if (t == NULL || t->records.live == 0)
        return DMA_NOT_MINE;
    return dma_records_check_sync(&t->records, dev, addr, size, dir, why, whylen);
}
