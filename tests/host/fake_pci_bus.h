/* SPDX-License-Identifier: MIT */
/* fake_pci_bus.h - PCI functions behind configuration mechanism #1 (ports 0xcf8/0xcfc, PCI Local
 * Bus Spec 3.0, 3.2.2.3.2) and an ECAM window (PCIe Base Spec 7.2.2), for host tests of pci.c.
 *
 * Written from the specs, not from drivers/pci.c. Each function has a 256-byte configuration space
 * (4 KiB through ECAM, the rest reading 0); its BARs (6.2.5.1) keep only the bits their size
 * decodes, so writing all ones and reading back gives the size, and type bits are read-only. The
 * identification registers and Status are read-only; the rest is plain storage. Absent functions
 * read all ones. Ways it misbehaves: a BAR whose all-ones readback is set by the test
 * (`lies_ones`), whatever its size. It counts what the spec forbids software: a BAR written while
 * its decoding is on in the Command register (6.2.5.1: sizing with decoding off).
 */
#ifndef BOUNCE_TESTS_HOST_FAKE_PCI_BUS_H
#define BOUNCE_TESTS_HOST_FAKE_PCI_BUS_H

#include <stdbool.h>
#include <stdint.h>

#include "tests/host/fake_mmio.h"

#define FAKE_PCI_FUNCTIONS 24
#define FAKE_PCI_CFG_BYTES 4096 /* ECAM: the extended space too */

struct fake_pci_fn {
    uint8_t bus, dev, fn;
    uint8_t cfg[FAKE_PCI_CFG_BYTES];
    uint64_t bar_size[6];  /* 0: not implemented (reads 0, writes ignored); a 64-bit BAR's in its first slot */
    uint32_t bar_type[6];  /* its read-only type bits (set with the BAR) */
    uint32_t lies_ones[6]; /* nonzero: what the BAR reads after all ones are written, whatever its size */
    unsigned sized_while_decoding;
};

struct fake_pci_bus {
    struct fake_pci_fn fn[FAKE_PCI_FUNCTIONS];
    unsigned n;
    uint32_t address; /* CONFIG_ADDRESS as last written */
    unsigned accesses;
};
extern struct fake_pci_bus fake_pci_bus;

void fake_pci_bus_reset(void);
/* A function with these IDs, class and header type (bit 7: multi-function; type 1: a bridge). */
struct fake_pci_fn *fake_pci_add(uint8_t bus, uint8_t dev, uint8_t fn, uint32_t ids, uint32_t class_rev,
                                 uint8_t header_type);
/* BAR i: `value` holds the base and the type bits (PCI 3.0 6.2.5.1); a 64-bit one takes i and i + 1. */
void fake_pci_set_bar(struct fake_pci_fn *f, int i, uint64_t value, uint64_t size);
void fake_pci_put(struct fake_pci_fn *f, uint16_t off, uint32_t v, unsigned width);

/* The ECAM window, buses from 0: offset = bus << 20 | dev << 15 | fn << 12 | register. */
extern const struct fake_mmio_ops fake_pci_ecam_ops;

#endif
