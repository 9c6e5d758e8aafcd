#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Unit tests of tools/rig/mode.py: where each scenario group runs on the hosts KVM developers
have - a workstation without KVM_SW_PROTECTED_VM, one with it, a non-root run, a /dev/kvm that
only emulates, no /dev/kvm at all, no kvm tracepoints - and --mode native forced on each, the
L1 (slow but real KVM) included. Printed as TAP."""
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tools", "rig"))
sys.path.insert(0, os.path.join(HERE, ".."))
import mode  # noqa: E402
import tap_unittest  # noqa: E402

# A KVM developer's workstation: root, fast KVM, tracefs, a distribution kernel (default VMs only).
WORKSTATION = mode.Facts(root=True, kvm_open=True, kvm_fast=True, kvm_fast_why="kvm-probe: usable",
                         tracefs="/sys/kernel/tracing", vm_types=0x1)


def where(m, facts):
    plan, line = mode.plan(m, facts)
    return {g: w for g, (w, _) in plan.items()}, line


class Auto(unittest.TestCase):
    def test_a_distribution_kernel_runs_stock_here_and_sends_sw_protected_to_the_l1(self):
        w, line = where("auto", WORKSTATION)
        self.assertEqual(w, {"stock": "native", "sw-protected": "nested"})
        self.assertIn("no KVM_X86_SW_PROTECTED_VM (KVM_CAP_VM_TYPES 0x1)", line)

    def test_a_kernel_with_sw_protected_vms_runs_everything_here(self):
        self.assertEqual(where("auto", WORKSTATION._replace(vm_types=0x3))[0],
                         {"stock": "native", "sw-protected": "native"})

    def test_not_root_nests_and_says_how_to_run_natively(self):
        w, line = where("auto", WORKSTATION._replace(root=False))
        self.assertEqual(w, {"stock": "nested", "sw-protected": "nested"})
        self.assertIn("not root", line)
        self.assertIn("sudo make kvm-test", line)

    def test_an_emulating_dev_kvm_nests(self):
        w, line = where("auto", WORKSTATION._replace(kvm_fast=False, kvm_fast_why="did not reach HLT in 1 s"))
        self.assertEqual(set(w.values()), {"nested"})
        self.assertIn("not run guests at native speed (did not reach HLT in 1 s)", line)

    def test_no_dev_kvm_nests(self):
        w, line = where("auto", mode.Facts(True, False, False, "no /dev/kvm", None, None))
        self.assertEqual(set(w.values()), {"nested"})
        self.assertIn("no usable /dev/kvm", line)

    def test_no_kvm_tracepoints_nests(self):
        w, line = where("auto", WORKSTATION._replace(tracefs=None))
        self.assertEqual(set(w.values()), {"nested"})
        self.assertIn("no kvm events in tracefs", line)


class ForcedNative(unittest.TestCase):
    def test_what_the_host_lacks_is_skipped_with_the_reason_not_failed(self):
        plan, line = mode.plan("native", WORKSTATION)
        self.assertEqual(plan["stock"][0], "native")
        self.assertEqual(plan["sw-protected"], ("skip", "this kernel's KVM has no KVM_X86_SW_PROTECTED_VM "
                                                        "(KVM_CAP_VM_TYPES 0x1)"))

    def test_the_l1_slow_but_real_kvm_runs_natively_when_told(self):
        slow = WORKSTATION._replace(kvm_fast=False, kvm_fast_why="did not reach HLT in 1 s")
        self.assertEqual(where("native", slow)[0], {"stock": "native", "sw-protected": "skip"})

    def test_non_root_cannot_run_anything_and_says_so(self):
        with self.assertRaises(ValueError) as e:
            mode.plan("native", WORKSTATION._replace(root=False))
        self.assertIn("not root", str(e.exception))

    def test_nested_is_nested_everywhere(self):
        self.assertEqual(set(where("nested", WORKSTATION)[0].values()), {"nested"})


class ThisHost(unittest.TestCase):
    def test_the_vm_types_probe_answers_or_says_there_is_no_kvm(self):
        t = mode.kvm_vm_types()
        self.assertTrue(t is None or t & 1, t)  # every KVM runs default VMs


if __name__ == "__main__":
    tap_unittest.main(Auto, ForcedNative, ThisHost)
