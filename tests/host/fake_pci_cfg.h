/* SPDX-License-Identifier: MIT */
/* fake_pci_cfg.h - a PCI function's configuration space for host tests, built byte by byte from
 * PCI 3.0 6.7 (capabilities) and virtio 1.2 4.1.4 (the virtio structure capabilities).
 *
 * fake_pci_cfg_virtio_blk() lays out a virtio-blk-pci function as QEMU does: MSI-X at 0x98, then
 * the vendor capabilities, every structure in BAR 4 (16 KiB) at the offsets below. Tests then
 * break it byte by byte.
 */
#ifndef BOUNCE_TESTS_HOST_FAKE_PCI_CFG_H
#define BOUNCE_TESTS_HOST_FAKE_PCI_CFG_H

#include <stdint.h>

#include "drivers/pci_caps.h"

#define FAKE_VIRTIO_PCI_BAR 4
#define FAKE_VIRTIO_PCI_BAR_SIZE 0x4000
#define FAKE_VIRTIO_PCI_COMMON 0x0000
#define FAKE_VIRTIO_PCI_ISR 0x1000
#define FAKE_VIRTIO_PCI_DEVICE 0x2000
#define FAKE_VIRTIO_PCI_NOTIFY 0x3000
#define FAKE_VIRTIO_PCI_NOTIFY_MULT 4
#define FAKE_VIRTIO_PCI_STRUCT_LEN 0x1000 /* each structure's length, as QEMU gives it */

extern uint8_t fake_pci_cfg[256];
extern const struct pci_cfg_reader fake_pci_cfg_reader;

void fake_pci_cfg_put32(uint8_t off, uint32_t v);
/* A virtio structure capability at `off` (cap_len `len`), linked to `next`. */
void fake_pci_cfg_vcap(uint8_t off, uint8_t next, uint8_t type, uint8_t bar, uint32_t offset, uint32_t length,
                       uint8_t len);
void fake_pci_cfg_virtio_blk(void);

#endif
