/* SPDX-License-Identifier: MIT */
/* fake_virtio_mmio.c - a virtio-mmio device for host tests (see fake_virtio_mmio.h). */
#include "tests/host/fake_virtio_mmio.h"

#include <string.h>

#include "abi/virtio.h"
#include "abi/virtio_mmio.h"

void fake_vmmio_init(struct fake_vmmio *d)
{
    *d = (struct fake_vmmio){
        .magic = VIRTIO_MMIO_MAGIC,
        .version = 2,
        .device_id = 2,
        .vendor = 0x554d4551, /* "QEMU", as QEMU's transport reports */
        .device_features = 1ull << 32,
    };
    d->q[0].num_max = 256;
    uint64_t capacity = FAKE_VMMIO_CAPACITY;
    memcpy(d->config, &capacity, sizeof(capacity));
}

static uint32_t half(uint64_t v, uint32_t sel) { return sel == 0 ? (uint32_t)v : sel == 1 ? (uint32_t)(v >> 32) : 0; }

static void set_half(uint64_t *v, uint32_t sel, uint32_t x)
{
    if (sel == 0)
        *v = (*v & ~0xffffffffull) | x;
    else if (sel == 1)
        *v = (*v & 0xffffffffull) | (uint64_t)x << 32;
}

static struct fake_vmmio_queue *selected(struct fake_vmmio *d)
{
    return d->queue_sel < FAKE_VMMIO_QUEUES ? &d->q[d->queue_sel] : NULL;
}

static uint32_t config_read(struct fake_vmmio *d, uint32_t off, unsigned width)
{
    uint32_t v = 0;
    if (off + width <= FAKE_VMMIO_CONFIG_BYTES)
        memcpy(&v, d->config + off, width);
    return v;
}

static uint32_t vmmio_read(void *dev, uint32_t off, unsigned width)
{
    struct fake_vmmio *d = dev;
    d->accesses++;
    if (off >= VIRTIO_MMIO_CONFIG)
        return config_read(d, off - VIRTIO_MMIO_CONFIG, width);
    if (width != 4 || off % 4 != 0) {
        d->bad_width++;
        return 0;
    }
    struct fake_vmmio_queue *q = selected(d);
    switch (off) {
    case VIRTIO_MMIO_MAGIC_VALUE: return d->magic;
    case VIRTIO_MMIO_VERSION: return d->version;
    case VIRTIO_MMIO_DEVICE_ID: return d->device_id;
    case VIRTIO_MMIO_VENDOR_ID: return d->vendor;
    case VIRTIO_MMIO_DEVICE_FEATURES: return half(d->device_features, d->device_features_sel);
    case VIRTIO_MMIO_QUEUE_NUM_MAX: return q ? q->num_max : 0;
    case VIRTIO_MMIO_QUEUE_READY: return q ? q->ready : 0;
    case VIRTIO_MMIO_INTERRUPT_STATUS: return d->interrupt_status;
    case VIRTIO_MMIO_STATUS: return d->status;
    case VIRTIO_MMIO_CONFIG_GENERATION: return d->generation_moves ? d->generation++ : d->generation;
    default: return 0;
    }
}

static void reset(struct fake_vmmio *d)
{
    d->resets++;
    if (d->never_resets)
        return;
    d->status = 0;
    d->driver_features = 0;
    d->interrupt_status = 0;
    for (int i = 0; i < FAKE_VMMIO_QUEUES; i++)
        d->q[i] = (struct fake_vmmio_queue){.num_max = d->q[i].num_max};
}

static void status_write(struct fake_vmmio *d, uint32_t v)
{
    if (v == 0) {
        reset(d);
        return;
    }
    d->status = (uint8_t)v;
    if ((v & VIRTIO_STATUS_FEATURES_OK) && d->refuses_features)
        d->status &= (uint8_t)~VIRTIO_STATUS_FEATURES_OK; /* 3.1.1 step 6: the driver must re-read it */
}

/* The selected queue, for a write that configures it; one written while ready is counted (4.2.2.2:
 * the driver MUST NOT change a queue's configuration while QueueReady is 1). */
static struct fake_vmmio_queue *configuring(struct fake_vmmio *d)
{
    struct fake_vmmio_queue *q = selected(d);
    if (q != NULL && q->ready)
        d->changed_while_ready++;
    return q;
}

static void vmmio_write(void *dev, uint32_t off, unsigned width, uint32_t v)
{
    struct fake_vmmio *d = dev;
    d->accesses++;
    if (width != 4 || off % 4 != 0 || off >= VIRTIO_MMIO_CONFIG) {
        d->bad_width += off < VIRTIO_MMIO_CONFIG;
        d->read_only_writes += off >= VIRTIO_MMIO_CONFIG; /* virtio-blk's configuration is read-only */
        return;
    }
    struct fake_vmmio_queue *q;
    switch (off) {
    case VIRTIO_MMIO_DEVICE_FEATURES_SEL: d->device_features_sel = v; return;
    case VIRTIO_MMIO_DRIVER_FEATURES_SEL: d->driver_features_sel = v; return;
    case VIRTIO_MMIO_DRIVER_FEATURES: set_half(&d->driver_features, d->driver_features_sel, v); return;
    case VIRTIO_MMIO_QUEUE_SEL: d->queue_sel = v; return;
    case VIRTIO_MMIO_QUEUE_NUM:
        if ((q = configuring(d)) != NULL)
            q->num = v;
        return;
    case VIRTIO_MMIO_QUEUE_DESC_LOW:
    case VIRTIO_MMIO_QUEUE_DESC_HIGH:
        if ((q = configuring(d)) != NULL)
            set_half(&q->desc, off == VIRTIO_MMIO_QUEUE_DESC_HIGH, v);
        return;
    case VIRTIO_MMIO_QUEUE_DRIVER_LOW:
    case VIRTIO_MMIO_QUEUE_DRIVER_HIGH:
        if ((q = configuring(d)) != NULL)
            set_half(&q->driver, off == VIRTIO_MMIO_QUEUE_DRIVER_HIGH, v);
        return;
    case VIRTIO_MMIO_QUEUE_DEVICE_LOW:
    case VIRTIO_MMIO_QUEUE_DEVICE_HIGH:
        if ((q = configuring(d)) != NULL)
            set_half(&q->device, off == VIRTIO_MMIO_QUEUE_DEVICE_HIGH, v);
        return;
    case VIRTIO_MMIO_QUEUE_READY:
        if ((q = selected(d)) != NULL)
            q->ready = v & 1;
        return;
    case VIRTIO_MMIO_QUEUE_NOTIFY:
        d->notifies++;
        d->last_notify = v;
        return;
    case VIRTIO_MMIO_INTERRUPT_ACK:
        d->acked |= v;
        d->interrupt_status &= ~v;
        return;
    case VIRTIO_MMIO_STATUS: status_write(d, v); return;
    default: d->read_only_writes++; return;
    }
}

const struct fake_mmio_ops fake_vmmio_ops = {vmmio_read, vmmio_write};
