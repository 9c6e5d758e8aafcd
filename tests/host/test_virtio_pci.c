/* SPDX-License-Identifier: MIT */
/* test_virtio_pci.c - host unit tests for drivers/virtio_pci.c against a fake virtio-pci function:
 * its configuration space (tests/host/fake_pci_cfg.c, QEMU's layout) and its BAR
 * (tests/host/fake_virtio_pci.c), as a hostile host or a broken device would present them.
 *
 * The transport's source is included, so discovery (virtio_pci_enumerate) and the transport ops
 * run as the block driver runs them. The PCI bus, vectors and MSI-X are stubbed and recorded; the
 * capability walk is the real one (drivers/pci_caps.c).
 */
#include "tests/host/host_test.h"

#include <stdbool.h>
#include <string.h>

#include "drivers/virtio_pci.c"
#include "tests/host/fake_clock.h"
#include "tests/host/fake_irq.h"
#include "tests/host/fake_pci_cfg.h"
#include "tests/host/fake_virtio_pci.h"

struct kernel_options kopts;

static struct fake_vpci dev;
static struct pci_dev fn;
static bool bar_unmappable, bus_master, msix_refused;

struct pci_dev *pci_find(uint16_t vendor, uint16_t device, size_t *iter)
{
    (void)vendor;
    (void)device;
    return (*iter)++ == 0 ? &fn : NULL;
}
void pci_enable(struct pci_dev *d, const char *driver, bool bm)
{
    d->driver = driver;
    bus_master = bm;
}
volatile void *pci_map_bar(struct pci_dev *d, int bar)
{
    (void)d;
    if (bar != FAKE_VIRTIO_PCI_BAR || bar_unmappable)
        return NULL;
    return fake_mmio_window(FAKE_VIRTIO_PCI_BAR_SIZE, &fake_vpci_ops, &dev);
}
void pci_cfg_reader_of(const struct pci_dev *d, struct pci_cfg_reader *r)
{
    (void)d;
    *r = fake_pci_cfg_reader;
}
int pci_msix_route(struct pci_dev *d, unsigned entry, uint32_t apic_id, uint8_t vector, const char **why)
{
    (void)d;
    (void)entry;
    (void)apic_id;
    (void)vector;
    *why = "no MSI-X capability";
    return msix_refused ? -1 : 0;
}
static int setup(void **state)
{
    (void)state;
    fake_mmio_reset();
    fake_clock_reset();
    fake_vpci_init(&dev);
    fake_pci_cfg_virtio_blk();
    fn = (struct pci_dev){.bus = 0, .dev = 4, .vendor = VIRTIO_PCI_VENDOR, .device = 0x1042};
    fn.bar[FAKE_VIRTIO_PCI_BAR] = (struct pci_bar){.present = true, .size = FAKE_VIRTIO_PCI_BAR_SIZE};
    fn.bar[1] = (struct pci_bar){.present = true, .size = 0x1000}; /* the MSI-X table */
    bar_unmappable = bus_master = msix_refused = false;
    fake_irq_free_vectors = 1;
    ndevices = 0; /* the transport's table: each test finds its device afresh */
    return 0;
}

static struct virtio_device *probed;
static void probe(struct virtio_device *vdev) { probed = vdev; }

/* Enumerate: the device the driver's probe got (NULL: none), and the last refusal's reason ("" if
 * there was none). */
static const char *enumerate(void)
{
    probed = NULL;
    size_t before = dev_refusal_count();
    virtio_pci_enumerate(VIRTIO_ID_BLOCK, "virtio-blk", probe);
    return dev_refusal_count() > before ? dev_refusal_get(dev_refusal_count() - 1)->reason : "";
}

static struct virtio_device *found(void)
{
    assert_string_equal(enumerate(), "");
    assert_non_null(probed);
    return probed;
}

/* QEMU's layout: the structures found in BAR 4, the function enabled with bus mastering, the
 * driver's probe called with the block device. */
static void test_discovery(void **state)
{
    (void)state;
    struct virtio_device *vdev = found();
    assert_int_equal(vdev->device_type, VIRTIO_ID_BLOCK);
    assert_string_equal(vdev->location, "pci 00:04.0 1af4:1042");
    assert_true(bus_master);
    assert_string_equal(fn.driver, "virtio-blk");
    assert_int_equal(dev.accesses, 0); /* discovery reads configuration space, not the device */
    /* Claimed: a second enumeration does not probe it again. */
    assert_string_equal(enumerate(), "");
    assert_null(probed);
}

