/* SPDX-License-Identifier: MIT */
/* pvh_check.h - what a PVH loader hands over, checked before it is read. The start info's
 * addresses (the command line, the RSDP) come from the loader - or from a VMM that may lie - and
 * are read through the entry code's page tables, which map the first 4 GiB only. Pure, so the
 * host tests can hand it loaders that lie (tests/host/test_pvh_check.c). */
#ifndef BOUNCE_KERNEL_BOOT_PVH_CHECK_H
#define BOUNCE_KERNEL_BOOT_PVH_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/memrange.h"
#include "lib/units.h"

#define PVH_MAPPED_LIMIT GiB(4) /* pvh_entry.S identity-maps [0, 4 GiB) */

/* The bytes from addr to the end of the range of the loader's memory map that holds it (of any
 * type: the RSDP sits in reserved firmware memory), no further than PVH_MAPPED_LIMIT; 0 when no
 * range holds it or it lies beyond the limit. */
uint64_t pvh_bytes_at(const struct mem_range *map, size_t n, uint64_t addr);

#endif
