/* SPDX-License-Identifier: MIT */
/* suite_paging.c - the kernel's page tables: what is mapped, with which rights and memory type. */
#include <inttypes.h>
#include <string.h>

#include "kernel/cpu.h"
#include "kernel/panic.h"
#include "kernel/traps.h"
#include "mm/mm.h"
#include "ktest/ktest.h"

#define IOAPIC_BASE 0xfec00000ull /* QEMU's I/O APIC on both pc and q35 */
#define UNMAPPED_VA 0x00007f0000000000ull

extern char boot_stack_guard[];
static const char rodata_probe[] = "read-only";
static uint8_t data_probe[64] __attribute__((aligned(16)));

static void control_registers(struct ktest *t)
{
    KEXPECT(t, read_cr0() & CR0_WP);
    KEXPECT(t, rdmsr(MSR_EFER) & EFER_NXE);
    KEXPECT_EQ(t, rdmsr(MSR_PAT), PAT_LINUX_LAYOUT);
}

static void read_at(void *p) { (void)*(volatile uint8_t *)p; }
static void write_at(void *p) { *(volatile uint8_t *)p = 0xcc; }
static void call_at(void *p) { ((void (*)(void))p)(); }

static void null_page_unmapped(struct ktest *t)
{
    uint64_t pte;
    int level;
    struct trap_catch c;
    KEXPECT(t, !mmu_lookup(0, &pte, &level));
    KEXPECT(t, trap_run(read_at, NULL, &c));
    KEXPECT_EQ(t, c.vector, VEC_PF);
    KEXPECT_EQ(t, c.cr2, 0);
    KEXPECT_EQ(t, c.error_code & PF_PRESENT, 0);
}

static void text_read_only_executable(struct ktest *t)
{
    uint64_t pte;
    int level;
    struct trap_catch c;
    void *text = (void *)(uintptr_t)trap_name;
    KASSERT(t, mmu_lookup((uint64_t)(uintptr_t)text, &pte, &level));
    KEXPECT(t, !(pte & PTE_W));
    KEXPECT(t, !(pte & PTE_NX));
    KEXPECT(t, trap_run(write_at, text, &c));
    KEXPECT_EQ(t, c.vector, VEC_PF);
    KEXPECT_EQ(t, c.error_code & (PF_PRESENT | PF_WRITE), PF_PRESENT | PF_WRITE);
    KEXPECT_EQ(t, c.cr2, (uint64_t)(uintptr_t)text);
}

static void rodata_read_only(struct ktest *t)
{
    const struct boot_info *bi = ktest_boot_info();
    uint64_t pte;
    int level;
    if (bi->rodata_end <= bi->rodata_start) {
        ktest_skip(t, "this image layout keeps read-only data inside .data (GNU-EFI)");
        return;
    }
    KASSERT(t, mmu_lookup((uint64_t)(uintptr_t)rodata_probe, &pte, &level));
    KEXPECT(t, !(pte & PTE_W));
    KEXPECT(t, pte & PTE_NX);
}

static void data_not_executable(struct ktest *t)
{
    uint64_t pte;
    int level;
    struct trap_catch c;
    KASSERT(t, mmu_lookup((uint64_t)(uintptr_t)data_probe, &pte, &level));
    KEXPECT(t, pte & PTE_W);
    KEXPECT(t, pte & PTE_NX);
    data_probe[0] = 0xc3; /* ret */
    KEXPECT(t, trap_run(call_at, data_probe, &c));
    KEXPECT_EQ(t, c.vector, VEC_PF);
    KEXPECT_EQ(t, c.error_code & PF_FETCH, PF_FETCH);
    KEXPECT_EQ(t, c.rip, (uint64_t)(uintptr_t)data_probe);
}

