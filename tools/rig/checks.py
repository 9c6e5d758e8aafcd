# SPDX-License-Identifier: MIT
"""What must hold about a rig run: the assertions behind `make kvm-test --tap`, one Check each. Every check can fail: a missing scenario, a missing figure, a
figure out of its band or a trace that could not be parsed fails, never passes by default.

The bands are data (FAULT_BANDS), measured on the rig (Debian's 6.12 L1 under TCG, QEMU 10.0):
see the README's KVM host rig section for the figures they come from.
"""
import collections
import fnmatch
import re

# One assertion: the scenarios it is about (their logs are kept when it fails), what it says,
# whether it held, and the figure behind it.
Check = collections.namedtuple("Check", "scenarios desc ok detail")

# A workload scenario reads the whole 32 MiB data disk through the page cache: 8192 pages filled
# by DMA. Fewer than half of them means the workload did not run as designed.
MIN_FILLED_PAGES = 4096

# Scenario name pattern -> (low, high) KVM faults per DMA-filled page, and why.
FAULT_BANDS = [
    ("ide-copy", 2.5, 3.5, "read (zero page), write on the read-only mapping, write after copy-on-write"),
    ("ide-zero", 0.9, 1.3, "written first: one write fault"),
    ("ide-exact", 0.9, 1.3, "written first by the exact copy back, never read: one write fault"),
    ("virtio-exact", 0.9, 1.3, "bounced (swiotlb_force), written first by the exact copy back: one write fault"),
    ("virtio-*-thp", 0.0, 0.1, "one fault maps 2 MiB"),
    ("virtio-*", 0.9, 1.3, "no bounce: QEMU writes through its own mapping, the guest's verify reads once"),
    ("ide-copy-thp", 1.5, 3.5, "the huge zero page is mapped for the read, then split at the write"),
    ("ide-zero-thp", 0.0, 0.1, "one fault maps 2 MiB"),
    ("cc-qemu-enosys", 0.9, 1.3, "bounced, zero-filled: written first"),
    ("cc-*-bounce", 0.9, 1.3, "bounced through the shared pool: the page-cache page is written first"),
    ("cc-*-convert", 2.5, 3.5, "converted to shared for the device and back to private"),
]


# Scenarios whose device is virtio-blk (QEMU's virtio-pci, the VMM's virtio-mmio): polled, a
# request costs about one notification; bring-up (capabilities, configuration, GET_ID) adds a
# little per request. IDE's command and status registers are port I/O on every request: no bound.
NOTIFYING = ["virtio-*", "cc-*"]
# ... except the -partial scenarios: a dozen requests, so the bring-up's exits dominate the ratio.
FEW_REQUESTS = ["cc-*-partial"]
MAX_DEVICE_EXITS_PER_REQUEST = 4.0


def band_for(name):
    for pattern, low, high, why in FAULT_BANDS:
        if fnmatch.fnmatchcase(name, pattern):
            return low, high, why
    return None


def is_zero(v):
    """A count that must be 0: a missing one (None) is not."""
    return isinstance(v, int) and not isinstance(v, bool) and v == 0


def scenario_checks(name, r):
    """The checks every scenario's result gets."""
    out = [Check((name,), f"{name}: the guest read and verified its disk under KVM", bool(r.get("guest_passed")),
            f"{r.get('guest_summary')}, QEMU status {r.get('qemu_status')}")]
    out.append(Check((name,), f"{name}: the trace lost no events", is_zero(r.get("trace_overruns")),
                f"{r.get('trace_overruns')} overruns"))
    # The VMM's report comes from its own file; the guest's console is the guest's to write.
    out.append(Check((name,), f"{name}: the guest's console carries no VMM-REPORT line",
                     is_zero(r.get("vmm_report_lines_in_guest_log")), f"{r.get('vmm_report_lines_in_guest_log')} lines"))
    if r.get("under_vmm"):
        out.append(Check((name,), f"{name}: the VMM left its report (vmm-report.json)", bool(r.get("vmm_report")),
                         "present" if r.get("vmm_report") else "missing"))
    if any(fnmatch.fnmatchcase(name, p) for p in NOTIFYING) and not any(fnmatch.fnmatchcase(name, p) for p in FEW_REQUESTS):
        d = r.get("device_exits_per_request")
        out.append(Check((name,), f"{name}: at most {MAX_DEVICE_EXITS_PER_REQUEST:g} device exits per block request "
                         f"(about one notification when polled)", d is not None and d <= MAX_DEVICE_EXITS_PER_REQUEST,
                         f"{d} per request, by cause {r.get('exits_by_cause')}"))
    if r.get("workload"):
        f, fpp, band = r.get("filled_pages") or 0, r.get("faults_per_filled_page"), band_for(name)
        out.append(Check((name,), f"{name}: at least {MIN_FILLED_PAGES} page-cache pages filled by DMA", f >= MIN_FILLED_PAGES,
                    f"{f} pages"))
        if band is None:
            out.append(Check((name,), f"{name}: a faults-per-page band is defined", False, "no FAULT_BANDS entry matches"))
        else:
            low, high, why = band
            out.append(Check((name,), f"{name}: {low}-{high} KVM faults per filled page ({why})",
                        fpp is not None and low <= fpp <= high, f"{fpp}"))
    return out


