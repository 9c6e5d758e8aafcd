/* SPDX-License-Identifier: MIT */
/* virtio_pci.h - the modern virtio 1.x PCI transport (virtio 1.2, 4.1 "Virtio Over PCI Bus").
 *
 * Devices: vendor 0x1af4, device 0x1040 + virtio id (modern, e.g. 0x1042 block) or 0x1000-0x103f
 * (transitional: the virtio id is the PCI subsystem device id, 4.1.2.1). Either way only the
 * modern interface is used, located through vendor-specific PCI capabilities (4.1.4); the
 * legacy I/O BAR of a transitional device is never touched. A device without the capabilities
 * (legacy only) is refused.
 */
#ifndef BOUNCE_DRIVERS_VIRTIO_PCI_H
#define BOUNCE_DRIVERS_VIRTIO_PCI_H

#include <stdint.h>

#include "drivers/pci.h"
#include "drivers/virtio.h"

#define VIRTIO_PCI_VENDOR 0x1af4
#define VIRTIO_PCI_DEVICE_MODERN_BASE 0x1040 /* 0x1040 + virtio device id */
#define VIRTIO_PCI_DEVICE_TRANSITIONAL_FIRST 0x1000
#define VIRTIO_PCI_DEVICE_TRANSITIONAL_LAST 0x103f
#define VIRTIO_PCI_MAX_DEVICES 8
#define VIRTIO_PCI_MAX_QUEUES 4 /* queues whose notify address we remember */

/* 4.1.4 Virtio Structure PCI Capabilities: struct virtio_pci_cap (offsets in config space) */
#define VIRTIO_PCI_CAP_LEN 2
#define VIRTIO_PCI_CAP_CFG_TYPE 3
#define VIRTIO_PCI_CAP_BAR 4
#define VIRTIO_PCI_CAP_ID 5
#define VIRTIO_PCI_CAP_OFFSET 8
#define VIRTIO_PCI_CAP_LENGTH 12
#define VIRTIO_PCI_NOTIFY_CAP_MULT 16 /* 4.1.4.4 struct virtio_pci_notify_cap: notify_off_multiplier */

/* cfg_type values */
#define VIRTIO_PCI_CAP_COMMON_CFG 1
#define VIRTIO_PCI_CAP_NOTIFY_CFG 2
#define VIRTIO_PCI_CAP_ISR_CFG 3
#define VIRTIO_PCI_CAP_DEVICE_CFG 4
#define VIRTIO_PCI_CAP_PCI_CFG 5

/* 4.1.4.3 struct virtio_pci_common_cfg: offsets */
#define VIRTIO_PCI_COMMON_DFSELECT 0x00 /* le32 device_feature_select */
#define VIRTIO_PCI_COMMON_DF 0x04       /* le32 device_feature (RO) */
#define VIRTIO_PCI_COMMON_GFSELECT 0x08 /* le32 driver_feature_select */
#define VIRTIO_PCI_COMMON_GF 0x0c       /* le32 driver_feature */
#define VIRTIO_PCI_COMMON_MSIX 0x10     /* le16 config_msix_vector */
#define VIRTIO_PCI_COMMON_NUMQ 0x12     /* le16 num_queues (RO) */
#define VIRTIO_PCI_COMMON_STATUS 0x14   /* u8 device_status */
#define VIRTIO_PCI_COMMON_CFGGEN 0x15   /* u8 config_generation (RO) */
#define VIRTIO_PCI_COMMON_Q_SELECT 0x16 /* le16 queue_select */
#define VIRTIO_PCI_COMMON_Q_SIZE 0x18   /* le16 queue_size */
#define VIRTIO_PCI_COMMON_Q_MSIX 0x1a   /* le16 queue_msix_vector */
#define VIRTIO_PCI_COMMON_Q_ENABLE 0x1c /* le16 queue_enable */
#define VIRTIO_PCI_COMMON_Q_NOFF 0x1e   /* le16 queue_notify_off (RO) */
#define VIRTIO_PCI_COMMON_Q_DESCLO 0x20 /* le64 queue_desc */
#define VIRTIO_PCI_COMMON_Q_DESCHI 0x24
#define VIRTIO_PCI_COMMON_Q_AVAILLO 0x28 /* le64 queue_driver */
#define VIRTIO_PCI_COMMON_Q_AVAILHI 0x2c
#define VIRTIO_PCI_COMMON_Q_USEDLO 0x30 /* le64 queue_device */
#define VIRTIO_PCI_COMMON_Q_USEDHI 0x34
#define VIRTIO_PCI_COMMON_MIN_LEN 0x38 /* the virtio 1.0 structure; later fields are not used */
#define VIRTIO_MSI_NO_VECTOR 0xffff

struct virtio_pci {
    struct virtio_device vdev;
    struct pci_dev *pci;
    volatile uint8_t *common;
    volatile uint8_t *notify_base; /* start of the notify structure */
    uint32_t notify_len, notify_mult;
    volatile uint8_t *isr;
    volatile uint8_t *device_cfg;
    uint32_t device_cfg_len;
    volatile uint16_t *queue_notify[VIRTIO_PCI_MAX_QUEUES];
    uint16_t queue_msix[VIRTIO_PCI_MAX_QUEUES]; /* the MSI-X entry of each queue, or VIRTIO_MSI_NO_VECTOR */
    void (*handler)(void *arg);                 /* io=irq: the driver's, for used buffer notifications */
    void *handler_arg;
    int vector; /* ... and the vector it arrives on */
};

#endif
