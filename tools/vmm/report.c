/* SPDX-License-Identifier: MIT */
/* report.c - the VMM's report at exit (docs/confidential.md "Reports"): one JSON object, written
 * to --report FILE and, as a "VMM-REPORT {...}" line, to stderr - never into the guest's console
 * stream (stdout), where a guest could print a forged one. */
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
    fprintf(f, "{\"vm_type\":\"%s\",\"memory\":%llu,\"boot_shared\":%llu,",
            v->sw_protected ? "sw-protected" : "default (fallback)", (unsigned long long)v->ram,
            (unsigned long long)v->mem.boot_shared);
    fprintf(f,
            "\"conversions\":{\"calls\":%llu,\"pages_to_shared\":%llu,\"pages_to_private\":%llu,"
            "\"pages_changed\":%llu,\"refused\":%llu,\"discard_errors\":%llu},",
            (unsigned long long)c->calls, (unsigned long long)c->pages_to_shared,
            (unsigned long long)c->pages_to_private, (unsigned long long)c->pages_changed,
            (unsigned long long)c->refused, (unsigned long long)c->discard_errors);
    fprintf(f, "\"shared_pages_at_exit\":%llu,\"memory_faults\":%llu,\"refused_dma\":%llu,",
            (unsigned long long)(v->mem.gm.shared ? gm_count_shared(&v->mem.gm) : 0),
            (unsigned long long)v->memory_faults, (unsigned long long)b->refused_dma);
    fprintf(f,
            "\"requests\":{\"read\":%llu,\"write\":%llu,\"flush\":%llu,\"get_id\":%llu,\"unsupported\":%llu,"
            "\"ioerr\":%llu,\"malformed\":%llu,\"bytes_read\":%llu,\"bytes_written\":%llu},",
            (unsigned long long)b->read, (unsigned long long)b->write, (unsigned long long)b->flush,
            (unsigned long long)b->get_id, (unsigned long long)b->unsupported, (unsigned long long)b->ioerr,
            (unsigned long long)b->malformed, (unsigned long long)b->bytes_read, (unsigned long long)b->bytes_written);
    fprintf(f, "\"device_needs_reset\":%s,", v->blk && v->blk->needs_reset ? "true" : "false");
    fprintf(f,
            "\"exits_by_reason\":{\"io\":%llu,\"mmio\":%llu,\"hypercall\":%llu,\"hlt\":%llu,\"shutdown\":%llu,"
            "\"memory_fault\":%llu,\"intr\":%llu,\"internal_error\":%llu,\"fail_entry\":%llu,"
            "\"system_event\":%llu,\"other\":%llu},",
            (unsigned long long)x->io, (unsigned long long)x->mmio, (unsigned long long)x->hypercall,
            (unsigned long long)x->hlt, (unsigned long long)x->shutdown, (unsigned long long)x->memory_fault,
            (unsigned long long)x->intr, (unsigned long long)x->internal_error, (unsigned long long)x->fail_entry,
            (unsigned long long)x->system_event, (unsigned long long)x->other);
    fprintf(f, "\"canary\":{\"found\":%llu,\"ignored_in_image\":%llu,\"where\":[", (unsigned long long)v->canary.found,
            (unsigned long long)v->canary.ignored);
    for (unsigned i = 0; i < v->canary.nwhere; i++) {
        const struct canary_where *w = &v->canary.where[i];
        char when[64];
        if (w->when == CANARY_IN_REQUEST)
            snprintf(when, sizeof(when), "in request %llu's buffer", (unsigned long long)w->request);
        else
            snprintf(when, sizeof(when), "at exit");
        fprintf(f, "%s{\"gpa\":\"%#llx\",\"when\":\"%s\"}", i ? "," : "", (unsigned long long)w->gpa, when);
    }
    fprintf(f, "]},\"guest_exit_code\":");
    if (v->end == END_GUEST_EXIT)
        fprintf(f, "%u", v->io.exit_code);
    else
        fprintf(f, "null");
    fprintf(f, ",\"end\":\"%s\",\"message\":", end_name(v->end));
    json_string(f, v->end_msg);
    fprintf(f, ",\"guest_errors\":%llu,\"status\":%d}\n", (unsigned long long)vmm_guest_errors(), status);
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
