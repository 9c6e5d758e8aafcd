/* SPDX-License-Identifier: MIT */
/* pci.c - PCI enumeration and configuration access (see pci.h). */
#include "drivers/pci.h"
#include "drivers/pci_bar.h"
#include "drivers/pci_caps.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "drivers/acpi.h"
#include "kernel/cpu.h"
#include "kernel/options.h"
#include "mm/mm.h"

#define PCI_CONFIG_ADDRESS 0xcf8
#define PCI_CONFIG_DATA 0xcfc

static struct pci_dev devices[PCI_MAX_DEVICES];
static size_t ndevices;
static volatile uint8_t *ecam; /* mapped ECAM window, or NULL */
static uint8_t ecam_start, ecam_end;
static char access_method[64] = "configuration mechanism #1 (0xcf8)";

static volatile void *ecam_addr(uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off)
{
    if (ecam == NULL || bus < ecam_start || bus > ecam_end)
        return NULL;
    return ecam + (((uint64_t)(bus - ecam_start) << 20) | ((uint64_t)dev << 15) | ((uint64_t)fn << 12) | off);
}

/* Mechanism #1's CONFIG_ADDRESS (PCI Local Bus Spec 3.0, 3.2.2.3.2): enable bit 31, bus, device,
 * function, dword-aligned register. */
static uint32_t cf8_address(uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off)
{
    return 0x80000000u | (uint32_t)bus << 16 | (uint32_t)dev << 11 | (uint32_t)fn << 8 | (off & 0xfc);
}

static uint32_t cfg_read32(uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off)
{
    volatile void *a = ecam_addr(bus, dev, fn, off & ~3u);
    if (a)
        return mmio_read32(a);
    if (off >= 256)
        return 0xffffffff; /* extended space needs ECAM */
    outl(PCI_CONFIG_ADDRESS, cf8_address(bus, dev, fn, off));
    return inl(PCI_CONFIG_DATA);
}

static void cfg_write32(uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off, uint32_t v)
{
    volatile void *a = ecam_addr(bus, dev, fn, off & ~3u);
    if (a) {
        mmio_write32(a, v);
        return;
    }
    if (off >= 256)
        return;
    outl(PCI_CONFIG_ADDRESS, cf8_address(bus, dev, fn, off));
    outl(PCI_CONFIG_DATA, v);
}

uint32_t pci_read32(const struct pci_dev *d, uint16_t off) { return cfg_read32(d->bus, d->dev, d->fn, off); }
uint16_t pci_read16(const struct pci_dev *d, uint16_t off)
{
    return (uint16_t)(pci_read32(d, off & ~3u) >> ((off & 2) * 8));
}
uint8_t pci_read8(const struct pci_dev *d, uint16_t off)
{
    return (uint8_t)(pci_read32(d, off & ~3u) >> ((off & 3) * 8));
}
void pci_write32(const struct pci_dev *d, uint16_t off, uint32_t v) { cfg_write32(d->bus, d->dev, d->fn, off, v); }

void pci_write16(const struct pci_dev *d, uint16_t off, uint16_t v)
{
    unsigned shift = (off & 2) * 8;
    uint32_t old = pci_read32(d, off & ~3u);
    pci_write32(d, off & ~3u, (old & ~(0xffffu << shift)) | (uint32_t)v << shift);
}

/* Size a BAR the standard way: with decoding off (the caller), write all ones and see which bits
 * stick, then put the value back (PCI Local Bus Spec 3.0, 6.2.5.1); pci_bar.c says what it means.
 * Returns the number of BAR registers it used (1 or 2). */
static uint32_t size_register(struct pci_dev *d, uint16_t off, uint32_t *ones)
{
    uint32_t v = pci_read32(d, off);
    pci_write32(d, off, 0xffffffff);
    *ones = pci_read32(d, off);
    pci_write32(d, off, v);
    return v;
}

static int size_bar(struct pci_dev *d, int i)
{
    uint16_t off = (uint16_t)(PCI_BASE_ADDRESS_0 + 4 * i);
    struct pci_bar_sizing s = {.has_upper = i < PCI_NUM_BARS - 1};
    s.lo = size_register(d, off, &s.lo_ones);
    bool pair = pci_bar_is64(s.lo) && s.has_upper;
    if (pair)
        s.hi = size_register(d, (uint16_t)(off + 4), &s.hi_ones);
    const char *why;
    if (!pci_bar_decode(&s, &d->bar[i], &why) && why != NULL)
        printf("pci: %02x:%02x.%u BAR%d ignored: %s (value %#x, all ones read back as %#x)\n", d->bus, d->dev, d->fn, i,
               why, s.lo, s.lo_ones);
    return pair ? 2 : 1;
}

