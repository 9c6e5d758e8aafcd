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
 * checked against the chain but not otherwise relied on (Linux's virtio-blk ignores it too, as
 * some devices report it wrongly); the status byte decides.
 *
 * Timeouts. A request not completed within BLK_TIMEOUT_NS - 1 s (so usually before the block
 * layer's blk_wait() gives up) resets the device: every outstanding request completes with
 * BLK_ETIMEDOUT, and the device is initialized again (same features, fresh rings). A device
 * that will not come back is disabled (later requests: BLK_EIO).
 */
#include "drivers/virtio_blk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dma/dma.h"
#include "drivers/blk.h"
#include "drivers/drivers.h"
#include "drivers/virtio.h"
#include "drivers/virtqueue.h"
#include "kernel/options.h"
#include "kernel/time.h"

#define VBLK_QUEUE 0                                   /* the request queue (5.2.2) */
#define VBLK_REQ_TIMEOUT_NS (BLK_TIMEOUT_NS - NSEC_PER_SEC)
#define VBLK_ID_TIMEOUT_NS (2 * NSEC_PER_SEC)
#define VBLK_MAX_BYTES (BLK_MAX_SEGMENTS * 4096u)       /* what the block layer sends at most: 1 MiB */
#define VBLK_STATUS_UNSET 0xff
#define VBLK_QSIZE_MIN 256u
#define VBLK_QSIZE_MAX 1024u

/* Features we accept when offered (5.2.3, 6). VERSION_1 is required. Not accepted: GEOMETRY,
 * TOPOLOGY, CONFIG_WCE, MQ, DISCARD, WRITE_ZEROES, INDIRECT_DESC, EVENT_IDX, RING_PACKED,
 * IN_ORDER, NOTIFICATION_DATA - nothing here uses them. */
#define VBLK_WANTED                                                                                         \
    (VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_F_ACCESS_PLATFORM) | VIRTIO_BIT(VIRTIO_BLK_F_SIZE_MAX) | \
     VIRTIO_BIT(VIRTIO_BLK_F_SEG_MAX) | VIRTIO_BIT(VIRTIO_BLK_F_BLK_SIZE) | VIRTIO_BIT(VIRTIO_BLK_F_FLUSH) |      \
     VIRTIO_BIT(VIRTIO_BLK_F_RO))

/* Per slot, in coherent memory: the header the device reads and the status byte it writes. */
struct vblk_cmd {
    struct virtio_blk_req_hdr hdr;
    uint8_t status;
    uint8_t pad[15];
};
_Static_assert(sizeof(struct vblk_cmd) == 32, "command slots are 32 bytes");

struct vblk_piece {
    dma_addr_t addr;
    uint32_t len;
};

struct vblk_slot {
    struct blk_req *req; /* NULL: free */
    uint64_t started_ns;
    enum dma_data_direction dir;
    uint16_t head, ndesc, npieces;
    struct vblk_piece *piece; /* [seg_limit] */
};

struct vblk {
    struct blk_dev blk;
    struct virtio_device *vdev;
    struct dma_dev dma;
    uint64_t offered, features;
    bool features_known;
    /* the queue */
    struct virtqueue vq;
    uint32_t qsize, device_qmax;
    struct vq_layout layout;
    void *ring;
    dma_addr_t ring_dma;
    void *vq_priv;
    /* commands: [depth] request slots, one more for probe-time commands, then the id buffer */
    struct vblk_cmd *cmd;
    dma_addr_t cmd_dma;
    size_t cmd_bytes;
    struct vblk_slot *slot;
    struct blk_req **reaped; /* [depth]: requests to complete after a reset */
    struct vq_buf *bufs;     /* [seg_limit + 2]: one chain being built */
    uint32_t depth, inflight;
    /* limits */
    uint32_t seg_limit;  /* data descriptors per request */
    uint32_t piece_max;  /* bytes per data descriptor */
    uint32_t size_max, seg_max, blk_size;
    bool broken;
    enum blk_status broken_status;
};

static struct vblk *disks[BLK_MAX_DEVICES];
static size_t ndisks;

