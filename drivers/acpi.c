/* SPDX-License-Identifier: MIT */
/* acpi.c - finding ACPI tables from the RSDP (see acpi.h). */
#include "drivers/acpi.h"

#include <string.h>

#include "drivers/acpi_fadt.h"
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
