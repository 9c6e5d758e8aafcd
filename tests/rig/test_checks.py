#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Unit tests of tools/rig/checks.py: each check can fail. A complete, healthy run (the figures of a
real rig run) passes every check; a missing scenario, empty results, a figure out of its band, a
missing count, a hypercall count that disagrees with the VMM's, or a trace that could not be
parsed each produces a failure. Printed as TAP."""
import gzip
import os
import signal
import subprocess
import sys
import time
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tools", "rig"))
sys.path.insert(0, os.path.join(HERE, ".."))
import analyze  # noqa: E402
import checks  # noqa: E402
import rig  # noqa: E402
import tap_unittest  # noqa: E402

NAMES = [name for _, name, *_ in rig.SCENARIOS]
# name -> (faults per filled page, rbw pages, write-first pages, read-only pages, bounced maps), as
# measured on the rig (8192 pages filled each).
MEASURED = {
    "ide-copy": (3.0, 8192, 0, 0, 4096), "ide-zero": (1.0, 0, 8192, 0, 4096),
    "virtio-copy": (1.0, 0, 0, 8192, 0), "virtio-zero": (1.0, 0, 0, 8192, 0),
    "ide-copy-thp": (2.588, 4816, 3376, 0, 4096), "ide-zero-thp": (0.002, 0, 16, 0, 4096),
    "virtio-zero-thp": (0.002, 0, 0, 16, 0),
    "ide-exact": (1.0, 0, 8192, 0, 4096), "virtio-exact": (1.0, 0, 8192, 0, 8192),
}
DISK_BYTES = 32 << 20


def healthy(name):
    """One scenario's result, as analyze.py gives it for a good run."""
    workload = not name.endswith(("-write", "-partial"))
    fpp, rbw, wf, ro, bounced = MEASURED.get(name, (3.0 if name.endswith("-convert") else 1.0, 0, 8192, 0, 0))
    r = {"scenario": name, "workload": workload, "filled_pages": 8192 if workload else 0,
         "faults_per_filled_page": fpp if workload else None, "rbw_pages": rbw, "write_first_pages": wf,
         "read_only_pages": ro, "guest_passed": True, "guest_summary": "1 passed, 0 failed", "qemu_status": 1,
         "trace_overruns": 0, "trace_map_gpa_range_calls": 0, "guest_tests": {}, "vmm_report_lines_in_guest_log": 0,
         "device_exits_per_request": 64.5 if name.startswith("ide") else 1.66,
         "dma": {"bounced_maps": bounced, "convert_maps": 0, "convert_fallbacks": 0}}
    if name == "cc-qemu-enosys":
        r["trace_map_gpa_range_calls"] = 3
        r["guest_cc"] = {"service": "enosys", "enosys": 3, "host_services_conversion": False, "hypercalls": 3}
    elif name.startswith("cc-"):
        r.update(under_vmm=True, vmm_report=True)
        calls = 16387 if name.endswith("-convert") else 51 if name.endswith("convert-write") else 3
        r.update(vm_type="sw-protected" if name.startswith("cc-swp") else "default (fallback)",
                 canary_found="-copy-" in name, canary_where=[], refused_dma=0, memory_faults=0, hypercalls=calls,
                 trace_map_gpa_range_calls=calls, hypercalls_per_request=calls / 67)
        if name.endswith("-write"):
            r["guest_tests"] = {"blk.scratch_write_and_read_back": "pass"}
            r["dma"]["convert_maps"] = 10 if "-convert-" in name else 0
        if name.endswith("-partial"):
            r["guest_tests"] = {"blk.partial_read": "pass"}
            r["partial_read"] = {"bounced": True, "written_sectors": 16, "sectors": 32,
                                 "rest": "zeros" if "-zero-" in name else "as it was"}
    if "exact" in name:  # dma_completion=exact: the reads' own figures
        r["completion"] = "exact"
        r["dma"].update(bounced_maps=r["dma"]["bounced_maps"] or 4096, bytes_zeroed=0, orig_bytes_read=0,
                        exact_unmaps=4096, bytes_not_written=0, bytes_copied_out=DISK_BYTES)
        if name.startswith("cc-"):
            r["device_bytes_read"] = DISK_BYTES
    return r


def run_checks(results):
    return checks.checks(results, NAMES)


