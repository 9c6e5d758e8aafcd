/* SPDX-License-Identifier: MIT */
/* virtio_blk.c - virtio block driver (virtio 1.2, 5.2 "Block Device"), any transport.
 *
 * Uses only the transport interface (virtio.h) and the split virtqueue (virtqueue.h).
 *
 * Requests. Each block request is one descriptor chain (5.2.6): the 16-byte header
 * (device-readable), the data pieces (device-writable for reads, device-readable for writes),
 * then the status byte (device-writable). Up to kopts.virtio_depth requests are in flight; each
 * owns a slot whose header and status byte live in one array of dma_alloc_coherent() memory
 * (`cmd`), so they need no streaming mapping: the device reads the header and writes the status
 * through the coherent handle. The status byte is set to 0xff before the chain is made
 * available, so a status the device never wrote reads as a protocol error, not as success.
 *
 * DMA. Every data buffer is mapped with the DMA API (dma_map_page) for the life of the request
 * and unmapped on completion (which copies a bounced read back), always with this driver's
 * dma_dev ("virtio-blk", 64-bit mask, force_bounce off):
 *  - with VIRTIO_F_ACCESS_PLATFORM negotiated (6), the device promised to go through the
 *    platform's DMA translation and access restrictions, so it must be handed DMA addresses:
 *    exactly what the DMA API returns, bounced where the platform demands it (a confidential
 *    guest, `swiotlb_force`);
 *  - without it, the device uses guest-physical addresses. A direct mapping returns the
 *    physical address and costs nothing; when the platform forces bouncing, the bounce slot's
 *    address is a guest-physical address too, so the device still finds the data. (Linux
 *    refuses such a device in a real confidential guest; here forced bouncing is the emulation
 *    of one, and going through the DMA layer keeps the accounting honest.)
 * Rings come from dma_alloc_coherent(), which shares them with the host in a confidential guest.
 *
 * Segments. A block segment longer than what one mapping may take (size_max if negotiated,
 * and the bounce pool's largest mapping, dma_max_mapping_size()) is cut into pieces, one
 * descriptor each. The limits given to the block layer (max_segments, max_sectors) are chosen so
 * that a valid request never needs more than seg_max data descriptors nor more descriptors than
 * the ring has: submit returns -1 (the block layer requeues) only when the ring or the bounce
 * pool is full for now. A request whose mapping fails while the whole bounce pool is free (it
 * needs more than the pool holds) can never succeed: it completes with BLK_EIO instead of being
 * retried until blk_wait() times out.
 *
 * The device is untrusted: used entries are validated by vq_get_used(). A violation marks the
 * disk broken: the device is reset (so it stops DMA), told FAILED, every outstanding request
 * completes with BLK_EPROTO and every later one at once with BLK_EPROTO. The used `len` is
 * checked against the chain; by default it is not otherwise relied on (Linux's virtio-blk ignores
 * it too, as some devices report it wrongly) and the status byte decides. With
 * dma_completion=exact it is the count of what the device wrote (2.7.8): reads are mapped with
 * DMA_ATTR_EXACT_COMPLETION and completed with the data bytes it covers, and a len that stops
 * short of the status byte fails the request (virtio_blk_done.h).
 *
 * Timeouts. A request not completed within BLK_TIMEOUT_NS - 1 s (so usually before the block
 * layer's blk_wait() gives up) resets the device: every outstanding request completes with
 * BLK_ETIMEDOUT, and the device is initialized again (same features, fresh rings). A device
 * that will not come back is disabled (later requests: BLK_EIO).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "drivers/virtio_blk_dev.h"
#include "drivers/virtio_blk_done.h"
#include "kernel/options.h"

/* ---- requests ---- */

static void unmap_pieces(struct vblk *v, struct vblk_slot *sl, uint32_t n, unsigned attrs)
{
    for (uint32_t i = 0; i < n; i++)
        dma_unmap_page_attrs(&v->dma, sl->piece[i].addr, sl->piece[i].len, sl->dir, attrs);
}

/* Exact completion of a read: each piece gets its share of the `written` data bytes, which the
 * device fills in chain order. */
static void unmap_pieces_written(struct vblk *v, struct vblk_slot *sl, uint32_t written)
{
    for (uint32_t i = 0; i < sl->npieces; i++) {
        uint32_t w = written < sl->piece[i].len ? written : sl->piece[i].len;
        written -= w;
        dma_unmap_page_written(&v->dma, sl->piece[i].addr, sl->piece[i].len, sl->dir, w);
    }
}

/* A free request slot, or v->depth when all are in flight. */
static uint32_t free_slot(const struct vblk *v)
{
    uint32_t s = 0;
    while (s < v->depth && v->slot[s].req)
        s++;
    return s;
}

