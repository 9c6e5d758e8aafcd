/* SPDX-License-Identifier: MIT */
/* suite_cc.c - the confidential mode (docs/confidential.md) from inside the guest: KVM detection,
 * the private/shared state bitmap, conversions (skipping, coalescing, refusals), DMA that only
 * ever uses shared memory (the bounce pool, coherent memory, converted buffers), and the canary.
 *
 * It runs everywhere. In a normal guest only the pure parts run (the hypercall encoding, CPUID
 * detection) and the rest skip. Under QEMU there is no host that converts: with TCG there is no
 * KVM at all (-cpu max has no KVM leaves), so no hypercall is made; with KVM the call answers
 * -KVM_ENOSYS. Either way the guest keeps its bookkeeping, and every check of state and counters
 * below holds; what cannot be seen here is the host destroying contents - the host unit tests
 * (tests/host/test_dma_api.c, convert cases) and the VMM cover that.
 *
 * Every case leaves the DMA layer's settings and the allocator as it found them.
 */
#include <inttypes.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dma/dma.h"
#include "mm/dma_guest.h"
#include "dma/dma_internal.h"
#include "dma/swiotlb.h"
#include "hypercall/kvm_hypercall.h"
#include "kernel/options.h"
#include "mm/cc_canary.h"
#include "mm/mem_encrypt.h"
#include "mm/mm.h"
#include "ktest/ktest.h"

#define NOT_CC "not a confidential guest (boot with mode=confidential)"

static bool need_cc(struct ktest *t)
{
    if (cc_guest_private_memory())
        return true;
    ktest_skip(t, NOT_CC);
    return false;
}

static struct cc_stats cc_now(void)
{
    struct cc_stats s;
    cc_get_stats(&s);
    return s;
}

static struct dma_stats dma_now(void)
{
    struct dma_stats s;
    dma_get_stats(&s);
    return s;
}

static bool all_in_state(uint64_t pa, uint64_t pages, enum page_state s)
{
    for (uint64_t i = 0; i < pages; i++)
        if (page_state_of(pa + i * PAGE_SIZE) != s)
            return false;
    return true;
}

/* ---- everywhere ---- */

static void hypercall_encoding(struct ktest *t)
{
    struct map_gpa_args a = map_gpa_encode(0x4000000, 16384, false); /* a 64 MiB pool */
    KEXPECT_EQ(t, a.attrs, KVM_MAP_GPA_RANGE_PAGE_SZ_2M);
    a = map_gpa_encode(0x40000000, 512 * 512, true);
    KEXPECT_EQ(t, a.attrs, KVM_MAP_GPA_RANGE_PAGE_SZ_1G | KVM_MAP_GPA_RANGE_ENCRYPTED);
    a = map_gpa_encode(0x201000, 512, true);
    KEXPECT_EQ(t, a.attrs, KVM_MAP_GPA_RANGE_ENCRYPTED);
    uint64_t runs[][2] = {{7, 1}, {3, 4}, {10, 2}};
    KEXPECT_EQ(t, coalesce_page_runs(runs, 3), 2);
    KEXPECT_EQ(t, runs[0][0], 3);
    KEXPECT_EQ(t, runs[0][1], 5);
    KEXPECT(t, strstr(kvm_hc_result_name(-KVM_ENOSYS), "ENOSYS") != NULL);
}

