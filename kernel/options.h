/* SPDX-License-Identifier: MIT */
/* options.h - the kernel command line, parsed once at boot (table in options.c). */
#ifndef BOUNCE_KERNEL_OPTIONS_H
#define BOUNCE_KERNEL_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/cmdline.h"

#define MAX_VIRTIO_MMIO 4

/* Trace categories for `trace=`: one readable line per event of the category. */
enum trace_category { TRACE_MM, TRACE_DMA, TRACE_PCI, TRACE_BLK, TRACE_HC, TRACE_COUNT };

/* The test disks (tools/mkdisk), as `require=` names them: bit per kind in kopts.require. */
enum test_disk { TEST_DISK_DATA, TEST_DISK_SCRATCH, TEST_DISK_KINDS };

struct kernel_options {
    uint64_t tests;         /* bit i = suite i of the names options_set_suite_names() was given */
    uint64_t trace;         /* bit per enum trace_category */
    uint64_t heap_bytes;    /* heap= */
    uint64_t seed;          /* seed= for randomized in-guest tests */
    uint64_t swiotlb_bytes; /* swiotlb=: size of the bounce pool */
    int bounce_policy;      /* bounce_policy=: enum bounce_policy */
    bool swiotlb_force;     /* swiotlb_force: bounce every mapping (Linux: swiotlb=force) */
    int dma_completion;     /* dma_completion=: 0 whole, 1 exact (drivers report what the device wrote) */
    uint64_t require;       /* require=data,scratch: bit per enum test_disk; a missing one fails, not skips */
    uint64_t tsc_khz;       /* tsc_khz=: use this TSC frequency instead of calibrating (0: calibrate) */
    uint64_t expect_eio;    /* expect_eio=LBA: the blk suite expects an injected read error there (0: none) */
    bool help;
    bool pci;                     /* pci: list the PCI functions found */
    int ide_mode;                 /* ide=: 0 dma (bus-master), 1 pio */
    uint64_t virtio_depth;        /* virtio_depth=: virtio-blk requests in flight */
    uint64_t pagecache_bytes;     /* pagecache=: most memory the page cache holds */
    int pagecache_zone;           /* pagecache_zone=: 0 high (above 4 GiB when there is any), 1 dma32 */
    uint64_t readahead_bytes;     /* readahead=: first readahead window */
    uint64_t readahead_max_bytes; /* readahead_max=: largest window (0: no readahead) */
    bool init_on_alloc;           /* init_on_alloc: zero page-cache pages when allocated */
    int mode;                     /* mode=: 0 normal, 1 confidential (docs/confidential.md) */
    int cc_io;                    /* cc_io=: 0 bounce, 1 convert (confidential I/O strategy) */
    struct virtio_mmio_spec virtio_mmio[MAX_VIRTIO_MMIO]; /* virtio_mmio.device= */
    unsigned nvirtio_mmio;
};

extern struct kernel_options kopts;

/* The choices of tests= (NULL-terminated), before options_parse(): the in-guest test framework
 * sits above the kernel, so its caller hands them in (init/kmain.c, ktest/ktest.h). */
void options_set_suite_names(const char *const *names);
/* Parse the command line into kopts. Returns 0, or -1 with the reason in err. */
int options_parse(const char *cmdline, char *err, size_t errlen);
void options_print_help(void);

static inline bool trace_on(enum trace_category c) { return (kopts.trace >> c) & 1; }
static inline bool confidential(void) { return kopts.mode == 1; }
/* dma_completion=exact: drivers map device-written buffers with DMA_ATTR_EXACT_COMPLETION and
 * complete them with the number of bytes the device wrote (dma/dma.h). */
static inline bool exact_completion(void) { return kopts.dma_completion == 1; }

#endif
