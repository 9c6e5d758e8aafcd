/* SPDX-License-Identifier: MIT */
/* test_virtio_mmio.c - host unit tests for drivers/virtio_mmio.c against a fake virtio-mmio device
 * (tests/host/fake_virtio_mmio.c), as a hostile host or a broken device would present one.
 *
 * The transport's source is included, so its discovery (look) and its transport ops are called
 * as the block driver calls them, on a fresh device each time. What the transport needs from the
 * rest of the kernel - the mapping of the window, the boot memory map, vectors and the I/O APIC -
 * is stubbed below and recorded.
 */
#include "tests/host/host_test.h"

#include <stdbool.h>
#include <string.h>

#include "drivers/virtio_mmio.c"
#include "tests/host/fake_clock.h"
#include "tests/host/fake_irq.h"
#include "tests/host/fake_virtio_mmio.h"

struct kernel_options kopts;

static struct fake_vmmio dev;
static bool window_on_memory; /* what the boot memory map says of the window */
static unsigned windows_mapped;
static bool ioapic_refuses;
static uint32_t routed_gsi, masked_gsi;

void *mmio_map(uint64_t phys, uint64_t size)
{
    (void)phys;
    windows_mapped++;
    return (void *)fake_mmio_window((uint32_t)size, &fake_vmmio_ops, &dev);
}
bool mm_overlaps_memory(uint64_t phys, uint64_t len)
{
    (void)phys;
    (void)len;
    return window_on_memory;
}
bool ioapic_route(uint32_t gsi, uint8_t vector, uint32_t apic_id, bool active_low, bool level, const char **why)
{
    (void)vector;
    (void)apic_id;
    (void)active_low;
    (void)level;
    routed_gsi = gsi;
    *why = "GSI beyond every I/O APIC";
    return !ioapic_refuses;
}
void ioapic_mask(uint32_t gsi) { masked_gsi = gsi; }

static int setup(void **state)
{
    (void)state;
    fake_mmio_reset();
    fake_clock_reset();
    fake_vmmio_init(&dev);
    window_on_memory = false;
    windows_mapped = 0;
    fake_irq_free_vectors = 1;
    ioapic_refuses = false;
    return 0;
}

static struct virtio_mmio vm;
static const struct virtio_mmio_spec good_spec = {.base = 0xfeb00000, .size = FAKE_VMMIO_WINDOW, .irq = 5};

/* Discover the device at spec: the reason it was refused, "" if it was not. */
static const char *look_refused(const struct virtio_mmio_spec *spec)
{
    memset(&vm, 0, sizeof(vm));
    size_t before = dev_refusal_count();
    look(&vm, spec);
    return dev_refusal_count() > before ? dev_refusal_get(dev_refusal_count() - 1)->reason : "";
}

static struct virtio_device *found(void)
{
    assert_string_equal(look_refused(&good_spec), "");
    assert_true(vm.usable);
    return &vm.vdev;
}

/* 4.2.2.2: a driver ignores a device with the wrong MagicValue or a Version it does not speak -
 * here with a reason, since the command line said a device is there. */
static void test_identity_checked(void **state)
{
    (void)state;
    dev.magic = 0xffffffff; /* nothing decodes the window: all ones */
    assert_non_null(strstr(look_refused(&good_spec), "no virtio-mmio device there (magic 0xffffffff"));
    assert_false(vm.usable);
    fake_vmmio_init(&dev);
    dev.version = 1;
    assert_non_null(strstr(look_refused(&good_spec), "a legacy device (register layout version 1"));
    dev.version = 3;
    assert_non_null(strstr(look_refused(&good_spec), "unknown register layout version 3"));
    assert_false(vm.usable);
    /* DeviceID 0: a transport with no device behind it - ignored, not an error. */
    fake_vmmio_init(&dev);
    dev.device_id = 0;
    assert_string_equal(look_refused(&good_spec), "");
    assert_false(vm.usable);
    assert_int_equal(dev.bad_width, 0);
}

/* A window too small for the registers, misaligned, wrapping, or on memory in the boot map (the
 * kernel's own text, once) is refused before a single access. */
static void test_bad_windows_refused_unread(void **state)
{
    (void)state;
    struct virtio_mmio_spec small = good_spec, odd = good_spec, wraps = good_spec;
    small.size = 0x80;
    odd.base += 2;
    wraps.base = UINT64_MAX - 0xff;
    assert_non_null(strstr(look_refused(&small), "a window of 128 bytes cannot hold the registers"));
    assert_non_null(strstr(look_refused(&odd), "the window's base is not 4-byte aligned"));
    assert_non_null(strstr(look_refused(&wraps), "lies on memory in the boot map (or wraps)"));
    window_on_memory = true;
    assert_non_null(strstr(look_refused(&good_spec), "lies on memory in the boot map"));
    assert_int_equal(windows_mapped, 0);
    assert_int_equal(dev.accesses, 0);
}

