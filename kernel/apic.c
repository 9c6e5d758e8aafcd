/* SPDX-License-Identifier: MIT */
/* apic.c - the local APIC in x2APIC or xAPIC mode, and its timer's calibration (see apic.h). */
#include "kernel/apic.h"

#include <inttypes.h>
#include <stdio.h>

#include "kernel/cpu.h"
#include "kernel/time.h"
#include "kernel/traps.h"

/* IA32_APIC_BASE (SDM vol. 3A 11.4.4, 11.12.1) */
#define APIC_BASE_EXTD (1ull << 10) /* x2APIC mode */
#define APIC_BASE_EN (1ull << 11)   /* APIC global enable */
#define CPUID_1_ECX_X2APIC (1u << 21)
#define CPUID_1_EDX_APIC (1u << 9)

/* Register offsets in the xAPIC page (Table 11-1); in x2APIC mode register r is MSR 0x800 + r/16
 * (11.12.1.2). */
#define REG_ID 0x20
#define REG_VERSION 0x30
#define REG_TPR 0x80
#define REG_SVR 0xf0
#define REG_LVT_TIMER 0x320
#define REG_LVT_THERMAL 0x330
#define REG_LVT_PERF 0x340
#define REG_LVT_LINT0 0x350
#define REG_LVT_LINT1 0x360
#define REG_LVT_ERROR 0x370
#define REG_TIMER_INIT 0x380
#define REG_TIMER_CURRENT 0x390
#define REG_TIMER_DIVIDE 0x3e0
#define REG_EOI 0xb0
#define REG_ISR 0x100 /* eight 32-bit registers, 0x10 apart: vectors 0-31, 32-63, ... */
#define REG_IRR 0x200
#define REG_ICR_LOW 0x300
#define REG_ICR_HIGH 0x310
#define ICR_PENDING (1u << 12) /* xAPIC: delivery status */
#define X2APIC_MSR(reg) (0x800u + ((reg) >> 4))

#define SVR_ENABLE (1u << 8)
#define LVT_MASKED (1u << 16)
#define LVT_TIMER_PERIODIC (1u << 17) /* timer mode bits 18:17 = 01; 00 is one-shot */
#define TIMER_DIVIDE_16 0x3           /* Figure 11-10: bits 3,1,0 = 0,1,1 */
#define CALIBRATE_MS 20
#define MEASURE_TRIES 5 /* measurements, at most, for one within CLOCK_GOOD_PPM */

/* The state of this CPU's APIC (one CPU for now: the boot CPU). */
static struct {
    enum apic_mode mode;
    volatile uint8_t *mmio; /* xAPIC registers */
    uint64_t timer_hz;      /* count rate at divide-by-16 */
} apic;

static uint32_t rd(uint32_t reg)
{
    if (apic.mode == APIC_X2APIC)
        return (uint32_t)rdmsr(X2APIC_MSR(reg));
    return *(volatile uint32_t *)(apic.mmio + reg);
}

static void wr(uint32_t reg, uint32_t v)
{
    if (apic.mode == APIC_X2APIC)
        wrmsr(X2APIC_MSR(reg), v);
    else
        *(volatile uint32_t *)(apic.mmio + reg) = v;
}

const char *apic_mode_name(enum apic_mode m)
{
    return m == APIC_X2APIC ? "x2APIC" : m == APIC_XAPIC ? "xAPIC" : "none";
}

enum apic_mode apic_mode(void) { return apic.mode; }
uint32_t apic_id(void) { return apic.mode == APIC_X2APIC ? rd(REG_ID) : rd(REG_ID) >> 24; }
uint32_t apic_version(void) { return rd(REG_VERSION); }
uint64_t apic_timer_hz(void) { return apic.timer_hz; }

bool apic_enabled(void) { return (rdmsr(MSR_IA32_APIC_BASE) & APIC_BASE_EN) && (rd(REG_SVR) & SVR_ENABLE); }

