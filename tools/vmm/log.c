/* SPDX-License-Identifier: MIT */
/* log.c - "vmm: ..." messages on stderr, guest errors rate-limited (see log.h). */
#include "tools/vmm/log.h"

#include <stdarg.h>
#include <stdio.h>

static bool quiet;
static uint64_t guest_errors;

void vmm_log_set_quiet(bool q) { quiet = q; }
uint64_t vmm_guest_errors(void) { return guest_errors; }

static void vlog(const char *prefix, const char *fmt, va_list ap)
{
    fputs(prefix, stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

void vmm_info(const char *fmt, ...)
{
    if (quiet)
        return;
    va_list ap;
    va_start(ap, fmt);
    vlog("vmm: ", fmt, ap);
    va_end(ap);
}

void vmm_guest_error(const char *fmt, ...)
{
    guest_errors++;
    if (quiet || guest_errors > VMM_GUEST_ERROR_LOG_LIMIT)
        return;
    va_list ap;
    va_start(ap, fmt);
    vlog("vmm: guest error: ", fmt, ap);
    va_end(ap);
    if (guest_errors == VMM_GUEST_ERROR_LOG_LIMIT)
        fprintf(stderr, "vmm: %d guest errors logged; further ones are only counted\n", VMM_GUEST_ERROR_LOG_LIMIT);
}
