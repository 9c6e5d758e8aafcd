/* SPDX-License-Identifier: MIT */
/* pvh.h - loading bounce.elf for PVH direct boot (docs/confidential.md "Boot (PVH)"). Pure.
 *
 * The ELF file is untrusted input too: headers, program headers and notes are bounds-checked.
 * PT_LOAD segments are placed at their physical addresses (p_paddr), must lie inside RAM above
 * the boot structures, and the entry is the XEN_ELFNOTE_PHYS32_ENTRY (18) note of a PT_NOTE
 * segment. S (the boot-shared region's end) is the end of the highest segment rounded up to 2 MiB.
 */
#ifndef BOUNCE_VMM_PVH_H
#define BOUNCE_VMM_PVH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PVH_MAX_SEGMENTS 16
#define XEN_ELFNOTE_PHYS32_ENTRY 18
#define HVM_START_MAGIC 0x336ec578u

struct pvh_segment {
    uint64_t paddr, filesz, memsz, offset;
};

struct pvh_image {
    const uint8_t *file;
    size_t file_size;
    uint64_t entry;       /* 32-bit entry point */
    uint64_t image_end;   /* end of the highest PT_LOAD segment */
    uint64_t boot_shared; /* S = image_end rounded up to 2 MiB */
    unsigned nseg;
    struct pvh_segment seg[PVH_MAX_SEGMENTS];
};

/* Parse and check the ELF image (kept by reference: `file` must outlive img). Returns 0, or -1
 * with a reason in err. */
int pvh_parse(struct pvh_image *img, const uint8_t *file, size_t size, char *err, size_t errlen);

/* Copy the segments into guest RAM (host view ram[0, ram_size)), zero their BSS, and write the
 * hvm_start_info (v1), the memory map and the command line. Returns 0, or -1 with a reason. */
int pvh_load(const struct pvh_image *img, uint8_t *ram, uint64_t ram_size, const char *cmdline, char *err,
             size_t errlen);

/* True if the loaded image itself holds these n bytes at gpa (the file part of a segment). */
bool pvh_image_has_bytes(const struct pvh_image *img, uint64_t gpa, const void *bytes, size_t n);

#endif