static void timer_start(void)
{
    wr(REG_LVT_TIMER, LVT_MASKED); /* one-shot, masked: it counts, it never interrupts */
    wr(REG_TIMER_DIVIDE, TIMER_DIVIDE_16);
    wr(REG_TIMER_INIT, UINT32_MAX);
}

/* Timer counts for ns at the calibrated rate, within what the initial-count register holds. */
static uint32_t timer_counts(uint64_t ns)
{
    if (apic.timer_hz && ns > UINT64_MAX / apic.timer_hz) /* more counts than the register holds anyway */
        return UINT32_MAX;
    uint64_t n = ns * apic.timer_hz / NSEC_PER_SEC;
    return n == 0 ? 1 : n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
}

static void timer_arm(uint32_t lvt, uint64_t ns)
{
    wr(REG_TIMER_DIVIDE, TIMER_DIVIDE_16);
    wr(REG_LVT_TIMER, lvt);
    wr(REG_TIMER_INIT, timer_counts(ns)); /* writing the initial count starts it (11.5.4) */
}

void apic_timer_oneshot(uint8_t vector, uint64_t ns) { timer_arm(vector, ns); }
void apic_timer_periodic(uint8_t vector, uint64_t ns) { timer_arm(LVT_TIMER_PERIODIC | vector, ns); }

void apic_timer_stop(void)
{
    wr(REG_LVT_TIMER, LVT_MASKED);
    wr(REG_TIMER_INIT, 0); /* a zero initial count stops it */
}

static bool vector_bit(uint32_t reg, uint8_t vector)
{
    return (rd(reg + 0x10u * (vector / 32u)) >> (vector % 32u)) & 1;
}
bool apic_in_service(uint8_t vector) { return vector_bit(REG_ISR, vector); }
bool apic_requested(uint8_t vector) { return vector_bit(REG_IRR, vector); }

/* The timer's counts since timer_start(), counting up: a clock for clock_measure(). */
static uint64_t timer_elapsed(void) { return UINT32_MAX - rd(REG_TIMER_CURRENT); }

struct clock_rate apic_timer_measure(const struct clock_ref *ref, uint32_t ref_counts)
{
    timer_start();
    return clock_measure(ref, timer_elapsed, ref_counts, MEASURE_TRIES);
}

/* The TSC's low 32 bits as a reference: it wraps after a second or more, the calibration takes
 * CALIBRATE_MS. */
static uint32_t tsc_low(const void *ctx)
{
    (void)ctx;
    return (uint32_t)rdtsc();
}

void apic_eoi(void) { wr(REG_EOI, 0); }

static bool icr_idle(void *arg)
{
    (void)arg;
    return !(rd(REG_ICR_LOW) & ICR_PENDING);
}

bool apic_send_ipi(uint32_t dest, uint32_t command)
{
    if (apic.mode == APIC_X2APIC) {
        wrmsr(X2APIC_MSR(REG_ICR_LOW), (uint64_t)dest << 32 | command); /* one 64-bit ICR (11.12.9) */
        return true;
    }
    wr(REG_ICR_HIGH, dest << 24);
    wr(REG_ICR_LOW, command);
    return wait_until(icr_idle, NULL, NSEC_PER_MSEC);
}

/* 11.9: a spurious interrupt needs no EOI (it never enters the ISR); it is counted, never fatal.
 * A fixed interrupt someone sent on this vector is in service, though, and gets its EOI. */
static volatile uint64_t spurious;
static void spurious_handler(struct trap_frame *f)
{
    (void)f;
    __atomic_fetch_add(&spurious, 1, __ATOMIC_RELAXED);
    if (apic_in_service(APIC_SPURIOUS_VECTOR))
        apic_eoi();
}
uint64_t apic_spurious_count(void) { return spurious; }

