/* SPDX-License-Identifier: MIT */
/* fuzz_virtqueue.c - libFuzzer over the split virtqueue (drivers/virtqueue.c) with a hostile device.
 *
 * The input is a script: driver adds and publishes, device used-ring writes with arbitrary ids,
 * lens and idx values, correct completions, scribbles over the descriptor table and the
 * available ring, and driver reaps. After every step:
 *  - vq_check(): the free list and the chains partition the descriptors, no descriptor both free
 *    and in flight, the indices agree with the states;
 *  - a model of what the driver has in flight: every completion the queue hands out is a chain
 *    that is in flight, with its own head, a len within its device-writable bytes, and handed
 *    out once; a rejected entry hands out nothing and frees nothing.
 * The three ring parts and the private state are separate allocations of exactly their size, so
 * ASan reports any access outside them. A broken queue is "reset": every chain detached (each
 * must come back exactly once) and the queue initialized again.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/virtqueue.h"
#include "tests/fuzz/fuzz_input.h"

#define MAX_TOKENS 256

struct model {
    bool live;
    uint16_t head, ndesc;
    uint32_t writable;
};

struct world {
    struct virtqueue vq;
    uint32_t size;
    bool event_idx; /* VIRTIO_F_EVENT_IDX "negotiated" for this input */
    struct virtq_desc *desc;
    struct virtq_avail *avail;
    struct virtq_used *used;
    void *priv;
    struct model m[MAX_TOKENS];
    uint32_t model_chains, model_descs; /* live chains and their descriptors */
    uint16_t free_tok[MAX_TOKENS];      /* stack of unused model entries */
    unsigned nfree_tok;
    int16_t tok_of_head[128]; /* live chain's model entry by head, -1 if none */
    /* the device */
    uint16_t dev_avail, dev_used;
    uint16_t taken[MAX_TOKENS]; /* heads the device read from the available ring */
    unsigned ntaken;
};

static void die(const char *what, const struct world *w)
{
    fprintf(stderr, "fuzz_virtqueue: %s (size %u)\n", what, w->size);
    abort();
}

static void world_init(struct world *w, uint16_t start)
{
    if (vq_init(&w->vq, w->size, w->desc, w->avail, w->used, w->priv) != 0)
        die("vq_init failed", w);
    vq_set_start_index(&w->vq, start);
    vq_set_event_idx(&w->vq, w->event_idx);
    memset(w->m, 0, sizeof(w->m));
    w->model_chains = w->model_descs = 0;
    w->nfree_tok = 0;
    for (unsigned i = MAX_TOKENS; i-- > 0;)
        w->free_tok[w->nfree_tok++] = (uint16_t)i;
    memset(w->tok_of_head, 0xff, sizeof(w->tok_of_head));
    w->dev_avail = w->dev_used = start;
    w->ntaken = 0;
}

static void check(struct world *w)
{
    char why[160];
    if (vq_check(&w->vq, why, sizeof(why)) != 0)
        die(why, w);
    if (w->model_descs + vq_num_free(&w->vq) != w->size)
        die("model descriptors in flight + free != size", w);
    if (w->model_chains != vq_chains_outstanding(&w->vq))
        die("model chains != outstanding chains", w);
}

/* Device: read newly available heads (bounded: it is the device, but it must not overflow our
 * test arrays either). */
static void device_take(struct world *w)
{
    uint16_t idx = __atomic_load_n(&w->avail->idx, __ATOMIC_ACQUIRE);
    while (w->dev_avail != idx && w->ntaken < MAX_TOKENS) {
        w->taken[w->ntaken++] = w->avail->ring[w->dev_avail & (w->size - 1)];
        w->dev_avail++;
    }
}

static void device_write_used(struct world *w, uint32_t id, uint32_t len, bool bump)
{
    struct virtq_used_elem *e = &w->used->ring[w->dev_used & (w->size - 1)];
    e->id = id;
    e->len = len;
    if (bump) {
        w->dev_used++;
        __atomic_store_n(&w->used->idx, w->dev_used, __ATOMIC_RELEASE);
    }
}

static void retire(struct world *w, struct model *m)
{
    m->live = false;
    w->tok_of_head[m->head] = -1;
    w->free_tok[w->nfree_tok++] = (uint16_t)(m - w->m);
    w->model_chains--;
    w->model_descs -= m->ndesc;
}

static void reset(struct world *w, uint16_t start)
{
    void *tok;
    unsigned n = 0;
    while (vq_detach_one(&w->vq, &tok)) {
        uintptr_t t = (uintptr_t)tok;
        if (t == 0 || t > MAX_TOKENS || !w->m[t - 1].live)
            die("detach returned a chain not in flight", w);
        retire(w, &w->m[t - 1]);
        n++;
    }
    for (unsigned i = 0; i < MAX_TOKENS; i++)
        if (w->m[i].live)
            die("a chain in flight was not detached", w);
    if (vq_num_free(&w->vq) != w->size)
        die("descriptors missing after detaching everything", w);
    (void)n;
    world_init(w, start);
}

