/* SPDX-License-Identifier: MIT */
/* abi/kvm_hypercall.h - KVM's paravirtual interface as far as bounce uses it: the CPUID leaves
 * (Documentation/virt/kvm/x86/cpuid.rst), KVM_HC_MAP_GPA_RANGE and its attributes
 * (Documentation/virt/kvm/x86/hypercalls.rst), KVM's errno values (include/uapi/linux/kvm_para.h).
 * Shared by the guest's client (hypercall/) and the VMM, which answers the call.
 */
#ifndef BOUNCE_ABI_KVM_HYPERCALL_H
#define BOUNCE_ABI_KVM_HYPERCALL_H

#define KVM_CPUID_SIGNATURE 0x40000000u
#define KVM_CPUID_FEATURES 0x40000001u
#define KVM_FEATURE_HC_MAP_GPA_RANGE 16 /* the bit number in CPUID 0x40000001 EAX */

#define KVM_HC_MAP_GPA_RANGE 12
#define KVM_MAP_GPA_RANGE_PAGE_SZ_4K 0
#define KVM_MAP_GPA_RANGE_PAGE_SZ_2M 1
#define KVM_MAP_GPA_RANGE_PAGE_SZ_1G 2
#define KVM_MAP_GPA_RANGE_ENCRYPTED (1u << 4)
#define KVM_MAP_GPA_RANGE_DECRYPTED 0u

/* KVM's own errno values (include/uapi/linux/kvm_para.h), returned negated. */
#define KVM_ENOSYS 1000
#define KVM_EFAULT 14
#define KVM_EINVAL 22
#define KVM_E2BIG 7
#define KVM_EPERM 1
#define KVM_EOPNOTSUPP 95

#endif
