/* SPDX-License-Identifier: MIT */
/* virtio_blk_probe.c - bringing up a virtio block device (virtio 1.2, 3.1.1 "Device
 * Initialization", 5.2 "Block Device"): feature negotiation, the configuration space, the
 * queue size and request limits, the rings and command slots in coherent DMA memory, and
 * GET_ID; then the disk is registered with the block layer. The request path, and why every
 * buffer goes through the DMA API, is in virtio_blk.c.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "drivers/drivers.h"
#include "drivers/refusals.h"
#include "drivers/virtio_blk_cfg.h"
#include "drivers/virtio_blk_dev.h"
#include "kernel/irq.h"
#include "kernel/options.h"

static struct vblk *disks[BLK_MAX_DEVICES];
_Static_assert(VBLK_QSIZE_MAX <= VQ_MAX_SIZE, "the queue we ask for is one virtio allows (2.7)");
static size_t ndisks;

/* Why the device cannot be used. At probe time that is a refusal (refusals.h); once the disk is
 * registered, a reset that fails to bring it back is only reported (the request path disables
 * the disk). Returns -1. */
static int vblk_unusable(struct vblk *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int vblk_unusable(struct vblk *v, const char *fmt, ...)
{
    char why[DEV_REFUSAL_REASON_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof(why), fmt, ap);
    va_end(ap);
    if (v->registered)
        printf("virtio-blk: %s: %s\n", v->blk.name, why);
    else
        dev_refuse("virtio-blk", v->vdev->location, "%s", why);
    return -1;
}

/* ---- device bring-up (3.1.1) ---- */

/* Reset, ACKNOWLEDGE, DRIVER, features, FEATURES_OK. */
int vblk_negotiate(struct vblk *v)
{
    struct virtio_device *vdev = v->vdev;
    if (virtio_begin_init(vdev) != 0)
        return -1;
    uint64_t offered, neg;
    enum virtio_negotiation n = virtio_negotiate(vdev, VBLK_WANTED, VIRTIO_BIT(VIRTIO_F_VERSION_1), &offered, &neg);
    if (n == VIRTIO_MISSING_REQUIRED) {
        virtio_fail(vdev);
        return vblk_unusable(v,
                             "the device does not offer VIRTIO_F_VERSION_1 (features %#" PRIx64 "): a legacy-only "
                             "device, which bounce does not drive",
                             offered);
    }
    if (n == VIRTIO_FEATURES_REFUSED) {
        virtio_fail(vdev);
        return vblk_unusable(v, "the device did not accept features %#" PRIx64 " (FEATURES_OK cleared)", neg);
    }
    if (v->features_known && neg != v->features) {
        virtio_fail(vdev);
        return vblk_unusable(v, "features changed across a reset (%#" PRIx64 ", now %#" PRIx64 ")", v->features, neg);
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
    if (vq_init(&v->vq, v->lim.qsize, ring + v->layout.desc_off, ring + v->layout.avail_off, ring + v->layout.used_off,
                v->vq_priv) != 0 ||
        v->vdev->ops->setup_queue(v->vdev, VBLK_QUEUE, v->lim.qsize, v->ring_dma + v->layout.desc_off,
                                  v->ring_dma + v->layout.avail_off, v->ring_dma + v->layout.used_off) != 0) {
        virtio_fail(v->vdev);
        return vblk_unusable(v, "cannot set up queue %u with %u entries", VBLK_QUEUE, v->lim.qsize);
    }
    virtio_add_status(v->vdev, VIRTIO_STATUS_DRIVER_OK);
    if (v->vdev->ops->get_status(v->vdev) & VIRTIO_STATUS_DEVICE_NEEDS_RESET) {
        virtio_fail(v->vdev);
        return vblk_unusable(v, "the device needs a reset right after DRIVER_OK");
    }
    vq_set_event_idx(&v->vq, vblk_has(v, VIRTIO_F_EVENT_IDX));
    vq_set_interrupts(&v->vq, v->irq && v->registered); /* probe-time commands are polled */
    return 0;
}

/* io=irq: the queue's interrupt, through whatever the transport has (MSI-X, an I/O APIC line);
 * the route is printed. Without one the disk is polled, and says why. */
static void vblk_request_irq(struct vblk *v)
{
    char route[160];
    if (kopts.io != IO_IRQ)
        return;
    if (!irq_available())
        snprintf(route, sizeof(route), "no local APIC with a calibrated timer");
    else if (v->vdev->ops->request_irq == NULL)
        snprintf(route, sizeof(route), "the transport has no interrupts");
    else if ((v->blk.irq_vector =
                  v->vdev->ops->request_irq(v->vdev, VBLK_QUEUE, vblk_interrupt, v, route, sizeof(route))) >= 0)
        v->irq = true;
    v->blk.irq_level = v->vdev->irq_level;
    printf("virtio-blk: %s: interrupt: %s%s\n", v->blk.name, route, v->irq ? "" : " - polled instead");
}

static int read_cfg32(struct vblk *v, uint32_t off, uint32_t *out)
{
    if (v->vdev->ops->read_config(v->vdev, off, out, 4) != 0)
        return vblk_unusable(v, "cannot read the configuration at offset %u", off);
    return 0;
}

/* 5.2.4: the configuration fields of the features we accepted (VBLK_WANTED), and the request
 * queue's size; what they mean for the driver is virtio_blk_cfg.c. */
static int vblk_read_config(struct vblk *v)
{
    struct vblk_cfg *c = &v->cfg;
    *c = (struct vblk_cfg){
        .has_size_max = vblk_has(v, VIRTIO_BLK_F_SIZE_MAX),
        .has_seg_max = vblk_has(v, VIRTIO_BLK_F_SEG_MAX),
        .has_blk_size = vblk_has(v, VIRTIO_BLK_F_BLK_SIZE),
        .depth = v->depth,
        .max_block_size = BLK_MAX_BLOCK_SIZE,
        .max_request_bytes = VBLK_MAX_BYTES,
        .max_segments = BLK_MAX_SEGMENTS,
    };
    if (v->vdev->ops->read_config(v->vdev, VIRTIO_BLK_CFG_CAPACITY, &c->capacity, 8) != 0)
        return vblk_unusable(v, "cannot read the capacity");
    if ((c->has_size_max && read_cfg32(v, VIRTIO_BLK_CFG_SIZE_MAX, &c->size_max) != 0) ||
        (c->has_seg_max && read_cfg32(v, VIRTIO_BLK_CFG_SEG_MAX, &c->seg_max) != 0) ||
        (c->has_blk_size && read_cfg32(v, VIRTIO_BLK_CFG_BLK_SIZE, &c->blk_size) != 0))
        return -1;
    c->device_qmax = v->vdev->ops->max_queue_size(v->vdev, VBLK_QUEUE);
    return 0;
}

/* The queue size and the request limits; the DMA layer learns size_max (0: no limit). */
static int vblk_limits(struct vblk *v)
{
    v->dma.max_segment_size = v->cfg.has_size_max ? v->cfg.size_max : 0;
    v->cfg.map_max = dma_max_mapping_size(&v->dma);
    char why[DEV_REFUSAL_REASON_MAX];
    if (vblk_cfg_limits(&v->cfg, &v->lim, why, sizeof(why)) != 0)
        return vblk_unusable(v, "%s", why);
    v->blk.capacity = v->cfg.capacity;
    v->blk.block_size = v->lim.block_size;
    v->blk.max_sectors = v->lim.max_sectors;
    v->blk.max_segments = v->lim.max_segments;
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
    vq_layout(v->lim.qsize, &v->layout);
    v->ring = dma_alloc_coherent(&v->dma, v->layout.total, &v->ring_dma);
    v->cmd_bytes = (v->depth + 1) * sizeof(struct vblk_cmd) + VIRTIO_BLK_ID_BYTES;
    v->cmd = dma_alloc_coherent(&v->dma, v->cmd_bytes, &v->cmd_dma);
    v->vq_priv = malloc(vq_priv_bytes(v->lim.qsize));
    v->slot = calloc(v->depth, sizeof(*v->slot));
    v->reaped = calloc(v->depth, sizeof(*v->reaped));
    v->bufs = calloc(v->lim.seg_limit + 2, sizeof(*v->bufs));
    if (!v->ring || !v->cmd || !v->vq_priv || !v->slot || !v->reaped || !v->bufs)
        return -1;
    for (uint32_t i = 0; i < v->depth; i++)
        if ((v->slot[i].piece = calloc(v->lim.seg_limit, sizeof(struct vblk_piece))) == NULL)
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
    if (!wait_until(used_ready, v, VBLK_ID_TIMEOUT_NS))
        return vblk_unusable(v, "no answer to GET_ID within %" PRIu64 " ms",
                             (uint64_t)(VBLK_ID_TIMEOUT_NS / NSEC_PER_MSEC));
    struct vq_used_info u;
    if (vq_get_used(&v->vq, &u) != 1) {
        char why[200];
        vq_describe_error(&v->vq, why, sizeof(why));
        return vblk_unusable(v, "DEVICE BROKE THE VIRTQUEUE PROTOCOL answering GET_ID: %s", why);
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
    static const struct {
        int bit;
        const char *name;
    } names[] = {
        {VIRTIO_F_VERSION_1, "VERSION_1"},
        {VIRTIO_F_ACCESS_PLATFORM, "ACCESS_PLATFORM"},
        {VIRTIO_BLK_F_SIZE_MAX, "SIZE_MAX"},
        {VIRTIO_BLK_F_SEG_MAX, "SEG_MAX"},
        {VIRTIO_BLK_F_BLK_SIZE, "BLK_SIZE"},
        {VIRTIO_BLK_F_FLUSH, "FLUSH"},
        {VIRTIO_BLK_F_RO, "RO"},
        {VIRTIO_F_EVENT_IDX, "EVENT_IDX"},
    };
    printf("virtio-blk: %s: %s, features", v->blk.name, v->vdev->location);
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (vblk_has(v, names[i].bit))
            printf(" %s", names[i].name);
    printf(" (offered %#" PRIx64 ")\n", v->offered);
    char cfg[120];
    vblk_cfg_describe(&v->cfg, &v->lim, cfg, sizeof(cfg));
    printf("virtio-blk: %s: %s; %u-byte blocks\n", v->blk.name, cfg, v->lim.block_size);
    printf("virtio-blk: %s: queue %u entries (device max %u), depth %u, <= %u data descriptors of <= %u bytes, "
           "requests <= %u segments / %u KiB\n",
           v->blk.name, v->lim.qsize, v->cfg.device_qmax, v->depth, v->lim.seg_limit, v->lim.piece_max,
           v->blk.max_segments, v->blk.max_sectors / 2);
    printf("virtio-blk: %s: buffers through the DMA API; the device uses %s\n", v->blk.name,
           vblk_has(v, VIRTIO_F_ACCESS_PLATFORM) ? "DMA addresses (ACCESS_PLATFORM)"
                                                 : "guest-physical addresses (no ACCESS_PLATFORM)");
}

static void vblk_probe_one(struct virtio_device *vdev)
{
    if (ndisks == BLK_MAX_DEVICES) {
        dev_refuse("virtio-blk", vdev->location, "more than %d disks", BLK_MAX_DEVICES);
        return;
    }
    struct vblk *v = calloc(1, sizeof(*v));
    if (v == NULL) {
        dev_refuse("virtio-blk", vdev->location, "out of memory");
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
        vblk_unusable(v, "out of memory for a queue of %u entries and %u requests", v->lim.qsize, v->depth);
        virtio_fail(vdev);
        vblk_free(v);
        return;
    }
    vblk_request_irq(v);
    if (vblk_start_queue(v) != 0 || vblk_get_id(v) != 0) {
        vdev->ops->reset(vdev); /* stop it before its memory is freed */
        if (v->irq)
            vdev->ops->free_irq(vdev);
        virtio_fail(vdev);
        vblk_free(v);
        return;
    }
    v->blk.read_only = vblk_has(v, VIRTIO_BLK_F_RO);
    v->blk.has_flush = vblk_has(v, VIRTIO_BLK_F_FLUSH);
    v->blk.ops = &vblk_ops;
    v->blk.driver = v;
    v->blk.dma = &v->dma;                          /* lets the block layer size requests to the bounce pool */
    v->blk.fills_by_dma = true;                    /* every buffer goes through the DMA API */
    v->blk.completes_exactly = exact_completion(); /* the used len says what the device wrote */
    v->registered = true;
    v->blk.irq_driven = v->irq;
    vq_set_interrupts(&v->vq, v->irq);
    disks[ndisks++] = v;
    print_features(v);
    blk_register(&v->blk);
}

void virtio_blk_probe(void) { virtio_enumerate(VIRTIO_ID_BLOCK, "virtio-blk", vblk_probe_one); }
