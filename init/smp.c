/* SPDX-License-Identifier: MIT */
/* smp.c - application processor bring-up (see smp.h). */
#include "init/smp.h"

#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "drivers/acpi.h"
#include "drivers/acpi_madt.h"
#include "kernel/apic.h"
#include "kernel/cpu.h"
#include "kernel/options.h"
#include "kernel/percpu.h"
#include "kernel/smp_call.h"
#include "kernel/smp_trampoline.h"
#include "kernel/time.h"
#include "lib/memrange.h"
#include "mm/mm.h"

#define LOW_MEMORY_END 0x9f000 /* below the EBDA: the start page must be below 1 MiB (8.4.4.1) */
#define INIT_DELAY_MS 10       /* SDM 8.4.4.1: INIT, wait 10 ms, then the start-up IPIs */
#define SIPI_DELAY_US 200      /* ... 200 us between the two */

/* The data block at SMP_TR_DATA in the trampoline page: the layout smp_trampoline.h names. */
struct __attribute__((packed)) trampoline_data {
    uint64_t gdt[4];
    uint16_t gdt_limit;
    uint32_t gdt_base;
    uint16_t pad0;
    uint32_t pm_offset;
    uint16_t pm_selector, pad1;
    uint32_t lm_offset;
    uint16_t lm_selector, pad2;
    uint32_t cr3_low, cr4, efer, pad3;
    uint64_t cr3, stack, entry, arg;
};
_Static_assert(offsetof(struct trampoline_data, gdt_limit) == TR_GDTR, "layout");
_Static_assert(offsetof(struct trampoline_data, pm_offset) == TR_PM_JUMP, "layout");
_Static_assert(offsetof(struct trampoline_data, lm_offset) == TR_LM_JUMP, "layout");
_Static_assert(offsetof(struct trampoline_data, cr3_low) == TR_CR3_LOW, "layout");
_Static_assert(offsetof(struct trampoline_data, cr4) == TR_CR4, "layout");
_Static_assert(offsetof(struct trampoline_data, efer) == TR_EFER, "layout");
_Static_assert(offsetof(struct trampoline_data, cr3) == TR_CR3, "layout");
_Static_assert(offsetof(struct trampoline_data, stack) == TR_STACK, "layout");
_Static_assert(offsetof(struct trampoline_data, entry) == TR_ENTRY, "layout");
_Static_assert(offsetof(struct trampoline_data, arg) == TR_ARG, "layout");
_Static_assert(sizeof(struct trampoline_data) == TR_END, "layout");

static struct {
    uint64_t page;     /* the trampoline's page, below 1 MiB */
    uint64_t pml4_low; /* a PML4 below 4 GiB for the switch (the kernel's, or a copy) */
} smp;

/* An AP's first C: its own tables, GS, the boot CPU's PAT, its APIC; then it reports and parks. */
static void ap_main(void *arg)
{
    struct cpu *c = arg;
    traps_init_cpu(&c->tables);
    cpu_set_current(c);
    wrmsr(MSR_PAT, PAT_LINUX_LAYOUT); /* every CPU must use the same PAT (SDM vol. 3A 12.12.4) */
    apic_init_secondary();
    c->seen_apic_id = apic_id();
    __atomic_store_n(&c->online, 1, __ATOMIC_RELEASE);
    for (;;) /* parked, interrupts on: the call-function and NMI IPIs (kernel/smp_call.c) wake it */
        __asm__ volatile("sti; hlt; cli");
}

/* The trampoline's page: usable RAM below 1 MiB, which the frame allocator never hands out. */
static bool find_low_page(void)
{
    size_t n;
    const struct mem_range *map = mm_boot_map(&n);
    return memrange_find(map, n, MEM_USABLE, PAGE_SIZE, PAGE_SIZE, PAGE_SIZE, LOW_MEMORY_END, &smp.page);
}

static void fill_trampoline(struct cpu *c)
{
    uint8_t *page = phys_to_virt(smp.page);
    struct trampoline_data *d = (struct trampoline_data *)(void *)(page + SMP_TR_DATA);
    uint32_t base = (uint32_t)smp.page;
    memcpy(page, smp_trampoline_start, (size_t)(smp_trampoline_end - smp_trampoline_start));
    *d = (struct trampoline_data){
        .gdt = {0, 0x00af9a000000ffffull, 0x00cf92000000ffffull, 0x00cf9a000000ffffull},
        .gdt_limit = sizeof(d->gdt) - 1,
        .gdt_base = base + SMP_TR_DATA + TR_GDT,
        .pm_offset = base + (uint32_t)(smp_trampoline_pm32 - smp_trampoline_start),
        .pm_selector = TR_SEL_CODE32,
        .lm_offset = base + (uint32_t)(smp_trampoline_lm64 - smp_trampoline_start),
        .lm_selector = TR_SEL_CODE64,
        .cr3_low = (uint32_t)smp.pml4_low,
        .cr4 = (uint32_t)read_cr4(),
        .efer = (uint32_t)rdmsr(MSR_EFER),
        .cr3 = read_cr3(),
        .stack = (uint64_t)(uintptr_t)(c->stack + sizeof(c->stack)),
        .entry = (uint64_t)(uintptr_t)ap_main,
        .arg = (uint64_t)(uintptr_t)c,
    };
}

static bool reported(void *arg) { return __atomic_load_n(&((struct cpu *)arg)->online, __ATOMIC_ACQUIRE) != 0; }

