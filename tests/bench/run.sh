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
# kernel's; a profile of each configuration: perf's in the guest on x86_64,
# else PC samples through QEMU's gdbstub, see BENCH_SAMPLER). Prints the
# `bench:` lines, and writes the report to BENCH_OUT (default
# build/bench/ARCH): bench.csv (arch,measure,impl,x,pps), footprint.csv
# (arch,feature,side,module,bytes), profile.txt, and with gnuplot
# (installed by scripts/setup.sh) rules.svg (packets per second against
# the rule count) and flows.svg (against the flow count: no netfilter,
# conntrack and NAT), kernel and rnf side by side. KVARIANT picks the
# kernel (scripts/setup.sh --variant; `make bench` passes bench).
#
# BENCH_ICOUNT=1 runs QEMU with `-icount shift=0`: the guest's clock is its
# instruction count (one instruction = 1 ns of guest time, whatever the
# host does), so every run of a configuration gives the same pps and pps
# ratios are instruction-count ratios, free of the host's noise. The guest
# then forwards more packets a run (BENCH_COUNT 1,000,000 and
# BENCH_RULES_COUNT 500,000: the guest clock's 4 ms steps stay below 0.2 %
# of the fastest run) and makes BENCH_RUNS=2 runs (the first of 10,000
# flows creates the connections; the second is the steady state), and skips
# the two-CPU measure (icount runs the vCPUs in turn on one host thread, so
# a second CPU adds nothing). The report says its figures are instruction
# counts. BENCH_COUNT, BENCH_RULES_COUNT and BENCH_RUNS set in the
# environment are passed to the guest either way.
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
sampler_pid=
trap '[ -z "$sampler_pid" ] || kill "$sampler_pid" 2>/dev/null; rm -rf "$work"' EXIT

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
# The profile: perf in the guest needs perf built for it, the host's
# (Debian's linux-perf) on x86_64; without it (arm64) the host samples the
# guest's PC through QEMU's gdbstub (tests/bench/pcsample.py).
# BENCH_SAMPLER=gdb takes the gdbstub's profile on x86_64 too, and
# BENCH_SAMPLER=both both in one boot (the gdbstub's configurations named
# CONFIG/gdb), to compare the two; BENCH_SAMPLER_RAW=FILE keeps every
# sampled PC (pcsample.py --raw).
sampler=${BENCH_SAMPLER:-}
if [ -z "$sampler" ]; then
    if [ "$ARCH" = x86_64 ] && [ -x /usr/bin/perf ]; then sampler=perf; else sampler=gdb; fi
fi
perf=() qemu_env=() kargs=() suffix=()
case "$sampler" in
    perf | both)
        [ "$ARCH" = x86_64 ] && [ -x /usr/bin/perf ] ||
            { echo "bench: BENCH_SAMPLER=$sampler: no perf for the $ARCH guest" >&2; exit 2; }
        perf=(-b /usr/bin/perf)
        ;;
esac
case "$sampler" in
    gdb | both)
        qemu_env=("QEMU_GDB_SOCKET=$work/gdb.sock")
        kargs+=("BENCH_SAMPLER=$sampler")
        [ "$sampler" = both ] && suffix=(--suffix /gdb)
        ;;
    perf) ;;
    *) echo "bench: BENCH_SAMPLER=$sampler: perf, gdb or both" >&2; exit 2 ;;
esac
timeout=1200
case "${BENCH_ICOUNT:-0}" in
    0 | "") ;;
    *)
        export QEMU_EXTRA="${QEMU_EXTRA:+$QEMU_EXTRA }-icount shift=0"
        : "${BENCH_COUNT:=1000000}" "${BENCH_RULES_COUNT:=500000}" "${BENCH_RUNS:=2}"
        kargs+=(BENCH_ICOUNT=1)
        # About 4 times the packets of a default run, whose guest time is
        # about its host time.
        timeout=2400
        echo "bench: icount (QEMU -icount shift=0): pps = 10^9 / guest instructions per packet"
        ;;
esac
for v in BENCH_COUNT BENCH_RULES_COUNT BENCH_RUNS; do
    [ -z "${!v:-}" ] || kargs+=("$v=${!v}")
done
run_args=()
[ ${#kargs[@]} -eq 0 ] || run_args=(-a "${kargs[*]}")
scripts/vm/mkinitramfs.sh -a "$ARCH" -o "$work/initrd.cpio.gz" \
    -m "$moddir/rnf_conntrack.ko" -m "$moddir/rnf_nat.ko" -m "$moddir/rnf_tables.ko" \
    -m "$moddir/rnf_tables_nat.ko" -m "$moddir/rnf_tables_mangle.ko" \
    -m "$moddir/rnf_tables_raw.ko" \
    -f "$root/tests/guest:/tests" -f "$kdir/modroot/lib/modules:/lib/modules" \
    -f "$root/scripts/rnf-modload:/sbin/rnf-modload" \
    -b "$xt/xtables-legacy-multi" -f "$extsrc:$extdir" "${perf[@]}" >/dev/null
if [ ${#qemu_env[@]} -gt 0 ]; then
    python3 tests/bench/pcsample.py --arch "$ARCH" --socket "$work/gdb.sock" \
        --log "$work/console.log" --system-map "$kdir/System.map" \
        --modules "$moddir" --modules "$kdir/modroot/lib/modules" \
        --out "$work/sampled.txt" "${suffix[@]}" ${BENCH_SAMPLER_RAW:+--raw "$BENCH_SAMPLER_RAW"} \
        2>"$work/pcsample.log" &
    sampler_pid=$!
fi
env "${qemu_env[@]}" scripts/vm/run.sh -A "$ARCH" -k "$kernel" -i "$work/initrd.cpio.gz" \
    -s /tests/bench.sh -l "$work/console.log" -t "$timeout" "${run_args[@]}" |
    tr -d '\r' >"$work/out.txt" || true
if [ -n "${sampler_pid:-}" ]; then
    # It ends at the guest's exit marker or when QEMU closes the socket;
    # after a crash without either, it is ended (what it has written stays).
    for _ in $(seq 50); do kill -0 "$sampler_pid" 2>/dev/null || break; sleep 0.1; done
    kill "$sampler_pid" 2>/dev/null || true
    wait "$sampler_pid" 2>/dev/null || true
    sampler_pid=
    sed 's/^/bench: /' "$work/pcsample.log"
    cat "$work/sampled.txt" >>"$work/out.txt" 2>/dev/null || true
fi
grep -E '^bench:' "$work/out.txt"
tests/bench/report.sh "$ARCH" "$work/out.txt" "$out"
