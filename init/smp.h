/* SPDX-License-Identifier: MIT */
/* smp.h - bringing up the application processors (Intel SDM vol. 3A 8.4 "Multiple-Processor (MP)
 * Initialization"): every CPU the MADT lists, by INIT-SIPI-SIPI through a real-mode trampoline
 * below 1 MiB (kernel/smp_trampoline.S), each with its own stack, GDT and TSS, the shared IDT,
 * the kernel's page tables and its per-CPU data behind GS (kernel/percpu.h). A CPU that does not
 * report in within SMP_AP_TIMEOUT_MS is left out and named; it never hangs the boot.
 */
#ifndef BOUNCE_INIT_SMP_H
#define BOUNCE_INIT_SMP_H

#include <stdint.h>

#define SMP_AP_TIMEOUT_MS 2000 /* from the INIT IPI to the AP's report (TCG is slow) */

/* Start every CPU the MADT lists besides the boot CPU (cpu_init_boot() registered it): none
 * without a MADT or a local APIC. */
void smp_init(uint64_t rsdp);

#endif
