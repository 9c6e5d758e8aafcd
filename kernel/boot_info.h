/* SPDX-License-Identifier: MIT */
/* boot_info.h - what a boot path hands to kmain(), in one shape for UEFI and PVH.
 *
 * Everything here is copied into the kernel's own storage before kmain() runs, so nothing points
 * into firmware or loader memory that the frame allocator may later hand out.
 */
#ifndef BOUNCE_KERNEL_BOOT_INFO_H
#define BOUNCE_KERNEL_BOOT_INFO_H

#include <stdint.h>

#include "lib/memrange.h"

#define BOOT_MEM_MAX 256
#define BOOT_CMDLINE_MAX 1024

enum boot_method { BOOT_UEFI = 1, BOOT_PVH = 2 };

struct boot_info {
    enum boot_method method;
    const char *loader;         /* "OVMF <vendor> rev ..." or "PVH (hvm_start_info v1)" */
    const char *cmdline_source; /* where the command line came from: LoadOptions, cmdline.txt, pvh, none */
    char cmdline[BOOT_CMDLINE_MAX];
    uint64_t rsdp; /* physical address of the ACPI RSDP, 0 if none was found */
    struct mem_range mem[BOOT_MEM_MAX];
    uint32_t nmem;
    /* The loaded kernel image and its parts, physical = virtual (identity mapped). */
    uint64_t image_start, image_end;
    uint64_t text_start, text_end;     /* mapped read-only and executable */
    uint64_t rodata_start, rodata_end; /* read-only, no-execute (empty if the layout mixes it with data) */
};

/* The common entry both boot paths call, on the kernel's own stack, with interrupts off. */
_Noreturn void kmain(struct boot_info *bi);

/* Switch to the kernel's boot stack and call kmain(bi) there (kernel/entry.S). */
_Noreturn void kmain_on_boot_stack(struct boot_info *bi);

#endif