static void kvm_detected_or_not(struct ktest *t)
{
    const struct kvm_para_info *k = kvm_para_detect();
    KEXPECT(t, k == kvm_para_detect()); /* cached */
    if (!k->present) {
        ktest_note(t, "no KVM: CPUID 0x40000000 has no KVM signature (QEMU TCG), CPU vendor %s", k->vendor);
        KEXPECT(t, !k->map_gpa_range);
    } else {
        ktest_note(t, "KVM at CPUID %#x, features %#x, MAP_GPA_RANGE %s, %s", k->base, k->features,
                   k->map_gpa_range ? "offered" : "not offered", k->amd ? "vmmcall" : "vmcall");
        KEXPECT(t, k->max_leaf > k->base);
    }
    if (!cc_guest_private_memory())
        return;
    /* What the host said so far agrees with what CPUID said. */
    enum cc_service s = cc_service();
    struct cc_stats st = cc_now();
    struct hypercall_stats hs;
    hypercall_get_stats(&hs);
    ktest_note(t, "conversions: %s; %" PRIu64 " hypercalls, %" PRIu64 " ENOSYS, %" PRIu64 " bookkeeping only",
               cc_service_name(s), st.hypercalls, st.enosys, st.bookkeeping_only);
    KEXPECT_EQ(t, hs.calls, st.hypercalls);
    KEXPECT_EQ(t, hs.enosys, st.enosys);
    if (!k->present) {
        KEXPECT_EQ(t, s, CC_SERVICE_NO_KVM);
        KEXPECT_EQ(t, st.hypercalls, 0);
        KEXPECT_EQ(t, st.bookkeeping_only, st.runs); /* every conversion was bookkeeping only */
    } else {
        KEXPECT(t, s == CC_SERVICE_ENOSYS || s == CC_SERVICE_SERVICED); /* the pool was shared at init */
        KEXPECT_EQ(t, st.hypercalls, st.runs);
    }
}

/* ---- confidential mode ---- */

static void state_at_boot(struct ktest *t)
{
    if (!need_cc(t))
        return;
    const struct boot_info *bi = ktest_boot_info();
    uint64_t s = cc_boot_shared_end_now();
    KEXPECT_EQ(t, s, cc_boot_shared_end(bi));
    if (bi->method == BOOT_PVH) {
        KEXPECT_EQ(t, s % MiB(2), 0);
        KEXPECT(t, s >= bi->image_end && s - bi->image_end < MiB(2));
        KEXPECT(t, all_in_state(MiB(1), (s - MiB(1)) / PAGE_SIZE, PAGE_SHARED)); /* the image, to S */
    }
    KEXPECT_EQ(t, page_state_of(0), PAGE_SHARED);
    KEXPECT_EQ(t, page_state_of(ALIGN_DOWN(bi->image_start, PAGE_SIZE)), PAGE_SHARED);
    KEXPECT_EQ(t, page_state_of(ALIGN_DOWN(bi->image_end - 1, PAGE_SIZE)), PAGE_SHARED);
    static int in_bss;
    KEXPECT_EQ(t, page_state_of(virt_to_phys(&in_bss)), PAGE_SHARED); /* the image's data: boot-shared */
    KEXPECT_EQ(t, page_state_of(0xfee00000), PAGE_SHARED);            /* not RAM: not private */
    /* Nothing below S can be handed out: the kernel's data stays private. */
    uint64_t free_below = 0;
    for (uint64_t pa = 0; pa < s; pa += PAGE_SIZE)
        free_below += frame_is_free(mm_frames(), pa);
    KEXPECT_EQ(t, free_below, 0);
    /* What the kernel allocates is private: the heap, fresh frames. */
    void *h = malloc(100);
    KASSERT(t, h != NULL);
    KEXPECT_EQ(t, page_state_of(virt_to_phys(h)), PAGE_PRIVATE);
    free(h);
    uint64_t pa = alloc_pages(FRAME_DMA32, 4);
    KASSERT(t, pa != FRAME_NONE);
    KEXPECT(t, pa >= s);
    KEXPECT(t, all_in_state(pa, 4, PAGE_PRIVATE));
    free_pages(pa, 4);
    /* The bounce pool: shared since dma_guest_init(). */
    const struct swiotlb_pool *pool = dma_installed_pool();
    KASSERT(t, pool != NULL);
    KEXPECT(t, all_in_state(pool->start, (pool->end - pool->start) / PAGE_SIZE, PAGE_SHARED));
    ktest_note(t,
               "boot-shared [0, %#" PRIx64 "); pool [%#" PRIx64 ", %#" PRIx64 ") shared; %" PRIu64
               " pages private, %" PRIu64 " shared",
               s, pool->start, pool->end, cc_count_pages(PAGE_PRIVATE), cc_count_pages(PAGE_SHARED));
}

