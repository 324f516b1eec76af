#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The report of one `make bench` run, from the guest's output
# (tests/guest/bench.sh's `bench-data:`, `bench-size:` and `bench-profile:`
# lines; the last, for the plugin's profile, from tests/bench/insnprofile.py):
#   OUT/bench.csv       arch,measure,impl,x,pps
#                       measure flows: x flows, impl none (no netfilter),
#                         iptables_nct (ip_tables, 1 rule, no conntrack),
#                         kernel_alone (nf_conntrack, enable_hooks=1, no
#                         rule), kernel (nf_conntrack with the rule that
#                         turns its hooks on), rnf (rnf_conntrack);
#                       measure nat: x flows, impl kernel (nf_nat) or rnf;
#                       measure rules: x non-matching rules before the
#                         match, impl kernel (ip_tables) or rnf (rnf_tables)
#   OUT/footprint.csv   arch,feature,side,module,bytes (/proc/modules sizes)
#   OUT/profile.txt     the profile of each configuration on CPU 0 (the
#                       instructions QEMU's plugin counted, or perf's
#                       cpu-clock samples in the guest, as each configuration's
#                       heading says): instructions or ns per packet by symbol
#                       and by category
#   OUT/rules.svg, OUT/flows.svg   the plots (gnuplot)
# and prints the footprint per feature, kernel next to rnf, and (from the
# profile) what a packet that opens a masqueraded connection costs on each
# side. Under icount
# (the guest's `bench-mode: icount`, BENCH_ICOUNT=1) bench.csv starts with a
# `#` line, and profile.txt and the plots say so: the figures are then
# instruction counts (pps = 10^9 / guest instructions per packet).
#
# Usage: tests/bench/report.sh ARCH GUEST_OUTPUT OUT
set -euo pipefail

arch=$1 in=$2 out=$3
mkdir -p "$out"

icount=
grep -q '^bench-mode: icount' "$in" && icount=1
note="# icount (QEMU -icount shift=0): guest time = its instruction count, 1 ns each; pps = 10^9 / guest instructions per packet; no two-CPU measure"
if [ -n "$icount" ]; then
    echo "$note" >"$out/bench.csv"
    echo "bench: icount: the pps figures are instruction counts (10^9 / guest instructions per packet)"
else
    : >"$out/bench.csv"
fi
echo "arch,measure,impl,x,pps" >>"$out/bench.csv"
sed -n "s/^bench-data: /$arch,/p" "$in" >>"$out/bench.csv"
echo "arch,feature,side,module,bytes" >"$out/footprint.csv"
sed -n "s/^bench-size: /$arch,/p" "$in" >>"$out/footprint.csv"
# The profile: Rust symbols demangled (rustfilt, from crates.io, installed
# on first use) and shortened to their last two path segments; each
# symbol's samples as nanoseconds per packet (samples x period / packets),
# or, for the plugin's counts (a total line whose fifth field says insn),
# instructions per packet; then per configuration the categories the
# README's breakdown uses.
if ! command -v rustfilt >/dev/null 2>&1; then
    echo "report.sh: installing rustfilt from crates.io" >&2
    cargo install --quiet --locked rustfilt >&2 || true
