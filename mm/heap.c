/* SPDX-License-Identifier: MIT */
/* heap.c - the kernel heap: one contiguous region below 4 GiB that sbrk() hands to newlib's malloc.
 *
 * Below 4 GiB on purpose: malloc'ed buffers are the kernel's ordinary memory, and tests that want
 * memory above 4 GiB (to make a 32-bit device bounce) ask the frame allocator for it explicitly.
 */
#define _DEFAULT_SOURCE /* sbrk()'s prototype in newlib's unistd.h */
#include <inttypes.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

#include "kernel/panic.h"
#include "mm/mm.h"

#undef errno
extern int errno;

static uint64_t heap_base, heap_size, heap_brk;

void heap_init(uint64_t bytes)
{
    uint64_t pages = ALIGN_UP(bytes, PAGE_SIZE) / PAGE_SIZE;
    uint64_t pa = alloc_pages(FRAME_DMA32, pages);
    if (pa == FRAME_NONE)
        panic("heap: cannot allocate %" PRIu64 " KiB below 4 GiB", (bytes / 1024));
    heap_base = heap_brk = pa;
    heap_size = pages * PAGE_SIZE;
}

void heap_stats(uint64_t *base, uint64_t *size, uint64_t *used)
{
    *base = heap_base;
    *size = heap_size;
    *used = heap_brk - heap_base;
}

/* newlib's malloc grows the heap through here. Before heap_init() there is no heap: malloc fails. */
void *sbrk(ptrdiff_t incr)
{
    if (heap_base == 0 || (incr > 0 && (uint64_t)incr > heap_base + heap_size - heap_brk) ||
        (incr < 0 && (uint64_t)-incr > heap_brk - heap_base)) {
        errno = ENOMEM;
        return (void *)-1;
    }
    uint64_t old = heap_brk;
    heap_brk += (uint64_t)incr;
    return phys_to_virt(old);
}
