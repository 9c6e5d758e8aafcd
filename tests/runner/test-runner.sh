#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Tests of the test machinery itself: guests that fail, fault, panic, crash or hang on purpose
# (tests/guest/suite_selftest.c) and bad command lines, each run through tools/run. Every case
# checks the runner's exit status and what the output says. Output: TAP.
set -uo pipefail
cd "$(dirname "$0")/../.."
out=$(mktemp)
trap 'rm -f "$out"' EXIT
n=0
failed=0
echo "TAP version 13"
echo "1..18"

# check DESCRIPTION EXPECTED_STATUS RUNNER_ARGS... -- PATTERN...
# Runs the guest, then requires the status and every pattern (grep -E) in the combined output.
check() {
    local desc=$1 want=$2 args=() pats=() why=""
    shift 2
    while [ $# -gt 0 ] && [ "$1" != "--" ]; do args+=("$1"); shift; done
    shift
    pats=("$@")
    n=$((n + 1))
    python3 tools/run "${args[@]}" >"$out" 2>&1
    local rc=$?
    [ "$rc" = "$want" ] || why="exit status $rc, expected $want"
    for p in "${pats[@]}"; do
        [ -n "$why" ] && break
        grep -Eq -- "$p" "$out" || why="output lacks /$p/"
    done
    if [ -z "$why" ]; then
        echo "ok $n - $desc"
    else
        failed=$((failed + 1))
        echo "not ok $n - $desc"
        echo "#   $why; the output ended with:"
        tail -n 12 "$out" | sed 's/^/#   | /'
    fi
}

pvh=(--boot pvh --machine q35 --memory 256M --timeout 60)
check "a failing test makes the run fail (exit 1) and is reported as not ok" 1 "${pvh[@]}" --cmdline "tests=selftest_fail" -- \
    '^not ok 2 - selftest_fail.fails_on_purpose' 'expected 1 \+ 1 == 3' '^2 passed, 1 failed$'
check "an unexpected #PF inside a test fails that test and the run goes on" 1 "${pvh[@]}" --cmdline "tests=selftest_fault" -- \
    'unexpected exception #PF page fault \(vector 14\).*CR2 0x7f0000000008' '^not ok 1 ' '^ok 2 ' '^1 passed, 1 failed$'
check "panic() ends the run with exit code 63 and a symbolized backtrace" 63 "${pvh[@]}" --cmdline "tests=selftest_panic" -- \
    'PANIC: deliberate panic' 'selftest_panic_inner' 'selftest_panic_outer' 'kmain\+0x' 'guest exit code 63 \(panic\)'
check "an exception outside any catch dumps registers and backtrace, exit 63" 63 "${pvh[@]}" --cmdline "tests=selftest_crash" -- \
    'EXCEPTION: #UD invalid opcode \(vector 6\)' 'RIP [0-9a-f]+ selftest_crash_here\+0x' 'CR2 [0-9a-f]+ +CR3' 'ktest_run\+0x'
check "a hanging guest is killed by the runner's timeout (exit 124) with its last output" 124 \
    --boot pvh --machine q35 --memory 256M --timeout 5 --cmdline "tests=selftest_hang" -- \
    'TIMEOUT: guest killed after 5 s' 'runner: \| # suite selftest_hang'
check "a CPU that never starts is named and left out, the boot goes on, the smp suite fails" 1 "${pvh[@]}" --smp 2 \
    --cmdline "tests=smp smp_phantom" -- "smp: CPU 2 \(APIC ID 2, smp_phantom\) did not come up within 2000 ms: left out" \
    "smp: 2 of 3 CPUs online" "not ok 1 - smp.every_listed_cpu_came_up" "^6 passed, 1 failed"
check "an unknown option stops the guest with exit code 2 and names it" 2 "${pvh[@]}" --cmdline "tests=boot frobnicate=1" -- \
    "bad command line: unknown option 'frobnicate=1'"
check "an unknown test suite is a bad command line" 2 "${pvh[@]}" --cmdline "tests=boot,nosuchsuite" -- \
    "bad item in 'tests=boot,nosuchsuite' \(choices: boot,smp,irq,mm"
check "a virtio-mmio window on the kernel image is refused, not read as a device" 0 "${pvh[@]}" \
    --cmdline "tests=boot virtio_mmio.device=512@0x100000:5" -- \
    'virtio-mmio: mmio 0x100000: the window \[0x100000, \+0x200\) lies on memory in the boot map' '^13 passed, 0 failed$'
check "a malformed size is a bad command line" 2 "${pvh[@]}" --cmdline "heap=12Q" -- \
    "malformed number in 'heap=12Q'"
check "'help' lists the options and exits 0" 0 "${pvh[@]}" --cmdline "help" -- \
    '^  tests +in-guest test suites' '^  test suites: boot smp irq mm'
check "the UEFI path reads its command line from cmdline.txt on the ESP" 1 \
    --boot efi --machine q35 --memory 256M --timeout 120 --cmdline "tests=selftest_fail" -- \
    'command line "tests=selftest_fail" \(from .cmdline.txt' '^2 passed, 1 failed$'

# The clock: a wrong TSC frequency is caught by the boot suite's check against the PM timer.
check "a wrong TSC frequency (tsc_khz=) fails the boot suite against the ACPI PM timer" 1 "${pvh[@]}" \
    --cmdline "tests=boot tsc_khz=1000000" -- \
    'TSC 1000000 kHz \(from tsc_khz=\), but [0-9]+ kHz \+-[0-9]+ ppm measured against the ACPI PM timer' \
    '^not ok [0-9]+ - boot.tsc_agrees_with_an_independent_clock'
# A step that attaches its disks cannot pass without them (require=), and says which and why.
check "a required disk that is not attached fails the suite, naming it" 1 "${pvh[@]}" --cmdline "tests=blk require=data" -- \
    'the data disk is required \(require=\) and missing: not attached' '^not ok 1 - blk.disks_found'
check "a required disk the driver refuses fails the suite with the driver's reason" 1 "${pvh[@]}" \
    --cmdline "tests=blk require=data" --drive "if=none,id=d,file=build/disks/data.img,format=raw,readonly=on" \
    --device "virtio-blk-pci,drive=d,logical_block_size=8192,physical_block_size=8192" -- \
    'virtio-blk: pci [0-9a-f:.]+ 1af4:1001: logical block size 8192 is larger than a page.* - refused' \
    'missing: refused by a driver: virtio-blk pci .*logical block size 8192'
check "a required disk whose contents are not recognised fails the suite, saying what sector 0 holds" 1 "${pvh[@]}" \
    --cmdline "tests=blk require=data" --drive "if=none,id=d,file=build/disks/scratch.img,format=raw,readonly=on" \
    --device "virtio-blk-pci,drive=d" -- 'missing: not recognised: vda \('
check "without require= a missing disk skips with its true reason" 77 "${pvh[@]}" --cmdline "tests=blk" -- \
    '^ok 2 - blk.sequential_read_whole_disk # SKIP no data disk: not attached'
flush_scratch=$(mktemp)
cp build/disks/scratch.img "$flush_scratch"
check "a virtio-blk flush that fails is logged by the driver and fails the write case" 1 "${pvh[@]}" --cmdline "tests=blk" \
    --drive "if=none,id=d,file=blkdebug:tests/blkdebug-flush-eio.conf:$flush_scratch,format=raw" --device "virtio-blk-pci,drive=d" -- \
    'virtio-blk: vda: flush failed: status 1 \(I/O error\): written data may not be on stable storage' \
    '^not ok 7 - blk.scratch_write_and_read_back'
rm -f "$flush_scratch"
# The vhost-user-blk backend is a process of its own: a guest killed by the timeout takes it along.
n=$((n + 1))
python3 tools/run --boot pvh --memory 256M --timeout 5 --cmdline "tests=selftest_hang" \
    --vhost-user-blk build/disks/data.img,readonly >"$out" 2>&1
rc=$?
if [ "$rc" = 124 ] && grep -q 'runner: storage daemon: qemu-storage-daemon' "$out" && \
   ! pgrep -f "qemu-storage-daemon.*filename=build/disks/data.img" >/dev/null; then
    echo "ok $n - a timed-out run with --vhost-user-blk leaves no qemu-storage-daemon behind"
else
    failed=$((failed + 1))
    echo "not ok $n - a timed-out run with --vhost-user-blk leaves no qemu-storage-daemon behind"
    echo "#   exit status $rc; daemons: $(pgrep -af qemu-storage-daemon | tr '\n' ' ')"
fi

echo "$((n - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
