/* ide.c - the PIIX IDE disk driver: probe, PIO and bus-master DMA, polled (see ide.h).
 *
 * Flow of a request (submit): pick the ATA command, map the segments with the DMA API and build
 * the PRD table (DMA mode), issue the command, poll it to completion, on failure reset the
 * channel once and try again, unmap. The hardware is then idle again, but the request is handed
 * back to the block layer (blk_complete) only from poll(): the block layer takes a request off
 * its queue after submit returns, so completing inside submit would run end_io - which may
 * submit again - while the finished request is still at the head of the queue. Hence one
 * finished request per disk waits for poll(), and idle() is false until it has been reaped.
 *
 * Command choice: the 28-bit commands when the range fits them (LBA + count < 2^28 and count
 * <= 256), the 48-bit EXT commands otherwise - Linux libata's rule. A disk with the 48-bit feature
 * set takes requests of up to 2048 sectors (1 MiB), so both paths are exercised on QEMU.
 */
#include "drivers/ide.h"

#include <stdio.h>
#include <string.h>

#include "dma/dma.h"
#include "drivers/blk.h"
#include "drivers/drivers.h"
#include "drivers/ide_prd.h"
#include "drivers/pci.h"
#include "kernel/cpu.h"
#include "kernel/options.h"
#include "kernel/time.h"
#include "mm/mm.h"

/* Timeouts. Real drives may take up to 31 s to come out of reset while spinning up (ATA8-APT);
 * QEMU answers at once, even under TCG (a 1 MiB PIO read takes ~120 ms there). The command
 * timeout is a deadline for the whole command, every wait inside it included, so a request ends
 * within two commands and two resets: about 10 s, BLK_TIMEOUT_NS, however the drive misbehaves. */
#define IDE_RESET_TIMEOUT_NS (1 * NSEC_PER_SEC)
#define IDE_CMD_TIMEOUT_NS (4 * NSEC_PER_SEC)
#define IDE_IDENTIFY_TIMEOUT_NS (1 * NSEC_PER_SEC)

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

struct ide_channel {
    const char *name;       /* "primary", "secondary" */
    uint16_t cmd, ctl, bm;  /* command block, control block, bus-master registers (0: none) */
    int selected;           /* drive the Device register points at; -1 after a reset or at start */
    bool busy;              /* a request is being executed (submit is running) */
    struct ide_prd *prdt;   /* PRD table (NULL: no bus master, PIO only) */
    dma_addr_t prdt_dma;
    struct ide_prd_piece piece[IDE_MAX_PIECES]; /* the current request's mappings */
    size_t npieces;
};

struct ide_disk {
    struct blk_dev blk;
    struct ide_channel *ch;
    uint8_t drive; /* 0 master, 1 slave */
    bool lba48, flush_ext, dma_capable;
    char serial[21];
    struct blk_req *done_req;          /* finished, waiting for poll() to complete it */
    enum blk_status done_status;
};

/* What an attempt at a command ended with. */
struct ide_result {
    enum blk_status status; /* BLK_OK, BLK_EIO or BLK_ETIMEDOUT */
    const char *what;       /* what went wrong, for the message */
    uint8_t ata_status, error, bm_status;
};

struct ata_cmd {
    uint8_t opcode;
    bool ext;   /* a 48-bit command */
    bool dma;   /* a bus-master transfer */
    const char *name;
};

static struct ide_channel channels[2];
static struct ide_disk disks[4];

/* The controller as the DMA layer sees it: a 32-bit bus master whose PRD regions cannot cross
 * 64 KiB and hold at most 64 KiB (SFF-8038i, "Physical Region Descriptor"). */
static struct dma_dev ide_dma = {
    .name = "ide",
    .dma_mask = DMA_BIT_MASK(32),
    .seg_boundary_mask = 0xffff,
    .max_segment_size = 65536,
};

/* ---- register access ---- */

