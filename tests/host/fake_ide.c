/* SPDX-License-Identifier: MIT */
/* fake_ide.c - a PIIX IDE channel behind fake port I/O (see fake_ide.h). Register semantics
 * follow ATA8-ACS and QEMU's hw/ide/core.c; the constants are the specification's, spelled out
 * here rather than taken from the driver under test. */
#define _DEFAULT_SOURCE /* MAP_32BIT */
#include "tests/host/fake_ide.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "kernel/cpu.h"
#include "tests/host/fake_clock.h"

/* ATA8-ACS Status and Error bits. */
enum { ST_ERR = 0x01, ST_DRQ = 0x08, ST_DSC = 0x10, ST_DRDY = 0x40, ST_BSY = 0x80 };
enum { ER_ABRT = 0x04, ER_IDNF = 0x10 };
enum { CTL_NIEN = 0x02, CTL_SRST = 0x04, CTL_HOB = 0x80 };
/* SFF-8038i bus-master registers and bits; a PRD entry: base, count (0 = 64 KiB), EOT in bit 15. */
enum { BM_CMD = 0, BM_STATUS = 2, BM_PRDT = 4 };
enum { BMC_START = 0x01, BMC_READ = 0x08, BMS_ACTIVE = 0x01, BMS_ERROR = 0x02, BMS_INTR = 0x04 };
#define PRD_EOT 0x8000u
#define MAX_DMA_AREAS 8
#define PORT_COST_NS 1000 /* one port access: about a PIO exit under KVM */

struct fake_ide fake_ide;
static struct {
    void *p;
    size_t len;
} dma_areas[MAX_DMA_AREAS];

void *fake_ide_dma_alloc(size_t bytes)
{
    for (int i = 0; i < MAX_DMA_AREAS; i++)
        if (dma_areas[i].p == NULL) {
            void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
            if (p == MAP_FAILED)
                return NULL;
            dma_areas[i].p = p;
            dma_areas[i].len = bytes;
            return p;
        }
    return NULL;
}

static _Noreturn void die(const char *what, uint16_t port)
{
    fprintf(stderr, "fake_ide: %s (port %#x)\n", what, port);
    abort();
}

uint8_t fake_ide_pattern(uint64_t lba, unsigned off) { return (uint8_t)(lba * 7 + off * 13 + (off >> 8)); }

/* ATA8-ACS, signatures: what a device leaves in the command block after a reset. */
static void set_signature(struct fake_ata_drive *d)
{
    d->nsector = d->sector = 1;
    d->lcyl = d->atapi ? 0x14 : d->present ? 0x00 : 0xff;
    d->hcyl = d->atapi ? 0xeb : d->present ? 0x00 : 0xff;
}

/* QEMU: ide_reset + the diagnostic it runs after SRST (a PACKET device leaves Status 0). */
static void device_reset(struct fake_ata_drive *d)
{
    d->feature = d->error = 0;
    d->hob_feature = d->hob_nsector = d->hob_sector = d->hob_lcyl = d->hob_hcyl = 0;
    d->select = 0xa0;
    d->xfer = XFER_NONE;
    set_signature(d);
    d->status = d->atapi ? 0 : ST_DRDY | ST_DSC;
    d->error = 0x01; /* diagnostic: device passed */
}

void fake_ide_init(void)
{
    free(fake_ide.drive[0].media);
    free(fake_ide.drive[1].media);
    for (int i = 0; i < MAX_DMA_AREAS; i++)
        if (dma_areas[i].p) {
            munmap(dma_areas[i].p, dma_areas[i].len);
            dma_areas[i].p = NULL;
        }
    memset(&fake_ide, 0, sizeof(fake_ide));
    fake_ide.srst_at = FAKE_IDE_NEVER;
    fake_clock_reset();
    for (int i = 0; i < 2; i++)
        device_reset(&fake_ide.drive[i]);
}

