/* SPDX-License-Identifier: MIT */
/* test_virtqueue.c - the split virtqueue (drivers/virtqueue.c) against a fake device.
 *
 * The test plays the device: it reads the available ring and the descriptor table the way a
 * device does, and writes used entries - correct ones, and every kind of malformed one. */
#include "tests/host/host_test.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "drivers/virtqueue.h"
#include "lib/units.h"

/* ---- a queue with its memory ---- */

struct tq {
    struct virtqueue vq;
    void *ring, *priv;
    struct vq_layout l;
    /* the fake device */
    uint16_t dev_avail; /* next avail entry the device reads */
    uint16_t dev_used;  /* next used entry the device writes */
};

static void tq_open(struct tq *t, uint32_t size, uint16_t start)
{
    memset(t, 0, sizeof(*t));
    assert_int_equal(vq_layout(size, &t->l), 0);
    t->ring = aligned_alloc(16, (t->l.total + 15) & ~(size_t)15);
    t->priv = aligned_alloc(8, (vq_priv_bytes(size) + 7) & ~(size_t)7);
    assert_non_null(t->ring);
    assert_non_null(t->priv);
    memset(t->ring, 0xa5, t->l.total); /* vq_init must clear it */
    uint8_t *r = t->ring;
    assert_int_equal(vq_init(&t->vq, size, r + t->l.desc_off, r + t->l.avail_off, r + t->l.used_off, t->priv), 0);
    if (start)
        vq_set_start_index(&t->vq, start);
    t->dev_avail = t->dev_used = start;
}

static void tq_close(struct tq *t)
{
    free(t->ring);
    free(t->priv);
}

static void tq_check(struct tq *t)
{
    char why[160] = "";
    if (vq_check(&t->vq, why, sizeof(why)) != 0)
        fail_msg("vq_check: %s", why);
}

/* Device: take the next available chain; returns its head and fills the writable byte count. */
static bool dev_next(struct tq *t, uint16_t *head, uint32_t *writable, unsigned *ndesc)
{
    uint16_t idx = t->vq.avail->idx;
    if (idx == t->dev_avail)
        return false;
    uint16_t h = t->vq.avail->ring[t->dev_avail & t->vq.mask];
    t->dev_avail++;
    uint32_t w = 0;
    unsigned n = 0;
    uint16_t d = h;
    for (;;) {
        assert_true(d < t->vq.size);
        const struct virtq_desc *desc = &t->vq.desc[d];
        n++;
        assert_true(n <= t->vq.size);
        if (desc->flags & VIRTQ_DESC_F_WRITE)
            w += desc->len;
        if (!(desc->flags & VIRTQ_DESC_F_NEXT))
            break;
        d = desc->next;
    }
    *head = h;
    *writable = w;
    if (ndesc)
        *ndesc = n;
    return true;
}

/* Device: write a used entry (anything) and publish it. */
static void dev_used(struct tq *t, uint32_t id, uint32_t len)
{
    struct virtq_used_elem *e = &t->vq.used->ring[t->dev_used & t->vq.mask];
    e->id = id;
    e->len = len;
    t->dev_used++;
    __atomic_store_n(&t->vq.used->idx, t->dev_used, __ATOMIC_RELEASE);
}

static int add_simple(struct tq *t, uint32_t data, bool read, void *token)
{
    struct vq_buf b[3] = {
        {0x1000, 16, false},
        {0x20000, data, read},
        {0x3000, 1, true},
    };
    return vq_add(&t->vq, b, 3, token);
}

/* ---- tests ---- */

