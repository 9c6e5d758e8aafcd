/* SPDX-License-Identifier: MIT */
/* kernel/cpu.h, as host tests see it: port I/O goes to a fake device instead of the CPU.
 *
 * A host test that compiles a driver with -Itests/host/fakes ahead of -I. gets this header in
 * place of the real one, and links a fake that defines these functions (fake_ide.c: a PIIX IDE
 * channel as QEMU models it; fake_mmio.c: register windows answered by a fake device's
 * functions). Only what drivers under test use is declared here; a driver that
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
uint8_t mmio_read8(const volatile void *p);
uint16_t mmio_read16(const volatile void *p);
uint32_t mmio_read32(const volatile void *p);
void mmio_write8(volatile void *p, uint8_t v);
void mmio_write16(volatile void *p, uint16_t v);
void mmio_write32(volatile void *p, uint32_t v);
void cpu_relax(void);

#endif
