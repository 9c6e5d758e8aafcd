/* SPDX-License-Identifier: MIT */
/* ide_ata.h - ATA commands on one IDE channel: the register-level half of the IDE driver.
 *
 * ide.c is the driver as the rest of the kernel sees it (PCI probe, DMA mapping, the block layer
 * operations); ide_ata.c speaks ATA through a channel's registers (ATA8-APT protocols: device
 * selection, software reset, IDENTIFY DEVICE, PIO and bus-master DMA commands) and knows nothing
 * of the DMA API or the block queue. This header is what the two share; nothing else includes it.
 */
#ifndef BOUNCE_DRIVERS_IDE_ATA_H
#define BOUNCE_DRIVERS_IDE_ATA_H

#include <stdbool.h>
#include <stdint.h>

#include "dma/dma.h"
#include "drivers/blk.h"
#include "drivers/ide.h"
#include "drivers/ide_prd.h"
#include "kernel/time.h"

#define IDE_MAX_SECTORS_LBA28 256u
#define IDE_MAX_SECTORS_LBA48 2048u /* 1 MiB = BLK_MAX_SEGMENTS pages */
#define IDE_PRDT_BYTES 4096u        /* one page: 4-byte aligned, cannot cross 64 KiB */
#define IDE_PRD_MAX (IDE_PRDT_BYTES / sizeof(struct ide_prd))
/* Mapped pieces of one request: its segments cut at 64 KiB boundaries, which adds at most one
 * piece per 64 KiB of the (at most 1 MiB) transfer. */
#define IDE_MAX_PIECES (BLK_MAX_SEGMENTS + IDE_MAX_SECTORS_LBA48 * SECTOR_SIZE / IDE_PRD_BOUNDARY)
/* Each piece needs one PRD entry: a direct one does not cross 64 KiB by construction, a bounced
 * one is placed within seg_boundary_mask. ide_prd_build() splits anyway, and checks the room. */
_Static_assert(IDE_MAX_PIECES <= IDE_PRD_MAX, "a PRD table page holds every piece of a request");

struct ide_disk;

struct ata_cmd {
    uint8_t opcode;
    bool ext; /* a 48-bit command */
    bool dma; /* a bus-master transfer: the PRD table at ch->prdt_dma describes the buffers */
    const char *name;
};

/* A command that advances at the channel's interrupts (io=irq): where it is, and its one retry. */
struct ide_async {
    bool active;
    int attempt; /* 0, then 1 after a reset */
    struct ide_disk *disk;
    const struct blk_req *req;
    struct ata_cmd cmd;
    uint64_t deadline;
    uint32_t sector, seg, off; /* PIO: sectors moved, and where the next goes */
};

struct ide_channel {
    const char *name;      /* "primary", "secondary" */
    uint16_t cmd, ctl, bm; /* command block, control block, bus-master registers (0: none) */
    int selected;          /* drive the Device register points at; -1 after a reset or at start */
    bool busy;             /* a request is being executed (submit is running) */
    struct ide_prd *prdt;  /* PRD table (NULL: no bus master, PIO only) */
    dma_addr_t prdt_dma;
    struct ide_prd_piece piece[IDE_MAX_PIECES]; /* the current request's mappings */
    size_t npieces;
    bool irq; /* io=irq: nIEN clear, commands advance at INTRQ (ide_async_*) */
    struct ide_async async;
};

struct ide_disk {
    struct blk_dev blk;
    struct ide_channel *ch;
    uint8_t drive; /* 0 master, 1 slave */
    bool lba48, flush_ext, dma_capable;
    char serial[21];
    struct blk_req *done_req; /* finished, waiting for poll() to complete it */
    enum blk_status done_status;
    uint32_t done_bytes; /* ... and the bytes it transferred (blk_complete_bytes) */
};

/* The command for a request: 28-bit when the range fits (LBA + count < 2^28, count <= 256),
 * 48-bit EXT otherwise - Linux libata's rule. */
struct ata_cmd ide_pick_command(const struct ide_disk *d, const struct blk_req *req, bool dma);

/* Run a command to completion, polled: one attempt, on failure one channel reset and a second
 * attempt; a failure is reported in one line naming status, error and bus-master bits. Ends
 * within about two command timeouts and two resets (< BLK_TIMEOUT_NS) whatever the drive does.
 * *sectors_done: the sectors transferred from the start - all of them on success; after a failed
 * PIO read, those the drive delivered (each DRQ block before the error, ATA8-APT: their data is
 * good) in the last attempt; after any other failure 0 (a bus-master transfer gives no count). */
enum blk_status ide_execute(struct ide_disk *d, const struct blk_req *req, const struct ata_cmd *c,
                            uint32_t *sectors_done);

/* The same, interrupt-driven (ch->irq): start the command and return - false: it is in flight,
 * and ide_async_advance() moves it on at each INTRQ; true: it has ended already (it could not be
 * started, twice), with *status and *sectors_done as ide_execute() gives them. */
bool ide_async_begin(struct ide_disk *d, const struct blk_req *req, const struct ata_cmd *c, enum blk_status *status,
                     uint32_t *sectors_done);
/* One INTRQ's worth of the channel's command - or, called from a poll, what a lost interrupt
 * would have done - acknowledging the device's interrupt; past the command's deadline it times
 * out. True when the command has ended (same outcomes and retry as ide_execute). */
bool ide_async_advance(struct ide_channel *ch, enum blk_status *status, uint32_t *sectors_done);

/* io=irq: clear nIEN (Device Control) so the drives assert INTRQ; set ch->irq. */
void ide_enable_interrupts(struct ide_channel *ch);
/* Read Status, which acknowledges a pending interrupt (an INTRQ no command was waiting for). */
void ide_ack_interrupt(const struct ide_channel *ch);

/* Software reset of both devices (ATA8-APT); false when BSY has not cleared within timeout_ns.
 * nIEN is left as ch->irq wants it. */
bool ide_channel_reset(struct ide_channel *ch, uint64_t timeout_ns);

/* How long the reset at probe time may take. A device may take up to 31 s to clear BSY after a
 * software reset (ATA8-APT, software reset protocol: a drive spinning up). QEMU does not answer at
 * once either: since QEMU 5.2 it completes SRST in a bottom half on its main loop (hw/ide/core.c,
 * ide_bus_perform_srst), so BSY clears only when the host gets round to QEMU's main thread. Under
 * nested KVM - an L1 of one TCG-emulated vCPU, THP=always - that took longer than the 1 s this
 * driver once allowed, and the disk vanished (issue 22; tests/host/test_ide_ata.c replays it). */
#define IDE_PROBE_RESET_TIMEOUT_NS (31 * NSEC_PER_SEC)

/* Alternate Status: no side effects. 0xff on a channel with no devices (a floating bus). */
uint8_t ide_alt_status(const struct ide_channel *ch);

/* IDENTIFY DEVICE (ATA8-ACS 7.16) to drive `drive`, after checking its signature: true when an
 * ATA device returned its 256 words into id. Absent and ATAPI devices return false (the latter,
 * and every failure, with a line naming `pos`). */
bool ide_identify(struct ide_channel *ch, uint8_t drive, const char *pos, uint16_t id[256]);

#endif
