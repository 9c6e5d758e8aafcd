/* SPDX-License-Identifier: MIT */
/* ide_ata.c - ATA commands on one IDE channel, polled (see ide_ata.h; registers in ide.h).
 *
 * A data command runs as ATA8-APT describes it: select the drive, wait for BSY = 0 and DRQ = 0,
 * write the command block, then either move each sector through the Data register (PIO) or
 * start the bus-master engine on the PRD table the caller built (DMA), and end by checking the
 * final Status. Every wait has a deadline; a failed attempt resets the channel and retries once.
 */
#include "drivers/ide_ata.h"

#include <inttypes.h>
#include <stdio.h>

#include "drivers/refusals.h"
#include "kernel/cpu.h"
#include "kernel/time.h"
#include "mm/mm.h"

/* Timeouts. The command timeout is a deadline for the whole command, every wait inside it
 * included. After a failed command the channel is reset with a short timeout, so that a request
 * ends within two commands and two resets - BLK_TIMEOUT_NS - however the drive misbehaves; the
 * reset at probe time waits as long as the standard allows (IDE_PROBE_RESET_TIMEOUT_NS). */
#define IDE_CMD_TIMEOUT_NS (4 * NSEC_PER_SEC)
#define IDE_RECOVERY_RESET_TIMEOUT_NS (1 * NSEC_PER_SEC)
#define IDE_IDENTIFY_TIMEOUT_NS (4 * NSEC_PER_SEC)

/* What an attempt at a command ended with. */
struct ide_result {
    enum blk_status status; /* BLK_OK, BLK_EIO or BLK_ETIMEDOUT */
    const char *what;       /* what went wrong, for the message */
    uint8_t ata_status, error, bm_status;
    uint32_t sectors; /* PIO: sectors moved through the Data register before it ended */
};

/* ---- register access ---- */

uint8_t ide_alt_status(const struct ide_channel *ch) { return inb(ch->ctl); }

/* ATA8-APT: Status is not valid until 400 ns after the Device or Command register is written.
 * Four reads of Alternate Status (no side effects) take at least that long on an ISA-timed bus. */
static void delay_400ns(const struct ide_channel *ch)
{
    for (int i = 0; i < 4; i++)
        (void)ide_alt_status(ch);
}

struct reg_wait {
    uint16_t port;
    uint8_t mask, want, last;
};

static bool reg_matches(void *arg)
{
    struct reg_wait *w = arg;
    w->last = inb(w->port);
    return (w->last & w->mask) == w->want;
}

/* Poll an 8-bit register until (value & mask) == want, or timeout. *last gets the final value. */
static bool wait_reg(uint16_t port, uint8_t mask, uint8_t want, uint64_t timeout_ns, uint8_t *last)
{
    struct reg_wait w = {port, mask, want, 0};
    bool ok = wait_until(reg_matches, &w, timeout_ns);
    if (last)
        *last = w.last;
    return ok;
}

/* Nanoseconds left until a deadline (0 once it has passed: the wait then looks once). */
static uint64_t until(uint64_t deadline)
{
    uint64_t now = time_ns();
    return now < deadline ? deadline - now : 0;
}

/* Alternate Status until BSY clears: it never acknowledges an interrupt, so polling it is free
 * of side effects (ATA8-APT). */
static bool wait_not_busy(const struct ide_channel *ch, uint64_t timeout_ns, uint8_t *st)
{
    return wait_reg(ch->ctl, ATA_SR_BSY, 0, timeout_ns, st);
}

static void select_drive(struct ide_channel *ch, uint8_t drive)
{
    if (ch->selected == drive)
        return;
    outb(ch->cmd + ATA_REG_DEVICE, ATA_DEV_OBS | ATA_DEV_LBA | (drive ? ATA_DEV_DRIVE1 : 0));
    delay_400ns(ch);
    ch->selected = drive;
}

static void bm_stop(const struct ide_channel *ch)
{
    if (!ch->bm)
        return;
    outb(ch->bm + BM_COMMAND, 0);
    /* Error and Interrupt are write-1-to-clear; the drive-capable bits are plain read/write and
     * must be written back as they are (PIIX4 datasheet, BMISX). */
    outb(ch->bm + BM_STATUS, inb(ch->bm + BM_STATUS) | BM_ST_ERROR | BM_ST_INTR);
}

