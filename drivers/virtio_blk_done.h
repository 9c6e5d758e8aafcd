/* SPDX-License-Identifier: MIT */
/* virtio_blk_done.h - what a completed virtio-blk request says: its outcome, and how many data
 * bytes the device wrote (virtio 1.2 2.7.8 "The Virtqueue Used Ring", 5.2.6 "Device
 * Operation"). Pure logic, host-tested (tests/host/test_virtio_blk_done.c); used by
 * virtio_blk.c when it completes a request.
 *
 * A request's device-writable part is its data (for a read) followed by the status byte. The used
 * ring's `len` is "the number of bytes written into the device-writable portion", and 2.7.8.1
 * says the device MUST have written at least `len` bytes from its start, while the driver MUST NOT
 * rely on anything past them. So:
 *  - len covers the status byte (len == data + 1): the status byte decides. On success the
 *    device wrote all the data. On an error, the claim "I wrote everything" and the error cannot
 *    both hold, and nothing is taken from the buffer (QEMU reports the whole length with IOERR
 *    whatever it wrote: its len is not a count on an error).
 *  - len stops short of the status byte: the device wrote the first `len` bytes and, by its own
 *    account, not the status - the request failed (BLK_EIO, whatever the byte says), and the
 *    first min(len, data) bytes are what it wrote.
 * The virtqueue has already refused a len beyond the chain's writable bytes (vq_get_used).
 */
#ifndef BOUNCE_DRIVERS_VIRTIO_BLK_DONE_H
#define BOUNCE_DRIVERS_VIRTIO_BLK_DONE_H

#include <stdbool.h>
#include <stdint.h>

#include "drivers/blk.h"

/* The block-layer status a status byte means; anything but OK, IOERR and UNSUPP (the 0xff the
 * driver writes before submitting included: the device never wrote it) is a protocol error. */
enum blk_status vblk_status_of(uint8_t status_byte);

struct vblk_done {
    enum blk_status status;
    uint32_t data_written; /* data bytes the device wrote, from the start: what to copy back */
    bool len_short;        /* the used length does not reach the status byte */
};

/* reads: the device writes `data_bytes` of data before the status byte (a read); otherwise only
 * the status byte is device-writable. used_len: the used ring's len, <= data + 1. */
struct vblk_done vblk_done(bool reads, uint32_t data_bytes, uint32_t used_len, uint8_t status_byte);

#endif
