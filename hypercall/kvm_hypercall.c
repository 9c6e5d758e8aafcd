/* SPDX-License-Identifier: MIT */
/* kvm_hypercall.c - finding KVM and calling it (the guest half of kvm_hypercall.h).
 *
 * Detection (Documentation/virt/kvm/x86/cpuid.rst): the hypervisor leaves start at 0x40000000,
 * whose EBX, ECX, EDX spell "KVMKVMKVM\0\0\0" and whose EAX is the highest hypervisor leaf; the
 * next leaf's EAX holds the KVM_FEATURE_* bits. Linux also looks at 0x40000100, 0x40000200, ...
 * (another hypervisor's leaves, such as Hyper-V's, may come first), but only when CPUID.1:ECX bit
 * 31 says a hypervisor is present; so does this file.
 *
 * The call (Documentation/virt/kvm/x86/hypercalls.rst): number in RAX, arguments in RBX, RCX,
 * RDX, RSI, result in RAX, nothing else clobbered. Intel's instruction is VMCALL, AMD's VMMCALL;
 * KVM rewrites the wrong one on the #UD it causes, but picking the right one by vendor (as Linux
 * does with X86_FEATURE_VMMCALL) costs nothing and does not depend on that patching.
 */
#include <string.h>

#include "hypercall/kvm_hypercall.h"
#include "kernel/cpu.h"

#define CPUID_HYPERVISOR_BIT (1u << 31) /* CPUID.1:ECX */

static struct kvm_para_info info;
static bool detected;
static struct hypercall_stats stats;

static bool is_kvm_signature(uint32_t leaf, uint32_t *max_leaf)
{
    struct cpuid_regs r = cpuid(leaf, 0);
    char sig[12];
    memcpy(sig, &r.ebx, 4);
    memcpy(sig + 4, &r.ecx, 4);
    memcpy(sig + 8, &r.edx, 4);
    *max_leaf = r.eax;
    return memcmp(sig, "KVMKVMKVM\0\0\0", 12) == 0;
}

const struct kvm_para_info *kvm_para_detect(void)
{
    if (detected)
        return &info;
    detected = true;
    struct cpuid_regs v = cpuid(0, 0);
    memcpy(info.vendor, &v.ebx, 4);
    memcpy(info.vendor + 4, &v.edx, 4);
    memcpy(info.vendor + 8, &v.ecx, 4);
    info.vendor[12] = '\0';
    /* AMD and Hygon (an AMD derivative) implement VMMCALL; everyone else VMCALL. */
    info.amd = strcmp(info.vendor, "AuthenticAMD") == 0 || strcmp(info.vendor, "HygonGenuine") == 0;

    bool hypervisor = v.eax >= 1 && (cpuid(1, 0).ecx & CPUID_HYPERVISOR_BIT);
    uint32_t max_leaf;
    for (uint32_t base = KVM_CPUID_SIGNATURE; base < KVM_CPUID_SIGNATURE + 0x10000; base += 0x100) {
        if (is_kvm_signature(base, &max_leaf)) {
            info.present = true;
            info.base = base;
            /* cpuid.rst: EAX is the highest leaf; old hosts leave it 0, meaning base + 1. */
            info.max_leaf = max_leaf >= base + 1 ? max_leaf : base + 1;
            break;
        }
        if (!hypervisor)
            break; /* no hypervisor bit: only the architectural place is worth a look */
    }
    if (info.present) {
        info.features = cpuid(info.base + (KVM_CPUID_FEATURES - KVM_CPUID_SIGNATURE), 0).eax;
        info.map_gpa_range = (info.features >> KVM_FEATURE_HC_MAP_GPA_RANGE) & 1;
    }
    return &info;
}

long kvm_hypercall3(unsigned long nr, unsigned long a0, unsigned long a1, unsigned long a2)
{
    long ret;
    /* "memory": the host may read or change guest memory (it converts pages) - no access may be
     * moved across the call. */
    if (kvm_para_detect()->amd)
        __asm__ volatile("vmmcall" : "=a"(ret) : "a"(nr), "b"(a0), "c"(a1), "d"(a2) : "memory");
    else
        __asm__ volatile("vmcall" : "=a"(ret) : "a"(nr), "b"(a0), "c"(a1), "d"(a2) : "memory");
    return ret;
}

long kvm_map_gpa_range(uint64_t gpa, uint64_t npages, bool private_)
{
    struct map_gpa_args a = map_gpa_encode(gpa, npages, private_);
    long ret = kvm_hypercall3(KVM_HC_MAP_GPA_RANGE, a.gpa, a.npages, a.attrs);
    stats.calls++;
    stats.pages += npages;
    if (ret == -KVM_ENOSYS)
        stats.enosys++;
    else if (ret != 0)
        stats.failures++;
    return ret;
}

void hypercall_get_stats(struct hypercall_stats *out) { *out = stats; }
