#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""make kvm-test: run the guest on real KVM and watch what the host does.

Each group of scenarios runs natively where this host can run it - root, KVM at native speed,
the kvm tracepoints, the group's VM type (tools/rig/mode.py decides and says why) - and otherwise
in an L1 host booted under QEMU TCG: Debian's own 6.12 kernel (or the rig's sw-protected build),
busybox, the KVM modules, QEMU and Python, all from Debian packages, in which KVM runs for real
on emulated AMD SVM with nested paging; one boot per group. The stock L1 also runs this rig in
native mode on a few scenarios, so that the native path is tested where no native KVM exists.

Each scenario boots bounce under KVM with a disk, reads the disk through the page cache (the
guest's `workload` suite) and records the kvm:kvm_page_fault, kvm_exit and kvm_hypercall
tracepoints. tools/rig/analyze.py classifies every DMA-filled page by its fault sequence.

Outputs in build/kvm/: results.json (one object per scenario), results.md (the same as tables),
faults.svg (faults per filled page by policy and device), raw/ (traces and guest logs),
l1-console-<kernel>.log. With --tap, the assertions print as TAP and the exit status says whether they
held. Stages print their elapsed time; every stage has a timeout.
"""
import argparse
import glob
import gzip
import hashlib
import io
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import analyze  # noqa: E402
import checks  # noqa: E402
import mode  # noqa: E402

BUILD = os.path.join(ROOT, "build")
OUT = os.path.join(BUILD, "kvm")
CACHE = os.path.join(OUT, "cache")
MODULES = ["virt/lib/irqbypass", "arch/x86/kvm/kvm", "drivers/crypto/ccp/ccp", "arch/x86/kvm/kvm-amd",
           "drivers/block/virtio_blk"]
L1_MEMORY = "4096"
L1_TIMEOUT_S = 900
# The whole rig, cold kernel build included (about 14 minutes), must end within this; make test
# gives its step a little more (tools/test-all.sh), so the rig's own message, naming the stage it
# stopped in, is the one seen.
RIG_DEADLINE_S = 2400
# Each scenario is bounded inside the L1 (SCENARIO_TIMEOUT 120 s + 10 s to KILL, scenarios.sh)
# and reports when it ends; a longer silence means the L1 itself is stuck.
L1_SILENCE_S = 180
# An L1 under TCG has, rarely, gone idle for good in the middle of its work (its vCPU halted with
# interrupts enabled: a lost wakeup in the emulation, not a guest failure). The rig first sends it
# an NMI from the QEMU monitor (an NMI ends HLT whatever the lost interrupt was) and waits
# NMI_GRACE_S for it to speak again; if it does not, it boots it again with the scenarios that
# no result slot holds yet (save-scenario.sh), up to L1_BOOTS boots in all. Each event is listed
# in results.json (l1_events), so a soak counts them.
L1_BOOTS = 3
NMI_GRACE_S = 60
# Each finished scenario is saved at once into a slot of the results disk (save-scenario.sh).
RESULT_SLOTS, SLOT_MIB = 32, 16
# loglevel=5: kernel warnings too (a clocksource marked unstable, hung tasks) reach the console log.
# --l1-idle poll (the default) adds idle=poll: the L1's vCPU never halts. Measured: 138 s a rig
# run with it, 136 s without. It did not remove the hang: one L1 went silent with it too, spinning
# with interrupts enabled (README, "Timeouts, hangs, resume").
L1_APPEND = "console=ttyS0 loglevel=5 panic=-1"
# The rig's Python, carried into the L1 for the native-mode self-test: there the stock L1 runs
# `rig.py --mode native` on these scenarios - the IDE pair natively on its KVM, the sw-protected
# one skipped because Debian's kernel has no KVM_X86_SW_PROTECTED_VM - and the host checks that
# the native figures agree with its nested ones (checks.native_selftest_checks).
RIG_PYTHON = ("rig.py", "analyze.py", "checks.py", "mode.py")
NATIVE_SELFTEST = ("ide-copy", "ide-zero", "cc-swp-zero-bounce")
SELFTEST_DIR = "native-selftest"
L1_BOOTED = []  # the L1 kernels this run booted
L1_EVENTS = []  # {"kernel", "event": "silent" | "revived by an NMI" | "booted again", "after", "at_s"}

# The L1 kernel | name | host THP | machine (or the VMM's --mode) | guest command line | disk
# Normal guests run under QEMU on Debian's stock kernel; confidential guests run under tools/vmm,
# in a software-protected VM on the rig's own kernel and in the fallback mode on the stock one.
WORKLOAD = "tests=workload require=data"  # a data disk missing, refused or unrecognised fails, naming why
CC = f"mode=confidential {WORKLOAD}"
SCENARIOS = [
    ("stock", "ide-copy", "never", "pc", f"{WORKLOAD} ide=dma bounce_policy=copy", "ide"),
    ("stock", "ide-zero", "never", "pc", f"{WORKLOAD} ide=dma bounce_policy=zero", "ide"),
    ("stock", "virtio-copy", "never", "q35", f"{WORKLOAD} bounce_policy=copy", "virtio"),
    ("stock", "virtio-zero", "never", "q35", f"{WORKLOAD} bounce_policy=zero", "virtio"),
    ("stock", "ide-copy-thp", "always", "pc", f"{WORKLOAD} ide=dma bounce_policy=copy", "ide"),
    ("stock", "ide-zero-thp", "always", "pc", f"{WORKLOAD} ide=dma bounce_policy=zero", "ide"),
    ("stock", "virtio-zero-thp", "always", "q35", f"{WORKLOAD} bounce_policy=zero", "virtio"),
    # Exact completion (issue 24/25): drivers report what the device wrote, slots never zeroed.
    # virtio-blk bounces only when forced (a 64-bit device), so its exact scenario forces it.
    ("stock", "ide-exact", "never", "pc", f"{WORKLOAD} ide=dma bounce_policy=zero dma_completion=exact", "ide"),
    ("stock", "virtio-exact", "never", "q35", f"{WORKLOAD} bounce_policy=zero dma_completion=exact swiotlb_force",
     "virtio"),
    # A confidential guest in a normal QEMU VM: KVM answers the conversion hypercall -KVM_ENOSYS.
    ("stock", "cc-qemu-enosys", "never", "q35", f"{CC} bounce_policy=zero", "virtio"),
] + [
    (kernel, f"cc-{tag}-{policy}-{io}", "never", vmm_mode, f"{CC} bounce_policy={policy} cc_io={io}", "vmm")
    for kernel, tag, vmm_mode in (("sw-protected", "swp", "sw-protected"), ("stock", "fallback", "fallback"))
    for policy in ("zero", "copy") for io in ("bounce", "convert")
] + [
    (kernel, f"cc-{tag}-exact-bounce", "never", vmm_mode, f"{CC} bounce_policy=zero dma_completion=exact cc_io=bounce",
     "vmm")
    for kernel, tag, vmm_mode in (("sw-protected", "swp", "sw-protected"), ("stock", "fallback", "fallback"))
] + [
    # Writes through the VMM's device: the blk suite's scratch-disk tests, in both I/O strategies.
    ("sw-protected", f"cc-swp-zero-{io}-write", "never", "sw-protected", f"mode=confidential tests=blk require=scratch bounce_policy=zero cc_io={io}",
     "vmm-scratch")
    for io in ("bounce", "convert")
] + [
    # A device that writes less than the buffer: the VMM's disk has an unreadable sector, a read
    # over it delivers the sectors before it and fails (used len = what it wrote). What the rest
    # of the guest's buffer holds then is the point: as it was (exact), zeros (zero), the original
    # (copy) - the blk suite's partial_read says which, and the rig checks it per policy.
    ("sw-protected", f"cc-swp-{mode}-partial", "never", "sw-protected",
     f"mode=confidential tests=blk require=data expect_eio=1000 {args}", "vmm-bad")
    for mode, args in (("zero", "bounce_policy=zero"), ("copy", "bounce_policy=copy"),
                       ("exact", "bounce_policy=zero dma_completion=exact"))
]

START = time.monotonic()
# Names this run's kept logs: build/kvm/failed/<RUN_ID>/<scenario>/ (the raw/ folder and the L1
# consoles are the next run's); the newest KEEP_FAILED_RUNS runs with failures are kept.
RUN_ID = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
FAILED = os.path.join(OUT, "failed")
KEEP_FAILED_RUNS = 10


LAST_STAGE = ["start"]


def elapsed():
    return round(time.monotonic() - START)


def stage(msg):
    LAST_STAGE[0] = msg
    print(f"[rig {time.monotonic() - START:5.0f}s] {msg}", file=sys.stderr, flush=True)


class Stopped(Exception):
    """The rig's deadline passed, or it was told to stop (SIGTERM, SIGHUP)."""


def stop_on_signals():
    """One global deadline, and SIGTERM/SIGHUP, end the rig through fail(): child process groups
    (the L1, the kernel build) are killed by the `except BaseException` of whoever started them."""
    def handler(signum, frame):
        what = (f"the rig's deadline of {RIG_DEADLINE_S} s passed" if signum == signal.SIGALRM
                else f"stopped by signal {signal.Signals(signum).name}")
        raise Stopped(f"{what} (during: {LAST_STAGE[0]})")
    for sig in (signal.SIGALRM, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, handler)
    signal.alarm(RIG_DEADLINE_S)


def keep_logs(what, paths, note=None):
    """Copy a failure's logs (files or folders) to build/kvm/failed/<RUN_ID>/<what>/, where no
    later scenario or run overwrites them. Returns that folder."""
    dst = os.path.join(FAILED, RUN_ID, what)
    os.makedirs(dst, exist_ok=True)
    for p in paths:
        if os.path.isdir(p):
            shutil.copytree(p, dst, dirs_exist_ok=True)  # a scenario's folder: its files
        elif os.path.exists(p):
            shutil.copy(p, dst)
    if note:
        with open(os.path.join(dst, "why.txt"), "w") as f:
            f.write(note)
    for old in sorted(os.listdir(FAILED))[:-KEEP_FAILED_RUNS]:
        shutil.rmtree(os.path.join(FAILED, old), ignore_errors=True)
    return dst


def fail(msg, log=None):
    stage(f"FAILED: {msg}" + (f" (log: {log})" if log else ""))
    if L1_BOOTED:  # the consoles of this run's L1s; earlier runs' are not this failure's
        kept = keep_logs("rig", glob.glob(os.path.join(OUT, "l1-console-*.log*")), msg + "\n")
        stage(f"the L1 consoles are kept in {kept}")
    sys.exit(1)


def run(cmd, timeout, what, **kw):
    try:
        return subprocess.run(cmd, check=True, timeout=timeout, capture_output=True, text=True, **kw)
    except subprocess.TimeoutExpired:
        fail(f"{what}: timed out after {timeout} s")
    except subprocess.CalledProcessError as e:
        fail(f"{what}: {' '.join(cmd)} exited {e.returncode}: {(e.stderr or e.stdout or '').strip()[-500:]}")


# ---- which scenarios, and the native-mode self-test's output -----------------------------------

def read_selftest(d):
    """The native-mode self-test's output from the L1 (l1-run.sh): {"rc", "tap", "results", "host_state"},
    or None."""
    if not os.path.isdir(d):
        return None
    def text(f):
        try:
            return open(os.path.join(d, f), errors="replace").read()
        except OSError:
            return ""
    try:
        results = json.loads(text("results.json"))
    except ValueError:
        results = None
    rc = text("rc").strip()
    return {"rc": int(rc) if rc.isdigit() else None, "tap": text("tap.txt"), "results": results,
            "host_state": text("host-state.txt")}


def select_scenarios(only):
    """SCENARIOS, or those named in --only (a comma-separated list; an unknown name fails)."""
    if not only:
        return list(SCENARIOS)
    names = [n for n in only.split(",") if n]
    known = {sc[1] for sc in SCENARIOS}
    unknown = [n for n in names if n not in known]
    if unknown:
        fail(f"--only: no scenario {', '.join(unknown)} (there are: {', '.join(sorted(known))})")
    return [sc for sc in SCENARIOS if sc[1] in names]


# Debian's python3 (not whatever python3 runs the rig), its library without what a rig never imports.
PYTHON, PYTHON_LIB = "/usr/bin/python3.11", "/usr/lib/python3.11"
PYTHON_LIB_SKIP = ("test", "tests", "idlelib", "tkinter", "turtledemo", "ensurepip", "lib2to3", "pydoc_data",
                   "site-packages", "dist-packages", "__pycache__", "config-3.11-x86_64-linux-gnu")


# ---- the L1 host: kernel, initramfs, work disk ------------------------------------------------

def l1_kernel(pin=None):
    """Debian's linux-image-6.12.*+deb12-amd64 (the newest, or `pin`), unpacked (not installed)
    under the cache. A version the archive no longer serves is taken from the cache if it is
    there. -> (version, folder, where it came from)."""
    os.makedirs(CACHE, exist_ok=True)
    pattern = r"^linux-image-6\.12\.[0-9.]+\+deb12-amd64-unsigned$"

    def key(version):
        return [int(x) for x in version.split("+")[0].split("-")[0].split(".")]

    def in_archive():
        found = run(["apt-cache", "search", "--names-only", pattern], 60, "apt-cache search").stdout.split()
        return sorted({w[len("linux-image-"):-len("-unsigned")] for w in found
                       if w.startswith("linux-image-") and w.endswith("-unsigned")}, key=key)

    def cached(version):
        return os.path.exists(os.path.join(CACHE, f"linux-{version}", "boot", f"vmlinuz-{version}"))

    versions = in_archive()
    if not versions and os.geteuid() == 0:
        stage("no 6.12 kernel in the package lists: apt-get update")
        run(["apt-get", "update", "-qq"], 600, "apt-get update")
        versions = in_archive()
    if pin:
        version = pin
    elif versions:
        version = versions[-1]
    else:
        old = sorted((d[len("linux-"):] for d in os.listdir(CACHE) if d.startswith("linux-") and cached(d[len("linux-"):])),
                     key=key)
        if not old:
            fail("no linux-image-6.12.*+deb12-amd64-unsigned package in the apt sources (make deps adds them) "
                 "and none cached")
        version = old[-1]
    kdir = os.path.join(CACHE, f"linux-{version}")
    if cached(version):
        return version, kdir, "cache" if version not in versions else "archive (cached)"
    if version not in versions:
        fail(f"L1 kernel {version} is neither in the archive (it has: {', '.join(versions) or 'none'}) nor cached "
             f"in {CACHE}")
    pkg = f"linux-image-{version}-unsigned"
    stage(f"downloading {pkg} (Debian package, unpacked with dpkg -x)")
    tmp = tempfile.mkdtemp(dir=CACHE)
    run(["apt-get", "download", pkg], 600, "apt-get download", cwd=tmp)
    deb = [f for f in os.listdir(tmp) if f.endswith(".deb")][0]
    run(["dpkg", "-x", os.path.join(tmp, deb), kdir + ".tmp"], 300, "dpkg -x")
    shutil.rmtree(tmp)
    shutil.rmtree(kdir, ignore_errors=True)
    os.rename(kdir + ".tmp", kdir)
    return version, kdir, "archive"


def kernel_release(image):
    """The version string a bzImage carries (Documentation/arch/x86/boot.rst: the 16-bit
    kernel_version field at 0x20e points 0x200 before the NUL-terminated string), or None."""
    try:
        with open(image, "rb") as f:
            head = f.read(65536)
        if head[0x202:0x206] != b"HdrS":
            return None
        at = int.from_bytes(head[0x20e:0x210], "little") + 0x200
        return head[at:head.index(b"\0", at)].decode("ascii", "replace").split(" ")[0]
    except (OSError, ValueError):
        return None


def provenance(kernels, l1_idle=None):
    """Where a run's results come from: the bounce commit, QEMU, the KVM hosts' kernels."""
    def out(cmd):
        try:
            return subprocess.run(cmd, capture_output=True, text=True, timeout=30, cwd=ROOT).stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            return None
    qemu = (out(["qemu-system-x86_64", "--version"]) or "QEMU: version unknown").splitlines()[0]
    return {"bounce_commit": out(["git", "describe", "--always", "--dirty"]), "qemu": qemu, "kernels": kernels,
            "l1_append": l1_append(l1_idle) if l1_idle else None}


def file_key(paths):
    h = hashlib.sha256()
    for p in paths:
        st = os.stat(p)
        h.update(f"{p}:{st.st_size}:{int(st.st_mtime)}\n".encode())
    return h


def l1_initramfs(version, kdir):
    """busybox + the KVM modules + QEMU with its libraries and firmware + Debian's Python + /init,
    cached by input."""
    qemu = shutil.which("qemu-system-x86_64")
    libs = sorted({w for exe in (qemu, PYTHON) for line in run(["ldd", exe], 60, "ldd").stdout.splitlines()
                   for w in line.split() if w.startswith("/")})
    init = os.path.join(ROOT, "tools", "rig", "init.sh")
    key = file_key([qemu, "/bin/busybox", init, PYTHON] + libs)
    key.update(version.encode())
    out = os.path.join(CACHE, f"initramfs-{key.hexdigest()[:16]}.cpio.gz")
    if os.path.exists(out):
        stage(f"L1 initramfs up to date ({os.path.basename(out)})")
        return out
    stage("building the L1 initramfs: busybox, KVM modules, QEMU and Python with their libraries")
    root = tempfile.mkdtemp(dir=CACHE)
    for d in ("bin", "sbin", "proc", "sys", "dev", "tmp", "lib/modules", "usr/bin", "usr/share", "etc"):
        os.makedirs(os.path.join(root, d), exist_ok=True)
    shutil.copy("/bin/busybox", os.path.join(root, "bin", "busybox"))
    for applet in run(["/bin/busybox", "--list"], 60, "busybox --list").stdout.split():
        if applet != "busybox":  # the list names busybox itself
            os.symlink("busybox", os.path.join(root, "bin", applet))
    for m in MODULES:
        src = os.path.join(kdir, "lib", "modules", version, "kernel", m + ".ko.xz")
        with open(os.path.join(root, "lib", "modules", os.path.basename(m) + ".ko"), "wb") as f:
            f.write(subprocess.run(["xz", "-dc", src], check=True, capture_output=True, timeout=120).stdout)
    shutil.copy(qemu, os.path.join(root, "usr", "bin"))
    for lib in libs:
        dst = root + lib
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copy(lib, dst)
    for share in ("/usr/share/qemu", "/usr/share/seabios"):
        shutil.copytree(share, root + share, symlinks=False)
    # Debian's Python and its standard library, for the native-mode self-test (l1-run.sh).
    shutil.copy(PYTHON, root + PYTHON)
    os.symlink(os.path.basename(PYTHON), os.path.join(root, "usr", "bin", "python3"))
    shutil.copytree(PYTHON_LIB, root + PYTHON_LIB, symlinks=True,
                    ignore=shutil.ignore_patterns(*PYTHON_LIB_SKIP))
    shutil.copy(init, os.path.join(root, "init"))
    os.chmod(os.path.join(root, "init"), 0o755)
    listing = subprocess.run(["find", "."], cwd=root, check=True, capture_output=True).stdout
    with open(out + ".tmp", "wb") as f:
        cpio = subprocess.Popen(["cpio", "-o", "-H", "newc", "--quiet"], cwd=root, stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE)
        gz = subprocess.Popen(["gzip", "-1"], stdin=cpio.stdout, stdout=f)
        cpio.stdin.write(listing)
        cpio.stdin.close()
        cpio.stdout.close()
        if cpio.wait() != 0 or gz.wait() != 0:
            fail("cpio | gzip of the initramfs failed")
    os.rename(out + ".tmp", out)
    shutil.rmtree(root)
    return out


def write_scenarios(path, scenarios):
    """scenarios.txt for tools/rig/scenarios.sh: the fields after the kernel."""
    with open(path, "w") as f:
        for s in scenarios:
            f.write("|".join(s[1:]) + "\n")


def work_tar(scenarios, selftest=()):
    """The L1's work on a tar 'disk': the guest, its disks, the scenario list and the runners; with
    selftest (scenario names), also the rig's own Python, to run those in native mode in the L1."""
    path = os.path.join(OUT, "work.tar")
    tmp = tempfile.mkdtemp(dir=OUT)
    write_scenarios(os.path.join(tmp, "scenarios.txt"), scenarios)
    with open(os.path.join(tmp, "selftest"), "w") as f:
        f.write(",".join(selftest))
    rig_dir = os.path.join(ROOT, "tools", "rig")
    with tarfile.open(path, "w") as t:
        t.add(os.path.join(BUILD, "bounce.elf"), "bounce.elf")
        t.add(os.path.join(BUILD, "disks", "data.img"), "data.img")
        for f in ("scenarios.sh", "save-scenario.sh"):
            t.add(os.path.join(rig_dir, f), f)
        t.add(os.path.join(rig_dir, "l1-run.sh"), "run.sh")
        t.add(os.path.join(tmp, "scenarios.txt"), "scenarios.txt")
        t.add(os.path.join(tmp, "selftest"), "selftest")
        if selftest or any(sc[-1].startswith("vmm") for sc in scenarios):
            t.add(os.path.join(BUILD, "tools", "vmm"), "vmm")
        if selftest or any(sc[-1] == "vmm-scratch" for sc in scenarios):
            t.add(os.path.join(BUILD, "disks", "scratch.img"), "scratch.img")
        if selftest:
            for f in RIG_PYTHON + ("scenarios.sh",):
                t.add(os.path.join(rig_dir, f), f"bounce/tools/rig/{f}")
    shutil.rmtree(tmp)
    return path


def sw_protected_origin():
    """What the sw-protected kernel is built from: the source package and the config."""
    src = run(["dpkg-query", "-W", "-f=${Version}", "linux-source-6.12"], 30, "dpkg-query").stdout.strip()
    frag = os.path.join(ROOT, "tools", "rig", "kernel-sw-protected.config")
    digest = hashlib.sha256(open(frag, "rb").read()).hexdigest()[:16]
    return (f"built from Debian's linux-source-6.12 {src}: x86_64 defconfig + tools/rig/kernel-sw-protected.config "
            f"(sha256 {digest}...)")


def sw_protected_kernel():
    """The rig's own L1 kernel with KVM_SW_PROTECTED_VM (tools/rig/build-kernel.sh): cached outside the
    clone, ~8 minutes to build the first time on a machine."""
    script = os.path.join(ROOT, "tools", "rig", "build-kernel.sh")
    stage("sw-protected L1 kernel: tools/rig/build-kernel.sh (cached; about 14 minutes when cold)")
    p = subprocess.Popen([script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        for line in p.stderr:  # its progress, as it comes (a line a minute while compiling)
            stage("  " + line.rstrip())
        out = p.stdout.read()
        p.wait()
    except BaseException:  # the rig's deadline, SIGTERM: the build goes with it
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()
        raise
    if p.returncode != 0 or not out.strip():
        fail("could not build the sw-protected L1 kernel")
    return out.strip().splitlines()[-1]


class L1Silent(Exception):
    """The L1 said nothing for L1_SILENCE_S: it is stuck, not slow. .saved: the scenarios it had
    saved by then (set once it is killed)."""
    saved = ()
    last = "boot"  # its last rig-l1 line


def l1_append(idle):
    return L1_APPEND + (" idle=poll" if idle == "poll" else "")


def read_l1(proc, log, silence_s=None, last="boot"):
    """Relay the L1's console to its log and its rig-l1 lines to the stages, until it exits.
    Returns the rc of "rig-l1: done rc=N", or None. Raises L1Silent when the L1 stops talking:
    each scenario is bounded inside the L1 (timeout -k in scenarios.sh), so a silence longer
    than that bound means the L1 itself hung (once, under TCG, with no kernel message at all)."""
    silence_s = silence_s or L1_SILENCE_S
    done_rc, buf = None, b""
    deadline = time.monotonic() + L1_TIMEOUT_S
    heard = time.monotonic()
    fd = proc.stdout.fileno()
    while True:
        now = time.monotonic()
        if now > deadline:
            fail(f"the L1 host did not finish within {L1_TIMEOUT_S} s (last: {last})", log.name)
        if now - heard > silence_s:
            e = L1Silent(f"the L1 host said nothing for {silence_s} s after '{last}'")
            e.last = last
            raise e
        ready, _, _ = select.select([fd], [], [], 1)
        if not ready:
            continue
        chunk = os.read(fd, 65536)
        if not chunk:
            return done_rc
        buf += chunk
        *lines, buf = buf.split(b"\n")
        for raw in lines:
            line = raw.decode("utf-8", "replace").replace("\r", "")
            log.write(line + "\n")
            if line.startswith("rig-l1:"):
                heard, last = time.monotonic(), line[len("rig-l1:"):].strip()
                stage("  L1: " + last)
                if line.startswith("rig-l1: done rc="):
                    done_rc = int(line.split("=")[1])
        log.flush()


def monitor_query(path, command):
    """One human-monitor command's output (for the log of a stuck L1), or why there is none."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as m:
            m.settimeout(5)
            m.connect(path)
            m.sendall(command.encode() + b"\n")
            out, end = b"", time.monotonic() + 5
            while time.monotonic() < end:
                try:
                    chunk = m.recv(65536)
                except socket.timeout:
                    break
                if not chunk:
                    break
                out += chunk
            return out.decode("utf-8", "replace").replace("\r", "") + "\n"
    except OSError as e:
        return f"(no monitor answer: {e})\n"


def boot_l1(kernel_image, label, initramfs, group, append, selftest=()):
    """Boot the L1 under TCG (thread=single: multi-threaded TCG aborted once a nested guest ran)
    to run the scenarios of `group`. An L1 that goes silent and does not answer an NMI is killed
    and booted again with the scenarios it had not saved yet, up to L1_BOOTS times in all.
    Returns (the folder holding every scenario's results, the runner's rc)."""
    raw = os.path.join(OUT, "raw")
    os.makedirs(raw, exist_ok=True)
    todo, rc = list(group), 0
    for attempt in range(1, L1_BOOTS + 1):
        try:
            saved, run_rc = boot_l1_once(kernel_image, label, initramfs, work_tar(todo, selftest), append, raw)
            want = {sc[1] for sc in todo} | ({SELFTEST_DIR} if selftest else set())
            return raw, rc or run_rc or (0 if set(saved) >= want else 1)
        except L1Silent as e:
            saved = e.saved
            console = os.path.join(OUT, f"l1-console-{label}.log")
            todo = [sc for sc in todo if sc[1] not in saved]
            if SELFTEST_DIR in saved:
                selftest = ()
            if attempt == L1_BOOTS:
                fail(f"{e}, on each of {L1_BOOTS} boots", console)
            os.replace(console, f"{console}.{attempt}")
            L1_EVENTS.append({"kernel": label, "event": "booted again", "after": str(e), "at_s": elapsed()})
            if not todo and not selftest:
                return raw, rc
            left = f"the {len(todo)} scenarios left, from {todo[0][1]}" if todo else "the native-mode self-test"
            stage(f"{e}: killed it (its console: {console}.{attempt}); {len(saved)} scenarios were saved; "
                  f"booting it again ({attempt + 1} of {L1_BOOTS}) for {left}")


def read_slots(results, raw):
    """The scenarios the L1 saved in the results disk's slots (save-scenario.sh), extracted into
    raw. A slot whose first block is zeros was never written, one that is not a whole archive was
    being written when the L1 died; the slots are filled in order, so either ends the list."""
    names = []
    with open(results, "rb") as f:
        for k in range(RESULT_SLOTS):
            f.seek(k * SLOT_MIB << 20)
            if not f.read(512).strip(b"\0"):
                break
            f.seek(k * SLOT_MIB << 20)
            try:
                with tarfile.open(fileobj=io.BytesIO(f.read(SLOT_MIB << 20))) as t:
                    tops = {m.name.split("/")[0] for m in t.getmembers()}
                    t.extractall(raw)
            except tarfile.TarError as e:  # a slot the L1 died writing: its scenario was not saved
                stage(f"result slot {k} is unreadable ({str(e).splitlines()[-1].strip()}): taken as not saved")
                break
            names += sorted(tops)
    return names


def watch_l1(proc, log, monitor, label):
    """read_l1, and if the L1 goes silent: its registers into the log, an NMI, NMI_GRACE_S more
    to speak. -> the runner's rc, as read_l1; raises L1Silent if the NMI did not help."""
    try:
        return read_l1(proc, log)
    except L1Silent as e:
        log.write(f"\n---- rig: {e}; its CPU state from the QEMU monitor ----\n")
        log.write(monitor_query(monitor, "info registers"))
        L1_EVENTS.append({"kernel": label, "event": "silent", "after": str(e), "at_s": elapsed()})
        stage(f"{e}: sending it an NMI, waiting {NMI_GRACE_S} s for it to speak again")
        log.write("---- rig: NMI sent from the QEMU monitor ----\n")
        monitor_query(monitor, "nmi")
        rc = read_l1(proc, log, NMI_GRACE_S, e.last)
        L1_EVENTS.append({"kernel": label, "event": "revived by an NMI", "after": str(e), "at_s": elapsed()})
        stage("the L1 host spoke again after the NMI")
        return rc


def boot_l1_once(kernel_image, label, initramfs, work, append, raw):
    """One boot of the L1: -> (the scenarios it saved, the runner's rc). Raises L1Silent (with
    .saved) when it went silent and an NMI did not bring it back."""
    results = os.path.join(OUT, "results.img")
    with open(results, "wb") as f:
        f.truncate(RESULT_SLOTS * SLOT_MIB << 20)
    console = os.path.join(OUT, f"l1-console-{label}.log")
    monitor = os.path.join(OUT, f"l1-monitor-{label}.sock")
    cmd = ["qemu-system-x86_64", "-machine", "q35", "-accel", "tcg,thread=single", "-cpu", "max", "-m", L1_MEMORY,
           "-nographic", "-no-reboot", "-kernel", kernel_image,
           "-initrd", initramfs, "-append", append,
           "-drive", f"file={work},format=raw,if=virtio,readonly=on",
           "-drive", f"file={results},format=raw,if=virtio",
           "-monitor", f"unix:{monitor},server=on,wait=off"]
    stage(f"booting the L1 host under TCG ({label} kernel, {append}); console: {console}")
    L1_BOOTED.append(label)
    with open(console, "w") as log:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                start_new_session=True)
        try:
            done_rc = watch_l1(proc, log, monitor, label)
        except L1Silent as e:
            log.write(f"\n---- rig: {e} after the NMI too; killing it ----\n")
            os.killpg(proc.pid, 9)
            proc.wait()
            e.saved = read_slots(results, raw)
            raise
        except BaseException:
            os.killpg(proc.pid, 9)
            proc.wait()
            raise
        proc.wait()
    if done_rc is None:
        fail("the L1 host stopped before finishing its work", console)
    return read_slots(results, raw), done_rc


def run_native(scenarios, raw, tracefs):
    """KVM runs guests here: the scenarios, directly, as root. scenarios.sh traces through a
    private tracefs instance, only its own children (the guests' QEMU and VMM), and puts back
    every host setting it changed on any exit; it runs in a process group of its own, which is
    killed whole if the rig stops (deadline, Ctrl-C, SIGTERM). -> the runner's rc."""
    work = tempfile.mkdtemp(dir=OUT)
    shutil.copy(os.path.join(BUILD, "bounce.elf"), work)
    shutil.copy(os.path.join(BUILD, "disks", "data.img"), work)
    shutil.copy(os.path.join(BUILD, "disks", "scratch.img"), work)
    write_scenarios(os.path.join(work, "scenarios.txt"), scenarios)
    if os.path.exists(os.path.join(BUILD, "tools", "vmm")):
        shutil.copy(os.path.join(BUILD, "tools", "vmm"), work)
    stage(f"running {len(scenarios)} scenarios on this host's KVM (tracefs {tracefs})")
    proc = subprocess.Popen(["sh", os.path.join(ROOT, "tools", "rig", "scenarios.sh"), work, raw],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            env=dict(os.environ, TRACEFS=tracefs), start_new_session=True)
    try:
        deadline = time.monotonic() + L1_TIMEOUT_S
        for raw_line in proc.stdout:
            stage("  " + raw_line.decode("utf-8", "replace").rstrip())
            if time.monotonic() > deadline:
                raise Stopped(f"the native scenarios did not finish within {L1_TIMEOUT_S} s")
        return proc.wait()
    finally:
        if proc.poll() is None:
            stop_group(proc)
        shutil.rmtree(work, ignore_errors=True)


def stop_group(proc, grace_s=10):
    """SIGTERM to the runner's process group (scenarios.sh restores the host on it), then SIGKILL."""
    stage(f"stopping the scenario runner (process group {proc.pid})")
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=grace_s)
            return
        except subprocess.TimeoutExpired:
            continue


# ---- results ----------------------------------------------------------------------------------

def write_results(all_results, mode_line, kept, skipped, prov, extra=None):
    with open(os.path.join(OUT, "results.json"), "w") as f:
        json.dump({"mode": mode_line, "run_id": RUN_ID, "provenance": prov, "scenarios": all_results, "skipped": skipped,
                   "kept_logs": kept, "l1_events": L1_EVENTS, **(extra or {})}, f, indent=1)
    results = [r for r in all_results if not r.get("error")]
    cols = ["scenario", "device", "policy", "thp", "filled_pages", "rbw_pages", "write_first_pages",
            "read_only_pages", "faults_per_filled_page", "other_faults", "exits_total", "wall_s", "guest_passed"]
    lines = [f"KVM host: {mode_line}\n", "| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for r in results:
        if not r.get("vm_type"):
            lines.append("| " + " | ".join(str(r.get(c)) for c in cols) + " |")
    cc = [r for r in results if r.get("vm_type")]
    if cc:
        ccols = ["scenario", "vm_type", "policy", "io_strategy", "guest_passed", "canary_found", "requests",
                 "hypercalls", "pages_converted", "hypercalls_per_request", "exits_per_request",
                 "bytes_copied_per_request", "memory_faults", "refused_dma", "wall_s"]
        lines += ["\nConfidential guests under tools/vmm:\n", "| " + " | ".join(ccols) + " |", "|" + "---|" * len(ccols)]
        for r in cc:
            lines.append("| " + " | ".join(str(r.get(c)) for c in ccols) + " |")
    for r in all_results:
        if r.get("error"):
            lines.append(f"\n{r['scenario']}: not analyzed: {r['error']}")
    for s in skipped:
        lines.append(f"\n{s['scenario']}: skipped: {s['reason']}")
    for name, where in kept.items():
        lines.append(f"\n{name}: failed; logs kept in build/kvm/{where}")
    lines.append("\nMost common fault sequences (error codes) on DMA-filled pages:\n")
    for r in results:
        if r.get("vm_type"):
            continue
        seqs = "; ".join(f"`{k}` x {v}" for k, v in r["fault_sequences"].items())
        lines.append(f"- {r['scenario']}: {seqs}")
    with open(os.path.join(OUT, "results.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    plot(results)


def plot(results):
    """faults.svg (and .png): faults per DMA-filled page, by device and policy, THP off and on."""
    if shutil.which("gnuplot") is None:
        stage("gnuplot not found: no faults.svg")
        return
    rows = {}
    for r in results:
        if r.get("vm_type"):
            continue
        key = f"{r['device']} {r['policy']}"
        rows.setdefault(key, {})["on" if r["thp"] == "always" else "off"] = r["faults_per_filled_page"] or 0
    dat = os.path.join(OUT, "faults.dat")
    with open(dat, "w") as f:
        for k, v in rows.items():
            f.write(f'"{k}" {v.get("off", "?")} {v.get("on", "?")}\n')
    for terminal, name in (('svg size 760,420 font "sans,12"', "faults.svg"), ("png size 760,420", "faults.png")):
        script = f"""set terminal {terminal}
set output "{os.path.join(OUT, name)}"
set datafile missing "?"
set title "KVM page faults per DMA-filled page-cache page"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set ylabel "faults per page"
set yrange [0:3.6]
set grid ytics
set key top right
plot "{dat}" using 2:xtic(1) title "host THP off", "" using 3 title "host THP on"
"""
        subprocess.run(["gnuplot"], input=script, text=True, check=False, capture_output=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mode", choices=["auto", "nested", "native"], default="auto",
                    help="where the scenarios run (tools/rig/mode.py): auto (natively where this host "
                         "can, the rest in an L1 under TCG), nested (all in the L1), native (all here; "
                         "what this host's KVM cannot run is skipped with the reason)")
    ap.add_argument("--only", metavar="NAMES", help="run only these scenarios (comma-separated)")
    ap.add_argument("--tap", action="store_true", help="print the assertions as TAP; exit 1 if one fails")
    ap.add_argument("--l1-kernel", default=os.environ.get("BOUNCE_L1_KERNEL"), metavar="VERSION",
                    help="the stock L1 kernel, e.g. 6.12.118+deb12-amd64 (default: the archive's newest; "
                         "a version the archive dropped is taken from the cache)")
    ap.add_argument("--l1-idle", choices=["halt", "poll"], default=os.environ.get("BOUNCE_L1_IDLE", "poll"),
                    help="how the L1's idle vCPU waits: poll (idle=poll, the default: it never halts; it "
                         "keeps a host CPU busy while idle) or halt (HLT)")
    args = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    stop_on_signals()
    try:
        return run_rig(args)
    except Stopped as e:
        fail(str(e))


def run_rig(args):
    for need in (os.path.join(BUILD, "bounce.elf"), os.path.join(BUILD, "disks", "data.img"),
                 os.path.join(BUILD, "disks", "scratch.img")):
        if not os.path.exists(need):
            fail(f"{need} is missing: run make first")

    facts = mode.host_facts(os.path.join(BUILD, "tools", "kvm-probe"))
    try:
        where, line = mode.plan(args.mode, facts)
    except ValueError as e:
        fail(str(e))
    stage(line)
    selected = select_scenarios(args.only)
    raw = os.path.join(OUT, "raw")
    shutil.rmtree(raw, ignore_errors=True)
    os.makedirs(raw)
    for old in glob.glob(os.path.join(OUT, "l1-console-*.log.*")):  # consoles of stuck boots of earlier runs
        os.remove(old)
    rc = 0
    kernels = {}
    native = [sc for sc in selected if where[sc[0]][0] == "native"]
    if native:
        rc = run_native(native, raw, facts.tracefs)
        kernels["host"] = {"release": os.uname().release, "origin": "this host's own kernel"}
    nested = [g for g in mode.GROUPS if where[g][0] == "nested" and any(sc[0] == g for sc in selected)]
    if nested:
        version, kdir, origin_of_stock = l1_kernel(args.l1_kernel)
        initramfs = l1_initramfs(version, kdir)
    for kernel in nested:
        group = [sc for sc in selected if sc[0] == kernel]
        if kernel == "stock":
            image = os.path.join(kdir, "boot", f"vmlinuz-{version}")
            origin = f"Debian package linux-image-{version}-unsigned, from the {origin_of_stock}"
        else:
            image, origin = sw_protected_kernel(), sw_protected_origin()
        kernels[kernel] = {"release": kernel_release(image), "origin": origin}
        stage(f"{kernel} L1 kernel: {kernels[kernel]['release']} ({origin})")
        if len(group) > RESULT_SLOTS:
            fail(f"{len(group)} {kernel} scenarios, but the results disk has {RESULT_SLOTS} slots")
        selftest = NATIVE_SELFTEST if kernel == "stock" and not args.only else ()
        _, group_rc = boot_l1(image, kernel, initramfs, group, l1_append(args.l1_idle), selftest)
        rc = rc or group_rc
    if rc != 0:
        stage(f"the scenario runner ended with {rc}; analyzing what there is")

    stage("analyzing the traces")
    results = []
    for _, name, *_ in selected:
        d = os.path.join(raw, name)
        if os.path.exists(os.path.join(d, "meta.txt")):
            try:
                results.append(analyze.analyze_dir(d))
            except (analyze.TraceFormatError, OSError, ValueError) as e:
                stage(f"{name}: cannot analyze its results: {e}")
                results.append({"scenario": name, "error": str(e)})
    # A group this host cannot run natively (--mode native) is skipped with its reason, not failed.
    skipped = [{"scenario": sc[1], "reason": where[sc[0]][1]} for sc in selected if where[sc[0]][0] == "skip"]
    ran = [sc[1] for sc in selected if where[sc[0]][0] != "skip"]
    if not ran:
        fail("no scenario could run: " + "; ".join(sorted({s["reason"] for s in skipped})))
    cs = checks.checks(results, ran)
    selftest = None
    if "stock" in nested and not args.only:
        selftest = read_selftest(os.path.join(raw, SELFTEST_DIR))
        cs += checks.native_selftest_checks(selftest, results)
    kept = keep_failed_scenarios(raw, cs, set(nested))
    write_results(results, line, kept, skipped, provenance(kernels, args.l1_idle if nested else None),
                  {"native_selftest": selftest} if selftest is not None or ("stock" in nested and not args.only) else {})
    stage(f"results: {os.path.join(OUT, 'results.md')}, results.json, faults.svg")
    print(open(os.path.join(OUT, "results.md")).read(), file=sys.stderr)

    failed = sum(not c.ok for c in cs)
    if args.tap:
        print("TAP version 13")
        print(f"1..{len(cs)}")
        for i, c in enumerate(cs, 1):
            print(f"{'ok' if c.ok else 'not ok'} {i} - {c.desc} ({c.detail})")
        print(f"{len(cs) - failed} passed, {failed} failed")
    return 1 if failed and args.tap else 0


def keep_failed_scenarios(raw, cs, nested_groups):
    """Each scenario with a failing check keeps its guest log, VMM/QEMU log, trace and meta (and,
    if its group ran in an L1, that L1's console) under build/kvm/failed/<RUN_ID>/<scenario>/.
    -> {scenario: folder}."""
    kernel_of = {name: kernel for kernel, name, *_ in SCENARIOS}
    kept = {}
    for name in sorted({n for c in cs if not c.ok for n in c.scenarios}):
        why = "".join(f"not ok - {c.desc} ({c.detail})\n" for c in cs if not c.ok and name in c.scenarios)
        sources = [os.path.join(raw, name)]
        if kernel_of.get(name) in nested_groups:
            sources.append(os.path.join(OUT, f"l1-console-{kernel_of.get(name)}.log"))
        kept[name] = os.path.relpath(keep_logs(name, sources, why), OUT)
        stage(f"{name}: failed; its logs are kept in {os.path.join(OUT, kept[name])}")
    return kept


if __name__ == "__main__":
    sys.exit(main())
