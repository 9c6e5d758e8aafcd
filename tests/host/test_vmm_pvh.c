/* SPDX-License-Identifier: MIT */
/* test_vmm_pvh.c - host unit tests of tools/vmm/pvh.c: parsing bounce.elf-like images (and broken
 * ones), S, the hvm_start_info / memory map / command line the loader writes, and random
 * corruptions of a valid image that must never make the parser read outside the file or the
 * loader write outside RAM (ASan).
 */
#include "tests/host/host_test.h"

#include <elf.h>
#include <string.h>

#include "tools/vmm/layout.h"
#include "tools/vmm/pvh.h"

#define RAM (4u << 20)

/* An ELF image: header, 2 program headers (PT_LOAD, PT_NOTE), the note, 64 bytes of code. */
struct image {
    Elf64_Ehdr eh;
    Elf64_Phdr ph[2];
    struct {
        Elf64_Nhdr nh;
        char name[4];
        uint32_t entry;
    } note;
    uint8_t code[64];
};

static void make_image(struct image *im, uint64_t paddr, uint64_t memsz)
{
    memset(im, 0, sizeof(*im));
    memcpy(im->eh.e_ident, ELFMAG, SELFMAG);
    im->eh.e_ident[EI_CLASS] = ELFCLASS64;
    im->eh.e_ident[EI_DATA] = ELFDATA2LSB;
    im->eh.e_ident[EI_VERSION] = EV_CURRENT;
    im->eh.e_type = ET_EXEC;
    im->eh.e_machine = EM_X86_64;
    im->eh.e_version = EV_CURRENT;
    im->eh.e_phoff = offsetof(struct image, ph);
    im->eh.e_ehsize = sizeof(Elf64_Ehdr);
    im->eh.e_phentsize = sizeof(Elf64_Phdr);
    im->eh.e_phnum = 2;
    im->ph[0] = (Elf64_Phdr){.p_type = PT_LOAD,
                             .p_offset = offsetof(struct image, code),
                             .p_paddr = paddr,
                             .p_vaddr = paddr,
                             .p_filesz = sizeof(im->code),
                             .p_memsz = memsz};
    im->ph[1] = (Elf64_Phdr){.p_type = PT_NOTE, .p_offset = offsetof(struct image, note), .p_filesz = sizeof(im->note)};
    im->note.nh = (Elf64_Nhdr){.n_namesz = 4, .n_descsz = 4, .n_type = XEN_ELFNOTE_PHYS32_ENTRY};
    memcpy(im->note.name, "Xen", 4);
    im->note.entry = (uint32_t)paddr + 8;
    for (unsigned i = 0; i < sizeof(im->code); i++)
        im->code[i] = (uint8_t)(0x90 + i);
}

static int parse(const struct image *im, struct pvh_image *img)
{
    char err[128];
    return pvh_parse(img, (const uint8_t *)im, sizeof(*im), err, sizeof(err));
}