def failures(cs):
    return [(c.desc, c.detail) for c in cs if not c.ok]


class Checks(unittest.TestCase):
    def setUp(self):
        self.results = [healthy(n) for n in NAMES]

    def by(self, name):
        return next(r for r in self.results if r["scenario"] == name)

    def assertFailsWith(self, *needles):
        bad = failures(run_checks(self.results))
        self.assertTrue(bad, "expected a failing check")
        text = "\n".join(f"{d} ({detail})" for d, detail in bad)
        for n in needles:
            self.assertIn(n, text)

    def test_a_healthy_run_passes_every_check(self):
        cs = run_checks(self.results)
        self.assertEqual(failures(cs), [])
        self.assertGreater(len(cs), 5 * len(NAMES))

    def test_empty_results_fail_every_scenario(self):
        bad = failures(run_checks([]))
        self.assertEqual(len(bad), len(NAMES))
        self.assertTrue(all(detail == "no result" for _, detail in bad))

    def test_a_missing_scenario_fails(self):
        self.results = [r for r in self.results if r["scenario"] != "virtio-zero-thp"]
        self.assertFailsWith("virtio-zero-thp: the scenario ran and left its results (no result)")

    def test_a_scenario_that_filled_no_page_fails(self):
        for name in ("virtio-copy", "ide-zero-thp", "cc-swp-zero-bounce"):
            self.setUp()
            self.by(name).update(filled_pages=0, faults_per_filled_page=None)
            self.assertFailsWith(f"{name}: at least 4096 page-cache pages filled by DMA (0 pages)")

    def test_each_workload_figure_out_of_its_band_fails(self):
        for name in [n for n in NAMES if not n.endswith(("-write", "-partial"))]:
            low, high, _ = checks.band_for(name)
            for bad in (low - 0.5, high + 0.5):
                if bad < 0:
                    continue
                self.setUp()
                self.by(name)["faults_per_filled_page"] = bad
                self.assertFailsWith(f"{name}: {low}-{high} KVM faults per filled page")

    def test_a_scenario_without_a_band_fails(self):
        saved = checks.FAULT_BANDS
        checks.FAULT_BANDS = [b for b in saved if b[0] != "ide-zero"]
        try:
            self.assertFailsWith("ide-zero: a faults-per-page band is defined")
        finally:
            checks.FAULT_BANDS = saved

    def test_missing_counts_fail_instead_of_passing(self):
        for field in ("refused_dma", "memory_faults"):
            self.setUp()
            del self.by("cc-swp-zero-bounce")[field]
            self.assertFailsWith("cc-swp-zero-bounce: no refused device access, no memory fault")
        self.setUp()
        self.by("virtio-zero")["trace_overruns"] = None
        self.assertFailsWith("virtio-zero: the trace lost no events")
        self.setUp()
        self.by("virtio-copy")["dma"]["bounced_maps"] = None
        self.assertFailsWith("virtio-copy (control, 64-bit DMA): no bounce")

    def test_traced_hypercalls_must_equal_the_vmm_count(self):
        self.by("cc-fallback-zero-convert")["trace_map_gpa_range_calls"] = 16386
        self.assertFailsWith("cc-fallback-zero-convert: KVM traced as many KVM_HC_MAP_GPA_RANGE calls as the VMM "
                             "served (trace 16386, VMM 16387)")
        self.setUp()
        self.by("cc-qemu-enosys")["trace_map_gpa_range_calls"] = 0
        self.assertFailsWith("cc-qemu-enosys: KVM traced as many KVM_HC_MAP_GPA_RANGE calls as the guest made")

    def test_a_missing_vmm_report_or_a_forged_one_fails(self):
        self.by("cc-swp-zero-bounce").update(vmm_report=False, vm_type=None)
        self.assertFailsWith("cc-swp-zero-bounce: the VMM left its report (vmm-report.json) (missing)")
        self.setUp()
        self.by("cc-swp-copy-bounce")["vmm_report_lines_in_guest_log"] = 1
        self.assertFailsWith("cc-swp-copy-bounce: the guest's console carries no VMM-REPORT line (1 lines)")

    def test_too_many_or_missing_device_exits_per_request_fail(self):
        self.by("virtio-zero")["device_exits_per_request"] = 9.0
        self.assertFailsWith("virtio-zero: at most 4 device exits per block request")
        self.setUp()
        self.by("cc-swp-zero-bounce")["device_exits_per_request"] = None
        self.assertFailsWith("cc-swp-zero-bounce: at most 4 device exits per block request")

    def test_each_exact_completion_figure_can_fail(self):
        for name in ("ide-exact", "virtio-exact", "cc-swp-exact-bounce", "cc-fallback-exact-bounce"):
            cases = [
                ({"dma": {"bounced_maps": 0}}, "the filled pages were bounced"),
                ({"rbw_pages": 5}, "0 read-before-write pages"),
                ({"write_first_pages": 4000}, "0 read-before-write pages"),
                ({"dma": {"bytes_zeroed": 2048}}, "no slot zeroed, no original read"),
                ({"dma": {"orig_bytes_read": 4096}}, "no slot zeroed, no original read"),
                ({"dma": {"bytes_zeroed": None}}, "no slot zeroed, no original read"),
                ({"dma": {"exact_unmaps": 0}}, "every read completed exactly"),
                ({"dma": {"bytes_not_written": 512}}, "every read completed exactly"),
                ({"dma": {"bytes_not_written": None}}, "every read completed exactly"),
            ]
            if name.startswith("cc-"):
                cases += [({"device_bytes_read": DISK_BYTES - 512}, "the guest copied back exactly the bytes the device wrote"),
                          ({"device_bytes_read": None}, "the guest copied back exactly the bytes the device wrote")]
            for change, needle in cases:
                self.setUp()
                r = self.by(name)
                for k, v in change.items():
                    if k == "dma":
                        r["dma"].update(v)
                    else:
                        r[k] = v
                self.assertFailsWith(f"{name}: {needle}")

    def test_each_partial_read_figure_can_fail(self):
        for name in ("cc-swp-zero-partial", "cc-swp-copy-partial", "cc-swp-exact-partial"):
            wrong = "as it was" if "-zero-" in name else "zeros"
            cases = [({"partial_read": None}, "the read bounced and the device wrote part of it"),
                     ({"partial_read": {"bounced": False}}, "the read bounced and the device wrote part of it"),
                     ({"partial_read": {"written_sectors": 0}}, "the read bounced and the device wrote part of it"),
                     ({"partial_read": {"written_sectors": 32}}, "the read bounced and the device wrote part of it"),
                     ({"partial_read": {"rest": wrong}}, "the bytes the device did not write are"),
                     ({"partial_read": {"rest": "other bytes"}}, "the bytes the device did not write are"),
                     ({"guest_tests": {"blk.partial_read": "fail"}}, "the guest's partial_read case passed"),
                     ({"guest_tests": {}}, "the guest's partial_read case passed")]
            if "-exact-" in name:
                cases.append(({"dma": {"orig_bytes_read": 4096}}, "the original was never read"))
            for change, needle in cases:
                self.setUp()
                r = self.by(name)
                for k, v in change.items():
                    if v and isinstance(v, dict) and isinstance(r.get(k), dict):
                        r[k].update(v)
                    else:
                        r[k] = v
                self.assertFailsWith(f"{name}: {needle}")

    def test_copy_without_read_before_write_fails(self):
        self.by("ide-copy")["rbw_pages"] = 0
        self.assertFailsWith("ide-copy: read-before-write on (nearly) every filled page")

    def test_an_unanalyzable_scenario_fails(self):
        self.results = [r if r["scenario"] != "ide-zero" else {"scenario": "ide-zero", "error": "trace line 3: cannot parse"}
                        for r in self.results]
        self.assertFailsWith("ide-zero: its trace and logs could be analyzed (trace line 3: cannot parse)")

    def test_an_unexpected_scenario_fails(self):
        self.results.append(healthy("ide-none"))
        self.assertFailsWith("ide-none: a scenario the rig knows")


