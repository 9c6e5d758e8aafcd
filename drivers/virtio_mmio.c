/* SPDX-License-Identifier: MIT */
/* virtio_mmio.c - the virtio-mmio transport (see virtio_mmio.h; virtio 1.2, 4.2).
 *
 * Register accesses follow 4.2.2.2 (driver requirements): the control registers with 32-bit
 * aligned accesses only; the device-specific configuration with accesses of each field's width
 * (8, 16, 32 bits; 64-bit fields as two 32-bit ones). The window is mapped uncached (mmio_map).
 * Every wait on the device is bounded. Devices come from kopts.virtio_mmio[] (the command line):
 * there is no bus to discover them on.
 */
#include "drivers/virtio_mmio.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "drivers/ioapic.h"
#include "drivers/refusals.h"
#include "drivers/virtio_cfg_access.h"
#include "kernel/cpu.h"
#include "kernel/irq.h"
#include "kernel/percpu.h"
#include "kernel/options.h"
#include "kernel/time.h"
#include "mm/mm.h"

#define RESET_TIMEOUT_NS (1000 * NSEC_PER_MSEC)

struct virtio_mmio {
    struct virtio_device vdev;
    volatile uint8_t *regs;
    uint64_t phys, size;
    uint32_t version, device_id;
    bool looked;        /* the window was mapped and its identity read */
    bool usable;        /* magic and version right */
    const char *driver; /* claimed by this driver, NULL if free */
    bool queue_set[VIRTIO_MMIO_MAX_QUEUES];
    uint32_t gsi;               /* its interrupt line, from the command line */
    void (*handler)(void *arg); /* io=irq: the driver's, for used buffer notifications */
    void *handler_arg;
    int vector; /* ... and the vector it arrives on */
};

static struct virtio_mmio devices[MAX_VIRTIO_MMIO];

static struct virtio_mmio *to_vm(struct virtio_device *vdev) { return vdev->transport; }
static uint32_t r32(struct virtio_mmio *vm, uint32_t off) { return mmio_read32(vm->regs + off); }
static void w32(struct virtio_mmio *vm, uint32_t off, uint32_t v) { mmio_write32(vm->regs + off, v); }

static void w64(struct virtio_mmio *vm, uint32_t lo_off, uint32_t hi_off, uint64_t v)
{
    w32(vm, lo_off, (uint32_t)v);
    w32(vm, hi_off, (uint32_t)(v >> 32));
}

/* ---- the transport ops ---- */

static uint8_t vm_get_status(struct virtio_device *vdev) { return (uint8_t)r32(to_vm(vdev), VIRTIO_MMIO_STATUS); }

static void vm_set_status(struct virtio_device *vdev, uint8_t status)
{
    /* 2.1: writing 0 is a reset, which only vm_reset() does. */
    w32(to_vm(vdev), VIRTIO_MMIO_STATUS, status);
}

static bool status_is_zero(void *arg) { return r32(arg, VIRTIO_MMIO_STATUS) == 0; }

static int vm_reset(struct virtio_device *vdev)
{
    struct virtio_mmio *vm = to_vm(vdev);
    w32(vm, VIRTIO_MMIO_STATUS, 0);
    /* 4.2.2.2: after writing 0 to Status the driver waits for it to read back 0 before it
     * reinitializes the device; the reset also clears every QueueReady. */
    if (!wait_until(status_is_zero, vm, RESET_TIMEOUT_NS)) {
        printf("virtio-mmio: %s: device did not complete its reset within %" PRIu64 " ms (status %#x)\n",
               vdev->location, (RESET_TIMEOUT_NS / NSEC_PER_MSEC), vm_get_status(vdev));
        return -1;
    }
    memset(vm->queue_set, 0, sizeof(vm->queue_set));
    return 0;
}

