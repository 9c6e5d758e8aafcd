/* SPDX-License-Identifier: MIT */
/* run.c - the vCPU loop: KVM_RUN and the exits (Documentation/virt/kvm/api.rst, 4.10 KVM_RUN and
 * 5. The kvm_run structure). Polled operation: no interrupt is ever injected.
 *
 * Routing: port I/O to ioport.c; MMIO inside the virtio-mmio window to virtio_mmio.c, inside the
 * I/O APIC page to ioapic.c, anywhere else reads all ones and writes are ignored; hypercalls to
 * hypercall.c; memory faults (KVM_RUN -1/EFAULT with KVM_EXIT_MEMORY_FAULT) to memfault.c.
 *
 * The timeout: SIGALRM (installed without SA_RESTART) sets a flag and kvm_run.immediate_exit, so
 * KVM_RUN returns -EINTR whether the signal arrives inside it or just before it is entered.
 */
#define _GNU_SOURCE
#include <inttypes.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "tools/vmm/kvm_compat.h"
#include "tools/vmm/layout.h"
#include "tools/vmm/log.h"
#include "tools/vmm/vmm.h"

static volatile sig_atomic_t timed_out;
static struct kvm_run *volatile alarm_run;

static void on_alarm(int sig)
{
    (void)sig;
    timed_out = 1;
    if (alarm_run)
        alarm_run->immediate_exit = 1;
}

void vmm_end(struct vmm *v, enum vmm_end why, const char *fmt, ...)
{
    if (v->end != END_RUNNING)
        return; /* the first reason stands */
    v->end = why;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->end_msg, sizeof(v->end_msg), fmt, ap);
    va_end(ap);
}

static void exit_io(struct vmm *v)
{
    struct kvm_run *run = v->run;
    v->exits.io++;
    unsigned size = run->io.size, count = run->io.count;
    uint64_t bytes = (uint64_t)size * count;
    if ((size != 1 && size != 2 && size != 4) || run->io.data_offset < sizeof(*run) ||
        run->io.data_offset > v->run_size || bytes > v->run_size - run->io.data_offset) {
        vmm_end(v, END_VMM_ERROR, "KVM_EXIT_IO with size %u count %u at offset %llu", size, count,
                (unsigned long long)run->io.data_offset);
        return;
    }
    uint8_t *data = (uint8_t *)run + run->io.data_offset;
    for (unsigned i = 0; i < count; i++)
        ioport_access(&v->io, run->io.port, run->io.direction == KVM_EXIT_IO_OUT, data + (size_t)i * size, size);
    if (v->io.exited)
        vmm_end(v, END_GUEST_EXIT, "the guest exited with code %u (isa-debug-exit)", v->io.exit_code);
}

static void exit_mmio(struct vmm *v)
{
    struct kvm_run *run = v->run;
    v->exits.mmio++;
    uint64_t a = run->mmio.phys_addr;
    unsigned len = run->mmio.len;
    if (len == 0 || len > 8) {
        vmm_end(v, END_VMM_ERROR, "KVM_EXIT_MMIO of %u bytes", len);
        return;
    }
    uint64_t val = 0;
    if (run->mmio.is_write)
        memcpy(&val, run->mmio.data, len);
    if (v->have_disk && a >= VIRTIO_MMIO_BASE && a - VIRTIO_MMIO_BASE < VIRTIO_MMIO_SIZE) {
        if (run->mmio.is_write)
            vmmio_write(&v->vmmio, a - VIRTIO_MMIO_BASE, len, val);
        else
            val = vmmio_read(&v->vmmio, a - VIRTIO_MMIO_BASE, len);
    } else if (a >= IOAPIC_BASE && a - IOAPIC_BASE < IOAPIC_SIZE) {
        if (run->mmio.is_write)
            ioapic_write(&v->ioapic, a - IOAPIC_BASE, len, val);
        else
            val = ioapic_read(&v->ioapic, a - IOAPIC_BASE, len);
    } else if (!run->mmio.is_write) {
        val = ~0ull; /* nothing there */
    }
    if (!run->mmio.is_write)
        memcpy(run->mmio.data, &val, len);
}

