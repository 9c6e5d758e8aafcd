/* SPDX-License-Identifier: MIT */
/* cc_report.h - the confidential mode's end-of-run report, "BOUNCE-REPORT cc {...}"
 * (docs/confidential.md, "Reports"). */
#ifndef BOUNCE_INIT_CC_REPORT_H
#define BOUNCE_INIT_CC_REPORT_H

/* Register the report (confidential mode, after cc_init() and dma_guest_init()). */
void cc_report_init(void);
/* The workload starts now: per-request figures count hypercalls from here on (the ones that set
 * up the pool and the virtqueues are not the requests'). */
void cc_report_mark_workload(void);

#endif
