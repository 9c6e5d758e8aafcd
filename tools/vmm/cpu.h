/* SPDX-License-Identifier: MIT */
/* cpu.h - the one vCPU: CPUID and the PVH entry state. */
#ifndef BOUNCE_VMM_CPU_H
#define BOUNCE_VMM_CPU_H

#include <stdint.h>

/* KVM_GET_SUPPORTED_CPUID, plus: CPUID 0x40000001 EAX bit 16 (KVM_FEATURE_HC_MAP_GPA_RANGE),
 * leaf 0x40000010 EAX = TSC kHz (from KVM_GET_TSC_KHZ; EBX = 1000000, the 1 GHz local APIC bus),
 * and 0x40000000 EAX >= 0x40000010. Returns 0 or -1 (logged); *tsc_khz gets the frequency. */
int cpu_setup_cpuid(int kvm_fd, int vcpu_fd, uint32_t *tsc_khz);

/* PVH entry state: 32-bit protected mode, paging off, flat 4 GiB code and data segments,
 * EIP = entry, EBX = start_info. Returns 0 or -1 (logged). */
int cpu_setup_pvh_entry(int vcpu_fd, uint64_t entry, uint64_t start_info);

#endif
