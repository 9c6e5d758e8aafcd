/* SPDX-License-Identifier: MIT */
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
 * This file is the driver as the kernel sees it: PCI probe, the DMA mappings and PRD table of a
 * request, the block layer operations. Talking ATA through the channel registers (commands,
 * resets, IDENTIFY) is ide_ata.c. A disk with the 48-bit feature set takes requests of up to 2048
 * sectors (1 MiB), so both the 28-bit and the 48-bit commands are exercised on QEMU.
 */
#include "drivers/ide.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "dma/dma.h"
#include "drivers/blk.h"
#include "drivers/drivers.h"
#include "drivers/ide_ata.h"
#include "drivers/ide_identify.h"
#include "drivers/ide_ports.h"
#include "drivers/ide_prd.h"
#include "drivers/ioapic.h"
#include "drivers/pci.h"
#include "drivers/refusals.h"
#include "kernel/irq.h"
#include "kernel/options.h"
#include "kernel/percpu.h"
#include "mm/mm.h"

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

/* ---- DMA mapping ---- */

static void unmap_pieces(struct ide_channel *ch, enum dma_data_direction dir, unsigned attrs)
{
    for (size_t i = 0; i < ch->npieces; i++)
        dma_unmap_page_attrs(&ide_dma, ch->piece[i].addr, ch->piece[i].len, dir, attrs);
    ch->npieces = 0;
}

/* Exact completion of a bus-master read (dma_completion=exact). The controller gives no byte
 * count: a transfer that ends without error has filled its whole PRD table (SFF-8038i: the
 * interrupt comes when the last PRD's bytes are done), and after an error no byte of it can be
 * trusted - the drive may have delivered any prefix, the controller any part of that. So each
 * piece comes back whole, or not at all. */
static void unmap_pieces_written(struct ide_channel *ch, bool transferred)
{
    for (size_t i = 0; i < ch->npieces; i++)
        dma_unmap_page_written(&ide_dma, ch->piece[i].addr, ch->piece[i].len, DMA_FROM_DEVICE,
                               transferred ? ch->piece[i].len : 0);
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
    unsigned attrs;
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
    dma_addr_t a =
        dma_map_page_attrs(&ide_dma, phys & ~(uint64_t)(PAGE_SIZE - 1), phys & (PAGE_SIZE - 1), len, m->dir, m->attrs);
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
    unsigned attrs = dir == DMA_FROM_DEVICE && exact_completion() ? DMA_ATTR_EXACT_COMPLETION : 0;
    struct map_state m = {ch, dir, attrs, MAP_OK};
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
        printf("ide: %s: %s lba %" PRIu64 " +%u: segments cannot be described by a PRD table\n", d->blk.name,
               blk_op_name(req->op), req->lba, req->nsectors);
        return DMA_INVALID;
    }
    return m == MAP_OK ? DMA_READY : DMA_WAIT;
}

/* ---- block layer operations ---- */

/* The channel's command is over: unmap (a bounced read is copied back), and leave the request
 * for poll() to complete. */
static void command_ended(struct ide_disk *d, struct blk_req *req, enum blk_status st, uint32_t sectors_done)
{
    struct ide_channel *ch = d->ch;
    enum dma_data_direction dir = req->op == BLK_READ ? DMA_FROM_DEVICE : DMA_TO_DEVICE;
    if (ch->npieces && dir == DMA_FROM_DEVICE && exact_completion())
        unmap_pieces_written(ch, st == BLK_OK);
    else if (ch->npieces)
        unmap_pieces(ch, dir, 0); /* for a read, this copies bounced data back to the segments */
    ch->busy = false;
    d->done_req = req;
    d->done_status = st;
    d->done_bytes = sectors_done * SECTOR_SIZE;
}

