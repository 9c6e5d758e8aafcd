/* SPDX-License-Identifier: MIT */
/* fake_clock.c - the simulated clock behind kernel/time.h in host tests (see fake_clock.h). */
#include "tests/host/fake_clock.h"

#include "kernel/cpu.h"

static uint64_t now_ns;

void fake_clock_reset(void) { now_ns = 0; }
void fake_clock_advance(uint64_t ns) { now_ns += ns; }

uint64_t time_ns(void) { return now_ns; }
void delay_ns(uint64_t ns) { now_ns += ns; }

/* The guest's contract (kernel/time.h): the last value of cond counts, even at the deadline. A
 * condition that never touches a device would spin forever here, so each poll costs 1 us. */
bool wait_until(bool (*cond)(void *arg), void *arg, uint64_t timeout_ns)
{
    uint64_t deadline = now_ns + timeout_ns;
    while (!cond(arg)) {
        if (now_ns >= deadline)
            return cond(arg);
        cpu_relax();
        now_ns += 1000;
    }
    return true;
}

void cpu_relax(void) {}
