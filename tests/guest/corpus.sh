# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
#
# Guest test: the malformed-packet corpus of issue 13
# (tests/guest/data/corpus/cases.txt, one named case a line) injected at the
# router of lib.sh, which runs a stateful filter ruleset with NAT
# (MASQUERADE lan -> wan, a port forward wan:8080 -> lan:80, TCPMSS in
# mangle, a notrack rule in raw). `rnf-udp corpus` sends each case's packets
# from packet sockets on the hosts' eth0 (no host stack in the way) and
# prints, per case, what each step caused (forwarded, answered, dropped, and
# what arrived), the router's conntrack lines for the case and the changes of
# its invalid/icmp_error/insert/drop statistics.
#
# It runs against either implementation, chosen by CORPUS (from the
# environment, or CORPUS=... on the kernel command line):
#
#   CORPUS=rnf     (default) every rnf module, loaded by rnf-modload
#   CORPUS=kernel  the kernel's nf_conntrack, nf_nat, ip(6)table_* and xt_*
#                  modules: the oracle. Its lines are the expected file
#                  tests/guest/data/corpus/expected.txt (printed at the end
#                  of the run, between "=== expected.txt" and "=== end").
#
# Each case passes when its line equals the kernel's. A case whose line
# differs in a way documented in tests/guest/data/corpus/differences.txt
# (the reason in a comment, the exact rnf line after it) passes as a
# documented difference and is counted apart; any other difference fails.

. "$(dirname "$0")/lib.sh"

KVER=$(uname -r)
DATA=$(dirname "$0")/data/corpus
KNF=/lib/modules/$KVER/kernel/net
mode_var CORPUS rnf
echo "corpus: CORPUS=$CORPUS"
T0=$(cut -d. -f1 /proc/uptime)

KERNEL_MODS="nf_conntrack nf_nat iptable_filter iptable_nat iptable_mangle iptable_raw ip6table_filter
    ip6table_nat ip6table_mangle ip6table_raw xt_nat xt_MASQUERADE xt_tcpudp xt_conntrack xt_CT xt_TCPMSS
    ipt_REJECT ip6t_REJECT"

case "$CORPUS" in
    kernel)
        _ok=yes
        for m in $KERNEL_MODS; do
            modprobe "$m" || { _ok=no; echo "modprobe $m failed"; }
        done
        if [ "$_ok" = yes ]; then
            pass "the kernel's conntrack, NAT, tables and xt modules loaded"
        else
            fail "kernel modules" "see above"
            summary
            exit 1
        fi
        ;;
    rnf)
        for m in rnf_tables_nat rnf_tables_mangle rnf_tables_raw; do
            if ! rnf-modload "/lib/rnf/$m.ko" /lib/rnf "$KNF/ipv4/netfilter" "$KNF/ipv6/netfilter" "$KNF/netfilter"; then
                fail "rnf-modload loads $m" "exit status $?"
                summary
                exit 1
            fi
        done
        _mods=
        for m in rnf_conntrack rnf_nat rnf_tables rnf_tables_nat rnf_tables_mangle rnf_tables_raw; do
            grep -q "^$m " /proc/modules || _mods="$_mods $m"
        done
        for m in nf_conntrack ip_tables ip6_tables x_tables; do
            grep -q "^$m " /proc/modules && _mods="$_mods (the kernel's $m is loaded)"
        done
        if [ -z "$_mods" ]; then
            pass "every rnf module loaded, the kernel's conntrack and tables not"
        else
            fail "every rnf module loaded" "missing:$_mods"
            summary
            exit 1
        fi
        ;;
    *)
        fail "CORPUS" "unknown CORPUS=$CORPUS (rnf or kernel)"
        summary
        exit 1
        ;;
esac

if ! topology_up; then
    fail "topology" "topology_up failed"
    summary
    exit 1
fi

# Permanent neighbours: the router answers and forwards without ARP or
# neighbour discovery (the hosts' stacks see nothing, see below).
neigh_fix() {
    _mac=$(ip -n "$4" link show dev "$5" | awk '$1 == "link/ether" { print $2 }')
    ip -n "$1" neigh replace "$3" lladdr "$_mac" dev "$2" nud permanent
}
neigh_fix router eth-client "$CLIENT4" client eth0
neigh_fix router eth-client "$CLIENT6" client eth0
neigh_fix router eth-server "$SERVER4" server eth0
neigh_fix router eth-server "$SERVER6" server eth0

