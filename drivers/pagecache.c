/* SPDX-License-Identifier: MIT */
/* pagecache.c - page cache and on-demand readahead (see pagecache.h). */
#include "drivers/pagecache.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/cpu.h"
#include "kernel/options.h"
#include "kernel/panic.h"
#include "kernel/report.h"
#include "kernel/time.h"
#include "lib/json.h"
#include "mm/cc_canary.h"
#include "mm/mm.h"

#define PAGE_SECTORS (PAGE_SIZE / SECTOR_SIZE)
#define PG_UPTODATE 1u
#define PG_LOCKED 2u    /* a read is in flight */
#define PG_READAHEAD 4u /* reaching this page starts the next window */
#define PG_ERROR 8u
#define NONE (-1)
#define MAX_FILLED_RANGES 8192

struct cpage {
    struct blk_dev *dev; /* NULL: the slot is free (its frame is kept for reuse) */
    uint64_t index;      /* page number within the device */
    uint64_t phys;
    uint32_t flags;
    int32_t hnext;      /* hash chain */
    int32_t prev, next; /* LRU list, most recent first; free slots chain through next */
};

struct ra_state {
    struct blk_dev *dev;
    uint64_t start, size, async_size; /* the current window, in pages */
    uint64_t prev_index;              /* the last page a reader asked for */
    bool valid;
};

/* A read request and the pages it fills. */
struct cache_req {
    struct blk_req req;
    int32_t page[BLK_MAX_SEGMENTS];
    struct cache_req *next_free;
};

struct range {
    uint64_t start, len;
};

static struct cpage *pages;
static uint32_t nslots, max_pages;
static int32_t *buckets;
static uint32_t nbuckets;
static int32_t lru_head = NONE, lru_tail = NONE, free_slots = NONE;
static struct ra_state ra[BLK_MAX_DEVICES];
static struct cache_req *free_reqs;
static struct range *filled;
static uint32_t nfilled, filled_dropped;
static struct pagecache_stats stats;
static enum frame_zone_pref zone_pref;
static uint64_t ra_init_pages, ra_max_pages;

static uint32_t hash(const struct blk_dev *dev, uint64_t index)
{
    return (uint32_t)(((uintptr_t)dev >> 4) * 0x9e3779b1u ^ index * 0x85ebca6bu) & (nbuckets - 1);
}

static int32_t lookup(struct blk_dev *dev, uint64_t index)
{
    for (int32_t i = buckets[hash(dev, index)]; i != NONE; i = pages[i].hnext)
        if (pages[i].dev == dev && pages[i].index == index)
            return i;
    return NONE;
}

static void lru_unlink(int32_t i)
{
    struct cpage *p = &pages[i];
    if (p->prev != NONE)
        pages[p->prev].next = p->next;
    else
        lru_head = p->next;
    if (p->next != NONE)
        pages[p->next].prev = p->prev;
    else
        lru_tail = p->prev;
    p->prev = p->next = NONE;
}

static void lru_push_front(int32_t i)
{
    pages[i].prev = NONE;
    pages[i].next = lru_head;
    if (lru_head != NONE)
        pages[lru_head].prev = i;
    lru_head = i;
    if (lru_tail == NONE)
        lru_tail = i;
}

static void hash_remove(int32_t i)
{
    int32_t *link = &buckets[hash(pages[i].dev, pages[i].index)];
    while (*link != i)
        link = &pages[*link].hnext;
    *link = pages[i].hnext;
}

/* Take a page out of the cache; its frame stays with the slot for the next user. */
static void drop(int32_t i)
{
    hash_remove(i);
    lru_unlink(i);
    pages[i].dev = NULL;
    pages[i].flags = 0;
    pages[i].next = free_slots;
    free_slots = i;
    stats.pages--;
}

/* A slot with a frame for (dev, index): a free slot, a new one, or the least recently used page
 * nobody is reading. NONE if every page is in flight. */
static int32_t new_page(struct blk_dev *dev, uint64_t index)
{
    int32_t i = NONE;
    if (free_slots != NONE) {
        i = free_slots;
        free_slots = pages[i].next;
    } else if (nslots < max_pages) {
        uint64_t pa = alloc_pages(zone_pref, 1);
        if (pa != FRAME_NONE) {
            i = (int32_t)nslots++;
            pages[i].phys = pa;
        }
    }
    if (i == NONE) {
        for (int32_t v = lru_tail; v != NONE; v = pages[v].prev) {
            if (!(pages[v].flags & PG_LOCKED)) {
                drop(v);
                stats.evictions++;
                i = free_slots;
                free_slots = pages[i].next;
                break;
            }
        }
        if (i == NONE)
            return NONE;
    }
    struct cpage *p = &pages[i];
    p->dev = dev;
    p->index = index;
    p->flags = PG_LOCKED;
    uint32_t b = hash(dev, index);
    p->hnext = buckets[b];
    buckets[b] = i;
    lru_push_front(i);
    stats.pages++;
    /* Confidential mode: the page holds a secret, as a recycled page would hold its last user's
     * data (docs/confidential.md, "The canary"). A read that bounces under the copy policy, or
     * converts the page under it, shows it to the host; zero-fill and init_on_alloc do not. */
    if (confidential())
        cc_canary_write(phys_to_virt(p->phys));
    if (kopts.init_on_alloc)
        memset(phys_to_virt(p->phys), 0, PAGE_SIZE);
    return i;
}

