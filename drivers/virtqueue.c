/* SPDX-License-Identifier: MIT */
/* virtqueue.c - split virtqueue, driver side (see virtqueue.h; virtio 1.2, 2.7).
 *
 * Ordering (2.7.13 "Supplying Buffers to The Device", 2.7.14 "Receiving Used Buffers From The
 * Device"): descriptors and the available ring entry are written before avail->idx (a release
 * fence: a write barrier), avail->idx is written before used->flags is read to decide on a
 * notification (a full fence, 2.7.10), and used->idx is read before the used entries it covers
 * (an acquire load: a read barrier). Shared fields the device writes are read exactly once each,
 * with __atomic loads, so the compiler cannot re-read a value after it was checked.
 * On x86-64 the release and acquire fences are compiler barriers and the full fence is MFENCE.
 */
#include "drivers/virtqueue.h"

#include <stdio.h>
#include <string.h>

#define vq_wmb() __atomic_thread_fence(__ATOMIC_RELEASE)
#define vq_rmb() __atomic_thread_fence(__ATOMIC_ACQUIRE)
#define vq_mb() __atomic_thread_fence(__ATOMIC_SEQ_CST)

static bool is_pow2(uint32_t v) { return v && (v & (v - 1)) == 0; }

int vq_layout(uint32_t size, struct vq_layout *l)
{
    if (!is_pow2(size) || size > VQ_MAX_SIZE)
        return -1;
    l->desc_off = 0;
    l->avail_off = sizeof(struct virtq_desc) * size;                             /* 16 * size: 16-aligned */
    size_t avail_end = l->avail_off + sizeof(struct virtq_avail) + 2 * size + 2; /* 6 + 2 * size */
    l->used_off = (avail_end + 3) & ~(size_t)3;
    l->total = l->used_off + sizeof(struct virtq_used) + sizeof(struct virtq_used_elem) * size + 2; /* 6 + 8 * size */
    return 0;
}

size_t vq_priv_bytes(uint32_t size)
{
    return sizeof(struct vq_slot) * size + ((sizeof(uint16_t) * size + 7) & ~(size_t)7);
}

int vq_init(struct virtqueue *vq, uint32_t size, void *desc, void *avail, void *used, void *priv)
{
    struct vq_layout l;
    if (vq_layout(size, &l) != 0 || desc == NULL || avail == NULL || used == NULL || priv == NULL ||
        (uintptr_t)desc % 16 || (uintptr_t)avail % 2 || (uintptr_t)used % 4 || (uintptr_t)priv % 8)
        return -1;
    memset(vq, 0, sizeof(*vq));
    vq->size = size;
    vq->mask = (uint16_t)(size - 1);
    vq->desc = desc;
    vq->avail = avail;
    vq->used = used;
    vq->slot = priv;
    vq->pending = (uint16_t *)((uint8_t *)priv + sizeof(struct vq_slot) * size);
    /* The rings are the driver's until the queue is enabled: start from a clean state. */
    memset(desc, 0, sizeof(struct virtq_desc) * size);
    memset(avail, 0, sizeof(struct virtq_avail) + 2 * size + 2);
    memset(used, 0, sizeof(struct virtq_used) + sizeof(struct virtq_used_elem) * size + 2);
    memset(priv, 0, vq_priv_bytes(size));
    vq->avail->flags = VIRTQ_AVAIL_F_NO_INTERRUPT; /* polled until asked otherwise */
    for (uint32_t i = 0; i < size; i++)
        vq->slot[i].next = (uint16_t)(i + 1 < size ? i + 1 : 0);
    vq->free_head = 0;
    vq->num_free = size;
    return 0;
}

/* The two event indices, past the ends of the rings (2.7.6, 2.7.8). */
static uint16_t *used_event(struct virtqueue *vq) { return &vq->avail->ring[vq->size]; }
static uint16_t *avail_event(struct virtqueue *vq) { return (uint16_t *)(void *)&vq->used->ring[vq->size]; }

void vq_set_event_idx(struct virtqueue *vq, bool on) { vq->event_idx = on; }

void vq_set_interrupts(struct virtqueue *vq, bool on)
{
    vq->interrupts = on;
    if (vq->event_idx) {
        /* 2.7.7.1: flags 0; used_event says when. Off: the entry furthest away (65535 on). */
        __atomic_store_n(&vq->avail->flags, 0, __ATOMIC_RELAXED);
        __atomic_store_n(used_event(vq), (uint16_t)(on ? vq->last_used : vq->last_used - 1), __ATOMIC_RELEASE);
    } else {
        __atomic_store_n(&vq->avail->flags, on ? 0 : VIRTQ_AVAIL_F_NO_INTERRUPT, __ATOMIC_RELEASE);
    }
    vq_mb(); /* before any later read of the used ring */
}

