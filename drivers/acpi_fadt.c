/* SPDX-License-Identifier: MIT */
/* acpi_fadt.c - the PM timer's port from the FADT (see acpi_fadt.h). */
#include "drivers/acpi_fadt.h"

#include <string.h>

#include "lib/bytes.h"

/* ACPI 6.5 Table 5.9 (FADT format): byte offsets of the fields read here. */
#define FADT_PM_TMR_BLK 76    /* 4: system I/O port of the PM timer (0: none) */
#define FADT_PM_TMR_LEN 91    /* 1: 4 when the timer is supported */
#define FADT_FLAGS 112        /* 4: bit 8 TMR_VAL_EXT (32-bit counter) */
#define FADT_X_PM_TMR_BLK 208 /* 12: Generic Address Structure (ACPI 2.0+) */
#define FADT_FLAG_TMR_VAL_EXT (1u << 8)
#define GAS_SYSTEM_IO 1 /* 5.2.3.2: address space id */

static bool fail(const char **why, const char *reason)
{
    if (why)
        *why = reason;
    return false;
}

bool acpi_fadt_pm_timer(const uint8_t *fadt, size_t len, struct acpi_pm_timer *out, const char **why)
{
    if (len < FADT_FLAGS + 4)
        return fail(why, "FADT too short for the PM timer fields (ACPI 1.0 has 116 bytes)");
    out->bits = get_le32(fadt + FADT_FLAGS) & FADT_FLAG_TMR_VAL_EXT ? 32 : 24;
    uint64_t port = 0;
    if (len >= FADT_X_PM_TMR_BLK + 12 && get_le64(fadt + FADT_X_PM_TMR_BLK + 4) != 0) {
        if (fadt[FADT_X_PM_TMR_BLK] != GAS_SYSTEM_IO)
            return fail(why, "X_PM_TMR_BLK is not in system I/O space");
        port = get_le64(fadt + FADT_X_PM_TMR_BLK + 4);
    } else {
        if (fadt[FADT_PM_TMR_LEN] != 4)
            return fail(why, "no PM timer (PM_TMR_LEN is not 4)");
        port = get_le32(fadt + FADT_PM_TMR_BLK);
    }
    if (port == 0)
        return fail(why, "no PM timer (PM_TMR_BLK is 0)");
    if (port > 0xfffc)
        return fail(why, "PM timer port beyond the 64 KiB I/O space");
    out->port = (uint16_t)port;
    return true;
}