static uint64_t vm_get_features(struct virtio_device *vdev)
{
    struct virtio_mmio *vm = to_vm(vdev);
    w32(vm, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
    uint64_t lo = r32(vm, VIRTIO_MMIO_DEVICE_FEATURES);
    w32(vm, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
    uint64_t hi = r32(vm, VIRTIO_MMIO_DEVICE_FEATURES);
    return hi << 32 | lo;
}

static void vm_set_features(struct virtio_device *vdev, uint64_t features)
{
    struct virtio_mmio *vm = to_vm(vdev);
    w32(vm, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
    w32(vm, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)features);
    w32(vm, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
    w32(vm, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(features >> 32));
}

static int vm_read_config(struct virtio_device *vdev, uint32_t offset, void *buf, uint32_t len)
{
    struct virtio_mmio *vm = to_vm(vdev);
    uint64_t cfg_len = vm->size - VIRTIO_MMIO_CONFIG;
    if (len == 0 || offset > cfg_len || len > cfg_len - offset)
        return -1;
    /* 4.2.2 / 2.5.1: ConfigGeneration before and after; equal means a consistent read. */
    for (int tries = 0; tries < 16; tries++) {
        uint32_t before = r32(vm, VIRTIO_MMIO_CONFIG_GENERATION);
        virtio_cfg_read_once(vm->regs + VIRTIO_MMIO_CONFIG, offset, buf, len);
        if (r32(vm, VIRTIO_MMIO_CONFIG_GENERATION) == before)
            return 0;
    }
    printf("virtio-mmio: %s: configuration generation never stable, giving up\n", vdev->location);
    return -1;
}

static uint32_t vm_max_queue_size(struct virtio_device *vdev, uint16_t index)
{
    struct virtio_mmio *vm = to_vm(vdev);
    w32(vm, VIRTIO_MMIO_QUEUE_SEL, index);
    return r32(vm, VIRTIO_MMIO_QUEUE_NUM_MAX); /* 0: no such queue (there is no queue count register) */
}

static int vm_setup_queue(struct virtio_device *vdev, uint16_t index, uint32_t size, uint64_t desc, uint64_t driver,
                          uint64_t device)
{
    struct virtio_mmio *vm = to_vm(vdev);
    if (index >= VIRTIO_MMIO_MAX_QUEUES)
        return -1;
    /* 4.2.3.2 Virtqueue Configuration: select; the queue must not be in use (QueueReady 0); its
     * size within QueueNumMax; QueueNum; the three areas; then QueueReady = 1. */
    w32(vm, VIRTIO_MMIO_QUEUE_SEL, index);
    if (r32(vm, VIRTIO_MMIO_QUEUE_READY) != 0) {
        printf("virtio-mmio: %s: queue %u is already in use\n", vdev->location, index);
        return -1;
    }
    uint32_t max = r32(vm, VIRTIO_MMIO_QUEUE_NUM_MAX);
    if (size == 0 || size > max)
        return -1;
    w32(vm, VIRTIO_MMIO_QUEUE_NUM, size);
    w64(vm, VIRTIO_MMIO_QUEUE_DESC_LOW, VIRTIO_MMIO_QUEUE_DESC_HIGH, desc);
    w64(vm, VIRTIO_MMIO_QUEUE_DRIVER_LOW, VIRTIO_MMIO_QUEUE_DRIVER_HIGH, driver);
    w64(vm, VIRTIO_MMIO_QUEUE_DEVICE_LOW, VIRTIO_MMIO_QUEUE_DEVICE_HIGH, device);
    w32(vm, VIRTIO_MMIO_QUEUE_READY, 1);
    vm->queue_set[index] = true;
    return 0;
}

static void vm_notify(struct virtio_device *vdev, uint16_t index)
{
    struct virtio_mmio *vm = to_vm(vdev);
    if (index >= VIRTIO_MMIO_MAX_QUEUES || !vm->queue_set[index])
        return;
    /* The ring writes (write-back memory) come before this uncached store on x86; the fence
     * keeps the compiler from moving them after it. */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    w32(vm, VIRTIO_MMIO_QUEUE_NOTIFY, index); /* 4.2.3.3: the queue index (no NOTIFICATION_DATA) */
}

/* The line is level-triggered: InterruptStatus stays set, and the line asserted, until the
 * driver acknowledges what it read (4.2.2 InterruptACK), before the driver's handler reaps - a
 * completion after the read then raises it again. */
static void vm_irq(void *arg)
{
    struct virtio_mmio *vm = arg;
    uint32_t status = r32(vm, VIRTIO_MMIO_INTERRUPT_STATUS);
    if (status)
        w32(vm, VIRTIO_MMIO_INTERRUPT_ACK, status);
    if (vm->handler)
        vm->handler(vm->handler_arg);
}

/* The GSI given on the command line, through the I/O APIC: level-triggered, active high, as
 * QEMU's microvm describes its virtio-mmio transports (the DSDT is not read: no AML here). */
static int vm_request_irq(struct virtio_device *vdev, uint16_t index, void (*handler)(void *arg), void *arg,
                          char *route, size_t routelen)
{
    struct virtio_mmio *vm = to_vm(vdev);
    (void)index; /* one interrupt for the whole device: InterruptStatus says what it was for */
    int vector = irq_alloc(vdev->location, vm_irq, vm);
    if (vector < 0) {
        snprintf(route, routelen, "no free interrupt vector");
        return -1;
    }
    vm->handler = handler;
    vm->handler_arg = arg;
    const char *why = NULL;
    uint32_t apic_id = cpu_get(0)->apic_id;
    if (!ioapic_route(vm->gsi, (uint8_t)vector, apic_id, false, true, &why)) {
        irq_free(vector);
        snprintf(route, routelen, "GSI %" PRIu32 ": %s", vm->gsi, why);
        return -1;
    }
    vm->vector = vector;
    vdev->irq_level = true;
    snprintf(route, routelen,
             "GSI %" PRIu32 " (I/O APIC, level, active high) -> vector %#x on CPU 0 (APIC ID %" PRIu32 ")", vm->gsi,
             vector, apic_id);
    return vector;
}

static void vm_free_irq(struct virtio_device *vdev)
{
    struct virtio_mmio *vm = to_vm(vdev);
    if (vm->handler == NULL)
        return;
    ioapic_mask(vm->gsi);
    vm->handler = NULL;
    irq_free(vm->vector);
}

static const struct virtio_transport_ops vm_ops = {
    .get_status = vm_get_status,
    .set_status = vm_set_status,
    .reset = vm_reset,
    .get_features = vm_get_features,
    .set_features = vm_set_features,
    .read_config = vm_read_config,
    .max_queue_size = vm_max_queue_size,
    .setup_queue = vm_setup_queue,
    .notify = vm_notify,
    .request_irq = vm_request_irq,
    .free_irq = vm_free_irq,
};

/* ---- discovery ---- */

/* Map the window and read who is there (4.2.2.2: a driver MUST ignore a device whose MagicValue
 * is not "virt" or whose Version it does not speak, and one with DeviceID 0, without an error). */
static void look(struct virtio_mmio *vm, const struct virtio_mmio_spec *spec)
{
    vm->looked = true;
    vm->phys = spec->base;
    vm->size = spec->size;
    vm->gsi = spec->irq;
    snprintf(vm->vdev.location, sizeof(vm->vdev.location), "mmio %#" PRIx64, spec->base);
    if (spec->size < VIRTIO_MMIO_CONFIG) {
        dev_refuse("virtio-mmio", vm->vdev.location, "a window of %llu bytes cannot hold the registers (0x100)",
                   (unsigned long long)spec->size);
        return;
    }
    if (spec->base % 4 != 0) { /* 4.2.2.2: the registers take 32-bit aligned accesses */
        dev_refuse("virtio-mmio", vm->vdev.location, "the window's base is not 4-byte aligned");
        return;
    }
    /* The command line is the only description there is (no bus): a window on RAM, firmware data
     * or the kernel's own image would be read - and written - as device registers. */
    if (spec->size > UINT64_MAX - spec->base || mm_overlaps_memory(spec->base, spec->size)) {
        dev_refuse("virtio-mmio", vm->vdev.location,
                   "the window [%#" PRIx64 ", +%#" PRIx64 ") lies on memory in the boot map (or wraps): "
                   "not a device's registers",
                   spec->base, spec->size);
        return;
    }
    vm->regs = mmio_map(spec->base, spec->size);
    uint32_t magic = r32(vm, VIRTIO_MMIO_MAGIC_VALUE);
    vm->version = r32(vm, VIRTIO_MMIO_VERSION);
    vm->device_id = r32(vm, VIRTIO_MMIO_DEVICE_ID);
    if (magic != VIRTIO_MMIO_MAGIC) {
        dev_refuse("virtio-mmio", vm->vdev.location, "no virtio-mmio device there (magic %#x, want %#x)", magic,
                   VIRTIO_MMIO_MAGIC);
        return;
    }
    if (vm->version == 1) {
        dev_refuse("virtio-mmio", vm->vdev.location,
                   "a legacy device (register layout version 1, virtio 0.9.5), "
                   "which bounce does not drive (version 2 only, virtio 1.2 4.2.2)");
        return;
    }
    if (vm->version != 2) {
        dev_refuse("virtio-mmio", vm->vdev.location, "unknown register layout version %u (want 2)", vm->version);
        return;
    }
    if (vm->device_id == 0) {
        if (trace_on(TRACE_PCI))
            printf("virtio-mmio: %s: no device behind the transport (DeviceID 0)\n", vm->vdev.location);
        return;
    }
    vm->usable = true;
    vm->vdev.ops = &vm_ops;
    vm->vdev.device_type = vm->device_id;
    vm->vdev.transport = vm;
    if (trace_on(TRACE_PCI))
        printf("virtio-mmio: %s: version 2, device id %u, vendor %#x, %" PRIu64 "-byte window, GSI %u\n",
               vm->vdev.location, vm->device_id, r32(vm, VIRTIO_MMIO_VENDOR_ID), vm->size, spec->irq);
}

void virtio_mmio_enumerate(uint32_t device_type, const char *driver, virtio_probe_fn probe)
{
    for (unsigned i = 0; i < kopts.nvirtio_mmio && i < MAX_VIRTIO_MMIO; i++) {
        struct virtio_mmio *vm = &devices[i];
        if (!vm->looked)
            look(vm, &kopts.virtio_mmio[i]);
        if (!vm->usable || vm->device_id != device_type || vm->driver != NULL)
            continue;
        vm->driver = driver;
        probe(&vm->vdev);
    }
}
