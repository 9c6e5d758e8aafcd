/* SPDX-License-Identifier: MIT */
/* efi_memmap.c - the UEFI memory map as bounce's ranges (see efi_memmap.h). */
#include "kernel/boot/efi_memmap.h"

#include <string.h>

/* UEFI 2.10 7.2, EFI_MEMORY_DESCRIPTOR: offsets of the fields used. */
#define DESC_TYPE 0
#define DESC_PHYSICAL_START 8
#define DESC_NUMBER_OF_PAGES 24
#define EFI_PAGE_BYTES 4096ull /* 7.2: NumberOfPages counts 4 KiB pages on every architecture */

/* EFI_MEMORY_TYPE (7.2, Table 7.10) */
enum {
    EFI_LOADER_CODE = 1,
    EFI_LOADER_DATA = 2,
    EFI_BOOT_SERVICES_CODE = 3,
    EFI_BOOT_SERVICES_DATA = 4,
    EFI_CONVENTIONAL_MEMORY = 7,
    EFI_UNUSABLE_MEMORY = 8,
    EFI_ACPI_RECLAIM_MEMORY = 9,
    EFI_ACPI_MEMORY_NVS = 10,
    EFI_MEMORY_MAPPED_IO = 11,
    EFI_MEMORY_MAPPED_IO_PORT_SPACE = 12,
    EFI_PERSISTENT_MEMORY = 14,
};

static uint32_t mem_type_of(uint32_t efi_type)
{
    switch (efi_type) {
    case EFI_CONVENTIONAL_MEMORY: return MEM_USABLE;
    case EFI_BOOT_SERVICES_CODE:
    case EFI_BOOT_SERVICES_DATA: return MEM_BOOT_RECLAIM;
    case EFI_LOADER_CODE:
    case EFI_LOADER_DATA: return MEM_LOADER;
    case EFI_ACPI_RECLAIM_MEMORY: return MEM_ACPI_RECLAIM;
    case EFI_ACPI_MEMORY_NVS: return MEM_ACPI_NVS;
    case EFI_MEMORY_MAPPED_IO:
    case EFI_MEMORY_MAPPED_IO_PORT_SPACE: return MEM_MMIO;
    case EFI_UNUSABLE_MEMORY: return MEM_UNUSABLE;
    case EFI_PERSISTENT_MEMORY: return MEM_PERSISTENT;
    default: return MEM_RESERVED; /* runtime services, PAL code, reserved, unaccepted, unknown */
    }
}

static int fail(const char **why, const char *reason)
{
    *why = reason;
    return -1;
}

static uint64_t get64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof(v));
    return v;
}

int efi_memmap_convert(const uint8_t *map, size_t map_size, size_t desc_size, struct mem_range *out, size_t cap,
                       const char **why)
{
    if (desc_size < EFI_MEMORY_DESCRIPTOR_BYTES)
        return fail(why, "the descriptor size is smaller than EFI_MEMORY_DESCRIPTOR (a size of 0 would never advance)");
    if (map_size % desc_size != 0)
        return fail(why, "the map is not a whole number of descriptors");
    size_t n = 0;
    for (size_t off = 0; off < map_size; off += desc_size) {
        const uint8_t *d = map + off;
        uint32_t type;
        memcpy(&type, d + DESC_TYPE, sizeof(type));
        uint64_t start = get64(d + DESC_PHYSICAL_START), pages = get64(d + DESC_NUMBER_OF_PAGES);
        if (pages > (UINT64_MAX - start) / EFI_PAGE_BYTES)
            return fail(why, "a descriptor's range runs past the end of the address space");
        uint64_t len = pages * EFI_PAGE_BYTES;
        struct mem_range *last = n ? &out[n - 1] : NULL;
        if (last && last->type == mem_type_of(type) && memrange_end(last) == start) {
            last->len += len;
            continue;
        }
        if (n == cap)
            return fail(why, "more ranges than bounce keeps");
        out[n++] = (struct mem_range){start, len, mem_type_of(type)};
    }
    return (int)n;
}
