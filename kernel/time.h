/* SPDX-License-Identifier: MIT */
/* time.h - the TSC as a calibrated monotonic clock, and bounded waits for drivers. */
#ifndef BOUNCE_KERNEL_TIME_H
#define BOUNCE_KERNEL_TIME_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/clock_measure.h"

#define NSEC_PER_USEC ((uint64_t)1000)
#define NSEC_PER_MSEC ((uint64_t)1000000)
#define NSEC_PER_SEC ((uint64_t)1000000000)
#define PM_TIMER_HZ 3579545u /* ACPI 6.5 4.8.3.3: the power management timer runs at 3.579545 MHz */

/* Calibrate the TSC (PIT channel 2, cross-checked against CPUID 0x15/0x16; without a PIT, the
 * hypervisor timing leaf CPUID 0x40000010, else 0x15/0x16 unchecked). */
void time_init(void);

uint64_t time_ns(void); /* nanoseconds since time_init() */
uint64_t tsc_hz(void);
const char *tsc_source(void); /* "pit", "cpuid-0x15", "cpuid-0x16", "cpuid-0x40000010", "tsc_khz=", "assumed" */
void delay_ns(uint64_t ns);

/* Poll cond(arg) until it returns true or timeout_ns passes. Returns the last value of cond, so a
 * condition that becomes true at the deadline still counts. Every driver wait goes through here. */
bool wait_until(bool (*cond)(void *arg), void *arg, uint64_t timeout_ns);

/* Independent measurements of the TSC frequency, with their error bounds (clock_measure.h; hz 0 if
 * the clock never advanced), to check the calibration against: the PIT (channel 2, 20 ms) and the
 * ACPI PM timer (50 ms) at `port`, 24 or 32 `bits` wide (drivers/acpi.h finds it). */
struct clock_rate time_measure_tsc_pit(void);
struct clock_rate time_measure_tsc_pm_timer(uint16_t port, unsigned bits);
/* The ACPI PM timer as a clock_measure() reference, for other clocks (the APIC timer): `pm` holds
 * its port and width and must outlive the reference. */
struct pm_timer_port {
    uint16_t port;
    uint32_t mask;
};
struct clock_ref time_pm_timer_ref(const struct pm_timer_port *pm);
bool time_have_pit(void);

/* Convert a TSC delta to nanoseconds with the calibrated factor. */
uint64_t tsc_to_ns(uint64_t ticks);

#endif
