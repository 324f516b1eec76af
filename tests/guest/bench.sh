# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
#
# Benchmark (figures, not a test): packets per second forwarded by a router
# namespace with no netfilter, with ip_tables and one rule, with the kernel's
# nf_conntrack, and with rnf_conntrack, for 1 flow and 10,000 flows, and on
# two CPUs at once with a flow each (no netfilter and both trackers); and the
# memory per connection of both trackers; then the rule tables: packets per
# second with 10, 100 and 1,000 non-matching FORWARD rules (that fail in
# the udp/tcp/multiport match, see rules_file) before the one that matches,
# the kernel's ip_tables then rnf_tables (when /lib/rnf/rnf_tables.ko
# exists), and the two side by side; the footprint of the kernel's modules
# and of rnf's for the same features; and a profile of each configuration:
# the instructions CPU 0 executes, counted by QEMU's TCG plugin
# tests/bench/insn_profile.c, when the kernel command line says
# BENCH_PROFILER=plugin or both, and/or perf's samples when perf is in the
# guest (see profile). Run by
# tests/bench/run.sh.
#
# Besides the `bench:` lines for a reader it prints lines for the report
# tests/bench/run.sh writes (CSV and plots):
#   bench-data: MEASURE,IMPL,X,PPS     (MEASURE flows, nat, rules or cpus;
#                                       X the flows, rules or CPUs forwarding;
#                                       PPS the best run)
#   bench-size: FEATURE,SIDE,MODULE,BYTES   (a module's size in /proc/modules)
#   bench-profile: CONFIG,SAMPLES,SYMBOL    (perf's cpu-clock samples on CPU 0)
#   bench-profile-total: CONFIG,SAMPLES,PACKETS,PERIOD_NS
#   bench-profile-sampler: CONFIG,DESCRIPTION
# and, for the plugin, the `bench-insn:` lines of profile_insn (the host's
# tests/bench/insnprofile.py writes the bench-profile lines of those runs).
#
# pktgen (xmit_mode netif_receive) injects 64-byte UDP packets into the
# receive path of dummy device dum0 in namespace "r"; they are forwarded to
# 10.8.0.2 out of dummy device dum1 (whose transmit frees them), so each
# figure is the cost of the whole forwarding path, netfilter hooks included.
# Ratios between configurations in one boot are what count (see
# shared/notes/toolchain.md). With BENCH_ICOUNT=1 on the kernel command line
# (tests/bench/run.sh: QEMU's -icount shift=0, where the guest's clock counts
# its instructions) the figures are instruction counts: it prints
# `bench-mode: icount` for the report and skips the two-CPU measure, which
# means nothing when QEMU runs the vCPUs in turn on one host thread.

. "$(dirname "$0")/lib.sh"

KVER=$(uname -r)
COUNT=${BENCH_COUNT:-100000}
FLOWS_MANY=10000
MAX=16384
IPT="/tmp/iptables-legacy"
RULES_COUNT=${BENCH_RULES_COUNT:-100000}
RUNS=${BENCH_RUNS:-5}

pg() {
    in_ns r sh -c "echo '$2' > /proc/net/pktgen/$1"
}

setup() {
    modprobe dummy || return 1
    modprobe pktgen || return 1
    ip netns add r || return 1
    ip -n r link set lo up
    ip -n r link add dum0 type dummy && ip -n r link add dum1 type dummy || return 1
    ip -n r addr add 10.7.0.1/24 dev dum0 && ip -n r addr add 10.8.0.1/24 dev dum1 || return 1
    ip -n r link set dum0 up && ip -n r link set dum1 up || return 1
    ip -n r neigh add 10.8.0.2 lladdr 02:00:00:00:00:02 dev dum1 nud permanent || return 1
    sysctl_ns r net.ipv4.ip_forward=1 || return 1
    ln -sf /usr/bin/xtables-legacy-multi "$IPT"
    ln -sf /usr/bin/xtables-legacy-multi "$IPT-restore"
}

