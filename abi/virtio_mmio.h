/* SPDX-License-Identifier: MIT */
/* abi/virtio_mmio.h - the virtio-mmio register layout, version 2 (virtio 1.2, 4.2.2 "MMIO Device
 * Register Layout"). Shared by the guest's transport (drivers/virtio_mmio.c) and the VMM's device
 * (tools/vmm/virtio_mmio.c).
 */
#ifndef BOUNCE_ABI_VIRTIO_MMIO_H
#define BOUNCE_ABI_VIRTIO_MMIO_H

/* 4.2.2 MMIO Device Register Layout: offsets */
#define VIRTIO_MMIO_MAGIC_VALUE 0x000         /* R: 0x74726976, "virt" little-endian */
#define VIRTIO_MMIO_VERSION 0x004             /* R: 2 (1 = legacy) */
#define VIRTIO_MMIO_DEVICE_ID 0x008           /* R: virtio device id, 0 = no device here */
#define VIRTIO_MMIO_VENDOR_ID 0x00c           /* R */
#define VIRTIO_MMIO_DEVICE_FEATURES 0x010     /* R: 32 feature bits, selected by ... */
#define VIRTIO_MMIO_DEVICE_FEATURES_SEL 0x014 /* W */
#define VIRTIO_MMIO_DRIVER_FEATURES 0x020     /* W */
#define VIRTIO_MMIO_DRIVER_FEATURES_SEL 0x024 /* W */
#define VIRTIO_MMIO_QUEUE_SEL 0x030           /* W */
#define VIRTIO_MMIO_QUEUE_NUM_MAX 0x034       /* R: 0 = the queue is not available */
#define VIRTIO_MMIO_QUEUE_NUM 0x038           /* W */
#define VIRTIO_MMIO_QUEUE_READY 0x044         /* RW */
#define VIRTIO_MMIO_QUEUE_NOTIFY 0x050        /* W: the queue index */
#define VIRTIO_MMIO_INTERRUPT_STATUS 0x060    /* R */
#define VIRTIO_MMIO_INTERRUPT_ACK 0x064       /* W */
#define VIRTIO_MMIO_STATUS 0x070              /* RW: device status (2.1); write 0 to reset */
#define VIRTIO_MMIO_QUEUE_DESC_LOW 0x080      /* W: descriptor area */
#define VIRTIO_MMIO_QUEUE_DESC_HIGH 0x084
#define VIRTIO_MMIO_QUEUE_DRIVER_LOW 0x090 /* W: driver area (available ring) */
#define VIRTIO_MMIO_QUEUE_DRIVER_HIGH 0x094
#define VIRTIO_MMIO_QUEUE_DEVICE_LOW 0x0a0 /* W: device area (used ring) */
#define VIRTIO_MMIO_QUEUE_DEVICE_HIGH 0x0a4
#define VIRTIO_MMIO_SHM_SEL 0x0ac     /* W: shared memory region (none here) */
#define VIRTIO_MMIO_SHM_LEN_LOW 0x0b0 /* R */
#define VIRTIO_MMIO_SHM_LEN_HIGH 0x0b4
#define VIRTIO_MMIO_SHM_BASE_LOW 0x0b8 /* R */
#define VIRTIO_MMIO_SHM_BASE_HIGH 0x0bc
#define VIRTIO_MMIO_QUEUE_RESET 0x0c0       /* RW: with VIRTIO_F_RING_RESET only */
#define VIRTIO_MMIO_CONFIG_GENERATION 0x0fc /* R */
#define VIRTIO_MMIO_CONFIG 0x100            /* device-specific configuration, to the window's end */

#define VIRTIO_MMIO_MAGIC 0x74726976u

/* 4.2.2 InterruptStatus bits */
#define VIRTIO_MMIO_INT_VRING 1u  /* used buffer notification */
#define VIRTIO_MMIO_INT_CONFIG 2u /* configuration change */

#endif
