/* SPDX-License-Identifier: MIT */
/* fuzz_ide_identify.c - libFuzzer over the IDENTIFY DEVICE parser (drivers/ide_identify.c): the 256
 * words are the drive's (or a device model's). Whatever the words: no crash, and an answer that
 * holds - an accepted drive has 1..2^48-1 sectors (2^28-1 at most without LBA48), FLUSH CACHE EXT
 * only with LBA48, printable NUL-terminated strings without edge spaces; a refusal says why. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/ide_identify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_string(const char *s, size_t cap)
{
    const char *end = memchr(s, '\0', cap);
    if (end == NULL)
        abort(); /* not terminated */
    size_t n = (size_t)(end - s);
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x20 || s[i] > 0x7e)
            abort();
    if (n && (s[0] == ' ' || s[n - 1] == ' '))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint16_t id[256] = {0};
    memcpy(id, data, size < sizeof(id) ? size : sizeof(id));
    struct ide_identity who;
    char why[160] = "";
    if (ide_parse_identify(id, &who, why, sizeof(why))) {
        if (who.sectors == 0 || who.sectors > 0xffffffffffffull || (!who.lba48 && who.sectors > 0x0fffffffull) ||
            (who.flush_ext && !who.lba48))
            abort();
        check_string(who.model, sizeof(who.model));
        check_string(who.serial, sizeof(who.serial));
    } else if (why[0] == '\0') {
        abort();
    }
    return 0;
}
