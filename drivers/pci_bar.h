/* SPDX-License-Identifier: MIT */
/* pci_bar.h - what a base address register's sizing says, decoded and checked (pure).
 *
 * Sizing (PCI Local Bus Spec 3.0, 6.2.5.1): with decoding off, write all ones and read back; the
 * bits that stuck are the decoder's, so the size is the two's complement of what reads back with
 * the type bits cleared. A device - or a VMM that emulates one - can read back anything, and a BAR
 * the driver trusts becomes a window it writes registers into: so a BAR is taken only if its
 * readback is a size (ones from the top down, then zeros), its base is aligned to that size (the
 * low bits are hardwired to zero), it ends inside its space (4 GiB for a 32-bit memory BAR, 2^64
 * for a 64-bit one, the x86 I/O space's 64 KiB for an I/O BAR), and a 64-bit BAR has a slot for
 * its upper half.
 */
#ifndef BOUNCE_DRIVERS_PCI_BAR_H
#define BOUNCE_DRIVERS_PCI_BAR_H

#include <stdbool.h>
#include <stdint.h>

#include "drivers/pci.h"

/* One BAR's sizing: its value before and after all ones were written; for a 64-bit memory BAR the
 * next register's too (has_upper: there is a next register, i.e. it is not BAR 5). */
struct pci_bar_sizing {
    uint32_t lo, lo_ones;
    uint32_t hi, hi_ones;
    bool has_upper;
};

#define PCI_IO_SPACE_END 0x10000ull /* x86 port space (SDM vol. 1, 19.2) */

/* Whether a BAR's value says 64-bit memory: its upper half is the next register, to be sized too. */
static inline bool pci_bar_is64(uint32_t lo)
{
    return !(lo & PCI_BASE_ADDRESS_SPACE_IO) && (lo & PCI_BASE_ADDRESS_MEM_TYPE_MASK) == PCI_BASE_ADDRESS_MEM_TYPE_64;
}

/* Decode into *bar. Returns true when the BAR is in use (bar->present); false when it is not
 * implemented (why set to NULL) or its sizing makes no sense (why says what, bar->present false).
 * The type bits (io, is64, prefetch) are filled in either way. */
bool pci_bar_decode(const struct pci_bar_sizing *s, struct pci_bar *bar, const char **why);

#endif
