/* SPDX-License-Identifier: MIT */
/* virtio_blk_cfg.h - what a virtio-blk device's configuration means for the driver: the queue
 * size, the logical block size and the request limits given to the block layer (virtio 1.2 5.2.4
 * "Device configuration layout", 5.2.5 "Device Initialization"). Pure logic, host-tested
 * (tests/host/test_virtio_blk_cfg.c); the driver reads the fields (virtio_blk_probe.c).
 *
 * Each field is taken for what the spec says it is, and a value the driver can live with is
 * accepted rather than refused:
 *  - size_max (largest data descriptor): 0 states no limit (qemu-storage-daemon's vhost-user-blk
 *    export offers SIZE_MAX with 0; Linux then keeps its default segment size). A limit below a
 *    sector is fine too: descriptors need not hold whole sectors; refused only when one block
 *    would need more descriptors than a request may use.
 *  - seg_max (data descriptors per request): 0 states nothing usable; taken as 1, as Linux does
 *    ("we need at least one SG element, whatever they say").
 *  - blk_size: the logical block size. 5.2.5 calls it advice, but devices enforce it (QEMU fails
 *    a request not aligned to its logical_block_size), so it becomes the block layer's
 *    block_size. Not a power of two in 512..4096 is not a block size at all: ignored, 512 kept.
 *    A power of two larger than a page is real but unusable here (the page cache reads pages).
 *  - capacity (512-byte sectors): 0 is an empty disk; a byte count beyond 64 bits is refused.
 * Fields of features the driver does not accept (geometry, topology, writeback, num_queues,
 * discard, write zeroes, zoned) are not read.
 */
#ifndef BOUNCE_DRIVERS_VIRTIO_BLK_CFG_H
#define BOUNCE_DRIVERS_VIRTIO_BLK_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VBLK_QSIZE_MIN 256u  /* ring entries we ask for at least (if the device has them) */
#define VBLK_QSIZE_MAX 1024u /* and at most */

/* What the device said, and what the driver brings. */
struct vblk_cfg {
    bool has_size_max, has_seg_max, has_blk_size; /* the features negotiated */
    uint64_t capacity;                            /* 512-byte sectors */
    uint32_t size_max, seg_max, blk_size;         /* as read (meaningless without the feature) */
    uint32_t device_qmax;                         /* the request queue's maximum size (0: no queue) */
    uint32_t depth;                               /* requests the driver keeps in flight */
    uint64_t map_max;                             /* the largest single DMA mapping (dma_max_mapping_size) */
    uint32_t max_block_size;                      /* largest logical block the block layer takes */
    uint32_t max_request_bytes;                   /* largest request the block layer sends */
    uint32_t max_segments;                        /* segments per request the block layer can send */
};

/* What follows from it. */
struct vblk_limits {
    uint32_t qsize;        /* ring entries: a power of 2 (2.7) */
    uint32_t block_size;   /* logical block: blk_size, or 512 */
    uint32_t piece_max;    /* bytes per data descriptor */
    uint32_t seg_limit;    /* data descriptors per request */
    uint32_t max_sectors;  /* per request, a multiple of the block */
    uint32_t max_segments; /* per request: with max_sectors, never more than seg_limit pieces */
};

/* Returns 0, or -1 with why the device cannot be used in why. */
int vblk_cfg_limits(const struct vblk_cfg *cfg, struct vblk_limits *out, char *why, size_t whylen);

/* "size_max 0 (no limit), seg_max 126, blk_size 512": each field and what was made of it. */
void vblk_cfg_describe(const struct vblk_cfg *cfg, const struct vblk_limits *lim, char *buf, size_t len);

#endif
