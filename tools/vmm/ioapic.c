/* SPDX-License-Identifier: MIT */
/* ioapic.c - the register-only I/O APIC (see ioapic.h). */
#include "tools/vmm/ioapic.h"

#include <string.h>

#define IOREGSEL 0x00
#define IOWIN 0x10
#define REG_ID 0x00
#define REG_VERSION 0x01
#define REG_ARB 0x02
#define REG_REDIR0 0x10
#define VERSION_VALUE (((IOAPIC_PINS - 1u) << 16) | 0x11u)
#define REDIR_MASKED (1ull << 16)

void ioapic_init(struct ioapic *a)
{
    memset(a, 0, sizeof(*a));
    for (int i = 0; i < IOAPIC_PINS; i++)
        a->redir[i] = REDIR_MASKED;
}

static uint32_t reg_read(struct ioapic *a)
{
    uint32_t r = a->regsel & 0xff;
    if (r == REG_ID)
        return a->id;
    if (r == REG_VERSION)
        return VERSION_VALUE;
    if (r == REG_ARB)
        return a->id;
    if (r >= REG_REDIR0 && r < REG_REDIR0 + 2 * IOAPIC_PINS) {
        uint64_t e = a->redir[(r - REG_REDIR0) / 2];
        return (r & 1) ? (uint32_t)(e >> 32) : (uint32_t)e;
    }
    return 0xffffffffu;
}

static void reg_write(struct ioapic *a, uint32_t v)
{
    uint32_t r = a->regsel & 0xff;
    if (r == REG_ID) {
        a->id = v & 0x0f000000u;
    } else if (r >= REG_REDIR0 && r < REG_REDIR0 + 2 * IOAPIC_PINS) {
        uint64_t *e = &a->redir[(r - REG_REDIR0) / 2];
        *e = (r & 1) ? (*e & 0xffffffffull) | (uint64_t)v << 32 : (*e & ~0xffffffffull) | v;
    }
}

uint64_t ioapic_read(struct ioapic *a, uint64_t off, unsigned len)
{
    uint64_t mask = len >= 8 ? ~0ull : (1ull << (8 * len)) - 1;
    if (off == IOREGSEL)
        return a->regsel & mask;
    if (off == IOWIN)
        return reg_read(a) & mask;
    return ~0ull & mask;
}

void ioapic_write(struct ioapic *a, uint64_t off, unsigned len, uint64_t val)
{
    (void)len;
    if (off == IOREGSEL)
        a->regsel = (uint32_t)val;
    else if (off == IOWIN)
        reg_write(a, (uint32_t)val);
}
