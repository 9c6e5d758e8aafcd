/* SPDX-License-Identifier: MIT */
/* fake_ide.h - one PIIX IDE channel, as QEMU's hw/ide/core.c models it, behind fake port I/O.
 *
 * An independent model of what a driver talks to, written from ATA8-ACS/ATA8-APT and from QEMU's
 * behaviour (not from drivers/ide_ata.c): the register file of both devices (48-bit registers
 * as two-byte FIFOs), signatures after reset, Status reading 0 for an absent device 1 (QEMU),
 * IDENTIFY DEVICE, PIO READ/WRITE SECTORS (EXT), FLUSH CACHE (EXT). One thing QEMU does that
 * real drives need not: software reset completes later, when QEMU's main loop runs its bottom
 * half (ide_bus_perform_srst, QEMU >= 5.2); srst_delay_ns says how much later. A bus master
 * (SFF-8038i: command, status, PRD table pointer at FAKE_IDE_BM) runs READ/WRITE DMA (EXT) when
 * started, walking the PRD table at the 32-bit addresses it holds - host addresses below 4 GiB
 * (fake_ide_dma_alloc) - or, with `bm_aborts`, stops with its Error bit (a PCI abort).
 * INTRQ as ATA8-APT raises it with nIEN clear: a PIO data-in block ready, a data-out block taken
 * (not the first), the end of a non-data or data-out command, an error; reading Status (not
 * Alternate Status) lowers it; `intrq` is the line, `interrupts` counts its rises. Every port
 * access costs 1 us of simulated time (fake_clock.h).
 */
#ifndef BOUNCE_TESTS_HOST_FAKE_IDE_H
#define BOUNCE_TESTS_HOST_FAKE_IDE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FAKE_IDE_CMD 0x1f0
#define FAKE_IDE_CTL 0x3f6
#define FAKE_IDE_NEVER UINT64_MAX
#define FAKE_IDE_BM 0xc000 /* the primary channel's bus-master registers */

struct fake_ata_drive {
    /* set by the test */
    bool present, atapi;
    bool identify_aborts; /* answers IDENTIFY DEVICE with ERR + ABRT */
    bool hangs_on_data;   /* stays BSY for good once a data command is issued */
    bool has_bad_sector;  /* a read reaching bad_sector ends there: ERR with UNC (an unreadable sector) */
    bool never_drq;       /* a PIO data command ends BSY without ever setting DRQ */
    uint64_t bad_sector;
    uint8_t *media; /* sectors * 512 bytes */
    uint64_t sectors;
    uint16_t identify[256];
    /* the device's registers (ATA8-ACS, command block) */
    uint8_t status, error, feature, nsector, sector, lcyl, hcyl, select;
    uint8_t hob_feature, hob_nsector, hob_sector, hob_lcyl, hob_hcyl;
    /* the transfer in progress: 256 words of buf, `left` sectors from lba on */
    enum { XFER_NONE, XFER_IDENTIFY, XFER_READ, XFER_WRITE, XFER_DMA_READ, XFER_DMA_WRITE } xfer;
    uint16_t buf[256];
    unsigned pos;
    uint64_t lba;
    uint32_t left;
    /* what the last command was, for assertions */
    uint8_t last_cmd;
    uint64_t last_lba;
    uint32_t last_count;
};

struct fake_ide {
    struct fake_ata_drive drive[2];
    int unit;               /* the selected device (QEMU: bus->unit) */
    uint8_t devctl;         /* Device Control as last written */
    uint64_t srst_delay_ns; /* from SRST set to the reset done (QEMU: its bottom half runs) */
    uint64_t srst_at;       /* when the pending reset completes; FAKE_IDE_NEVER: none pending */
    unsigned resets;        /* completed software resets */
    bool intrq;             /* the interrupt line (nIEN clear), lowered by a Status read */
    unsigned interrupts;    /* its rises */
    /* the bus master (SFF-8038i) */
    uint8_t bm_command, bm_status;
    uint32_t bm_prdt;
    bool bm_aborts;        /* the next transfer ends with Error set: a PCI master abort */
    unsigned bm_transfers; /* transfers the engine ran */
};

extern struct fake_ide fake_ide;

/* An empty channel (no devices, reset done, clock at 0); frees the media of the last one. */
void fake_ide_init(void);
/* Attach an ATA disk of `sectors` (media filled with a pattern of lba and offset) at position
 * `unit`, or an ATAPI device. Returns the media. */
uint8_t *fake_ide_attach_disk(int unit, uint64_t sectors);
void fake_ide_attach_atapi(int unit);
/* Memory below 4 GiB (the bus master's 32-bit addresses), zeroed; freed by the next init. */
void *fake_ide_dma_alloc(size_t bytes);

/* The byte the pattern puts at offset `off` of sector `lba`. */
uint8_t fake_ide_pattern(uint64_t lba, unsigned off);

#endif
