/* virtio_mmio.h - the virtio-mmio transport (virtio 1.2, 4.2 "Virtio Over MMIO").
 *
 * A device is a window of registers at a physical address, found - as Linux finds it - from the
 * command line: virtio_mmio.device=SIZE@BASE:IRQ (kopts.virtio_mmio[]). Only the modern
 * interface, register layout version 2 (4.2.2), is spoken; a legacy (version 1) device is refused
 * with a message, as the PCI transport refuses legacy-only devices. The IRQ is not used: bounce
 * polls its queues.
 */
#ifndef BOUNCE_DRIVERS_VIRTIO_MMIO_H
#define BOUNCE_DRIVERS_VIRTIO_MMIO_H

#include <stdint.h>

#include "drivers/virtio.h"

/* 4.2.2 MMIO Device Register Layout: offsets */
#define VIRTIO_MMIO_MAGIC_VALUE 0x000        /* R: 0x74726976, "virt" little-endian */
#define VIRTIO_MMIO_VERSION 0x004            /* R: 2 (1 = legacy) */
#define VIRTIO_MMIO_DEVICE_ID 0x008          /* R: virtio device id, 0 = no device here */
#define VIRTIO_MMIO_VENDOR_ID 0x00c          /* R */
#define VIRTIO_MMIO_DEVICE_FEATURES 0x010    /* R: 32 feature bits, selected by ... */
#define VIRTIO_MMIO_DEVICE_FEATURES_SEL 0x014 /* W */
#define VIRTIO_MMIO_DRIVER_FEATURES 0x020    /* W */
#define VIRTIO_MMIO_DRIVER_FEATURES_SEL 0x024 /* W */
#define VIRTIO_MMIO_QUEUE_SEL 0x030          /* W */
#define VIRTIO_MMIO_QUEUE_NUM_MAX 0x034      /* R: 0 = the queue is not available */
#define VIRTIO_MMIO_QUEUE_NUM 0x038          /* W */
#define VIRTIO_MMIO_QUEUE_READY 0x044        /* RW */
#define VIRTIO_MMIO_QUEUE_NOTIFY 0x050       /* W: the queue index */
#define VIRTIO_MMIO_INTERRUPT_STATUS 0x060   /* R */
#define VIRTIO_MMIO_INTERRUPT_ACK 0x064      /* W */
#define VIRTIO_MMIO_STATUS 0x070             /* RW: device status (2.1); write 0 to reset */
#define VIRTIO_MMIO_QUEUE_DESC_LOW 0x080     /* W: descriptor area */
#define VIRTIO_MMIO_QUEUE_DESC_HIGH 0x084
#define VIRTIO_MMIO_QUEUE_DRIVER_LOW 0x090   /* W: driver area (available ring) */
#define VIRTIO_MMIO_QUEUE_DRIVER_HIGH 0x094
#define VIRTIO_MMIO_QUEUE_DEVICE_LOW 0x0a0   /* W: device area (used ring) */
#define VIRTIO_MMIO_QUEUE_DEVICE_HIGH 0x0a4
#define VIRTIO_MMIO_CONFIG_GENERATION 0x0fc  /* R */
#define VIRTIO_MMIO_CONFIG 0x100             /* device-specific configuration, to the window's end */

#define VIRTIO_MMIO_MAGIC 0x74726976u
#define VIRTIO_MMIO_MAX_QUEUES 4

/* Probe every virtio_mmio.device= window holding a device of device_type (virtio.h). */
void virtio_mmio_enumerate(uint32_t device_type, const char *driver, virtio_probe_fn probe);

#endif
