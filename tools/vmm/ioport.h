/* SPDX-License-Identifier: MIT */
/* ioport.h - port I/O: the COM1 serial port, isa-debug-exit, and nothing else.
 *
 * Serial (16550, ports 0x3f8-0x3ff): THR writes (DLAB off) go to `out`; LSR reads 0x60
 * (transmitter empty); the divisor latch, LCR, MCR, IER and scratch registers hold what is
 * written; IIR reads 0x01 (no interrupt). isa-debug-exit (0xf4): a write of v ends the run with
 * guest exit code v. Every other port: reads return all ones, writes are ignored (no PIT, no PCI).
 */
#ifndef BOUNCE_VMM_IOPORT_H
#define BOUNCE_VMM_IOPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct ioports {
    FILE *out;
    uint8_t ier, lcr, mcr, scr, dll, dlm;
    bool exited;
    uint32_t exit_code;
    uint64_t serial_bytes;
    uint64_t unassigned; /* accesses to ports nothing answers */
};

void ioport_init(struct ioports *p, FILE *out);
/* One access of size 1, 2 or 4 bytes; data is read or written in place (little-endian). */
void ioport_access(struct ioports *p, uint16_t port, bool is_write, uint8_t *data, unsigned size);

#endif