uint8_t *fake_ide_attach_disk(int unit, uint64_t sectors)
{
    struct fake_ata_drive *d = &fake_ide.drive[unit];
    d->present = true;
    d->sectors = sectors;
    d->media = calloc(sectors, 512);
    if (!d->media)
        die("out of memory", 0);
    for (uint64_t s = 0; s < sectors; s++)
        for (unsigned o = 0; o < 512; o++)
            d->media[s * 512 + o] = fake_ide_pattern(s, o);
    /* ATA8-ACS 7.16 IDENTIFY DEVICE data: ATA device, serial, LBA, 48-bit, capacities. */
    memset(d->identify, 0, sizeof(d->identify));
    d->identify[0] = 0x0040;
    const char serial[] = "F A K E 0 0 0 1 "; /* words 10-19, two characters per word */
    for (int w = 0; w < 8; w++)
        d->identify[10 + w] = (uint16_t)(serial[2 * w] << 8 | serial[2 * w + 1]);
    d->identify[49] = 1u << 9;
    uint32_t lba28 = sectors < (1u << 28) ? (uint32_t)sectors : (1u << 28) - 1;
    d->identify[60] = (uint16_t)lba28;
    d->identify[61] = (uint16_t)(lba28 >> 16);
    d->identify[83] = 1u << 10 | 1u << 13; /* 48-bit address, FLUSH CACHE EXT */
    for (int w = 0; w < 4; w++)
        d->identify[100 + w] = (uint16_t)(sectors >> (16 * w));
    device_reset(d);
    return d->media;
}

void fake_ide_attach_atapi(int unit)
{
    fake_ide.drive[unit].present = fake_ide.drive[unit].atapi = true;
    device_reset(&fake_ide.drive[unit]);
}

/* Every access costs time, and a reset whose moment has come completes first (QEMU's main loop
 * running the bottom half between two of the vCPU's accesses). */
static void tick(void)
{
    fake_clock_advance(PORT_COST_NS);
    if (fake_ide.srst_at != FAKE_IDE_NEVER && time_ns() >= fake_ide.srst_at) {
        fake_ide.srst_at = FAKE_IDE_NEVER;
        for (int i = 0; i < 2; i++)
            device_reset(&fake_ide.drive[i]);
        fake_ide.devctl &= (uint8_t)~CTL_SRST;
        fake_ide.resets++;
    }
}

static struct fake_ata_drive *cur(void) { return &fake_ide.drive[fake_ide.unit]; }
static bool none_present(void) { return !fake_ide.drive[0].present && !fake_ide.drive[1].present; }

/* QEMU: Status reads 0 with no device at all, or with device 1 selected and absent. */
static uint8_t status(void) { return none_present() || (fake_ide.unit == 1 && !cur()->present) ? 0 : cur()->status; }

/* ATA8-APT: the device asserts INTRQ unless nIEN is set. */
static void raise_intrq(void)
{
    if (fake_ide.devctl & CTL_NIEN)
        return;
    fake_ide.intrq = true;
    fake_ide.interrupts++;
}

static void abort_command(struct fake_ata_drive *d, uint8_t error)
{
    d->status = ST_DRDY | ST_ERR;
    d->error = error;
    d->xfer = XFER_NONE;
    raise_intrq();
}

/* Load the next sector of a read, or finish it. */
static void next_read_sector(struct fake_ata_drive *d)
{
    if (d->left == 0) {
        d->xfer = XFER_NONE;
        d->status = ST_DRDY | ST_DSC;
        return;
    }
    if (d->has_bad_sector && d->lba == d->bad_sector) {
        abort_command(d, 0x40); /* UNC: uncorrectable data error (ATA8-ACS READ SECTORS) */
        return;
    }
    memcpy(d->buf, d->media + d->lba * 512, 512);
    d->pos = 0;
    d->status = ST_DRDY | ST_DSC | ST_DRQ;
    raise_intrq(); /* PIO data-in: each block ready (none after the last) */
}

