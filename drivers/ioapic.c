/* SPDX-License-Identifier: MIT */
/* ioapic.c - I/O APIC redirection (see ioapic.h). */
#include "drivers/ioapic.h"

#include <inttypes.h>
#include <stdio.h>

#include "drivers/acpi_madt.h"
#include "kernel/cpu.h"
#include "kernel/spinlock.h"
#include "mm/mm.h"

/* 82093AA datasheet 3.0: two registers in the window - select, then data - and the indirect ones. */
#define IOAPIC_WINDOW 0x20 /* IOREGSEL and IOWIN, 32-byte aligned */
#define IOREGSEL 0x00
#define IOWIN 0x10
#define IOAPIC_REG_ID 0x00
#define IOAPIC_REG_VERSION 0x01 /* bits 23:16: the highest redirection entry */
#define IOAPIC_REG_REDIR 0x10   /* entry n: 0x10 + 2n (low word), + 1 (high word) */
/* Redirection entry bits (3.2.4) */
#define RTE_ACTIVE_LOW (1ull << 13)
#define RTE_LEVEL (1ull << 15)
#define RTE_MASKED (1ull << 16)
#define RTE_DEST_SHIFT 56 /* physical mode: the APIC ID, 8 bits */
#define PIC1_DATA 0x21    /* 8259A: the interrupt mask register of each PIC (OCW1) */
#define PIC2_DATA 0xa1

/* The I/O APICs found, each with the GSIs it serves. */
static struct {
    struct spinlock lock; /* the select-then-access pair must not interleave */
    struct {
        volatile uint32_t *regs;
        uint32_t gsi_base, pins;
        uint8_t id;
    } chip[MADT_MAX_IOAPICS];
    unsigned n;
    const struct madt_info *madt; /* for the ISA overrides */
} ioapics = {.lock = SPINLOCK_INIT};

static uint32_t reg_read(unsigned c, uint32_t reg)
{
    ioapics.chip[c].regs[IOREGSEL / 4] = reg;
    return ioapics.chip[c].regs[IOWIN / 4];
}

static void reg_write(unsigned c, uint32_t reg, uint32_t v)
{
    ioapics.chip[c].regs[IOREGSEL / 4] = reg;
    ioapics.chip[c].regs[IOWIN / 4] = v;
}

/* The chip serving gsi and its pin there, or false. */
static bool find(uint32_t gsi, unsigned *chip, uint32_t *pin)
{
    for (unsigned c = 0; c < ioapics.n; c++)
        if (gsi >= ioapics.chip[c].gsi_base && gsi - ioapics.chip[c].gsi_base < ioapics.chip[c].pins) {
            *chip = c;
            *pin = gsi - ioapics.chip[c].gsi_base;
            return true;
        }
    return false;
}

static void write_entry(unsigned c, uint32_t pin, uint64_t e)
{
    /* Masked while it changes: no interrupt is delivered with half an entry. */
    reg_write(c, IOAPIC_REG_REDIR + 2 * pin, (uint32_t)RTE_MASKED);
    reg_write(c, IOAPIC_REG_REDIR + 2 * pin + 1, (uint32_t)(e >> 32));
    reg_write(c, IOAPIC_REG_REDIR + 2 * pin, (uint32_t)e);
}