/* Data descriptors a request needs: each segment cut into pieces of at most piece_max. */
static uint32_t pieces_needed(const struct vblk *v, const struct blk_req *req)
{
    uint32_t n = 0;
    if (req->op != BLK_FLUSH)
        for (uint32_t i = 0; i < req->nseg; i++)
            n += (req->seg[i].len + v->lim.piece_max - 1) / v->lim.piece_max;
    return n;
}

enum map_result { MAPPED, MAP_RETRY, MAP_FAILED };

/* Map the request's data, piece by piece, into sl. A full bounce pool undoes what was mapped and
 * asks to be retried; a request that cannot be mapped even with the pool empty has failed. */
static enum map_result map_data(struct vblk *v, struct vblk_slot *sl, const struct blk_req *req,
                                enum dma_data_direction dir)
{
    unsigned attrs = dir == DMA_FROM_DEVICE && exact_completion() ? DMA_ATTR_EXACT_COMPLETION : 0;
    uint32_t k = 0;
    sl->dir = dir;
    sl->data_bytes = 0;
    for (uint32_t i = 0; i < req->nseg && req->op != BLK_FLUSH; i++) {
        for (uint32_t off = 0; off < req->seg[i].len;) {
            uint32_t len = req->seg[i].len - off < v->lim.piece_max ? req->seg[i].len - off : v->lim.piece_max;
            dma_addr_t a = dma_map_page_attrs(&v->dma, req->seg[i].phys, off, len, dir, attrs);
            if (dma_mapping_error(&v->dma, a)) {
                unmap_pieces(v, sl, k, DMA_ATTR_SKIP_CPU_SYNC); /* the device never saw them */
                /* With the whole bounce pool free it can never succeed (a request bigger than
                 * the pool): fail it rather than have it retried until blk_wait() times out. */
                if (v->inflight == 0 && dma_bounce_bytes_in_use() == 0) {
                    printf("virtio-blk: %s: %s lba %" PRIu64 " +%u cannot be mapped even with the bounce pool empty "
                           "(%zu KiB): failed\n",
                           v->blk.name, blk_op_name(req->op), req->lba, req->nsectors, dma_bounce_pool_bytes() >> 10);
                    return MAP_FAILED;
                }
                return MAP_RETRY;
            }
            sl->piece[k++] = (struct vblk_piece){a, len};
            sl->data_bytes += len;
            off += len;
        }
    }
    sl->npieces = (uint16_t)k;
    return MAPPED;
}

/* The descriptor chain of slot s (5.2.6): header (device-readable), the data pieces, the status
 * byte (device-writable). Returns the number of buffers in v->bufs. */
static uint32_t build_chain(struct vblk *v, uint32_t s, const struct blk_req *req, uint32_t type)
{
    struct vblk_cmd *c = &v->cmd[s];
    const struct vblk_slot *sl = &v->slot[s];
    c->hdr.type = type;
    c->hdr.reserved = 0;
    c->hdr.sector = req->op == BLK_FLUSH ? 0 : req->lba; /* 5.2.6: 0 for anything but IN/OUT */
    __atomic_store_n(&c->status, (uint8_t)VBLK_STATUS_UNSET, __ATOMIC_RELAXED);
    uint32_t n = 0;
    v->bufs[n++] = (struct vq_buf){vblk_cmd_addr(v, s), sizeof(c->hdr), false};
    for (uint32_t i = 0; i < sl->npieces; i++)
        v->bufs[n++] = (struct vq_buf){sl->piece[i].addr, sl->piece[i].len, sl->dir == DMA_FROM_DEVICE};
    v->bufs[n++] = (struct vq_buf){vblk_cmd_addr(v, s) + offsetof(struct vblk_cmd, status), 1, true};
    return n;
}

/* Queue a request: 0 when it is taken (in flight, or completed at once with an error), -1 when
 * it must wait (no free slot, a full ring or a full bounce pool: retried after a completion). */
