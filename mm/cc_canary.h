/* SPDX-License-Identifier: MIT */
/* cc_canary.h - a per-boot secret planted in private memory, for the VMM to look for.
 *
 * docs/confidential.md, "The canary": 32 bytes, the 14-byte prefix "BOUNCE-CANARY:" then 18 bytes
 * that differ per boot, written into a heap buffer and a frame from the top of the allocator (both
 * kept for the whole run), and into the first bytes of every page-cache page when it is allocated
 * (the stale secret a recycled page would hold). The VMM scans what its device is about to write
 * and, at exit, all host-visible memory for the prefix: finding it is a leak.
 *
 * So the prefix must exist ONLY in private memory: it is not in the kernel image (which is
 * boot-shared) - the code holds it masked and unmasks it byte by byte straight into its private
 * destination - and it is never built on the stack (which is in the image's .bss) nor printed.
 * Comparisons go byte by byte against the private master copy.
 */
#ifndef BOUNCE_MM_CC_CANARY_H
#define BOUNCE_MM_CC_CANARY_H

#include <stdbool.h>
#include <stdint.h>

#define CC_CANARY_BYTES 32
#define CC_CANARY_PREFIX_BYTES 14

/* Confidential mode, after cc_init(): make the per-boot canary and plant it in the heap buffer
 * and the frame. Returns false if there was no memory for them (then nothing is planted). */
bool cc_canary_init(void);
bool cc_canary_planted(void);
/* Write the canary at dst (private memory, CC_CANARY_BYTES). No-op before cc_canary_init(). */
void cc_canary_write(void *dst);
/* True if p holds this boot's canary (all 32 bytes). */
bool cc_canary_at(const void *p);
/* Where it was planted at init: the heap buffer and the frame's physical address (0 if none). */
const void *cc_canary_heap(void);
uint64_t cc_canary_frame(void);

#endif