class TraceFormats(unittest.TestCase):
    """The kvm_page_fault text of each kernel the rig may meet (arch/x86/kvm/trace.h)."""

    def test_formats_of_6_1_6_12_and_7_2_and_older(self):
        lines = [
            # Debian's 6.1.192, 6.12 and 7.2: "vcpu %u rip 0x%lx address 0x%016llx error_code 0x%llx"
            " qemu-system-x86-154 [000] ..... 6.8: kvm_page_fault: vcpu 0 rip 0xe05b address 0x0000000100000000 "
            "error_code 0x100000004",
            # before the vcpu and rip were added: "address %lx error_code %x"
            " qemu-system-x86-154 [000] ..... 6.9: kvm_page_fault: address 100000000 error_code 6",
            " qemu-system-x86-154 [000] ..... 7.0: kvm_exit: vcpu 0 reason npf rip 0x1 info1 0x0 info2 0x0",
            " qemu-system-x86-154 [000] ..... 7.1: kvm_exit: reason EXIT_NPF rip 0x1 info 0 0",
            " qemu-system-x86-154 [000] ..... 7.2: kvm_hypercall: nr 0xc a0 0x1000 a1 0x1 a2 0x10 a3 0x0",
        ]
        faults, exits, hc = analyze.parse_trace(lines)[:3]
        self.assertEqual(faults, {0x100000: [0x100000004, 0x6]})
        self.assertEqual(exits, {"npf": 1, "EXIT_NPF": 1})
        self.assertEqual(hc, {"12": 1})

    def test_an_unknown_fault_format_fails_loudly(self):
        for line in ("  x-1 [000] 1.0: kvm_page_fault: gpa 0x1000 err 0x6",
                     "  x-1 [000] 1.0: kvm_page_fault: vcpu 0 rip 0x1 address 0x1000 error_code 0x6 private",
                     "  x-1 [000] 1.0: kvm_exit: cause npf",
                     "  x-1 [000] 1.0: kvm_hypercall: number 12"):
            with self.assertRaises(analyze.TraceFormatError) as e:
                analyze.parse_trace(["  x-1 [000] 0.9: kvm_exit: vcpu 0 reason io rip 0x1", line])
            self.assertIn("trace line 2", str(e.exception))

    def test_analyze_dir_raises_on_an_unparseable_trace(self):
        with tempfile.TemporaryDirectory() as d:
            with open(os.path.join(d, "meta.txt"), "w") as f:
                f.write("name=ide-zero\ncmdline=tests=workload\nqemu_status=1\n")
            with open(os.path.join(d, "guest.log"), "w") as f:
                f.write("1 passed, 0 failed\n")
            with gzip.open(os.path.join(d, "trace.gz"), "wt") as f:
                f.write("  x-1 [000] 1.0: kvm_page_fault: something new\n")
            with self.assertRaises(analyze.TraceFormatError):
                analyze.analyze_dir(d)


