/* SPDX-License-Identifier: MIT */
/* test_pci.c - host unit tests for drivers/pci.c against fake PCI functions behind configuration
 * mechanism #1 and ECAM (tests/host/fake_pci_bus.c), and for drivers/pci_bar.c's decoding.
 *
 * pci.c's source is included so that each test starts from an empty device table and no ECAM
 * window. What it needs from the rest of the kernel - ACPI's MCFG, the mapping of windows, the boot
 * memory map - is stubbed below and recorded.
 */
#include "tests/host/host_test.h"

#include <stdbool.h>
#include <string.h>

#include "drivers/pci.c"
#include "tests/host/fake_pci_bus.h"

struct kernel_options kopts;

#define ECAM_BASE 0xb0000000ull
#define MSIX_BAR_BASE 0xfebf1000ull
#define MSIX_ENTRIES 4

static struct {
    struct acpi_sdt_header h;
    uint8_t reserved[8];
    struct acpi_mcfg_entry e;
} __attribute__((packed)) mcfg;
static bool have_mcfg, on_memory;
static unsigned maps;

/* The MSI-X table: 16 bytes an entry (PCI 3.0 6.8.2.6), every entry masked at reset. */
static uint32_t msix[MSIX_ENTRIES][4];
static unsigned changed_unmasked; /* 6.8.3.5: software must not change an unmasked entry */

static uint32_t msix_read(void *dev, uint32_t off, unsigned width)
{
    (void)dev;
    return width == 4 && off < sizeof(msix) ? msix[off / 16][off % 16 / 4] : 0;
}
static void msix_write(void *dev, uint32_t off, unsigned width, uint32_t v)
{
    (void)dev;
    if (width != 4 || off >= sizeof(msix))
        return;
    uint32_t *e = msix[off / 16];
    if (off % 16 != 12 && !(e[3] & 1))
        changed_unmasked++;
    e[off % 16 / 4] = v;
}
static const struct fake_mmio_ops msix_ops = {msix_read, msix_write};

const struct acpi_sdt_header *acpi_find_table(uint64_t rsdp_phys, const char sig[4])
{
    (void)rsdp_phys;
    return have_mcfg && memcmp(sig, "MCFG", 4) == 0 ? &mcfg.h : NULL;
}
void *mmio_map(uint64_t phys, uint64_t size)
{
    maps++;
    if (phys == ECAM_BASE)
        return (void *)fake_mmio_window((uint32_t)size, &fake_pci_ecam_ops, NULL);
    if (phys == MSIX_BAR_BASE)
        return (void *)fake_mmio_window((uint32_t)size, &msix_ops, NULL);
    return NULL;
}
bool mm_overlaps_memory(uint64_t phys, uint64_t len)
{
    (void)phys;
    (void)len;
    return on_memory;
}

static int setup(void **state)
{
    (void)state;
    fake_pci_bus_reset();
    fake_mmio_reset();
    ecam = NULL;
    strcpy(access_method, "configuration mechanism #1 (0xcf8)");
    have_mcfg = on_memory = false;
    maps = changed_unmasked = 0;
    for (int i = 0; i < MSIX_ENTRIES; i++)
        msix[i][0] = msix[i][1] = msix[i][2] = 0, msix[i][3] = 1;
    return 0;
}

/* QEMU's pc machine, roughly: a host bridge, a multi-function device, a device whose function 1
 * is absent, and a bridge with a device behind it on bus 1. */
static void a_machine(void)
{
    fake_pci_add(0, 0, 0, 0x12378086, 0x06000002, 0);
    fake_pci_add(0, 1, 0, 0x70008086, 0x06010000, 0x80);
    fake_pci_add(0, 1, 1, 0x70108086, 0x01018000, 0);
    struct fake_pci_fn *blk = fake_pci_add(0, 3, 0, 0x10421af4, 0x01000001, 0);
    fake_pci_put(blk, PCI_SUBSYSTEM_VENDOR_ID, 0x00021af4, 4);
    fake_pci_put(blk, PCI_INTERRUPT_LINE, 0x010b, 2);
    struct fake_pci_fn *bridge = fake_pci_add(0, 0x1e, 0, 0x244e8086, 0x06040000, 1);
    bridge->cfg[PCI_SECONDARY_BUS] = 1;
    fake_pci_add(1, 0, 0, 0x100e8086, 0x02000003, 0);
}

