/* SPDX-License-Identifier: MIT */
/* abi/virtio_ring.h - the split virtqueue's memory (virtio 1.2, 2.7 "Split Virtqueues"): the
 * descriptor table, the available ring and the used ring, as the driver and the device both see
 * them. Shared fields are little-endian (virtio 1.x); bounce is x86-64 only, so they are used as is.
 */
#ifndef BOUNCE_ABI_VIRTIO_RING_H
#define BOUNCE_ABI_VIRTIO_RING_H

#include <stdint.h>

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "virtio 1.x rings are little-endian");

#define VQ_MAX_SIZE 32768u /* 2.7: "The maximum Queue Size value is 32768" */

/* 2.7.5 The Virtqueue Descriptor Table */
#define VIRTQ_DESC_F_NEXT 1u
#define VIRTQ_DESC_F_WRITE 2u    /* device-writable (otherwise device-readable) */
#define VIRTQ_DESC_F_INDIRECT 4u /* bounce negotiates no VIRTIO_F_INDIRECT_DESC */
/* 2.7.6 / 2.7.7 Available ring and used buffer notification suppression */
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1u
/* 2.7.8 / 2.7.10 Used ring and available buffer notification suppression */
#define VIRTQ_USED_F_NO_NOTIFY 1u

struct virtq_desc {
    uint64_t addr; /* DMA address of the buffer */
    uint32_t len;
    uint16_t flags;
    uint16_t next;
};

struct virtq_avail {
    uint16_t flags;
    uint16_t idx;
    uint16_t ring[]; /* [size], then used_event (only with VIRTIO_F_EVENT_IDX) */
};

struct virtq_used_elem {
    uint32_t id;  /* head of the used descriptor chain */
    uint32_t len; /* bytes the device wrote into the chain's device-writable buffers */
};

struct virtq_used {
    uint16_t flags;
    uint16_t idx;
    struct virtq_used_elem ring[]; /* [size], then avail_event (only with VIRTIO_F_EVENT_IDX) */
};

/* 2.7.10 / 2.7.7 with VIRTIO_F_EVENT_IDX: the side that moved its index from old to new_idx
 * notifies the other if that passed the other's event index, i.e. event lies in [old, new_idx)
 * (modulo 2^16) - the test both sides make. */
static inline int virtq_need_event(uint16_t event, uint16_t new_idx, uint16_t old)
{
    return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old);
}

#endif
