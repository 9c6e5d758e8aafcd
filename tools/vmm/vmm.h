/* SPDX-License-Identifier: MIT */
/* vmm.h - the VMM's state, shared by the files that drive KVM (main.c, run.c, hypercall.c,
 * memfault.c, report.c). The pure parts (guestmem, virtio_mmio, virtio_blk, canary, mapgpa, pvh)
 * do not include it.
 */
#ifndef BOUNCE_VMM_VMM_H
#define BOUNCE_VMM_VMM_H

#include <stdbool.h>
#include <stdint.h>

#include "tools/vmm/canary.h"
#include "tools/vmm/disk.h"
#include "tools/vmm/ioapic.h"
#include "tools/vmm/ioport.h"
#include "tools/vmm/memory.h"
#include "tools/vmm/pvh.h"
#include "tools/vmm/virtio_blk.h"
#include "tools/vmm/virtio_mmio.h"

struct kvm_run;

enum vmm_mode { MODE_AUTO, MODE_SW_PROTECTED, MODE_FALLBACK };

/* Why the run ended. */
enum vmm_end {
    END_RUNNING,
    END_GUEST_EXIT,    /* isa-debug-exit: the guest gave its exit code */
    END_TIMEOUT,       /* --timeout passed */
    END_GUEST_STOPPED, /* hlt with nothing to wake it, triple fault, KVM internal error, ... */
    END_VMM_ERROR,     /* the VMM could not go on (a KVM call failed, an unresolvable fault) */
};

/* VMM exit status (docs/confidential.md) */
#define VMM_EXIT_PASS 0
#define VMM_EXIT_GUEST_FAILED 1
#define VMM_EXIT_ERROR 2
#define VMM_EXIT_CANARY 3
#define VMM_EXIT_NO_EXIT_CODE 4

/* KVM_RUN exits by reason, declared once: the struct and the report's "exits_by_reason" object are
 * made from this list. X(name, what). */
#define VMM_EXITS(X)                                                                 \
    X(io, "KVM_EXIT_IO: port I/O (serial, isa-debug-exit)")                          \
    X(mmio, "KVM_EXIT_MMIO: the virtio-mmio window, the I/O APIC")                   \
    X(hypercall, "KVM_EXIT_HYPERCALL: KVM_HC_MAP_GPA_RANGE")                         \
    X(hlt, "KVM_EXIT_HLT")                                                           \
    X(shutdown, "KVM_EXIT_SHUTDOWN: a triple fault")                                 \
    X(memory_fault, "KVM_EXIT_MEMORY_FAULT: an access to memory in the other state") \
    X(intr, "KVM_EXIT_INTR: a signal")                                               \
    X(internal_error, "KVM_EXIT_INTERNAL_ERROR")                                     \
    X(fail_entry, "KVM_EXIT_FAIL_ENTRY")                                             \
    X(system_event, "KVM_EXIT_SYSTEM_EVENT")                                         \
    X(other, "anything else")

struct vmm_exits {
#define VMM_EXITS_FIELD(name, what) uint64_t name;
    VMM_EXITS(VMM_EXITS_FIELD)
#undef VMM_EXITS_FIELD
};

struct vmm {
    /* options */
    uint64_t ram;
    const char *elf_path, *disk_path, *cmdline;
    const char *report_path; /* --report: where the JSON report goes (NULL: stderr only) */
    bool disk_readonly;
    uint64_t bad_sector; /* --bad-sector: reads of it fail (VBLK_NO_BAD_SECTOR: none) */
    enum vmm_mode mode;
    unsigned timeout_s;

    /* KVM */
    int kvm_fd, vm_fd, vcpu_fd;
    struct kvm_run *run;
    size_t run_size;
    bool sw_protected;
    uint32_t tsc_khz;
    struct vm_memory mem;
    struct pvh_image img;

    /* devices */
    struct ioports io;
    struct ioapic ioapic;
    bool have_disk;
    struct disk disk;
    struct vblk_dev *blk;
    struct vmmio vmmio;

    /* what happened */
    struct vmm_exits exits;
    uint64_t memory_faults;
    uint8_t *faults_per_page; /* saturating counts, allocated on the first memory fault */
    uint64_t unknown_hypercalls;
    struct canary_log canary;
    enum vmm_end end;
    char end_msg[256];
};

/* run.c: run the vCPU until the guest exits, stops, times out, or the VMM fails. */
void vmm_run(struct vmm *v);
/* hypercall.c: a KVM_EXIT_HYPERCALL: sets run->hypercall.ret. */
void hypercall_handle(struct vmm *v);
/* memfault.c: a KVM_EXIT_MEMORY_FAULT. Returns 0 when resolved, -1 when giving up (end set). */
int memfault_handle(struct vmm *v);
/* report.c: the report as JSON to v->report_path (if set) and as a VMM-REPORT line on stderr.
 * Returns -1 if the report file could not be written. */
int report_write(const struct vmm *v, int status);

void vmm_end(struct vmm *v, enum vmm_end why, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
