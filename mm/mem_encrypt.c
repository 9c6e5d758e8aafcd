/* SPDX-License-Identifier: MIT */
/* mem_encrypt.c - which pages are private, which shared, and converting them (mem_encrypt.h).
 *
 * The state is one bit per 4 KiB page over [0, end of the highest RAM range), 1 = private,
 * allocated from the heap (private memory) at cc_init(). Only RAM ranges of the boot memory map
 * have meaningful bits; everything else reads as shared (it is not private memory).
 *
 * A conversion is KVM_HC_MAP_GPA_RANGE (hypercall/kvm_hypercall.h) for each maximal run of pages
 * not yet in the wanted state: a request that covers pages already converted costs no call for
 * them, and contiguous pages cost one call, not one each. The bitmap changes only after the host
 * said yes - or when it cannot say anything (ENOSYS, no KVM), where the guest keeps the
 * bookkeeping so every path runs as it would on a host that converts.
 *
 * Conversions destroy contents (docs/confidential.md: the VMM discards the other copy); this
 * file neither zeroes nor saves anything - dma/ does what its callers need around each call.
 */
#include "mm/mem_encrypt.h"

#include <inttypes.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hypercall/kvm_hypercall.h"
#include "kernel/options.h"
#include "kernel/panic.h"
#include "mm/mm.h"

static bool cc_on;
static uint64_t shared_end; /* S */
static uint64_t span_pages; /* the bitmap covers pages [0, span_pages) */
static uint64_t *private_bits;
static struct cc_stats st;
static enum cc_service service = CC_SERVICE_UNKNOWN;

static bool is_ram_type(uint32_t t) { return t == MEM_USABLE || t == MEM_BOOT_RECLAIM || t == MEM_LOADER; }

static bool test_priv(uint64_t pfn) { return pfn < span_pages && ((private_bits[pfn / 64] >> (pfn % 64)) & 1); }

static void set_state(uint64_t pfn, uint64_t n, bool priv)
{
    for (uint64_t p = pfn; p < pfn + n; p++) {
        if (priv)
            private_bits[p / 64] |= 1ull << (p % 64);
        else
            private_bits[p / 64] &= ~(1ull << (p % 64));
    }
}

bool cc_guest_private_memory(void) { return cc_on; }

uint64_t cc_boot_shared_end(const struct boot_info *bi)
{
    if (bi->method == BOOT_PVH)
        return ALIGN_UP(bi->image_end, HUGE_PAGE_SIZE); /* docs/confidential.md, "Memory" */
    return MiB(1);
}

uint64_t cc_boot_shared_end_now(void) { return shared_end; }

/* True if [base, base + len) lies in RAM: ranges of RAM types that follow one another without a
 * gap (the normalized map is sorted; a UEFI map may put usable and loader RAM side by side). */
static bool in_ram(uint64_t base, uint64_t len)
{
    size_t n;
    const struct mem_range *map = mm_boot_map(&n);
    uint64_t cur = base, end = base + len;
    for (size_t i = 0; i < n && cur < end; i++) {
        if (!is_ram_type(map[i].type) || memrange_end(&map[i]) <= cur)
            continue;
        if (map[i].base > cur)
            return false; /* a hole (or a non-RAM range) at cur */
        cur = memrange_end(&map[i]);
    }
    return cur >= end;
}