static void driver_reap(struct world *w, struct input *in)
{
    for (int guard = 0; guard < 2 * MAX_TOKENS; guard++) {
        uint32_t free_before = vq_num_free(&w->vq), out_before = vq_chains_outstanding(&w->vq);
        struct vq_used_info u = {0};
        int r = vq_get_used(&w->vq, &u);
        if (r == 0)
            return;
        if (r < 0) {
            if (vq_num_free(&w->vq) != free_before || vq_chains_outstanding(&w->vq) != out_before)
                die("a rejected used entry changed the queue", w);
            if (r != -VQ_ERR_BROKEN) {
                char msg[200];
                vq_describe_error(&w->vq, msg, sizeof(msg));
            }
            check(w);
            reset(w, u16(in));
            return;
        }
        uintptr_t t = (uintptr_t)u.token;
        if (t == 0 || t > MAX_TOKENS || !w->m[t - 1].live)
            die("completion of a chain not in flight", w);
        struct model *m = &w->m[t - 1];
        if (u.head != m->head || u.count != m->ndesc || u.len > m->writable)
            die("completion does not match its chain", w);
        retire(w, m);
        check(w);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct input in = {data, size};
    struct world *w = calloc(1, sizeof(*w));
    if (!w)
        return 0;
    uint8_t shape = u8(&in);
    w->size = 1u << (shape % 8); /* 1..128 */
    w->event_idx = shape & 0x80;
    w->desc = malloc(sizeof(struct virtq_desc) * w->size);
    w->avail = malloc(sizeof(struct virtq_avail) + 2 * w->size + 2);
    w->used = malloc(sizeof(struct virtq_used) + sizeof(struct virtq_used_elem) * w->size + 2);
    w->priv = malloc(vq_priv_bytes(w->size));
    if (!w->desc || !w->avail || !w->used || !w->priv)
        goto out;
    world_init(w, u16(&in));
    check(w);

    for (int step = 0; step < 2000 && in.left > 0; step++) {
        uint8_t op = u8(&in);
        switch (op % 11) {
        case 0:
        case 1: { /* driver adds a chain */
            unsigned n = 1 + u8(&in) % (w->size < 8 ? w->size : 8) + (op & 0x80 ? w->size : 0);
            struct vq_buf b[8 + 128];
            unsigned nread = u8(&in) % (n + 1);
            for (unsigned i = 0; i < n; i++) {
                b[i].addr = (uint64_t)i << 12;
                b[i].len = (op & 0x40) ? u32(&in) : 1u + u8(&in);
                b[i].device_writes = i >= nread;
            }
            if (op & 0x20 && n > 1) /* sometimes put a readable buffer after a writable one */
                b[n - 1].device_writes = false;
            if (w->nfree_tok == 0)
                break;
            unsigned tok = w->free_tok[w->nfree_tok - 1];
            uint32_t free_before = vq_num_free(&w->vq);
            int h = vq_add(&w->vq, b, n, (void *)(uintptr_t)(tok + 1));
            if (h >= 0) {
                if ((uint32_t)h >= w->size || n > free_before)
                    die("add returned a bad head", w);
                if (b[n - 1].device_writes == false && (op & 0x20) && n > 1 && nread < n - 1)
                    die("add accepted a readable buffer after a writable one", w);
                uint64_t ws = 0;
                for (unsigned i = 0; i < n; i++)
                    if (b[i].device_writes)
                        ws += b[i].len;
                w->m[tok] = (struct model){true, (uint16_t)h, (uint16_t)n, (uint32_t)ws};
                w->model_chains++;
                w->model_descs += n;
                w->nfree_tok--;
                if (w->tok_of_head[h] != -1)
                    die("add returned the head of a chain in flight", w);
                w->tok_of_head[h] = (int16_t)tok;
            } else if (vq_num_free(&w->vq) != free_before) {
                die("a refused add changed the queue", w);
            } else if (h == -VQ_ERR_FULL && n <= free_before) {
                die("add said full with enough free descriptors", w);
            }
            break;
        }
        case 2: /* driver publishes */ vq_publish(&w->vq); break;
        case 3: /* device: arbitrary used entry */
            device_write_used(w, (op & 0x80) ? u32(&in) : u16(&in) % (w->size * 2), u32(&in) >> (u8(&in) % 32), true);
            break;
        case 4: /* device: arbitrary used idx */
            w->dev_used = (op & 0x80) ? u16(&in) : (uint16_t)(w->dev_used + u8(&in) % 4 - 1);
            __atomic_store_n(&w->used->idx, w->dev_used, __ATOMIC_RELEASE);
            break;
        case 5: /* device: a correct completion of a chain it took */
        case 6: {
            device_take(w);
            if (w->ntaken == 0)
                break;
            unsigned k = u8(&in) % w->ntaken;
            uint16_t head = w->taken[k];
            w->taken[k] = w->taken[--w->ntaken];
            uint32_t len = 0;
            int t = head < w->size ? w->tok_of_head[head] : -1;
            if (t >= 0 && w->m[t].writable)
                len = (uint32_t)(u32(&in) % (w->m[t].writable + 1ull));
            device_write_used(w, head, len, true);
            break;
        }
        case 7: { /* device scribbles over the driver's parts of the ring */
            uint16_t at = u16(&in);
            uint8_t v = u8(&in);
            size_t dbytes = sizeof(struct virtq_desc) * w->size, abytes = sizeof(struct virtq_avail) + 2 * w->size + 2;
            if (at % 2)
                ((uint8_t *)w->desc)[at % dbytes] = v;
            else
                ((uint8_t *)w->avail)[at % abytes] = v;
            break;
        }
        case 8: /* driver reaps */ driver_reap(w, &in); break;
        case 9: /* device: any avail_event (it only decides vq_publish's answer) */
            __atomic_store_n((uint16_t *)(void *)&w->used->ring[w->size], u16(&in), __ATOMIC_RELAXED);
            break;
        case 10: /* driver: interrupts on or off, then the rearm after a reap (and its second look) */
            vq_set_interrupts(&w->vq, op & 0x80);
            if (vq_rearm(&w->vq))
                driver_reap(w, &in);
            break;
        }
        check(w);
    }
    driver_reap(w, &in);
    check(w);
out:
    free(w->desc);
    free(w->avail);
    free(w->used);
    free(w->priv);
    free(w);
    return 0;
}
