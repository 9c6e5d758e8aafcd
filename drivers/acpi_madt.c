/* SPDX-License-Identifier: MIT */
/* acpi_madt.c - CPUs and interrupt controllers from the MADT (see acpi_madt.h). */
#include "drivers/acpi_madt.h"

#include <string.h>

#include "lib/bytes.h"

/* ACPI 6.5 5.2.12, Table 5.19: after the 36-byte header, the local APIC address and flags. */
#define MADT_LAPIC_ADDR 36
#define MADT_FLAGS 40
#define MADT_ENTRIES 44
#define MADT_PCAT_COMPAT (1u << 0)

/* Interrupt controller structure types (Table 5.21) and their sizes. */
enum { LOCAL_APIC = 0, IO_APIC = 1, SOURCE_OVERRIDE = 2, LAPIC_ADDR_OVERRIDE = 5, LOCAL_X2APIC = 9 };
#define LOCAL_APIC_LEN 8
#define IO_APIC_LEN 12
#define SOURCE_OVERRIDE_LEN 10
#define LAPIC_ADDR_OVERRIDE_LEN 12
#define LOCAL_X2APIC_LEN 16
#define LAPIC_ENABLED (1u << 0)        /* Table 5.23 */
#define LAPIC_ONLINE_CAPABLE (1u << 1) /* ACPI 6.3+ */
/* MPS INTI flags of an override (Table 5.26): 00 in a field means "the bus's default". */
#define INTI_POLARITY_MASK 0x3u
#define INTI_ACTIVE_LOW 0x3u
#define INTI_TRIGGER_MASK (0x3u << 2)
#define INTI_LEVEL (0x3u << 2)
#define XAPIC_ID_NONE 0xffu /* a local APIC entry with this ID describes no CPU */
#define X2APIC_ID_NONE 0xffffffffu

static bool fail(const char **why, const char *reason)
{
    if (why)
        *why = reason;
    return false;
}

/* Record a CPU entry; false (why) if its APIC ID was listed before. */
static bool add_cpu(struct madt_info *out, uint32_t apic_id, uint32_t uid, uint32_t flags, bool x2apic,
                    const char **why)
{
    if (!(flags & (LAPIC_ENABLED | LAPIC_ONLINE_CAPABLE))) {
        out->cpus_disabled++;
        return true;
    }
    for (unsigned i = 0; i < out->ncpus; i++)
        if (out->cpu[i].apic_id == apic_id)
            return fail(why, "the same APIC ID is listed for two CPUs");
    if (out->ncpus == MADT_MAX_CPUS) {
        out->cpus_dropped++;
        return true;
    }
    out->cpu[out->ncpus++] =
        (struct madt_cpu){.apic_id = apic_id, .uid = uid, .x2apic = x2apic, .enabled = flags & LAPIC_ENABLED};
    return true;
}

/* One entry of type `type` and `len` bytes at e (len already checked against the table's end). */
static bool parse_entry(const uint8_t *e, uint8_t type, uint8_t len, struct madt_info *out, const char **why)
{
    static const uint8_t min_len[] = {[LOCAL_APIC] = LOCAL_APIC_LEN,
                                      [IO_APIC] = IO_APIC_LEN,
                                      [SOURCE_OVERRIDE] = SOURCE_OVERRIDE_LEN,
                                      [LAPIC_ADDR_OVERRIDE] = LAPIC_ADDR_OVERRIDE_LEN,
                                      [LOCAL_X2APIC] = LOCAL_X2APIC_LEN};
    if (type < sizeof(min_len) && len < min_len[type])
        return fail(why, "a MADT entry is shorter than its type's structure");
    switch (type) {
    case LOCAL_APIC: return e[3] == XAPIC_ID_NONE || add_cpu(out, e[3], e[2], get_le32(e + 4), false, why);
    case LOCAL_X2APIC:
        return get_le32(e + 4) == X2APIC_ID_NONE ||
            add_cpu(out, get_le32(e + 4), get_le32(e + 12), get_le32(e + 8), true, why);
    case IO_APIC:
        if (out->nioapics == MADT_MAX_IOAPICS)
            return fail(why, "more I/O APICs than bounce handles");
        out->ioapic[out->nioapics++] =
            (struct madt_ioapic){.id = e[2], .addr = get_le32(e + 4), .gsi_base = get_le32(e + 8)};
        return true;
    case SOURCE_OVERRIDE:
        if (e[2] != 0) /* bus 0 = ISA, the only one defined */
            return true;
        if (out->noverrides == MADT_MAX_OVERRIDES)
            return fail(why, "more interrupt source overrides than ISA has IRQs");
        out->override[out->noverrides++] =
            (struct madt_override){.source = e[3], .gsi = get_le32(e + 4), .flags = get_le16(e + 8)};
        return true;
    case LAPIC_ADDR_OVERRIDE: out->lapic_addr = get_le64(e + 4); return true;
    default: return true; /* NMI sources, GIC and other types: not needed here, skipped by length */
    }
}

bool acpi_madt_parse(const uint8_t *madt, size_t len, struct madt_info *out, const char **why)
{
    memset(out, 0, sizeof(*out));
    if (len < MADT_ENTRIES)
        return fail(why, "MADT too short for its header (44 bytes)");
    out->lapic_addr = get_le32(madt + MADT_LAPIC_ADDR);
    out->pcat_compat = get_le32(madt + MADT_FLAGS) & MADT_PCAT_COMPAT;
    for (size_t off = MADT_ENTRIES; off < len;) {
        if (len - off < 2)
            return fail(why, "a MADT entry header runs past the table's end");
        uint8_t type = madt[off], elen = madt[off + 1];
        if (elen < 2)
            return fail(why, "a MADT entry claims fewer than 2 bytes (the walk would not advance)");
        if (elen > len - off)
            return fail(why, "a MADT entry runs past the table's end");
        if (!parse_entry(madt + off, type, elen, out, why))
            return false;
        off += elen;
    }
    if (out->ncpus == 0)
        return fail(why, "the MADT lists no usable CPU");
    return true;
}

bool madt_isa_route(const struct madt_info *m, uint8_t irq, struct isa_route *out)
{
    for (unsigned i = 0; i < m->noverrides; i++)
        if (m->override[i].source == irq) {
            uint16_t f = m->override[i].flags;
            *out = (struct isa_route){.gsi = m->override[i].gsi,
                                      .active_low = (f & INTI_POLARITY_MASK) == INTI_ACTIVE_LOW,
                                      .level = (f & INTI_TRIGGER_MASK) == INTI_LEVEL};
            return true;
        }
    for (unsigned i = 0; i < m->noverrides; i++)
        if (m->override[i].gsi == irq) /* e.g. IRQ 0 on GSI 2: ISA IRQ 2 is then nowhere */
            return false;
    *out = (struct isa_route){.gsi = irq, .active_low = false, .level = false};
    return true;
}
