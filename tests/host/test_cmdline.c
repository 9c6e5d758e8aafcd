/* SPDX-License-Identifier: MIT */
/* test_cmdline.c - host unit tests for kernel/cmdline.c. */
#define _POSIX_C_SOURCE 200809L /* strnlen */
#include "tests/host/host_test.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "kernel/cmdline.h"
#include "lib/units.h"

#define GiB(x) ((uint64_t)(x) << 30)

/* ---- parse_uint / parse_size ---- */

static bool uint_of(const char *s, uint64_t *out) { return parse_uint(s, strlen(s), out); }
static bool size_of(const char *s, uint64_t *out) { return parse_size(s, strlen(s), out); }

static void test_parse_uint_accepts_decimal_and_hex(void **state)
{
    (void)state;
    uint64_t v;
    assert_true(uint_of("0", &v));
    assert_int_equal(v, 0);
    assert_true(uint_of("12345", &v));
    assert_int_equal(v, 12345);
    assert_true(uint_of("007", &v));
    assert_int_equal(v, 7);
    assert_true(uint_of("0x1f", &v));
    assert_int_equal(v, 0x1f);
    assert_true(uint_of("0XaBcD", &v));
    assert_int_equal(v, 0xabcd);
    assert_true(uint_of("18446744073709551615", &v));
    assert_int_equal(v, UINT64_MAX);
    assert_true(uint_of("0xffffffffffffffff", &v));
    assert_int_equal(v, UINT64_MAX);
    /* Only `len` characters are looked at: the parser runs on words inside the whole line. */
    assert_true(parse_uint("123 456", 3, &v));
    assert_int_equal(v, 123);
}

static void test_parse_uint_rejects_overflow(void **state)
{
    (void)state;
    uint64_t v;
    assert_false(uint_of("18446744073709551616", &v));
    assert_false(uint_of("99999999999999999999", &v));
    assert_false(uint_of("0x10000000000000000", &v));
}

static void test_parse_uint_rejects_junk_and_empty(void **state)
{
    (void)state;
    uint64_t v;
    const char *bad[] = {"", "0x", "0X", "x1", "12a", "0xg", "-1", "+1", " 1", "1 ", "1.0", "abc", "0x1g", "1e3"};
    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        if (uint_of(bad[i], &v))
            fail_msg("parse_uint accepted '%s'", bad[i]);
    }
    assert_false(parse_uint("123", 0, &v));
}

static void test_parse_size_applies_suffixes_in_either_case(void **state)
{
    (void)state;
    uint64_t v;
    assert_true(size_of("4096", &v));
    assert_int_equal(v, KiB(4));
    assert_true(size_of("64k", &v));
    assert_int_equal(v, KiB(64));
    assert_true(size_of("64K", &v));
    assert_int_equal(v, KiB(64));
    assert_true(size_of("3m", &v));
    assert_int_equal(v, MiB(3));
    assert_true(size_of("3M", &v));
    assert_int_equal(v, MiB(3));
    assert_true(size_of("2g", &v));
    assert_int_equal(v, GiB(2));
    assert_true(size_of("2G", &v));
    assert_int_equal(v, GiB(2));
    assert_true(size_of("0x10M", &v));
    assert_int_equal(v, MiB(16));
    assert_true(size_of("0K", &v));
    assert_int_equal(v, 0);
}

static void test_parse_size_rejects_overflow_with_suffix(void **state)
{
    (void)state;
    uint64_t v;
    /* 2^34 - 1 G is the largest that fits; 2^34 G is 2^64. */
    assert_true(size_of("17179869183G", &v));
    assert_int_equal(v, (((uint64_t)1 << 34) - 1) << 30);
    assert_false(size_of("17179869184G", &v));
    assert_false(size_of("17592186044416M", &v));    /* 2^44 M */
    assert_false(size_of("18014398509481984K", &v)); /* 2^54 K */
    assert_false(size_of("18446744073709551616", &v));
}

static void test_parse_size_rejects_junk(void **state)
{
    (void)state;
    uint64_t v;
    const char *bad[] = {"", "K", "M", "G", "1T", "1KB", "1.5G", "G1", "-1K", "1 K", "0xK", "1KK"};
    for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
        if (size_of(bad[i], &v))
            fail_msg("parse_size accepted '%s'", bad[i]);
    }
}

/* ---- cmdline_parse ---- */

static const char *const modes[] = {"off", "auto", "force", NULL};
static const char *const subsystems[] = {"mm", "irq", "dma", "pci", NULL};
#define SUB_MM (1ull << 0)
#define SUB_IRQ (1ull << 1)
#define SUB_DMA (1ull << 2)
#define SUB_PCI (1ull << 3)

