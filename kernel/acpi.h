/* acpi.h - finding and checking ACPI tables (ACPI 6.5, chapter 5.2). */
#ifndef BOUNCE_KERNEL_ACPI_H
#define BOUNCE_KERNEL_ACPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct __attribute__((packed)) acpi_rsdp {
    char signature[8]; /* "RSD PTR " */
    uint8_t checksum;  /* over the first 20 bytes */
    char oem_id[6];
    uint8_t revision;  /* 0 = ACPI 1.0 (20 bytes), 2 = ACPI 2.0+ (36 bytes) */
    uint32_t rsdt_address;
    uint32_t length;
    uint64_t xsdt_address;
    uint8_t extended_checksum; /* over all `length` bytes */
    uint8_t reserved[3];
};

struct __attribute__((packed)) acpi_sdt_header {
    char signature[4];
    uint32_t length;
    uint8_t revision;
    uint8_t checksum;
    char oem_id[6];
    char oem_table_id[8];
    uint32_t oem_revision;
    uint32_t creator_id;
    uint32_t creator_revision;
};

/* MCFG (PCI Firmware Specification 3.2, 4.1.2): where the PCIe ECAM windows are. */
struct __attribute__((packed)) acpi_mcfg_entry {
    uint64_t base;
    uint16_t segment;
    uint8_t start_bus, end_bus;
    uint32_t reserved;
};

/* Byte sum of a table: 0 for a valid one. */
uint8_t acpi_checksum(const void *p, size_t len);
/* Signature and checksums (the extended one too for revision >= 2). */
bool acpi_rsdp_valid(const struct acpi_rsdp *r);
/* The legacy BIOS search (ACPI 5.2.5.1): the first KiB of the EBDA, then 0xe0000-0xfffff on
 * 16-byte boundaries. Returns the physical address or 0. Needs low memory mapped. */
uint64_t acpi_find_rsdp_legacy(void);

struct acpi_pm_timer;
/* The ACPI PM timer, from the FADT (kernel/acpi_fadt.h). False, with the reason in why (may be
 * NULL), if the firmware describes none (or no FADT is found). */
bool acpi_find_pm_timer(uint64_t rsdp_phys, struct acpi_pm_timer *out, const char **why);

/* Find a table by signature through the XSDT (or the RSDT for ACPI 1.0), mapping what it reads
 * with firmware_map(). Returns the mapped, checksum-verified table or NULL. */
const struct acpi_sdt_header *acpi_find_table(uint64_t rsdp_phys, const char sig[4]);

#endif