/* Every RAM range is mapped read-write, no-execute, write-back; big aligned stretches with 2 MiB pages. */
static void ram_identity_mapped(struct ktest *t)
{
    size_t n;
    const struct mem_range *m = mm_boot_map(&n);
    const struct boot_info *bi = ktest_boot_info();
    unsigned huge = 0, high_huge = 0;
    for (size_t i = 0; i < n; i++) {
        if (m[i].type != MEM_USABLE || memrange_end(&m[i]) <= MiB(1))
            continue;
        uint64_t first = ALIGN_UP(m[i].base > MiB(1) ? m[i].base : MiB(1), PAGE_SIZE);
        uint64_t last = ALIGN_DOWN(memrange_end(&m[i]) - 1, PAGE_SIZE);
        uint64_t probes[2] = {first, last};
        for (int k = 0; k < 2; k++) {
            uint64_t pte;
            int level;
            if (probes[k] >= ALIGN_DOWN(bi->image_start, PAGE_SIZE) && probes[k] < bi->image_end)
                continue;
            KEXPECT_MSG(t, mmu_lookup(probes[k], &pte, &level), "RAM page %#" PRIx64 " unmapped", probes[k]);
            KEXPECT_MSG(t, (pte & PTE_W) && (pte & PTE_NX) && pt_cache_mode(pte, level) == CACHE_WB,
                        "RAM page %#" PRIx64 " has pte %#" PRIx64, probes[k], pte);
        }
        for (uint64_t a = ALIGN_UP(m[i].base, HUGE_PAGE_SIZE); a + HUGE_PAGE_SIZE <= memrange_end(&m[i]);
             a += HUGE_PAGE_SIZE * 64) {
            uint64_t pte;
            int level;
            if (a + HUGE_PAGE_SIZE > bi->image_start && a < bi->image_end)
                continue;
            if (mmu_lookup(a, &pte, &level) && level == 2) {
                huge++;
                high_huge += a >= GiB(4);
            } else {
                KEXPECT_MSG(t, false, "aligned RAM at %#" PRIx64 " is not a 2 MiB page", a);
            }
        }
    }
    KEXPECT(t, huge > 0);
    if (mm_frames()->zones[ZONE_HIGH].managed)
        KEXPECT(t, high_huge > 0);
    ktest_note(t, "sampled %u 2 MiB mappings (%u above 4 GiB)", huge, high_huge);
}

static void mmio_uncached(struct ktest *t)
{
    volatile uint32_t *ioapic = mmio_map(IOAPIC_BASE, PAGE_SIZE);
    uint64_t pte;
    int level;
    KASSERT(t, mmu_lookup(IOAPIC_BASE, &pte, &level));
    KEXPECT_EQ(t, pt_cache_mode(pte, level), CACHE_UC);
    KEXPECT(t, (pte & (PTE_PCD | PTE_PWT)) == (PTE_PCD | PTE_PWT));
    KEXPECT(t, pte & PTE_NX);
    /* The IOAPIC version register (IOREGSEL = 1, read IOWIN at +0x10): a live device answers. */
    ioapic[0] = 1;
    uint32_t version = ioapic[4];
    KEXPECT_MSG(t, (version & 0xff) >= 0x11 && ((version >> 16) & 0xff) >= 23, "IOAPIC version register %#x", version);
    ktest_note(t, "IOAPIC version %#x through a UC mapping", version);
}

static void stack_guard_page(struct ktest *t)
{
    uint64_t pte;
    int level;
    struct trap_catch c;
    KEXPECT(t, !mmu_lookup((uint64_t)(uintptr_t)boot_stack_guard, &pte, &level));
    KEXPECT(t, trap_run(read_at, boot_stack_guard + 100, &c));
    KEXPECT_EQ(t, c.vector, VEC_PF);
    KEXPECT_EQ(t, c.cr2, (uint64_t)(uintptr_t)(boot_stack_guard + 100));
}

static void unmap_and_remap(struct ktest *t)
{
    struct trap_catch c;
    uint64_t pa = alloc_pages(FRAME_DMA32, 1);
    KASSERT(t, pa != FRAME_NONE);
    memset(phys_to_virt(pa), 0xab, PAGE_SIZE);
    KEXPECT_EQ(t, mmu_unmap(pa, PAGE_SIZE), 0);
    KEXPECT(t, trap_run(read_at, phys_to_virt(pa), &c));
    KEXPECT_EQ(t, c.cr2, pa);
    KEXPECT_EQ(t, mmu_map(pa, pa, PAGE_SIZE, PT_WRITE), 0);
    KEXPECT(t, !trap_run(read_at, phys_to_virt(pa), &c));
    KEXPECT_EQ(t, *(uint8_t *)phys_to_virt(pa + 77), 0xab);
    KEXPECT(t, free_pages(pa, 1));
}

static const struct ktest_case cases[] = {
    KTEST_CASE(control_registers), KTEST_CASE(null_page_unmapped),  KTEST_CASE(text_read_only_executable),
    KTEST_CASE(rodata_read_only),  KTEST_CASE(data_not_executable), KTEST_CASE(ram_identity_mapped),
    KTEST_CASE(mmio_uncached),     KTEST_CASE(stack_guard_page),    KTEST_CASE(unmap_and_remap),
};
KTEST_SUITE(paging, "page tables, permissions and memory types", cases);
