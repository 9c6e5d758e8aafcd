/* SPDX-License-Identifier: MIT */
/* pci_caps.c - capability list walks (see pci_caps.h). */
#include "drivers/pci_caps.h"

#include <string.h>

#include "drivers/pci.h"
#include "drivers/virtio_pci.h"

#define PCI_CAP_FIRST 0x40                /* capabilities live after the 64-byte header */
#define PCI_CAP_MAX 48                    /* (256 - 64) / 4: more entries than that means a loop */
#define VIRTIO_CAP_LAST_START (0xff - 19) /* struct virtio_pci_notify_cap is 20 bytes */

static uint16_t read16(const struct pci_cfg_reader *r, uint8_t off)
{
    return (uint16_t)(r->read8(r->ctx, off) | r->read8(r->ctx, (uint8_t)(off + 1)) << 8);
}

static uint32_t read32(const struct pci_cfg_reader *r, uint8_t off)
{
    return read16(r, off) | (uint32_t)read16(r, (uint8_t)(off + 2)) << 16;
}

uint8_t pci_cap_find(const struct pci_cfg_reader *r, uint8_t cap_id, uint8_t start)
{
    if (!(read16(r, PCI_STATUS) & PCI_STATUS_CAP_LIST))
        return 0;
    uint8_t off = r->read8(r->ctx, start ? (uint8_t)(start + 1) : PCI_CAPABILITY_LIST);
    for (int guard = 0; guard < PCI_CAP_MAX && off >= PCI_CAP_FIRST; guard++) {
        off &= 0xfc; /* the bottom two bits are reserved (6.7) */
        if (r->read8(r->ctx, off) == cap_id)
            return off;
        off = r->read8(r->ctx, (uint8_t)(off + 1));
    }
    return 0;
}

void virtio_pci_find_caps(const struct pci_cfg_reader *r, const uint64_t bar_size[6],
                          struct virtio_pci_cap_found caps[VIRTIO_PCI_CAP_TYPES])
{
    memset(caps, 0, sizeof(*caps) * VIRTIO_PCI_CAP_TYPES);
    uint8_t off = 0;
    for (int guard = 0; guard < PCI_CAP_MAX; guard++) {
        off = pci_cap_find(r, PCI_CAP_ID_VNDR, off);
        if (off == 0)
            break;
        if (off > VIRTIO_CAP_LAST_START) /* the structure would run past configuration space */
            continue;
        uint8_t cap_len = r->read8(r->ctx, (uint8_t)(off + VIRTIO_PCI_CAP_LEN));
        uint8_t type = r->read8(r->ctx, (uint8_t)(off + VIRTIO_PCI_CAP_CFG_TYPE));
        uint8_t bar = r->read8(r->ctx, (uint8_t)(off + VIRTIO_PCI_CAP_BAR));
        /* 4.1.4: the first instance of each type the driver can use; others are skipped. */
        if (cap_len < 16 || type < VIRTIO_PCI_CAP_COMMON_CFG || type > VIRTIO_PCI_CAP_DEVICE_CFG || caps[type].present)
            continue;
        if (type == VIRTIO_PCI_CAP_NOTIFY_CFG && cap_len < 20)
            continue;
        /* Only memory BARs: a structure in an I/O BAR (allowed by the spec) is skipped. */
        if (bar > 5 || bar_size[bar] == 0)
            continue;
        uint32_t offset = read32(r, (uint8_t)(off + VIRTIO_PCI_CAP_OFFSET));
        uint32_t length = read32(r, (uint8_t)(off + VIRTIO_PCI_CAP_LENGTH));
        if (length == 0 || (uint64_t)offset + length > bar_size[bar])
            continue;
        caps[type] = (struct virtio_pci_cap_found){true, bar, offset, length, 0};
        if (type == VIRTIO_PCI_CAP_NOTIFY_CFG)
            caps[type].mult = read32(r, (uint8_t)(off + VIRTIO_PCI_NOTIFY_CAP_MULT));
    }
}
