#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `make test`: every test of the project, each step's output saved as TAP under build/test-logs/,
# then one summary whose last line is "N passed, N failed". Steps keep going after a failure so
# the summary shows everything; the exit status is non-zero if anything failed.
set -uo pipefail
cd "$(dirname "$0")/.."
logs=build/test-logs
rm -rf "$logs" && mkdir -p "$logs"
steps="$logs/steps.tsv"
: >"$steps"
start=$SECONDS

# Every step runs under its own time limit (tools/test-steps.sh: step, stage).
# shellcheck source=tools/test-steps.sh
. tools/test-steps.sh

stage "build (guest images, host tools, host unit tests)"
if ! make -s all build-host-tests build-fuzz 2>&1 | tee "$logs/build.log"; then
    printf 'build\t%s\t1\t%s\n' "$logs/build.log" $((SECONDS - start)) >>"$steps"
    python3 tools/tap-summary.py "$steps" "$logs/summary.json" "$logs/junit.xml"
    exit 1
fi

# Includes point down the layers (tools/check-layers.py; the table is in the README); pages and
# slots are named, not written 4096 and 2048 (tools/check-units.py); the layout is .clang-format's
# and .editorconfig's, every source file names its licence (tools/format-check.py).
stage "source: the include graph between folders, named units, format and licence"
step "layout/test_check_layers" "$logs/layout-test-check-layers.tap" python3 tests/layout/test_check_layers.py
step "layout/layers" "$logs/layout-layers.tap" python3 tools/check-layers.py
step "layout/test_check_units" "$logs/layout-test-check-units.tap" python3 tests/layout/test_check_units.py
step "layout/units" "$logs/layout-units.tap" python3 tools/check-units.py
step "layout/test_format_check" "$logs/layout-test-format-check.tap" python3 tests/layout/test_format_check.py
step "layout/format" "$logs/layout-format.tap" python3 tools/format-check.py

stage "host unit tests (native, ASan + UBSan, cmocka)"
for t in build/host/test_*; do
    [ -x "$t" ] || continue
    n=$(basename "$t")
    step "host/$n" "$logs/host-$n.tap" env CMOCKA_MESSAGE_OUTPUT=TAP "$t"
done

stage "fuzzing (libFuzzer, fixed seed, bounded runs)"
for f in build/fuzz/fuzz_*; do
    [ -x "$f" ] || continue
    n=$(basename "$f")
    step "fuzz/$n" "$logs/fuzz-$n.tap" tools/fuzz-tap.sh "$f" 200000
done

# In-guest suites on every boot path. Timeouts are generous for TCG; a run takes a few seconds.
guest() {
    local name=$1
    shift
    stage "guest: $name"
    step "guest/$name" "$logs/guest-$name.tap" python3 tools/run --timeout 300 "$@"
}
guest pvh-q35 --boot pvh --machine q35 --memory 512M --cmdline "tests=all"
guest pvh-pc-6G --boot pvh --machine pc --memory 6G --cmdline "tests=all"
guest efi-q35 --boot efi --machine q35 --memory 512M --cmdline "tests=all"
guest efi-pc-6G --boot efi --machine pc --memory 6G --cmdline "tests=all"
# More than one CPU (issue 28): the application processors come up (the smp suite) and the other
# suites pass with them parked; x2APIC on one path, xAPIC on the other.
guest smp4-pvh-q35 --boot pvh --machine q35 --memory 512M --smp 4 --cmdline "tests=all"
guest smp4-efi-pc-xapic --boot efi --machine pc --memory 512M --smp 4 --cmdline "tests=all apic=xapic"
# Confidential mode under QEMU (docs/confidential.md): a normal VM, so the host does not service the
# conversions - the guest keeps its bookkeeping and its report says so.
guest confidential-qemu --boot pvh --machine q35 --memory 512M --cmdline "mode=confidential tests=cc,dma"

