/* SPDX-License-Identifier: MIT */
/* fake_virtio_pci.h - the memory BAR of a virtio-pci device (virtio 1.2, 4.1.4) for host tests,
 * behind a fake_mmio window, at the offsets fake_pci_cfg.h's capabilities give.
 *
 * Written from the spec, not from drivers/virtio_pci.c: the common configuration (4.1.4.3) with
 * its feature and queue selects, device_status with reset (writing 0 clears it and every queue's
 * enable), num_queues, config_generation, per-queue size, MSI-X vector, enable, notify offset and
 * the three 64-bit addresses; the ISR byte (read to clear); the device configuration; the notify
 * structure, where a 16-bit write at queue_notify_off * multiplier notifies that queue. The ways it
 * misbehaves: a reset that never completes, FEATURES_OK refused, a generation that changes on every
 * read, MSI-X vectors refused (read back as NO_VECTOR, 4.1.5.1.2), a queue_notify_off that points
 * outside the notify structure. It counts what the spec forbids the driver (4.1.3.1): a field
 * accessed with other than its own width, a write to a read-only field, a queue changed while
 * enabled, a notification at an address that is no queue's.
 */
#ifndef BOUNCE_TESTS_HOST_FAKE_VIRTIO_PCI_H
#define BOUNCE_TESTS_HOST_FAKE_VIRTIO_PCI_H

#include <stdbool.h>
#include <stdint.h>

#include "tests/host/fake_mmio.h"

#define FAKE_VPCI_QUEUES 4
#define FAKE_VPCI_CONFIG_BYTES 64
#define FAKE_VPCI_NO_VECTOR 0xffff
#define FAKE_VPCI_CAPACITY 2048 /* sectors: 1 MiB */

struct fake_vpci_queue {
    uint16_t size_max, size, msix, enable, notify_off;
    uint64_t desc, driver, device;
};

struct fake_vpci {
    /* set by the test (fake_vpci_init gives a healthy block device) */
    uint64_t device_features;
    uint16_t num_queues;
    bool never_resets, refuses_features, generation_moves, refuses_msix;
    uint8_t config[FAKE_VPCI_CONFIG_BYTES];
    struct fake_vpci_queue q[FAKE_VPCI_QUEUES]; /* size_max and notify_off set by the test */
    /* the device's state */
    uint32_t dfselect, gfselect;
    uint64_t driver_features;
    uint16_t msix_config, queue_select;
    uint8_t status, generation, isr;
    /* what the driver did */
    unsigned accesses, resets, notifies, last_notify;
    unsigned bad_width, read_only_writes, changed_while_enabled, stray_notifies;
};

/* A virtio-blk device offering VIRTIO_F_VERSION_1; one queue of 256 entries, notify offset 0;
 * FAKE_VPCI_CAPACITY sectors. */
void fake_vpci_init(struct fake_vpci *d);
extern const struct fake_mmio_ops fake_vpci_ops; /* the whole BAR (FAKE_VIRTIO_PCI_BAR_SIZE) */

#endif
