/* SPDX-License-Identifier: MIT */
/* mmu.c - the kernel's page tables: build them from the memory map and switch to them.
 *
 * Layout (identity, virtual == physical):
 *  - page 0 unmapped, so a NULL dereference faults;
 *  - low memory below 640 KiB RAM; the legacy VGA window 0xa0000-0xbffff uncached; the option ROM
 *    and BIOS area 0xc0000-0xfffff read-only (the PVH RSDP is there);
 *  - every RAM range of the memory map write-back, read-write, no-execute, with 2 MiB pages where
 *    aligned; ranges the firmware calls MMIO uncached;
 *  - the kernel image: text read-only and executable, rodata read-only, the rest no-execute;
 *  - the page below the boot stack unmapped (the guard page).
 * Page tables come from a pool inside the kernel image, then from ZONE_DMA32 (while they are
 * built, the PVH boot tables map only 4 GiB). The pool is there for confidential guests: the image
 * lies in the boot-shared region, and KVM must read the guest's page tables through the host's
 * shared mapping whenever it emulates an instruction (an MMIO access, or MOV CR0 under nested SVM
 * without decode assists) - private page tables would read as zeros there. A confidential guest
 * that outgrows the pool shares each further table page before writing it.
 */
#include <inttypes.h>
#include <stdio.h>

#include "kernel/cpu.h"
#include "kernel/panic.h"
#include "kernel/smp_call.h"
#include "mm/mem_encrypt.h"
#include "mm/mm.h"

extern char boot_stack_guard[];

static struct pt_ctx kpt;

#define TABLE_POOL_PAGES 64 /* a 6 GiB map with 2 MiB pages takes ~20 */

static uint64_t table_pool[TABLE_POOL_PAGES][512] __attribute__((aligned(PAGE_SIZE)));
static unsigned table_pool_used;

static uint64_t alloc_table(void *arg)
{
    (void)arg;
    uint64_t pa;
    if (table_pool_used < TABLE_POOL_PAGES) {
        pa = virt_to_phys(table_pool[table_pool_used++]);
    } else {
        pa = alloc_pages(FRAME_DMA32, 1);
        if (pa == FRAME_NONE)
            return 0;
        if (cc_guest_private_memory() && set_memory_shared(pa, 1) != 0)
            panic("mmu: cannot share a page-table page in a confidential guest");
    }
    uint64_t *t = phys_to_virt(pa);
    for (int i = 0; i < 512; i++)
        t[i] = 0;
    return pa;
}

static void *identity(uint64_t pa) { return phys_to_virt(pa); }

static bool is_ram(uint32_t type)
{
    return type == MEM_USABLE || type == MEM_BOOT_RECLAIM || type == MEM_ACPI_RECLAIM || type == MEM_ACPI_NVS ||
        type == MEM_LOADER || type == MEM_PERSISTENT;
}

static void map_or_panic(uint64_t va, uint64_t pa, uint64_t size, unsigned flags, const char *what)
{
    if (pt_map(&kpt, va, pa, size, flags) != 0)
        panic("mmu: cannot map %s [%#" PRIx64 ", +%#" PRIx64 "): out of page-table memory", what, va, size);
}

static void flush_range(uint64_t va, uint64_t size)
{
    if (size > 64 * PAGE_SIZE) {
        write_cr3(read_cr3());
        return;
    }
    for (uint64_t a = ALIGN_DOWN(va, PAGE_SIZE); a < va + size; a += PAGE_SIZE)
        invlpg((uintptr_t)a);
}

