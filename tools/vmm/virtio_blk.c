/* SPDX-License-Identifier: MIT */
/* virtio_blk.c - virtio-blk device side: split virtqueue parsing and block requests (see
 * virtio_blk.h). virtio 1.2: 2.7 "Split Virtqueues", 5.2 "Block Device".
 *
 * Shared memory is read with memcpy into locals (each descriptor, index and header exactly
 * once), so nothing is re-read after it was checked. The vCPU is stopped while a notification is
 * served (the VMM handles the MMIO exit synchronously), so the guest cannot change the rings
 * under us, but nothing here depends on that for memory safety: every access is checked against
 * RAM and the shared bitmap right before it is made.
 */
#include "tools/vmm/virtio_blk.h"

#include <inttypes.h>
#include <stddef.h>
#include <string.h>

#include "abi/virtio.h"
#include "abi/virtio_blk.h"
#include "abi/virtio_ring.h"
#include "tools/vmm/log.h"

#define SECTOR 512u
#define HDR_BYTES 16u

void vblk_dev_init(struct vblk_dev *d, const struct guest_mem *gm, const struct vblk_backend *be, uint64_t capacity,
                   bool read_only)
{
    memset(d, 0, sizeof(*d));
    d->gm = gm;
    d->be = *be;
    d->capacity = capacity;
    d->read_only = read_only;
    d->bad_sector = VBLK_NO_BAD_SECTOR;
}

void vblk_dev_reset(struct vblk_dev *d)
{
    memset(&d->q, 0, sizeof(d->q));
    d->needs_reset = false;
}

uint64_t vblk_dev_features(const struct vblk_dev *d)
{
    uint64_t f = VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_F_ACCESS_PLATFORM) |
        VIRTIO_BIT(VIRTIO_BLK_F_FLUSH) | VIRTIO_BIT(VIRTIO_BLK_F_SEG_MAX);
    if (d->read_only)
        f |= VIRTIO_BIT(VIRTIO_BLK_F_RO);
    return f;
}

void vblk_dev_config_read(const struct vblk_dev *d, uint64_t off, void *buf, unsigned len)
{
    /* 5.2.4 struct virtio_blk_config: capacity (le64) at 0, seg_max (le32) at 12; the rest 0. */
    uint8_t cfg[VBLK_DEV_CONFIG_SIZE] = {0};
    uint32_t seg_max = VBLK_DEV_SEG_MAX;
    memcpy(cfg + VIRTIO_BLK_CFG_CAPACITY, &d->capacity, 8);
    memcpy(cfg + VIRTIO_BLK_CFG_SEG_MAX, &seg_max, 4);
    uint8_t *out = buf;
    for (unsigned i = 0; i < len; i++)
        out[i] = (off < VBLK_DEV_CONFIG_SIZE && i < VBLK_DEV_CONFIG_SIZE - off) ? cfg[off + i] : 0;
}

/* ---- the ring ---- */

static bool ring_ok(struct vblk_dev *d)
{
    const struct vblk_queue *q = &d->q;
    const struct guest_mem *gm = d->gm;
    uint64_t n = q->num;
    struct {
        const char *name;
        uint64_t gpa, bytes, align;
    } part[3] = {
        /* 2.7 "Split Virtqueues": sizes and alignments of the three parts */
        {"descriptor table", q->desc, sizeof(struct virtq_desc) * n, 16},
        {"available ring", q->driver, offsetof(struct virtq_avail, ring) + sizeof(uint16_t) * n, 2},
        {"used ring", q->device, offsetof(struct virtq_used, ring) + sizeof(struct virtq_used_elem) * n, 4},
    };
    for (int i = 0; i < 3; i++) {
        if (part[i].gpa % part[i].align || !gm_in_ram(gm, part[i].gpa, part[i].bytes)) {
            vmm_guest_error("virtio-blk: %s at %#" PRIx64 " (+%" PRIu64
                            " bytes) is misaligned or outside RAM: device needs reset",
                            part[i].name, part[i].gpa, part[i].bytes);
            d->st.malformed++;
            return false;
        }
        if (!gm_is_shared(gm, part[i].gpa, part[i].bytes)) {
            vmm_guest_error("virtio-blk: %s at %#" PRIx64 " (+%" PRIu64
                            " bytes) is in a page the guest has not shared: refused, "
                            "device needs reset",
                            part[i].name, part[i].gpa, part[i].bytes);
            d->st.refused_dma++;
            return false;
        }
    }
    return true;
}

