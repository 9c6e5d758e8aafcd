/* SPDX-License-Identifier: MIT */
/* options.c - every kernel command-line option, in one table. */
#include "kernel/options.h"

#include <stdio.h>
#include <string.h>

#include "kernel/cmdline.h"
#include "lib/units.h"

struct kernel_options kopts = {
    .heap_bytes = MiB(64),
    .seed = 1,
    .swiotlb_bytes = MiB(64),
    .bounce_policy = 0, /* BOUNCE_ZERO */
    .ide_mode = IDE_MODE_DMA,
    .virtio_depth = 32,
    .pagecache_bytes = MiB(128),
    .pagecache_zone = PAGECACHE_HIGH,
    .readahead_bytes = KiB(128),
    .readahead_max_bytes = MiB(1),
};

static const char *const trace_names[] = {"mm", "dma", "pci", "blk", "hypercall", NULL};
const char *const guest_mode_names[] = {"normal", "confidential", NULL};
const char *const cc_io_names[] = {"bounce", "convert", NULL};
const char *const ide_mode_names[] = {"dma", "pio", NULL};
const char *const pagecache_zone_names[] = {"high", "dma32", NULL};
const char *const dma_completion_names[] = {"whole", "exact", NULL};
const char *const apic_choice_names[] = {"auto", "xapic", NULL};
const char *const io_completion_names[] = {"poll", "irq", NULL};
/* Choices handed in from above (options_set_choices): none until then. */
static const char *const not_yet[] = {NULL};
static const char *const test_disks[] = {"data", "scratch", NULL}; /* enum test_disk order */

static int add_virtio_mmio(const char *value, void *dest, char *err, size_t errlen)
{
    struct kernel_options *k = dest;
    if (k->nvirtio_mmio == MAX_VIRTIO_MMIO) {
        snprintf(err, errlen, "at most %d devices", MAX_VIRTIO_MMIO);
        return -1;
    }
    if (!parse_virtio_mmio(value, &k->virtio_mmio[k->nvirtio_mmio])) {
        snprintf(err, errlen, "expected SIZE@BASE:IRQ, e.g. 512@0xd0000000:5");
        return -1;
    }
    k->nvirtio_mmio++;
    return 0;
}

/* tests= lists the suites by name (handed in from above): for options_print_help(). */
static const char *const *suite_names = not_yet;

