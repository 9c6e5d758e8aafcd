# SPDX-License-Identifier: MIT
"""Where each group of the rig's scenarios runs: natively on this host's KVM, in the L1 (a KVM
host booted under QEMU TCG), or nowhere - skipped, with the reason.

Native mode runs QEMU and tools/vmm on this host's /dev/kvm and watches them through tracefs; it
needs root (tracefs, the THP setting), the kvm tracepoints, and the VM type of each group: the
stock group runs default VMs, the sw-protected group KVM_X86_SW_PROTECTED_VM, which a kernel
offers only when built with CONFIG_KVM_SW_PROTECTED_VM (KVM_CAP_VM_TYPES, Documentation/virt/
kvm/api.rst). Auto mode runs a group natively only when all of that holds and /dev/kvm runs
guests at native speed (tools/kvm-probe); every other group goes to the L1, which has all of it
by construction. --mode native runs what it can here and skips the rest; it fails only when the
host can run nothing natively. The facts are gathered by host_facts(); plan() is pure.
"""
import collections
import fcntl
import os
import subprocess

# include/uapi/linux/kvm.h
KVM_CHECK_EXTENSION = 0xAE03  # _IO(KVMIO, 0x03)
KVM_CAP_VM_TYPES = 235
VM_TYPES = {"stock": (0, "KVM_X86_DEFAULT_VM"), "sw-protected": (1, "KVM_X86_SW_PROTECTED_VM")}
GROUPS = tuple(VM_TYPES)
TRACE_EVENTS = ("kvm_page_fault", "kvm_exit", "kvm_hypercall")

Facts = collections.namedtuple("Facts", "root kvm_open kvm_fast kvm_fast_why tracefs vm_types")
Facts.__doc__ = """root: running as root; kvm_open: /dev/kvm opens; kvm_fast (+ why): tools/kvm-probe
says it runs guests natively; tracefs: the tracing directory if it has the kvm events, else None;
vm_types: KVM_CAP_VM_TYPES's bit mask (1 = only the default type, a kernel before 6.8), None
without /dev/kvm."""


def tracefs_dir():
    """The tracing directory whose events include KVM's, or None."""
    for t in ("/sys/kernel/tracing", "/sys/kernel/debug/tracing"):
        if all(os.path.isdir(os.path.join(t, "events", "kvm", e)) for e in TRACE_EVENTS):
            return t
    return None


def kvm_vm_types():
    try:
        fd = os.open("/dev/kvm", os.O_RDWR | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        mask = fcntl.ioctl(fd, KVM_CHECK_EXTENSION, KVM_CAP_VM_TYPES)
    except OSError:
        mask = 0
    finally:
        os.close(fd)
    return mask or 1 << VM_TYPES["stock"][0]  # no KVM_CAP_VM_TYPES: default VMs only


def host_facts(kvm_probe):
    vm_types = kvm_vm_types()
    fast, why = False, "no /dev/kvm"
    if vm_types is not None:
        if not os.path.exists(kvm_probe):
            why = f"{kvm_probe} is missing (make builds it)"
        else:
            try:
                p = subprocess.run([kvm_probe], capture_output=True, text=True, timeout=10)
                fast, why = p.returncode == 0, p.stdout.strip()
            except subprocess.TimeoutExpired:
                why = "kvm-probe hung"
    return Facts(os.geteuid() == 0, vm_types is not None, fast, why, tracefs_dir(), vm_types)


def plan(mode, facts, groups=GROUPS):
    """-> ({group: (where, why)} with where "native" | "nested" | "skip", the line that says it).
    Raises ValueError (its message the reason) for --mode native on a host that can run nothing."""
    base = []  # what keeps native mode from this host at all
    if not facts.kvm_open:
        base.append("no usable /dev/kvm")
    if not facts.root:
        base.append("not root (native mode enables tracepoints and sets THP: sudo make kvm-test)")
    if facts.kvm_open and not facts.tracefs:
        base.append("no kvm events in tracefs (mount tracefs; CONFIG_KVM with tracepoints)")

    def vm_type_missing(group):
        bit, name = VM_TYPES[group]
        if facts.vm_types is not None and facts.vm_types >> bit & 1:
            return None
        return f"this kernel's KVM has no {name} (KVM_CAP_VM_TYPES {facts.vm_types:#x})"

    where = {}
    if mode == "nested":
        where = {g: ("nested", "--mode nested") for g in groups}
    elif mode == "native":
        if base:
            raise ValueError("native mode impossible here: " + "; ".join(base))
        for g in groups:
            missing = vm_type_missing(g)
            where[g] = ("skip", missing) if missing else ("native", "KVM here")
    else:
        if not base and not facts.kvm_fast:
            base.append(f"/dev/kvm does not run guests at native speed ({facts.kvm_fast_why})")
        for g in groups:
            missing = None if base else vm_type_missing(g)
            if base or missing:
                where[g] = ("nested", "; ".join(base) if base else missing)
            else:
                where[g] = ("native", "KVM here runs guests natively")
    line = f"mode {mode}: " + "; ".join(f"{g} scenarios {w} ({why})" for g, (w, why) in where.items())
    return where, line
