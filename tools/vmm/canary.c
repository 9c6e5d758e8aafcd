/* SPDX-License-Identifier: MIT */
/* canary.c - find "BOUNCE-CANARY:" in host-visible guest memory (see canary.h). */
#include "tools/vmm/canary.h"

#include <inttypes.h>
#include <string.h>

#include "tools/vmm/log.h"

_Static_assert(sizeof(CANARY_PREFIX) - 1 == CANARY_PREFIX_LEN, "the canary prefix is 14 bytes");

uint64_t canary_scan(struct canary_log *log, const uint8_t *buf, size_t len, uint64_t gpa, enum canary_when when,
                     uint64_t request)
{
    uint64_t n = 0;
    size_t off = 0;
    while (len - off >= CANARY_PREFIX_LEN) {
        const uint8_t *b = memchr(buf + off, 'B', len - off - (CANARY_PREFIX_LEN - 1));
        if (b == NULL)
            break;
        off = (size_t)(b - buf);
        if (memcmp(b, CANARY_PREFIX, CANARY_PREFIX_LEN) != 0) {
            off++;
            continue;
        }
        uint64_t at = gpa + off;
        off += CANARY_PREFIX_LEN;
        if (log->ignore && log->ignore(log->ignore_ctx, at)) {
            log->ignored++;
            continue;
        }
        log->found++;
        n++;
        if (log->nwhere == CANARY_MAX_WHERE)
            continue; /* counted; the first ones are recorded and logged */
        log->where[log->nwhere++] = (struct canary_where){at, when, request};
        if (when == CANARY_IN_REQUEST)
            vmm_info("CANARY FOUND at gpa %#" PRIx64 " in request %" PRIu64
                     "'s buffer (the device was about to write it)",
                     at, request);
        else
            vmm_info("CANARY FOUND at gpa %#" PRIx64 " in host-visible memory at exit", at);
    }
    return n;
}
