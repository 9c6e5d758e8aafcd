/* SPDX-License-Identifier: MIT */
/* virtio_pci.c - the modern virtio PCI transport (see virtio_pci.h; virtio 1.2, 4.1).
 *
 * Register accesses follow 4.1.3.1: the width of the field, aligned; 64-bit fields as two
 * 32-bit accesses, low half first. Every BAR is mapped uncached (pci_map_bar). Every structure a
 * capability names is checked to lie inside its memory BAR before it is used, and every wait on
 * the device is bounded.
 */
#include "drivers/virtio_pci.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "drivers/pci_caps.h"
#include "drivers/refusals.h"
#include "drivers/virtio_cfg_access.h"
#include "kernel/cpu.h"
#include "kernel/irq.h"
#include "kernel/percpu.h"
#include "kernel/options.h"
#include "kernel/time.h"

#define RESET_TIMEOUT_NS (1000 * NSEC_PER_MSEC)

static struct virtio_pci devices[VIRTIO_PCI_MAX_DEVICES];
static size_t ndevices;

static struct virtio_pci *to_vp(struct virtio_device *vdev) { return vdev->transport; }

static uint8_t r8(volatile uint8_t *base, uint32_t off) { return mmio_read8(base + off); }
static uint16_t r16(volatile uint8_t *base, uint32_t off) { return mmio_read16(base + off); }
static uint32_t r32(volatile uint8_t *base, uint32_t off) { return mmio_read32(base + off); }
static void w8(volatile uint8_t *base, uint32_t off, uint8_t v) { mmio_write8(base + off, v); }
static void w16(volatile uint8_t *base, uint32_t off, uint16_t v) { mmio_write16(base + off, v); }
static void w32(volatile uint8_t *base, uint32_t off, uint32_t v) { mmio_write32(base + off, v); }

static void w64(volatile uint8_t *base, uint32_t lo_off, uint64_t v)
{
    w32(base, lo_off, (uint32_t)v);
    w32(base, lo_off + 4, (uint32_t)(v >> 32));
}

/* ---- the transport ops ---- */

static uint8_t vp_get_status(struct virtio_device *vdev) { return r8(to_vp(vdev)->common, VIRTIO_PCI_COMMON_STATUS); }

static void vp_set_status(struct virtio_device *vdev, uint8_t status)
{
    /* 4.1.4.3.2: the driver MUST NOT write 0 to device_status except to reset (vp_reset). */
    w8(to_vp(vdev)->common, VIRTIO_PCI_COMMON_STATUS, status);
}

static bool status_is_zero(void *arg) { return r8(((struct virtio_pci *)arg)->common, VIRTIO_PCI_COMMON_STATUS) == 0; }

static int vp_reset(struct virtio_device *vdev)
{
    struct virtio_pci *vp = to_vp(vdev);
    w8(vp->common, VIRTIO_PCI_COMMON_STATUS, 0);
    /* 4.1.4.3.2: wait for device_status to read 0 before reinitializing (the reset is done). */
    if (!wait_until(status_is_zero, vp, RESET_TIMEOUT_NS)) {
        printf("virtio-pci: %s: device did not complete its reset within %" PRIu64 " ms (status %#x)\n", vdev->location,
               (RESET_TIMEOUT_NS / NSEC_PER_MSEC), vp_get_status(vdev));
        return -1;
    }
    memset((void *)vp->queue_notify, 0, sizeof(vp->queue_notify));
    return 0;
}

static uint64_t vp_get_features(struct virtio_device *vdev)
{
    struct virtio_pci *vp = to_vp(vdev);
    w32(vp->common, VIRTIO_PCI_COMMON_DFSELECT, 0);
    uint64_t lo = r32(vp->common, VIRTIO_PCI_COMMON_DF);
    w32(vp->common, VIRTIO_PCI_COMMON_DFSELECT, 1);
    uint64_t hi = r32(vp->common, VIRTIO_PCI_COMMON_DF);
    return hi << 32 | lo;
}

static void vp_set_features(struct virtio_device *vdev, uint64_t features)
{
    struct virtio_pci *vp = to_vp(vdev);
    w32(vp->common, VIRTIO_PCI_COMMON_GFSELECT, 0);
    w32(vp->common, VIRTIO_PCI_COMMON_GF, (uint32_t)features);
    w32(vp->common, VIRTIO_PCI_COMMON_GFSELECT, 1);
    w32(vp->common, VIRTIO_PCI_COMMON_GF, (uint32_t)(features >> 32));
}