static void broken(struct vblk_dev *d, const char *why, unsigned long long a, unsigned long long b)
{
    vmm_guest_error("virtio-blk: %s (%llu, %llu): device needs reset", why, a, b);
    d->st.malformed++;
    d->needs_reset = true;
}

/* Walk the chain from head into d->seg. Returns the number of descriptors, or 0 (device broken). */
static uint32_t collect_chain(struct vblk_dev *d, uint16_t head)
{
    const uint8_t *table = d->gm->host + d->q.desc;
    uint32_t n = 0;
    uint16_t idx = head;
    bool seen_write = false;
    for (;;) {
        if (n == d->q.num) {
            broken(d, "descriptor chain longer than the queue (a loop?); head, queue size", head, d->q.num);
            return 0;
        }
        struct virtq_desc desc;
        memcpy(&desc, table + sizeof(desc) * idx, sizeof(desc));
        if (desc.flags & VIRTQ_DESC_F_INDIRECT) {
            broken(d, "indirect descriptor (VIRTIO_F_INDIRECT_DESC was not offered); head, index", head, idx);
            return 0;
        }
        bool w = (desc.flags & VIRTQ_DESC_F_WRITE) != 0;
        if (!w && seen_write) {
            broken(d, "device-readable descriptor after a device-writable one; head, index", head, idx);
            return 0;
        }
        seen_write |= w;
        d->seg[n++] = (struct vblk_seg){desc.addr, desc.len, w};
        if (!(desc.flags & VIRTQ_DESC_F_NEXT))
            return n;
        if (desc.next >= d->q.num) {
            broken(d, "next descriptor index out of range; index, queue size", desc.next, d->q.num);
            return 0;
        }
        idx = desc.next;
    }
}

/* ---- the request ---- */

/* The bytes [from, from + len) of the concatenated buffers of one direction, piece by piece. */
typedef int (*piece_fn)(struct vblk_dev *d, uint64_t gpa, uint8_t *host, uint64_t len, uint64_t pos, void *arg);

static int for_pieces(struct vblk_dev *d, uint32_t nseg, bool write, uint64_t from, uint64_t len, piece_fn fn,
                      void *arg)
{
    uint64_t at = 0, pos = 0; /* at: offset of this segment in the concatenation; pos: bytes done */
    for (uint32_t i = 0; i < nseg && pos < len; i++) {
        const struct vblk_seg *s = &d->seg[i];
        if (s->write != write)
            continue;
        uint64_t start = at, end = at + s->len;
        at = end;
        if (end <= from + pos)
            continue;
        uint64_t skip = from + pos - start, take = s->len - skip;
        if (take > len - pos)
            take = len - pos;
        /* Checked by serve() already; checked again so this can never touch anything else. */
        uint8_t *host = gm_shared_ptr(d->gm, s->gpa + skip, take);
        if (host == NULL)
            return -1;
        if (fn(d, s->gpa + skip, host, take, pos, arg) != 0)
            return -1;
        pos += take;
    }
    return pos == len ? 0 : -1;
}

static int copy_out(struct vblk_dev *d, uint64_t gpa, uint8_t *host, uint64_t len, uint64_t pos, void *arg)
{
    (void)d, (void)gpa;
    memcpy((uint8_t *)arg + pos, host, len);
    return 0;
}

struct xfer {
    uint64_t disk_off;
    const uint8_t *src; /* GET_ID */
    uint64_t written;   /* device-writable bytes written so far, from the first: the used len's count */
};

