#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Install what bounce needs from Debian's archive, if it is missing. Called by `make run` and
# `make test`; safe to run again (it only checks when nothing is missing).
#
# On Debian 12 as root it installs with apt-get; anywhere else it prints what to install.
# QEMU comes from bookworm-backports (10.0: the KVM host rig was measured with it).
set -euo pipefail

missing=()     # packages from the main archive
missing_bpo=() # packages from bookworm-backports
have() { command -v "$1" >/dev/null 2>&1; }
need_cmd() { have "$1" || missing+=("$2"); }
need_file() { compgen -G "$1" >/dev/null || missing+=("$2"); }

need_cmd gcc gcc
need_cmd ld binutils
need_cmd make make
need_cmd python3 python3
need_cmd mcopy mtools
need_cmd mkfs.vfat dosfstools
need_file /usr/lib/crt0-efi-x86_64.o gnu-efi
need_file /usr/share/OVMF/OVMF_CODE_4M.fd ovmf
need_file '/usr/src/newlib/newlib-*.tar.*' newlib-source
need_file /usr/include/cmocka.h libcmocka-dev
need_cmd clang clang                                  # libFuzzer targets
need_cmd clang-format clang-format                    # make format-check (the .clang-format style)
need_file '/usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a' libclang-rt-dev
# The KVM host rig (tools/rig): an L1 host built from Debian packages.
need_file /bin/busybox busybox-static
need_cmd cpio cpio
need_cmd xz xz-utils
need_cmd gnuplot gnuplot-nox
# Its second L1 kernel (KVM_SW_PROTECTED_VM), built from Debian's kernel source.
need_file '/usr/src/linux-source-6.12.tar.*' linux-source-6.12
need_cmd bc bc
need_cmd bison bison
need_cmd flex flex
need_file /usr/include/libelf.h libelf-dev
need_file /usr/include/openssl/ssl.h libssl-dev
if ! have qemu-system-x86_64; then
    missing_bpo+=(qemu-system-x86)
fi
# qemu-storage-daemon: a second virtio-blk backend (vhost-user-blk) for the blk tests.
have qemu-storage-daemon || missing_bpo+=(qemu-utils)

[ ${#missing[@]} -eq 0 ] && [ ${#missing_bpo[@]} -eq 0 ] && exit 0

echo "deps: missing: ${missing[*]} ${missing_bpo[*]}"
if ! have apt-get || ! grep -q 'bookworm' /etc/os-release 2>/dev/null; then
    echo "deps: not Debian 12 - install the equivalents of: ${missing[*]} ${missing_bpo[*]}" >&2
    echo "deps: (QEMU >= 7.2 with qemu-system-x86_64, OVMF, GNU-EFI 3.0.x, newlib 3.x sources, cmocka)" >&2
    exit 1
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
    if have sudo && sudo -n true 2>/dev/null; then
        sudo="sudo"
    else
        echo "deps: run as root (or with passwordless sudo): apt-get install ${missing[*]}" \
             "&& apt-get install -t bookworm-backports ${missing_bpo[*]}" >&2
        exit 1
    fi
fi

start=$SECONDS
if [ ${#missing_bpo[@]} -gt 0 ] && ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    # Same mirror and key as the main bookworm entry, suite bookworm-backports.
    uri=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
    key=$(awk '/^Signed-By:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
    echo "deps: adding bookworm-backports (${uri:-http://deb.debian.org/debian})"
    printf 'Types: deb\nURIs: %s\nSuites: bookworm-backports\nComponents: main\nSigned-By: %s\n' \
        "${uri:-http://deb.debian.org/debian}" "${key:-/usr/share/keyrings/debian-archive-keyring.gpg}" |
        $sudo tee /etc/apt/sources.list.d/bookworm-backports.sources >/dev/null
fi
echo "deps: apt-get update"
$sudo apt-get update -qq
export DEBIAN_FRONTEND=noninteractive
if [ ${#missing[@]} -gt 0 ]; then
    echo "deps: installing ${missing[*]}"
    $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if [ ${#missing_bpo[@]} -gt 0 ]; then
    echo "deps: installing ${missing_bpo[*]} from bookworm-backports"
    $sudo apt-get install -y -qq -t bookworm-backports "${missing_bpo[@]}" >/dev/null
fi
echo "deps: done in $((SECONDS - start)) s"