static bool has(const struct vblk *v, int bit) { return (v->features >> bit) & 1; }

static dma_addr_t cmd_addr(const struct vblk *v, uint32_t slot) { return v->cmd_dma + (dma_addr_t)slot * sizeof(struct vblk_cmd); }

/* ---- device bring-up (3.1.1) ---- */

/* Reset, ACKNOWLEDGE, DRIVER, features, FEATURES_OK. */
static int vblk_negotiate(struct vblk *v)
{
    struct virtio_device *vdev = v->vdev;
    if (virtio_begin_init(vdev) != 0)
        return -1;
    uint64_t offered, neg;
    int rc = virtio_negotiate(vdev, VBLK_WANTED, VIRTIO_BIT(VIRTIO_F_VERSION_1), &offered, &neg);
    if (rc == -2) {
        printf("virtio-blk: %s: the device does not offer VIRTIO_F_VERSION_1 (features %#llx): a legacy-only "
               "device, which bounce does not drive - refused\n", vdev->location, (unsigned long long)offered);
        virtio_fail(vdev);
        return -1;
    }
    if (rc != 0) {
        printf("virtio-blk: %s: the device did not accept features %#llx (FEATURES_OK cleared) - refused\n",
               vdev->location, (unsigned long long)neg);
        virtio_fail(vdev);
        return -1;
    }
    if (v->features_known && neg != v->features) {
        printf("virtio-blk: %s: features changed across a reset (%#llx, now %#llx) - refused\n", vdev->location,
               (unsigned long long)v->features, (unsigned long long)neg);
        virtio_fail(vdev);
        return -1;
    }
    v->offered = offered;
    v->features = neg;
    v->features_known = true;
    return 0;
}

/* 4.1.5.1.3 / 3.1.1 step 7: fresh rings, hand them to the device, then DRIVER_OK. */
static int vblk_start_queue(struct vblk *v)
{
    uint8_t *ring = v->ring;
    if (vq_init(&v->vq, v->qsize, ring + v->layout.desc_off, ring + v->layout.avail_off, ring + v->layout.used_off,
                v->vq_priv) != 0 ||
        v->vdev->ops->setup_queue(v->vdev, VBLK_QUEUE, v->qsize, v->ring_dma + v->layout.desc_off,
                                  v->ring_dma + v->layout.avail_off, v->ring_dma + v->layout.used_off) != 0) {
        printf("virtio-blk: %s: cannot set up queue %u with %u entries\n", v->vdev->location, VBLK_QUEUE, v->qsize);
        virtio_fail(v->vdev);
        return -1;
    }
    virtio_add_status(v->vdev, VIRTIO_STATUS_DRIVER_OK);
    if (v->vdev->ops->get_status(v->vdev) & VIRTIO_STATUS_DEVICE_NEEDS_RESET) {
        printf("virtio-blk: %s: device needs a reset right after DRIVER_OK\n", v->vdev->location);
        virtio_fail(v->vdev);
        return -1;
    }
    return 0;
}

static int read_cfg32(struct vblk *v, uint32_t off, uint32_t *out)
{
    if (v->vdev->ops->read_config(v->vdev, off, out, 4) != 0) {
        printf("virtio-blk: %s: cannot read configuration at %u\n", v->vdev->location, off);
        return -1;
    }
    return 0;
}

/* 5.2.4: capacity and the limits of the features we accepted; then the limits we give the block
 * layer (see the header comment). */
