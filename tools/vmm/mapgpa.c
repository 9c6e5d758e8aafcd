/* SPDX-License-Identifier: MIT */
/* mapgpa.c - validation of KVM_HC_MAP_GPA_RANGE arguments (see mapgpa.h). */
#include "tools/vmm/mapgpa.h"

#include "abi/kvm_hypercall.h"
#include "lib/units.h"
#include "tools/vmm/layout.h"

#define SIZE_HINT_MASK 0xfull
#define KNOWN_ATTRS (SIZE_HINT_MASK | KVM_MAP_GPA_RANGE_ENCRYPTED)

enum mapgpa_err mapgpa_check(uint64_t ram_size, uint64_t gpa, uint64_t npages, uint64_t attrs, struct mapgpa_req *out)
{
    if (attrs & ~KNOWN_ATTRS || (attrs & SIZE_HINT_MASK) > KVM_MAP_GPA_RANGE_PAGE_SZ_1G)
        return MAPGPA_BAD_ATTRS;
    if (gpa % PAGE_SIZE)
        return MAPGPA_MISALIGNED;
    if (npages == 0)
        return MAPGPA_NO_PAGES;
    if (npages > UINT64_MAX / PAGE_SIZE || gpa > UINT64_MAX - npages * PAGE_SIZE)
        return MAPGPA_WRAPS;
    uint64_t end = gpa + npages * PAGE_SIZE;
    if (end > ram_size)
        return MAPGPA_OUTSIDE_RAM;
    if (gpa < HIGH_RAM_START && end > LOW_RAM_END)
        return MAPGPA_NOT_RAM;
    *out = (struct mapgpa_req){gpa, npages, (attrs & KVM_MAP_GPA_RANGE_ENCRYPTED) != 0};
    return MAPGPA_OK;
}

const char *mapgpa_err_name(enum mapgpa_err e)
{
    switch (e) {
    case MAPGPA_OK: return "ok";
    case MAPGPA_MISALIGNED: return "address not page-aligned";
    case MAPGPA_NO_PAGES: return "zero pages";
    case MAPGPA_WRAPS: return "range wraps around the address space";
    case MAPGPA_OUTSIDE_RAM: return "range reaches past the end of RAM";
    case MAPGPA_NOT_RAM: return "range touches the reserved [0x9f000, 0x100000) (not RAM)";
    case MAPGPA_BAD_ATTRS: return "unknown attribute bits or page-size hint";
    }
    return "?";
}
