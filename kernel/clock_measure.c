/* SPDX-License-Identifier: MIT */
/* clock_measure.c - one clock's rate against a reference, each reading bracketed (clock_measure.h). */
#include "kernel/clock_measure.h"

#include <stdbool.h>

#define PPM 1000000u
#define MAX_READS (50u * 1000 * 1000) /* a wait gives up after this many readings of the reference, */
#define MAX_UNCHANGED (1000u * 1000)  /* or this many in a row that saw it stand still */

static struct clock_rate no_rate(void) { return (struct clock_rate){.hz = 0, .err_ppm = UINT32_MAX}; }

/* a * b / c, saturating at UINT64_MAX. The product is 128 bits wide (a TSC interval times a
 * reference's rate can pass 2^64); the division is done by hand, bit by bit, because the
 * freestanding guest links no libgcc and so has no __udivti3. */
static uint64_t mul_div(uint64_t a, uint64_t b, uint64_t c)
{
    unsigned __int128 n = (unsigned __int128)a * b;
    uint64_t r = (uint64_t)(n >> 64), lo = (uint64_t)n, q = 0;
    if (r >= c)
        return UINT64_MAX;
    for (int i = 63; i >= 0; i--) { /* restoring division: r < c before each step */
        bool carry = r >> 63;
        r = r << 1 | (lo >> i & 1);
        q <<= 1;
        if (carry || r >= c) {
            r -= c;
            q |= 1;
        }
    }
    return q;
}

struct clock_rate clock_rate_between(const struct clock_sample *a, const struct clock_sample *b, uint64_t ref_hz)
{
    /* The reference was read at some point of each bracket: the interval between the two readings
     * is at least b.before - a.after and at most b.after - a.before ticks of the measured clock. */
    if (b->count <= a->count || b->after <= a->before || b->before < a->after)
        return no_rate();
    uint64_t counts = b->count - a->count;
    uint64_t shortest = b->before - a->after, longest = b->after - a->before;
    uint64_t mid = shortest + (longest - shortest) / 2;
    if (shortest == 0)
        return no_rate();
    /* The error relative to the true rate: the interval was at least `shortest` ticks, which the
     * estimate `mid` overstates by at most e1 = (mid - shortest) / shortest; the reference, each
     * reading up to one count stale, advanced by up to counts + 1: e2 = 1 / counts. Together
     * (1 + e1)(1 + e2) - 1, each term rounded up. */
    uint64_t e1 = mul_div(mid - shortest, PPM, shortest) + 1, e2 = (PPM + counts - 1) / counts;
    if (e1 > PPM * (uint64_t)PPM)
        e1 = PPM * (uint64_t)PPM;
    uint64_t ppm = e1 + e2 + (e1 * e2 + PPM - 1) / PPM;
    return (struct clock_rate){
        .hz = mul_div(mid, ref_hz, counts),
        .err_ppm = ppm >= UINT32_MAX ? UINT32_MAX - 1 : (uint32_t)ppm,
    };
}

/* One measurement's readings of the reference, unwrapped as they come. */
struct reader {
    const struct clock_ref *ref;
    uint64_t (*clock)(void);
    uint32_t last;      /* the previous raw reading */
    uint64_t count;     /* the advance since the first */
    uint32_t unchanged; /* readings in a row that saw it stand still */
    bool void_;         /* two readings more than half the range apart */
};

static struct clock_sample read_one(struct reader *rd)
{
    struct clock_sample s;
    s.before = rd->clock();
    uint32_t raw = rd->ref->read(rd->ref->ctx) & rd->ref->mask;
    s.after = rd->clock();
    uint32_t delta = (raw - rd->last) & rd->ref->mask;
    if (delta > rd->ref->mask / 2)
        rd->void_ = true;
    rd->unchanged = delta == 0 ? rd->unchanged + 1 : 0;
    rd->count += delta;
    rd->last = raw;
    s.count = rd->count;
    return s;
}

/* The narrowest bracket of `first` and the readings after it: one that a preemption or a slow exit
 * widened is passed over, not averaged in. */
static struct clock_sample narrowest(struct reader *rd, struct clock_sample first)
{
    struct clock_sample best = first;
    for (int i = 1; i < CLOCK_READS_PER_SAMPLE; i++) {
        struct clock_sample s = read_one(rd);
        if (s.after - s.before < best.after - best.before)
            best = s;
    }
    return best;
}

/* One measurement: the narrowest of the first readings, then readings until ref_counts have passed,
 * then the narrowest of the next ones. */
static struct clock_rate measure_once(const struct clock_ref *ref, uint64_t (*clock)(void), uint32_t ref_counts,
                                      bool *stopped)
{
    struct reader rd = {.ref = ref, .clock = clock};
    rd.last = ref->read(ref->ctx) & ref->mask;
    struct clock_sample a = narrowest(&rd, read_one(&rd)), s;
    uint32_t reads = 0;
    do {
        s = read_one(&rd);
        if (rd.unchanged >= MAX_UNCHANGED || ++reads >= MAX_READS) {
            *stopped = true;
            return no_rate();
        }
    } while (s.count - a.count < ref_counts);
    struct clock_sample b = narrowest(&rd, s);
    return rd.void_ ? no_rate() : clock_rate_between(&a, &b, ref->hz);
}

struct clock_rate clock_measure(const struct clock_ref *ref, uint64_t (*clock)(void), uint32_t ref_counts, int tries)
{
    struct clock_rate best = no_rate();
    if (ref_counts == 0 || ref_counts > ref->mask / 2)
        return best; /* an interval the counter could wrap past unseen */
    bool stopped = false;
    for (int i = 0; i < tries && best.err_ppm > CLOCK_GOOD_PPM && !stopped; i++) {
        struct clock_rate r = measure_once(ref, clock, ref_counts, &stopped);
        if (r.hz != 0 && r.err_ppm < best.err_ppm)
            best = r;
    }
    return best;
}