class NativeSelftest(unittest.TestCase):
    """checks.native_selftest_checks: the stock L1's run of rig.py --mode native must exist, pass its
    own checks, agree with the nested figures and skip (not fail) the sw-protected scenario."""

    def setUp(self):
        self.nested = [healthy(n) for n in NAMES]
        doc = {"mode": "mode native: stock scenarios native (KVM here); sw-protected scenarios skip (...)",
               "scenarios": [healthy("ide-copy"), healthy("ide-zero")],
               "skipped": [{"scenario": "cc-swp-zero-bounce",
                            "reason": "this kernel's KVM has no KVM_X86_SW_PROTECTED_VM (KVM_CAP_VM_TYPES 0x1)"}]}
        self.selftest = {"rc": 0, "tap": "ok 1 - ...\n24 passed, 0 failed\n", "results": doc,
                         "host_state": "before thp=madvise instances= qemu=0\n"
                                       "after-run thp=madvise instances= qemu=0\nsigterm rc=1\n"
                                       "after-sigterm thp=madvise instances= qemu=0\n"}

    def failing(self):
        return [c.desc for c in checks.native_selftest_checks(self.selftest, self.nested) if not c.ok]

    def test_an_agreeing_selftest_passes_every_check(self):
        cs = checks.native_selftest_checks(self.selftest, self.nested)
        self.assertEqual(len(cs), 6)
        self.assertEqual(self.failing(), [])

    def test_no_selftest_fails(self):
        self.selftest = None
        self.assertEqual(len(self.failing()), 1)

    def test_a_native_figure_that_disagrees_fails(self):
        self.selftest["results"]["scenarios"][0]["faults_per_filled_page"] = 2.0  # ide-copy: nested 3.0
        self.assertEqual(len(self.failing()), 1)
        self.assertIn("ide-copy: native mode in the L1 agrees", self.failing()[0])

    def test_failing_own_checks_fail(self):
        self.selftest["tap"] = "23 passed, 1 failed\n"
        self.selftest["rc"] = 1
        self.assertEqual(self.failing(), ["native mode in the L1: its own checks passed"])

    def test_a_host_left_changed_fails(self):
        for broken in ("after-run thp=never instances= qemu=0", "after-sigterm thp=madvise instances=bounce-42  qemu=0",
                       "after-sigterm thp=madvise instances= qemu=1", "sigterm rc=0"):
            with self.subTest(broken=broken):
                saved = self.selftest["host_state"]
                key = broken.split(" ")[0]
                self.selftest["host_state"] = "\n".join(broken if line.startswith(key + " ") else line
                                                         for line in saved.splitlines())
                self.assertEqual(len(self.failing()), 1, self.selftest["host_state"])
                self.selftest["host_state"] = saved

    def test_running_what_should_be_skipped_fails(self):
        self.selftest["results"]["skipped"] = []
        self.assertEqual(len(self.failing()), 1)


