#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Build the rig's sw-protected L1 kernel from Debian's linux-source-6.12 with the config fragment
# tools/rig/kernel-sw-protected.config, and cache it OUTSIDE the clone, keyed by the source
# version and the fragment, so a fresh clone (CI) reuses it: ~/.cache/bounce/ (or $BOUNCE_CACHE).
# About 14 minutes on 2 cores the first time (849 s and 865 s measured on fresh machines), with a
# progress line a minute on stderr. Prints the path of the bzImage.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
frag=$here/kernel-sw-protected.config
cache=${BOUNCE_CACHE:-$HOME/.cache/bounce}
src_tar=$(ls /usr/src/linux-source-6.12.tar.* 2>/dev/null | head -n1 || true)
[ -n "$src_tar" ] || { echo "build-kernel: no /usr/src/linux-source-6.12.tar.*: install linux-source-6.12" >&2; exit 1; }
version=$(dpkg-query -W -f='${Version}' linux-source-6.12)
key=$(printf '%s\n' "$version" | cat - "$frag" | sha256sum | cut -c1-16)
out=$cache/kernel-sw-protected-$key
if [ -f "$out/bzImage" ]; then
    echo "$out/bzImage"
    exit 0
fi
start=$SECONDS
say() { printf '[kernel %4ds] %s\n' $((SECONDS - start)) "$*" >&2; }
mkdir -p "$cache"
work=$(mktemp -d "$cache/build.XXXXXX")
trap 'rm -rf "$work"' EXIT
say "unpacking $src_tar (linux-source $version)"
tar -C "$work" -xf "$src_tar"
src=$(find "$work" -mindepth 1 -maxdepth 1 -type d | head -n1)
say "configuring: defconfig + $(basename "$frag")"
make -C "$src" -s defconfig >/dev/null
"$src/scripts/kconfig/merge_config.sh" -m -O "$src" "$src/.config" "$frag" >/dev/null
make -C "$src" -s olddefconfig >/dev/null
for opt in KVM KVM_AMD KVM_SW_PROTECTED_VM; do
    grep -q "^CONFIG_$opt=y" "$src/.config" || { say "CONFIG_$opt did not stick"; exit 1; }
done
say "compiling bzImage with $(nproc) jobs (log: $work/build.log; 14 minutes measured on a fresh 2-core machine)"
make -C "$src" -j"$(nproc)" bzImage >"$work/build.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; rm -rf "$work"' EXIT
last=$SECONDS
while kill -0 "$pid" 2>/dev/null; do
    sleep 5
    if [ $((SECONDS - last)) -ge 60 ]; then # a line a minute: how far it is, so a long build is never silent
        last=$SECONDS
        say "compiling: $(grep -c '^  CC ' "$work/build.log") files compiled so far"
    fi
done
if ! wait "$pid"; then
    tail -n 30 "$work/build.log" >&2
    exit 1
fi
say "compiled $(grep -c '^  CC ' "$work/build.log") files"
mkdir -p "$out.tmp"
cp "$src/arch/x86/boot/bzImage" "$src/.config" "$out.tmp/"
mv "$out.tmp" "$out"
say "done: $out/bzImage"
echo "$out/bzImage"
