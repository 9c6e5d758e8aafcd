/* SPDX-License-Identifier: MIT */
/* drivers.h - probe every driver bounce has, after PCI enumeration. */
#ifndef BOUNCE_DRIVERS_DRIVERS_H
#define BOUNCE_DRIVERS_DRIVERS_H

void drivers_init(void);

/* Each driver's probe: find its devices among the PCI functions and register their disks. */
void ide_probe(void);        /* drivers/ide.c */
void virtio_blk_probe(void); /* drivers/virtio_blk_probe.c */

#endif
