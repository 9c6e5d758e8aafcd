/* SPDX-License-Identifier: MIT */
/* pvh.c - the PVH loader: ELF64 segments, the Xen PHYS32 entry note, hvm_start_info (see pvh.h).
 *
 * struct hvm_start_info and struct hvm_memmap_table_entry as in Xen's public header
 * xen/include/public/arch-x86/hvm/start_info.h (version 1 adds the memory map); the memory map
 * types are E820 types (1 usable, 2 reserved). kernel/boot/pvh.c reads them on the guest side.
 */
#include "tools/vmm/pvh.h"

#include <elf.h>
#include <stdio.h>
#include <string.h>

#include "tools/vmm/layout.h"

struct hvm_start_info {
    uint32_t magic, version, flags, nr_modules;
    uint64_t modlist_paddr, cmdline_paddr, rsdp_paddr;
    uint64_t memmap_paddr;
    uint32_t memmap_entries, reserved;
};
_Static_assert(sizeof(struct hvm_start_info) == 56, "hvm_start_info v1 is 56 bytes");

struct hvm_memmap_table_entry {
    uint64_t addr, size;
    uint32_t type, reserved;
};
_Static_assert(sizeof(struct hvm_memmap_table_entry) == 24, "hvm_memmap_table_entry is 24 bytes");

#define E820_RAM 1
#define E820_RESERVED 2

static int fail(char *err, size_t errlen, const char *msg)
{
    snprintf(err, errlen, "%s", msg);
    return -1;
}

static bool in_file(size_t size, uint64_t off, uint64_t len) { return off <= size && len <= size - off; }

/* Look for the PHYS32 entry note in [off, off + len) of the file. */
static bool find_entry_note(const uint8_t *file, uint64_t off, uint64_t len, uint64_t *entry)
{
    uint64_t p = off, end = off + len;
    while (end - p >= sizeof(Elf64_Nhdr)) {
        Elf64_Nhdr nh;
        memcpy(&nh, file + p, sizeof(nh));
        uint64_t name_off = p + sizeof(nh);
        uint64_t desc_off = name_off + ((nh.n_namesz + 3ull) & ~3ull);
        uint64_t next = desc_off + ((nh.n_descsz + 3ull) & ~3ull);
        if (desc_off > end || next > end)
            return false;
        if (nh.n_type == XEN_ELFNOTE_PHYS32_ENTRY && nh.n_namesz == 4 && memcmp(file + name_off, "Xen", 4) == 0) {
            if (nh.n_descsz == 4) {
                uint32_t e;
                memcpy(&e, file + desc_off, 4);
                *entry = e;
                return true;
            }
            if (nh.n_descsz == 8) {
                memcpy(entry, file + desc_off, 8);
                return true;
            }
        }
        p = next;
    }
    return false;
}