unsigned ioapic_init(const struct madt_info *m)
{
    if (m->pcat_compat) {
        outb(PIC1_DATA, 0xff);
        outb(PIC2_DATA, 0xff);
    }
    ioapics.n = 0;
    ioapics.madt = m;
    for (unsigned i = 0; i < m->nioapics; i++) {
        if (m->ioapic[i].addr % IOAPIC_WINDOW || mm_overlaps_memory(m->ioapic[i].addr, IOAPIC_WINDOW)) {
            printf("ioapic: %u at %#" PRIx32 ": not a register window (misaligned, or memory in the boot map), "
                   "left out\n",
                   m->ioapic[i].id, m->ioapic[i].addr);
            continue;
        }
        unsigned c = ioapics.n;
        ioapics.chip[c].regs = mmio_map(m->ioapic[i].addr, IOAPIC_WINDOW);
        uint32_t version = reg_read(c, IOAPIC_REG_VERSION);
        if (version == UINT32_MAX) { /* nothing answers there */
            printf("ioapic: %u at %#" PRIx32 ": reads all ones, left out\n", m->ioapic[i].id, m->ioapic[i].addr);
            continue;
        }
        ioapics.chip[c].gsi_base = m->ioapic[i].gsi_base;
        ioapics.chip[c].pins = ((version >> 16) & 0xff) + 1;
        ioapics.chip[c].id = m->ioapic[i].id;
        ioapics.n++;
        /* Masked at reset (82093AA 3.2.4); firmware may have unmasked some: mask only those, each
         * register access being an exit under KVM. */
        for (uint32_t pin = 0; pin < ioapics.chip[c].pins; pin++)
            if (!(reg_read(c, IOAPIC_REG_REDIR + 2 * pin) & RTE_MASKED))
                write_entry(c, pin, RTE_MASKED);
        printf("ioapic: %u at %#" PRIx32 ", version %#x, GSI %" PRIu32 "-%" PRIu32 ", all masked%s\n", m->ioapic[i].id,
               m->ioapic[i].addr, version & 0xff, ioapics.chip[c].gsi_base,
               ioapics.chip[c].gsi_base + ioapics.chip[c].pins - 1, m->pcat_compat && c == 0 ? " (8259s masked)" : "");
    }
    return ioapics.n;
}

bool ioapic_route(uint32_t gsi, uint8_t vector, uint32_t apic_id, bool active_low, bool level, const char **why)
{
    unsigned c;
    uint32_t pin;
    if (!find(gsi, &c, &pin)) {
        *why = "no I/O APIC serves this GSI";
        return false;
    }
    if (apic_id > 0xff) {
        *why = "the APIC ID does not fit an I/O APIC entry's 8-bit destination (interrupt remapping needed)";
        return false;
    }
    uint64_t e = vector | (active_low ? RTE_ACTIVE_LOW : 0) | (level ? RTE_LEVEL : 0) |
        ((uint64_t)apic_id << RTE_DEST_SHIFT); /* fixed delivery, physical destination */
    uint64_t flags = spin_lock(&ioapics.lock);
    write_entry(c, pin, e);
    spin_unlock(&ioapics.lock, flags);
    return true;
}

bool ioapic_route_isa(uint8_t irq, uint8_t vector, uint32_t apic_id, bool *level, char *desc, size_t desclen)
{
    struct isa_route r;
    const char *why = NULL;
    if (ioapics.madt == NULL || ioapics.n == 0) {
        snprintf(desc, desclen, "ISA IRQ %u: no I/O APIC", irq);
        return false;
    }
    if (!madt_isa_route(ioapics.madt, irq, &r)) {
        snprintf(desc, desclen, "ISA IRQ %u: no GSI (another source was moved onto its number)", irq);
        return false;
    }
    if (!ioapic_route(r.gsi, vector, apic_id, r.active_low, r.level, &why)) {
        snprintf(desc, desclen, "ISA IRQ %u -> GSI %" PRIu32 ": %s", irq, r.gsi, why);
        return false;
    }
    snprintf(desc, desclen, "ISA IRQ %u -> GSI %" PRIu32 " (%s, active %s)", irq, r.gsi, r.level ? "level" : "edge",
             r.active_low ? "low" : "high");
    *level = r.level;
    return true;
}

void ioapic_mask(uint32_t gsi)
{
    unsigned c;
    uint32_t pin;
    if (!find(gsi, &c, &pin))
        return;
    uint64_t flags = spin_lock(&ioapics.lock);
    reg_write(c, IOAPIC_REG_REDIR + 2 * pin, reg_read(c, IOAPIC_REG_REDIR + 2 * pin) | (uint32_t)RTE_MASKED);
    spin_unlock(&ioapics.lock, flags);
}

uint64_t ioapic_entry(uint32_t gsi)
{
    unsigned c;
    uint32_t pin;
    if (!find(gsi, &c, &pin))
        return UINT64_MAX;
    uint64_t flags = spin_lock(&ioapics.lock);
    uint64_t e = reg_read(c, IOAPIC_REG_REDIR + 2 * pin) | (uint64_t)reg_read(c, IOAPIC_REG_REDIR + 2 * pin + 1) << 32;
    spin_unlock(&ioapics.lock, flags);
    return e;
}
