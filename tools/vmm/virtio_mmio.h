/* SPDX-License-Identifier: MIT */
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

#include "abi/virtio_mmio.h"
#include "tools/vmm/virtio_blk.h"

#define VMMIO_WINDOW 0x200
#define VMMIO_VENDOR 0x45434e42u /* "BNCE" */

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
