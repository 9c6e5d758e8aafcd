/* SPDX-License-Identifier: MIT */
/* virtqueue.h - the driver side of a virtio split virtqueue (virtio 1.2, 2.7 "Split Virtqueues").
 *
 * Pure logic: no hardware access, no kernel headers. The ring memory (descriptor table, available
 * ring, used ring) is handed in as pointers, so the same code runs in the guest on
 * dma_alloc_coherent() memory and natively in the host tests and the fuzzer, where the test
 * plays the device.
 *
 * THE DEVICE IS UNTRUSTED. The driver never reads back what it wrote into shared memory (the
 * descriptor table and the available ring): chain links, lengths and the free list live in
 * driver-private state (`priv`, vq_priv_bytes()). The only shared memory the driver reads is the
 * used ring, and every used entry is validated before anything is freed or completed
 * (vq_get_used()). A bad entry marks the queue broken; a broken queue completes nothing more.

 */
#ifndef BOUNCE_DRIVERS_VIRTQUEUE_H
#define BOUNCE_DRIVERS_VIRTQUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "abi/virtio_ring.h"

/* Where the three parts go when they share one allocation: descriptor table at 0 (16-aligned),
 * available ring right after it (2-aligned), used ring at the next multiple of 4 (2.7, the
 * alignment table). The allocation itself must be 16-byte aligned. */
struct vq_layout {
    size_t desc_off, avail_off, used_off, total;
};
/* Fills *l for a queue of `size` entries; -1 if size is not a power of two in 1..VQ_MAX_SIZE. */
int vq_layout(uint32_t size, struct vq_layout *l);

/* Bytes of driver-private state a queue of `size` needs (8-byte aligned memory). */
size_t vq_priv_bytes(uint32_t size);

/* A buffer of a chain: device-readable ones first, then device-writable ones (2.7.4.2). */
struct vq_buf {
    uint64_t addr;
    uint32_t len;
    bool device_writes;
};

/* Driver-private per-descriptor state (in `priv`, never in shared memory). */
struct vq_slot {
    void *token;       /* head: the caller's cookie for the chain */
    uint32_t writable; /* head: total device-writable bytes of the chain (bound for used len) */
    uint16_t next;     /* next descriptor of the chain, or next free descriptor */
    uint16_t count;    /* head: descriptors in the chain */
    uint8_t state;     /* enum vq_slot_state */
};

enum vq_slot_state {
    VQ_SLOT_FREE = 0,
    VQ_SLOT_QUEUED, /* head of a chain added but not yet published in avail->idx */
    VQ_SLOT_HEAD,   /* head of a chain the device may complete */
    VQ_SLOT_BODY,   /* a descriptor after the head of a chain */
};

/* What went wrong (vq_get_used() and vq_add() return these negated). */
enum vq_error {
    VQ_OK = 0,
    VQ_ERR_FULL,           /* add: not enough free descriptors now (try again after completions) */
    VQ_ERR_INVALID,        /* add: a chain that can never be added (0 buffers, > size, order, length) */
    VQ_ERR_BROKEN,         /* the queue was marked broken earlier */
    VQ_ERR_IDX,            /* used->idx moved by more than the chains in flight (or backwards) */
    VQ_ERR_ID_RANGE,       /* used id >= queue size */
    VQ_ERR_ID_FREE,        /* used id names a free descriptor (e.g. a duplicate completion) */
    VQ_ERR_ID_BODY,        /* used id names a descriptor in the middle of a chain */
    VQ_ERR_ID_UNPUBLISHED, /* used id names a chain the device was never shown */
    VQ_ERR_LEN,            /* used len exceeds the chain's device-writable bytes */
    VQ_ERR_COUNT
};

struct virtqueue {
    uint32_t size; /* entries, a power of two */
    uint16_t mask;
    struct virtq_desc *desc;   /* shared, written by the driver only */
    struct virtq_avail *avail; /* shared, written by the driver only */
    struct virtq_used *used;   /* shared, written by the device: validated on every read */
    struct vq_slot *slot;      /* private [size] */
    uint16_t *pending;         /* private [size]: heads in avail order, for publish */
    uint32_t num_free;
    uint16_t free_head;       /* valid when num_free > 0 */
    uint16_t avail_idx;       /* next avail->idx to publish (chains added) */
    uint16_t avail_published; /* value last written to avail->idx */
    uint16_t last_used;       /* next used ring entry to consume */
    bool event_idx;           /* VIRTIO_F_EVENT_IDX negotiated: suppression by event indices */
    bool interrupts;          /* used buffer notifications asked for (vq_set_interrupts) */
    bool broken;
    /* The first protocol violation, for the driver's error message. */
    enum vq_error error;
    uint32_t bad_id, bad_len;
    uint16_t bad_idx;
    uint32_t bad_limit; /* what the bad value was checked against */
};

