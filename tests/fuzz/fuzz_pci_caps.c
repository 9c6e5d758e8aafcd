/* SPDX-License-Identifier: MIT */
/* fuzz_pci_caps.c - libFuzzer over the capability walks (drivers/pci_caps.c): configuration space
 * and the BAR sizes are the device's. Whatever they hold: each walk ends, every offset it returns
 * is a capability's (>= 0x40, dword-aligned, of the id asked for), and every virtio structure taken
 * lies inside its BAR. (A looped list repeats from call to call; the callers bound their loops.) */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/pci.h"
#include "drivers/pci_caps.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t cfg[256];
static uint8_t rd(const void *ctx, uint8_t off)
{
    (void)ctx;
    return cfg[off];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    memset(cfg, 0, sizeof(cfg));
    uint64_t bars[6] = {0};
    size_t n = size < sizeof(bars) ? 0 : sizeof(bars);
    memcpy(bars, data, n);
    memcpy(cfg, data + n, size - n < sizeof(cfg) ? size - n : sizeof(cfg));
    struct pci_cfg_reader r = {rd, NULL};
    for (unsigned id = 0; id < 0x20; id++) {
        uint8_t off = 0;
        for (int k = 0; k < 64; k++) { /* a looped list repeats across calls: callers bound them */
            off = pci_cap_find(&r, (uint8_t)id, off);
            if (off == 0)
                break;
            if (off < 0x40 || off % 4 || cfg[off] != id)
                abort();
        }
    }
    struct virtio_pci_cap_found c[VIRTIO_PCI_CAP_TYPES];
    virtio_pci_find_caps(&r, bars, c);
    for (int t = 0; t < VIRTIO_PCI_CAP_TYPES; t++)
        if (c[t].present && (c[t].bar > 5 || c[t].length == 0 || (uint64_t)c[t].offset + c[t].length > bars[c[t].bar]))
            abort();
    return 0;
}
