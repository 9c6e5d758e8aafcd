/* SPDX-License-Identifier: MIT */
/* fake_pci_bus.c - PCI functions behind 0xcf8/0xcfc and ECAM for host tests (see fake_pci_bus.h). */
#include "tests/host/fake_pci_bus.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/cpu.h"

#define CONFIG_ADDRESS 0xcf8
#define CONFIG_DATA 0xcfc
#define BAR0 0x10
#define COMMAND 0x04
#define CMD_IO 1u
#define CMD_MEMORY 2u

struct fake_pci_bus fake_pci_bus;

void fake_pci_bus_reset(void) { memset(&fake_pci_bus, 0, sizeof(fake_pci_bus)); }

void fake_pci_put(struct fake_pci_fn *f, uint16_t off, uint32_t v, unsigned width) { memcpy(f->cfg + off, &v, width); }

static uint32_t get32(const struct fake_pci_fn *f, uint16_t off)
{
    uint32_t v;
    memcpy(&v, f->cfg + off, 4);
    return v;
}

struct fake_pci_fn *fake_pci_add(uint8_t bus, uint8_t dev, uint8_t fn, uint32_t ids, uint32_t class_rev,
                                 uint8_t header_type)
{
    if (fake_pci_bus.n == FAKE_PCI_FUNCTIONS) {
        fprintf(stderr, "fake_pci_bus: more than %d functions\n", FAKE_PCI_FUNCTIONS);
        abort();
    }
    struct fake_pci_fn *f = &fake_pci_bus.fn[fake_pci_bus.n++];
    memset(f, 0, sizeof(*f));
    f->bus = bus, f->dev = dev, f->fn = fn;
    fake_pci_put(f, 0x00, ids, 4);
    fake_pci_put(f, 0x08, class_rev, 4);
    f->cfg[0x0e] = header_type;
    return f;
}

void fake_pci_set_bar(struct fake_pci_fn *f, int i, uint64_t value, uint64_t size)
{
    f->bar_size[i] = size;
    f->bar_type[i] = (uint32_t)value & ((value & 1) ? 3u : 15u);
    fake_pci_put(f, (uint16_t)(BAR0 + 4 * i), (uint32_t)value, 4);
    if ((value & 7) == 4) /* memory, 64-bit: the upper half in the next register */
        fake_pci_put(f, (uint16_t)(BAR0 + 4 * (i + 1)), (uint32_t)(value >> 32), 4);
}

static struct fake_pci_fn *find(unsigned bus, unsigned dev, unsigned fn)
{
    for (unsigned i = 0; i < fake_pci_bus.n; i++) {
        struct fake_pci_fn *f = &fake_pci_bus.fn[i];
        if (f->bus == bus && f->dev == dev && f->fn == fn)
            return f;
    }
    return NULL;
}

/* A BAR register written: only the bits its size decodes stick; the type bits are read-only. The
 * upper half of a 64-bit BAR keeps the bits of the size above 32. */
static bool bar_write(struct fake_pci_fn *f, uint16_t reg, uint32_t v)
{
    if ((f->cfg[0x0e] & 0x7f) != 0 || reg < BAR0 || reg >= BAR0 + 24)
        return false;
    int i = (reg - BAR0) / 4;
    bool upper = i > 0 && (f->bar_type[i - 1] & 7) == 4 && f->bar_size[i - 1] != 0;
    int first = upper ? i - 1 : i;
    uint32_t type = f->bar_type[first];
    uint16_t cmd = (uint16_t)get32(f, COMMAND);
    if (cmd & ((type & 1) ? CMD_IO : CMD_MEMORY))
        f->sized_while_decoding++;
    uint64_t size = f->bar_size[first];
    uint32_t now;
    if (size == 0)
        now = 0;
    else if (upper)
        now = v & (uint32_t)(~(size - 1) >> 32);
    else if (v == 0xffffffff && f->lies_ones[i])
        now = f->lies_ones[i];
    else
        now = (v & (uint32_t) ~(size - 1) & ~((type & 1) ? 3u : 15u)) | type;
    fake_pci_put(f, reg, now, 4);
    return true;
}

static bool read_only(uint16_t reg) { return reg < 0x04 || reg == 0x08 || reg == 0x0c; }

static uint32_t cfg_read(unsigned bus, unsigned dev, unsigned fn, uint16_t reg)
{
    fake_pci_bus.accesses++;
    struct fake_pci_fn *f = find(bus, dev, fn);
    return f ? get32(f, reg) : 0xffffffff;
}

static void cfg_write(unsigned bus, unsigned dev, unsigned fn, uint16_t reg, uint32_t v)
{
    fake_pci_bus.accesses++;
    struct fake_pci_fn *f = find(bus, dev, fn);
    if (f == NULL || read_only(reg) || bar_write(f, reg, v))
        return;
    if (reg == COMMAND) /* Status (the upper half) is read-only here */
        v = (v & 0xffff) | (get32(f, COMMAND) & 0xffff0000);
    fake_pci_put(f, reg, v, 4);
}

/* Mechanism #1: only 32-bit accesses to CONFIG_DATA with the enable bit set are modelled. */
void outl(uint16_t port, uint32_t v)
{
    uint32_t a = fake_pci_bus.address;
    if (port == CONFIG_ADDRESS)
        fake_pci_bus.address = v;
    else if (port == CONFIG_DATA && (a & 0x80000000u))
        cfg_write((a >> 16) & 0xff, (a >> 11) & 31, (a >> 8) & 7, (uint16_t)(a & 0xfc), v);
}

uint32_t inl(uint16_t port)
{
    uint32_t a = fake_pci_bus.address;
    if (port == CONFIG_DATA && (a & 0x80000000u))
        return cfg_read((a >> 16) & 0xff, (a >> 11) & 31, (a >> 8) & 7, (uint16_t)(a & 0xfc));
    return port == CONFIG_ADDRESS ? a : 0xffffffff;
}

static uint32_t ecam_read(void *dev, uint32_t off, unsigned width)
{
    (void)dev;
    uint32_t v = cfg_read(off >> 20, (off >> 15) & 31, (off >> 12) & 7, (uint16_t)(off & 0xffc));
    return width == 4 ? v : v >> ((off & 3) * 8) & ((1u << (width * 8)) - 1);
}

static void ecam_write(void *dev, uint32_t off, unsigned width, uint32_t v)
{
    (void)dev;
    if (width == 4)
        cfg_write(off >> 20, (off >> 15) & 31, (off >> 12) & 7, (uint16_t)(off & 0xffc), v);
}

const struct fake_mmio_ops fake_pci_ecam_ops = {ecam_read, ecam_write};