static void test_layout(void **state)
{
    (void)state;
    struct vq_layout l;
    assert_int_equal(vq_layout(256, &l), 0);
    assert_int_equal(l.desc_off, 0);
    assert_int_equal(l.avail_off, 16 * 256);
    assert_int_equal(l.used_off % 4, 0);
    assert_true(l.used_off >= l.avail_off + 6 + 2 * 256);
    assert_int_equal(l.total, l.used_off + 6 + 8 * 256);
    assert_int_equal(vq_layout(1, &l), 0);
    assert_int_equal(vq_layout(32768, &l), 0);
    assert_int_equal(vq_layout(0, &l), -1);
    assert_int_equal(vq_layout(3, &l), -1);
    assert_int_equal(vq_layout(65536, &l), -1);
    /* Misaligned parts are refused. */
    struct virtqueue vq;
    uint8_t *mem = aligned_alloc(16, 8192), *priv = aligned_alloc(8, vq_priv_bytes(16) + 8);
    assert_int_equal(vq_init(&vq, 16, mem + 8, mem + 512, mem + 1024, priv), -1);
    assert_int_equal(vq_init(&vq, 16, mem, mem + 513, mem + 1024, priv), -1);
    assert_int_equal(vq_init(&vq, 16, mem, mem + 512, mem + 1026, priv), -1);
    assert_int_equal(vq_init(&vq, 12, mem, mem + 512, mem + 1024, priv), -1);
    assert_int_equal(vq_init(&vq, 16, mem, mem + 512, mem + 1024, priv), 0);
    assert_int_equal(vq_num_free(&vq), 16);
    assert_int_equal(vq.avail->flags, VIRTQ_AVAIL_F_NO_INTERRUPT);
    free(mem);
    free(priv);
}

static void test_cycle(void **state)
{
    (void)state;
    struct tq t;
    tq_open(&t, 8, 0);
    int token;
    int head = add_simple(&t, PAGE_SIZE, true, &token);
    assert_true(head >= 0 && head < 8);
    assert_int_equal(vq_num_free(&t.vq), 5);
    assert_int_equal(vq_chains_outstanding(&t.vq), 1);
    /* Not visible before publish. */
    assert_int_equal(t.vq.avail->idx, 0);
    tq_check(&t);
    struct vq_used_info u;
    /* A completion of an unpublished chain is a violation; checked elsewhere. Publish: */
    assert_true(vq_publish(&t.vq));
    assert_int_equal(t.vq.avail->idx, 1);
    assert_false(vq_publish(&t.vq)); /* nothing new */
    /* The descriptors as a device sees them. */
    const struct virtq_desc *d0 = &t.vq.desc[head];
    assert_int_equal(d0->addr, 0x1000);
    assert_int_equal(d0->len, 16);
    assert_int_equal(d0->flags, VIRTQ_DESC_F_NEXT);
    const struct virtq_desc *d1 = &t.vq.desc[d0->next];
    assert_int_equal(d1->addr, 0x20000);
    assert_int_equal(d1->len, PAGE_SIZE);
    assert_int_equal(d1->flags, VIRTQ_DESC_F_NEXT | VIRTQ_DESC_F_WRITE);
    const struct virtq_desc *d2 = &t.vq.desc[d1->next];
    assert_int_equal(d2->addr, 0x3000);
    assert_int_equal(d2->len, 1);
    assert_int_equal(d2->flags, VIRTQ_DESC_F_WRITE);
    assert_int_equal(vq_get_used(&t.vq, &u), 0);
    assert_false(vq_has_used(&t.vq));

    uint16_t h;
    uint32_t w;
    unsigned n;
    assert_true(dev_next(&t, &h, &w, &n));
    assert_int_equal(h, head);
    assert_int_equal(w, 4097);
    assert_int_equal(n, 3);
    dev_used(&t, h, 4097);
    assert_true(vq_has_used(&t.vq));
    assert_int_equal(vq_get_used(&t.vq, &u), 1);
    assert_int_equal(u.head, head);
    assert_int_equal(u.len, 4097);
    assert_int_equal(u.count, 3);
    assert_ptr_equal(u.token, &token);
    assert_int_equal(vq_num_free(&t.vq), 8);
    assert_int_equal(vq_chains_outstanding(&t.vq), 0);
    assert_int_equal(vq_get_used(&t.vq, &u), 0);
    tq_check(&t);

    /* A write: data device-readable. */
    head = add_simple(&t, 512, false, &token);
    assert_true(vq_publish(&t.vq));
    assert_true(dev_next(&t, &h, &w, &n));
    assert_int_equal(w, 1);
    dev_used(&t, h, 1);
    assert_int_equal(vq_get_used(&t.vq, &u), 1);
    assert_int_equal(u.head, head);
    tq_check(&t);
    tq_close(&t);
}