/* Software reset of both devices on the channel (ATA8-APT, software reset protocol): SRST for at
 * least 5 us, then at least 2 ms before BSY is meaningful, then wait for BSY to clear. nIEN stays
 * set throughout when polled (an interrupt line left asserted would serve no one), clear when the
 * channel is interrupt-driven. */
bool ide_channel_reset(struct ide_channel *ch, uint64_t timeout_ns)
{
    uint8_t nien = ch->irq ? 0 : ATA_CTL_NIEN;
    bm_stop(ch);
    outb(ch->ctl, ATA_CTL_SRST | nien);
    delay_ns(5 * NSEC_PER_USEC);
    outb(ch->ctl, nien);
    delay_ns(2 * NSEC_PER_MSEC);
    ch->selected = -1; /* a reset selects device 0; select explicitly next time anyway */
    uint8_t st;
    /* 0 (QEMU: no device 0) and BSY-clear both count as done. */
    return wait_not_busy(ch, timeout_ns, &st) || st == 0;
}

/* The signature in LBA mid/high: ATAPI 14h/EBh (ATA8-ACS, signatures); FFh/FFh is no device at
 * all (a floating bus on real hardware; QEMU posts it for an empty position after a reset). */
static uint16_t signature(const struct ide_channel *ch)
{
    return (uint16_t)(inb(ch->cmd + ATA_REG_LBA_MID) << 8 | inb(ch->cmd + ATA_REG_LBA_HIGH));
}
#define SIG_ATAPI (ATA_SIG_ATAPI_MID << 8 | ATA_SIG_ATAPI_HIGH)
#define SIG_NONE 0xffff

/* ---- messages ---- */

/* snprintf that never moves past the end: returns the bytes actually added. */
static size_t append(char *buf, size_t room, const char *sep, const char *word)
{
    int w = snprintf(buf, room, "%s%s", sep, word);
    return w < 0 ? 0 : (size_t)w < room ? (size_t)w : room - 1;
}

static const char *status_bits(uint8_t st, char *buf, size_t len)
{
    static const char *const names[8] = {"ERR", "IDX", "CORR", "DRQ", "DSC", "DF", "DRDY", "BSY"};
    size_t o = 0;
    buf[0] = '\0';
    for (int b = 7; b >= 0; b--)
        if (st & (1u << b))
            o += append(buf + o, len - o, o ? " " : "", names[b]);
    return buf;
}

/* ATA8-ACS, Error field. The meaning of a bit depends on the command; these are the ones of the
 * read/write/flush commands this driver issues. */
static const char *error_bits(uint8_t err, char *buf, size_t len)
{
    static const char *const names[8] = {"AMNF (address mark not found)", "NM (no media)",
                                         "ABRT (command aborted)",        "MCR (media change request)",
                                         "IDNF (sector not found)",       "MC (media changed)",
                                         "UNC (uncorrectable data)",      "ICRC/BBK (interface CRC / bad block)"};
    size_t o = 0;
    buf[0] = '\0';
    for (int b = 7; b >= 0; b--)
        if (err & (1u << b))
            o += append(buf + o, len - o, o ? ", " : "", names[b]);
    return buf;
}

static void report_failure(const struct ide_disk *d, const struct blk_req *req, const struct ata_cmd *c,
                           const struct ide_result *r, const char *outcome)
{
    char sb[48], eb[200] = "", bmb[32] = "";
    if (r->error) {
        char names[160];
        snprintf(eb, sizeof(eb), ", error 0x%02x [%s]", r->error, error_bits(r->error, names, sizeof(names)));
    }
    if (c->dma)
        snprintf(bmb, sizeof(bmb), ", bus-master status 0x%02x", r->bm_status);
    printf("ide: %s: %s lba %" PRIu64 " +%u: %s: status 0x%02x [%s]%s%s; %s\n", d->blk.name, c->name, req->lba,
           req->nsectors, r->what, r->ata_status, status_bits(r->ata_status, sb, sizeof(sb)), eb, bmb, outcome);
}

/* ---- commands ---- */

static struct ide_result failed(const struct ide_channel *ch, enum blk_status s, const char *what, uint8_t st)
{
    struct ide_result r = {s, what, st, 0, 0, 0};
    /* The Error register is valid only when ERR is set (ATA8-ACS); otherwise report 0. */
    if ((st & (ATA_SR_BSY | ATA_SR_ERR)) == ATA_SR_ERR)
        r.error = inb(ch->cmd + ATA_REG_ERROR);
    if (ch->bm)
        r.bm_status = inb(ch->bm + BM_STATUS);
    return r;
}

