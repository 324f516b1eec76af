#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Runs one guest test script in a fresh QEMU guest of ARCH and exits with its
# status (or run.sh's 124/125, see there). Backs `make vm-run SCRIPT=...`.
#
# Usage:
#   scripts/vm/vm-test.sh SCRIPT [-m MODULE.ko]... [-f SRC:DST]... [-t TIMEOUT]
#                         [-l LOG] [-a EXTRA_KERNEL_ARGS] [-A ARCH]
#
# ARCH: x86_64 or arm64 (default: $ARCH, else x86_64); the modules must be
# built for it (make ARCH=... puts them in build/ARCH/). KVARIANT (from the
# environment): boot that variant of the reference kernel
# (scripts/kernel/KVARIANT.config, e.g. debug for `make check-debug`); the
# modules must then come from build/ARCH-KVARIANT/.
#
# SCRIPT is a file in tests/guest/ (`smoke.sh` or `tests/guest/smoke.sh`), or
# any other file, which is then copied in as /tests/local/<name>.
#
# The guest gets: tests/guest/ at /tests, scripts/rnf-modload at
# /sbin/rnf-modload (when it exists), every -m module in /lib/rnf/, and the
# reference kernel's own modules (KDIR/modroot/lib/modules) at /lib/modules,
# the stock iptables of Debian's `iptables` package for ARCH
# (xtables-legacy-multi with its libraries, its extensions in
# /usr/lib/<triplet>/xtables, and the names iptables-legacy,
# iptables-legacy-save, iptables-legacy-restore and the ip6tables ones in
# /usr/sbin), and each -f SRC (a file or directory) at DST (as
# mkinitramfs.sh -f).
# The kernel is the one scripts/setup.sh --arch ARCH built; run that first.
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
vm=$root/scripts/vm

die() { echo "vm-test: $*" >&2; exit 2; }

script=
modules=()
user_files=()
run_args=()
arch=${ARCH:-x86_64}
while [ $# -gt 0 ]; do
    case "$1" in
        -m) [ $# -ge 2 ] || die "-m needs a module"; modules+=("$2"); shift 2 ;;
        -f) [ $# -ge 2 ] || die "-f needs SRC:DST"; user_files+=(-f "$2"); shift 2 ;;
        -t|-l|-a) [ $# -ge 2 ] || die "$1 needs a value"; run_args+=("$1" "$2"); shift 2 ;;
        -A|--arch) [ $# -ge 2 ] || die "$1 needs an ARCH"; arch=$2; shift 2 ;;
        -h|--help) sed -n '3,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        -*) die "unknown option $1" ;;
        *) [ -z "$script" ] || die "more than one SCRIPT: $script $1"; script=$1; shift ;;
    esac
done
[ -n "$script" ] || die "usage: vm-test.sh SCRIPT [-m MODULE.ko]... (see -h)"

kdir=$("$root/scripts/setup.sh" --arch "$arch" ${KVARIANT:+--variant "$KVARIANT"} --kdir)
case "$arch" in
    x86_64) kernel=$kdir/arch/x86/boot/bzImage ;;
    arm64) kernel=$kdir/arch/arm64/boot/Image ;;
    *) die "unsupported ARCH $arch (x86_64 or arm64)" ;;
esac
if [ ! -f "$kdir/.rnf-complete" ] || [ ! -f "$kernel" ]; then
    die "no reference kernel in $kdir: run scripts/setup.sh --arch $arch first"
fi

# Where the script is in the guest.
extra_files=()
if [ -f "$root/tests/guest/$script" ]; then
    guest_script=/tests/$script
elif [ -f "$script" ]; then
    path=$(cd "$(dirname "$script")" && pwd)/$(basename "$script")
    case "$path" in
        "$root"/tests/guest/*) guest_script=/tests/${path#"$root"/tests/guest/} ;;
        *) guest_script=/tests/local/$(basename "$path"); extra_files+=(-f "$path:$guest_script") ;;
    esac
else
    die "no such script: $script (looked in tests/guest/ too)"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/rnf-vm-test.XXXXXX")
trap 'rm -rf "$work"' EXIT

initramfs_args=(-o "$work/initrd.cpio.gz" -a "$arch" -f "$root/tests/guest:/tests"
    -f "$kdir/modroot/lib/modules:/lib/modules"
    -f "$root/modules-load.d:/etc/modules-load.d" "${extra_files[@]}" "${user_files[@]}")
[ -f "$root/scripts/rnf-modload" ] && initramfs_args+=(-f "$root/scripts/rnf-modload:/sbin/rnf-modload")
# The stock iptables-legacy: one multi-call binary that acts on the name it
# is called by, and its extensions (loaded with dlopen, so ldd does not see
# them; they need only libxtables and libc, which the binary brings).
case "$arch" in
    x86_64) xt_ext=/usr/lib/x86_64-linux-gnu/xtables; xt_ext_src=$xt_ext ;;
    arm64)
        xt_ext=/usr/lib/aarch64-linux-gnu/xtables
        xt_ext_src=$("$root/scripts/setup.sh" --arch arm64 --userland)/root$xt_ext
        ;;
esac
if [ -d "$xt_ext_src" ]; then
    mkdir -p "$work/sbin"
    for name in iptables-legacy iptables-legacy-save iptables-legacy-restore \
        ip6tables-legacy ip6tables-legacy-save ip6tables-legacy-restore; do
        ln -s /usr/bin/xtables-legacy-multi "$work/sbin/$name"
    done
    initramfs_args+=(-b /usr/sbin/xtables-legacy-multi -f "$xt_ext_src:$xt_ext" -f "$work/sbin:/usr/sbin")
fi
for mod in "${modules[@]}"; do
    initramfs_args+=(-m "$mod")
done
# mkinitramfs.sh builds the tools (scripts/vm/build-tools.sh) and adds them.
"$vm/mkinitramfs.sh" "${initramfs_args[@]}"

status=0
"$vm/run.sh" -A "$arch" -k "$kernel" -i "$work/initrd.cpio.gz" -s "$guest_script" "${run_args[@]}" || status=$?
exit "$status"