static struct cmdline_option options[] = {
    {.name = "tests",
     .kind = OPT_LIST,
     .dest = &kopts.tests,
     .choices = not_yet,
     .help = "in-guest test suites to run, comma-separated, or 'all' (default: none)"},
    {.name = "trace",
     .kind = OPT_LIST,
     .dest = &kopts.trace,
     .choices = trace_names,
     .help = "narrate events of these categories: mm,dma,pci,blk,hypercall"},
    {.name = "heap",
     .kind = OPT_SIZE,
     .dest = &kopts.heap_bytes,
     .min = MiB(1),
     .max = GiB(1),
     .help = "kernel heap size for malloc (default 64M)"},
    {.name = "swiotlb",
     .kind = OPT_SIZE,
     .dest = &kopts.swiotlb_bytes,
     .min = KiB(64),
     .max = GiB(1),
     .help = "size of the DMA bounce pool, below 4 GiB (default 64M)"},
    {.name = "bounce_policy",
     .kind = OPT_ENUM,
     .dest = &kopts.bounce_policy,
     .choices = not_yet,
     .help = "what a FROM_DEVICE bounce slot holds: zero (default), copy (Linux), none (leaks)"},
    {.name = "swiotlb_force",
     .kind = OPT_FLAG,
     .dest = &kopts.swiotlb_force,
     .help = "bounce every DMA mapping, reachable or not (Linux: swiotlb=force)"},
    {.name = "dma_completion",
     .kind = OPT_ENUM,
     .dest = &kopts.dma_completion,
     .choices = dma_completion_names,
     .help = "whole (default): a device-written mapping comes back whole; exact: drivers report how "
             "much the device wrote, only that is copied back and the slot is never zeroed"},
    {.name = "require",
     .kind = OPT_LIST,
     .dest = &kopts.require,
     .choices = test_disks,
     .help = "tests: these test disks must be there (data,scratch): a missing one fails the suite"},
    {.name = "expect_eio",
     .kind = OPT_UINT,
     .dest = &kopts.expect_eio,
     .min = 1,
     .help = "tests: the data disk has an injected read error at this LBA (blkdebug)"},
    {.name = "tsc_khz",
     .kind = OPT_UINT,
     .dest = &kopts.tsc_khz,
     .min = 1000,
     .max = 100000000,
     .help = "take this TSC frequency instead of calibrating (the boot suite checks it against the PM timer)"},
    {.name = "seed", .kind = OPT_UINT, .dest = &kopts.seed, .help = "seed for randomized in-guest tests (default 1)"},
    {.name = "ide",
     .kind = OPT_ENUM,
     .dest = &kopts.ide_mode,
     .choices = ide_mode_names,
     .help = "IDE transfers: dma (bus-master, default) or pio"},
    {.name = "virtio_depth",
     .kind = OPT_UINT,
     .dest = &kopts.virtio_depth,
     .min = 1,
     .max = 128,
     .help = "virtio-blk requests in flight (default 32)"},
    {.name = "pagecache",
     .kind = OPT_SIZE,
     .dest = &kopts.pagecache_bytes,
     .min = KiB(64),
     .max = GiB(4),
     .help = "most memory the page cache may hold (default 128M)"},
    {.name = "pagecache_zone",
     .kind = OPT_ENUM,
     .dest = &kopts.pagecache_zone,
     .choices = pagecache_zone_names,
     .help = "where page-cache pages come from: high (above 4 GiB if any, default) or dma32"},
    {.name = "readahead",
     .kind = OPT_SIZE,
     .dest = &kopts.readahead_bytes,
     .min = KiB(4),
     .max = MiB(1),
     .help = "first readahead window (default 128K)"},
    {.name = "readahead_max",
     .kind = OPT_SIZE,
     .dest = &kopts.readahead_max_bytes,
     .max = MiB(1),
     .help = "largest readahead window, 0 for none (default 1M)"},
    {.name = "init_on_alloc",
     .kind = OPT_FLAG,
     .dest = &kopts.init_on_alloc,
     .help = "zero page-cache pages when allocated (hides read-before-write from the host)"},
    {.name = "mode",
     .kind = OPT_ENUM,
     .dest = &kopts.mode,
     .choices = guest_mode_names,
     .help = "normal, or confidential: private memory, shared bounce pool (docs/confidential.md)"},
    {.name = "cc_io",
     .kind = OPT_ENUM,
     .dest = &kopts.cc_io,
     .choices = cc_io_names,
     .help = "confidential I/O: bounce (through the shared pool, default) or convert (share each buffer)"},
    {.name = "virtio_mmio.device",
     .kind = OPT_CALLBACK,
     .dest = &kopts,
     .parse = add_virtio_mmio,
     .repeatable = true,
     .help = "a virtio-mmio device, SIZE@BASE:IRQ (as Linux)"},
    {.name = "apic",
     .kind = OPT_ENUM,
     .dest = &kopts.apic,
     .choices = apic_choice_names,
     .help = "local APIC mode: auto (x2APIC where CPUID offers it, default) or xapic (the MMIO registers)"},
    {.name = "io",
     .kind = OPT_ENUM,
     .dest = &kopts.io,
     .choices = io_completion_names,
     .help = "I/O completion: poll (default) or irq (device interrupts; the waiter sleeps in HLT)"},
    {.name = "smp_phantom",
     .kind = OPT_FLAG,
     .dest = &kopts.smp_phantom,
     .help = "tests: also start a CPU the MADT does not list - it never reports, and the boot goes on"},
    {.name = "pci", .kind = OPT_FLAG, .dest = &kopts.pci, .help = "list the PCI functions found at boot"},
    {.name = "help", .kind = OPT_FLAG, .dest = &kopts.help, .help = "print this list and exit"},
};

void options_set_choices(const char *option, const char *const *names)
{
    if (strcmp(option, "tests") == 0)
        suite_names = names;
    for (size_t i = 0; i < ARRAY_LEN(options); i++)
        if (strcmp(options[i].name, option) == 0)
            options[i].choices = names;
}

int options_parse(const char *cmdline, char *err, size_t errlen)
{
    return cmdline_parse(cmdline, options, sizeof(options) / sizeof(options[0]), err, errlen);
}

void options_print_help(void)
{
    printf("kernel command-line options (space-separated name or name=value):\n");
    for (size_t i = 0; i < sizeof(options) / sizeof(options[0]); i++)
        printf("  %-18s %s\n", options[i].name, options[i].help);
    printf("  test suites:");
    for (size_t i = 0; suite_names[i]; i++)
        printf(" %s", suite_names[i]);
    printf("\n");
}
