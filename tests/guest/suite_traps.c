/* SPDX-License-Identifier: MIT */
/* suite_traps.c - exceptions provoked on purpose are caught and reported with the right details. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/panic.h"
#include "kernel/traps.h"
#include "ktest/ktest.h"
#include "lib/units.h"

#define UNMAPPED_VA 0x00007f0000000000ull
#define NONCANONICAL_VA 0x8000000000000000ull

static void __attribute__((noinline)) do_ud2(void *arg)
{
    (void)arg;
    __asm__ volatile("ud2");
}
static void __attribute__((noinline)) do_read(void *arg) { (void)*(volatile uint64_t *)arg; }
static void __attribute__((noinline)) do_int3(void *arg)
{
    (void)arg;
    __asm__ volatile("int3");
}

static void __attribute__((noinline)) do_divide(void *arg)
{
    volatile uint32_t zero = (uint32_t)(uintptr_t)arg, x = 1;
    x /= zero;
}

static bool rip_in(uint64_t rip, const char *fn)
{
    uintptr_t start, size;
    const char *name = kallsyms_lookup((uintptr_t)rip, &start, &size);
    return name != NULL && strcmp(name, fn) == 0;
}

static void invalid_opcode(struct ktest *t)
{
    struct trap_catch c;
    KASSERT(t, trap_run(do_ud2, NULL, &c));
    KEXPECT_EQ(t, c.vector, VEC_UD);
    KEXPECT_MSG(t, rip_in(c.rip, "do_ud2"), "RIP %#" PRIx64 " is not in do_ud2", c.rip);
    KEXPECT_EQ(t, ((const uint8_t *)(uintptr_t)c.rip)[0], 0x0f); /* RIP points at the ud2 itself */
    KEXPECT_EQ(t, ((const uint8_t *)(uintptr_t)c.rip)[1], 0x0b);
}

static void page_fault_not_present(struct ktest *t)
{
    struct trap_catch c;
    KASSERT(t, trap_run(do_read, (void *)(uintptr_t)(UNMAPPED_VA + 0x123), &c));
    KEXPECT_EQ(t, c.vector, VEC_PF);
    KEXPECT_EQ(t, c.cr2, UNMAPPED_VA + 0x123);
    KEXPECT_EQ(t, c.error_code & (PF_PRESENT | PF_WRITE | PF_USER | PF_FETCH), 0);
    KEXPECT(t, rip_in(c.rip, "do_read"));
}

static void general_protection_noncanonical(struct ktest *t)
{
    struct trap_catch c;
    KASSERT(t, trap_run(do_read, (void *)(uintptr_t)NONCANONICAL_VA, &c));
    KEXPECT_EQ(t, c.vector, VEC_GP);
    KEXPECT_EQ(t, c.error_code, 0);
}

static void divide_error(struct ktest *t)
{
    struct trap_catch c;
    KASSERT(t, trap_run(do_divide, NULL, &c));
    KEXPECT_EQ(t, c.vector, VEC_DE);
    KEXPECT(t, rip_in(c.rip, "do_divide"));
}

static void breakpoint(struct ktest *t)
{
    struct trap_catch c;
    KASSERT(t, trap_run(do_int3, NULL, &c));
    KEXPECT_EQ(t, c.vector, VEC_BP);
    KEXPECT_EQ(t, ((const uint8_t *)(uintptr_t)c.rip)[-1], 0xcc); /* a trap: RIP is past the int3 */
}

struct nest {
    struct trap_catch inner;
    bool inner_caught;
};

static void nested_inner(void *arg)
{
    struct nest *n = arg;
    n->inner_caught = trap_run(do_ud2, NULL, &n->inner);
}

static void catches_nest(struct ktest *t)
{
    struct trap_catch outer;
    struct nest n = {.inner_caught = false};
    KEXPECT(t, !trap_run(nested_inner, &n, &outer)); /* the inner catch took it */
    KEXPECT(t, n.inner_caught);
    KEXPECT_EQ(t, n.inner.vector, VEC_UD);
    /* And after all those exceptions, the kernel still works. */
    char *p = malloc(PAGE_SIZE);
    KEXPECT(t, p != NULL);
    free(p);
}

static void symbols_resolve(struct ktest *t)
{
    uintptr_t start, size;
    const char *name = kallsyms_lookup((uintptr_t)kmain + 1, &start, &size);
    KASSERT(t, name != NULL);
    KEXPECT_MSG(t, strcmp(name, "kmain") == 0, "kmain+1 resolved to %s", name);
    KEXPECT_EQ(t, start, (uintptr_t)kmain);
    KEXPECT(t, size > 1);
    KEXPECT(t, kallsyms_lookup(0x1000, &start, &size) == NULL);
}

static const struct ktest_case cases[] = {
    KTEST_CASE(invalid_opcode),
    KTEST_CASE(page_fault_not_present),
    KTEST_CASE(general_protection_noncanonical),
    KTEST_CASE(divide_error),
    KTEST_CASE(breakpoint),
    KTEST_CASE(catches_nest),
    KTEST_CASE(symbols_resolve),
};
KTEST_SUITE(traps, "exceptions caught and reported", cases);
