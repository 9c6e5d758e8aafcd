/* SPDX-License-Identifier: MIT */
/* ide_identify.h - IDENTIFY DEVICE data (ATA8-ACS 7.16) as the IDE driver uses it. Pure logic over
 * the 256 words a drive returns - which a drive, or a device model, controls - so the host tests
 * and a fuzzer hand it words no drive should send (tests/host/test_ide_identify.c,
 * tests/fuzz/fuzz_ide_identify.c). */
#ifndef BOUNCE_DRIVERS_IDE_IDENTIFY_H
#define BOUNCE_DRIVERS_IDE_IDENTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ide_identity {
    bool lba48;                 /* the 48-bit Address feature set (word 83, valid) */
    bool flush_ext;             /* FLUSH CACHE EXT (with lba48) */
    bool dma;                   /* DMA supported (word 49) */
    uint64_t sectors;           /* user-addressable sectors: words 100-103 with lba48 (when not 0), else 60-61 */
    char model[41], serial[21]; /* printable ASCII, trimmed */
};

/* True with *out filled for a drive the driver can use; false, with the reason in why, for one
 * it cannot: not an ATA device, no LBA (CHS only), logical sectors other than 512 bytes, a 28-bit
 * capacity beyond 28 bits, no sectors at all. */
bool ide_parse_identify(const uint16_t id[256], struct ide_identity *out, char *why, size_t whylen);

#endif