static void scan_bus(uint8_t bus, int depth);

static void add_function(uint8_t bus, uint8_t dev, uint8_t fn, int depth)
{
    if (ndevices == PCI_MAX_DEVICES) {
        printf("pci: more than %d functions, ignoring %02x:%02x.%u\n", PCI_MAX_DEVICES, bus, dev, fn);
        return;
    }
    struct pci_dev *d = &devices[ndevices++];
    memset(d, 0, sizeof(*d));
    d->bus = bus, d->dev = dev, d->fn = fn;
    uint32_t id = pci_read32(d, PCI_VENDOR_ID), cls = pci_read32(d, PCI_CLASS_REVISION);
    d->vendor = (uint16_t)id, d->device = (uint16_t)(id >> 16);
    d->revision = (uint8_t)cls, d->prog_if = (uint8_t)(cls >> 8), d->subclass = (uint8_t)(cls >> 16);
    d->class_code = (uint8_t)(cls >> 24);
    d->header_type = pci_read8(d, PCI_HEADER_TYPE) & PCI_HEADER_TYPE_MASK;
    uint32_t intr = pci_read32(d, PCI_INTERRUPT_LINE);
    d->irq_line = (uint8_t)intr, d->irq_pin = (uint8_t)(intr >> 8);
    if (d->header_type == 0) {
        uint32_t sub = pci_read32(d, PCI_SUBSYSTEM_VENDOR_ID);
        d->subsys_vendor = (uint16_t)sub, d->subsys_device = (uint16_t)(sub >> 16);
        uint16_t cmd = pci_read16(d, PCI_COMMAND);
        pci_write16(d, PCI_COMMAND, cmd & (uint16_t) ~(PCI_COMMAND_IO | PCI_COMMAND_MEMORY));
        for (int i = 0; i < PCI_NUM_BARS;)
            i += size_bar(d, i);
        pci_write16(d, PCI_COMMAND, cmd);
    } else if (d->header_type == 1 && depth < 8) {
        uint8_t secondary = pci_read8(d, PCI_SECONDARY_BUS);
        if (secondary > bus)
            scan_bus(secondary, depth + 1);
    }
}

static void scan_bus(uint8_t bus, int depth)
{
    for (uint8_t dev = 0; dev < 32; dev++) {
        if ((uint16_t)cfg_read32(bus, dev, 0, PCI_VENDOR_ID) == 0xffff) /* no device answers */
            continue;
        bool multi = (cfg_read32(bus, dev, 0, PCI_HEADER_TYPE & ~3u) >> 16) & PCI_HEADER_TYPE_MULTI_FUNCTION;
        for (uint8_t fn = 0; fn < (multi ? 8 : 1); fn++)
            if ((uint16_t)cfg_read32(bus, dev, fn, PCI_VENDOR_ID) != 0xffff)
                add_function(bus, dev, fn, depth);
    }
}

void pci_init(uint64_t rsdp)
{
    const struct acpi_sdt_header *mcfg = acpi_find_table(rsdp, "MCFG");
    if (mcfg && mcfg->length >= sizeof(*mcfg) + 8 + sizeof(struct acpi_mcfg_entry)) {
        const struct acpi_mcfg_entry *e = (const void *)((const uint8_t *)mcfg + sizeof(*mcfg) + 8);
        uint64_t window = (uint64_t)(e->end_bus - e->start_bus + 1) << 20;
        bool usable = e->segment == 0 && e->end_bus >= e->start_bus;
        if (usable && (e->base > UINT64_MAX - window || mm_overlaps_memory(e->base, window))) {
            /* A VMM's table, or a firmware bug: configuration writes there would land in RAM. */
            printf("pci: the MCFG's ECAM window [%#" PRIx64 ", +%#" PRIx64
                   ") lies on memory in the boot map (or wraps): ignored, configuration mechanism #1 used\n",
                   e->base, window);
        } else if (usable) {
            ecam_start = e->start_bus;
            ecam_end = e->end_bus;
            ecam = mmio_map(e->base, window);
            snprintf(access_method, sizeof(access_method), "ECAM at %#" PRIx64 ", buses %u-%u", e->base, ecam_start,
                     ecam_end);
        }
    }
    ndevices = 0;
    scan_bus(0, 0);
    printf("pci: %zu functions found through %s\n", ndevices, access_method);
    if (kopts.pci)
        pci_print();
}

