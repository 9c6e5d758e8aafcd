/* SPDX-License-Identifier: MIT */
/* traps.c - GDT, TSS, IDT and the exception handler (see traps.h). */
#include "kernel/traps.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "kernel/cpu.h"
#include "kernel/exit.h"
#include "kernel/panic.h"

#define SEL_CODE 0x08
#define SEL_DATA 0x10
#define SEL_TSS 0x18
#define IST_DF 1

/* 64-bit TSS (Intel SDM vol. 3, 8.7): only the IST pointers matter to us. */
struct __attribute__((packed)) tss64 {
    uint32_t reserved0;
    uint64_t rsp[3];
    uint64_t reserved1;
    uint64_t ist[7];
    uint64_t reserved2;
    uint16_t reserved3, iomap_base;
};

struct __attribute__((packed)) idt_gate {
    uint16_t offset_lo, selector;
    uint8_t ist, type_attr;
    uint16_t offset_mid;
    uint32_t offset_hi, reserved;
};

struct __attribute__((packed)) desc_ptr {
    uint16_t limit;
    uint64_t base;
};

extern char isr_stubs[], ist_df_stack_top[];
void load_gdt_and_segments(const struct desc_ptr *gdtr, uint16_t code_sel, uint16_t data_sel);

static uint64_t gdt[5] __attribute__((aligned(16)));
static struct tss64 tss __attribute__((aligned(16)));
static struct idt_gate idt[256] __attribute__((aligned(16)));
static struct trap_catch *catch_top;

static const char *const names[32] = {
    "#DE divide error",
    "#DB debug",
    "NMI",
    "#BP breakpoint",
    "#OF overflow",
    "#BR bound range",
    "#UD invalid opcode",
    "#NM device not available",
    "#DF double fault",
    "coprocessor overrun",
    "#TS invalid TSS",
    "#NP segment not present",
    "#SS stack fault",
    "#GP general protection",
    "#PF page fault",
    "reserved",
    "#MF x87 error",
    "#AC alignment check",
    "#MC machine check",
    "#XM SIMD exception",
    "#VE virtualization",
    "#CP control protection",
};

const char *trap_name(unsigned vector)
{
    if (vector < 32)
        return names[vector] ? names[vector] : "reserved";
    return "external interrupt";
}

/* A GDT of null, code, data and a 16-byte available 64-bit TSS descriptor (type 9) for `tss`,
 * whose double faults run on `df_top`; loaded, with the TSS. */
static void load_gdt_tss(uint64_t g[5], struct tss64 *t, void *df_top)
{
    uint64_t tss_base = (uint64_t)(uintptr_t)t, tss_limit = sizeof(*t) - 1;
    g[0] = 0;
    g[1] = 0x00af9a000000ffffull; /* 64-bit code, DPL 0 */
    g[2] = 0x00cf92000000ffffull; /* data, DPL 0 */
    g[3] = (tss_limit & 0xffff) | ((tss_base & 0xffffff) << 16) | (0x89ull << 40) | ((tss_limit >> 16 & 0xf) << 48) |
        ((tss_base >> 24 & 0xff) << 56);
    g[4] = tss_base >> 32;
    memset(t, 0, sizeof(*t));
    t->ist[IST_DF - 1] = (uint64_t)(uintptr_t)df_top;
    t->iomap_base = sizeof(*t); /* no I/O permission bitmap */
    struct desc_ptr gdtr = {5 * sizeof(uint64_t) - 1, (uint64_t)(uintptr_t)g};
    uint64_t gs_base = rdmsr(MSR_GS_BASE); /* a null GS selector may clear the base: this_cpu() needs it */
    load_gdt_and_segments(&gdtr, SEL_CODE, SEL_DATA);
    wrmsr(MSR_GS_BASE, gs_base);
    __asm__ volatile("ltr %w0" ::"r"((uint16_t)SEL_TSS));
}

static void load_idt(void)
{
    struct desc_ptr idtr = {sizeof(idt) - 1, (uint64_t)(uintptr_t)idt};
    __asm__ volatile("lidt %0" ::"m"(idtr));
}

void traps_init(void)
{
    load_gdt_tss(gdt, &tss, ist_df_stack_top);
    for (int v = 0; v < 256; v++) {
        uint64_t a = (uint64_t)(uintptr_t)(isr_stubs + 16 * v);
        idt[v] = (struct idt_gate){
            .offset_lo = (uint16_t)a,
            .selector = SEL_CODE,
            .ist = v == VEC_DF ? IST_DF : 0,
            .type_attr = 0x8e, /* present, DPL 0, 64-bit interrupt gate: IF cleared on entry */
            .offset_mid = (uint16_t)(a >> 16),
            .offset_hi = (uint32_t)(a >> 32),
        };
    }
    load_idt();
}

