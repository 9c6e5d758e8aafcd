/* SPDX-License-Identifier: MIT */
/* virtio.h - what a virtio device driver needs from a transport (virtio 1.2, OASIS).
 *
 * A device driver (virtio_blk.c) talks to its device only through struct virtio_transport_ops
 * and drives its queues with virtqueue.h. A transport - virtio over PCI (4.1, virtio_pci.c),
 * virtio over MMIO (4.2, virtio_mmio.c) - finds devices, implements the ops, and calls the
 * driver's probe for each device of the driver's type. Adding a transport means a new file and
 * one line in virtio_enumerate() below; no device driver changes.
 *
 * Only the modern (virtio 1.x) interface is spoken: little-endian, 64 feature bits,
 * VIRTIO_F_VERSION_1 required (6 "Reserved Feature Bits").
 */
#ifndef BOUNCE_DRIVERS_VIRTIO_H
#define BOUNCE_DRIVERS_VIRTIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "abi/virtio.h"

struct virtio_device;

struct virtio_transport_ops {
    /* 2.1 device status; set_status writes the whole byte. */
    uint8_t (*get_status)(struct virtio_device *vdev);
    void (*set_status)(struct virtio_device *vdev, uint8_t status);
    /* Write 0 to the status and wait (bounded) until the device reads back 0, i.e. has reset
     * (4.1.4.3.2); afterwards it uses no queue and no buffer. Returns 0, or -1 on timeout. */
    int (*reset)(struct virtio_device *vdev);
    /* 2.2 Feature Bits: all 64 the device offers; the subset the driver accepts. */
    uint64_t (*get_features)(struct virtio_device *vdev);
    void (*set_features)(struct virtio_device *vdev, uint64_t features);
    /* Read len bytes of the device-specific configuration at offset, with accesses of the
     * fields' natural widths (8-byte fields: two 32-bit accesses), retried until the
     * configuration generation is stable (2.5.1 / 4.1.4.3). Use the width of the field: len 1,
     * 2, 4 or 8 at an aligned offset. Returns 0, or -1 if out of the device's range or never
     * stable. */
    int (*read_config)(struct virtio_device *vdev, uint32_t offset, void *buf, uint32_t len);
    /* Largest size queue `index` takes; 0 if the queue does not exist. */
    uint32_t (*max_queue_size)(struct virtio_device *vdev, uint16_t index);
    /* Give queue `index` its size and the DMA addresses of its three parts (descriptor area,
     * driver area = available ring, device area = used ring) and enable it (4.1.5.1.3).
     * Call between FEATURES_OK and DRIVER_OK. Returns 0 or -1. */
    int (*setup_queue)(struct virtio_device *vdev, uint16_t index, uint32_t size, uint64_t desc, uint64_t driver,
                       uint64_t device);
    /* Available buffer notification for queue `index` (4.1.4.4). */
    void (*notify)(struct virtio_device *vdev, uint16_t index);
    /* Used buffer notifications of queue `index` as an interrupt on the boot CPU, where the
     * block layer runs (io=irq): handler(arg) is called for each, after the transport has
     * acknowledged it at the device. Call before setup_queue (PCI: the queue's MSI-X vector is
     * part of its configuration, 4.1.5.1.3). Returns the vector, with the route described in
     * `route`, or -1 with the reason there - the driver then polls. */
    int (*request_irq)(struct virtio_device *vdev, uint16_t index, void (*handler)(void *arg), void *arg, char *route,
                       size_t routelen);
    /* Undo request_irq (a driver giving the device up): the handler is never called again. */
    void (*free_irq)(struct virtio_device *vdev);
};

struct virtio_device {
    const struct virtio_transport_ops *ops;
    bool irq_level;       /* set by request_irq: the interrupt is a level-triggered line */
    uint32_t device_type; /* 5: VIRTIO_ID_BLOCK, ... */
    char location[32];    /* for messages: "pci 00:04.0 1af4:1042" */
    void *transport;      /* the transport's own state */
};

/* A driver's probe: called once per device of its type, device not yet reset. */
typedef void (*virtio_probe_fn)(struct virtio_device *vdev);

/* Transports: call probe for every device of device_type they find; driver names the driver
 * (for the bus's bookkeeping, e.g. "virtio-blk"). */
void virtio_pci_enumerate(uint32_t device_type, const char *driver, virtio_probe_fn probe);
void virtio_mmio_enumerate(uint32_t device_type, const char *driver, virtio_probe_fn probe);

static inline void virtio_enumerate(uint32_t device_type, const char *driver, virtio_probe_fn probe)
{
    virtio_pci_enumerate(device_type, driver, probe);
    virtio_mmio_enumerate(device_type, driver, probe);
}

/* ---- transport-independent helpers (3.1.1 Driver Requirements: Device Initialization) ---- */

static inline void virtio_add_status(struct virtio_device *vdev, uint8_t bits)
{
    vdev->ops->set_status(vdev, (uint8_t)(vdev->ops->get_status(vdev) | bits));
}

/* Steps 1-3: reset, ACKNOWLEDGE, DRIVER. Returns 0, or -1 if the device would not reset. */
static inline int virtio_begin_init(struct virtio_device *vdev)
{
    if (vdev->ops->reset(vdev) != 0)
        return -1;
    virtio_add_status(vdev, VIRTIO_STATUS_ACKNOWLEDGE);
    virtio_add_status(vdev, VIRTIO_STATUS_DRIVER);
    return 0;
}

enum virtio_negotiation {
    VIRTIO_NEGOTIATED,       /* FEATURES_OK set and kept */
    VIRTIO_MISSING_REQUIRED, /* a `required` bit is not offered: nothing written */
    VIRTIO_FEATURES_REFUSED, /* the device cleared FEATURES_OK: it refused our subset */
};

/* Steps 4-6: read the offered features; if a `required` bit is missing stop (the caller names
 * the bits); else accept offered & wanted, set FEATURES_OK and re-read it. */
static inline enum virtio_negotiation virtio_negotiate(struct virtio_device *vdev, uint64_t wanted, uint64_t required,
                                                       uint64_t *offered, uint64_t *negotiated)
{
    *offered = vdev->ops->get_features(vdev);
    *negotiated = 0;
    if ((*offered & required) != required)
        return VIRTIO_MISSING_REQUIRED;
    *negotiated = *offered & wanted;
    vdev->ops->set_features(vdev, *negotiated);
    virtio_add_status(vdev, VIRTIO_STATUS_FEATURES_OK);
    return (vdev->ops->get_status(vdev) & VIRTIO_STATUS_FEATURES_OK) ? VIRTIO_NEGOTIATED : VIRTIO_FEATURES_REFUSED;
}

/* Something went wrong: tell the device we gave up (2.1: FAILED). */
static inline void virtio_fail(struct virtio_device *vdev) { virtio_add_status(vdev, VIRTIO_STATUS_FAILED); }

#endif
