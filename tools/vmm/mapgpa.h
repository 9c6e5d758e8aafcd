/* SPDX-License-Identifier: MIT */
/* mapgpa.h - checking the arguments of KVM_HC_MAP_GPA_RANGE from the untrusted guest. Pure.
 *
 * The guest asks: convert [gpa, gpa + npages * 4 KiB) to private (attrs bit 4) or shared, attrs
 * bits 3:0 a page-size hint (0 4 KiB, 1 2 MiB, 2 1 GiB; hypercall/kvm_hypercall.h). A request is
 * accepted only if gpa is page-aligned, npages > 0, the range does not wrap, lies inside RAM and
 * outside the reserved [0x9f000, 0x100000) (not RAM to the guest), and attrs has no unknown bits
 * and a known size hint. The hint is not enforced against the range (it is a hint).
 */
#ifndef BOUNCE_VMM_MAPGPA_H
#define BOUNCE_VMM_MAPGPA_H

#include <stdbool.h>
#include <stdint.h>

enum mapgpa_err {
    MAPGPA_OK,
    MAPGPA_MISALIGNED,  /* gpa not 4 KiB aligned */
    MAPGPA_NO_PAGES,    /* npages == 0 */
    MAPGPA_WRAPS,       /* gpa + npages * 4 KiB overflows */
    MAPGPA_OUTSIDE_RAM, /* reaches past the end of RAM */
    MAPGPA_NOT_RAM,     /* touches the reserved legacy hole */
    MAPGPA_BAD_ATTRS,   /* unknown attribute bits or size hint */
};

struct mapgpa_req {
    uint64_t gpa, npages;
    bool to_private;
};

enum mapgpa_err mapgpa_check(uint64_t ram_size, uint64_t gpa, uint64_t npages, uint64_t attrs, struct mapgpa_req *out);
const char *mapgpa_err_name(enum mapgpa_err e);

#endif
