/* SPDX-License-Identifier: MIT */
/* panic.h - stop the kernel with a message, a backtrace and exit code EXIT_PANIC. */
#ifndef BOUNCE_KERNEL_PANIC_H
#define BOUNCE_KERNEL_PANIC_H

#include <stddef.h>
#include <stdint.h>

_Noreturn void panic(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* For the exception handler: print the banner, then the caller prints its dump, then panic_end().
 * A panic inside a panic stops at once. */
void panic_begin(void);
_Noreturn void panic_end(void);

/* Walk the frame-pointer chain from rbp, printing each return address with its symbol. */
void backtrace_print(uintptr_t rip, uintptr_t rbp);

/* "name+0x12/0x40" for a kernel text address, or "?" if it is not in the image. */
void kallsyms_format(uintptr_t addr, char *buf, size_t size);
/* The function containing addr: its name and start address, or NULL. */
const char *kallsyms_lookup(uintptr_t addr, uintptr_t *start, uintptr_t *size);

#endif
