/* SPDX-License-Identifier: MIT */
/* ide.h - the legacy (parallel ATA) IDE disk driver: the PIIX IDE function of QEMU's -machine pc.
 *
 * Sources, cited where they decide behaviour in ide.c:
 *  - ATA/ATAPI-8 ACS (T13/1699-D): the commands, the Status and Error fields, IDENTIFY DEVICE data
 *    (7.16), device signatures;
 *  - ATA/ATAPI-8 Parallel Transport (ATA8-APT): the register block, device selection, the
 *    software reset (SRST) protocol, PIO and DMA data transfer protocols;
 *  - "Programming Interface for Bus Master IDE Controller" rev 1.0 (SFF-8038i) and the Intel
 *    82371AB PIIX4 datasheet (BMICX, BMISX, BMIDTPX): the bus-master registers and the PRD table
 *    (drivers/ide_prd.h).
 *
 * Disks are named ide0..ide3 = channel * 2 + drive (primary master, primary slave, secondary
 * master, secondary slave). The transfer method is chosen by `ide=dma` (default) or `ide=pio`.
 * Completion is polled (interrupts off, nIEN set), synchronously inside submit: the channel does
 * one command at a time, so a request is issued and polled to completion (with one channel reset
 * and retry on failure) before submit returns; the block layer learns of it at the next poll().
 */
#ifndef BOUNCE_DRIVERS_IDE_H
#define BOUNCE_DRIVERS_IDE_H

#include <stdint.h>

/* Legacy compatibility-mode ports (PIIX4 datasheet, "IDE Controller": fixed I/O ranges when the
 * programming interface selects compatibility mode). */
#define IDE_PRIMARY_CMD 0x1f0
#define IDE_PRIMARY_CTL 0x3f6
#define IDE_SECONDARY_CMD 0x170
#define IDE_SECONDARY_CTL 0x376

/* PCI programming interface bits (PCI IDE Controller Specification): native-PCI mode per channel. */
#define IDE_PROGIF_PRIMARY_NATIVE 0x01
#define IDE_PROGIF_SECONDARY_NATIVE 0x04
#define IDE_PROGIF_BUS_MASTER 0x80

/* Command block registers, offsets from the command block base (ATA8-APT). */
#define ATA_REG_DATA 0
#define ATA_REG_ERROR 1    /* read */
#define ATA_REG_FEATURES 1 /* write */
#define ATA_REG_COUNT 2
#define ATA_REG_LBA_LOW 3
#define ATA_REG_LBA_MID 4
#define ATA_REG_LBA_HIGH 5
#define ATA_REG_DEVICE 6
#define ATA_REG_STATUS 7  /* read: also clears a pending interrupt */
#define ATA_REG_COMMAND 7 /* write */
/* The control block: one register, Alternate Status (read, no side effect) / Device Control (write). */

/* Status (ATA8-ACS, Status field). */
#define ATA_SR_ERR 0x01  /* the command failed: the Error register says why */
#define ATA_SR_DRQ 0x08  /* the device is ready to transfer a block of data */
#define ATA_SR_DF 0x20   /* device fault */
#define ATA_SR_DRDY 0x40 /* device ready (accepts commands) */
#define ATA_SR_BSY 0x80  /* busy: every other bit is meaningless while set */

/* Error (ATA8-ACS, Error field; the older names in parentheses). */
#define ATA_ER_AMNF 0x01 /* obsolete: address mark not found */
#define ATA_ER_NM 0x02   /* no media (obsolete: track 0 not found) */
#define ATA_ER_ABRT 0x04 /* command aborted: unsupported, or could not complete */
#define ATA_ER_MCR 0x08  /* media change request */
#define ATA_ER_IDNF 0x10 /* ID not found: address out of range */
#define ATA_ER_MC 0x20   /* media changed */
#define ATA_ER_UNC 0x40  /* uncorrectable data error */
#define ATA_ER_ICRC 0x80 /* interface CRC error (BBK, bad block, before ATA-4) */

/* Device register. Bits 7 and 5 are obsolete but were "always 1" in older standards: set them. */
#define ATA_DEV_OBS 0xa0
#define ATA_DEV_LBA 0x40
#define ATA_DEV_DRIVE1 0x10

/* Device Control register (ATA8-APT). */
#define ATA_CTL_NIEN 0x02 /* no interrupts: we poll */
#define ATA_CTL_SRST 0x04 /* software reset of both devices on the channel */
#define ATA_CTL_HOB 0x80  /* read the "previous" (high-order) bytes of a 48-bit command */