/* Runs of a conversion and the hypercalls it costs: one per maximal run, none with no KVM. */
static void expect_runs(struct ktest *t, const struct cc_stats *before, uint64_t runs, uint64_t to_shared,
                        uint64_t to_private, int line)
{
    struct cc_stats now = cc_now();
    bool kvm = kvm_para_detect()->present;
    if (now.runs - before->runs != runs || now.hypercalls - before->hypercalls != (kvm ? runs : 0) ||
        now.pages_to_shared - before->pages_to_shared != to_shared ||
        now.pages_to_private - before->pages_to_private != to_private)
        ktest_fail(t, __FILE__, line,
                   "runs %" PRIu64 " (want %" PRIu64 "), hypercalls %" PRIu64 ", pages to shared %" PRIu64
                   " (want %" PRIu64 "), to private %" PRIu64 " (want %" PRIu64 ")",
                   (now.runs - before->runs), runs, (now.hypercalls - before->hypercalls),
                   (now.pages_to_shared - before->pages_to_shared), to_shared,
                   (now.pages_to_private - before->pages_to_private), to_private);
}

static void conversions_skip_and_coalesce(struct ktest *t)
{
    if (!need_cc(t))
        return;
    uint64_t pa = alloc_pages(FRAME_DMA32, 8);
    KASSERT(t, pa != FRAME_NONE);
    KASSERT(t, all_in_state(pa, 8, PAGE_PRIVATE));
    struct cc_stats s0 = cc_now();
    KEXPECT_EQ(t, set_memory_shared(pa, 8), 0); /* 8 contiguous pages: one call */
    KEXPECT(t, all_in_state(pa, 8, PAGE_SHARED));
    expect_runs(t, &s0, 1, 8, 0, __LINE__);

    s0 = cc_now();
    KEXPECT_EQ(t, set_memory_shared(pa, 8), 0); /* already shared: no call at all */
    expect_runs(t, &s0, 0, 0, 0, __LINE__);

    s0 = cc_now();
    KEXPECT_EQ(t, set_memory_private(pa + 2 * PAGE_SIZE, 3), 0); /* pages 2-4 */
    KEXPECT(t,
            all_in_state(pa, 2, PAGE_SHARED) && all_in_state(pa + 2 * PAGE_SIZE, 3, PAGE_PRIVATE) &&
                all_in_state(pa + 5 * PAGE_SIZE, 3, PAGE_SHARED));
    expect_runs(t, &s0, 1, 0, 3, __LINE__);

    s0 = cc_now();
    KEXPECT_EQ(t, set_memory_private(pa + 6 * PAGE_SIZE, 1), 0); /* private now: 2-4, 6 */
    KEXPECT_EQ(t, set_memory_private(pa, 8), 0);                 /* the rest: 0-1, 5, 7 - three runs */
    KEXPECT(t, all_in_state(pa, 8, PAGE_PRIVATE));
    expect_runs(t, &s0, 4, 0, 5, __LINE__);

    s0 = cc_now();
    KEXPECT_EQ(t, set_memory_shared(pa + PAGE_SIZE, 1), 0);
    KEXPECT_EQ(t, set_memory_shared(pa + 3 * PAGE_SIZE, 1), 0);
    KEXPECT_EQ(t, set_memory_shared(pa, 8), 0); /* 0, 2, 4-7: three runs */
    expect_runs(t, &s0, 5, 8, 0, __LINE__);
    KEXPECT_EQ(t, set_memory_private(pa, 8), 0);
    KEXPECT(t, all_in_state(pa, 8, PAGE_PRIVATE));
    free_pages(pa, 8);
}