static void test_notify_suppression(void **state)
{
    (void)state;
    struct tq t;
    tq_open(&t, 4, 0);
    t.vq.used->flags = VIRTQ_USED_F_NO_NOTIFY;
    assert_true(add_simple(&t, 512, true, NULL) >= 0);
    assert_false(vq_publish(&t.vq));
    assert_int_equal(t.vq.avail->idx, 1); /* published all the same */
    t.vq.used->flags = 0;
    tq_close(&t);
}

/* The event-index test (2.7.10) against a model that walks the indices: does moving from old to
 * new_idx pass event? Every distance up to 300, across the 16-bit wrap too. */
static void test_need_event_model(void **state)
{
    (void)state;
    static const uint16_t starts[] = {0, 1, 100, 65500, 65535};
    for (size_t k = 0; k < sizeof(starts) / sizeof(starts[0]); k++)
        for (uint16_t dist = 0; dist < 300; dist++)
            for (uint16_t off = 0; off < 320; off += 7) {
                uint16_t old = starts[k], new_idx = (uint16_t)(old + dist), event = (uint16_t)(old + off - 10);
                bool passed = false;
                for (uint16_t i = old; i != new_idx; i++)
                    passed |= i == event;
                assert_int_equal(virtq_need_event(event, new_idx, old) != 0, passed);
            }
}

/* With EVENT_IDX the device's avail_event decides, not used->flags: notify only when the newly
 * published chains pass it. */
static void test_event_idx_notifications(void **state)
{
    (void)state;
    struct tq t;
    tq_open(&t, 16, 0); /* three descriptors a chain */
    vq_set_event_idx(&t.vq, true);
    uint16_t *avail_event = (uint16_t *)(void *)&t.vq.used->ring[t.vq.size];
    t.vq.used->flags = VIRTQ_USED_F_NO_NOTIFY; /* ignored with EVENT_IDX */
    *avail_event = 0;
    assert_true(add_simple(&t, 512, true, NULL) >= 0);
    assert_true(vq_publish(&t.vq)); /* 0 -> 1 passes 0 */
    *avail_event = 5;               /* the device will look by itself until 5 */
    assert_true(add_simple(&t, 512, true, NULL) >= 0);
    assert_true(add_simple(&t, 512, true, NULL) >= 0);
    assert_false(vq_publish(&t.vq)); /* 1 -> 3 does not pass 5 */
    *avail_event = 3;
    assert_true(add_simple(&t, 512, true, NULL) >= 0);
    assert_true(vq_publish(&t.vq)); /* 3 -> 4 passes 3 */
    tq_close(&t);
}

/* With EVENT_IDX, asking for interrupts writes used_event (flags stay 0); after a reap, vq_rearm
 * moves it to the next entry, and reports an entry that came in before the move. */
static void test_event_idx_interrupts(void **state)
{
    (void)state;
    struct tq t;
    tq_open(&t, 16, 0); /* three descriptors a chain */
    vq_set_event_idx(&t.vq, true);
    uint16_t *used_event = &t.vq.avail->ring[t.vq.size];
    vq_set_interrupts(&t.vq, false);
    assert_int_equal(t.vq.avail->flags, 0);
    assert_int_equal(*used_event, 0xffff); /* as far away as the index allows */
    assert_false(vq_rearm(&t.vq));         /* off: nothing moves */
    assert_int_equal(*used_event, 0xffff);
    vq_set_interrupts(&t.vq, true);
    assert_int_equal(*used_event, 0); /* at the next entry */
    for (int i = 0; i < 3; i++)
        assert_true(add_simple(&t, 512, true, NULL) >= 0);
    vq_publish(&t.vq);
    uint16_t head;
    uint32_t w;
    struct vq_used_info u;
    assert_true(dev_next(&t, &head, &w, NULL));
    dev_used(&t, head, 0);
    assert_int_equal(vq_get_used(&t.vq, &u), 1);
    assert_false(vq_rearm(&t.vq)); /* nothing more: the next interrupt comes at entry 1 */
    assert_int_equal(*used_event, 1);
    assert_true(dev_next(&t, &head, &w, NULL));
    dev_used(&t, head, 0); /* written before the driver rearms: it must look again */
    assert_true(vq_rearm(&t.vq));
    assert_int_equal(vq_get_used(&t.vq, &u), 1);
    assert_false(vq_rearm(&t.vq));
    assert_int_equal(*used_event, 2);
    tq_check(&t);
    tq_close(&t);
}