# The block matrix: {pc + IDE PIO, pc + IDE DMA, q35 + virtio-blk} x {zero, copy}, -m 6G so the
# page cache lives above 4 GiB and a 32-bit device must bounce every readahead page. Each run
# gets the read-only data disk and its own copy of the scratch disk, and requires both
# (require=): a disk that is missing, refused or not recognised fails the step.
# blk NAME MACHINE ide|virtio|vhost-user CMDLINE [DATA IMAGE] [virtio-blk-pci PROPERTIES]
blk() {
    local name=$1 machine=$2 driver=$3 cmdline=$4 data=${5:-build/disks/data.img}
    local scratch="$logs/scratch-$name.img"
    cp build/disks/scratch.img "$scratch"
    local disks=()
    case $driver in
    ide) disks=(--drive "file=$data,format=raw,if=ide,index=1,snapshot=on"
                --drive "file=$scratch,format=raw,if=ide,index=2") ;;
    virtio) disks=(--drive "if=none,id=data,file=$data,format=raw,readonly=on" --device "virtio-blk-pci,drive=data${6:-}"
                   --drive "if=none,id=scratch,file=$scratch,format=raw" --device "virtio-blk-pci,drive=scratch${6:-}") ;;
    # A second virtio-blk implementation: qemu-storage-daemon's vhost-user-blk export, a process
    # of its own that tools/run starts, waits for and stops (its device offers size_max 0).
    vhost-user) disks=(--vhost-user-blk "$data,readonly" --vhost-user-blk "$scratch") ;;
    esac
    stage "blk: $name"
    step "blk/$name" "$logs/blk-$name.tap" python3 tools/run --timeout 300 --boot pvh --machine "$machine" \
        --memory 6G --cmdline "tests=blk require=data,scratch $cmdline" "${disks[@]}"
    rm -f "$scratch"
}
for policy in zero copy; do
    blk "ide-pio-$policy" pc ide "ide=pio bounce_policy=$policy"
    blk "ide-dma-$policy" pc ide "ide=dma bounce_policy=$policy"
    blk "virtio-$policy" q35 virtio "bounce_policy=$policy"
done
blk vhost-user-blk q35 vhost-user ""
# Interrupt-driven completion (io=irq): IDE on ISA IRQs 14/15 through the I/O APIC (DMA: one
# interrupt per command; PIO: one per sector; an injected error retried from the handler),
# MSI-X on virtio-blk-pci; the blk suite checks that interrupts completed the requests and that
# none was lost.
blk ide-dma-irq pc ide "ide=dma io=irq"
blk ide-pio-irq pc ide "ide=pio io=irq"
blk ide-dma-eio-irq pc ide "ide=dma io=irq expect_eio=1000" "blkdebug:tests/blkdebug-eio.conf:build/disks/data.img"
blk virtio-irq q35 virtio "io=irq"
# Disks with 4096-byte logical blocks (virtio-blk blk_size): every request in whole blocks.
blk virtio-4k-blocks q35 virtio "" "" ",logical_block_size=4096,physical_block_size=4096"
# A bounce pool small enough to run out: requests wait for slots and still complete, data intact.
blk ide-dma-small-pool pc ide "ide=dma swiotlb=128K"
blk virtio-forced-bounce-small-pool q35 virtio "swiotlb=256K swiotlb_force" "" ",iommu_platform=on,disable-legacy=on"
# An injected read error (QEMU blkdebug): reported, no hang, later requests complete.
blk ide-dma-eio pc ide "ide=dma expect_eio=1000" "blkdebug:tests/blkdebug-eio.conf:build/disks/data.img"
# PIO: the drive delivers the sectors before the bad one, the page cache keeps them (checked).
blk ide-pio-eio pc ide "ide=pio expect_eio=1000" "blkdebug:tests/blkdebug-eio.conf:build/disks/data.img"
blk virtio-eio q35 virtio "expect_eio=1000" "blkdebug:tests/blkdebug-eio.conf:build/disks/data.img"
# Exact completion (issue 24): reads mapped with DMA_ATTR_EXACT_COMPLETION, every buffer bounced,
# completed with the length the device reports (nothing zeroed, checked); an injected error
# copies nothing back into the caller's buffer (checked).
blk ide-dma-exact pc ide "ide=dma dma_completion=exact"
blk ide-dma-exact-eio pc ide "ide=dma dma_completion=exact swiotlb_force expect_eio=1000" \
    "blkdebug:tests/blkdebug-eio.conf:build/disks/data.img"
