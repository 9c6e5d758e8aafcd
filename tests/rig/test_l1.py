#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Unit tests of the rig's L1 recovery (tools/rig/rig.py, save-scenario.sh): each finished
scenario is saved in a slot of the results disk by the real save-scenario.sh (sh, tar, dd on a
file standing in for /dev/vdb) and read back by rig.read_slots; an L1 that goes silent gets an
NMI and, if that revives it, goes on; if not, it is booted again with only the scenarios no slot
holds. The L1 itself is faked: a child process that talks like one. Printed as TAP."""
import io
import os
import signal
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
sys.path.insert(0, os.path.join(ROOT, "tools", "rig"))
sys.path.insert(0, os.path.join(HERE, ".."))
import rig  # noqa: E402
import tap_unittest  # noqa: E402

SAVE = os.path.join(ROOT, "tools", "rig", "save-scenario.sh")


class ResultSlots(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.disk = os.path.join(self.tmp.name, "results.img")
        with open(self.disk, "wb") as f:
            f.truncate(rig.RESULT_SLOTS * rig.SLOT_MIB << 20)
        self.env = dict(os.environ, RESULTS_DEV=self.disk, RESULTS_NEXT_SLOT=os.path.join(self.tmp.name, "next"))
        self.out = os.path.join(self.tmp.name, "out")

    def tearDown(self):
        self.tmp.cleanup()

    def save(self, name, files):
        d = os.path.join(self.out, name)
        os.makedirs(d)
        for f, text in files.items():
            with open(os.path.join(d, f), "w") as fh:
                fh.write(text)
        return subprocess.run(["sh", SAVE, d], env=self.env, capture_output=True, text=True)

    def test_saved_scenarios_come_back_in_order_with_their_files(self):
        self.assertEqual(self.save("ide-zero", {"guest.log": "zero\n", "meta.txt": "name=ide-zero\n"}).stdout,
                         "rig-l1: saved ide-zero in slot 0\n")
        self.assertEqual(self.save("ide-copy", {"guest.log": "copy\n" * 1000}).stdout,
                         "rig-l1: saved ide-copy in slot 1\n")
        raw = os.path.join(self.tmp.name, "raw")
        self.assertEqual(rig.read_slots(self.disk, raw), ["ide-zero", "ide-copy"])
        self.assertEqual(open(os.path.join(raw, "ide-copy", "guest.log")).read(), "copy\n" * 1000)
        self.assertEqual(open(os.path.join(raw, "ide-zero", "meta.txt")).read(), "name=ide-zero\n")

    def test_a_slot_the_l1_died_writing_ends_the_list(self):
        self.save("ide-zero", {"guest.log": "zero\n"})
        with open(self.disk, "r+b") as f:  # slot 1: the start of a tar header, then nothing
            f.seek(rig.SLOT_MIB << 20)
            f.write(b"ide-copy/guest.log\0")
        self.assertEqual(rig.read_slots(self.disk, os.path.join(self.tmp.name, "raw")), ["ide-zero"])

    def test_an_untouched_disk_holds_nothing(self):
        self.assertEqual(rig.read_slots(self.disk, os.path.join(self.tmp.name, "raw")), [])

    def test_a_full_disk_is_an_error_not_an_overwrite(self):
        with open(self.env["RESULTS_NEXT_SLOT"], "w") as f:
            f.write(f"{rig.RESULT_SLOTS}\n")
        r = self.save("late", {"guest.log": "x\n"})
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("no free result slot", r.stdout)


SCENARIOS = [("stock", n, "never", "pc", "tests=blk", "ide") for n in ("s1", "s2", "s3")]


class Resume(unittest.TestCase):
    """boot_l1 with boot_l1_once and work_tar faked: what each boot is asked to run."""

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.saved = rig.OUT, rig.FAILED, rig.boot_l1_once, rig.work_tar, list(rig.L1_EVENTS)
        rig.OUT = self.tmp.name  # fail() keeps logs under FAILED: not the real build/kvm
        rig.FAILED = os.path.join(self.tmp.name, "failed")
        # The "work" is the list of names, "+selftest" when the native-mode self-test is asked for.
        rig.work_tar = lambda todo, selftest=(): [sc[1] for sc in todo] + (["+selftest"] if selftest else [])
        self.boots = []

    def tearDown(self):
        rig.OUT, rig.FAILED, rig.boot_l1_once, rig.work_tar, rig.L1_EVENTS[:] = self.saved
        self.tmp.cleanup()

    def fake_boots(self, *outcomes):
        """Each boot: ("hang", saved names) or ("done", saved names, rc)."""
        outcomes = list(outcomes)

        def boot_once(image, label, initramfs, work, append, raw):
            self.boots.append(work)
            open(os.path.join(rig.OUT, f"l1-console-{label}.log"), "w").close()
            o = outcomes.pop(0)
            if o[0] == "hang":
                e = rig.L1Silent("the L1 host said nothing for 180 s after 'scenario s1'")
                e.saved = o[1]
                raise e
            return o[1], o[2]
        rig.boot_l1_once = boot_once

    def test_a_hang_reruns_only_what_was_not_saved(self):
        self.fake_boots(("hang", ["s1"]), ("done", ["s2", "s3"], 0))
        raw, rc = rig.boot_l1("bzImage", "stock", "initrd", SCENARIOS, "console=ttyS0")
        self.assertEqual(self.boots, [["s1", "s2", "s3"], ["s2", "s3"]])
        self.assertEqual(rc, 0)
        self.assertEqual([e["event"] for e in rig.L1_EVENTS], ["booted again"])

    def test_a_hang_after_the_last_save_needs_no_second_boot(self):
        self.fake_boots(("hang", ["s1", "s2", "s3"]))
        self.assertEqual(rig.boot_l1("bzImage", "stock", "initrd", SCENARIOS, "")[1], 0)
        self.assertEqual(len(self.boots), 1)

    def test_a_scenario_the_l1_did_not_save_fails_the_group(self):
        self.fake_boots(("done", ["s1", "s3"], 0))
        self.assertEqual(rig.boot_l1("bzImage", "stock", "initrd", SCENARIOS, "")[1], 1)

    def test_the_native_selftest_is_redone_only_if_it_was_not_saved(self):
        self.fake_boots(("hang", ["s1", "s2"]), ("done", ["s3", rig.SELFTEST_DIR], 0))
        self.assertEqual(rig.boot_l1("bzImage", "stock", "initrd", SCENARIOS, "", ("s1",))[1], 0)
        self.assertEqual(self.boots, [["s1", "s2", "s3", "+selftest"], ["s3", "+selftest"]])
        self.boots = []
        self.fake_boots(("hang", ["s1", rig.SELFTEST_DIR]), ("done", ["s2", "s3"], 0))
        self.assertEqual(rig.boot_l1("bzImage", "stock", "initrd", SCENARIOS, "", ("s1",))[1], 0)
        self.assertEqual(self.boots, [["s1", "s2", "s3", "+selftest"], ["s2", "s3"]])

    def test_a_hang_in_the_selftest_reboots_for_the_selftest_alone(self):
        self.fake_boots(("hang", ["s1", "s2", "s3"]), ("done", [rig.SELFTEST_DIR], 0))
        self.assertEqual(rig.boot_l1("bzImage", "stock", "initrd", SCENARIOS, "", ("s1",))[1], 0)
        self.assertEqual(self.boots, [["s1", "s2", "s3", "+selftest"], ["+selftest"]])

    def test_a_missing_selftest_fails_the_group(self):
        self.fake_boots(("done", ["s1", "s2", "s3"], 0))
        self.assertEqual(rig.boot_l1("bzImage", "stock", "initrd", SCENARIOS, "", ("s1",))[1], 1)

    def test_hanging_on_every_boot_fails(self):
        self.fake_boots(*[("hang", [])] * rig.L1_BOOTS)
        with self.assertRaises(SystemExit):
            rig.boot_l1("bzImage", "stock", "initrd", SCENARIOS, "")
        self.assertEqual(len(self.boots), rig.L1_BOOTS)


# A fake L1: talks, goes silent until SIGUSR1 (the "NMI") if told to, then finishes.
FAKE_L1 = r'''
import os, signal, sys, time
woken = []
signal.signal(signal.SIGUSR1, lambda *a: woken.append(1))
print("rig-l1: scenario s1: QEMU status 1", flush=True)
if sys.argv[1] == "hang":
    while not woken:
        time.sleep(0.05)
print("rig-l1: done rc=0", flush=True)
'''


class Nmi(unittest.TestCase):
    def setUp(self):
        self.saved = rig.L1_SILENCE_S, rig.NMI_GRACE_S, rig.monitor_query, list(rig.L1_EVENTS)
        rig.L1_SILENCE_S, rig.NMI_GRACE_S = 1, 2
        self.sent = []

    def tearDown(self):
        rig.L1_SILENCE_S, rig.NMI_GRACE_S, rig.monitor_query, rig.L1_EVENTS[:] = self.saved

    def watch(self, how, nmi_wakes):
        proc = subprocess.Popen([sys.executable, "-c", FAKE_L1, how], stdout=subprocess.PIPE)

        def monitor(path, command):
            self.sent.append(command)
            if command == "nmi" and nmi_wakes:
                proc.send_signal(signal.SIGUSR1)
            return "RIP=ffffffff81000000 HLT=1\n"
        rig.monitor_query = monitor
        log = io.StringIO()
        try:
            return rig.watch_l1(proc, log, "monitor.sock", "stock"), log.getvalue()
        finally:
            proc.kill()
            proc.wait()

    def test_a_talking_l1_gets_no_nmi(self):
        self.assertEqual(self.watch("talk", False)[0], 0)
        self.assertEqual(self.sent, [])

    def test_an_nmi_that_revives_it_lets_it_finish(self):
        rc, log = self.watch("hang", True)
        self.assertEqual(rc, 0)
        self.assertEqual(self.sent, ["info registers", "nmi"])
        self.assertIn("RIP=ffffffff81000000", log)
        self.assertEqual([e["event"] for e in rig.L1_EVENTS], ["silent", "revived by an NMI"])

    def test_an_nmi_that_does_not_is_a_silent_l1(self):
        with self.assertRaises(rig.L1Silent):
            self.watch("hang", False)
        self.assertEqual([e["event"] for e in rig.L1_EVENTS], ["silent"])


if __name__ == "__main__":
    tap_unittest.main(ResultSlots, Resume, Nmi)