bool vq_rearm(struct virtqueue *vq)
{
    if (!vq->event_idx || !vq->interrupts || vq->broken)
        return false;
    __atomic_store_n(used_event(vq), vq->last_used, __ATOMIC_RELEASE);
    vq_mb(); /* 2.7.10: used_event visible before used->idx is read again */
    return vq_has_used(vq);
}

void vq_set_start_index(struct virtqueue *vq, uint16_t idx)
{
    vq->avail_idx = vq->avail_published = vq->last_used = idx;
    vq->avail->idx = idx;
    vq->used->idx = idx;
}

int vq_add(struct virtqueue *vq, const struct vq_buf *bufs, unsigned n, void *token)
{
    if (vq->broken)
        return -VQ_ERR_BROKEN;
    if (n == 0 || n > vq->size || bufs == NULL)
        return -VQ_ERR_INVALID;
    uint64_t total = 0, writable = 0;
    bool seen_writable = false;
    for (unsigned i = 0; i < n; i++) {
        if (bufs[i].len == 0)
            return -VQ_ERR_INVALID;
        if (bufs[i].device_writes) {
            seen_writable = true;
            writable += bufs[i].len;
        } else if (seen_writable) {
            return -VQ_ERR_INVALID; /* 2.7.4.2: device-writable buffers after device-readable ones */
        }
        total += bufs[i].len;
    }
    if (total > UINT32_MAX) /* 2.7.5.1: no chain longer than 2^32 bytes in total */
        return -VQ_ERR_INVALID;
    if (n > vq->num_free)
        return -VQ_ERR_FULL;

    /* Take n descriptors off the free list; its links become the chain's links. */
    uint16_t head = vq->free_head, d = head;
    for (unsigned i = 0; i < n; i++) {
        struct vq_slot *s = &vq->slot[d];
        uint16_t next = s->next;
        struct virtq_desc *desc = &vq->desc[d];
        desc->addr = bufs[i].addr;
        desc->len = bufs[i].len;
        desc->flags =
            (uint16_t)((bufs[i].device_writes ? VIRTQ_DESC_F_WRITE : 0) | (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0));
        desc->next = i + 1 < n ? next : 0;
        s->state = i == 0 ? VQ_SLOT_QUEUED : VQ_SLOT_BODY;
        if (i + 1 == n)
            vq->free_head = next; /* meaningless when the list is now empty */
        else
            d = next;
    }
    vq->num_free -= n;
    struct vq_slot *h = &vq->slot[head];
    h->token = token;
    h->writable = (uint32_t)writable;
    h->count = (uint16_t)n;

    /* 2.7.13.2: the head goes into the next available ring slot; idx is published later. */
    uint16_t at = vq->avail_idx & vq->mask;
    __atomic_store_n(&vq->avail->ring[at], head, __ATOMIC_RELAXED);
    vq->pending[at] = head;
    vq->avail_idx++;
    return head;
}

bool vq_publish(struct virtqueue *vq)
{
    if (vq->avail_published == vq->avail_idx)
        return false;
    uint16_t old = vq->avail_published;
    for (uint16_t i = old; i != vq->avail_idx; i++)
        vq->slot[vq->pending[i & vq->mask]].state = VQ_SLOT_HEAD;
    vq_wmb(); /* 2.7.13.3: descriptors and ring entries before idx */
    __atomic_store_n(&vq->avail->idx, vq->avail_idx, __ATOMIC_RELEASE);
    vq->avail_published = vq->avail_idx;
    vq_mb();           /* 2.7.13.4 / 2.7.10: idx visible before we read what the device asked */
    if (vq->event_idx) /* any value the device writes there only decides this: nothing to validate */
        return virtq_need_event(__atomic_load_n(avail_event(vq), __ATOMIC_RELAXED), vq->avail_idx, old);
    return !(__atomic_load_n(&vq->used->flags, __ATOMIC_RELAXED) & VIRTQ_USED_F_NO_NOTIFY);
}

static int fail(struct virtqueue *vq, enum vq_error e, uint32_t id, uint32_t len, uint16_t idx, uint32_t limit)
{
    vq->broken = true;
    vq->error = e;
    vq->bad_id = id;
    vq->bad_len = len;
    vq->bad_idx = idx;
    vq->bad_limit = limit;
    return -(int)e;
}

