/* SPDX-License-Identifier: MIT */
/* pvh.c - turn the PVH start info into struct boot_info, then enter the kernel.
 *
 * struct hvm_start_info and its memory map are defined by Xen's public header
 * xen/include/public/arch-x86/hvm/start_info.h (version 1 adds the memory map); the map's types
 * are E820 types (ACPI 6.5, table 15.1). Everything is copied out before kmain(), because the
 * start info lives in low memory the kernel does not keep.
 */
#include <stdio.h>
#include <string.h>

#include "kernel/acpi_rsdp.h"
#include "kernel/boot/pvh_check.h"
#include "kernel/boot_info.h"
#include "kernel/console.h"
#include "kernel/cpu.h"

#define HVM_START_MAGIC 0x336ec578u

struct hvm_start_info {
    uint32_t magic, version, flags, nr_modules;
    uint64_t modlist_paddr, cmdline_paddr, rsdp_paddr;
    uint64_t memmap_paddr; /* version >= 1 */
    uint32_t memmap_entries, reserved;
};

struct hvm_memmap_table_entry {
    uint64_t addr, size;
    uint32_t type, reserved;
};

extern char __image_start[], __image_end[], _text[], _etext[], __rodata_start[], __rodata_end[];

static struct boot_info bi;
static char loader_name[64];

static uint32_t e820_to_mem_type(uint32_t t)
{
    switch (t) {
    case 1: return MEM_USABLE;
    case 3: return MEM_ACPI_RECLAIM;
    case 4: return MEM_ACPI_NVS;
    case 5: return MEM_UNUSABLE;
    case 7: return MEM_PERSISTENT;
    default: return MEM_RESERVED;
    }
}

static _Noreturn void die(const char *msg)
{
    printf("bounce: PVH boot failed: %s\n", msg);
    outl(0xf4, 63); /* EXIT_PANIC through isa-debug-exit */
    halt_forever();
}

_Noreturn void pvh_main(uint32_t start_info_pa);
_Noreturn void pvh_main(uint32_t start_info_pa)
{
    serial_init();
    const struct hvm_start_info *si = (const struct hvm_start_info *)(uintptr_t)start_info_pa;
    if (si->magic != HVM_START_MAGIC)
        die("bad hvm_start_info magic (not started by a PVH loader?)");
    if (si->version < 1 || si->memmap_paddr == 0 || si->memmap_entries == 0)
        die("hvm_start_info has no memory map (version 0 loader)");
    if (si->memmap_entries > BOOT_MEM_MAX)
        die("hvm_start_info memory map has too many entries");

    /* The map is read through the entry code's tables: below 4 GiB, or nothing is there. */
    uint64_t table_bytes = (uint64_t)si->memmap_entries * sizeof(struct hvm_memmap_table_entry);
    if (si->memmap_paddr > PVH_MAPPED_LIMIT || table_bytes > PVH_MAPPED_LIMIT - si->memmap_paddr)
        die("hvm_start_info's memory map lies beyond the first 4 GiB");

    bi.method = BOOT_PVH;
    snprintf(loader_name, sizeof(loader_name), "PVH (hvm_start_info v%u)", si->version);
    bi.loader = loader_name;
    const struct hvm_memmap_table_entry *e = (const void *)(uintptr_t)si->memmap_paddr;
    for (uint32_t i = 0; i < si->memmap_entries; i++)
        bi.mem[bi.nmem++] = (struct mem_range){e[i].addr, e[i].size, e820_to_mem_type(e[i].type)};
    /* The other addresses must lie in what the map describes: a loader (or a VMM) that points
     * them elsewhere would have the kernel read device registers or nothing at all. */
    if (si->cmdline_paddr) {
        uint64_t room = pvh_bytes_at(bi.mem, bi.nmem, si->cmdline_paddr); /* read no further than that */
        if (room == 0)
            die("hvm_start_info's command line lies outside the memory map (or beyond 4 GiB)");
        strncpy(bi.cmdline, (const char *)(uintptr_t)si->cmdline_paddr,
                room < sizeof(bi.cmdline) - 1 ? room : sizeof(bi.cmdline) - 1);
        bi.cmdline_source = "PVH start info";
    } else {
        bi.cmdline_source = "none";
    }
    if (si->rsdp_paddr && pvh_bytes_at(bi.mem, bi.nmem, si->rsdp_paddr) < ACPI_RSDP_V1_BYTES)
        die("hvm_start_info's RSDP address lies outside the memory map (or beyond 4 GiB)");
    bi.rsdp = si->rsdp_paddr ? si->rsdp_paddr : acpi_find_rsdp_legacy();

    bi.image_start = (uint64_t)(uintptr_t)__image_start;
    bi.image_end = (uint64_t)(uintptr_t)__image_end;
    bi.text_start = (uint64_t)(uintptr_t)_text;
    bi.text_end = (uint64_t)(uintptr_t)_etext;
    bi.rodata_start = (uint64_t)(uintptr_t)__rodata_start;
    bi.rodata_end = (uint64_t)(uintptr_t)__rodata_end;
    kmain_on_boot_stack(&bi);
}