static int vp_read_config(struct virtio_device *vdev, uint32_t offset, void *buf, uint32_t len)
{
    struct virtio_pci *vp = to_vp(vdev);
    if (vp->device_cfg == NULL || len == 0 || offset > vp->device_cfg_len || len > vp->device_cfg_len - offset)
        return -1;
    /* 4.1.4.3.1 / 2.5.1: config_generation before and after; equal means a consistent read. */
    for (int tries = 0; tries < 16; tries++) {
        uint8_t before = r8(vp->common, VIRTIO_PCI_COMMON_CFGGEN);
        virtio_cfg_read_once(vp->device_cfg, offset, buf, len);
        if (r8(vp->common, VIRTIO_PCI_COMMON_CFGGEN) == before)
            return 0;
    }
    printf("virtio-pci: %s: configuration generation never stable, giving up\n", vdev->location);
    return -1;
}

static uint32_t vp_max_queue_size(struct virtio_device *vdev, uint16_t index)
{
    struct virtio_pci *vp = to_vp(vdev);
    if (index >= r16(vp->common, VIRTIO_PCI_COMMON_NUMQ))
        return 0;
    w16(vp->common, VIRTIO_PCI_COMMON_Q_SELECT, index);
    return r16(vp->common, VIRTIO_PCI_COMMON_Q_SIZE); /* 0: queue unavailable */
}

static int vp_setup_queue(struct virtio_device *vdev, uint16_t index, uint32_t size, uint64_t desc, uint64_t driver,
                          uint64_t device)
{
    struct virtio_pci *vp = to_vp(vdev);
    if (index >= VIRTIO_PCI_MAX_QUEUES || index >= r16(vp->common, VIRTIO_PCI_COMMON_NUMQ))
        return -1;
    /* 4.1.5.1.3 Virtqueue Configuration */
    w16(vp->common, VIRTIO_PCI_COMMON_Q_SELECT, index);
    uint16_t max = r16(vp->common, VIRTIO_PCI_COMMON_Q_SIZE);
    if (size == 0 || size > max || r16(vp->common, VIRTIO_PCI_COMMON_Q_ENABLE) != 0)
        return -1;
    uint32_t noff = r16(vp->common, VIRTIO_PCI_COMMON_Q_NOFF);
    /* 4.1.4.4: the queue's notify address is cap.offset + queue_notify_off * notify_off_multiplier;
     * a 16-bit write there must lie inside the notify structure. */
    uint64_t at = (uint64_t)noff * vp->notify_mult;
    if (at + 2 > vp->notify_len) {
        printf("virtio-pci: %s: queue %u notify offset %" PRIu64 " outside the %u-byte notify structure\n",
               vdev->location, index, at, vp->notify_len);
        return -1;
    }
    w16(vp->common, VIRTIO_PCI_COMMON_Q_SIZE, (uint16_t)size);
    /* 4.1.5.1.3: the queue's MSI-X entry, read back: NO_VECTOR means the device could not take it. */
    w16(vp->common, VIRTIO_PCI_COMMON_Q_MSIX, vp->queue_msix[index]);
    if (r16(vp->common, VIRTIO_PCI_COMMON_Q_MSIX) != vp->queue_msix[index]) {
        printf("virtio-pci: %s: queue %u refused MSI-X entry %u: no interrupts from it (the block layer's fallback "
               "poll finds its completions)\n",
               vdev->location, index, vp->queue_msix[index]);
        vp->queue_msix[index] = VIRTIO_MSI_NO_VECTOR;
        w16(vp->common, VIRTIO_PCI_COMMON_Q_MSIX, VIRTIO_MSI_NO_VECTOR);
    }
    w64(vp->common, VIRTIO_PCI_COMMON_Q_DESCLO, desc);
    w64(vp->common, VIRTIO_PCI_COMMON_Q_AVAILLO, driver);
    w64(vp->common, VIRTIO_PCI_COMMON_Q_USEDLO, device);
    vp->queue_notify[index] = (volatile uint16_t *)(vp->notify_base + at);
    w16(vp->common, VIRTIO_PCI_COMMON_Q_ENABLE, 1);
    return 0;
}

