/* SPDX-License-Identifier: MIT */
/* kallsyms.h - the kernel's own symbol table, generated at link time (tools/gen-kallsyms.sh). */
#ifndef BOUNCE_KERNEL_KALLSYMS_H
#define BOUNCE_KERNEL_KALLSYMS_H

#include <stdint.h>

extern const uint32_t kallsyms_count;
extern const uint32_t kallsyms_offsets[];      /* sorted; offset of each function from _text */
extern const uint32_t kallsyms_name_offsets[]; /* index into kallsyms_names */
extern const char kallsyms_names[];

#endif
