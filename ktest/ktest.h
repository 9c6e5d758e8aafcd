/* SPDX-License-Identifier: MIT */
/* ktest.h - the in-guest test framework.
 *
 * A suite is a named array of test cases; suites are listed once in tests/guest/suites.h and
 * selected on the command line (`tests=boot,mm` or `tests=all`). The framework knows no suite: it
 * runs the table the kernel is linked with (ktest_suites[], defined by tests/guest/suites.c), as
 * kvm-unit-tests keeps lib/report.c apart from the tests in x86/. Each case prints one TAP line
 * ("ok 3 - mm.alloc_contiguous"), with diagnostics as "#" lines after a failure; the run ends with
 * the plan, a summary line "N passed, N failed" and an exit code (kernel/exit.h).
 *
 * Every case runs with an exception catch armed: a case that faults unexpectedly is reported as
 * failed (with the vector, RIP and CR2) and the run goes on with the next case.
 */
#ifndef BOUNCE_KTEST_KTEST_H
#define BOUNCE_KTEST_KTEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/boot_info.h"

struct ktest {
    const char *suite, *name;
    unsigned failures;
    bool skipped;
    char skip_reason[240];
    uint64_t rng; /* per-case random state, derived from seed= and the case name */
};

struct ktest_case {
    const char *name;
    void (*fn)(struct ktest *t);
};

struct ktest_suite {
    const char *name;
    const char *title;
    bool not_in_all; /* selftests of the framework itself: only run when named */
    bool no_catch;   /* run cases without the exception catch (to test the panic path) */
    const struct ktest_case *cases;
    size_t ncases;
};

/* Brace initializers in macros: clang-format cannot lay them out. */
/* clang-format off */
#define KTEST_CASE(fn) {#fn, fn}
#define KTEST_SUITE(ident, title_, cases_)                                                           \
    const struct ktest_suite suite_##ident = {#ident, title_, false, false, cases_, sizeof(cases_) / sizeof(cases_[0])}
#define KTEST_SELFTEST_SUITE(ident, title_, no_catch_, cases_)                                       \
    const struct ktest_suite suite_##ident = {#ident, title_, true, no_catch_, cases_,               \
                                              sizeof(cases_) / sizeof(cases_[0])}
/* clang-format on */

void ktest_fail(struct ktest *t, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void ktest_skip(struct ktest *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A diagnostic line in the TAP stream ("# ..."), for figures worth seeing in the log. */
void ktest_note(struct ktest *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define KEXPECT(t, cond)                                               \
    do {                                                               \
        if (!(cond))                                                   \
            ktest_fail((t), __FILE__, __LINE__, "expected %s", #cond); \
    } while (0)
#define KEXPECT_MSG(t, cond, ...)                             \
    do {                                                      \
        if (!(cond))                                          \
            ktest_fail((t), __FILE__, __LINE__, __VA_ARGS__); \
    } while (0)
#define KEXPECT_EQ(t, a, b)                                                                              \
    do {                                                                                                 \
        unsigned long long ka_ = (unsigned long long)(a), kb_ = (unsigned long long)(b);                 \
        if (ka_ != kb_)                                                                                  \
            ktest_fail((t), __FILE__, __LINE__, "expected %s == %s (%#llx != %#llx)", #a, #b, ka_, kb_); \
    } while (0)
/* Like KEXPECT, but ends the case: for preconditions the rest of the case depends on. */
#define KASSERT(t, cond)                                                       \
    do {                                                                       \
        if (!(cond)) {                                                         \
            ktest_fail((t), __FILE__, __LINE__, "assertion %s failed", #cond); \
            return;                                                            \
        }                                                                      \
    } while (0)
#define KASSERT_MSG(t, cond, ...)                             \
    do {                                                      \
        if (!(cond)) {                                        \
            ktest_fail((t), __FILE__, __LINE__, __VA_ARGS__); \
            return;                                           \
        }                                                     \
    } while (0)

/* A deterministic pseudo-random number (xorshift64*) from the case's state. */
uint64_t ktest_rand(struct ktest *t);

const struct boot_info *ktest_boot_info(void);

struct ktest_result {
    unsigned passed, failed, skipped;
};

/* Run the suites whose bits are set in mask (bit i = ktest_suite_names[i]; the 'all' bit selects
 * every suite that is not a selftest), printing TAP. */
struct ktest_result ktest_run(uint64_t mask, const struct boot_info *bi);

/* Print the closing lines ("# N skipped", then "N passed, N failed") and return the exit code. */
int ktest_finish(const struct ktest_result *r);

/* The suites, in the order they run, defined by the suites' own registry (tests/guest/suites.c);
 * at most KTEST_MAX_SUITES, since `tests=` selects them as bits of a 64-bit mask with one bit for
 * 'all'. */
#define KTEST_MAX_SUITES 63
extern const struct ktest_suite *const ktest_suites[];
extern const size_t ktest_nsuites;
/* Suite names in registry order, then "all", then NULL: the choices of `tests=`. */
extern const char *const ktest_suite_names[];

#endif