/* Mask every local interrupt source, accept all priorities, software-enable. */
static void mask_and_enable(void)
{
    static const uint32_t lvts[] = {REG_LVT_TIMER, REG_LVT_THERMAL, REG_LVT_PERF,
                                    REG_LVT_LINT0, REG_LVT_LINT1,   REG_LVT_ERROR};
    unsigned max_lvt = (rd(REG_VERSION) >> 16) & 0xff;
    for (unsigned i = 0; i < sizeof(lvts) / sizeof(lvts[0]); i++)
        if (lvts[i] != REG_LVT_THERMAL || max_lvt >= 5) /* the thermal entry exists with 6+ LVTs */
            wr(lvts[i], LVT_MASKED);
    wr(REG_TPR, 0);
    wr(REG_SVR, SVR_ENABLE | APIC_SPURIOUS_VECTOR);
}

void apic_init_secondary(void)
{
    uint64_t base = rdmsr(MSR_IA32_APIC_BASE);
    if (apic.mode == APIC_X2APIC) {
        wrmsr(MSR_IA32_APIC_BASE, base | APIC_BASE_EN);
        wrmsr(MSR_IA32_APIC_BASE, base | APIC_BASE_EN | APIC_BASE_EXTD);
    } else if (apic.mode == APIC_XAPIC) {
        wrmsr(MSR_IA32_APIC_BASE, base | APIC_BASE_EN);
    } else {
        return;
    }
    mask_and_enable();
}

enum apic_mode apic_init(volatile void *xapic_mmio, bool allow_x2apic)
{
    struct cpuid_regs r = cpuid(1, 0);
    if (!(r.edx & CPUID_1_EDX_APIC)) {
        printf("apic: CPUID says there is no local APIC\n");
        return apic.mode = APIC_NONE;
    }
    uint64_t base = rdmsr(MSR_IA32_APIC_BASE);
    if (allow_x2apic && (r.ecx & CPUID_1_ECX_X2APIC)) {
        /* 11.12.5: xAPIC to x2APIC by setting EXTD with EN set (from disabled, EN first). */
        wrmsr(MSR_IA32_APIC_BASE, base | APIC_BASE_EN);
        wrmsr(MSR_IA32_APIC_BASE, base | APIC_BASE_EN | APIC_BASE_EXTD);
        apic.mode = APIC_X2APIC;
    } else if (xapic_mmio != NULL && !(base & APIC_BASE_EXTD)) {
        wrmsr(MSR_IA32_APIC_BASE, base | APIC_BASE_EN);
        apic.mmio = xapic_mmio;
        apic.mode = APIC_XAPIC;
    } else {
        printf("apic: %s\n",
               xapic_mmio ? "left in x2APIC mode by the firmware, and x2APIC is not allowed"
                          : "no x2APIC and no xAPIC registers mapped");
        return apic.mode = APIC_NONE;
    }
    /* Every interrupt source masked until a driver asks for one (issue 29). */
    traps_set_handler(APIC_SPURIOUS_VECTOR, spurious_handler);
    mask_and_enable();
    unsigned max_lvt = (rd(REG_VERSION) >> 16) & 0xff;
    struct clock_ref tsc = {tsc_low, NULL, tsc_hz(), UINT32_MAX};
    uint64_t counts = tsc_hz() * CALIBRATE_MS / 1000;
    struct clock_rate cal = apic_timer_measure(&tsc, counts > INT32_MAX ? INT32_MAX : (uint32_t)counts);
    apic.timer_hz = cal.hz;
    printf("apic: %s, ID %" PRIu32 ", version %#x with %u LVT entries, timer %" PRIu64
           " kHz at divide 16 (calibrated against the TSC over %u ms, +-%" PRIu32 " ppm)\n",
           apic_mode_name(apic.mode), apic_id(), rd(REG_VERSION) & 0xff, max_lvt + 1, apic.timer_hz / 1000,
           CALIBRATE_MS, cal.err_ppm);
    return apic.mode;
}
