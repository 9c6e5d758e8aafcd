/* SPDX-License-Identifier: MIT */
/* fake_mmio.h - device register windows in host tests, behind kernel/cpu.h's mmio_* accessors.
 *
 * A test makes a window for a fake device (fake_mmio_window) and hands the driver its address
 * as the driver's mapping of the registers would be. Every access the driver makes through
 * mmio_read8/16/32 and mmio_write8/16/32 (tests/host/fakes/kernel/cpu.h) reaches the device's
 * functions as (offset, width, value); the window's bytes themselves are never touched. An access
 * outside every window is a driver bug: the test process stops with a message.
 */
#ifndef BOUNCE_TESTS_HOST_FAKE_MMIO_H
#define BOUNCE_TESTS_HOST_FAKE_MMIO_H

#include <stdint.h>

struct fake_mmio_ops {
    uint32_t (*read)(void *dev, uint32_t off, unsigned width);
    void (*write)(void *dev, uint32_t off, unsigned width, uint32_t v);
};

/* A window of `size` bytes answered by ops on dev; up to FAKE_MMIO_WINDOWS at once. */
#define FAKE_MMIO_WINDOWS 8
volatile uint8_t *fake_mmio_window(uint32_t size, const struct fake_mmio_ops *ops, void *dev);
/* Forget every window (between tests). */
void fake_mmio_reset(void);

#endif