static void data_command(struct fake_ata_drive *d, bool ext, bool write, bool dma)
{
    uint64_t lba;
    uint32_t count;
    if (ext) {
        lba = (uint64_t)d->hob_hcyl << 40 | (uint64_t)d->hob_lcyl << 32 | (uint64_t)d->hob_sector << 24 |
            (uint64_t)d->hcyl << 16 | (uint64_t)d->lcyl << 8 | d->sector;
        count = (uint32_t)d->hob_nsector << 8 | d->nsector;
        count = count ? count : 65536;
    } else {
        lba = (uint64_t)(d->select & 0x0f) << 24 | (uint64_t)d->hcyl << 16 | (uint64_t)d->lcyl << 8 | d->sector;
        count = d->nsector ? d->nsector : 256;
    }
    d->last_lba = lba;
    d->last_count = count;
    if (!(d->select & 0x40) || lba + count > d->sectors) { /* CHS, or beyond the end */
        abort_command(d, ER_IDNF | ER_ABRT);
        return;
    }
    if (d->hangs_on_data) {
        d->status = ST_BSY;
        return;
    }
    if (d->never_drq && !dma) {
        d->status = ST_DRDY | ST_DSC; /* done, it says, with nothing transferred */
        return;
    }
    d->lba = lba;
    d->left = count;
    if (dma) { /* the data moves when the bus master is started */
        d->xfer = write ? XFER_DMA_WRITE : XFER_DMA_READ;
        d->status = ST_BSY | ST_DRDY;
        return;
    }
    d->xfer = write ? XFER_WRITE : XFER_READ;
    d->pos = 0;
    if (write)
        d->status = ST_DRDY | ST_DSC | ST_DRQ;
    else
        next_read_sector(d);
}

static void command(uint8_t cmd)
{
    struct fake_ata_drive *d = cur();
    if (fake_ide.unit == 1 && !d->present)
        return; /* QEMU ignores commands to an absent device 1 */
    d->last_cmd = cmd;
    if (!d->present) {
        abort_command(d, ER_ABRT);
        return;
    }
    switch (cmd) {
    case 0xec: /* IDENTIFY DEVICE; a PACKET device aborts it and posts its signature */
        if (d->atapi || d->identify_aborts) {
            if (d->atapi)
                set_signature(d);
            abort_command(d, ER_ABRT);
            return;
        }
        memcpy(d->buf, d->identify, sizeof(d->buf));
        d->pos = 0;
        d->xfer = XFER_IDENTIFY;
        d->status = ST_DRDY | ST_DSC | ST_DRQ;
        raise_intrq();
        return;
    case 0xc8: data_command(d, false, false, true); return;  /* READ DMA */
    case 0x25: data_command(d, true, false, true); return;   /* READ DMA EXT */
    case 0xca: data_command(d, false, true, true); return;   /* WRITE DMA */
    case 0x35: data_command(d, true, true, true); return;    /* WRITE DMA EXT */
    case 0x20: data_command(d, false, false, false); return; /* READ SECTORS */
    case 0x24: data_command(d, true, false, false); return;  /* READ SECTORS EXT */
    case 0x30: data_command(d, false, true, false); return;  /* WRITE SECTORS */
    case 0x34: data_command(d, true, true, false); return;   /* WRITE SECTORS EXT */
    case 0xe7:
    case 0xea: /* FLUSH CACHE (EXT): a non-data command interrupts at its end */
        d->status = ST_DRDY | ST_DSC;
        raise_intrq();
        return;
    default: abort_command(d, ER_ABRT); return;
    }
}

/* The engine started: the whole transfer moves through the PRD table at once, then it ends as
 * QEMU ends it - Active clear, Interrupt set, the drive done and its INTRQ raised; with bm_aborts,
 * Error set instead and nothing moved (a PCI master abort). */
