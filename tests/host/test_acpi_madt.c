/* SPDX-License-Identifier: MIT */
/* test_acpi_madt.c - host unit tests for drivers/acpi_madt.c: the MADT as QEMU's firmware builds it
 * (pc, 4 CPUs: local APICs 0-3, the I/O APIC at 0xfec00000, IRQ 0 on GSI 2 and the PCI IRQs
 * level-triggered), x2APIC entries, and tables that lie. Tables are built byte by byte here, from
 * ACPI 6.5 5.2.12, not by the parser's own code. */
#include "tests/host/host_test.h"

#include <string.h>

#include "drivers/acpi_madt.h"
#include "lib/units.h"

struct table {
    uint8_t b[KiB(4)];
    size_t len;
};

static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

static void header(struct table *t, uint32_t lapic, uint32_t flags)
{
    memset(t, 0, sizeof(*t));
    memcpy(t->b, "APIC", 4);
    put32(t->b + 36, lapic);
    put32(t->b + 40, flags);
    t->len = 44;
}

static uint8_t *entry(struct table *t, uint8_t type, uint8_t len)
{
    uint8_t *e = t->b + t->len;
    e[0] = type;
    e[1] = len;
    t->len += len;
    put32(t->b + 4, (uint32_t)t->len);
    return e;
}

static void lapic(struct table *t, uint8_t uid, uint8_t id, uint32_t flags)
{
    uint8_t *e = entry(t, 0, 8);
    e[2] = uid;
    e[3] = id;
    put32(e + 4, flags);
}

static void x2apic(struct table *t, uint32_t id, uint32_t flags, uint32_t uid)
{
    uint8_t *e = entry(t, 9, 16);
    put32(e + 4, id);
    put32(e + 8, flags);
    put32(e + 12, uid);
}

static void ioapic(struct table *t, uint8_t id, uint32_t addr, uint32_t gsi)
{
    uint8_t *e = entry(t, 1, 12);
    e[2] = id;
    put32(e + 4, addr);
    put32(e + 8, gsi);
}

static void override(struct table *t, uint8_t irq, uint32_t gsi, uint16_t flags)
{
    uint8_t *e = entry(t, 2, 10);
    e[2] = 0; /* ISA */
    e[3] = irq;
    put32(e + 4, gsi);
    put16(e + 8, flags);
}

static void qemu_pc(struct table *t, int cpus)
{
    header(t, 0xfee00000, 1);
    for (int i = 0; i < cpus; i++)
        lapic(t, (uint8_t)i, (uint8_t)i, 1);
    ioapic(t, 0, 0xfec00000, 0);
    override(t, 0, 2, 0);
    override(t, 5, 5, 0xd);
    override(t, 9, 9, 0xd);
    override(t, 10, 10, 0xd);
    override(t, 11, 11, 0xd);
    uint8_t *nmi = entry(t, 4, 6); /* local APIC NMI on LINT1 of every CPU: skipped */
    nmi[2] = 0xff;
    nmi[5] = 1;
}

static void test_qemu_pc_four_cpus(void **state)
{
    (void)state;
    struct table t;
    struct madt_info m;
    const char *why = NULL;
    qemu_pc(&t, 4);
    assert_true(acpi_madt_parse(t.b, t.len, &m, &why));
    assert_int_equal(m.lapic_addr, 0xfee00000);
    assert_true(m.pcat_compat);
    assert_int_equal(m.ncpus, 4);
    for (unsigned i = 0; i < 4; i++) {
        assert_int_equal(m.cpu[i].apic_id, i);
        assert_int_equal(m.cpu[i].uid, i);
        assert_true(m.cpu[i].enabled);
        assert_false(m.cpu[i].x2apic);
    }
    assert_int_equal(m.nioapics, 1);
    assert_int_equal(m.ioapic[0].addr, 0xfec00000);
    assert_int_equal(m.ioapic[0].gsi_base, 0);
    assert_int_equal(m.noverrides, 5);
    assert_int_equal(m.override[0].source, 0);
    assert_int_equal(m.override[0].gsi, 2);
    assert_int_equal(m.override[4].source, 11);
    assert_int_equal(m.override[4].flags, 0xd);
    assert_int_equal(m.cpus_dropped + m.cpus_disabled, 0);
}

static void test_x2apic_entries_and_states(void **state)
{
    (void)state;
    struct table t;
    struct madt_info m;
    header(&t, 0xfee00000, 0);
    lapic(&t, 0, 0, 1);
    lapic(&t, 1, 0xff, 1);         /* ID 0xff: no CPU */
    lapic(&t, 2, 7, 0);            /* neither enabled nor online-capable: not a CPU */
    lapic(&t, 3, 8, 2);            /* online-capable: listed, not enabled */
    x2apic(&t, 300, 1, 42);        /* beyond 8 bits: only an x2APIC entry can name it */
    x2apic(&t, 0xffffffff, 1, 43); /* no CPU */
    assert_true(acpi_madt_parse(t.b, t.len, &m, NULL));
    assert_false(m.pcat_compat);
    assert_int_equal(m.ncpus, 3);
    assert_int_equal(m.cpus_disabled, 1);
    assert_int_equal(m.cpu[1].apic_id, 8);
    assert_false(m.cpu[1].enabled);
    assert_int_equal(m.cpu[2].apic_id, 300);
    assert_int_equal(m.cpu[2].uid, 42);
    assert_true(m.cpu[2].x2apic);
    assert_true(m.cpu[2].enabled);
}