# pktgen_setup FLOWS [PORT]: sets kpktgend_0 (CPU 0) up to forward $COUNT
# packets over FLOWS source ports from PORT (10000), one after the other.
pktgen_setup() {
    mac=$(cat /sys/class/net/dum0/address 2>/dev/null || in_ns r cat /sys/class/net/dum0/address)
    _port=${2:-10000}
    pg kpktgend_0 "rem_device_all"
    pg kpktgend_0 "add_device dum0"
    for kv in "count $COUNT" "pkt_size 64" "delay 0" "xmit_mode netif_receive" \
        "dst 10.8.0.2" "src_min 10.7.0.2" "src_max 10.7.0.2" "dst_mac $mac" \
        "udp_dst_min 9" "udp_dst_max 9" "udp_src_min $_port" "udp_src_max $((_port + $1))"; do
        pg dum0 "$kv"
    done
}

# run_pktgen FLOWS: forwards $COUNT packets over FLOWS source ports; prints pps.
run_pktgen() {
    pktgen_setup "$1"
    in_ns r sh -c "echo start > /proc/net/pktgen/pgctrl"
    in_ns r cat /proc/net/pktgen/dum0 | sed -n 's/.* \([0-9][0-9]*\)pps.*/\1/p' | head -n 1
}

# run_pktgen2: forwards $COUNT packets on each of two CPUs at once
# (kpktgend_0 and kpktgend_1, each with its own instance of dum0, so each
# CPU runs the receive path for its own packets), one flow per CPU (distinct
# source ports); prints the sum of the two instances' pps. Thread 1's device
# is removed again, so that run_pktgen stays on CPU 0 alone.
run_pktgen2() {
    mac=$(cat /sys/class/net/dum0/address 2>/dev/null || in_ns r cat /sys/class/net/dum0/address)
    for t in 0 1; do
        pg "kpktgend_$t" "rem_device_all"
        pg "kpktgend_$t" "add_device dum0@$t"
        for kv in "count $COUNT" "pkt_size 64" "delay 0" "xmit_mode netif_receive" \
            "dst 10.8.0.2" "src_min 10.7.0.2" "src_max 10.7.0.2" "dst_mac $mac" \
            "udp_dst_min 9" "udp_dst_max 9" "udp_src_min $((20000 + t))" "udp_src_max $((20000 + t))"; do
            pg "dum0@$t" "$kv"
        done
    done
    in_ns r sh -c "echo start > /proc/net/pktgen/pgctrl"
    sum=0
    for t in 0 1; do
        p=$(in_ns r cat "/proc/net/pktgen/dum0@$t" | sed -n 's/.* \([0-9][0-9]*\)pps.*/\1/p' | head -n 1)
        sum=$((sum + ${p:-0}))
    done
    pg kpktgend_1 "rem_device_all"
    echo "$sum"
}

# measure_cpus NAME KEY: RUNS runs on two CPUs (run_pktgen2), one flow
# each; prints them, the best and its ratio to the best of one CPU with one
# flow (the `measure` just before: $one).
measure_cpus() {
    if [ "${BENCH_ICOUNT:-0}" = 1 ]; then
        echo "bench: $1, two CPUs: skipped under icount (the vCPUs run in turn)"
        return 0
    fi
    runs="" best=0 i=0
    while [ "$i" -lt "$RUNS" ]; do
        pps=$(run_pktgen2)
        runs="$runs ${pps:-0}"
        [ "${pps:-0}" -gt "$best" ] && best=$pps
        i=$((i + 1))
    done
    echo "bench: $1, two CPUs, a flow each: best $best pps (runs:$runs), $(ratio "$one" "$best") times one CPU's $one"
    echo "bench-data: cpus,$2,2,$best"
}