static int disk_to_guest(struct vblk_dev *d, uint64_t gpa, uint8_t *host, uint64_t len, uint64_t pos, void *arg)
{
    struct xfer *x = arg;
    if (d->before_write)
        d->before_write(d->hook_ctx, d->requests, gpa, host, len);
    uint64_t off = x->disk_off + pos, bad = d->bad_sector < d->capacity ? d->bad_sector * SECTOR : UINT64_MAX;
    if (bad != UINT64_MAX && off + len > bad && off < bad + SECTOR) {
        /* The sectors before the bad one are delivered, then the read fails there. */
        if (bad > off && d->be.read(d->be.ctx, off, host, bad - off) == 0)
            x->written = pos + (bad - off);
        vmm_info("virtio-blk: request %" PRIu64 ": sector %" PRIu64 " is unreadable (--bad-sector)", d->requests,
                 d->bad_sector);
        return -1;
    }
    if (d->be.read(d->be.ctx, off, host, len) != 0)
        return -1; /* a piece that failed may hold some bytes: counted as none, the spec allows less */
    x->written = pos + len;
    return 0;
}

static int guest_to_disk(struct vblk_dev *d, uint64_t gpa, uint8_t *host, uint64_t len, uint64_t pos, void *arg)
{
    (void)gpa;
    struct xfer *x = arg;
    return d->be.write(d->be.ctx, x->disk_off + pos, host, len);
}

static int id_to_guest(struct vblk_dev *d, uint64_t gpa, uint8_t *host, uint64_t len, uint64_t pos, void *arg)
{
    struct xfer *x = arg;
    if (d->before_write)
        d->before_write(d->hook_ctx, d->requests, gpa, host, len);
    memcpy(host, x->src + pos, len);
    x->written = pos + len;
    return 0;
}

/* The used len (virtio 1.2 2.7.8): the bytes written from the start of the chain's
 * device-writable part, whose last byte is the status. It counts the status byte only when every
 * byte before it was written too; otherwise it is the data prefix written (the status byte, set,
 * lies past it: 2.7.8.1 tells the driver not to rely on it). */
static uint32_t used_len(uint64_t writable, uint64_t data_written)
{
    return (uint32_t)(data_written + 1 == writable ? writable : data_written);
}

/* A read or write of `bytes` at `sector`: whole sectors, within the disk; otherwise a guest error. */
static bool extent_ok(struct vblk_dev *d, uint64_t r, const char *what, uint64_t sector, uint64_t bytes)
{
    bool whole = bytes % SECTOR == 0, inside = sector <= d->capacity && bytes / SECTOR <= d->capacity - sector;
    if (whole && inside)
        return true;
    vmm_guest_error("virtio-blk: request %" PRIu64 ": %s of %" PRIu64 " bytes at sector %" PRIu64
                    ": %s (capacity %" PRIu64 " sectors)",
                    r, what, bytes, sector, whole ? "past the end" : "not whole sectors", d->capacity);
    return false;
}

/* A buffer the device may not touch: refused if it is guest RAM the guest has not shared,
 * malformed if it is not RAM at all. */
static void count_refused(struct vblk_dev *d, uint64_t gpa, uint64_t len)
{
    if (gm_in_ram(d->gm, gpa, len))
        d->st.refused_dma++;
    else
        d->st.malformed++;
}

/* A chain's device-readable and device-writable bytes, and its first buffer the device may not
 * touch (outside RAM, or not shared), if any. */
struct chain_sum {
    uint64_t r, w;
    const char *bad;
    uint32_t bad_i;
};

static struct chain_sum sum_chain(const struct vblk_dev *d, uint32_t n)
{
    struct chain_sum c = {0, 0, NULL, 0};
    for (uint32_t i = 0; i < n; i++) {
        const struct vblk_seg *s = &d->seg[i];
        *(s->write ? &c.w : &c.r) += s->len;
        if (c.bad)
            continue;
        if (!gm_in_ram(d->gm, s->gpa, s->len))
            c.bad = "outside RAM", c.bad_i = i;
        else if (!gm_is_shared(d->gm, s->gpa, s->len))
            c.bad = "in a page the guest has not shared", c.bad_i = i;
    }
    return c;
}

/* The status byte: the last device-writable byte of the chain (5.2.6). NULL - reported and
 * counted - when there is none or it may not be written. */
