/* SPDX-License-Identifier: MIT */
/* report.c - the registry of end-of-run reports (see report.h). */
#include "kernel/report.h"

#include <stddef.h>

#include "kernel/panic.h"

#define REPORTS_MAX 16

static void (*reports[REPORTS_MAX])(void);
static size_t nreports;

void report_register(void (*print)(void))
{
    if (nreports == REPORTS_MAX)
        panic("report: more than %d end-of-run reports", REPORTS_MAX);
    reports[nreports++] = print;
}

void reports_print(void)
{
    for (size_t i = 0; i < nreports; i++)
        reports[i]();
}
