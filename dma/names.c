/* SPDX-License-Identifier: MIT */
/* names.c - the names of the DMA layer's enums, for messages and traces (dma.h). The bottom of
 * dma/: every other file of the layer may call it, it calls nothing. */
#include "dma/dma.h"

#include "lib/units.h"

const char *dma_dir_name(enum dma_data_direction dir)
{
    static const char *const names[] = {"BIDIRECTIONAL", "TO_DEVICE", "FROM_DEVICE", "NONE"};
    return (unsigned)dir < 4 ? names[dir] : "INVALID";
}

const char *const bounce_policy_names[] = {"zero", "copy", "none", NULL};

const char *bounce_policy_name(enum bounce_policy p)
{
    return (unsigned)p < ARRAY_LEN(bounce_policy_names) - 1 ? bounce_policy_names[p] : "?";
}