blk virtio-exact q35 virtio "dma_completion=exact swiotlb_force" "" ",iommu_platform=on,disable-legacy=on"
blk virtio-exact-eio q35 virtio "dma_completion=exact swiotlb_force expect_eio=1000" \
    "blkdebug:tests/blkdebug-eio.conf:build/disks/data.img" ",iommu_platform=on,disable-legacy=on"
# The confidential VMM's device model under QEMU: virtio-blk over virtio-mmio (version 2) on the
# microvm machine (no PCI; no PIT at port 0x61), found from the command line, cc_io=convert;
# polled, and interrupt-driven through the second I/O APIC (microvm's transports 22 and 23 are
# on GSIs 46 and 47, level-triggered: QEMU's microvm puts them at GSI 24 + index).
mmio() {
    local name=$1 io=$2 mmio_scratch="$logs/scratch-$1.img"
    cp build/disks/scratch.img "$mmio_scratch"
    stage "blk: $name"
    step "blk/$name" "$logs/blk-$name.tap" python3 tools/run \
        --timeout 300 --boot pvh --machine microvm --memory 512M \
        --cmdline "mode=confidential cc_io=convert tests=blk,cc require=data,scratch io=$io virtio_mmio.device=512@0xfeb02e00:47 virtio_mmio.device=512@0xfeb02c00:46" \
        --qemu-arg=-global --qemu-arg=virtio-mmio.force-legacy=false \
        --drive "if=none,id=data,file=build/disks/data.img,format=raw,readonly=on" --device "virtio-blk-device,drive=data" \
        --drive "if=none,id=scratch,file=$mmio_scratch,format=raw" --device "virtio-blk-device,drive=scratch"
    rm -f "$mmio_scratch"
}
mmio virtio-mmio-confidential-convert poll
mmio virtio-mmio-confidential-convert-irq irq

# The KVM host rig: the guest on real KVM (an L1 host under TCG here), host-side observers, and
# what must hold about the faults each DMA policy causes. Its unit tests first.
stage "rig: analyzer and checks unit tests"
step "rig/test_analyze" "$logs/rig-test-analyze.tap" python3 tests/rig/test_analyze.py
step "rig/test_checks" "$logs/rig-test-checks.tap" python3 tests/rig/test_checks.py
step "rig/test_l1" "$logs/rig-test-l1.tap" python3 tests/rig/test_l1.py
step "rig/test_mode" "$logs/rig-test-mode.tap" python3 tests/rig/test_mode.py
step "rig/test_report" "$logs/rig-test-report.tap" python3 tests/rig/test_report.py
# The README's rig tables are generated (make kvm-report), never edited by hand.
step "rig/readme-tables" "$logs/rig-readme-tables.tap" python3 tools/rig/report.py docs/kvm-results.json --check README.md
# docs/bounce.md's policy table is generated too (make bench-report, make kvm-report).
step "docs/test_policy_table" "$logs/docs-test-policy-table.tap" python3 tests/docs/test_policy_table.py
step "docs/policy-table" "$logs/docs-policy-table.tap" python3 tools/docs/policy_table.py docs/kvm-results.json \
    docs/bench.json --check docs/bounce.md
stage "rig: the KVM host rig (make kvm-test)"
# Its limit covers a cold sw-protected kernel build (about 15 minutes) and the L1 runs; the rig's
# own deadline (tools/rig/rig.py, RIG_DEADLINE_S) comes first and names the stage it stopped in.
step --limit 2700 "kvm/rig" "$logs/kvm-rig.tap" python3 tools/rig/rig.py --tap

stage "runner and framework selftests (failing, faulting, panicking, hanging guests; missing disks)"
step "runner/selftests" "$logs/runner-selftests.tap" tests/runner/test-runner.sh
step "runner/steps" "$logs/runner-steps.tap" tests/runner/test-steps.sh
step "runner/tap-summary" "$logs/runner-tap-summary.tap" python3 tests/runner/test_tap_summary.py

stage "summary (total $((SECONDS - start)) s)"
python3 tools/tap-summary.py "$steps" "$logs/summary.json" "$logs/junit.xml"
