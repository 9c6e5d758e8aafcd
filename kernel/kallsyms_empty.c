/* SPDX-License-Identifier: MIT */
/* kallsyms_empty.c - the empty symbol table of the first link pass (see kernel/panic.c). */
#include "kernel/kallsyms.h"

const uint32_t kallsyms_count = 0;
const uint32_t kallsyms_offsets[1];
const uint32_t kallsyms_name_offsets[1];
const char kallsyms_names[1];
