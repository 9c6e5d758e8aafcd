/* SPDX-License-Identifier: MIT */
/* time.c - TSC calibration and the monotonic clock.
 *
 * The PIT (Intel 8254, 1.193182 MHz) is the reference: channel 2 is gated through port 0x61, so
 * it can be started and its OUT pin read without interrupts. CPUID leaf 0x15 (TSC/crystal ratio)
 * or 0x16 (base MHz) gives an exact figure on hardware that reports one; it is used only when it
 * agrees with the PIT measurement within 2 %, because under emulation the CPU model may report a
 * frequency the virtual TSC does not run at.
 *
 * Without a PIT - port 0x61 reads all ones, as on the confidential-mode VMM (docs/confidential.md,
 * "Devices") or QEMU's microvm - there is nothing to measure against. The hypervisor then tells:
 * the timing leaf CPUID 0x40000010 (EAX = TSC kHz, a convention VMware introduced and the bounce
 * VMM fills from KVM_GET_TSC_KHZ), present when the hypervisor leaf 0x40000000 says its highest
 * leaf reaches it. Failing that, CPUID 0x15/0x16 are taken as they are, unchecked.
 *
 * `tsc_khz=N` overrides all of it (to show that the boot suite's check against an independent
 * clock - the ACPI PM timer, else the PIT - catches a wrong frequency). Nothing found at all: 1 GHz
 * is assumed, and the boot suite fails on it.
 */
#include "kernel/time.h"

#include <inttypes.h>
#include <stdio.h>

#include "kernel/cpu.h"
#include "kernel/options.h"

#define PIT_HZ 1193182ull
#define PIT_CAL_MS 20ull
#define CPUID_HV_BASE 0x40000000u
#define CPUID_HV_TIMING 0x40000010u

static uint64_t tsc_base, tsc_freq, ns_mult; /* ns = ticks * ns_mult >> 32 */
static const char *tsc_src = "uncalibrated";

/* Count TSC ticks over PIT_CAL_MS of PIT channel 2, as Hz; 0 if the PIT never fires. */
static uint64_t measure_with_pit_once(void)
{
    uint32_t count = (uint32_t)(PIT_HZ * PIT_CAL_MS / 1000);
    outb(0x61, (uint8_t)((inb(0x61) & ~0x02) | 0x01)); /* gate channel 2 on, speaker off */
    outb(0x43, 0xb0);                                  /* channel 2, lobyte/hibyte, mode 0 */
    outb(0x42, (uint8_t)(count & 0xff));
    outb(0x42, (uint8_t)(count >> 8));
    uint64_t t0 = rdtsc();
    for (uint32_t spin = 0; spin < 50u * 1000 * 1000; spin++) {
        if (inb(0x61) & 0x20) /* OUT2 goes high when the count reaches zero */
            return (rdtsc() - t0) * 1000 / PIT_CAL_MS;
    }
    return 0;
}

/* The PIT's end is seen only when the loop next looks: a vCPU held up there (a host preemption,
 * under TCG a translation flush) counts extra ticks, so a single 20 ms measurement ran 3 % high
 * under OVMF + TCG (the boot suite's check against the ACPI PM timer caught it). The smallest of
 * PIT_CAL_RUNS is the one least delayed (Linux's PIT calibration, too, keeps the fastest loop). */
#define PIT_CAL_RUNS 3
static uint64_t measure_with_pit(void)
{
    uint64_t best = 0;
    for (int i = 0; i < PIT_CAL_RUNS; i++) {
        uint64_t hz = measure_with_pit_once();
        if (hz && (best == 0 || hz < best))
            best = hz;
    }
    return best;
}

/* Port 0x61 (the PIT gate and speaker, NMI status) reads all ones when nothing decodes it. */
static bool have_pit(void) { return inb(0x61) != 0xff; }

bool time_have_pit(void) { return have_pit(); }
uint64_t time_measure_tsc_pit(void) { return have_pit() ? measure_with_pit() : 0; }

#define PM_CAL_MS 50ull

/* Count TSC ticks over PM_CAL_MS of the ACPI PM timer (free-running, 24 or 32 bits: the
 * difference is taken modulo its width), as Hz. 0 if it never advances. */
static uint64_t measure_with_pm_timer_once(uint16_t port, unsigned bits)
{
    uint32_t mask = bits == 32 ? 0xffffffffu : 0xffffffu;
    uint32_t want = (uint32_t)(PM_TIMER_HZ * PM_CAL_MS / 1000), start = inl(port) & mask, now = start;
    uint64_t t0 = rdtsc();
    for (uint32_t spin = 0; spin < 50u * 1000 * 1000; spin++) {
        now = inl(port) & mask;
        if (((now - start) & mask) >= want)
            return (rdtsc() - t0) * PM_TIMER_HZ / ((now - start) & mask);
    }
    return 0;
}