static int vblk_submit(struct blk_dev *bd, struct blk_req *req)
{
    struct vblk *v = bd->driver;
    if (v->broken) {
        blk_complete(bd, req, v->broken_status);
        return 0;
    }
    uint32_t s = free_slot(v);
    if (s == v->depth)
        return -1; /* depth requests in flight */
    struct vblk_slot *sl = &v->slot[s];
    uint32_t type = req->op == BLK_READ ? VIRTIO_BLK_T_IN
        : req->op == BLK_WRITE          ? VIRTIO_BLK_T_OUT
                                        : VIRTIO_BLK_T_FLUSH;
    enum dma_data_direction dir = req->op == BLK_READ ? DMA_FROM_DEVICE
        : req->op == BLK_WRITE                        ? DMA_TO_DEVICE
                                                      : DMA_NONE;
    uint32_t npieces = pieces_needed(v, req);
    if (npieces > v->lim.seg_limit) { /* the limits we advertise prevent this */
        printf("virtio-blk: %s: request of %u segments needs %u descriptors, more than %u\n", bd->name, req->nseg,
               npieces, v->lim.seg_limit);
        blk_complete(bd, req, BLK_EINVAL);
        return 0;
    }
    if (vq_num_free(&v->vq) < npieces + 2)
        return -1; /* the ring is full for now */
    switch (map_data(v, sl, req, dir)) {
    case MAPPED: break;
    case MAP_RETRY: return -1;
    case MAP_FAILED: blk_complete(bd, req, BLK_EIO); return 0;
    }
    uint32_t n = build_chain(v, s, req, type);
    int head = vq_add(&v->vq, v->bufs, n, sl);
    if (head < 0) {
        unmap_pieces(v, sl, sl->npieces, DMA_ATTR_SKIP_CPU_SYNC);
        if (head == -VQ_ERR_FULL)
            return -1;
        printf("virtio-blk: %s: cannot queue a chain of %u descriptors: %s\n", bd->name, n,
               vq_error_name((enum vq_error) - head));
        blk_complete(bd, req, BLK_EINVAL);
        return 0;
    }
    sl->req = req;
    sl->head = (uint16_t)head;
    sl->ndesc = (uint16_t)n;
    sl->started_ns = time_ns();
    v->inflight++;
    if (trace_on(TRACE_BLK))
        printf("virtio-blk: %s submit %s lba %" PRIu64 " +%u: %u descriptors, head %u (%u in flight)\n", bd->name,
               blk_op_name(req->op), req->lba, req->nsectors, n, head, v->inflight);
    if (vq_publish(&v->vq)) {
        v->vdev->ops->notify(v->vdev, VBLK_QUEUE);
        bd->stats.notifies++;
    } else {
        bd->stats.notifies_suppressed++;
    }
    return 0;
}

static void vblk_finish(struct vblk *v, struct vblk_slot *sl, const struct vq_used_info *u)
{
    uint32_t s = (uint32_t)(sl - v->slot);
    struct blk_req *req = sl->req;
    uint8_t st = __atomic_load_n(&v->cmd[s].status, __ATOMIC_RELAXED); /* read once */
    enum blk_status bs = vblk_status_of(st); /* VBLK_STATUS_UNSET included: the device never wrote it */
    uint32_t written = 0; /* on an error, the data the device says it wrote (exact completion only) */
    if (exact_completion()) {
        struct vblk_done d = vblk_done(sl->dir == DMA_FROM_DEVICE, sl->data_bytes, u->len, st);
        if (sl->dir == DMA_FROM_DEVICE)
            unmap_pieces_written(v, sl, d.data_written); /* exactly what the device wrote comes back */
        else
            unmap_pieces(v, sl, sl->npieces, 0);
        if (d.len_short)
            printf("virtio-blk: %s: %s lba %" PRIu64 " +%u: used len %u does not reach the status byte (%u data bytes "
                   "+ 1): failed, %u bytes taken as written\n",
                   v->blk.name, blk_op_name(req->op), req->lba, req->nsectors, u->len,
                   sl->dir == DMA_FROM_DEVICE ? sl->data_bytes : 0, d.data_written);
        bs = d.status;
        written = d.data_written;
    } else {
        unmap_pieces(v, sl, sl->npieces, 0); /* a bounced read is copied back here */
    }
    /* Every failed request is logged, as IDE logs every failed command: a failed flush in
     * particular means data the guest thinks is on the disk may not be. */
    if (bs == BLK_EPROTO)
        printf("virtio-blk: %s: %s lba %" PRIu64 ": invalid status byte %#x from the device\n", v->blk.name,
               blk_op_name(req->op), req->lba, st);
    else if (bs != BLK_OK && req->op == BLK_FLUSH)
        printf("virtio-blk: %s: flush failed: status %u (%s): written data may not be on stable storage\n", v->blk.name,
               st, blk_status_name(bs));
    else if (bs != BLK_OK)
        printf("virtio-blk: %s: %s lba %" PRIu64 " +%u failed: status %u (%s)\n", v->blk.name, blk_op_name(req->op),
               req->lba, req->nsectors, st, blk_status_name(bs));
    if (trace_on(TRACE_BLK))
        printf("virtio-blk: %s complete %s lba %" PRIu64 " +%u: %u descriptors, head %u, used len %u, status %u\n",
               v->blk.name, blk_op_name(req->op), req->lba, req->nsectors, u->count, u->head, u->len, st);
    sl->req = NULL;
    v->inflight--;
    blk_complete_bytes(&v->blk, req, bs, written);
}