static void note_filled(uint64_t phys)
{
    if (nfilled > 0 && filled[nfilled - 1].start + filled[nfilled - 1].len == phys) {
        filled[nfilled - 1].len += PAGE_SIZE;
        return;
    }
    if (nfilled == MAX_FILLED_RANGES) {
        filled_dropped++;
        return;
    }
    filled[nfilled++] = (struct range){phys, PAGE_SIZE};
}

static void read_done(struct blk_req *r)
{
    struct cache_req *cr = r->private;
    uint64_t at = 0; /* where segment k starts in the request's data */
    for (uint32_t k = 0; k < r->nseg; k++) {
        struct cpage *p = &pages[cr->page[k]];
        p->flags &= ~PG_LOCKED;
        at += r->seg[k].len;
        if (r->status != BLK_OK && at > r->bytes_done) {
            p->flags |= PG_ERROR;
            continue;
        }
        if (r->status != BLK_OK)
            stats.partial_pages++;     /* transferred before the error */
        if (r->seg[k].len < PAGE_SIZE) /* the disk ends inside this page */
            memset((uint8_t *)phys_to_virt(p->phys) + r->seg[k].len, 0, PAGE_SIZE - r->seg[k].len);
        p->flags |= PG_UPTODATE;
        stats.filled_pages++;
        if (p->dev->fills_by_dma) {
            stats.dma_filled_pages++;
            note_filled(p->phys);
        }
    }
    if (r->status != BLK_OK)
        stats.io_errors++;
    cr->next_free = free_reqs;
    free_reqs = cr;
}

static struct cache_req *get_req(void)
{
    struct cache_req *cr = free_reqs;
    if (cr) {
        free_reqs = cr->next_free;
        return cr;
    }
    cr = malloc(sizeof(*cr));
    if (cr == NULL)
        panic("pagecache: out of memory for requests");
    return cr;
}

static void send(struct blk_dev *dev, struct cache_req *cr)
{
    if (cr->req.nseg == 0)
        return;
    stats.requests++;
    blk_submit(dev, &cr->req);
}

/* Read the uncached pages of [first, first + n) in as few requests as the device takes; mark
 * page `marker` (if in range) PG_READAHEAD. Returns the number of pages submitted. */
static uint64_t read_pages(struct blk_dev *dev, uint64_t first, uint64_t n, uint64_t marker)
{
    uint64_t dev_pages = (dev->capacity + PAGE_SECTORS - 1) / PAGE_SECTORS, submitted = 0;
    uint32_t per_req =
        dev->max_segments < dev->max_sectors / PAGE_SECTORS ? dev->max_segments : dev->max_sectors / PAGE_SECTORS;
    if (per_req > BLK_MAX_SEGMENTS)
        per_req = BLK_MAX_SEGMENTS;
    if (per_req == 0)
        per_req = 1;
    if (first >= dev_pages)
        return 0;
    if (n > dev_pages - first)
        n = dev_pages - first;
    struct cache_req *cr = NULL;
    for (uint64_t idx = first; idx < first + n; idx++) {
        int32_t i = lookup(dev, idx);
        if (i != NONE || (cr && cr->req.nseg == per_req)) {
            if (cr)
                send(dev, cr);
            cr = NULL;
            if (i != NONE)
                continue; /* cached or in flight already: requests cover only contiguous misses */
        }
        i = new_page(dev, idx);
        if (i == NONE)
            break; /* every page is in flight: read what we have */
        if (idx == marker)
            pages[i].flags |= PG_READAHEAD;
        if (cr == NULL) {
            cr = get_req();
            memset(&cr->req, 0, offsetof(struct blk_req, seg));
            cr->req.op = BLK_READ;
            cr->req.lba = idx * PAGE_SECTORS;
            cr->req.end_io = read_done;
            cr->req.private = cr;
        }
        uint64_t sectors = dev->capacity - idx * PAGE_SECTORS;
        uint32_t len = sectors < PAGE_SECTORS ? (uint32_t)sectors * SECTOR_SIZE : PAGE_SIZE;
        cr->page[cr->req.nseg] = i;
        cr->req.seg[cr->req.nseg++] = (struct blk_segment){pages[i].phys, len};
        cr->req.nsectors += len / SECTOR_SIZE;
        submitted++;
    }
    if (cr)
        send(dev, cr);
    return submitted;
}

