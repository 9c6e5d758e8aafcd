/* SPDX-License-Identifier: MIT */
/* pci_caps.h - walking a PCI function's capability list (PCI Local Bus Spec 3.0, 6.7), and the
 * virtio structures it names (virtio 1.2, 4.1.4). Pure logic over configuration space read through
 * a callback, because the device writes that list: the walk must end and stay in bounds whatever
 * it holds (tests/host/test_pci_caps.c, tests/fuzz/fuzz_pci_caps.c). */
#ifndef BOUNCE_DRIVERS_PCI_CAPS_H
#define BOUNCE_DRIVERS_PCI_CAPS_H

#include <stdbool.h>
#include <stdint.h>

/* Configuration space as the walk reads it: a byte at a time, offsets 0..255. */
struct pci_cfg_reader {
    uint8_t (*read8)(const void *ctx, uint8_t off);
    const void *ctx;
};

/* Offset of the first capability with this id after the one at `start` (0: from the list's
 * head), or 0 when there is none or no list (Status bit 4 clear). Offsets below 0x40 end the walk
 * (they are the header's); at most 48 entries are visited, so a looped list cannot hang it. */
uint8_t pci_cap_find(const struct pci_cfg_reader *r, uint8_t cap_id, uint8_t start);

/* The virtio structures (4.1.4): for each cfg_type (common, notify, ISR, device), the first usable
 * vendor capability - 16 bytes at least (notify: 20), in a memory BAR, [offset, offset + length)
 * non-empty and inside the BAR. bar_size[i] is 0 for an absent or I/O BAR. */
#define VIRTIO_PCI_CAP_TYPES 6 /* index = cfg_type 1..5 */
struct virtio_pci_cap_found {
    bool present;
    uint8_t bar;
    uint32_t offset, length, mult; /* mult: the notify structure's notify_off_multiplier */
};
void virtio_pci_find_caps(const struct pci_cfg_reader *r, const uint64_t bar_size[6],
                          struct virtio_pci_cap_found caps[VIRTIO_PCI_CAP_TYPES]);

#endif
