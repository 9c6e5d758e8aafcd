/* SPDX-License-Identifier: MIT */
/* suite_boot.c - what the boot path handed over, and the basic services built on it. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/pci.h"
#include "drivers/acpi.h"
#include "drivers/acpi_fadt.h"
#include "drivers/acpi_madt.h"
#include "kernel/apic.h"
#include "kernel/cpu.h"
#include "kernel/options.h"
#include "kernel/time.h"
#include "mm/mm.h"
#include "ktest/ktest.h"
#include "lib/units.h"

static void boot_method_recorded(struct ktest *t)
{
    const struct boot_info *bi = ktest_boot_info();
    KEXPECT(t, bi->method == BOOT_UEFI || bi->method == BOOT_PVH);
    KEXPECT(t, bi->loader != NULL && bi->loader[0] != '\0');
    ktest_note(t, "booted by %s", bi->loader);
}

static void memory_map_sorted_disjoint(struct ktest *t)
{
    size_t n;
    const struct mem_range *m = mm_boot_map(&n);
    KASSERT(t, n > 0);
    for (size_t i = 0; i < n; i++) {
        KEXPECT_MSG(t, m[i].len > 0, "range %zu is empty", i);
        KEXPECT_MSG(t, m[i].type > 0 && m[i].type < MEM_TYPE_MAX, "range %zu has type %u", i, m[i].type);
        if (i > 0)
            KEXPECT_MSG(t, memrange_end(&m[i - 1]) <= m[i].base, "ranges %zu and %zu overlap or are unsorted", i - 1,
                        i);
    }
    uint64_t usable = memrange_total(m, n, MEM_USABLE) + memrange_total(m, n, MEM_BOOT_RECLAIM);
    KEXPECT_MSG(t, usable >= MiB(32), "only %" PRIu64 " KiB of usable RAM", (usable / 1024));
}

static void kernel_image_not_free(struct ktest *t)
{
    const struct boot_info *bi = ktest_boot_info();
    KASSERT(t, bi->image_end > bi->image_start);
    KEXPECT(t, bi->text_start >= bi->image_start && bi->text_end <= bi->image_end);
    for (uint64_t a = ALIGN_DOWN(bi->image_start, PAGE_SIZE); a < bi->image_end; a += PAGE_SIZE)
        KEXPECT_MSG(t, !frame_is_free(mm_frames(), a), "kernel image page %#" PRIx64 " is on the free list", a);
    for (uint64_t a = 0; a < MiB(1); a += PAGE_SIZE)
        KEXPECT_MSG(t, !frame_is_free(mm_frames(), a), "low page %#" PRIx64 " is on the free list", a);
}

static void command_line_recorded(struct ktest *t)
{
    const struct boot_info *bi = ktest_boot_info();
    /* This suite only runs when tests= selected it, so the command line cannot be empty. */
    KEXPECT_MSG(t, strstr(bi->cmdline, "tests=") != NULL, "command line \"%s\" lacks tests=", bi->cmdline);
    KEXPECT(t, strcmp(bi->cmdline_source, "none") != 0);
}

static void acpi_rsdp_found(struct ktest *t)
{
    const struct boot_info *bi = ktest_boot_info();
    if (bi->rsdp == 0 && pci_count() == 0) {
        /* tools/vmm gives neither (docs/confidential.md); QEMU always has both, so there a
         * missing RSDP still fails below. */
        ktest_skip(t, "no ACPI and no PCI: a minimal VMM");
        return;
    }
    KASSERT(t, bi->rsdp != 0);
    const struct acpi_rsdp *r = firmware_map(bi->rsdp, sizeof(*r));
    KEXPECT(t, acpi_rsdp_valid(r));
    ktest_note(t, "RSDP at %#" PRIx64 ", revision %u, OEM %.6s", bi->rsdp, r->revision, r->oem_id);
}

/* The boot CPU's APIC ID as the CPU itself reports it: CPUID leaf 0xB's x2APIC ID where the leaf
 * exists (SDM vol. 2A, CPUID "Extended Topology"), else leaf 1's initial APIC ID (EBX[31:24]). */
static uint32_t boot_cpu_apic_id(void)
{
    if (cpuid(0, 0).eax >= 0xb && cpuid(0xb, 0).ebx != 0)
        return cpuid(0xb, 0).edx;
    return cpuid(1, 0).ebx >> 24;
}

/* The MADT lists the CPU we run on, enabled: an independent check of the parse (the ID comes from
 * CPUID, not from the table). */