# rules_file N: a filter table whose FORWARD chain has N rules that the
# benchmark's packets (UDP 10.7.0.2:10000 -> 10.8.0.2:9, in on dum0) pass
# the address part of and fail later, as the rules of a real router do: in
# turn a UDP rule for another destination port of the source subnet, a UDP
# rule for low source ports of 10.0.0.0/8 to the destination subnet, a
# multiport rule on the input device, and a TCP rule (fails on the
# protocol); then the ACCEPT that matches; then a state rule never reached
# (it turns the conntrack hooks on, as rnf_tables always has rnf_conntrack:
# the two sides compare with tracking on).
rules_file() {
    awk -v n="$1" 'BEGIN {
        print "*filter"
        print ":INPUT ACCEPT [0:0]"
        print ":FORWARD ACCEPT [0:0]"
        print ":OUTPUT ACCEPT [0:0]"
        for (i = 0; i < n; i++) {
            p = 1000 + i
            if (i % 4 == 0)
                printf "-A FORWARD -s 10.7.0.0/24 -p udp -m udp --dport %d -j DROP\n", p
            else if (i % 4 == 1)
                printf "-A FORWARD -s 10.0.0.0/8 -d 10.8.0.0/16 -p udp -m udp --sport 1:%d -j DROP\n", 1023 + i % 1000
            else if (i % 4 == 2)
                printf "-A FORWARD -i dum0 -p udp -m multiport --dports %d,%d,%d -j DROP\n", p, p + 2000, p + 4000
            else
                printf "-A FORWARD -s 10.7.0.0/16 -p tcp -m tcp --dport %d -j DROP\n", p
        }
        print "-A FORWARD -s 10.7.0.2/32 -p udp -m udp --dport 9 -j ACCEPT"
        print "-A FORWARD -m state --state INVALID -j DROP"
        print "COMMIT"
    }'
}

# best_of FLOWS PACKETS: RUNS runs of run_pktgen FLOWS, PACKETS each; sets
# runs (every figure, each after a blank) and best (the highest: under
# emulation a run is only ever slowed down by the host, so the best is the
# least disturbed).
best_of() {
    runs="" best=0 i=0
    while [ "$i" -lt "$RUNS" ]; do
        pps=$(COUNT=$2 run_pktgen "$1")
        runs="$runs ${pps:-0}"
        [ "${pps:-0}" -gt "$best" ] && best=$pps
        i=$((i + 1))
    done
}

# measure_rules NAME KEY: for 10, 100 and 1,000 rules before the match,
# best_of 1 flow with RULES_COUNT packets a run; the best is kept in
# /tmp/rules-KEY-N for the side-by-side table.
measure_rules() {
    for n in 10 100 1000; do
        rules_file "$n" | in_ns r "$IPT-restore" || { echo "bench: $1: restore of $n rules failed"; return 1; }
        best_of 1 "$RULES_COUNT"
        hits=$(in_ns r "$IPT" -vxnL FORWARD | awk -v r=$((n + 1)) 'NR == r + 2 { print $1 }')
        echo "bench: rules, $1, $n non-matching rules before the match: pps$runs (matching rule counted $hits packets)"
        if [ "${hits:-0}" -eq $((RUNS * RULES_COUNT)) ]; then
            echo "$best" >"/tmp/rules-$2-$n"
            echo "bench-data: rules,$2,$n,$best"
        else
            echo "bench: rules, $1, $n rules: the matching rule counted ${hits:-?} packets, want $((RUNS * RULES_COUNT)): not kept"
        fi
    done
    in_ns r "$IPT" -F FORWARD
}

# ratio KERNEL RNF: RNF / KERNEL to two decimals, "-" without both figures.
ratio() {
    if [ -n "$1" ] && [ -n "$2" ] && [ "$1" -gt 0 ]; then
        awk -v r="$2" -v k="$1" 'BEGIN { printf "%.2f", r / k }'
    else
        echo -
    fi
}

# rules_table: kernel ip_tables and rnf_tables side by side.
rules_table() {
    echo "bench: rules, pps (best of $RUNS runs of $RULES_COUNT packets), kernel ip_tables vs rnf_tables (both with conntrack):"
    for n in 10 100 1000; do
        k=$(cat "/tmp/rules-kernel-$n" 2>/dev/null)
        r=$(cat "/tmp/rules-rnf-$n" 2>/dev/null)
        ratio=$(ratio "$k" "$r")
        printf 'bench: rules, %4d non-matching + 1: kernel %8s pps, rnf_tables %8s pps, rnf/kernel %s\n' \
            "$n" "${k:--}" "${r:--}" "$ratio"
    done
}