/* A function without the virtio 1.x structures, with a common configuration too short, or with a
 * BAR that cannot be mapped: refused with the reason, the driver never called. */
static void test_discovery_refusals(void **state)
{
    (void)state;
    fake_pci_cfg[0x51] = 0; /* the list ends before the common configuration's capability (0x40) */
    assert_non_null(strstr(enumerate(), "no usable virtio 1.x common/notify capabilities"));
    assert_null(probed);
    setup(NULL);
    fake_pci_cfg_put32(0x40 + VIRTIO_PCI_CAP_LENGTH, 0x20);
    assert_non_null(strstr(enumerate(), "common configuration of 32 bytes, need 56"));
    setup(NULL);
    bar_unmappable = true;
    assert_non_null(strstr(enumerate(), "cannot map BAR4"));
    assert_null(probed);
}

/* 64 feature bits each way through the selects (32-bit accesses); FEATURES_OK refused. */
static void test_features(void **state)
{
    (void)state;
    dev.device_features = 0x8000000700000001ull;
    struct virtio_device *vdev = found();
    assert_int_equal(vdev->ops->get_features(vdev), 0x8000000700000001ull);
    vdev->ops->set_features(vdev, 0x0000000100000001ull);
    assert_int_equal(dev.driver_features, 0x0000000100000001ull);
    uint64_t offered, neg;
    assert_int_equal(virtio_begin_init(vdev), 0);
    dev.refuses_features = true;
    assert_int_equal(virtio_negotiate(vdev, ~0ull, VIRTIO_BIT(VIRTIO_F_VERSION_1), &offered, &neg),
                     VIRTIO_FEATURES_REFUSED);
    assert_int_equal(dev.bad_width, 0);
    assert_int_equal(dev.read_only_writes, 0);
}

/* 4.1.4.3.2: the reset is done when device_status reads 0; one that never does fails after a
 * bounded wait. */
static void test_a_reset_that_never_completes(void **state)
{
    (void)state;
    struct virtio_device *vdev = found();
    dev.status = VIRTIO_STATUS_ACKNOWLEDGE;
    dev.never_resets = true;
    uint64_t t0 = time_ns();
    assert_int_equal(vdev->ops->reset(vdev), -1);
    assert_true(time_ns() - t0 >= RESET_TIMEOUT_NS && time_ns() - t0 < 2 * RESET_TIMEOUT_NS);
    dev.never_resets = false;
    assert_int_equal(vdev->ops->reset(vdev), 0);
    assert_int_equal(dev.status, 0);
}

/* 4.1.5.1.3: queues beyond num_queues do not exist; a size of 0 or above the maximum, or a queue
 * already enabled, is refused; a notify offset outside the notify structure is refused before the
 * queue is enabled; otherwise the fields, then queue_enable, and notifications at the queue's own
 * address with its index. */
static void test_queue_setup(void **state)
{
    (void)state;
    struct virtio_device *vdev = found();
    assert_int_equal(vdev->ops->max_queue_size(vdev, 1), 0);
    assert_int_equal(vdev->ops->setup_queue(vdev, 1, 8, 0x1000, 0x2000, 0x3000), -1);
    assert_int_equal(vdev->ops->setup_queue(vdev, 0, 0, 0x1000, 0x2000, 0x3000), -1);
    assert_int_equal(vdev->ops->setup_queue(vdev, 0, 257, 0x1000, 0x2000, 0x3000), -1);
    dev.q[0].notify_off = 0x400; /* 0x400 * 4 = the notify structure's length: just outside */
    assert_int_equal(vdev->ops->setup_queue(vdev, 0, 128, 0x1000, 0x2000, 0x3000), -1);
    assert_int_equal(dev.q[0].enable, 0);
    vdev->ops->notify(vdev, 0);
    assert_int_equal(dev.notifies + dev.stray_notifies, 0);
    dev.q[0].notify_off = 3;
    assert_int_equal(vdev->ops->max_queue_size(vdev, 0), 256);
    assert_int_equal(vdev->ops->setup_queue(vdev, 0, 128, 0x123456789000ull, 0x2000, 0xabcd00003000ull), 0);
    assert_int_equal(dev.q[0].size, 128);
    assert_int_equal(dev.q[0].desc, 0x123456789000ull);
    assert_int_equal(dev.q[0].driver, 0x2000);
    assert_int_equal(dev.q[0].device, 0xabcd00003000ull);
    assert_int_equal(dev.q[0].enable, 1);
    assert_int_equal(dev.q[0].msix, FAKE_VPCI_NO_VECTOR); /* polled: no vector asked for */
    vdev->ops->notify(vdev, 0);
    assert_int_equal(dev.notifies, 1);
    assert_int_equal(dev.last_notify, 0);
    assert_int_equal(vdev->ops->setup_queue(vdev, 0, 64, 0x5000, 0x6000, 0x7000), -1);
    assert_int_equal(dev.changed_while_enabled, 0);
    assert_int_equal(dev.stray_notifies, 0);
    assert_int_equal(dev.bad_width, 0);
    assert_int_equal(dev.read_only_writes, 0);
}

