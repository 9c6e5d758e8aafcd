/* options.c - every kernel command-line option, in one table. */
#include "kernel/options.h"

#include <stdio.h>

#include "kernel/cmdline.h"
#include "mm/memrange.h"
#include "tests/guest/ktest.h"

struct kernel_options kopts = {
    .heap_bytes = MiB(64),
    .seed = 1,
    .swiotlb_bytes = MiB(64),
    .bounce_policy = 0, /* BOUNCE_ZERO */
};

static const char *const trace_names[] = {"mm", "dma", "pci", "blk", "hypercall", NULL};
static const char *const policy_names[] = {"zero", "copy", "none", NULL}; /* enum bounce_policy order */

static const struct cmdline_option options[] = {
    {.name = "tests", .kind = OPT_LIST, .dest = &kopts.tests, .choices = ktest_suite_names,
     .help = "in-guest test suites to run, comma-separated, or 'all' (default: none)"},
    {.name = "trace", .kind = OPT_LIST, .dest = &kopts.trace, .choices = trace_names,
     .help = "narrate events of these categories: mm,dma,pci,blk,hypercall"},
    {.name = "heap", .kind = OPT_SIZE, .dest = &kopts.heap_bytes, .min = MiB(1), .max = GiB(1),
     .help = "kernel heap size for malloc (default 64M)"},
    {.name = "swiotlb", .kind = OPT_SIZE, .dest = &kopts.swiotlb_bytes, .min = KiB(64), .max = GiB(1),
     .help = "size of the DMA bounce pool, below 4 GiB (default 64M)"},
    {.name = "bounce_policy", .kind = OPT_ENUM, .dest = &kopts.bounce_policy, .choices = policy_names,
     .help = "what a FROM_DEVICE bounce slot holds: zero (default), copy (Linux), none (leaks)"},
    {.name = "swiotlb_force", .kind = OPT_FLAG, .dest = &kopts.swiotlb_force,
     .help = "bounce every DMA mapping, reachable or not (Linux: swiotlb=force)"},
    {.name = "seed", .kind = OPT_UINT, .dest = &kopts.seed,
     .help = "seed for randomized in-guest tests (default 1)"},
    {.name = "help", .kind = OPT_FLAG, .dest = &kopts.help, .help = "print this list and exit"},
};

int options_parse(const char *cmdline, char *err, size_t errlen)
{
    return cmdline_parse(cmdline, options, sizeof(options) / sizeof(options[0]), err, errlen);
}

void options_print_help(void)
{
    printf("kernel command-line options (space-separated name or name=value):\n");
    for (size_t i = 0; i < sizeof(options) / sizeof(options[0]); i++)
        printf("  %-14s %s\n", options[i].name, options[i].help);
    printf("  test suites:");
    for (size_t i = 0; ktest_suite_names[i]; i++)
        printf(" %s", ktest_suite_names[i]);
    printf("\n");
}
