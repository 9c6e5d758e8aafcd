/* SPDX-License-Identifier: MIT */
/* dma.h - the DMA mapping API, modelled on Linux's (Documentation/core-api/dma-api.rst).
 *
 * A driver hands a buffer to its device with dma_map_*() and gets back the address the device
 * must use; it takes the buffer back with dma_unmap_*(). In between, the buffer belongs to the
 * device: the CPU may touch it only between dma_sync_*_for_cpu() and dma_sync_*_for_device().
 *
 * When the device cannot reach the buffer (it lies above the device's DMA mask), or the device
 * or the platform forces it (a confidential guest: devices see only shared memory), the mapping
 * goes through a bounce slot in the swiotlb pool (dma/swiotlb.h), which lies below 4 GiB.
 *
 * What goes into a bounce slot at map time for DMA_FROM_DEVICE is the one place bounce differs
 * from Linux. Linux copies the original buffer into the slot, so a device that writes only part
 * of the buffer leaves the rest as it was. bounce zero-fills the slot by default and never reads
 * the original: bytes the device does not write come back as ZEROS. A mapping that needs Linux's
 * behaviour asks for it with DMA_ATTR_PRESERVE; the whole pool can be switched with
 * `bounce_policy=copy` (see enum bounce_policy and docs/bounce.md for why).
 *
 * Pure logic: the same code runs in the guest and natively in the host unit tests; the
 * platform's address translation and page allocation come from struct dma_platform.
 */
#ifndef BOUNCE_DMA_DMA_H
#define BOUNCE_DMA_DMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint64_t dma_addr_t;

/* The value every mapping function returns on failure. Callers must check with dma_mapping_error(). */
#define DMA_MAPPING_ERROR (~(dma_addr_t)0)
#define DMA_BIT_MASK(n) ((n) >= 64 ? ~0ull : ((1ull << (n)) - 1))

/* Linux's values. */
enum dma_data_direction {
    DMA_BIDIRECTIONAL = 0,
    DMA_TO_DEVICE = 1,   /* the device reads the buffer */
    DMA_FROM_DEVICE = 2, /* the device writes the buffer */
    DMA_NONE = 3,        /* never valid for a mapping */
};

/* Mapping attributes. */
/* No copy at map or unmap: the caller syncs (Linux's attribute; a slot the device may write is
 * still zeroed, see swiotlb.c). */
#define DMA_ATTR_SKIP_CPU_SYNC (1u << 0)
/* FROM_DEVICE: copy the original into the bounce slot, so bytes the device does not write keep
 * their old value (Linux's default behaviour, opt-in here). */
#define DMA_ATTR_PRESERVE (1u << 1)
/* The driver promises to complete the mapping with dma_unmap_*_written(), i.e. to say how many
 * bytes the device wrote. Only those are copied back, so the slot need not be zeroed for the
 * device: under the zero policy the map touches no byte and the unmap costs one memcpy of what
 * was written (swiotlb.h says why that is safe). Completing it without a length is misuse. */
#define DMA_ATTR_EXACT_COMPLETION (1u << 2)

/* What a FROM_DEVICE bounce slot holds before the device writes it. */
enum bounce_policy {
    BOUNCE_ZERO = 0, /* zero the slot; the original is never read (default) */
    BOUNCE_COPY = 1, /* copy the original into the slot (Linux's swiotlb today) */
    BOUNCE_NONE = 2, /* leave the slot as the previous user left it: leaks, teaching only */
};

struct dma_dev {
    const char *name;
    uint64_t dma_mask;          /* highest address the device can reach for streaming DMA */
    uint64_t coherent_mask;     /* ... and for dma_alloc_coherent() memory (0: same as dma_mask) */
    uint64_t seg_boundary_mask; /* a segment must not cross a (mask + 1) boundary; 0: no limit */
    uint32_t max_segment_size;  /* largest single mapping the device takes; 0: no limit */
    uint32_t min_align_mask;    /* address bits a bounce must preserve (Linux min_align_mask) */
    bool force_bounce;          /* bounce every mapping, reachable or not */
};

/* A scatter-gather entry: a physically contiguous piece of a request. */
struct scatterlist {
    uint64_t phys;
    uint32_t length;
    dma_addr_t dma_address; /* set by dma_map_sg() */
    uint32_t dma_length;
};

/* Counters over all devices since boot (or since dma_stats_reset()), declared once: the struct,
 * the JSON report (dma_stats_json) and the host test that checks the report are made from this
 * list, in this order. X(name, what it counts). */
