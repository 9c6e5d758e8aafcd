/* SPDX-License-Identifier: MIT */
/* ide_ports.h - where a PCI IDE function's registers are (PCI IDE Controller Specification 1.0,
 * "Programming Interface"; SFF-8038i for the bus master): the legacy ports in compatibility mode;
 * in native mode the BARs the device reports - which it controls, so they are checked (pure,
 * tests/host/test_ide_ports.c). */
#ifndef BOUNCE_DRIVERS_IDE_PORTS_H
#define BOUNCE_DRIVERS_IDE_PORTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "drivers/pci.h"

#define IDE_CMD_BLOCK_PORTS 8 /* BAR 0/2: the command block */
#define IDE_CTL_BLOCK_PORTS 4 /* BAR 1/3: Alternate Status / Device Control at +2 */
#define IDE_BM_PORTS 16       /* BAR 4: 8 per channel */

/* Channel c's command block and control register. Compatibility mode (its prog-if bit clear): the
 * legacy ports. Native mode: BAR 2c and 2c + 1, which must be present I/O BARs of at least 8 and
 * 4 ports inside the 16-bit port space - false, with the reason in why, if they are not. */
bool ide_channel_ports(uint8_t prog_if, const struct pci_bar bar[PCI_NUM_BARS], int c, uint16_t *cmd, uint16_t *ctl,
                       char *why, size_t whylen);
/* The bus master's ports (BAR 4), or false when the function has none usable (prog-if bit 7
 * clear, or BAR 4 absent, not I/O, too small, or beyond the port space). */
bool ide_bus_master_ports(uint8_t prog_if, const struct pci_bar bar[PCI_NUM_BARS], uint16_t *bm);

#endif
