/* SPDX-License-Identifier: MIT */
/* fuzz_dma.c - libFuzzer target for the DMA layer (dma/) over the fake platform.
 *
 * Each input is a small world: a few bytes of configuration (pool size, policy, device
 * parameters), then a sequence of operations - map single/page/sg, fake-device writes, CPU
 * writes, syncs, unmaps (right and wrong), coherent alloc/free, policy and force_bounce changes,
 * counter resets - each decoded from the next input bytes.
 *
 * Beside the real layer runs a model that simulates the whole memory system: the bytes of every
 * original buffer and of every bounce slot, which slots each live mapping holds, which slots are
 * clean (known all-zero), the next-fit cursor, the records of direct mappings and of coherent
 * buffers (dma/records.c), and every counter. The model predicts each operation exactly - whether it
 * is direct or bounced, whether it is misuse, which slot a bounce lands on, what its slots hold
 * after the map under each policy and attribute (dirty slots zeroed whole, clean ones left), what
 * is copied and cleared at sync and unmap. Placement is checked twice: the slots the layer picked
 * must obey the rules (alignment, min_align_mask, segment boundary, device mask, all slots free),
 * and must be the next fit - the first such placement at or after the cursor, else the first one
 * from the start of the pool (brute force); a failure must mean that none exists at all. After
 * every operation: swiotlb_check(), the used/owner/clean bitmaps and the cursor equal to the
 * model's, all counters equal to the model's, and the bytes the operation produced (whole slot
 * runs of bounces) equal to the model's; at the end of each input, every byte of the pool and of
 * every original. Any difference aborts.
 *
 * Streaming unmaps and syncs that hit a coherent buffer's record are generated on purpose (odd
 * addresses, and dedicated cases in op_unmap/op_sync) and modelled as the records (dma/records.c) treat them: a
 * coherent record is never an exact match for a streaming call, whatever its direction (DMA_NONE
 * included), so such an unmap is a reported mismatch that removes the record (the buffer's later
 * free is then "not recorded": misuse, nothing freed), and such a sync is refused. Streaming maps
 * of coherent memory are not generated (buffers come from the originals only).
 *
 * Misuse messages go to stdout, which LLVMFuzzerInitialize sends to /dev/null.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "dma/dma.h"
#include "dma/dma_internal.h"
#include "dma/dma_platform.h"
#include "dma/swiotlb.h"
#include "tools/hostlib/dma_fake_platform.h"
#include "tests/fuzz/fuzz_input.h"
#include "lib/units.h"

#define SLOT ((uint64_t)SWIOTLB_SLOT_SIZE)
#define MAX_MAP ((uint64_t)SWIOTLB_MAX_MAPPING_SLOTS * SLOT)
#define MAX_POOL_SLOTS 128
#define MAX_POOL_BYTES (MAX_POOL_SLOTS * SLOT)
#define NORIG 4
#define ORIG_BYTES (320u * 1024) /* a mapping may be up to 300 KiB */
#define NDEV 6
#define MAX_LIVE 64
#define MAX_OPS 96
#define MAX_SG 6
#define NGROUPS 4
#define NFREED 8
#define MAX_COH 6

