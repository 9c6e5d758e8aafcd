#!/usr/bin/env python3
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
FAULT = re.compile(r"kvm_page_fault: (?:vcpu \d+ rip 0x[0-9a-f]+ )?address (?:0x)?([0-9a-f]+) error_code (?:0x)?([0-9a-f]+)\s*$")
EXIT = re.compile(r"kvm_exit: (?:vcpu \d+ )?reason (\S+)")
HYPERCALL = re.compile(r"kvm_hypercall: nr (0x[0-9a-f]+) a0 ")
KVM_HC_MAP_GPA_RANGE = 12  # Documentation/virt/kvm/x86/hypercalls.rst
REPORT = re.compile(r"^BOUNCE-REPORT (\w+) (\{.*\})\s*$")
VMM_REPORT = re.compile(r"^VMM-REPORT (\{.*\})\s*$")
SUMMARY = re.compile(r"^(\d+) passed, (\d+) failed\s*$")
TAP_RESULT = re.compile(r"^(ok|not ok) \d+ - (\S+)(\s+# SKIP\b\s*(.*))?$")


class TraceFormatError(ValueError):
    """A kvm tracepoint line in a format the parser does not know."""


def parse_trace(lines):
    """-> (faults: page -> [error codes in order], exits: Counter, hypercalls: Counter by nr)."""
    faults = collections.defaultdict(list)
    exits, hypercalls = collections.Counter(), collections.Counter()
    for n, line in enumerate(lines, 1):
        line = line.rstrip("\n")
        for event, pattern in (("kvm_page_fault:", FAULT), ("kvm_exit:", EXIT), ("kvm_hypercall:", HYPERCALL)):
            if event not in line:
                continue
            m = pattern.search(line)
            if m is None:
                raise TraceFormatError(f"trace line {n}: cannot parse this {event[:-1]} event: {line.strip()[:200]}")
            if pattern is FAULT:
                faults[int(m.group(1), 16) >> PAGE_SHIFT].append(int(m.group(2), 16))
            elif pattern is EXIT:
                exits[m.group(1)] += 1
            else:
                hypercalls[str(int(m.group(1), 16))] += 1
            break
    return faults, exits, hypercalls


def guest_tests(text):
    """The guest's TAP results: test name -> "pass", "fail" or "skip"."""
    out = {}
    for line in text.splitlines():
        m = TAP_RESULT.match(line.strip())
        if m:
            out[m.group(2)] = "skip" if m.group(3) else "pass" if m.group(1) == "ok" else "fail"
    return out


def guest_skips(text):
    """The guest's skipped cases and their reasons: test name -> reason."""
    out = {}
    for line in text.splitlines():
        m = TAP_RESULT.match(line.strip())
        if m and m.group(3):
            out[m.group(2)] = m.group(4).strip() or "(no reason given)"
    return out


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
    faults, exits, hypercalls = parse_trace(trace_lines)
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
        "trace_hypercalls": dict(hypercalls),  # kvm_hypercall events by nr
        "trace_map_gpa_range_calls": hypercalls.get(str(KVM_HC_MAP_GPA_RANGE), 0),
        "wall_s": round(float(meta.get("end", 0)) - float(meta.get("start", 0)), 2),
        "guest_passed": passed,
        "guest_summary": f"{summary[0]} passed, {summary[1]} failed" if summary else None,
        "guest_tests": guest_tests(guest_text),
        "guest_skips": guest_skips(guest_text),
        "under_vmm": meta.get("disk", "").startswith("vmm"),
        "vmm_report": vmm is not None,
        "vmm_report_lines_in_guest_log": reports.get("vmm_lines", 0),
        "qemu_status": qemu_status,
        "dma": {k: dma.get(k) for k in ("bounced_maps", "bytes_bounced", "bytes_zeroed", "bytes_copied_in",
                                        "orig_bytes_read", "bytes_copied_out", "convert_maps",
                                        "convert_fallbacks")},
    }
    if "cc" in reports:
        result["guest_cc"] = reports["cc"]
    if vmm is not None:
        result.update(confidential_figures(vmm, reports.get("cc", {}), dma, cmdline))
    return result


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