static void madt_lists_the_boot_cpu(struct ktest *t)
{
    const struct boot_info *bi = ktest_boot_info();
    if (bi->rsdp == 0 && pci_count() == 0) {
        ktest_skip(t, "no ACPI and no PCI: a minimal VMM");
        return;
    }
    const char *why = NULL;
    const struct madt_info *m = acpi_madt(bi->rsdp, &why);
    if (m == NULL) {
        ktest_fail(t, __FILE__, __LINE__, "no MADT: %s", why);
        return;
    }
    uint32_t id = boot_cpu_apic_id();
    bool found = false;
    for (unsigned i = 0; i < m->ncpus; i++)
        if (m->cpu[i].apic_id == id) {
            found = true;
            KEXPECT(t, m->cpu[i].enabled);
        }
    KEXPECT_MSG(t, found, "the boot CPU's APIC ID %" PRIu32 " is not in the MADT's %u CPUs", id, m->ncpus);
    KEXPECT(t, m->nioapics >= 1);
    ktest_note(t, "%u CPUs in the MADT, the boot CPU is APIC %" PRIu32 ", %u I/O APIC(s)", m->ncpus, id, m->nioapics);
}

static void tsc_calibrated(struct ktest *t)
{
    KEXPECT_MSG(t, tsc_hz() >= 100000000ull && tsc_hz() <= 20000000000ull, "TSC at %" PRIu64 " Hz", tsc_hz());
    uint64_t prev = time_ns();
    for (int i = 0; i < 1000; i++) {
        uint64_t now = time_ns();
        KASSERT(t, now >= prev);
        prev = now;
    }
    uint64_t t0 = time_ns();
    delay_ns(2 * NSEC_PER_MSEC);
    uint64_t took = time_ns() - t0;
    KEXPECT_MSG(t, took >= 2 * NSEC_PER_MSEC && took < NSEC_PER_SEC, "delay_ns(2 ms) took %" PRIu64 " ns", took);
    ktest_note(t, "TSC %" PRIu64 " kHz from %s", (tsc_hz() / 1000), tsc_source());
}

/* A calibrated rate against a measurement of it: they agree within 2 % - a wrong calibration is
 * usually off by far more - widened by the measurement's own error bound, which clock_measure()
 * keeps small by retrying (a bound above 1 % says the machine was too busy to measure, and that
 * is what fails). */
#define RATE_AGREEMENT_PPM 20000u
#define RATE_MEASURE_MAX_ERR_PPM 10000u
static void expect_rates_agree(struct ktest *t, const char *what, uint64_t hz, const char *from,
                               struct clock_rate measured, const char *ref)
{
    int64_t off_ppm = (int64_t)(((double)hz - (double)measured.hz) / (double)measured.hz * 1e6);
    uint64_t off = (uint64_t)(off_ppm < 0 ? -off_ppm : off_ppm);
    KEXPECT_MSG(t, measured.err_ppm <= RATE_MEASURE_MAX_ERR_PPM,
                "%s measured against the %s only within +-%" PRIu32 " ppm (brackets too wide: a busy host)", what, ref,
                measured.err_ppm);
    KEXPECT_MSG(t, off <= RATE_AGREEMENT_PPM + measured.err_ppm,
                "%s %" PRIu64 " kHz (from %s), but %" PRIu64 " kHz +-%" PRIu32 " ppm measured against the %s", what,
                (hz / 1000), from, (measured.hz / 1000), measured.err_ppm, ref);
    ktest_note(
        t, "%s %" PRIu64 " kHz from %s; %" PRIu64 " kHz +-%" PRIu32 " ppm measured against the %s (%+" PRId64 " ppm)",
        what, (hz / 1000), from, (measured.hz / 1000), measured.err_ppm, ref, off_ppm);
}

/* The TSC frequency in use, against an independent clock the guest can read: the ACPI PM timer
 * (3.579545 MHz, ACPI 6.5 4.8.3.3) where the FADT describes one, else the PIT. Whatever gave the
 * frequency - the PIT calibration, CPUID 0x15/0x16, the hypervisor's leaf 0x40000010, tsc_khz= -
 * it must agree within 2 %; an assumed one fails outright. */
static void tsc_agrees_with_an_independent_clock(struct ktest *t)
{
    KEXPECT_MSG(t, strcmp(tsc_source(), "assumed") != 0,
                "the TSC frequency was assumed (%" PRIu64 " kHz): no clock measured it and no CPUID leaf reported it",
                (tsc_hz() / 1000));
    struct acpi_pm_timer pm;
    const char *why = NULL;
    struct clock_rate measured;
    const char *ref;
    char refbuf[48];
    if (acpi_find_pm_timer(ktest_boot_info()->rsdp, &pm, &why)) {
        measured = time_measure_tsc_pm_timer(pm.port, pm.bits);
        snprintf(refbuf, sizeof(refbuf), "ACPI PM timer (port %#x, %u bits)", pm.port, pm.bits);
        ref = refbuf;
    } else if (time_have_pit()) {
        measured = time_measure_tsc_pit();
        ref = "PIT";
    } else {
        ktest_skip(t, "no independent clock: %s, and no PIT (port 0x61 reads 0xff)", why);
        return;
    }
    KASSERT_MSG(t, measured.hz != 0, "the %s never advanced", ref);
    expect_rates_agree(t, "TSC", tsc_hz(), tsc_source(), measured, ref);
}

