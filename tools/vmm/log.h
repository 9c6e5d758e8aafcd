/* SPDX-License-Identifier: MIT */
/* log.h - the VMM's messages: "vmm: ..." lines on stderr.
 *
 * Problems caused by the guest (bad hypercall arguments, malformed descriptors, DMA to private
 * pages) are logged with vmm_guest_error(), which is rate-limited: an untrusted guest must not be
 * able to flood the host's log. Every such event is also counted where it happened, so the
 * report has the totals even when the messages were suppressed.
 */
#ifndef BOUNCE_VMM_LOG_H
#define BOUNCE_VMM_LOG_H

#include <stdbool.h>
#include <stdint.h>

#define VMM_GUEST_ERROR_LOG_LIMIT 200

/* Progress and host-side problems. */
void vmm_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Something the guest did wrong; the first VMM_GUEST_ERROR_LOG_LIMIT are printed. */
void vmm_guest_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Tests and the fuzzer silence everything. */
void vmm_log_set_quiet(bool quiet);
uint64_t vmm_guest_errors(void);

#endif
