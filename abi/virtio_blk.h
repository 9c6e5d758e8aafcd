/* SPDX-License-Identifier: MIT */
/* abi/virtio_blk.h - the virtio block device's interface (virtio 1.2, 5.2 "Block Device"): feature
 * bits, configuration offsets, request types and status, the request header. Shared by the
 * guest's driver (drivers/virtio_blk*.c) and the VMM's device (tools/vmm/virtio_blk.c).
 */
#ifndef BOUNCE_ABI_VIRTIO_BLK_H
#define BOUNCE_ABI_VIRTIO_BLK_H

#include <stdint.h>

/* 5.2.3 Feature bits */
#define VIRTIO_BLK_F_SIZE_MAX 1
#define VIRTIO_BLK_F_SEG_MAX 2
#define VIRTIO_BLK_F_GEOMETRY 4
#define VIRTIO_BLK_F_RO 5
#define VIRTIO_BLK_F_BLK_SIZE 6
#define VIRTIO_BLK_F_FLUSH 9
#define VIRTIO_BLK_F_TOPOLOGY 10
#define VIRTIO_BLK_F_CONFIG_WCE 11
#define VIRTIO_BLK_F_MQ 12
#define VIRTIO_BLK_F_DISCARD 13
#define VIRTIO_BLK_F_WRITE_ZEROES 14

/* 5.2.4 Device configuration layout: offsets of struct virtio_blk_config */
#define VIRTIO_BLK_CFG_CAPACITY 0  /* le64, in 512-byte sectors */
#define VIRTIO_BLK_CFG_SIZE_MAX 8  /* le32: largest single segment */
#define VIRTIO_BLK_CFG_SEG_MAX 12  /* le32: most data segments in a request */
#define VIRTIO_BLK_CFG_BLK_SIZE 20 /* le32: the device's block size */

/* 5.2.6 Device Operation: struct virtio_blk_req */
#define VIRTIO_BLK_T_IN 0
#define VIRTIO_BLK_T_OUT 1
#define VIRTIO_BLK_T_FLUSH 4
#define VIRTIO_BLK_T_GET_ID 8
#define VIRTIO_BLK_ID_BYTES 20

#define VIRTIO_BLK_S_OK 0
#define VIRTIO_BLK_S_IOERR 1
#define VIRTIO_BLK_S_UNSUPP 2

struct virtio_blk_req_hdr {
    uint32_t type;
    uint32_t reserved;
    uint64_t sector; /* always in 512-byte units, whatever blk_size says */
};
_Static_assert(sizeof(struct virtio_blk_req_hdr) == 16, "virtio-blk request header is 16 bytes");

#endif
