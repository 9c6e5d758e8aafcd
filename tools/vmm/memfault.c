/* SPDX-License-Identifier: MIT */
/* memfault.c - KVM_EXIT_MEMORY_FAULT: a guest access KVM could not map, e.g. a private access to
 * a page whose attributes say shared (Documentation/virt/kvm/api.rst: KVM_EXIT_MEMORY_FAULT,
 * which comes with KVM_RUN returning -1/EFAULT). Resolved as QEMU does: the pages are converted
 * to the kind of the faulting access, and the vCPU retries. A page that keeps faulting (more than
 * MEMFAULT_GIVE_UP times) or a range outside RAM ends the run with a VMM error.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "tools/vmm/kvm_compat.h"
#include "tools/vmm/log.h"
#include "tools/vmm/vmm.h"

#define MEMFAULT_GIVE_UP 100
#define MEMFAULT_LOGGED 20

int memfault_handle(struct vmm *v)
{
    struct kvm_compat_memory_fault f;
    memcpy(&f, &v->run->hw, sizeof(f)); /* the exit union starts with every member */
    bool to_private = (f.flags & KVM_MEMORY_EXIT_FLAG_PRIVATE) != 0;
    v->memory_faults++;
    if (v->memory_faults <= MEMFAULT_LOGGED)
        vmm_info("memory fault: gpa %#" PRIx64 " size %#" PRIx64 " flags %#" PRIx64
                 " (%s access): converting the pages",
                 f.gpa, f.size, f.flags, to_private ? "private" : "shared");
    if (v->memory_faults == MEMFAULT_LOGGED)
        vmm_info("%d memory faults logged; further ones are only counted", MEMFAULT_LOGGED);
    uint64_t first = f.gpa / PAGE_SIZE;
    uint64_t size = f.size ? f.size : PAGE_SIZE;
    if (!gm_in_ram(&v->mem.gm, f.gpa, size)) {
        vmm_end(v, END_VMM_ERROR, "memory fault at gpa %#llx (+%#llx) outside RAM: cannot resolve",
                (unsigned long long)f.gpa, (unsigned long long)size);
        return -1;
    }
    uint64_t last = (f.gpa + size - 1) / PAGE_SIZE;
    if (v->faults_per_page == NULL) {
        v->faults_per_page = calloc(v->ram / PAGE_SIZE, 1);
        if (v->faults_per_page == NULL) {
            vmm_end(v, END_VMM_ERROR, "out of memory");
            return -1;
        }
    }
    for (uint64_t p = first; p <= last; p++) {
        if (v->faults_per_page[p] < 255)
            v->faults_per_page[p]++;
        if (v->faults_per_page[p] > MEMFAULT_GIVE_UP) {
            vmm_end(v, END_VMM_ERROR, "page %#llx faulted more than %d times: giving up",
                    (unsigned long long)(p * PAGE_SIZE), MEMFAULT_GIVE_UP);
            return -1;
        }
    }
    int rc = mem_convert(&v->mem, first * PAGE_SIZE, last - first + 1, to_private);
    if (rc != 0) {
        vmm_end(v, END_VMM_ERROR, "memory fault at gpa %#llx: conversion failed: %s", (unsigned long long)f.gpa,
                strerror(-rc));
        return -1;
    }
    return 0;
}