# measure_nat NAME KEY: as measure, through the router's MASQUERADE out of
# dum1 (a masquerading router: every packet is source-NATed), keeping the
# bests in /tmp/nat-KEY-FLOWS for nat_table.
measure_nat() {
    for flows in 1 "$FLOWS_MANY"; do
        best_of "$flows" "$COUNT"
        echo "bench: $1, $flows flows: best $best pps (runs:$runs)"
        echo "$best" >"/tmp/nat-$2-$flows"
        echo "bench-data: nat,$2,$flows,$best"
    done
    hits=$(in_ns r "$IPT" -t nat -xvnL POSTROUTING | awk '$3 == "MASQUERADE" { print $1 }')
    echo "bench: $1: MASQUERADE counted $hits connections"
}

# conntrack_table: rnf_conntrack against the kernel's nf_conntrack with the
# rule that turns its hooks on ("kernel") and alone (enable_hooks=1).
conntrack_table() {
    echo "bench: conntrack, pps (best of $RUNS runs of $COUNT packets), kernel nf_conntrack (with 1 rule; alone) vs rnf_conntrack:"
    for flows in 1 "$FLOWS_MANY"; do
        k=$(cat "/tmp/flows-kernel-$flows" 2>/dev/null)
        a=$(cat "/tmp/flows-kernel_alone-$flows" 2>/dev/null)
        r=$(cat "/tmp/flows-rnf-$flows" 2>/dev/null)
        printf 'bench: conntrack, %5d flows: kernel+rule %8s pps, kernel alone %8s pps, rnf %8s pps, rnf/kernel %s, rnf/kernel alone %s\n' \
            "$flows" "${k:--}" "${a:--}" "${r:--}" "$(ratio "$k" "$r")" "$(ratio "$a" "$r")"
    done
}

# nat_table: the kernel's nf_nat and rnf_nat side by side.
nat_table() {
    echo "bench: NAT, pps (best of $RUNS runs of $COUNT packets), MASQUERADE, kernel nf_nat vs rnf_nat (each on its conntrack):"
    for flows in 1 "$FLOWS_MANY"; do
        k=$(cat "/tmp/nat-kernel-$flows" 2>/dev/null)
        r=$(cat "/tmp/nat-rnf-$flows" 2>/dev/null)
        ratio=$(ratio "$k" "$r")
        printf 'bench: NAT, %5d flows: kernel %8s pps, rnf %8s pps, rnf/kernel %s\n' \
            "$flows" "${k:--}" "${r:--}" "$ratio"
    done
}

# measure NAME KEY: RUNS runs for 1 flow and for FLOWS_MANY flows; prints
# them all and the best (KEY names the configuration in the data lines),
# keeping the bests in /tmp/flows-KEY-FLOWS for conntrack_table.
measure() {
    for flows in 1 "$FLOWS_MANY"; do
        best_of "$flows" "$COUNT"
        echo "bench: $1, $flows flows: best $best pps (runs:$runs)"
        echo "$best" >"/tmp/flows-$2-$flows"
        echo "bench-data: flows,$2,$flows,$best"
        [ "$flows" = 1 ] && one=$best && [ "${BENCH_ICOUNT:-0}" != 1 ] &&
            echo "bench-data: cpus,$2,1,$best"
    done
}

