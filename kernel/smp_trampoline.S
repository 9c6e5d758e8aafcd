/* SPDX-License-Identifier: MIT */
/* smp_trampoline.S - where an application processor starts (Intel SDM vol. 3A 8.4.4 "MP
 * Initialization Example", 9.9 "Mode Switching", 10.8.5 "Initializing IA-32e Mode").
 *
 * The startup IPI's vector names a 4 KiB page below 1 MiB; the AP begins there in real mode,
 * CS = vector << 8, IP = 0. init/smp.c copies this code to such a page, fills the data block at
 * SMP_TR_DATA in the same page (its layout: struct smp_trampoline_data in init/smp.c), and maps
 * the page read-only and executable for the start. The AP loads a GDT of its own, enters
 * protected mode, then long mode on a PML4 below 4 GiB, switches to the kernel's page tables and
 * stack and calls the C entry with its argument. Every address it needs is in the data block or
 * relative to the page (EBX = its linear base), so the code runs wherever it is copied.
 */
#include "kernel/smp_trampoline.h"

#define CR0_PE 0x00000001
#define CR0_MP 0x00000002
#define CR0_EM 0x00000004
#define CR0_WP 0x00010000
#define CR0_PG 0x80000000
#define MSR_EFER 0xc0000080

    .section .rodata
    .globl smp_trampoline_start, smp_trampoline_end, smp_trampoline_pm32, smp_trampoline_lm64
    .code16
smp_trampoline_start:
    cli
    cld
    mov %cs, %ax
    mov %ax, %ds
    xor %ebx, %ebx
    mov %ax, %bx
    shl $4, %ebx                            /* EBX = the page's linear address */
    lgdtl (SMP_TR_DATA + TR_GDTR)
    mov %cr0, %eax
    or $CR0_PE, %eax
    mov %eax, %cr0
    ljmpl *(SMP_TR_DATA + TR_PM_JUMP)       /* to smp_trampoline_pm32, through a 32-bit code segment */

    .code32
smp_trampoline_pm32:
    mov $TR_SEL_DATA, %eax
    mov %eax, %ds
    mov %eax, %es
    mov %eax, %ss
    mov SMP_TR_DATA + TR_CR4(%ebx), %eax    /* PAE, and the BSP's SSE bits */
    mov %eax, %cr4
    mov SMP_TR_DATA + TR_CR3_LOW(%ebx), %eax
    mov %eax, %cr3
    mov $MSR_EFER, %ecx
    mov SMP_TR_DATA + TR_EFER(%ebx), %eax   /* LME, NXE as the BSP has them */
    xor %edx, %edx
    wrmsr
    mov %cr0, %eax
    and $~CR0_EM, %eax
    or $(CR0_PG | CR0_PE | CR0_MP | CR0_WP), %eax
    mov %eax, %cr0
    ljmpl *(SMP_TR_DATA + TR_LM_JUMP)(%ebx) /* to smp_trampoline_lm64, through the 64-bit code segment */

    .code64
smp_trampoline_lm64:
    mov %ebx, %ebx                          /* the upper half is undefined after compatibility mode */
    mov $TR_SEL_DATA, %eax
    mov %eax, %ds
    mov %eax, %es
    mov %eax, %ss
    mov SMP_TR_DATA + TR_CR3(%rbx), %rax    /* the kernel's page tables */
    mov %rax, %cr3
    mov SMP_TR_DATA + TR_STACK(%rbx), %rsp
    mov SMP_TR_DATA + TR_ARG(%rbx), %rdi
    mov SMP_TR_DATA + TR_ENTRY(%rbx), %rax
    xor %ebp, %ebp                          /* ends backtraces */
    call *%rax
1:  cli
    hlt
    jmp 1b
smp_trampoline_end:

    .section .note.GNU-stack, "", @progbits
