/* SPDX-License-Identifier: MIT */
/* cpu.c - CPUID and the PVH entry registers of the vCPU (see cpu.h).
 *
 * Documentation/virt/kvm/api.rst: KVM_GET_SUPPORTED_CPUID (E2BIG until the array is large
 * enough), KVM_SET_CPUID2, KVM_GET_TSC_KHZ, KVM_GET/SET_SREGS, KVM_SET_REGS.
 * Documentation/virt/kvm/x86/cpuid.rst: the KVM leaves 0x40000000 (signature, highest leaf) and
 * 0x40000001 (features); 0x40000010 is the hypervisor timing leaf (EAX TSC kHz, EBX bus kHz) as
 * VMware defined it and QEMU provides it.
 */
#include "tools/vmm/cpu.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "abi/kvm_hypercall.h"
#include "tools/vmm/log.h"

#define CPUID_TIMING_LEAF 0x40000010u
#define CPUID_1_ECX_HYPERVISOR (1u << 31)
/* KVM_GET_SUPPORTED_CPUID fails with E2BIG until the array is large enough: grow it up to this
 * (Linux caps it at KVM_MAX_CPUID_ENTRIES, 256 today; the margin is for hosts to come). */
#define CPUID_ENTRIES_MAX 4096u

static struct kvm_cpuid2 *supported_cpuid(int kvm_fd)
{
    for (unsigned n = 128; n <= CPUID_ENTRIES_MAX; n *= 2) {
        /* One spare entry for the timing leaf. */
        struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + (n + 1) * sizeof(struct kvm_cpuid_entry2));
        if (c == NULL)
            return NULL;
        c->nent = n;
        if (ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, c) == 0)
            return c;
        int e = errno;
        free(c);
        if (e != E2BIG) {
            vmm_info("error: KVM_GET_SUPPORTED_CPUID: %s", strerror(e));
            return NULL;
        }
    }
    vmm_info("error: KVM_GET_SUPPORTED_CPUID wants more than %u entries", CPUID_ENTRIES_MAX);
    return NULL;
}

static struct kvm_cpuid_entry2 *leaf(struct kvm_cpuid2 *c, uint32_t fn)
{
    for (uint32_t i = 0; i < c->nent; i++)
        if (c->entries[i].function == fn)
            return &c->entries[i];
    return NULL;
}

int cpu_setup_cpuid(int kvm_fd, int vcpu_fd, uint32_t *tsc_khz)
{
    int khz = ioctl(vcpu_fd, KVM_GET_TSC_KHZ, 0);
    if (khz <= 0) {
        vmm_info("error: KVM_GET_TSC_KHZ: %s", khz < 0 ? strerror(errno) : "0 kHz");
        return -1;
    }
    *tsc_khz = (uint32_t)khz;
    struct kvm_cpuid2 *c = supported_cpuid(kvm_fd);
    if (c == NULL)
        return -1;
    struct kvm_cpuid_entry2 *sig = leaf(c, KVM_CPUID_SIGNATURE), *feat = leaf(c, KVM_CPUID_FEATURES);
    if (sig == NULL || feat == NULL) {
        vmm_info("error: KVM_GET_SUPPORTED_CPUID has no KVM leaves 0x40000000/0x40000001");
        free(c);
        return -1;
    }
    if (sig->eax < CPUID_TIMING_LEAF)
        sig->eax = CPUID_TIMING_LEAF;
    feat->eax |= 1u << KVM_FEATURE_HC_MAP_GPA_RANGE;
    struct kvm_cpuid_entry2 *t = leaf(c, CPUID_TIMING_LEAF);
    if (t == NULL)
        t = &c->entries[c->nent++];
    *t = (struct kvm_cpuid_entry2){.function = CPUID_TIMING_LEAF,
                                   .index = 0,
                                   .flags = 0,
                                   .eax = (uint32_t)khz,
                                   .ebx = 1000000,
                                   .ecx = 0,
                                   .edx = 0};
    struct kvm_cpuid_entry2 *l1 = leaf(c, 1);
    if (l1)
        l1->ecx |= CPUID_1_ECX_HYPERVISOR;
    int rc = ioctl(vcpu_fd, KVM_SET_CPUID2, c);
    if (rc != 0)
        vmm_info("error: KVM_SET_CPUID2: %s", strerror(errno));
    free(c);
    return rc == 0 ? 0 : -1;
}

int cpu_setup_pvh_entry(int vcpu_fd, uint64_t entry, uint64_t start_info)
{
    struct kvm_sregs s;
    if (ioctl(vcpu_fd, KVM_GET_SREGS, &s) != 0) {
        vmm_info("error: KVM_GET_SREGS: %s", strerror(errno));
        return -1;
    }
    struct kvm_segment code = {.base = 0,
                               .limit = 0xffffffff,
                               .selector = 0x08,
                               .type = 0xb, /* code, read, accessed */
                               .present = 1,
                               .dpl = 0,
                               .db = 1,
                               .s = 1,
                               .l = 0,
                               .g = 1};
    struct kvm_segment data = code;
    data.selector = 0x10;
    data.type = 0x3; /* data, read/write, accessed */
    s.cs = code;
    s.ds = s.es = s.fs = s.gs = s.ss = data;
    s.tr = (struct kvm_segment){.base = 0,
                                .limit = 0xffff,
                                .selector = 0x18,
                                .type = 0xb, /* busy 32-bit TSS */
                                .present = 1,
                                .s = 0};
    s.ldt = (struct kvm_segment){.type = 0x2, .present = 1, .unusable = 1};
    s.gdt.base = 0, s.gdt.limit = 0xffff;
    s.idt.base = 0, s.idt.limit = 0;
    s.cr0 = 0x11; /* PE | ET: protected mode, paging off */
    s.cr3 = 0;
    s.cr4 = 0;
    s.efer = 0;
    if (ioctl(vcpu_fd, KVM_SET_SREGS, &s) != 0) {
        vmm_info("error: KVM_SET_SREGS: %s", strerror(errno));
        return -1;
    }
    struct kvm_regs r = {.rip = entry, .rbx = start_info, .rflags = 0x2};
    if (ioctl(vcpu_fd, KVM_SET_REGS, &r) != 0) {
        vmm_info("error: KVM_SET_REGS: %s", strerror(errno));
        return -1;
    }
    return 0;
}
