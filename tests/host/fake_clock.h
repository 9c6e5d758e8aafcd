/* SPDX-License-Identifier: MIT */
/* fake_clock.h - kernel/time.h for host tests: a simulated clock that moves only when told.
 *
 * Drivers under test wait with wait_until() and delay_ns() as in the guest; here time advances
 * by what a fake device says each access costs (fake_clock_advance) and by every delay, so a
 * test can make a device take 3 s, or forever, and run in microseconds.
 */
#ifndef BOUNCE_TESTS_HOST_FAKE_CLOCK_H
#define BOUNCE_TESTS_HOST_FAKE_CLOCK_H

#include <stdint.h>

#include "kernel/time.h"

void fake_clock_reset(void);
void fake_clock_advance(uint64_t ns);

#endif