size_t pci_count(void) { return ndevices; }

struct pci_dev *pci_find(uint16_t vendor, uint16_t device, size_t *iter)
{
    for (; *iter < ndevices; (*iter)++) {
        struct pci_dev *d = &devices[*iter];
        if ((vendor == 0xffff || d->vendor == vendor) && (device == 0xffff || d->device == device)) {
            (*iter)++;
            return d;
        }
    }
    return NULL;
}

struct pci_dev *pci_find_class(uint8_t class_code, uint8_t subclass, size_t *iter)
{
    for (; *iter < ndevices; (*iter)++) {
        struct pci_dev *d = &devices[*iter];
        if (d->class_code == class_code && d->subclass == subclass) {
            (*iter)++;
            return d;
        }
    }
    return NULL;
}

void pci_enable(struct pci_dev *d, const char *driver, bool bus_master)
{
    uint16_t cmd = pci_read16(d, PCI_COMMAND) | PCI_COMMAND_INTX_DISABLE; /* we poll */
    for (int i = 0; i < 6; i++)
        if (d->bar[i].present)
            cmd |= d->bar[i].io ? PCI_COMMAND_IO : PCI_COMMAND_MEMORY;
    if (bus_master)
        cmd |= PCI_COMMAND_MASTER;
    pci_write16(d, PCI_COMMAND, cmd);
    d->driver = driver;
}

volatile void *pci_map_bar(struct pci_dev *d, int bar)
{
    if (bar < 0 || bar > 5 || !d->bar[bar].present || d->bar[bar].io || d->bar[bar].base == 0)
        return NULL;
    const struct pci_bar *b = &d->bar[bar];
    /* The firmware - or the VMM - placed it; registers written over RAM or the kernel's own image
     * would corrupt it silently (the virtio-mmio windows of the command line are refused alike). */
    if (mm_overlaps_memory(b->base, b->size)) {
        printf("pci: %02x:%02x.%u BAR%d [%#" PRIx64 ", +%#" PRIx64 ") lies on memory in the boot map: not mapped\n",
               d->bus, d->dev, d->fn, bar, b->base, b->size);
        return NULL;
    }
    return mmio_map(b->base, b->size);
}

/* The MSI-X capability (6.8.2.1-6.8.2.4) and a table entry (6.8.2.6) */
#define MSIX_CONTROL 2 /* 16 bits: table size - 1 in 10:0 */
#define MSIX_CONTROL_SIZE 0x7ffu
#define MSIX_CONTROL_MASKALL (1u << 14)
#define MSIX_CONTROL_ENABLE (1u << 15)
#define MSIX_TABLE 4 /* BIR in bits 2:0, offset in the BAR in the rest */
#define MSIX_TABLE_BIR 0x7u
#define MSIX_ENTRY_BYTES 16
#define MSIX_ENTRY_ADDR_LO 0
#define MSIX_ENTRY_ADDR_HI 4
#define MSIX_ENTRY_DATA 8
#define MSIX_ENTRY_CTRL 12
#define MSIX_ENTRY_MASKED 1u
#define MSI_ADDR_BASE 0xfee00000u /* SDM vol. 3A 11.11.1: 0xFEE, destination ID in bits 19:12 */
#define MSI_ADDR_DEST_SHIFT 12

static int msix_fail(const char **why, const char *reason)
{
    *why = reason;
    return -1;
}