/* Where the table's options land; reset to known defaults before each test. */
static struct {
    bool verbose;
    uint64_t cpus, addr, heap, tag, debug, trace;
    int mode, answer, callback_calls;
} d;

static int parse_answer(const char *value, void *dest, char *err, size_t errlen)
{
    d.callback_calls++;
    if (strcmp(value, "42") != 0) {
        snprintf(err, errlen, "not the answer");
        return -1;
    }
    *(int *)dest = 42;
    return 0;
}

static const struct cmdline_option opts[] = {
    {.name = "verbose", .kind = OPT_FLAG, .dest = &d.verbose},
    {.name = "cpus", .kind = OPT_UINT, .dest = &d.cpus, .min = 1, .max = 64},
    {.name = "addr", .kind = OPT_UINT, .dest = &d.addr}, /* max 0: no upper bound */
    {.name = "heap", .kind = OPT_SIZE, .dest = &d.heap, .min = KiB(64), .max = GiB(1)},
    {.name = "tag", .kind = OPT_UINT, .dest = &d.tag, .repeatable = true},
    {.name = "mode", .kind = OPT_ENUM, .dest = &d.mode, .choices = modes},
    {.name = "debug", .kind = OPT_LIST, .dest = &d.debug, .choices = subsystems},
    {.name = "trace", .kind = OPT_LIST, .dest = &d.trace, .choices = subsystems, .repeatable = true},
    {.name = "answer", .kind = OPT_CALLBACK, .dest = &d.answer, .parse = parse_answer},
};

static int reset_dests(void **state)
{
    (void)state;
    memset(&d, 0, sizeof(d));
    d.cpus = 2;
    d.heap = MiB(8);
    d.mode = 1;
    d.debug = SUB_PCI;
    d.trace = SUB_PCI;
    return 0;
}

static char err[256];

static int parse(const char *line)
{
    memset(err, 0, sizeof(err));
    return cmdline_parse(line, opts, ARRAY_LEN(opts), err, sizeof(err));
}

/* The line fails and the reason mentions every given fragment (the offending word, the choices...). */
#define assert_parse_error(line, ...)                                             \
    do {                                                                          \
        const char *frags_[] = {__VA_ARGS__};                                     \
        assert_int_equal(parse(line), -1);                                        \
        for (size_t f_ = 0; f_ < ARRAY_LEN(frags_); f_++)                         \
            if (strstr(err, frags_[f_]) == NULL)                                  \
                fail_msg("error for '%s' lacks '%s': %s", line, frags_[f_], err); \
    } while (0)

static void test_parse_sets_every_kind_of_option(void **state)
{
    (void)state;
    assert_int_equal(parse("verbose cpus=8 addr=0xfee00000 heap=64M tag=3 mode=force debug=mm,dma trace=irq answer=42"),
                     0);
    assert_true(d.verbose);
    assert_int_equal(d.cpus, 8);
    assert_int_equal(d.addr, 0xfee00000);
    assert_int_equal(d.heap, MiB(64));
    assert_int_equal(d.tag, 3);
    assert_int_equal(d.mode, 2);
    assert_int_equal(d.debug, SUB_MM | SUB_DMA);
    assert_int_equal(d.trace, SUB_IRQ);
    assert_int_equal(d.answer, 42);
    assert_int_equal(d.callback_calls, 1);
}

static void test_parse_leaves_absent_options_alone(void **state)
{
    (void)state;
    assert_int_equal(parse(""), 0);
    assert_int_equal(parse(" \t\r\n "), 0);
    assert_int_equal(parse("verbose"), 0);
    assert_int_equal(d.cpus, 2);
    assert_int_equal(d.heap, MiB(8));
    assert_int_equal(d.mode, 1);
    assert_int_equal(d.debug, SUB_PCI);
    assert_int_equal(d.callback_calls, 0);
}

static void test_parse_splits_on_runs_of_spaces_tabs_and_newlines(void **state)
{
    (void)state;
    assert_int_equal(parse("   verbose\t\t cpus=4\n\nmode=off \r\n heap=1g\t"), 0);
    assert_true(d.verbose);
    assert_int_equal(d.cpus, 4);
    assert_int_equal(d.mode, 0);
    assert_int_equal(d.heap, GiB(1));
}