# The kernel's modules that do what each rnf module does, by feature: what
# modprobe of these loads (their dependencies included) is that feature's
# kernel footprint. nf_defrag_ipv4/6 and nf_reject_ipv4/6, which both sides
# load, are left out of both.
FEATURES="conntrack nat tables tables_nat tables_mangle tables_raw"
kset() {
    case "$1" in
        conntrack) echo nf_conntrack ;;
        nat) echo nf_nat ;;
        tables) echo x_tables ip_tables ip6_tables iptable_filter ip6table_filter xt_tcpudp \
            xt_multiport xt_comment xt_limit xt_state xt_conntrack xt_LOG nf_log_syslog \
            ipt_REJECT ip6t_REJECT xt_mark xt_connmark xt_dscp xt_iprange xt_length \
            xt_tcpmss xt_pkttype xt_mac xt_addrtype xt_hashlimit xt_TCPMSS xt_DSCP xt_CT ;;
        tables_nat) echo iptable_nat ip6table_nat xt_nat xt_MASQUERADE xt_REDIRECT xt_NETMAP ;;
        tables_mangle) echo iptable_mangle ip6table_mangle ;;
        tables_raw) echo iptable_raw ip6table_raw ;;
    esac
}
SHARED_MODULES=" nf_defrag_ipv4 nf_defrag_ipv6 nf_reject_ipv4 nf_reject_ipv6 dummy pktgen "

loaded_modules() { cut -d' ' -f1 /proc/modules | sort; }
module_size() { awk -v m="$1" '$1 == m { print $2 }' /proc/modules; }

# footprint_kernel: loads each feature's kernel modules in turn, prints the
# size of every module it brought in, then unloads them all.
footprint_kernel() {
    for f in $FEATURES; do
        before=$(loaded_modules)
        for m in $(kset "$f"); do
            modprobe "$m" || echo "bench: footprint: modprobe $m failed"
        done
        for m in $(loaded_modules); do
            echo "$before" | grep -qx "$m" && continue
            case "$SHARED_MODULES" in *" $m "*) continue ;; esac
            echo "bench-size: $f,kernel,$m,$(module_size "$m")"
        done
    done
    # /proc/modules lists the newest first, so users go before what they
    # use; a few passes for what a pass could not remove yet.
    for _ in 1 2 3; do
        for m in $(cut -d' ' -f1 /proc/modules); do
            case "$m" in dummy | pktgen) continue ;; esac
            rmmod "$m" 2>/dev/null
        done
    done
}

# footprint_rnf: the size of every loaded rnf module, by feature.
footprint_rnf() {
    for f in $FEATURES; do
        s=$(module_size "rnf_$f")
        [ -n "$s" ] && echo "bench-size: $f,rnf,rnf_$f,$s"
    done
}

# profile CONFIG FLOWS: the profile of a configuration on CPU 0, where
# pktgen's kernel thread sends the packets: the symbols with the most samples
# and the run's total, from which tests/bench/report.sh derives nanoseconds
# per packet for each symbol and category. With BENCH_PROFILER=plugin or
# both on the kernel command line (tests/bench/run.sh: QEMU runs the plugin),
# profile_insn; with perf in the guest (x86_64, BENCH_PROFILER=perf or both),
# profile_perf, whose configurations are named CONFIG/perf beside the
# plugin's.
PROFILE_COUNT=${BENCH_PROFILE_COUNT:-300000}
PROFILE_PERIOD=250000
INSN_COUNT=${BENCH_INSN_COUNT:-200000}
INSN_MARKERS=0
profile() {
    case "${BENCH_PROFILER:-}" in
        plugin) profile_insn "$1" "$2" ;;
        both) profile_insn "$1" "$2"; command -v perf >/dev/null 2>&1 && profile_perf "$1/perf" "$2" ;;
        *) command -v perf >/dev/null 2>&1 && profile_perf "$1" "$2" ;;
    esac
    return 0
}

