/* SPDX-License-Identifier: MIT */
/* pvh_entry.S - the PVH direct-boot entry (`qemu -kernel bounce.elf`).
 *
 * PVH boot ABI (Xen docs/misc/pvh.pandoc, as QEMU implements it): the loader finds the
 * XEN_ELFNOTE_PHYS32_ENTRY note below and enters there in 32-bit protected mode, paging off,
 * flat 4 GiB segments, with %ebx = physical address of struct hvm_start_info. We build page
 * tables identity-mapping the first 4 GiB with 2 MiB pages, enable SSE (newlib uses it), enter
 * long mode and call pvh_main(start_info) in C. The kernel's real page tables come later (mm/).
 */

#define XEN_ELFNOTE_PHYS32_ENTRY 18
#define CR0_PE 0x00000001
#define CR0_MP 0x00000002
#define CR0_EM 0x00000004
#define CR0_PG 0x80000000
#define CR4_PAE 0x00000020
#define CR4_OSFXSR 0x00000200
#define CR4_OSXMMEXCPT 0x00000400
#define MSR_EFER 0xc0000080
#define EFER_LME 0x00000100
#define PTE_P_W 0x003
#define PDE_P_W_PS 0x083

    .section .note.Xen, "a", @note
    .balign 4
    .long 4                         /* name size: "Xen\0" */
    .long 4                         /* descriptor size */
    .long XEN_ELFNOTE_PHYS32_ENTRY
    .asciz "Xen"
    .balign 4
    .long pvh_start32

    .section .bss
    .balign 4096
pvh_pml4:
    .skip 4096
pvh_pdpt:
    .skip 4096
pvh_pd:
    .skip 4 * 4096                  /* 4 page directories x 1 GiB */
pvh_start_info_pa:
    .skip 4

    .section .rodata
    .balign 16
pvh_gdt:
    .quad 0
    .quad 0x00af9a000000ffff        /* 0x08: 64-bit code */
    .quad 0x00cf92000000ffff        /* 0x10: data */
pvh_gdt_end:
pvh_gdtr:
    .word pvh_gdt_end - pvh_gdt - 1
    .long pvh_gdt

    .section .text.pvh_entry, "ax"
    .code32
    .globl pvh_start32
    .type pvh_start32, @function
pvh_start32:
    cli
    cld
    mov %ebx, pvh_start_info_pa
    mov $boot_stack_top, %esp

    /* Zero the tables (the loader zero-fills .bss, but do not depend on it), then fill them. */
    mov $pvh_pml4, %edi
    xor %eax, %eax
    mov $(6 * 4096 / 4), %ecx
    rep stosl
    mov $pvh_pdpt + PTE_P_W, %eax
    mov %eax, pvh_pml4
    mov $pvh_pd + PTE_P_W, %eax
    mov $pvh_pdpt, %edi
    mov $4, %ecx
1:  mov %eax, (%edi)
    add $4096, %eax
    add $8, %edi
    loop 1b
    /* 2048 PDEs of 2 MiB: entry i maps i << 21. The high dword stays 0 (below 4 GiB). */
    mov $pvh_pd, %edi
    mov $PDE_P_W_PS, %eax
    mov $2048, %ecx
2:  mov %eax, (%edi)
    add $0x200000, %eax
    add $8, %edi
    loop 2b

    mov %cr4, %eax
    or $(CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT), %eax
    mov %eax, %cr4
    mov $pvh_pml4, %eax
    mov %eax, %cr3
    mov $MSR_EFER, %ecx
    rdmsr
    or $EFER_LME, %eax
    wrmsr
    mov %cr0, %eax
    and $~CR0_EM, %eax
    or $(CR0_PG | CR0_PE | CR0_MP), %eax
    mov %eax, %cr0
    lgdt pvh_gdtr
    ljmp $0x08, $pvh_start64

    .code64
pvh_start64:
    mov $0x10, %eax
    mov %eax, %ds
    mov %eax, %es
    mov %eax, %ss
    xor %eax, %eax
    mov %eax, %fs
    mov %eax, %gs
    lea boot_stack_top(%rip), %rsp
    xor %ebp, %ebp
    mov pvh_start_info_pa(%rip), %edi
    call pvh_main
3:  cli
    hlt
    jmp 3b
    .size pvh_start32, . - pvh_start32

    .section .note.GNU-stack, "", @progbits