static struct ra_state *ra_of(struct blk_dev *dev)
{
    for (int k = 0; k < BLK_MAX_DEVICES; k++)
        if (ra[k].dev == dev)
            return &ra[k];
    for (int k = 0; k < BLK_MAX_DEVICES; k++)
        if (ra[k].dev == NULL) {
            ra[k].dev = dev;
            return &ra[k];
        }
    return &ra[0]; /* more devices than slots cannot happen: blk registers at most as many */
}

static uint64_t next_window(uint64_t cur) { return cur * 2 < ra_max_pages ? cur * 2 : ra_max_pages; }

/* A reader missed page idx and wants `want` pages from there. */
static void miss(struct blk_dev *dev, uint64_t idx, uint64_t want)
{
    struct ra_state *st = ra_of(dev);
    bool sequential = idx == 0 || (st->valid && (idx == st->prev_index + 1 || idx == st->start + st->size));
    if (!sequential || ra_max_pages == 0) {
        stats.random_reads++;
        read_pages(dev, idx, want, UINT64_MAX);
        return;
    }
    uint64_t size;
    if (st->valid && idx == st->start + st->size)
        size = next_window(st->size); /* the stream outran the async readahead: keep growing */
    else
        size = ra_init_pages;
    if (size < want)
        size = want < ra_max_pages ? want : ra_max_pages;
    /* Mark the first page past the request: reaching it means the reader is streaming. */
    st->start = idx;
    st->size = size;
    st->async_size = size > want ? size - want : 0;
    st->valid = true;
    stats.sync_windows++;
    uint64_t n = read_pages(dev, idx, size, st->async_size ? idx + want : UINT64_MAX);
    stats.readahead_pages += n > want ? n - want : 0;
}

/* A reader reached a PG_READAHEAD page at idx: read the next window without waiting for it. */
static void hit_marker(struct blk_dev *dev, uint64_t idx)
{
    struct ra_state *st = ra_of(dev);
    uint64_t start, size;
    if (st->valid && idx >= st->start && idx < st->start + st->size) {
        start = st->start + st->size;
        size = next_window(st->size);
    } else {
        start = idx + 1;
        size = ra_init_pages;
    }
    st->start = start;
    st->size = size;
    st->async_size = size;
    st->valid = true;
    stats.async_windows++;
    stats.readahead_pages += read_pages(dev, start, size, start);
}

static bool page_unlocked(void *arg) { return !(pages[*(int32_t *)arg].flags & PG_LOCKED); }

static bool wait_page(int32_t i) { return blk_wait_until(page_unlocked, &i, BLK_TIMEOUT_NS); }

/* Page idx for a reader who wants up to page `last`: cached, or read (with readahead), waited
 * for; if the request that should have filled it failed, read once more on its own. */
static enum blk_status reader_page(struct blk_dev *dev, uint64_t idx, uint64_t last, int32_t *out)
{
    for (int attempt = 0;; attempt++) {
        int32_t i = lookup(dev, idx);
        if (i == NONE) {
            stats.misses++;
            if (attempt == 0)
                miss(dev, idx, last - idx + 1);
            else
                read_pages(dev, idx, 1, UINT64_MAX);
            i = lookup(dev, idx);
            if (i == NONE)
                return BLK_EIO; /* could not even get a page frame */
        } else {
            stats.hits++;
            if (pages[i].flags & PG_READAHEAD) {
                pages[i].flags &= ~PG_READAHEAD;
                hit_marker(dev, idx);
            }
        }
        if (pages[i].flags & PG_LOCKED) {
            stats.waits++;
            if (!wait_page(i))
                return BLK_ETIMEDOUT;
        }
        if (!(pages[i].flags & PG_ERROR)) {
            *out = i;
            return BLK_OK;
        }
        drop(i);
        if (attempt == 1)
            return BLK_EIO;
        stats.page_retries++;
    }
}

enum blk_status pagecache_read(struct blk_dev *dev, uint64_t pos, void *buf, size_t len)
{
    uint8_t *out = buf;
    if (len == 0)
        return BLK_OK;
    if (pos >= dev->capacity * SECTOR_SIZE || len > dev->capacity * SECTOR_SIZE - pos)
        return BLK_EINVAL;
    uint64_t first = pos / PAGE_SIZE, last = (pos + len - 1) / PAGE_SIZE;
    struct ra_state *st = ra_of(dev);
    for (uint64_t idx = first; idx <= last; idx++) {
        int32_t i;
        enum blk_status s = reader_page(dev, idx, last, &i);
        if (s != BLK_OK)
            return s;
        uint64_t off = idx == first ? pos % PAGE_SIZE : 0;
        uint64_t n = (idx == last ? (pos + len - 1) % PAGE_SIZE + 1 : PAGE_SIZE) - off;
        memcpy(out, (const uint8_t *)phys_to_virt(pages[i].phys) + off, n);
        out += n;
        lru_unlink(i);
        lru_push_front(i);
        st->prev_index = idx;
    }
    return BLK_OK;
}

