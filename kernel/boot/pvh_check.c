/* SPDX-License-Identifier: MIT */
/* pvh_check.c - the PVH start info's addresses, checked (see pvh_check.h). */
#include "kernel/boot/pvh_check.h"

uint64_t pvh_bytes_at(const struct mem_range *map, size_t n, uint64_t addr)
{
    if (addr >= PVH_MAPPED_LIMIT)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (addr >= map[i].base && addr - map[i].base < map[i].len) {
            uint64_t left = map[i].len - (addr - map[i].base);
            return left < PVH_MAPPED_LIMIT - addr ? left : PVH_MAPPED_LIMIT - addr;
        }
    return 0;
}
