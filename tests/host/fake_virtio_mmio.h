/* SPDX-License-Identifier: MIT */
/* fake_virtio_mmio.h - a virtio-mmio device (virtio 1.2, 4.2.2, register layout version 2) for
 * host tests, behind a fake_mmio window.
 *
 * Written from the spec, not from drivers/virtio_mmio.c: the identity registers, 64 feature bits
 * each way through their select registers, Status with reset (writing 0 clears Status and every
 * queue's QueueReady), per-queue QueueNumMax/QueueNum/QueueReady and the three 64-bit area
 * addresses, notifications, InterruptStatus/InterruptACK, ConfigGeneration and a device-specific
 * configuration. And the ways a device or a hostile host misbehaves: a reset that never completes,
 * FEATURES_OK refused, a generation that changes on every read. It counts what the spec forbids
 * the driver (4.2.2.2): a control register accessed other than with 32 bits, a write to a
 * read-only register, a queue configured while ready.
 */
#ifndef BOUNCE_TESTS_HOST_FAKE_VIRTIO_MMIO_H
#define BOUNCE_TESTS_HOST_FAKE_VIRTIO_MMIO_H

#include <stdbool.h>
#include <stdint.h>

#include "tests/host/fake_mmio.h"

#define FAKE_VMMIO_QUEUES 8
#define FAKE_VMMIO_CONFIG_BYTES 64
#define FAKE_VMMIO_WINDOW 0x200  /* registers, then the configuration */
#define FAKE_VMMIO_CAPACITY 2048 /* sectors: 1 MiB */

struct fake_vmmio_queue {
    uint32_t num_max, num, ready;
    uint64_t desc, driver, device;
};

struct fake_vmmio {
    /* set by the test (fake_vmmio_init gives a healthy block device) */
    uint32_t magic, version, device_id, vendor;
    uint64_t device_features;
    bool never_resets;     /* Status keeps its value when 0 is written */
    bool refuses_features; /* FEATURES_OK does not stick */
    bool generation_moves; /* ConfigGeneration changes on every read */
    uint8_t config[FAKE_VMMIO_CONFIG_BYTES];
    /* the device's state */
    uint64_t driver_features;
    uint32_t device_features_sel, driver_features_sel, queue_sel, generation;
    uint8_t status;
    struct fake_vmmio_queue q[FAKE_VMMIO_QUEUES];
    uint32_t interrupt_status;
    /* what the driver did */
    unsigned accesses, resets, notifies, last_notify, acked;
    unsigned bad_width, read_only_writes, changed_while_ready;
};

/* A virtio-blk device (ID 2) offering VIRTIO_F_VERSION_1, queue 0 of 256 entries, FAKE_VMMIO_CAPACITY. */
void fake_vmmio_init(struct fake_vmmio *d);
extern const struct fake_mmio_ops fake_vmmio_ops;

#endif
