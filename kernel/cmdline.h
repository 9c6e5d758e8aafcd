/* SPDX-License-Identifier: MIT */
/* cmdline.h - a table-driven parser for the kernel command line.
 *
 * The command line is space-separated `name` or `name=value` words. Every option the kernel knows
 * is one row of a table (kernel/options.c), so all parsing happens in one place and an unknown or
 * malformed word is reported with the reason. Pure logic: also compiled for the host unit tests.
 */
#ifndef BOUNCE_KERNEL_CMDLINE_H
#define BOUNCE_KERNEL_CMDLINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum cmdline_kind {
    OPT_FLAG,     /* `name` alone; dest is bool* */
    OPT_UINT,     /* `name=123` or 0x..; dest is uint64_t*, checked against [min, max] */
    OPT_SIZE,     /* `name=64M` (suffixes K M G, powers of 1024); dest is uint64_t*, [min, max] */
    OPT_ENUM,     /* `name=word`, one of choices; dest is int* (the index) */
    OPT_LIST,     /* `name=a,b,c`, each one of choices; dest is uint64_t* (a bit per choice) */
    OPT_CALLBACK, /* `name=value` handed to parse(); dest is passed through */
};

struct cmdline_option {
    const char *name;
    enum cmdline_kind kind;
    void *dest;
    const char *const *choices; /* NULL-terminated, for OPT_ENUM and OPT_LIST */
    uint64_t min, max;          /* for OPT_UINT and OPT_SIZE; max == 0 means no upper bound */
    bool repeatable;            /* may appear more than once (else a repeat is an error) */
    /* OPT_CALLBACK: returns 0, or -1 after writing a reason into err. */
    int (*parse)(const char *value, void *dest, char *err, size_t errlen);
    const char *help;
};

#define CMDLINE_MAX_OPTIONS 64

/* Parse `line` against `opts`. Returns 0, or -1 with a one-line reason in err (which names the
 * offending word). Options not on the line keep whatever their dest held. */
int cmdline_parse(const char *line, const struct cmdline_option *opts, size_t nopts, char *err, size_t errlen);

/* Parse a size with an optional K/M/G suffix (powers of 1024). Returns false on junk or overflow. */
bool parse_size(const char *s, size_t len, uint64_t *out);
/* Parse a decimal or 0x-prefixed hexadecimal number. Returns false on junk or overflow. */
bool parse_uint(const char *s, size_t len, uint64_t *out);

/* A virtio-mmio device as Linux's command line gives it (drivers/virtio/virtio_mmio.c):
 * "SIZE@BASE:IRQ", SIZE with an optional K/M/G suffix, e.g. "512@0xd0000000:5". */
struct virtio_mmio_spec {
    uint64_t size, base;
    uint32_t irq;
};
bool parse_virtio_mmio(const char *s, struct virtio_mmio_spec *out);

#endif