/* String I/O moves a sector in one instruction; under KVM that is one exit per page instead of
 * one per word. The direction flag is clear at every C function boundary (SysV ABI). */
static inline void insw_rep(uint16_t port, void *buf, size_t words)
{
    __asm__ volatile("rep insw" : "+D"(buf), "+c"(words) : "d"(port) : "memory");
}
static inline void outsw_rep(uint16_t port, const void *buf, size_t words)
{
    __asm__ volatile("rep outsw" : "+S"(buf), "+c"(words) : "d"(port) : "memory");
}

static uint8_t alt_status(const struct ide_channel *ch) { return inb(ch->ctl); }

/* ATA8-APT: Status is not valid until 400 ns after the Device or Command register is written.
 * Four reads of Alternate Status (no side effects) take at least that long on an ISA-timed bus. */
static void delay_400ns(const struct ide_channel *ch)
{
    for (int i = 0; i < 4; i++)
        (void)alt_status(ch);
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
 * set throughout: we poll, and an interrupt line left asserted would serve no one. */
static bool channel_reset(struct ide_channel *ch)
{
    bm_stop(ch);
    outb(ch->ctl, ATA_CTL_SRST | ATA_CTL_NIEN);
    delay_ns(5 * NSEC_PER_USEC);
    outb(ch->ctl, ATA_CTL_NIEN);
    delay_ns(2 * NSEC_PER_MSEC);
    ch->selected = -1; /* a reset selects device 0; select explicitly next time anyway */
    uint8_t st;
    /* 0 (QEMU: no device 0) and BSY-clear both count as done. */
    return wait_not_busy(ch, IDE_RESET_TIMEOUT_NS, &st) || st == 0;
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
                                         "ABRT (command aborted)", "MCR (media change request)",
                                         "IDNF (sector not found)", "MC (media changed)",
                                         "UNC (uncorrectable data)", "ICRC/BBK (interface CRC / bad block)"};
    size_t o = 0;
    buf[0] = '\0';
    for (int b = 7; b >= 0; b--)
        if (err & (1u << b))
            o += append(buf + o, len - o, o ? ", " : "", names[b]);
    return buf;
}

static const char *op_name(enum blk_op op) { return op == BLK_READ ? "read" : op == BLK_WRITE ? "write" : "flush"; }

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
    printf("ide: %s: %s lba %llu +%u: %s: status 0x%02x [%s]%s%s; %s\n", d->blk.name, c->name,
           (unsigned long long)req->lba, req->nsectors, r->what, r->ata_status, status_bits(r->ata_status, sb, sizeof(sb)),
           eb, bmb, outcome);
}

/* ---- commands ---- */

static struct ide_result failed(const struct ide_channel *ch, enum blk_status s, const char *what, uint8_t st)
{
    struct ide_result r = {s, what, st, 0, 0};
    /* The Error register is valid only when ERR is set (ATA8-ACS); otherwise report 0. */
    if ((st & (ATA_SR_BSY | ATA_SR_ERR)) == ATA_SR_ERR)
        r.error = inb(ch->cmd + ATA_REG_ERROR);
    if (ch->bm)
        r.bm_status = inb(ch->bm + BM_STATUS);
    return r;
}

static struct ide_result ok_result(void) { return (struct ide_result){BLK_OK, "", 0, 0, 0}; }

