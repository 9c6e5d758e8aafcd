/* SPDX-License-Identifier: MIT */
/* canary.h - looking for the guest's secret where the host can see it. Pure.
 *
 * The confidential guest writes a canary into private memory: the 14 bytes "BOUNCE-CANARY:"
 * followed by 18 bytes that differ per boot (docs/confidential.md). Finding the prefix in memory
 * the host can read means private data leaked into shared memory. The VMM scans every buffer its
 * virtio-blk device is about to write and, at exit, all host-visible guest memory.
 */
#ifndef BOUNCE_VMM_CANARY_H
#define BOUNCE_VMM_CANARY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CANARY_PREFIX "BOUNCE-CANARY:"
#define CANARY_PREFIX_LEN 14
#define CANARY_MAX_WHERE 10

enum canary_when { CANARY_IN_REQUEST, CANARY_AT_EXIT };

struct canary_where {
    uint64_t gpa;
    enum canary_when when;
    uint64_t request; /* CANARY_IN_REQUEST: the request's number (1 = the first served) */
};

/* Decides that a match is not a leak (the guest image itself holds the prefix as a constant):
 * returns true to ignore the match at gpa. */
typedef bool (*canary_ignore_fn)(void *ctx, uint64_t gpa);

struct canary_log {
    uint64_t found;   /* matches counted */
    uint64_t ignored; /* matches the ignore hook dismissed */
    unsigned nwhere;  /* entries in where[] (the first CANARY_MAX_WHERE matches) */
    struct canary_where where[CANARY_MAX_WHERE];
    canary_ignore_fn ignore;
    void *ignore_ctx;
};

/* Scan buf (which holds guest physical [gpa, gpa + len)) for the prefix; record every match.
 * Returns the number of matches recorded by this call. */
uint64_t canary_scan(struct canary_log *log, const uint8_t *buf, size_t len, uint64_t gpa, enum canary_when when,
                     uint64_t request);

#endif
