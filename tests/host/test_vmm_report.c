/* SPDX-License-Identifier: MIT */
/* test_vmm_report.c - host unit tests for tools/vmm/report.c: every counter of the VMM's lists
 * (CONV_STATS, VBLK_REQUEST_STATS, VMM_EXITS) reaches the report with its value, in its object,
 * and strings are escaped. */
#define _POSIX_C_SOURCE 200809L
#include "tests/host/host_test.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lib/units.h"
#include "tools/vmm/vmm.h"

int report_write(const struct vmm *v, int status);

static char *report_of(const struct vmm *v)
{
    static char text[KiB(4)];
    char path[] = "/tmp/test_vmm_report_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    struct vmm copy = *v;
    copy.report_path = path;
    assert_int_equal(report_write(&copy, 3), 0);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(text, 1, sizeof(text) - 1, f);
    text[n] = '\0';
    fclose(f);
    unlink(path);
    return text;
}

/* The text of the object `name` in the report: from its '{' to the matching '}'. */
static const char *object(const char *json, const char *name, size_t *len)
{
    char key[64];
    snprintf(key, sizeof(key), "\"%s\":{", name);
    const char *p = strstr(json, key);
    assert_non_null(p);
    p += strlen(key) - 1;
    int depth = 0;
    for (const char *q = p; *q; q++) {
        depth += *q == '{' ? 1 : *q == '}' ? -1 : 0;
        if (depth == 0) {
            *len = (size_t)(q - p + 1);
            return p;
        }
    }
    fail_msg("object %s is not closed", name);
    return NULL;
}

static void expect_field(const char *obj, size_t len, const char *name, uint64_t value)
{
    char want[96];
    snprintf(want, sizeof(want), "\"%s\":%" PRIu64, name, value);
    const char *p = strstr(obj, want);
    if (p == NULL || p >= obj + len || (p[strlen(want)] != ',' && p[strlen(want)] != '}'))
        fail_msg("%s missing from %.*s", want, (int)len, obj);
}

static void test_every_counter_reaches_its_object(void **state)
{
    (void)state;
    static struct vmm v;
    static struct vblk_dev blk;
    uint64_t k = 1000; /* distinct values: a field reported from the wrong counter shows */
#define SET_CONV(name, what) v.mem.st.name = k++;
    CONV_STATS(SET_CONV)
#define SET_REQ(name, what) blk.st.name = k++;
    VBLK_REQUEST_STATS(SET_REQ)
#define SET_EXIT(name, what) v.exits.name = k++;
    VMM_EXITS(SET_EXIT)
    blk.st.refused_dma = 7;
    v.blk = &blk;
    v.end = END_GUEST_EXIT;
    const char *json = report_of(&v);
    size_t len;
    const char *o = object(json, "conversions", &len);
    k = 1000;
#define CHECK_CONV(name, what) expect_field(o, len, #name, k++);
    CONV_STATS(CHECK_CONV)
    o = object(json, "requests", &len);
#define CHECK_REQ(name, what) expect_field(o, len, #name, k++);
    VBLK_REQUEST_STATS(CHECK_REQ)
    o = object(json, "exits_by_reason", &len);
#define CHECK_EXIT(name, what) expect_field(o, len, #name, k++);
    VMM_EXITS(CHECK_EXIT)
    expect_field(json, strlen(json), "refused_dma", 7);
    expect_field(json, strlen(json), "status", 3);
    assert_non_null(strstr(json, "\"end\":\"guest-exit\""));
    assert_int_equal(json[strlen(json) - 1], '\n');
}

static void test_message_is_escaped(void **state)
{
    (void)state;
    static struct vmm v;
    v.end = END_VMM_ERROR;
    strcpy(v.end_msg, "a \"quote\"\n");
    const char *json = report_of(&v);
    assert_non_null(strstr(json, "\"message\":\"a \\\"quote\\\"\\u000a\""));
    assert_non_null(strstr(json, "\"guest_exit_code\":null"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_counter_reaches_its_object),
        cmocka_unit_test(test_message_is_escaped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
