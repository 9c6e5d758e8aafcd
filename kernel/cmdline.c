/* SPDX-License-Identifier: MIT */
/* cmdline.c - the kernel command-line parser (see cmdline.h). */
#include "kernel/cmdline.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

bool parse_uint(const char *s, size_t len, uint64_t *out)
{
    uint64_t v = 0, base = 10;
    size_t i = 0;
    if (len > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        i = 2;
    }
    if (i == len)
        return false;
    for (; i < len; i++) {
        char c = s[i];
        uint64_t d;
        if (c >= '0' && c <= '9')
            d = (uint64_t)(c - '0');
        else if (base == 16 && c >= 'a' && c <= 'f')
            d = (uint64_t)(c - 'a' + 10);
        else if (base == 16 && c >= 'A' && c <= 'F')
            d = (uint64_t)(c - 'A' + 10);
        else
            return false;
        if (v > (UINT64_MAX - d) / base)
            return false;
        v = v * base + d;
    }
    *out = v;
    return true;
}

bool parse_size(const char *s, size_t len, uint64_t *out)
{
    unsigned shift = 0;
    if (len > 1) {
        switch (s[len - 1]) {
        case 'k':
        case 'K': shift = 10; break;
        case 'm':
        case 'M': shift = 20; break;
        case 'g':
        case 'G': shift = 30; break;
        default: break;
        }
    }
    uint64_t v;
    if (!parse_uint(s, shift ? len - 1 : len, &v))
        return false;
    if (shift && v > (UINT64_MAX >> shift))
        return false;
    *out = v << shift;
    return true;
}

bool parse_virtio_mmio(const char *s, struct virtio_mmio_spec *out)
{
    const char *at = strchr(s, '@'), *colon = at ? strchr(at, ':') : NULL;
    uint64_t size, base, irq;
    if (!at || !colon || !parse_size(s, (size_t)(at - s), &size) ||
        !parse_uint(at + 1, (size_t)(colon - at - 1), &base) || !parse_uint(colon + 1, strlen(colon + 1), &irq))
        return false;
    if (size == 0 || base + size < base || irq > 255)
        return false;
    *out = (struct virtio_mmio_spec){size, base, (uint32_t)irq};
    return true;
}

static int find_choice(const char *const *choices, const char *s, size_t len)
{
    for (int i = 0; choices && choices[i]; i++)
        if (strlen(choices[i]) == len && memcmp(choices[i], s, len) == 0)
            return i;
    return -1;
}

static void list_choices(const char *const *choices, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; choices && choices[i] && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, "%s%s", i ? "," : "", choices[i]);
}

static int fail(char *err, size_t errlen, const char *fmt, const char *word, size_t wlen, const char *extra)
{
    char w[96];
    snprintf(w, sizeof(w), "%.*s", (int)(wlen < sizeof(w) - 1 ? wlen : sizeof(w) - 1), word);
    snprintf(err, errlen, fmt, w, extra ? extra : "");
    return -1;
}

/* Parse one `name[=value]` word. */
static int parse_word(const char *w, size_t wlen, const struct cmdline_option *opts, size_t nopts, bool *seen,
                      char *err, size_t errlen)
{
    const char *eq = memchr(w, '=', wlen);
    size_t nlen = eq ? (size_t)(eq - w) : wlen;
    const char *val = eq ? eq + 1 : NULL;
    size_t vlen = eq ? wlen - nlen - 1 : 0;
    char choices[256];

    size_t k = 0;
    while (k < nopts && !(strlen(opts[k].name) == nlen && memcmp(opts[k].name, w, nlen) == 0))
        k++;
    if (k == nopts)
        return fail(err, errlen, "unknown option '%s'%s (try 'help')", w, wlen, NULL);
    const struct cmdline_option *o = &opts[k];
    if (seen[k] && !o->repeatable)
        return fail(err, errlen, "option '%s' given twice%s", o->name, strlen(o->name), NULL);
    bool first = !seen[k];
    seen[k] = true;

    if (o->kind == OPT_FLAG) {
        if (val)
            return fail(err, errlen, "option '%s' takes no value%s", w, wlen, NULL);
        *(bool *)o->dest = true;
        return 0;
    }
    if (!val || vlen == 0)
        return fail(err, errlen, "option '%s' needs a value%s", w, wlen, NULL);

    switch (o->kind) {
    case OPT_UINT:
    case OPT_SIZE: {
        uint64_t v;
        bool ok = o->kind == OPT_UINT ? parse_uint(val, vlen, &v) : parse_size(val, vlen, &v);
        if (!ok)
            return fail(err, errlen, "malformed number in '%s'%s", w, wlen,
                        o->kind == OPT_SIZE ? " (expected e.g. 4096, 64K, 64M, 1G)" : " (expected decimal or 0x hex)");
        if (v < o->min || (o->max && v > o->max)) {
            char range[64];
            snprintf(range, sizeof(range), " (allowed %" PRIu64 "..%" PRIu64 ")", o->min,
                     (o->max ? o->max : UINT64_MAX));
            return fail(err, errlen, "value out of range in '%s'%s", w, wlen, range);
        }
        *(uint64_t *)o->dest = v;
        return 0;
    }
    case OPT_ENUM: {
        int c = find_choice(o->choices, val, vlen);
        if (c < 0) {
            list_choices(o->choices, choices, sizeof(choices));
            return fail(err, errlen, "bad value in '%s' (choices: %s)", w, wlen, choices);
        }
        *(int *)o->dest = c;
        return 0;
    }
    case OPT_LIST: {
        uint64_t mask = 0;
        const char *p = val, *end = val + vlen;
        while (p <= end) {
            const char *comma = memchr(p, ',', (size_t)(end - p));
            size_t ilen = comma ? (size_t)(comma - p) : (size_t)(end - p);
            int c = find_choice(o->choices, p, ilen);
            if (c < 0 || c >= 64) {
                list_choices(o->choices, choices, sizeof(choices));
                return fail(err, errlen, "bad item in '%s' (choices: %s)", w, wlen, choices);
            }
            mask |= 1ull << c;
            p += ilen + 1;
        }
        /* The first occurrence replaces the default; repeats of a repeatable list add to it. */
        *(uint64_t *)o->dest = first ? mask : (*(uint64_t *)o->dest | mask);
        return 0;
    }
    case OPT_CALLBACK: {
        char v[128], why[128] = "";
        if (vlen >= sizeof(v))
            return fail(err, errlen, "value too long in '%s'%s", w, wlen, NULL);
        memcpy(v, val, vlen);
        v[vlen] = '\0';
        if (o->parse(v, o->dest, why, sizeof(why)) != 0)
            return fail(err, errlen, "bad value in '%s': %s", w, wlen, why);
        return 0;
    }
    case OPT_FLAG: break;
    }
    return fail(err, errlen, "option '%s' has no parser%s", w, wlen, NULL);
}

int cmdline_parse(const char *line, const struct cmdline_option *opts, size_t nopts, char *err, size_t errlen)
{
    bool seen[CMDLINE_MAX_OPTIONS] = {false};
    if (nopts > CMDLINE_MAX_OPTIONS) {
        snprintf(err, errlen, "too many options in the table");
        return -1;
    }
    for (const char *p = line; *p;) {
        if (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') {
            p++;
            continue;
        }
        size_t len = strcspn(p, " \t\r\n");
        if (parse_word(p, len, opts, nopts, seen, err, errlen) != 0)
            return -1;
        p += len;
    }
    return 0;
}