static void run_engine(void)
{
    struct fake_ata_drive *d = cur();
    if (d->xfer != XFER_DMA_READ && d->xfer != XFER_DMA_WRITE)
        return; /* nothing to move yet: Active stays set */
    if (((fake_ide.bm_command & BMC_READ) != 0) != (d->xfer == XFER_DMA_READ))
        die("bus master direction does not match the command", FAKE_IDE_BM);
    fake_ide.bm_transfers++;
    if (!fake_ide.bm_aborts) {
        uint64_t left = (uint64_t)d->left * 512, pos = d->lba * 512;
        for (uint32_t e = fake_ide.bm_prdt; left > 0; e += 8) {
            uint32_t base, bytes = 0, flags = 0;
            memcpy(&base, (void *)(uintptr_t)e, 4);
            memcpy(&bytes, (void *)(uintptr_t)(e + 4), 2);
            memcpy(&flags, (void *)(uintptr_t)(e + 6), 2);
            bytes = bytes ? bytes : 0x10000;
            uint64_t n = bytes < left ? bytes : left;
            void *mem = (void *)(uintptr_t)base;
            if (d->xfer == XFER_DMA_READ)
                memcpy(mem, d->media + pos, n);
            else
                memcpy(d->media + pos, mem, n);
            pos += n;
            left -= n;
            if (flags & PRD_EOT)
                break;
        }
        if (left)
            die("PRD table shorter than the transfer", FAKE_IDE_BM);
    }
    d->left = 0;
    d->xfer = XFER_NONE;
    d->status = ST_DRDY | ST_DSC;
    fake_ide.bm_status =
        (uint8_t)((fake_ide.bm_status & ~BMS_ACTIVE) | BMS_INTR | (fake_ide.bm_aborts ? BMS_ERROR : 0));
    raise_intrq();
}

static bool bm_port(uint16_t port) { return port >= FAKE_IDE_BM && port < FAKE_IDE_BM + 8; }

uint8_t inb(uint16_t port)
{
    tick();
    if (bm_port(port))
        return port - FAKE_IDE_BM == BM_CMD   ? fake_ide.bm_command
            : port - FAKE_IDE_BM == BM_STATUS ? fake_ide.bm_status
                                              : 0;
    if (port == FAKE_IDE_CTL)
        return status(); /* Alternate Status */
    if (port <= FAKE_IDE_CMD || port > FAKE_IDE_CMD + 7)
        die("inb from a port that is not the channel's", port);
    struct fake_ata_drive *d = cur();
    bool hob = fake_ide.devctl & CTL_HOB;
    if (port == FAKE_IDE_CMD + 7) {
        fake_ide.intrq = false; /* reading Status acknowledges the interrupt */
        return status();
    }
    if (none_present())
        return 0;
    switch (port - FAKE_IDE_CMD) {
    case 1: return hob ? d->hob_feature : d->error;
    case 2: return hob ? d->hob_nsector : d->nsector;
    case 3: return hob ? d->hob_sector : d->sector;
    case 4: return hob ? d->hob_lcyl : d->lcyl;
    case 5: return hob ? d->hob_hcyl : d->hcyl;
    default: return d->select;
    }
}

/* QEMU writes the command block registers to both devices; each is a two-byte FIFO (48-bit). */
static void write_both(unsigned reg, uint8_t v)
{
    for (int i = 0; i < 2; i++) {
        struct fake_ata_drive *d = &fake_ide.drive[i];
        uint8_t *r[] = {0, &d->feature, &d->nsector, &d->sector, &d->lcyl, &d->hcyl};
        uint8_t *h[] = {0, &d->hob_feature, &d->hob_nsector, &d->hob_sector, &d->hob_lcyl, &d->hob_hcyl};
        *h[reg] = *r[reg];
        *r[reg] = v;
    }
}