# The hosts' own stacks stay silent: what reaches them is recorded by the
# packet sockets and then dropped, so no host answers a forged packet.
for ns in client server; do
    ns_ipt "$ns" -t raw -A PREROUTING -j DROP
    ns_ip6t "$ns" -t raw -A PREROUTING -j DROP
done

# Every ICMP error the router sends is sent (no rate limit to depend on
# timing), and an incomplete IPv6 fragment queue outlives the run (its
# expiry would send a time exceeded into a later case).
sysctl_ns router net.ipv4.icmp_ratelimit=0 net.ipv6.icmp.ratelimit=0 net.ipv4.icmp_msgs_per_sec=100000 \
    net.netfilter.nf_conntrack_frag6_timeout=600 net.ipv4.ipfrag_time=600

# rules FAMILY: the router's ruleset for iptables-legacy-restore.
rules() {
    if [ "$1" = 4 ]; then _cli=$CLIENT4 _rej=icmp-port-unreachable; else _cli="[$CLIENT6]" _rej=icmp6-port-unreachable; fi
    cat <<EOF
*raw
:PREROUTING ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
-A PREROUTING -p 252 -j CT --notrack
COMMIT
*mangle
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A FORWARD -o eth-server -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
-A PREROUTING -i eth-server -p tcp --dport 8080 -j DNAT --to-destination $_cli:80
-A PREROUTING -i eth-server -p udp --dport 8080 -j DNAT --to-destination $_cli:80
-A POSTROUTING -o eth-server -j MASQUERADE
COMMIT
*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
-A FORWARD -m conntrack --ctstate UNTRACKED -j ACCEPT
-A FORWARD -o eth-server -m conntrack --ctstate INVALID -j DROP
-A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -i eth-client -o eth-server -j ACCEPT
-A FORWARD -m conntrack --ctstate DNAT -j ACCEPT
-A FORWARD -p tcp -j REJECT --reject-with tcp-reset
-A FORWARD -j REJECT --reject-with $_rej
COMMIT
EOF
}
_ok=yes
rules 4 | in_ns router iptables-legacy-restore || _ok=no
rules 6 | in_ns router ip6tables-legacy-restore || _ok=no
if [ "$_ok" = yes ]; then
    pass "the router's stateful ruleset with NAT restores (both families)"
else
    fail "the router's ruleset" "a restore failed"
fi

# --- the corpus ------------------------------------------------------------------

OUT=/tmp/corpus.out
T1=$(cut -d. -f1 /proc/uptime)
in_ns router rnf-udp corpus "$DATA/cases.txt" >"$OUT" 2>/tmp/corpus.err
_rc=$?
T2=$(cut -d. -f1 /proc/uptime)
cat /tmp/corpus.err
_cases=$(grep -cv -e '^#' -e '^[[:space:]]*$' "$DATA/cases.txt")
_lines=$(grep -c ' | ' "$OUT")
if [ "$_rc" -eq 0 ] && [ "$_lines" -eq "$_cases" ]; then
    pass "rnf-udp corpus ran all $_cases cases ($((T2 - T1)) s)"
else
    fail "rnf-udp corpus ran all $_cases cases" "exit status $_rc, $_lines result lines"
fi

# The kernel's line of each case (expected.txt), and rnf's documented ones.
agree=0 documented=0 differ=0
while IFS= read -r line; do
    name=${line%% *}
    want=$(grep -F "$name |" "$DATA/expected.txt" | grep "^$name |" | head -n 1)
    if [ "$line" = "$want" ]; then
        agree=$((agree + 1))
        pass "corpus: $name"
        continue
    fi
    doc=$(grep "^$name |" "$DATA/differences.txt" 2>/dev/null | head -n 1)
    if [ "$CORPUS" = rnf ] && [ -n "$want" ] && [ "$line" = "$doc" ]; then
        documented=$((documented + 1))
        why=$(grep "^# $name: " "$DATA/differences.txt" | head -n 1 | sed "s/^# $name: //")
        pass "corpus: $name (differs from the kernel as documented: $why)"
        continue
    fi
    differ=$((differ + 1))
    fail "corpus: $name" "differs from the kernel"
    echo "    got:  $line"
    echo "    want: ${want:-(no expected line)}"
done <"$OUT"
echo "corpus: CORPUS=$CORPUS: $_lines cases: $agree as the kernel's, $documented documented differences, $differ other differences"

if [ "$CORPUS" = kernel ]; then
    echo "=== expected.txt"
    cat "$OUT"
    echo "=== end"
fi

topology_down
kernel_log_clean "the kernel log has no oops, BUG, WARNING or lockdep report"
echo "corpus: guest time $(($(cut -d. -f1 /proc/uptime) - T0)) s"
summary