# profile_perf CONFIG FLOWS: one run of PROFILE_COUNT packets under `perf
# record` on CPU 0 (a cpu-clock sample every PROFILE_PERIOD ns); prints the
# bench-profile lines.
profile_perf() {
    perf record -q -C 0 -e cpu-clock -c "$PROFILE_PERIOD" -o /tmp/perf.data -- sh -c \
        "COUNT=$PROFILE_COUNT; . /tmp/bench-pktgen.sh; run_pktgen $2" >/dev/null 2>&1 ||
        { echo "bench: profile $1: perf record failed"; return 0; }
    perf report -q -n -i /tmp/perf.data --sort sym --stdio 2>/dev/null |
        awk -v c="$1" -v pk="$PROFILE_COUNT" -v per="$PROFILE_PERIOD" '
            NF >= 4 && $1 ~ /%$/ && $2 ~ /^[0-9]+$/ {
                n = $2; total += n; $1 = ""; $2 = ""; $3 = ""; sub(/^ +/, "")
                if (k++ < 60) printf "bench-profile: %s,%d,%s\n", c, n, $0
            }
            END { printf "bench-profile-total: %s,%d,%d,%d\n", c, total, pk, per }
            END { printf "bench-profile-sampler: %s,perf cpu-clock on CPU 0 every %d ns\n", c, per }'
    rm -f /tmp/perf.data
}

# profile_insn CONFIG FLOWS: one run of INSN_COUNT packets between two
# markers of the plugin (a write to /proc/sys/vm/drop_caches: the plugin's
# marker is drop_caches_sysctl_handler, which nothing else here calls; 4
# only silences the message a real drop would print), each of which makes it
# write the counts since the one before to its next window file; first the
# text sections of every loaded module (for their symbols), then, after the
# run, which window file holds it. The markers and the run in one shell in
# the namespace: no fork or exec inside the window. The pktgen set-up is
# done before.
profile_insn() {
    COUNT=$INSN_COUNT pktgen_setup "$2" "${3:-}"
    for s in /sys/module/*/sections/.text*; do
        [ -r "$s" ] || continue
        m=${s#/sys/module/}
        echo "bench-insn: section ${m%%/*} ${s##*/} $(cat "$s")"
    done
    in_ns r sh -c "echo 4 >/proc/sys/vm/drop_caches; echo start >/proc/net/pktgen/pgctrl; echo 4 >/proc/sys/vm/drop_caches"
    INSN_MARKERS=$((INSN_MARKERS + 2))
    echo "bench-insn: window $1 $INSN_MARKERS $INSN_COUNT"
}

# profile_new CONFIG: what opening a connection costs: a profile window
# (plugin only) of NEW_COUNT packets from as many source ports never used
# before (40000 on, one each), so that every packet opens a connection (and
# with NAT is mapped). The connections stay (MAX leaves room for them
# beside the FLOWS_MANY of the measures) and lengthen the hash chains: so
# only after a section's last measure, the NAT one's.
NEW_COUNT=${BENCH_NEW_COUNT:-5000}
profile_new() {
    case "${BENCH_PROFILER:-}" in
        plugin | both)
            _insn=$INSN_COUNT
            INSN_COUNT=$NEW_COUNT
            profile_insn "$1" $((NEW_COUNT - 1)) 40000
            INSN_COUNT=$_insn
            ;;
    esac
    return 0
}

# perf needs the kernel's addresses (and profile_insn the modules'
# sections); run_pktgen and its helpers in a file that perf's child shell
# sources.
echo 0 >/proc/sys/kernel/kptr_restrict 2>/dev/null
echo -1 >/proc/sys/kernel/perf_event_paranoid 2>/dev/null
{
    echo ". /tests/lib.sh"
    sed -n '/^pg() {/,/^}/p; /^pktgen_setup() {/,/^}/p; /^run_pktgen() {/,/^}/p' "$0"
} >/tmp/bench-pktgen.sh
case "${BENCH_PROFILER:-}" in
    plugin | both)
        # insnprofile.py's symbols come from System.map: where this kernel put it.
        echo "bench-insn: kernel _stext $(awk '$3 == "_stext" { print $1; exit }' /proc/kallsyms)"
        ;;
    *) command -v perf >/dev/null 2>&1 || echo "bench: no perf in this guest and no plugin: no profile" ;;
esac

