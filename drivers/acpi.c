/* SPDX-License-Identifier: MIT */
/* acpi.c - finding ACPI tables from the RSDP (see acpi.h). */
#include "drivers/acpi.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "drivers/acpi_fadt.h"
#include "drivers/acpi_madt.h"
#include "mm/mm.h"

/* Map a table whose length we learn from its own header. */
static const struct acpi_sdt_header *map_table(uint64_t phys)
{
    const struct acpi_sdt_header *h = firmware_map(phys, sizeof(*h));
    if (h->length < sizeof(*h) || h->length > MiB(1))
        return NULL;
    h = firmware_map(phys, h->length);
    return acpi_checksum(h, h->length) == 0 ? h : NULL;
}

const struct acpi_sdt_header *acpi_find_table(uint64_t rsdp_phys, const char sig[4])
{
    if (rsdp_phys == 0)
        return NULL;
    const struct acpi_rsdp *r = firmware_map(rsdp_phys, sizeof(*r));
    if (!acpi_rsdp_valid(r))
        return NULL;
    bool x = r->revision >= 2 && r->xsdt_address != 0;
    const struct acpi_sdt_header *root = map_table(x ? r->xsdt_address : r->rsdt_address);
    if (root == NULL)
        return NULL;
    size_t width = x ? 8 : 4, n = (root->length - sizeof(*root)) / width;
    const uint8_t *entries = (const uint8_t *)(root + 1);
    for (size_t i = 0; i < n; i++) {
        uint64_t phys = 0;
        memcpy(&phys, entries + i * width, width); /* entries are unaligned in the XSDT */
        const struct acpi_sdt_header *h = map_table(phys);
        if (h && memcmp(h->signature, sig, 4) == 0)
            return h;
    }
    return NULL;
}

bool acpi_find_pm_timer(uint64_t rsdp_phys, struct acpi_pm_timer *out, const char **why)
{
    const struct acpi_sdt_header *fadt = acpi_find_table(rsdp_phys, "FACP");
    if (fadt == NULL) {
        if (why)
            *why = rsdp_phys ? "no FADT in the ACPI tables" : "no ACPI tables";
        return false;
    }
    return acpi_fadt_pm_timer((const uint8_t *)fadt, fadt->length, out, why);
}

const struct madt_info *acpi_madt(uint64_t rsdp_phys, const char **why)
{
    static struct madt_info info;
    static const char *reason;
    static bool read, valid;
    if (!read) {
        read = true;
        const struct acpi_sdt_header *t = acpi_find_table(rsdp_phys, "APIC");
        if (t == NULL)
            reason = rsdp_phys ? "no MADT in the ACPI tables" : "no ACPI tables";
        else
            valid = acpi_madt_parse((const uint8_t *)t, t->length, &info, &reason);
    }
    if (!valid && why)
        *why = reason;
    return valid ? &info : NULL;
}

void acpi_print_madt(uint64_t rsdp_phys)
{
    const char *why = NULL;
    const struct madt_info *m = acpi_madt(rsdp_phys, &why);
    if (m == NULL) {
        printf("acpi: MADT: %s: only the boot CPU is known\n", why);
        return;
    }
    printf("acpi: MADT: %u CPU%s, APIC IDs", m->ncpus, m->ncpus == 1 ? "" : "s");
    for (unsigned i = 0; i < m->ncpus; i++)
        printf(" %" PRIu32 "%s%s", m->cpu[i].apic_id, m->cpu[i].x2apic ? "(x2)" : "",
               m->cpu[i].enabled ? "" : "(online-capable)");
    printf("; local APIC at %#" PRIx64 "%s", m->lapic_addr, m->pcat_compat ? ", 8259s present" : "");
    if (m->cpus_dropped || m->cpus_disabled)
        printf("; %u more not handled, %u disabled", m->cpus_dropped, m->cpus_disabled);
    printf("\n");
    for (unsigned i = 0; i < m->nioapics; i++)
        printf("acpi: MADT: I/O APIC %u at %#" PRIx32 ", GSI %" PRIu32 "+\n", m->ioapic[i].id, m->ioapic[i].addr,
               m->ioapic[i].gsi_base);
    for (unsigned i = 0; i < m->noverrides; i++)
        printf("acpi: MADT: IRQ %u -> GSI %" PRIu32 ", %s, %s\n", m->override[i].source, m->override[i].gsi,
               (m->override[i].flags & 3) == 3 ? "active low" : "active high",
               ((m->override[i].flags >> 2) & 3) == 3 ? "level" : "edge");
}
