/* SPDX-License-Identifier: MIT */
/* test_vmm_virtio.c - host unit tests of tools/vmm's pure parts: the virtio-mmio transport and the
 * virtio-blk device against a hostile driver, the shared-page bitmap, the canary scan and the
 * KVM_HC_MAP_GPA_RANGE argument checks.
 *
 * Guest RAM is an mmap'd buffer; pages the test keeps private are mprotect(PROT_NONE), so any
 * access the device makes to one - read or write - kills the test with SIGSEGV, and ASan reports
 * anything outside the buffer. The disk is an exact-size heap buffer.
 */
#define _GNU_SOURCE /* MAP_ANONYMOUS */
#include "tests/host/host_test.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "drivers/virtio.h"
#include "abi/virtio_blk.h"
#include "drivers/virtqueue.h"
#include "hypercall/kvm_hypercall.h"
#include "tools/vmm/canary.h"
#include "tools/vmm/guestmem.h"
#include "tools/vmm/log.h"
#include "tools/vmm/mapgpa.h"
#include "tools/vmm/virtio_blk.h"
#include "tools/vmm/virtio_mmio.h"
#include "lib/units.h"

#define PAGES 64
#define RAM_BYTES (PAGES * 4096ull)
#define DISK_SECTORS 64
#define QNUM 16
/* Layout of the test's guest RAM (page numbers). */
#define RING_PAGE 1 /* descriptor table, avail and used rings: shared */
#define HDR_PAGE 2  /* headers and status bytes: shared */
#define DATA_PAGE 4 /* data buffers: shared pages 4..15 */
#define PRIVATE_PAGE 20

static struct world {
    uint8_t *ram;
    uint64_t bitmap[(PAGES + 63) / 64];
    struct guest_mem gm;
    uint8_t *disk;
    struct vblk_dev dev;
    struct vmmio m;
    uint16_t avail_idx;
    int reads, writes, flushes;
    bool fail_io;
    int fail_read_at; /* the read call (1-based) that fails; 0: none */
    /* before_write hook */
    int hook_calls;
    uint64_t hook_request, hook_gpa;
    struct canary_log canary;
} w;

static uint64_t rq(uint64_t page, uint64_t off) { return page * PAGE_SIZE + off; }

static int be_read(void *ctx, uint64_t off, void *buf, size_t len)
{
    (void)ctx;
    assert_true(off + len <= DISK_SECTORS * 512ull);
    w.reads++;
    if (w.fail_io || w.reads == w.fail_read_at)
        return -1;
    memcpy(buf, w.disk + off, len);
    return 0;
}

static int be_write(void *ctx, uint64_t off, const void *buf, size_t len)
{
    (void)ctx;
    assert_true(off + len <= DISK_SECTORS * 512ull);
    w.writes++;
    if (w.fail_io)
        return -1;
    memcpy(w.disk + off, buf, len);
    return 0;
}

static int be_flush(void *ctx)
{
    (void)ctx;
    w.flushes++;
    return w.fail_io ? -1 : 0;
}

static void hook(void *ctx, uint64_t request, uint64_t gpa, const uint8_t *host, size_t len)
{
    (void)ctx;
    w.hook_calls++;
    w.hook_request = request;
    w.hook_gpa = gpa;
    canary_scan(&w.canary, host, len, gpa, CANARY_IN_REQUEST, request);
}

/* Make page p private (inaccessible) or shared. */
static void set_page(uint64_t p, bool shared)
{
    gm_set_pages(&w.gm, p, 1, shared);
    assert_int_equal(mprotect(w.ram + p * PAGE_SIZE, PAGE_SIZE, shared ? PROT_READ | PROT_WRITE : PROT_NONE), 0);
}

static void wr32(uint64_t off, uint32_t v) { vmmio_write(&w.m, off, 4, v); }
static uint32_t rd32(uint64_t off) { return (uint32_t)vmmio_read(&w.m, off, 4); }

