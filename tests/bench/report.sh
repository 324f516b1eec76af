#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The report of one `make bench` run, from the guest's output
# (tests/guest/bench.sh's `bench-data:`, `bench-size:` and `bench-profile:`
# lines):
#   OUT/bench.csv       arch,measure,impl,x,pps
#                       measure flows: x flows, impl none (no netfilter),
#                         iptables_nct (ip_tables, 1 rule, no conntrack),
#                         kernel (nf_conntrack), rnf (rnf_conntrack);
#                       measure nat: x flows, impl kernel (nf_nat) or rnf;
#                       measure rules: x non-matching rules before the
#                         match, impl kernel (ip_tables) or rnf (rnf_tables)
#   OUT/footprint.csv   arch,feature,side,module,bytes (/proc/modules sizes)
#   OUT/profile.txt     the profile of each configuration (perf, cpu-clock)
#   OUT/rules.svg, OUT/flows.svg   the plots (gnuplot)
# and prints the footprint per feature, kernel next to rnf.
#
# Usage: tests/bench/report.sh ARCH GUEST_OUTPUT OUT
set -euo pipefail

arch=$1 in=$2 out=$3
mkdir -p "$out"

echo "arch,measure,impl,x,pps" >"$out/bench.csv"
sed -n "s/^bench-data: /$arch,/p" "$in" >>"$out/bench.csv"
echo "arch,feature,side,module,bytes" >"$out/footprint.csv"
sed -n "s/^bench-size: /$arch,/p" "$in" >>"$out/footprint.csv"
sed -n 's/^bench-profile: //p' "$in" |
    awk -F, '{ if ($1 != c) { c = $1; printf "\n%s\n", c } sym = $0; sub(/^[^,]*,[^,]*,/, "", sym)
        printf "  %6s%%  %s\n", $2, sym }' >"$out/profile.txt"

# The footprint, per feature: the kernel's modules against rnf's.
awk -F, 'NR > 1 { b[$2 "," $3] += $5; m[$2 "," $3] = m[$2 "," $3] " " $4 }
    END {
        n = split("conntrack nat tables tables_nat tables_mangle tables_raw", f, " ")
        for (i = 1; i <= n; i++) {
            k = b[f[i] ",kernel"] + 0; r = b[f[i] ",rnf"] + 0; tk += k; tr += r
            printf "bench: footprint, %-13s kernel %7d bytes (%s), rnf %7d bytes\n", f[i], k, substr(m[f[i] ",kernel"], 2), r
        }
        printf "bench: footprint, all:          kernel %7d bytes, rnf %7d bytes, rnf/kernel %.2f\n", tk, tr, tk ? tr / tk : 0
    }' "$out/footprint.csv"

if ! command -v gnuplot >/dev/null 2>&1; then
    echo "bench: gnuplot missing (scripts/setup.sh installs it): no plots"
    exit 0
fi
# One data file per line of a plot: x and pps.
series() { # MEASURE IMPL
    awk -F, -v m="$1" -v i="$2" '$2 == m && $3 == i { print $4, $5 }' "$out/bench.csv" | sort -n
}
series rules kernel >"$out/.rules-kernel"
series rules rnf >"$out/.rules-rnf"
for i in none kernel rnf; do series flows "$i" >"$out/.flows-$i"; done
for i in kernel rnf; do series nat "$i" >"$out/.nat-$i"; done
gnuplot <<EOF
set terminal svg size 900,500 dynamic noenhanced background rgb 'white'
set grid
set yrange [0:*]
set key outside right
set ylabel "packets per second (64-byte UDP, forwarded)"
set format y "%.0s%c"
set logscale x 10
set style data linespoints

set output "$out/rules.svg"
set title "$arch: the rule walk, kernel ip_tables vs rnf_tables (both with conntrack)"
set xlabel "non-matching FORWARD rules before the match"
plot "$out/.rules-kernel" using 1:2 title "kernel ip_tables" lw 2 pt 7, \
     "$out/.rules-rnf" using 1:2 title "rnf_tables" lw 2 pt 5

set output "$out/flows.svg"
set title "$arch: connection tracking and NAT against the flow count"
set xlabel "flows (UDP source ports)"
set xrange [0.5:20000]
plot "$out/.flows-none" using 1:2 title "no netfilter" lw 2 pt 1 dt 3, \
     "$out/.flows-kernel" using 1:2 title "kernel nf_conntrack" lw 2 pt 7, \
     "$out/.flows-rnf" using 1:2 title "rnf_conntrack" lw 2 pt 5, \
     "$out/.nat-kernel" using 1:2 title "kernel nf_nat MASQUERADE" lw 2 pt 9, \
     "$out/.nat-rnf" using 1:2 title "rnf_nat MASQUERADE" lw 2 pt 11
EOF
rm -f "$out"/.rules-* "$out"/.flows-* "$out"/.nat-*
echo "bench: report in $out: bench.csv footprint.csv profile.txt rules.svg flows.svg"