static struct pci_dev *at(uint8_t bus, uint8_t dev, uint8_t fn)
{
    for (size_t i = 0; i < ndevices; i++)
        if (devices[i].bus == bus && devices[i].dev == dev && devices[i].fn == fn)
            return &devices[i];
    return NULL;
}

/* Every function found, once, with what its header says; absent functions skipped. */
static void test_enumeration(void **state)
{
    (void)state;
    a_machine();
    pci_init(0);
    assert_int_equal(pci_count(), 6);
    struct pci_dev *d = at(0, 3, 0);
    assert_non_null(d);
    assert_int_equal(d->vendor, 0x1af4);
    assert_int_equal(d->device, 0x1042);
    assert_int_equal(d->subsys_device, 2);
    assert_int_equal(d->class_code, 0x01);
    assert_int_equal(d->prog_if, 0x00);
    assert_int_equal(d->revision, 0x01);
    assert_int_equal(d->irq_line, 0x0b);
    assert_int_equal(d->irq_pin, 0x01);
    assert_non_null(at(0, 1, 1)); /* function 1 of a multi-function device */
    assert_int_equal(at(0, 1, 1)->prog_if, 0x80);
    assert_non_null(at(1, 0, 0)); /* behind the bridge */
    assert_null(at(0, 3, 1));
    size_t iter = 0;
    assert_ptr_equal(pci_find(0x1af4, 0xffff, &iter), d);
    assert_null(pci_find(0x1af4, 0xffff, &iter));
}

/* The same machine through ECAM (q35): the same functions, and the extended space reachable. */
static void test_enumeration_through_ecam(void **state)
{
    (void)state;
    a_machine();
    have_mcfg = true;
    mcfg.h.length = sizeof(mcfg);
    mcfg.e = (struct acpi_mcfg_entry){.base = ECAM_BASE, .segment = 0, .start_bus = 0, .end_bus = 1};
    fake_pci_put(&fake_pci_bus.fn[3], 0x100, 0x00010001, 4); /* an extended capability header */
    pci_init(0);
    assert_non_null(strstr(access_method, "ECAM at 0xb0000000, buses 0-1"));
    assert_int_equal(pci_count(), 6);
    assert_int_equal(pci_read32(at(0, 3, 0), 0x100), 0x00010001);
}

/* An MCFG that places ECAM on RAM (or wrapping) is not used: mechanism #1 finds the same devices. */
static void test_ecam_on_memory_refused(void **state)
{
    (void)state;
    a_machine();
    have_mcfg = true;
    on_memory = true;
    mcfg.h.length = sizeof(mcfg);
    mcfg.e = (struct acpi_mcfg_entry){.base = ECAM_BASE, .segment = 0, .start_bus = 0, .end_bus = 1};
    pci_init(0);
    assert_null(ecam);
    assert_int_equal(maps, 0);
    assert_int_equal(pci_count(), 6);
    on_memory = false;
    mcfg.e.base = UINT64_MAX - 0xfffff;
    pci_init(0);
    assert_null(ecam);
}

/* BARs sized with decoding off, every value put back: I/O with a 16-bit decoder, 32-bit memory,
 * 64-bit prefetchable memory above 4 GiB, one not implemented. */