/* Several in flight, batched publish, out-of-order completion. */
static void test_out_of_order(void **state)
{
    (void)state;
    struct tq t;
    tq_open(&t, 16, 0);
    int tokens[5], heads[5];
    for (int i = 0; i < 5; i++)
        heads[i] = add_simple(&t, 512 * (i + 1), true, &tokens[i]);
    assert_int_equal(vq_num_free(&t.vq), 1);
    assert_int_equal(add_simple(&t, 512, true, NULL), -VQ_ERR_FULL);
    assert_true(vq_publish(&t.vq));
    assert_int_equal(t.vq.avail->idx, 5);
    uint16_t h[5];
    uint32_t w[5];
    for (int i = 0; i < 5; i++) {
        assert_true(dev_next(&t, &h[i], &w[i], NULL));
        assert_int_equal(h[i], heads[i]);
    }
    int order[5] = {3, 0, 4, 2, 1};
    for (int i = 0; i < 5; i++)
        dev_used(&t, h[order[i]], w[order[i]]);
    for (int i = 0; i < 5; i++) {
        struct vq_used_info u;
        assert_int_equal(vq_get_used(&t.vq, &u), 1);
        assert_int_equal(u.head, heads[order[i]]);
        assert_ptr_equal(u.token, &tokens[order[i]]);
        assert_int_equal(u.len, 512 * (order[i] + 1) + 1);
        tq_check(&t);
    }
    assert_int_equal(vq_num_free(&t.vq), 16);
    tq_close(&t);
}

/* Free-running 16-bit indices across 65535 -> 0. */
static void test_wraparound(void **state)
{
    (void)state;
    struct tq t;
    tq_open(&t, 4, 65530);
    for (int round = 0; round < 40; round++) {
        int a = add_simple(&t, 512, true, (void *)(uintptr_t)(round + 1));
        assert_true(a >= 0);
        assert_true(vq_publish(&t.vq));
        assert_int_equal(t.vq.avail->idx, (uint16_t)(65530 + round + 1));
        uint16_t h;
        uint32_t w;
        assert_true(dev_next(&t, &h, &w, NULL));
        dev_used(&t, h, w);
        struct vq_used_info u;
        assert_int_equal(vq_get_used(&t.vq, &u), 1);
        assert_ptr_equal(u.token, (void *)(uintptr_t)(round + 1));
        assert_int_equal(vq_get_used(&t.vq, &u), 0);
        tq_check(&t);
    }
    assert_int_equal(t.vq.last_used, (uint16_t)(65530 + 40));
    tq_close(&t);

    /* With chains in flight across the wrap, and the idx check across it. */
    tq_open(&t, 8, 65534);
    uint16_t h[4];
    uint32_t w[4];
    for (int i = 0; i < 4; i++) {
        struct vq_buf b[2] = {{0x1000, 16, false}, {0x2000, 8, true}};
        assert_true(vq_add(&t.vq, b, 2, (void *)(uintptr_t)(i + 1)) >= 0);
    }
    vq_publish(&t.vq);
    assert_int_equal(t.vq.avail->idx, 2);
    for (int i = 0; i < 4; i++)
        assert_true(dev_next(&t, &h[i], &w[i], NULL));
    for (int i = 0; i < 4; i++)
        dev_used(&t, h[i], w[i]);
    assert_int_equal(t.vq.used->idx, 2);
    for (int i = 0; i < 4; i++) {
        struct vq_used_info u;
        assert_int_equal(vq_get_used(&t.vq, &u), 1);
        assert_ptr_equal(u.token, (void *)(uintptr_t)(i + 1));
    }
    tq_check(&t);
    tq_close(&t);
}