/* Reset the device and take back every outstanding request into v->reaped (completed by the
 * caller once the driver is consistent again). Returns how many. */
static uint32_t vblk_reset_and_reap(struct vblk *v, bool *reset_ok)
{
    *reset_ok = v->vdev->ops->reset(v->vdev) == 0;
    if (!*reset_ok)
        printf("virtio-blk: %s: the device did not reset: its in-flight buffers stay mapped (it may still "
               "write them)\n",
               v->blk.name);
    uint32_t n = 0;
    void *token;
    while (vq_detach_one(&v->vq, &token)) {
    } /* the bookkeeping; the rings are rebuilt on restart */
    for (uint32_t s = 0; s < v->depth; s++) {
        struct vblk_slot *sl = &v->slot[s];
        if (!sl->req)
            continue;
        if (*reset_ok)
            unmap_pieces(v, sl, sl->npieces, DMA_ATTR_SKIP_CPU_SYNC); /* contents unreliable: no copy-back */
        v->reaped[n++] = sl->req;
        sl->req = NULL;
    }
    v->inflight = 0;
    return n;
}

static int complete_reaped(struct vblk *v, uint32_t n, enum blk_status status)
{
    for (uint32_t i = 0; i < n; i++)
        blk_complete(&v->blk, v->reaped[i], status);
    return (int)n;
}

static int vblk_protocol_failure(struct vblk *v)
{
    char why[200];
    vq_describe_error(&v->vq, why, sizeof(why));
    printf("virtio-blk: %s: DEVICE BROKE THE VIRTQUEUE PROTOCOL: %s\n", v->blk.name, why);
    v->broken = true;
    v->broken_status = BLK_EPROTO;
    bool ok;
    uint32_t n = vblk_reset_and_reap(v, &ok);
    virtio_fail(v->vdev);
    printf("virtio-blk: %s: device reset%s and disabled; %u outstanding requests fail with '%s'\n", v->blk.name,
           ok ? "" : " FAILED", n, blk_status_name(BLK_EPROTO));
    return complete_reaped(v, n, BLK_EPROTO);
}

static int vblk_check_timeout(struct vblk *v)
{
    uint64_t now = time_ns();
    struct vblk_slot *oldest = NULL;
    for (uint32_t s = 0; s < v->depth; s++)
        if (v->slot[s].req && (!oldest || v->slot[s].started_ns < oldest->started_ns))
            oldest = &v->slot[s];
    if (!oldest || now - oldest->started_ns < VBLK_REQ_TIMEOUT_NS)
        return 0;
    printf("virtio-blk: %s: %s lba %" PRIu64 " +%u not completed after %" PRIu64 " ms: resetting the device\n",
           v->blk.name, blk_op_name(oldest->req->op), oldest->req->lba, oldest->req->nsectors,
           ((now - oldest->started_ns) / NSEC_PER_MSEC));
    bool ok;
    uint32_t n = vblk_reset_and_reap(v, &ok);
    if (!ok || vblk_negotiate(v) != 0 || vblk_start_queue(v) != 0) {
        v->broken = true;
        v->broken_status = BLK_EIO;
        virtio_fail(v->vdev);
        printf("virtio-blk: %s: the device did not come back: disabled\n", v->blk.name);
    } else {
        printf("virtio-blk: %s: device reset and running again\n", v->blk.name);
    }
    printf("virtio-blk: %s: %u outstanding requests fail with '%s'\n", v->blk.name, n, blk_status_name(BLK_ETIMEDOUT));
    return complete_reaped(v, n, BLK_ETIMEDOUT);
}

static int vblk_poll(struct blk_dev *bd)
{
    struct vblk *v = bd->driver;
    if (v->broken)
        return 0;
    int n = 0;
    for (;;) {
        struct vq_used_info u;
        int r = vq_get_used(&v->vq, &u);
        if (r < 0)
            return n + vblk_protocol_failure(v);
        if (r == 0 && !vq_rearm(&v->vq)) /* EVENT_IDX: the next interrupt at the next entry */
            break;
        if (r == 0)
            continue;                /* entries came in before the rearm: they may have raised no interrupt */
        vblk_finish(v, u.token, &u); /* the token comes from our private state, never the device */
        n++;
    }
    if (n == 0 && v->inflight)
        n = vblk_check_timeout(v);
    return n;
}

static bool vblk_idle(struct blk_dev *bd)
{
    struct vblk *v = bd->driver;
    return v->inflight == 0;
}

/* io=irq: the queue has used buffers (or the line is shared): reap them, as a poll would. */
void vblk_interrupt(void *arg)
{
    struct vblk *v = arg;
    blk_interrupt(&v->blk);
}

const struct blk_ops vblk_ops = {
    .submit = vblk_submit,
    .poll = vblk_poll,
    .idle = vblk_idle,
};
