/* SPDX-License-Identifier: MIT */
/* console.h - the serial console (16550 UART at COM1, 0x3f8), the guest's only output. */
#ifndef BOUNCE_KERNEL_CONSOLE_H
#define BOUNCE_KERNEL_CONSOLE_H

#include <stddef.h>

void serial_init(void);
void console_write(const char *buf, size_t len);

#endif
