/* SPDX-License-Identifier: MIT */
/* mkdisk - build the test disks deterministically.
 *
 *   mkdisk data FILE SIZE_MIB     every sector self-describing (abi/testdisk.h), id 0x5244
 *   mkdisk scratch FILE SIZE_MIB  zeros after a label in sector 0, for write tests
 *
 * The same input always gives the same bytes, so a disk can be rebuilt rather than stored.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "abi/testdisk.h"
#include "lib/units.h"

int main(int argc, char **argv)
{
    if (argc != 4 || (strcmp(argv[1], "data") != 0 && strcmp(argv[1], "scratch") != 0)) {
        fprintf(stderr, "usage: mkdisk data|scratch FILE SIZE_MIB\n");
        return 2;
    }
    char *end;
    unsigned long mib = strtoul(argv[3], &end, 10);
    if (*end || mib == 0 || mib > 65536) {
        fprintf(stderr, "mkdisk: bad size '%s' (MiB, 1..65536)\n", argv[3]);
        return 2;
    }
    FILE *f = fopen(argv[2], "wb");
    if (f == NULL) {
        perror(argv[2]);
        return 1;
    }
    static uint8_t chunk[MiB(1)]; /* written 1 MiB at a time */
    const unsigned per_chunk = sizeof(chunk) / TESTDISK_SECTOR;
    for (unsigned long c = 0; c < mib; c++) {
        if (argv[1][0] == 'd')
            for (unsigned s = 0; s < per_chunk; s++)
                testdisk_fill(chunk + s * TESTDISK_SECTOR, (unsigned long long)c * per_chunk + s, TESTDISK_ID_READONLY);
        else {
            memset(chunk, 0, sizeof(chunk));
            if (c == 0)
                memcpy(chunk, TESTDISK_SCRATCH_LABEL, 8);
        }
        if (fwrite(chunk, sizeof(chunk), 1, f) != 1) {
            perror(argv[2]);
            return 1;
        }
    }
    return fclose(f) == 0 ? 0 : 1;
}