static int ide_submit(struct blk_dev *bd, struct blk_req *req)
{
    struct ide_disk *d = bd->driver;
    struct ide_channel *ch = d->ch;
    if (ch->busy || d->done_req)
        return -1; /* a command in progress on the channel, or a finished one not reaped yet */
    bd->fills_by_dma = kopts.ide_mode == IDE_MODE_DMA && d->dma_capable && ch->prdt; /* ide= may change at run time */
    /* PIO: the CPU stores exactly the sectors the drive delivered, exact by construction. */
    bd->completes_exactly = exact_completion() || !bd->fills_by_dma;
    bool dma = req->op != BLK_FLUSH && bd->fills_by_dma;
    enum dma_data_direction dir = req->op == BLK_READ ? DMA_FROM_DEVICE : DMA_TO_DEVICE;
    int nprd = 0;
    if (dma) {
        switch (prepare_dma(d, req, dir, &nprd)) {
        case DMA_READY: break;
        case DMA_WAIT: return -1;
        case DMA_INVALID:
            d->done_req = req;
            d->done_status = BLK_EINVAL;
            d->done_bytes = 0;
            return 0;
        }
    }
    ch->busy = true;
    struct ata_cmd c = ide_pick_command(d, req, dma);
    if (trace_on(TRACE_BLK)) {
        if (req->op == BLK_FLUSH)
            printf("ide: %s %s\n", bd->name, c.name);
        else if (dma)
            printf("ide: %s DMA %s lba %" PRIu64 " +%u, %s, %d PRD entries\n", bd->name, blk_op_name(req->op), req->lba,
                   req->nsectors, c.name, nprd);
        else
            printf("ide: %s PIO %s lba %" PRIu64 " +%u, %s\n", bd->name, blk_op_name(req->op), req->lba, req->nsectors,
                   c.name);
    }
    uint32_t sectors_done;
    enum blk_status st;
    if (ch->irq && !ide_async_begin(d, req, &c, &st, &sectors_done))
        return 0; /* in flight: its interrupts move it on (ide_poll) */
    if (!ch->irq)
        st = ide_execute(d, req, &c, &sectors_done);
    command_ended(d, req, st, sectors_done);
    return 0;
}

static int ide_poll(struct blk_dev *bd)
{
    struct ide_disk *d = bd->driver;
    struct ide_channel *ch = d->ch;
    enum blk_status st;
    uint32_t sectors_done;
    /* Interrupt-driven: what the interrupt does (or, from a fallback poll, what a lost one would
     * have done, past the deadline a timeout). */
    if (ch->irq && ch->async.active && ch->async.disk == d && ide_async_advance(ch, &st, &sectors_done))
        command_ended(d, (struct blk_req *)ch->async.req, st, sectors_done);
    struct blk_req *req = d->done_req;
    if (!req)
        return 0;
    d->done_req = NULL;
    blk_complete_bytes(bd, req, d->done_status, d->done_bytes);
    return 1;
}

static bool ide_idle(struct blk_dev *bd)
{
    const struct ide_disk *d = bd->driver;
    return !d->ch->busy && !d->done_req;
}

static const struct blk_ops ide_ops = {.submit = ide_submit, .poll = ide_poll, .idle = ide_idle};
/* ---- interrupts (io=irq) ---- */

/* The channel's INTRQ: the disk whose command is running moves it on and completes it (through
 * the block layer, which counts the interrupt); with none running, acknowledge the device. */
static void channel_interrupt(void *arg)
{
    struct ide_channel *ch = arg;
    if (ch->async.active)
        blk_interrupt(&ch->async.disk->blk);
    else
        ide_ack_interrupt(ch);
}

/* A compatibility-mode channel's ISA IRQ (14 primary, 15 secondary: PIIX4 datasheet) to the boot
 * CPU, then nIEN cleared: its disks complete at interrupts. A native-mode channel interrupts
 * through its PCI INTx pin, which only the ACPI _PRT (AML) maps to a GSI: polled. */
static void channel_irq(struct ide_channel *ch, int c, bool native)
{
    static const uint8_t isa_irq[2] = {14, 15};
    char route[120] = "";
    struct ide_disk *ds = &disks[c * 2];
    if (kopts.io != IO_IRQ || (ds[0].ch == NULL && ds[1].ch == NULL))
        return;
    int vector = -1;
    bool level = false;
    if (native)
        snprintf(route, sizeof(route), "native PCI mode: its INTx needs the ACPI _PRT, which bounce does not read");
    else if (!irq_available())
        snprintf(route, sizeof(route), "no local APIC with a calibrated timer");
    else if ((vector = irq_alloc(ch->name, channel_interrupt, ch)) < 0)
        snprintf(route, sizeof(route), "no free interrupt vector");
    else if (!ioapic_route_isa(isa_irq[c], (uint8_t)vector, cpu_get(0)->apic_id, &level, route, sizeof(route)))
        irq_free(vector);
    else
        ide_enable_interrupts(ch);
    if (ch->irq) {
        for (int k = 0; k < 2; k++) {
            ds[k].blk.irq_driven = ds[k].ch != NULL;
            ds[k].blk.irq_vector = vector;
            ds[k].blk.irq_level = level;
        }
        printf("ide: %s channel: interrupt: %s -> vector %#x on CPU 0 (APIC ID %" PRIu32 ")\n", ch->name, route, vector,
               cpu_get(0)->apic_id);
    } else {
        printf("ide: %s channel: interrupt: %s - polled instead\n", ch->name, route);
    }
}

/* ---- probing ---- */