static struct ide_result ok_result(void) { return (struct ide_result){BLK_OK, "", 0, 0, 0, 0}; }

/* Choose the command for a request (the 28/48-bit rule: ide_ata.h). */
struct ata_cmd ide_pick_command(const struct ide_disk *d, const struct blk_req *req, bool dma)
{
    if (req->op == BLK_FLUSH)
        return d->flush_ext ? (struct ata_cmd){ATA_CMD_FLUSH_CACHE_EXT, true, false, "FLUSH CACHE EXT"}
                            : (struct ata_cmd){ATA_CMD_FLUSH_CACHE, false, false, "FLUSH CACHE"};
    bool ext = req->lba + req->nsectors >= (1ull << 28) || req->nsectors > IDE_MAX_SECTORS_LBA28;
    static const struct ata_cmd table[2][2][2] = {
        /* [write][dma][ext] */
        {{{ATA_CMD_READ_SECTORS, false, false, "READ SECTORS"},
          {ATA_CMD_READ_SECTORS_EXT, true, false, "READ SECTORS EXT"}},
         {{ATA_CMD_READ_DMA, false, true, "READ DMA"}, {ATA_CMD_READ_DMA_EXT, true, true, "READ DMA EXT"}}},
        {{{ATA_CMD_WRITE_SECTORS, false, false, "WRITE SECTORS"},
          {ATA_CMD_WRITE_SECTORS_EXT, true, false, "WRITE SECTORS EXT"}},
         {{ATA_CMD_WRITE_DMA, false, true, "WRITE DMA"}, {ATA_CMD_WRITE_DMA_EXT, true, true, "WRITE DMA EXT"}}},
    };
    return table[req->op == BLK_WRITE][dma][ext];
}

/* Select the drive, wait until it can take a command, write the command block and the command. */
static struct ide_result issue(struct ide_disk *d, const struct ata_cmd *c, uint64_t lba, uint32_t count,
                               uint64_t deadline)
{
    struct ide_channel *ch = d->ch;
    uint16_t p = ch->cmd;
    uint8_t st;
    select_drive(ch, d->drive);
    /* ATA8-APT: the command block may be written only with BSY = 0 and DRQ = 0. */
    if (!wait_reg(ch->ctl, ATA_SR_BSY | ATA_SR_DRQ, 0, until(deadline), &st))
        return failed(ch, BLK_ETIMEDOUT, "timed out waiting for the drive to be ready for a command", st);
    uint8_t dev = ATA_DEV_OBS | ATA_DEV_LBA | (d->drive ? ATA_DEV_DRIVE1 : 0);
    if (c->ext) {
        /* 48-bit: each register is a two-byte FIFO; write the high-order ("previous") bytes
         * first (ATA8-ACS, 48-bit Address feature set). A count of 0 means 65536. */
        outb(p + ATA_REG_FEATURES, 0);
        outb(p + ATA_REG_COUNT, (uint8_t)(count >> 8));
        outb(p + ATA_REG_LBA_LOW, (uint8_t)(lba >> 24));
        outb(p + ATA_REG_LBA_MID, (uint8_t)(lba >> 32));
        outb(p + ATA_REG_LBA_HIGH, (uint8_t)(lba >> 40));
    } else {
        dev |= (uint8_t)((lba >> 24) & 0x0f); /* LBA bits 27:24 live in the Device register */
    }
    outb(p + ATA_REG_FEATURES, 0);
    outb(p + ATA_REG_COUNT, (uint8_t)count); /* 256 is written as 0, which means 256 */
    outb(p + ATA_REG_LBA_LOW, (uint8_t)lba);
    outb(p + ATA_REG_LBA_MID, (uint8_t)(lba >> 8));
    outb(p + ATA_REG_LBA_HIGH, (uint8_t)(lba >> 16));
    outb(p + ATA_REG_DEVICE, dev);
    outb(p + ATA_REG_COMMAND, c->opcode);
    delay_400ns(ch);
    return ok_result();
}

/* The end of every command: BSY clear, then no ERR, no DF and no DRQ left over. Reading the
 * Status register (not Alternate Status) also acknowledges the device's interrupt. */
