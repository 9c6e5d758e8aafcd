/* SPDX-License-Identifier: MIT */
/* fake_pci_cfg.c - a configuration space built byte by byte (see fake_pci_cfg.h). */
#include "tests/host/fake_pci_cfg.h"

#include <string.h>

#include "drivers/pci.h"
#include "drivers/virtio_pci.h"

uint8_t fake_pci_cfg[256];

static uint8_t rd(const void *ctx, uint8_t off)
{
    (void)ctx;
    return fake_pci_cfg[off];
}
const struct pci_cfg_reader fake_pci_cfg_reader = {rd, NULL};

void fake_pci_cfg_put32(uint8_t off, uint32_t v) { memcpy(fake_pci_cfg + off, &v, 4); }

void fake_pci_cfg_vcap(uint8_t off, uint8_t next, uint8_t type, uint8_t bar, uint32_t offset, uint32_t length,
                       uint8_t len)
{
    fake_pci_cfg[off] = PCI_CAP_ID_VNDR;
    fake_pci_cfg[off + 1] = next;
    fake_pci_cfg[off + VIRTIO_PCI_CAP_LEN] = len;
    fake_pci_cfg[off + VIRTIO_PCI_CAP_CFG_TYPE] = type;
    fake_pci_cfg[off + VIRTIO_PCI_CAP_BAR] = bar;
    fake_pci_cfg_put32((uint8_t)(off + VIRTIO_PCI_CAP_OFFSET), offset);
    fake_pci_cfg_put32((uint8_t)(off + VIRTIO_PCI_CAP_LENGTH), length);
}

void fake_pci_cfg_virtio_blk(void)
{
    memset(fake_pci_cfg, 0, sizeof(fake_pci_cfg));
    fake_pci_cfg[PCI_STATUS] = PCI_STATUS_CAP_LIST;
    fake_pci_cfg[PCI_CAPABILITY_LIST] = 0x98;
    fake_pci_cfg[0x98] = PCI_CAP_ID_MSIX;
    fake_pci_cfg[0x99] = 0x84;
    fake_pci_cfg_vcap(0x84, 0x70, VIRTIO_PCI_CAP_PCI_CFG, 0, 0, 0, 20);
    fake_pci_cfg_vcap(0x70, 0x60, VIRTIO_PCI_CAP_NOTIFY_CFG, FAKE_VIRTIO_PCI_BAR, FAKE_VIRTIO_PCI_NOTIFY,
                      FAKE_VIRTIO_PCI_STRUCT_LEN, 20);
    fake_pci_cfg_put32(0x70 + VIRTIO_PCI_NOTIFY_CAP_MULT, FAKE_VIRTIO_PCI_NOTIFY_MULT);
    fake_pci_cfg_vcap(0x60, 0x50, VIRTIO_PCI_CAP_DEVICE_CFG, FAKE_VIRTIO_PCI_BAR, FAKE_VIRTIO_PCI_DEVICE,
                      FAKE_VIRTIO_PCI_STRUCT_LEN, 16);
    fake_pci_cfg_vcap(0x50, 0x40, VIRTIO_PCI_CAP_ISR_CFG, FAKE_VIRTIO_PCI_BAR, FAKE_VIRTIO_PCI_ISR,
                      FAKE_VIRTIO_PCI_STRUCT_LEN, 16);
    fake_pci_cfg_vcap(0x40, 0x00, VIRTIO_PCI_CAP_COMMON_CFG, FAKE_VIRTIO_PCI_BAR, FAKE_VIRTIO_PCI_COMMON,
                      FAKE_VIRTIO_PCI_STRUCT_LEN, 16);
}
