/* SPDX-License-Identifier: MIT */
/* map_gpa.c - the pure half of the KVM hypercall client: how a conversion is encoded, how page
 * runs are merged into as few hypercalls as possible, and what a result means.
 *
 * No instruction is issued here, so this file is compiled natively into the host unit tests
 * (tests/host/test_hypercall.c) as well as into the guest.
 */
#include <stdlib.h>

#include "hypercall/kvm_hypercall.h"

#define PAGES_2M 512ull            /* 4 KiB pages in 2 MiB */
#define PAGES_1G (512ull * 512ull) /* 4 KiB pages in 1 GiB */

/* Documentation/virt/kvm/x86/hypercalls.rst, KVM_HC_MAP_GPA_RANGE: a1 always counts 4 KiB
 * pages; bits 3:0 of a2 only say which page size the range is made of, so the host may work in
 * larger units. The hint is honest only if the range is a whole number of such pages starting on
 * such a boundary: the largest size that divides both the start and the length. */
struct map_gpa_args map_gpa_encode(uint64_t gpa, uint64_t npages, bool private_)
{
    uint64_t pfn = gpa >> 12, hint = KVM_MAP_GPA_RANGE_PAGE_SZ_4K;
    if (npages != 0 && (gpa & 0xfff) == 0) {
        if (pfn % PAGES_1G == 0 && npages % PAGES_1G == 0)
            hint = KVM_MAP_GPA_RANGE_PAGE_SZ_1G;
        else if (pfn % PAGES_2M == 0 && npages % PAGES_2M == 0)
            hint = KVM_MAP_GPA_RANGE_PAGE_SZ_2M;
    }
    return (struct map_gpa_args){
        .gpa = gpa,
        .npages = npages,
        .attrs = hint | (private_ ? KVM_MAP_GPA_RANGE_ENCRYPTED : KVM_MAP_GPA_RANGE_DECRYPTED),
    };
}

static int by_start(const void *a, const void *b)
{
    uint64_t x = ((const uint64_t *)a)[0], y = ((const uint64_t *)b)[0];
    return x < y ? -1 : x > y;
}

/* Sort by start, then sweep: a run that starts at or before the end of the one being built
 * (touching or overlapping) extends it. Empty runs are dropped. The end is computed as
 * start + count, which cannot overflow for frame numbers of a 64-bit physical address space
 * (< 2^52) and counts that fit in it; an end that would wrap is clamped, so the merge stays
 * correct for any input. */
size_t coalesce_page_runs(uint64_t (*runs)[2], size_t n)
{
    if (n == 0)
        return 0;
    qsort(runs, n, sizeof(runs[0]), by_start);
    size_t out = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t start = runs[i][0], count = runs[i][1];
        if (count == 0)
            continue;
        uint64_t end = start + count < start ? UINT64_MAX : start + count;
        if (out > 0 && start <= runs[out - 1][0] + runs[out - 1][1]) {
            uint64_t cur_end = runs[out - 1][0] + runs[out - 1][1];
            if (end > cur_end)
                runs[out - 1][1] = end - runs[out - 1][0];
            continue;
        }
        runs[out][0] = start;
        runs[out][1] = end - start;
        out++;
    }
    return out;
}

enum map_gpa_verdict map_gpa_judge(long ret, bool converted_before)
{
    if (ret == 0)
        return MAP_GPA_CONVERTED;
    if (ret == -KVM_ENOSYS && !converted_before)
        return MAP_GPA_NOT_OFFERED;
    return MAP_GPA_FAILED;
}

/* include/uapi/linux/kvm_para.h: the errno values KVM hands back, negated. */
const char *kvm_hc_result_name(long ret)
{
    switch (ret) {
    case 0: return "ok";
    case -KVM_ENOSYS: return "ENOSYS (the host does not offer it)";
    case -KVM_EINVAL: return "EINVAL (the host refused the arguments)";
    case -KVM_EFAULT: return "EFAULT";
    case -KVM_E2BIG: return "E2BIG";
    case -KVM_EPERM: return "EPERM (not called from CPL 0)";
    case -KVM_EOPNOTSUPP: return "EOPNOTSUPP";
    default: return ret < 0 ? "an unknown KVM error" : "an unexpected positive value";
    }
}
