/* SPDX-License-Identifier: MIT */
/* ioapic.h - the I/O APICs the MADT lists: a global system interrupt (GSI) routed to a vector on a
 * CPU (Intel 82093AA I/O APIC datasheet, 3.2.4 "I/O Redirection Table Registers"; ACPI 6.5
 * 5.2.13 "Global System Interrupts"). Every pin starts masked; a driver routes the ones it uses.
 * The 8259 PICs, where the MADT says they exist, are masked for good first: their interrupts
 * would arrive through LINT0 on vectors that collide with exceptions.
 */
#ifndef BOUNCE_DRIVERS_IOAPIC_H
#define BOUNCE_DRIVERS_IOAPIC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct madt_info;

/* Map and mask every listed I/O APIC (one line each: ID, address, GSIs); mask the PICs. Returns
 * how many I/O APICs are usable. */
unsigned ioapic_init(const struct madt_info *m);

/* Deliver `gsi` as `vector` (fixed, physical destination) to the CPU with APIC ID apic_id, with
 * the line's polarity and trigger mode; unmasked. False, with the reason in why, if no I/O APIC
 * serves the GSI or the APIC ID does not fit the entry's 8-bit destination. */
bool ioapic_route(uint32_t gsi, uint8_t vector, uint32_t apic_id, bool active_low, bool level, const char **why);
/* An ISA IRQ (a legacy device: IDE's 14 and 15) routed the same way, through the MADT's
 * interrupt source overrides (its GSI, polarity, trigger); the route is described in desc
 * ("ISA IRQ 14 -> GSI 14 (edge, active high)"), or why it failed. */
bool ioapic_route_isa(uint8_t irq, uint8_t vector, uint32_t apic_id, bool *level, char *desc, size_t desclen);
void ioapic_mask(uint32_t gsi);
/* The redirection entry of `gsi` as the I/O APIC holds it (all ones: no I/O APIC serves it). */
uint64_t ioapic_entry(uint32_t gsi);
/* Entry fields, for reports and tests. */
#define IOAPIC_VECTOR(e) ((uint8_t)((e)&0xff))
#define IOAPIC_MASKED(e) (((e) >> 16) & 1)
#define IOAPIC_DEST(e) ((uint32_t)((e) >> 56))

#endif