/* The device configuration: field widths, nothing outside the structure, a generation that never
 * settles, and a device without the structure at all. */
static void test_configuration_reads(void **state)
{
    (void)state;
    struct virtio_device *vdev = found();
    uint64_t capacity = 0x1122334455667788ull, got = 0;
    memcpy(dev.config, &capacity, 8);
    assert_int_equal(vdev->ops->read_config(vdev, 0, &got, 8), 0);
    assert_int_equal(got, capacity);
    assert_int_equal(vdev->ops->read_config(vdev, FAKE_VIRTIO_PCI_STRUCT_LEN - 4, &got, 8), -1);
    assert_int_equal(vdev->ops->read_config(vdev, UINT32_MAX - 3, &got, 8), -1);
    dev.generation_moves = true;
    assert_int_equal(vdev->ops->read_config(vdev, 0, &got, 8), -1);
    assert_int_equal(dev.bad_width, 0);
    setup(NULL);
    fake_pci_cfg[0x71] = 0x50; /* the device configuration's capability dropped from the list */
    vdev = found();
    assert_int_equal(vdev->ops->read_config(vdev, 0, &got, 8), -1);
}

/* io=irq: MSI-X entry 0 for the queue, none for configuration changes; a device that refuses the
 * vector leaves the queue without one (the block layer's fallback poll), the setup still good. */
static void test_interrupts(void **state)
{
    (void)state;
    struct virtio_device *vdev = found();
    char route[96];
    assert_int_equal(vdev->ops->request_irq(vdev, VIRTIO_PCI_MAX_QUEUES, fake_irq_handler, NULL, route, sizeof(route)),
                     -1);
    fake_irq_free_vectors = 0;
    assert_int_equal(vdev->ops->request_irq(vdev, 0, fake_irq_handler, NULL, route, sizeof(route)), -1);
    assert_string_equal(route, "no free interrupt vector");
    fake_irq_free_vectors = 1;
    msix_refused = true;
    assert_int_equal(vdev->ops->request_irq(vdev, 0, fake_irq_handler, NULL, route, sizeof(route)), -1);
    assert_string_equal(route, "no MSI-X capability");
    fake_irq_free_vectors = 1;
    msix_refused = false;
    assert_int_equal(vdev->ops->request_irq(vdev, 0, fake_irq_handler, NULL, route, sizeof(route)), FAKE_IRQ_VECTOR);
    assert_int_equal(dev.msix_config, FAKE_VPCI_NO_VECTOR);
    assert_int_equal(vdev->ops->setup_queue(vdev, 0, 64, 0x1000, 0x2000, 0x3000), 0);
    assert_int_equal(dev.q[0].msix, 0);
    vp_irq(vdev->transport);
    assert_int_equal(fake_irq_handler_calls, 1);
    vdev->ops->free_irq(vdev);
    vp_irq(vdev->transport);
    assert_int_equal(fake_irq_handler_calls, 1);
    /* A device that cannot take the vector: read back as NO_VECTOR, the queue still set up. */
    assert_int_equal(vdev->ops->reset(vdev), 0);
    fake_irq_free_vectors = 1;
    dev.refuses_msix = true;
    assert_int_equal(vdev->ops->request_irq(vdev, 0, fake_irq_handler, NULL, route, sizeof(route)), FAKE_IRQ_VECTOR);
    assert_int_equal(vdev->ops->setup_queue(vdev, 0, 64, 0x1000, 0x2000, 0x3000), 0);
    assert_int_equal(dev.q[0].msix, FAKE_VPCI_NO_VECTOR);
    assert_int_equal(dev.q[0].enable, 1);
    assert_int_equal(dev.bad_width, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_discovery, setup),
        cmocka_unit_test_setup(test_discovery_refusals, setup),
        cmocka_unit_test_setup(test_features, setup),
        cmocka_unit_test_setup(test_a_reset_that_never_completes, setup),
        cmocka_unit_test_setup(test_queue_setup, setup),
        cmocka_unit_test_setup(test_configuration_reads, setup),
        cmocka_unit_test_setup(test_interrupts, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