/* The local APIC: the mode apic= and CPUID call for, enabled, and its ID the one CPUID reports. */
static void local_apic_as_configured(struct ktest *t)
{
    if (acpi_madt(ktest_boot_info()->rsdp, NULL) == NULL) {
        ktest_skip(t, "no MADT: the local APIC is left alone (a minimal VMM)");
        return;
    }
    bool x2 = (cpuid(1, 0).ecx & (1u << 21)) && kopts.apic == APIC_CHOICE_AUTO;
    KEXPECT_EQ(t, apic_mode(), x2 ? APIC_X2APIC : APIC_XAPIC);
    KEXPECT(t, apic_enabled());
    KEXPECT_EQ(t, apic_id(), boot_cpu_apic_id());
    ktest_note(t, "%s, ID %" PRIu32 ", version %#" PRIx32, apic_mode_name(apic_mode()), apic_id(), apic_version());
}

/* The APIC timer's calibrated rate (against the TSC) agrees within 2 % with its rate counted over
 * 50 ms of the ACPI PM timer - a clock the calibration did not use. */
static void apic_timer_agrees_with_the_pm_timer(struct ktest *t)
{
    struct acpi_pm_timer pm;
    const char *why = NULL;
    if (apic_mode() == APIC_NONE) {
        ktest_skip(t, "no local APIC in use");
        return;
    }
    if (!acpi_find_pm_timer(ktest_boot_info()->rsdp, &pm, &why)) {
        ktest_skip(t, "no ACPI PM timer to check against: %s", why);
        return;
    }
    struct pm_timer_port port = {pm.port, pm.bits == 32 ? 0xffffffffu : 0xffffffu};
    struct clock_ref ref = time_pm_timer_ref(&port);
    struct clock_rate measured = apic_timer_measure(&ref, PM_TIMER_HZ / 20); /* 50 ms */
    KASSERT_MSG(t, measured.hz != 0, "the APIC timer or the PM timer never advanced");
    char refbuf[48];
    snprintf(refbuf, sizeof(refbuf), "ACPI PM timer (port %#x, %u bits)", pm.port, pm.bits);
    expect_rates_agree(t, "APIC timer", apic_timer_hz(), "the TSC", measured, refbuf);
}

static bool never(void *arg)
{
    (void)arg;
    return false;
}
static bool always(void *arg)
{
    (void)arg;
    return true;
}

static void wait_until_has_timeouts(struct ktest *t)
{
    uint64_t t0 = time_ns();
    KEXPECT(t, !wait_until(never, NULL, 3 * NSEC_PER_MSEC));
    uint64_t took = time_ns() - t0;
    KEXPECT_MSG(t, took >= 3 * NSEC_PER_MSEC && took < NSEC_PER_SEC, "a 3 ms wait took %" PRIu64 " ns", took);
    t0 = time_ns();
    KEXPECT(t, wait_until(always, NULL, NSEC_PER_SEC));
    KEXPECT(t, time_ns() - t0 < 100 * NSEC_PER_MSEC);
}

static void cpu_state_as_configured(struct ktest *t)
{
    KEXPECT_MSG(t, !(read_rflags() & (1u << 9)), "interrupts are enabled");
    KEXPECT(t, read_cr0() & CR0_WP);
    KEXPECT(t, read_cr4() & CR4_OSFXSR);
    KEXPECT(t, rdmsr(MSR_EFER) & EFER_NXE);
}

static void newlib_heap_and_printf(struct ktest *t)
{
    uint64_t base, size, used;
    char *p = malloc(MiB(1));
    KASSERT(t, p != NULL);
    memset(p, 0x5a, MiB(1));
    heap_stats(&base, &size, &used);
    KEXPECT(t, virt_to_phys(p) >= base && virt_to_phys(p) + MiB(1) <= base + size);
    KEXPECT(t, base + size <= GiB(4));
    free(p);
    char buf[64];
    snprintf(buf, sizeof(buf), "%.3f|%lld|%s", 1.5, -42ll, "x"); /* floats go through dtoa and malloc */
    KEXPECT_MSG(t, strcmp(buf, "1.500|-42|x") == 0, "snprintf gave \"%s\"", buf);
    KEXPECT_EQ(t, strtoul("0x1000", NULL, 0), KiB(4));
}

static const struct ktest_case cases[] = {
    KTEST_CASE(boot_method_recorded),     KTEST_CASE(memory_map_sorted_disjoint),
    KTEST_CASE(kernel_image_not_free),    KTEST_CASE(command_line_recorded),
    KTEST_CASE(acpi_rsdp_found),          KTEST_CASE(madt_lists_the_boot_cpu),
    KTEST_CASE(local_apic_as_configured), KTEST_CASE(apic_timer_agrees_with_the_pm_timer),
    KTEST_CASE(tsc_calibrated),           KTEST_CASE(tsc_agrees_with_an_independent_clock),
    KTEST_CASE(wait_until_has_timeouts),  KTEST_CASE(cpu_state_as_configured),
    KTEST_CASE(newlib_heap_and_printf),
};
KTEST_SUITE(boot, "boot information and basic services", cases);
