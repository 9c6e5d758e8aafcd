/* virtio_blk_probe.c - bringing up a virtio block device (virtio 1.2, 3.1.1 "Device
 * Initialization", 5.2 "Block Device"): feature negotiation, the configuration space, the
 * queue size and request limits, the rings and command slots in coherent DMA memory, and
 * GET_ID; then the disk is registered with the block layer. The request path, and why every
 * buffer goes through the DMA API, is in virtio_blk.c.
 */
#include <stdio.h>
#include <stdlib.h>

#include "drivers/drivers.h"
#include "drivers/virtio_blk_dev.h"
#include "kernel/options.h"

static struct vblk *disks[BLK_MAX_DEVICES];
static size_t ndisks;


/* ---- device bring-up (3.1.1) ---- */

/* Reset, ACKNOWLEDGE, DRIVER, features, FEATURES_OK. */
int vblk_negotiate(struct vblk *v)
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
int vblk_start_queue(struct vblk *v)
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
    if (vblk_has(v, VIRTIO_BLK_F_SIZE_MAX) && read_cfg32(v, VIRTIO_BLK_CFG_SIZE_MAX, &v->size_max) != 0)
        return -1;
    if (vblk_has(v, VIRTIO_BLK_F_SEG_MAX) && read_cfg32(v, VIRTIO_BLK_CFG_SEG_MAX, &v->seg_max) != 0)
        return -1;
    if (vblk_has(v, VIRTIO_BLK_F_BLK_SIZE) && read_cfg32(v, VIRTIO_BLK_CFG_BLK_SIZE, &v->blk_size) != 0)
        return -1;
    if (vblk_has(v, VIRTIO_BLK_F_SIZE_MAX) && v->size_max < SECTOR_SIZE) {
        printf("virtio-blk: %s: size_max %u is less than a sector - refused\n", loc, v->size_max);
        return -1;
    }
    if (vblk_has(v, VIRTIO_BLK_F_SEG_MAX) && v->seg_max == 0) {
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
    v->dma.max_segment_size = vblk_has(v, VIRTIO_BLK_F_SIZE_MAX) ? v->size_max : 0;
    v->piece_max = (uint32_t)(dma_max_mapping_size(&v->dma) & ~(size_t)(SECTOR_SIZE - 1));
    if (v->piece_max < SECTOR_SIZE) {
        printf("virtio-blk: %s: the DMA layer maps less than a sector at once - refused\n", loc);
        return -1;
    }
    v->seg_limit = v->qsize - 2; /* header and status take two descriptors */
    if (vblk_has(v, VIRTIO_BLK_F_SEG_MAX) && v->seg_max < v->seg_limit)
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
    dma_addr_t id_dma = vblk_cmd_addr(v, s + 1);
    c->hdr = (struct virtio_blk_req_hdr){VIRTIO_BLK_T_GET_ID, 0, 0};
    c->status = VBLK_STATUS_UNSET;
    struct vq_buf bufs[3] = {
        {vblk_cmd_addr(v, s), sizeof(c->hdr), false},
        {id_dma, VIRTIO_BLK_ID_BYTES, true},
        {vblk_cmd_addr(v, s) + offsetof(struct vblk_cmd, status), 1, true},
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
        if (vblk_has(v, names[i].bit))
            printf(" %s", names[i].name);
    printf(" (offered %#llx)\n", (unsigned long long)v->offered);
    printf("virtio-blk: %s: queue %u entries (device max %u), depth %u, <= %u data descriptors of <= %u KiB, "
           "requests <= %u segments / %u KiB, size_max %u, seg_max %u, block size %u\n",
           v->blk.name, v->qsize, v->device_qmax, v->depth, v->seg_limit, v->piece_max >> 10, v->blk.max_segments,
           v->blk.max_sectors / 2, v->size_max, v->seg_max, v->blk_size);
    printf("virtio-blk: %s: buffers through the DMA API; the device uses %s\n", v->blk.name,
           vblk_has(v, VIRTIO_F_ACCESS_PLATFORM) ? "DMA addresses (ACCESS_PLATFORM)"
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
    v->blk.read_only = vblk_has(v, VIRTIO_BLK_F_RO);
    v->blk.has_flush = vblk_has(v, VIRTIO_BLK_F_FLUSH);
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
