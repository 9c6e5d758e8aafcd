/* SPDX-License-Identifier: MIT */
/* efi_main.c - the UEFI boot path (GNU-EFI application, entered from OVMF).
 *
 * Collects what kmain() needs while boot services still exist - the loaded image's extent, the
 * command line, the ACPI RSDP, the memory map - then leaves the firmware with ExitBootServices()
 * and jumps onto the kernel's own stack. UEFI 2.10 references: 7.2 (GetMemoryMap,
 * ExitBootServices), 9.1 (EFI_LOADED_IMAGE_PROTOCOL), 13.4/13.5 (simple file system, file
 * protocol), 4.6 (configuration tables).
 */
#include <efi.h>
#include <stdio.h>
#include <string.h>

#include "kernel/boot/efi_memmap.h"
#include "kernel/boot_info.h"
#include "kernel/console.h"
#include "kernel/cpu.h"
#include "kernel/exit.h"

extern char _text[], _etext[];

static struct boot_info bi;
static char loader_name[96];
/* GetMemoryMap() writes descriptors here. Static, so the map does not change by allocating it.
 * OVMF reports ~100 descriptors of 48 bytes; 32 KiB leaves ample room. */
static uint8_t mmap_buf[32 * 1024] __attribute__((aligned(8)));

static void say(const char *s) { console_write(s, strlen(s)); }

/* CHAR16 -> ASCII: non-ASCII characters become '?'. Returns the length written. */
static size_t ucs2_to_ascii(const CHAR16 *in, size_t in_chars, char *out, size_t out_size)
{
    size_t n = 0;
    for (size_t i = 0; i < in_chars && in[i] && n + 1 < out_size; i++)
        out[n++] = in[i] < 0x80 ? (char)in[i] : '?';
    out[n] = '\0';
    return n;
}

static void trim(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
    for (char *p = s; *p; p++)
        if (*p == '\n' || *p == '\r' || *p == '\t')
            *p = ' ';
}

/* LoadOptions is what the boot manager or the shell passed. The shell passes the program name as
 * the first word ("bounce.efi tests=all"): drop it. */
static bool cmdline_from_load_options(const EFI_LOADED_IMAGE *li)
{
    if (li->LoadOptions == NULL || li->LoadOptionsSize < sizeof(CHAR16))
        return false;
    char tmp[BOOT_CMDLINE_MAX];
    ucs2_to_ascii(li->LoadOptions, li->LoadOptionsSize / sizeof(CHAR16), tmp, sizeof(tmp));
    trim(tmp);
    char *p = tmp;
    size_t first = strcspn(p, " ");
    if (first >= 4 && (strncmp(p + first - 4, ".efi", 4) == 0 || strncmp(p + first - 4, ".EFI", 4) == 0))
        p += first;
    while (*p == ' ')
        p++;
    if (*p == '\0')
        return false;
    strncpy(bi.cmdline, p, sizeof(bi.cmdline) - 1);
    return true;
}

/* Fallback: \cmdline.txt at the root of the volume the image was loaded from. */
static bool cmdline_from_file(EFI_BOOT_SERVICES *bs, const EFI_LOADED_IMAGE *li)
{
    EFI_GUID sfs_guid = SIMPLE_FILE_SYSTEM_PROTOCOL;
    EFI_SIMPLE_FILE_SYSTEM_PROTOCOL *fs;
    EFI_FILE_PROTOCOL *root, *file;
    if (bs->HandleProtocol(li->DeviceHandle, &sfs_guid, (void **)&fs) != EFI_SUCCESS)
        return false;
    if (fs->OpenVolume(fs, &root) != EFI_SUCCESS)
        return false;
    EFI_STATUS st = root->Open(root, &file, (CHAR16 *)L"\\cmdline.txt", EFI_FILE_MODE_READ, 0);
    if (st == EFI_SUCCESS) {
        UINTN size = sizeof(bi.cmdline) - 1;
        st = file->Read(file, &size, bi.cmdline);
        bi.cmdline[st == EFI_SUCCESS ? size : 0] = '\0';
        file->Close(file);
    }
    root->Close(root);
    trim(bi.cmdline);
    return st == EFI_SUCCESS;
}