static struct ide_result finish(struct ide_channel *ch, uint64_t deadline)
{
    uint8_t st;
    if (!wait_not_busy(ch, until(deadline), &st))
        return failed(ch, BLK_ETIMEDOUT, "timed out waiting for BSY to clear", st);
    st = inb(ch->cmd + ATA_REG_STATUS);
    if (st & (ATA_SR_ERR | ATA_SR_DF))
        return failed(ch, BLK_EIO, st & ATA_SR_DF ? "device fault" : "device reported an error", st);
    if (st & ATA_SR_DRQ)
        return failed(ch, BLK_EIO, "DRQ still set after the command", st);
    return ok_result();
}

/* With BSY clear (status st): the next DRQ block may be moved, or the command failed. */
static struct ide_result block_ready(const struct ide_channel *ch, uint8_t st)
{
    if (st & (ATA_SR_ERR | ATA_SR_DF))
        return failed(ch, BLK_EIO, st & ATA_SR_DF ? "device fault" : "device reported an error", st);
    if (!(st & ATA_SR_DRQ))
        return failed(ch, BLK_EIO, "BSY cleared without DRQ in the middle of the transfer", st);
    return ok_result();
}

/* Move one sector through the Data register at (*seg, *off) of the request, and step past it. */
static void move_sector(const struct ide_channel *ch, const struct blk_req *req, uint32_t *seg, uint32_t *off)
{
    void *buf = phys_to_virt(req->seg[*seg].phys + *off);
    if (req->op == BLK_WRITE)
        outsw_rep(ch->cmd + ATA_REG_DATA, buf, SECTOR_SIZE / 2);
    else
        insw_rep(ch->cmd + ATA_REG_DATA, buf, SECTOR_SIZE / 2);
    *off += SECTOR_SIZE;
    if (*off == req->seg[*seg].len) {
        (*seg)++;
        *off = 0;
    }
}

/* PIO data-in / data-out (ATA8-APT): for each sector, wait for BSY = 0 with DRQ = 1, move 256
 * words through the Data register, repeat; then check the final status. Every sector lies inside
 * one segment because segments are whole sectors. */
static struct ide_result pio_transfer(struct ide_disk *d, const struct blk_req *req, const struct ata_cmd *c,
                                      uint64_t deadline)
{
    struct ide_channel *ch = d->ch;
    struct ide_result r = issue(d, c, req->lba, req->nsectors, deadline);
    if (r.status != BLK_OK)
        return r;
    uint32_t seg = 0, off = 0;
    for (uint32_t s = 0; s < req->nsectors; s++) {
        uint8_t st;
        if (!wait_not_busy(ch, until(deadline), &st))
            r = failed(ch, BLK_ETIMEDOUT, "timed out waiting for DRQ", st);
        else
            r = block_ready(ch, st);
        if (r.status != BLK_OK) {
            r.sectors = s;
            return r;
        }
        move_sector(ch, req, &seg, &off);
    }
    return finish(ch, deadline);
}

static uint8_t bm_direction(const struct blk_req *req) { return req->op == BLK_READ ? BM_CMD_READ : 0; }

/* The engine stopped and pointed at the PRD table, the command issued, the engine started. */
static struct ide_result dma_start(struct ide_disk *d, const struct blk_req *req, const struct ata_cmd *c,
                                   uint64_t deadline)
{
    struct ide_channel *ch = d->ch;
    bm_stop(ch);
    outl(ch->bm + BM_PRDT, (uint32_t)ch->prdt_dma);
    outb(ch->bm + BM_COMMAND, bm_direction(req));
    struct ide_result r = issue(d, c, req->lba, req->nsectors, deadline);
    if (r.status == BLK_OK)
        outb(ch->bm + BM_COMMAND, bm_direction(req) | BM_CMD_START);
    return r;
}

/* Bus-master DMA, the sequence of SFF-8038i "Standard Programming Sequence": stop the engine,
 * clear its status, load the PRD table address and the direction, issue the ATA command, then
 * start the engine. Completion is polled: nIEN is set, so the Interrupt bit of the bus-master
 * status never rises (the device's INTRQ is what sets it) and is not used; instead Alternate
 * Status must show BSY clear and the engine's Active bit must have dropped. Because the PRD
 * table describes exactly the transfer, Active drops when the device is done. */