static int vblk_read_config(struct vblk *v)
{
    const char *loc = v->vdev->location;
    uint64_t capacity;
    if (v->vdev->ops->read_config(v->vdev, VIRTIO_BLK_CFG_CAPACITY, &capacity, 8) != 0) {
        printf("virtio-blk: %s: cannot read the capacity\n", loc);
        return -1;
    }
    v->blk.capacity = capacity;
    v->size_max = v->seg_max = 0;
    v->blk_size = SECTOR_SIZE;
    if (has(v, VIRTIO_BLK_F_SIZE_MAX) && read_cfg32(v, VIRTIO_BLK_CFG_SIZE_MAX, &v->size_max) != 0)
        return -1;
    if (has(v, VIRTIO_BLK_F_SEG_MAX) && read_cfg32(v, VIRTIO_BLK_CFG_SEG_MAX, &v->seg_max) != 0)
        return -1;
    if (has(v, VIRTIO_BLK_F_BLK_SIZE) && read_cfg32(v, VIRTIO_BLK_CFG_BLK_SIZE, &v->blk_size) != 0)
        return -1;
    if (has(v, VIRTIO_BLK_F_SIZE_MAX) && v->size_max < SECTOR_SIZE) {
        printf("virtio-blk: %s: size_max %u is less than a sector - refused\n", loc, v->size_max);
        return -1;
    }
    if (has(v, VIRTIO_BLK_F_SEG_MAX) && v->seg_max == 0) {
        printf("virtio-blk: %s: seg_max 0 - refused\n", loc);
        return -1;
    }
    if (v->blk_size < SECTOR_SIZE || (v->blk_size & (v->blk_size - 1)) || v->blk_size > 65536) {
        printf("virtio-blk: %s: block size %u is not a power of two in 512..64K - refused\n", loc, v->blk_size);
        return -1;
    }
    return 0;
}

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

/* Queue size and request limits. */
static int vblk_limits(struct vblk *v)
{
    const char *loc = v->vdev->location;
    v->device_qmax = v->vdev->ops->max_queue_size(v->vdev, VBLK_QUEUE);
    if (v->device_qmax == 0) {
        printf("virtio-blk: %s: the device has no request queue - refused\n", loc);
        return -1;
    }
    /* Room for depth requests of a few pieces each; a big request just waits for room. */
    uint32_t want = pow2_ceil(v->depth * 10);
    want = want < VBLK_QSIZE_MIN ? VBLK_QSIZE_MIN : want > VBLK_QSIZE_MAX ? VBLK_QSIZE_MAX : want;
    uint32_t q = v->device_qmax < want ? v->device_qmax : want;
    v->qsize = pow2_floor(q < VQ_MAX_SIZE ? q : VQ_MAX_SIZE); /* 2.7: a power of 2 */
    if (v->qsize < 4) {
        printf("virtio-blk: %s: queue of %u entries is too small (need 4) - refused\n", loc, v->device_qmax);
        return -1;
    }
    v->dma.max_segment_size = has(v, VIRTIO_BLK_F_SIZE_MAX) ? v->size_max : 0;
    v->piece_max = (uint32_t)(dma_max_mapping_size(&v->dma) & ~(size_t)(SECTOR_SIZE - 1));
    if (v->piece_max < SECTOR_SIZE) {
        printf("virtio-blk: %s: the DMA layer maps less than a sector at once - refused\n", loc);
        return -1;
    }
    v->seg_limit = v->qsize - 2; /* header and status take two descriptors */
    if (has(v, VIRTIO_BLK_F_SEG_MAX) && v->seg_max < v->seg_limit)
        v->seg_limit = v->seg_max;
    /* pieces <= nseg + bytes / piece_max: keep that <= seg_limit. */
    uint64_t bytes;
    uint32_t segs;
    if (v->seg_limit == 1) {
        bytes = v->piece_max;
        segs = 1;
    } else {
        bytes = (uint64_t)v->piece_max * (v->seg_limit / 2);
        if (bytes > VBLK_MAX_BYTES)
            bytes = VBLK_MAX_BYTES;
        segs = v->seg_limit - (uint32_t)(bytes / v->piece_max);
    }
    bytes &= ~(uint64_t)(v->blk_size - 1);
    if (bytes < SECTOR_SIZE)
        bytes = SECTOR_SIZE;
    v->blk.max_sectors = (uint32_t)(bytes / SECTOR_SIZE);
    v->blk.max_segments = segs < BLK_MAX_SEGMENTS ? segs : BLK_MAX_SEGMENTS;
    return 0;
}

