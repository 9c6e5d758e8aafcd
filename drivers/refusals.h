/* SPDX-License-Identifier: MIT */
/* refusals.h - devices a driver (or a transport) found and will not use, and why.
 *
 * A refusal is printed once, in the driver's words ("virtio-blk: pci 00:04.0 1af4:1042: size_max
 * 100 ... - refused"), and kept, so that a test that needs a disk can say that a driver refused
 * one - and why - rather than that none was attached. Refuse only what is really unusable: a
 * field the driver can live with (a limit of 0 meaning "none", a hint out of range) is accepted
 * and said so in the probe line instead.
 */
#ifndef BOUNCE_DRIVERS_REFUSALS_H
#define BOUNCE_DRIVERS_REFUSALS_H

#include <stddef.h>

#define DEV_REFUSALS_MAX 16
#define DEV_REFUSAL_REASON_MAX 160 /* bytes of a reason, its NUL included */

struct dev_refusal {
    char driver[16]; /* "virtio-blk", "virtio-pci", "ide" */
    char where[40];  /* the device's location, as the driver names it */
    char reason[DEV_REFUSAL_REASON_MAX];
};

/* Print "<driver>: <where>: <reason> - refused" and remember it (the first DEV_REFUSALS_MAX). */
void dev_refuse(const char *driver, const char *where, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
size_t dev_refusal_count(void);
const struct dev_refusal *dev_refusal_get(size_t i);

#endif