static void test_bar_sizing(void **state)
{
    (void)state;
    struct fake_pci_fn *f = fake_pci_add(0, 4, 0, 0x10011af4, 0x01000000, 0);
    fake_pci_set_bar(f, 0, 0xc001, 0x20);
    fake_pci_set_bar(f, 1, 0xfebf1000, 0x1000);
    fake_pci_set_bar(f, 2, 0x800000000ull | 0xc, 0x4000);
    fake_pci_set_bar(f, 5, 0xfe000000, 1u << 20);
    fake_pci_put(f, PCI_COMMAND, PCI_COMMAND_IO | PCI_COMMAND_MEMORY, 2);
    uint8_t before[64];
    memcpy(before, f->cfg, sizeof(before));
    pci_init(0);
    struct pci_dev *d = at(0, 4, 0);
    assert_true(d->bar[0].present && d->bar[0].io);
    assert_int_equal(d->bar[0].base, 0xc000);
    assert_int_equal(d->bar[0].size, 0x20);
    assert_true(d->bar[1].present && !d->bar[1].io && !d->bar[1].is64);
    assert_int_equal(d->bar[1].base, 0xfebf1000);
    assert_int_equal(d->bar[1].size, 0x1000);
    assert_true(d->bar[2].present && d->bar[2].is64 && d->bar[2].prefetch);
    assert_int_equal(d->bar[2].base, 0x800000000ull);
    assert_int_equal(d->bar[2].size, 0x4000);
    assert_false(d->bar[3].present); /* the upper half of BAR 2 */
    assert_false(d->bar[4].present);
    assert_true(d->bar[5].present);
    assert_int_equal(d->bar[5].size, 1u << 20);
    assert_int_equal(f->sized_while_decoding, 0);
    assert_memory_equal(f->cfg, before, sizeof(before)); /* every BAR and the command register back */
}

/* Sizings a device should never read back: not a size, a 64-bit BAR in the last slot, a base not
 * aligned to its size, an I/O BAR past 64 KiB. Each BAR is ignored with its reason; the others of
 * the function are still used. */
static void test_bars_that_lie(void **state)
{
    (void)state;
    struct fake_pci_fn *f = fake_pci_add(0, 4, 0, 0x10011af4, 0x01000000, 0);
    fake_pci_set_bar(f, 0, 0xfebf0000, 0x1000);
    f->lies_ones[0] = 0xff00f000; /* holes in the size */
    fake_pci_set_bar(f, 1, 0xfebf2000, 0x1000);
    fake_pci_set_bar(f, 2, 0xfebf3000, 0x1000);
    fake_pci_put(f, PCI_BASE_ADDRESS_0 + 8, 0xfebf3800, 4); /* a base the size cannot hold */
    fake_pci_set_bar(f, 3, 0x10001, 0x20);                  /* I/O past 64 KiB */
    fake_pci_set_bar(f, 5, 0xfe000004, 0x1000);             /* 64-bit, in BAR 5 */
    pci_init(0);
    struct pci_dev *d = at(0, 4, 0);
    assert_false(d->bar[0].present);
    assert_true(d->bar[1].present);
    assert_false(d->bar[2].present);
    assert_false(d->bar[3].present);
    assert_false(d->bar[5].present);
}