static void vblk_free(struct vblk *v)
{
    if (v->ring)
        dma_free_coherent(&v->dma, v->layout.total, v->ring, v->ring_dma);
    if (v->cmd)
        dma_free_coherent(&v->dma, v->cmd_bytes, v->cmd, v->cmd_dma);
    if (v->slot)
        for (uint32_t i = 0; i < v->depth; i++)
            free(v->slot[i].piece);
    free(v->slot);
    free(v->reaped);
    free(v->bufs);
    free(v->vq_priv);
    free(v);
}

static int vblk_alloc(struct vblk *v)
{
    vq_layout(v->qsize, &v->layout);
    v->ring = dma_alloc_coherent(&v->dma, v->layout.total, &v->ring_dma);
    v->cmd_bytes = (v->depth + 1) * sizeof(struct vblk_cmd) + VIRTIO_BLK_ID_BYTES;
    v->cmd = dma_alloc_coherent(&v->dma, v->cmd_bytes, &v->cmd_dma);
    v->vq_priv = malloc(vq_priv_bytes(v->qsize));
    v->slot = calloc(v->depth, sizeof(*v->slot));
    v->reaped = calloc(v->depth, sizeof(*v->reaped));
    v->bufs = calloc(v->seg_limit + 2, sizeof(*v->bufs));
    if (!v->ring || !v->cmd || !v->vq_priv || !v->slot || !v->reaped || !v->bufs)
        return -1;
    for (uint32_t i = 0; i < v->depth; i++)
        if ((v->slot[i].piece = calloc(v->seg_limit, sizeof(struct vblk_piece))) == NULL)
            return -1;
    return 0;
}

/* ---- requests ---- */

static void unmap_pieces(struct vblk *v, struct vblk_slot *sl, uint32_t n, unsigned attrs)
{
    for (uint32_t i = 0; i < n; i++)
        dma_unmap_page_attrs(&v->dma, sl->piece[i].addr, sl->piece[i].len, sl->dir, attrs);
}

