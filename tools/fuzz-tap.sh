#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Run one libFuzzer target for a bounded number of runs from a fixed seed and report it as TAP.
# Usage: fuzz-tap.sh FUZZER RUNS
set -uo pipefail
fuzzer=$1 runs=$2
name=$(basename "$fuzzer")
log=$(mktemp)
trap 'rm -f "$log"' EXIT
echo "TAP version 13"
echo "1..1"
start=$SECONDS
artifacts=$(dirname "$fuzzer")/artifacts/
mkdir -p "$artifacts"
# -timeout: one input running longer than 10 s is a failure (a hang), not a slow test.
if "$fuzzer" -runs="$runs" -seed=1 -max_len=4096 -timeout=10 -artifact_prefix="$artifacts" >"$log" 2>&1; then
    echo "ok 1 - $name: $runs runs from seed 1, no crash, no sanitizer report ($((SECONDS - start)) s)"
    grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | sed 's/^/# /' || true
else
    echo "not ok 1 - $name crashed or a sanitizer fired; the report:"
    grep -vE '^#[0-9]+ ' "$log" | tail -n 40 | sed 's/^/#   /'
    exit 1
fi
