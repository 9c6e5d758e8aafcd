/* SPDX-License-Identifier: MIT */
/* blk.c - device registry, software queue and synchronous helpers (see blk.h). */
#include "drivers/blk.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dma/dma.h"
#include "lib/json.h"
#include "kernel/cpu.h"
#include "kernel/irq.h"
#include "kernel/options.h"
#include "kernel/report.h"
#include "kernel/time.h"
#include "mm/mm.h"

static struct blk_dev *devices[BLK_MAX_DEVICES];
static size_t ndevices;

const char *blk_status_name(enum blk_status s)
{
    static const char *const names[] = {
        "ok", "I/O error", "unsupported", "timed out", "invalid request", "device protocol violation", "read-only"};
    return (unsigned)s < sizeof(names) / sizeof(names[0]) ? names[s] : "?";
}

const char *blk_op_name(enum blk_op op) { return op == BLK_READ ? "read" : op == BLK_WRITE ? "write" : "flush"; }

static void print_report(void)
{
    struct json_writer w;
    printf(REPORT_PREFIX " blk ");
    json_begin(&w, NULL, 0);
    for (size_t i = 0; i < ndevices; i++) {
        json_object(&w, devices[i]->name);
        json_bool(&w, "irq_driven", devices[i]->irq_driven);
#define BLK_STATS_JSON(name, what) json_u64(&w, #name, devices[i]->stats.name);
        BLK_STATS(BLK_STATS_JSON)
#undef BLK_STATS_JSON
        json_close(&w);
    }
    json_end(&w);
    printf("\n");
}

void blk_register(struct blk_dev *dev)
{
    if (ndevices == 0)
        report_register(print_report);
    if (ndevices == BLK_MAX_DEVICES) {
        printf("blk: too many disks, ignoring %s\n", dev->name);
        return;
    }
    if (dev->block_size == 0)
        dev->block_size = SECTOR_SIZE;
    uint32_t per_block = dev->block_size / SECTOR_SIZE;
    if (dev->dma && dma_bounce_pool_bytes() > 0) {
        uint64_t cap = dma_bounce_pool_bytes() / 2 / SECTOR_SIZE;
        if (dev->max_sectors > cap)
            dev->max_sectors = (uint32_t)cap;
    }
    dev->max_sectors -= dev->max_sectors % per_block;
    dev->capacity -= dev->capacity % per_block; /* a partial last block cannot be addressed */
    devices[ndevices++] = dev;
    char blocks[24] = "";
    if (per_block > 1)
        snprintf(blocks, sizeof(blocks), ", %u-byte blocks", dev->block_size);
    printf("blk: %s: %" PRIu64 " sectors (%" PRIu64 " MiB)%s%s, \"%s\"\n", dev->name, dev->capacity,
           (dev->capacity * SECTOR_SIZE >> 20), dev->read_only ? ", read-only" : "", blocks, dev->model);
}

size_t blk_count(void) { return ndevices; }
struct blk_dev *blk_get(size_t i) { return i < ndevices ? devices[i] : NULL; }

void blk_complete(struct blk_dev *dev, struct blk_req *req, enum blk_status status)
{
    blk_complete_bytes(dev, req, status, 0);
}

void blk_complete_bytes(struct blk_dev *dev, struct blk_req *req, enum blk_status status, uint32_t bytes_done)
{
    uint32_t all = req->op == BLK_FLUSH ? 0 : req->nsectors * SECTOR_SIZE;
    req->bytes_done = status == BLK_OK || bytes_done > all ? all : bytes_done;
    req->status = status;
    if (status != BLK_OK)
        dev->stats.errors++;
    if (trace_on(TRACE_BLK))
        printf("blk: %s %s lba %" PRIu64 " +%u: %s after %" PRIu64 " us\n", dev->name, blk_op_name(req->op), req->lba,
               req->nsectors, blk_status_name(status), ((time_ns() - req->submitted_ns) / 1000));
    req->done = true;
    if (req->end_io)
        req->end_io(req);
}

