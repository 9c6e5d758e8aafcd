/* SPDX-License-Identifier: MIT */
/* suites.c - the registry of in-guest suites the kernel is linked with (ktest/ktest.h), from the
 * list in suites.h. */
#include "ktest/ktest.h"
#include "tests/guest/suites.h"

#define DECLARE_SUITE(ident) extern const struct ktest_suite suite_##ident;
KTEST_SUITES(DECLARE_SUITE)
#define SUITE_PTR(ident) &suite_##ident,
const struct ktest_suite *const ktest_suites[] = {KTEST_SUITES(SUITE_PTR)};
#define SUITE_NAME(ident) #ident,
const char *const ktest_suite_names[] = {KTEST_SUITES(SUITE_NAME) "all", NULL};
const size_t ktest_nsuites = sizeof(ktest_suites) / sizeof(ktest_suites[0]);
_Static_assert(sizeof(ktest_suites) / sizeof(ktest_suites[0]) <= KTEST_MAX_SUITES,
               "tests= has a bit per suite and one for 'all'");