static void test_parse_and_load(void **state)
{
    (void)state;
    static struct image im;
    make_image(&im, 0x100000, 0x95000);
    struct pvh_image img;
    assert_int_equal(parse(&im, &img), 0);
    assert_int_equal(img.entry, 0x100008);
    assert_int_equal(img.image_end, 0x195000);
    assert_int_equal(img.boot_shared, 0x200000);
    assert_int_equal(img.nseg, 1);

    static uint8_t ram[RAM];
    memset(ram, 0xcc, sizeof(ram));
    char err[128];
    assert_int_equal(pvh_load(&img, ram, RAM, "tests=all virtio_mmio.device=512@0xd0000000:5", err, sizeof(err)), 0);
    assert_memory_equal(ram + 0x100000, im.code, sizeof(im.code));
    for (uint64_t a = 0x100000 + sizeof(im.code); a < 0x195000; a += 997)
        assert_int_equal(ram[a], 0); /* .bss zeroed */
    uint32_t u32;
    uint64_t u64;
    memcpy(&u32, ram + PVH_START_INFO_GPA, 4);
    assert_int_equal(u32, HVM_START_MAGIC);
    memcpy(&u32, ram + PVH_START_INFO_GPA + 4, 4);
    assert_int_equal(u32, 1); /* version */
    memcpy(&u64, ram + PVH_START_INFO_GPA + 16, 8);
    assert_int_equal(u64, 0); /* modlist */
    memcpy(&u64, ram + PVH_START_INFO_GPA + 24, 8);
    assert_int_equal(u64, PVH_CMDLINE_GPA);
    memcpy(&u64, ram + PVH_START_INFO_GPA + 32, 8);
    assert_int_equal(u64, 0); /* rsdp: no ACPI */
    memcpy(&u64, ram + PVH_START_INFO_GPA + 40, 8);
    assert_int_equal(u64, PVH_MEMMAP_GPA);
    memcpy(&u32, ram + PVH_START_INFO_GPA + 48, 4);
    assert_int_equal(u32, 3);
    assert_string_equal((char *)ram + PVH_CMDLINE_GPA, "tests=all virtio_mmio.device=512@0xd0000000:5");
    struct {
        uint64_t addr, size;
        uint32_t type, reserved;
    } map[3];
    memcpy(map, ram + PVH_MEMMAP_GPA, sizeof(map));
    assert_int_equal(map[0].addr, 0);
    assert_int_equal(map[0].size, LOW_RAM_END);
    assert_int_equal(map[0].type, 1);
    assert_int_equal(map[1].addr, LOW_RAM_END);
    assert_int_equal(map[1].size, HIGH_RAM_START - LOW_RAM_END);
    assert_int_equal(map[1].type, 2);
    assert_int_equal(map[2].addr, HIGH_RAM_START);
    assert_int_equal(map[2].size, RAM - HIGH_RAM_START);
    assert_int_equal(map[2].type, 1);

    assert_true(pvh_image_has_bytes(&img, 0x100000, im.code, 8));
    assert_true(pvh_image_has_bytes(&img, 0x100000 + 60, im.code + 60, 4));
    assert_false(pvh_image_has_bytes(&img, 0x100000 + 61, im.code + 61, 4)); /* runs past the file part */
    assert_false(pvh_image_has_bytes(&img, 0x100001, im.code, 8));
    assert_false(pvh_image_has_bytes(&img, 0x50000, im.code, 8));
}

static void test_s_rounding(void **state)
{
    (void)state;
    static struct image im;
    struct pvh_image img;
    make_image(&im, 0x100000, 0x100000); /* ends exactly at 2 MiB */
    assert_int_equal(parse(&im, &img), 0);
    assert_int_equal(img.boot_shared, 0x200000);
    make_image(&im, 0x100000, 0x100001);
    assert_int_equal(parse(&im, &img), 0);
    assert_int_equal(img.boot_shared, 0x400000);
    /* S must leave RAM above it */
    static uint8_t ram[RAM];
    char err[128];
    make_image(&im, 0x100000, RAM - 0x100000);
    assert_int_equal(parse(&im, &img), 0);
    assert_int_equal(pvh_load(&img, ram, RAM, "", err, sizeof(err)), -1);
    /* the command line: 4095 bytes fit, 4096 do not */
    make_image(&im, 0x100000, 0x1000);
    assert_int_equal(parse(&im, &img), 0);
    static char cl[PVH_CMDLINE_MAX + 1];
    memset(cl, 'x', PVH_CMDLINE_MAX - 1);
    cl[PVH_CMDLINE_MAX - 1] = '\0';
    assert_int_equal(pvh_load(&img, ram, RAM, cl, err, sizeof(err)), 0);
    assert_int_equal(strlen((char *)ram + PVH_CMDLINE_GPA), PVH_CMDLINE_MAX - 1);
    cl[PVH_CMDLINE_MAX - 1] = 'x';
    assert_int_equal(pvh_load(&img, ram, RAM, cl, err, sizeof(err)), -1);
}