void cc_init(const struct boot_info *bi)
{
    size_t n;
    const struct mem_range *map = mm_boot_map(&n);
    shared_end = cc_boot_shared_end(bi);
    for (size_t i = 0; i < n; i++)
        if (is_ram_type(map[i].type) && memrange_end(&map[i]) / PAGE_SIZE > span_pages)
            span_pages = memrange_end(&map[i]) / PAGE_SIZE;
    private_bits = calloc((span_pages + 63) / 64, sizeof(uint64_t));
    if (private_bits == NULL)
        panic("cc: no heap for a %" PRIu64 "-page state bitmap", span_pages);

    /* The starting state the VMM set up: [0, S) shared, all other RAM private. Under UEFI the image
     * lies elsewhere; the firmware wrote it, so it counts as shared too (bookkeeping only there). */
    for (size_t i = 0; i < n; i++) {
        if (!is_ram_type(map[i].type))
            continue;
        uint64_t first = ALIGN_UP(map[i].base, PAGE_SIZE) / PAGE_SIZE, last = memrange_end(&map[i]) / PAGE_SIZE;
        if (first < shared_end / PAGE_SIZE)
            first = shared_end / PAGE_SIZE;
        if (last > first)
            set_state(first, last - first, true);
    }
    uint64_t img = bi->image_start / PAGE_SIZE, img_end = ALIGN_UP(bi->image_end, PAGE_SIZE) / PAGE_SIZE;
    if (img_end > span_pages)
        img_end = span_pages;
    if (img < img_end)
        set_state(img, img_end - img, false);

    /* mm_init() already left [0, S) out of the allocator; a frame that got in anyway would put
     * kernel data where the host reads it. Only free frames: an allocated one has an owner. */
    struct frame_allocator *fa = mm_frames();
    for (uint64_t pa = 0; pa < shared_end; pa += PAGE_SIZE) {
        if (frame_is_free(fa, pa)) {
            frame_alloc_reserve(fa, pa, PAGE_SIZE);
            st.reserved_frames++;
        }
    }
    cc_on = true;

    const struct kvm_para_info *kvm = kvm_para_detect();
    printf("cc: confidential mode: boot-shared [0, %#" PRIx64 ") (%s), %" PRIu64 " pages private, %" PRIu64
           " free frames below it taken "
           "from the allocator\n",
           shared_end, bi->method == BOOT_PVH ? "image end rounded up to 2 MiB" : "UEFI: low 1 MiB",
           cc_count_pages(PAGE_PRIVATE), st.reserved_frames);
    if (!kvm->present) {
        service = CC_SERVICE_NO_KVM;
        printf("cc: no KVM (no \"KVMKVMKVM\" signature at CPUID 0x40000000, CPU vendor %s): conversions are "
               "bookkeeping only, no hypercall is made, the host sees all memory\n",
               kvm->vendor);
    } else {
        printf("cc: KVM at CPUID %#x (features %#x, %s), KVM_HC_MAP_GPA_RANGE %s\n", kvm->base, kvm->features,
               kvm->amd ? "vmmcall" : "vmcall",
               kvm->map_gpa_range ? "offered" : "not offered (the calls will tell: expect ENOSYS)");
    }
}

static void trace_call(uint64_t pfn, uint64_t npages, bool priv, const char *what)
{
    if (!trace_on(TRACE_HC))
        return;
    struct map_gpa_args a = map_gpa_encode(pfn * PAGE_SIZE, npages, priv);
    printf("hypercall: MAP_GPA_RANGE gpa %#" PRIx64 " pages %" PRIu64 " attrs %#" PRIx64
           " (%s, page-size hint %s) -> %s\n",
           a.gpa, a.npages, a.attrs, priv ? "private" : "shared",
           (a.attrs & 0xf) == 2       ? "1G"
               : (a.attrs & 0xf) == 1 ? "2M"
                                      : "4K",
           what);
}

