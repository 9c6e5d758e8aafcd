/* SPDX-License-Identifier: MIT */
/* cc_report.c - "BOUNCE-REPORT cc {...}": what the confidential mode cost and whether the host
 * took part. One line of flat JSON (kernel/report.h):
 *   mode, strategy (cc_io=), kvm / map_gpa_range_offered (CPUID), host_services_conversion and
 *   service (serviced, enosys, no-kvm: the last two mean bookkeeping only), boot_shared_end,
 *   pages private and shared now, the conversion counters (CC_STATS, mm/mem_encrypt.h), canary
 *   (planted), and for the workload (everything after the devices were set up): requests (block
 *   requests completed, all disks), bytes copied by the DMA
 *   layer (bounce copies in and out, zeroing, copies around conversions) and per request,
 *   hypercalls and conversion runs per request.
 */
#include "init/cc_report.h"

#include <stdio.h>

#include "dma/dma.h"
#include "drivers/blk.h"
#include "kernel/options.h"
#include "kernel/report.h"
#include "lib/json.h"
#include "mm/cc_canary.h"
#include "mm/mem_encrypt.h"
#include "hypercall/kvm_hypercall.h"

static struct cc_stats at_start;

void cc_report_mark_workload(void) { cc_get_stats(&at_start); }

static uint64_t requests_completed(void)
{
    uint64_t n = 0;
    for (size_t i = 0; i < blk_count(); i++) {
        const struct blk_stats *s = &blk_get(i)->stats;
        n += s->reads + s->writes + s->flushes;
    }
    return n;
}

static double per(uint64_t what, uint64_t requests) { return requests ? (double)what / (double)requests : 0.0; }

static void print_report(void)
{
    struct cc_stats s;
    struct dma_stats d;
    cc_get_stats(&s);
    dma_get_stats(&d);
    const struct kvm_para_info *kvm = kvm_para_detect();
    enum cc_service svc = cc_service();
    bool serviced = svc == CC_SERVICE_SERVICED;
    uint64_t requests = requests_completed();
    uint64_t copied = d.bytes_copied_in + d.bytes_copied_out + d.bytes_zeroed + d.convert_bytes_copied;
    struct json_writer w;
    printf(REPORT_PREFIX " cc ");
    json_begin(&w, NULL, 0);
    json_str(&w, "mode", "confidential");
    json_str(&w, "strategy", cc_io_names[kopts.cc_io]);
    json_bool(&w, "kvm", kvm->present);
    json_bool(&w, "map_gpa_range_offered", kvm->map_gpa_range);
    json_bool(&w, "host_services_conversion", serviced);
    json_str(&w, "service", cc_service_name(svc));
    json_str(&w, "note",
             serviced                        ? "the host converted the pages"
                 : svc == CC_SERVICE_UNKNOWN ? "no conversion was needed"
                                             : "the host does not service conversions: bookkeeping only");
    json_u64(&w, "boot_shared_end", cc_boot_shared_end_now());
    json_u64(&w, "pages_private", cc_count_pages(PAGE_PRIVATE));
    json_u64(&w, "pages_shared", cc_count_pages(PAGE_SHARED));
#define CC_STATS_JSON(name, what) json_u64(&w, #name, s.name);
    CC_STATS(CC_STATS_JSON)
#undef CC_STATS_JSON
    json_bool(&w, "canary", cc_canary_planted());
    json_u64(&w, "requests", requests);
    json_u64(&w, "bytes_copied", copied);
    json_fixed(&w, "bytes_copied_per_request", per(copied, requests), 1);
    json_fixed(&w, "hypercalls_per_request", per(s.hypercalls - at_start.hypercalls, requests), 3);
    json_fixed(&w, "conversion_runs_per_request", per(s.runs - at_start.runs, requests), 3);
    json_end(&w);
    printf("\n");
}

void cc_report_init(void) { report_register(print_report); }