/* The driver's side of 3.1.1, with the queue in RING_PAGE. */
static void driver_init(uint32_t num, bool read_only_ok)
{
    (void)read_only_ok;
    wr32(VIRTIO_MMIO_STATUS, 0);
    wr32(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE);
    wr32(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
    wr32(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
    wr32(VIRTIO_MMIO_DRIVER_FEATURES, VIRTIO_BIT(VIRTIO_BLK_F_FLUSH) | VIRTIO_BIT(VIRTIO_BLK_F_SEG_MAX));
    wr32(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
    wr32(VIRTIO_MMIO_DRIVER_FEATURES,
         (uint32_t)((VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_F_ACCESS_PLATFORM)) >> 32));
    wr32(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
    assert_true(rd32(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK);
    wr32(VIRTIO_MMIO_QUEUE_SEL, 0);
    assert_int_equal(rd32(VIRTIO_MMIO_QUEUE_NUM_MAX), VBLK_DEV_QUEUE_MAX);
    wr32(VIRTIO_MMIO_QUEUE_NUM, num);
    struct vq_layout l;
    assert_int_equal(vq_layout(num, &l), 0);
    assert_true(l.total <= PAGE_SIZE);
    uint64_t base = rq(RING_PAGE, 0);
    wr32(VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)(base + l.desc_off));
    wr32(VIRTIO_MMIO_QUEUE_DESC_HIGH, 0);
    wr32(VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)(base + l.avail_off));
    wr32(VIRTIO_MMIO_QUEUE_DRIVER_HIGH, 0);
    wr32(VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)(base + l.used_off));
    wr32(VIRTIO_MMIO_QUEUE_DEVICE_HIGH, 0);
    wr32(VIRTIO_MMIO_QUEUE_READY, 1);
    assert_int_equal(rd32(VIRTIO_MMIO_QUEUE_READY), 1);
    wr32(VIRTIO_MMIO_STATUS,
         VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
    w.avail_idx = 0;
}

static int setup(void **state)
{
    (void)state;
    vmm_log_set_quiet(true);
    memset(&w, 0, sizeof(w));
    w.ram = mmap(NULL, RAM_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(w.ram != MAP_FAILED);
    w.gm = (struct guest_mem){w.ram, RAM_BYTES, w.bitmap};
    for (uint64_t p = 0; p < PAGES; p++)
        set_page(p, p < 16); /* 0..15 shared, the rest private */
    w.disk = malloc(DISK_SECTORS * 512);
    for (unsigned i = 0; i < DISK_SECTORS * 512; i++)
        w.disk[i] = (uint8_t)(i * 7 + i / 512);
    struct vblk_backend be = {NULL, be_read, be_write, be_flush};
    vblk_dev_init(&w.dev, &w.gm, &be, DISK_SECTORS, false);
    w.dev.before_write = hook;
    vmmio_init(&w.m, &w.dev);
    driver_init(QNUM, false);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    munmap(w.ram, RAM_BYTES);
    free(w.disk);
    return 0;
}

/* ---- the driver's ring operations (the test plays the guest) ---- */

static struct vq_layout layout(void)
{
    struct vq_layout l;
    vq_layout(QNUM, &l);
    return l;
}
static struct virtq_desc *desc_table(void) { return (struct virtq_desc *)(w.ram + rq(RING_PAGE, layout().desc_off)); }
static struct virtq_avail *avail(void) { return (struct virtq_avail *)(w.ram + rq(RING_PAGE, layout().avail_off)); }
static struct virtq_used *used(void) { return (struct virtq_used *)(w.ram + rq(RING_PAGE, layout().used_off)); }

static void put_desc(uint16_t i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
    desc_table()[i] = (struct virtq_desc){addr, len, flags, next};
}

static void publish(uint16_t head)
{
    avail()->ring[w.avail_idx % QNUM] = head;
    w.avail_idx++;
    avail()->idx = w.avail_idx;
}

static void notify(void) { wr32(VIRTIO_MMIO_QUEUE_NOTIFY, 0); }

static void put_hdr(uint64_t gpa, uint32_t type, uint64_t sector)
{
    struct virtio_blk_req_hdr h = {type, 0, sector};
    memcpy(w.ram + gpa, &h, sizeof(h));
}

/* A 3-descriptor request at descriptors [d, d+2]: header, data, status. Returns the status gpa. */
static uint64_t request(uint16_t d, uint32_t type, uint64_t sector, uint64_t data_gpa, uint32_t data_len,
                        bool device_writes)
{
    uint64_t hdr = rq(HDR_PAGE, 64u * d), st = hdr + 32;
    put_hdr(hdr, type, sector);
    w.ram[st] = 0xff;
    put_desc(d, hdr, 16, VIRTQ_DESC_F_NEXT, (uint16_t)(d + 1));
    put_desc((uint16_t)(d + 1), data_gpa, data_len, VIRTQ_DESC_F_NEXT | (device_writes ? VIRTQ_DESC_F_WRITE : 0),
             (uint16_t)(d + 2));
    put_desc((uint16_t)(d + 2), st, 1, VIRTQ_DESC_F_WRITE, 0);
    publish(d);
    return st;
}

static struct virtq_used_elem last_used(void)
{
    uint16_t i = (uint16_t)(used()->idx - 1);
    return used()->ring[i % QNUM];
}

static bool needs_reset(void) { return rd32(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DEVICE_NEEDS_RESET; }

/* ---- transport ---- */

static void test_registers(void **state)
{
    (void)state;
    assert_int_equal(rd32(VIRTIO_MMIO_MAGIC_VALUE), 0x74726976);
    assert_int_equal(rd32(VIRTIO_MMIO_VERSION), 2);
    assert_int_equal(rd32(VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_BLOCK);
    assert_int_equal(rd32(VIRTIO_MMIO_VENDOR_ID), VMMIO_VENDOR);
    wr32(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
    uint32_t lo = rd32(VIRTIO_MMIO_DEVICE_FEATURES);
    wr32(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
    uint32_t hi = rd32(VIRTIO_MMIO_DEVICE_FEATURES);
    wr32(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 2);
    assert_int_equal(rd32(VIRTIO_MMIO_DEVICE_FEATURES), 0);
    uint64_t f = (uint64_t)hi << 32 | lo;
    assert_int_equal(f,
                     VIRTIO_BIT(VIRTIO_F_VERSION_1) | VIRTIO_BIT(VIRTIO_F_ACCESS_PLATFORM) |
                         VIRTIO_BIT(VIRTIO_BLK_F_FLUSH) | VIRTIO_BIT(VIRTIO_BLK_F_SEG_MAX));
    /* configuration: capacity at 0 in any width, seg_max at 12 */
    assert_int_equal(vmmio_read(&w.m, VIRTIO_MMIO_CONFIG, 8), DISK_SECTORS);
    assert_int_equal(vmmio_read(&w.m, VIRTIO_MMIO_CONFIG, 4), DISK_SECTORS);
    assert_int_equal(vmmio_read(&w.m, VIRTIO_MMIO_CONFIG + 4, 4), 0);
    assert_int_equal(vmmio_read(&w.m, VIRTIO_MMIO_CONFIG, 2), DISK_SECTORS);
    assert_int_equal(vmmio_read(&w.m, VIRTIO_MMIO_CONFIG, 1), DISK_SECTORS);
    assert_int_equal(vmmio_read(&w.m, VIRTIO_MMIO_CONFIG + 12, 4), VBLK_DEV_SEG_MAX);
    assert_int_equal(vmmio_read(&w.m, VIRTIO_MMIO_CONFIG + 0xfc, 4), 0); /* past the config: 0 */
    assert_int_equal(rd32(VIRTIO_MMIO_CONFIG_GENERATION), 0);
    /* queue 1 does not exist */
    wr32(VIRTIO_MMIO_QUEUE_SEL, 1);
    assert_int_equal(rd32(VIRTIO_MMIO_QUEUE_NUM_MAX), 0);
    wr32(VIRTIO_MMIO_QUEUE_READY, 1);
    assert_int_equal(rd32(VIRTIO_MMIO_QUEUE_READY), 0);
    wr32(VIRTIO_MMIO_QUEUE_SEL, 0);
    /* odd widths on registers are ignored and counted */
    uint64_t bad = w.m.bad_accesses;
    assert_int_equal(vmmio_read(&w.m, VIRTIO_MMIO_MAGIC_VALUE, 2), 0);
    vmmio_write(&w.m, VIRTIO_MMIO_STATUS, 1, 0);
    assert_int_equal(w.m.bad_accesses, bad + 2);
    assert_true(rd32(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_DRIVER_OK); /* the 1-byte write did not reset */
    vmmio_write(&w.m, VIRTIO_MMIO_CONFIG, 4, 123);                   /* config is read-only */
    assert_int_equal(vmmio_read(&w.m, VIRTIO_MMIO_CONFIG, 8), DISK_SECTORS);
}

static void test_features_ok_refused(void **state)
{
    (void)state;
    wr32(VIRTIO_MMIO_STATUS, 0);
    assert_int_equal(rd32(VIRTIO_MMIO_STATUS), 0);
    assert_int_equal(rd32(VIRTIO_MMIO_QUEUE_READY), 0); /* reset disabled the queue */
    wr32(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
    wr32(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
    wr32(VIRTIO_MMIO_DRIVER_FEATURES, 1u << VIRTIO_F_INDIRECT_DESC); /* not offered */
    wr32(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
    wr32(VIRTIO_MMIO_DRIVER_FEATURES, 1); /* VERSION_1 */
    wr32(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
    assert_false(rd32(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK);
    wr32(VIRTIO_MMIO_STATUS, 0);
    wr32(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
    wr32(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
    wr32(VIRTIO_MMIO_DRIVER_FEATURES, 0); /* no VERSION_1 (legacy): refused */
    wr32(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER | VIRTIO_STATUS_FEATURES_OK);
    assert_false(rd32(VIRTIO_MMIO_STATUS) & VIRTIO_STATUS_FEATURES_OK);
    /* a queue size above the maximum never becomes ready */
    driver_init(QNUM, false);
    wr32(VIRTIO_MMIO_QUEUE_READY, 0);
    wr32(VIRTIO_MMIO_QUEUE_NUM, VBLK_DEV_QUEUE_MAX + 1);
    wr32(VIRTIO_MMIO_QUEUE_READY, 1);
    assert_int_equal(rd32(VIRTIO_MMIO_QUEUE_READY), 0);
    /* notifications before DRIVER_OK do nothing */
    wr32(VIRTIO_MMIO_STATUS, 0);
    request(0, VIRTIO_BLK_T_IN, 0, rq(DATA_PAGE, 0), 512, true);
    notify();
    assert_int_equal(w.dev.requests, 0);
}

/* ---- requests ---- */

static void test_read(void **state)
{
    (void)state;
    /* header, two data pieces (one of them crossing a page boundary), status */
    uint64_t hdr = rq(HDR_PAGE, 0), st = rq(HDR_PAGE, 100), a = rq(DATA_PAGE, PAGE_SIZE - 512),
             b = rq(DATA_PAGE + 3, 0);
    put_hdr(hdr, VIRTIO_BLK_T_IN, 5);
    w.ram[st] = 0xff;
    put_desc(3, hdr, 16, VIRTQ_DESC_F_NEXT, 7);
    put_desc(7, a, 1024, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2);
    put_desc(2, b, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 9);
    put_desc(9, st, 1, VIRTQ_DESC_F_WRITE, 0);
    publish(3);
    notify();
    assert_int_equal(w.ram[st], VIRTIO_BLK_S_OK);
    assert_memory_equal(w.ram + a, w.disk + 5 * 512, 1024);
    assert_memory_equal(w.ram + b, w.disk + 7 * 512, 512);
    assert_int_equal(used()->idx, 1);
    assert_int_equal(last_used().id, 3);
    assert_int_equal(last_used().len, 1024 + 512 + 1);
    assert_int_equal(w.dev.st.read, 1);
    assert_int_equal(w.dev.st.bytes_read, 1536);
    assert_true(rd32(VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_MMIO_INT_VRING);
    wr32(VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_VRING);
    assert_false(rd32(VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_MMIO_INT_VRING);
    assert_int_equal(w.hook_calls, 2);
    assert_int_equal(w.hook_request, 1);
    assert_false(needs_reset());
}

static void test_write_flush_id_unsupported(void **state)
{
    (void)state;
    uint64_t data = rq(DATA_PAGE, 0);
    memset(w.ram + data, 0xab, 1024);
    uint64_t st = request(0, VIRTIO_BLK_T_OUT, 10, data, 1024, false);
    notify();
    assert_int_equal(w.ram[st], VIRTIO_BLK_S_OK);
    assert_int_equal(last_used().len, 1);
    for (int i = 0; i < 1024; i++)
        assert_int_equal(w.disk[10 * 512 + i], 0xab);
    assert_int_equal(w.dev.st.write, 1);
    assert_int_equal(w.hook_calls, 0); /* the device only read */

    /* flush: header + status */
    uint64_t hdr = rq(HDR_PAGE, 512);
    put_hdr(hdr, VIRTIO_BLK_T_FLUSH, 0);
    put_desc(3, hdr, 16, VIRTQ_DESC_F_NEXT, 4);
    put_desc(4, hdr + 16, 1, VIRTQ_DESC_F_WRITE, 0);
    w.ram[hdr + 16] = 0xff;
    publish(3);
    notify();
    assert_int_equal(w.ram[hdr + 16], VIRTIO_BLK_S_OK);
    assert_int_equal(w.flushes, 1);

    /* GET_ID into 20 bytes */
    st = request(5, VIRTIO_BLK_T_GET_ID, 0, data, 20, true);
    notify();
    assert_int_equal(w.ram[st], VIRTIO_BLK_S_OK);
    assert_memory_equal(w.ram + data, VBLK_DEV_ID, sizeof(VBLK_DEV_ID) - 1);
    assert_int_equal(last_used().len, 21);

    /* an unknown type */
    st = request(8, 77, 0, data, 512, true);
    notify();
    assert_int_equal(w.ram[st], VIRTIO_BLK_S_UNSUPP);
    assert_int_equal(w.dev.st.unsupported, 1);
    assert_int_equal(used()->idx, 4);
    assert_false(needs_reset());
}

static void test_read_only_and_io_errors(void **state)
{
    (void)state;
    w.dev.read_only = true;
    wr32(VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
    assert_true(rd32(VIRTIO_MMIO_DEVICE_FEATURES) & (1u << VIRTIO_BLK_F_RO));
    uint64_t data = rq(DATA_PAGE, 0);
    uint8_t before[512];
    memcpy(before, w.disk + 512, 512);
    uint64_t st = request(0, VIRTIO_BLK_T_OUT, 1, data, 512, false);
    notify();
    assert_int_equal(w.ram[st], VIRTIO_BLK_S_IOERR);
    assert_int_equal(last_used().len, 1); /* the status byte is all a write's device may write */
    assert_memory_equal(w.disk + 512, before, 512);
    assert_int_equal(w.writes, 0);
    w.dev.read_only = false;
    w.fail_io = true;
    st = request(3, VIRTIO_BLK_T_IN, 1, data, 512, true);
    notify();
    assert_int_equal(w.ram[st], VIRTIO_BLK_S_IOERR);
    assert_int_equal(last_used().len, 0); /* no data written: the status byte lies past the count */
    assert_int_equal(w.dev.st.ioerr, 2);
    assert_int_equal(w.dev.st.read, 0);
    assert_false(needs_reset());
}

/* The used len counts what the device wrote (virtio 1.2 2.7.8): a read whose second piece fails
 * on the disk wrote its first piece and reports exactly that - not the status byte, which lies
 * past the unwritten piece. */
static void test_used_len_of_a_read_that_fails_midway(void **state)
{
    (void)state;
    uint64_t hdr = rq(HDR_PAGE, 0), st = rq(HDR_PAGE, 100), a = rq(DATA_PAGE, 0), b = rq(DATA_PAGE + 1, 0);
    memset(w.ram + a, 0x5a, 1024);
    memset(w.ram + b, 0x5a, 512);
    put_hdr(hdr, VIRTIO_BLK_T_IN, 4);
    w.ram[st] = 0xff;
    put_desc(0, hdr, 16, VIRTQ_DESC_F_NEXT, 1);
    put_desc(1, a, 1024, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2);
    put_desc(2, b, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 3);
    put_desc(3, st, 1, VIRTQ_DESC_F_WRITE, 0);
    w.fail_read_at = w.reads + 2;
    publish(0);
    notify();
    w.fail_read_at = 0;
    assert_int_equal(w.ram[st], VIRTIO_BLK_S_IOERR);
    assert_int_equal(last_used().len, 1024);
    assert_memory_equal(w.ram + a, w.disk + 4 * 512, 1024);
    for (int i = 0; i < 512; i++)
        assert_int_equal(w.ram[b + i], 0x5a); /* a failed piece: counted as nothing written */
    /* The same request succeeding: data and status. */
    w.ram[st] = 0xff;
    publish(0);
    notify();
    assert_int_equal(w.ram[st], VIRTIO_BLK_S_OK);
    assert_int_equal(last_used().len, 1024 + 512 + 1);
}

/* --bad-sector: a read reaching it delivers the sectors before it - inside a piece too - and
 * reports exactly those as its used len; a read that misses it is untouched by it. */
static void test_bad_sector_delivers_the_sectors_before_it(void **state)
{
    (void)state;
    w.dev.bad_sector = 10;
    uint64_t data = rq(DATA_PAGE, 0);
    memset(w.ram + data, 0x5a, 8 * 512);
    uint64_t st = request(0, VIRTIO_BLK_T_IN, 7, data, 8 * 512, true); /* sectors 7..14 */
    notify();
    assert_int_equal(w.ram[st], VIRTIO_BLK_S_IOERR);
    assert_int_equal(last_used().len, 3 * 512);
    assert_memory_equal(w.ram + data, w.disk + 7 * 512, 3 * 512);
    for (int i = 3 * 512; i < 8 * 512; i++)
        assert_int_equal(w.ram[data + i], 0x5a);
    st = request(3, VIRTIO_BLK_T_IN, 10, data, 512, true); /* the bad sector first: nothing */
    notify();
    assert_int_equal(w.ram[st], VIRTIO_BLK_S_IOERR);
    assert_int_equal(last_used().len, 0);
    st = request(6, VIRTIO_BLK_T_IN, 11, data, 4 * 512, true); /* after it: all well */
    notify();
    assert_int_equal(w.ram[st], VIRTIO_BLK_S_OK);
    assert_int_equal(last_used().len, 4 * 512 + 1);
    assert_memory_equal(w.ram + data, w.disk + 11 * 512, 4 * 512);
}

static void test_bad_lengths_and_sectors(void **state)
{
    (void)state;
    uint64_t data = rq(DATA_PAGE, 0);
    uint64_t st = request(0, VIRTIO_BLK_T_IN, 0, data, 500, true); /* not whole sectors */
    notify();
    assert_int_equal(w.ram[st], VIRTIO_BLK_S_IOERR);
    st = request(3, VIRTIO_BLK_T_IN, DISK_SECTORS - 1, data, 1024, true); /* past the end */
    notify();
    assert_int_equal(w.ram[st], VIRTIO_BLK_S_IOERR);
    st = request(6, VIRTIO_BLK_T_IN, UINT64_MAX / 256, data, 512, true); /* sector * 512 overflows */
    notify();
    assert_int_equal(w.ram[st], VIRTIO_BLK_S_IOERR);
    st = request(9, VIRTIO_BLK_T_OUT, UINT64_MAX, data, 512, false);
    notify();
    assert_int_equal(w.ram[st], VIRTIO_BLK_S_IOERR);
    /* a 15-byte header */
    uint64_t hdr = rq(HDR_PAGE, PAGE_SIZE / 2);
    put_hdr(hdr, VIRTIO_BLK_T_IN, 0);
    put_desc(12, hdr, 15, VIRTQ_DESC_F_NEXT, 13);
    put_desc(13, hdr + 32, 1, VIRTQ_DESC_F_WRITE, 0);
    w.ram[hdr + 32] = 0xff;
    publish(12);
    notify();
    assert_int_equal(w.ram[hdr + 32], VIRTIO_BLK_S_IOERR);
    assert_int_equal(w.reads, 0);
    assert_int_equal(w.dev.st.ioerr, 5);
    assert_int_equal(used()->idx, 5);
    assert_false(needs_reset());
}

static void test_header_split_across_descriptors(void **state)
{
    (void)state;
    /* The header in two pieces (5 + 11 bytes) is legal: no framing assumptions (2.6.4). */
    uint64_t h = rq(HDR_PAGE, 0), data = rq(DATA_PAGE, 0), st = rq(HDR_PAGE, 200);
    put_hdr(h, VIRTIO_BLK_T_IN, 2);
    put_desc(0, h, 5, VIRTQ_DESC_F_NEXT, 1);
    put_desc(1, h + 5, 11, VIRTQ_DESC_F_NEXT, 2);
    put_desc(2, data, 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 3);
    put_desc(3, st, 1, VIRTQ_DESC_F_WRITE, 0);
    w.ram[st] = 0xff;
    publish(0);
    notify();
    assert_int_equal(w.ram[st], VIRTIO_BLK_S_OK);
    assert_memory_equal(w.ram + data, w.disk + 2 * 512, 512);
}

/* ---- refusals: pages the guest has not shared ---- */

static void test_refuse_private_data(void **state)
{
    (void)state;
    uint64_t st = request(0, VIRTIO_BLK_T_IN, 0, rq(PRIVATE_PAGE, 0), 512, true);
    notify();
    assert_int_equal(w.ram[st], VIRTIO_BLK_S_IOERR);
    assert_int_equal(last_used().len, 0); /* nothing written before the status byte */
    assert_int_equal(w.dev.st.refused_dma, 1);
    assert_int_equal(w.reads, 0);
    /* a buffer that starts shared and runs into the private page */
    set_page(PRIVATE_PAGE - 1, true);
    st = request(3, VIRTIO_BLK_T_IN, 0, rq(PRIVATE_PAGE, 0) - 512, 1024, true);
    notify();
    assert_int_equal(w.ram[st], VIRTIO_BLK_S_IOERR);
    assert_int_equal(w.dev.st.refused_dma, 2);
    /* a write whose data is private: refused too (the device would read private memory) */
    st = request(6, VIRTIO_BLK_T_OUT, 0, rq(PRIVATE_PAGE + 1, 0), 512, false);
    notify();
    assert_int_equal(w.ram[st], VIRTIO_BLK_S_IOERR);
    assert_int_equal(w.dev.st.refused_dma, 3);
    assert_int_equal(w.writes, 0);
    /* a private header */
    put_desc(9, rq(PRIVATE_PAGE, 0), 16, VIRTQ_DESC_F_NEXT, 10);
    put_desc(10, rq(HDR_PAGE, 0), 1, VIRTQ_DESC_F_WRITE, 0);
    w.ram[rq(HDR_PAGE, 0)] = 0xff;
    publish(9);
    notify();
    assert_int_equal(w.ram[rq(HDR_PAGE, 0)], VIRTIO_BLK_S_IOERR);
    assert_int_equal(w.dev.st.refused_dma, 4);
    assert_int_equal(w.dev.st.ioerr, 4);
    assert_false(needs_reset());
}

static void test_refuse_private_status(void **state)
{
    (void)state;
    uint64_t hdr = rq(HDR_PAGE, 0);
    put_hdr(hdr, VIRTIO_BLK_T_IN, 0);
    put_desc(0, hdr, 16, VIRTQ_DESC_F_NEXT, 1);
    put_desc(1, rq(DATA_PAGE, 0), 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2);
    put_desc(2, rq(PRIVATE_PAGE, 7), 1, VIRTQ_DESC_F_WRITE, 0);
    publish(0);
    notify();
    assert_int_equal(used()->idx, 1);
    assert_int_equal(last_used().len, 0); /* no status written */
    assert_int_equal(w.dev.st.refused_dma, 1);
    assert_int_equal(w.reads, 0);
    /* no device-writable descriptor at all */
    put_desc(3, hdr, 16, 0, 0);
    publish(3);
    notify();
    assert_int_equal(last_used().len, 0);
    assert_int_equal(w.dev.st.malformed, 1);
    assert_false(needs_reset());
}

static void test_refuse_private_ring(void **state)
{
    (void)state;
    request(0, VIRTIO_BLK_T_IN, 0, rq(DATA_PAGE, 0), 512, true);
    set_page(RING_PAGE, false); /* the guest made its ring private: the device must not touch it */
    notify();
    assert_int_equal(w.dev.st.refused_dma, 1);
    set_page(RING_PAGE, true);
    assert_true(needs_reset());
    assert_true(rd32(VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_MMIO_INT_CONFIG);
    assert_int_equal(used()->idx, 0);
    /* broken until reset; after the reset and a fresh init it works again */
    notify();
    assert_int_equal(used()->idx, 0);
    driver_init(QNUM, false);
    memset(w.ram + rq(RING_PAGE, 0), 0, PAGE_SIZE);
    assert_false(needs_reset());
    uint64_t st = request(0, VIRTIO_BLK_T_IN, 0, rq(DATA_PAGE, 0), 512, true);
    notify();
    assert_int_equal(w.ram[st], VIRTIO_BLK_S_OK);
}

static void test_ring_outside_ram(void **state)
{
    (void)state;
    wr32(VIRTIO_MMIO_STATUS, 0);
    wr32(VIRTIO_MMIO_QUEUE_NUM, QNUM);
    wr32(VIRTIO_MMIO_QUEUE_DESC_LOW, 0xfffff000u);
    wr32(VIRTIO_MMIO_QUEUE_DESC_HIGH, 0xffffffffu);
    wr32(VIRTIO_MMIO_QUEUE_READY, 1);
    wr32(VIRTIO_MMIO_STATUS, VIRTIO_STATUS_DRIVER_OK);
    notify();
    assert_true(needs_reset());
    assert_int_equal(w.dev.st.malformed, 1);
    /* misaligned descriptor table */
    driver_init(QNUM, false);
    wr32(VIRTIO_MMIO_QUEUE_READY, 0);
    wr32(VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)rq(RING_PAGE, 8));
    wr32(VIRTIO_MMIO_QUEUE_READY, 1);
    notify();
    assert_true(needs_reset());
}

/* ---- malformed chains break the device ---- */

static void expect_broken(void)
{
    notify();
    assert_true(needs_reset());
    assert_int_equal(w.reads + w.writes, 0);
    uint16_t before = used()->idx;
    notify(); /* nothing more happens until a reset */
    assert_int_equal(used()->idx, before);
}

static void test_chain_loop(void **state)
{
    (void)state;
    put_hdr(rq(HDR_PAGE, 0), VIRTIO_BLK_T_IN, 0);
    put_desc(0, rq(HDR_PAGE, 0), 16, VIRTQ_DESC_F_NEXT, 1);
    put_desc(1, rq(DATA_PAGE, 0), 512, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 2);
    put_desc(2, rq(DATA_PAGE, 512), 1, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 1); /* back to 1 */
    publish(0);
    expect_broken();
}

static void test_chain_next_out_of_range(void **state)
{
    (void)state;
    put_desc(0, rq(HDR_PAGE, 0), 16, VIRTQ_DESC_F_NEXT, QNUM);
    publish(0);
    expect_broken();
}

static void test_head_out_of_range(void **state)
{
    (void)state;
    publish(QNUM + 3);
    expect_broken();
}

static void test_avail_idx_jump(void **state)
{
    (void)state;
    avail()->idx = QNUM + 1; /* more chains than the queue holds */
    expect_broken();
}

static void test_indirect_and_order(void **state)
{
    (void)state;
    put_desc(0, rq(HDR_PAGE, 0), 16, VIRTQ_DESC_F_INDIRECT, 0);
    publish(0);
    expect_broken();
    driver_init(QNUM, false);
    memset(w.ram + rq(RING_PAGE, 0), 0, PAGE_SIZE);
    put_desc(0, rq(HDR_PAGE, 0), 1, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE, 1);
    put_desc(1, rq(HDR_PAGE, 64), 16, 0, 0); /* readable after writable */
    publish(0);
    expect_broken();
}

static void test_descriptor_outside_ram(void **state)
{
    (void)state;
    uint64_t st = request(0, VIRTIO_BLK_T_IN, 0, RAM_BYTES - 256, 512, true); /* runs past the end */
    notify();
    assert_int_equal(w.ram[st], VIRTIO_BLK_S_IOERR);
    st = request(3, VIRTIO_BLK_T_IN, 0, UINT64_MAX - 100, 512, true); /* wraps */
    notify();
    assert_int_equal(w.ram[st], VIRTIO_BLK_S_IOERR);
    put_desc(6, rq(HDR_PAGE, 0), 16, VIRTQ_DESC_F_NEXT, 7);
    put_desc(7, UINT64_MAX, 1, VIRTQ_DESC_F_WRITE, 0); /* status outside RAM */
    publish(6);
    notify();
    assert_int_equal(last_used().len, 0);
    assert_int_equal(w.dev.st.malformed, 3);
    assert_int_equal(w.reads, 0);
    assert_false(needs_reset());
}

/* ---- index wrap-around ---- */

static void test_index_wraps(void **state)
{
    (void)state;
    /* 70000 requests: avail and used indices wrap past 65535 */
    for (unsigned i = 0; i < 70000; i++) {
        uint64_t st = request((uint16_t)((i % 5) * 3), VIRTIO_BLK_T_IN, i % DISK_SECTORS, rq(DATA_PAGE, 0), 512, true);
        notify();
        assert_int_equal(w.ram[st], VIRTIO_BLK_S_OK);
    }
    assert_int_equal(used()->idx, (uint16_t)70000);
    assert_int_equal(w.dev.st.read, 70000);
    assert_false(needs_reset());
}

/* ---- the canary ---- */

static void test_canary_in_read_buffer(void **state)
{
    (void)state;
    uint64_t data = rq(DATA_PAGE + 1, 0);
    memcpy(w.ram + data + 100, "BOUNCE-CANARY:0123456789abcdefgh", 32);
    uint64_t st = request(0, VIRTIO_BLK_T_IN, 0, data, 1024, true);
    notify();
    assert_int_equal(w.ram[st], VIRTIO_BLK_S_OK);
    assert_int_equal(w.canary.found, 1);
    assert_int_equal(w.canary.where[0].gpa, data + 100);
    assert_int_equal(w.canary.where[0].when, CANARY_IN_REQUEST);
    assert_int_equal(w.canary.where[0].request, 1);
    /* overwritten by the read: a second read of the same buffer finds nothing */
    request(3, VIRTIO_BLK_T_IN, 0, data, 1024, true);
    notify();
    assert_int_equal(w.canary.found, 1);
}

static bool ignore_at_200(void *ctx, uint64_t gpa)
{
    (void)ctx;
    return gpa == 200;
}

static void test_canary_scan(void **state)
{
    (void)state;
    static uint8_t buf[3 * PAGE_SIZE];
    struct canary_log log = {0};
    memset(buf, 'B', sizeof(buf)); /* lots of near misses */
    assert_int_equal(canary_scan(&log, buf, sizeof(buf), 0, CANARY_AT_EXIT, 0), 0);
    memcpy(buf + PAGE_SIZE - 7, CANARY_PREFIX, CANARY_PREFIX_LEN);                   /* across a page boundary */
    memcpy(buf + 0, CANARY_PREFIX, CANARY_PREFIX_LEN);                               /* at the start */
    memcpy(buf + sizeof(buf) - CANARY_PREFIX_LEN, CANARY_PREFIX, CANARY_PREFIX_LEN); /* at the very end */
    memcpy(buf + 200, "BOUNCE-CANARY", 13);                                          /* 13 bytes only */
    assert_int_equal(canary_scan(&log, buf, sizeof(buf), 0x10000, CANARY_AT_EXIT, 0), 3);
    assert_int_equal(log.where[0].gpa, 0x10000);
    assert_int_equal(log.where[1].gpa, 0x10000 + PAGE_SIZE - 7);
    assert_int_equal(log.where[2].gpa, 0x10000 + sizeof(buf) - CANARY_PREFIX_LEN);
    /* a buffer shorter than the prefix, and one cut in the middle of it */
    assert_int_equal(canary_scan(&log, buf, 5, 0, CANARY_AT_EXIT, 0), 0);
    assert_int_equal(canary_scan(&log, buf, CANARY_PREFIX_LEN - 1, 0, CANARY_AT_EXIT, 0), 0);
    /* at most CANARY_MAX_WHERE are recorded, all are counted */
    static uint8_t many[64 * 32];
    for (int i = 0; i < 64; i++)
        memcpy(many + 32 * i, CANARY_PREFIX, CANARY_PREFIX_LEN);
    struct canary_log l2 = {0};
    assert_int_equal(canary_scan(&l2, many, sizeof(many), 0, CANARY_AT_EXIT, 0), 64);
    assert_int_equal(l2.found, 64);
    assert_int_equal(l2.nwhere, CANARY_MAX_WHERE);
    /* the ignore hook (the image's own constant) */
    struct canary_log l3 = {.ignore = ignore_at_200};
    memset(buf, 0, sizeof(buf));
    memcpy(buf + 200, CANARY_PREFIX, CANARY_PREFIX_LEN);
    memcpy(buf + 300, CANARY_PREFIX, CANARY_PREFIX_LEN);
    assert_int_equal(canary_scan(&l3, buf, sizeof(buf), 0, CANARY_AT_EXIT, 0), 1);
    assert_int_equal(l3.ignored, 1);
    assert_int_equal(l3.where[0].gpa, 300);
}

/* ---- guest memory bookkeeping ---- */

static void test_guestmem(void **state)
{
    (void)state;
    uint64_t bits[4] = {0};
    struct guest_mem gm = {NULL, 200 * PAGE_SIZE, bits};
    assert_true(gm_in_ram(&gm, 0, 200 * PAGE_SIZE));
    assert_false(gm_in_ram(&gm, 1, 200 * PAGE_SIZE));
    assert_false(gm_in_ram(&gm, UINT64_MAX, 2));
    assert_false(gm_in_ram(&gm, PAGE_SIZE, UINT64_MAX));
    assert_true(gm_in_ram(&gm, 200 * PAGE_SIZE, 0));
    assert_false(gm_is_shared(&gm, 0, 1));
    assert_true(gm_is_shared(&gm, 0, 0));
    gm_set_pages(&gm, 60, 80, true); /* pages 60..139: across words */
    assert_true(gm_is_shared(&gm, 60 * PAGE_SIZE, 80 * PAGE_SIZE));
    assert_false(gm_is_shared(&gm, 60 * PAGE_SIZE - 1, 2));
    assert_false(gm_is_shared(&gm, 60 * PAGE_SIZE, 80 * PAGE_SIZE + 1));
    assert_true(gm_is_shared(&gm, 64 * PAGE_SIZE, 64 * PAGE_SIZE)); /* exactly one whole word */
    assert_int_equal(gm_count_shared(&gm), 80);
    gm_set_pages(&gm, 100, 1, false);
    assert_false(gm_is_shared(&gm, 60 * PAGE_SIZE, 80 * PAGE_SIZE));
    uint64_t p = 0, n;
    assert_true(gm_next_run(&gm, true, &p, &n));
    assert_int_equal(p, 60);
    assert_int_equal(n, 40);
    p += n;
    assert_true(gm_next_run(&gm, true, &p, &n));
    assert_int_equal(p, 101);
    assert_int_equal(n, 39);
    p += n;
    assert_false(gm_next_run(&gm, true, &p, &n));
    assert_true(gm_shared_ptr(&gm, 101 * PAGE_SIZE, 10) == (void *)(101 * PAGE_SIZE));
    assert_null(gm_shared_ptr(&gm, 100 * PAGE_SIZE, 10));
    assert_false(gm_page_shared(&gm, 5000));
}

static void test_random_against_shared_bitmap(void **state)
{
    (void)state;
    struct rng r = rng_begin();
    uint64_t bits[4];
    struct guest_mem gm = {NULL, 256 * PAGE_SIZE, bits};
    for (int round = 0; round < 2000; round++) {
        bool model[256];
        for (int i = 0; i < 256; i++) {
            model[i] = rng_one_in(&r, 8) ? false : true;
            gm_set_pages(&gm, (uint64_t)i, 1, model[i]);
        }
        uint64_t gpa = rng_below(&r, 256 * PAGE_SIZE + 100), len = rng_below(&r, 64 * PAGE_SIZE);
        bool expect = gpa + len <= 256 * PAGE_SIZE;
        if (expect && len)
            for (uint64_t q = gpa / PAGE_SIZE; q <= (gpa + len - 1) / PAGE_SIZE; q++)
                expect = expect && model[q];
        RAND_ASSERT(gm_is_shared(&gm, gpa, len) == expect);
    }
}

/* ---- KVM_HC_MAP_GPA_RANGE arguments ---- */

static void test_mapgpa(void **state)
{
    (void)state;
    const uint64_t ram = 512ull << 20;
    struct mapgpa_req q;
    assert_int_equal(mapgpa_check(ram, 0x200000, 16, 0, &q), MAPGPA_OK);
    assert_false(q.to_private);
    assert_int_equal(mapgpa_check(ram, 0x200000, 512, KVM_MAP_GPA_RANGE_ENCRYPTED | KVM_MAP_GPA_RANGE_PAGE_SZ_2M, &q),
                     MAPGPA_OK);
    assert_true(q.to_private);
    assert_int_equal(q.npages, 512);
    assert_int_equal(mapgpa_check(ram, ram - PAGE_SIZE, 1, 0, &q), MAPGPA_OK);
    assert_int_equal(mapgpa_check(ram, 0x200001, 1, 0, &q), MAPGPA_MISALIGNED);
    assert_int_equal(mapgpa_check(ram, 0x200000, 0, 0, &q), MAPGPA_NO_PAGES);
    assert_int_equal(mapgpa_check(ram, ram - PAGE_SIZE, 2, 0, &q), MAPGPA_OUTSIDE_RAM);
    assert_int_equal(mapgpa_check(ram, ram, 1, 0, &q), MAPGPA_OUTSIDE_RAM);
    assert_int_equal(mapgpa_check(ram, 0xd0000000, 1, 0, &q), MAPGPA_OUTSIDE_RAM); /* the virtio-mmio window */
    assert_int_equal(mapgpa_check(ram, 0x1000, UINT64_MAX / PAGE_SIZE, 0, &q), MAPGPA_WRAPS);
    assert_int_equal(mapgpa_check(ram, 0xfffffffffffff000ull, 2, 0, &q), MAPGPA_WRAPS);
    assert_int_equal(mapgpa_check(ram, 0, UINT64_MAX, 0, &q), MAPGPA_WRAPS);
    assert_int_equal(mapgpa_check(ram, 0x9e000, 2, 0, &q), MAPGPA_NOT_RAM);
    assert_int_equal(mapgpa_check(ram, 0xff000, 1, 0, &q), MAPGPA_NOT_RAM);
    assert_int_equal(mapgpa_check(ram, 0x9e000, 1, 0, &q), MAPGPA_OK);
    assert_int_equal(mapgpa_check(ram, 0x100000, 1, 0, &q), MAPGPA_OK);
    assert_int_equal(mapgpa_check(ram, 0x200000, 1, 1u << 5, &q), MAPGPA_BAD_ATTRS);
    assert_int_equal(mapgpa_check(ram, 0x200000, 1, 3, &q), MAPGPA_BAD_ATTRS);
    assert_int_equal(mapgpa_check(ram, 0x200000, 1, 1ull << 63, &q), MAPGPA_BAD_ATTRS);
    for (int e = MAPGPA_OK; e <= MAPGPA_BAD_ATTRS; e++)
        assert_string_not_equal(mapgpa_err_name((enum mapgpa_err)e), "?");
}

/* ---- randomized: scatter-gather reads and writes against a model disk ---- */

static void test_random_requests(void **state)
{
    (void)state;
    struct rng r = rng_begin();
    static uint8_t model[DISK_SECTORS * 512];
    memcpy(model, w.disk, sizeof(model));
    for (int round = 0; round < 3000; round++) {
        unsigned sectors = 1 + (unsigned)rng_below(&r, 8);
        uint64_t sector = rng_below(&r, DISK_SECTORS - sectors + 1);
        bool write = rng_one_in(&r, 2);
        /* cut the data into 1..4 pieces at random 512-byte or odd boundaries (pieces need not be sectors) */
        unsigned npieces = 1 + (unsigned)rng_below(&r, 4);
        uint32_t total = sectors * 512, cut[5] = {0};
        for (unsigned i = 1; i < npieces; i++)
            cut[i] = (uint32_t)rng_below(&r, total + 1);
        cut[npieces] = total;
        for (unsigned i = 1; i < npieces; i++) /* sort */
            for (unsigned j = i + 1; j < npieces; j++)
                if (cut[j] < cut[i]) {
                    uint32_t t = cut[i];
                    cut[i] = cut[j];
                    cut[j] = t;
                }
        uint16_t d = 0;
        uint64_t hdr = rq(HDR_PAGE, 0), st = rq(HDR_PAGE, 64);
        put_hdr(hdr, write ? VIRTIO_BLK_T_OUT : VIRTIO_BLK_T_IN, sector);
        put_desc(d, hdr, 16, VIRTQ_DESC_F_NEXT, (uint16_t)(d + 1));
        d++;
        uint64_t base = rq(DATA_PAGE, rng_below(&r, PAGE_SIZE)); /* data in pages 4..: 8 sectors + 4 KiB fit */
        if (write)
            for (uint32_t i = 0; i < total; i++)
                w.ram[base + i] = (uint8_t)rng_next(&r);
        for (unsigned i = 0; i < npieces; i++) {
            put_desc(d, base + cut[i], cut[i + 1] - cut[i], VIRTQ_DESC_F_NEXT | (write ? 0 : VIRTQ_DESC_F_WRITE),
                     (uint16_t)(d + 1));
            d++;
        }
        put_desc(d, st, 1, VIRTQ_DESC_F_WRITE, 0);
        w.ram[st] = 0xff;
        publish(0);
        notify();
        RAND_ASSERT(w.ram[st] == VIRTIO_BLK_S_OK);
        if (write)
            memcpy(model + sector * 512, w.ram + base, total);
        else
            RAND_ASSERT(memcmp(w.ram + base, model + sector * 512, total) == 0);
        RAND_ASSERT(last_used().len == (write ? 1 : total + 1));
    }
    assert_memory_equal(w.disk, model, sizeof(model));
    assert_false(needs_reset());
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_registers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_features_ok_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_flush_id_unsupported, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_only_and_io_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_used_len_of_a_read_that_fails_midway, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_sector_delivers_the_sectors_before_it, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_lengths_and_sectors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_header_split_across_descriptors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refuse_private_data, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refuse_private_status, setup, teardown),
        cmocka_unit_test_setup_teardown(test_refuse_private_ring, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ring_outside_ram, setup, teardown),
        cmocka_unit_test_setup_teardown(test_chain_loop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_chain_next_out_of_range, setup, teardown),
        cmocka_unit_test_setup_teardown(test_head_out_of_range, setup, teardown),
        cmocka_unit_test_setup_teardown(test_avail_idx_jump, setup, teardown),
        cmocka_unit_test_setup_teardown(test_indirect_and_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_descriptor_outside_ram, setup, teardown),
        cmocka_unit_test_setup_teardown(test_index_wraps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_canary_in_read_buffer, setup, teardown),
        cmocka_unit_test(test_canary_scan),
        cmocka_unit_test(test_guestmem),
        cmocka_unit_test(test_random_against_shared_bitmap),
        cmocka_unit_test(test_mapgpa),
        cmocka_unit_test_setup_teardown(test_random_requests, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
