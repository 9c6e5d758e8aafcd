/* SPDX-License-Identifier: MIT */
/* json.h - one flat JSON object, written field by field: the end-of-run reports and the stats.
 *
 * The writer sends its text to a buffer (snprintf's contract: cut to fit, always terminated, and
 * json_end() returns the length the whole object needs) or straight to stdout (a report with
 * thousands of ranges needs no buffer). Field names are written as given - they are identifiers -
 * and string values are escaped (RFC 8259, section 7). Pure: compiled for the guest and the host.
 */
#ifndef BOUNCE_LIB_JSON_H
#define BOUNCE_LIB_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct json_writer {
    char *buf; /* NULL: stdout */
    size_t size;
    size_t len;      /* bytes the text needs so far (more than size when cut) */
    unsigned fields; /* fields written: the next one needs a comma */
};

/* Start an object ("{") into buf (size bytes), or onto stdout when buf is NULL. */
void json_begin(struct json_writer *w, char *buf, size_t size);
void json_u64(struct json_writer *w, const char *name, uint64_t v);
void json_bool(struct json_writer *w, const char *name, bool v);
void json_str(struct json_writer *w, const char *name, const char *s);
/* A number with `decimals` digits after the point (figures per request, ratios). */
void json_fixed(struct json_writer *w, const char *name, double v, int decimals);
/* A field whose value the caller writes with json_append() (an array, say). */
void json_key(struct json_writer *w, const char *name);
void json_append(struct json_writer *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Close the object ("}"); returns the length of the whole text. */
size_t json_end(struct json_writer *w);

#endif