bool vq_has_used(const struct virtqueue *vq)
{
    return __atomic_load_n(&vq->used->idx, __ATOMIC_RELAXED) != vq->last_used;
}

static void free_chain(struct virtqueue *vq, uint16_t head)
{
    struct vq_slot *h = &vq->slot[head];
    uint16_t d = head, count = h->count;
    if (count == 0 || count > vq->size)
        return; /* not a chain head: the callers never let that happen */
    vq->slot[d].state = VQ_SLOT_FREE;
    for (uint16_t i = 1; i < count; i++) {
        d = vq->slot[d].next;
        vq->slot[d].state = VQ_SLOT_FREE;
    }
    /* Splice the whole chain onto the front of the free list. */
    vq->slot[d].next = vq->num_free ? vq->free_head : 0;
    vq->free_head = head;
    vq->num_free += count;
    h->token = NULL;
    h->writable = 0;
    h->count = 0;
}

int vq_get_used(struct virtqueue *vq, struct vq_used_info *out)
{
    if (vq->broken)
        return -VQ_ERR_BROKEN;
    /* 2.7.14: read idx, then (read barrier: the acquire) the entries it covers. */
    uint16_t used_idx = __atomic_load_n(&vq->used->idx, __ATOMIC_ACQUIRE);
    uint16_t ready = (uint16_t)(used_idx - vq->last_used);
    uint16_t in_flight = (uint16_t)(vq->avail_published - vq->last_used);
    if (ready > in_flight) /* also catches idx moving backwards: that wraps to a huge count */
        return fail(vq, VQ_ERR_IDX, 0, 0, used_idx, in_flight);
    if (ready == 0)
        return 0;
    vq_rmb();
    const struct virtq_used_elem *e = &vq->used->ring[vq->last_used & vq->mask];
    uint32_t id = __atomic_load_n(&e->id, __ATOMIC_RELAXED);
    uint32_t len = __atomic_load_n(&e->len, __ATOMIC_RELAXED);
    if (id >= vq->size)
        return fail(vq, VQ_ERR_ID_RANGE, id, len, vq->last_used, vq->size);
    const struct vq_slot *s = &vq->slot[id];
    switch (s->state) {
    case VQ_SLOT_HEAD: break;
    case VQ_SLOT_FREE: return fail(vq, VQ_ERR_ID_FREE, id, len, vq->last_used, 0);
    case VQ_SLOT_BODY: return fail(vq, VQ_ERR_ID_BODY, id, len, vq->last_used, 0);
    default: return fail(vq, VQ_ERR_ID_UNPUBLISHED, id, len, vq->last_used, 0);
    }
    if (len > s->writable)
        return fail(vq, VQ_ERR_LEN, id, len, vq->last_used, s->writable);
    out->head = (uint16_t)id;
    out->count = s->count;
    out->len = len;
    out->token = s->token;
    free_chain(vq, (uint16_t)id);
    vq->last_used++;
    return 1;
}

bool vq_detach_one(struct virtqueue *vq, void **token)
{
    for (uint32_t i = 0; i < vq->size; i++) {
        uint8_t st = vq->slot[i].state;
        if (st == VQ_SLOT_QUEUED || st == VQ_SLOT_HEAD) {
            *token = vq->slot[i].token;
            free_chain(vq, (uint16_t)i);
            return true;
        }
    }
    return false;
}

uint32_t vq_chains_outstanding(const struct virtqueue *vq)
{
    /* Published and not used, plus added and not published. */
    return (uint16_t)(vq->avail_published - vq->last_used) + (uint16_t)(vq->avail_idx - vq->avail_published);
}

#define MARK 0x80u

static int check_fail(char *why, size_t len, const char *fmt, unsigned a, unsigned b)
{
    if (why && len)
        snprintf(why, len, fmt, a, b);
    return -1;
}

