/* SPDX-License-Identifier: MIT */
/* json.c - the flat JSON object writer (see json.h). */
#include "lib/json.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void put(struct json_writer *w, const char *s, size_t n)
{
    if (w->buf == NULL) {
        fwrite(s, 1, n, w->stream);
    } else if (w->len < w->size) {
        size_t room = w->size - 1 - w->len, k = n < room ? n : room;
        memcpy(w->buf + w->len, s, k);
        w->buf[w->len + k] = '\0';
    }
    w->len += n;
}

static void puts_(struct json_writer *w, const char *s) { put(w, s, strlen(s)); }

void json_append(struct json_writer *w, const char *fmt, ...)
{
    char tmp[128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n > 0)
        put(w, tmp, (size_t)n < sizeof(tmp) ? (size_t)n : sizeof(tmp) - 1);
}

void json_begin(struct json_writer *w, char *buf, size_t size)
{
    *w = (struct json_writer){.buf = buf, .stream = stdout, .size = size};
    if (buf && size)
        buf[0] = '\0';
    puts_(w, "{");
}

void json_begin_stream(struct json_writer *w, FILE *f)
{
    *w = (struct json_writer){.stream = f};
    puts_(w, "{");
}

void json_key(struct json_writer *w, const char *name)
{
    if (w->fields[w->depth]++)
        puts_(w, ",");
    puts_(w, "\"");
    puts_(w, name);
    puts_(w, "\":");
}

void json_u64(struct json_writer *w, const char *name, uint64_t v)
{
    json_key(w, name);
    json_append(w, "%" PRIu64, v);
}

void json_bool(struct json_writer *w, const char *name, bool v)
{
    json_key(w, name);
    puts_(w, v ? "true" : "false");
}

void json_fixed(struct json_writer *w, const char *name, double v, int decimals)
{
    json_key(w, name);
    json_append(w, "%.*f", decimals, v);
}

void json_str(struct json_writer *w, const char *name, const char *s)
{
    json_key(w, name);
    puts_(w, "\"");
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            json_append(w, "\\%c", c);
        else if (c < 0x20)
            json_append(w, "\\u%04x", c);
        else
            put(w, s, 1);
    }
    puts_(w, "\"");
}

void json_object(struct json_writer *w, const char *name)
{
    json_key(w, name);
    puts_(w, "{");
    if (w->depth < JSON_MAX_DEPTH)
        w->fields[++w->depth] = 0;
}

void json_close(struct json_writer *w)
{
    if (w->depth == 0)
        return;
    w->depth--;
    puts_(w, "}");
}

size_t json_end(struct json_writer *w)
{
    while (w->depth)
        json_close(w);
    puts_(w, "}");
    return w->len;
}