static void dump_regs(struct vmm *v)
{
    struct kvm_regs r;
    struct kvm_sregs s;
    if (ioctl(v->vcpu_fd, KVM_GET_REGS, &r) == 0 && ioctl(v->vcpu_fd, KVM_GET_SREGS, &s) == 0)
        vmm_info("vcpu: rip %#llx rsp %#llx rax %#llx rbx %#llx rcx %#llx rdx %#llx cr0 %#llx cr2 %#llx cr3 %#llx "
                 "cr4 %#llx efer %#llx",
                 r.rip, r.rsp, r.rax, r.rbx, r.rcx, r.rdx, s.cr0, s.cr2, s.cr3, s.cr4, s.efer);
}

static void exit_internal_error(struct vmm *v)
{
    struct kvm_run *run = v->run;
    v->exits.internal_error++;
    char extra[160] = "";
    size_t n = 0;
    for (uint32_t i = 0; i < run->internal.ndata && i < 4 && n < sizeof(extra); i++)
        n += (size_t)snprintf(extra + n, sizeof(extra) - n, " %#" PRIx64, (uint64_t)run->internal.data[i]);
    dump_regs(v);
    vmm_end(v, END_GUEST_STOPPED, "KVM internal error, suberror %u%s%s (1 = emulation failure)", run->internal.suberror,
            n ? ", data" : "", extra);
}

void vmm_run(struct vmm *v)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_alarm;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: KVM_RUN must return */
    sigaction(SIGALRM, &sa, NULL);
    alarm_run = v->run;
    if (v->timeout_s)
        alarm(v->timeout_s);

    struct kvm_run *run = v->run;
    while (v->end == END_RUNNING) {
        if (timed_out) {
            vmm_end(v, END_TIMEOUT, "the guest ran past the timeout of %u s: killed", v->timeout_s);
            break;
        }
        int rc = ioctl(v->vcpu_fd, KVM_RUN, 0);
        if (rc != 0) {
            int e = errno;
            if (e == EINTR || e == EAGAIN) {
                v->exits.intr++;
                continue;
            }
            if ((e == EFAULT || e == EHWPOISON) && run->exit_reason == KVM_EXIT_MEMORY_FAULT) {
                v->exits.memory_fault++;
                memfault_handle(v);
                continue;
            }
            dump_regs(v);
            vmm_end(v, END_VMM_ERROR, "KVM_RUN: %s", strerror(e));
            break;
        }
        switch (run->exit_reason) {
        case KVM_EXIT_IO: exit_io(v); break;
        case KVM_EXIT_MMIO: exit_mmio(v); break;
        case KVM_EXIT_HYPERCALL:
            v->exits.hypercall++;
            hypercall_handle(v);
            break;
        case KVM_EXIT_HLT:
            v->exits.hlt++;
            dump_regs(v);
            vmm_end(v, END_GUEST_STOPPED, "the guest halted (hlt) with nothing to wake it and no exit code");
            break;
        case KVM_EXIT_SHUTDOWN:
            v->exits.shutdown++;
            dump_regs(v);
            vmm_end(v, END_GUEST_STOPPED, "the guest shut down (triple fault) without an exit code");
            break;
        case KVM_EXIT_SYSTEM_EVENT:
            v->exits.system_event++;
            vmm_end(v, END_GUEST_STOPPED, "system event %u (reset or shutdown) without an exit code",
                    run->system_event.type);
            break;
        case KVM_EXIT_INTERNAL_ERROR: exit_internal_error(v); break;
        case KVM_EXIT_FAIL_ENTRY:
            v->exits.fail_entry++;
            vmm_end(v, END_VMM_ERROR, "KVM could not enter the guest: hardware reason %#llx",
                    (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
            break;
        case KVM_EXIT_INTR: v->exits.intr++; break;
        default:
            v->exits.other++;
            dump_regs(v);
            vmm_end(v, END_VMM_ERROR, "unexpected exit reason %u", run->exit_reason);
            break;
        }
    }
    alarm(0);
    alarm_run = NULL;
    fflush(v->io.out);
}
