/* SPDX-License-Identifier: MIT */
/* pci_bar.c - decoding a BAR's sizing (see pci_bar.h). */
#include "drivers/pci_bar.h"

#define IO_TYPE_BITS 0x3u  /* bit 0: I/O space; bit 1 reserved */
#define MEM_TYPE_BITS 0xfu /* bit 0: memory; 2:1 type; 3 prefetchable */

static bool refuse(const char **why, const char *reason)
{
    *why = reason;
    return false;
}

bool pci_bar_decode(const struct pci_bar_sizing *s, struct pci_bar *bar, const char **why)
{
    *bar = (struct pci_bar){0};
    *why = NULL;
    bar->io = s->lo & PCI_BASE_ADDRESS_SPACE_IO;
    bar->is64 = pci_bar_is64(s->lo);
    bar->prefetch = !bar->io && (s->lo & PCI_BASE_ADDRESS_MEM_PREFETCH);
    uint32_t type = bar->io ? IO_TYPE_BITS : MEM_TYPE_BITS;
    uint64_t base = s->lo & ~type, ones = s->lo_ones & ~type;
    if (bar->is64 && !s->has_upper)
        return refuse(why, "a 64-bit BAR in the last slot, with no register for its upper half");
    if (bar->is64) {
        base |= (uint64_t)s->hi << 32;
        ones |= (uint64_t)s->hi_ones << 32;
    }
    if (ones == 0)
        return false; /* nothing stuck: the BAR is not implemented */
    /* A 32-bit BAR has no bits above its register; an I/O decoder may implement only 16 bits, its
     * upper ones reading 0 (6.2.5.1): those are not part of the size either. */
    if (!bar->is64)
        ones |= bar->io && (ones >> 16) == 0 ? 0xffffffffffff0000ull : 0xffffffff00000000ull;
    uint64_t size = ~ones + 1;
    if (size == 0 || (size & (size - 1)) != 0)
        return refuse(why, "its sizing reads back bits that are not a size (ones, then zeros)");
    if (base & (size - 1))
        return refuse(why, "its base is not aligned to its size (the low bits must read 0)");
    uint64_t end = bar->io ? PCI_IO_SPACE_END : bar->is64 ? 0 : 1ull << 32; /* 0: 2^64 */
    if ((end != 0 && (base >= end || size > end - base)) || (end == 0 && base > UINT64_MAX - (size - 1)))
        return refuse(why, bar->io ? "it ends beyond the 64 KiB I/O space" : "it ends beyond its address space");
    bar->base = base;
    bar->size = size;
    bar->present = true;
    return true;
}
