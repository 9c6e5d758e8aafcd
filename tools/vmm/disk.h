/* SPDX-License-Identifier: MIT */
/* disk.h - the disk image behind virtio-blk: a raw file, pread/pwrite. */
#ifndef BOUNCE_VMM_DISK_H
#define BOUNCE_VMM_DISK_H

#include <stdbool.h>
#include <stdint.h>

#include "tools/vmm/virtio_blk.h"

struct disk {
    int fd;
    uint64_t sectors; /* whole 512-byte sectors of the file */
    bool read_only;
};

/* Open read-write unless read_only is asked for or the file cannot be written (EACCES, EROFS,
 * EPERM: then read-only, with a note). Returns 0 or -1 (logged). */
int disk_open(struct disk *d, const char *path, bool read_only);
/* The backend for vblk_dev_init(). */
struct vblk_backend disk_backend(struct disk *d);

#endif