static int vblk_submit(struct blk_dev *bd, struct blk_req *req)
{
    struct vblk *v = bd->driver;
    if (v->broken) {
        blk_complete(bd, req, v->broken_status);
        return 0;
    }
    uint32_t s = 0;
    while (s < v->depth && v->slot[s].req)
        s++;
    if (s == v->depth)
        return -1; /* depth requests in flight */
    struct vblk_slot *sl = &v->slot[s];

    uint32_t type, npieces = 0;
    enum dma_data_direction dir;
    switch (req->op) {
    case BLK_READ:
        type = VIRTIO_BLK_T_IN, dir = DMA_FROM_DEVICE;
        break;
    case BLK_WRITE:
        type = VIRTIO_BLK_T_OUT, dir = DMA_TO_DEVICE;
        break;
    default:
        type = VIRTIO_BLK_T_FLUSH, dir = DMA_NONE;
        break;
    }
    if (req->op != BLK_FLUSH) {
        for (uint32_t i = 0; i < req->nseg; i++)
            npieces += (req->seg[i].len + v->piece_max - 1) / v->piece_max;
        if (npieces > v->seg_limit) { /* the limits we advertise prevent this */
            printf("virtio-blk: %s: request of %u segments needs %u descriptors, more than %u\n", bd->name, req->nseg,
                   npieces, v->seg_limit);
            blk_complete(bd, req, BLK_EINVAL);
            return 0;
        }
    }
    if (vq_num_free(&v->vq) < npieces + 2)
        return -1; /* the ring is full for now */

    /* Map the data; a full bounce pool undoes what was mapped and asks to be retried. */
    uint32_t k = 0;
    sl->dir = dir;
    for (uint32_t i = 0; i < req->nseg && req->op != BLK_FLUSH; i++) {
        for (uint32_t off = 0; off < req->seg[i].len;) {
            uint32_t len = req->seg[i].len - off < v->piece_max ? req->seg[i].len - off : v->piece_max;
            dma_addr_t a = dma_map_page(&v->dma, req->seg[i].phys, off, len, dir);
            if (dma_mapping_error(&v->dma, a)) {
                unmap_pieces(v, sl, k, DMA_ATTR_SKIP_CPU_SYNC); /* the device never saw them */
                /* With the whole bounce pool free it can never succeed (a request bigger than
                 * the pool): fail it rather than have it retried until blk_wait() times out. */
                struct dma_stats ds;
                dma_get_stats(&ds);
                if (v->inflight == 0 && ds.slots_in_use == 0) {
                    printf("virtio-blk: %s: %s lba %llu +%u cannot be mapped even with the bounce pool empty "
                           "(%llu KiB): failed\n", bd->name, blk_op_name(req->op), (unsigned long long)req->lba,
                           req->nsectors, (unsigned long long)(ds.slots_total * 2));
                    blk_complete(bd, req, BLK_EIO);
                    return 0;
                }
                return -1;
            }
            sl->piece[k++] = (struct vblk_piece){a, len};
            off += len;
        }
    }

    struct vblk_cmd *c = &v->cmd[s];
    c->hdr.type = type;
    c->hdr.reserved = 0;
    c->hdr.sector = req->op == BLK_FLUSH ? 0 : req->lba; /* 5.2.6: 0 for anything but IN/OUT */
    __atomic_store_n(&c->status, (uint8_t)VBLK_STATUS_UNSET, __ATOMIC_RELAXED);
    uint32_t n = 0;
    v->bufs[n++] = (struct vq_buf){cmd_addr(v, s), sizeof(c->hdr), false};
    for (uint32_t i = 0; i < k; i++)
        v->bufs[n++] = (struct vq_buf){sl->piece[i].addr, sl->piece[i].len, dir == DMA_FROM_DEVICE};
    v->bufs[n++] = (struct vq_buf){cmd_addr(v, s) + offsetof(struct vblk_cmd, status), 1, true};
    int head = vq_add(&v->vq, v->bufs, n, sl);
    if (head < 0) {
        unmap_pieces(v, sl, k, DMA_ATTR_SKIP_CPU_SYNC);
        if (head == -VQ_ERR_FULL)
            return -1;
        printf("virtio-blk: %s: cannot queue a chain of %u descriptors: %s\n", bd->name, n, vq_error_name((enum vq_error)-head));
        blk_complete(bd, req, BLK_EINVAL);
        return 0;
    }
    sl->req = req;
    sl->head = (uint16_t)head;
    sl->ndesc = (uint16_t)n;
    sl->npieces = (uint16_t)k;
    sl->started_ns = time_ns();
    v->inflight++;
    if (trace_on(TRACE_BLK))
        printf("virtio-blk: %s submit %s lba %llu +%u: %u descriptors, head %u (%u in flight)\n", bd->name,
               blk_op_name(req->op), (unsigned long long)req->lba, req->nsectors, n, head, v->inflight);
    if (vq_publish(&v->vq))
        v->vdev->ops->notify(v->vdev, VBLK_QUEUE);
    return 0;
}

static enum blk_status status_of(uint8_t st)
{
    switch (st) {
    case VIRTIO_BLK_S_OK:
        return BLK_OK;
    case VIRTIO_BLK_S_IOERR:
        return BLK_EIO;
    case VIRTIO_BLK_S_UNSUPP:
        return BLK_EUNSUPP;
    default:
        return BLK_EPROTO; /* includes VBLK_STATUS_UNSET: the device never wrote it */
    }
}

static void vblk_finish(struct vblk *v, struct vblk_slot *sl, const struct vq_used_info *u)
{
    uint32_t s = (uint32_t)(sl - v->slot);
    struct blk_req *req = sl->req;
    unmap_pieces(v, sl, sl->npieces, 0); /* a bounced read is copied back here */
    uint8_t st = __atomic_load_n(&v->cmd[s].status, __ATOMIC_RELAXED); /* read once */
    enum blk_status bs = status_of(st);
    if (bs == BLK_EPROTO)
        printf("virtio-blk: %s: %s lba %llu: invalid status byte %#x from the device\n", v->blk.name, blk_op_name(req->op),
               (unsigned long long)req->lba, st);
    if (trace_on(TRACE_BLK))
        printf("virtio-blk: %s complete %s lba %llu +%u: %u descriptors, head %u, used len %u, status %u\n", v->blk.name,
               blk_op_name(req->op), (unsigned long long)req->lba, req->nsectors, u->count, u->head, u->len, st);
    sl->req = NULL;
    v->inflight--;
    blk_complete(&v->blk, req, bs);
}