static void test_parse_checks_uint_range(void **state)
{
    (void)state;
    assert_int_equal(parse("cpus=1"), 0);
    assert_int_equal(d.cpus, 1);
    reset_dests(NULL);
    assert_int_equal(parse("cpus=64"), 0);
    assert_int_equal(d.cpus, 64);
    reset_dests(NULL);
    assert_parse_error("cpus=0", "cpus=0", "1..64");
    assert_parse_error("cpus=65", "cpus=65", "1..64");
    assert_parse_error("cpus=0x100", "cpus=0x100");
    assert_int_equal(d.cpus, 2); /* a rejected value is not stored */
    assert_int_equal(parse("addr=0xffffffffffffffff"), 0);
    assert_int_equal(d.addr, UINT64_MAX);
}

static void test_parse_checks_size_range(void **state)
{
    (void)state;
    assert_parse_error("heap=32K", "heap=32K", "65536..1073741824");
    assert_parse_error("heap=2G", "heap=2G");
    assert_parse_error("heap=1048577k", "heap=1048577k");
    assert_int_equal(d.heap, MiB(8));
    assert_int_equal(parse("heap=64k"), 0);
    assert_int_equal(d.heap, KiB(64));
}

static void test_parse_enum_rejects_unknown_value_and_lists_choices(void **state)
{
    (void)state;
    assert_int_equal(parse("mode=auto"), 0);
    assert_int_equal(d.mode, 1);
    reset_dests(NULL);
    assert_parse_error("mode=sometimes", "mode=sometimes", "off,auto,force");
    assert_parse_error("mode=Auto", "mode=Auto"); /* choices are case-sensitive */
    assert_parse_error("mode=autox", "mode=autox");
    assert_parse_error("mode=aut", "mode=aut"); /* no abbreviations either */
    assert_int_equal(d.mode, 1);
}

static void test_parse_list_first_occurrence_replaces_default(void **state)
{
    (void)state;
    assert_int_equal(parse("debug=irq"), 0);
    assert_int_equal(d.debug, SUB_IRQ); /* SUB_PCI, the default, is gone */
    reset_dests(NULL);
    assert_int_equal(parse("debug=mm,irq,dma,pci"), 0);
    assert_int_equal(d.debug, SUB_MM | SUB_IRQ | SUB_DMA | SUB_PCI);
    reset_dests(NULL);
    assert_int_equal(parse("debug=mm,mm"), 0);
    assert_int_equal(d.debug, SUB_MM);
}

static void test_parse_repeatable_list_accumulates(void **state)
{
    (void)state;
    assert_int_equal(parse("trace=mm trace=dma,irq trace=mm"), 0);
    assert_int_equal(d.trace, SUB_MM | SUB_IRQ | SUB_DMA);
}

static void test_parse_list_rejects_bad_items(void **state)
{
    (void)state;
    assert_parse_error("debug=mm,bogus", "debug=mm,bogus", "mm,irq,dma,pci");
    assert_parse_error("debug=mm,", "debug=mm,");
    assert_parse_error("debug=,mm", "debug=,mm");
    assert_parse_error("debug=mm,,irq", "debug=mm,,irq");
    assert_parse_error("trace=MM", "trace=MM");
    assert_int_equal(d.debug, SUB_PCI);
}

static void test_parse_callback_success_and_failure(void **state)
{
    (void)state;
    assert_int_equal(parse("answer=42"), 0);
    assert_int_equal(d.answer, 42);
    assert_parse_error("answer=41", "answer=41", "not the answer");
    assert_int_equal(d.callback_calls, 2);

    /* The callback gets a NUL-terminated copy in a 128-byte buffer: 127 characters still fit, 128
     * are refused before the callback runs. */
    char line[200] = "answer=";
    memset(line + 7, '4', 127);
    assert_parse_error(line, "not the answer");
    assert_int_equal(d.callback_calls, 3);
    line[7 + 127] = '4';
    assert_parse_error(line, "too long", "answer=4444");
    assert_int_equal(d.callback_calls, 3);
}

static void test_parse_rejects_unknown_option(void **state)
{
    (void)state;
    assert_parse_error("bogus", "unknown option", "bogus");
    assert_parse_error("verbose cpus=3 bogus=1", "bogus=1");
    assert_parse_error("verb", "verb"); /* prefixes are not abbreviations */
    assert_parse_error("verbosely", "verbosely");
    assert_parse_error("=5", "'=5'");
}

static void test_parse_rejects_flag_with_value(void **state)
{
    (void)state;
    assert_parse_error("verbose=1", "verbose=1", "no value");
    assert_parse_error("verbose=", "verbose=");
    assert_false(d.verbose);
}