static uint64_t find_rsdp(const EFI_SYSTEM_TABLE *st)
{
    EFI_GUID acpi20 = ACPI_20_TABLE_GUID, acpi10 = ACPI_TABLE_GUID;
    uint64_t v1 = 0;
    for (UINTN i = 0; i < st->NumberOfTableEntries; i++) {
        const EFI_CONFIGURATION_TABLE *t = &st->ConfigurationTable[i];
        if (memcmp(&t->VendorGuid, &acpi20, sizeof(EFI_GUID)) == 0)
            return (uint64_t)(uintptr_t)t->VendorTable;
        if (memcmp(&t->VendorGuid, &acpi10, sizeof(EFI_GUID)) == 0)
            v1 = (uint64_t)(uintptr_t)t->VendorTable;
    }
    return v1;
}

_Static_assert(sizeof(EFI_MEMORY_DESCRIPTOR) == EFI_MEMORY_DESCRIPTOR_BYTES,
               "gnu-efi's descriptor is the UEFI 2.10 structure efi_memmap.c reads");

EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *st);
EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *st)
{
    EFI_BOOT_SERVICES *bs = st->BootServices;
    EFI_GUID li_guid = LOADED_IMAGE_PROTOCOL;
    EFI_LOADED_IMAGE *li;

    serial_init();
    say("bounce: UEFI entry\n");
    if (bs->HandleProtocol(image, &li_guid, (void **)&li) != EFI_SUCCESS) {
        say("bounce: no EFI_LOADED_IMAGE_PROTOCOL for our own image\n");
        return EFI_LOAD_ERROR;
    }
    bi.method = BOOT_UEFI;
    bi.image_start = (uint64_t)(uintptr_t)li->ImageBase;
    bi.image_end = bi.image_start + li->ImageSize;
    bi.text_start = (uint64_t)(uintptr_t)_text;
    bi.text_end = (uint64_t)(uintptr_t)_etext;
    /* GNU-EFI's layout puts .rodata inside .data: no separate read-only range. */

    if (cmdline_from_load_options(li))
        bi.cmdline_source = "LoadOptions";
    else if (cmdline_from_file(bs, li))
        bi.cmdline_source = "\\cmdline.txt on the boot volume";
    else
        bi.cmdline_source = "none";
    bi.rsdp = find_rsdp(st);

    char vendor[48];
    ucs2_to_ascii(st->FirmwareVendor, 47, vendor, sizeof(vendor));
    snprintf(loader_name, sizeof(loader_name), "UEFI %u.%u firmware \"%s\" rev %#x", st->Hdr.Revision >> 16,
             (st->Hdr.Revision & 0xffff) / 10, vendor, st->FirmwareRevision);
    bi.loader = loader_name;

    /* The map key must come from the GetMemoryMap() call right before ExitBootServices(); if the
     * firmware changed the map in between it returns EFI_INVALID_PARAMETER and we fetch it again.
     * Nothing between the two calls may allocate (no printing through the firmware). */
    UINTN map_size, key, desc_size;
    UINT32 desc_version;
    EFI_STATUS status = EFI_LOAD_ERROR;
    for (int attempt = 0; attempt < 8; attempt++) {
        map_size = sizeof(mmap_buf);
        status = bs->GetMemoryMap(&map_size, (EFI_MEMORY_DESCRIPTOR *)mmap_buf, &key, &desc_size, &desc_version);
        if (status != EFI_SUCCESS) {
            say("bounce: GetMemoryMap failed (buffer too small?)\n");
            return status;
        }
        status = bs->ExitBootServices(image, key);
        if (status != EFI_INVALID_PARAMETER)
            break;
    }
    if (status != EFI_SUCCESS) {
        say("bounce: ExitBootServices failed\n");
        return status;
    }
    /* From here on: no boot services, interrupts stay off (the firmware's IDT is about to go). */
    __asm__ volatile("cli");
    const char *why = NULL;
    int n = efi_memmap_convert(mmap_buf, map_size, desc_size, bi.mem, BOOT_MEM_MAX, &why);
    if (n < 0) {
        say("bounce: the UEFI memory map cannot be used: ");
        say(why);
        say("\n");
        bounce_exit(EXIT_PANIC);
    }
    bi.nmem = (uint32_t)n;
    kmain_on_boot_stack(&bi);
}