static void bad_ranges_refused(struct ktest *t)
{
    if (!need_cc(t))
        return;
    uint64_t pa = alloc_pages(FRAME_DMA32, 2);
    KASSERT(t, pa != FRAME_NONE);
    struct cc_stats s0 = cc_now();
    uint64_t ram_end = 0, hole = 0;
    size_t n;
    const struct mem_range *map = mm_boot_map(&n);
    for (size_t i = 0; i < n; i++) {
        bool ram = map[i].type == MEM_USABLE || map[i].type == MEM_BOOT_RECLAIM || map[i].type == MEM_LOADER;
        if (ram && memrange_end(&map[i]) > ram_end)
            ram_end = memrange_end(&map[i]);
        /* a page inside the first reserved range below 4 GiB (the EBDA under PVH) */
        if (!ram && hole == 0 && ALIGN_UP(map[i].base, PAGE_SIZE) + PAGE_SIZE <= memrange_end(&map[i]) &&
            map[i].base < GiB(4))
            hole = ALIGN_UP(map[i].base, PAGE_SIZE);
    }
    KASSERT(t, hole != 0);
    KEXPECT_EQ(t, set_memory_shared(pa + 1, 1), -EINVAL);              /* misaligned */
    KEXPECT_EQ(t, set_memory_shared(pa + PAGE_SIZE / 2, 1), -EINVAL);  /* mid-page */
    KEXPECT_EQ(t, set_memory_shared(pa, 0), -EINVAL);                  /* empty */
    KEXPECT_EQ(t, set_memory_private(0xfee00000, 1), -EINVAL);         /* the local APIC: not RAM */
    KEXPECT_EQ(t, set_memory_shared(hole, 1), -EINVAL);                /* reserved, not RAM */
    KEXPECT_EQ(t, set_memory_shared(ram_end - PAGE_SIZE, 2), -EINVAL); /* runs off the end of RAM */
    KEXPECT_EQ(t, set_memory_shared(ram_end, 1), -EINVAL);
    KEXPECT_EQ(t, set_memory_shared(pa, UINT64_MAX / PAGE_SIZE), -EINVAL); /* wraps */
    KEXPECT_EQ(t, set_memory_shared(0xfffffffffffff000ull, 1), -EINVAL);
    struct cc_stats s1 = cc_now();
    KEXPECT_EQ(t, s1.invalid - s0.invalid, 9);
    KEXPECT_EQ(t, s1.runs, s0.runs); /* nothing converted, nothing called */
    KEXPECT(t, all_in_state(pa, 2, PAGE_PRIVATE));
    free_pages(pa, 2);
}

static void every_mapping_shared(struct ktest *t)
{
    if (!need_cc(t))
        return;
    KEXPECT(t, dma_guest_force_bounce());
    struct dma_dev dev = {.name = "cc-test", .dma_mask = DMA_BIT_MASK(64)};
    const struct swiotlb_pool *pool = dma_installed_pool();
    uint64_t pa = alloc_pages(FRAME_DMA32, 1);
    KASSERT(t, pa != FRAME_NONE && pool != NULL);
    uint8_t *va = phys_to_virt(pa);
    memset(va, 0x5a, PAGE_SIZE);
    bool convert = dma_guest_convert();
    dma_guest_set_convert(false);
    struct dma_stats d0 = dma_now();
    static const enum dma_data_direction dirs[] = {DMA_TO_DEVICE, DMA_FROM_DEVICE, DMA_BIDIRECTIONAL};
    for (int i = 0; i < 3; i++) {
        /* Private memory, a 64-bit device: it reaches the buffer, and still it bounces. */
        dma_addr_t d = dma_map_single(&dev, va + 64, 1000, dirs[i]);
        KEXPECT(t, !dma_mapping_error(&dev, d) && swiotlb_contains(pool, d));
        KEXPECT_EQ(t, page_state_of(d), PAGE_SHARED);
        if (!dma_mapping_error(&dev, d))
            dma_unmap_single(&dev, d, 1000, dirs[i]);
    }
    KEXPECT_EQ(t, dma_now().bounced_maps - d0.bounced_maps, 3);
    /* Coherent memory (the virtqueues): shared while allocated, private again when freed. */
    dma_addr_t h;
    void *c = dma_alloc_coherent(&dev, 3 * PAGE_SIZE, &h);
    KASSERT(t, c != NULL);
    KEXPECT(t, all_in_state(h, 3, PAGE_SHARED));
    KEXPECT_EQ(t, ((uint8_t *)c)[0] | ((uint8_t *)c)[3 * PAGE_SIZE - 1], 0);
    dma_free_coherent(&dev, 3 * PAGE_SIZE, c, h);
    KEXPECT(t, all_in_state(h, 3, PAGE_PRIVATE));
    dma_guest_set_convert(convert);
    KEXPECT_EQ(t, dma_now().misuse, d0.misuse);
    free_pages(pa, 1);
}

