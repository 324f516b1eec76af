#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Host side of the loader's guest test: builds the bundle from the built
# modules (scripts/bundle.sh), boots the reference kernel with it at
# /bundle/ (scripts/vm/vm-test.sh -f) and runs tests/guest/loader.sh there,
# which unpacks it into / and drives rnf-modload under busybox ash.
#
# Usage: tests/loader/guest.sh [--ko-dir DIR] [-l CONSOLE_LOG]
#   --ko-dir DIR  the built .ko files (default: `make print-moddir` for ARCH)
#   -l LOG        keep the guest's console log in LOG
# Environment: ARCH (the guest's, as for vm-test.sh), RNF_GUEST_TIMEOUT
# (seconds, default 900).
#
# Prints the guest's "PASS: guest: loader: ..." / "FAIL: ..." lines (with the
# rest of the console), then one line for the run itself: the script's exit
# status, a hung guest (124) or a kernel log with an oops, BUG, WARNING or
# lockdep report (125) is a FAIL. Exits non-zero if anything failed.
set -uo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
ko_dir=''
log_args=()
while [ $# -gt 0 ]; do
    case $1 in
        --ko-dir) [ $# -ge 2 ] || { echo "guest.sh: --ko-dir needs a value" >&2; exit 2; }; ko_dir=$2; shift 2 ;;
        -l) [ $# -ge 2 ] || { echo "guest.sh: -l needs a value" >&2; exit 2; }; log_args=(-l "$2"); shift 2 ;;
        -h|--help) sed -n '3,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "guest.sh: unknown argument: $1" >&2; exit 2 ;;
    esac
done

fail() { echo "FAIL: loader-guest: $1: $2"; exit 1; }

if [ -z "$ko_dir" ]; then
    ko_dir=$(env -u MAKEFLAGS -u MAKELEVEL make -s --no-print-directory -C "$root" print-moddir 2>/dev/null) || ko_dir=''
    [ -n "$ko_dir" ] && compgen -G "$ko_dir/*.ko" >/dev/null || ko_dir=$root
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/rnf-loader-guest.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

if ! bundle=$("$root/scripts/bundle.sh" --ko-dir "$ko_dir" --out "$tmp" 2>"$tmp/bundle.err"); then
    fail "make the bundle" "scripts/bundle.sh --ko-dir $ko_dir: $(head -n 3 "$tmp/bundle.err" | tr '\n' ' ')"
fi
echo "guest.sh: $bundle"

# Every load of rnf_conntrack runs its KUnit suites: under emulation of
# arm64 the whole script takes about 4 minutes, so more than run.sh's
# default 300 s are allowed.
"$root/scripts/vm/vm-test.sh" loader.sh -f "$bundle:/bundle/$(basename "$bundle")" \
    -t "${RNF_GUEST_TIMEOUT:-900}" "${log_args[@]}"
rc=$?
case $rc in
    0) echo "PASS: loader-guest: loader.sh exited 0" ;;
    124) fail "loader.sh finished" "no exit marker: the guest hung or crashed" ;;
    125) fail "kernel log clean" "oops/BUG/WARNING/lockdep report in the guest's kernel log" ;;
    *) fail "loader.sh exited 0" "exit status $rc" ;;
esac