def exact_checks(name, r):
    """A scenario with dma_completion=exact: every read bounced, completed with the length its
    device reported - all of it, as every read succeeds - never zeroed, never read first."""
    d, f = r.get("dma") or {}, r.get("filled_pages") or 0
    out = [Check((name,), f"{name}: the filled pages were bounced", (d.get("bounced_maps") or 0) > 0,
                 f"{d.get('bounced_maps')} bounced maps")]
    out.append(Check((name,), f"{name}: 0 read-before-write pages, (nearly) every filled page written first",
                     f > 0 and is_zero(r.get("rbw_pages")) and (r.get("write_first_pages") or 0) >= 0.95 * f,
                     f"{r.get('rbw_pages')} rbw, {r.get('write_first_pages')} written first, of {f}"))
    out.append(Check((name,), f"{name}: no slot zeroed, no original read",
                     is_zero(d.get("bytes_zeroed")) and is_zero(d.get("orig_bytes_read")),
                     f"{d.get('bytes_zeroed')} bytes zeroed, {d.get('orig_bytes_read')} original bytes read"))
    out.append(Check((name,), f"{name}: every read completed exactly, with all it asked for",
                     (d.get("exact_unmaps") or 0) > 0 and is_zero(d.get("bytes_not_written")),
                     f"{d.get('exact_unmaps')} exact completions, {d.get('bytes_not_written')} bytes not written"))
    if r.get("under_vmm"):  # the VMM counts what its device wrote into the guest
        dev, back = r.get("device_bytes_read"), d.get("bytes_copied_out")
        out.append(Check((name,), f"{name}: the guest copied back exactly the bytes the device wrote",
                         isinstance(dev, int) and dev > 0 and back == dev, f"copied back {back}, device wrote {dev}"))
    return out


# What the rest of a buffer holds after the device wrote only part of it (cc-*-partial): the
# DMA layer's completion decides. Scenario name part -> (the rest, why).
PARTIAL_REST = {"-exact-": ("as it was", "exact completion copies back only what the device wrote"),
                "-zero-": ("zeros", "the zeroed slot comes back whole"),
                "-copy-": ("as it was", "the slot held a copy of the original, which comes back whole")}


def partial_checks(name, r):
    """A read over an unreadable sector under the VMM (cc-*-partial): the device delivered the
    sectors before it; the rest of the buffer holds what the policy says."""
    p = r.get("partial_read") or {}
    want, why = next((v for k, v in PARTIAL_REST.items() if k in name), (None, "no expectation"))
    out = [Check((name,), f"{name}: the read bounced and the device wrote part of it",
                 p.get("bounced") is True and 0 < (p.get("written_sectors") or 0) < (p.get("sectors") or 0),
                 f"{p.get('written_sectors')} of {p.get('sectors')} sectors, {'bounced' if p.get('bounced') else 'not bounced'}"
                 if p else "no partial read line")]
    out.append(Check((name,), f"{name}: the bytes the device did not write are {want} ({why})",
                     want is not None and p.get("rest") == want, f"{p.get('rest')}"))
    out.append(Check((name,), f"{name}: the guest's partial_read case passed",
                     r.get("guest_tests", {}).get("blk.partial_read") == "pass",
                     f"blk.partial_read: {r.get('guest_tests', {}).get('blk.partial_read') or 'did not run'}"))
    if "-exact-" in name:
        out.append(Check((name,), f"{name}: the original was never read", is_zero((r.get("dma") or {}).get("orig_bytes_read")),
                         f"{(r.get('dma') or {}).get('orig_bytes_read')} bytes read"))
    return out


