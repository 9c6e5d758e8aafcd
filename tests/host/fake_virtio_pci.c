/* SPDX-License-Identifier: MIT */
/* fake_virtio_pci.c - a virtio-pci device's BAR for host tests (see fake_virtio_pci.h). */
#include "tests/host/fake_virtio_pci.h"

#include <string.h>

#include "abi/virtio.h"
#include "tests/host/fake_pci_cfg.h"

void fake_vpci_init(struct fake_vpci *d)
{
    *d = (struct fake_vpci){.device_features = 1ull << 32, .num_queues = 1, .msix_config = FAKE_VPCI_NO_VECTOR};
    for (int i = 0; i < FAKE_VPCI_QUEUES; i++)
        d->q[i] = (struct fake_vpci_queue){.msix = FAKE_VPCI_NO_VECTOR, .notify_off = (uint16_t)i};
    d->q[0].size_max = 256;
    uint64_t capacity = FAKE_VPCI_CAPACITY;
    memcpy(d->config, &capacity, sizeof(capacity));
}

/* 4.1.4.3 struct virtio_pci_common_cfg: each field's offset and width. */
enum {
    DFSELECT = 0x00,   /* le32 device_feature_select */
    DF = 0x04,         /* le32 device_feature, RO */
    GFSELECT = 0x08,   /* le32 driver_feature_select */
    GF = 0x0c,         /* le32 driver_feature */
    MSIX_CFG = 0x10,   /* le16 config_msix_vector */
    NUMQ = 0x12,       /* le16 num_queues, RO */
    STATUS = 0x14,     /* u8 device_status */
    CFGGEN = 0x15,     /* u8 config_generation, RO */
    Q_SELECT = 0x16,   /* le16 queue_select */
    Q_SIZE = 0x18,     /* le16 queue_size */
    Q_MSIX = 0x1a,     /* le16 queue_msix_vector */
    Q_ENABLE = 0x1c,   /* le16 queue_enable */
    Q_NOFF = 0x1e,     /* le16 queue_notify_off, RO */
    Q_DESC = 0x20,     /* le64 queue_desc, as two le32 */
    Q_DRIVER = 0x28,   /* le64 queue_driver */
    Q_DEVICE = 0x30,   /* le64 queue_device */
    COMMON_END = 0x38, /* the virtio 1.0 structure */
};

static unsigned width_of(uint32_t off)
{
    if (off < MSIX_CFG || off >= Q_DESC)
        return 4;
    return off == STATUS || off == CFGGEN ? 1 : 2;
}

static struct fake_vpci_queue *selected(struct fake_vpci *d)
{
    return d->queue_select < FAKE_VPCI_QUEUES && d->queue_select < d->num_queues ? &d->q[d->queue_select] : NULL;
}

static uint32_t half(uint64_t v, bool high) { return high ? (uint32_t)(v >> 32) : (uint32_t)v; }
static void set_half(uint64_t *v, bool high, uint32_t x)
{
    *v = high ? (*v & 0xffffffffull) | (uint64_t)x << 32 : (*v & ~0xffffffffull) | x;
}

static uint32_t common_read(struct fake_vpci *d, uint32_t off)
{
    struct fake_vpci_queue *q = selected(d);
    switch (off) {
    case DFSELECT: return d->dfselect;
    case DF: return d->dfselect <= 1 ? half(d->device_features, d->dfselect == 1) : 0;
    case GFSELECT: return d->gfselect;
    case GF: return d->gfselect <= 1 ? half(d->driver_features, d->gfselect == 1) : 0;
    case MSIX_CFG: return d->msix_config;
    case NUMQ: return d->num_queues;
    case STATUS: return d->status;
    case CFGGEN: return d->generation_moves ? d->generation++ : d->generation;
    case Q_SELECT: return d->queue_select;
    case Q_SIZE: return q ? q->size ? q->size : q->size_max : 0;
    case Q_MSIX: return q ? q->msix : FAKE_VPCI_NO_VECTOR;
    case Q_ENABLE: return q ? q->enable : 0;
    case Q_NOFF: return q ? q->notify_off : 0;
    case Q_DESC:
    case Q_DESC + 4: return q ? half(q->desc, off & 4) : 0;
    case Q_DRIVER:
    case Q_DRIVER + 4: return q ? half(q->driver, off & 4) : 0;
    case Q_DEVICE:
    case Q_DEVICE + 4: return q ? half(q->device, off & 4) : 0;
    default: return 0;
    }
}

static void reset(struct fake_vpci *d)
{
    d->resets++;
    if (d->never_resets)
        return;
    d->status = 0;
    d->driver_features = 0;
    d->msix_config = FAKE_VPCI_NO_VECTOR;
    for (int i = 0; i < FAKE_VPCI_QUEUES; i++) {
        struct fake_vpci_queue *q = &d->q[i];
        *q =
            (struct fake_vpci_queue){.size_max = q->size_max, .notify_off = q->notify_off, .msix = FAKE_VPCI_NO_VECTOR};
    }
}