static void vp_notify(struct virtio_device *vdev, uint16_t index)
{
    struct virtio_pci *vp = to_vp(vdev);
    if (index >= VIRTIO_PCI_MAX_QUEUES || vp->queue_notify[index] == NULL)
        return;
    /* The ring writes (write-back memory) are ordered before this uncached store on x86; the
     * fence keeps the compiler (and any weaker port) from reordering them. */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    mmio_write16(vp->queue_notify[index], index); /* 4.1.5.2: the queue index (no VIRTIO_F_NOTIFICATION_DATA) */
}

/* MSI-X: nothing to acknowledge at the device (4.1.4.5: the ISR status is not used for queue
 * interrupts once MSI-X is enabled); the message is edge-triggered. */
static void vp_irq(void *arg)
{
    struct virtio_pci *vp = arg;
    if (vp->handler)
        vp->handler(vp->handler_arg);
}

/* One MSI-X entry (0) for the queue, delivered to the boot CPU; configuration changes get no
 * vector (config_msix_vector = NO_VECTOR: nothing here reacts to them). */
static int vp_request_irq(struct virtio_device *vdev, uint16_t index, void (*handler)(void *arg), void *arg,
                          char *route, size_t routelen)
{
    struct virtio_pci *vp = to_vp(vdev);
    if (index >= VIRTIO_PCI_MAX_QUEUES) {
        snprintf(route, routelen, "queue %u: beyond the %d queues the transport keeps", index, VIRTIO_PCI_MAX_QUEUES);
        return -1;
    }
    int vector = irq_alloc(vdev->location, vp_irq, vp);
    if (vector < 0) {
        snprintf(route, routelen, "no free interrupt vector");
        return -1;
    }
    vp->handler = handler;
    vp->handler_arg = arg;
    const char *why = NULL;
    uint32_t apic_id = cpu_get(0)->apic_id;
    if (pci_msix_route(vp->pci, 0, apic_id, (uint8_t)vector, &why) != 0) {
        irq_free(vector);
        snprintf(route, routelen, "%s", why);
        return -1;
    }
    w16(vp->common, VIRTIO_PCI_COMMON_MSIX, VIRTIO_MSI_NO_VECTOR);
    vp->queue_msix[index] = 0;
    vp->vector = vector;
    snprintf(route, routelen, "MSI-X entry 0 -> vector %#x on CPU 0 (APIC ID %" PRIu32 ")", vector, apic_id);
    return vector;
}

static void vp_free_irq(struct virtio_device *vdev)
{
    struct virtio_pci *vp = to_vp(vdev);
    if (vp->handler == NULL)
        return;
    vp->handler = NULL; /* a message already on its way finds no handler */
    for (int q = 0; q < VIRTIO_PCI_MAX_QUEUES; q++)
        vp->queue_msix[q] = VIRTIO_MSI_NO_VECTOR;
    irq_free(vp->vector);
}

static const struct virtio_transport_ops vp_ops = {
    .get_status = vp_get_status,
    .set_status = vp_set_status,
    .reset = vp_reset,
    .get_features = vp_get_features,
    .set_features = vp_set_features,
    .read_config = vp_read_config,
    .max_queue_size = vp_max_queue_size,
    .setup_queue = vp_setup_queue,
    .notify = vp_notify,
    .request_irq = vp_request_irq,
    .free_irq = vp_free_irq,
};

/* ---- discovery ---- */

static int virtio_type_of(const struct pci_dev *d)
{
    if (d->vendor != VIRTIO_PCI_VENDOR)
        return -1;
    if (d->device >= VIRTIO_PCI_DEVICE_MODERN_BASE && d->device <= VIRTIO_PCI_DEVICE_MODERN_BASE + 0x3f)
        return d->device - VIRTIO_PCI_DEVICE_MODERN_BASE; /* 4.1.2.1: 0x1040 + device id */
    if (d->device >= VIRTIO_PCI_DEVICE_TRANSITIONAL_FIRST && d->device <= VIRTIO_PCI_DEVICE_TRANSITIONAL_LAST)
        return d->subsys_device; /* transitional: the subsystem device id is the virtio id */
    return -1;
}