static void test_exhaustion_and_invalid(void **state)
{
    (void)state;
    struct tq t;
    tq_open(&t, 8, 0);
    struct vq_buf one = {0x1000, 512, true};
    for (int i = 0; i < 8; i++)
        assert_true(vq_add(&t.vq, &one, 1, NULL) >= 0);
    assert_int_equal(vq_num_free(&t.vq), 0);
    assert_int_equal(vq_add(&t.vq, &one, 1, NULL), -VQ_ERR_FULL);
    tq_check(&t);
    vq_publish(&t.vq);
    uint16_t h;
    uint32_t w;
    assert_true(dev_next(&t, &h, &w, NULL));
    dev_used(&t, h, w);
    struct vq_used_info u;
    assert_int_equal(vq_get_used(&t.vq, &u), 1);
    assert_int_equal(vq_num_free(&t.vq), 1);
    assert_int_equal(vq_add(&t.vq, &one, 1, NULL), h); /* the freed descriptor is reused */
    tq_check(&t);
    tq_close(&t);

    tq_open(&t, 8, 0);
    struct vq_buf bad_order[2] = {{0x1000, 1, true}, {0x2000, 16, false}};
    assert_int_equal(vq_add(&t.vq, bad_order, 2, NULL), -VQ_ERR_INVALID);
    struct vq_buf zero[1] = {{0x1000, 0, false}};
    assert_int_equal(vq_add(&t.vq, zero, 1, NULL), -VQ_ERR_INVALID);
    assert_int_equal(vq_add(&t.vq, zero, 0, NULL), -VQ_ERR_INVALID);
    struct vq_buf huge[2] = {{0x1000, 0x80000000u, false}, {0x2000, 0x80000000u, true}};
    assert_int_equal(vq_add(&t.vq, huge, 2, NULL), -VQ_ERR_INVALID); /* > 2^32 - 1 bytes in total */
    struct vq_buf nine[9];
    for (int i = 0; i < 9; i++)
        nine[i] = (struct vq_buf){0x1000, 512, false};
    assert_int_equal(vq_add(&t.vq, nine, 9, NULL), -VQ_ERR_INVALID); /* longer than the ring */
    assert_int_equal(vq_num_free(&t.vq), 8);
    assert_int_equal(vq_add(&t.vq, nine, 8, NULL), 0); /* exactly the ring */
    assert_int_equal(vq_add(&t.vq, nine, 1, NULL), -VQ_ERR_FULL);
    tq_check(&t);
    tq_close(&t);
}

/* A device scribbling over the descriptor table and the available ring after they were
 * published changes nothing: the driver never reads them back. */
static void test_scribbled_descriptors(void **state)
{
    (void)state;
    struct tq t;
    tq_open(&t, 8, 0);
    int a = add_simple(&t, PAGE_SIZE, true, (void *)1);
    int b = add_simple(&t, 512, false, (void *)2);
    vq_publish(&t.vq);
    uint16_t h;
    uint32_t w;
    assert_true(dev_next(&t, &h, &w, NULL));
    assert_true(dev_next(&t, &h, &w, NULL));
    for (int i = 0; i < 8; i++) {
        t.vq.desc[i].next = 0xffff;
        t.vq.desc[i].flags = 0xffff;
        t.vq.desc[i].len = 0xffffffff;
        t.vq.avail->ring[i] = 0x7777;
    }
    t.vq.avail->idx = 0x4242;
    dev_used(&t, (uint32_t)b, 1);
    dev_used(&t, (uint32_t)a, 4097);
    struct vq_used_info u;
    assert_int_equal(vq_get_used(&t.vq, &u), 1);
    assert_ptr_equal(u.token, (void *)2);
    assert_int_equal(vq_get_used(&t.vq, &u), 1);
    assert_ptr_equal(u.token, (void *)1);
    assert_int_equal(vq_num_free(&t.vq), 8);
    tq_check(&t);
    tq_close(&t);
}

