/* SPDX-License-Identifier: MIT */
/* cc_report.c - "BOUNCE-REPORT cc {...}": what the confidential mode cost and whether the host
 * took part. One line of flat JSON (kernel/report.h):
 *   mode, strategy (cc_io=), kvm / map_gpa_range_offered (CPUID), host_services_conversion and
 *   service (serviced, enosys, no-kvm: the last two mean bookkeeping only), boot_shared_end,
 *   pages private and shared now, hypercalls, pages_to_shared, pages_to_private, enosys,
 *   failures, bookkeeping_only, canary (planted), and for the workload (everything after the
 *   devices were set up): requests (block requests completed, all disks), bytes copied by the DMA
 *   layer (bounce copies in and out, zeroing, copies around conversions) and per request,
 *   hypercalls and conversion runs per request.
 */
#include "init/cc_report.h"

#include <stdio.h>

#include "dma/dma.h"
#include "drivers/blk.h"
#include "kernel/options.h"
#include "kernel/report.h"
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
    printf(REPORT_PREFIX
           " cc {\"mode\":\"confidential\",\"strategy\":\"%s\",\"kvm\":%s,\"map_gpa_range_offered\":%s,"
           "\"host_services_conversion\":%s,\"service\":\"%s\",\"note\":\"%s\",\"boot_shared_end\":%llu,"
           "\"pages_private\":%llu,\"pages_shared\":%llu,\"hypercalls\":%llu,\"pages_to_shared\":%llu,"
           "\"pages_to_private\":%llu,\"enosys\":%llu,\"failures\":%llu,\"bookkeeping_only\":%llu,\"invalid\":%llu,"
           "\"canary\":%s,\"requests\":%llu,\"bytes_copied\":%llu,\"bytes_copied_per_request\":%.1f,"
           "\"hypercalls_per_request\":%.3f,\"conversion_runs_per_request\":%.3f}\n",
           kopts.cc_io == 1 ? "convert" : "bounce", kvm->present ? "true" : "false",
           kvm->map_gpa_range ? "true" : "false", serviced ? "true" : "false", cc_service_name(svc),
           serviced                        ? "the host converted the pages"
               : svc == CC_SERVICE_UNKNOWN ? "no conversion was needed"
                                           : "the host does not service conversions: bookkeeping only",
           (unsigned long long)cc_boot_shared_end_now(), (unsigned long long)cc_count_pages(PAGE_PRIVATE),
           (unsigned long long)cc_count_pages(PAGE_SHARED), (unsigned long long)s.hypercalls,
           (unsigned long long)s.pages_to_shared, (unsigned long long)s.pages_to_private, (unsigned long long)s.enosys,
           (unsigned long long)s.failures, (unsigned long long)s.bookkeeping_only, (unsigned long long)s.invalid,
           cc_canary_planted() ? "true" : "false", (unsigned long long)requests, (unsigned long long)copied,
           per(copied, requests), per(s.hypercalls - at_start.hypercalls, requests),
           per(s.runs - at_start.runs, requests));
}

void cc_report_init(void) { report_register(print_report); }
