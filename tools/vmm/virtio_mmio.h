/* virtio_mmio.h - the virtio-mmio transport registers of one device (virtio 1.2, 4.2.2 "MMIO Device
 * Register Layout", version 2). Pure: the VMM forwards KVM_EXIT_MMIO accesses at offsets inside
 * the device's 0x200-byte window here.
 *
 * Registers (offset < 0x100) take 32-bit aligned accesses only (4.2.2.2: the driver MUST use them);
 * anything else is logged and ignored (reads return 0). The configuration space at 0x100 takes
 * 1, 2, 4 and 8-byte accesses at any offset. The device has one queue (0); the interrupt is never
 * raised (the guest polls), but InterruptStatus reports used-buffer and configuration events.
 */
#ifndef BOUNCE_VMM_VIRTIO_MMIO_H
#define BOUNCE_VMM_VIRTIO_MMIO_H

#include <stdbool.h>
#include <stdint.h>

#include "tools/vmm/virtio_blk.h"

/* 4.2.2 register offsets */
#define VMMIO_MAGIC_VALUE 0x000
#define VMMIO_VERSION 0x004
#define VMMIO_DEVICE_ID 0x008
#define VMMIO_VENDOR_ID 0x00c
#define VMMIO_DEVICE_FEATURES 0x010
#define VMMIO_DEVICE_FEATURES_SEL 0x014
#define VMMIO_DRIVER_FEATURES 0x020
#define VMMIO_DRIVER_FEATURES_SEL 0x024
#define VMMIO_QUEUE_SEL 0x030
#define VMMIO_QUEUE_NUM_MAX 0x034
#define VMMIO_QUEUE_NUM 0x038
#define VMMIO_QUEUE_READY 0x044
#define VMMIO_QUEUE_NOTIFY 0x050
#define VMMIO_INTERRUPT_STATUS 0x060
#define VMMIO_INTERRUPT_ACK 0x064
#define VMMIO_STATUS 0x070
#define VMMIO_QUEUE_DESC_LOW 0x080
#define VMMIO_QUEUE_DESC_HIGH 0x084
#define VMMIO_QUEUE_DRIVER_LOW 0x090
#define VMMIO_QUEUE_DRIVER_HIGH 0x094
#define VMMIO_QUEUE_DEVICE_LOW 0x0a0
#define VMMIO_QUEUE_DEVICE_HIGH 0x0a4
#define VMMIO_SHM_SEL 0x0ac
#define VMMIO_SHM_LEN_LOW 0x0b0
#define VMMIO_SHM_LEN_HIGH 0x0b4
#define VMMIO_SHM_BASE_LOW 0x0b8
#define VMMIO_SHM_BASE_HIGH 0x0bc
#define VMMIO_QUEUE_RESET 0x0c0
#define VMMIO_CONFIG_GENERATION 0x0fc
#define VMMIO_CONFIG 0x100
#define VMMIO_WINDOW 0x200

#define VMMIO_MAGIC 0x74726976u /* "virt" */
#define VMMIO_VENDOR 0x45434e42u /* "BNCE" */

#define VMMIO_INT_USED 1u   /* 4.2.2: used buffer notification */
#define VMMIO_INT_CONFIG 2u /* configuration change (here: DEVICE_NEEDS_RESET was set) */

struct vmmio {
    struct vblk_dev *dev;
    uint32_t device_id;
    uint32_t status;
    uint32_t dev_features_sel, drv_features_sel, queue_sel;
    uint64_t drv_features;
    uint32_t interrupt_status;
    uint64_t notifies, bad_accesses;
};

void vmmio_init(struct vmmio *m, struct vblk_dev *dev);
/* An access of len bytes (1, 2, 4 or 8) at offset off of the window. */
uint64_t vmmio_read(struct vmmio *m, uint64_t off, unsigned len);
void vmmio_write(struct vmmio *m, uint64_t off, unsigned len, uint64_t val);

#endif
