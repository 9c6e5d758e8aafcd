/* SPDX-License-Identifier: MIT */
/* fuzz_vmm_virtio.c - libFuzzer over tools/vmm's virtio-mmio transport and virtio-blk device with a
 * hostile driver (the guest), plus the KVM_HC_MAP_GPA_RANGE argument checks.
 *
 * The input is a script: register writes and reads of any width at any offset, a proper driver
 * initialization with the rings anywhere (inside, across or outside RAM), descriptors with
 * arbitrary addresses, lengths, flags and next indices, available ring entries and raw avail->idx
 * values, request headers, raw bytes poked into RAM, pages flipped between shared and private,
 * notifications and resets.
 *
 * What must hold, whatever the input:
 *  - the device never touches a page the guest has not shared: guest RAM is an mmap with guard
 *    pages around it, and every private page is PROT_NONE, so a read or write of one (or of
 *    anything outside RAM) is a SIGSEGV, which libFuzzer reports as a crash;
 *  - the disk is only accessed inside its capacity, and never written when read-only (the fake
 *    backend aborts otherwise); every disk access lies inside the exact-size disk buffer (ASan);
 *  - the device's queue state stays sane (size within the maximum while enabled; the used index
 *    it publishes never runs ahead of the chains it took);
 *  - mapgpa_check() accepts only page-aligned, non-wrapping ranges inside RAM and outside the hole.
 */
#define _GNU_SOURCE /* MAP_ANONYMOUS */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "drivers/virtio.h"
#include "abi/virtio_blk.h"
#include "drivers/virtqueue.h"
#include "tools/vmm/guestmem.h"
#include "tools/vmm/layout.h"
#include "tools/vmm/log.h"
#include "tools/vmm/mapgpa.h"
#include "tools/vmm/virtio_blk.h"
#include "tools/vmm/virtio_mmio.h"
#include "tests/fuzz/fuzz_input.h"
#include "lib/units.h"

#define PAGES 16
#define RAM_BYTES (PAGES * 4096ull)
#define DISK_SECTORS 24

static uint8_t *region; /* guard page, RAM, guard page */
static uint8_t *ram;
static uint64_t bitmap[1];
static struct guest_mem gm;
static bool prot_shared[PAGES];
static uint8_t *disk;
static bool read_only;
static struct vblk_dev dev;
static struct vmmio m;
static uint64_t taken_before; /* dev.requests at the last check */

static int be_read(void *ctx, uint64_t off, void *buf, size_t len)
{
    (void)ctx;
    if (off > DISK_SECTORS * 512ull || len > DISK_SECTORS * 512ull - off)
        abort();
    memcpy(buf, disk + off, len);
    return 0;
}

static int be_write(void *ctx, uint64_t off, const void *buf, size_t len)
{
    (void)ctx;
    if (read_only || off > DISK_SECTORS * 512ull || len > DISK_SECTORS * 512ull - off)
        abort();
    memcpy(disk + off, buf, len);
    return 0;
}

static int be_flush(void *ctx)
{
    (void)ctx;
    return 0;
}

static void set_shared(unsigned p, bool shared)
{
    gm_set_pages(&gm, p, 1, shared);
    if (prot_shared[p] != shared) {
        if (mprotect(ram + p * PAGE_SIZE, PAGE_SIZE, shared ? PROT_READ | PROT_WRITE : PROT_NONE) != 0)
            abort();
        prot_shared[p] = shared;
    }
}

/* The driver (the fuzzer) writes its own memory only where it can: shared pages. */
static void guest_write(uint64_t gpa, const void *src, size_t len)
{
    if (gm_is_shared(&gm, gpa, len))
        memcpy(ram + gpa, src, len);
}

static uint64_t pick_gpa(struct input *in)
{
    switch (u8(in) % 4) {
    case 0: return u64(in);                                      /* anything */
    case 1: return RAM_BYTES - (u8(in) % 64);                    /* around the end */
    default: return (uint64_t)u16(in) % (RAM_BYTES + PAGE_SIZE); /* mostly inside */
    }
}