int pvh_parse(struct pvh_image *img, const uint8_t *file, size_t size, char *err, size_t errlen)
{
    memset(img, 0, sizeof(*img));
    img->file = file;
    img->file_size = size;
    Elf64_Ehdr eh;
    if (size < sizeof(eh))
        return fail(err, errlen, "too short for an ELF header");
    memcpy(&eh, file, sizeof(eh));
    if (memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0)
        return fail(err, errlen, "not an ELF file");
    if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB || eh.e_machine != EM_X86_64)
        return fail(err, errlen, "not a little-endian x86-64 ELF64 file");
    if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0 ||
        !in_file(size, eh.e_phoff, (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr)))
        return fail(err, errlen, "bad program header table");
    bool have_entry = false;
    for (unsigned i = 0; i < eh.e_phnum; i++) {
        Elf64_Phdr ph;
        memcpy(&ph, file + eh.e_phoff + (uint64_t)i * sizeof(ph), sizeof(ph));
        if (ph.p_type == PT_NOTE) {
            if (!in_file(size, ph.p_offset, ph.p_filesz))
                return fail(err, errlen, "PT_NOTE segment outside the file");
            have_entry = have_entry || find_entry_note(file, ph.p_offset, ph.p_filesz, &img->entry);
        }
        if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
            continue;
        if (img->nseg == PVH_MAX_SEGMENTS)
            return fail(err, errlen, "too many PT_LOAD segments");
        if (ph.p_filesz > ph.p_memsz || !in_file(size, ph.p_offset, ph.p_filesz))
            return fail(err, errlen, "PT_LOAD segment outside the file or file size above memory size");
        if (ph.p_paddr < PVH_BOOT_AREA_END || ph.p_paddr > RAM_MAX || ph.p_memsz > RAM_MAX - ph.p_paddr)
            return fail(err, errlen, "PT_LOAD segment overlaps the boot structures or lies above 3 GiB");
        img->seg[img->nseg++] = (struct pvh_segment){ph.p_paddr, ph.p_filesz, ph.p_memsz, ph.p_offset};
        if (ph.p_paddr + ph.p_memsz > img->image_end)
            img->image_end = ph.p_paddr + ph.p_memsz;
    }
    if (img->nseg == 0)
        return fail(err, errlen, "no PT_LOAD segment");
    if (!have_entry)
        return fail(err, errlen, "no XEN_ELFNOTE_PHYS32_ENTRY note (not a PVH kernel)");
    bool entry_in_image = false;
    for (unsigned i = 0; i < img->nseg; i++)
        entry_in_image |= img->entry >= img->seg[i].paddr && img->entry - img->seg[i].paddr < img->seg[i].filesz;
    if (!entry_in_image)
        return fail(err, errlen, "the PVH entry point is not inside a loaded segment");
    img->boot_shared = (img->image_end + BOOT_SHARED_ALIGN - 1) & ~(BOOT_SHARED_ALIGN - 1);
    return 0;
}

int pvh_load(const struct pvh_image *img, uint8_t *ram, uint64_t ram_size, const char *cmdline, char *err,
             size_t errlen)
{
    if (img->boot_shared >= ram_size)
        return fail(err, errlen, "the image does not fit in RAM (S must be below the end of RAM)");
    size_t cl = strlen(cmdline);
    if (cl >= PVH_CMDLINE_MAX)
        return fail(err, errlen, "command line longer than 4095 bytes");
    for (unsigned i = 0; i < img->nseg; i++) {
        const struct pvh_segment *s = &img->seg[i];
        memcpy(ram + s->paddr, img->file + s->offset, s->filesz);
        memset(ram + s->paddr + s->filesz, 0, s->memsz - s->filesz);
    }
    struct hvm_memmap_table_entry map[3] = {
        {0, LOW_RAM_END, E820_RAM, 0},
        {LOW_RAM_END, HIGH_RAM_START - LOW_RAM_END, E820_RESERVED, 0},
        {HIGH_RAM_START, ram_size - HIGH_RAM_START, E820_RAM, 0},
    };
    struct hvm_start_info si = {.magic = HVM_START_MAGIC,
                                .version = 1,
                                .flags = 0,
                                .nr_modules = 0,
                                .modlist_paddr = 0,
                                .cmdline_paddr = PVH_CMDLINE_GPA,
                                .rsdp_paddr = 0, /* no ACPI */
                                .memmap_paddr = PVH_MEMMAP_GPA,
                                .memmap_entries = 3,
                                .reserved = 0};
    memset(ram + PVH_START_INFO_GPA, 0, PVH_BOOT_AREA_END - PVH_START_INFO_GPA);
    memcpy(ram + PVH_START_INFO_GPA, &si, sizeof(si));
    memcpy(ram + PVH_MEMMAP_GPA, map, sizeof(map));
    memcpy(ram + PVH_CMDLINE_GPA, cmdline, cl + 1);
    return 0;
}

bool pvh_image_has_bytes(const struct pvh_image *img, uint64_t gpa, const void *bytes, size_t n)
{
    for (unsigned i = 0; i < img->nseg; i++) {
        const struct pvh_segment *s = &img->seg[i];
        if (gpa >= s->paddr && gpa - s->paddr <= s->filesz && n <= s->filesz - (gpa - s->paddr))
            return memcmp(img->file + s->offset + (gpa - s->paddr), bytes, n) == 0;
    }
    return false;
}