static void test_bad_images(void **state)
{
    (void)state;
    static struct image im;
    struct pvh_image img;
    char err[128];
    make_image(&im, 0x100000, 0x1000);
    assert_int_equal(pvh_parse(&img, (const uint8_t *)&im, 10, err, sizeof(err)), -1); /* truncated header */
    assert_int_equal(pvh_parse(&img, (const uint8_t *)&im, offsetof(struct image, ph) + 60, err, sizeof(err)), -1);
    im.eh.e_ident[EI_MAG1] = 'X';
    assert_int_equal(parse(&im, &img), -1);
    make_image(&im, 0x100000, 0x1000);
    im.eh.e_ident[EI_CLASS] = ELFCLASS32;
    assert_int_equal(parse(&im, &img), -1);
    make_image(&im, 0x100000, 0x1000);
    im.eh.e_machine = EM_386;
    assert_int_equal(parse(&im, &img), -1);
    make_image(&im, 0x100000, 0x1000);
    im.eh.e_phoff = UINT64_MAX - 8; /* wraps */
    assert_int_equal(parse(&im, &img), -1);
    make_image(&im, 0x100000, 0x1000);
    im.eh.e_phnum = 1000;
    assert_int_equal(parse(&im, &img), -1);
    make_image(&im, 0x100000, 0x1000);
    im.ph[0].p_offset = sizeof(im) - 8; /* file part runs past the end */
    assert_int_equal(parse(&im, &img), -1);
    make_image(&im, 0x100000, 0x10); /* memsz < filesz */
    assert_int_equal(parse(&im, &img), -1);
    make_image(&im, 0x7000, 0x1000); /* over the boot structures */
    assert_int_equal(parse(&im, &img), -1);
    make_image(&im, RAM_MAX - 0x1000, 0x2000); /* above 3 GiB */
    assert_int_equal(parse(&im, &img), -1);
    make_image(&im, 0x100000, UINT64_MAX); /* wraps */
    assert_int_equal(parse(&im, &img), -1);
    make_image(&im, 0x100000, 0x1000);
    im.note.nh.n_type = 17; /* no PHYS32 entry note */
    assert_int_equal(parse(&im, &img), -1);
    make_image(&im, 0x100000, 0x1000);
    memcpy(im.note.name, "Xem", 4);
    assert_int_equal(parse(&im, &img), -1);
    make_image(&im, 0x100000, 0x1000);
    im.note.nh.n_descsz = 0x7fffffff; /* runs past the segment */
    assert_int_equal(parse(&im, &img), -1);
    make_image(&im, 0x100000, 0x1000);
    im.note.entry = 0x200000; /* entry outside the loaded code */
    assert_int_equal(parse(&im, &img), -1);
    make_image(&im, 0x100000, 0x1000);
    im.ph[0].p_type = PT_NULL; /* nothing to load */
    assert_int_equal(parse(&im, &img), -1);
}

static void test_random_corruption(void **state)
{
    (void)state;
    struct rng r = rng_begin();
    static struct image good, im;
    static uint8_t ram[RAM];
    make_image(&good, 0x100000, 0x3000);
    for (int round = 0; round < 20000; round++) {
        im = good;
        uint8_t *b = (uint8_t *)&im;
        for (int k = 0; k < 1 + (int)rng_below(&r, 6); k++)
            b[rng_below(&r, sizeof(im))] = (uint8_t)rng_next(&r);
        size_t len = rng_one_in(&r, 4) ? rng_below(&r, sizeof(im) + 1) : sizeof(im);
        struct pvh_image img;
        char err[128];
        if (pvh_parse(&img, b, len, err, sizeof(err)) != 0)
            continue;
        RAND_ASSERT(img.boot_shared % BOOT_SHARED_ALIGN == 0 && img.image_end <= img.boot_shared);
        for (unsigned i = 0; i < img.nseg; i++)
            RAND_ASSERT(img.seg[i].paddr >= PVH_BOOT_AREA_END && img.seg[i].paddr + img.seg[i].memsz <= img.image_end);
        if (img.boot_shared < RAM)
            RAND_ASSERT(pvh_load(&img, ram, RAM, "x", err, sizeof(err)) == 0);
        else
            RAND_ASSERT(pvh_load(&img, ram, RAM, "x", err, sizeof(err)) == -1);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_and_load),
        cmocka_unit_test(test_s_rounding),
        cmocka_unit_test(test_bad_images),
        cmocka_unit_test(test_random_corruption),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