static enum blk_status validate(const struct blk_dev *dev, const struct blk_req *req)
{
    if (req->op == BLK_FLUSH)
        return dev->has_flush ? BLK_OK : BLK_EUNSUPP;
    if (req->op == BLK_WRITE && dev->read_only)
        return BLK_EROFS;
    if (req->nsectors == 0 || req->lba >= dev->capacity || req->nsectors > dev->capacity - req->lba ||
        req->nsectors > dev->max_sectors || req->nseg == 0 || req->nseg > dev->max_segments ||
        req->nseg > BLK_MAX_SEGMENTS)
        return BLK_EINVAL;
    uint32_t per_block = dev->block_size / SECTOR_SIZE;
    if (req->lba % per_block || req->nsectors % per_block)
        return BLK_EINVAL; /* not whole logical blocks: the device would fail it */
    uint64_t bytes = 0;
    for (uint32_t i = 0; i < req->nseg; i++) {
        if (req->seg[i].len == 0 || req->seg[i].len % SECTOR_SIZE)
            return BLK_EINVAL;
        bytes += req->seg[i].len;
    }
    return bytes == (uint64_t)req->nsectors * SECTOR_SIZE ? BLK_OK : BLK_EINVAL;
}

static void push_front(struct blk_dev *dev, struct blk_req *req)
{
    req->next = dev->queue_head;
    dev->queue_head = req;
    if (!dev->queue_tail)
        dev->queue_tail = req;
}

/* Hand queued requests to the driver while it takes them. Each is dequeued before the driver
 * sees it, so a driver that completes a request inside submit finds the queue consistent. */
static void kick(struct blk_dev *dev)
{
    while (dev->queue_head && !dev->stalled) {
        struct blk_req *req = dev->queue_head;
        dev->queue_head = req->next;
        if (!dev->queue_head)
            dev->queue_tail = NULL;
        req->next = NULL;
        if (dev->ops->submit(dev, req) != 0) {
            /* Full (requests in flight, or no bounce slots): nothing will change until some
             * request completes, so do not spin on it - wait for a completion anywhere. */
            push_front(dev, req);
            dev->stalled = true;
            if (!req->requeued) {
                req->requeued = true;
                dev->stats.requeues++;
            }
        }
    }
}

void blk_submit(struct blk_dev *dev, struct blk_req *req)
{
    req->done = false;
    req->status = BLK_OK;
    req->next = NULL;
    req->requeued = false;
    req->submitted_ns = time_ns();
    enum blk_status v = validate(dev, req);
    if (v != BLK_OK) {
        blk_complete(dev, req, v);
        return;
    }
    if (req->op == BLK_READ) {
        dev->stats.reads++;
        dev->stats.sectors_read += req->nsectors;
    } else if (req->op == BLK_WRITE) {
        dev->stats.writes++;
        dev->stats.sectors_written += req->nsectors;
    } else {
        dev->stats.flushes++;
    }
    if (dev->queue_tail)
        dev->queue_tail->next = req;
    else
        dev->queue_head = req;
    dev->queue_tail = req;
    kick(dev);
}

/* A completion on any device may have freed what a stalled one was waiting for (bounce slots
 * are shared), so every stalled device gets another try. */
static void unstall_all(void)
{
    for (size_t i = 0; i < ndevices; i++)
        if (devices[i]->stalled) {
            devices[i]->stalled = false;
            kick(devices[i]);
        }
}

/* Poll the disks that are (irq: only the interrupt-driven ones; else only the others); what an
 * interrupt-driven disk yields to a poll lost its interrupt. */
static int poll_disks(bool irq)
{
    int n = 0;
    for (size_t i = 0; i < ndevices; i++) {
        if (devices[i]->irq_driven != irq)
            continue;
        int k = devices[i]->ops->poll(devices[i]);
        if (irq)
            devices[i]->stats.irqs_lost += (uint64_t)k;
        n += k;
    }
    if (n > 0)
        unstall_all();
    return n;
}

int blk_poll_all(void) { return poll_disks(false) + poll_disks(true); }

void blk_interrupt(struct blk_dev *dev)
{
    dev->stats.irqs++;
    int n = dev->ops->poll(dev);
    if (n == 0)
        dev->stats.irqs_empty++;
    else
        unstall_all();
}

