/* SPDX-License-Identifier: MIT */
/* mem_encrypt.h - per-page private/shared state for confidential guests.
 *
 * In a confidential guest, memory is private by default: the host cannot read it. Pages the
 * host must see (bounce buffers, virtqueues) are converted to shared with the KVM conversion
 * hypercall (KVM_HC_MAP_GPA_RANGE, Documentation/virt/kvm/x86/hypercalls.rst). A conversion is
 * destructive: after it, the page's previous contents are gone and nothing may rely on them.
 * Nothing here zeroes or preserves contents; callers that need either do it themselves.
 *
 * mode=confidential (docs/confidential.md): the boot-shared region [0, S) - S the kernel image's
 * end rounded up to 2 MiB - is shared (the VMM wrote the image there), all other RAM private
 * (the VMM made it so before the guest ran). mm_init() keeps the kernel's allocations out of
 * [0, S); cc_init() builds the state bitmap and finds KVM. A normal guest never calls cc_init():
 * every page then is, and stays, shared.
 *
 * When the host does not service the hypercall (a normal QEMU/KVM VM answers -KVM_ENOSYS; under
 * TCG there is no KVM at all and nothing is called), the guest keeps its bookkeeping anyway and
 * says so in its report: the DMA paths run as they would, the host just sees everything.
 */
#ifndef BOUNCE_MM_MEM_ENCRYPT_H
#define BOUNCE_MM_MEM_ENCRYPT_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/boot_info.h"

enum page_state { PAGE_SHARED = 0, PAGE_PRIVATE = 1 };

/* True when the guest runs with private memory (mode=confidential, after cc_init()). */
bool cc_guest_private_memory(void);

/* The end of the boot-shared region for this boot: the image end rounded up to 2 MiB under PVH
 * (the contract with the VMM); under UEFI, where no VMM contract applies and the firmware put
 * the image where it liked, the low 1 MiB (the image itself is then counted shared too). */
uint64_t cc_boot_shared_end(const struct boot_info *bi);
/* The same, as cc_init() computed it (0 before). */
uint64_t cc_boot_shared_end_now(void);

/* Confidential mode, right after mm_init(): the state bitmap (1 bit per 4 KiB page of RAM, from
 * the heap), any free frame below the boot-shared end taken out of the allocator, KVM found. */
void cc_init(const struct boot_info *bi);

/* Convert [phys, phys + npages * 4 KiB) and record the new state. Pages already in that state
 * are skipped; each maximal run of the others is one hypercall. Returns 0 (also when the host
 * answered -KVM_ENOSYS or there is no KVM: bookkeeping only), -EINVAL for npages 0, a misaligned
 * range or one not entirely inside RAM (nothing changes), -EIO if the host refused a run (runs
 * before it stay converted, page_state_of() tells), -EOPNOTSUPP if not a confidential guest. */
int set_memory_shared(uint64_t phys, uint64_t npages);
int set_memory_private(uint64_t phys, uint64_t npages);

/* PAGE_SHARED for anything that is not private RAM (outside RAM, or a normal guest). */
enum page_state page_state_of(uint64_t phys);
/* True if every page of [phys, phys + bytes) is private RAM. */
bool cc_range_private(uint64_t phys, uint64_t bytes);

/* How the host answered the conversion hypercall so far. */
enum cc_service {
    CC_SERVICE_UNKNOWN,  /* no conversion yet */
    CC_SERVICE_NO_KVM,   /* no KVM signature in CPUID: nothing was called */
    CC_SERVICE_ENOSYS,   /* KVM answered -KVM_ENOSYS: the host does not offer it */
    CC_SERVICE_SERVICED, /* the host converted the pages */
};

/* The conversion counters, declared once: the struct and the "BOUNCE-REPORT cc" line
 * (init/cc_report.c) are made from this list, in this order. X(name, what). */
#define CC_STATS(X)                                                             \
    X(hypercalls, "KVM_HC_MAP_GPA_RANGE issued")                                \
    X(pages_to_shared, "pages converted to shared")                             \
    X(pages_to_private, "pages converted to private")                           \
    X(enosys, "hypercalls answered -KVM_ENOSYS")                                \
    X(failures, "runs the host refused (-EIO)")                                 \
    X(bookkeeping_only, "runs converted in the bitmap only (ENOSYS or no KVM)") \
    X(invalid, "calls refused with -EINVAL")                                    \
    X(runs, "conversions of a maximal run (hypercalls, or bookkeeping only)")   \
    X(reserved_frames, "free frames below the boot-shared end taken from the allocator")

struct cc_stats {
#define CC_STATS_FIELD(name, what) uint64_t name;
    CC_STATS(CC_STATS_FIELD)
#undef CC_STATS_FIELD
};
void cc_get_stats(struct cc_stats *out);
enum cc_service cc_service(void);
const char *cc_service_name(enum cc_service s);
/* Pages currently private / shared among the RAM the bitmap covers. */
uint64_t cc_count_pages(enum page_state s);

#endif
