/* acpi.c - the RSDP: validation and the legacy search (see acpi.h). */
#include "kernel/acpi.h"

#include <string.h>

#include "kernel/acpi_fadt.h"
#include "mm/mm.h"

uint8_t acpi_checksum(const void *p, size_t len)
{
    uint8_t sum = 0;
    for (size_t i = 0; i < len; i++)
        sum = (uint8_t)(sum + ((const uint8_t *)p)[i]);
    return sum;
}

bool acpi_rsdp_valid(const struct acpi_rsdp *r)
{
    if (memcmp(r->signature, "RSD PTR ", 8) != 0 || acpi_checksum(r, 20) != 0)
        return false;
    if (r->revision >= 2 && (r->length < sizeof(*r) || r->length > 4096 || acpi_checksum(r, r->length) != 0))
        return false;
    return true;
}

static uint64_t scan(uint64_t start, uint64_t len)
{
    for (uint64_t a = start; a + 20 <= start + len; a += 16)
        if (acpi_rsdp_valid((const struct acpi_rsdp *)(uintptr_t)a))
            return a;
    return 0;
}

uint64_t acpi_find_rsdp_legacy(void)
{
    /* The BIOS data area word at 0x40e holds the EBDA segment. Laundering the constant address
     * through an empty asm keeps GCC from treating it as an out-of-bounds object access. */
    uintptr_t bda_ebda = 0x40e;
    __asm__("" : "+r"(bda_ebda));
    uint64_t ebda = (uint64_t)(*(const volatile uint16_t *)bda_ebda) << 4;
    uint64_t found = 0;
    if (ebda >= 0x80000 && ebda < 0xa0000)
        found = scan(ebda, 1024);
    return found ? found : scan(0xe0000, 0x20000);
}

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
