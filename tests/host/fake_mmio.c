/* SPDX-License-Identifier: MIT */
/* fake_mmio.c - register windows that forward accesses to fake devices (see fake_mmio.h). */
#include "tests/host/fake_mmio.h"

#include <stdio.h>
#include <stdlib.h>

#include "kernel/cpu.h"

static struct window {
    uint8_t *base; /* allocated only for distinct addresses: never read or written */
    uint32_t size;
    const struct fake_mmio_ops *ops;
    void *dev;
} windows[FAKE_MMIO_WINDOWS];

volatile uint8_t *fake_mmio_window(uint32_t size, const struct fake_mmio_ops *ops, void *dev)
{
    for (int i = 0; i < FAKE_MMIO_WINDOWS; i++) {
        if (windows[i].base == NULL) {
            windows[i] = (struct window){malloc(size), size, ops, dev};
            return windows[i].base;
        }
    }
    fprintf(stderr, "fake_mmio: more than %d windows\n", FAKE_MMIO_WINDOWS);
    abort();
}

void fake_mmio_reset(void)
{
    for (int i = 0; i < FAKE_MMIO_WINDOWS; i++) {
        free(windows[i].base);
        windows[i] = (struct window){0};
    }
}

static struct window *find(const volatile void *p, unsigned width, uint32_t *off)
{
    uintptr_t a = (uintptr_t)p;
    for (int i = 0; i < FAKE_MMIO_WINDOWS; i++) {
        uintptr_t b = (uintptr_t)windows[i].base;
        if (windows[i].base != NULL && a >= b && a - b <= windows[i].size - width) {
            *off = (uint32_t)(a - b);
            return &windows[i];
        }
    }
    fprintf(stderr, "fake_mmio: a %u-byte access at %p, in no device's window\n", width, (const void *)p);
    abort();
}

static uint32_t rd(const volatile void *p, unsigned width)
{
    uint32_t off;
    struct window *w = find(p, width, &off);
    return w->ops->read(w->dev, off, width);
}

static void wr(volatile void *p, unsigned width, uint32_t v)
{
    uint32_t off;
    struct window *w = find(p, width, &off);
    w->ops->write(w->dev, off, width, v);
}

uint8_t mmio_read8(const volatile void *p) { return (uint8_t)rd(p, 1); }
uint16_t mmio_read16(const volatile void *p) { return (uint16_t)rd(p, 2); }
uint32_t mmio_read32(const volatile void *p) { return rd(p, 4); }
void mmio_write8(volatile void *p, uint8_t v) { wr(p, 1, v); }
void mmio_write16(volatile void *p, uint16_t v) { wr(p, 2, v); }
void mmio_write32(volatile void *p, uint32_t v) { wr(p, 4, v); }