static struct ide_result dma_transfer(struct ide_disk *d, const struct blk_req *req, const struct ata_cmd *c,
                                      uint64_t deadline)
{
    struct ide_channel *ch = d->ch;
    uint8_t dir = bm_direction(req), st, bms;
    struct ide_result r = dma_start(d, req, c, deadline);
    if (r.status != BLK_OK)
        return r;
    bool done =
        wait_not_busy(ch, until(deadline), &st) && wait_reg(ch->bm + BM_STATUS, BM_ST_ACTIVE, 0, until(deadline), &bms);
    bms = inb(ch->bm + BM_STATUS);
    /* Clear Start whatever happened: the engine must not touch memory once we unmap it. */
    outb(ch->bm + BM_COMMAND, dir);
    if (!done) {
        r = failed(ch, BLK_ETIMEDOUT,
                   st & ATA_SR_BSY ? "timed out waiting for BSY to clear"
                                   : "timed out waiting for the bus master to go idle",
                   ide_alt_status(ch));
        r.bm_status = bms;
        return r;
    }
    r = finish(ch, deadline);
    if (r.status == BLK_OK && (bms & BM_ST_ERROR))
        r = failed(ch, BLK_EIO, "bus master error (PCI abort)", ide_alt_status(ch));
    r.bm_status = bms;
    bm_stop(ch);
    return r;
}

static struct ide_result attempt(struct ide_disk *d, const struct blk_req *req, const struct ata_cmd *c)
{
    uint64_t deadline = time_ns() + IDE_CMD_TIMEOUT_NS;
    if (req->op == BLK_FLUSH) { /* a non-data command: issue, then wait for the end */
        struct ide_result r = issue(d, c, 0, 0, deadline);
        return r.status == BLK_OK ? finish(d->ch, deadline) : r;
    }
    return c->dma ? dma_transfer(d, req, c, deadline) : pio_transfer(d, req, c, deadline);
}

/* One attempt; on failure one channel reset and a second attempt; on a second failure the
 * request fails with one line naming everything known about it. */
/* The first attempt failed: say so and reset the channel for the second. */
static void before_retry(struct ide_disk *d, const struct blk_req *req, const struct ata_cmd *c,
                         const struct ide_result *r)
{
    report_failure(d, req, c, r, "resetting the channel and retrying");
    ide_channel_reset(d->ch, IDE_RECOVERY_RESET_TIMEOUT_NS);
}

/* How the second attempt ended: the status, and *sectors_done. */
static enum blk_status after_retry(struct ide_disk *d, const struct blk_req *req, const struct ata_cmd *c,
                                   const struct ide_result *r, uint32_t *sectors_done)
{
    *sectors_done = req->op == BLK_FLUSH ? 0 : req->nsectors;
    if (r->status == BLK_OK) {
        printf("ide: %s: %s lba %" PRIu64 " +%u succeeded on retry\n", d->blk.name, c->name, req->lba, req->nsectors);
        return BLK_OK;
    }
    report_failure(d, req, c, r, r->status == BLK_ETIMEDOUT ? "failed again: timed out" : "failed again: I/O error");
    *sectors_done = !c->dma && req->op == BLK_READ ? r->sectors : 0;
    /* Leave the channel usable: a drive still in the command (timed out, busy, or holding DRQ)
     * would make the next request wait for a timeout before its own reset. */
    if (r->status == BLK_ETIMEDOUT || (ide_alt_status(d->ch) & (ATA_SR_BSY | ATA_SR_DRQ)))
        ide_channel_reset(d->ch, IDE_RECOVERY_RESET_TIMEOUT_NS);
    return r->status;
}

enum blk_status ide_execute(struct ide_disk *d, const struct blk_req *req, const struct ata_cmd *c,
                            uint32_t *sectors_done)
{
    *sectors_done = req->op == BLK_FLUSH ? 0 : req->nsectors;
    struct ide_result r = attempt(d, req, c);
    if (r.status == BLK_OK)
        return BLK_OK;
    before_retry(d, req, c, &r);
    r = attempt(d, req, c);
    return after_retry(d, req, c, &r, sectors_done);
}

void ide_enable_interrupts(struct ide_channel *ch)
{
    ch->irq = true;
    outb(ch->ctl, 0);
}