void mmu_init(const struct boot_info *bi, const struct mem_range *map, size_t n)
{
    kpt.alloc_table = alloc_table;
    kpt.phys_to_virt = identity;
    kpt.root = alloc_table(NULL);
    if (kpt.root == 0)
        panic("mmu: no memory for the PML4");

    map_or_panic(PAGE_SIZE, PAGE_SIZE, 0xa0000 - PAGE_SIZE, PT_WRITE, "low memory");
    map_or_panic(0xa0000, 0xa0000, 0x20000, PT_WRITE | PT_CACHE(CACHE_UC), "VGA window");
    map_or_panic(0xc0000, 0xc0000, 0x40000, 0, "BIOS area");
    for (size_t i = 0; i < n; i++) {
        const struct mem_range *r = &map[i];
        uint64_t b = ALIGN_DOWN(r->base, PAGE_SIZE), e = ALIGN_UP(memrange_end(r), PAGE_SIZE);
        if (b < MiB(1))
            b = MiB(1); /* the first MiB is laid out above */
        if (b >= e)
            continue;
        if (is_ram(r->type))
            map_or_panic(b, b, e - b, PT_WRITE, "RAM");
        else if (r->type == MEM_MMIO)
            map_or_panic(b, b, e - b, PT_WRITE | PT_CACHE(CACHE_UC), "firmware MMIO");
    }
    /* The kernel image: W^X where the layout separates the parts. */
    uint64_t ts = ALIGN_DOWN(bi->text_start, PAGE_SIZE), te = ALIGN_UP(bi->text_end, PAGE_SIZE);
    map_or_panic(ALIGN_DOWN(bi->image_start, PAGE_SIZE), ALIGN_DOWN(bi->image_start, PAGE_SIZE),
                 ALIGN_UP(bi->image_end, PAGE_SIZE) - ALIGN_DOWN(bi->image_start, PAGE_SIZE), PT_WRITE, "kernel image");
    map_or_panic(ts, ts, te - ts, PT_EXEC, "kernel text");
    if (bi->rodata_end > bi->rodata_start) {
        uint64_t rs = ALIGN_UP(bi->rodata_start, PAGE_SIZE), re = ALIGN_DOWN(bi->rodata_end, PAGE_SIZE);
        if (rs < re)
            map_or_panic(rs, rs, re - rs, 0, "kernel rodata");
    }
    if (pt_unmap(&kpt, (uint64_t)(uintptr_t)boot_stack_guard, PAGE_SIZE) != 0)
        panic("mmu: cannot unmap the stack guard page");

    /* NX must be on before any entry with bit 63 is live, or that bit is reserved (#PF with RSVD).
     * Same for the PAT layout the cache bits assume. */
    wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_NXE);
    wrmsr(MSR_PAT, PAT_LINUX_LAYOUT);
    write_cr3(kpt.root);
    write_cr0(read_cr0() | CR0_WP); /* the kernel honours read-only pages too */
    printf("mmu: page tables live, %" PRIu64 " table pages, PAT %#" PRIx64 "\n", kpt.tables_allocated + 1,
           rdmsr(MSR_PAT));
}

/* A changed range: flushed here, and on every other CPU that may cache it (kernel/smp_call.h). */
static void flush_everywhere(uint64_t va, uint64_t size)
{
    flush_range(va, size);
    if (!tlb_shootdown(va, size))
        printf("mmu: a CPU did not confirm the TLB shootdown of [%#" PRIx64 ", +%#" PRIx64 ")\n", va, size);
}

int mmu_map(uint64_t va, uint64_t pa, uint64_t size, unsigned flags)
{
    int rc = pt_map(&kpt, va, pa, size, flags);
    flush_everywhere(va, size);
    return rc;
}

int mmu_map_this_cpu_only(uint64_t va, uint64_t pa, uint64_t size, unsigned flags)
{
    int rc = pt_map(&kpt, va, pa, size, flags);
    flush_range(va, size);
    return rc;
}

int mmu_unmap(uint64_t va, uint64_t size)
{
    int rc = pt_unmap(&kpt, va, size);
    flush_everywhere(va, size);
    return rc;
}

bool mmu_lookup(uint64_t va, uint64_t *pte, int *level) { return pt_lookup(&kpt, va, pte, level); }

uint64_t mmu_tables_allocated(void) { return kpt.tables_allocated + 1; }

void *mmio_map(uint64_t phys, uint64_t size)
{
    uint64_t b = ALIGN_DOWN(phys, PAGE_SIZE), e = ALIGN_UP(phys + size, PAGE_SIZE);
    if (mmu_map(b, b, e - b, PT_WRITE | PT_CACHE(CACHE_UC)) != 0)
        panic("mmu: cannot map MMIO [%#" PRIx64 ", +%#" PRIx64 ")", phys, size);
    return phys_to_virt(phys);
}

const void *firmware_map(uint64_t phys, uint64_t size)
{
    uint64_t b = ALIGN_DOWN(phys, PAGE_SIZE), e = ALIGN_UP(phys + size, PAGE_SIZE);
    for (uint64_t a = b; a < e; a += PAGE_SIZE) {
        uint64_t pte;
        int level;
        if (!mmu_lookup(a, &pte, &level) && mmu_map(a, a, PAGE_SIZE, PT_CACHE(CACHE_WB)) != 0)
            panic("mmu: cannot map firmware table at %#" PRIx64, a);
    }
    return phys_to_virt(phys);
}
