/* SPDX-License-Identifier: MIT */
/* kvm_hypercall.h - the guest's client for KVM's paravirtual interface.
 *
 * Documentation/virt/kvm/x86/cpuid.rst: CPUID 0x40000000 returns the signature "KVMKVMKVM\0\0\0"
 * and the highest KVM leaf; 0x40000001 EAX holds the feature bits (KVM_FEATURE_*).
 * Documentation/virt/kvm/x86/hypercalls.rst: RAX = hypercall number, RBX/RCX/RDX/RSI = arguments,
 * the result comes back in RAX; Intel uses `vmcall`, AMD `vmmcall` (KVM patches the other one, but
 * a guest that picks the right one by CPU vendor saves a fault and works without the patching).
 *
 * KVM_HC_MAP_GPA_RANGE (12): a0 = guest physical address, a1 = number of pages, a2 = attributes:
 * bits 3:0 the page size the range is made of (0 = 4 KiB, 1 = 2 MiB, 2 = 1 GiB), bit 4 set =
 * "encrypted" (private), clear = "decrypted" (shared). Returns 0, or -KVM_ENOSYS when the host
 * does not offer it, -KVM_EINVAL for bad arguments, another negative KVM errno for other failures.
 *
 * The encoding and the coalescing of page runs are pure functions (host unit tests); issuing the
 * instruction and detecting KVM live in kvm_hypercall.c.
 */
#ifndef BOUNCE_HYPERCALL_KVM_HYPERCALL_H
#define BOUNCE_HYPERCALL_KVM_HYPERCALL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "abi/kvm_hypercall.h"

/* --- pure: encoding and coalescing --- */

struct map_gpa_args {
    uint64_t gpa, npages, attrs;
};

/* The arguments of one KVM_HC_MAP_GPA_RANGE for [gpa, gpa + npages 4 KiB pages): the page-size
 * hint is the largest size that both the start and the length are multiples of. */
struct map_gpa_args map_gpa_encode(uint64_t gpa, uint64_t npages, bool private_);

/* Merge runs of pages (each a start frame number and a count) that touch into as few ranges as
 * possible, in place, sorted. Returns the number of runs left. */
size_t coalesce_page_runs(uint64_t (*runs)[2], size_t n);

/* "ok", "ENOSYS (the host does not offer it)", ... */
const char *kvm_hc_result_name(long ret);

/* What a guest makes of the host's answer to a conversion. 0: converted. -KVM_ENOSYS from a
 * host that has never converted anything: it does not offer the call (a normal VM) and the
 * conversion is bookkeeping only. -KVM_ENOSYS from a host that has converted pages before: it
 * cannot have stopped offering the call, so it refuses this one while pretending not to know it -
 * in a confidential guest, whose host is untrusted, a failure like any other error. */
enum map_gpa_verdict { MAP_GPA_CONVERTED, MAP_GPA_NOT_OFFERED, MAP_GPA_FAILED };
enum map_gpa_verdict map_gpa_judge(long ret, bool converted_before);

/* --- guest: detection and the call itself --- */

struct kvm_para_info {
    bool present;       /* CPUID says KVM */
    bool map_gpa_range; /* KVM_FEATURE_HC_MAP_GPA_RANGE offered */
    bool amd;           /* vmmcall (AMD) rather than vmcall (Intel) */
    uint32_t features;  /* CPUID 0x40000001 EAX */
    uint32_t base;      /* the leaf holding the signature (0x40000000 unless moved, e.g. by Hyper-V leaves) */
    uint32_t max_leaf;  /* EAX of that leaf: the highest hypervisor leaf */
    char vendor[13];    /* CPUID 0 vendor string */
};

/* Look once (cached): the answer cannot change while the guest runs. */
const struct kvm_para_info *kvm_para_detect(void);

/* Issue the hypercall; returns RAX. Only with KVM present: on a CPU or hypervisor that does not
 * know the instruction it raises #UD. */
long kvm_hypercall3(unsigned long nr, unsigned long a0, unsigned long a1, unsigned long a2);

/* KVM_HC_MAP_GPA_RANGE for [gpa, gpa + npages 4 KiB pages), encoded by map_gpa_encode() and
 * counted in the stats below. Returns KVM's result (0, -KVM_ENOSYS, -KVM_EINVAL, ...). The caller
 * checks kvm_para_detect()->present first. */
long kvm_map_gpa_range(uint64_t gpa, uint64_t npages, bool private_);

struct hypercall_stats {
    uint64_t calls;    /* hypercalls issued */
    uint64_t pages;    /* pages they named */
    uint64_t failures; /* returned an error other than -KVM_ENOSYS */
    uint64_t enosys;   /* returned -KVM_ENOSYS: the host does not offer the call */
};
void hypercall_get_stats(struct hypercall_stats *out);

#endif
