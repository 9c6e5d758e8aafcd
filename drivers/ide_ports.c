/* SPDX-License-Identifier: MIT */
/* ide_ports.c - the IDE function's register ports, checked (see ide_ports.h). */
#include "drivers/ide_ports.h"

#include <stdio.h>

#include "drivers/ide.h"

#define PORT_SPACE 0x10000ull

/* A present I/O BAR of at least `ports` ports, inside the port space, not at 0. */
static bool io_bar_ok(const struct pci_bar *b, uint64_t ports)
{
    return b->present && b->io && b->base != 0 && b->size >= ports && b->base <= PORT_SPACE - ports;
}

bool ide_channel_ports(uint8_t prog_if, const struct pci_bar bar[PCI_NUM_BARS], int c, uint16_t *cmd, uint16_t *ctl,
                       char *why, size_t whylen)
{
    static const uint16_t legacy_cmd[2] = {IDE_PRIMARY_CMD, IDE_SECONDARY_CMD};
    static const uint16_t legacy_ctl[2] = {IDE_PRIMARY_CTL, IDE_SECONDARY_CTL};
    static const uint8_t native_bit[2] = {IDE_PROGIF_PRIMARY_NATIVE, IDE_PROGIF_SECONDARY_NATIVE};
    if (!(prog_if & native_bit[c])) {
        *cmd = legacy_cmd[c];
        *ctl = legacy_ctl[c];
        return true;
    }
    const struct pci_bar *cb = &bar[2 * c], *kb = &bar[2 * c + 1];
    if (!io_bar_ok(cb, IDE_CMD_BLOCK_PORTS) || !io_bar_ok(kb, IDE_CTL_BLOCK_PORTS)) {
        snprintf(why, whylen,
                 "native mode, but BAR%d/BAR%d are not I/O BARs of %d and %d ports in the port space "
                 "(%s %#llx+%llu, %s %#llx+%llu)",
                 2 * c, 2 * c + 1, IDE_CMD_BLOCK_PORTS, IDE_CTL_BLOCK_PORTS,
                 cb->present ? (cb->io ? "I/O" : "memory") : "absent", (unsigned long long)cb->base,
                 (unsigned long long)cb->size, kb->present ? (kb->io ? "I/O" : "memory") : "absent",
                 (unsigned long long)kb->base, (unsigned long long)kb->size);
        return false;
    }
    *cmd = (uint16_t)cb->base;
    *ctl = (uint16_t)(kb->base + 2);
    return true;
}

bool ide_bus_master_ports(uint8_t prog_if, const struct pci_bar bar[PCI_NUM_BARS], uint16_t *bm)
{
    if (!(prog_if & IDE_PROGIF_BUS_MASTER) || !io_bar_ok(&bar[4], IDE_BM_PORTS))
        return false;
    *bm = (uint16_t)bar[4].base;
    return true;
}