/* The cc_io=convert path, switched on for the case whatever cc_io says. */
static void convert_path(struct ktest *t)
{
    if (!need_cc(t))
        return;
    bool convert = dma_guest_convert();
    enum bounce_policy policy = dma_bounce_policy();
    dma_guest_set_convert(true);
    KASSERT(t, dma_guest_convert());
    struct dma_dev dev = {.name = "cc-convert", .dma_mask = DMA_BIT_MASK(64)};
    uint64_t pa = alloc_pages(FRAME_DMA32, 2);
    KASSERT(t, pa != FRAME_NONE);
    uint8_t *va = phys_to_virt(pa);
    struct dma_stats d0 = dma_now();
    struct cc_stats c0 = cc_now();

    /* TO_DEVICE: the device must see the original, so it is kept across the conversion. */
    for (size_t i = 0; i < 2 * PAGE_SIZE; i++)
        va[i] = (uint8_t)(i * 7 + 1);
    dma_addr_t d = dma_map_single(&dev, va, 2 * PAGE_SIZE, DMA_TO_DEVICE);
    KEXPECT_EQ(t, d, pa); /* the buffer itself, no bounce */
    KEXPECT(t, all_in_state(pa, 2, PAGE_SHARED));
    bool intact = true;
    for (size_t i = 0; i < 2 * PAGE_SIZE; i++)
        intact &= va[i] == (uint8_t)(i * 7 + 1);
    KEXPECT_MSG(t, intact, "TO_DEVICE: the original did not survive the conversion to shared");
    dma_sync_single_for_device(&dev, d, 100, DMA_TO_DEVICE); /* nothing to copy, but a valid sync */
    dma_unmap_single(&dev, d, 2 * PAGE_SIZE, DMA_TO_DEVICE);
    KEXPECT(t, all_in_state(pa, 2, PAGE_PRIVATE));
    intact = true;
    for (size_t i = 0; i < 2 * PAGE_SIZE; i++)
        intact &= va[i] == (uint8_t)(i * 7 + 1);
    KEXPECT_MSG(t, intact, "TO_DEVICE: the original did not survive the conversion back");
    struct dma_stats d1 = dma_now();
    KEXPECT_EQ(t, d1.convert_maps - d0.convert_maps, 1);
    KEXPECT_EQ(t, d1.conversions - d0.conversions, 2);
    KEXPECT_EQ(t, d1.pages_converted - d0.pages_converted, 4);
    KEXPECT_EQ(t, d1.bounced_maps, d0.bounced_maps);
    KEXPECT_EQ(t, d1.syncs_for_device - d0.syncs_for_device, 1);

    /* FROM_DEVICE under zero: the original is never read; what the device did not write is 0. */
    dma_set_bounce_policy(BOUNCE_ZERO);
    memset(va, 0xee, PAGE_SIZE);
    d0 = dma_now();
    d = dma_map_single(&dev, va, PAGE_SIZE, DMA_FROM_DEVICE);
    KEXPECT_EQ(t, d, pa);
    KEXPECT_EQ(t, dma_now().orig_bytes_read, d0.orig_bytes_read);
    KEXPECT_EQ(t, va[0] | va[PAGE_SIZE - 1], 0);
    memset(phys_to_virt(d), 0x42, 1000); /* the device writes the first 1000 bytes */
    dma_unmap_single(&dev, d, PAGE_SIZE, DMA_FROM_DEVICE);
    KEXPECT(t, va[0] == 0x42 && va[999] == 0x42 && va[1000] == 0 && va[PAGE_SIZE - 1] == 0);
    KEXPECT_EQ(t, page_state_of(pa), PAGE_PRIVATE);

    /* FROM_DEVICE under copy: the original goes into shared memory (the copy policy's leak) and
     * the bytes the device does not write keep it. */
    dma_set_bounce_policy(BOUNCE_COPY);
    memset(va, 0xee, PAGE_SIZE);
    d0 = dma_now();
    d = dma_map_single(&dev, va, PAGE_SIZE, DMA_FROM_DEVICE);
    KEXPECT_EQ(t, dma_now().orig_bytes_read - d0.orig_bytes_read, PAGE_SIZE);
    KEXPECT_EQ(t, va[PAGE_SIZE - 1], 0xee);
    memset(phys_to_virt(d), 0x42, 1000);
    dma_unmap_single(&dev, d, PAGE_SIZE, DMA_FROM_DEVICE);
    KEXPECT(t, va[999] == 0x42 && va[1000] == 0xee);
    dma_set_bounce_policy(policy);

    /* What cannot be converted bounces: not whole pages; pages already shared (a second mapping). */
    d0 = dma_now();
    d = dma_map_single(&dev, va + 16, 512, DMA_TO_DEVICE);
    KEXPECT(t, !dma_mapping_error(&dev, d) && d != pa + 16);
    dma_unmap_single(&dev, d, 512, DMA_TO_DEVICE);
    dma_addr_t first = dma_map_single(&dev, va, PAGE_SIZE, DMA_BIDIRECTIONAL);
    dma_addr_t second = dma_map_single(&dev, va, PAGE_SIZE, DMA_BIDIRECTIONAL);
    KEXPECT_EQ(t, first, pa);
    KEXPECT(t, !dma_mapping_error(&dev, second) && second != pa);
    /* A sync of the wrong direction is misuse, as for any mapping. */
    uint64_t misuse0 = dma_now().misuse;
    dma_sync_single_for_cpu(&dev, first, 10, DMA_FROM_DEVICE);
    KEXPECT_EQ(t, dma_now().misuse, misuse0 + 1);
    dma_unmap_single(&dev, second, PAGE_SIZE, DMA_BIDIRECTIONAL);
    dma_unmap_single(&dev, first, PAGE_SIZE, DMA_BIDIRECTIONAL);
    d1 = dma_now();
    KEXPECT_EQ(t, d1.convert_fallbacks - d0.convert_fallbacks, 2);
    KEXPECT_EQ(t, d1.convert_maps - d0.convert_maps, 1);
    KEXPECT_EQ(t, d1.maps - d1.unmaps, d0.maps - d0.unmaps);
    KEXPECT(t, all_in_state(pa, 2, PAGE_PRIVATE));
    struct cc_stats c1 = cc_now();
    ktest_note(t, "%" PRIu64 " conversion runs (%" PRIu64 " hypercalls) for 4 converted mappings", (c1.runs - c0.runs),
               (c1.hypercalls - c0.hypercalls));
    dma_guest_set_convert(convert);
    free_pages(pa, 2);
}