if [ "${BENCH_ICOUNT:-0}" = 1 ]; then
    echo "bench-mode: icount"
    echo "bench: icount: guest time is its instruction count (1 ns an instruction), so pps = 10^9 / instructions per packet; $RUNS runs of $COUNT packets ($RULES_COUNT with rules)"
fi

footprint_kernel

if ! setup; then
    echo "bench: set-up failed"
    exit 1
fi

measure "no netfilter" none
measure_cpus "no netfilter" none
profile none 1

# Not xt_state yet: it would load nf_conntrack, without the parameters below.
modprobe iptable_filter && modprobe xt_comment || exit 1
in_ns r "$IPT" -A FORWARD -m comment --comment "no conntrack" -j ACCEPT || exit 1
measure "ip_tables, 1 rule, no conntrack" iptables_nct
in_ns r "$IPT" -F FORWARD

# Since Linux 4.x the kernel's conntrack hooks are registered on demand: a
# rule using conntrack turns them on in a namespace, as a user's ruleset
# does, or enable_hooks=1 in every namespace. First conntrack alone, the
# hooks on without a rule, then with the rule ("kernel", rnf's reference
# since session 19: the rule costs ip_tables' walk).
# Conntrack alone: nothing of ip_tables left (its filter table's hooks
# would walk an empty chain on every packet).
modprobe -r xt_comment iptable_filter ip_tables x_tables 2>/dev/null
grep -q '^ip_tables ' /proc/modules && echo "bench: kernel nf_conntrack alone: ip_tables still loaded"
modprobe nf_conntrack hashsize=$MAX enable_hooks=1 || exit 1
sysctl -q -w net.netfilter.nf_conntrack_max=$MAX
measure "kernel nf_conntrack alone (enable_hooks=1, no rule)" kernel_alone
profile kernel_conntrack_alone 1
n=$(in_ns r cat /proc/sys/net/netfilter/nf_conntrack_count)
echo "bench: kernel nf_conntrack alone: entries: $n"
[ "${n:-0}" -gt 0 ] || echo "bench: kernel nf_conntrack alone: no entries, so it did not track: its figures are not conntrack's"
# The next runs start from a namespace without those connections.
ip netns del r
setup >/dev/null 2>&1
modprobe iptable_filter && modprobe xt_comment && modprobe xt_state || exit 1
in_ns r "$IPT" -A FORWARD -m state --state INVALID -j DROP || exit 1
measure "kernel nf_conntrack (+ ip_tables, 1 rule)" kernel
measure_cpus "kernel nf_conntrack (+ ip_tables, 1 rule)" kernel
profile kernel_conntrack 1
echo "bench: kernel nf_conntrack entries: $(in_ns r cat /proc/sys/net/netfilter/nf_conntrack_count)"
in_ns r "$IPT" -F FORWARD
modprobe xt_tcpudp && modprobe xt_multiport || exit 1
measure_rules "kernel ip_tables + nf_conntrack" kernel
rules_file 10 | in_ns r "$IPT-restore" && profile kernel_rules10 1
in_ns r "$IPT" -F FORWARD
# NAT in a fresh namespace: no connection left over from the runs above
# (those were confirmed without NAT and would walk the nat table on every
# packet instead of being masqueraded).
ip netns del r
setup >/dev/null 2>&1
modprobe iptable_nat && modprobe xt_MASQUERADE || exit 1
in_ns r "$IPT" -t nat -A POSTROUTING -o dum1 -j MASQUERADE || exit 1
measure_nat "kernel nf_nat, MASQUERADE (iptable_nat, nf_conntrack)" kernel
profile kernel_nat 1
profile_new kernel_nat_new
# A rule holds its target's module: flush before the modules go.
in_ns r "$IPT" -t nat -F
ip netns del r
# The namespace's own conntrack and nat state goes in a work item.
sleep 2
# rnf_tables registers the same socket options: the kernel's must be gone.
modprobe -r xt_MASQUERADE iptable_nat nf_nat 2>/dev/null
# iptables 1.8 sends -m state as the conntrack match: xt_conntrack holds
# nf_conntrack too, and rnf_conntrack refuses to load beside it.
modprobe -r xt_state xt_conntrack xt_comment xt_tcpudp xt_multiport iptable_filter nf_conntrack 2>/dev/null
modprobe -r ip_tables x_tables 2>/dev/null
setup >/dev/null 2>&1

