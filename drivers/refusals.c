/* SPDX-License-Identifier: MIT */
/* refusals.c - the list of refused devices (see refusals.h). */
#include "drivers/refusals.h"

#include <stdarg.h>
#include <stdio.h>

static struct {
    struct dev_refusal list[DEV_REFUSALS_MAX];
    size_t count; /* recorded; later refusals are printed only */
} refusals;

void dev_refuse(const char *driver, const char *where, const char *fmt, ...)
{
    char reason[DEV_REFUSAL_REASON_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof(reason), fmt, ap);
    va_end(ap);
    printf("%s: %s: %s - refused\n", driver, where, reason);
    if (refusals.count == DEV_REFUSALS_MAX)
        return;
    struct dev_refusal *r = &refusals.list[refusals.count++];
    snprintf(r->driver, sizeof(r->driver), "%s", driver);
    snprintf(r->where, sizeof(r->where), "%s", where);
    snprintf(r->reason, sizeof(r->reason), "%s", reason);
}

size_t dev_refusal_count(void) { return refusals.count; }

const struct dev_refusal *dev_refusal_get(size_t i) { return i < refusals.count ? &refusals.list[i] : NULL; }
