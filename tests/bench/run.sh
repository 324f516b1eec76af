#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# `make bench`: boots the reference kernel with the modules, the kernel's own
# netfilter modules and the stock iptables-legacy, and runs
# tests/guest/bench.sh (packets per second through a router namespace with
# no netfilter, ip_tables, the kernel's nf_conntrack and rnf_conntrack, for 1
# and 10,000 flows; memory per connection; pps with 10, 100 and 1,000
# rules that fail in their udp/tcp match before the matching one, the
# kernel's ip_tables then rnf_tables, and
# a side-by-side table of the two; the modules' footprint next to the
# kernel's; a perf profile of each configuration on x86_64). Prints the
# `bench:` lines, and writes the report to BENCH_OUT (default
# build/bench/ARCH): bench.csv (arch,measure,impl,x,pps), footprint.csv
# (arch,feature,side,module,bytes), profile.txt, and with gnuplot
# (installed by scripts/setup.sh) rules.svg (packets per second against
# the rule count) and flows.svg (against the flow count: no netfilter,
# conntrack and NAT), kernel and rnf side by side. KVARIANT picks the
# kernel (scripts/setup.sh --variant; `make bench` passes bench).
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
ARCH=${ARCH:-x86_64}
KVARIANT=${KVARIANT:-}
kdir=$(scripts/setup.sh --arch "$ARCH" ${KVARIANT:+--variant "$KVARIANT"} --kdir)
echo "bench: kernel $(basename "$kdir")"
moddir=${MODDIR:-build/$ARCH}
out=${BENCH_OUT:-build/bench/$ARCH}
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

case "$ARCH" in
    x86_64) kernel=$kdir/arch/x86/boot/bzImage ;;
    arm64) kernel=$kdir/arch/arm64/boot/Image ;;
esac
xt=$(dirname "$(readlink -f /usr/sbin/xtables-legacy-multi)")
case "$ARCH" in
    x86_64) extdir=/usr/lib/x86_64-linux-gnu/xtables; extsrc=$extdir ;;
    arm64)
        extdir=/usr/lib/aarch64-linux-gnu/xtables
        extsrc=$(scripts/setup.sh --arch arm64 --userland)/root$extdir
        ;;
esac
# The profile needs perf built for the guest: the host's (Debian's
# linux-perf) on x86_64; arm64 runs without a profile.
perf=()
if [ "$ARCH" = x86_64 ] && [ -x /usr/bin/perf ]; then
    perf=(-b /usr/bin/perf)
fi
scripts/vm/mkinitramfs.sh -a "$ARCH" -o "$work/initrd.cpio.gz" \
    -m "$moddir/rnf_conntrack.ko" -m "$moddir/rnf_nat.ko" -m "$moddir/rnf_tables.ko" \
    -m "$moddir/rnf_tables_nat.ko" -m "$moddir/rnf_tables_mangle.ko" \
    -m "$moddir/rnf_tables_raw.ko" \
    -f "$root/tests/guest:/tests" -f "$kdir/modroot/lib/modules:/lib/modules" \
    -f "$root/scripts/rnf-modload:/sbin/rnf-modload" \
    -b "$xt/xtables-legacy-multi" -f "$extsrc:$extdir" "${perf[@]}" >/dev/null
scripts/vm/run.sh -A "$ARCH" -k "$kernel" -i "$work/initrd.cpio.gz" -s /tests/bench.sh \
    -l "$work/console.log" -t 1200 | tr -d '\r' >"$work/out.txt" || true
grep -E '^bench:' "$work/out.txt"
tests/bench/report.sh "$ARCH" "$work/out.txt" "$out"
