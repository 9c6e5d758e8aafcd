/* SPDX-License-Identifier: MIT */
/* efi_memmap.h - the firmware's memory map (UEFI 2.10, 7.2 "EFI_BOOT_SERVICES.GetMemoryMap()") as
 * bounce's ranges: pure logic over the bytes GetMemoryMap() returned, so the host tests can hand
 * it maps a firmware should never produce.
 *
 * The descriptors are `desc_size` bytes apart - the firmware's size, which may exceed the
 * structure this code knows (7.2: "the size ... may grow in the future") but never be smaller -
 * each a Type (UINT32), then PhysicalStart, VirtualStart, NumberOfPages and Attribute (UINT64,
 * 8-aligned). Neighbours of the same type are merged (OVMF reports many).
 */
#ifndef BOUNCE_KERNEL_BOOT_EFI_MEMMAP_H
#define BOUNCE_KERNEL_BOOT_EFI_MEMMAP_H

#include <stddef.h>
#include <stdint.h>

#include "lib/memrange.h"

#define EFI_MEMORY_DESCRIPTOR_BYTES 40 /* the UEFI 2.10 structure, Attribute included */

/* Convert map_size bytes of descriptors into at most `cap` ranges of out. Returns how many, or -1
 * with the reason in why: a descriptor size of 0 or smaller than the structure, a map that is not
 * a whole number of descriptors, a range whose end overflows, more ranges than cap. */
int efi_memmap_convert(const uint8_t *map, size_t map_size, size_t desc_size, struct mem_range *out, size_t cap,
                       const char **why);

#endif
