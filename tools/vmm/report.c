/* SPDX-License-Identifier: MIT */
/* report.c - the VMM's report at exit (docs/confidential.md "Reports"): one JSON object, written
 * to --report FILE and, as a "VMM-REPORT {...}" line, to stderr - never into the guest's console
 * stream (stdout), where a guest could print a forged one. */
#include <inttypes.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib/json.h"
#include "tools/vmm/log.h"
#include "tools/vmm/vmm.h"

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
    struct json_writer w;
    json_begin_stream(&w, f);
    json_str(&w, "vm_type", v->sw_protected ? "sw-protected" : "default (fallback)");
    json_u64(&w, "memory", v->ram);
    json_u64(&w, "boot_shared", v->mem.boot_shared);
    json_object(&w, "conversions");
#define CONV_JSON(name, what) json_u64(&w, #name, c->name);
    CONV_STATS(CONV_JSON)
#undef CONV_JSON
    json_close(&w);
    json_u64(&w, "shared_pages_at_exit", v->mem.gm.shared ? gm_count_shared(&v->mem.gm) : 0);
    json_u64(&w, "memory_faults", v->memory_faults);
    json_u64(&w, "refused_dma", b->refused_dma);
    json_object(&w, "requests");
#define REQUESTS_JSON(name, what) json_u64(&w, #name, b->name);
    VBLK_REQUEST_STATS(REQUESTS_JSON)
#undef REQUESTS_JSON
    json_close(&w);
    json_bool(&w, "device_needs_reset", v->blk && v->blk->needs_reset);
    json_object(&w, "exits_by_reason");
#define EXITS_JSON(name, what) json_u64(&w, #name, x->name);
    VMM_EXITS(EXITS_JSON)
#undef EXITS_JSON
    json_close(&w);
    json_object(&w, "canary");
    json_u64(&w, "found", v->canary.found);
    json_u64(&w, "ignored_in_image", v->canary.ignored);
    json_key(&w, "where");
    json_append(&w, "[");
    for (unsigned i = 0; i < v->canary.nwhere; i++) {
        const struct canary_where *cw = &v->canary.where[i];
        char when[64];
        if (cw->when == CANARY_IN_REQUEST)
            snprintf(when, sizeof(when), "in request %" PRIu64 "'s buffer", cw->request);
        else
            snprintf(when, sizeof(when), "at exit");
        json_append(&w, "%s{\"gpa\":\"%#" PRIx64 "\",\"when\":\"%s\"}", i ? "," : "", cw->gpa, when);
    }
    json_append(&w, "]");
    json_close(&w);
    json_key(&w, "guest_exit_code");
    if (v->end == END_GUEST_EXIT)
        json_append(&w, "%u", v->io.exit_code);
    else
        json_append(&w, "null");
    json_str(&w, "end", end_name(v->end));
    json_str(&w, "message", v->end_msg);
    json_u64(&w, "guest_errors", vmm_guest_errors());
    json_key(&w, "status");
    json_append(&w, "%d", status);
    json_end(&w);
    fputc('\n', f);
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
