/* SPDX-License-Identifier: MIT */
/* blk.h - the block layer: one interface for every disk driver.
 *
 * A request names sectors (512 bytes) and the physical memory they go to or come from, as
 * segments - page-cache pages, typically, which need not be contiguous. Drivers take requests
 * asynchronously (submit) and complete them when polled; the block layer keeps a software queue
 * in front of each device, so callers never see "device busy": they submit and later wait.
 *
 * Completion is polled (io=poll, the default) or interrupt-driven (io=irq, for drivers that
 * routed an interrupt: their handler calls blk_interrupt(), which reaps and completes). Either
 * way every wait goes through blk_wait_until() and has a timeout.
 */
#ifndef BOUNCE_DRIVERS_BLK_H
#define BOUNCE_DRIVERS_BLK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SECTOR_SIZE 512u
#define BLK_MAX_SEGMENTS 256 /* 1 MiB of 4 KiB pages */
#define BLK_MAX_DEVICES 8
#define BLK_MAX_BLOCK_SIZE 4096u /* a logical block fits in a page-cache page */

enum blk_op { BLK_READ, BLK_WRITE, BLK_FLUSH };

enum blk_status {
    BLK_OK = 0,
    BLK_EIO,       /* the device reported an error (after the driver's retry) */
    BLK_EUNSUPP,   /* the device does not support the operation */
    BLK_ETIMEDOUT, /* the device did not answer in time (after the driver's retry) */
    BLK_EINVAL,    /* a bad request: beyond the disk, misaligned, too many segments */
    BLK_EPROTO,    /* the device broke its protocol (e.g. a bad virtio used-ring entry) */
    BLK_EROFS,     /* a write to a read-only disk */
};

struct blk_segment {
    uint64_t phys;
    uint32_t len; /* a multiple of SECTOR_SIZE */
};

struct blk_req {
    enum blk_op op;
    uint64_t lba;
    uint32_t nsectors;
    uint32_t nseg;
    /* completion: set by the driver (through blk_complete()) */
    volatile bool done;
    enum blk_status status;
    /* Data bytes the device transferred, from the start: all of them on BLK_OK; after an error,
     * what the driver knows the device did (0 if it cannot tell) - a read's caller may use that
     * prefix (the page cache does). */
    uint32_t bytes_done;
    void (*end_io)(struct blk_req *req); /* called once, on completion; may be NULL */
    void *private;
    /* block layer bookkeeping */
    struct blk_req *next;
    uint64_t submitted_ns;
    bool requeued; /* the driver refused it at least once */
    /* Last, so that clearing a request up to offsetof(struct blk_req, seg) clears everything else. */
    struct blk_segment seg[BLK_MAX_SEGMENTS];
};

struct blk_dev;

struct blk_ops {
    /* Take the request, or return -1 if the device cannot take it now (queue full, DMA
     * resources exhausted): the block layer keeps it queued and retries after a poll.
     * A request the driver rejects outright is completed with blk_complete() and 0 returned. */
    int (*submit)(struct blk_dev *dev, struct blk_req *req);
    /* Reap finished requests (blk_complete() each). Returns how many completed. */
    int (*poll)(struct blk_dev *dev);
    /* True when the driver holds no request. */
    bool (*idle)(struct blk_dev *dev);
};

/* A disk's counters, declared once: the struct and the end-of-run report ("BOUNCE-REPORT blk
 * {"vda": {...}, ...}") are made from this list, in this order. X(name, what). */
#define BLK_STATS(X)                                                                                \
    X(reads, "read requests submitted")                                                             \
    X(writes, "write requests submitted")                                                           \
    X(flushes, "flush requests submitted")                                                          \
    X(sectors_read, "sectors in read requests")                                                     \
    X(sectors_written, "sectors in write requests")                                                 \
    X(errors, "requests completed with an error")                                                   \
    X(requeues, "requests the driver could not take at first (queue or bounce pool full)")          \
    X(irqs, "io=irq: interrupts taken for the disk")                                                \
    X(irqs_empty, "... that completed nothing (a PIO block moved, another's reap, or spurious)")    \
    X(irqs_lost, "completions found by the fallback poll: their interrupt never came, or too late") \
    X(notifies, "virtio: available-buffer notifications sent (doorbell writes)")                    \
    X(notifies_suppressed, "virtio: ... not sent: the device said it would look anyway (NO_NOTIFY, EVENT_IDX)")

