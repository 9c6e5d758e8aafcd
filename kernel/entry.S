/* SPDX-License-Identifier: MIT */
/* entry.S - the kernel's boot stack, the switch onto it, and the exception entry stubs. */

#define STUB_SIZE 16
#define BOOT_STACK_SIZE (64 * 1024)
#define IST_STACK_SIZE (16 * 1024)

    .section .bss
    .balign 4096
    .globl boot_stack_guard, boot_stack_bottom, boot_stack_top, ist_df_stack_top
/* The page below the boot stack is unmapped once the kernel's page tables are live, so an overflow
 * faults instead of silently corrupting whatever lies below. The fault then cannot push its frame
 * either, which escalates to #DF - handled on its own stack (IST1) so it can still report. */
boot_stack_guard:
    .skip 4096
boot_stack_bottom:
    .skip BOOT_STACK_SIZE
boot_stack_top:
    .balign 16
    .skip IST_STACK_SIZE
ist_df_stack_top:

    .text
/* void kmain_on_boot_stack(struct boot_info *bi): never returns. rbp = 0 ends backtraces here. */
    .globl kmain_on_boot_stack
    .type kmain_on_boot_stack, @function
kmain_on_boot_stack:
    lea boot_stack_top(%rip), %rsp
    xor %ebp, %ebp
    call kmain
1:  cli
    hlt
    jmp 1b
    .size kmain_on_boot_stack, . - kmain_on_boot_stack

/* One 16-byte stub per vector. Vectors whose exceptions push an error code (8, 10-14, 17, 21,
 * 29, 30: Intel SDM vol. 3, table 6-1) skip the dummy push, so every frame has the same shape. */
    .balign STUB_SIZE
    .globl isr_stubs
isr_stubs:
    .set vec, 0
    .rept 256
    .balign STUB_SIZE
    .if (vec == 8) || (vec >= 10 && vec <= 14) || (vec == 17) || (vec == 21) || (vec == 29) || (vec == 30)
    .else
    pushq $0
    .endif
    pushq $vec
    jmp isr_common
    .set vec, vec + 1
    .endr

/* Save the general registers as struct trap_frame (kernel/traps.h), call trap_handler() on a
 * 16-byte-aligned stack, restore, and return past the vector and error code. */
    .type isr_common, @function
isr_common:
    cld
    push %rax
    push %rbx
    push %rcx
    push %rdx
    push %rsi
    push %rdi
    push %rbp
    push %r8
    push %r9
    push %r10
    push %r11
    push %r12
    push %r13
    push %r14
    push %r15
    mov %rsp, %rdi
    mov %rsp, %rbx
    and $-16, %rsp
    call trap_handler
    mov %rbx, %rsp
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %r11
    pop %r10
    pop %r9
    pop %r8
    pop %rbp
    pop %rdi
    pop %rsi
    pop %rdx
    pop %rcx
    pop %rbx
    pop %rax
    add $16, %rsp
    iretq
    .size isr_common, . - isr_common

/* void load_gdt_and_segments(const void *gdtr, uint16_t code_sel, uint16_t data_sel) */
    .globl load_gdt_and_segments
    .type load_gdt_and_segments, @function
load_gdt_and_segments:
    lgdt (%rdi)
    mov %dx, %ds
    mov %dx, %es
    mov %dx, %ss
    xor %eax, %eax
    mov %ax, %fs
    mov %ax, %gs
    /* Reload CS with a far return: push the selector and the address to continue at. */
    movzwl %si, %esi
    push %rsi
    lea 1f(%rip), %rax
    push %rax
    lretq
1:  ret
    .size load_gdt_and_segments, . - load_gdt_and_segments

    .section .note.GNU-stack, "", @progbits
