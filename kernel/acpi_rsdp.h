/* SPDX-License-Identifier: MIT */
/* acpi_rsdp.h - the ACPI root pointer (ACPI 6.5, 5.2.5): what a boot path hands kmain in
 * boot_info.rsdp - UEFI from its configuration table, PVH from the start info or, failing that,
 * the legacy BIOS search below. Walking the tables it points to is drivers/acpi.h's job. */
#ifndef BOUNCE_KERNEL_ACPI_RSDP_H
#define BOUNCE_KERNEL_ACPI_RSDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A revision 2+ RSDP says its own length (36 bytes in ACPI 6.5); more than a page is not one. */
#define ACPI_RSDP_MAX_LENGTH 4096u
#define ACPI_RSDP_V1_BYTES 20 /* ACPI 1.0's RSDP: the part every revision has */

struct __attribute__((packed)) acpi_rsdp {
    char signature[8]; /* "RSD PTR " */
    uint8_t checksum;  /* over the first 20 bytes */
    char oem_id[6];
    uint8_t revision; /* 0 = ACPI 1.0 (20 bytes), 2 = ACPI 2.0+ (36 bytes) */
    uint32_t rsdt_address;
    uint32_t length;
    uint64_t xsdt_address;
    uint8_t extended_checksum; /* over all `length` bytes */
    uint8_t reserved[3];
};

/* Byte sum of a table: 0 for a valid one. */
uint8_t acpi_checksum(const void *p, size_t len);
/* Signature and checksums (the extended one too for revision >= 2). */
bool acpi_rsdp_valid(const struct acpi_rsdp *r);
/* The legacy BIOS search (ACPI 5.2.5.1): the first KiB of the EBDA, then 0xe0000-0xfffff on
 * 16-byte boundaries. Returns the physical address or 0. Needs low memory mapped. */
uint64_t acpi_find_rsdp_legacy(void);

#endif