#define DMA_STATS(X)                                                                        \
    X(maps, "streaming mappings made")                                                      \
    X(unmaps, "streaming mappings torn down")                                               \
    X(bounced_maps, "mappings that went through a bounce slot")                             \
    X(bytes_mapped, "bytes in all mappings")                                                \
    X(bytes_bounced, "bytes in bounced mappings")                                           \
    X(bytes_copied_in, "original -> slot (map, sync_for_device)")                           \
    X(bytes_copied_out, "slot -> original (unmap, sync_for_cpu)")                           \
    X(bytes_zeroed, "slot bytes zeroed: dirty slots at map, cleared slots at unmap")        \
    X(orig_bytes_read, "bytes of original buffers the DMA layer read")                      \
    X(syncs_for_cpu, "dma_sync_*_for_cpu calls")                                            \
    X(syncs_for_device, "dma_sync_*_for_device calls")                                      \
    X(slots_in_use, "bounce slots held by live mappings (read from the pool)")              \
    X(slots_high_water, "most slots held at once")                                          \
    X(slots_total, "slots in the pool")                                                     \
    X(map_failures, "could not bounce: pool full, too large, or unreachable by the device") \
    X(misuse, "API misuse detected (see dma_last_misuse())")                                \
    X(coherent_allocs, "dma_alloc_coherent calls that succeeded")                           \
    X(coherent_frees, "dma_free_coherent calls")                                            \
    /* The confidential guest's cc_io=convert path (dma/convert.h); all 0 otherwise. */     \
    X(convert_maps, "mappings made by converting the buffer itself to shared")              \
    X(convert_fallbacks, "mappings that could not be converted and bounced instead")        \
    X(conversions, "share/unshare calls the convert path made (map and unmap)")             \
    X(pages_converted, "pages those calls converted, both ways")                            \
    X(convert_bytes_copied, "bytes copied aside and back around the conversions")           \
    /* Exact completion (dma_unmap_*_written). */                                           \
    X(exact_unmaps, "mappings completed with the number of bytes the device wrote")         \
    X(bytes_not_written, "of those, bytes the device did not write: left alone in the original")

struct dma_stats {
#define DMA_STATS_FIELD(name, what) uint64_t name;
    DMA_STATS(DMA_STATS_FIELD)
#undef DMA_STATS_FIELD
};

static inline bool dma_mapping_error(const struct dma_dev *dev, dma_addr_t addr)
{
    (void)dev;
    return addr == DMA_MAPPING_ERROR;
}

/* Streaming mappings of a CPU buffer (virtual address), of a page (physical address + offset),
 * and of a scatter-gather list. Each unmap has an exact form, below. */
dma_addr_t dma_map_single_attrs(struct dma_dev *dev, void *cpu_addr, size_t size, enum dma_data_direction dir,
                                unsigned attrs);
void dma_unmap_single_attrs(struct dma_dev *dev, dma_addr_t addr, size_t size, enum dma_data_direction dir,
                            unsigned attrs);
dma_addr_t dma_map_page_attrs(struct dma_dev *dev, uint64_t page_phys, size_t offset, size_t size,
                              enum dma_data_direction dir, unsigned attrs);
void dma_unmap_page_attrs(struct dma_dev *dev, dma_addr_t addr, size_t size, enum dma_data_direction dir,
                          unsigned attrs);

static inline dma_addr_t dma_map_single(struct dma_dev *dev, void *cpu_addr, size_t size, enum dma_data_direction dir)
{
    return dma_map_single_attrs(dev, cpu_addr, size, dir, 0);
}
static inline void dma_unmap_single(struct dma_dev *dev, dma_addr_t addr, size_t size, enum dma_data_direction dir)
{
    dma_unmap_single_attrs(dev, addr, size, dir, 0);
}
static inline dma_addr_t dma_map_page(struct dma_dev *dev, uint64_t page_phys, size_t offset, size_t size,
                                      enum dma_data_direction dir)
{
    return dma_map_page_attrs(dev, page_phys, offset, size, dir, 0);
}
static inline void dma_unmap_page(struct dma_dev *dev, dma_addr_t addr, size_t size, enum dma_data_direction dir)
{
    dma_unmap_page_attrs(dev, addr, size, dir, 0);
}

/* Map every entry; returns nents, or 0 after undoing the entries already mapped. */
int dma_map_sg_attrs(struct dma_dev *dev, struct scatterlist *sg, int nents, enum dma_data_direction dir,
                     unsigned attrs);
