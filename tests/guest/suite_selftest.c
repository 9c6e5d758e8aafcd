/* SPDX-License-Identifier: MIT */
/* suite_selftest.c - suites that fail, fault, panic or hang on purpose, to test the test machinery
 * (the framework, the panic path and the runner's timeout). Not part of tests=all: the runner's
 * own tests (tests/runner/) select them by name and check that each is reported as it should be. */
#include "kernel/cpu.h"
#include "kernel/panic.h"
#include "ktest/ktest.h"

static void passes(struct ktest *t) { KEXPECT(t, 1 + 1 == 2); }
static void fails_on_purpose(struct ktest *t) { KEXPECT_EQ(t, 1 + 1, 3); }

static void faults_on_purpose(struct ktest *t)
{
    (void)t;
    (void)*(volatile uint64_t *)(uintptr_t)0x00007f0000000008ull;
}

/* Two named frames, so the runner's test can check the backtrace names them. */
static void __attribute__((noinline)) selftest_panic_inner(int why)
{
    panic("deliberate panic from selftest_panic (%d)", why);
}

static void __attribute__((noinline)) selftest_panic_outer(int why)
{
    selftest_panic_inner(why + 1);
    __asm__ volatile(""); /* keep the call a call, not a tail jump */
}

static void panics_on_purpose(struct ktest *t)
{
    (void)t;
    selftest_panic_outer(41);
}

static void __attribute__((noinline)) selftest_crash_here(void) { __asm__ volatile("ud2"); }

static void crashes_on_purpose(struct ktest *t)
{
    (void)t;
    selftest_crash_here();
    __asm__ volatile("");
}

static void hangs_on_purpose(struct ktest *t)
{
    (void)t;
    for (;;)
        cpu_relax();
}

static const struct ktest_case fail_cases[] = {KTEST_CASE(passes), KTEST_CASE(fails_on_purpose), KTEST_CASE(passes)};
static const struct ktest_case fault_cases[] = {KTEST_CASE(faults_on_purpose), KTEST_CASE(passes)};
static const struct ktest_case panic_cases[] = {KTEST_CASE(panics_on_purpose)};
static const struct ktest_case crash_cases[] = {KTEST_CASE(crashes_on_purpose)};
static const struct ktest_case hang_cases[] = {KTEST_CASE(hangs_on_purpose)};
KTEST_SELFTEST_SUITE(selftest_fail, "a failing test fails the run", false, fail_cases);
KTEST_SELFTEST_SUITE(selftest_fault, "an unexpected exception fails one test, not the run", false, fault_cases);
KTEST_SELFTEST_SUITE(selftest_panic, "a panic ends the run with a backtrace", false, panic_cases);
KTEST_SELFTEST_SUITE(selftest_crash, "an exception outside any catch is a panic with a dump", true, crash_cases);
KTEST_SELFTEST_SUITE(selftest_hang, "a hanging guest is killed by the runner", false, hang_cases);
