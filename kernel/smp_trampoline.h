/* SPDX-License-Identifier: MIT */
/* smp_trampoline.h - the data block of the AP start-up code (kernel/smp_trampoline.S): offsets,
 * shared by the assembly and the C that fills it in (init/smp.c). */
#ifndef BOUNCE_KERNEL_SMP_TRAMPOLINE_H
#define BOUNCE_KERNEL_SMP_TRAMPOLINE_H

#define SMP_TR_DATA 0xf00 /* the data block's offset in the trampoline page */

#define TR_GDT 0      /* 4 descriptors: null, 64-bit code, data, 32-bit code */
#define TR_GDTR 32    /* limit (2 bytes), base (4: the page + TR_GDT) */
#define TR_PM_JUMP 40 /* far pointer: offset (4: the page + the pm32 code), selector (2) */
#define TR_LM_JUMP 48 /* far pointer: offset (4: the page + the lm64 code), selector (2) */
#define TR_CR3_LOW 56 /* 4: a PML4 below 4 GiB for the switch to long mode */
#define TR_CR4 60     /* 4 */
#define TR_EFER 64    /* 4: the low half of EFER (LME, NXE) */
#define TR_CR3 72     /* 8: the kernel's PML4 */
#define TR_STACK 80   /* 8: the stack to run the C entry on */
#define TR_ENTRY 88   /* 8: void entry(void *arg) */
#define TR_ARG 96     /* 8 */
#define TR_END 104

#define TR_SEL_CODE64 0x08
#define TR_SEL_DATA 0x10
#define TR_SEL_CODE32 0x18

#ifndef __ASSEMBLER__
/* The code to copy, and its 32-bit and 64-bit parts (their offsets from the start go into the
 * far pointers of the data block). */
extern const char smp_trampoline_start[], smp_trampoline_end[], smp_trampoline_pm32[], smp_trampoline_lm64[];
#endif

#endif
