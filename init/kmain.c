/* SPDX-License-Identifier: MIT */
/* kmain.c - the common kernel entry: both boot paths arrive here on the boot stack. */
#include <inttypes.h>
#include <stdio.h>

#include "mm/dma_guest.h"
#include "dma/dma.h"
#include "drivers/acpi.h"
#include "drivers/drivers.h"
#include "drivers/ioapic.h"
#include "drivers/pagecache.h"
#include "drivers/pci.h"
#include "kernel/apic.h"
#include "kernel/boot_info.h"
#include "init/cc_report.h"
#include "init/smp.h"
#include "kernel/console.h"
#include "kernel/cpu.h"
#include "kernel/exit.h"
#include "kernel/irq.h"
#include "kernel/options.h"
#include "kernel/percpu.h"
#include "kernel/report.h"
#include "kernel/time.h"
#include "kernel/traps.h"
#include "mm/cc_canary.h"
#include "mm/mem_encrypt.h"
#include "mm/mm.h"
#include "ktest/ktest.h"

#ifndef BOUNCE_VERSION
#define BOUNCE_VERSION "unknown"
#endif

static void print_boot_info(const struct boot_info *bi)
{
    printf("boot: %s, loader: %s\n", bi->method == BOOT_UEFI ? "UEFI" : "PVH", bi->loader);
    printf("boot: command line \"%s\" (from %s)\n", bi->cmdline, bi->cmdline_source);
    printf("boot: kernel image [%#" PRIx64 "-%#" PRIx64 "), text [%#" PRIx64 "-%#" PRIx64 "), ACPI RSDP %#" PRIx64 "\n",
           bi->image_start, bi->image_end, bi->text_start, bi->text_end, bi->rsdp);
}

/* The boot CPU's local APIC, where the MADT says there is one (tools/vmm's guests have no ACPI
 * and no local APIC to speak to): its xAPIC page, where IA32_APIC_BASE says, mapped uncached. */
static void local_apic_init(const struct boot_info *bi)
{
    if (acpi_madt(bi->rsdp, NULL) == NULL) {
        printf("apic: no MADT: the local APIC is left alone\n");
        return;
    }
    uint64_t base = rdmsr(MSR_IA32_APIC_BASE) & ~(uint64_t)(PAGE_SIZE - 1) & ((1ull << 52) - 1);
    apic_init(mmio_map(base, PAGE_SIZE), kopts.apic == APIC_CHOICE_AUTO);
}

/* The I/O APICs, where the MADT lists them: every pin masked until a driver routes one. */
static void io_apic_init(const struct boot_info *bi)
{
    const struct madt_info *m = acpi_madt(bi->rsdp, NULL);
    if (m != NULL && apic_mode() != APIC_NONE)
        ioapic_init(m);
}

_Noreturn void kmain(struct boot_info *bi)
{
    cpu_init_boot(); /* GS and CPU 0 first: the locks below printf and malloc ask which CPU holds them */
    setvbuf(stdout, NULL, _IONBF, 0); /* no buffer: nothing is lost if the guest dies */
    printf("\nbounce %s - a unikernel for DMA bounce-buffer experiments\n", BOUNCE_VERSION);
    traps_init();
    irq_init();
    print_boot_info(bi);

    char err[256];
    options_set_choices("tests", ktest_suite_names);
    options_set_choices("bounce_policy", bounce_policy_names);
    if (options_parse(bi->cmdline, err, sizeof(err)) != 0) {
        printf("bounce: bad command line: %s\n", err);
        options_print_help();
        bounce_exit(EXIT_BAD_CMDLINE);
    }
    if (kopts.help) {
        options_print_help();
        bounce_exit(EXIT_PASS);
    }

    time_init();
    /* Confidential mode: nothing the kernel allocates may land in the boot-shared region. */
    mm_init(bi, kopts.heap_bytes, confidential() ? cc_boot_shared_end(bi) : 0);
    if (confidential())
        cc_init(bi);
    mm_print_map();
    mm_print_zones();
    if (confidential() && !cc_canary_init())
        printf("cc: no memory for the canary: not planted\n");
    dma_guest_init();
    if (confidential())
        cc_report_init();
    acpi_print_madt(bi->rsdp);
    local_apic_init(bi);
    smp_init(bi->rsdp);
    io_apic_init(bi);
    pci_init(bi->rsdp);
    drivers_init();
    pagecache_init();
    if (confidential())
        cc_report_mark_workload();

    struct ktest_result r = ktest_run(kopts.tests, bi);
    reports_print();
    bounce_exit(ktest_finish(&r));
}