/* ---- malformed used entries: each rejected, nothing completed or freed, queue broken ---- */

struct bad_case {
    const char *name;
    enum vq_error expect;
};

/* Two requests in flight (heads a, b; a is 3 descriptors, 4097 writable bytes), one more added
 * but not published (head c). */
static void setup_three(struct tq *t, int *a, int *b, int *c)
{
    tq_open(t, 16, 65533);
    *a = add_simple(t, PAGE_SIZE, true, (void *)1);
    *b = add_simple(t, 512, false, (void *)2);
    vq_publish(&t->vq);
    *c = add_simple(t, 1024, true, (void *)3);
    uint16_t h;
    uint32_t w;
    assert_true(dev_next(t, &h, &w, NULL));
    assert_true(dev_next(t, &h, &w, NULL));
    assert_false(dev_next(t, &h, &w, NULL));
}

static void expect_rejected(struct tq *t, enum vq_error e)
{
    uint32_t free_before = vq_num_free(&t->vq), out_before = vq_chains_outstanding(&t->vq);
    struct vq_used_info u = {.token = (void *)0xdead};
    assert_int_equal(vq_get_used(&t->vq, &u), -(int)e);
    assert_ptr_equal(u.token, (void *)0xdead); /* nothing handed out */
    assert_true(t->vq.broken);
    assert_int_equal(t->vq.error, e);
    assert_int_equal(vq_num_free(&t->vq), free_before);
    assert_int_equal(vq_chains_outstanding(&t->vq), out_before);
    char msg[200];
    vq_describe_error(&t->vq, msg, sizeof(msg));
    assert_true(strlen(msg) > 10);
    tq_check(t);
    /* Broken for good: even a correct entry now completes nothing; adds refused. */
    assert_int_equal(vq_get_used(&t->vq, &u), -VQ_ERR_BROKEN);
    assert_int_equal(add_simple(t, 512, true, NULL), -VQ_ERR_BROKEN);
    /* After a (pretend) device reset every chain comes back exactly once. */
    void *tok;
    int got = 0, seen[4] = {0};
    while (vq_detach_one(&t->vq, &tok)) {
        assert_true((uintptr_t)tok >= 1 && (uintptr_t)tok <= 3);
        assert_int_equal(seen[(uintptr_t)tok], 0);
        seen[(uintptr_t)tok] = 1;
        got++;
    }
    assert_int_equal(got, (int)out_before);
    assert_int_equal(vq_num_free(&t->vq), t->vq.size);
    tq_close(t);
}

static void test_bad_id_out_of_range(void **state)
{
    (void)state;
    struct tq t;
    int a, b, c;
    setup_three(&t, &a, &b, &c);
    dev_used(&t, 16, 1);
    expect_rejected(&t, VQ_ERR_ID_RANGE);
    setup_three(&t, &a, &b, &c);
    dev_used(&t, 0xffffffffu, 1);
    expect_rejected(&t, VQ_ERR_ID_RANGE);
    setup_three(&t, &a, &b, &c);
    dev_used(&t, 0x10000u + (uint32_t)a, 1); /* would alias a valid head if truncated to 16 bits */
    expect_rejected(&t, VQ_ERR_ID_RANGE);
}

static void test_bad_id_free(void **state)
{
    (void)state;
    struct tq t;
    int a, b, c;
    setup_three(&t, &a, &b, &c);
    dev_used(&t, 15, 1); /* descriptors 0..8 are in use, 15 is free */
    expect_rejected(&t, VQ_ERR_ID_FREE);
}

static void test_bad_id_body(void **state)
{
    (void)state;
    struct tq t;
    int a, b, c;
    setup_three(&t, &a, &b, &c);
    dev_used(&t, t.vq.desc[a].next, 1); /* the data descriptor of chain a */
    expect_rejected(&t, VQ_ERR_ID_BODY);
}

