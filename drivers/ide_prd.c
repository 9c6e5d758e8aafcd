/* SPDX-License-Identifier: MIT */
/* ide_prd.c - split DMA-mapped pieces into PRD entries (see ide_prd.h). */
#include "drivers/ide_prd.h"

#include <stdbool.h>

static bool piece_ok(const struct ide_prd_piece *p)
{
    /* Bit 0 of both the base and the count is reserved-zero in the PRD: the engine moves words. */
    if (p->len == 0 || (p->len & 1) || (p->addr & 1))
        return false;
    /* The base field is 32 bits: every byte of the region must be below 4 GiB. */
    return p->addr <= UINT32_MAX && (uint64_t)p->len - 1 <= UINT32_MAX - p->addr;
}

int ide_prd_build(const struct ide_prd_piece *pieces, size_t npieces, struct ide_prd *prd, size_t max)
{
    size_t n = 0;
    if (npieces == 0)
        return -1; /* the engine needs at least one entry to find EOT on */
    for (size_t i = 0; i < npieces; i++) {
        if (!piece_ok(&pieces[i]))
            return -1;
        uint64_t addr = pieces[i].addr, left = pieces[i].len;
        while (left > 0) {
            /* Up to the next 64 KiB boundary: a region may not cross one. */
            uint64_t room = IDE_PRD_BOUNDARY - (addr & (IDE_PRD_BOUNDARY - 1));
            uint64_t len = left < room ? left : room;
            if (n == max)
                return -1;
            /* len is 2..65536; 65536 truncates to 0, which the count field reads as 64 KiB. */
            prd[n++] = (struct ide_prd){.base = (uint32_t)addr, .count = (uint16_t)len, .flags = 0};
            addr += len;
            left -= len;
        }
    }
    prd[n - 1].flags = IDE_PRD_EOT;
    return (int)n;
}
