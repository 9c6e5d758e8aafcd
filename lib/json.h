/* SPDX-License-Identifier: MIT */
/* json.h - one JSON object, written field by field: the end-of-run reports and the stats.
 *
 * The writer sends its text to a buffer (snprintf's contract: cut to fit, always terminated, and
 * json_end() returns the length the whole object needs) or straight to a stream (a report with
 * thousands of ranges needs no buffer). Objects nest JSON_MAX_DEPTH deep. Field names are written as given - they are identifiers -
 * and string values are escaped (RFC 8259, section 7). Pure: compiled for the guest and the host.
 */
#ifndef BOUNCE_LIB_JSON_H
#define BOUNCE_LIB_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 4

struct json_writer {
    char *buf; /* NULL: the stream */
    FILE *stream;
    size_t size;
    size_t len;                          /* bytes the text needs so far (more than size when cut) */
    unsigned depth;                      /* objects open inside the outermost one */
    unsigned fields[JSON_MAX_DEPTH + 1]; /* fields written at each depth: the next needs a comma */
};

/* Start an object ("{") into buf (size bytes), or onto stdout when buf is NULL. */
void json_begin(struct json_writer *w, char *buf, size_t size);
/* Start an object onto a stream. */
void json_begin_stream(struct json_writer *w, FILE *f);
/* A field whose value is an object: its fields follow, json_close() ends it. */
void json_object(struct json_writer *w, const char *name);
void json_close(struct json_writer *w);
void json_u64(struct json_writer *w, const char *name, uint64_t v);
void json_bool(struct json_writer *w, const char *name, bool v);
void json_str(struct json_writer *w, const char *name, const char *s);
/* A number with `decimals` digits after the point (figures per request, ratios). */
void json_fixed(struct json_writer *w, const char *name, double v, int decimals);
/* A field whose value the caller writes with json_append() (an array, say). */
void json_key(struct json_writer *w, const char *name);
void json_append(struct json_writer *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Close the object ("}") and any left open; returns the length of the whole text. */
size_t json_end(struct json_writer *w);

#endif