/* The decoding alone, value by value (PCI 3.0 6.2.5.1). */
static void test_bar_decode(void **state)
{
    (void)state;
    struct pci_bar b;
    const char *why;
    struct pci_bar_sizing s = {.lo = 0xfebf1000, .lo_ones = 0xfffff000, .has_upper = true};
    assert_true(pci_bar_decode(&s, &b, &why));
    assert_int_equal(b.size, 0x1000);
    s = (struct pci_bar_sizing){.lo = 0, .lo_ones = 0, .has_upper = true}; /* not implemented */
    assert_false(pci_bar_decode(&s, &b, &why));
    assert_null(why);
    s = (struct pci_bar_sizing){.lo = 1, .lo_ones = 1, .has_upper = true}; /* an I/O one, not implemented */
    assert_false(pci_bar_decode(&s, &b, &why)); /* (the fuzzer found it taken as 64 KiB of ports) */
    assert_null(why);
    s = (struct pci_bar_sizing){.lo = 0xc001, .lo_ones = 0xffe1, .has_upper = true}; /* a 16-bit decoder */
    assert_true(pci_bar_decode(&s, &b, &why));
    assert_int_equal(b.size, 0x20);
    s = (struct pci_bar_sizing){.lo = 0xc001, .lo_ones = 0xffffffe1, .has_upper = true}; /* a 32-bit decoder */
    assert_true(pci_bar_decode(&s, &b, &why));
    assert_int_equal(b.size, 0x20);
    s = (struct pci_bar_sizing){.lo = 0xc, .lo_ones = 0xfffffffc, .hi = 0x8, .hi_ones = 0xffffffff, .has_upper = true};
    assert_true(pci_bar_decode(&s, &b, &why)); /* 64-bit prefetchable, 16 bytes at 0x8_0000_0000 */
    assert_true(b.is64 && b.prefetch);
    assert_int_equal(b.base, 0x800000000ull);
    assert_int_equal(b.size, 16);
    s = (struct pci_bar_sizing){.lo = 0x4, .lo_ones = 0x4, .hi = 0, .hi_ones = 0xfffffff0, .has_upper = true};
    assert_true(pci_bar_decode(&s, &b, &why)); /* 64 GiB: the size comes from the upper half alone */
    assert_int_equal(b.size, 1ull << 36);
    s = (struct pci_bar_sizing){.lo = 0x4, .lo_ones = 0xfffff004, .has_upper = false};
    assert_false(pci_bar_decode(&s, &b, &why));
    assert_non_null(strstr(why, "last slot"));
    s = (struct pci_bar_sizing){.lo = 0xfebf0000, .lo_ones = 0xff00f000, .has_upper = true};
    assert_false(pci_bar_decode(&s, &b, &why));
    assert_non_null(strstr(why, "not a size"));
    s = (struct pci_bar_sizing){.lo = 0xfff08000, .lo_ones = 0xffff0000, .has_upper = true};
    assert_false(pci_bar_decode(&s, &b, &why));
    assert_non_null(strstr(why, "not aligned"));
    s = (struct pci_bar_sizing){.lo = 0xfff1, .lo_ones = 0xfffffff1, .has_upper = true};
    assert_true(pci_bar_decode(&s, &b, &why)); /* 0xfff0 + 16 ends at 64 KiB exactly */
    s = (struct pci_bar_sizing){.lo = 0x10001, .lo_ones = 0xfffffff1, .has_upper = true};
    assert_false(pci_bar_decode(&s, &b, &why));
    assert_non_null(strstr(why, "64 KiB I/O space"));
}

/* A BAR placed on memory in the boot map is never mapped: registers written there would be RAM. */
static void test_bar_on_memory_not_mapped(void **state)
{
    (void)state;
    struct fake_pci_fn *f = fake_pci_add(0, 4, 0, 0x10011af4, 0x01000000, 0);
    fake_pci_set_bar(f, 1, MSIX_BAR_BASE, 0x1000);
    pci_init(0);
    on_memory = true;
    assert_null(pci_map_bar(at(0, 4, 0), 1));
    assert_int_equal(maps, 0);
    on_memory = false;
    assert_non_null(pci_map_bar(at(0, 4, 0), 1));
    assert_null(pci_map_bar(at(0, 4, 0), 0)); /* not implemented */
    assert_null(pci_map_bar(at(0, 4, 0), 6));
}

/* MSI-X (PCI 3.0 6.8.2): the entry written while masked, the message the SDM's format (11.11.1:
 * 0xFEE, destination in 19:12; the vector in the data), then unmasked and the function's MSI-X
 * enabled with INTx off. Tables and entries a device should not have are refused with the reason. */