/* Set up a queue of `size` entries over ring memory (all three parts zeroed here, avail->flags
 * set to NO_INTERRUPT until vq_set_interrupts() asks for them) and `priv` (vq_priv_bytes(size)). Every descriptor free,
 * every index 0. Returns 0, or -1 for a bad size or misaligned part (16/2/4, 2.7). */
int vq_init(struct virtqueue *vq, uint32_t size, void *desc, void *avail, void *used, void *priv);

/* VIRTIO_F_EVENT_IDX was negotiated: suppression goes by event indices (2.7.7, 2.7.10) - the
 * device's avail_event decides whether vq_publish() asks for a notification, and used_event
 * (written by vq_set_interrupts and vq_rearm) when the device interrupts. Call after vq_init. */
void vq_set_event_idx(struct virtqueue *vq, bool on);
/* Ask the device for used buffer notifications, or not (2.7.7): the VIRTQ_AVAIL_F_NO_INTERRUPT
 * hint; with EVENT_IDX, flags 0 and used_event at the next entry (on) or as far away as the
 * index allows (off). A device may still interrupt: the handler copes. */
void vq_set_interrupts(struct virtqueue *vq, bool on);
/* After reaping with interrupts on: with EVENT_IDX, move used_event to the next entry (the
 * device interrupts when it writes that one), then look again - true if entries arrived before
 * the move, which may have raised no interrupt: reap them too (the race 2.7.10 warns of).
 * Without EVENT_IDX nothing moves and it is false. */
bool vq_rearm(struct virtqueue *vq);

/* Tests only: start the free-running indices at `idx` instead of 0, as if the queue had wrapped
 * 65536 times. Call right after vq_init(), before the device is given the queue; it writes
 * avail->idx and used->idx (both still the driver's). */
void vq_set_start_index(struct virtqueue *vq, uint16_t idx);

/* Add a chain of n buffers (readable ones first) with the caller's token. Writes the descriptors
 * and the available ring entry, but not avail->idx (see vq_publish()). Returns the head
 * descriptor id, or -VQ_ERR_FULL / -VQ_ERR_INVALID / -VQ_ERR_BROKEN; nothing changes on error. */
int vq_add(struct virtqueue *vq, const struct vq_buf *bufs, unsigned n, void *token);

/* Make every added chain visible: a write barrier, then avail->idx (2.7.13.3-4), then a full
 * barrier before reading what the device said about notifications (2.7.10: used->flags, or with
 * EVENT_IDX its avail_event). Returns true if the device wants a notification. */
bool vq_publish(struct virtqueue *vq);

struct vq_used_info {
    uint16_t head;  /* head descriptor id of the completed chain */
    uint16_t count; /* descriptors the chain had (all free again now) */
    uint32_t len;   /* bytes the device says it wrote, <= the chain's writable bytes */
    void *token;
};

/* Take the next completed chain: read used->idx, a read barrier, then the entry (2.7.14).
 * Validates it (idx progress, id range, id is a published head, len) and frees the chain.
 * Returns 1 with *out filled, 0 when nothing new is used, or -enum vq_error when the device
 * broke the protocol: the queue is then broken, nothing was freed or completed, and every later
 * call returns -VQ_ERR_BROKEN. */
int vq_get_used(struct virtqueue *vq, struct vq_used_info *out);

/* True if the device has used entries we have not consumed (a cheap peek, not validated). */
bool vq_has_used(const struct virtqueue *vq);

/* After the device has been reset (so it touches the rings no more): take back one chain still
 * added or in flight. Returns true with its token, false when none is left. */
bool vq_detach_one(struct virtqueue *vq, void **token);

/* Chains added and not yet used (published or not). */
uint32_t vq_chains_outstanding(const struct virtqueue *vq);
static inline uint32_t vq_num_free(const struct virtqueue *vq) { return vq->num_free; }

/* Check the private bookkeeping: free list and chains partition the descriptors, states agree.
 * Returns 0, or -1 with a reason in why (may be NULL). O(size); for tests and the fuzzer. */
int vq_check(const struct virtqueue *vq, char *why, size_t whylen);

const char *vq_error_name(enum vq_error e);
/* One line describing the violation that broke the queue, e.g. "used id 300 out of range (queue size 256)". */
void vq_describe_error(const struct virtqueue *vq, char *buf, size_t len);

#endif