class KeptLogs(unittest.TestCase):
    """A failing scenario's logs outlive the next scenario and the next run (rig.keep_failed_scenarios)."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.saved = rig.OUT, rig.FAILED, rig.RUN_ID
        rig.OUT = self.tmp.name
        rig.FAILED = os.path.join(self.tmp.name, "failed")
        self.raw = os.path.join(self.tmp.name, "raw")
        for name in ("ide-zero", "ide-copy"):
            os.makedirs(os.path.join(self.raw, name))
            for f in ("guest.log", "qemu.log", "trace.gz", "meta.txt"):
                with open(os.path.join(self.raw, name, f), "w") as fh:
                    fh.write(f"{name} {f}\n")
        with open(os.path.join(self.tmp.name, "l1-console-stock.log"), "w") as fh:
            fh.write("console\n")

    def tearDown(self):
        rig.OUT, rig.FAILED, rig.RUN_ID = self.saved
        self.tmp.cleanup()

    def run_once(self, run_id):
        rig.RUN_ID = run_id
        results = [healthy(n) for n in NAMES]
        next(r for r in results if r["scenario"] == "ide-zero")["faults_per_filled_page"] = 2.0
        return rig.keep_failed_scenarios(self.raw, checks.checks(results, NAMES), {"stock", "sw-protected"})

    def test_only_failing_scenarios_are_kept_with_their_logs_and_why(self):
        kept = self.run_once("20261205-000000")
        self.assertEqual(list(kept), ["ide-zero"])
        d = os.path.join(rig.OUT, kept["ide-zero"])
        self.assertEqual(sorted(os.listdir(d)), ["guest.log", "l1-console-stock.log", "meta.txt", "qemu.log",
                                                 "trace.gz", "why.txt"])
        self.assertIn("not ok - ide-zero: 0.9-1.3 KVM faults per filled page", open(os.path.join(d, "why.txt")).read())

    def test_a_later_run_does_not_overwrite_and_old_runs_are_pruned(self):
        first = self.run_once("20261205-000000")["ide-zero"]
        for i in range(1, rig.KEEP_FAILED_RUNS + 2):
            self.run_once(f"20261205-{i:06d}")
        runs = sorted(os.listdir(rig.FAILED))
        self.assertEqual(len(runs), rig.KEEP_FAILED_RUNS)
        self.assertNotIn(first.split("/")[1], runs)  # the oldest went, the newest stayed
        self.assertEqual(runs[-1], f"20261205-{rig.KEEP_FAILED_RUNS + 1:06d}")


class L1KernelChoice(unittest.TestCase):
    """rig.l1_kernel: the archive's newest, or a pinned version; a version the archive dropped
    comes from the cache; one that is nowhere fails with what there is."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.saved = rig.CACHE, rig.run, rig.OUT, rig.FAILED
        rig.CACHE = rig.OUT = self.tmp.name  # fail() keeps logs under OUT: not the real build/kvm
        rig.FAILED = os.path.join(self.tmp.name, "failed")
        self.archive = []

        def fake_run(cmd, timeout, what, **kw):
            assert cmd[:2] == ["apt-cache", "search"], cmd
            out = "".join(f"linux-image-{v}-unsigned - Linux {v}\n" for v in self.archive)
            return subprocess.CompletedProcess(cmd, 0, out, "")
        rig.run = fake_run

    def tearDown(self):
        rig.CACHE, rig.run, rig.OUT, rig.FAILED = self.saved
        self.tmp.cleanup()

    def cache(self, version):
        os.makedirs(os.path.join(self.tmp.name, f"linux-{version}", "boot"))
        open(os.path.join(self.tmp.name, f"linux-{version}", "boot", f"vmlinuz-{version}"), "w").close()

    def test_the_newest_in_the_archive(self):
        self.archive = ["6.12.9+deb12-amd64", "6.12.118+deb12-amd64", "6.12.38+deb12-amd64"]
        self.cache("6.12.118+deb12-amd64")
        self.assertEqual(rig.l1_kernel()[::2], ("6.12.118+deb12-amd64", "archive (cached)"))

    def test_a_pinned_version_the_archive_dropped_comes_from_the_cache(self):
        self.archive = ["6.12.118+deb12-amd64"]
        self.cache("6.12.38+deb12-amd64")
        self.assertEqual(rig.l1_kernel("6.12.38+deb12-amd64")[::2], ("6.12.38+deb12-amd64", "cache"))

    def test_an_empty_archive_falls_back_to_the_newest_cached(self):
        self.cache("6.12.9+deb12-amd64")
        self.cache("6.12.38+deb12-amd64")
        if os.geteuid() == 0:
            saved = rig.run
            rig.run = lambda cmd, *a, **kw: (subprocess.CompletedProcess(cmd, 0, "", "") if cmd[0] == "apt-get"
                                             else saved(cmd, *a, **kw))
        self.assertEqual(rig.l1_kernel()[::2], ("6.12.38+deb12-amd64", "cache"))

    def test_a_version_nowhere_fails_naming_what_there_is(self):
        self.archive = ["6.12.118+deb12-amd64"]
        with self.assertRaises(SystemExit):
            rig.l1_kernel("6.12.1+deb12-amd64")