/* Whether some interrupt-driven disk has work and no polled one does: then sleeping is right. */
static bool sleep_for_interrupts(void)
{
    bool irq_work = false;
    for (size_t i = 0; i < ndevices; i++) {
        bool work = !devices[i]->ops->idle(devices[i]) || devices[i]->queue_head != NULL;
        if (work && !devices[i]->irq_driven)
            return false;
        irq_work |= work && devices[i]->irq_driven;
    }
    return irq_work;
}

bool blk_wait_until(bool (*cond)(void *arg), void *arg, uint64_t timeout_ns)
{
    uint64_t deadline = time_ns() + timeout_ns;
    while (!cond(arg)) {
        uint64_t now = time_ns();
        if (now > deadline)
            return cond(arg);
        if (sleep_for_interrupts()) {
            uint64_t nap = deadline - now < BLK_IRQ_FALLBACK_NS ? deadline - now : BLK_IRQ_FALLBACK_NS;
            if (!irq_wait_until(cond, arg, nap))
                poll_disks(true); /* no progress for a while: a lost interrupt, or a driver timeout to run */
        } else if (blk_poll_all() == 0) {
            cpu_relax();
        }
    }
    return true;
}

static bool req_done(void *arg) { return ((struct blk_req *)arg)->done; }

/* Take a request that the driver never got off the queue. False if it is not queued. */
static bool unqueue(struct blk_dev *dev, struct blk_req *req)
{
    struct blk_req **link = &dev->queue_head, *prev = NULL;
    while (*link && *link != req) {
        prev = *link;
        link = &(*link)->next;
    }
    if (*link == NULL)
        return false;
    *link = req->next;
    if (dev->queue_tail == req)
        dev->queue_tail = prev;
    req->next = NULL;
    return true;
}

enum blk_status blk_wait(struct blk_dev *dev, struct blk_req *req, uint64_t timeout_ns)
{
    if (blk_wait_until(req_done, req, timeout_ns))
        return req->status;
    if (unqueue(dev, req))
        blk_complete(dev, req, BLK_ETIMEDOUT);
    else
        printf("blk: %s: request at lba %" PRIu64 " still in the driver after %" PRIu64 " ms\n", dev->name, req->lba,
               (timeout_ns / 1000000));
    return BLK_ETIMEDOUT;
}

enum blk_status blk_submit_wait(struct blk_dev *dev, struct blk_req *req)
{
    blk_submit(dev, req);
    return blk_wait(dev, req, BLK_TIMEOUT_NS);
}

/* Cut a buffer at page boundaries: physically contiguous only within a page in general. */
static enum blk_status fill_segments(struct blk_req *r, void *buf, uint32_t nsectors)
{
    uint8_t *p = buf;
    uint64_t left = (uint64_t)nsectors * SECTOR_SIZE;
    while (left > 0) {
        uint64_t phys = virt_to_phys(p), in_page = PAGE_SIZE - (phys & (PAGE_SIZE - 1));
        uint32_t len = (uint32_t)(left < in_page ? left : in_page);
        if (r->nseg && r->seg[r->nseg - 1].phys + r->seg[r->nseg - 1].len == phys)
            r->seg[r->nseg - 1].len += len; /* identity-mapped: contiguous virtual is contiguous physical */
        else if (r->nseg == BLK_MAX_SEGMENTS)
            return BLK_EINVAL;
        else
            r->seg[r->nseg++] = (struct blk_segment){phys, len};
        p += len;
        left -= len;
    }
    return BLK_OK;
}

enum blk_status blk_rw(struct blk_dev *dev, enum blk_op op, uint64_t lba, uint32_t nsectors, void *buf)
{
    /* Segments must be whole sectors: only a buffer aligned to 512 guarantees that. */
    if ((uintptr_t)buf % SECTOR_SIZE)
        return BLK_EINVAL;
    struct blk_req *r = malloc(sizeof(*r));
    if (r == NULL)
        return BLK_EINVAL;
    memset(r, 0, offsetof(struct blk_req, seg));
    r->op = op;
    r->lba = lba;
    r->nsectors = nsectors;
    enum blk_status st = fill_segments(r, buf, nsectors);
    if (st == BLK_OK)
        st = blk_submit_wait(dev, r);
    /* A request that timed out inside the driver may still be written by it: keep it. */
    if (!(st == BLK_ETIMEDOUT && !r->done))
        free(r);
    return st;
}