void pagecache_invalidate(struct blk_dev *dev)
{
    for (uint32_t i = 0; i < nslots; i++)
        if (pages[i].dev == dev && !(pages[i].flags & PG_LOCKED))
            drop((int32_t)i);
    struct ra_state *st = ra_of(dev);
    st->valid = false;
}

uint64_t pagecache_page_phys(struct blk_dev *dev, uint64_t pos)
{
    int32_t i = lookup(dev, pos / PAGE_SIZE);
    return i == NONE ? 0 : pages[i].phys;
}

void pagecache_get_stats(struct pagecache_stats *out)
{
    stats.max_pages = max_pages;
    *out = stats;
}

void pagecache_reset_stats(void)
{
    uint64_t keep = stats.pages;
    memset(&stats, 0, sizeof(stats));
    stats.pages = keep;
}

static int by_start(const void *a, const void *b)
{
    const struct range *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

/* One line: the counters and the physical ranges filled by DMA, sorted and merged, so host-side
 * tools can tell the DMA workload's pages from everything else the guest touched. */
static void print_report(void)
{
    qsort(filled, nfilled, sizeof(filled[0]), by_start);
    uint32_t n = 0;
    for (uint32_t k = 0; k < nfilled; k++) {
        if (n > 0 && filled[k].start <= filled[n - 1].start + filled[n - 1].len) {
            uint64_t end = filled[k].start + filled[k].len;
            if (end > filled[n - 1].start + filled[n - 1].len)
                filled[n - 1].len = end - filled[n - 1].start;
        } else {
            filled[n++] = filled[k];
        }
    }
    nfilled = n;
    struct json_writer w;
    printf(REPORT_PREFIX " pagecache ");
    json_begin(&w, NULL, 0);
    json_str(&w, "zone", pagecache_zone_names[kopts.pagecache_zone]);
    json_bool(&w, "init_on_alloc", kopts.init_on_alloc);
    json_u64(&w, "max_pages", max_pages);
    json_u64(&w, "pages", stats.pages);
#define PAGECACHE_STATS_JSON(name, what) json_u64(&w, #name, stats.name);
    PAGECACHE_STATS(PAGECACHE_STATS_JSON)
#undef PAGECACHE_STATS_JSON
    json_u64(&w, "ranges_dropped", filled_dropped);
    json_key(&w, "dma_filled_ranges");
    json_append(&w, "[");
    for (uint32_t k = 0; k < nfilled; k++)
        json_append(&w, "%s[%" PRIu64 ",%" PRIu64 "]", k ? "," : "", filled[k].start, filled[k].len);
    json_append(&w, "]");
    json_end(&w);
    printf("\n");
}

void pagecache_init(void)
{
    max_pages = (uint32_t)(kopts.pagecache_bytes / PAGE_SIZE);
    zone_pref = kopts.pagecache_zone == PAGECACHE_DMA32 ? FRAME_DMA32 : FRAME_PREFER_HIGH;
    ra_init_pages = kopts.readahead_bytes / PAGE_SIZE;
    ra_max_pages = kopts.readahead_max_bytes / PAGE_SIZE;
    if (ra_init_pages > ra_max_pages)
        ra_init_pages = ra_max_pages;
    for (nbuckets = 64; nbuckets < max_pages / 2; nbuckets *= 2)
        ;
    pages = calloc(max_pages, sizeof(*pages));
    buckets = malloc(nbuckets * sizeof(*buckets));
    filled = malloc(MAX_FILLED_RANGES * sizeof(*filled));
    if (pages == NULL || buckets == NULL || filled == NULL)
        panic("pagecache: cannot allocate bookkeeping for %u pages", max_pages);
    for (uint32_t b = 0; b < nbuckets; b++)
        buckets[b] = NONE;
    printf("pagecache: up to %u pages (%" PRIu64 " MiB) from zone %s, readahead %" PRIu64 " KiB growing to %" PRIu64
           " KiB, "
           "pages %s at allocation\n",
           max_pages, (kopts.pagecache_bytes >> 20), pagecache_zone_names[kopts.pagecache_zone], (ra_init_pages * 4),
           (ra_max_pages * 4), kopts.init_on_alloc ? "zeroed" : "not zeroed");
    report_register(print_report);
}
