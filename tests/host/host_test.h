/* SPDX-License-Identifier: MIT */
/* host_test.h - shared bits of the host unit tests: cmocka's includes and a seeded PRNG.
 *
 * cmocka needs <stdarg.h>, <stddef.h>, <setjmp.h> and <stdint.h> before <cmocka.h>.
 *
 * Randomized tests are deterministic: the seed comes from BOUNCE_TEST_SEED (default
 * HOST_TEST_DEFAULT_SEED), so a failure found with one seed can be replayed. Each randomized test
 * starts with rng_begin(), which prints the seed, and checks with RAND_ASSERT(), whose failure
 * message repeats it - the seed is on the failing test's output whichever way it is read.
 */
#ifndef BOUNCE_TESTS_HOST_TEST_H
#define BOUNCE_TESTS_HOST_TEST_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#define HOST_TEST_DEFAULT_SEED 12345ull

static inline unsigned long long test_seed(void)
{
    const char *s = getenv("BOUNCE_TEST_SEED");
    char *end;
    if (s == NULL || *s == '\0')
        return HOST_TEST_DEFAULT_SEED;
    unsigned long long v = strtoull(s, &end, 0);
    return *end == '\0' ? v : HOST_TEST_DEFAULT_SEED;
}

struct rng {
    uint64_t state;
};

/* splitmix64: tiny, and every seed (0 included) gives a good stream. */
static inline uint64_t rng_next(struct rng *r)
{
    uint64_t z = (r->state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Uniform enough in [0, n) for test inputs (the modulo bias is irrelevant here); n > 0. */
static inline uint64_t rng_below(struct rng *r, uint64_t n) { return rng_next(r) % n; }

/* True with probability 1/n. */
static inline int rng_one_in(struct rng *r, uint64_t n) { return rng_below(r, n) == 0; }

static inline struct rng rng_begin(void)
{
    unsigned long long seed = test_seed();
    print_message("# seed=%llu (rerun with BOUNCE_TEST_SEED=%llu)\n", seed, seed);
    return (struct rng){seed};
}

/* An assertion for randomized tests: the failure names the seed that reproduces it. */
#define RAND_ASSERT(cond)                                                                                  \
    do {                                                                                                   \
        if (!(cond))                                                                                       \
            fail_msg("%s:%d: %s; seed=%llu (rerun with BOUNCE_TEST_SEED=%llu)", __FILE__, __LINE__, #cond, \
                     test_seed(), test_seed());                                                            \
    } while (0)

#endif
