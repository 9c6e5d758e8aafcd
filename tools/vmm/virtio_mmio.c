/* SPDX-License-Identifier: MIT */
/* virtio_mmio.c - virtio-mmio transport registers, version 2 (see virtio_mmio.h; virtio 1.2 4.2.2). */
#include "tools/vmm/virtio_mmio.h"

#include <inttypes.h>
#include <string.h>

#include "abi/virtio.h"
#include "tools/vmm/log.h"

void vmmio_init(struct vmmio *m, struct vblk_dev *dev)
{
    memset(m, 0, sizeof(*m));
    m->dev = dev;
    m->device_id = VIRTIO_ID_BLOCK;
}

static void device_reset(struct vmmio *m)
{
    m->status = 0;
    m->dev_features_sel = m->drv_features_sel = m->queue_sel = 0;
    m->drv_features = 0;
    m->interrupt_status = 0;
    vblk_dev_reset(m->dev);
}

static uint32_t status_now(struct vmmio *m)
{
    if (m->dev->needs_reset && !(m->status & VIRTIO_STATUS_DEVICE_NEEDS_RESET)) {
        m->status |= VIRTIO_STATUS_DEVICE_NEEDS_RESET; /* 2.1.2: and a configuration change */
        m->interrupt_status |= VIRTIO_MMIO_INT_CONFIG;
    }
    return m->status;
}

static void bad_access(struct vmmio *m, const char *what, uint64_t off, unsigned len)
{
    m->bad_accesses++;
    vmm_guest_error("virtio-mmio: %s of %u bytes at offset %#" PRIx64 " ignored", what, len, off);
}

uint64_t vmmio_read(struct vmmio *m, uint64_t off, unsigned len)
{
    if (len != 1 && len != 2 && len != 4 && len != 8) {
        bad_access(m, "read", off, len);
        return 0;
    }
    if (off >= VIRTIO_MMIO_CONFIG) {
        uint64_t v = 0;
        vblk_dev_config_read(m->dev, off - VIRTIO_MMIO_CONFIG, &v, len);
        return v;
    }
    if (len != 4 || off % 4) {
        bad_access(m, "register read", off, len);
        return 0;
    }
    struct vblk_queue *q = &m->dev->q;
    bool q0 = m->queue_sel == 0;
    uint64_t features = vblk_dev_features(m->dev);
    switch (off) {
    case VIRTIO_MMIO_MAGIC_VALUE: return VIRTIO_MMIO_MAGIC;
    case VIRTIO_MMIO_VERSION: return 2;
    case VIRTIO_MMIO_DEVICE_ID: return m->device_id;
    case VIRTIO_MMIO_VENDOR_ID: return VMMIO_VENDOR;
    case VIRTIO_MMIO_DEVICE_FEATURES:
        return m->dev_features_sel < 2 ? (uint32_t)(features >> (32 * m->dev_features_sel)) : 0;
    case VIRTIO_MMIO_QUEUE_NUM_MAX: return q0 ? VBLK_DEV_QUEUE_MAX : 0;
    case VIRTIO_MMIO_QUEUE_READY: return q0 && q->ready;
    case VIRTIO_MMIO_INTERRUPT_STATUS: status_now(m); return m->interrupt_status;
    case VIRTIO_MMIO_STATUS: return status_now(m);
    /* 4.2.2: the queue addresses read back what was written */
    case VIRTIO_MMIO_QUEUE_DESC_LOW: return q0 ? (uint32_t)q->desc : 0;
    case VIRTIO_MMIO_QUEUE_DESC_HIGH: return q0 ? (uint32_t)(q->desc >> 32) : 0;
    case VIRTIO_MMIO_QUEUE_DRIVER_LOW: return q0 ? (uint32_t)q->driver : 0;
    case VIRTIO_MMIO_QUEUE_DRIVER_HIGH: return q0 ? (uint32_t)(q->driver >> 32) : 0;
    case VIRTIO_MMIO_QUEUE_DEVICE_LOW: return q0 ? (uint32_t)q->device : 0;
    case VIRTIO_MMIO_QUEUE_DEVICE_HIGH: return q0 ? (uint32_t)(q->device >> 32) : 0;
    case VIRTIO_MMIO_SHM_LEN_LOW:
    case VIRTIO_MMIO_SHM_LEN_HIGH: return 0xffffffffu; /* no shared memory regions */
    case VIRTIO_MMIO_SHM_BASE_LOW:
    case VIRTIO_MMIO_SHM_BASE_HIGH: return 0xffffffffu;
    case VIRTIO_MMIO_QUEUE_RESET: return 0;
    case VIRTIO_MMIO_CONFIG_GENERATION: return 0; /* the configuration never changes */
    default: bad_access(m, "read of a write-only or unknown register", off, len); return 0;
    }
}

