/* SPDX-License-Identifier: MIT */
/* report.h - end-of-run reports: modules that keep counters print them as one JSON line each.
 *
 * Every line starts with "BOUNCE-REPORT <name> " followed by a JSON object, so host tools find it
 * with one prefix match. Reports print after the tests and before the final summary line.
 */
#ifndef BOUNCE_KERNEL_REPORT_H
#define BOUNCE_KERNEL_REPORT_H

#define REPORT_PREFIX "BOUNCE-REPORT"

/* Register print(), which must print exactly one line: REPORT_PREFIX " <name> {...}\n". */
void report_register(void (*print)(void));
void reports_print(void);

#endif
