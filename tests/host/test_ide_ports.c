/* SPDX-License-Identifier: MIT */
/* test_ide_ports.c - host unit tests for drivers/ide_ports.c: the PIIX's compatibility mode (QEMU
 * pc), a native-mode function with sane BARs, and native-mode BARs a device should never report. */
#include "tests/host/host_test.h"

#include <string.h>

#include "drivers/ide.h"
#include "drivers/ide_ports.h"

static struct pci_bar io(uint64_t base, uint64_t size)
{
    return (struct pci_bar){base, size, true, true, false, false};
}

static void test_compatibility_mode_uses_the_legacy_ports(void **state)
{
    (void)state;
    struct pci_bar bar[PCI_NUM_BARS] = {0};
    bar[4] = io(0xc000, 16);
    uint16_t cmd, ctl, bm;
    char why[200];
    assert_true(ide_channel_ports(0x80, bar, 0, &cmd, &ctl, why, sizeof(why)));
    assert_int_equal(cmd, 0x1f0);
    assert_int_equal(ctl, 0x3f6);
    assert_true(ide_channel_ports(0x80, bar, 1, &cmd, &ctl, why, sizeof(why)));
    assert_int_equal(cmd, 0x170);
    assert_int_equal(ctl, 0x376);
    assert_true(ide_bus_master_ports(0x80, bar, &bm));
    assert_int_equal(bm, 0xc000);
    assert_false(ide_bus_master_ports(0x00, bar, &bm)); /* prog-if says no bus master */
}

static void test_native_mode_uses_its_bars(void **state)
{
    (void)state;
    struct pci_bar bar[PCI_NUM_BARS] = {io(0xd000, 8), io(0xd100, 4), io(0xd200, 8), io(0xd300, 4), io(0xd400, 16)};
    uint16_t cmd, ctl;
    char why[200];
    assert_true(ide_channel_ports(0x85, bar, 0, &cmd, &ctl, why, sizeof(why)));
    assert_int_equal(cmd, 0xd000);
    assert_int_equal(ctl, 0xd102);
    assert_true(ide_channel_ports(0x85, bar, 1, &cmd, &ctl, why, sizeof(why)));
    assert_int_equal(cmd, 0xd200);
    assert_int_equal(ctl, 0xd302);
}

/* Native mode with BARs that cannot be the registers: refused, saying what they are. */
static void test_native_bars_that_lie(void **state)
{
    (void)state;
    struct pci_bar bar[PCI_NUM_BARS] = {io(0xd000, 8), io(0xd100, 4), io(0, 8), io(0xd300, 4), io(0xfff8, 16)};
    uint16_t cmd = 0, ctl = 0, bm;
    char why[200] = "";
    assert_false(ide_channel_ports(0x05, bar, 1, &cmd, &ctl, why, sizeof(why))); /* BAR2 at port 0 */
    assert_non_null(strstr(why, "BAR2/BAR3"));
    bar[0].io = false; /* memory, not I/O */
    assert_false(ide_channel_ports(0x05, bar, 0, &cmd, &ctl, why, sizeof(why)));
    assert_non_null(strstr(why, "memory"));
    bar[0] = io(0xd000, 4); /* too small for the command block */
    assert_false(ide_channel_ports(0x05, bar, 0, &cmd, &ctl, why, sizeof(why)));
    bar[0] = io(0x1fffff, 8); /* past the 16-bit port space */
    assert_false(ide_channel_ports(0x05, bar, 0, &cmd, &ctl, why, sizeof(why)));
    bar[1].present = false;
    bar[0] = io(0xd000, 8);
    assert_false(ide_channel_ports(0x05, bar, 0, &cmd, &ctl, why, sizeof(why)));
    assert_non_null(strstr(why, "absent"));
    assert_false(ide_bus_master_ports(0x80, bar, &bm)); /* 16 ports at 0xfff8 run past 0xffff */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_compatibility_mode_uses_the_legacy_ports),
        cmocka_unit_test(test_native_mode_uses_its_bars),
        cmocka_unit_test(test_native_bars_that_lie),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