/* Choose the command for a request (see the header comment for the 28/48-bit rule). */
static struct ata_cmd pick_command(const struct ide_disk *d, const struct blk_req *req, bool dma)
{
    if (req->op == BLK_FLUSH)
        return d->flush_ext ? (struct ata_cmd){ATA_CMD_FLUSH_CACHE_EXT, true, false, "FLUSH CACHE EXT"}
                            : (struct ata_cmd){ATA_CMD_FLUSH_CACHE, false, false, "FLUSH CACHE"};
    bool ext = req->lba + req->nsectors >= (1ull << 28) || req->nsectors > IDE_MAX_SECTORS_LBA28;
    static const struct ata_cmd table[2][2][2] = {
        /* [write][dma][ext] */
        {{{ATA_CMD_READ_SECTORS, false, false, "READ SECTORS"}, {ATA_CMD_READ_SECTORS_EXT, true, false, "READ SECTORS EXT"}},
         {{ATA_CMD_READ_DMA, false, true, "READ DMA"}, {ATA_CMD_READ_DMA_EXT, true, true, "READ DMA EXT"}}},
        {{{ATA_CMD_WRITE_SECTORS, false, false, "WRITE SECTORS"}, {ATA_CMD_WRITE_SECTORS_EXT, true, false, "WRITE SECTORS EXT"}},
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
            return failed(ch, BLK_ETIMEDOUT, "timed out waiting for DRQ", st);
        if (st & (ATA_SR_ERR | ATA_SR_DF))
            return failed(ch, BLK_EIO, st & ATA_SR_DF ? "device fault" : "device reported an error", st);
        if (!(st & ATA_SR_DRQ))
            return failed(ch, BLK_EIO, "BSY cleared without DRQ in the middle of the transfer", st);
        void *buf = phys_to_virt(req->seg[seg].phys + off);
        if (req->op == BLK_WRITE)
            outsw_rep(ch->cmd + ATA_REG_DATA, buf, SECTOR_SIZE / 2);
        else
            insw_rep(ch->cmd + ATA_REG_DATA, buf, SECTOR_SIZE / 2);
        off += SECTOR_SIZE;
        if (off == req->seg[seg].len) {
            seg++;
            off = 0;
        }
    }
    return finish(ch, deadline);
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
    uint8_t dir = req->op == BLK_READ ? BM_CMD_READ : 0, st, bms;
    bm_stop(ch);
    outl(ch->bm + BM_PRDT, (uint32_t)ch->prdt_dma);
    outb(ch->bm + BM_COMMAND, dir);
    struct ide_result r = issue(d, c, req->lba, req->nsectors, deadline);
    if (r.status != BLK_OK)
        return r;
    outb(ch->bm + BM_COMMAND, dir | BM_CMD_START);
    bool done = wait_not_busy(ch, until(deadline), &st) &&
                wait_reg(ch->bm + BM_STATUS, BM_ST_ACTIVE, 0, until(deadline), &bms);
    bms = inb(ch->bm + BM_STATUS);
    /* Clear Start whatever happened: the engine must not touch memory once we unmap it. */
    outb(ch->bm + BM_COMMAND, dir);
    if (!done) {
        r = failed(ch, BLK_ETIMEDOUT, st & ATA_SR_BSY ? "timed out waiting for BSY to clear"
                                                      : "timed out waiting for the bus master to go idle", alt_status(ch));
        r.bm_status = bms;
        return r;
    }
    r = finish(ch, deadline);
    if (r.status == BLK_OK && (bms & BM_ST_ERROR))
        r = failed(ch, BLK_EIO, "bus master error (PCI abort)", alt_status(ch));
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
static enum blk_status execute(struct ide_disk *d, const struct blk_req *req, const struct ata_cmd *c)
{
    struct ide_result r = attempt(d, req, c);
    if (r.status == BLK_OK)
        return BLK_OK;
    report_failure(d, req, c, &r, "resetting the channel and retrying");
    channel_reset(d->ch);
    r = attempt(d, req, c);
    if (r.status == BLK_OK) {
        printf("ide: %s: %s lba %llu +%u succeeded on retry\n", d->blk.name, c->name, (unsigned long long)req->lba,
               req->nsectors);
        return BLK_OK;
    }
    report_failure(d, req, c, &r, r.status == BLK_ETIMEDOUT ? "failed again: timed out" : "failed again: I/O error");
    /* Leave the channel usable: a drive still in the command (timed out, busy, or holding DRQ)
     * would make the next request wait for a timeout before its own reset. */
    if (r.status == BLK_ETIMEDOUT || (alt_status(d->ch) & (ATA_SR_BSY | ATA_SR_DRQ)))
        channel_reset(d->ch);
    return r.status;
}

/* ---- DMA mapping ---- */

static void unmap_pieces(struct ide_channel *ch, enum dma_data_direction dir, unsigned attrs)
{
    for (size_t i = 0; i < ch->npieces; i++)
        dma_unmap_page_attrs(&ide_dma, ch->piece[i].addr, ch->piece[i].len, dir, attrs);
    ch->npieces = 0;
}

enum map_result { MAP_OK, MAP_NO_SLOTS, MAP_INVALID };

/* The request's segments cut at 64 KiB boundaries of their physical addresses: a direct mapping
 * (bus address = physical) of a piece then never crosses one, and no piece exceeds the 64 KiB
 * max_segment_size. fn is called for each piece; it returns false to stop. */
static bool for_each_piece(const struct blk_req *req, bool (*fn)(void *arg, uint64_t phys, uint32_t len), void *arg)
{
    for (uint32_t i = 0; i < req->nseg; i++) {
        uint64_t phys = req->seg[i].phys, left = req->seg[i].len;
        while (left > 0) {
            uint64_t room = IDE_PRD_BOUNDARY - (phys & (IDE_PRD_BOUNDARY - 1));
            uint32_t len = (uint32_t)(left < room ? left : room);
            if (!fn(arg, phys, len))
                return false;
            phys += len;
            left -= len;
        }
    }
    return true;
}

struct map_state {
    struct ide_channel *ch;
    enum dma_data_direction dir;
    enum map_result result;
};

static bool map_piece(void *arg, uint64_t phys, uint32_t len)
{
    struct map_state *m = arg;
    struct ide_channel *ch = m->ch;
    if (ch->npieces == IDE_MAX_PIECES) {
        m->result = MAP_INVALID;
        return false;
    }
    dma_addr_t a = dma_map_page(&ide_dma, phys & ~(uint64_t)(PAGE_SIZE - 1), phys & (PAGE_SIZE - 1), len, m->dir);
    if (dma_mapping_error(&ide_dma, a)) {
        m->result = MAP_NO_SLOTS;
        return false;
    }
    ch->piece[ch->npieces++] = (struct ide_prd_piece){a, len};
    return true;
}

/* Map every piece through the DMA API (a bounced one is placed by the DMA layer within
 * seg_boundary_mask), then build the PRD table from the bus addresses. *nprd: its entries. */
static enum map_result map_request(struct ide_channel *ch, const struct blk_req *req, enum dma_data_direction dir,
                                   int *nprd)
{
    struct map_state m = {ch, dir, MAP_OK};
    ch->npieces = 0;
    if (for_each_piece(req, map_piece, &m))
        *nprd = ide_prd_build(ch->piece, ch->npieces, ch->prdt, IDE_PRD_MAX);
    if (m.result == MAP_OK && *nprd < 0)
        m.result = MAP_INVALID;
    if (m.result != MAP_OK)
        unmap_pieces(ch, dir, DMA_ATTR_SKIP_CPU_SYNC); /* the device never saw them: nothing to copy back */
    return m.result;
}

/* Prepare a bus-master transfer. DMA_WAIT: the bounce pool is full for now. The block layer
 * keeps the request and offers it again only after some request completes (and so frees slots),
 * and it caps requests at half the pool, so one always fits once others finish. */
enum dma_prep { DMA_READY, DMA_WAIT, DMA_INVALID };

static enum dma_prep prepare_dma(struct ide_disk *d, const struct blk_req *req, enum dma_data_direction dir, int *nprd)
{
    enum map_result m = map_request(d->ch, req, dir, nprd);
    if (m == MAP_INVALID) {
        printf("ide: %s: %s lba %llu +%u: segments cannot be described by a PRD table\n", d->blk.name,
               op_name(req->op), (unsigned long long)req->lba, req->nsectors);
        return DMA_INVALID;
    }
    return m == MAP_OK ? DMA_READY : DMA_WAIT;
}

/* ---- block layer operations ---- */

static int ide_submit(struct blk_dev *bd, struct blk_req *req)
{
    struct ide_disk *d = bd->driver;
    struct ide_channel *ch = d->ch;
    if (ch->busy || d->done_req)
        return -1; /* a command in progress on the channel, or a finished one not reaped yet */
    bd->fills_by_dma = kopts.ide_mode == 0 && d->dma_capable && ch->prdt; /* ide= may change at run time */
    bool dma = req->op != BLK_FLUSH && bd->fills_by_dma;
    enum dma_data_direction dir = req->op == BLK_READ ? DMA_FROM_DEVICE : DMA_TO_DEVICE;
    int nprd = 0;
    if (dma) {
        switch (prepare_dma(d, req, dir, &nprd)) {
        case DMA_READY:
            break;
        case DMA_WAIT:
            return -1;
        case DMA_INVALID:
            d->done_req = req;
            d->done_status = BLK_EINVAL;
            return 0;
        }
    }
    ch->busy = true;
    struct ata_cmd c = pick_command(d, req, dma);
    if (trace_on(TRACE_BLK)) {
        if (req->op == BLK_FLUSH)
            printf("ide: %s %s\n", bd->name, c.name);
        else if (dma)
            printf("ide: %s DMA %s lba %llu +%u, %s, %d PRD entries\n", bd->name, op_name(req->op),
                   (unsigned long long)req->lba, req->nsectors, c.name, nprd);
        else
            printf("ide: %s PIO %s lba %llu +%u, %s\n", bd->name, op_name(req->op), (unsigned long long)req->lba,
                   req->nsectors, c.name);
    }
    enum blk_status st = execute(d, req, &c);
    if (dma)
        unmap_pieces(ch, dir, 0); /* for a read, this copies bounced data back to the segments */
    ch->busy = false;
    d->done_req = req;
    d->done_status = st;
    return 0;
}

static int ide_poll(struct blk_dev *bd)
{
    struct ide_disk *d = bd->driver;
    struct blk_req *req = d->done_req;
    if (!req)
        return 0;
    d->done_req = NULL;
    blk_complete(bd, req, d->done_status);
    return 1;
}

static bool ide_idle(struct blk_dev *bd)
{
    const struct ide_disk *d = bd->driver;
    return !d->ch->busy && !d->done_req;
}

static const struct blk_ops ide_ops = {.submit = ide_submit, .poll = ide_poll, .idle = ide_idle};

/* ---- probing ---- */

/* IDENTIFY strings hold two characters per word, the first in the high byte (ATA8-ACS 7.16),
 * padded with spaces. */
static void id_string(const uint16_t *id, int word, int nwords, char *out)
{
    int n = 0;
    for (int i = 0; i < nwords; i++) {
        out[n++] = (char)(id[word + i] >> 8);
        out[n++] = (char)(id[word + i] & 0xff);
    }
    out[n] = '\0';
    for (int i = 0; i < n; i++)
        if (out[i] != '\0' && (out[i] < 0x20 || out[i] > 0x7e))
            out[i] = '?';
    while (n > 0 && (out[n - 1] == ' ' || out[n - 1] == '\0'))
        out[--n] = '\0';
    int lead = 0;
    while (out[lead] == ' ')
        lead++;
    memmove(out, out + lead, (size_t)(n - lead + 1));
}

static void register_disk(struct ide_channel *ch, int c, uint8_t drive, const uint16_t *id, const char *pos)
{
    struct ide_disk *d = &disks[c * 2 + drive];
    d->ch = ch;
    d->drive = drive;
    /* Words 82-84 are valid only when bit 14 of word 83 is one and bit 15 zero (ATA8-ACS 7.16). */
    bool w83_valid = (id[ID_CMDSET2] & 0xc000) == 0x4000;
    d->lba48 = w83_valid && (id[ID_CMDSET2] & (1u << 10));
    d->flush_ext = d->lba48 && (id[ID_CMDSET2] & (1u << 13));
    d->dma_capable = id[ID_CAPABILITIES] & (1u << 8);
    uint64_t cap28 = id[ID_LBA28_SECTORS] | (uint64_t)id[ID_LBA28_SECTORS + 1] << 16;
    uint64_t cap48 = 0;
    for (int i = 3; i >= 0; i--)
        cap48 = cap48 << 16 | id[ID_LBA48_SECTORS + i];
    cap48 &= (1ull << 48) - 1;
    id_string(id, ID_SERIAL, 10, d->serial);
    struct blk_dev *b = &d->blk;
    snprintf(b->name, sizeof(b->name), "ide%d", c * 2 + drive);
    id_string(id, ID_MODEL, 20, b->model);
    b->capacity = d->lba48 && cap48 ? cap48 : cap28;
    b->max_sectors = d->lba48 ? IDE_MAX_SECTORS_LBA48 : IDE_MAX_SECTORS_LBA28;
    b->max_segments = BLK_MAX_SEGMENTS;
    b->has_flush = true;
    b->dma = d->dma_capable && ch->prdt ? &ide_dma : NULL;
    b->fills_by_dma = b->dma && kopts.ide_mode == 0;
    b->ops = &ide_ops;
    b->driver = d;
    printf("ide: %s = %s: serial %s, %s, %s%s\n", b->name, pos, d->serial, d->lba48 ? "LBA48" : "LBA28",
           d->dma_capable && ch->prdt ? "bus-master DMA" : "PIO only",
           kopts.ide_mode == 1 && d->dma_capable && ch->prdt ? " (ide=pio: using PIO)" : "");
    blk_register(b);
}

static void probe_drive(struct ide_channel *ch, int c, uint8_t drive)
{
    char pos[24];
    snprintf(pos, sizeof(pos), "%s %s", ch->name, drive ? "slave" : "master");
    select_drive(ch, drive);
    /* A PACKET device posts its signature at reset (ATA8-ACS, signatures) and may leave Status
     * 00h (DRDY clear), so look at the signature first. QEMU's -machine pc has an empty CD-ROM at
     * secondary master. */
    uint16_t sig = signature(ch);
    if (sig == SIG_ATAPI) {
        printf("ide: %s: ATAPI (packet) device, skipped\n", pos);
        return;
    }
    /* An ATA device sets DRDY once out of reset: 00h or FFh means nobody is there. */
    uint8_t st = alt_status(ch);
    if (sig == SIG_NONE || st == 0 || st == 0xff)
        return;
    if (!wait_not_busy(ch, IDE_IDENTIFY_TIMEOUT_NS, &st)) {
        printf("ide: %s: BSY never clears (status %#x), skipped\n", pos, st);
        return;
    }
    uint16_t p = ch->cmd;
    outb(p + ATA_REG_FEATURES, 0);
    outb(p + ATA_REG_COUNT, 0);
    outb(p + ATA_REG_LBA_LOW, 0);
    outb(p + ATA_REG_LBA_MID, 0);
    outb(p + ATA_REG_LBA_HIGH, 0);
    outb(p + ATA_REG_COMMAND, ATA_CMD_IDENTIFY);
    delay_400ns(ch);
    if (alt_status(ch) == 0)
        return;
    if (!wait_not_busy(ch, IDE_IDENTIFY_TIMEOUT_NS, &st)) {
        printf("ide: %s: IDENTIFY DEVICE timed out (status %#x), skipped\n", pos, st);
        return;
    }
    st = inb(p + ATA_REG_STATUS);
    if (st & ATA_SR_ERR) {
        /* A PACKET device aborts IDENTIFY DEVICE and leaves its signature (ATA8-ACS 7.16). */
        if (signature(ch) == SIG_ATAPI)
            printf("ide: %s: ATAPI (packet) device, skipped\n", pos);
        else
            printf("ide: %s: IDENTIFY DEVICE failed (status %#x, error %#x), skipped\n", pos, st,
                   inb(p + ATA_REG_ERROR));
        return;
    }
    if (!(st & ATA_SR_DRQ)) {
        printf("ide: %s: IDENTIFY DEVICE returned no data (status %#x), skipped\n", pos, st);
        return;
    }
    uint16_t id[256];
    insw_rep(p + ATA_REG_DATA, id, 256);
    (void)inb(p + ATA_REG_STATUS);
    if (id[ID_CONFIG] & 0x8000) {
        printf("ide: %s: not an ATA device (word 0 = %#x), skipped\n", pos, id[ID_CONFIG]);
        return;
    }
    if (!(id[ID_CAPABILITIES] & (1u << 9))) {
        printf("ide: %s: no LBA addressing (CHS only), skipped\n", pos);
        return;
    }
    register_disk(ch, c, drive, id, pos);
}

static void probe_channel(struct ide_channel *ch, int c)
{
    /* A channel with no devices at all floats: every register reads 0xff. */
    if (alt_status(ch) == 0xff)
        return;
    if (!channel_reset(ch)) {
        printf("ide: %s channel: BSY stuck after reset (status %#x), skipped\n", ch->name, alt_status(ch));
        return;
    }
    for (uint8_t drive = 0; drive < 2; drive++)
        probe_drive(ch, c, drive);
}

void ide_probe(void)
{
    size_t iter = 0;
    struct pci_dev *pd = pci_find_class(0x01, 0x01, &iter); /* mass storage, IDE */
    if (!pd)
        return;
    /* Each channel is in compatibility mode (the legacy ports) unless its native bit is set in
     * the programming interface; then BAR0/1 (primary) and BAR2/3 (secondary) hold the ports, the
     * control register at offset 2 of the control BAR (PCI IDE Controller Specification). */
    static const uint16_t legacy_cmd[2] = {IDE_PRIMARY_CMD, IDE_SECONDARY_CMD};
    static const uint16_t legacy_ctl[2] = {IDE_PRIMARY_CTL, IDE_SECONDARY_CTL};
    static const uint8_t native_bit[2] = {IDE_PROGIF_PRIMARY_NATIVE, IDE_PROGIF_SECONDARY_NATIVE};
    bool bus_master = (pd->prog_if & IDE_PROGIF_BUS_MASTER) && pd->bar[4].present && pd->bar[4].io && pd->bar[4].base;
    pci_enable(pd, "ide", bus_master);
    char bmdesc[32] = "absent: PIO only";
    if (bus_master)
        snprintf(bmdesc, sizeof(bmdesc), "at I/O %#llx", (unsigned long long)pd->bar[4].base);
    printf("ide: %04x:%04x at %02x:%02x.%x, prog-if %#x, bus master %s, ide=%s\n", pd->vendor, pd->device, pd->bus,
           pd->dev, pd->fn, pd->prog_if, bmdesc, kopts.ide_mode ? "pio" : "dma");
    for (int c = 0; c < 2; c++) {
        struct ide_channel *ch = &channels[c];
        ch->name = c ? "secondary" : "primary";
        ch->selected = -1;
        if (pd->prog_if & native_bit[c]) {
            ch->cmd = (uint16_t)pd->bar[2 * c].base;
            ch->ctl = (uint16_t)(pd->bar[2 * c + 1].base + 2);
        } else {
            ch->cmd = legacy_cmd[c];
            ch->ctl = legacy_ctl[c];
        }
        if (bus_master) {
            ch->bm = (uint16_t)(pd->bar[4].base + 8 * c);
            ch->prdt = dma_alloc_coherent(&ide_dma, IDE_PRDT_BYTES, &ch->prdt_dma);
            if (!ch->prdt)
                printf("ide: %s channel: no memory for a PRD table, PIO only\n", ch->name);
        }
        probe_channel(ch, c);
    }
}
