/* SPDX-License-Identifier: MIT */
/* clock_measure.h - one clock's rate measured against another, with its error bound.
 *
 * Calibrating the TSC (or the APIC timer) counts ticks of one clock over an interval of another.
 * Reading either is not instantaneous: a port read is an exit under KVM and an emulated access
 * under TCG, and a vCPU can be preempted between two reads. Such a delay at an interval's end
 * inflates the count, and it is invisible to a loop that reads the reference, then the clock.
 * So every reading of the reference is bracketed by two readings of the measured clock, as Linux's
 * quick_pit_calibrate() does: the reference's value was taken somewhere inside its bracket, the
 * interval's length is known within the two brackets' widths, and a measurement whose brackets
 * are wide is known to be bad - and retried - instead of trusted.
 *
 * Pure: the clocks come as functions, so host tests drive it with simulated ones.
 */
#ifndef BOUNCE_KERNEL_CLOCK_MEASURE_H
#define BOUNCE_KERNEL_CLOCK_MEASURE_H

#include <stdint.h>

/* The reference: a counter of known rate that counts up and wraps at `mask` (a down-counter's
 * read function returns its complement). Its wraps are followed reading by reading: two readings
 * more than half its range apart void a measurement (a stall long enough to hide a wrap, or a
 * counter that went backwards); a stall of more than its whole range between two readings - 55 ms
 * for the PIT - cannot be told from none, which is why the result is cross-checked (suite_boot). */
struct clock_ref {
    uint32_t (*read)(const void *ctx);
    const void *ctx;
    uint64_t hz;
    uint32_t mask; /* 0xffff (the PIT), 0xffffff or 0xffffffff (the ACPI PM timer) */
};

/* One reading of the reference, between two readings of the measured clock. `count` is unwrapped:
 * the reference's advance since a measurement began, summed reading by reading. */
struct clock_sample {
    uint64_t before, after;
    uint64_t count;
};

/* The measured clock's rate, and how far it may be off: half the spread of the two brackets,
 * plus one count of the reference at each end, relative to the interval. */
struct clock_rate {
    uint64_t hz;      /* 0: the reference never advanced (or no clock at all) */
    uint32_t err_ppm; /* parts per million; UINT32_MAX when hz is 0 */
};

#define CLOCK_READS_PER_SAMPLE 8 /* a sample is the narrowest bracket of this many readings */
#define CLOCK_GOOD_PPM 500       /* Linux's quick PIT calibration stops at the same bound */

/* The rate implied by samples a and b of a reference running at ref_hz. Pure arithmetic, exposed
 * for tests. */
struct clock_rate clock_rate_between(const struct clock_sample *a, const struct clock_sample *b, uint64_t ref_hz);

/* Measure `clock` (any monotonic 64-bit counter) against ref over ref_counts of it (at most half
 * its range), up to `tries` times, keeping the measurement with the smallest error and stopping at
 * one within CLOCK_GOOD_PPM. Every wait is bounded by a number of readings: a reference that
 * stands still gives hz 0. */
struct clock_rate clock_measure(const struct clock_ref *ref, uint64_t (*clock)(void), uint32_t ref_counts, int tries);

#endif
