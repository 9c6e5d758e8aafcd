/* SPDX-License-Identifier: MIT */
/* acpi_rsdp.c - the RSDP: validation and the legacy search (see acpi_rsdp.h). */
#include "kernel/acpi_rsdp.h"

#include <string.h>

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
    if (r->revision >= 2 &&
        (r->length < sizeof(*r) || r->length > ACPI_RSDP_MAX_LENGTH || acpi_checksum(r, r->length) != 0))
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
