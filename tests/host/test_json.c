/* SPDX-License-Identifier: MIT */
/* test_json.c - host unit tests for lib/json.c (the flat JSON object writer of the reports). */
#include "tests/host/host_test.h"

#include <stdio.h>
#include <string.h>

#include "lib/json.h"

static void test_fields_in_order_with_commas(void **state)
{
    (void)state;
    char buf[256];
    struct json_writer w;
    json_begin(&w, buf, sizeof(buf));
    json_str(&w, "policy", "zero");
    json_u64(&w, "maps", 18446744073709551615ull);
    json_bool(&w, "kvm", true);
    json_bool(&w, "canary", false);
    json_fixed(&w, "per_request", 2.0 / 3.0, 3);
    json_key(&w, "ranges");
    json_append(&w, "[[%d,%d],[%d,%d]]", 1, 2, 3, 4);
    size_t n = json_end(&w);
    const char *want = "{\"policy\":\"zero\",\"maps\":18446744073709551615,\"kvm\":true,\"canary\":false,"
                       "\"per_request\":0.667,\"ranges\":[[1,2],[3,4]]}";
    assert_string_equal(buf, want);
    assert_int_equal(n, strlen(want));
}

static void test_empty_object(void **state)
{
    (void)state;
    char buf[8];
    struct json_writer w;
    json_begin(&w, buf, sizeof(buf));
    assert_int_equal(json_end(&w), 2);
    assert_string_equal(buf, "{}");
}

static void test_strings_are_escaped(void **state)
{
    (void)state;
    char buf[128];
    struct json_writer w;
    json_begin(&w, buf, sizeof(buf));
    json_str(&w, "note", "a \"quoted\" back\\slash\nline\x01");
    json_end(&w);
    assert_string_equal(buf, "{\"note\":\"a \\\"quoted\\\" back\\\\slash\\u000aline\\u0001\"}");
}

/* snprintf's contract: cut to fit, always terminated, the full length returned - at every size. */
static void test_cut_to_fit_at_every_size(void **state)
{
    (void)state;
    char full[128], cut[128];
    struct json_writer w;
    json_begin(&w, full, sizeof(full));
    json_u64(&w, "a", 1234567);
    json_str(&w, "b", "text");
    size_t n = json_end(&w);
    for (size_t size = 0; size <= n + 1; size++) {
        memset(cut, 'x', sizeof(cut));
        json_begin(&w, cut, size);
        json_u64(&w, "a", 1234567);
        json_str(&w, "b", "text");
        assert_int_equal(json_end(&w), n);
        if (size == 0) {
            assert_int_equal(cut[0], 'x'); /* nothing written, not even the terminator */
            continue;
        }
        size_t kept = size - 1 < n ? size - 1 : n;
        assert_memory_equal(cut, full, kept);
        assert_int_equal(cut[kept], '\0');
    }
}

static void test_nested_objects(void **state)
{
    (void)state;
    char buf[128];
    struct json_writer w;
    json_begin(&w, buf, sizeof(buf));
    json_u64(&w, "a", 1);
    json_object(&w, "b");
    json_u64(&w, "c", 2);
    json_object(&w, "d");
    json_close(&w);
    json_u64(&w, "e", 3);
    json_close(&w);
    json_u64(&w, "f", 4);
    json_object(&w, "g");
    json_u64(&w, "h", 5);
    json_end(&w); /* closes g too */
    assert_string_equal(buf, "{\"a\":1,\"b\":{\"c\":2,\"d\":{},\"e\":3},\"f\":4,\"g\":{\"h\":5}}");
}

static void test_stream_gets_the_same_text(void **state)
{
    (void)state;
    char buf[64], out[64] = "";
    struct json_writer w;
    json_begin(&w, buf, sizeof(buf));
    json_object(&w, "o");
    json_u64(&w, "n", 7);
    size_t n = json_end(&w);
    FILE *f = tmpfile();
    assert_non_null(f);
    json_begin_stream(&w, f);
    json_object(&w, "o");
    json_u64(&w, "n", 7);
    assert_int_equal(json_end(&w), n);
    rewind(f);
    assert_non_null(fgets(out, sizeof(out), f));
    fclose(f);
    assert_string_equal(out, buf);
}

static void test_stdout_gets_the_same_text(void **state)
{
    (void)state;
    char buf[128], out[128] = "";
    struct json_writer w;
    json_begin(&w, buf, sizeof(buf));
    json_u64(&w, "n", 42);
    size_t n = json_end(&w);
    FILE *f = tmpfile();
    assert_non_null(f);
    fflush(stdout);
    FILE *saved = stdout;
    stdout = f;
    json_begin(&w, NULL, 0);
    json_u64(&w, "n", 42);
    assert_int_equal(json_end(&w), n);
    stdout = saved;
    rewind(f);
    assert_non_null(fgets(out, sizeof(out), f));
    fclose(f);
    assert_string_equal(out, buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fields_in_order_with_commas), cmocka_unit_test(test_empty_object),
        cmocka_unit_test(test_strings_are_escaped),         cmocka_unit_test(test_cut_to_fit_at_every_size),
        cmocka_unit_test(test_stdout_gets_the_same_text),   cmocka_unit_test(test_nested_objects),
        cmocka_unit_test(test_stream_gets_the_same_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