#define CHECK(cond)               \
    do {                          \
        if (!(cond))              \
            die(__LINE__, #cond); \
    } while (0)

static bool trace; /* FUZZ_DMA_TRACE=1: every operation on stderr, to read a crash */
#define TRACE(...)                        \
    do {                                  \
        if (trace)                        \
            fprintf(stderr, __VA_ARGS__); \
    } while (0)

static void die(int line, const char *what)
{
    fprintf(stderr, "fuzz_dma: line %d: check failed: %s (last misuse: \"%s\")\n", line, what, dma_last_misuse());
    abort();
}

/* ---- input ---- */

/* ---- the world ---- */

struct orig {
    uint8_t *v;
    uint64_t phys;
};

struct live {
    int dev;
    dma_addr_t addr;
    uint64_t phys; /* the original */
    uint32_t size;
    uint8_t dir;
    bool bounced;
    uint32_t slot, nslots; /* bounced: where */
    bool clear_on_unmap;   /* device-written bounce under the zero policy: its slots are cleared at unmap */
    bool exact;            /* device-written, mapped with DMA_ATTR_EXACT_COMPLETION: never zeroed */
    uint64_t seq;          /* order of mapping: the direct records' lookup prefers the newest */
};

struct freed {
    int dev;
    dma_addr_t addr;
    uint32_t size;
    uint8_t dir;
};

struct group {
    bool used;
    int dev, nents;
    uint8_t dir;
    struct scatterlist sg[MAX_SG];
};

struct coh {
    int dev;
    uint8_t *cpu;
    dma_addr_t handle;
    size_t size;
    uint64_t seq;  /* its record's place in the same order as the streaming ones */
    bool recorded; /* the records still hold it: not freed, not taken by a streaming unmap */
};

static struct dma_dev devs[NDEV];
static struct orig origs[NORIG];
static uint8_t m_orig[NORIG][ORIG_BYTES]; /* model of the originals' bytes */
static uint8_t m_pool[MAX_POOL_BYTES];    /* model of the pool's bytes */
static const uint8_t zeros[ORIG_BYTES];

static struct {
    struct swiotlb_pool *pool;
    uint64_t start;
    uint32_t nslots;
    uint32_t owner[MAX_POOL_SLOTS]; /* first slot + 1, 0 free */
    bool clean[MAX_POOL_SLOTS];     /* known all-zero */
    uint32_t cursor;                /* next-fit */
    uint32_t used, high_water;
    enum bounce_policy policy;
    bool force;
    int misuse_either;   /* syncs of the last op that may or may not be refused (see model_sync) */
    bool either_for_cpu; /* ... and their kind: each refused one is misuse, each other one a sync */
    struct dma_stats exp;
    struct live live[MAX_LIVE];
    int nlive;
    uint64_t seq;
    struct freed freed[NFREED];
    int nfreed;
    struct group groups[NGROUPS];
    struct coh coh[MAX_COH]; /* every buffer allocated, freed or not */
    int ncoh, coh_attempts;
    size_t orig_lo[NORIG], orig_hi[NORIG]; /* model bytes ever touched: compared and reset at the end */
    size_t pool_lo, pool_hi;
} M;

static bool valid_dir(int dir) { return dir == DMA_BIDIRECTIONAL || dir == DMA_TO_DEVICE || dir == DMA_FROM_DEVICE; }
static bool in_pool(uint64_t a) { return a >= M.start && a < M.start + M.nslots * SLOT; }
static uint8_t *bus(dma_addr_t a) { return fake_platform()->phys_to_virt(a); }

/* The model's bytes of an original at phys. */
static uint8_t *model_orig(uint64_t phys, size_t len)
{
    for (int o = 0; o < NORIG; o++) {
        if (phys >= origs[o].phys && phys - origs[o].phys + len <= ORIG_BYTES) {
            size_t off = phys - origs[o].phys;
            if (off < M.orig_lo[o])
                M.orig_lo[o] = off;
            if (off + len > M.orig_hi[o])
                M.orig_hi[o] = off + len;
            return m_orig[o] + off;
        }
    }
    CHECK(!"an original outside the originals");
    return NULL;
}

/* The model's bytes of the pool at DMA address addr. */
static uint8_t *model_pool(uint64_t addr, size_t len)
{
    size_t off = addr - M.start;
    CHECK(addr >= M.start && off + len <= (size_t)M.nslots * SLOT);
    if (off < M.pool_lo)
        M.pool_lo = off;
    if (off + len > M.pool_hi)
        M.pool_hi = off + len;
    return m_pool + off;
}

/* While the model replays an sg call entry by entry, the real call has already done all of them:
 * bytes are compared after the whole batch (an entry may overwrite an earlier one's original). */
static bool batch;

static void compare_orig(uint64_t phys, size_t len)
{
    if (len && !batch)
        CHECK(memcmp(bus(phys), model_orig(phys, len), len) == 0);
}

static void compare_pool(uint64_t addr, size_t len)
{
    if (len && !batch)
        CHECK(memcmp(bus(addr), model_pool(addr, len), len) == 0);
}

static struct live *live_at_slot(uint32_t head)
{
    for (int i = 0; i < M.nlive; i++)
        if (M.live[i].bounced && M.live[i].slot == head)
            return &M.live[i];
    CHECK(!"slot owner without a live mapping");
    return NULL;
}

static void remember_freed(const struct live *l)
{
    M.freed[M.nfreed % NFREED] = (struct freed){l->dev, l->addr, l->size, l->dir};
    M.nfreed++;
}

static void drop_live(struct live *l)
{
    remember_freed(l);
    *l = M.live[--M.nlive];
}

/* ---- placement: the rules of swiotlb.h, in addresses ---- */

static bool fits_at(const struct dma_dev *d, uint64_t phys, size_t size, uint32_t c)
{
    uint64_t mask = d->min_align_mask, off = phys & mask & (SLOT - 1), n = (off + size + SLOT - 1) / SLOT;
    if (size == 0 || size > MAX_MAP || n > SWIOTLB_MAX_MAPPING_SLOTS || c + n > M.nslots)
        return false;
    for (uint64_t k = 0; k < n; k++)
        if (M.owner[c + k])
            return false;
    uint64_t a = M.start + c * SLOT, last = a + n * SLOT - 1, dma = a + off;
    if ((dma & mask) != (phys & mask))
        return false;
    if (mask == 0 && size >= PAGE_SIZE && dma % PAGE_SIZE)
        return false;
    if (last > d->dma_mask)
        return false;
    if (d->seg_boundary_mask && (a & ~d->seg_boundary_mask) != (last & ~d->seg_boundary_mask))
        return false;
    return true;
}

/* Where next fit must place the mapping: the first placement obeying the rules at or after the
 * cursor (when the cursor lies below the slots the device reaches), else the first one from slot
 * 0; -1 when there is none at all. */
static int64_t next_fit(const struct dma_dev *d, uint64_t phys, size_t size)
{
    uint64_t end = M.start + M.nslots * SLOT - 1, last = d->dma_mask < end ? d->dma_mask : end;
    uint32_t reach = last < M.start ? 0 : (uint32_t)((last + 1 - M.start) / SLOT);
    uint32_t first = M.cursor < reach ? M.cursor : 0;
    for (uint32_t c = first; c < M.nslots; c++)
        if (fits_at(d, phys, size, c))
            return c;
    for (uint32_t c = 0; c < first; c++)
        if (fits_at(d, phys, size, c))
            return c;
    return -1;
}

static uint64_t slot_addr(uint32_t k) { return M.start + k * SLOT; }
static size_t page_round(size_t n) { return (n + (PAGE_SIZE - 1)) & ~(size_t)(PAGE_SIZE - 1); }

/* Compare the whole run of slots of the bounce [dma, dma + size), slack included. */
static void compare_run(dma_addr_t dma, size_t size)
{
    uint64_t rel = dma - M.start, n = (rel % SLOT + size + SLOT - 1) / SLOT;
    compare_pool(M.start + rel / SLOT * SLOT, n * SLOT);
}

static void count_sync(bool for_cpu)
{
    if (for_cpu)
        M.exp.syncs_for_cpu++;
    else
        M.exp.syncs_for_device++;
}

/* ---- the model of each operation ---- */

/* Check what the layer did with one map request (`got`) and apply it to the model. `still_live`:
 * the mapping has not been undone since (a failed sg list undoes its entries before the model
 * sees them), so the pool's own record of it can be checked too. */
static bool model_map(int di, uint64_t phys, size_t size, int dir, unsigned attrs, dma_addr_t got, bool still_live)
{
    const struct dma_dev *d = &devs[di];
    TRACE("map %s phys %#llx size %zu dir %d attrs %u policy %d -> %#llx (cursor %u)\n", d->name,
          (unsigned long long)phys, size, dir, attrs, M.policy, (unsigned long long)got, M.cursor);
    if (!valid_dir(dir) || size == 0 || (d->max_segment_size && size > d->max_segment_size)) {
        CHECK(got == DMA_MAPPING_ERROR);
        M.exp.misuse++;
        return false;
    }
    bool bounce = M.force || d->force_bounce || phys + size - 1 > d->dma_mask;
    CHECK(M.nlive < MAX_LIVE);
    struct live *l = &M.live[M.nlive];
    *l = (struct live){
        .dev = di, .addr = got, .phys = phys, .size = (uint32_t)size, .dir = (uint8_t)dir, .seq = M.seq++};
    if (!bounce) {
        CHECK(got == phys); /* direct: DMA address == physical address, no slot */
        M.exp.maps++;
        M.exp.bytes_mapped += size;
        M.nlive++;
        return true;
    }
    int64_t want = next_fit(d, phys, size);
    if (got == DMA_MAPPING_ERROR) {
        CHECK(want < 0); /* failed although a placement satisfying every rule was free */
        M.exp.map_failures++;
        return false;
    }
    CHECK(in_pool(got));
    uint64_t rel = got - M.start;
    uint32_t c = (uint32_t)(rel / SLOT);
    CHECK(rel % SLOT == (phys & d->min_align_mask & (SLOT - 1)));
    CHECK(fits_at(d, phys, size, c)); /* the rules */
    CHECK(c == want);                 /* next fit from the cursor */
    uint32_t n = (uint32_t)((rel % SLOT + size + SLOT - 1) / SLOT);
    bool exact = dir != DMA_TO_DEVICE && (attrs & DMA_ATTR_EXACT_COMPLETION);
    bool clear_on_unmap = M.policy == BOUNCE_ZERO && dir != DMA_TO_DEVICE && !exact;
    CHECK(!still_live ||
          (M.pool->meta[c].nslots == n && M.pool->meta[c].orig_phys == phys && M.pool->meta[c].size == size &&
           M.pool->meta[c].dir == dir && M.pool->meta[c].dev == d && M.pool->meta[c].offset == rel % SLOT &&
           M.pool->meta[c].clear_on_unmap == clear_on_unmap));
    for (uint32_t k = 0; k < n; k++)
        M.owner[c + k] = c + 1;
    M.used += n;
    if (M.used > M.high_water)
        M.high_water = M.used;
    M.cursor = c + n < M.nslots ? c + n : 0;
    l->bounced = true;
    l->slot = c;
    l->nslots = n;
    l->clear_on_unmap = clear_on_unmap;
    l->exact = exact;
    M.nlive++;
    /* What the slots hold before the device gets them: when the device may write them - under the
     * zero policy, or whenever no copy fills them (except under none) - every dirty slot of the run
     * is zeroed whole (clean ones are zero already); then the copy, if any; then none is clean.
     * A TO_DEVICE mapping zeroes nothing and leaves its slots dirty; so does one mapped for exact
     * completion, which only ever copies back what the device wrote. */
    bool copy_in = !(attrs & DMA_ATTR_SKIP_CPU_SYNC) &&
        (dir != DMA_FROM_DEVICE || (attrs & DMA_ATTR_PRESERVE) || M.policy == BOUNCE_COPY);
    if (dir != DMA_TO_DEVICE && !exact && (M.policy == BOUNCE_ZERO || (!copy_in && M.policy != BOUNCE_NONE))) {
        for (uint32_t k = c; k < c + n; k++) {
            uint8_t *b = model_pool(slot_addr(k), SLOT);
            if (M.clean[k]) {
                CHECK(memcmp(b, zeros, SLOT) == 0); /* the model's own invariant */
                continue;
            }
            memset(b, 0, SLOT);
            M.exp.bytes_zeroed += SLOT;
        }
    }
    if (copy_in) {
        memcpy(model_pool(got, size), model_orig(phys, size), size);
        M.exp.bytes_copied_in += size;
        M.exp.orig_bytes_read += size;
    }
    for (uint32_t k = c; k < c + n; k++)
        M.clean[k] = false;
    M.exp.maps++;
    M.exp.bounced_maps++;
    M.exp.bytes_mapped += size;
    M.exp.bytes_bounced += size;
    compare_run(got, size);
    return true;
}

/* written: what an exact completion says the device wrote (SIZE_MAX: a plain unmap); the caller
 * has clamped it as dma/mapping.c does. */
static void model_unmap_written(int di, dma_addr_t addr, size_t size, int dir, unsigned attrs, size_t written)
{
    TRACE("unmap %s %#llx size %zu dir %d attrs %u\n", devs[di].name, (unsigned long long)addr, size, dir, attrs);
    if (in_pool(addr)) {
        uint32_t o = M.owner[(addr - M.start) / SLOT];
        if (o == 0) {
            M.exp.misuse++; /* nothing mapped there */
            return;
        }
        struct live *l = live_at_slot(o - 1);
        if (l->dev != di) {
            M.exp.misuse++; /* another device's mapping: refused */
            return;
        }
        if (addr != l->addr) {
            M.exp.misuse++; /* inside a mapping: refused */
            return;
        }
        bool copy_out = l->dir != DMA_TO_DEVICE && !(attrs & DMA_ATTR_SKIP_CPU_SYNC);
        if (size != l->size || dir != l->dir || (l->exact && copy_out && written == SIZE_MAX))
            M.exp.misuse++; /* reported (once), torn down as mapped: an exact one copied back whole */
        size_t back = written < l->size ? written : l->size; /* exact: only what was written */
        if (copy_out) {
            memcpy(model_orig(l->phys, back), model_pool(l->addr, back), back);
            M.exp.bytes_copied_out += back;
            compare_orig(l->phys, l->size); /* the unwritten rest is untouched */
        }
        if (l->clear_on_unmap && written == SIZE_MAX) { /* the whole run, slack included, is left zero and clean */
            memset(model_pool(slot_addr(l->slot), l->nslots * SLOT), 0, l->nslots * SLOT);
            M.exp.bytes_zeroed += l->nslots * SLOT;
            for (uint32_t k = l->slot; k < l->slot + l->nslots; k++)
                M.clean[k] = true;
        } else if (l->clear_on_unmap) { /* exact: the head and what was written; clean what that covers */
            uint64_t head = l->addr - slot_addr(l->slot);
            memset(model_pool(slot_addr(l->slot), head + back), 0, head + back);
            M.exp.bytes_zeroed += head + back;
            for (uint32_t k = l->slot; k < l->slot + (head + back) / SLOT; k++)
                M.clean[k] = true;
        }
        compare_run(l->addr, l->size);
        for (uint32_t k = 0; k < l->nslots; k++)
            M.owner[l->slot + k] = 0;
        M.used -= l->nslots;
        if ((l->slot + l->nslots) % M.nslots == M.cursor)
            M.cursor = l->slot; /* released right behind the cursor: the next map reuses it */
        M.exp.unmaps++;
        drop_live(l);
        return;
    }
    /* Direct: the records of (device, address), streaming mappings' and coherent buffers' alike.
     * dma_records_remove() walks a newest-first chain, takes the first record it meets and lets
     * every exact one (size and direction; a coherent record never is, for a streaming unmap)
     * override it: the oldest exact record if there is one, else the newest. */
    struct live *pick = NULL;
    struct coh *cpick = NULL;
    uint64_t pseq = 0;
    bool found = false, exact = false;
#define CONSIDER(seq_, e_, live_, coh_)                                                            \
    do {                                                                                           \
        if (!found || ((e_) && (!exact || (seq_) < pseq)) || (!exact && !(e_) && (seq_) > pseq)) { \
            found = true, pseq = (seq_), exact = (e_), pick = (live_), cpick = (coh_);             \
        }                                                                                          \
    } while (0)
    for (int i = 0; i < M.nlive; i++) {
        struct live *l = &M.live[i];
        if (!l->bounced && l->dev == di && l->addr == addr)
            CONSIDER(l->seq, l->size == size && l->dir == dir, l, (struct coh *)NULL);
    }
    for (int i = 0; i < M.ncoh; i++) {
        struct coh *c = &M.coh[i];
        if (c->recorded && c->dev == di && c->handle == addr)
            CONSIDER(c->seq, false, (struct live *)NULL, c);
    }
#undef CONSIDER
    if (!found) {
        M.exp.misuse++;
        return;
    }
    if (!exact)
        M.exp.misuse++;
    M.exp.unmaps++;
    if (cpick != NULL)
        cpick->recorded = false; /* a coherent buffer's record, taken as a mismatched mapping */
    else
        drop_live(pick);
}

static void model_unmap(int di, dma_addr_t addr, size_t size, int dir, unsigned attrs)
{
    model_unmap_written(di, addr, size, dir, attrs, SIZE_MAX);
}

static void model_sync(int di, dma_addr_t addr, size_t len, int dir, bool for_cpu)
{
    TRACE("sync_for_%s %s %#llx len %zu dir %d\n", for_cpu ? "cpu" : "device", devs[di].name, (unsigned long long)addr,
          len, dir);
    if (len == 0) {
        M.exp.misuse++; /* nothing to sync: refused, bounced or direct */
        return;
    }
    if (in_pool(addr)) {
        uint32_t o = M.owner[(addr - M.start) / SLOT];
        if (o == 0) {
            M.exp.misuse++;
            return;
        }
        struct live *l = live_at_slot(o - 1);
        if (l->dev != di || addr < l->addr || len > l->size || addr - l->addr > l->size - len || dir != l->dir) {
            M.exp.misuse++;
            return;
        }
        count_sync(for_cpu);
        uint64_t at = l->phys + (addr - l->addr);
        if (for_cpu && (dir == DMA_FROM_DEVICE || dir == DMA_BIDIRECTIONAL)) {
            memcpy(model_orig(at, len), model_pool(addr, len), len);
            M.exp.bytes_copied_out += len;
            compare_orig(at, len);
        } else if (!for_cpu && (dir == DMA_TO_DEVICE || dir == DMA_BIDIRECTIONAL)) {
            memcpy(model_pool(addr, len), model_orig(at, len), len);
            M.exp.bytes_copied_in += len;
            M.exp.orig_bytes_read += len;
            compare_pool(addr, len);
        }
        return;
    }
    /* Direct: nothing to copy; the record containing the range decides - a coherent buffer's
     * never matches a streaming sync. When records that match and records that do not both
     * contain it, which one is found first depends on the hash table's order (as in Linux's
     * dma-debug): either answer is accepted (a refusal is misuse, an acceptance a sync). */
    bool same = false, other = false;
    for (int i = 0; i < M.nlive; i++) {
        const struct live *l = &M.live[i];
        if (l->bounced || l->dev != di || addr < l->addr || len > l->size || addr - l->addr > l->size - len)
            continue;
        if (l->dir == dir)
            same = true;
        else
            other = true;
    }
    for (int i = 0; i < M.ncoh; i++) {
        const struct coh *c = &M.coh[i];
        size_t sz = page_round(c->size);
        if (c->recorded && c->dev == di && addr >= c->handle && len <= sz && addr - c->handle <= sz - len)
            other = true;
    }
    if (same && other) {
        M.misuse_either++;
        M.either_for_cpu = for_cpu;
    } else if (!same) {
        M.exp.misuse++;
    } else {
        count_sync(for_cpu);
    }
}

/* Every byte of a fake region equals the model's: [lo, hi) by comparison; outside it the model
 * is all zeros, and so must the region be. Pages there that were never touched are not even
 * populated (mincore() says so) and hold zeros without being read - which keeps the fuzzer from
 * faulting in a megabyte of fresh pages per input just to look at them. */
static void compare_region(const uint8_t *actual, const uint8_t *model, size_t len, size_t lo, size_t hi)
{
    static unsigned char resident[ORIG_BYTES / PAGE_SIZE];
    if (hi > lo)
        CHECK(memcmp(actual + lo, model + lo, hi - lo) == 0);
    CHECK(len % PAGE_SIZE == 0 && len / PAGE_SIZE <= sizeof(resident));
    CHECK(mincore((void *)actual, len, resident) == 0);
    for (size_t pg = 0; pg < len / PAGE_SIZE; pg++) {
        size_t a = pg * PAGE_SIZE, z = a + PAGE_SIZE;
        if (!(resident[pg] & 1))
            continue;
        if (a < lo)
            CHECK(memcmp(actual + a, zeros, (z < lo ? z : lo) - a) == 0);
        if (z > hi)
            CHECK(memcmp(actual + (a > hi ? a : hi), zeros, z - (a > hi ? a : hi)) == 0);
    }
}

/* ---- checks after every operation ---- */

static void check_state(void)
{
    char why[256] = "";
    if (!swiotlb_check(M.pool, why, sizeof(why))) {
        fprintf(stderr, "fuzz_dma: swiotlb_check: %s\n", why);
        abort();
    }
    CHECK(M.pool->used_slots == M.used);
    for (uint32_t i = 0; i < M.nslots; i++) {
        CHECK(swiotlb_slot_owner(M.pool, i) == M.owner[i]);
        CHECK(((M.pool->clean[i / 64] >> (i % 64)) & 1) == M.clean[i]);
    }
    CHECK(M.pool->cursor == M.cursor);
    struct dma_stats s;
    dma_get_stats(&s);
    if (M.misuse_either) {
        /* Each of those syncs was either refused (misuse) or done (counted): exactly one. */
        CHECK(s.misuse >= M.exp.misuse && s.misuse <= M.exp.misuse + (uint64_t)M.misuse_either);
        uint64_t done = M.misuse_either - (s.misuse - M.exp.misuse);
        M.exp.misuse = s.misuse;
        if (M.either_for_cpu)
            M.exp.syncs_for_cpu += done;
        else
            M.exp.syncs_for_device += done;
        M.misuse_either = 0;
    }
    M.exp.slots_in_use = M.used;
    M.exp.slots_high_water = M.high_water;
    M.exp.slots_total = M.nslots;
#define SAME(f)                                                                                    \
    do {                                                                                           \
        if (s.f != M.exp.f) {                                                                      \
            fprintf(stderr, "fuzz_dma: counter %s is %" PRIu64 ", the model says %llu\n", #f, s.f, \
                    (unsigned long long)M.exp.f);                                                  \
            abort();                                                                               \
        }                                                                                          \
    } while (0)
    SAME(maps);
    SAME(unmaps);
    SAME(bounced_maps);
    SAME(bytes_mapped);
    SAME(bytes_bounced);
    SAME(bytes_copied_in);
    SAME(bytes_copied_out);
    SAME(bytes_zeroed);
    SAME(orig_bytes_read);
    SAME(syncs_for_cpu);
    SAME(syncs_for_device);
    SAME(slots_in_use);
    SAME(slots_high_water);
    SAME(slots_total);
    SAME(map_failures);
    SAME(misuse);
    SAME(coherent_allocs);
    SAME(coherent_frees);
    SAME(exact_unmaps);
    SAME(bytes_not_written);
#undef SAME
}

/* ---- decoding operations ---- */

static size_t pick_size(struct input *in)
{
    switch (u8(in) % 10) {
    case 0: return 1 + u8(in);
    case 1: return 1 + u16(in) % PAGE_SIZE;
    case 2: return 1 + u16(in) % 32768;
    case 3: return 1 + u24(in) % (300 * 1024);
    case 4: return PAGE_SIZE;
    case 5: return MAX_MAP;
    case 6: return MAX_MAP + 1;
    case 7: return 0;
    case 8: return SLOT * (1 + u8(in) % 8);
    default: return 1 + u16(in) % 9000;
    }
}

static int pick_dir(struct input *in)
{
    uint8_t b = u8(in);
    if (b < 240)
        return b % 3;
    return b % 2 ? DMA_NONE : 9;
}

static unsigned pick_attrs(struct input *in)
{
    uint8_t b = u8(in);
    return ((b & 3) == 3 ? DMA_ATTR_PRESERVE : 0) | ((b & 12) == 12 ? DMA_ATTR_SKIP_CPU_SYNC : 0) |
        ((b & 48) == 48 ? DMA_ATTR_EXACT_COMPLETION : 0);
}

/* A buffer inside one original: phys of size bytes. */
static uint64_t pick_buffer(struct input *in, size_t size)
{
    int o = u8(in) % NORIG;
    size_t room = ORIG_BYTES - (size == 0 ? 1 : size < ORIG_BYTES ? size : ORIG_BYTES); /* phys stays inside */
    size_t off = u24(in) % (room + 1);
    if (u8(in) % 4 == 0)
        off &= ~(size_t)(PAGE_SIZE - 1); /* page-aligned, often */
    return origs[o].phys + off;
}

static struct live *pick_live(struct input *in) { return M.nlive ? &M.live[u8(in) % M.nlive] : NULL; }

static void op_map(struct input *in, bool page)
{
    if (M.nlive >= MAX_LIVE)
        return;
    int di = u8(in) % NDEV;
    size_t size = pick_size(in);
    uint64_t phys = pick_buffer(in, size);
    int dir = pick_dir(in);
    unsigned attrs = pick_attrs(in);
    dma_addr_t got;
    if (page) {
        uint64_t off = u8(in) % 2 ? phys & (PAGE_SIZE - 1) : phys % (3 * PAGE_SIZE);
        got = dma_map_page_attrs(&devs[di], phys - off, off, size, (enum dma_data_direction)dir, attrs);
    } else {
        got = dma_map_single_attrs(&devs[di], bus(phys), size, (enum dma_data_direction)dir, attrs);
    }
    model_map(di, phys, size, dir, attrs, got, true);
}

static void compare_sg(const struct group *g, int nents)
{
    for (int i = 0; i < nents; i++) {
        compare_orig(g->sg[i].phys, g->sg[i].length);
        if (in_pool(g->sg[i].dma_address))
            compare_run(g->sg[i].dma_address, g->sg[i].length);
    }
}

static void op_map_sg(struct input *in)
{
    int nents = 1 + u8(in) % MAX_SG;
    if (M.nlive + nents > MAX_LIVE)
        return;
    struct group *g = &M.groups[u8(in) % NGROUPS];
    g->dev = u8(in) % NDEV;
    g->dir = (uint8_t)pick_dir(in);
    unsigned attrs = pick_attrs(in);
    for (int i = 0; i < nents; i++) {
        size_t size = u8(in) % 16 == 0 ? pick_size(in) : 1 + u16(in) % 12000;
        g->sg[i] = (struct scatterlist){.phys = pick_buffer(in, size), .length = (uint32_t)size};
    }
    int ret = dma_map_sg_attrs(&devs[g->dev], g->sg, nents, (enum dma_data_direction)g->dir, attrs);
    TRACE("map_sg %s %d entries dir %d -> %d\n", devs[g->dev].name, nents, g->dir, ret);
    int k = 0;
    batch = true;
    for (; k < nents; k++) {
        if (!model_map(g->dev, g->sg[k].phys, g->sg[k].length, g->dir, attrs, g->sg[k].dma_address, ret != 0))
            break;
        CHECK(g->sg[k].dma_length == g->sg[k].length);
    }
    if (k == nents) {
        CHECK(ret == nents);
        g->used = true;
        g->nents = nents;
    } else {
        /* All or nothing: the entries before the failing one were unmapped again, without copying. */
        CHECK(ret == 0);
        for (int j = 0; j < k; j++)
            model_unmap(g->dev, g->sg[j].dma_address, g->sg[j].length, g->dir, attrs | DMA_ATTR_SKIP_CPU_SYNC);
        g->used = false;
    }
    batch = false;
    compare_sg(g, k);
}

static void op_sg_other(struct input *in)
{
    struct group *g = &M.groups[u8(in) % NGROUPS];
    if (!g->used)
        return;
    uint8_t what = u8(in) % 4;
    int dir = u8(in) % 8 == 0 ? pick_dir(in) : g->dir;
    TRACE("sg group op %d dir %d\n", what, dir);
    batch = true;
    if (what == 0) {
        dma_unmap_sg(&devs[g->dev], g->sg, g->nents, (enum dma_data_direction)dir);
        for (int i = 0; i < g->nents; i++)
            model_unmap(g->dev, g->sg[i].dma_address, g->sg[i].length, dir, 0);
        g->used = false;
    } else {
        bool for_cpu = what != 1;
        if (for_cpu)
            dma_sync_sg_for_cpu(&devs[g->dev], g->sg, g->nents, (enum dma_data_direction)dir);
        else
            dma_sync_sg_for_device(&devs[g->dev], g->sg, g->nents, (enum dma_data_direction)dir);
        for (int i = 0; i < g->nents; i++)
            model_sync(g->dev, g->sg[i].dma_address, g->sg[i].dma_length, dir, for_cpu);
    }
    batch = false;
    compare_sg(g, g->nents);
}

/* The fake device writes part of a live mapping through its DMA address - or, misbehaving,
 * anywhere in the slots of its bounce, outside the mapping too (the offset before it, the slack
 * after it), which the zero policy's unmap must clear all the same. */
static void op_device_write(struct input *in)
{
    struct live *l = pick_live(in);
    if (l == NULL)
        return;
    if (l->bounced && u8(in) % 4 == 0) {
        uint32_t run = l->nslots * (uint32_t)SLOT, from = u24(in) % run, len = 1 + u24(in) % (run - from);
        uint8_t v = u8(in);
        TRACE("device writes %#x to slot %u + %u, %u bytes\n", v, l->slot, from, len);
        memset(bus(slot_addr(l->slot) + from), v, len);
        memset(model_pool(slot_addr(l->slot) + from, len), v, len);
        return;
    }
    uint32_t from = u24(in) % l->size, len = 1 + u24(in) % (l->size - from);
    uint8_t v = u8(in);
    TRACE("device writes %#x to %#llx + %u, %u bytes\n", v, (unsigned long long)l->addr, from, len);
    memset(bus(l->addr + from), v, len);
    if (l->bounced)
        memset(model_pool(l->addr + from, len), v, len);
    else
        memset(model_orig(l->phys + from, len), v, len);
}

static void op_cpu_write(struct input *in)
{
    size_t len = 1 + u16(in) % 8192;
    uint64_t phys = pick_buffer(in, len);
    uint8_t v = u8(in);
    TRACE("cpu writes %#x to %#llx, %zu bytes\n", v, (unsigned long long)phys, len);
    memset(bus(phys), v, len);
    memset(model_orig(phys, len), v, len);
}

/* An address to unmap or sync that may or may not be mapped. */
static dma_addr_t odd_address(struct input *in)
{
    switch (u8(in) % 7) {
    case 6: return M.ncoh ? M.coh[u8(in) % M.ncoh].handle + (u8(in) % 2 ? 0 : u16(in) % 8192) : 0;
    case 0: return M.start + u24(in) % (M.nslots * SLOT);
    case 1: return origs[u8(in) % NORIG].phys + u24(in) % ORIG_BYTES;
    case 2: return DMA_MAPPING_ERROR;
    case 3: return 0;
    case 4: return M.nfreed ? M.freed[u8(in) % (M.nfreed < NFREED ? M.nfreed : NFREED)].addr : 0;
    default: {
        struct live *l = pick_live(in);
        return l ? l->addr + (uint64_t)(int64_t)(int8_t)u8(in) : 1;
    }
    }
}

static void op_unmap(struct input *in)
{
    struct live *l = pick_live(in);
    uint8_t how = u8(in);
    unsigned attrs = u8(in) % 8 == 0 ? DMA_ATTR_SKIP_CPU_SYNC : 0;
    int di;
    dma_addr_t addr;
    size_t size;
    int dir;
    if (l != NULL && how < 160) { /* right */
        di = l->dev, addr = l->addr, size = l->size, dir = l->dir;
    } else if (l != NULL && how < 190) { /* wrong size or direction, or another device */
        di = how % 5 == 0 ? u8(in) % NDEV : l->dev, addr = l->addr;
        size = how % 2 ? l->size : (size_t)1 + u16(in);
        dir = how % 3 ? pick_dir(in) : l->dir;
    } else if (how < 215 && M.nfreed) { /* double */
        const struct freed *f = &M.freed[u8(in) % (M.nfreed < NFREED ? M.nfreed : NFREED)];
        di = f->dev, addr = f->addr, size = f->size, dir = f->dir;
    } else if (how < 235 && M.ncoh) { /* a coherent buffer, unmapped as if streaming */
        const struct coh *c = &M.coh[u8(in) % M.ncoh];
        di = u8(in) % 4 ? c->dev : u8(in) % NDEV;
        addr = c->handle;
        size = u8(in) % 2 ? page_round(c->size) : c->size;
        dir = u8(in) % 2 ? DMA_NONE : pick_dir(in);
    } else { /* anywhere */
        di = u8(in) % NDEV;
        addr = odd_address(in);
        size = pick_size(in);
        dir = pick_dir(in);
    }
    uint8_t form = u8(in) % 4;
    if (form >= 2) { /* exact completion: any length, a lying one included */
        size_t written = u8(in) % 4 == 0 ? (size_t)u16(in) * 7 : u8(in) % 2 ? size : (size_t)u16(in) % (size + 1);
        if (form == 2)
            dma_unmap_single_written(&devs[di], addr, size, (enum dma_data_direction)dir, written);
        else
            dma_unmap_page_written(&devs[di], addr, size, (enum dma_data_direction)dir, written);
        /* dma/mapping.c's rules: nothing into TO_DEVICE, nothing beyond the mapping; both misuse */
        M.exp.exact_unmaps++;
        if (dir == DMA_TO_DEVICE && written) {
            M.exp.misuse++;
            written = 0;
        } else if (written > size) {
            M.exp.misuse++;
            written = size;
        }
        if (dir != DMA_TO_DEVICE)
            M.exp.bytes_not_written += size - written;
        model_unmap_written(di, addr, size, dir, 0, written);
        return;
    }
    if (form)
        dma_unmap_single_attrs(&devs[di], addr, size, (enum dma_data_direction)dir, attrs);
    else
        dma_unmap_page_attrs(&devs[di], addr, size, (enum dma_data_direction)dir, attrs);
    model_unmap(di, addr, size, dir, attrs);
}

static void op_sync(struct input *in, bool for_cpu)
{
    struct live *l = pick_live(in);
    uint8_t how = u8(in);
    int di;
    dma_addr_t addr;
    size_t len;
    int dir;
    if (l != NULL && how < 170) { /* inside, mostly right */
        uint32_t from = u24(in) % l->size;
        di = l->dev;
        addr = l->addr + from;
        len = 1 + u24(in) % (l->size - from);
        dir = how < 150 ? l->dir : pick_dir(in);
    } else if (l != NULL && how < 200) { /* reaching past the end, or starting before */
        di = l->dev;
        addr = l->addr + (how % 2 ? u16(in) % (l->size + 1) : (uint64_t) - (int64_t)(1 + u8(in) % 64));
        len = l->size - (addr - l->addr < l->size ? addr - l->addr : 0) + 1 + u8(in) % 64;
        dir = l->dir;
    } else if (l != NULL && how < 215) { /* another device, or nothing, inside a mapping */
        uint32_t from = u24(in) % l->size;
        di = u8(in) % NDEV;
        addr = l->addr + from;
        len = u8(in) % 4 ? 1 + u24(in) % (l->size - from) : 0;
        dir = l->dir;
    } else if (how < 230 && M.ncoh) { /* inside a coherent buffer, as if streaming */
        const struct coh *c = &M.coh[u8(in) % M.ncoh];
        size_t sz = page_round(c->size), from = u16(in) % sz;
        di = u8(in) % 4 ? c->dev : u8(in) % NDEV;
        addr = c->handle + from;
        len = 1 + u16(in) % (sz - from);
        dir = u8(in) % 2 ? DMA_NONE : pick_dir(in);
    } else {
        di = u8(in) % NDEV;
        addr = odd_address(in);
        len = u16(in) % 9000;
        dir = pick_dir(in);
    }
    if (for_cpu)
        dma_sync_single_for_cpu(&devs[di], addr, len, (enum dma_data_direction)dir);
    else
        dma_sync_single_for_device(&devs[di], addr, len, (enum dma_data_direction)dir);
    model_sync(di, addr, len, dir, for_cpu);
}

/* dma_free_coherent() and what it must do: free a buffer whose record (device, handle, rounded
 * size) is there; anything else - a double free, a wrong size or device, a record a streaming
 * unmap took - is misuse and frees nothing. */
static void model_free_coherent(struct coh *c, int di, size_t size)
{
    TRACE("free_coherent %s %#llx size %zu (allocated by %s, %zu B, %srecorded)\n", devs[di].name,
          (unsigned long long)c->handle, size, devs[c->dev].name, c->size, c->recorded ? "" : "not ");
    dma_free_coherent(&devs[di], size, c->cpu, c->handle);
    if (c->recorded && di == c->dev && page_round(size) == page_round(c->size)) {
        M.exp.coherent_frees++;
        c->recorded = false;
    } else {
        M.exp.misuse++;
    }
}

static void op_coherent(struct input *in)
{
    uint8_t how = u8(in);
    if (how < 100 || M.ncoh == 0) {
        if (M.coh_attempts >= MAX_COH)
            return;
        M.coh_attempts++;
        int di = u8(in) % NDEV;
        size_t size = u8(in) % 16 == 0 ? 0 : 1 + u16(in) % 40000;
        dma_addr_t h = 0;
        uint8_t *p = dma_alloc_coherent(&devs[di], size, &h);
        TRACE("alloc_coherent %s %zu B -> %#llx\n", devs[di].name, size, p ? (unsigned long long)h : 0ull);
        if (size == 0) {
            CHECK(p == NULL);
            M.exp.misuse++;
            return;
        }
        uint64_t mask = devs[di].coherent_mask ? devs[di].coherent_mask : devs[di].dma_mask;
        if (p == NULL) {
            CHECK(mask < DMA_BIT_MASK(32)); /* the fake platform always has memory for a 32-bit mask */
            return;
        }
        CHECK(h + size - 1 <= mask);
        CHECK(fake_platform()->virt_to_phys(p) == h);
        CHECK(memcmp(p, zeros, size) == 0);
        M.exp.coherent_allocs++;
        M.coh[M.ncoh++] = (struct coh){di, p, h, size, M.seq++, true};
        return;
    }
    struct coh *c = &M.coh[u8(in) % M.ncoh];
    switch (how % 8) {
    case 0: /* wrong handle */
        dma_free_coherent(&devs[c->dev], c->size, c->cpu, c->handle + PAGE_SIZE * (1 + u8(in) % 4));
        M.exp.misuse++;
        return;
    case 1:
        dma_free_coherent(&devs[c->dev], c->size, NULL, c->handle);
        M.exp.misuse++;
        return;
    case 2: { /* another size: one more or less page, or any */
        uint8_t b = u8(in);
        size_t size = b % 3 == 0                ? c->size + PAGE_SIZE
            : b % 3 == 1 && c->size > PAGE_SIZE ? c->size - PAGE_SIZE
                                                : 1 + u16(in) % 40000;
        model_free_coherent(c, c->dev, size);
        return;
    }
    case 3: /* some device */ model_free_coherent(c, u8(in) % NDEV, c->size); return;
    default: /* right (a double free when it was freed already) */
        model_free_coherent(c, c->dev, u8(in) % 2 ? c->size : page_round(c->size));
        return;
    }
}

/* ---- one input ---- */

static void setup_world(struct input *in)
{
    /* 64..256 KiB, one not a multiple of 64 slots, and a tiny one smaller than some alignment strides. */
    static const uint32_t pool_slots[] = {32, 64, 100, 128, 12, 128, 64, 100};
    static const uint64_t nvme_masks[] = {DMA_BIT_MASK(32), DMA_BIT_MASK(64), DMA_BIT_MASK(36), DMA_BIT_MASK(32)};
    static const uint32_t aligns[] = {0xfff, 0x7ff, 0x3fff, 0, 0x1ff, 0xffff, 0xfff, 0xfff};
    static const uint32_t max_segs[] = {0, 0, KiB(4), KiB(64), KiB(300), KiB(2), 0, 12000};
    static const uint64_t bounds[] = {0, 0x3fff, 0xffff, 0x7ff, DMA_BIT_MASK(32), ~0ull, 0x1fff, 0};
    uint8_t b0 = u8(in), b1 = u8(in), b2 = u8(in), b3 = u8(in);
    M.nslots = pool_slots[(b0 & 3) | (b0 >> 7) << 2];
    M.policy = (enum bounce_policy)((b0 >> 2) % 3);
    M.force = (b0 >> 4) % 8 == 0;
    CHECK(dma_init(fake_platform(), M.nslots * SLOT, M.policy) == 0);
    fake_platform()->force_bounce = M.force;
    M.pool = dma_installed_pool();
    CHECK(M.pool != NULL && M.pool->nslots == M.nslots);
    M.start = M.pool->start;
    for (uint32_t k = 0; k < M.nslots; k++)
        M.clean[k] = true; /* a fresh pool is zeroed memory */
    M.pool_lo = MAX_POOL_BYTES;
    M.pool_hi = 0;
    for (int o = 0; o < NORIG; o++) {
        origs[o].v = o < 2 ? fake_alloc_low(ORIG_BYTES, &origs[o].phys) : fake_alloc_high(ORIG_BYTES, &origs[o].phys);
        CHECK(origs[o].v != NULL);
        M.orig_lo[o] = ORIG_BYTES;
        M.orig_hi[o] = 0;
    }
    devs[0] = (struct dma_dev){.name = "d32", .dma_mask = DMA_BIT_MASK(32)};
    devs[1] = (struct dma_dev){.name = "d64", .dma_mask = DMA_BIT_MASK(64), .force_bounce = b1 & 1};
    devs[2] = (struct dma_dev){.name = "nvme",
                               .dma_mask = nvme_masks[(b1 >> 1) & 3],
                               .min_align_mask = aligns[(b1 >> 3) & 7],
                               .max_segment_size = max_segs[(b1 >> 6) | ((b2 & 1) << 2)]};
    devs[3] = (struct dma_dev){.name = "seg",
                               .dma_mask = DMA_BIT_MASK(32),
                               .seg_boundary_mask = bounds[(b2 >> 1) & 7],
                               .min_align_mask = b2 & 0x10 ? 0xfff : 0,
                               .force_bounce = (b2 & 0x20) != 0};
    /* A mask that ends inside the pool: on a slot boundary, or inside a slot. */
    uint64_t part = M.start + (1 + b3 % M.nslots) * SLOT - 1;
    if (b3 & 0x80)
        part -= 1 + (b3 & 0x3f) * 16;
    devs[4] = (struct dma_dev){.name = "part", .dma_mask = part, .coherent_mask = DMA_BIT_MASK(32)};
    devs[5] = (struct dma_dev){.name = "isa", .dma_mask = DMA_BIT_MASK(24)};
}

static void finish_world(void)
{
    /* Unmap everything the right way, then every byte must match the model. */
    while (M.nlive > 0) {
        struct live *l = &M.live[M.nlive - 1];
        int di = l->dev;
        dma_addr_t addr = l->addr;
        size_t size = l->size;
        int dir = l->dir;
        dma_unmap_single(&devs[di], addr, size, (enum dma_data_direction)dir);
        model_unmap(di, addr, size, dir, 0);
        check_state();
    }
    for (int i = 0; i < M.ncoh; i++) /* frees what is recorded; the others are double frees */
        model_free_coherent(&M.coh[i], M.coh[i].dev, M.coh[i].size);
    check_state();
    CHECK(M.used == 0);
    compare_region(M.pool->vaddr, m_pool, ((size_t)M.nslots * SLOT + (PAGE_SIZE - 1)) & ~(size_t)(PAGE_SIZE - 1),
                   M.pool_lo, M.pool_hi);
    for (int o = 0; o < NORIG; o++)
        compare_region(origs[o].v, m_orig[o], ORIG_BYTES, M.orig_lo[o], M.orig_hi[o]);
    char json[1024];
    int len = dma_stats_json(json, sizeof(json));
    CHECK(len > 0 && (size_t)len < sizeof(json) && json[0] == '{' && json[len - 1] == '}');
    CHECK(strstr(json, "\"orig_bytes_read\":") != NULL && strstr(json, "\"misuse\":") != NULL);

    dma_shutdown();
    fake_platform_reset();
    if (M.pool_hi > M.pool_lo)
        memset(m_pool + M.pool_lo, 0, M.pool_hi - M.pool_lo);
    for (int o = 0; o < NORIG; o++)
        if (M.orig_hi[o] > M.orig_lo[o])
            memset(m_orig[o] + M.orig_lo[o], 0, M.orig_hi[o] - M.orig_lo[o]);
    memset(&M, 0, sizeof(M));
    memset(devs, 0, sizeof(devs));
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    /* Misuse reports are printf()s: keep them, cheaply, out of the fuzzer's output. */
    if (freopen("/dev/null", "w", stdout) == NULL)
        abort();
    const char *t = getenv("FUZZ_DMA_TRACE");
    trace = t != NULL && *t == '1';
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct input in = {data, size};
    setup_world(&in);
    check_state();
    for (int ops = 0; in.left > 0 && ops < MAX_OPS; ops++) {
        switch (u8(&in) % 16) {
        case 0:
        case 1: op_map(&in, false); break;
        case 2: op_map(&in, true); break;
        case 3: op_map_sg(&in); break;
        case 4: op_sg_other(&in); break;
        case 5:
        case 6: op_device_write(&in); break;
        case 7: op_cpu_write(&in); break;
        case 8: op_sync(&in, true); break;
        case 9: op_sync(&in, false); break;
        case 10:
        case 11: op_unmap(&in); break;
        case 12: op_coherent(&in); break;
        case 13:
            M.policy = (enum bounce_policy)(u8(&in) % 3);
            TRACE("policy %d\n", M.policy);
            dma_set_bounce_policy(M.policy);
            break;
        case 14:
            M.force = u8(&in) % 4 == 0;
            TRACE("platform force_bounce %d\n", M.force);
            fake_platform()->force_bounce = M.force;
            break;
        default: {
            dma_stats_reset();
            uint64_t total = M.exp.slots_total;
            memset(&M.exp, 0, sizeof(M.exp));
            M.exp.slots_total = total;
            M.high_water = M.used;
            break;
        }
        }
        check_state();
    }
    finish_world();
    return 0;
}
