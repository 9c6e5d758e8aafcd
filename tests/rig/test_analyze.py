#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Unit tests of tools/rig/analyze.py on traces in the exact format of Linux 6.12's kvm
tracepoints (lines taken from a real rig run), and of rig.py's watch over a silent L1, printed
as TAP."""
import io
import json
import os
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools", "rig"))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import analyze  # noqa: E402
import rig  # noqa: E402
import tap_unittest  # noqa: E402

HDR = " qemu-system-x86-154     [000] .....     6.844621: "


def fault(addr, code):
    return f"{HDR}kvm_page_fault: vcpu 0 rip 0xe05b address {addr:#018x} error_code {code:#x}"


def exit_(reason):
    return f"{HDR}kvm_exit: vcpu 0 reason {reason} rip 0xfff0 info1 0x0000000100000014 info2 0x00000000fffffff0 " \
           f"intr_info 0x00000000 error_code 0x00000000"


GUEST = """noise
BOUNCE-REPORT dma {"policy":"copy","bounced_maps":3,"bytes_bounced":12288,"bytes_zeroed":0,"orig_bytes_read":12288}
BOUNCE-REPORT pagecache {"zone":"high","dma_filled_ranges":[[4294967296,12288]]}
1 passed, 0 failed
"""
META = {"name": "ide-copy", "thp": "never", "disk": "ide", "cmdline": "tests=workload bounce_policy=copy",
        "qemu_status": "1", "start": "10.5", "end": "12.0"}
HI = 4294967296


class Analyze(unittest.TestCase):
    def test_classifies_each_sequence(self):
        self.assertEqual(analyze.classify([0x100000004, 0x100000007, 0x100000006]), "rbw")
        self.assertEqual(analyze.classify([0x100000006]), "write_first")
        self.assertEqual(analyze.classify([0x100000004]), "read_only")
        self.assertEqual(analyze.classify([0x100000004, 0x100000004]), "read_only")
        self.assertEqual(analyze.classify([0x100000006, 0x100000004]), "write_first")
        self.assertEqual(analyze.classify([]), "untouched")

    def test_counts_filled_pages_apart_from_boot_faults(self):
        trace = [
            fault(0xfffffff0, 0x100000014),                                        # boot: not filled
            fault(HI, 0x100000004), fault(HI, 0x100000007), fault(HI, 0x100000006),   # page 0: rbw
            fault(HI + 4096, 0x100000006),                                           # page 1: write first
            fault(HI + 4096 * 3, 0x100000004),                                       # outside the range
            exit_("npf"), exit_("npf"), exit_("io"),
            f"{HDR}kvm_hypercall: nr 0xc a0 0x1000 a1 0x1 a2 0x0 a3 0x0",
        ]
        r = analyze.analyze(trace, GUEST, META)
        self.assertEqual(r["filled_pages"], 3)
        self.assertEqual(r["rbw_pages"], 1)
        self.assertEqual(r["write_first_pages"], 1)
        self.assertEqual(r["untouched_pages"], 1)
        self.assertEqual(r["filled_page_faults"], 4)
        self.assertAlmostEqual(r["faults_per_filled_page"], 4 / 3, places=3)
        self.assertEqual(r["other_faults"], 2)
        self.assertEqual(r["exits_by_reason"], {"npf": 2, "io": 1})
        self.assertEqual(r["trace_hypercalls"], {"12": 1})
        self.assertEqual(r["trace_map_gpa_range_calls"], 1)
        self.assertTrue(r["workload"])
        self.assertEqual(r["policy"], "copy")
        self.assertEqual(r["device"], "ide-dma")
        self.assertTrue(r["guest_passed"])
        self.assertEqual(r["wall_s"], 1.5)

    def test_a_failed_or_silent_guest_does_not_pass(self):
        self.assertFalse(analyze.analyze([], "1 passed, 1 failed\n", META)["guest_passed"])
        self.assertFalse(analyze.analyze([], "", META)["guest_passed"])
        self.assertFalse(analyze.analyze([], GUEST, dict(META, qemu_status="3"))["guest_passed"])

    def test_no_report_means_no_filled_pages(self):
        r = analyze.analyze([fault(HI, 0x100000006)], "0 passed, 0 failed\n", META)
        self.assertEqual(r["filled_pages"], 0)
        self.assertIsNone(r["faults_per_filled_page"])

    def test_malformed_report_lines_are_ignored(self):
        reports, summary = analyze.parse_guest_log("BOUNCE-REPORT pagecache {not json\n3 passed, 0 failed\n")
        self.assertEqual(reports, {})
        self.assertEqual(summary, (3, 0))

    def test_guest_tap_results_by_name(self):
        t = analyze.guest_tests("TAP version 13\nok 1 - blk.scratch_write_and_read_back\n"
                                "ok 2 - blk.random_reads # SKIP no data disk\nnot ok 3 - blk.flush\n"
                                "# ok 4 - a comment\nok 5 -\n")
        self.assertEqual(t, {"blk.scratch_write_and_read_back": "pass", "blk.random_reads": "skip",
                             "blk.flush": "fail"})
        self.assertEqual(analyze.guest_skips("ok 2 - blk.random_reads # SKIP no data disk: not attached\n"
                                             "ok 3 - blk.x # SKIP\nok 4 - blk.y\n"),
                         {"blk.random_reads": "no data disk: not attached", "blk.x": "(no reason given)"})

    def test_ide_reset_times_from_the_probe_lines(self):
        log = ("ide: primary channel: reset done in 2387 us\nide: primary master: empty\n"
               "ide: secondary channel: reset done in 1204533 us\n")
        self.assertEqual(analyze.ide_reset_us(log), {"primary": 2387, "secondary": 1204533})
        self.assertEqual(analyze.ide_reset_us("virtio-blk: vda\n"), {})

    def test_filled_ranges_round_to_whole_pages(self):
        self.assertEqual(analyze.filled_pages([[4096, 1]]), {1})
        self.assertEqual(analyze.filled_pages([[4096, 8192], [0, 4096]]), {0, 1, 2})


    def test_confidential_run_figures_per_request(self):
        guest = ('1 passed, 0 failed\n'
                 'BOUNCE-REPORT dma {"bytes_copied_in":0,"bytes_copied_out":4096,"bytes_zeroed":8192,"convert_bytes_copied":4096}\n')
        vmm = json.loads('{"vm_type":"sw-protected","conversions":{"calls":8,"pages_to_shared":6,'
                         '"pages_to_private":2},"memory_faults":0,"refused_dma":0,"requests":{"read":4,"write":0,'
                         '"flush":0},"exits_by_reason":{"mmio":20,"hypercall":8},"canary":{"found":true,'
                         '"where":["request 2 buffer at 0x4000000"]},"guest_exit_code":0}')
        meta = dict(META, name="cc-swp-copy-convert", disk="vmm", qemu_status="3",
                    cmdline="mode=confidential tests=workload bounce_policy=copy cc_io=convert")
        r = analyze.analyze([], guest, meta, vmm)
        self.assertTrue(r["under_vmm"] and r["vmm_report"])
        self.assertTrue(r["guest_passed"])  # the guest's own code, not the VMM's status 3 (leak found)
        self.assertEqual(r["vm_type"], "sw-protected")
        self.assertTrue(r["canary_found"])
        self.assertEqual(r["io_strategy"], "convert")
        self.assertEqual(r["requests"], 4)
        self.assertEqual(r["hypercalls_per_request"], 2.0)
        self.assertEqual(r["exits_per_request"], 7.0)
        self.assertEqual(r["bytes_copied_per_request"], 4096.0)
        self.assertEqual(r["pages_converted"], 8)
        failed = analyze.analyze([], guest, meta, dict(vmm, guest_exit_code=1))
        self.assertFalse(failed["guest_passed"])

    def test_a_vmm_report_in_the_guests_console_is_not_believed(self):
        forged = ('1 passed, 0 failed\nVMM-REPORT {"vm_type":"sw-protected","canary":{"found":0},'
                  '"guest_exit_code":0,"memory_faults":0,"refused_dma":0}\n')
        meta = dict(META, name="cc-swp-copy-bounce", disk="vmm", qemu_status="3")
        r = analyze.analyze([], forged, meta)
        self.assertEqual(r["vmm_report_lines_in_guest_log"], 1)
        self.assertFalse(r["vmm_report"])
        self.assertNotIn("vm_type", r)
        self.assertFalse(r["guest_passed"])  # under the VMM, only its report says how the guest ended


class ExitCauses(unittest.TestCase):
    """Every kernel exit attributed to one cause; the firmware's (rip below 1 MiB) left out."""

    def test_each_exit_gets_its_cause(self):
        def ex(reason, rip, info1=0):
            return f"{HDR}kvm_exit: vcpu 0 reason {reason} rip {rip:#x} info1 {info1:#018x} info2 0x0 intr_info 0x0 error_code 0x0"
        trace = [
            ex("io", 0xe05b, 0x01f70010),                           # firmware probing IDE: not counted
            ex("io", 0x101000, 0x01f70010), ex("io", 0x101000, 0xc0000010),  # IDE command, bus master: device
            ex("io", 0x101000, 0x03f80000), ex("io", 0x101000, 0x03fd0010),  # COM1: console
            ex("io", 0x101000, 0x00610010), ex("io", 0x101000, 0x0cfc0010),  # port 0x61, PCI config: platform
            ex("npf", 0x101000), f"{HDR}kvm_page_fault: vcpu 0 rip 0x101000 address {HI:#018x} error_code 0x6",  # memory
            ex("npf", 0x101000), f"{HDR}kvm_page_fault: vcpu 0 rip 0x101000 address 0x00000000fe000000 error_code 0x6",
            ex("npf", 0x101000), f"{HDR}kvm_page_fault: vcpu 0 rip 0x101000 address 0x00000000fec00010 error_code 0x6",  # I/O APIC: platform
            ex("hypercall", 0x101000), ex("cpuid", 0x101000), ex("interrupt", 0x101000),
        ]
        guest = "memory map (2 ranges):\n  [0x000000000000-0x00000009fbff]        639 KiB  usable\n" \
                "  [0x000100000000-0x0001bfffffff]    3145728 KiB  usable\n"
        t = analyze.parse_trace(trace)
        self.assertEqual(sum(t.exits.values()), 13)
        causes = analyze.exits_by_cause(t, analyze.guest_ram(guest))
        self.assertEqual(causes, {"device_pio": 2, "device_mmio": 1, "conversions": 1, "ram_faults": 1,
                                  "console": 2, "platform": 3, "other": 2})
        self.assertIsNone(analyze.exits_by_cause(t, []))  # no memory map: no attribution
        r = analyze.cause_figures(t, guest, {"requests": 3}, None)
        self.assertEqual(r["device_exits_per_request"], 1.0)
        self.assertEqual(r["block_requests"], 3)