_Static_assert(sizeof(struct tss64) == sizeof(((struct cpu_tables *)0)->tss), "cpu_tables holds a TSS");

void traps_init_cpu(struct cpu_tables *t)
{
    load_gdt_tss(t->gdt, (struct tss64 *)(void *)t->tss, t->df_stack + sizeof(t->df_stack));
    load_idt();
}

bool trap_run(void (*fn)(void *arg), void *arg, struct trap_catch *c)
{
    memset(c, 0, sizeof(*c));
    c->prev = catch_top;
    catch_top = c;
    if (setjmp(c->env) == 0)
        fn(arg);
    /* On the exception path the handler already popped c; on the normal path pop it here. */
    if (catch_top == c)
        catch_top = c->prev;
    return c->caught;
}

static void decode_pf(uint64_t ec, char *buf, size_t size)
{
    snprintf(buf, size, " [%s, %s, %s%s%s]", ec & PF_PRESENT ? "protection" : "not-present",
             ec & PF_FETCH       ? "fetch"
                 : ec & PF_WRITE ? "write"
                                 : "read",
             ec & PF_USER ? "user" : "supervisor", ec & PF_RSVD ? ", reserved-bit" : "", "");
}

void trap_dump(const struct trap_frame *f)
{
    char pf[96] = "";
    if (f->vector == VEC_PF)
        decode_pf(f->error_code, pf, sizeof(pf));
    printf("EXCEPTION: %s (vector %" PRIu64 "), error code 0x%" PRIx64 "%s\n", trap_name((unsigned)f->vector),
           f->vector, f->error_code, pf);
    char sym[128];
    kallsyms_format(f->rip, sym, sizeof(sym));
    printf("  RIP %016" PRIx64 " %s\n", f->rip, sym);
    printf("  CR2 %016" PRIx64 "  CR3 %016" PRIx64 "  CR0 %016" PRIx64 "  CR4 %016" PRIx64 "\n", read_cr2(), read_cr3(),
           read_cr0(), read_cr4());
    printf("  RAX %016" PRIx64 "  RBX %016" PRIx64 "  RCX %016" PRIx64 "  RDX %016" PRIx64 "\n", f->rax, f->rbx, f->rcx,
           f->rdx);
    printf("  RSI %016" PRIx64 "  RDI %016" PRIx64 "  RBP %016" PRIx64 "  RSP %016" PRIx64 "\n", f->rsi, f->rdi, f->rbp,
           f->rsp);
    printf("  R8  %016" PRIx64 "  R9  %016" PRIx64 "  R10 %016" PRIx64 "  R11 %016" PRIx64 "\n", f->r8, f->r9, f->r10,
           f->r11);
    printf("  R12 %016" PRIx64 "  R13 %016" PRIx64 "  R14 %016" PRIx64 "  R15 %016" PRIx64 "\n", f->r12, f->r13, f->r14,
           f->r15);
    printf("  RFLAGS %016" PRIx64 "  CS %04" PRIx64 "  SS %04" PRIx64 "\n", f->rflags, f->cs, f->ss);
    backtrace_print(f->rip, f->rbp);
}

static void (*handlers[256])(struct trap_frame *f);

void traps_set_handler(uint8_t vector, void (*fn)(struct trap_frame *f)) { handlers[vector] = fn; }

void trap_handler(struct trap_frame *f);
void trap_handler(struct trap_frame *f)
{
    void (*h)(struct trap_frame *) = handlers[f->vector & 0xff];
    if (h != NULL) {
        h(f);
        return;
    }
    struct trap_catch *c = catch_top;
    if (c != NULL && f->vector < 32 && f->vector != VEC_NMI && f->vector != VEC_MC) {
        catch_top = c->prev;
        c->caught = true;
        c->vector = (uint8_t)f->vector;
        c->error_code = f->error_code;
        c->rip = f->rip;
        c->cr2 = read_cr2();
        longjmp(c->env, 1); /* same privilege level, no stack switch (except #DF): rsp is restored */
    }
    panic_begin();
    trap_dump(f);
    if (f->vector == VEC_DF)
        printf("  (a double fault here is most likely a kernel stack overflow into the guard page)\n");
    panic_end();
}