static void register_disk(struct ide_channel *ch, int c, uint8_t drive, const struct ide_identity *who, const char *pos)
{
    struct ide_disk *d = &disks[c * 2 + drive];
    d->ch = ch;
    d->drive = drive;
    d->lba48 = who->lba48;
    d->flush_ext = who->flush_ext;
    d->dma_capable = who->dma;
    memcpy(d->serial, who->serial, sizeof(d->serial));
    struct blk_dev *b = &d->blk;
    snprintf(b->name, sizeof(b->name), "ide%d", c * 2 + drive);
    memcpy(b->model, who->model, sizeof(b->model));
    b->capacity = who->sectors;
    b->max_sectors = d->lba48 ? IDE_MAX_SECTORS_LBA48 : IDE_MAX_SECTORS_LBA28;
    b->max_segments = BLK_MAX_SEGMENTS;
    b->has_flush = true;
    b->dma = d->dma_capable && ch->prdt ? &ide_dma : NULL;
    b->fills_by_dma = b->dma && kopts.ide_mode == IDE_MODE_DMA;
    b->completes_exactly = exact_completion() || !b->fills_by_dma;
    b->ops = &ide_ops;
    b->driver = d;
    printf("ide: %s = %s: serial %s, %s, %s%s\n", b->name, pos, d->serial, d->lba48 ? "LBA48" : "LBA28",
           d->dma_capable && ch->prdt ? "bus-master DMA" : "PIO only",
           kopts.ide_mode == IDE_MODE_PIO && d->dma_capable && ch->prdt ? " (ide=pio: using PIO)" : "");
    blk_register(b);
}

static void probe_drive(struct ide_channel *ch, int c, uint8_t drive)
{
    char pos[24], why[160];
    snprintf(pos, sizeof(pos), "%s %s", ch->name, drive ? "slave" : "master");
    uint16_t id[256];
    struct ide_identity who;
    if (!ide_identify(ch, drive, pos, id))
        return;
    if (!ide_parse_identify(id, &who, why, sizeof(why))) {
        dev_refuse("ide", pos, "%s", why);
        return;
    }
    register_disk(ch, c, drive, &who, pos);
}

static void probe_channel(struct ide_channel *ch, int c)
{
    /* A channel with no devices at all floats: every register reads 0xff. */
    if (ide_alt_status(ch) == 0xff)
        return;
    char where[24];
    snprintf(where, sizeof(where), "%s channel", ch->name);
    uint64_t t0 = time_ns();
    if (!ide_channel_reset(ch, IDE_PROBE_RESET_TIMEOUT_NS)) {
        dev_refuse("ide", where, "BSY still set %" PRIu64 " s after a software reset (status %#x)",
                   IDE_PROBE_RESET_TIMEOUT_NS / NSEC_PER_SEC, ide_alt_status(ch));
        return;
    }
    /* How long the device (QEMU: its main loop) took to finish the reset: the rig reports it. */
    printf("ide: %s: reset done in %" PRIu64 " us\n", where, (time_ns() - t0) / NSEC_PER_USEC);
    for (uint8_t drive = 0; drive < 2; drive++)
        probe_drive(ch, c, drive);
}

void ide_probe(void)
{
    size_t iter = 0;
    struct pci_dev *pd = pci_find_class(0x01, 0x01, &iter); /* mass storage, IDE */
    if (!pd)
        return;
    uint16_t bm_base = 0;
    bool bus_master = ide_bus_master_ports(pd->prog_if, pd->bar, &bm_base);
    pci_enable(pd, "ide", bus_master);
    char bmdesc[32] = "absent: PIO only";
    if (bus_master)
        snprintf(bmdesc, sizeof(bmdesc), "at I/O %#x", bm_base);
    printf("ide: %04x:%04x at %02x:%02x.%x, prog-if %#x, bus master %s, ide=%s\n", pd->vendor, pd->device, pd->bus,
           pd->dev, pd->fn, pd->prog_if, bmdesc, ide_mode_names[kopts.ide_mode]);
    for (int c = 0; c < 2; c++) {
        struct ide_channel *ch = &channels[c];
        ch->name = c ? "secondary" : "primary";
        ch->selected = -1;
        char why[200], where[24];
        if (!ide_channel_ports(pd->prog_if, pd->bar, c, &ch->cmd, &ch->ctl, why, sizeof(why))) {
            snprintf(where, sizeof(where), "%s channel", ch->name);
            dev_refuse("ide", where, "%s", why);
            continue;
        }
        if (bus_master) {
            ch->bm = (uint16_t)(bm_base + 8 * c);
            ch->prdt = dma_alloc_coherent(&ide_dma, IDE_PRDT_BYTES, &ch->prdt_dma);
            if (!ch->prdt)
                printf("ide: %s channel: no memory for a PRD table, PIO only\n", ch->name);
        }
        probe_channel(ch, c);
        channel_irq(ch, c, pd->prog_if & (c ? IDE_PROGIF_SECONDARY_NATIVE : IDE_PROGIF_PRIMARY_NATIVE));
    }
}
