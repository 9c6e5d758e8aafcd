/* SPDX-License-Identifier: MIT */
/* console.c - polled 16550 UART driver for COM1.
 *
 * Registers per the PC16550D datasheet: THR/RBR at +0, IER +1, FCR +2, LCR +3, MCR +4, LSR +5.
 * QEMU's `-serial stdio` connects COM1 to the runner. Every wait is bounded, so a machine without
 * a UART (or a wedged one) loses output instead of hanging the kernel.
 */
#include "kernel/console.h"

#include <stdbool.h>
#include <stdint.h>

#include "kernel/cpu.h"

#define COM1 0x3f8
#define UART_LSR_THRE 0x20 /* transmit holding register empty */
#define UART_SPIN_LIMIT 100000

static bool uart_ready;

void serial_init(void)
{
    outb(COM1 + 1, 0x00); /* no interrupts: everything is polled */
    outb(COM1 + 3, 0x80); /* DLAB on to set the divisor */
    outb(COM1 + 0, 0x01); /* divisor 1 = 115200 baud */
    outb(COM1 + 1, 0x00);
    outb(COM1 + 3, 0x03); /* 8 data bits, no parity, 1 stop bit, DLAB off */
    outb(COM1 + 2, 0xc7); /* FIFOs on and cleared, 14-byte threshold */
    outb(COM1 + 4, 0x03); /* DTR + RTS */
    /* A missing UART reads as 0xff everywhere: do not wait on it. */
    uart_ready = inb(COM1 + 5) != 0xff;
}

static void serial_putc(char c)
{
    if (!uart_ready)
        return;
    for (int spin = 0; spin < UART_SPIN_LIMIT && !(inb(COM1 + 5) & UART_LSR_THRE); spin++)
        cpu_relax();
    outb(COM1, (uint8_t)c);
}

void console_write(const char *buf, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (buf[i] == '\n')
            serial_putc('\r');
        serial_putc(buf[i]);
    }
}
