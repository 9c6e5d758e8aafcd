/* SPDX-License-Identifier: MIT */
/* fuzz_acpi_madt.c - libFuzzer over the MADT parser (drivers/acpi_madt.c): the table is the
 * firmware's (or a VMM's). The input is the table, in an allocation of exactly its size so ASan
 * reports any read past it. Whatever the bytes: no crash, and an answer that holds - an accepted
 * table lists 1..MADT_MAX_CPUS CPUs, no APIC ID twice, within the arrays' bounds; a refusal says
 * why. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/acpi_madt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *t = malloc(size ? size : 1);
    if (t == NULL)
        return 0;
    memcpy(t, data, size);
    static struct madt_info m;
    const char *why = NULL;
    if (acpi_madt_parse(t, size, &m, &why)) {
        if (m.ncpus == 0 || m.ncpus > MADT_MAX_CPUS || m.nioapics > MADT_MAX_IOAPICS ||
            m.noverrides > MADT_MAX_OVERRIDES)
            abort();
        for (unsigned i = 0; i < m.ncpus; i++)
            for (unsigned k = i + 1; k < m.ncpus; k++)
                if (m.cpu[i].apic_id == m.cpu[k].apic_id)
                    abort();
    } else if (why == NULL || why[0] == '\0') {
        abort();
    }
    free(t);
    return 0;
}