static uint8_t *status_byte(struct vblk_dev *d, uint64_t r, uint16_t head, uint32_t n)
{
    for (uint32_t i = n; i-- > 0;) {
        const struct vblk_seg *s = &d->seg[i];
        if (!s->write || !s->len)
            continue;
        uint64_t gpa = s->gpa + s->len - 1;
        uint8_t *status = gm_shared_ptr(d->gm, gpa, 1);
        if (status == NULL) {
            vmm_guest_error("virtio-blk: request %" PRIu64 " (head %u): status byte at %#" PRIx64
                            " is %s: refused, no status written",
                            r, head, gpa,
                            gm_in_ram(d->gm, gpa, 1) ? "in a page the guest has not shared" : "outside RAM");
            count_refused(d, gpa, 1);
            d->st.ioerr++;
        }
        return status;
    }
    vmm_guest_error("virtio-blk: request %" PRIu64 " (head %u) has no device-writable byte for the status", r, head);
    d->st.malformed++;
    d->st.ioerr++;
    return NULL;
}

static uint8_t do_read(struct vblk_dev *d, uint64_t r, uint32_t n, uint64_t sector, uint64_t data, struct xfer *x)
{
    if (!extent_ok(d, r, "read", sector, data))
        return VIRTIO_BLK_S_IOERR;
    x->disk_off = sector * SECTOR;
    if (for_pieces(d, n, true, 0, data, disk_to_guest, x) != 0) {
        vmm_info("virtio-blk: request %" PRIu64 ": disk read error at sector %" PRIu64, r, sector);
        return VIRTIO_BLK_S_IOERR;
    }
    d->st.read++;
    d->st.bytes_read += data;
    return VIRTIO_BLK_S_OK;
}

static uint8_t do_write(struct vblk_dev *d, uint64_t r, uint32_t n, uint64_t sector, uint64_t data, struct xfer *x)
{
    if (d->read_only) {
        vmm_guest_error("virtio-blk: request %" PRIu64 ": write to a read-only disk", r);
        return VIRTIO_BLK_S_IOERR;
    }
    if (!extent_ok(d, r, "write", sector, data))
        return VIRTIO_BLK_S_IOERR;
    x->disk_off = sector * SECTOR;
    if (for_pieces(d, n, false, HDR_BYTES, data, guest_to_disk, x) != 0) {
        vmm_info("virtio-blk: request %" PRIu64 ": disk write error at sector %" PRIu64, r, sector);
        return VIRTIO_BLK_S_IOERR;
    }
    d->st.write++;
    d->st.bytes_written += data;
    return VIRTIO_BLK_S_OK;
}

static uint8_t do_flush(struct vblk_dev *d, uint64_t r)
{
    if (d->be.flush(d->be.ctx) != 0) {
        vmm_info("virtio-blk: request %" PRIu64 ": flush failed", r);
        return VIRTIO_BLK_S_IOERR;
    }
    d->st.flush++;
    return VIRTIO_BLK_S_OK;
}

static uint8_t do_get_id(struct vblk_dev *d, uint32_t n, uint64_t writable, struct xfer *x)
{
    uint8_t id[VIRTIO_BLK_ID_BYTES] = {0};
    memcpy(id, VBLK_DEV_ID, sizeof(VBLK_DEV_ID) - 1);
    x->src = id;
    if (for_pieces(d, n, true, 0, writable < VIRTIO_BLK_ID_BYTES ? writable : VIRTIO_BLK_ID_BYTES, id_to_guest, x) != 0)
        return VIRTIO_BLK_S_IOERR;
    d->st.get_id++;
    return VIRTIO_BLK_S_OK;
}

