/* SPDX-License-Identifier: MIT */
/* ioport.c - COM1, isa-debug-exit, unassigned ports (see ioport.h). */
#include "tools/vmm/ioport.h"

#include <string.h>

#include "tools/vmm/layout.h"

#define LCR_DLAB 0x80
#define LSR_THRE_TEMT 0x60
#define IIR_NO_INT 0x01

void ioport_init(struct ioports *p, FILE *out)
{
    memset(p, 0, sizeof(*p));
    p->out = out;
}

static uint8_t serial_read(struct ioports *p, unsigned reg)
{
    bool dlab = p->lcr & LCR_DLAB;
    switch (reg) {
    case 0: return dlab ? p->dll : 0; /* RBR: nothing is ever received */
    case 1: return dlab ? p->dlm : p->ier;
    case 2: return IIR_NO_INT;
    case 3: return p->lcr;
    case 4: return p->mcr;
    case 5: return LSR_THRE_TEMT;
    case 6: return 0xb0; /* MSR: DCD, DSR, CTS */
    default: return p->scr;
    }
}

static void serial_write(struct ioports *p, unsigned reg, uint8_t v)
{
    bool dlab = p->lcr & LCR_DLAB;
    switch (reg) {
    case 0:
        if (dlab) {
            p->dll = v;
        } else {
            fputc(v, p->out);
            p->serial_bytes++;
            if (v == '\n')
                fflush(p->out);
        }
        return;
    case 1:
        if (dlab)
            p->dlm = v;
        else
            p->ier = v;
        return;
    case 3: p->lcr = v; return;
    case 4: p->mcr = v; return;
    case 7: p->scr = v; return;
    default: return; /* FCR, LSR, MSR */
    }
}

void ioport_access(struct ioports *p, uint16_t port, bool is_write, uint8_t *data, unsigned size)
{
    if (port >= PORT_COM1 && port < PORT_COM1 + 8) {
        /* Byte-wide registers; a wider access touches the next ones, as on the ISA bus. */
        for (unsigned i = 0; i < size; i++) {
            unsigned reg = (unsigned)(port - PORT_COM1) + i;
            if (reg >= 8) {
                if (!is_write)
                    data[i] = 0xff;
                continue;
            }
            if (is_write)
                serial_write(p, reg, data[i]);
            else
                data[i] = serial_read(p, reg);
        }
        return;
    }
    if (port == PORT_DEBUG_EXIT && is_write) {
        uint32_t v = 0;
        memcpy(&v, data, size <= 4 ? size : 4);
        p->exited = true;
        p->exit_code = v;
        return;
    }
    p->unassigned++;
    if (!is_write)
        memset(data, 0xff, size);
}