/* A hold-up may fall between reading the timer and the TSC at either end, so a measurement can
 * be off either way: the median of three. */
uint64_t time_measure_tsc_pm_timer(uint16_t port, unsigned bits)
{
    uint64_t m[3];
    for (int i = 0; i < 3; i++)
        m[i] = measure_with_pm_timer_once(port, bits);
    uint64_t lo = m[0] < m[1] ? m[0] : m[1], hi = m[0] < m[1] ? m[1] : m[0];
    return m[2] < lo ? lo : m[2] > hi ? hi : m[2];
}

/* The hypervisor timing leaf, in Hz; 0 when there is none. */
static uint64_t hypervisor_tsc_hz(void)
{
    uint32_t max_hv = cpuid(CPUID_HV_BASE, 0).eax;
    if (max_hv < CPUID_HV_TIMING || max_hv >= CPUID_HV_BASE + 0x10000) /* not a hypervisor range */
        return 0;
    return (uint64_t)cpuid(CPUID_HV_TIMING, 0).eax * 1000;
}

static bool within_2_percent(uint64_t a, uint64_t b) { return a > b ? a - b <= b / 50 : b - a <= a / 50; }

void time_init(void)
{
    bool pit_present = have_pit();
    uint64_t pit = pit_present ? measure_with_pit() : 0, hz = pit, hv = 0;
    uint32_t max_leaf = cpuid(0, 0).eax;
    uint64_t hz15 = 0, hz16 = 0;
    tsc_src = "pit";
    if (max_leaf >= 0x15) {
        struct cpuid_regs r = cpuid(0x15, 0);
        if (r.eax && r.ebx && r.ecx)
            hz15 = (uint64_t)r.ecx * r.ebx / r.eax;
    }
    if (max_leaf >= 0x16)
        hz16 = (uint64_t)(cpuid(0x16, 0).eax & 0xffff) * 1000000;
    if (!pit_present && (hv = hypervisor_tsc_hz()) != 0) {
        hz = hv;
        tsc_src = "cpuid-0x40000010";
    } else if (hz15 && (pit == 0 || within_2_percent(hz15, pit))) {
        hz = hz15;
        tsc_src = "cpuid-0x15";
    } else if (hz16 && (pit == 0 || within_2_percent(hz16, pit))) {
        hz = hz16;
        tsc_src = "cpuid-0x16";
    }
    if (kopts.tsc_khz) {
        hz = kopts.tsc_khz * 1000;
        tsc_src = "tsc_khz=";
    }
    if (hz == 0) {
        hz = 1000000000ull; /* nothing worked: assume 1 GHz and say so (the boot suite fails it) */
        tsc_src = "assumed";
    }
    tsc_freq = hz;
    ns_mult = (NSEC_PER_SEC << 32) / hz; /* 1e9 * 2^32 < 2^64: no 128-bit division needed */
    tsc_base = rdtsc();
    if (pit_present)
        printf("time: TSC %" PRIu64 ".%03" PRIu64 " MHz from %s (PIT %" PRIu64 " kHz, cpuid 0x15 %" PRIu64
               " kHz, 0x16 %" PRIu64 " kHz)\n",
               (hz / 1000000), (hz / 1000 % 1000), tsc_src, (pit / 1000), (hz15 / 1000), (hz16 / 1000));
    else
        printf("time: TSC %" PRIu64 ".%03" PRIu64
               " MHz from %s (no PIT: port 0x61 reads 0xff; hypervisor timing leaf %" PRIu64 " kHz, "
               "cpuid 0x15 %" PRIu64 " kHz, 0x16 %" PRIu64 " kHz, unchecked)\n",
               (hz / 1000000), (hz / 1000 % 1000), tsc_src, (hv / 1000), (hz15 / 1000), (hz16 / 1000));
}

uint64_t tsc_to_ns(uint64_t ticks) { return (uint64_t)(((unsigned __int128)ticks * ns_mult) >> 32); }
uint64_t time_ns(void) { return tsc_to_ns(rdtsc() - tsc_base); }
uint64_t tsc_hz(void) { return tsc_freq; }
const char *tsc_source(void) { return tsc_src; }

void delay_ns(uint64_t ns)
{
    uint64_t end = time_ns() + ns;
    while (time_ns() < end)
        cpu_relax();
}

bool wait_until(bool (*cond)(void *arg), void *arg, uint64_t timeout_ns)
{
    uint64_t deadline = time_ns() + timeout_ns;
    while (!cond(arg)) {
        if (time_ns() >= deadline)
            return cond(arg);
        cpu_relax();
    }
    return true;
}
