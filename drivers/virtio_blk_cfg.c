/* SPDX-License-Identifier: MIT */
/* virtio_blk_cfg.c - a virtio-blk configuration and the limits that follow (see the header). */
#include "drivers/virtio_blk_cfg.h"

#include <inttypes.h>
#include <stdio.h>

#include "drivers/blk.h"

#define SECTOR SECTOR_SIZE

static uint32_t pow2_floor(uint32_t v)
{
    uint32_t p = 1;
    while (p <= v / 2)
        p *= 2;
    return p;
}

static uint32_t pow2_ceil(uint32_t v)
{
    uint32_t p = 1;
    while (p < v)
        p *= 2;
    return p;
}

static bool is_pow2(uint32_t v) { return v != 0 && (v & (v - 1)) == 0; }

int vblk_cfg_limits(const struct vblk_cfg *c, struct vblk_limits *out, char *why, size_t whylen)
{
    *out = (struct vblk_limits){0};
    if (c->capacity > UINT64_MAX / SECTOR) {
        snprintf(why, whylen, "capacity of %" PRIu64 " sectors: its size in bytes does not fit in 64 bits",
                 c->capacity);
        return -1;
    }
    out->block_size = SECTOR;
    if (c->has_blk_size && is_pow2(c->blk_size) && c->blk_size > c->max_block_size) {
        snprintf(why, whylen, "logical block size %u is larger than a page: the page cache reads %u-byte pages",
                 c->blk_size, c->max_block_size);
        return -1;
    }
    if (c->has_blk_size && is_pow2(c->blk_size) && c->blk_size >= SECTOR)
        out->block_size = c->blk_size;

    /* The queue: room for depth requests of a few descriptors each (a big request just waits
     * for room), within what the device has, a power of 2. */
    if (c->device_qmax == 0) {
        snprintf(why, whylen, "the device has no request queue");
        return -1;
    }
    uint32_t want = pow2_ceil(c->depth * 10);
    want = want < VBLK_QSIZE_MIN ? VBLK_QSIZE_MIN : want > VBLK_QSIZE_MAX ? VBLK_QSIZE_MAX : want;
    out->qsize = pow2_floor(c->device_qmax < want ? c->device_qmax : want);
    if (out->qsize < 4) {
        snprintf(why, whylen, "a queue of %u entries is too small (need 4)", c->device_qmax);
        return -1;
    }

    /* Descriptors: size_max 0 is no limit of the device's (the DMA layer's own still applies). */
    uint64_t piece = c->map_max;
    if (c->has_size_max && c->size_max && c->size_max < piece)
        piece = c->size_max;
    if (piece == 0) {
        snprintf(why, whylen, "the DMA layer can map nothing for this device");
        return -1;
    }
    out->piece_max = piece < UINT32_MAX ? (uint32_t)piece : UINT32_MAX;
    out->seg_limit = out->qsize - 2; /* the header and the status byte take two descriptors */
    uint32_t seg_max = c->seg_max ? c->seg_max : 1;
    if (c->has_seg_max && seg_max < out->seg_limit)
        out->seg_limit = seg_max;

    /* A request of nseg segments and B bytes is cut into at most nseg + B / piece_max pieces
     * (ceil(x) <= floor(x) + 1 per segment): keep that <= seg_limit. */
    uint64_t bytes;
    uint32_t segs;
    if (out->seg_limit == 1) {
        bytes = out->piece_max; /* one segment of at most one piece */
        segs = 1;
    } else {
        bytes = (uint64_t)out->piece_max * (out->seg_limit / 2);
        if (bytes > c->max_request_bytes)
            bytes = c->max_request_bytes;
        segs = out->seg_limit - (uint32_t)(bytes / out->piece_max);
    }
    bytes -= bytes % out->block_size;
    if (bytes == 0) {
        snprintf(why, whylen,
                 "one %u-byte block needs more than the %u data descriptors of %u bytes a request may "
                 "use (size_max %u, seg_max %u)",
                 out->block_size, out->seg_limit, out->piece_max, c->size_max, c->seg_max);
        return -1;
    }
    out->max_sectors = (uint32_t)(bytes / SECTOR);
    out->max_segments = segs < c->max_segments ? segs : c->max_segments;
    return 0;
}

void vblk_cfg_describe(const struct vblk_cfg *c, const struct vblk_limits *lim, char *buf, size_t len)
{
    char sm[32] = "-", sg[32] = "-", bs[48] = "-";
    if (c->has_size_max)
        snprintf(sm, sizeof(sm), c->size_max ? "%u" : "0 (no limit)", c->size_max);
    if (c->has_seg_max)
        snprintf(sg, sizeof(sg), c->seg_max ? "%u" : "0 (taken as 1)", c->seg_max);
    if (c->has_blk_size)
        snprintf(bs, sizeof(bs), c->blk_size == lim->block_size ? "%u" : "%u (not a block size: ignored)", c->blk_size);
    snprintf(buf, len, "size_max %s, seg_max %s, blk_size %s", sm, sg, bs);
}
