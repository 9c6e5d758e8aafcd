/* SPDX-License-Identifier: MIT */
/* acpi.h - finding ACPI tables from the RSDP (ACPI 6.5, chapter 5.2): mapped with firmware_map(),
 * checksum-verified. The RSDP itself is the boot paths' business (kernel/acpi_rsdp.h). */
#ifndef BOUNCE_DRIVERS_ACPI_H
#define BOUNCE_DRIVERS_ACPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/acpi_rsdp.h"

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

struct acpi_pm_timer;
/* The ACPI PM timer, from the FADT (drivers/acpi_fadt.h). False, with the reason in why (may be
 * NULL), if the firmware describes none (or no FADT is found). */
bool acpi_find_pm_timer(uint64_t rsdp_phys, struct acpi_pm_timer *out, const char **why);

struct madt_info;
/* The MADT's CPUs and interrupt controllers (drivers/acpi_madt.h), read and checked once; NULL,
 * with the reason in why (may be NULL), when there is no MADT or it does not hold up. */
const struct madt_info *acpi_madt(uint64_t rsdp_phys, const char **why);
/* One line per fact at boot: the CPUs with their APIC IDs, the I/O APICs, the ISA overrides. */
void acpi_print_madt(uint64_t rsdp_phys);

/* Find a table by signature through the XSDT (or the RSDT for ACPI 1.0), mapping what it reads
 * with firmware_map(). Returns the mapped, checksum-verified table or NULL. */
const struct acpi_sdt_header *acpi_find_table(uint64_t rsdp_phys, const char sig[4]);

#endif
