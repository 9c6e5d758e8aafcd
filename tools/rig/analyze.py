#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Analyze one rig scenario: what KVM did on the host while the guest read its disk.

Inputs (per scenario directory, from tools/rig/scenarios.sh): trace.gz (the tracefs text of
kvm:kvm_page_fault, kvm:kvm_exit and kvm:kvm_hypercall), guest.log (the guest's serial output,
with the BOUNCE-REPORT lines), meta.txt, and for a guest under tools/vmm the VMM's own report,
vmm-report.json - read from that file only: a "VMM-REPORT" line in the guest's console is the
guest's text, counted (vmm_report_lines_in_guest_log) and never believed.

Every 4 KiB guest-physical page that faulted gets its fault sequence (the error codes, in order).
The NPT error code (AMD APM vol. 2, 15.25.6; Linux's PFERR_* bits) has bit 1 set for a write, so:
  - read-before-write: the first fault is a read and a later one a write - the zero page was
    mapped for the read, then the write faulted again (and copy-on-write followed);
  - write-first: the first fault is a write;
  - read-only: only reads.
The pages the guest's page cache filled by DMA come from its BOUNCE-REPORT pagecache line
("dma_filled_ranges"), so boot-time faults are kept apart from the DMA workload's.

The tracepoints' text (arch/x86/kvm/trace.h) is parsed strictly: a kvm_page_fault, kvm_exit or
kvm_hypercall line that does not parse raises TraceFormatError - a format this parser does not
know must never count as zero faults. Known formats: kvm_page_fault "vcpu %u rip 0x%lx address
0x%016llx error_code 0x%llx" (Debian's 6.1.192, 6.12 and 7.2 alike) and the older "address %lx
error_code %x" (hex without 0x); kvm_exit "vcpu %u reason %s ..." and the older "reason %s ...";
kvm_hypercall "nr 0x%lx a0 ..." (unchanged from 6.1 to 7.2).
"""
import collections
import gzip
import json
import os
import re
import sys

PAGE_SHIFT = 12
PFERR_WRITE = 1 << 1
FAULT = re.compile(r"kvm_page_fault: (?:vcpu \d+ rip (0x[0-9a-f]+) )?address (?:0x)?([0-9a-f]+) error_code (?:0x)?([0-9a-f]+)\s*$")
EXIT = re.compile(r"kvm_exit: (?:vcpu \d+ )?reason (\S+) rip (?:0x)?([0-9a-f]+)(?: info1? (?:0x)?([0-9a-f]+))?")
HYPERCALL = re.compile(r"kvm_hypercall: nr (0x[0-9a-f]+) a0 ")
KVM_HC_MAP_GPA_RANGE = 12  # Documentation/virt/kvm/x86/hypercalls.rst
REPORT = re.compile(r"^BOUNCE-REPORT (\w+) (\{.*\})\s*$")
VMM_REPORT = re.compile(r"^VMM-REPORT (\{.*\})\s*$")
SUMMARY = re.compile(r"^(\d+) passed, (\d+) failed\s*$")
TAP_RESULT = re.compile(r"^(ok|not ok) \d+ - (\S+)(\s+# SKIP\b\s*(.*))?$")


class TraceFormatError(ValueError):
    """A kvm tracepoint line in a format the parser does not know."""


# Exits the guest's kernel caused: rip at or above 1 MiB. Below is the firmware's (SeaBIOS and its
# option ROMs before the PVH entry), whose device probing is not the workload's.
KERNEL_RIP = 0x100000

Trace = collections.namedtuple("Trace", "faults exits hypercalls kernel_exits kernel_io_ports kernel_fault_addrs")


def parse_trace(lines):
    """-> Trace: faults (page -> [error codes in order]), exits (Counter by reason), hypercalls
    (Counter by nr); and of the kernel's own exits (rip >= 1 MiB): kernel_exits (Counter by
    reason), kernel_io_ports (Counter by port, from info1 bits 31:16 of an I/O exit - SVM's
    EXITINFO1 and VMX's exit qualification both keep the port there), kernel_fault_addrs (the
    guest-physical address of each kernel page fault)."""
    faults = collections.defaultdict(list)
    exits, hypercalls = collections.Counter(), collections.Counter()
    kernel_exits, kernel_io_ports, kernel_fault_addrs = collections.Counter(), collections.Counter(), []
    for n, line in enumerate(lines, 1):
        line = line.rstrip("\n")
        for event, pattern in (("kvm_page_fault:", FAULT), ("kvm_exit:", EXIT), ("kvm_hypercall:", HYPERCALL)):
            if event not in line:
                continue
            m = pattern.search(line)
            if m is None:
                raise TraceFormatError(f"trace line {n}: cannot parse this {event[:-1]} event: {line.strip()[:200]}")
            if pattern is FAULT:
                addr = int(m.group(2), 16)
                faults[addr >> PAGE_SHIFT].append(int(m.group(3), 16))
                if m.group(1) is None or int(m.group(1), 16) >= KERNEL_RIP:
                    kernel_fault_addrs.append(addr)
            elif pattern is EXIT:
                reason = m.group(1)
                exits[reason] += 1
                if int(m.group(2), 16) >= KERNEL_RIP:
                    kernel_exits[reason.lower()] += 1
                    if reason.lower() in IO_REASONS and m.group(3):
                        kernel_io_ports[(int(m.group(3), 16) >> 16) & 0xffff] += 1
            else:
                hypercalls[str(int(m.group(1), 16))] += 1
            break
    return Trace(faults, exits, hypercalls, kernel_exits, kernel_io_ports, kernel_fault_addrs)


# kvm_exit reason names (SVM's lower case, VMX's upper case, compared lower-cased).
IO_REASONS = {"io", "io_instruction"}
FAULT_REASONS = {"npf", "ept_violation", "ept_misconfig"}
HYPERCALL_REASONS = {"hypercall", "vmmcall", "vmcall"}  # SVM's VMMCALL prints as "hypercall" (6.12)
# Port I/O that is the console or the platform, not the disk controller (the rest is the device).
CONSOLE_PORTS = range(0x3f8, 0x400)  # COM1 (kernel/console.c)
PLATFORM_PORTS = [range(0x20, 0x22), range(0x40, 0x44), range(0x60, 0x65), range(0x70, 0x72), range(0x80, 0x90),
                  range(0xa0, 0xa2), range(0xf4, 0xf8), range(0x510, 0x51c), range(0x600, 0x680), range(0xb000, 0xb040),
                  range(0xcf8, 0xd00)]  # PIC, PIT, port 0x61, CMOS, DMA page, debug exit, fw_cfg, ACPI PM, PCI config
# MMIO that is the platform's interrupt controllers, not the disk controller: the I/O APICs
# (0xfec00000, microvm's second at 0xfec10000), the HPET, the local APIC's xAPIC page.
PLATFORM_MMIO = [range(0xfec00000, 0xfed00000), range(0xfed00000, 0xfed01000), range(0xfee00000, 0xfef00000)]
MEMORY_MAP_LINE = re.compile(r"^\s*\[0x([0-9a-f]+)-0x([0-9a-f]+)\]\s+\d+ KiB\s+(\S+)")


def guest_ram(text):
    """The guest's memory map (its 'memory map' lines, inclusive ranges): [(start, end)] of every
    range, usable or reserved - memory, as opposed to device MMIO."""
    return [(int(m.group(1), 16), int(m.group(2), 16)) for m in map(MEMORY_MAP_LINE.match, text.splitlines()) if m]


def exits_by_cause(trace, ram):
    """The kernel's exits attributed to what caused them: device_pio and device_mmio (the disk
    controller's registers: notifications, commands, status), conversions (hypercalls),
    ram_faults (nested page faults on guest memory: first touches, and the copy-on-write of a page
    read before written), console (COM1), platform (timers, PCI config, fw_cfg, debug exit, the
    interrupt controllers' MMIO) and other (CPUID, MSRs, interrupts, ...). None without a memory
    map."""
    if not ram:
        return None
    k = trace.kernel_exits
    causes = collections.Counter()
    for port, n in trace.kernel_io_ports.items():
        causes["console" if port in CONSOLE_PORTS else "platform" if any(port in r for r in PLATFORM_PORTS)
               else "device_pio"] += n
    causes["device_pio"] += sum(k[r] for r in IO_REASONS) - sum(trace.kernel_io_ports.values())  # port unknown
    faults = sum(k[r] for r in FAULT_REASONS)
    touch = sum(1 for a in trace.kernel_fault_addrs if any(lo <= a <= hi for lo, hi in ram))
    causes["ram_faults"] = min(touch, faults)
    platform_mmio = sum(1 for a in trace.kernel_fault_addrs if any(a in r for r in PLATFORM_MMIO))
    causes["platform"] += min(platform_mmio, faults - causes["ram_faults"])
    causes["device_mmio"] = faults - causes["ram_faults"] - min(platform_mmio, faults - causes["ram_faults"])
    causes["conversions"] = sum(k[r] for r in HYPERCALL_REASONS)
    causes["other"] = sum(k.values()) - sum(causes.values())
    return {c: causes[c] for c in ("device_pio", "device_mmio", "conversions", "ram_faults", "console", "platform",
                                   "other")}


def tap_results(text):
    """The guest's TAP results, in order: (test name, "pass"|"fail"|"skip", skip reason or None)."""
    for m in map(TAP_RESULT.match, (line.strip() for line in text.splitlines())):
        if m:
            status = "skip" if m.group(3) else "pass" if m.group(1) == "ok" else "fail"
            yield m.group(2), status, (m.group(4).strip() or "(no reason given)") if m.group(3) else None


def guest_tests(text):
    """The guest's TAP results: test name -> "pass", "fail" or "skip"."""
    return {name: status for name, status, _ in tap_results(text)}


def guest_skips(text):
    """The guest's skipped cases and their reasons: test name -> reason."""
    return {name: reason for name, status, reason in tap_results(text) if status == "skip"}


PARTIAL_READ = re.compile(r"partial read: (\S+) lba (\d+) \+(\d+), error at (\d+): the device wrote (\d+) sectors; "
                          r"the rest (as it was|zeros|other bytes) \((bounced|not bounced), policy (\w+), (\w+) completion\)")


def partial_read(text):
    """The blk suite's partial_read line: a read over an unreadable sector, what the device wrote
    and what the rest of the buffer held afterwards; None when the case did not run."""
    m = PARTIAL_READ.search(text)
    if not m:
        return None
    return {"disk": m.group(1), "lba": int(m.group(2)), "sectors": int(m.group(3)), "error_at": int(m.group(4)),
            "written_sectors": int(m.group(5)), "rest": m.group(6), "bounced": m.group(7) == "bounced",
            "policy": m.group(8), "completion": m.group(9)}


IDE_RESET = re.compile(r"^ide: (\w+) channel: reset done in (\d+) us", re.M)


def ide_reset_us(text):
    """How long each IDE channel's software reset took, as the guest measured it: channel -> us.
    QEMU completes SRST on its main loop (a bottom half), so under KVM this is how long the host
    took to schedule QEMU's main thread while the vCPU polled (issue 22: it once passed 1 s)."""
    return {m.group(1): int(m.group(2)) for m in IDE_RESET.finditer(text)}


def parse_guest_log(text):
    """-> (reports: name -> dict, summary: (passed, failed) or None)."""
    reports, summary = {}, None
    for line in text.splitlines():
        m = REPORT.match(line.strip())
        if m:
            try:
                reports[m.group(1)] = json.loads(m.group(2))
            except ValueError:
                pass
        if VMM_REPORT.match(line.strip()):
            reports["vmm_lines"] = reports.get("vmm_lines", 0) + 1  # the guest's text, not the VMM's
        m = SUMMARY.match(line.strip())
        if m:
            summary = (int(m.group(1)), int(m.group(2)))
    return reports, summary


def classify(seq):
    """The class of one page's fault sequence."""
    if not seq:
        return "untouched"
    writes = [bool(e & PFERR_WRITE) for e in seq]
    if writes[0]:
        return "write_first"
    return "rbw" if any(writes) else "read_only"


def filled_pages(ranges):
    pages = set()
    for start, length in ranges:
        pages.update(range(start >> PAGE_SHIFT, (start + length + (1 << PAGE_SHIFT) - 1) >> PAGE_SHIFT))
    return pages


def analyze(trace_lines, guest_text, meta, vmm=None):
    """One scenario's figures. vmm: the VMM's report (vmm-report.json), for a guest under tools/vmm."""
    trace = parse_trace(trace_lines)
    faults, exits, hypercalls = trace.faults, trace.exits, trace.hypercalls
    reports, summary = parse_guest_log(guest_text)
    pc = reports.get("pagecache", {})
    dma = reports.get("dma", {})
    filled = filled_pages(pc.get("dma_filled_ranges", []))
    classes = collections.Counter(classify(faults.get(p, [])) for p in filled)
    filled_faults = sum(len(faults.get(p, [])) for p in filled)
    other_faults = sum(len(s) for p, s in faults.items() if p not in filled)
    sequences = collections.Counter(
        " ".join(hex(e) for e in faults.get(p, [])) or "(none)" for p in filled)
    cmdline = meta.get("cmdline", "")
    policy = re.search(r"bounce_policy=(\w+)", cmdline)
    completion = re.search(r"dma_completion=(\w+)", cmdline)
    qemu_status = int(meta.get("qemu_status", "-1"))
    if vmm is not None:  # run by tools/vmm: its report says how the guest ended
        passed = vmm.get("guest_exit_code") == 0 and summary is not None and summary[1] == 0
    elif meta.get("disk", "").startswith("vmm"):  # under the VMM, without its report: nothing to go by
        passed = False
    else:  # run by QEMU: isa-debug-exit status 1 is the guest's code 0
        passed = qemu_status == 1 and summary is not None and summary[1] == 0
    result = {
        "scenario": meta.get("name"),
        "cmdline": cmdline,
        "workload": "tests=workload" in cmdline.split(),
        "policy": policy.group(1) if policy else "zero",
        "completion": completion.group(1) if completion else "whole",
        "device": {"ide": "ide-dma", "virtio": "virtio-blk"}.get(meta.get("disk"), meta.get("disk")),
        "thp": meta.get("thp"),
        "filled_pages": len(filled),
        "rbw_pages": classes["rbw"],
        "write_first_pages": classes["write_first"],
        "read_only_pages": classes["read_only"],
        "untouched_pages": classes["untouched"],
        "faults_per_filled_page": round(filled_faults / len(filled), 3) if filled else None,
        "filled_page_faults": filled_faults,
        "other_faults": other_faults,
        "fault_sequences": dict(sequences.most_common(5)),
        "exits_by_reason": dict(exits.most_common()),
        "exits_total": sum(exits.values()),
        **cause_figures(trace, guest_text, pc, vmm),
        "trace_hypercalls": dict(hypercalls),  # kvm_hypercall events by nr
        "trace_map_gpa_range_calls": hypercalls.get(str(KVM_HC_MAP_GPA_RANGE), 0),
        "wall_s": round(float(meta.get("end", 0)) - float(meta.get("start", 0)), 2),
        "guest_passed": passed,
        "guest_summary": f"{summary[0]} passed, {summary[1]} failed" if summary else None,
        "guest_tests": guest_tests(guest_text),
        "guest_skips": guest_skips(guest_text),
        "ide_reset_us": ide_reset_us(guest_text),
        "partial_read": partial_read(guest_text),
        "under_vmm": meta.get("disk", "").startswith("vmm"),
        "vmm_report": vmm is not None,
        "vmm_report_lines_in_guest_log": reports.get("vmm_lines", 0),
        "qemu_status": qemu_status,
        "dma": {k: dma.get(k) for k in ("bounced_maps", "bytes_bounced", "bytes_zeroed", "bytes_copied_in",
                                        "orig_bytes_read", "bytes_copied_out", "convert_maps",
                                        "convert_fallbacks", "exact_unmaps", "bytes_not_written")},
    }
    if "cc" in reports:
        result["guest_cc"] = reports["cc"]
    if vmm is not None:
        result.update(confidential_figures(vmm, reports.get("cc", {}), dma, cmdline))
    return result


def cause_figures(trace, guest_text, pagecache, vmm):
    """The kernel's exits by cause, in all and per block request (the VMM's count of the requests
    it served, or the guest page cache's count of the requests it sent)."""
    causes = exits_by_cause(trace, guest_ram(guest_text))
    if vmm is not None:
        nreq = sum((vmm.get("requests") or {}).get(k, 0) for k in ("read", "write", "flush")) or None
    else:
        nreq = pagecache.get("requests") or None
    per = {c: round(v / nreq, 2) for c, v in causes.items()} if causes and nreq else None
    return {"exits_by_cause": causes, "block_requests": nreq, "exits_by_cause_per_request": per,
            "device_exits_per_request": round((causes["device_pio"] + causes["device_mmio"]) / nreq, 2)
            if causes and nreq else None}


def confidential_figures(vmm, cc, dma, cmdline):
    """What a confidential scenario costs per I/O request, and whether the canary leaked."""
    io = re.search(r"cc_io=(\w+)", cmdline)
    requests = vmm.get("requests", {})
    nreq = sum(requests.get(k, 0) for k in ("read", "write", "flush")) or None
    exits = vmm.get("exits_by_reason", {})
    # Every byte the guest's DMA layer moved: bounce copies and zeroing, and convert's copies
    # around its destructive conversions.
    copied = sum(dma.get(k) or 0 for k in ("bytes_copied_in", "bytes_copied_out", "bytes_zeroed",
                                           "convert_bytes_copied"))
    conv = vmm.get("conversions", {})
    per = (lambda x: round(x / nreq, 2) if nreq else None)
    return {
        "device": "virtio-mmio (tools/vmm)",
        "io_strategy": io.group(1) if io else "bounce",
        "vm_type": vmm.get("vm_type"),
        "canary_found": bool(vmm.get("canary", {}).get("found")),
        "canary_where": vmm.get("canary", {}).get("where", [])[:3],
        "requests": nreq,
        "device_bytes_read": requests.get("bytes_read"),  # what the device wrote into the guest
        "hypercalls": conv.get("calls"),
        "pages_converted": (conv.get("pages_to_shared") or 0) + (conv.get("pages_to_private") or 0),
        "hypercalls_per_request": per(conv.get("calls") or 0),
        "exits_per_request": per(sum(exits.values())),
        "bytes_copied_per_request": per(copied),
        "memory_faults": vmm.get("memory_faults"),
        "refused_dma": vmm.get("refused_dma"),
        "vmm_exits_by_reason": exits,
        "guest_cc": cc,
    }


def read_meta(path):
    meta = {}
    with open(path) as f:
        for line in f:
            k, _, v = line.rstrip("\n").partition("=")
            meta[k] = v
    return meta


def analyze_dir(d):
    meta = read_meta(f"{d}/meta.txt")
    vmm = None
    if os.path.exists(f"{d}/vmm-report.json"):
        with open(f"{d}/vmm-report.json") as f:
            vmm = json.load(f)  # a malformed report raises: the scenario is not analyzable
    with gzip.open(f"{d}/trace.gz", "rt", errors="replace") as t, open(f"{d}/guest.log", errors="replace") as g:
        result = analyze(t, g.read(), meta, vmm)
    try:
        stats = open(f"{d}/trace-stats.txt").read()
        result["trace_overruns"] = sum(int(x) for x in re.findall(r"^overrun: (\d+)", stats, re.M))
    except OSError:
        result["trace_overruns"] = None
    return result


if __name__ == "__main__":
    for d in sys.argv[1:]:
        print(json.dumps(analyze_dir(d), indent=1))
