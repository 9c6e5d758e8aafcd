/* options.h - the kernel command line, parsed once at boot (table in options.c). */
#ifndef BOUNCE_KERNEL_OPTIONS_H
#define BOUNCE_KERNEL_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Trace categories for `trace=`: one readable line per event of the category. */
enum trace_category { TRACE_MM, TRACE_DMA, TRACE_PCI, TRACE_BLK, TRACE_HC, TRACE_COUNT };

struct kernel_options {
    uint64_t tests;      /* bit i = suite i of ktest_suite_names[]; see tests/guest/ktest.h */
    uint64_t trace;      /* bit per enum trace_category */
    uint64_t heap_bytes; /* heap= */
    uint64_t seed;       /* seed= for randomized in-guest tests */
    uint64_t swiotlb_bytes; /* swiotlb=: size of the bounce pool */
    int bounce_policy;   /* bounce_policy=: enum bounce_policy */
    bool swiotlb_force;  /* swiotlb_force: bounce every mapping (Linux: swiotlb=force) */
    bool help;
};

extern struct kernel_options kopts;

/* Parse the command line into kopts. Returns 0, or -1 with the reason in err. */
int options_parse(const char *cmdline, char *err, size_t errlen);
void options_print_help(void);

static inline bool trace_on(enum trace_category c) { return (kopts.trace >> c) & 1; }

#endif
