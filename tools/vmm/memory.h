/* SPDX-License-Identifier: MIT */
/* memory.h - guest RAM: the backing files, the KVM memory slot, private/shared conversions.
 *
 * sw-protected VM: RAM is a guest_memfd (private, the host cannot map it) plus a memfd mapped
 * MAP_SHARED in the VMM (shared, host-visible), bound together in one KVM_SET_USER_MEMORY_REGION2
 * slot; KVM's memory attributes say which copy the guest uses per page.
 * Fallback (default VM): RAM is the memfd alone; the private/shared state is the VMM's bookkeeping.
 * In both, the state is in m->gm.shared, and a conversion discards the copy the page leaves
 * (docs/confidential.md: conversions are destructive).
 */
#ifndef BOUNCE_VMM_MEMORY_H
#define BOUNCE_VMM_MEMORY_H

#include <stdbool.h>
#include <stdint.h>

#include "tools/vmm/canary.h"
#include "tools/vmm/guestmem.h"

/* The conversion counters, declared once: the struct and the report's "conversions" object
 * (tools/vmm/report.c) are made from this list. X(name, what). */
#define CONV_STATS(X)                                                           \
    X(calls, "conversion hypercalls accepted")                                  \
    X(pages_to_shared, "pages those calls asked to make shared")                \
    X(pages_to_private, "... private")                                          \
    X(pages_changed, "pages whose state actually changed (and were discarded)") \
    X(refused, "hypercalls refused (bad arguments, KVM said no)")               \
    X(discard_errors, "hole punches that failed (logged)")

struct conv_stats {
#define CONV_STATS_FIELD(name, what) uint64_t name;
    CONV_STATS(CONV_STATS_FIELD)
#undef CONV_STATS_FIELD
};

struct vm_memory {
    bool sw_protected;
    int vm_fd;
    uint64_t ram;
    uint64_t boot_shared; /* S */
    int memfd;            /* host-visible copy (fallback: the only copy) */
    int gmemfd;           /* guest_memfd, -1 in fallback */
    uint8_t *host;        /* memfd mapped MAP_SHARED */
    struct guest_mem gm;
    struct conv_stats st;
};

/* Create the backing, map it, register the slot. Every page starts shared (the VMM loads the
 * image next); mem_protect() then makes [S, ram) private. Returns 0 or -1 (logged). */
int mem_create(struct vm_memory *m, int vm_fd, uint64_t ram, bool sw_protected);
int mem_protect(struct vm_memory *m, uint64_t boot_shared);

/* Convert [gpa, gpa + npages pages) (already validated: page-aligned, inside RAM). Sets the KVM
 * attributes (sw-protected), discards the copy each changed page leaves, updates the bitmap.
 * Returns 0 or a negative errno from KVM. */
int mem_convert(struct vm_memory *m, uint64_t gpa, uint64_t npages, bool to_private);

/* Scan all host-visible guest memory for the canary: sw-protected, every data extent of the
 * shared memfd (private pages are holes in it); fallback, the pages in the shared state. */
void mem_scan_canary(const struct vm_memory *m, struct canary_log *log);

#endif
