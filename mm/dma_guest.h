/* SPDX-License-Identifier: MIT */
/* dma_guest.h - bring the DMA layer up in the guest. */
#ifndef BOUNCE_MM_DMA_GUEST_H
#define BOUNCE_MM_DMA_GUEST_H

#include <stdbool.h>

/* Set up the bounce pool from swiotlb= and bounce_policy=, register the end-of-run report. */
void dma_guest_init(void);
/* Bounce every mapping of every device (the confidential mode), and narrate (tests toggle it). */
void dma_guest_set_force_bounce(bool on);
bool dma_guest_force_bounce(void);
/* cc_io=convert at run time (tests): only in a confidential guest, off otherwise whatever on says. */
void dma_guest_set_convert(bool on);
bool dma_guest_convert(void);
void dma_guest_set_trace(bool on);
bool dma_guest_trace(void);

#endif
