/* SPDX-License-Identifier: MIT */
/* report.c - the VMM's report at exit (docs/confidential.md "Reports"): one JSON object, written
 * to --report FILE and, as a "VMM-REPORT {...}" line, to stderr - never into the guest's console
 * stream (stdout), where a guest could print a forged one. */
#include <inttypes.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "tools/vmm/log.h"
#include "tools/vmm/vmm.h"

static void json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

static const char *end_name(enum vmm_end e)
{
    switch (e) {
    case END_RUNNING: return "running";
    case END_GUEST_EXIT: return "guest-exit";
    case END_TIMEOUT: return "timeout";
    case END_GUEST_STOPPED: return "guest-stopped";
    case END_VMM_ERROR: return "vmm-error";
    }
    return "?";
}

static void report_json(const struct vmm *v, int status, FILE *f)
{
    const struct conv_stats *c = &v->mem.st;
    const struct vblk_stats *b = v->blk ? &v->blk->st : &(struct vblk_stats){0};
    const struct vmm_exits *x = &v->exits;
    fprintf(f, "{\"vm_type\":\"%s\",\"memory\":%" PRIu64 ",\"boot_shared\":%" PRIu64 ",",
            v->sw_protected ? "sw-protected" : "default (fallback)", v->ram, v->mem.boot_shared);
    fprintf(f,
            "\"conversions\":{\"calls\":%" PRIu64 ",\"pages_to_shared\":%" PRIu64 ",\"pages_to_private\":%" PRIu64 ","
            "\"pages_changed\":%" PRIu64 ",\"refused\":%" PRIu64 ",\"discard_errors\":%" PRIu64 "},",
            c->calls, c->pages_to_shared, c->pages_to_private, c->pages_changed, c->refused, c->discard_errors);
    fprintf(f, "\"shared_pages_at_exit\":%" PRIu64 ",\"memory_faults\":%" PRIu64 ",\"refused_dma\":%" PRIu64 ",",
            (v->mem.gm.shared ? gm_count_shared(&v->mem.gm) : 0), v->memory_faults, b->refused_dma);
    fprintf(f,
            "\"requests\":{\"read\":%" PRIu64 ",\"write\":%" PRIu64 ",\"flush\":%" PRIu64 ",\"get_id\":%" PRIu64
            ",\"unsupported\":%" PRIu64 ","
            "\"ioerr\":%" PRIu64 ",\"malformed\":%" PRIu64 ",\"bytes_read\":%" PRIu64 ",\"bytes_written\":%" PRIu64
            "},",
            b->read, b->write, b->flush, b->get_id, b->unsupported, b->ioerr, b->malformed, b->bytes_read,
            b->bytes_written);
    fprintf(f, "\"device_needs_reset\":%s,", v->blk && v->blk->needs_reset ? "true" : "false");
    fprintf(f,
            "\"exits_by_reason\":{\"io\":%" PRIu64 ",\"mmio\":%" PRIu64 ",\"hypercall\":%" PRIu64 ",\"hlt\":%" PRIu64
            ",\"shutdown\":%" PRIu64 ","
            "\"memory_fault\":%" PRIu64 ",\"intr\":%" PRIu64 ",\"internal_error\":%" PRIu64 ",\"fail_entry\":%" PRIu64
            ","
            "\"system_event\":%" PRIu64 ",\"other\":%" PRIu64 "},",
            x->io, x->mmio, x->hypercall, x->hlt, x->shutdown, x->memory_fault, x->intr, x->internal_error,
            x->fail_entry, x->system_event, x->other);
    fprintf(f, "\"canary\":{\"found\":%" PRIu64 ",\"ignored_in_image\":%" PRIu64 ",\"where\":[", v->canary.found,
            v->canary.ignored);
    for (unsigned i = 0; i < v->canary.nwhere; i++) {
        const struct canary_where *w = &v->canary.where[i];
        char when[64];
        if (w->when == CANARY_IN_REQUEST)
            snprintf(when, sizeof(when), "in request %" PRIu64 "'s buffer", w->request);
        else
            snprintf(when, sizeof(when), "at exit");
        fprintf(f, "%s{\"gpa\":\"%#" PRIx64 "\",\"when\":\"%s\"}", i ? "," : "", w->gpa, when);
    }
    fprintf(f, "]},\"guest_exit_code\":");
    if (v->end == END_GUEST_EXIT)
        fprintf(f, "%u", v->io.exit_code);
    else
        fprintf(f, "null");
    fprintf(f, ",\"end\":\"%s\",\"message\":", end_name(v->end));
    json_string(f, v->end_msg);
    fprintf(f, ",\"guest_errors\":%" PRIu64 ",\"status\":%d}\n", vmm_guest_errors(), status);
}

int report_write(const struct vmm *v, int status)
{
    fputs("VMM-REPORT ", stderr);
    report_json(v, status, stderr);
    fflush(stderr);
    if (v->report_path == NULL)
        return 0;
    FILE *f = fopen(v->report_path, "w");
    if (f == NULL) {
        vmm_info("error: cannot write the report to %s: %s", v->report_path, strerror(errno));
        return -1;
    }
    report_json(v, status, f);
    if (fclose(f) != 0) {
        vmm_info("error: cannot write the report to %s: %s", v->report_path, strerror(errno));
        return -1;
    }
    return 0;
}
