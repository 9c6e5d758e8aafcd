/* SPDX-License-Identifier: MIT */
/* ioapic.h - a register-only I/O APIC at 0xfec00000 (82093AA layout: IOREGSEL at 0x00, IOWIN at
 * 0x10; ID, version 0x00170011 = version 0x11 with 24 entries, arbitration, 24 redirection
 * entries that read back what was written and start masked). No interrupt is ever delivered: the
 * guest polls. It exists because the guest's paging suite reads the version register through an
 * uncached mapping to prove MMIO works. Other offsets read all ones.
 */
#ifndef BOUNCE_VMM_IOAPIC_H
#define BOUNCE_VMM_IOAPIC_H

#include <stdint.h>

#define IOAPIC_PINS 24

struct ioapic {
    uint32_t regsel;
    uint32_t id;
    uint64_t redir[IOAPIC_PINS];
};

void ioapic_init(struct ioapic *a);
uint64_t ioapic_read(struct ioapic *a, uint64_t off, unsigned len);
void ioapic_write(struct ioapic *a, uint64_t off, unsigned len, uint64_t val);

#endif
