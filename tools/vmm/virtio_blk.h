/* SPDX-License-Identifier: MIT */
/* virtio_blk.h - the DEVICE side of virtio-blk (virtio 1.2, 5.2) over one split virtqueue (2.7).
 * Pure: guest memory is a struct guest_mem, the disk a struct vblk_backend, so the same code runs
 * in the VMM, in the host unit tests and in the fuzzer.
 *
 * THE GUEST IS UNTRUSTED. On every notification the ring addresses are checked (aligned, inside
 * RAM, in shared pages); every avail index, head and next index against the queue size; chains
 * against the queue size (no loops) and the order readable-then-writable; every descriptor's
 * buffer against RAM (no overflow) and the shared bitmap; lengths and sectors against the disk.
 * - A bad ring (misaligned, outside RAM, not shared, avail->idx more than a queue ahead, a head
 *   or next index out of range, a loop, an indirect or out-of-order descriptor) breaks the device:
 *   `needs_reset` (DEVICE_NEEDS_RESET for the transport), nothing more is processed until reset.
 * - A bad request (a buffer outside RAM or in a page the guest has not shared, a short header, a
 *   length that is not whole sectors, sectors past the end, a write to a read-only disk, a
 *   backend error) completes with VIRTIO_BLK_S_IOERR if its status byte is in shared RAM (used
 *   len 1); otherwise it completes with used len 0 and no status written.
 * Every case is logged (rate-limited) and counted; nothing outside RAM or in a private page is
 * ever read or written.
 */
#ifndef BOUNCE_VMM_VIRTIO_BLK_H
#define BOUNCE_VMM_VIRTIO_BLK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tools/vmm/guestmem.h"

#define VBLK_DEV_QUEUE_MAX 1024u /* QueueNumMax */
#define VBLK_DEV_SEG_MAX 254u    /* config seg_max */
#define VBLK_DEV_CONFIG_SIZE 64u /* bytes of struct virtio_blk_config we expose */
#define VBLK_DEV_ID "bounce-vmm-blk"

struct vblk_backend {
    void *ctx;
    /* Each returns 0, or -1 on an I/O error. */
    int (*read)(void *ctx, uint64_t offset, void *buf, size_t len);
    int (*write)(void *ctx, uint64_t offset, const void *buf, size_t len);
    int (*flush)(void *ctx);
};

/* The queue as the driver configured it through the transport, and the device's indices. */
struct vblk_queue {
    uint32_t num;
    bool ready;
    uint64_t desc, driver, device; /* descriptor table, available ring, used ring */
    uint16_t last_avail;           /* next available ring entry to take */
    uint16_t used_idx;             /* next used ring entry to fill (= used->idx we publish) */
};

/* The device's request counters, declared once: the struct and the report's "requests" object
 * (tools/vmm/report.c) are made from this list. X(name, what). */
#define VBLK_REQUEST_STATS(X)                                           \
    X(read, "reads completed with VIRTIO_BLK_S_OK")                     \
    X(write, "writes completed with VIRTIO_BLK_S_OK")                   \
    X(flush, "flushes completed with VIRTIO_BLK_S_OK")                  \
    X(get_id, "GET_ID requests completed with VIRTIO_BLK_S_OK")         \
    X(unsupported, "requests completed with VIRTIO_BLK_S_UNSUPP")       \
    X(ioerr, "requests completed with IOERR, or with no status at all") \
    X(malformed, "protocol violations by the driver")                   \
    X(bytes_read, "data bytes read from the disk into the guest")       \
    X(bytes_written, "data bytes written from the guest to the disk")

struct vblk_stats {
#define VBLK_STATS_FIELD(name, what) uint64_t name;
    VBLK_REQUEST_STATS(VBLK_STATS_FIELD)
#undef VBLK_STATS_FIELD
    uint64_t refused_dma; /* requests or rings refused: they touch a page not shared (reported at the top) */
};

/* Called for every device-writable data buffer just before the device writes it (the canary
 * scan); request is the request's number (1 = the first chain served). */
typedef void (*vblk_before_write_fn)(void *ctx, uint64_t request, uint64_t gpa, const uint8_t *host, size_t len);

struct vblk_seg {
    uint64_t gpa;
    uint32_t len;
    bool write;
};

struct vblk_dev {
    const struct guest_mem *gm;
    struct vblk_backend be;
    uint64_t capacity; /* 512-byte sectors */
    bool read_only;
    struct vblk_queue q;
    bool needs_reset;  /* broken by the driver: nothing is processed until a reset */
    uint64_t requests; /* chains taken from the available ring */
    vblk_before_write_fn before_write;
    void *hook_ctx;
    struct vblk_stats st;
    /* An unreadable sector, for tests of partial transfers (--bad-sector): a read reaching it
     * delivers the sectors before it, then fails (IOERR, used len = the data written). */
    uint64_t bad_sector;
    struct vblk_seg seg[VBLK_DEV_QUEUE_MAX]; /* scratch: the chain being served */
};
#define VBLK_NO_BAD_SECTOR UINT64_MAX

void vblk_dev_init(struct vblk_dev *d, const struct guest_mem *gm, const struct vblk_backend *be, uint64_t capacity,
                   bool read_only);
/* Device reset: the queue unconfigured, indices 0, no longer broken. Counters stay. */
void vblk_dev_reset(struct vblk_dev *d);
/* Feature bits the device offers (VERSION_1, ACCESS_PLATFORM, FLUSH, SEG_MAX, RO if read-only). */
uint64_t vblk_dev_features(const struct vblk_dev *d);
/* len bytes of the configuration space from off (any alignment); bytes past it read 0. */
void vblk_dev_config_read(const struct vblk_dev *d, uint64_t off, void *buf, unsigned len);
/* The driver notified the queue: serve every available chain. Returns the chains completed
 * (used entries written); sets needs_reset when the ring itself is bad. */
unsigned vblk_dev_process(struct vblk_dev *d);

#endif