def confidential_checks(name, r):
    """A confidential guest under tools/vmm: VM type, canary, device accesses, conversions."""
    out = []
    want_type = "sw-protected" if name.startswith("cc-swp") else "default (fallback)"
    out.append(Check((name,), f"{name}: ran in a {want_type} VM", r.get("vm_type") == want_type, f"vm_type {r.get('vm_type')}"))
    if "-copy-" in name:
        out.append(Check((name,), f"{name}: the canary leaked into host-visible memory, and the VMM found it",
                    r.get("canary_found") is True, f"found at {r.get('canary_where')}"))
    else:
        out.append(Check((name,), f"{name}: the canary never reached host-visible memory", r.get("canary_found") is False,
                    f"found at {r.get('canary_where')}" if r.get("canary_found") else f"{r.get('canary_found')}"))
    out.append(Check((name,), f"{name}: no refused device access, no memory fault",
                is_zero(r.get("refused_dma")) and is_zero(r.get("memory_faults")),
                f"{r.get('refused_dma')} refused, {r.get('memory_faults')} memory faults"))
    calls, traced = r.get("hypercalls"), r.get("trace_map_gpa_range_calls")
    out.append(Check((name,), f"{name}: KVM traced as many KVM_HC_MAP_GPA_RANGE calls as the VMM served",
                isinstance(calls, int) and calls == traced, f"trace {traced}, VMM {calls}"))
    if name.endswith("-write"):
        t = r.get("guest_tests", {}).get("blk.scratch_write_and_read_back")
        out.append(Check((name,), f"{name}: the guest wrote, flushed and read back its scratch disk through the VMM",
                    t == "pass", f"blk.scratch_write_and_read_back: {t or 'did not run'}"))
    if "-convert-write" in name:  # whole pages convert, odd sector counts bounce
        out.append(Check((name,), f"{name}: whole-page writes and reads went by converting the buffers",
                    (r["dma"].get("convert_maps") or 0) > 0,
                    f"{r['dma'].get('convert_maps')} converted, {r['dma'].get('convert_fallbacks')} bounced"))
    elif name.endswith("-convert"):
        out.append(Check((name,), f"{name}: convert converts per request (hypercalls each way)",
                    (r.get("hypercalls_per_request") or 0) >= 1, f"{r.get('hypercalls_per_request')} per request"))
    elif name.endswith("-partial"):  # a few requests: the boot's conversions dominate any ratio
        out += partial_checks(name, r)
    else:
        hpr = r.get("hypercalls_per_request")
        out.append(Check((name,), f"{name}: bounce needs no conversion per request", hpr is not None and hpr < 0.1,
                    f"{hpr} per request"))
    return out


def checks(results, expected):
    """Every assertion about a run. results: analyze.py's dicts (or {"scenario", "error"} for a
    scenario whose output could not be analyzed); expected: the scenario names that must be there."""
    by = {r.get("scenario"): r for r in results}
    out = []
    for name in expected:
        r = by.get(name)
        if r is None:
            out.append(Check((name,), f"{name}: the scenario ran and left its results", False, "no result"))
            continue
        if r.get("error"):
            out.append(Check((name,), f"{name}: its trace and logs could be analyzed", False, r["error"]))
            continue
        out += scenario_checks(name, r)
        if r.get("completion") == "exact" and r.get("workload"):
            out += exact_checks(name, r)
        if r.get("vm_type"):
            out += confidential_checks(name, r)
    for name in sorted(set(by) - set(expected)):
        out.append(Check((name,), f"{name}: a scenario the rig knows", False, "an unexpected result"))

    def ok(name):
        r = by.get(name)
        return r if r and not r.get("error") else None

    c, z = ok("ide-copy"), ok("ide-zero")
    if c:
        f = c["filled_pages"]
        out.append(Check(("ide-copy",), "ide-copy: the filled pages were bounced (a 32-bit device, pages above 4 GiB)",
                    (c["dma"].get("bounced_maps") or 0) > 0, f"{c['dma'].get('bounced_maps')} bounced maps"))
        out.append(Check(("ide-copy",), "ide-copy: read-before-write on (nearly) every filled page", f > 0 and c["rbw_pages"] >= 0.95 * f,
                    f"{c['rbw_pages']} of {f}"))
    if z:
        f = z["filled_pages"]
        out.append(Check(("ide-zero",), "ide-zero: 0 read-before-write pages, (nearly) every filled page written first",
                    f > 0 and is_zero(z["rbw_pages"]) and z["write_first_pages"] >= 0.95 * f,
                    f"{z['rbw_pages']} rbw, {z['write_first_pages']} written first, of {f}"))
    for name in ("virtio-copy", "virtio-zero", "virtio-zero-thp"):
        v = ok(name)
        if v:
            out.append(Check((name,), f"{name} (control, 64-bit DMA): no bounce, no read-before-write",
                        is_zero(v["dma"].get("bounced_maps")) and is_zero(v["rbw_pages"]),
                        f"{v['dma'].get('bounced_maps')} bounced maps, {v['rbw_pages']} rbw pages"))
    q = ok("cc-qemu-enosys")
    if q:
        cc = q.get("guest_cc") or {}
        out.append(Check(("cc-qemu-enosys",), "cc-qemu-enosys: in a normal VM the host answers -KVM_ENOSYS and the guest goes on with "
                    "bookkeeping only", bool(q["guest_passed"]) and cc.get("service") == "enosys"
                    and (cc.get("enosys") or 0) > 0 and cc.get("host_services_conversion") is False,
                    f"service {cc.get('service')}, {cc.get('enosys')} ENOSYS answers"))
        out.append(Check(("cc-qemu-enosys",), "cc-qemu-enosys: KVM traced as many KVM_HC_MAP_GPA_RANGE calls as the guest made",
                    isinstance(cc.get("hypercalls"), int) and cc.get("hypercalls") == q.get("trace_map_gpa_range_calls"),
                    f"trace {q.get('trace_map_gpa_range_calls')}, guest {cc.get('hypercalls')}"))
    ct, zt = ok("ide-copy-thp"), ok("ide-zero-thp")
    if ct and zt:
        out.append(Check(("ide-copy-thp", "ide-zero-thp"), "host THP on: copy still reads first (the huge zero page), zero never does",
                    ct["rbw_pages"] > 0 and is_zero(zt["rbw_pages"]),
                    f"copy {ct['rbw_pages']} rbw pages, zero {zt['rbw_pages']}"))
    return out


