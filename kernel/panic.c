/* SPDX-License-Identifier: MIT */
/* panic.c - panics, backtraces and symbol lookup.
 *
 * The symbol table is generated at link time (tools/gen-kallsyms.sh): the image is linked once
 * without it, its text symbols are listed with nm, and the image is linked again with the list
 * compiled in. The table lives after .text in both layouts, so adding it moves no function.
 * Offsets are relative to _text, so the same table works wherever UEFI loads the image.
 */
#include "kernel/panic.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

#include "kernel/cpu.h"
#include "kernel/exit.h"
#include "kernel/kallsyms.h"

extern char _text[], _etext[];
extern char boot_stack_bottom[], ist_df_stack_top[];

#define BACKTRACE_MAX 32

static bool in_panic;

const char *kallsyms_lookup(uintptr_t addr, uintptr_t *start, uintptr_t *size)
{
    uintptr_t text = (uintptr_t)_text;
    if (addr < text || addr >= (uintptr_t)_etext || kallsyms_count == 0)
        return NULL;
    uint32_t off = (uint32_t)(addr - text);
    /* Binary search for the last symbol at or below off. */
    uint32_t lo = 0, hi = kallsyms_count;
    while (hi - lo > 1) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (kallsyms_offsets[mid] <= off)
            lo = mid;
        else
            hi = mid;
    }
    if (kallsyms_offsets[lo] > off)
        return NULL;
    uint32_t end = lo + 1 < kallsyms_count ? kallsyms_offsets[lo + 1] : (uint32_t)(_etext - _text);
    *start = text + kallsyms_offsets[lo];
    *size = end - kallsyms_offsets[lo];
    return kallsyms_names + kallsyms_name_offsets[lo];
}

void kallsyms_format(uintptr_t addr, char *buf, size_t size)
{
    uintptr_t start, len;
    const char *name = kallsyms_lookup(addr, &start, &len);
    if (name)
        snprintf(buf, size, "%s+0x%lx/0x%lx", name, (unsigned long)(addr - start), (unsigned long)len);
    else
        snprintf(buf, size, "?");
}

/* A frame pointer is followed only while it points into a kernel stack, 8-byte aligned. */
static bool plausible_frame(uintptr_t rbp)
{
    return rbp % 8 == 0 && rbp >= (uintptr_t)boot_stack_bottom && rbp + 16 <= (uintptr_t)ist_df_stack_top;
}

void backtrace_print(uintptr_t rip, uintptr_t rbp)
{
    char sym[128];
    printf("Backtrace:\n");
    kallsyms_format(rip, sym, sizeof(sym));
    printf("  #0  %016lx %s\n", (unsigned long)rip, sym);
    for (int depth = 1; depth < BACKTRACE_MAX && plausible_frame(rbp); depth++) {
        const uintptr_t *frame = (const uintptr_t *)rbp;
        uintptr_t ret = frame[1];
        if (ret == 0)
            break;
        /* ret points after the call: look up ret - 1 so a call at a function's end names that function */
        kallsyms_format(ret - 1, sym, sizeof(sym));
        printf("  #%-2d %016lx %s\n", depth, (unsigned long)ret, sym);
        if (frame[0] <= rbp)
            break; /* frames must move up the stack */
        rbp = frame[0];
    }
}

void panic_begin(void)
{
    if (in_panic) {
        printf("\nPANIC while panicking: giving up\n");
        bounce_exit(EXIT_PANIC);
    }
    in_panic = true;
    printf("\n----------------------------------------------------------------\n");
}

_Noreturn void panic_end(void)
{
    printf("----------------------------------------------------------------\n");
    bounce_exit(EXIT_PANIC);
}

_Noreturn void panic(const char *fmt, ...)
{
    va_list ap;
    panic_begin();
    printf("PANIC: ");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    /* Start at our caller: panic's own frame holds its return address and the caller's rbp. */
    const uintptr_t *fp = (const uintptr_t *)read_rbp();
    backtrace_print(fp[1], fp[0]);
    panic_end();
}