static void test_parse_rejects_missing_or_empty_value(void **state)
{
    (void)state;
    assert_parse_error("cpus", "cpus", "needs a value");
    assert_parse_error("heap=", "heap=", "needs a value");
    assert_parse_error("mode", "mode");
    assert_parse_error("debug=", "debug=");
    assert_parse_error("answer=", "answer=");
    assert_int_equal(d.callback_calls, 0);
}

static void test_parse_rejects_malformed_numbers(void **state)
{
    (void)state;
    assert_parse_error("cpus=12x", "cpus=12x", "malformed");
    assert_parse_error("cpus=-1", "cpus=-1");
    assert_parse_error("addr=0x", "addr=0x");
    assert_parse_error("addr=18446744073709551616", "addr=18446744073709551616");
    assert_parse_error("heap=12Q", "heap=12Q", "malformed");
    assert_parse_error("heap=17179869184G", "heap=17179869184G");
}

static void test_parse_rejects_repeat_of_non_repeatable_option(void **state)
{
    (void)state;
    assert_parse_error("verbose verbose", "verbose", "twice");
    assert_parse_error("cpus=1 cpus=2", "cpus", "twice");
    assert_parse_error("debug=mm debug=irq", "debug", "twice");
    assert_parse_error("answer=42 answer=42", "answer", "twice");
    assert_int_equal(parse("tag=1 tag=7"), 0); /* repeatable: the last one wins */
    assert_int_equal(d.tag, 7);
}

static void test_parse_error_names_only_the_failing_word(void **state)
{
    (void)state;
    assert_parse_error("cpus=4 mode=off heap=3 verbose", "heap=3");
    assert_null(strstr(err, "cpus"));
    assert_null(strstr(err, "verbose"));
}

static void test_parse_truncates_long_words_and_small_buffers_safely(void **state)
{
    (void)state;
    char line[300];
    memset(line, 'z', sizeof(line) - 1);
    line[sizeof(line) - 1] = '\0';
    assert_parse_error(line, "unknown option 'zzzzzzzz");
    assert_true(strlen(err) < sizeof(err));

    char tiny[12];
    memset(tiny, 'X', sizeof(tiny));
    assert_int_equal(cmdline_parse("bogus", opts, ARRAY_LEN(opts), tiny, sizeof(tiny)), -1);
    assert_int_equal(strlen(tiny), sizeof(tiny) - 1);
    assert_int_equal(cmdline_parse("mode=x", opts, ARRAY_LEN(opts), tiny, sizeof(tiny)), -1);
    assert_int_equal(strlen(tiny), sizeof(tiny) - 1);
}

static void test_parse_rejects_oversized_table(void **state)
{
    (void)state;
    static struct cmdline_option big[CMDLINE_MAX_OPTIONS + 1];
    static bool flags[CMDLINE_MAX_OPTIONS + 1];
    static char names[CMDLINE_MAX_OPTIONS + 1][16];
    for (unsigned i = 0; i <= CMDLINE_MAX_OPTIONS; i++) {
        snprintf(names[i], sizeof(names[i]), "f%u", i);
        big[i] = (struct cmdline_option){.name = names[i], .kind = OPT_FLAG, .dest = &flags[i]};
    }
    assert_int_equal(cmdline_parse("f1", big, CMDLINE_MAX_OPTIONS, err, sizeof(err)), 0);
    assert_true(flags[1]);
    assert_int_equal(cmdline_parse("f1", big, CMDLINE_MAX_OPTIONS + 1, err, sizeof(err)), -1);
    assert_true(err[0] != '\0');
}

/* Random lines: mostly plausible words (so the parser gets past the name lookup), some raw noise. */
static void random_line(struct rng *rng, char *buf, size_t size)
{
    static const char *const pieces[] = {
        "verbose",
        "cpus",
        "addr",
        "heap",
        "tag",
        "mode",
        "debug",
        "trace",
        "answer",
        "=",
        "=",
        ",",
        ",",
        "0x",
        "1",
        "42",
        "64",
        "ff",
        "K",
        "m",
        "G",
        "off",
        "auto",
        "force",
        "mm",
        "irq",
        "dma",
        "pci",
        " ",
        " ",
        "\t",
        "\n",
        "18446744073709551615",
        "99999999999999999999",
    };
    size_t len = 0, words = (size_t)rng_below(rng, 12);
    for (size_t w = 0; w < words; w++) {
        const char *piece;
        char noise[2] = {0, 0};
        if (rng_one_in(rng, 4)) {
            noise[0] = rng_one_in(rng, 10) ? "\t\n\r"[rng_below(rng, 3)] : (char)(' ' + rng_below(rng, 95));
            piece = noise;
        } else {
            piece = pieces[rng_below(rng, ARRAY_LEN(pieces))];
        }
        size_t plen = strlen(piece);
        if (len + plen >= size)
            break;
        memcpy(buf + len, piece, plen);
        len += plen;
    }
    buf[len] = '\0';
}

