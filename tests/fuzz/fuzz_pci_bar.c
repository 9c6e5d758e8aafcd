/* SPDX-License-Identifier: MIT */
/* fuzz_pci_bar.c - libFuzzer over a BAR's sizing (drivers/pci_bar.c): the values a device reads back
 * are its own. Whatever they are, a BAR taken has a size that is a power of two (at least 4 bytes of
 * I/O, 16 of memory), a base aligned to it, and lies inside its space; and it is taken exactly when
 * the sizing is one a spec-abiding device could give (checked here bit by bit, independently). */
#include <stdbool.h>
#include <stdlib.h>

#include "drivers/pci_bar.h"
#include "tests/fuzz/fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The lowest writable bit above the type bits: the size, if the bits above it are all writable. */
static bool plausible(const struct pci_bar_sizing *s, uint64_t *size_out)
{
    bool io = s->lo & 1, is64 = !io && (s->lo & 6) == 4;
    unsigned low = io ? 2 : 4, width = is64 ? 64 : io && (s->lo_ones >> 16) == 0 ? 16 : 32;
    uint64_t ones = (s->lo_ones & ~((1u << low) - 1)) | (is64 ? (uint64_t)s->hi_ones << 32 : 0);
    uint64_t base = (s->lo & ~((1u << low) - 1)) | (is64 ? (uint64_t)s->hi << 32 : 0);
    unsigned b = low;
    while (b < width && !(ones >> b & 1))
        b++;
    if (b == width)
        return false; /* nothing writable: not implemented */
    for (unsigned k = b; k < width; k++)
        if (!(ones >> k & 1))
            return false; /* a hole */
    *size_out = 1ull << b;
    if (base & (*size_out - 1))
        return false;
    uint64_t end = io ? PCI_IO_SPACE_END : is64 ? 0 : 1ull << 32;
    return end == 0 || (base < end && *size_out <= end - base);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct input in = {data, size};
    struct pci_bar_sizing s;
    s.lo = u32(&in);
    s.lo_ones = u32(&in);
    s.hi = u32(&in);
    s.hi_ones = u32(&in);
    s.has_upper = u8(&in) & 1;
    struct pci_bar b;
    const char *why;
    bool taken = pci_bar_decode(&s, &b, &why);
    bool is64 = !(s.lo & 1) && (s.lo & 6) == 4;
    uint64_t want = 0;
    bool ok = !(is64 && !s.has_upper) && plausible(&s, &want);
    if (taken != ok || taken != b.present)
        abort();
    if (taken && (b.size != want || (b.base & (b.size - 1)) || b.size < (b.io ? 4u : 16u)))
        abort();
    if (!taken && b.size != 0)
        abort();
    return 0;
}