/* One maximal run of pages, all in the other state. */
static int convert_run(uint64_t pfn, uint64_t npages, bool priv)
{
    const struct kvm_para_info *kvm = kvm_para_detect();
    st.runs++;
    if (!kvm->present) {
        trace_call(pfn, npages, priv, "not called: no KVM (bookkeeping only)");
        st.bookkeeping_only++;
    } else {
        long ret = kvm_map_gpa_range(pfn * PAGE_SIZE, npages, priv);
        st.hypercalls++;
        trace_call(pfn, npages, priv, kvm_hc_result_name(ret));
        st.enosys += ret == -KVM_ENOSYS;
        switch (map_gpa_judge(ret, service == CC_SERVICE_SERVICED)) {
        case MAP_GPA_CONVERTED: service = CC_SERVICE_SERVICED; break;
        case MAP_GPA_NOT_OFFERED:
            st.bookkeeping_only++;
            if (service != CC_SERVICE_ENOSYS)
                printf("cc: the host does not service KVM_HC_MAP_GPA_RANGE (-KVM_ENOSYS): conversions are "
                       "bookkeeping only, the host sees all memory\n");
            service = CC_SERVICE_ENOSYS;
            break;
        case MAP_GPA_FAILED:
            st.failures++;
            printf("cc: the host refused to make [%#" PRIx64 ", +%" PRIu64 " pages) %s: %s (%ld)%s\n",
                   (pfn * PAGE_SIZE), npages, priv ? "private" : "shared", kvm_hc_result_name(ret), ret,
                   ret == -KVM_ENOSYS ? ", after converting pages before: a failure, not bookkeeping" : "");
            return -EIO;
        }
    }
    set_state(pfn, npages, priv);
    if (priv)
        st.pages_to_private += npages;
    else
        st.pages_to_shared += npages;
    return 0;
}

static int set_memory(uint64_t phys, uint64_t npages, bool priv)
{
    if (!cc_on)
        return -EOPNOTSUPP;
    if (npages == 0 || phys % PAGE_SIZE != 0 || npages > (UINT64_MAX - phys) / PAGE_SIZE ||
        !in_ram(phys, npages * PAGE_SIZE)) {
        st.invalid++;
        if (trace_on(TRACE_HC))
            printf("hypercall: refused: [%#" PRIx64 ", +%" PRIu64 " pages) is %s\n", phys, npages,
                   npages == 0            ? "empty"
                       : phys % PAGE_SIZE ? "not page-aligned"
                                          : "not inside RAM");
        return -EINVAL;
    }
    uint64_t pfn = phys / PAGE_SIZE, end = pfn + npages;
    while (pfn < end) {
        while (pfn < end && test_priv(pfn) == priv)
            pfn++; /* already there: no call */
        uint64_t start = pfn;
        while (pfn < end && test_priv(pfn) != priv)
            pfn++;
        if (pfn > start) {
            int rc = convert_run(start, pfn - start, priv);
            if (rc != 0)
                return rc;
        }
    }
    return 0;
}

int set_memory_shared(uint64_t phys, uint64_t npages) { return set_memory(phys, npages, false); }
int set_memory_private(uint64_t phys, uint64_t npages) { return set_memory(phys, npages, true); }

enum page_state page_state_of(uint64_t phys)
{
    return cc_on && test_priv(phys / PAGE_SIZE) ? PAGE_PRIVATE : PAGE_SHARED;
}

bool cc_range_private(uint64_t phys, uint64_t bytes)
{
    if (!cc_on || bytes == 0 || phys + bytes < phys)
        return false;
    for (uint64_t pfn = phys / PAGE_SIZE; pfn <= (phys + bytes - 1) / PAGE_SIZE; pfn++)
        if (!test_priv(pfn))
            return false;
    return true;
}

uint64_t cc_count_pages(enum page_state s)
{
    if (!cc_on && private_bits == NULL)
        return 0;
    size_t n;
    const struct mem_range *map = mm_boot_map(&n);
    uint64_t count = 0;
    for (size_t i = 0; i < n; i++) {
        if (!is_ram_type(map[i].type))
            continue;
        for (uint64_t p = ALIGN_UP(map[i].base, PAGE_SIZE) / PAGE_SIZE; p < memrange_end(&map[i]) / PAGE_SIZE; p++)
            count += test_priv(p) == (s == PAGE_PRIVATE);
    }
    return count;
}

void cc_get_stats(struct cc_stats *out) { *out = st; }
enum cc_service cc_service(void) { return service; }

const char *cc_service_name(enum cc_service s)
{
    static const char *const names[] = {"unknown (no conversion yet)", "no-kvm", "enosys", "serviced"};
    return (unsigned)s < 4 ? names[s] : "?";
}
