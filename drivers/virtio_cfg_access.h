/* SPDX-License-Identifier: MIT */
/* virtio_cfg_access.h - reading a device-specific configuration field, for the transports.
 *
 * Both transports (virtio 1.2 4.1.3.1 for PCI, 4.2.2.2 for MMIO) require accesses of each field's
 * natural width: 8, 16 or 32 bits, aligned; a 64-bit field as two 32-bit accesses, low half
 * first; byte strings byte by byte. The caller retries around it until the configuration
 * generation is stable (2.5.1).
 */
#ifndef BOUNCE_DRIVERS_VIRTIO_CFG_ACCESS_H
#define BOUNCE_DRIVERS_VIRTIO_CFG_ACCESS_H

#include <stdint.h>
#include <string.h>

#include "kernel/cpu.h"

static inline void virtio_cfg_read_once(volatile uint8_t *cfg, uint32_t off, uint8_t *buf, uint32_t len)
{
    if (len == 2 && off % 2 == 0) {
        uint16_t v = mmio_read16(cfg + off);
        memcpy(buf, &v, 2);
    } else if (len == 4 && off % 4 == 0) {
        uint32_t v = mmio_read32(cfg + off);
        memcpy(buf, &v, 4);
    } else if (len == 8 && off % 4 == 0) {
        uint32_t lo = mmio_read32(cfg + off), hi = mmio_read32(cfg + off + 4);
        memcpy(buf, &lo, 4);
        memcpy(buf + 4, &hi, 4);
    } else {
        for (uint32_t i = 0; i < len; i++) /* 8-bit fields and byte strings */
            buf[i] = mmio_read8(cfg + off + i);
    }
}

#endif