static void test_bad_id_unpublished(void **state)
{
    (void)state;
    struct tq t;
    int a, b, c;
    setup_three(&t, &a, &b, &c);
    dev_used(&t, (uint32_t)c, 1); /* added but never made available */
    expect_rejected(&t, VQ_ERR_ID_UNPUBLISHED);
}

static void test_bad_len(void **state)
{
    (void)state;
    struct tq t;
    int a, b, c;
    setup_three(&t, &a, &b, &c);
    dev_used(&t, (uint32_t)a, 4098); /* one more than the 4097 writable bytes */
    expect_rejected(&t, VQ_ERR_LEN);
    setup_three(&t, &a, &b, &c);
    dev_used(&t, (uint32_t)b, 2); /* a write: only the status byte is writable */
    expect_rejected(&t, VQ_ERR_LEN);
    setup_three(&t, &a, &b, &c);
    dev_used(&t, (uint32_t)a, 0xffffffffu);
    expect_rejected(&t, VQ_ERR_LEN);
    /* exactly the writable length is fine */
    setup_three(&t, &a, &b, &c);
    dev_used(&t, (uint32_t)a, 4097);
    struct vq_used_info u;
    assert_int_equal(vq_get_used(&t.vq, &u), 1);
    tq_close(&t);
}

static void test_bad_idx_jump(void **state)
{
    (void)state;
    struct tq t;
    int a, b, c;
    setup_three(&t, &a, &b, &c);
    /* Two in flight: idx may advance by 2, not 3 - even if the entries look valid. */
    t.vq.used->ring[(uint16_t)(65533) & 15] = (struct virtq_used_elem){(uint32_t)a, 1};
    t.vq.used->ring[(uint16_t)(65534) & 15] = (struct virtq_used_elem){(uint32_t)b, 1};
    t.vq.used->idx = (uint16_t)(65533 + 3);
    expect_rejected(&t, VQ_ERR_IDX);
    /* A huge jump. */
    setup_three(&t, &a, &b, &c);
    t.vq.used->idx = (uint16_t)(65533 + 30000);
    expect_rejected(&t, VQ_ERR_IDX);
    /* Backwards. */
    setup_three(&t, &a, &b, &c);
    dev_used(&t, (uint32_t)a, 1);
    struct vq_used_info u;
    assert_int_equal(vq_get_used(&t.vq, &u), 1);
    t.vq.used->idx = 65533; /* one back */
    expect_rejected(&t, VQ_ERR_IDX);
}

static void test_duplicate_completion(void **state)
{
    (void)state;
    struct tq t;
    int a, b, c;
    setup_three(&t, &a, &b, &c);
    dev_used(&t, (uint32_t)a, 4097);
    dev_used(&t, (uint32_t)a, 4097); /* the same chain twice: idx by 2 is allowed (2 in flight) */
    struct vq_used_info u;
    assert_int_equal(vq_get_used(&t.vq, &u), 1);
    assert_ptr_equal(u.token, (void *)1);
    expect_rejected(&t, VQ_ERR_ID_FREE);
}

/* ---- randomized: a model of what is in flight, a device completing in random order ---- */

struct model_chain {
    bool live, published, consumed;
    uint32_t writable;
    uint16_t ndesc;
    uint16_t head;
};