# The native-mode self-test (rig.NATIVE_SELFTEST): the stock L1 runs the rig's native mode on
# these. The IDE pair must run and agree with the nested run within this fraction of the nested
# figure; the sw-protected one must be skipped for the missing VM type, not failed.
SELFTEST_AGREE = ("ide-copy", "ide-zero")
SELFTEST_SKIP = ("cc-swp-zero-bounce", "KVM_X86_SW_PROTECTED_VM")
SELFTEST_TOLERANCE = 0.1


def native_selftest_checks(selftest, nested_results):
    """selftest: rig.read_selftest's dict, or None when the L1 brought none back."""
    where = ("native-selftest",)
    doc = (selftest or {}).get("results")
    if not doc:
        why = "no native-selftest from the L1" if selftest is None else f"rig.py exit {selftest.get('rc')}, no results.json"
        return [Check(where, "native mode in the L1: rig.py --mode native ran and left results.json", False, why)]
    out = [Check(where, "native mode in the L1: rig.py --mode native ran and left results.json", True, doc.get("mode"))]
    tail = re.search(r"^(\d+) passed, (\d+) failed$", selftest["tap"], re.M)
    out.append(Check(where, "native mode in the L1: its own checks passed",
                     selftest["rc"] == 0 and bool(tail) and int(tail.group(1)) > 0 and tail.group(2) == "0",
                     f"exit {selftest['rc']}, {tail.group(0) if tail else 'no TAP summary'}"))
    native = {r.get("scenario"): r for r in doc.get("scenarios", [])}
    nested = {r.get("scenario"): r for r in nested_results}
    for name in SELFTEST_AGREE:
        a = (native.get(name) or {}).get("faults_per_filled_page")
        b = (nested.get(name) or {}).get("faults_per_filled_page")
        ok = isinstance(a, (int, float)) and isinstance(b, (int, float)) and b > 0 and \
            abs(a - b) <= SELFTEST_TOLERANCE * b
        out.append(Check((name,) + where, f"{name}: native mode in the L1 agrees with the nested run "
                         f"(faults per filled page within {SELFTEST_TOLERANCE:.0%})", ok, f"native {a}, nested {b}"))
    states = dict(re.findall(r"^(after-run|after-sigterm) (.*)$", selftest.get("host_state", ""), re.M))
    sigterm = re.search(r"^sigterm rc=(\d+)$", selftest.get("host_state", ""), re.M)
    clean = "thp=madvise instances= qemu=0"
    out.append(Check(where, "native mode in the L1 left the host as it found it (THP restored, no trace instance, "
                     "no QEMU left), after a run and after a SIGTERM in the middle of a scenario",
                     all(states.get(k, "").split() == clean.split() for k in ("after-run", "after-sigterm"))
                     and bool(sigterm) and sigterm.group(1) != "0",
                     "; ".join(f"{k}: {v}" for k, v in states.items()) + (f"; SIGTERM'd rig exit {sigterm.group(1)}"
                                                                        if sigterm else "; no SIGTERM run")))
    name, reason = SELFTEST_SKIP
    skip = next((s for s in doc.get("skipped", []) if s.get("scenario") == name), None)
    out.append(Check(where, f"native mode in the L1: {name} skipped, not failed, for the missing {reason}",
                     bool(skip) and reason in skip.get("reason", "") and name not in native,
                     skip.get("reason") if skip else "not skipped"))
    return out
