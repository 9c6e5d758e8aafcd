/* SPDX-License-Identifier: MIT */
/* abi/virtio.h - virtio's device-independent constants (virtio 1.2, OASIS): the device status
 * byte, the reserved feature bits, the device ids. Shared by the guest's drivers and the VMM's
 * devices, which must agree on every value; nothing here is an implementation.
 */
#ifndef BOUNCE_ABI_VIRTIO_H
#define BOUNCE_ABI_VIRTIO_H

/* 2.1 Device Status Field */
#define VIRTIO_STATUS_ACKNOWLEDGE 1u
#define VIRTIO_STATUS_DRIVER 2u
#define VIRTIO_STATUS_DRIVER_OK 4u
#define VIRTIO_STATUS_FEATURES_OK 8u
#define VIRTIO_STATUS_DEVICE_NEEDS_RESET 64u
#define VIRTIO_STATUS_FAILED 128u

/* 6 Reserved Feature Bits (the device-independent ones bounce knows) */
#define VIRTIO_F_INDIRECT_DESC 28
#define VIRTIO_F_EVENT_IDX 29
#define VIRTIO_F_VERSION_1 32
#define VIRTIO_F_ACCESS_PLATFORM 33
#define VIRTIO_F_RING_PACKED 34
#define VIRTIO_F_IN_ORDER 35
#define VIRTIO_F_NOTIFICATION_DATA 38
#define VIRTIO_BIT(n) (1ull << (n))

/* 5 Device Types: the virtio device ids bounce drives */
#define VIRTIO_ID_BLOCK 2

#endif
