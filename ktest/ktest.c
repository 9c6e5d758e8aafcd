/* SPDX-License-Identifier: MIT */
/* ktest.c - run in-guest test suites and report them as TAP (see ktest.h). */
#include "ktest/ktest.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "kernel/exit.h"
#include "kernel/options.h"
#include "kernel/panic.h"
#include "kernel/time.h"
#include "kernel/traps.h"

#define ALL_BIT (1ull << ktest_nsuites)

static const struct boot_info *boot_info;

const struct boot_info *ktest_boot_info(void) { return boot_info; }

void ktest_fail(struct ktest *t, const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    t->failures++;
    printf("#   %s:%d: ", file, line);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
}

void ktest_skip(struct ktest *t, const char *fmt, ...)
{
    va_list ap;
    t->skipped = true;
    va_start(ap, fmt);
    vsnprintf(t->skip_reason, sizeof(t->skip_reason), fmt, ap);
    va_end(ap);
}

void ktest_note(struct ktest *t, const char *fmt, ...)
{
    va_list ap;
    (void)t;
    printf("#   ");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
}

uint64_t ktest_rand(struct ktest *t)
{
    t->rng ^= t->rng >> 12;
    t->rng ^= t->rng << 25;
    t->rng ^= t->rng >> 27;
    return t->rng * 0x2545f4914f6cdd1dull;
}

static uint64_t seed_for(const char *suite, const char *name)
{
    uint64_t h = 0xcbf29ce484222325ull ^ kopts.seed; /* FNV-1a over the full case name */
    for (const char *p = suite; *p; p++)
        h = (h ^ (uint8_t)*p) * 0x100000001b3ull;
    for (const char *p = name; *p; p++)
        h = (h ^ (uint8_t)*p) * 0x100000001b3ull;
    return h ? h : 1;
}

/* One case and its state: what trap_run() hands run_case(). */
struct running {
    const struct ktest_case *c;
    struct ktest *t;
};

static void run_case(void *arg)
{
    struct running *r = arg;
    r->c->fn(r->t);
}

struct ktest_result ktest_run(uint64_t mask, const struct boot_info *bi)
{
    struct ktest_result r = {0, 0, 0};
    unsigned total = 0, n = 0;
    boot_info = bi;
    bool selected[KTEST_MAX_SUITES];
    for (size_t s = 0; s < ktest_nsuites; s++) {
        selected[s] = ((mask >> s) & 1) || ((mask & ALL_BIT) && !ktest_suites[s]->not_in_all);
        if (selected[s])
            total += (unsigned)ktest_suites[s]->ncases;
    }
    if (total == 0) {
        printf("no tests selected (tests=all runs every suite; 'help' lists them)\n");
        return r;
    }

    printf("TAP version 13\n1..%u\n", total);
    for (size_t s = 0; s < ktest_nsuites; s++) {
        if (!selected[s])
            continue;
        const struct ktest_suite *su = ktest_suites[s];
        unsigned sp = 0, sf = 0, ss = 0;
        uint64_t t0 = time_ns();
        printf("# suite %s: %s\n", su->name, su->title);
        for (size_t i = 0; i < su->ncases; i++) {
            struct ktest t = {.suite = su->name, .name = su->cases[i].name};
            struct running run = {&su->cases[i], &t};
            struct trap_catch c;
            t.rng = seed_for(su->name, t.name);
            n++;
            if (su->no_catch) {
                run_case(&run);
            } else if (trap_run(run_case, &run, &c)) {
                char sym[128];
                kallsyms_format(c.rip, sym, sizeof(sym));
                printf("#   unexpected exception %s (vector %u), error code %#" PRIx64 ", at %#" PRIx64
                       " %s, CR2 %#" PRIx64 "\n",
                       trap_name(c.vector), c.vector, c.error_code, c.rip, sym, c.cr2);
                t.failures++;
            }
            if (t.failures) {
                printf("not ok %u - %s.%s\n", n, su->name, t.name);
                printf("#   (randomized inputs come from seed=%" PRIu64 ")\n", kopts.seed);
                r.failed++, sf++;
            } else if (t.skipped) {
                printf("ok %u - %s.%s # SKIP %s\n", n, su->name, t.name, t.skip_reason);
                r.skipped++, ss++;
            } else {
                printf("ok %u - %s.%s\n", n, su->name, t.name);
                r.passed++, sp++;
            }
        }
        printf("# suite %s: %u passed, %u failed, %u skipped in %" PRIu64 " ms\n", su->name, sp, sf, ss,
               ((time_ns() - t0) / NSEC_PER_MSEC));
    }
    return r;
}

int ktest_finish(const struct ktest_result *r)
{
    printf("# %u skipped\n", r->skipped);
    printf("%u passed, %u failed\n", r->passed, r->failed);
    if (r->failed)
        return EXIT_FAIL;
    return r->passed == 0 && r->skipped > 0 ? EXIT_SKIP : EXIT_PASS;
}
