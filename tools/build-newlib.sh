#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Build newlib for the guest from Debian's newlib-source, once, into $1 (build/newlib).
#
# newlib's configure wants a cross toolchain named x86_64-elf-*; the host's gcc and binutils
# already emit x86-64 ELF, so symlinks with those names are all the "cross compiler" it needs.
# Flags match the kernel's: PIC (the UEFI image is a relocatable PE), no red zone (exception
# frames are pushed on the interrupted stack), no stack protector (no TLS canary in the guest),
# 2-byte wchar_t (UEFI's CHAR16).
set -euo pipefail
out=$(realpath -m "$1")
src_tar=$(ls /usr/src/newlib/newlib-*.tar.* 2>/dev/null | head -n1)
[ -n "$src_tar" ] || { echo "build-newlib: no /usr/src/newlib/newlib-*.tar.*: install newlib-source (make deps)" >&2; exit 1; }
# The configuration is part of the result: a different one (or another newlib tarball) rebuilds.
config_flags=(--disable-multilib --disable-newlib-supplied-syscalls --enable-newlib-nano-malloc --disable-nls
              --enable-newlib-io-c99-formats --enable-newlib-io-long-long)
cflags="-O2 -g -ffreestanding -fPIC -mno-red-zone -fno-stack-protector -fshort-wchar"
stamp="$(basename "$src_tar") ${config_flags[*]} $cflags"
if [ -f "$out/x86_64-elf/lib/libc.a" ] && [ "$(cat "$out/.config-stamp" 2>/dev/null)" = "$stamp" ]; then
    echo "newlib: up to date in $out"
    exit 0
fi
rm -rf "$out"

start=$SECONDS
stage() { printf '[newlib %3ds] %s\n' $((SECONDS - start)) "$*"; }
work="$out.work"
rm -rf "$work" && mkdir -p "$work/bin" "$work/src" "$work/obj"
for t in gcc ar as ld nm ranlib objcopy objdump readelf strip; do
    ln -s "$(command -v "$t")" "$work/bin/x86_64-elf-$t"
done
export PATH="$work/bin:$PATH"
stage "unpacking $src_tar"
tar -C "$work/src" -xf "$src_tar"
top=$(find "$work/src" -mindepth 1 -maxdepth 1 -type d | head -n1)
cd "$work/obj"
stage "configuring (log: $work/configure.log)"
"$top/configure" --target=x86_64-elf --prefix="$out" \
    "${config_flags[@]}" CFLAGS_FOR_TARGET="$cflags" \
    >"$work/configure.log" 2>&1 || { tail -n 30 "$work/configure.log"; exit 1; }
stage "compiling (log: $work/build.log)"
make -j"$(nproc)" all-target-newlib >"$work/build.log" 2>&1 || { tail -n 30 "$work/build.log"; exit 1; }
make install-target-newlib >>"$work/build.log" 2>&1 || { tail -n 30 "$work/build.log"; exit 1; }
rm -rf "$work"
echo "$stamp" > "$out/.config-stamp"
stage "done: $out/x86_64-elf/lib/libc.a"
