/* SPDX-License-Identifier: MIT */
/* kernel/cpu.h, as host tests see it: port I/O goes to a fake device instead of the CPU.
 *
 * A host test that compiles a driver with -Itests/host/fakes ahead of -I. gets this header in
 * place of the real one, and links a fake that defines these functions (fake_ide.c: a PIIX IDE
 * channel as QEMU models it). Only what drivers under test use is declared here; a driver that
 * needs more fails to compile, which is the point.
 */
#ifndef BOUNCE_KERNEL_CPU_H
#define BOUNCE_KERNEL_CPU_H

#include <stddef.h>
#include <stdint.h>

void outb(uint16_t port, uint8_t v);
void outw(uint16_t port, uint16_t v);
void outl(uint16_t port, uint32_t v);
uint8_t inb(uint16_t port);
uint16_t inw(uint16_t port);
uint32_t inl(uint16_t port);
void insw_rep(uint16_t port, void *buf, size_t words);
void outsw_rep(uint16_t port, const void *buf, size_t words);
void cpu_relax(void);

#endif