static void set_up(struct pci_dev *d, int type, const char *driver, virtio_probe_fn probe)
{
    char loc[32];
    snprintf(loc, sizeof(loc), "pci %02x:%02x.%u %04x:%04x", d->bus, d->dev, d->fn, d->vendor, d->device);
    struct virtio_pci_cap_found caps[VIRTIO_PCI_CAP_TYPES];
    struct pci_cfg_reader r;
    pci_cfg_reader_of(d, &r);
    uint64_t bar_size[6];
    for (int b = 0; b < 6; b++)
        bar_size[b] = d->bar[b].present && !d->bar[b].io ? d->bar[b].size : 0;
    virtio_pci_find_caps(&r, bar_size, caps);
    if (!caps[VIRTIO_PCI_CAP_COMMON_CFG].present || !caps[VIRTIO_PCI_CAP_NOTIFY_CFG].present) {
        dev_refuse("virtio-pci", loc,
                   "no usable virtio 1.x common/notify capabilities in memory BARs (a legacy-only device?)");
        return;
    }
    if (caps[VIRTIO_PCI_CAP_COMMON_CFG].length < VIRTIO_PCI_COMMON_MIN_LEN) {
        dev_refuse("virtio-pci", loc, "common configuration of %u bytes, need %u",
                   caps[VIRTIO_PCI_CAP_COMMON_CFG].length, VIRTIO_PCI_COMMON_MIN_LEN);
        return;
    }
    if (ndevices == VIRTIO_PCI_MAX_DEVICES) {
        dev_refuse("virtio-pci", loc, "more than %d virtio devices", VIRTIO_PCI_MAX_DEVICES);
        return;
    }
    pci_enable(d, driver, true); /* memory decoding and bus mastering: the device DMAs */
    volatile uint8_t *bars[6] = {0};
    for (int t = VIRTIO_PCI_CAP_COMMON_CFG; t <= VIRTIO_PCI_CAP_DEVICE_CFG; t++) {
        if (caps[t].present && bars[caps[t].bar] == NULL)
            bars[caps[t].bar] = pci_map_bar(d, caps[t].bar);
        if (caps[t].present && bars[caps[t].bar] == NULL) {
            dev_refuse("virtio-pci", loc, "cannot map BAR%u", caps[t].bar);
            return;
        }
    }
    struct virtio_pci *vp = &devices[ndevices++];
    memset(vp, 0, sizeof(*vp));
    vp->pci = d;
    for (int q = 0; q < VIRTIO_PCI_MAX_QUEUES; q++)
        vp->queue_msix[q] = VIRTIO_MSI_NO_VECTOR;
    vp->common = bars[caps[VIRTIO_PCI_CAP_COMMON_CFG].bar] + caps[VIRTIO_PCI_CAP_COMMON_CFG].offset;
    vp->notify_base = bars[caps[VIRTIO_PCI_CAP_NOTIFY_CFG].bar] + caps[VIRTIO_PCI_CAP_NOTIFY_CFG].offset;
    vp->notify_len = caps[VIRTIO_PCI_CAP_NOTIFY_CFG].length;
    vp->notify_mult = caps[VIRTIO_PCI_CAP_NOTIFY_CFG].mult;
    if (caps[VIRTIO_PCI_CAP_ISR_CFG].present)
        vp->isr = bars[caps[VIRTIO_PCI_CAP_ISR_CFG].bar] + caps[VIRTIO_PCI_CAP_ISR_CFG].offset;
    if (caps[VIRTIO_PCI_CAP_DEVICE_CFG].present) {
        vp->device_cfg = bars[caps[VIRTIO_PCI_CAP_DEVICE_CFG].bar] + caps[VIRTIO_PCI_CAP_DEVICE_CFG].offset;
        vp->device_cfg_len = caps[VIRTIO_PCI_CAP_DEVICE_CFG].length;
    }
    vp->vdev.ops = &vp_ops;
    vp->vdev.device_type = (uint32_t)type;
    vp->vdev.transport = vp;
    memcpy(vp->vdev.location, loc, sizeof(loc));
    if (trace_on(TRACE_PCI))
        printf("virtio-pci: %s: common BAR%u+%#x, notify BAR%u+%#x (multiplier %u), device cfg %s%u bytes\n", loc,
               caps[1].bar, caps[1].offset, caps[2].bar, caps[2].offset, vp->notify_mult,
               vp->device_cfg ? "" : "absent, ", vp->device_cfg_len);
    probe(&vp->vdev);
}

void virtio_pci_enumerate(uint32_t device_type, const char *driver, virtio_probe_fn probe)
{
    size_t iter = 0;
    struct pci_dev *d;
    while ((d = pci_find(VIRTIO_PCI_VENDOR, 0xffff, &iter)) != NULL) {
        int type = virtio_type_of(d);
        if (type >= 0 && (uint32_t)type == device_type && d->driver == NULL)
            set_up(d, type, driver, probe);
    }
}
