/* SPDX-License-Identifier: MIT */
/* pci.h - PCI configuration space and device enumeration.
 *
 * Configuration mechanism #1 (ports 0xcf8/0xcfc, PCI Local Bus Spec 3.0, 3.2.2.3.2) everywhere,
 * and the PCIe enhanced mechanism (ECAM, memory-mapped, PCIe Base Spec 7.2.2) when ACPI's MCFG
 * table describes one (q35). Devices are found by scanning bus 0 and every bus behind a bridge.
 * Nothing is enabled by enumeration: a driver enables memory/IO decoding and bus mastering on
 * the device it claims, and only then.
 */
#ifndef BOUNCE_DRIVERS_PCI_H
#define BOUNCE_DRIVERS_PCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PCI_MAX_DEVICES 64

/* Configuration space header (PCI Local Bus Spec 3.0, 6.1; type 0 and type 1 headers) */
#define PCI_VENDOR_ID 0x00 /* 16 bits, then PCI_DEVICE_ID */
#define PCI_DEVICE_ID 0x02
#define PCI_CLASS_REVISION 0x08 /* revision, prog-if, subclass, class code, low byte first */
#define PCI_HEADER_TYPE 0x0e
#define PCI_HEADER_TYPE_MASK 0x7f
#define PCI_HEADER_TYPE_MULTI_FUNCTION 0x80
#define PCI_BASE_ADDRESS_0 0x10 /* six 32-bit BARs in a type 0 header */
#define PCI_NUM_BARS 6
#define PCI_BASE_ADDRESS_SPACE_IO 0x01
#define PCI_BASE_ADDRESS_MEM_TYPE_MASK 0x06
#define PCI_BASE_ADDRESS_MEM_TYPE_64 0x04
#define PCI_BASE_ADDRESS_MEM_PREFETCH 0x08
#define PCI_SUBSYSTEM_VENDOR_ID 0x2c /* type 0; then PCI_SUBSYSTEM_ID */
#define PCI_INTERRUPT_LINE 0x3c      /* then PCI_INTERRUPT_PIN */
#define PCI_SECONDARY_BUS 0x19       /* type 1 (a bridge) */
#define PCI_COMMAND 0x04
#define PCI_COMMAND_IO (1u << 0)
#define PCI_COMMAND_MEMORY (1u << 1)
#define PCI_COMMAND_MASTER (1u << 2)
#define PCI_COMMAND_INTX_DISABLE (1u << 10)
#define PCI_STATUS 0x06
#define PCI_STATUS_CAP_LIST (1u << 4)
#define PCI_CAPABILITY_LIST 0x34
#define PCI_CAP_ID_VNDR 0x09
#define PCI_CAP_ID_MSIX 0x11

struct pci_bar {
    uint64_t base, size;
    bool present, io, is64, prefetch;
};

struct pci_dev {
    uint8_t bus, dev, fn;
    uint16_t vendor, device, subsys_vendor, subsys_device;
    uint8_t class_code, subclass, prog_if, revision, header_type;
    uint8_t irq_line, irq_pin;
    struct pci_bar bar[6];
    const char *driver; /* set by the driver that claims it */
};

/* Enumerate every device. rsdp: physical address of the ACPI RSDP (0: no ECAM). */
void pci_init(uint64_t rsdp);
size_t pci_count(void);
/* The next device at index >= *iter matching vendor:device (0xffff matches any), or NULL. */
struct pci_dev *pci_find(uint16_t vendor, uint16_t device, size_t *iter);
struct pci_dev *pci_find_class(uint8_t class_code, uint8_t subclass, size_t *iter);

uint8_t pci_read8(const struct pci_dev *d, uint16_t off);
uint16_t pci_read16(const struct pci_dev *d, uint16_t off);
uint32_t pci_read32(const struct pci_dev *d, uint16_t off);
void pci_write16(const struct pci_dev *d, uint16_t off, uint16_t v);
void pci_write32(const struct pci_dev *d, uint16_t off, uint32_t v);

/* Turn on decoding (and bus mastering if asked) for a device a driver claims. */
void pci_enable(struct pci_dev *d, const char *driver, bool bus_master);
/* Map a memory BAR uncached; NULL for an I/O or absent BAR. */
volatile void *pci_map_bar(struct pci_dev *d, int bar);
/* Offset of the first capability with this id at or after `start` in the list (0: from the
 * head), or 0 when there is none. Walks at most 48 entries, so a looped list cannot hang us. */
struct pci_cfg_reader;
/* d's configuration space as drivers/pci_caps.h's walks read it. */
void pci_cfg_reader_of(const struct pci_dev *d, struct pci_cfg_reader *r);
uint8_t pci_find_capability(const struct pci_dev *d, uint8_t cap_id, uint8_t start);

/* MSI-X (PCI Local Bus Spec 3.0, 6.8.2): table entry `entry` of d delivers `vector` to the CPU
 * with APIC ID apic_id (fixed, edge, physical destination: the x86 message, SDM vol. 3A 11.11),
 * unmasked; MSI-X enabled, INTx disabled. 0, or -1 with the reason in why (no capability, the
 * entry past the table, a table outside its BAR, an APIC ID beyond 8 bits). */
int pci_msix_route(struct pci_dev *d, unsigned entry, uint32_t apic_id, uint8_t vector, const char **why);

void pci_print(void);

#endif