fi
demangle() { if command -v rustfilt >/dev/null 2>&1; then rustfilt; else cat; fi; }
# (No profile lines, e.g. when the sampler failed: an empty profile.)
{ grep -E '^bench-profile(-total|-sampler)?: ' "$in" || true; } | demangle |
    awk -v note="${icount:+$note}" '
    # "<a::T<U> as b::Hook>::run" -> "T::run": generic arguments dropped,
    # a trait impl named by its type, the last two path segments kept.
    function short(s,   n, a, tn) {
        sub(/^\[k\] /, "", s)
        while (match(s, /[A-Za-z0-9_:]<[^<>]*>/))
            s = substr(s, 1, RSTART) substr(s, RSTART + RLENGTH)
        while (match(s, /<[^<>]* as [^<>]*>/)) {
            tn = substr(s, RSTART + 1, RLENGTH - 2); sub(/ as .*/, "", tn)
            s = substr(s, 1, RSTART - 1) tn substr(s, RSTART + RLENGTH)
        }
        gsub(/[<>]/, "", s); sub(/::$/, "", s)
        n = split(s, a, "::")
        return n >= 2 ? a[n - 1] "::" a[n] : s
    }
    function category(s) {
        if (s ~ /default_idle|cpu_do_idle|arch_cpu_idle|pktgen|swait|finish_task_switch|schedule|^\[user\]$/) return "idle/pktgen"
        if (s ~ /packet::parse|classify|nf_ct_get_tuple|get_l4proto|ipv[46]_get_l4proto|skb_header_pointer/) return "parse"
        if (s ~ /ConnTable.*find|nf_conntrack_find|__nf_conntrack_find_get|hash_conntrack|jhash|siphash|nf_ct_tuple_equal|related/) return "lookup"
        if (s ~ /spin_lock|spin_unlock|rnf_spin|bh_enable|bh_disable|lock_slowpath|rcu_read/) return "lock"
        if (s ~ /memcpy|memset|memmove|copy_/) return "copy"
        if (s ~ /evaluate|ipt_do_table|ip6t_do_table|_mt$|_mt6$|classif|Facts|rule::|xt::/) return "walk"
        if (s ~ /nat|manip|masquerade|NAT/) return "nat"
        if (s ~ /rnf_conntrack|nf_conntrack|nf_ct_|__nf_ct|confirm|TrackHook|ConfirmHook|tcp_packet|udp_packet|conntrack::/) return "conntrack (rest)"
        if (s ~ /rnf_tables|nf_hook|NF_HOOK|iptable|hook/) return "hooks"
        return "stack"
    }
    /^bench-profile-total: / {
        sub(/^bench-profile-total: /, ""); split($0, t, ",")
        total[t[1]] = t[2]; pk[t[1]] = t[3]; per[t[1]] = t[4]; unit[t[1]] = t[5]; next
    }
    /^bench-profile-sampler: / {
        sub(/^bench-profile-sampler: /, ""); c = $0; sub(/,.*/, "", c)
        d = $0; sub(/^[^,]*,/, "", d); how[c] = d; next
    }
    {
        sub(/^bench-profile: /, ""); c = $0; sub(/,.*/, "", c)
        rest = $0; sub(/^[^,]*,/, "", rest); n = rest; sub(/,.*/, "", n)
        sym = rest; sub(/^[^,]*,/, "", sym)
        cfg[++nl] = c; cnt[nl] = n; name[nl] = short(sym); cat[nl] = category(sym)
        if (!(c in seen)) { seen[c] = 1; order[++nc] = c }
    }
    END {
        if (note != "") printf "%s\n", note
        for (k = 1; k <= nc; k++) {
            c = order[k]; f = (pk[c] > 0) ? per[c] / pk[c] : 0
            u = (unit[c] == "insn") ? "insn" : "ns"
            if (u == "insn")
                printf "\n%s: %.0f instructions of CPU 0 per packet (%d instructions, %d packets)\n", c, total[c] * f, total[c], pk[c]
            else
                printf "\n%s: %.0f ns of CPU 0 per packet (%d samples of %d ns, %d packets)\n", c, total[c] * f, total[c], per[c], pk[c]
            if (c in how) printf "  profiler: %s\n", how[c]
            split("", bycat)
            for (i = 1; i <= nl; i++) if (cfg[i] == c) {
                bycat[cat[i]] += cnt[i]; listed += cnt[i]
                if (cnt[i] * f >= 5) printf "  %6.0f %-4s %-16s %s\n", cnt[i] * f, u, cat[i], name[i]
            }
            printf "  by category (listed symbols):"
            for (x in bycat) printf " %s %.0f %s;", x, bycat[x] * f, u
            printf "\n"
        }
    }' >"$out/profile.txt"

# What opening a connection costs (profile_new in tests/guest/bench.sh):
# the instructions of a packet that opens a masqueraded connection.
awk '/^[a-z0-9_]+: [0-9]+ instructions of CPU 0 per packet/ { c = $1; sub(/:$/, "", c); n[c] = $2 }
    END {
        k = n["kernel_nat_new"]; r = n["rnf_nat_new"]
        if (k > 0 && r > 0)
            printf "bench: NAT, a packet that opens a connection: kernel %d instructions, rnf %d, rnf/kernel %.2f\n", k, r, k / r
    }' "$out/profile.txt"

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
for i in none kernel_alone kernel rnf; do series flows "$i" >"$out/.flows-$i"; done
for i in kernel rnf; do series nat "$i" >"$out/.nat-$i"; done
gnuplot <<EOF
set terminal svg size 900,500 dynamic noenhanced background rgb 'white'
set grid
set yrange [0:*]
set key outside right
set ylabel "packets per second (64-byte UDP, forwarded)${icount:+; icount: 10^9 / instructions per packet}"
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
     "$out/.flows-kernel_alone" using 1:2 title "kernel nf_conntrack alone (enable_hooks=1)" lw 2 pt 6 dt 2, \
     "$out/.flows-kernel" using 1:2 title "kernel nf_conntrack + 1 rule" lw 2 pt 7, \
     "$out/.flows-rnf" using 1:2 title "rnf_conntrack" lw 2 pt 5, \
     "$out/.nat-kernel" using 1:2 title "kernel nf_nat MASQUERADE" lw 2 pt 9, \
     "$out/.nat-rnf" using 1:2 title "rnf_nat MASQUERADE" lw 2 pt 11
EOF
rm -f "$out"/.rules-* "$out"/.flows-* "$out"/.nat-*
echo "bench: report in $out: bench.csv footprint.csv profile.txt rules.svg flows.svg"