static void test_msix_route(void **state)
{
    (void)state;
    struct fake_pci_fn *f = fake_pci_add(0, 4, 0, 0x10421af4, 0x01000001, 0);
    fake_pci_set_bar(f, 1, MSIX_BAR_BASE, 0x1000);
    f->cfg[PCI_STATUS] = PCI_STATUS_CAP_LIST;
    f->cfg[PCI_CAPABILITY_LIST] = 0x98;
    f->cfg[0x98] = PCI_CAP_ID_MSIX;
    fake_pci_put(f, 0x9a, (MSIX_ENTRIES - 1) | MSIX_CONTROL_MASKALL, 2);
    fake_pci_put(f, 0x9c, 1, 4); /* BIR 1, offset 0 */
    pci_init(0);
    struct pci_dev *d = at(0, 4, 0);
    const char *why = NULL;
    assert_int_equal(pci_msix_route(d, 1, 2, 0x41, &why), 0);
    assert_int_equal(msix[1][0], 0xfee02000);
    assert_int_equal(msix[1][1], 0);
    assert_int_equal(msix[1][2], 0x41);
    assert_int_equal(msix[1][3] & 1, 0);
    assert_int_equal(changed_unmasked, 0);
    uint16_t control = (uint16_t)(f->cfg[0x9a] | f->cfg[0x9b] << 8);
    assert_true(control & MSIX_CONTROL_ENABLE);
    assert_false(control & MSIX_CONTROL_MASKALL);
    assert_true((f->cfg[PCI_COMMAND + 1] << 8) & PCI_COMMAND_INTX_DISABLE);
    /* Routed again (the entry now unmasked): masked first, again. */
    assert_int_equal(pci_msix_route(d, 1, 3, 0x42, &why), 0);
    assert_int_equal(msix[1][2], 0x42);
    assert_int_equal(changed_unmasked, 0);
    assert_int_equal(pci_msix_route(d, MSIX_ENTRIES, 0, 0x41, &why), -1);
    assert_string_equal(why, "the MSI-X table has fewer entries");
    assert_int_equal(pci_msix_route(d, 0, 256, 0x41, &why), -1);
    assert_non_null(strstr(why, "does not fit an MSI address"));
    fake_pci_put(f, 0x9c, 0xff8 | 1, 4); /* the table runs past BAR 1's 4 KiB */
    assert_int_equal(pci_msix_route(d, 0, 0, 0x41, &why), -1);
    assert_string_equal(why, "the MSI-X table lies outside its memory BAR");
    fake_pci_put(f, 0x9c, 3, 4); /* in BAR 3, which does not exist */
    assert_int_equal(pci_msix_route(d, 0, 0, 0x41, &why), -1);
    assert_string_equal(why, "the MSI-X table lies outside its memory BAR");
    f->cfg[PCI_STATUS] = 0;
    assert_int_equal(pci_msix_route(d, 0, 0, 0x41, &why), -1);
    assert_string_equal(why, "no MSI-X capability");
}

/* A bridge naming its own bus (or a lower one) as secondary is not followed; a chain of bridges
 * is followed 8 deep, no further: enumeration always ends. */
static void test_bridges_cannot_loop(void **state)
{
    (void)state;
    struct fake_pci_fn *self = fake_pci_add(0, 1, 0, 0x244e8086, 0x06040000, 1);
    self->cfg[PCI_SECONDARY_BUS] = 0;
    for (uint8_t bus = 0; bus < 12; bus++) {
        struct fake_pci_fn *b = fake_pci_add(bus, 2, 0, 0x244e8086, 0x06040000, 1);
        b->cfg[PCI_SECONDARY_BUS] = (uint8_t)(bus + 1);
    }
    pci_init(0);
    assert_int_equal(pci_count(), 1 + 9); /* the self-loop, bridges on buses 0-8 */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_enumeration, setup),
        cmocka_unit_test_setup(test_enumeration_through_ecam, setup),
        cmocka_unit_test_setup(test_ecam_on_memory_refused, setup),
        cmocka_unit_test_setup(test_bar_sizing, setup),
        cmocka_unit_test_setup(test_bars_that_lie, setup),
        cmocka_unit_test_setup(test_bar_decode, setup),
        cmocka_unit_test_setup(test_bar_on_memory_not_mapped, setup),
        cmocka_unit_test_setup(test_msix_route, setup),
        cmocka_unit_test_setup(test_bridges_cannot_loop, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