/* 64 feature bits each way, through the select registers, with 32-bit accesses only. */
static void test_features_through_the_selects(void **state)
{
    (void)state;
    dev.device_features = 0x8000000500000003ull;
    struct virtio_device *vdev = found();
    assert_int_equal(vdev->ops->get_features(vdev), 0x8000000500000003ull);
    vdev->ops->set_features(vdev, 0x0000000100000002ull);
    assert_int_equal(dev.driver_features, 0x0000000100000002ull);
    assert_int_equal(dev.bad_width, 0);
    assert_int_equal(dev.read_only_writes, 0);
}

/* 3.1.1: a device that clears FEATURES_OK refused the subset; one without VERSION_1 is legacy
 * and nothing is written to it. */
static void test_feature_negotiation_refusals(void **state)
{
    (void)state;
    uint64_t offered, neg;
    struct virtio_device *vdev = found();
    assert_int_equal(virtio_begin_init(vdev), 0);
    dev.refuses_features = true;
    assert_int_equal(virtio_negotiate(vdev, ~0ull, VIRTIO_BIT(VIRTIO_F_VERSION_1), &offered, &neg),
                     VIRTIO_FEATURES_REFUSED);
    assert_int_equal(dev.driver_features, neg);
    dev.refuses_features = false;
    dev.device_features = 1; /* no VIRTIO_F_VERSION_1 */
    assert_int_equal(vdev->ops->reset(vdev), 0);
    assert_int_equal(dev.driver_features, 0);
    assert_int_equal(virtio_negotiate(vdev, ~0ull, VIRTIO_BIT(VIRTIO_F_VERSION_1), &offered, &neg),
                     VIRTIO_MISSING_REQUIRED);
    assert_int_equal(dev.driver_features, 0);
    dev.device_features = 1ull << 32;
    assert_int_equal(virtio_negotiate(vdev, ~0ull, VIRTIO_BIT(VIRTIO_F_VERSION_1), &offered, &neg), VIRTIO_NEGOTIATED);
    assert_true(dev.status & VIRTIO_STATUS_FEATURES_OK);
}

/* 4.2.2.2: after writing 0 to Status the driver waits for 0; a device that never gets there
 * fails the reset after a bounded wait (1 s of simulated time), saying so. */