void ide_ack_interrupt(const struct ide_channel *ch) { (void)inb(ch->cmd + ATA_REG_STATUS); }

/* ---- interrupt-driven commands (io=irq) ----
 *
 * The same protocols, cut at the points where the device raises INTRQ (ATA8-APT): a DMA or a
 * non-data command interrupts once, at its end; PIO data-in interrupts when each DRQ block is
 * ready (and not after the last one is read); PIO data-out hands over its first block without an
 * interrupt, then interrupts after each block it has taken, the last time at its end. Reading
 * Status acknowledges the interrupt. */

/* Attempt `ch->async.attempt` of the command: issue it; start the engine (DMA) or hand over the
 * first sector (a PIO write). */
static struct ide_result async_start(struct ide_channel *ch)
{
    struct ide_async *a = &ch->async;
    a->deadline = time_ns() + IDE_CMD_TIMEOUT_NS;
    a->sector = a->seg = a->off = 0;
    if (a->cmd.dma)
        return dma_start(a->disk, a->req, &a->cmd, a->deadline);
    bool flush = a->req->op == BLK_FLUSH;
    struct ide_result r = issue(a->disk, &a->cmd, flush ? 0 : a->req->lba, flush ? 0 : a->req->nsectors, a->deadline);
    if (r.status != BLK_OK || a->req->op != BLK_WRITE)
        return r;
    uint8_t st;
    if (!wait_not_busy(ch, until(a->deadline), &st))
        return failed(ch, BLK_ETIMEDOUT, "timed out waiting for DRQ", st);
    r = block_ready(ch, st);
    if (r.status == BLK_OK) {
        move_sector(ch, a->req, &a->seg, &a->off);
        a->sector = 1;
    }
    return r;
}

enum async_step { STEP_WAIT, STEP_ENDED };

/* What one interrupt moves on. STEP_WAIT: nothing to do yet (BSY, the engine still running - a
 * poll too early, or an interrupt that was not the command's), or a PIO block moved. */
static enum async_step async_step(struct ide_channel *ch, struct ide_result *r)
{
    struct ide_async *a = &ch->async;
    if (ide_alt_status(ch) & ATA_SR_BSY)
        return STEP_WAIT;
    if (a->cmd.dma) {
        uint8_t bms = inb(ch->bm + BM_STATUS);
        if ((bms & BM_ST_ACTIVE) && !(bms & (BM_ST_INTR | BM_ST_ERROR)))
            return STEP_WAIT;
        outb(ch->bm + BM_COMMAND, bm_direction(a->req)); /* clear Start before anything is unmapped */
        *r = finish(ch, a->deadline);                    /* reads Status: acknowledges INTRQ */
        if (r->status == BLK_OK && (bms & BM_ST_ERROR))
            *r = failed(ch, BLK_EIO, "bus master error (PCI abort)", ide_alt_status(ch));
        r->bm_status = bms;
        bm_stop(ch);
        return STEP_ENDED;
    }
    if (a->req->op == BLK_FLUSH) {
        *r = finish(ch, a->deadline);
        return STEP_ENDED;
    }
    uint8_t st = inb(ch->cmd + ATA_REG_STATUS); /* acknowledges INTRQ */
    if (a->sector == a->req->nsectors) {        /* a write's last block taken: the end */
        *r = st & (ATA_SR_ERR | ATA_SR_DF) ? failed(ch, BLK_EIO, "device reported an error", st)
            : st & ATA_SR_DRQ              ? failed(ch, BLK_EIO, "DRQ still set after the command", st)
                                           : ok_result();
        r->sectors = a->sector;
        return STEP_ENDED;
    }
    *r = block_ready(ch, st);
    if (r->status != BLK_OK) {
        r->sectors = a->sector;
        return STEP_ENDED;
    }
    move_sector(ch, a->req, &a->seg, &a->off);
    a->sector++;
    if (a->req->op == BLK_READ && a->sector == a->req->nsectors) { /* no interrupt follows the last block */
        *r = finish(ch, a->deadline);
        r->sectors = a->sector;
        return STEP_ENDED;
    }
    return STEP_WAIT;
}

/* An attempt ended with r: true when the command is over (*status, *sectors_done); false when
 * it was started again. */
