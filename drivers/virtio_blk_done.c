/* SPDX-License-Identifier: MIT */
/* virtio_blk_done.c - a completed request's outcome and written length (see virtio_blk_done.h). */
#include "drivers/virtio_blk_done.h"

#include "abi/virtio_blk.h"

enum blk_status vblk_status_of(uint8_t st)
{
    switch (st) {
    case VIRTIO_BLK_S_OK: return BLK_OK;
    case VIRTIO_BLK_S_IOERR: return BLK_EIO;
    case VIRTIO_BLK_S_UNSUPP: return BLK_EUNSUPP;
    default: return BLK_EPROTO;
    }
}

struct vblk_done vblk_done(bool reads, uint32_t data_bytes, uint32_t used_len, uint8_t status_byte)
{
    uint32_t data = reads ? data_bytes : 0;
    struct vblk_done d = {.status = vblk_status_of(status_byte)};
    if (used_len > data) { /* == data + 1: the status byte is among the bytes written */
        d.data_written = d.status == BLK_OK ? data : 0;
        return d;
    }
    d.len_short = true;
    d.status = BLK_EIO;
    d.data_written = used_len;
    return d;
}