struct blk_stats {
#define BLK_STATS_FIELD(name, what) uint64_t name;
    BLK_STATS(BLK_STATS_FIELD)
#undef BLK_STATS_FIELD
};

struct blk_dev {
    char name[16]; /* "ide0", "vda" */
    char model[41];
    uint64_t capacity; /* sectors */
    /* Logical block, 512..BLK_MAX_BLOCK_SIZE (0 at registration: 512): every request starts and
     * ends on one, as the device enforces. */
    uint32_t block_size;
    uint32_t max_sectors, max_segments;
    bool read_only, has_flush;
    bool fills_by_dma;      /* reads land in memory by DMA through dma/ (not by PIO) */
    bool completes_exactly; /* dma_completion=exact honoured: reads come back with what the device wrote */
    bool irq_driven;        /* io=irq and the driver has an interrupt: completions come from blk_interrupt() */
    int irq_vector;         /* ... on this vector (kernel/irq.h), delivered to the boot CPU */
    bool irq_level;         /* ... from a level-triggered line (else edge: MSI-X, ISA) */
    struct dma_dev *dma;    /* the device's DMA identity, if it does DMA */
    const struct blk_ops *ops;
    void *driver;
    /* block layer state */
    struct blk_req *queue_head, *queue_tail; /* waiting for the driver */
    bool stalled;                            /* the driver refused the head: retry only after some request completes */
    struct blk_stats stats;
};

/* Make a device visible (drivers call this after probing it). For a device that does DMA, the
 * largest request is capped so that one request always fits in half the bounce pool: a request
 * that waits for slots can then always get them once other requests complete. */
void blk_register(struct blk_dev *dev);
size_t blk_count(void);
struct blk_dev *blk_get(size_t i);

/* Queue a request. Invalid requests complete at once with BLK_EINVAL. */
void blk_submit(struct blk_dev *dev, struct blk_req *req);
/* Poll every device - poll its driver, then hand it queued requests - and return the completions:
 * all of them, since a request waiting for bounce slots may need another disk's completions. */
int blk_poll_all(void);
/* For a driver's interrupt handler: reap the disk's completions (its poll op) and hand queued
 * requests on, as blk_poll_all() does; counted in the disk's irq stats. */
void blk_interrupt(struct blk_dev *dev);
/* Wait until cond(arg) holds, driving every disk meanwhile: polling the polled ones; sleeping in
 * HLT while interrupt-driven ones complete from their handlers, with a poll of those after each
 * BLK_IRQ_FALLBACK_NS without progress (what it finds is counted in irqs_lost). False when
 * timeout_ns passed first. Every block-layer wait (blk_wait, the page cache's) is this one. */
#define BLK_IRQ_FALLBACK_NS (100 * 1000 * 1000ull)
bool blk_wait_until(bool (*cond)(void *arg), void *arg, uint64_t timeout_ns);
/* Wait for a request with a timeout; returns its status, or BLK_ETIMEDOUT. A request that times
 * out while still queued is taken off the queue; one that the driver holds cannot be taken back,
 * so on BLK_ETIMEDOUT the caller must not reuse it. */
enum blk_status blk_wait(struct blk_dev *dev, struct blk_req *req, uint64_t timeout_ns);
/* Submit and wait. */
enum blk_status blk_submit_wait(struct blk_dev *dev, struct blk_req *req);

/* Synchronous read or write of a kernel buffer (any alignment of 512 bytes, any size the
 * device takes in one request). */
enum blk_status blk_rw(struct blk_dev *dev, enum blk_op op, uint64_t lba, uint32_t nsectors, void *buf);

/* For drivers: finish a request (sets status, done, calls end_io). */
void blk_complete(struct blk_dev *dev, struct blk_req *req, enum blk_status status);
/* The same, for a request that failed after the device transferred its first `bytes_done` bytes
 * (clamped to the request; ignored on BLK_OK, which means all of them). */
void blk_complete_bytes(struct blk_dev *dev, struct blk_req *req, enum blk_status status, uint32_t bytes_done);

const char *blk_status_name(enum blk_status s);
const char *blk_op_name(enum blk_op op); /* "read", "write", "flush" */

#define BLK_TIMEOUT_NS (10ull * 1000 * 1000 * 1000) /* 10 s: generous for TCG */

#endif
