/* SPDX-License-Identifier: MIT */
/* test_acpi_fadt.c - host unit tests for kernel/acpi_fadt.c: the PM timer from FADTs as QEMU's
 * q35 (ICH9, port 0x608) and pc (PIIX4, port 0xb008) firmware build them, and from bad ones. */
#include "tests/host/host_test.h"

#include <string.h>

#include "drivers/acpi_fadt.h"

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

/* A FADT of len bytes with PM_TMR_BLK = port (PM_TMR_LEN 4) and the given flags. */
static void fadt(uint8_t *t, size_t len, uint32_t port, uint32_t flags)
{
    memset(t, 0, len);
    memcpy(t, "FACP", 4);
    put32(t + 4, (uint32_t)len);
    put32(t + 76, port);
    t[91] = 4;
    put32(t + 112, flags);
}

static void test_legacy_block_24_and_32_bits(void **state)
{
    (void)state;
    uint8_t t[244];
    struct acpi_pm_timer pm;
    fadt(t, 116, 0xb008, 0); /* ACPI 1.0 size, 24-bit counter */
    assert_true(acpi_fadt_pm_timer(t, 116, &pm, NULL));
    assert_int_equal(pm.port, 0xb008);
    assert_int_equal(pm.bits, 24);
    fadt(t, 244, 0x608, 1u << 8); /* TMR_VAL_EXT */
    assert_true(acpi_fadt_pm_timer(t, 244, &pm, NULL));
    assert_int_equal(pm.port, 0x608);
    assert_int_equal(pm.bits, 32);
}

static void test_x_pm_tmr_blk_wins_in_system_io(void **state)
{
    (void)state;
    uint8_t t[244];
    struct acpi_pm_timer pm;
    const char *why = NULL;
    fadt(t, 244, 0x608, 0);
    t[208] = 1; /* system I/O */
    t[209] = 32;
    put64(t + 212, 0x1008);
    assert_true(acpi_fadt_pm_timer(t, 244, &pm, NULL));
    assert_int_equal(pm.port, 0x1008);
    t[208] = 0; /* system memory: not a port */
    assert_false(acpi_fadt_pm_timer(t, 244, &pm, &why));
    assert_string_equal(why, "X_PM_TMR_BLK is not in system I/O space");
    put64(t + 212, 0x100000000ull);
    t[208] = 1;
    assert_false(acpi_fadt_pm_timer(t, 244, &pm, &why));
    assert_string_equal(why, "PM timer port beyond the 64 KiB I/O space");
}

static void test_no_timer_or_a_short_table_is_refused_with_a_reason(void **state)
{
    (void)state;
    uint8_t t[244];
    struct acpi_pm_timer pm;
    const char *why = NULL;
    fadt(t, 244, 0, 0);
    assert_false(acpi_fadt_pm_timer(t, 244, &pm, &why));
    assert_string_equal(why, "no PM timer (PM_TMR_BLK is 0)");
    fadt(t, 244, 0x608, 0);
    t[91] = 0;
    assert_false(acpi_fadt_pm_timer(t, 244, &pm, &why));
    assert_string_equal(why, "no PM timer (PM_TMR_LEN is not 4)");
    assert_false(acpi_fadt_pm_timer(t, 115, &pm, &why));
    assert_non_null(strstr(why, "too short"));
    assert_false(acpi_fadt_pm_timer(t, 0, &pm, &why));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_legacy_block_24_and_32_bits),
        cmocka_unit_test(test_x_pm_tmr_blk_wins_in_system_io),
        cmocka_unit_test(test_no_timer_or_a_short_table_is_refused_with_a_reason),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
