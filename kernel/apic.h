/* SPDX-License-Identifier: MIT */
/* apic.h - this CPU's local APIC (Intel SDM vol. 3A, chapter 11 "Advanced Programmable Interrupt
 * Controller (APIC)"): x2APIC mode where CPUID offers it (11.12: registers as MSRs 0x800+), xAPIC
 * otherwise (registers in a 4 KiB MMIO page - mapped uncached by the caller, since the kernel
 * sits below mm/). Its timer is calibrated against the TSC, with the timer's interrupt masked:
 * the count is read, not waited for.
 */
#ifndef BOUNCE_KERNEL_APIC_H
#define BOUNCE_KERNEL_APIC_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/clock_measure.h"

#define APIC_SPURIOUS_VECTOR 0xff
#define MSR_IA32_APIC_BASE 0x1b /* SDM vol. 3A 11.4.4: base address, EN, EXTD, BSP */

enum apic_mode { APIC_NONE, APIC_XAPIC, APIC_X2APIC };

/* x2APIC if offered (and not refused by apic=xapic), else xAPIC through `xapic_mmio` (the
 * registers' page, mapped uncached; NULL: xAPIC unusable). Enables the APIC (SVR) with all LVT
 * entries masked, then calibrates the timer. Returns the mode (APIC_NONE: no local APIC, said why). */
enum apic_mode apic_init(volatile void *xapic_mmio, bool allow_x2apic);
enum apic_mode apic_mode(void);
const char *apic_mode_name(enum apic_mode m);
/* An application processor's APIC, in the boot CPU's mode (apic_init() ran there first). */
void apic_init_secondary(void);
/* Send an interrupt command (SDM 11.6.1: vector, delivery mode, level) to the CPU with APIC ID
 * dest; in xAPIC mode wait (bounded) until it is sent. False if it never was. */
bool apic_send_ipi(uint32_t dest, uint32_t command);
#define APIC_ICR_INIT ((5u << 8) | (1u << 14)) /* INIT, level assert */
#define APIC_ICR_STARTUP (6u << 8)             /* start-up; the vector is the start page number */
#define APIC_ICR_FIXED (0u << 8)               /* the vector, to the interrupt handler */
#define APIC_ICR_NMI (4u << 8)                 /* a non-maskable interrupt (vector 2, whatever is given) */
/* Spurious interrupts seen on any CPU (counted by the handler apic_init() installs). */
uint64_t apic_spurious_count(void);
/* End of interrupt: the in-service interrupt is done (11.8.5). */
void apic_eoi(void);
uint32_t apic_id(void);      /* this CPU's APIC ID (32 bits in x2APIC mode, 8 in xAPIC) */
uint32_t apic_version(void); /* the version register: version in bits 7:0, max LVT entry in 23:16 */
bool apic_enabled(void);     /* IA32_APIC_BASE.EN and SVR's software-enable bit */

/* The timer's count rate with divide-by-16, in Hz (0 if not calibrated): measured by apic_init()
 * against the TSC. apic_timer_measure() measures it again against any reference (the boot suite
 * uses the ACPI PM timer), the timer restarted masked, one-shot from the maximum count. */
uint64_t apic_timer_hz(void);
struct clock_rate apic_timer_measure(const struct clock_ref *ref, uint32_t ref_counts);
/* The timer as an interrupt source (11.5.4): once after ns, or every ns, on `vector` (at least
 * one count, at most 2^32 - 1 of them); stop masks it and clears the count. */
void apic_timer_oneshot(uint8_t vector, uint64_t ns);
void apic_timer_periodic(uint8_t vector, uint64_t ns);
void apic_timer_stop(void);

/* Whether `vector` is in service (ISR) or requested (IRR) at this CPU's APIC (11.8.4). */
bool apic_in_service(uint8_t vector);
bool apic_requested(uint8_t vector);
#define APIC_ICR_SELF (1u << 18) /* destination shorthand "self" (11.6.1); the dest is ignored */

#endif