static void test_parse_random_lines_never_crash_and_always_explain_failure(void **state)
{
    (void)state;
    struct rng rng = rng_begin();
    int ok = 0, failed = 0;
    for (int i = 0; i < 20000; i++) {
        char line[256], buf[256];
        random_line(&rng, line, rng_one_in(&rng, 8) ? sizeof(line) : 40);
        size_t errlen = rng_one_in(&rng, 4) ? 2 + (size_t)rng_below(&rng, 30) : sizeof(buf);
        memset(buf, 0x55, sizeof(buf));
        reset_dests(NULL);
        int rc = cmdline_parse(line, opts, ARRAY_LEN(opts), buf, errlen);
        RAND_ASSERT(rc == 0 || rc == -1);
        if (rc == 0) {
            ok++;
            continue;
        }
        failed++;
        RAND_ASSERT(buf[0] != '\0');
        RAND_ASSERT(strnlen(buf, errlen) < errlen); /* terminated inside the buffer it was given */
        RAND_ASSERT(errlen == sizeof(buf) || (unsigned char)buf[errlen] == 0x55); /* and not past it */
    }
    print_message("# %d lines parsed, %d rejected\n", ok, failed);
    RAND_ASSERT(ok > 100 && failed > 100); /* both paths were exercised */
}

#define T(f) cmocka_unit_test_setup(f, reset_dests)

static void test_parse_virtio_mmio_takes_linux_syntax(void **state)
{
    (void)state;
    struct virtio_mmio_spec v;
    assert_true(parse_virtio_mmio("512@0xd0000000:5", &v));
    assert_int_equal(v.size, 512);
    assert_int_equal(v.base, 0xd0000000ull);
    assert_int_equal(v.irq, 5);
    assert_true(parse_virtio_mmio("4K@4096:0", &v));
    assert_int_equal(v.size, KiB(4));
    assert_int_equal(v.base, KiB(4));
}

static void test_parse_virtio_mmio_rejects_malformed_specs(void **state)
{
    (void)state;
    struct virtio_mmio_spec v;
    static const char *const bad[] = {"",
                                      "512",
                                      "512@0xd0000000",
                                      "@0x1000:5",
                                      "512@:5",
                                      "512@0x1000:",
                                      "0@0x1000:5",
                                      "512@zz:5",
                                      "512@0x1000:256",
                                      "512@0xffffffffffffff00:5",
                                      "512@0x1000:5x"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (parse_virtio_mmio(bad[i], &v))
            fail_msg("accepted \"%s\"", bad[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_uint_accepts_decimal_and_hex),
        cmocka_unit_test(test_parse_uint_rejects_overflow),
        cmocka_unit_test(test_parse_uint_rejects_junk_and_empty),
        cmocka_unit_test(test_parse_size_applies_suffixes_in_either_case),
        cmocka_unit_test(test_parse_size_rejects_overflow_with_suffix),
        cmocka_unit_test(test_parse_size_rejects_junk),
        cmocka_unit_test(test_parse_virtio_mmio_takes_linux_syntax),
        cmocka_unit_test(test_parse_virtio_mmio_rejects_malformed_specs),
        T(test_parse_sets_every_kind_of_option),
        T(test_parse_leaves_absent_options_alone),
        T(test_parse_splits_on_runs_of_spaces_tabs_and_newlines),
        T(test_parse_checks_uint_range),
        T(test_parse_checks_size_range),
        T(test_parse_enum_rejects_unknown_value_and_lists_choices),
        T(test_parse_list_first_occurrence_replaces_default),
        T(test_parse_repeatable_list_accumulates),
        T(test_parse_list_rejects_bad_items),
        T(test_parse_callback_success_and_failure),
        T(test_parse_rejects_unknown_option),
        T(test_parse_rejects_flag_with_value),
        T(test_parse_rejects_missing_or_empty_value),
        T(test_parse_rejects_malformed_numbers),
        T(test_parse_rejects_repeat_of_non_repeatable_option),
        T(test_parse_error_names_only_the_failing_word),
        T(test_parse_truncates_long_words_and_small_buffers_safely),
        T(test_parse_rejects_oversized_table),
        T(test_parse_random_lines_never_crash_and_always_explain_failure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