/* Reset the device and take back every outstanding request into v->reaped (completed by the
 * caller once the driver is consistent again). Returns how many. */
static uint32_t vblk_reset_and_reap(struct vblk *v, bool *reset_ok)
{
    *reset_ok = v->vdev->ops->reset(v->vdev) == 0;
    if (!*reset_ok)
        printf("virtio-blk: %s: the device did not reset: its in-flight buffers stay mapped (it may still "
               "write them)\n", v->blk.name);
    uint32_t n = 0;
    void *token;
    while (vq_detach_one(&v->vq, &token)) {} /* the bookkeeping; the rings are rebuilt on restart */
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
    printf("virtio-blk: %s: %s lba %llu +%u not completed after %llu ms: resetting the device\n", v->blk.name,
           blk_op_name(oldest->req->op), (unsigned long long)oldest->req->lba, oldest->req->nsectors,
           (unsigned long long)((now - oldest->started_ns) / NSEC_PER_MSEC));
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
        if (r == 0)
            break;
        if (r < 0)
            return n + vblk_protocol_failure(v);
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

static const struct blk_ops vblk_ops = {
    .submit = vblk_submit,
    .poll = vblk_poll,
    .idle = vblk_idle,
};

/* ---- probe ---- */

static bool used_ready(void *arg) { return vq_has_used(&((struct vblk *)arg)->vq); }

/* VIRTIO_BLK_T_GET_ID (5.2.6): the serial, up to 20 bytes, for the model string. Synchronous,
 * before the disk is registered, with the spare command slot. Returns 0, or -1 if the device
 * did not answer or broke the protocol (the device is then not used). */
static int vblk_get_id(struct vblk *v)
{
    uint32_t s = v->depth;
    struct vblk_cmd *c = &v->cmd[s];
    volatile uint8_t *id = (uint8_t *)&v->cmd[s + 1];
    dma_addr_t id_dma = cmd_addr(v, s + 1);
    c->hdr = (struct virtio_blk_req_hdr){VIRTIO_BLK_T_GET_ID, 0, 0};
    c->status = VBLK_STATUS_UNSET;
    struct vq_buf bufs[3] = {
        {cmd_addr(v, s), sizeof(c->hdr), false},
        {id_dma, VIRTIO_BLK_ID_BYTES, true},
        {cmd_addr(v, s) + offsetof(struct vblk_cmd, status), 1, true},
    };
    if (vq_add(&v->vq, bufs, 3, NULL) < 0)
        return -1;
    if (vq_publish(&v->vq))
        v->vdev->ops->notify(v->vdev, VBLK_QUEUE);
    if (!wait_until(used_ready, v, VBLK_ID_TIMEOUT_NS)) {
        printf("virtio-blk: %s: no answer to GET_ID within %llu ms - refused\n", v->vdev->location,
               (unsigned long long)(VBLK_ID_TIMEOUT_NS / NSEC_PER_MSEC));
        return -1;
    }
    struct vq_used_info u;
    if (vq_get_used(&v->vq, &u) != 1) {
        char why[200];
        vq_describe_error(&v->vq, why, sizeof(why));
        printf("virtio-blk: %s: DEVICE BROKE THE VIRTQUEUE PROTOCOL answering GET_ID: %s - refused\n",
               v->vdev->location, why);
        return -1;
    }
    char serial[VIRTIO_BLK_ID_BYTES + 1];
    size_t n = 0;
    uint8_t st = __atomic_load_n(&c->status, __ATOMIC_RELAXED);
    if (st == VIRTIO_BLK_S_OK)
        for (; n < VIRTIO_BLK_ID_BYTES; n++) {
            uint8_t ch = id[n];
            if (ch == 0)
                break;
            serial[n] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
        }
    serial[n] = '\0';
    snprintf(v->blk.model, sizeof(v->blk.model), n ? "virtio-blk %s" : "virtio-blk", serial);
    return 0;
}

static void print_features(const struct vblk *v)
{
    static const struct { int bit; const char *name; } names[] = {
        {VIRTIO_F_VERSION_1, "VERSION_1"}, {VIRTIO_F_ACCESS_PLATFORM, "ACCESS_PLATFORM"},
        {VIRTIO_BLK_F_SIZE_MAX, "SIZE_MAX"}, {VIRTIO_BLK_F_SEG_MAX, "SEG_MAX"},
        {VIRTIO_BLK_F_BLK_SIZE, "BLK_SIZE"}, {VIRTIO_BLK_F_FLUSH, "FLUSH"}, {VIRTIO_BLK_F_RO, "RO"},
    };
    printf("virtio-blk: %s: %s, features", v->blk.name, v->vdev->location);
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (has(v, names[i].bit))
            printf(" %s", names[i].name);
    printf(" (offered %#llx)\n", (unsigned long long)v->offered);
    printf("virtio-blk: %s: queue %u entries (device max %u), depth %u, <= %u data descriptors of <= %u KiB, "
           "requests <= %u segments / %u KiB, size_max %u, seg_max %u, block size %u\n",
           v->blk.name, v->qsize, v->device_qmax, v->depth, v->seg_limit, v->piece_max >> 10, v->blk.max_segments,
           v->blk.max_sectors / 2, v->size_max, v->seg_max, v->blk_size);
    printf("virtio-blk: %s: buffers through the DMA API; the device uses %s\n", v->blk.name,
           has(v, VIRTIO_F_ACCESS_PLATFORM) ? "DMA addresses (ACCESS_PLATFORM)"
                                            : "guest-physical addresses (no ACCESS_PLATFORM)");
}

static void vblk_probe_one(struct virtio_device *vdev)
{
    if (ndisks == BLK_MAX_DEVICES) {
        printf("virtio-blk: %s: too many disks - ignored\n", vdev->location);
        return;
    }
    struct vblk *v = calloc(1, sizeof(*v));
    if (v == NULL) {
        printf("virtio-blk: %s: out of memory\n", vdev->location);
        return;
    }
    v->vdev = vdev;
    v->depth = (uint32_t)kopts.virtio_depth;
    v->dma = (struct dma_dev){.name = "virtio-blk", .dma_mask = DMA_BIT_MASK(64)};
    snprintf(v->blk.name, sizeof(v->blk.name), "vd%c", (char)('a' + ndisks));
    if (vblk_negotiate(v) != 0 || vblk_read_config(v) != 0 || vblk_limits(v) != 0) {
        virtio_fail(vdev);
        vblk_free(v);
        return;
    }
    if (vblk_alloc(v) != 0) {
        printf("virtio-blk: %s: out of memory for the queue\n", vdev->location);
        virtio_fail(vdev);
        vblk_free(v);
        return;
    }
    if (vblk_start_queue(v) != 0 || vblk_get_id(v) != 0) {
        vdev->ops->reset(vdev); /* stop it before its memory is freed */
        virtio_fail(vdev);
        vblk_free(v);
        return;
    }
    v->blk.read_only = has(v, VIRTIO_BLK_F_RO);
    v->blk.has_flush = has(v, VIRTIO_BLK_F_FLUSH);
    v->blk.ops = &vblk_ops;
    v->blk.driver = v;
    v->blk.dma = &v->dma;          /* lets the block layer size requests to the bounce pool */
    v->blk.fills_by_dma = true;     /* every buffer goes through the DMA API */
    disks[ndisks++] = v;
    print_features(v);
    blk_register(&v->blk);
}

void virtio_blk_probe(void)
{
    virtio_enumerate(VIRTIO_ID_BLOCK, "virtio-blk", vblk_probe_one);
}