class Provenance(unittest.TestCase):
    def test_kernel_release_reads_the_bzimage_header(self):
        with tempfile.NamedTemporaryFile() as f:
            img = bytearray(0x400)
            img[0x202:0x206] = b"HdrS"
            img[0x20e:0x210] = (0x100).to_bytes(2, "little")
            img[0x300:0x300 + 40] = b"6.12.118+deb12-amd64 (debian-kernel@)\0".ljust(40, b"\0")
            f.write(img)
            f.flush()
            self.assertEqual(rig.kernel_release(f.name), "6.12.118+deb12-amd64")
        self.assertIsNone(rig.kernel_release("/nonexistent"))

    def test_provenance_names_commit_qemu_and_kernels(self):
        p = rig.provenance({"stock": {"release": "6.12.118+deb12-amd64", "origin": "Debian package"}})
        self.assertTrue(p["bounce_commit"])
        self.assertTrue(p["qemu"].startswith("QEMU emulator version"), p["qemu"])
        self.assertEqual(p["kernels"]["stock"]["release"], "6.12.118+deb12-amd64")


class Deadline(unittest.TestCase):
    """The rig's one global deadline (and SIGTERM) stop it wherever it is, naming the stage."""

    def setUp(self):
        self.saved = {s: signal.getsignal(s) for s in (signal.SIGALRM, signal.SIGTERM, signal.SIGHUP)}
        self.deadline = rig.RIG_DEADLINE_S

    def tearDown(self):
        signal.alarm(0)
        for s, h in self.saved.items():
            signal.signal(s, h)
        rig.RIG_DEADLINE_S = self.deadline

    def test_the_deadline_stops_a_stage_that_hangs(self):
        rig.RIG_DEADLINE_S = 1
        rig.stop_on_signals()
        rig.stage("booting the L1 host (a stand-in that hangs)")
        t0 = time.monotonic()
        with self.assertRaises(rig.Stopped) as e:
            time.sleep(30)
        self.assertLess(time.monotonic() - t0, 5)
        self.assertIn("the rig's deadline of 1 s passed (during: booting the L1 host", str(e.exception))

    def test_sigterm_stops_it_too(self):
        rig.stop_on_signals()
        with self.assertRaises(rig.Stopped) as e:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(5)
        self.assertIn("stopped by signal SIGTERM", str(e.exception))


if __name__ == "__main__":
    tap_unittest.main(Checks, NativeSelftest, TraceFormats, KeptLogs, L1KernelChoice, Provenance, Deadline)
