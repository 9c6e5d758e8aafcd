/* SPDX-License-Identifier: MIT */
/* cc_canary.c - the per-boot canary (see cc_canary.h for why it is handled this way). */
#include "mm/cc_canary.h"

#include <stdlib.h>
#include <string.h>

#include "kernel/cpu.h"
#include "mm/mm.h"

/* The prefix, each byte XORed with MASK, so the image (shared with the host) never holds it. The
 * mask is read through a volatile, so the compiler cannot fold the unmasking into immediates that
 * would put the plain prefix into .text. */
#define MASK 0xa5
#define M(c) (uint8_t)((c) ^ MASK)
static const uint8_t masked_prefix[CC_CANARY_PREFIX_BYTES] = {M('B'), M('O'), M('U'), M('N'), M('C'), M('E'), M('-'),
                                                              M('C'), M('A'), M('N'), M('A'), M('R'), M('Y'), M(':')};
static volatile uint8_t mask = MASK;

static uint8_t *master; /* the heap buffer: private, kept for the whole run */
static uint64_t frame;

static uint64_t mix(uint64_t z) /* splitmix64's finalizer */
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

bool cc_canary_init(void)
{
    uint8_t *buf = malloc(CC_CANARY_BYTES);
    uint64_t pa = alloc_pages(FRAME_PREFER_HIGH, 1);
    if (buf == NULL || pa == FRAME_NONE) {
        free(buf);
        if (pa != FRAME_NONE)
            free_pages(pa, 1);
        return false;
    }
    for (int i = 0; i < CC_CANARY_PREFIX_BYTES; i++)
        buf[i] = masked_prefix[i] ^ mask;
    /* 18 lowercase hex digits from the TSC at boot (differs per boot), stirred so that
     * neighbouring boots do not share leading digits. */
    uint64_t a = mix(rdtsc()), b = mix(a ^ rdtsc());
    for (int i = 0; i < CC_CANARY_BYTES - CC_CANARY_PREFIX_BYTES; i++) {
        unsigned nib = i < 16 ? (unsigned)(a >> (4 * i)) & 15 : (unsigned)(b >> (4 * (i - 16))) & 15;
        buf[CC_CANARY_PREFIX_BYTES + i] = (uint8_t) "0123456789abcdef"[nib];
    }
    master = buf;
    frame = pa;
    cc_canary_write(phys_to_virt(pa));
    return true;
}

bool cc_canary_planted(void) { return master != NULL; }

void cc_canary_write(void *dst)
{
    if (master != NULL)
        memcpy(dst, master, CC_CANARY_BYTES); /* private to private; no copy on the way */
}

bool cc_canary_at(const void *p)
{
    const volatile uint8_t *q = p;
    if (master == NULL)
        return false;
    for (int i = 0; i < CC_CANARY_BYTES; i++)
        if (q[i] != master[i])
            return false;
    return true;
}

const void *cc_canary_heap(void) { return master; }
uint64_t cc_canary_frame(void) { return frame; }