int pci_msix_route(struct pci_dev *d, unsigned entry, uint32_t apic_id, uint8_t vector, const char **why)
{
    uint8_t cap = pci_find_capability(d, PCI_CAP_ID_MSIX, 0);
    if (cap == 0)
        return msix_fail(why, "no MSI-X capability");
    uint16_t control = pci_read16(d, (uint16_t)(cap + MSIX_CONTROL));
    uint32_t table = pci_read32(d, (uint16_t)(cap + MSIX_TABLE)), entries = (control & MSIX_CONTROL_SIZE) + 1u;
    unsigned bir = table & MSIX_TABLE_BIR;
    uint64_t offset = table & ~MSIX_TABLE_BIR;
    if (entry >= entries)
        return msix_fail(why, "the MSI-X table has fewer entries");
    if (bir > 5 || !d->bar[bir].present || d->bar[bir].io ||
        offset + (uint64_t)entries * MSIX_ENTRY_BYTES > d->bar[bir].size)
        return msix_fail(why, "the MSI-X table lies outside its memory BAR");
    if (apic_id > 0xff)
        return msix_fail(why, "the APIC ID does not fit an MSI address (interrupt remapping needed)");
    volatile uint8_t *bar = pci_map_bar(d, (int)bir);
    if (bar == NULL)
        return msix_fail(why, "cannot map the MSI-X table's BAR");
    volatile uint8_t *e = bar + offset + (uint64_t)entry * MSIX_ENTRY_BYTES;
    /* Masked while it changes (6.8.3.5: software must not change an unmasked entry). */
    uint32_t ctrl = mmio_read32(e + MSIX_ENTRY_CTRL);
    mmio_write32(e + MSIX_ENTRY_CTRL, ctrl | MSIX_ENTRY_MASKED);
    mmio_write32(e + MSIX_ENTRY_ADDR_LO, MSI_ADDR_BASE | apic_id << MSI_ADDR_DEST_SHIFT);
    mmio_write32(e + MSIX_ENTRY_ADDR_HI, 0);
    mmio_write32(e + MSIX_ENTRY_DATA, vector); /* fixed delivery, edge (11.11.2) */
    mmio_write32(e + MSIX_ENTRY_CTRL, ctrl & ~MSIX_ENTRY_MASKED);
    pci_write16(d, PCI_COMMAND, pci_read16(d, PCI_COMMAND) | PCI_COMMAND_INTX_DISABLE);
    pci_write16(d, (uint16_t)(cap + MSIX_CONTROL), (uint16_t)((control | MSIX_CONTROL_ENABLE) & ~MSIX_CONTROL_MASKALL));
    return 0;
}

static uint8_t cfg_byte(const void *ctx, uint8_t off) { return pci_read8(ctx, off); }

void pci_cfg_reader_of(const struct pci_dev *d, struct pci_cfg_reader *r) { *r = (struct pci_cfg_reader){cfg_byte, d}; }

uint8_t pci_find_capability(const struct pci_dev *d, uint8_t cap_id, uint8_t start)
{
    struct pci_cfg_reader r;
    pci_cfg_reader_of(d, &r);
    return pci_cap_find(&r, cap_id, start);
}

static const char *class_name(const struct pci_dev *d)
{
    static const struct {
        uint8_t c, s;
        const char *name;
    } names[] = {
        {0x01, 0x00, "SCSI storage"}, {0x01, 0x01, "IDE controller"},
        {0x01, 0x06, "SATA (AHCI)"},  {0x01, 0x08, "NVMe"},
        {0x01, 0x80, "storage"},      {0x02, 0x00, "Ethernet"},
        {0x03, 0x00, "VGA"},          {0x06, 0x00, "host bridge"},
        {0x06, 0x01, "ISA bridge"},   {0x06, 0x04, "PCI bridge"},
        {0x06, 0x80, "bridge"},       {0x0c, 0x03, "USB"},
        {0x0c, 0x05, "SMBus"},        {0x05, 0x00, "RAM"},
        {0x08, 0x80, "system"},
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (names[i].c == d->class_code && names[i].s == d->subclass)
            return names[i].name;
    return "other";
}

void pci_print(void)
{
    for (size_t i = 0; i < ndevices; i++) {
        const struct pci_dev *d = &devices[i];
        printf("pci: %02x:%02x.%u %04x:%04x class %02x.%02x.%02x %-14s", d->bus, d->dev, d->fn, d->vendor, d->device,
               d->class_code, d->subclass, d->prog_if, class_name(d));
        for (int b = 0; b < 6; b++)
            if (d->bar[b].present)
                printf(" BAR%d %s %#" PRIx64 "+%#" PRIx64, b, d->bar[b].io ? "io" : (d->bar[b].is64 ? "mem64" : "mem"),
                       d->bar[b].base, d->bar[b].size);
        printf("\n");
    }
}
