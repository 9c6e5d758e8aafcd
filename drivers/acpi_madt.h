/* SPDX-License-Identifier: MIT */
/* acpi_madt.h - the CPUs and interrupt controllers the MADT ("APIC", ACPI 6.5 5.2.12) lists: local
 * APICs and x2APICs (the CPUs to bring up), I/O APICs and the ISA interrupt source overrides.
 * Pure logic over the table's bytes, which the firmware (or a VMM) controls: every entry is
 * checked against the table's end and its type's size, and a table that lies gets a reason, not
 * trust (tests/host/test_acpi_madt.c, tests/fuzz/fuzz_acpi_madt.c). */
#ifndef BOUNCE_DRIVERS_ACPI_MADT_H
#define BOUNCE_DRIVERS_ACPI_MADT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MADT_MAX_CPUS 64 /* what bounce brings up; more are counted in cpus_dropped */
#define MADT_MAX_IOAPICS 8
#define MADT_MAX_OVERRIDES 16

struct madt_cpu {
    uint32_t apic_id; /* local APIC ID (8 bits) or x2APIC ID */
    uint32_t uid;     /* ACPI processor UID */
    bool x2apic;      /* listed as a Processor Local x2APIC (type 9) */
    bool enabled;     /* usable now; otherwise online-capable only (5.2.12.2, flags bit 1) */
};

struct madt_ioapic {
    uint8_t id;
    uint32_t addr;     /* physical address of its registers */
    uint32_t gsi_base; /* the first global system interrupt it serves */
};

/* An ISA IRQ delivered on another GSI, or with other polarity or trigger (5.2.12.5). */
struct madt_override {
    uint8_t source; /* ISA IRQ */
    uint32_t gsi;
    uint16_t flags; /* MPS INTI flags: polarity bits 1:0, trigger mode bits 3:2 */
};

struct madt_info {
    uint64_t lapic_addr; /* the local APIC's registers (a type 5 override wins) */
    bool pcat_compat;    /* dual 8259s present (flags bit 0): mask them before using the I/O APIC */
    struct madt_cpu cpu[MADT_MAX_CPUS];
    unsigned ncpus;
    unsigned cpus_dropped;  /* usable CPUs past MADT_MAX_CPUS */
    unsigned cpus_disabled; /* entries neither enabled nor online-capable: not CPUs at all */
    struct madt_ioapic ioapic[MADT_MAX_IOAPICS];
    unsigned nioapics;
    struct madt_override override[MADT_MAX_OVERRIDES];
    unsigned noverrides;
};

/* Where an ISA IRQ arrives (5.2.12.5): its override's GSI, polarity and trigger, or by default
 * the GSI of the same number, active high, edge-triggered (the ISA bus's conventions). False if
 * the IRQ has no GSI: another source was moved onto its number and it has no override itself. */
struct isa_route {
    uint32_t gsi;
    bool active_low, level;
};
bool madt_isa_route(const struct madt_info *m, uint8_t irq, struct isa_route *out);

/* Parse a MADT of len bytes (header included). False, with the reason in why (may be NULL), for
 * a table that is too short, an entry that runs past its end or is shorter than its type, the
 * same APIC ID listed twice, too many I/O APICs or overrides, or no usable CPU at all. */
bool acpi_madt_parse(const uint8_t *madt, size_t len, struct madt_info *out, const char **why);

#endif
