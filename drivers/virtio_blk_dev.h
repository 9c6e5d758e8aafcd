/* SPDX-License-Identifier: MIT */
/* virtio_blk_dev.h - the virtio-blk driver's private state, shared by its two files:
 * virtio_blk_probe.c (bring-up: features, configuration, limits, memory, GET_ID) and
 * virtio_blk.c (requests: submit, complete, recover). Not an interface for anything else; the
 * driver's public interface is drivers.h (virtio_blk_probe) and the block layer (blk.h).
 */
#ifndef BOUNCE_DRIVERS_VIRTIO_BLK_DEV_H
#define BOUNCE_DRIVERS_VIRTIO_BLK_DEV_H

#include <stdbool.h>
#include <stdint.h>

#include "dma/dma.h"
#include "drivers/blk.h"
#include "drivers/virtio.h"
#include "abi/virtio_blk.h"
#include "drivers/virtio_blk_cfg.h"
#include "drivers/virtqueue.h"
#include "kernel/time.h"

#define VBLK_QUEUE 0 /* the request queue (5.2.2) */
#define VBLK_REQ_TIMEOUT_NS (BLK_TIMEOUT_NS - NSEC_PER_SEC)
#define VBLK_ID_TIMEOUT_NS (2 * NSEC_PER_SEC)
#define VBLK_MAX_BYTES (BLK_MAX_SEGMENTS * 4096u) /* what the block layer sends at most: 1 MiB */
#define VBLK_STATUS_UNSET 0xff

/* Features we accept when offered (5.2.3, 6). VERSION_1 is required; EVENT_IDX suppresses
 * notifications and interrupts by event indices (2.7.7, 2.7.10). Not accepted: GEOMETRY,
 * TOPOLOGY, CONFIG_WCE, MQ, DISCARD, WRITE_ZEROES, INDIRECT_DESC, RING_PACKED, IN_ORDER,
 * NOTIFICATION_DATA - nothing here uses them. */
#define VBLK_WANTED                                                                                              \
    (VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_F_ACCESS_PLATFORM) | VIRTIO_BIT(VIRTIO_BLK_F_SIZE_MAX) | \
     VIRTIO_BIT(VIRTIO_BLK_F_SEG_MAX) | VIRTIO_BIT(VIRTIO_BLK_F_BLK_SIZE) | VIRTIO_BIT(VIRTIO_BLK_F_FLUSH) |     \
     VIRTIO_BIT(VIRTIO_BLK_F_RO) | VIRTIO_BIT(VIRTIO_F_EVENT_IDX))

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
    uint32_t data_bytes; /* the request's data: the pieces' lengths added up */
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
    struct vq_buf *bufs;     /* [lim.seg_limit + 2]: one chain being built */
    uint32_t depth, inflight;
    /* what the device's configuration says, and the queue size and limits that follow */
    struct vblk_cfg cfg;
    struct vblk_limits lim;
    bool registered; /* probed and handed to the block layer */
    bool irq;        /* io=irq: the transport routed the queue's interrupt to vblk_interrupt() */
    bool broken;
    enum blk_status broken_status;
};

static inline bool vblk_has(const struct vblk *v, int bit) { return (v->features >> bit) & 1; }

/* The DMA address of command slot `slot` in the coherent command array. */
static inline dma_addr_t vblk_cmd_addr(const struct vblk *v, uint32_t slot)
{
    return v->cmd_dma + (dma_addr_t)slot * sizeof(struct vblk_cmd);
}

/* Bring-up steps that recovery repeats after a reset (virtio_blk_probe.c). */
int vblk_negotiate(struct vblk *v);
int vblk_start_queue(struct vblk *v);

/* The block-layer operations (virtio_blk.c), and the queue's interrupt handler (arg: the vblk). */
extern const struct blk_ops vblk_ops;
void vblk_interrupt(void *arg);

#endif