/* Commands (ATA8-ACS). */
#define ATA_CMD_READ_SECTORS 0x20
#define ATA_CMD_READ_SECTORS_EXT 0x24
#define ATA_CMD_READ_DMA_EXT 0x25
#define ATA_CMD_WRITE_SECTORS 0x30
#define ATA_CMD_WRITE_SECTORS_EXT 0x34
#define ATA_CMD_WRITE_DMA_EXT 0x35
#define ATA_CMD_READ_DMA 0xc8
#define ATA_CMD_WRITE_DMA 0xca
#define ATA_CMD_FLUSH_CACHE 0xe7
#define ATA_CMD_FLUSH_CACHE_EXT 0xea
#define ATA_CMD_IDENTIFY 0xec

/* Device signatures left in LBA mid/high after a reset or an aborted IDENTIFY DEVICE (ATA8-ACS,
 * signatures): an ATA device 00h/00h, a PACKET (ATAPI) device 14h/EBh. */
#define ATA_SIG_ATAPI_MID 0x14
#define ATA_SIG_ATAPI_HIGH 0xeb

/* IDENTIFY DEVICE data, word numbers (ATA8-ACS 7.16). */
#define ID_CONFIG 0                 /* bit 15: 0 = ATA device */
#define ID_SERIAL 10                /* 10 words, ASCII, two characters per word, first in the high byte */
#define ID_MODEL 27                 /* 20 words, same packing */
#define ID_CAPABILITIES 49          /* bit 9: LBA supported, bit 8: DMA supported */
#define ID_LBA28_SECTORS 60         /* words 60-61: user-addressable sectors for 28-bit commands */
#define ID_CMDSET2 83               /* bit 10: 48-bit Address feature set, bit 13: FLUSH CACHE EXT */
#define ID_LBA48_SECTORS 100        /* words 100-103: user-addressable sectors for 48-bit commands */
#define ID_SECTOR_SIZE 106          /* valid if bits 15:14 = 01b; bit 12: logical sector longer than 256 words */
#define ID_LOGICAL_SECTOR_WORDS 117 /* words 117-118: logical sector size in words, if word 106 bit 12 */
/* Bits of those words (ATA8-ACS 7.16, IDENTIFY DEVICE data) */
#define ID_CONFIG_NOT_ATA (1u << 15)            /* word 0: not an ATA device */
#define ID_CAP_DMA (1u << 8)                    /* word 49 */
#define ID_CAP_LBA (1u << 9)                    /* word 49 */
#define ID_CMDSET2_LBA48 (1u << 10)             /* word 83: the 48-bit Address feature set */
#define ID_CMDSET2_FLUSH_EXT (1u << 13)         /* word 83: FLUSH CACHE EXT */
#define ID_VALID_MASK 0xc000u                   /* words 83 and 106 hold data only when bits 15:14 ... */
#define ID_VALID 0x4000u                        /* ... are 01b */
#define ID_SECTOR_SIZE_LONG_LOGICAL (1u << 12)  /* word 106: logical sector longer than 256 words */
#define ATA_LBA28_MAX_SECTORS 0x0fffffffull     /* the most words 60-61 may say: 28 bits */
#define ATA_LBA48_MAX_SECTORS 0xffffffffffffull /* the most words 100-103 may say: 48 bits */

/* Bus-master IDE registers, offsets from BAR4 plus 0 (primary) or 8 (secondary) (SFF-8038i;
 * PIIX4 datasheet BMICX, BMISX, BMIDTPX). */
#define BM_COMMAND 0        /* BMICX */
#define BM_STATUS 2         /* BMISX */
#define BM_PRDT 4           /* BMIDTPX: physical address of the PRD table, 32 bits */
#define BM_CMD_START 0x01   /* start/stop bus master */
#define BM_CMD_READ 0x08    /* direction: 1 = the controller writes memory (a device-to-host READ DMA) */
#define BM_ST_ACTIVE 0x01   /* the engine is transferring */
#define BM_ST_ERROR 0x02    /* a PCI master or target abort: write 1 to clear */
#define BM_ST_INTR 0x04     /* the device raised INTRQ: write 1 to clear */
#define BM_ST_DRV0_DMA 0x20 /* "drive 0 DMA capable", set by firmware: written back unchanged */
#define BM_ST_DRV1_DMA 0x40

#endif