static void set_status(struct vmmio *m, uint32_t v)
{
    if (v == 0) {
        device_reset(m);
        return;
    }
    v &= 0xff;
    /* 3.1.1 step 5-6: FEATURES_OK sticks only for a subset of what we offer, with VERSION_1. */
    if ((v & VIRTIO_STATUS_FEATURES_OK) && !(m->status & VIRTIO_STATUS_FEATURES_OK)) {
        uint64_t offered = vblk_dev_features(m->dev);
        if ((m->drv_features & ~offered) || !(m->drv_features & VIRTIO_BIT(VIRTIO_F_VERSION_1))) {
            vmm_guest_error("virtio-mmio: driver features %#" PRIx64 " are not a subset of %#" PRIx64
                            " with VERSION_1: FEATURES_OK "
                            "refused",
                            m->drv_features, offered);
            v &= ~VIRTIO_STATUS_FEATURES_OK;
        }
    }
    if (m->dev->needs_reset)
        v |= VIRTIO_STATUS_DEVICE_NEEDS_RESET; /* only a reset clears it */
    m->status = v;
}

static void set_addr(struct vmmio *m, uint64_t *reg, bool high, uint32_t v, uint64_t off)
{
    if (m->queue_sel != 0 || m->dev->q.ready) {
        bad_access(m,
                   m->queue_sel ? "queue address write for a queue that does not exist"
                                : "queue address write while the queue is enabled",
                   off, 4);
        return;
    }
    *reg = high ? (*reg & 0xffffffffull) | (uint64_t)v << 32 : (*reg & ~0xffffffffull) | v;
}

void vmmio_write(struct vmmio *m, uint64_t off, unsigned len, uint64_t val)
{
    if (off >= VIRTIO_MMIO_CONFIG) {
        bad_access(m, "configuration write (nothing is writable)", off, len);
        return;
    }
    if (len != 4 || off % 4) {
        bad_access(m, "register write", off, len);
        return;
    }
    uint32_t v = (uint32_t)val;
    struct vblk_queue *q = &m->dev->q;
    switch (off) {
    case VIRTIO_MMIO_DEVICE_FEATURES_SEL: m->dev_features_sel = v; return;
    case VIRTIO_MMIO_DRIVER_FEATURES_SEL: m->drv_features_sel = v; return;
    case VIRTIO_MMIO_DRIVER_FEATURES:
        if (m->status & VIRTIO_STATUS_FEATURES_OK) {
            bad_access(m, "driver features write after FEATURES_OK", off, len);
        } else if (m->drv_features_sel < 2) {
            unsigned sh = 32 * m->drv_features_sel;
            m->drv_features = (m->drv_features & ~(0xffffffffull << sh)) | (uint64_t)v << sh;
        } else if (v) {
            bad_access(m, "driver features beyond bit 63", off, len);
        }
        return;
    case VIRTIO_MMIO_QUEUE_SEL: m->queue_sel = v; return;
    case VIRTIO_MMIO_QUEUE_NUM:
        if (m->queue_sel != 0 || q->ready)
            bad_access(m, "QueueNum write for a missing or enabled queue", off, len);
        else
            q->num = v;
        return;
    case VIRTIO_MMIO_QUEUE_READY:
        if (m->queue_sel != 0) {
            bad_access(m, "QueueReady write for a queue that does not exist", off, len);
        } else if (v == 1 && !q->ready) {
            if (q->num == 0 || q->num > VBLK_DEV_QUEUE_MAX) {
                vmm_guest_error("virtio-mmio: queue enabled with size %u (maximum %u): stays disabled", q->num,
                                VBLK_DEV_QUEUE_MAX);
                return;
            }
            q->ready = true;
        } else if (v == 0) {
            q->ready = false;
        }
        return;
    case VIRTIO_MMIO_QUEUE_NOTIFY:
        m->notifies++;
        if (v != 0) {
            bad_access(m, "notification for a queue that does not exist", off, len);
            return;
        }
        if (!(m->status & VIRTIO_STATUS_DRIVER_OK) || (m->status & VIRTIO_STATUS_FAILED)) {
            vmm_guest_error("virtio-mmio: queue notified before DRIVER_OK (status %#x): ignored", m->status);
            return;
        }
        if (vblk_dev_process(m->dev) > 0)
            m->interrupt_status |= VIRTIO_MMIO_INT_VRING;
        status_now(m);
        return;
    case VIRTIO_MMIO_INTERRUPT_ACK: m->interrupt_status &= ~v; return;
    case VIRTIO_MMIO_STATUS: set_status(m, v); return;
    case VIRTIO_MMIO_QUEUE_DESC_LOW: set_addr(m, &q->desc, false, v, off); return;
    case VIRTIO_MMIO_QUEUE_DESC_HIGH: set_addr(m, &q->desc, true, v, off); return;
    case VIRTIO_MMIO_QUEUE_DRIVER_LOW: set_addr(m, &q->driver, false, v, off); return;
    case VIRTIO_MMIO_QUEUE_DRIVER_HIGH: set_addr(m, &q->driver, true, v, off); return;
    case VIRTIO_MMIO_QUEUE_DEVICE_LOW: set_addr(m, &q->device, false, v, off); return;
    case VIRTIO_MMIO_QUEUE_DEVICE_HIGH: set_addr(m, &q->device, true, v, off); return;
    case VIRTIO_MMIO_SHM_SEL: return;
    case VIRTIO_MMIO_QUEUE_RESET: return; /* VIRTIO_F_RING_RESET is not offered */
    default: bad_access(m, "write to a read-only or unknown register", off, len); return;
    }
}