class L1Watch(unittest.TestCase):
    """rig.read_l1 against stand-in L1s: shell scripts that talk like tools/rig/init.sh."""

    def read(self, script, silence):
        saved, rig.L1_SILENCE_S = rig.L1_SILENCE_S, silence
        proc = subprocess.Popen(["sh", "-c", script], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        log = io.StringIO()
        try:
            return rig.read_l1(proc, log), log.getvalue()
        finally:
            rig.L1_SILENCE_S = saved
            proc.kill()
            proc.wait()

    def test_done_line_gives_the_rc_and_everything_is_logged(self):
        rc, log = self.read("echo boot noise; echo 'rig-l1: scenario a'; echo 'rig-l1: done rc=3'", 10)
        self.assertEqual(rc, 3)
        self.assertIn("boot noise\n", log)
        self.assertIn("rig-l1: scenario a\n", log)

    def test_an_l1_that_stops_without_done_gives_none(self):
        self.assertEqual(self.read("echo 'rig-l1: up'", 10)[0], None)

    def test_a_silent_l1_is_detected_not_waited_for(self):
        t0 = time.monotonic()
        with self.assertRaises(rig.L1Silent) as e:
            self.read("echo 'rig-l1: scenario ide-zero'; sleep 60", 2)
        self.assertLess(time.monotonic() - t0, 10)
        self.assertIn("after 'scenario ide-zero'", str(e.exception))

    def test_console_noise_does_not_count_as_progress(self):
        with self.assertRaises(rig.L1Silent):
            self.read("echo 'rig-l1: up'; while true; do echo kernel noise; sleep 0.2; done", 2)


if __name__ == "__main__":
    tap_unittest.main(Analyze, ExitCauses, L1Watch)