/* The byte-by-byte search the VMM does at exit: the canary's prefix anywhere in shared RAM. */
static uint64_t find_prefix_in_shared(const uint8_t *master, uint64_t *where)
{
    size_t n;
    const struct mem_range *map = mm_boot_map(&n);
    uint64_t found = 0;
    for (size_t i = 0; i < n; i++) {
        if (map[i].type != MEM_USABLE && map[i].type != MEM_BOOT_RECLAIM && map[i].type != MEM_LOADER)
            continue;
        for (uint64_t pa = ALIGN_UP(map[i].base, PAGE_SIZE); pa + PAGE_SIZE <= memrange_end(&map[i]); pa += PAGE_SIZE) {
            uint64_t pte;
            int level;
            if (page_state_of(pa) != PAGE_SHARED || !mmu_lookup(pa, &pte, &level))
                continue; /* private, or not mapped (page 0, the stack guard page) */
            const uint8_t *p = phys_to_virt(pa), *end = p + PAGE_SIZE;
            while ((p = memchr(p, master[0], (size_t)(end - p))) != NULL) {
                size_t k = 1;
                while (k < CC_CANARY_PREFIX_BYTES && p + k < end && p[k] == master[k])
                    k++;
                if (k == CC_CANARY_PREFIX_BYTES) {
                    if (found++ == 0)
                        *where = virt_to_phys(p);
                }
                p++;
            }
        }
    }
    return found;
}