static void test_random(void **state)
{
    (void)state;
    struct rng r = rng_begin();
    for (int trial = 0; trial < 40; trial++) {
        uint32_t size = 1u << rng_below(&r, 8); /* 1..128 */
        struct tq t;
        tq_open(&t, size, (uint16_t)rng_next(&r));
        enum { MAXC = 256 };
        struct model_chain m[MAXC];
        memset(m, 0, sizeof(m));
        uint16_t consumed_heads[MAXC];
        uint32_t consumed_tok[MAXC];
        unsigned nconsumed = 0;
        uint32_t model_free = size, completed = 0;
        for (int step = 0; step < 3000; step++) {
            unsigned what = (unsigned)rng_below(&r, 10);
            if (what < 4) { /* add */
                unsigned n = 1 + (unsigned)rng_below(&r, size < 6 ? size : 6);
                struct vq_buf b[6];
                unsigned nread = (unsigned)rng_below(&r, n + 1);
                uint32_t w = 0;
                for (unsigned i = 0; i < n; i++) {
                    b[i] = (struct vq_buf){rng_next(&r), 1 + (uint32_t)rng_below(&r, 65536), i >= nread};
                    if (b[i].device_writes)
                        w += b[i].len;
                }
                unsigned tok = 0;
                while (tok < MAXC && m[tok].live)
                    tok++;
                RAND_ASSERT(tok < MAXC);
                int h = vq_add(&t.vq, b, n, (void *)(uintptr_t)(tok + 1));
                if (n > model_free) {
                    RAND_ASSERT(h == -VQ_ERR_FULL);
                } else {
                    RAND_ASSERT(h >= 0 && (uint32_t)h < size);
                    m[tok] = (struct model_chain){true, false, false, w, (uint16_t)n, (uint16_t)h};
                    model_free -= n;
                }
            } else if (what < 6) { /* publish */
                vq_publish(&t.vq);
                for (unsigned i = 0; i < MAXC; i++)
                    if (m[i].live)
                        m[i].published = true;
            } else if (what < 8) { /* device takes what is available */
                uint16_t h;
                uint32_t w;
                unsigned n;
                while (dev_next(&t, &h, &w, &n)) {
                    unsigned tok = MAXC;
                    for (unsigned i = 0; i < MAXC; i++)
                        if (m[i].live && m[i].head == h && m[i].published && !m[i].consumed)
                            tok = i;
                    RAND_ASSERT(tok < MAXC);
                    RAND_ASSERT(w == m[tok].writable && n == m[tok].ndesc);
                    m[tok].consumed = true;
                    consumed_heads[nconsumed] = h;
                    consumed_tok[nconsumed++] = tok;
                }
            } else if (nconsumed) { /* device completes a random consumed chain */
                unsigned k = (unsigned)rng_below(&r, nconsumed);
                unsigned tok = consumed_tok[k];
                uint32_t len = (uint32_t)rng_below(&r, (uint64_t)m[tok].writable + 1);
                dev_used(&t, consumed_heads[k], len);
                consumed_heads[k] = consumed_heads[nconsumed - 1];
                consumed_tok[k] = consumed_tok[--nconsumed];
                struct vq_used_info u;
                RAND_ASSERT(vq_get_used(&t.vq, &u) == 1);
                RAND_ASSERT(u.token == (void *)(uintptr_t)(tok + 1));
                RAND_ASSERT(u.head == m[tok].head && u.len == len && u.count == m[tok].ndesc);
                model_free += m[tok].ndesc;
                m[tok].live = false;
                completed++;
                RAND_ASSERT(vq_get_used(&t.vq, &u) == 0);
            }
            RAND_ASSERT(vq_num_free(&t.vq) == model_free);
            char why[160];
            if (vq_check(&t.vq, why, sizeof(why)) != 0)
                fail_msg("vq_check: %s; seed=%llu", why, test_seed());
        }
        RAND_ASSERT(completed > 0 || size == 1);
        tq_close(&t);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layout),
        cmocka_unit_test(test_cycle),
        cmocka_unit_test(test_notify_suppression),
        cmocka_unit_test(test_need_event_model),
        cmocka_unit_test(test_event_idx_notifications),
        cmocka_unit_test(test_event_idx_interrupts),
        cmocka_unit_test(test_out_of_order),
        cmocka_unit_test(test_wraparound),
        cmocka_unit_test(test_exhaustion_and_invalid),
        cmocka_unit_test(test_scribbled_descriptors),
        cmocka_unit_test(test_bad_id_out_of_range),
        cmocka_unit_test(test_bad_id_free),
        cmocka_unit_test(test_bad_id_body),
        cmocka_unit_test(test_bad_id_unpublished),
        cmocka_unit_test(test_bad_len),
        cmocka_unit_test(test_bad_idx_jump),
        cmocka_unit_test(test_duplicate_completion),
        cmocka_unit_test(test_random),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
