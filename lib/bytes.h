/* SPDX-License-Identifier: MIT */
/* bytes.h - little-endian fields at any alignment in a table someone else laid out (ACPI tables,
 * device structures): read through memcpy, which the compiler turns into one load, and never
 * through a cast pointer, which would be undefined at an odd address. x86-64 is little-endian. */
#ifndef BOUNCE_LIB_BYTES_H
#define BOUNCE_LIB_BYTES_H

#include <stdint.h>
#include <string.h>

static inline uint16_t get_le16(const uint8_t *p)
{
    uint16_t v;
    memcpy(&v, p, sizeof(v));
    return v;
}

static inline uint32_t get_le32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof(v));
    return v;
}

static inline uint64_t get_le64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof(v));
    return v;
}

#endif
