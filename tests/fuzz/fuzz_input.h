/* SPDX-License-Identifier: MIT */
/* fuzz_input.h - reading a libFuzzer input as a stream of little-endian integers.
 *
 * Every fuzz target turns its input bytes into a sequence of operations; past the end of the
 * input every read yields 0, so any input is a complete program. Each byte is consumed in a
 * statement of its own: the order in which the bytes of a wider value are taken is fixed
 * (low byte first), not left to the compiler's order of evaluation.
 */
#ifndef BOUNCE_TESTS_FUZZ_FUZZ_INPUT_H
#define BOUNCE_TESTS_FUZZ_FUZZ_INPUT_H

#include <stddef.h>
#include <stdint.h>

struct input {
    const uint8_t *p;
    size_t left;
};

static inline uint8_t u8(struct input *in)
{
    if (in->left == 0)
        return 0;
    in->left--;
    return *in->p++;
}

static inline uint16_t u16(struct input *in)
{
    uint16_t lo = u8(in);
    return (uint16_t)(lo | u8(in) << 8);
}

static inline uint32_t u24(struct input *in)
{
    uint32_t lo = u16(in);
    return lo | (uint32_t)u8(in) << 16;
}

static inline uint32_t u32(struct input *in)
{
    uint32_t lo = u16(in);
    return lo | (uint32_t)u16(in) << 16;
}

static inline uint64_t u64(struct input *in)
{
    uint64_t lo = u32(in);
    return lo | (uint64_t)u32(in) << 32;
}

#endif
