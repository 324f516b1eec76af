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
# kernel's; a profile of each configuration: the instructions CPU 0
# executes, counted by a QEMU plugin, or perf's samples, see
# BENCH_PROFILER). Prints the
# `bench:` lines, and writes the report to BENCH_OUT (default
# build/bench/ARCH): bench.csv (arch,measure,impl,x,pps), footprint.csv
# (arch,feature,side,module,bytes), profile.txt, and with gnuplot
# (installed by scripts/setup.sh) rules.svg (packets per second against
# the rule count) and flows.svg (against the flow count: no netfilter,
# conntrack and NAT), kernel and rnf side by side. KVARIANT picks the
# kernel (scripts/setup.sh --variant; `make bench` passes bench).
#
# By default (BENCH_ICOUNT=1) QEMU runs with `-icount shift=0`: the guest's clock is its
# instruction count (one instruction = 1 ns of guest time, whatever the
# host does), so every run of a configuration gives the same pps and pps
# ratios are instruction-count ratios, free of the host's noise. The guest
# then forwards more packets a run (BENCH_COUNT 1,000,000 and
# BENCH_RULES_COUNT 500,000: the guest clock's 4 ms steps stay below 0.2 %
# of the fastest run) and makes BENCH_RUNS=2 runs (the first of 10,000
# flows creates the connections; the second is the steady state), and skips
# the two-CPU measure (icount runs the vCPUs in turn on one host thread, so
# a second CPU adds nothing). The report says its figures are instruction
# counts. BENCH_ICOUNT=0 measures the guest's wall-clock time instead (5
# runs of 100,000 packets, the two-CPU measure included): what a host's
# load moves by up to 40 % here, but the only mode with time in it.
# BENCH_COUNT, BENCH_RULES_COUNT, BENCH_RUNS, BENCH_INSN_COUNT and
# BENCH_PROFILE_COUNT (the profiled runs' packets) set in the
# environment are passed to the guest either way. BENCH_BLOCKS=REGEX (with
# the plugin) also writes blocks.txt: every translation block of the
# functions whose mangled name matches REGEX, with its instructions per
# packet, by offset in the function (read it against `objdump -d`).
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
# The profile: BENCH_PROFILER=plugin (the default under icount, when it
# builds) counts
# every instruction CPU 0 executes in each profiled run, by function, with
# QEMU's TCG plugin tests/bench/insn_profile.c (built here against the header
# `scripts/setup.sh --qemu-plugin` fetches, into build/bench-plugin/) and
# tests/bench/insnprofile.py; exact, on both architectures, icount or not
# (without icount the plugin's callback on every translation block slows the
# guest down for the whole boot, and with it every pps figure).
# BENCH_PROFILER=perf
# (x86_64: the host's perf in the guest, the default with BENCH_ICOUNT=0,
# whose pps figures the plugin would slow, and when the plugin does not
# build) samples CPU 0's time instead; under emulation perf misses most
# of it (about 15 times too little busy time on x86_64), but it counts time,
# not instructions. BENCH_PROFILER=both runs both (perf's configurations
# named CONFIG/perf), to compare.
profiler=${BENCH_PROFILER:-}
plugin_so=$root/build/bench-plugin/insn_profile.so
build_plugin() {
    local inc
    inc=$(scripts/setup.sh --qemu-plugin) && [ -n "$inc" ] || return 1
    [ "$plugin_so" -nt tests/bench/insn_profile.c ] && [ "$plugin_so" -nt "$inc/qemu-plugin.h" ] &&
        return 0
    mkdir -p "$(dirname "$plugin_so")"
    cc -O2 -Wall -fPIC -shared -I"$inc" -o "$plugin_so" tests/bench/insn_profile.c -lpthread
}
icount=${BENCH_ICOUNT:-1}
if [ -z "$profiler" ]; then
    if [ "$icount" != 0 ] && build_plugin; then
        profiler=plugin
    elif [ "$ARCH" = x86_64 ] && [ -x /usr/bin/perf ]; then
        [ "$icount" = 0 ] || echo "bench: the QEMU plugin did not build: perf's profile instead"
        profiler=perf
    else
        echo "bench: no profile (the QEMU plugin did not build, or BENCH_ICOUNT=0 without perf)"
        profiler=none
    fi
fi
perf=() kargs=()
case "$profiler" in
    perf | both)
        [ "$ARCH" = x86_64 ] && [ -x /usr/bin/perf ] ||
            { echo "bench: BENCH_PROFILER=$profiler: no perf for the $ARCH guest" >&2; exit 2; }
        perf=(-b /usr/bin/perf)
        ;;
esac
case "$profiler" in
    plugin | both)
        build_plugin || { echo "bench: BENCH_PROFILER=$profiler: the QEMU plugin did not build" >&2; exit 2; }
        # The marker: a function only the guest's profile_insn calls.
        marker=$(awk '$3 == "drop_caches_sysctl_handler" { print $1 }' "$kdir/System.map")
        [ -n "$marker" ] || { echo "bench: no drop_caches_sysctl_handler in $kdir/System.map" >&2; exit 2; }
        case "$plugin_so/$work" in *[[:space:],]*) echo "bench: no spaces or commas in $plugin_so or $work" >&2; exit 2 ;; esac
        mkdir "$work/insn"
        export QEMU_EXTRA="${QEMU_EXTRA:+$QEMU_EXTRA }-plugin file=$plugin_so,marker=0x$marker,out=$work/insn/window"
        kargs+=("BENCH_PROFILER=$profiler")
        ;;
    perf | none) ;;
    *) echo "bench: BENCH_PROFILER=$profiler: plugin, perf or both" >&2; exit 2 ;;
esac
timeout=1200
case "$icount" in
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
for v in BENCH_COUNT BENCH_RULES_COUNT BENCH_RUNS BENCH_INSN_COUNT BENCH_PROFILE_COUNT; do
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
scripts/vm/run.sh -A "$ARCH" -k "$kernel" -i "$work/initrd.cpio.gz" \
    -s /tests/bench.sh -l "$work/console.log" -t "$timeout" "${run_args[@]}" |
    tr -d '\r' >"$work/out.txt" || true
if [ -d "$work/insn" ]; then
    blocks=()
    [ -z "${BENCH_BLOCKS:-}" ] || blocks=(--blocks "$BENCH_BLOCKS" --blocks-out "$work/blocks.txt")
    python3 tests/bench/insnprofile.py --log "$work/out.txt" --windows "$work/insn/window" \
        --system-map "$kdir/System.map" --modules "$moddir" --modules "$kdir/modroot/lib/modules" \
        --out "$work/insn.txt" "${blocks[@]}" 2>&1 | sed 's/^/bench: /'
    cat "$work/insn.txt" >>"$work/out.txt" 2>/dev/null || true
fi
grep -E '^bench:' "$work/out.txt"
tests/bench/report.sh "$ARCH" "$work/out.txt" "$out"
if [ -s "$work/blocks.txt" ]; then
    cp "$work/blocks.txt" "$out/blocks.txt"
    echo "bench: blocks of the functions matching BENCH_BLOCKS in $out/blocks.txt"
fi
