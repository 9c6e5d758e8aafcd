/* SPDX-License-Identifier: MIT */
/* units.h - the units every layer counts in: pages, sizes, alignment, array lengths.
 *
 * Pure macros, included from anywhere (the guest, the host tests, the tools). A 4 KiB page is the
 * x86-64 base page (Intel SDM vol. 3A, 4.5 "4-Level Paging"); 2 MiB is the page a PDE maps.
 */
#ifndef BOUNCE_LIB_UNITS_H
#define BOUNCE_LIB_UNITS_H

#include <stdint.h>

#define PAGE_SHIFT 12
#define PAGE_SIZE ((uint64_t)1 << PAGE_SHIFT)
#define HUGE_PAGE_SIZE ((uint64_t)2 << 20)
#define GiB(x) ((uint64_t)(x) << 30)
#define MiB(x) ((uint64_t)(x) << 20)
#define KiB(x) ((uint64_t)(x) << 10)
#define ALIGN_UP(x, a) (((x) + ((a)-1)) & ~((uint64_t)(a)-1))
#define ALIGN_DOWN(x, a) ((x) & ~((uint64_t)(a)-1))
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#endif
