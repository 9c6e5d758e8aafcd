/* SPDX-License-Identifier: MIT */
/* names.c - the names of the DMA layer's enums, for messages and traces (dma.h). The bottom of
 * dma/: every other file of the layer may call it, it calls nothing. */
#include "dma/dma.h"

const char *dma_dir_name(enum dma_data_direction dir)
{
    static const char *const names[] = {"BIDIRECTIONAL", "TO_DEVICE", "FROM_DEVICE", "NONE"};
    return (unsigned)dir < 4 ? names[dir] : "INVALID";
}

const char *bounce_policy_name(enum bounce_policy p)
{
    static const char *const names[] = {"zero", "copy", "none"};
    return (unsigned)p < 3 ? names[p] : "?";
}
