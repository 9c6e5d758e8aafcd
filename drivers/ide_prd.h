/* SPDX-License-Identifier: MIT */
/* ide_prd.h - building the Physical Region Descriptor table of a PCI bus-master IDE controller.
 *
 * "Programming Interface for Bus Master IDE Controller" rev 1.0 (SFF-8038i), section
 * "Physical Region Descriptor", and the Intel PIIX4 datasheet (IDE bus master, "PRD table"):
 *  - an entry is 8 bytes: a 32-bit physical base address (bit 0 is zero), a 16-bit byte count
 *    (bit 0 is zero; 0 means 64 KiB), and a 16-bit word whose bit 15 marks the last entry (EOT);
 *  - the region of one entry must not cross a 64 KiB boundary;
 *  - the table itself is 4-byte aligned and must not cross a 64 KiB boundary (the caller's job:
 *    the IDE driver puts it in one page from dma_alloc_coherent).
 *
 * Pure logic, no hardware: compiled into the guest and natively into tests/host/test_ide_prd.c.
 */
#ifndef BOUNCE_DRIVERS_IDE_PRD_H
#define BOUNCE_DRIVERS_IDE_PRD_H

#include <stddef.h>
#include <stdint.h>

struct ide_prd {
    uint32_t base;  /* physical (bus) address of the region */
    uint16_t count; /* bytes; 0 = 65536 */
    uint16_t flags; /* IDE_PRD_EOT on the last entry, the other bits reserved (zero) */
} __attribute__((packed));

_Static_assert(sizeof(struct ide_prd) == 8, "a PRD entry is 8 bytes");

#define IDE_PRD_EOT 0x8000u
#define IDE_PRD_BOUNDARY 0x10000u /* 64 KiB: no region may cross a multiple of this */

/* A DMA-mapped piece of a transfer, in the order the device transfers the bytes. */
struct ide_prd_piece {
    uint64_t addr; /* bus address from the DMA API */
    uint32_t len;  /* bytes */
};

/* Fill prd[0..n) with the pieces, split at every 64 KiB boundary, EOT on the last entry.
 * Returns n, or -1 (and what prd holds is unspecified, but nothing beyond prd[max - 1] is
 * written) when there is no piece, a piece is empty, odd in address or length, reaches above
 * 4 GiB, or the entries do not fit in max. */
int ide_prd_build(const struct ide_prd_piece *pieces, size_t npieces, struct ide_prd *prd, size_t max);

/* Bytes an entry describes (its count, with 0 read as 64 KiB). */
static inline uint32_t ide_prd_bytes(const struct ide_prd *e) { return e->count ? e->count : IDE_PRD_BOUNDARY; }

#endif