static void driver_init(struct input *in)
{
    vmmio_write(&m, VIRTIO_MMIO_STATUS, 4, 0);
    vmmio_write(&m, VIRTIO_MMIO_STATUS, 4, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
    vmmio_write(&m, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 4, 1);
    vmmio_write(&m, VIRTIO_MMIO_DRIVER_FEATURES, 4, 1); /* VERSION_1 */
    vmmio_write(&m, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 4, 0);
    vmmio_write(&m, VIRTIO_MMIO_DRIVER_FEATURES, 4, u8(in) & 1 ? 0 : (1u << VIRTIO_BLK_F_FLUSH));
    vmmio_write(&m, VIRTIO_MMIO_STATUS, 4,
                VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
    uint32_t num = 1 + u8(in) % 32;
    if (u8(in) == 0xff)
        num = u32(in); /* anything, including 0 and > max */
    vmmio_write(&m, VIRTIO_MMIO_QUEUE_NUM, 4, num);
    uint64_t d = PAGE_SIZE, a = 2 * PAGE_SIZE, u = 3 * PAGE_SIZE; /* the usual place: pages 1, 2, 3 */
    uint8_t how = u8(in);
    if (how & 1)
        d = pick_gpa(in);
    if (how & 2)
        a = pick_gpa(in);
    if (how & 4)
        u = pick_gpa(in);
    vmmio_write(&m, VIRTIO_MMIO_QUEUE_DESC_LOW, 4, (uint32_t)d);
    vmmio_write(&m, VIRTIO_MMIO_QUEUE_DESC_HIGH, 4, (uint32_t)(d >> 32));
    vmmio_write(&m, VIRTIO_MMIO_QUEUE_DRIVER_LOW, 4, (uint32_t)a);
    vmmio_write(&m, VIRTIO_MMIO_QUEUE_DRIVER_HIGH, 4, (uint32_t)(a >> 32));
    vmmio_write(&m, VIRTIO_MMIO_QUEUE_DEVICE_LOW, 4, (uint32_t)u);
    vmmio_write(&m, VIRTIO_MMIO_QUEUE_DEVICE_HIGH, 4, (uint32_t)(u >> 32));
    vmmio_write(&m, VIRTIO_MMIO_QUEUE_READY, 4, 1);
    vmmio_write(&m, VIRTIO_MMIO_STATUS, 4,
                VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
}

/* A plausible request - header, 0-3 data buffers, status, chained from `head` - with every part
 * in a page the input picks (shared or not), so that well-formed but hostile requests are
 * common rather than needing many lucky single descriptors. Published and notified. */
static void request(struct input *in, uint16_t *avail_idx)
{
    uint32_t num = dev.q.num && dev.q.num <= VBLK_DEV_QUEUE_MAX ? dev.q.num : 1;
    uint16_t idx = (uint16_t)(u8(in) % (num + 1)), head = idx;
    unsigned ndata = u8(in) % 4;
    static const uint32_t types[] = {VIRTIO_BLK_T_IN, VIRTIO_BLK_T_OUT, VIRTIO_BLK_T_FLUSH, VIRTIO_BLK_T_GET_ID, 99};
    uint32_t type = types[u8(in) % 5];
    struct virtio_blk_req_hdr h = {type, 0, u8(in) % (DISK_SECTORS + 2)};
    uint64_t hdr_gpa = (u8(in) % PAGES) * PAGE_SIZE + (u8(in) % 16) * 16;
    guest_write(hdr_gpa, &h, sizeof(h));
    bool dev_writes = type == VIRTIO_BLK_T_IN || type == VIRTIO_BLK_T_GET_ID;
    for (unsigned k = 0; k < ndata + 2; k++) {
        struct virtq_desc d;
        uint16_t next = (uint16_t)((idx + 1) % num);
        if (k == 0) {
            d = (struct virtq_desc){hdr_gpa, u8(in) % 8 == 0 ? u8(in) % 20 : 16, VIRTQ_DESC_F_NEXT, next};
        } else if (k <= ndata) {
            uint64_t gpa = (u8(in) % PAGES) * PAGE_SIZE + (u8(in) % 8) * 512;
            uint32_t len = 512u * (1 + u8(in) % 4);
            uint16_t fl = VIRTQ_DESC_F_NEXT | (dev_writes ? VIRTQ_DESC_F_WRITE : 0);
            if (u8(in) % 16 == 0)
                fl ^= VIRTQ_DESC_F_WRITE;
            d = (struct virtq_desc){gpa, len, fl, next};
        } else {
            d = (struct virtq_desc){(u8(in) % PAGES) * PAGE_SIZE + u8(in), 1, VIRTQ_DESC_F_WRITE, 0};
            uint8_t twist = u8(in) % 16;
            if (twist == 0) /* back to the head: a loop */
                d.flags |= VIRTQ_DESC_F_NEXT, d.next = head;
            else if (twist == 1) /* past the table */
                d.flags |= VIRTQ_DESC_F_NEXT, d.next = (uint16_t)(num + u8(in) % 4);
        }
        if (dev.q.desc <= UINT64_MAX - 16ull * num)
            guest_write(dev.q.desc + 16ull * idx, &d, sizeof(d));
        idx = next;
    }
    uint64_t a = dev.q.driver;
    if (a <= UINT64_MAX - 8 - 2ull * num) {
        guest_write(a + 4 + 2ull * (*avail_idx % num), &head, 2);
        (*avail_idx)++;
        guest_write(a + 2, avail_idx, 2);
    }
    vmmio_write(&m, VIRTIO_MMIO_QUEUE_NOTIFY, 4, 0);
}

static void check_invariants(void)
{
    if (dev.q.ready && (dev.q.num == 0 || dev.q.num > VBLK_DEV_QUEUE_MAX))
        abort();
    /* The device publishes at most one used entry per chain it took. */
    if (dev.requests < taken_before)
        abort();
    taken_before = dev.requests;
}

static void fuzz_mapgpa(struct input *in)
{
    uint64_t ram_size = (uint64_t)(1 + u8(in) % 8) << 24, gpa = u8(in) & 1 ? u64(in) : (uint64_t)u32(in) << 4;
    uint64_t npages = u8(in) & 1 ? u64(in) : u16(in), attrs = u8(in) & 1 ? u64(in) : u8(in);
    struct mapgpa_req q;
    if (mapgpa_check(ram_size, gpa, npages, attrs, &q) != MAPGPA_OK)
        return;
    if (q.gpa % PAGE_SIZE || q.npages == 0 || q.npages > ram_size / PAGE_SIZE ||
        q.gpa > ram_size - q.npages * PAGE_SIZE ||
        (q.gpa < HIGH_RAM_START && q.gpa + q.npages * PAGE_SIZE > LOW_RAM_END))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (region == NULL) {
        vmm_log_set_quiet(true);
        region = mmap(NULL, RAM_BYTES + 2 * PAGE_SIZE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (region == MAP_FAILED)
            abort();
        ram = region + PAGE_SIZE;
        disk = malloc(DISK_SECTORS * 512);
        gm = (struct guest_mem){ram, RAM_BYTES, bitmap};
    }
    struct input in = {data, size};
    /* Every page readable and writable for a fresh start, then the input's sharing. */
    for (unsigned p = 0; p < PAGES; p++)
        set_shared(p, true);
    memset(ram, 0, RAM_BYTES);
    for (unsigned i = 0; i < DISK_SECTORS * 512; i++)
        disk[i] = (uint8_t)(i ^ (i >> 9));
    uint16_t share = (uint16_t)(u16(&in) | 0x000f); /* pages 0-3 (rings) usually shared */
    uint8_t flags = u8(&in);
    if (flags & 0x80)
        share = u16(&in); /* or not */
    for (unsigned p = 0; p < PAGES; p++)
        set_shared(p, (share >> p) & 1);
    read_only = flags & 1;
    struct vblk_backend be = {NULL, be_read, be_write, be_flush};
    vblk_dev_init(&dev, &gm, &be, DISK_SECTORS, read_only);
    vmmio_init(&m, &dev);
    taken_before = 0;
    uint16_t avail_idx = 0;
    if (flags & 2)
        driver_init(&in);

    while (in.left) {
        switch (u8(&in) % 15) {
        case 0: { /* register write */
            uint64_t off = (uint64_t)(u8(&in) % 0x80) * 4;
            unsigned len = (unsigned[]){4, 4, 4, 1, 2, 8, 3}[u8(&in) % 7];
            vmmio_write(&m, off | (u8(&in) % 8 == 0 ? 1 : 0), len, u32(&in));
            break;
        }
        case 1: { /* register or config read */
            uint64_t off = u16(&in) % VMMIO_WINDOW;
            unsigned len = (unsigned[]){1, 2, 4, 8, 4, 0, 16}[u8(&in) % 7];
            (void)vmmio_read(&m, off, len);
            break;
        }
        case 2:
            driver_init(&in);
            avail_idx = 0;
            break;
        case 3: { /* a descriptor */
            uint64_t table = dev.q.desc;
            uint32_t i = u8(&in) % 40;
            struct virtq_desc d;
            d.addr = pick_gpa(&in);
            d.len = u8(&in) & 1 ? u32(&in) : 512u * (u8(&in) % 4) + (u8(&in) & 1 ? 16 : 0) + (u8(&in) & 1);
            d.flags = u8(&in) % 8;
            d.next = u8(&in) & 0x80 ? u16(&in) : u8(&in) % 40;
            if (table <= UINT64_MAX - 16ull * i - 16)
                guest_write(table + 16ull * i, &d, sizeof(d));
            break;
        }
        case 4: { /* publish a head */
            uint16_t head = u8(&in) & 0x80 ? u16(&in) : u8(&in) % 40;
            uint32_t num = dev.q.num ? dev.q.num : 1;
            uint64_t a = dev.q.driver;
            if (a <= UINT64_MAX - 8 - 2ull * num) {
                guest_write(a + 4 + 2ull * (avail_idx % num), &head, 2);
                avail_idx++;
                guest_write(a + 2, &avail_idx, 2);
            }
            break;
        }
        case 5: { /* raw avail->idx */
            avail_idx = u16(&in);
            if (dev.q.driver <= UINT64_MAX - 4)
                guest_write(dev.q.driver + 2, &avail_idx, 2);
            break;
        }
        case 6: /* notify */ vmmio_write(&m, VIRTIO_MMIO_QUEUE_NOTIFY, 4, u8(&in) % 8 == 0 ? u32(&in) : 0); break;
        case 7: { /* poke bytes */
            uint64_t gpa = u16(&in) % RAM_BYTES;
            uint8_t n = u8(&in) % 32, buf[32];
            for (unsigned i = 0; i < n; i++)
                buf[i] = u8(&in);
            if (gpa + n <= RAM_BYTES)
                guest_write(gpa, buf, n);
            break;
        }
        case 8: { /* flip a page between shared and private */
            unsigned p = u8(&in) % PAGES;
            set_shared(p, !gm_page_shared(&gm, p));
            break;
        }
        case 9: { /* a request header */
            uint64_t gpa = u16(&in) % RAM_BYTES;
            struct virtio_blk_req_hdr h;
            static const uint32_t types[] = {VIRTIO_BLK_T_IN, VIRTIO_BLK_T_OUT, VIRTIO_BLK_T_FLUSH, VIRTIO_BLK_T_GET_ID,
                                             0};
            h.type = types[u8(&in) % 5];
            if (h.type == 0 && u8(&in) & 1)
                h.type = u32(&in);
            h.reserved = 0;
            h.sector = u8(&in) & 1 ? u64(&in) : u8(&in) % (DISK_SECTORS + 2);
            if (gpa + sizeof(h) <= RAM_BYTES)
                guest_write(gpa, &h, sizeof(h));
            break;
        }
        case 10: /* reset */
            vmmio_write(&m, VIRTIO_MMIO_STATUS, 4, 0);
            avail_idx = 0;
            break;
        case 11: fuzz_mapgpa(&in); break;
        case 12:
        case 13:
        case 14: request(&in, &avail_idx); break;
        }
        check_invariants();
    }
    return 0;
}