static void canary_in_private_memory_only(struct ktest *t)
{
    if (!need_cc(t))
        return;
    KASSERT(t, cc_canary_planted());
    const uint8_t *heap = cc_canary_heap();
    KEXPECT(t, cc_canary_at(heap));
    KEXPECT_EQ(t, page_state_of(virt_to_phys(heap)), PAGE_PRIVATE);
    KEXPECT(t, cc_canary_at(phys_to_virt(cc_canary_frame())));
    KEXPECT_EQ(t, page_state_of(cc_canary_frame()), PAGE_PRIVATE);
    /* A page-cache-like fresh page gets it too, and it is private. */
    uint64_t pa = alloc_pages(FRAME_PREFER_HIGH, 1);
    KASSERT(t, pa != FRAME_NONE);
    cc_canary_write(phys_to_virt(pa));
    KEXPECT(t, cc_canary_at(phys_to_virt(pa)));
    memset(phys_to_virt(pa), 0, CC_CANARY_BYTES);
    free_pages(pa, 1);
    /* The search works: a decoy of the same length in shared (coherent) memory is found. */
    struct dma_dev dev = {.name = "cc-decoy", .dma_mask = DMA_BIT_MASK(64)};
    dma_addr_t h;
    uint8_t *shared = dma_alloc_coherent(&dev, PAGE_SIZE, &h), *decoy = malloc(CC_CANARY_PREFIX_BYTES);
    KASSERT(t, shared != NULL && decoy != NULL);
    for (int i = 0; i < CC_CANARY_PREFIX_BYTES; i++)
        decoy[i] = shared[100 + i] = (uint8_t)(0x80 + i * 3);
    uint64_t at = 0;
    KEXPECT_EQ(t, find_prefix_in_shared(decoy, &at), 1);
    KEXPECT_EQ(t, at, h + 100);
    dma_free_coherent(&dev, PAGE_SIZE, shared, h);
    free(decoy);
    /* Nowhere in shared memory - unless the copy policy bounced a page-cache page (its leak). */
    uint64_t where = 0, found = find_prefix_in_shared(heap, &where);
    if (dma_bounce_policy() == BOUNCE_COPY) {
        ktest_note(t,
                   "bounce_policy=copy: the prefix is in shared memory %" PRIu64 " time(s) (the leak zero-fill closes)",
                   found);
    } else {
        KEXPECT_MSG(t, found == 0, "the canary's prefix is in shared memory %" PRIu64 " time(s), first at %#" PRIx64,
                    found, where);
        ktest_note(t, "the canary's prefix is nowhere in the %" PRIu64 " shared pages", cc_count_pages(PAGE_SHARED));
    }
}

static const struct ktest_case cases[] = {
    KTEST_CASE(hypercall_encoding), KTEST_CASE(kvm_detected_or_not),
    KTEST_CASE(state_at_boot),      KTEST_CASE(conversions_skip_and_coalesce),
    KTEST_CASE(bad_ranges_refused), KTEST_CASE(every_mapping_shared),
    KTEST_CASE(convert_path),       KTEST_CASE(canary_in_private_memory_only),
};

KTEST_SUITE(cc, "confidential mode: KVM, page states, conversions, shared-only DMA, the canary", cases);