int vq_check(const struct virtqueue *cvq, char *why, size_t whylen)
{
    struct virtqueue *vq = (struct virtqueue *)cvq; /* marks are set and cleared again below */
    int rc = 0;
    uint32_t n = vq->size, chained = 0, heads = 0, queued = 0;
    if (vq->num_free > n) {
        rc = check_fail(why, whylen, "num_free %u > size %u", vq->num_free, n);
        goto out;
    }
    /* The free list: num_free distinct free descriptors. */
    uint16_t d = vq->free_head;
    for (uint32_t i = 0; i < vq->num_free; i++) {
        if (d >= n || vq->slot[d].state != VQ_SLOT_FREE) {
            rc = check_fail(why, whylen, "free list entry %u (descriptor %u) is not a free descriptor", i, d);
            goto out;
        }
        vq->slot[d].state |= MARK;
        d = vq->slot[d].next;
    }
    /* Every chain: a head, then count - 1 body descriptors, each reached once. */
    for (uint32_t h = 0; h < n; h++) {
        uint8_t st = vq->slot[h].state & ~MARK;
        if (st != VQ_SLOT_QUEUED && st != VQ_SLOT_HEAD)
            continue;
        if (st == VQ_SLOT_HEAD)
            heads++;
        else
            queued++;
        uint16_t count = vq->slot[h].count;
        if (count == 0 || count > n) {
            rc = check_fail(why, whylen, "chain %u has %u descriptors", h, count);
            goto out;
        }
        vq->slot[h].state |= MARK;
        uint16_t b = (uint16_t)h;
        for (uint16_t i = 1; i < count; i++) {
            b = vq->slot[b].next;
            if (b >= n || vq->slot[b].state != VQ_SLOT_BODY) {
                rc = check_fail(why, whylen, "chain %u: descriptor %u is not an unclaimed body descriptor", h, b);
                goto out;
            }
            vq->slot[b].state |= MARK;
        }
        chained += count;
    }
    for (uint32_t i = 0; i < n; i++)
        if (!(vq->slot[i].state & MARK)) {
            rc = check_fail(why, whylen, "descriptor %u (state %u) is neither free nor in a chain", i,
                            vq->slot[i].state);
            goto out;
        }
    if (chained + vq->num_free != n) {
        rc = check_fail(why, whylen, "%u in chains + free != size %u", chained + vq->num_free, n);
        goto out;
    }
    if (heads != (uint16_t)(vq->avail_published - vq->last_used)) {
        rc = check_fail(why, whylen, "%u published chains, indices say %u", heads,
                        (uint16_t)(vq->avail_published - vq->last_used));
        goto out;
    }
    if (queued != (uint16_t)(vq->avail_idx - vq->avail_published)) {
        rc = check_fail(why, whylen, "%u unpublished chains, indices say %u", queued,
                        (uint16_t)(vq->avail_idx - vq->avail_published));
        goto out;
    }
out:
    for (uint32_t i = 0; i < n; i++)
        vq->slot[i].state &= (uint8_t)~MARK;
    return rc;
}

const char *vq_error_name(enum vq_error e)
{
    static const char *const names[] = {"ok",
                                        "ring full",
                                        "invalid chain",
                                        "queue broken",
                                        "bad used idx",
                                        "used id out of range",
                                        "used id not in flight",
                                        "used id not a chain head",
                                        "used id not yet available",
                                        "used len too large"};
    return (unsigned)e < VQ_ERR_COUNT ? names[e] : "?";
}

void vq_describe_error(const struct virtqueue *vq, char *buf, size_t len)
{
    switch (vq->error) {
    case VQ_ERR_IDX:
        snprintf(buf, len, "used idx jumped to %u from %u: %u new entries, but only %u chains were in flight",
                 vq->bad_idx, vq->last_used, (uint16_t)(vq->bad_idx - vq->last_used), vq->bad_limit);
        break;
    case VQ_ERR_ID_RANGE:
        snprintf(buf, len, "used entry %u: id %u out of range (queue size %u)", vq->bad_idx, vq->bad_id, vq->bad_limit);
        break;
    case VQ_ERR_ID_FREE:
        snprintf(buf, len, "used entry %u: id %u is a free descriptor (a duplicate or invented completion)",
                 vq->bad_idx, vq->bad_id);
        break;
    case VQ_ERR_ID_BODY:
        snprintf(buf, len, "used entry %u: id %u is inside a chain, not its head", vq->bad_idx, vq->bad_id);
        break;
    case VQ_ERR_ID_UNPUBLISHED:
        snprintf(buf, len, "used entry %u: id %u heads a chain not yet made available", vq->bad_idx, vq->bad_id);
        break;
    case VQ_ERR_LEN:
        snprintf(buf, len, "used entry %u: id %u len %u exceeds the chain's %u device-writable bytes", vq->bad_idx,
                 vq->bad_id, vq->bad_len, vq->bad_limit);
        break;
    default: snprintf(buf, len, "%s", vq_error_name(vq->error)); break;
    }
}
