/* SPDX-License-Identifier: MIT */
/* guestmem.h - the host's view of guest RAM and the per-page private/shared state. Pure.
 *
 * Guest RAM is [0, size). `host` maps it in the VMM: in a sw-protected VM that is the shared
 * (host-visible) copy - private pages read as zeros there and are never touched - and in the
 * fallback VM it is the guest's only copy. `shared` has one bit per 4 KiB page, set when the
 * guest has shared the page (docs/confidential.md): the VMM's devices touch only shared pages.
 *
 * Every check is overflow-safe: gpa and len come from the untrusted guest.
 */
#ifndef BOUNCE_VMM_GUESTMEM_H
#define BOUNCE_VMM_GUESTMEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/units.h"

struct guest_mem {
    uint8_t *host;    /* host address of guest physical 0 */
    uint64_t size;    /* bytes of RAM, a multiple of PAGE_SIZE */
    uint64_t *shared; /* bitmap, bit n = page n is shared; size / PAGE_SIZE bits */
};

/* Words of bitmap for `size` bytes of RAM. */
static inline size_t gm_bitmap_words(uint64_t size) { return (size_t)((size / PAGE_SIZE + 63) / 64); }

/* [gpa, gpa + len) lies inside RAM (len 0: gpa <= size). */
bool gm_in_ram(const struct guest_mem *gm, uint64_t gpa, uint64_t len);

/* [gpa, gpa + len) lies inside RAM and every page it touches is shared. len 0 is in no page: true
 * when gpa <= size. */
bool gm_is_shared(const struct guest_mem *gm, uint64_t gpa, uint64_t len);

/* Host pointer to [gpa, gpa + len) when it is inside RAM and shared, else NULL. */
void *gm_shared_ptr(const struct guest_mem *gm, uint64_t gpa, uint64_t len);

bool gm_page_shared(const struct guest_mem *gm, uint64_t pfn);
/* Set pages [pfn, pfn + n) shared or private; the caller has checked the range. */
void gm_set_pages(struct guest_mem *gm, uint64_t pfn, uint64_t n, bool shared);
/* Pages in the shared state. */
uint64_t gm_count_shared(const struct guest_mem *gm);

/* The next run of pages, starting the search at *pfn, whose state is `shared`: returns false when
 * there is none below the end of RAM, else true with [*pfn, *pfn + *n). */
bool gm_next_run(const struct guest_mem *gm, bool shared, uint64_t *pfn, uint64_t *n);

#endif