void outb(uint16_t port, uint8_t v)
{
    tick();
    if (bm_port(port)) {
        if (port - FAKE_IDE_BM == BM_CMD) {
            bool start = v & BMC_START, was = fake_ide.bm_command & BMC_START;
            fake_ide.bm_command = v;
            if (start && !was) {
                fake_ide.bm_status |= BMS_ACTIVE;
                run_engine();
            } else if (!start) {
                fake_ide.bm_status &= (uint8_t)~BMS_ACTIVE;
            }
        } else if (port - FAKE_IDE_BM == BM_STATUS) { /* Error and Interrupt: write 1 to clear */
            fake_ide.bm_status = (uint8_t)((fake_ide.bm_status & ~(v & (BMS_ERROR | BMS_INTR)) & ~0x60) | (v & 0x60));
        }
        return;
    }
    if (port == FAKE_IDE_CTL) {
        if (!(fake_ide.devctl & CTL_SRST) && (v & CTL_SRST)) { /* QEMU: BSY now, reset in a bottom half */
            fake_ide.drive[0].status |= ST_BSY;
            fake_ide.drive[1].status |= ST_BSY;
            fake_ide.srst_at =
                fake_ide.srst_delay_ns == FAKE_IDE_NEVER ? FAKE_IDE_NEVER : time_ns() + fake_ide.srst_delay_ns;
        }
        fake_ide.devctl = v;
        return;
    }
    if (port <= FAKE_IDE_CMD || port > FAKE_IDE_CMD + 7)
        die("outb to a port that is not the channel's", port);
    unsigned reg = port - FAKE_IDE_CMD;
    fake_ide.devctl &= (uint8_t)~CTL_HOB; /* a register write clears HOB (ATA8-ACS) */
    if (reg == 6) {
        fake_ide.drive[0].select = fake_ide.drive[1].select = v | 0xa0;
        fake_ide.unit = (v & 0x10) ? 1 : 0;
    } else if (reg == 7) {
        command(v);
    } else {
        write_both(reg, v);
    }
}

static uint16_t data_in(void)
{
    struct fake_ata_drive *d = cur();
    if (!(status() & ST_DRQ) || (d->xfer != XFER_READ && d->xfer != XFER_IDENTIFY))
        die("data read without DRQ", FAKE_IDE_CMD);
    uint16_t w = d->buf[d->pos++];
    if (d->pos == 256) {
        if (d->xfer == XFER_IDENTIFY) {
            d->xfer = XFER_NONE;
            d->status = ST_DRDY | ST_DSC;
        } else {
            d->lba++;
            d->left--;
            next_read_sector(d);
        }
    }
    return w;
}

static void data_out(uint16_t w)
{
    struct fake_ata_drive *d = cur();
    if (!(status() & ST_DRQ) || d->xfer != XFER_WRITE)
        die("data write without DRQ", FAKE_IDE_CMD);
    d->buf[d->pos++] = w;
    if (d->pos == 256) {
        memcpy(d->media + d->lba * 512, d->buf, 512);
        d->lba++;
        d->pos = 0;
        if (--d->left == 0) {
            d->xfer = XFER_NONE;
            d->status = ST_DRDY | ST_DSC;
        }
        raise_intrq(); /* PIO data-out: each block taken, the next wanted or the command done */
    }
}

uint16_t inw(uint16_t port)
{
    tick();
    if (port != FAKE_IDE_CMD)
        die("inw from a port other than Data", port);
    return data_in();
}

void outw(uint16_t port, uint16_t v)
{
    tick();
    if (port != FAKE_IDE_CMD)
        die("outw to a port other than Data", port);
    data_out(v);
}

/* String I/O: one access for the whole block, as one exit under KVM. */
void insw_rep(uint16_t port, void *buf, size_t words)
{
    tick();
    if (port != FAKE_IDE_CMD)
        die("rep insw from a port other than Data", port);
    for (size_t i = 0; i < words; i++)
        memcpy((uint8_t *)buf + 2 * i, &(uint16_t){data_in()}, 2);
}

void outsw_rep(uint16_t port, const void *buf, size_t words)
{
    tick();
    if (port != FAKE_IDE_CMD)
        die("rep outsw to a port other than Data", port);
    for (size_t i = 0; i < words; i++) {
        uint16_t w;
        memcpy(&w, (const uint8_t *)buf + 2 * i, 2);
        data_out(w);
    }
}

uint32_t inl(uint16_t port) { die("inl: nothing 32-bit to read here", port); }
void outl(uint16_t port, uint32_t v)
{
    tick();
    if (port != FAKE_IDE_BM + BM_PRDT)
        die("outl to a port other than the PRD table pointer", port);
    fake_ide.bm_prdt = v;
}