mkdir -p /etc/rnf
echo "options rnf_conntrack conntrack_max=$MAX hashsize=$MAX" >/etc/rnf/modload.conf
if ! rnf-modload /lib/rnf/rnf_conntrack.ko "/lib/modules/$KVER/kernel/net/ipv4/netfilter" \
    "/lib/modules/$KVER/kernel/net/ipv6/netfilter"; then
    echo "bench: loading rnf_conntrack failed: $(dmesg | tail -n 4 | tr '\n' ' ')"
    echo "bench: modules loaded: $(cut -d' ' -f1 /proc/modules | tr '\n' ' ')"
    exit 1
fi
measure "rnf_conntrack" rnf
measure_cpus "rnf_conntrack" rnf
profile rnf_conntrack 1
echo "bench: rnf_conntrack entries: $(in_ns r cat /proc/sys/net/netfilter/nf_conntrack_count)"
conntrack_table

line=$(dmesg | grep -o '[0-9]* bytes each in the table + [0-9]* per object packets carry (struct nf_conn: [0-9]* bytes)' | tail -n 1)
rnf=$(echo "$line" | sed -n 's/^\([0-9]*\) bytes each in the table.*/\1/p')
obj=$(echo "$line" | sed -n 's/.* + \([0-9]*\) per object.*/\1/p')
kern=$(echo "$line" | sed -n 's/.*nf_conn: \([0-9]*\) bytes.*/\1/p')
echo "bench: memory per connection: rnf_conntrack $rnf bytes in its table (an arena that doubles when" \
    "half full; +8 per hash bucket pair) + $obj for the object packets carry (slab, per live connection);" \
    "kernel struct nf_conn $kern bytes, $(((kern + 63) / 64 * 64)) in its cache-aligned slab" \
    "(+8 per hash bucket, extensions extra)"

if [ -f /lib/rnf/rnf_tables.ko ]; then
    if rnf-modload /lib/rnf/rnf_tables.ko /lib/rnf "/lib/modules/$KVER/kernel/net/ipv4/netfilter" \
        "/lib/modules/$KVER/kernel/net/ipv6/netfilter"; then
        measure_rules "rnf_tables + rnf_conntrack" rnf
        rules_file 10 | in_ns r "$IPT-restore" && profile rnf_rules10 1
        in_ns r "$IPT" -F FORWARD
    else
        echo "bench: rules, rnf_tables: loading failed, skipped: $(dmesg | tail -n 3 | tr '\n' ' ')"
    fi
else
    echo "bench: rules, rnf_tables: skipped, rnf_tables.ko not built"
fi
rules_table

ip netns del r
setup >/dev/null 2>&1
if [ -f /lib/rnf/rnf_tables_nat.ko ] &&
    rnf-modload /lib/rnf/rnf_tables_nat.ko /lib/rnf "/lib/modules/$KVER/kernel/net/ipv4/netfilter" \
        "/lib/modules/$KVER/kernel/net/ipv6/netfilter" &&
    in_ns r "$IPT" -t nat -A POSTROUTING -o dum1 -j MASQUERADE; then
    measure_nat "rnf_nat, MASQUERADE (rnf_tables_nat, rnf_conntrack)" rnf
    profile rnf_nat 1
    profile_new rnf_nat_new
else
    echo "bench: NAT, rnf: skipped: rnf_tables_nat.ko missing or not loaded: $(dmesg | tail -n 2 | tr '\n' ' ')"
fi
nat_table

for m in rnf_tables_mangle rnf_tables_raw; do
    [ -f "/lib/rnf/$m.ko" ] && rnf-modload "/lib/rnf/$m.ko" /lib/rnf >/dev/null 2>&1
done
footprint_rnf
