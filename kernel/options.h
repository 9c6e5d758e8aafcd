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

/* The values of the word options, in the order of their name tables (options.c, each NULL-ended:
 * the choices the command line accepts, and the names messages and reports print). The parser
 * stores the index through an int, hence the size check. */
enum guest_mode { MODE_NORMAL, MODE_CONFIDENTIAL };                 /* mode= (docs/confidential.md) */
enum cc_io { CC_IO_BOUNCE, CC_IO_CONVERT };                         /* cc_io=: the confidential I/O strategy */
enum ide_mode { IDE_MODE_DMA, IDE_MODE_PIO };                       /* ide=: bus-master DMA or PIO */
enum pagecache_zone { PAGECACHE_HIGH, PAGECACHE_DMA32 };            /* pagecache_zone= */
enum dma_completion { DMA_COMPLETION_WHOLE, DMA_COMPLETION_EXACT }; /* dma_completion= */
enum apic_choice { APIC_CHOICE_AUTO, APIC_CHOICE_XAPIC };           /* apic=: x2APIC where offered, or not */
enum io_completion { IO_POLL, IO_IRQ };                             /* io=: how drivers learn of completions */
extern const char *const guest_mode_names[], *const cc_io_names[], *const ide_mode_names[];
extern const char *const pagecache_zone_names[], *const dma_completion_names[], *const apic_choice_names[];
extern const char *const io_completion_names[];
_Static_assert(sizeof(enum guest_mode) == sizeof(int) && sizeof(enum cc_io) == sizeof(int) &&
                   sizeof(enum ide_mode) == sizeof(int) && sizeof(enum pagecache_zone) == sizeof(int) &&
                   sizeof(enum dma_completion) == sizeof(int) && sizeof(enum apic_choice) == sizeof(int) &&
                   sizeof(enum io_completion) == sizeof(int),
               "OPT_ENUM writes an int");

struct kernel_options {
    uint64_t tests;                     /* bit i = suite i of the names options_set_choices() was given */
    uint64_t trace;                     /* bit per enum trace_category */
    uint64_t heap_bytes;                /* heap= */
    uint64_t seed;                      /* seed= for randomized in-guest tests */
    uint64_t swiotlb_bytes;             /* swiotlb=: size of the bounce pool */
    int bounce_policy;                  /* bounce_policy=: enum bounce_policy (dma/dma.h, above the kernel: its names
                               come through options_set_choices()) */
    bool swiotlb_force;                 /* swiotlb_force: bounce every mapping (Linux: swiotlb=force) */
    enum dma_completion dma_completion; /* dma_completion=: exact = drivers report what the device wrote */
    uint64_t require;    /* require=data,scratch: bit per enum test_disk; a missing one fails, not skips */
    uint64_t tsc_khz;    /* tsc_khz=: use this TSC frequency instead of calibrating (0: calibrate) */
    uint64_t expect_eio; /* expect_eio=LBA: the blk suite expects an injected read error there (0: none) */
    bool help;
    bool pci;                           /* pci: list the PCI functions found */
    enum ide_mode ide_mode;             /* ide= */
    uint64_t virtio_depth;              /* virtio_depth=: virtio-blk requests in flight */
    uint64_t pagecache_bytes;           /* pagecache=: most memory the page cache holds */
    enum pagecache_zone pagecache_zone; /* pagecache_zone=: high = above 4 GiB when there is any */
    uint64_t readahead_bytes;           /* readahead=: first readahead window */
    uint64_t readahead_max_bytes;       /* readahead_max=: largest window (0: no readahead) */
    bool init_on_alloc;                 /* init_on_alloc: zero page-cache pages when allocated */
    enum guest_mode mode;               /* mode= */
    enum cc_io cc_io;                   /* cc_io= */
    enum apic_choice apic;              /* apic= */
    enum io_completion io;              /* io= */
    bool smp_phantom;                   /* smp_phantom: start a CPU the MADT does not list (it never comes up) */
    struct virtio_mmio_spec virtio_mmio[MAX_VIRTIO_MMIO]; /* virtio_mmio.device= */
    unsigned nvirtio_mmio;
};

extern struct kernel_options kopts;

/* The choices of an option whose names belong to a layer above the kernel - tests= (the suites,
 * ktest/ktest.h), bounce_policy= (dma/dma.h) - handed in before options_parse() by their caller
 * (init/kmain.c). NULL-terminated. */
void options_set_choices(const char *option, const char *const *names);
/* Parse the command line into kopts. Returns 0, or -1 with the reason in err. */
int options_parse(const char *cmdline, char *err, size_t errlen);
void options_print_help(void);

static inline bool trace_on(enum trace_category c) { return (kopts.trace >> c) & 1; }
static inline bool confidential(void) { return kopts.mode == MODE_CONFIDENTIAL; }
/* dma_completion=exact: drivers map device-written buffers with DMA_ATTR_EXACT_COMPLETION and
 * complete them with the number of bytes the device wrote (dma/dma.h). */
static inline bool exact_completion(void) { return kopts.dma_completion == DMA_COMPLETION_EXACT; }

#endif
