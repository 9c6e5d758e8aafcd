/* SPDX-License-Identifier: MIT */
/* fuzz_acpi_fadt.c - libFuzzer over the FADT's PM timer fields (kernel/acpi_fadt.c): the table is
 * the firmware's (or a VMM's). The input is the table, in an allocation of exactly its size so
 * ASan reports any read past it. Whatever the bytes: no crash, and an answer that holds - a
 * found timer has a port in the 16-bit I/O space and 24 or 32 bits; a refusal says why. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/acpi_fadt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *t = malloc(size ? size : 1);
    if (t == NULL)
        return 0;
    memcpy(t, data, size);
    struct acpi_pm_timer pm = {0, 0};
    const char *why = NULL;
    if (acpi_fadt_pm_timer(t, size, &pm, &why)) {
        if (pm.port == 0 || pm.port > 0xfffc || (pm.bits != 24 && pm.bits != 32))
            abort();
    } else if (why == NULL || why[0] == '\0') {
        abort();
    }
    free(t);
    return 0;
}
