/* SPDX-License-Identifier: MIT */
/* ide_identify.c - IDENTIFY DEVICE data, parsed and checked (see ide_identify.h). */
#include "drivers/ide_identify.h"

#include <stdio.h>
#include <string.h>

#include "drivers/blk.h"
#include "drivers/ide.h"

/* IDENTIFY strings hold two characters per word, the first in the high byte (ATA8-ACS 7.16),
 * padded with spaces; anything unprintable is shown as '?'. */
static void id_string(const uint16_t *id, int word, int nwords, char *out)
{
    int n = 0;
    for (int i = 0; i < nwords; i++) {
        out[n++] = (char)(id[word + i] >> 8);
        out[n++] = (char)(id[word + i] & 0xff);
    }
    out[n] = '\0';
    for (int i = 0; i < n; i++)
        if (out[i] != '\0' && (out[i] < 0x20 || out[i] > 0x7e))
            out[i] = '?';
    n = (int)strlen(out); /* a NUL inside ends the string */
    while (n > 0 && out[n - 1] == ' ')
        out[--n] = '\0';
    int lead = 0;
    while (out[lead] == ' ')
        lead++;
    memmove(out, out + lead, (size_t)(n - lead + 1));
}

static bool refuse(char *why, size_t whylen, const char *reason, unsigned value)
{
    snprintf(why, whylen, reason, value);
    return false;
}

bool ide_parse_identify(const uint16_t id[256], struct ide_identity *out, char *why, size_t whylen)
{
    memset(out, 0, sizeof(*out));
    if (id[ID_CONFIG] & ID_CONFIG_NOT_ATA)
        return refuse(why, whylen, "not an ATA device (IDENTIFY word 0 = %#x)", id[ID_CONFIG]);
    if (!(id[ID_CAPABILITIES] & ID_CAP_LBA))
        return refuse(why, whylen, "no LBA addressing (CHS only; word 49 = %#x)", id[ID_CAPABILITIES]);
    /* 7.16.7.48/.56: logical sectors longer than 512 bytes. The driver moves 256-word sectors
     * through the data register and the PRD table; such a disk it cannot drive. */
    if ((id[ID_SECTOR_SIZE] & ID_VALID_MASK) == ID_VALID && (id[ID_SECTOR_SIZE] & ID_SECTOR_SIZE_LONG_LOGICAL)) {
        uint32_t words = id[ID_LOGICAL_SECTOR_WORDS] | (uint32_t)id[ID_LOGICAL_SECTOR_WORDS + 1] << 16;
        if (words != SECTOR_SIZE / 2)
            return refuse(why, whylen,
                          "logical sectors of %u bytes (IDENTIFY words 117-118); the driver transfers 512-byte "
                          "sectors",
                          words * 2);
    }
    /* Words 82-84 are valid only when bit 14 of word 83 is one and bit 15 zero (7.16). */
    bool w83_valid = (id[ID_CMDSET2] & ID_VALID_MASK) == ID_VALID;
    out->lba48 = w83_valid && (id[ID_CMDSET2] & ID_CMDSET2_LBA48);
    out->flush_ext = out->lba48 && (id[ID_CMDSET2] & ID_CMDSET2_FLUSH_EXT);
    out->dma = id[ID_CAPABILITIES] & ID_CAP_DMA;
    uint64_t cap28 = id[ID_LBA28_SECTORS] | (uint64_t)id[ID_LBA28_SECTORS + 1] << 16;
    uint64_t cap48 = 0;
    for (int i = 3; i >= 0; i--)
        cap48 = cap48 << 16 | id[ID_LBA48_SECTORS + i];
    if (cap28 > ATA_LBA28_MAX_SECTORS)
        return refuse(why, whylen, "a 28-bit capacity (words 60-61) of more than 28 bits (high word %#x)",
                      id[ID_LBA28_SECTORS + 1]);
    if (out->lba48 && cap48 > ATA_LBA48_MAX_SECTORS)
        return refuse(why, whylen, "a 48-bit capacity (words 100-103) of more than 48 bits (word 103 = %#x)",
                      id[ID_LBA48_SECTORS + 3]);
    out->sectors = out->lba48 && cap48 ? cap48 : cap28;
    if (out->sectors == 0) {
        snprintf(why, whylen, "no user-addressable sectors (words 60-61%s are 0)", out->lba48 ? " and 100-103" : "");
        return false;
    }
    id_string(id, ID_SERIAL, 10, out->serial);
    id_string(id, ID_MODEL, 20, out->model);
    return true;
}
