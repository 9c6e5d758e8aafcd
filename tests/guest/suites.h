/* SPDX-License-Identifier: MIT */
/* suites.h - the list of in-guest test suites, in the order they run.
 * X(ident): the suite is `suite_<ident>` (defined with KTEST_SUITE) and is selected by `tests=<ident>`. */
#ifndef BOUNCE_TESTS_GUEST_SUITES_H
#define BOUNCE_TESTS_GUEST_SUITES_H

#define KTEST_SUITES(X) \
    X(boot)             \
    X(smp)              \
    X(irq)              \
    X(mm)               \
    X(paging)           \
    X(traps)            \
    X(dma)              \
    X(blk)              \
    X(cc)               \
    X(blkbench)         \
    X(workload)         \
    X(selftest_fail)    \
    X(selftest_fault)   \
    X(selftest_panic)   \
    X(selftest_crash)   \
    X(selftest_hang)

#endif
