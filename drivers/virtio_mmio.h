/* SPDX-License-Identifier: MIT */
/* virtio_mmio.h - the virtio-mmio transport (virtio 1.2, 4.2 "Virtio Over MMIO").
 *
 * A device is a window of registers at a physical address, found - as Linux finds it - from the
 * command line: virtio_mmio.device=SIZE@BASE:IRQ (kopts.virtio_mmio[]). Only the modern
 * interface, register layout version 2 (4.2.2), is spoken; a legacy (version 1) device is refused
 * with a message, as the PCI transport refuses legacy-only devices. The IRQ is the GSI of a
 * level-triggered line through the I/O APIC, used with io=irq (request_irq); with io=poll the
 * queues are polled. tests/host/test_virtio_mmio.c drives it against a fake device.
 */
#ifndef BOUNCE_DRIVERS_VIRTIO_MMIO_H
#define BOUNCE_DRIVERS_VIRTIO_MMIO_H

#include <stdint.h>

#include "abi/virtio_mmio.h"
#include "drivers/virtio.h"

#define VIRTIO_MMIO_MAX_QUEUES 4

/* Probe every virtio_mmio.device= window holding a device of device_type (virtio.h). */
void virtio_mmio_enumerate(uint32_t device_type, const char *driver, virtio_probe_fn probe);

#endif