/* The request of a well-formed chain: its status (x->written: the data bytes put in the chain). */
static uint8_t execute(struct vblk_dev *d, uint64_t r, uint16_t head, uint32_t n, const struct chain_sum *c,
                       struct xfer *x)
{
    if (c->bad) {
        const struct vblk_seg *s = &d->seg[c->bad_i];
        vmm_guest_error("virtio-blk: request %" PRIu64 " (head %u): buffer %u [%#" PRIx64 ", +%u) %s: refused (IOERR)",
                        r, head, c->bad_i, s->gpa, s->len, c->bad);
        count_refused(d, s->gpa, s->len);
        return VIRTIO_BLK_S_IOERR;
    }
    struct virtio_blk_req_hdr hdr;
    if (c->r < HDR_BYTES) {
        vmm_guest_error("virtio-blk: request %" PRIu64 " (head %u): %" PRIu64
                        " device-readable bytes, less than the 16-byte header",
                        r, head, c->r);
        d->st.malformed++;
        return VIRTIO_BLK_S_IOERR;
    }
    if (for_pieces(d, n, false, 0, HDR_BYTES, copy_out, &hdr) != 0)
        return VIRTIO_BLK_S_IOERR;
    switch (hdr.type) {
    case VIRTIO_BLK_T_IN: return do_read(d, r, n, hdr.sector, c->w - 1, x);
    case VIRTIO_BLK_T_OUT: return do_write(d, r, n, hdr.sector, c->r - HDR_BYTES, x);
    case VIRTIO_BLK_T_FLUSH: return do_flush(d, r);
    case VIRTIO_BLK_T_GET_ID: return do_get_id(d, n, c->w - 1, x);
    default: d->st.unsupported++; return VIRTIO_BLK_S_UNSUPP;
    }
}

/* Serve the chain in d->seg[0..n). Returns the used length, truthfully (used_len): all of the
 * device-writable part when the request succeeds, the data written before an error otherwise, 0
 * if not even the status could be written. */
static uint32_t serve(struct vblk_dev *d, uint16_t head, uint32_t n)
{
    struct chain_sum c = sum_chain(d, n);
    uint8_t *status = status_byte(d, d->requests, head, n);
    if (status == NULL)
        return 0;
    struct xfer x = {0};
    *status = execute(d, d->requests, head, n, &c, &x);
    if (*status == VIRTIO_BLK_S_IOERR)
        d->st.ioerr++;
    return used_len(c.w, x.written);
}

unsigned vblk_dev_process(struct vblk_dev *d)
{
    struct vblk_queue *q = &d->q;
    if (d->needs_reset || !q->ready)
        return 0;
    if (q->num == 0 || q->num > VBLK_DEV_QUEUE_MAX) { /* the transport never lets this happen */
        broken(d, "queue size out of range; size, maximum", q->num, VBLK_DEV_QUEUE_MAX);
        return 0;
    }
    if (!ring_ok(d)) {
        d->needs_reset = true;
        return 0;
    }
    uint8_t *avail = d->gm->host + q->driver, *used = d->gm->host + q->device;
    uint16_t avail_idx;
    memcpy(&avail_idx, avail + offsetof(struct virtq_avail, idx), sizeof(avail_idx));
    __atomic_thread_fence(__ATOMIC_ACQUIRE); /* the entries after the index (2.7.13) */
    if ((uint16_t)(avail_idx - q->last_avail) > q->num) {
        broken(d, "avail->idx ran more than a queue ahead; avail idx, device idx", avail_idx, q->last_avail);
        return 0;
    }
    unsigned done = 0;
    while (q->last_avail != avail_idx) {
        uint16_t head;
        memcpy(&head, avail + offsetof(struct virtq_avail, ring) + sizeof(head) * (q->last_avail % q->num),
               sizeof(head));
        if (head >= q->num) {
            broken(d, "available ring names a head out of range; head, queue size", head, q->num);
            return done;
        }
        q->last_avail++;
        d->requests++;
        uint32_t n = collect_chain(d, head);
        if (n == 0)
            return done; /* broken */
        uint32_t len = serve(d, head, n);
        struct virtq_used_elem e = {head, len};
        memcpy(used + offsetof(struct virtq_used, ring) + sizeof(e) * (q->used_idx % q->num), &e, sizeof(e));
        q->used_idx++;
        __atomic_thread_fence(__ATOMIC_RELEASE); /* the entry before the index (2.7.8) */
        memcpy(used + offsetof(struct virtq_used, idx), &q->used_idx, sizeof(q->used_idx));
        done++;
    }
    return done;
}
