/* SPDX-License-Identifier: MIT */
/* layout.h - the guest physical address map the VMM builds (docs/confidential.md). */
#ifndef BOUNCE_VMM_LAYOUT_H
#define BOUNCE_VMM_LAYOUT_H

/* RAM is [0, ram): usable [0, LOW_RAM_END), reserved [LOW_RAM_END, HIGH_RAM_START) (the legacy
 * VGA/BIOS hole, backed but not RAM to the guest), usable [HIGH_RAM_START, ram). */
#define LOW_RAM_END 0x9f000ull
#define HIGH_RAM_START 0x100000ull
#define RAM_MIN (16ull << 20)
#define RAM_MAX (3ull << 30) /* stay below the 32-bit MMIO hole: one memory slot */
#define RAM_DEFAULT (512ull << 20)

/* The boot-shared region [0, S): S = end of the highest PT_LOAD rounded up to this. */
#define BOOT_SHARED_ALIGN (2ull << 20)

/* PVH boot structures (all inside [0, S), written by the VMM). */
#define PVH_START_INFO_GPA 0x6000ull
#define PVH_MEMMAP_GPA 0x6100ull
#define PVH_CMDLINE_GPA 0x7000ull
#define PVH_CMDLINE_MAX 4096u /* including the terminating NUL */
#define PVH_BOOT_AREA_END 0x8000ull

/* Devices */
#define VIRTIO_MMIO_BASE 0xd0000000ull
#define VIRTIO_MMIO_SIZE 0x200ull
#define VIRTIO_MMIO_IRQ 5
#define VIRTIO_MMIO_CMDLINE "virtio_mmio.device=512@0xd0000000:5"
#define IOAPIC_BASE 0xfec00000ull
#define IOAPIC_SIZE 0x1000ull

#define PORT_COM1 0x3f8
#define PORT_DEBUG_EXIT 0xf4

#endif
