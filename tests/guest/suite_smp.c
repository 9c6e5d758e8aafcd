/* SPDX-License-Identifier: MIT */
/* suite_smp.c - the application processors: every CPU the MADT lists came up, each reported the
 * APIC ID the MADT gives it (read by that CPU from its own APIC), and the per-CPU data is each
 * CPU's own. With one CPU the suite checks that the boot CPU is all there is. */
#include <inttypes.h>

#include "drivers/acpi.h"
#include "drivers/acpi_madt.h"
#include "kernel/percpu.h"
#include "ktest/ktest.h"

static void every_listed_cpu_came_up(struct ktest *t)
{
    const struct madt_info *m = acpi_madt(ktest_boot_info()->rsdp, NULL);
    unsigned enabled = 0;
    for (unsigned i = 0; m && i < m->ncpus; i++)
        enabled += m->cpu[i].enabled;
    KEXPECT_EQ(t, cpu_count(), m && enabled ? enabled : 1u);
    KEXPECT_EQ(t, cpus_online(), cpu_count());
    for (unsigned i = 0; i < cpu_count(); i++) {
        const struct cpu *c = cpu_get(i);
        KASSERT(t, c != NULL);
        KEXPECT_MSG(t, c->online, "CPU %u (APIC ID %" PRIu32 ") is not online", i, c->apic_id);
        KEXPECT_MSG(t, c->seen_apic_id == c->apic_id, "CPU %u: the MADT says APIC ID %" PRIu32 ", it read %" PRIu32, i,
                    c->apic_id, c->seen_apic_id);
    }
    ktest_note(t, "%u of %u CPUs online", cpus_online(), cpu_count());
}

static void per_cpu_data_is_each_cpus_own(struct ktest *t)
{
    KEXPECT(t, this_cpu() == cpu_get(0)); /* we run on the boot CPU */
    for (unsigned i = 0; i < cpu_count(); i++) {
        const struct cpu *c = cpu_get(i);
        KEXPECT(t, c->self == c);
        KEXPECT_EQ(t, c->index, i);
        for (unsigned k = 0; k < i; k++) {
            const struct cpu *o = cpu_get(k);
            KEXPECT(t, o != c && o->apic_id != c->apic_id);
            KEXPECT(t,
                    (const uint8_t *)o + sizeof(*o) <= (const uint8_t *)c ||
                        (const uint8_t *)c + sizeof(*c) <= (const uint8_t *)o);
        }
    }
}

static const struct ktest_case cases[] = {
    KTEST_CASE(every_listed_cpu_came_up),
    KTEST_CASE(per_cpu_data_is_each_cpus_own),
};
KTEST_SUITE(smp, "application processors: brought up, per-CPU data", cases);