void dma_unmap_sg_attrs(struct dma_dev *dev, struct scatterlist *sg, int nents, enum dma_data_direction dir,
                        unsigned attrs);
static inline int dma_map_sg(struct dma_dev *dev, struct scatterlist *sg, int nents, enum dma_data_direction dir)
{
    return dma_map_sg_attrs(dev, sg, nents, dir, 0);
}
static inline void dma_unmap_sg(struct dma_dev *dev, struct scatterlist *sg, int nents, enum dma_data_direction dir)
{
    dma_unmap_sg_attrs(dev, sg, nents, dir, 0);
}

/* Exact completion: unmap, knowing that the device wrote `written` bytes from the start of the
 * mapping (virtio's used length, virtio 1.2 2.7.8; an IDE bus-master transfer that ended without
 * error covers its whole PRD table). Only those bytes are copied back from a bounce slot; the
 * rest of the original is neither read nor written - what hardware that writes less than the
 * buffer does - and the cost is one memcpy of what was written, under every policy. For a
 * scatterlist, `written` is a total that fills the entries in order. More than was mapped is
 * clamped to the mapping and counted as misuse (a device's or driver's lie cannot make the guest
 * copy more), and so is any byte "written" into a TO_DEVICE mapping. A buffer mapped by
 * conversion (cc_io=convert) is completed whole: the conversion already replaced its contents. */
void dma_unmap_single_written(struct dma_dev *dev, dma_addr_t addr, size_t size, enum dma_data_direction dir,
                              size_t written);
void dma_unmap_page_written(struct dma_dev *dev, dma_addr_t addr, size_t size, enum dma_data_direction dir,
                            size_t written);
void dma_unmap_sg_written(struct dma_dev *dev, struct scatterlist *sg, int nents, enum dma_data_direction dir,
                          size_t written);

/* Ownership transfers inside a live mapping, Linux semantics: for_cpu copies slot -> original
 * for FROM_DEVICE and BIDIRECTIONAL; for_device copies original -> slot for TO_DEVICE and
 * BIDIRECTIONAL. [addr, addr + size) must lie inside one live mapping. */
void dma_sync_single_for_cpu(struct dma_dev *dev, dma_addr_t addr, size_t size, enum dma_data_direction dir);
void dma_sync_single_for_device(struct dma_dev *dev, dma_addr_t addr, size_t size, enum dma_data_direction dir);
void dma_sync_sg_for_cpu(struct dma_dev *dev, struct scatterlist *sg, int nents, enum dma_data_direction dir);
void dma_sync_sg_for_device(struct dma_dev *dev, struct scatterlist *sg, int nents, enum dma_data_direction dir);

/* Zeroed memory both the CPU and the device may access at any time (rings, descriptors), within
 * the device's coherent mask; shared with the host in a confidential guest. */
void *dma_alloc_coherent(struct dma_dev *dev, size_t size, dma_addr_t *handle);
void dma_free_coherent(struct dma_dev *dev, size_t size, void *cpu_addr, dma_addr_t handle);

/* Size of the bounce pool (0 if there is none). */
size_t dma_bounce_pool_bytes(void);
/* Bytes of the bounce pool held by live mappings now (0: the whole pool is free, so a mapping
 * that fails now can never succeed). */
size_t dma_bounce_bytes_in_use(void);
/* The largest single mapping that can bounce (Linux: dma_max_mapping_size()). */
size_t dma_max_mapping_size(const struct dma_dev *dev);
/* True if the device can reach [phys, phys + size) directly (inline, as in Linux's dma-direct.h:
 * every file of dma/ asks it, and it depends on nothing). */
static inline bool dma_capable(const struct dma_dev *dev, uint64_t phys, size_t size)
{
    uint64_t last = phys + size - 1;
    return size > 0 && last >= phys && last <= dev->dma_mask;
}

enum bounce_policy dma_bounce_policy(void);
void dma_set_bounce_policy(enum bounce_policy p);
const char *bounce_policy_name(enum bounce_policy p);
/* The policies' names in enum order, NULL-ended: bounce_policy='s choices. */
extern const char *const bounce_policy_names[];
const char *dma_dir_name(enum dma_data_direction dir);

void dma_get_stats(struct dma_stats *out);
void dma_stats_reset(void);
/* The counters as one JSON object (no newline). Returns the length, as snprintf. */
int dma_stats_json(char *buf, size_t size);
/* The message of the most recent misuse, "" if none. */
const char *dma_last_misuse(void);

#endif