static void test_a_reset_that_never_completes(void **state)
{
    (void)state;
    struct virtio_device *vdev = found();
    dev.status = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER;
    dev.never_resets = true;
    uint64_t t0 = time_ns();
    assert_int_equal(vdev->ops->reset(vdev), -1);
    uint64_t waited = time_ns() - t0;
    assert_true(waited >= RESET_TIMEOUT_NS && waited < 2 * RESET_TIMEOUT_NS);
    assert_int_equal(virtio_begin_init(vdev), -1);
    dev.never_resets = false;
    assert_int_equal(virtio_begin_init(vdev), 0);
    assert_int_equal(dev.status, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
}

/* 4.2.3.2: a queue of QueueNumMax 0 does not exist; a size above the maximum, or a queue already
 * ready, is refused; otherwise the size, the three 64-bit addresses (low half, high half), then
 * QueueReady - and notifications only for queues set up. */
static void test_queue_setup(void **state)
{
    (void)state;
    struct virtio_device *vdev = found();
    assert_int_equal(vdev->ops->max_queue_size(vdev, 1), 0);
    assert_int_equal(vdev->ops->setup_queue(vdev, 1, 8, 0x1000, 0x2000, 0x3000), -1);
    assert_int_equal(vdev->ops->setup_queue(vdev, 0, 512, 0x1000, 0x2000, 0x3000), -1);
    assert_int_equal(vdev->ops->setup_queue(vdev, 0, 0, 0x1000, 0x2000, 0x3000), -1);
    assert_int_equal(vdev->ops->setup_queue(vdev, VIRTIO_MMIO_MAX_QUEUES, 8, 0x1000, 0x2000, 0x3000), -1);
    vdev->ops->notify(vdev, 0);
    assert_int_equal(dev.notifies, 0);
    assert_int_equal(vdev->ops->max_queue_size(vdev, 0), 256);
    assert_int_equal(vdev->ops->setup_queue(vdev, 0, 128, 0x123456789000ull, 0x2000, 0xabcd00003000ull), 0);
    assert_int_equal(dev.q[0].num, 128);
    assert_int_equal(dev.q[0].desc, 0x123456789000ull);
    assert_int_equal(dev.q[0].driver, 0x2000);
    assert_int_equal(dev.q[0].device, 0xabcd00003000ull);
    assert_int_equal(dev.q[0].ready, 1);
    vdev->ops->notify(vdev, 0);
    assert_int_equal(dev.notifies, 1);
    assert_int_equal(dev.last_notify, 0);
    /* Already ready: refused, and nothing of it rewritten. */
    assert_int_equal(vdev->ops->setup_queue(vdev, 0, 64, 0x5000, 0x6000, 0x7000), -1);
    assert_int_equal(dev.changed_while_ready, 0);
    /* A reset makes it unready: set up again, no notification before. */
    assert_int_equal(vdev->ops->reset(vdev), 0);
    vdev->ops->notify(vdev, 0);
    assert_int_equal(dev.notifies, 1);
    assert_int_equal(dev.bad_width, 0);
}

/* The device-specific configuration: each field with its width (a 64-bit one as two 32-bit
 * reads), nothing outside the window, and a generation that never settles gives up. */
static void test_configuration_reads(void **state)
{
    (void)state;
    struct virtio_device *vdev = found();
    uint64_t capacity = 0x1122334455667788ull;
    memcpy(dev.config, &capacity, 8);
    dev.config[20] = 0x5a;
    uint64_t got = 0;
    uint8_t b = 0;
    assert_int_equal(vdev->ops->read_config(vdev, 0, &got, 8), 0);
    assert_int_equal(got, capacity);
    assert_int_equal(vdev->ops->read_config(vdev, 20, &b, 1), 0);
    assert_int_equal(b, 0x5a);
    uint32_t cfg_len = FAKE_VMMIO_WINDOW - VIRTIO_MMIO_CONFIG;
    assert_int_equal(vdev->ops->read_config(vdev, cfg_len - 4, &got, 8), -1);
    assert_int_equal(vdev->ops->read_config(vdev, UINT32_MAX - 3, &got, 8), -1);
    assert_int_equal(vdev->ops->read_config(vdev, 0, &got, 0), -1);
    unsigned before = dev.accesses;
    dev.generation_moves = true;
    assert_int_equal(vdev->ops->read_config(vdev, 0, &got, 8), -1);
    assert_true(dev.accesses - before <= 16 * 4); /* bounded: 16 tries of generation, 2 reads, generation */
    assert_int_equal(dev.bad_width, 0);
}

/* io=irq: the command line's GSI, level-triggered through the I/O APIC; the handler acknowledges
 * exactly what InterruptStatus showed, then calls the driver's. No vector, or a GSI the I/O APIC
 * does not have, leaves the driver polling, with the reason. */
static void test_interrupts(void **state)
{
    (void)state;
    struct virtio_device *vdev = found();
    char route[96];
    fake_irq_free_vectors = 0;
    assert_int_equal(vdev->ops->request_irq(vdev, 0, fake_irq_handler, NULL, route, sizeof(route)), -1);
    assert_string_equal(route, "no free interrupt vector");
    fake_irq_free_vectors = 1;
    ioapic_refuses = true;
    assert_int_equal(vdev->ops->request_irq(vdev, 0, fake_irq_handler, NULL, route, sizeof(route)), -1);
    assert_non_null(strstr(route, "GSI 5: GSI beyond every I/O APIC"));
    fake_irq_free_vectors = 1;
    ioapic_refuses = false;
    assert_int_equal(vdev->ops->request_irq(vdev, 0, fake_irq_handler, NULL, route, sizeof(route)), FAKE_IRQ_VECTOR);
    assert_int_equal(routed_gsi, 5);
    assert_true(vdev->irq_level);
    dev.interrupt_status = VIRTIO_MMIO_INT_VRING;
    vm_irq(&vm);
    assert_int_equal(dev.acked, VIRTIO_MMIO_INT_VRING);
    assert_int_equal(dev.interrupt_status, 0);
    assert_int_equal(fake_irq_handler_calls, 1);
    vdev->ops->free_irq(vdev);
    assert_int_equal(masked_gsi, 5);
    vm_irq(&vm); /* late: the driver's handler is not called again */
    assert_int_equal(fake_irq_handler_calls, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_identity_checked, setup),
        cmocka_unit_test_setup(test_bad_windows_refused_unread, setup),
        cmocka_unit_test_setup(test_features_through_the_selects, setup),
        cmocka_unit_test_setup(test_feature_negotiation_refusals, setup),
        cmocka_unit_test_setup(test_a_reset_that_never_completes, setup),
        cmocka_unit_test_setup(test_queue_setup, setup),
        cmocka_unit_test_setup(test_configuration_reads, setup),
        cmocka_unit_test_setup(test_interrupts, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
