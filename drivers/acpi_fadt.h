/* SPDX-License-Identifier: MIT */
/* acpi_fadt.h - what bounce reads from the FADT ("FACP", ACPI 6.5 5.2.9): where the ACPI PM
 * timer is. Pure logic over the table's bytes, which the firmware (or a VMM) controls: host-tested
 * and fuzzed (tests/host/test_acpi_fadt.c, tests/fuzz/fuzz_acpi_fadt.c). */
#ifndef BOUNCE_DRIVERS_ACPI_FADT_H
#define BOUNCE_DRIVERS_ACPI_FADT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct acpi_pm_timer {
    uint16_t port; /* system I/O port of the 32-bit PM_TMR register */
    uint8_t bits;  /* 24, or 32 with TMR_VAL_EXT */
};

/* Find the PM timer in a FADT of len bytes (the whole table, header included). The 64-bit
 * X_PM_TMR_BLK (offset 208, a Generic Address Structure) wins when present and in system I/O
 * space, else PM_TMR_BLK (offset 76) with PM_TMR_LEN (offset 91) = 4. Returns false, with the
 * reason in why (may be NULL), when there is none or the table does not describe one sensibly. */
bool acpi_fadt_pm_timer(const uint8_t *fadt, size_t len, struct acpi_pm_timer *out, const char **why);

#endif