static bool async_settle(struct ide_channel *ch, struct ide_result r, enum blk_status *status, uint32_t *sectors_done)
{
    struct ide_async *a = &ch->async;
    if (r.status != BLK_OK && a->attempt == 0) {
        before_retry(a->disk, a->req, &a->cmd, &r);
        a->attempt = 1;
        r = async_start(ch);
        if (r.status == BLK_OK)
            return false;
    }
    if (a->attempt == 0) {
        *status = BLK_OK;
        *sectors_done = a->req->op == BLK_FLUSH ? 0 : a->req->nsectors;
    } else {
        *status = after_retry(a->disk, a->req, &a->cmd, &r, sectors_done);
    }
    a->active = false;
    return true;
}

bool ide_async_begin(struct ide_disk *d, const struct blk_req *req, const struct ata_cmd *c, enum blk_status *status,
                     uint32_t *sectors_done)
{
    struct ide_channel *ch = d->ch;
    ch->async = (struct ide_async){.active = true, .attempt = 0, .disk = d, .req = req, .cmd = *c};
    struct ide_result r = async_start(ch);
    return r.status != BLK_OK && async_settle(ch, r, status, sectors_done);
}

bool ide_async_advance(struct ide_channel *ch, enum blk_status *status, uint32_t *sectors_done)
{
    struct ide_result r;
    if (!ch->async.active)
        return false;
    if (async_step(ch, &r) == STEP_WAIT) {
        if (time_ns() <= ch->async.deadline)
            return false;
        r = failed(ch, BLK_ETIMEDOUT, "timed out waiting for the drive's interrupt", ide_alt_status(ch));
        r.sectors = ch->async.sector;
    }
    return async_settle(ch, r, status, sectors_done);
}

/* ---- identification ---- */

bool ide_identify(struct ide_channel *ch, uint8_t drive, const char *pos, uint16_t id[256])
{
    select_drive(ch, drive);
    /* A PACKET device posts its signature at reset (ATA8-ACS, signatures) and may leave Status
     * 00h (DRDY clear), so look at the signature first. QEMU's -machine pc has an empty CD-ROM at
     * secondary master. */
    uint16_t sig = signature(ch);
    if (sig == SIG_ATAPI) {
        dev_refuse("ide", pos, "an ATAPI (packet) device: bounce drives ATA disks only");
        return false;
    }
    /* An ATA device sets DRDY once out of reset: 00h or FFh means nobody is there. Said in one
     * line, so that a guest log shows what each position looked like. */
    uint8_t st = ide_alt_status(ch);
    if (sig == SIG_NONE || st == 0 || st == 0xff) {
        printf("ide: %s: empty (signature %04x, status 0x%02x)\n", pos, sig, st);
        return false;
    }
    if (!wait_not_busy(ch, IDE_IDENTIFY_TIMEOUT_NS, &st)) {
        dev_refuse("ide", pos, "BSY never clears (status %#x)", st);
        return false;
    }
    uint16_t p = ch->cmd;
    outb(p + ATA_REG_FEATURES, 0);
    outb(p + ATA_REG_COUNT, 0);
    outb(p + ATA_REG_LBA_LOW, 0);
    outb(p + ATA_REG_LBA_MID, 0);
    outb(p + ATA_REG_LBA_HIGH, 0);
    outb(p + ATA_REG_COMMAND, ATA_CMD_IDENTIFY);
    delay_400ns(ch);
    if (!wait_not_busy(ch, IDE_IDENTIFY_TIMEOUT_NS, &st)) {
        dev_refuse("ide", pos, "IDENTIFY DEVICE timed out (status %#x)", st);
        return false;
    }
    st = inb(p + ATA_REG_STATUS);
    if (st & ATA_SR_ERR) {
        /* A PACKET device aborts IDENTIFY DEVICE and leaves its signature (ATA8-ACS 7.16). */
        if (signature(ch) == SIG_ATAPI)
            dev_refuse("ide", pos, "an ATAPI (packet) device: bounce drives ATA disks only");
        else
            dev_refuse("ide", pos, "IDENTIFY DEVICE failed (status %#x, error %#x)", st, inb(p + ATA_REG_ERROR));
        return false;
    }
    if (!(st & ATA_SR_DRQ)) {
        dev_refuse("ide", pos, "IDENTIFY DEVICE returned no data (status %#x)", st);
        return false;
    }
    insw_rep(p + ATA_REG_DATA, id, 256);
    (void)inb(p + ATA_REG_STATUS);
    return true;
}
