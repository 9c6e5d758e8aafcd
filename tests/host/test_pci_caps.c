/* SPDX-License-Identifier: MIT */
/* test_pci_caps.c - host unit tests for drivers/pci_caps.c: a configuration space built byte by byte
 * from PCI 3.0 6.7 and virtio 1.2 4.1.4 (a virtio-blk-pci function as QEMU lays it out:
 * fake_pci_cfg.c), then lists a device should never hold. */
#include "tests/host/host_test.h"

#include <string.h>

#include "drivers/pci.h"
#include "drivers/pci_caps.h"
#include "drivers/virtio_pci.h"
#include "lib/units.h"
#include "tests/host/fake_pci_cfg.h"

static const uint64_t bars[6] = {0, KiB(4), 0, 0, KiB(16), 0}; /* BAR1: MSI-X table; BAR4: virtio */

static void test_qemu_layout(void **state)
{
    (void)state;
    fake_pci_cfg_virtio_blk();
    assert_int_equal(pci_cap_find(&fake_pci_cfg_reader, PCI_CAP_ID_MSIX, 0), 0x98);
    assert_int_equal(pci_cap_find(&fake_pci_cfg_reader, PCI_CAP_ID_VNDR, 0), 0x84);
    assert_int_equal(pci_cap_find(&fake_pci_cfg_reader, PCI_CAP_ID_VNDR, 0x84), 0x70);
    assert_int_equal(pci_cap_find(&fake_pci_cfg_reader, 0x05, 0), 0); /* MSI: not there */
    struct virtio_pci_cap_found c[VIRTIO_PCI_CAP_TYPES];
    virtio_pci_find_caps(&fake_pci_cfg_reader, bars, c);
    assert_true(c[VIRTIO_PCI_CAP_COMMON_CFG].present && c[VIRTIO_PCI_CAP_NOTIFY_CFG].present &&
                c[VIRTIO_PCI_CAP_ISR_CFG].present && c[VIRTIO_PCI_CAP_DEVICE_CFG].present);
    assert_int_equal(c[VIRTIO_PCI_CAP_NOTIFY_CFG].offset, 0x3000);
    assert_int_equal(c[VIRTIO_PCI_CAP_NOTIFY_CFG].mult, 4);
    assert_int_equal(c[VIRTIO_PCI_CAP_COMMON_CFG].bar, 4);
    assert_false(c[VIRTIO_PCI_CAP_PCI_CFG].present); /* type 5 is not a structure the driver maps */
}

/* Lists a device should never hold: the walk ends, and nothing outside a BAR is taken. */
static void test_lists_that_lie(void **state)
{
    (void)state;
    struct virtio_pci_cap_found c[VIRTIO_PCI_CAP_TYPES];
    fake_pci_cfg_virtio_blk();
    fake_pci_cfg[0x41] = 0x98; /* a loop back to the head */
    assert_int_equal(pci_cap_find(&fake_pci_cfg_reader, 0x05, 0), 0);
    virtio_pci_find_caps(&fake_pci_cfg_reader, bars, c);
    assert_true(c[VIRTIO_PCI_CAP_COMMON_CFG].present);

    fake_pci_cfg_virtio_blk();
    fake_pci_cfg[PCI_STATUS] = 0; /* no list: nothing, whatever 0x34 says */
    assert_int_equal(pci_cap_find(&fake_pci_cfg_reader, PCI_CAP_ID_MSIX, 0), 0);

    fake_pci_cfg_virtio_blk();
    fake_pci_cfg[PCI_CAPABILITY_LIST] = 0x20; /* into the header: the walk ends */
    assert_int_equal(pci_cap_find(&fake_pci_cfg_reader, PCI_CAP_ID_MSIX, 0), 0);

    fake_pci_cfg_virtio_blk();
    fake_pci_cfg_put32(0x70 + VIRTIO_PCI_CAP_LENGTH, 0x2000); /* notify runs past BAR 4's 16 KiB */
    fake_pci_cfg[0x60 + VIRTIO_PCI_CAP_BAR] = 2;              /* device config in an absent (or I/O) BAR */
    fake_pci_cfg[0x50 + VIRTIO_PCI_CAP_LEN] = 8;              /* ISR capability too short */
    fake_pci_cfg_put32(0x40 + VIRTIO_PCI_CAP_LENGTH, 0);      /* common config of no bytes */
    virtio_pci_find_caps(&fake_pci_cfg_reader, bars, c);
    for (int t = 0; t < VIRTIO_PCI_CAP_TYPES; t++)
        assert_false(c[t].present);

    fake_pci_cfg_virtio_blk();
    fake_pci_cfg_vcap(0xf0, 0x00, VIRTIO_PCI_CAP_NOTIFY_CFG, 4, 0, 16, 20); /* would run past byte 255 */
    fake_pci_cfg[0x41] = 0xf0;
    fake_pci_cfg[0x71] = 0; /* first notify gone from the list */
    fake_pci_cfg[0x99] = 0x40;
    virtio_pci_find_caps(&fake_pci_cfg_reader, bars, c);
    assert_false(c[VIRTIO_PCI_CAP_NOTIFY_CFG].present);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_qemu_layout),
        cmocka_unit_test(test_lists_that_lie),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