/* INIT-SIPI-SIPI (8.4.4.1) and wait for the report. The page runs read-only and executable for
 * the start, and goes back to read-write, no-execute after. */
static bool start_ap(struct cpu *c)
{
    fill_trampoline(c);
    mmu_map(smp.page, smp.page, PAGE_SIZE, PT_EXEC); /* flushed here and shot down on the others */
    uint64_t t0 = time_ns();
    uint32_t vector = (uint32_t)(smp.page >> 12);
    bool sent = apic_send_ipi(c->apic_id, APIC_ICR_INIT);
    delay_ns(INIT_DELAY_MS * NSEC_PER_MSEC);
    for (int i = 0; i < 2 && sent && !reported(c); i++) {
        sent = apic_send_ipi(c->apic_id, APIC_ICR_STARTUP | vector);
        delay_ns(SIPI_DELAY_US * NSEC_PER_USEC);
    }
    uint64_t limit = SMP_AP_TIMEOUT_MS * NSEC_PER_MSEC, spent = time_ns() - t0;
    bool up = sent && wait_until(reported, c, spent < limit ? limit - spent : 0);
    c->up_ns = time_ns() - t0;
    if (!up)
        apic_send_ipi(c->apic_id, APIC_ICR_INIT); /* a latecomer is held in wait-for-SIPI, not let run */
    mmu_map(smp.page, smp.page, PAGE_SIZE, PT_WRITE);
    return up;
}

/* The start-up page and a PML4 below 4 GiB; false (said why) when there is none. */
static bool prepare_startup(void)
{
    if (!find_low_page()) {
        printf("smp: no free page below 1 MiB for the start-up code: the boot CPU alone\n");
        return false;
    }
    smp.pml4_low = read_cr3();
    if (smp.pml4_low >= GiB(4)) { /* 32-bit mode loads a 32-bit CR3: a copy below 4 GiB */
        uint64_t pa = alloc_pages(FRAME_DMA32, 1);
        if (pa == FRAME_NONE) {
            printf("smp: no page below 4 GiB for the start-up page tables: the boot CPU alone\n");
            return false;
        }
        memcpy(phys_to_virt(pa), phys_to_virt(smp.pml4_low), PAGE_SIZE);
        smp.pml4_low = pa;
    }
    return true;
}

/* The data of the CPU the MADT lists at apic_id, registered; NULL (said why) when it cannot be. */
static struct cpu *new_cpu(uint32_t apic_id)
{
    uint64_t pa = alloc_pages(FRAME_PREFER_HIGH, ALIGN_UP(sizeof(struct cpu), PAGE_SIZE) / PAGE_SIZE);
    if (pa == FRAME_NONE) {
        printf("smp: no memory for the data of the CPU with APIC ID %" PRIu32 ": it stays down\n", apic_id);
        return NULL;
    }
    struct cpu *c = phys_to_virt(pa);
    memset(c, 0, sizeof(*c));
    c->apic_id = apic_id;
    if (!cpu_register(c)) {
        printf("smp: more than %u CPUs: the one with APIC ID %" PRIu32 " stays down\n", MAX_CPUS, apic_id);
        free_pages(pa, ALIGN_UP(sizeof(struct cpu), PAGE_SIZE) / PAGE_SIZE);
        return NULL;
    }
    return c;
}

void smp_init(uint64_t rsdp)
{
    smp_call_init();
    struct cpu *boot = cpu_get(0); /* cpu_init_boot() registered it */
    const struct madt_info *m = acpi_madt(rsdp, NULL);
    if (m == NULL || apic_mode() == APIC_NONE) {
        printf("smp: the boot CPU alone (%s)\n", m ? "no local APIC" : "no MADT");
        return;
    }
    boot->apic_id = boot->seen_apic_id = apic_id();
    unsigned others = 0;
    for (unsigned i = 0; i < m->ncpus; i++)
        others += m->cpu[i].enabled && m->cpu[i].apic_id != boot->apic_id;
    if (others == 0 && !kopts.smp_phantom) {
        printf("smp: the boot CPU alone (the MADT lists no other)\n");
        return;
    }
    if (!prepare_startup())
        return;
    for (unsigned i = 0; i < m->ncpus; i++) {
        if (m->cpu[i].apic_id == boot->apic_id || !m->cpu[i].enabled)
            continue;
        struct cpu *c = new_cpu(m->cpu[i].apic_id);
        if (c == NULL)
            continue;
        if (start_ap(c))
            printf("smp: CPU %u (APIC ID %" PRIu32 ") up in %" PRIu64 " us\n", c->index, c->apic_id,
                   c->up_ns / NSEC_PER_USEC);
        else
            printf("smp: CPU %u (APIC ID %" PRIu32 ") did not come up within %u ms: left out\n", c->index, c->apic_id,
                   SMP_AP_TIMEOUT_MS);
    }
    if (kopts.smp_phantom) { /* an APIC ID no CPU has: the one past the highest listed */
        uint32_t id = 0;
        for (unsigned i = 0; i < m->ncpus; i++)
            id = m->cpu[i].apic_id >= id ? m->cpu[i].apic_id + 1 : id;
        struct cpu *c = new_cpu(id);
        if (c && !start_ap(c))
            printf("smp: CPU %u (APIC ID %" PRIu32 ", smp_phantom) did not come up within %u ms: left out\n", c->index,
                   c->apic_id, SMP_AP_TIMEOUT_MS);
    }
    printf("smp: %u of %u CPUs online (start-up page %#" PRIx64 ")\n", cpus_online(), cpu_count(), smp.page);
}