static void test_lapic_address_override_wins(void **state)
{
    (void)state;
    struct table t;
    struct madt_info m;
    header(&t, 0xfee00000, 0);
    lapic(&t, 0, 0, 1);
    uint8_t *e = entry(&t, 5, 12);
    put64(e + 4, 0x1234567000ull);
    assert_true(acpi_madt_parse(t.b, t.len, &m, NULL));
    assert_int_equal(m.lapic_addr, 0x1234567000ull);
}

static void test_more_cpus_than_handled_are_counted(void **state)
{
    (void)state;
    struct table t;
    struct madt_info m;
    header(&t, 0xfee00000, 0);
    for (unsigned i = 0; i < MADT_MAX_CPUS + 5; i++)
        x2apic(&t, i, 1, i);
    assert_true(acpi_madt_parse(t.b, t.len, &m, NULL));
    assert_int_equal(m.ncpus, MADT_MAX_CPUS);
    assert_int_equal(m.cpus_dropped, 5);
}

static void expect_refused(const struct table *t, size_t len, const char *reason)
{
    struct madt_info m;
    const char *why = NULL;
    assert_false(acpi_madt_parse(t->b, len, &m, &why));
    assert_non_null(why);
    if (strstr(why, reason) == NULL)
        fail_msg("refused for \"%s\", expected \"%s\"", why, reason);
}

static void test_tables_that_lie(void **state)
{
    (void)state;
    struct table t;
    qemu_pc(&t, 2);
    expect_refused(&t, 43, "too short for its header");
    expect_refused(&t, t.len - 1, "runs past the table's end"); /* the last entry cut */
    expect_refused(&t, 45, "header runs past");                 /* one byte of an entry */
    header(&t, 0, 0);
    lapic(&t, 0, 0, 1);
    t.b[44 + 1] = 0; /* length 0: the walk would never advance */
    expect_refused(&t, t.len, "fewer than 2 bytes");
    header(&t, 0, 0);
    entry(&t, 0, 6); /* a local APIC entry of 6 bytes */
    expect_refused(&t, t.len, "shorter than its type");
    header(&t, 0, 0);
    entry(&t, 9, 12); /* an x2APIC entry of 12 */
    expect_refused(&t, t.len, "shorter than its type");
    header(&t, 0, 0);
    lapic(&t, 0, 3, 1);
    x2apic(&t, 3, 1, 9); /* the same CPU twice */
    expect_refused(&t, t.len, "same APIC ID");
    header(&t, 0, 0);
    ioapic(&t, 0, 0xfec00000, 0);
    expect_refused(&t, t.len, "no usable CPU");
    header(&t, 0, 0);
    lapic(&t, 0, 0, 1);
    for (int i = 0; i <= MADT_MAX_IOAPICS; i++)
        ioapic(&t, (uint8_t)i, 0xfec00000 + (uint32_t)i * 0x1000, (uint32_t)i * 24);
    expect_refused(&t, t.len, "more I/O APICs");
    header(&t, 0, 0);
    lapic(&t, 0, 0, 1);
    for (int i = 0; i <= MADT_MAX_OVERRIDES; i++)
        override(&t, (uint8_t)i, (uint32_t)i, 0);
    expect_refused(&t, t.len, "more interrupt source overrides");
}

/* ISA IRQs through QEMU pc's overrides: 0 moved to GSI 2 (so IRQ 2 has no GSI); 9 with flags 0xd
 * (MPS INTI: polarity bits 1:0 = 01 active high, trigger bits 3:2 = 11 level); the IDE channels'
 * 14 and 15 without an override, on their own numbers, edge-triggered and active high as on ISA. */
static void test_isa_routes(void **state)
{
    (void)state;
    struct table t;
    struct madt_info m;
    struct isa_route r;
    qemu_pc(&t, 1);
    assert_true(acpi_madt_parse(t.b, t.len, &m, NULL));
    assert_true(madt_isa_route(&m, 0, &r));
    assert_int_equal(r.gsi, 2);
    assert_false(r.level);
    assert_false(r.active_low);
    assert_false(madt_isa_route(&m, 2, &r));
    assert_true(madt_isa_route(&m, 9, &r));
    assert_int_equal(r.gsi, 9);
    assert_true(r.level);
    assert_false(r.active_low);
    for (uint8_t irq = 14; irq <= 15; irq++) {
        assert_true(madt_isa_route(&m, irq, &r));
        assert_int_equal(r.gsi, irq);
        assert_false(r.level);
        assert_false(r.active_low);
    }
    /* An override to an active-low, level GSI elsewhere (flags 0xf), as real boards route SCI. */
    header(&t, 0xfee00000u, 1);
    lapic(&t, 0, 0, 1);
    override(&t, 14, 20, 0xf);
    assert_true(acpi_madt_parse(t.b, t.len, &m, NULL));
    assert_true(madt_isa_route(&m, 14, &r));
    assert_int_equal(r.gsi, 20);
    assert_true(r.level);
    assert_true(r.active_low);
}

static void test_unknown_types_are_skipped_by_length(void **state)
{
    (void)state;
    struct table t;
    struct madt_info m;
    header(&t, 0xfee00000, 0);
    entry(&t, 0x7f, 40); /* a type from the future, 40 bytes */
    lapic(&t, 0, 5, 1);
    assert_true(acpi_madt_parse(t.b, t.len, &m, NULL));
    assert_int_equal(m.ncpus, 1);
    assert_int_equal(m.cpu[0].apic_id, 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_qemu_pc_four_cpus),
        cmocka_unit_test(test_x2apic_entries_and_states),
        cmocka_unit_test(test_lapic_address_override_wins),
        cmocka_unit_test(test_more_cpus_than_handled_are_counted),
        cmocka_unit_test(test_tables_that_lie),
        cmocka_unit_test(test_isa_routes),
        cmocka_unit_test(test_unknown_types_are_skipped_by_length),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