/* The selected queue, for a write that configures it; one written while enabled is counted
 * (4.1.4.3.2: the driver configures a queue before enabling it). */
static struct fake_vpci_queue *configuring(struct fake_vpci *d)
{
    struct fake_vpci_queue *q = selected(d);
    if (q != NULL && q->enable)
        d->changed_while_enabled++;
    return q;
}

static void common_write(struct fake_vpci *d, uint32_t off, uint32_t v)
{
    struct fake_vpci_queue *q;
    switch (off) {
    case DFSELECT: d->dfselect = v; return;
    case GFSELECT: d->gfselect = v; return;
    case GF:
        if (d->gfselect <= 1)
            set_half(&d->driver_features, d->gfselect == 1, v);
        return;
    case MSIX_CFG: d->msix_config = d->refuses_msix ? FAKE_VPCI_NO_VECTOR : (uint16_t)v; return;
    case STATUS:
        if (v == 0) {
            reset(d);
            return;
        }
        d->status = (uint8_t)v;
        if (d->refuses_features)
            d->status &= (uint8_t)~VIRTIO_STATUS_FEATURES_OK;
        return;
    case Q_SELECT: d->queue_select = (uint16_t)v; return;
    case Q_SIZE:
        if ((q = configuring(d)) != NULL)
            q->size = (uint16_t)v;
        return;
    case Q_MSIX:
        if ((q = configuring(d)) != NULL)
            q->msix = d->refuses_msix ? FAKE_VPCI_NO_VECTOR : (uint16_t)v;
        return;
    case Q_ENABLE:
        if ((q = selected(d)) != NULL)
            q->enable = v & 1;
        return;
    case Q_DESC:
    case Q_DESC + 4:
        if ((q = configuring(d)) != NULL)
            set_half(&q->desc, off & 4, v);
        return;
    case Q_DRIVER:
    case Q_DRIVER + 4:
        if ((q = configuring(d)) != NULL)
            set_half(&q->driver, off & 4, v);
        return;
    case Q_DEVICE:
    case Q_DEVICE + 4:
        if ((q = configuring(d)) != NULL)
            set_half(&q->device, off & 4, v);
        return;
    default: d->read_only_writes++; return;
    }
}

static bool within(uint32_t off, uint32_t start, uint32_t len) { return off - start < len; }

static uint32_t vpci_read(void *dev, uint32_t off, unsigned width)
{
    struct fake_vpci *d = dev;
    d->accesses++;
    if (within(off, FAKE_VIRTIO_PCI_COMMON, COMMON_END)) {
        off -= FAKE_VIRTIO_PCI_COMMON;
        if (width != width_of(off) || off % width != 0) {
            d->bad_width++;
            return 0;
        }
        return common_read(d, off);
    }
    if (off == FAKE_VIRTIO_PCI_ISR) { /* 4.1.4.5: reading clears it */
        uint8_t isr = d->isr;
        d->isr = 0;
        return isr;
    }
    if (off >= FAKE_VIRTIO_PCI_DEVICE && off + width <= FAKE_VIRTIO_PCI_DEVICE + FAKE_VPCI_CONFIG_BYTES) {
        uint32_t v = 0;
        memcpy(&v, d->config + (off - FAKE_VIRTIO_PCI_DEVICE), width);
        return v;
    }
    return 0;
}

static void notify_write(struct fake_vpci *d, uint32_t at, unsigned width, uint32_t v)
{
    for (int i = 0; i < d->num_queues && i < FAKE_VPCI_QUEUES; i++) {
        if (at == (uint32_t)d->q[i].notify_off * FAKE_VIRTIO_PCI_NOTIFY_MULT && width == 2) {
            d->notifies++;
            d->last_notify = v;
            return;
        }
    }
    d->stray_notifies++;
}

static void vpci_write(void *dev, uint32_t off, unsigned width, uint32_t v)
{
    struct fake_vpci *d = dev;
    d->accesses++;
    if (within(off, FAKE_VIRTIO_PCI_COMMON, COMMON_END)) {
        off -= FAKE_VIRTIO_PCI_COMMON;
        if (width != width_of(off) || off % width != 0)
            d->bad_width++;
        else
            common_write(d, off, v);
    } else if (within(off, FAKE_VIRTIO_PCI_NOTIFY, FAKE_VIRTIO_PCI_STRUCT_LEN)) {
        notify_write(d, off - FAKE_VIRTIO_PCI_NOTIFY, width, v);
    } else {
        d->read_only_writes++; /* the ISR byte, the (read-only) block configuration, the gaps */
    }
}

const struct fake_mmio_ops fake_vpci_ops = {vpci_read, vpci_write};
