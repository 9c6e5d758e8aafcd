/* SPDX-License-Identifier: MIT */
/* kvm_compat.h - the parts of the Linux 6.12 KVM uapi the VMM needs that older <linux/kvm.h>
 * (Debian 12 ships the 6.1 headers) lacks. Each definition is the one in Linux 6.12 and is used
 * only if the system header does not have it; values and layouts from:
 *   include/uapi/linux/kvm.h (6.12)            KVM_CAP_*, KVM_MEM_GUEST_MEMFD, KVM_EXIT_MEMORY_FAULT,
 *                                              struct kvm_userspace_memory_region2 and its ioctl,
 *                                              struct kvm_memory_attributes and its ioctl,
 *                                              struct kvm_create_guest_memfd and its ioctl
 *   arch/x86/include/uapi/asm/kvm.h (6.12)     KVM_X86_DEFAULT_VM, KVM_X86_SW_PROTECTED_VM
 *   Documentation/virt/kvm/api.rst (6.12)      4.141 KVM_SET_MEMORY_ATTRIBUTES, 4.142
 *                                              KVM_CREATE_GUEST_MEMFD, 4.35 KVM_SET_USER_MEMORY_REGION2,
 *                                              KVM_EXIT_MEMORY_FAULT, 8.42 KVM_CAP_VM_TYPES
 * A running kernel older than 6.8 simply reports the capabilities as absent.
 */
#ifndef BOUNCE_VMM_KVM_COMPAT_H
#define BOUNCE_VMM_KVM_COMPAT_H

#include <linux/kvm.h>
#include <stdint.h>

/* include/uapi/linux/kvm.h: capability numbers */
#ifndef KVM_CAP_USER_MEMORY2
#define KVM_CAP_USER_MEMORY2 231
#endif
#ifndef KVM_CAP_MEMORY_FAULT_INFO
#define KVM_CAP_MEMORY_FAULT_INFO 232
#endif
#ifndef KVM_CAP_MEMORY_ATTRIBUTES
#define KVM_CAP_MEMORY_ATTRIBUTES 233
#endif
#ifndef KVM_CAP_GUEST_MEMFD
#define KVM_CAP_GUEST_MEMFD 234
#endif
#ifndef KVM_CAP_VM_TYPES
#define KVM_CAP_VM_TYPES 235
#endif

/* arch/x86/include/uapi/asm/kvm.h: machine types for KVM_CREATE_VM */
#ifndef KVM_X86_DEFAULT_VM
#define KVM_X86_DEFAULT_VM 0
#endif
#ifndef KVM_X86_SW_PROTECTED_VM
#define KVM_X86_SW_PROTECTED_VM 1
#endif

/* include/uapi/linux/kvm.h: exit reason; its kvm_run union member is struct
 * kvm_compat_memory_fault below (the 6.1 header's union has no such member). */
#ifndef KVM_EXIT_MEMORY_FAULT
#define KVM_EXIT_MEMORY_FAULT 39
#endif
#ifndef KVM_MEMORY_EXIT_FLAG_PRIVATE
#define KVM_MEMORY_EXIT_FLAG_PRIVATE (1ULL << 3)
#endif
struct kvm_compat_memory_fault { /* kvm_run.memory_fault, at the start of the exit union */
    uint64_t flags;
    uint64_t gpa;
    uint64_t size;
};

/* include/uapi/linux/kvm.h: KVM_SET_USER_MEMORY_REGION2 (the struct has the same name and layout
 * in 6.12; it is declared under our own name so it never clashes with a newer system header). */
struct kvm_compat_userspace_memory_region2 {
    uint32_t slot;
    uint32_t flags;
    uint64_t guest_phys_addr;
    uint64_t memory_size;
    uint64_t userspace_addr;
    uint64_t guest_memfd_offset;
    uint32_t guest_memfd;
    uint32_t pad1;
    uint64_t pad2[14];
};
_Static_assert(sizeof(struct kvm_compat_userspace_memory_region2) == 160, "kvm_userspace_memory_region2 is 160 bytes");
#ifndef KVM_MEM_GUEST_MEMFD
#define KVM_MEM_GUEST_MEMFD (1UL << 2)
#endif
#define KVM_COMPAT_SET_USER_MEMORY_REGION2 _IOW(KVMIO, 0x49, struct kvm_compat_userspace_memory_region2)

/* include/uapi/linux/kvm.h: KVM_SET_MEMORY_ATTRIBUTES */
struct kvm_compat_memory_attributes {
    uint64_t address;
    uint64_t size;
    uint64_t attributes;
    uint64_t flags;
};
#ifndef KVM_MEMORY_ATTRIBUTE_PRIVATE
#define KVM_MEMORY_ATTRIBUTE_PRIVATE (1ULL << 3)
#endif
_Static_assert(sizeof(struct kvm_compat_memory_attributes) == 32, "kvm_memory_attributes is 32 bytes");
#define KVM_COMPAT_SET_MEMORY_ATTRIBUTES _IOW(KVMIO, 0xd2, struct kvm_compat_memory_attributes)

/* include/uapi/linux/kvm.h: KVM_CREATE_GUEST_MEMFD */
struct kvm_compat_create_guest_memfd {
    uint64_t size;
    uint64_t flags;
    uint64_t reserved[6];
};
_Static_assert(sizeof(struct kvm_compat_create_guest_memfd) == 64, "kvm_create_guest_memfd is 64 bytes");
#define KVM_COMPAT_CREATE_GUEST_MEMFD _IOWR(KVMIO, 0xd4, struct kvm_compat_create_guest_memfd)

#endif
