# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
#
# Guest test of the foundation: the loader derives the insmod order from
# modinfo and loads rnf_conntrack and rnf_nat with the kernel's defrag
# modules; real traffic crosses client -> router -> server (see lib.sh) and
# every connection must appear in the router's /proc/net/rnf_conntrack with
# the right tuples and state; then everything unloads in reverse order.
# Run by tests/run-all.sh; by hand: make vm-run SCRIPT=tests/guest/conntrack.sh

. "$(dirname "$0")/lib.sh"

KVER=$(uname -r)
LIST=/etc/modules-load.d/rnf.conf
OPTS=/etc/rnf/modload.conf
UDP_TIMEOUT=4

# Zero-padded %pI6 forms of the topology's addresses, as /proc prints them.
C6=fd01:0000:0000:0000:0000:0000:0000:0002
S6=fd02:0000:0000:0000:0000:0000:0000:0002

# modload ARGS...: the loader over our modules and the kernel's netfilter
# modules. (The whole /lib/modules works too, but under emulation the loader
# spends about a second per pool module reading .modinfo: see the README.)
modload() {
    rnf-modload "$@" /lib/rnf "/lib/modules/$KVER/kernel/net/ipv4/netfilter" \
        "/lib/modules/$KVER/kernel/net/ipv6/netfilter"
}

ct() {
    in_ns "${1:-router}" cat /proc/net/rnf_conntrack
}

# ct_has NS PATTERN: a line of NS's table matches the extended regex.
ct_has() {
    ct "$1" | grep -Eq "$2"
}

ct_lacks() {
    ! ct_has "$1" "$2"
}

# expect_ct NAME NS PATTERN: pass when such a line shows up within 3 s.
expect_ct() {
    if wait_for 30 ct_has "$2" "$3"; then
        pass "$1"
    else
        fail "$1" "no line matching '$3' in $2's table: $(ct "$2" | tr '\n' '|')"
    fi
}

# kill_cmd PREFIX: kills the processes whose command line starts with PREFIX
# (busybox here has no pkill).
kill_cmd() {
    for _p in /proc/[0-9]*; do
        _cmd=$(tr '\0' ' ' <"$_p/cmdline" 2>/dev/null)
        case "$_cmd" in
            "$1"*) kill "${_p#/proc/}" 2>/dev/null ;;
        esac
    done
}

# ns_watch NS...: starts a process sleeping in each NS, so that NS's /proc/net
# can be read as /proc/PID/net without an `ip netns exec` (0.15 s each under
# emulation). topology_down kills them; so does ns_unwatch NS (a namespace
# cannot go away while a process is in it).
ns_watch() {
    for _ns in "$@"; do
        # Not in_ns: a function runs in a forked shell, and its pid would be
        # that shell's, in this namespace; ip setns()es and execs in place.
        bg_start /dev/null /usr/bin/ip netns exec "$_ns" sleep 100000
        eval "RNF_NSPID_$_ns=$RNF_BG_PID"
        wait_for 50 in_other_netns "$RNF_BG_PID" || echo "ns_watch: pid $RNF_BG_PID did not enter $_ns" >&2
    done
}

ns_unwatch() {
    eval "_p=\${RNF_NSPID_$1:-}"
    [ -n "$_p" ] && kill "$_p" 2>/dev/null && wait "$_p" 2>/dev/null
    eval "RNF_NSPID_$1="
}

in_other_netns() {
    [ "$(readlink "/proc/$1/ns/net")" != "$(readlink /proc/self/ns/net)" ]
}

# net_dir NS: NS's /proc/net as seen from here (init: the initial namespace's).
net_dir() {
    if [ "$1" = init ]; then
        echo /proc/net
    else
        eval "echo /proc/\${RNF_NSPID_$1:-none}/net"
    fi
}

# stat_col NAME [NS...]: the sum over CPUs and over the namespaces NS (default:
# client router server; init for the initial one) of column NAME of their
# /proc/net/stat/rnf_conntrack.
stat_col() {
    _name=$1
    shift
    [ $# -gt 0 ] || set -- client router server
    _sum=0
    for _ns in "$@"; do
        _f=$(net_dir "$_ns")/stat/rnf_conntrack
        for _v in $(awk -v n="$_name" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == n) c = i; next }
            c { print $c }' "$_f" 2>/dev/null); do
            _sum=$((_sum + 0x$_v))
        done
    done
    echo "$_sum"
}

# ns_count NS: NS's connection count, the entries column of its statistics.
ns_count() {
    _v=$(awk 'NR == 2 { print $1; exit }' "$(net_dir "$1")/stat/rnf_conntrack" 2>/dev/null)
    echo $((0x${_v:-0}))
}

# stat_above NAME N [NS...]: column NAME (summed as stat_col) is above N.
stat_above() {
    _n=$1
    _min=$2
    shift 2
    [ "$(stat_col "$_n" "$@")" -gt "$_min" ]
}

# sysctl_of NS NAME: net.netfilter.nf_NAME (the kernel's names, which
# rnf_conntrack provides) in namespace NS; conntrack_count_all is rnf's own,
# net.rnf.conntrack_count_all.
sysctl_of() {
    case "$2" in
        conntrack_count_all) _f=/proc/sys/net/rnf/$2 ;;
        *) _f=/proc/sys/net/netfilter/nf_$2 ;;
    esac
    if [ "$1" = init ]; then
        cat "$_f" 2>/dev/null
    else
        in_ns "$1" cat "$_f" 2>/dev/null
    fi
}

# position WORD LIST: 1-based index of WORD in LIST, 0 if absent.
position() {
    _i=0
    for _w in $2; do
        _i=$((_i + 1))
        [ "$_w" = "$1" ] && { echo "$_i"; return; }
    done
    echo 0
}

# --- the loader --------------------------------------------------------------

plan=$(modload -n -l "$LIST" 2>&1)
echo "$plan"
order=$(echo "$plan" | awk '$1 == "insmod" { n = $2; sub(".*/", "", n); sub("\\.ko$", "", n); print n }' |
    tr '\n' ' ')
p4=$(position nf_defrag_ipv4 "$order")
p6=$(position nf_defrag_ipv6 "$order")
pc=$(position rnf_conntrack "$order")
pn=$(position rnf_nat "$order")
if [ "$p4" -gt 0 ] && [ "$p6" -gt 0 ] && [ "$pc" -gt "$p4" ] && [ "$pc" -gt "$p6" ] && [ "$pn" -gt "$pc" ]; then
    pass "loader orders defrag before rnf_conntrack before rnf_nat ($order)"
else
    fail "loader order" "got '$order'"
fi

mkdir -p /etc/rnf
echo "options rnf_conntrack udp_timeout=$UDP_TIMEOUT" >"$OPTS"
if modload -l "$LIST"; then
    pass "loader loads the set"
else
    fail "loader loads the set" "exit status $?"
fi
for m in nf_defrag_ipv4 nf_defrag_ipv6 rnf_conntrack rnf_nat nf_reject_ipv4 nf_reject_ipv6 rnf_tables; do
    check "$m loaded" grep -q "^$m " /proc/modules
done
param=$(cat /sys/module/rnf_conntrack/parameters/udp_timeout 2>/dev/null)
if [ "$param" = "$UDP_TIMEOUT" ]; then
    pass "options file applied (udp_timeout=$param)"
else
    fail "options file applied" "udp_timeout is '$param'"
fi

ktap_fail=$(dmesg | grep -E 'not ok [0-9]+ rnf_')
if [ -z "$ktap_fail" ] && dmesg | grep -Eq 'ok [0-9]+ rnf_conntrack_table'; then
    pass "KUnit suites ran at load without failures"
else
    fail "KUnit suites" "$(dmesg | grep -E 'ok [0-9]+ rnf_' | tr '\n' '|')"
fi

if ! topology_up; then
    fail topology_up "see above"
    topology_down
    summary
    exit 1
fi
ns_watch client router server

# --- ICMP and ICMPv6 echo -------------------------------------------------------

check ping4 in_ns client ping -c 2 -W 5 "$SERVER4"
expect_ct "ICMP echo tracked with its reply" router \
    "^ipv4 +2 icmp +1 [0-9]+ src=$CLIENT4 dst=$SERVER4 type=8 code=0 id=[0-9]+ src=$SERVER4 dst=$CLIENT4 type=0 code=0 id=[0-9]+ mark=0 zone=0 use=2$"

check ping6 in_ns client ping -6 -c 2 -W 5 "$SERVER6"
expect_ct "ICMPv6 echo tracked with its reply" router \
    "^ipv6 +10 icmpv6 +58 [0-9]+ src=$C6 dst=$S6 type=128 code=0 id=[0-9]+ src=$S6 dst=$C6 type=129 code=0 id=[0-9]+ mark=0 zone=0 use=2$"

# --- TCP: ESTABLISHED while open, TIME_WAIT after the close -----------------------

# nc exits when its stdin ends: keep it open while the test looks.
bg_start /tmp/tcp-server.log in_ns server sh -c "sleep 30 | nc -l -p 8080"
wait_for 50 in_ns server sh -c "netstat -ltn | grep -q ':8080 '"
bg_start /tmp/tcp-client.log in_ns client sh -c "(echo hello; sleep 30) | nc $SERVER4 8080"
expect_ct "TCP ESTABLISHED and ASSURED while open" router \
    "^ipv4 +2 tcp +6 [0-9]+ ESTABLISHED src=$CLIENT4 dst=$SERVER4 sport=[0-9]+ dport=8080 src=$SERVER4 dst=$CLIENT4 sport=8080 dport=[0-9]+ \[ASSURED\] mark=0 zone=0 use=2$"
expect_ct "TCP tracked in the client's own namespace too" client \
    "ESTABLISHED src=$CLIENT4 dst=$SERVER4 sport=[0-9]+ dport=8080"
if ct_has router "tcp .* dport=8080 .*\[UNREPLIED\]"; then
    fail "TCP not UNREPLIED" "$(ct router | grep 8080)"
else
    pass "TCP not UNREPLIED"
fi
# Closing the server side first: FIN, ACK, FIN, ACK through the router.
kill_cmd "nc -l -p 8080"
expect_ct "TCP reaches TIME_WAIT after FIN exchange" router \
    "^ipv4 +2 tcp +6 [0-9]+ TIME_WAIT src=$CLIENT4 dst=$SERVER4 sport=[0-9]+ dport=8080 "
kill_cmd "nc $SERVER4 8080"

# TCP over IPv6, one echo.
bg_start /tmp/tcp6-server.log in_ns server nc -l -p 8081
wait_for 50 in_ns server sh -c "netstat -ltn | grep -q ':8081 '"
echo hello6 | in_ns client nc "$SERVER6" 8081
expect_ct "TCP over IPv6 tracked" router \
    "^ipv6 +10 tcp +6 [0-9]+ [A-Z_]+ src=$C6 dst=$S6 sport=[0-9]+ dport=8081 src=$S6 dst=$C6 sport=8081 dport=[0-9]+ "

# --- UDP -------------------------------------------------------------------------

bg_start /tmp/udp-server.log in_ns server rnf-udp serve "$SERVER4" 5353 --count 2
wait_for 50 grep -q listening /tmp/udp-server.log
check "UDP request and echo" in_ns client rnf-udp send "$SERVER4" 5353 --size 64 --sport 40001 --count 2 \
    --expect-reply --timeout 5
expect_ct "UDP tracked both ways" router \
    "^ipv4 +2 udp +17 [0-9]+ src=$CLIENT4 dst=$SERVER4 sport=40001 dport=5353 src=$SERVER4 dst=$CLIENT4 sport=5353 dport=40001 mark=0 zone=0 use=2$"

in_ns client rnf-udp send "$SERVER4" 5999 --size 32 --sport 40002 >/dev/null 2>&1
expect_ct "unreplied UDP shown [UNREPLIED]" router \
    "^ipv4 +2 udp +17 [0-9]+ src=$CLIENT4 dst=$SERVER4 sport=40002 dport=5999 \[UNREPLIED\] src=$SERVER4 dst=$CLIENT4 sport=5999 dport=40002 mark=0 zone=0 use=2$"
if wait_for $(((UDP_TIMEOUT + 4) * 10)) ct_lacks router 'sport=40002 dport=5999'; then
    pass "unreplied UDP expires after udp_timeout=${UDP_TIMEOUT}s"
else
    fail "unreplied UDP expires" "still there: $(ct router | grep 40002)"
fi

# --- one IPv6 datagram over the 1280-byte MTU: fragments, one connection -----------

frags=$(in_ns client awk '$1 == "Ip6FragCreates" { print $2 }' /proc/net/snmp6)
bg_start /tmp/udp6-server.log in_ns server rnf-udp serve :: 5004 --count 1
wait_for 50 grep -q listening /tmp/udp6-server.log
check "3000-byte IPv6 datagram echoed" in_ns client rnf-udp send "$SERVER6" 5004 --size 3000 --sport 40003 \
    --expect-reply --timeout 5
frags=$(($(in_ns client awk '$1 == "Ip6FragCreates" { print $2 }' /proc/net/snmp6) - frags))
if [ "$frags" -ge 3 ]; then
    pass "the datagram was sent as $frags fragments"
else
    fail "the datagram was fragmented" "client created $frags fragments"
fi
n=$(ct router | grep -c "sport=40003 dport=5004")
if [ "$n" -eq 1 ] && ct_has router "^ipv6 +10 udp +17 [0-9]+ src=$C6 dst=$S6 sport=40003 dport=5004 src=$S6 dst=$C6 sport=5004 dport=40003 mark=0 zone=0 use=2$"; then
    pass "fragmented IPv6 datagram is one tracked connection"
else
    fail "fragmented IPv6 datagram is one tracked connection" "$n lines: $(ct router | grep 40003)"
fi

# --- TCP SYN_SENT: a SYN to a host that never answers -------------------------------

bg_start /tmp/syn.log in_ns client nc -w 20 10.2.0.99 80
expect_ct "TCP SYN without answer is SYN_SENT and UNREPLIED" router \
    "^ipv4 +2 tcp +6 [0-9]+ SYN_SENT src=$CLIENT4 dst=10.2.0.99 sport=[0-9]+ dport=80 \[UNREPLIED\] "
kill_cmd "nc -w 20 10.2.0.99"

# --- ICMP errors are RELATED to the connection they are about -----------------------

rel=$(stat_col related)
err=$(stat_col icmp_error)
in_ns client rnf-udp send "$SERVER4" 5998 --size 32 --sport 40010 >/dev/null 2>&1
if wait_for 30 stat_above related "$rel"; then
    pass "ICMP port unreachable is RELATED to its UDP flow"
else
    fail "ICMP port unreachable is RELATED" "related $rel -> $(stat_col related), icmp_error $err -> $(stat_col icmp_error)"
fi
rel=$(stat_col related)
in_ns client rnf-udp send "$SERVER6" 5998 --size 32 --sport 40011 >/dev/null 2>&1
if wait_for 30 stat_above related "$rel"; then
    pass "ICMPv6 port unreachable is RELATED to its UDP flow"
else
    fail "ICMPv6 port unreachable is RELATED" "related $rel -> $(stat_col related)"
fi
if [ "$(stat_col icmp_error)" -eq "$err" ]; then
    pass "no ICMP error counted as unrelated"
else
    fail "no ICMP error counted as unrelated" "icmp_error $err -> $(stat_col icmp_error)"
fi

# udp_timeout_set SECONDS: the UDP timeout of the initial namespace (the
# module parameter) and of client, router and server, whose own timeouts
# were copied from the initial namespace's when rnf_conntrack set them up.
udp_timeout_set() {
    echo "$1" >/sys/module/rnf_conntrack/parameters/udp_timeout
    for _ns in client router server; do
        sysctl_ns "$_ns" net.netfilter.nf_conntrack_udp_timeout="$1"
    done
}

# --- a UDP stream becomes ASSURED --------------------------------------------------------

# The replied flow lives udp_timeout until its later packet; 3 s apart is
# close to 4 s when the emulated guest stalls, so give it 10 s meanwhile.
udp_timeout_set 10

bg_start /tmp/udp-stream.log in_ns server rnf-udp serve "$SERVER4" 5400
wait_for 50 grep -q listening /tmp/udp-stream.log
in_ns client rnf-udp send "$SERVER4" 5400 --size 16 --sport 40400 --expect-reply --timeout 5 >/dev/null
sleep 3
in_ns client rnf-udp send "$SERVER4" 5400 --size 16 --sport 40400 --expect-reply --timeout 5 >/dev/null
expect_ct "UDP stream (replied, active after 2 s) is ASSURED" router \
    "^ipv4 +2 udp +17 [0-9]+ src=$CLIENT4 dst=$SERVER4 sport=40400 dport=5400 .*\[ASSURED\] "
udp_timeout_set "$UDP_TIMEOUT"

# --- conntrack_max 100, 500 new flows ---------------------------------------------------

# conntrack_max is global but, as nf_conntrack_max, limits each namespace's
# own count: client, router and server may hold 100 each.
max0=$(cat /proc/sys/net/netfilter/nf_conntrack_max)
early=$(stat_col early_drop router)
drops=$(stat_col drop router)
echo 100 >/proc/sys/net/netfilter/nf_conntrack_max
# Sample the router's count while the flows go out.
rstat=$(net_dir router)/stat/rnf_conntrack
(
    peak=0
    while [ ! -f /tmp/flood.done ]; do
        v=$(awk 'NR == 2 { print $1; exit }' "$rstat")
        n=$((0x${v:-0}))
        [ "$n" -gt "$peak" ] && peak=$n
        echo "$peak" >/tmp/flood.peak
        sleep 0.05
    done
) &
sampler=$!
in_ns client rnf-udp send "$SERVER4" 6000 --size 8 --sport 20000 --flows 500 >/dev/null 2>&1
touch /tmp/flood.done
wait "$sampler"
peak=$(cat /tmp/flood.peak)
count=$(sysctl_of router conntrack_count)
if [ "$peak" -le 100 ] && [ "$count" -le 100 ] && [ "$peak" -ge 90 ]; then
    pass "with conntrack_max 100, 500 new flows never take the router's count above 100 (peak $peak)"
else
    fail "conntrack_max 100 holds in the router" "peak $peak, now $count"
fi
nc_=$(ns_count client)
ns_=$(ns_count server)
all=$(cat /proc/sys/net/rnf/conntrack_count_all)
if [ "$nc_" -le 100 ] && [ "$ns_" -le 100 ] && [ "$all" -gt 100 ]; then
    pass "the limit is per namespace: client $nc_, server $ns_, all namespaces together $all"
else
    fail "conntrack_max limits each namespace" "client $nc_, router $count, server $ns_, all $all"
fi
early=$(($(stat_col early_drop router) - early))
drops=$(($(stat_col drop router) - drops))
if [ "$early" -gt 0 ] && [ "$drops" -gt 0 ]; then
    pass "the router's early_drop ($early) and drop ($drops) counters moved"
else
    fail "early_drop and drop counters moved" "early_drop +$early, drop +$drops"
fi
check "the ASSURED UDP stream still passes when the table is full" \
    in_ns client rnf-udp send "$SERVER4" 5400 --size 16 --sport 40400 --expect-reply --timeout 5
if dmesg | grep -q "rnf_conntrack: table full, dropping packet"; then
    pass "a full table is reported in the kernel log"
else
    fail "a full table is reported in the kernel log" "no 'table full' line"
fi
echo "$max0" >/proc/sys/net/netfilter/nf_conntrack_max

# --- the table grows as connections come ----------------------------------------------

# Loaded without conntrack_max, the table starts with room for at most 1024
# connections and doubles once half of it is taken (the GC work allocates
# the larger arena); nf_conntrack_max takes a value above anything the
# table had at load, as the kernel's, whose table has no size.
start=$(dmesg | sed -n 's/.*room for \([0-9]*\) connections to start with.*/\1/p' | tail -n 1)
drops=$(stat_col drop router)
if echo 100000 >/proc/sys/net/netfilter/nf_conntrack_max &&
    [ "$(cat /proc/sys/net/netfilter/nf_conntrack_max)" = 100000 ] && [ "${start:-0}" -le 1024 ]; then
    pass "nf_conntrack_max 100000 is taken, above the $start connections the table had room for at load"
else
    fail "nf_conntrack_max above the table at load" "start '$start', now $(cat /proc/sys/net/netfilter/nf_conntrack_max)"
fi
# 3000 flows from client through router to server: 9000 connections in all.
in_ns client rnf-udp send "$SERVER4" 6100 --size 8 --sport 30000 --flows 3000 >/dev/null 2>&1
count=$(sysctl_of router conntrack_count)
all=$(cat /proc/sys/net/rnf/conntrack_count_all)
drops=$(($(stat_col drop router) - drops))
grown=$(dmesg | grep -c 'rnf_conntrack: table grown from')
if [ "$count" -ge 3000 ] && [ "$all" -ge 9000 ] && [ "$drops" = 0 ] && [ "$grown" -ge 3 ]; then
    pass "3000 new flows: the router tracks $count, all namespaces $all, the table grew $grown times, nothing dropped"
else
    fail "the table grows as connections come" "router $count, all $all, grown $grown times, router drop +$drops"
    dmesg | grep 'rnf_conntrack: table' | tail -n 5
fi
# The last growth's line: "from A to B connections (C bytes)", C = B slots.
last=$(dmesg | sed -n 's/.*rnf_conntrack: table grown from \([0-9]*\) to \([0-9]*\) connections (\([0-9]*\) bytes).*/\1 \2 \3/p' |
    tail -n 1)
each=$(dmesg | sed -n 's/.* \([0-9]*\) bytes each in the table.*/\1/p' | tail -n 1)
g_from=$(echo "$last" | cut -d' ' -f1)
g_to=$(echo "$last" | cut -d' ' -f2)
g_bytes=$(echo "$last" | cut -d' ' -f3)
if [ -n "$g_bytes" ] && [ "$g_to" = $((g_from * 2)) ] && [ "$g_to" -ge 16384 ] &&
    [ "$g_bytes" = $((g_to * ${each:-0})) ]; then
    pass "the kernel log gives each growth: the last from $g_from to $g_to connections, $g_bytes bytes ($each each)"
else
    fail "the kernel log gives the table's growth" "$(dmesg | grep 'rnf_conntrack: table grown' | tail -n 1)"
fi
echo "$max0" >/proc/sys/net/netfilter/nf_conntrack_max

# --- namespaces: own tables, counts, statistics and timeouts ----------------------------

# Two pairs of namespaces, ta -> ua and tb -> ub, on identical addresses.
# net.netfilter.nf_conntrack_* exists in each: max and buckets are global and
# read-only there, conntrack_count and the timeouts are the namespace's own; a
# namespace starts with the initial namespace's timeouts.
init_udp=$(cat /proc/sys/net/netfilter/nf_conntrack_udp_timeout)
for n in a b; do
    ip netns add "t$n" && ip netns add "u$n" &&
        ip -n "t$n" link add eth0 type veth peer name eth0 netns "u$n" &&
        ip -n "t$n" addr add 10.9.0.1/24 dev eth0 && ip -n "u$n" addr add 10.9.0.2/24 dev eth0 &&
        ip -n "t$n" link set eth0 up && ip -n "u$n" link set eth0 up &&
        ip -n "t$n" link set lo up && ip -n "u$n" link set lo up
done
ns_watch ta tb ua ub
udp_a=$(sysctl_of ta conntrack_udp_timeout)
est_a=$(sysctl_of ta conntrack_tcp_timeout_established)
if [ "$udp_a" = "$init_udp" ] && [ "$est_a" = "$(cat /proc/sys/net/netfilter/nf_conntrack_tcp_timeout_established)" ]; then
    pass "a new namespace starts with the initial namespace's timeouts (udp $udp_a)"
else
    fail "a new namespace starts with the initial namespace's timeouts" "udp $udp_a (init $init_udp), established $est_a"
fi
if [ "$(sysctl_of ta conntrack_max)" = "$(cat /proc/sys/net/netfilter/nf_conntrack_max)" ] &&
    [ "$(sysctl_of ta conntrack_buckets)" = "$(cat /proc/sys/net/netfilter/nf_conntrack_buckets)" ] &&
    [ "$(sysctl_of ta conntrack_count)" = 0 ] && [ -z "$(sysctl_of ta conntrack_count_all)" ] &&
    [ -n "$(cat /proc/sys/net/rnf/conntrack_count_all)" ]; then
    pass "net.netfilter.nf_conntrack_* in a namespace: global max and buckets, its own count (0), no conntrack_count_all"
else
    fail "net.netfilter.nf_conntrack_* in a namespace" "$(in_ns ta sh -c 'cd /proc/sys/net/netfilter && grep . nf_conntrack_*' | tr '\n' ' ')"
fi
max0=$(cat /proc/sys/net/netfilter/nf_conntrack_max)
if in_ns ta sh -c 'echo 50 >/proc/sys/net/netfilter/nf_conntrack_max' 2>/dev/null ||
    in_ns ta sh -c 'echo 50 >/proc/sys/net/netfilter/nf_conntrack_buckets' 2>/dev/null; then
    fail "conntrack_max and conntrack_buckets are read-only in a namespace" "a write succeeded"
elif [ "$(cat /proc/sys/net/netfilter/nf_conntrack_max)" = "$max0" ] && [ "$(sysctl_of ta conntrack_max)" = "$max0" ] &&
    [ "$(in_ns ta stat -c %a /proc/sys/net/netfilter/nf_conntrack_max)" = 444 ]; then
    pass "conntrack_max is read-only (0444) in a namespace: the write is refused, $max0 stays"
else
    fail "conntrack_max is read-only in a namespace" "now $(cat /proc/sys/net/netfilter/nf_conntrack_max), was $max0"
fi
echo $((max0 - 1)) >/proc/sys/net/netfilter/nf_conntrack_max
if [ "$(sysctl_of ta conntrack_max)" = $((max0 - 1)) ]; then
    pass "conntrack_max set in the initial namespace is the one every namespace sees"
else
    fail "conntrack_max is global" "ta sees $(sysctl_of ta conntrack_max), want $((max0 - 1))"
fi
echo "$max0" >/proc/sys/net/netfilter/nf_conntrack_max

# Different UDP timeouts in ta (3 s) and tb (60 s), set by sysctl there.
sysctl_ns ta net.netfilter.nf_conntrack_udp_timeout=3
sysctl_ns tb net.netfilter.nf_conntrack_udp_timeout=60
if [ "$(sysctl_of ta conntrack_udp_timeout)" = 3 ] && [ "$(sysctl_of tb conntrack_udp_timeout)" = 60 ] &&
    [ "$(cat /proc/sys/net/netfilter/nf_conntrack_udp_timeout)" = "$init_udp" ] &&
    [ "$(cat /sys/module/rnf_conntrack/parameters/udp_timeout)" = "$init_udp" ]; then
    pass "a namespace's timeout is its own: the initial namespace and the parameter keep $init_udp"
else
    fail "per-namespace timeouts" "ta $(sysctl_of ta conntrack_udp_timeout), tb $(sysctl_of tb conntrack_udp_timeout), init $(cat /proc/sys/net/netfilter/nf_conntrack_udp_timeout)"
fi
echo 45 >/proc/sys/net/netfilter/nf_conntrack_udp_timeout
if [ "$(sysctl_of ta conntrack_udp_timeout)" = 3 ] && [ "$(sysctl_of ua conntrack_udp_timeout)" = "$init_udp" ]; then
    pass "changing the initial namespace's timeout leaves existing namespaces' alone"
else
    fail "the initial namespace's timeout is its own" "ta $(sysctl_of ta conntrack_udp_timeout), ua $(sysctl_of ua conntrack_udp_timeout)"
fi
echo "$init_udp" >/proc/sys/net/netfilter/nf_conntrack_udp_timeout

init_err=$(stat_col icmp_error init)
init_cnt=$(cat /proc/sys/net/netfilter/nf_conntrack_count)
# tb's flow and 20 more there (for the teardown below) first; ta's last,
# and ta read at once: its entry lives 3 s, which a slow kernel (KASAN
# under emulation) can spend on tb's part alone.
in_ns tb rnf-udp send 10.9.0.2 7000 --size 8 --sport 40700 >/dev/null 2>&1
in_ns tb rnf-udp send 10.9.0.2 7001 --size 8 --sport 41000 --flows 20 >/dev/null 2>&1
in_ns ta rnf-udp send 10.9.0.2 7000 --size 8 --sport 40700 >/dev/null 2>&1
ca=$(sysctl_of ta conntrack_count)
na=$(ns_count ta)
ta=$(ct ta | grep -c "src=10.9.0.1 dst=10.9.0.2 sport=40700 dport=7000")
tb=$(ct tb | grep -c "src=10.9.0.1 dst=10.9.0.2 sport=40700 dport=7000")
if [ "$ta" -eq 1 ] && [ "$tb" -eq 1 ]; then
    pass "two namespaces with identical tuples each track their own connection"
else
    fail "identical tuples in two namespaces" "ta has $ta, tb has $tb"
fi
cb=$(sysctl_of tb conntrack_count)
if [ "$ca" = 1 ] && [ "$cb" = 21 ] && [ "$na" = 1 ] && [ "$(ns_count tb)" = 21 ] &&
    [ "$(cat /proc/sys/net/netfilter/nf_conntrack_count)" = "$init_cnt" ]; then
    pass "conntrack_count per namespace: ta 1, tb 21, the initial namespace unchanged ($init_cnt)"
else
    fail "conntrack_count per namespace" "ta $ca/$na, tb $cb/$(ns_count tb), init $init_cnt -> $(cat /proc/sys/net/netfilter/nf_conntrack_count)"
fi
# Statistics are the namespace's: a port unreachable about no connection
# is counted in `icmp_error` (nf_conntrack_in() counts `error` when
# nf_conntrack_handle_icmp() refuses it), once in ta, twice in tb, in the
# tracker of the namespace that sends it. (`insert`, counted here before,
# is only ever ctnetlink's in the kernel's 6.12, so rnf leaves it at 0.)
unreach_about_nothing() {
    in_ns "$1" rnf-udp forge-unreach --to 10.9.0.2 --inner-src 10.9.0.2 --inner-dst 10.9.0.1 \
        --inner-sport "$2" --inner-dport 7000 >/dev/null 2>&1
}
unreach_about_nothing ta 40790
unreach_about_nothing tb 40791
unreach_about_nothing tb 40792
if [ "$(stat_col icmp_error ta)" -eq 1 ] && [ "$(stat_col icmp_error tb)" -eq 2 ] &&
    [ "$(stat_col icmp_error init)" -eq "$init_err" ]; then
    pass "statistics per namespace: icmp_error ta 1, tb 2, the initial namespace +0"
else
    fail "statistics per namespace" "icmp_error: ta $(stat_col icmp_error ta), tb $(stat_col icmp_error tb), init $init_err -> $(stat_col icmp_error init)"
fi
# The flow is unreplied: ta's entry lives 3 s, tb's 60 s.
if wait_for 100 ct_lacks ta 'sport=40700 dport=7000' && ct_has tb 'sport=40700 dport=7000'; then
    pass "ta's entry expired after its 3 s udp_timeout, tb's (60 s) is still there"
else
    fail "per-namespace timeouts take effect" "ta: $(ct ta | tr '\n' '|') tb: $(ct tb | grep -c 40700)"
fi

# all_consistent: conntrack_count_all is the sum of the live namespaces' counts.
all_consistent() {
    _sum=0
    for _ns in init "$@"; do
        _sum=$((_sum + $(ns_count "$_ns")))
    done
    _all=$(cat /proc/sys/net/rnf/conntrack_count_all)
    echo "sum $_sum, conntrack_count_all $_all" >/tmp/consistent
    [ "$_sum" -eq "$_all" ]
}
all0=$(cat /proc/sys/net/rnf/conntrack_count_all)
gone=$(($(ns_count tb) + $(ns_count ub)))
init_cnt=$(cat /proc/sys/net/netfilter/nf_conntrack_count)
ns_unwatch tb
ns_unwatch ub
ip netns del tb
ip netns del ub
# all_below N: fewer than N connections in all namespaces together.
all_below() {
    [ "$(cat /proc/sys/net/rnf/conntrack_count_all)" -lt "$1" ]
}
if [ "$gone" -ge 21 ] && wait_for 100 all_below $((all0 - gone + 1)) &&
    wait_for 30 all_consistent client router server ta ua &&
    [ "$(cat /proc/sys/net/netfilter/nf_conntrack_count)" = "$init_cnt" ]; then
    pass "a namespace deleted with $gone live entries frees them ($all0 -> $(cat /proc/sys/net/rnf/conntrack_count_all) in all namespaces, the rest consistent)"
else
    fail "namespace teardown frees its entries" "had $gone, all $all0 -> $(cat /proc/sys/net/rnf/conntrack_count_all); $(cat /tmp/consistent)"
fi
ns_unwatch ta
ns_unwatch ua
ip netns del ta
ip netns del ua

# --- forged ICMP errors: RELATED only when the outer destination fits ------------------

# A forged error crosses up to three trackers, each counting in its own
# namespace's statistics (stat_col sums the three): the server's own
# (LOCAL_OUT, where the raw socket sends it), the router's (PRE_ROUTING) and,
# if it is forwarded, the client's (PRE_ROUTING). Each namespace tracks the
# flow, so each classifies the error the same way.

# forged_unreach TO CLIENT SERVER SPORT [-6]: from the server, a port
# unreachable about the UDP flow CLIENT:SPORT -> SERVER:5997, sent to TO.
forged_unreach() {
    in_ns server rnf-udp forge-unreach ${5:+"$5"} --to "$1" --inner-src "$2" --inner-dst "$3" \
        --inner-sport "$4" --inner-dport 5997
}

# forged_errors FAMILY CLIENT SERVER ROUTER_SERVER_SIDE SPORT [-6]: a replied UDP
# flow, then the same forged error addressed to the router (not RELATED: the
# connection's reply goes to CLIENT) and to the client (RELATED).
forged_errors() {
    if ! in_ns client rnf-udp send "$3" 5997 --size 16 --sport "$5" --expect-reply --timeout 5 >/dev/null ||
        ! ct_has router " udp .* sport=$5 dport=5997 src="; then
        fail "$1 flow for the forged errors" "$(ct router | grep "sport=$5 " | tr '\n' '|')"
        return
    fi
    _rel=$(stat_col related)
    _err=$(stat_col icmp_error)
    if ! forged_unreach "$4" "$2" "$3" "$5" ${6:+"$6"} >/dev/null; then
        fail "$1 forged error to the router sent" "rnf-udp forge-unreach failed"
    elif wait_for 30 stat_above icmp_error $((_err + 1)) && [ "$(stat_col related)" -eq "$_rel" ]; then
        pass "$1 forged port unreachable to the router ($4) is not RELATED, counted in icmp_error"
    else
        fail "$1 forged error to the router is not RELATED" \
            "related $_rel -> $(stat_col related), icmp_error $_err -> $(stat_col icmp_error) (want +0, +2)"
    fi
    _rel=$(stat_col related)
    _err=$(stat_col icmp_error)
    if ! forged_unreach "$2" "$2" "$3" "$5" ${6:+"$6"} >/dev/null; then
        fail "$1 forged error to the client sent" "rnf-udp forge-unreach failed"
    elif wait_for 30 stat_above related $((_rel + 2)) && [ "$(stat_col icmp_error)" -eq "$_err" ]; then
        pass "$1 the same error sent to the client ($2) is RELATED in server, router and client"
    else
        fail "$1 forged error to the client is RELATED" \
            "related $_rel -> $(stat_col related), icmp_error $_err -> $(stat_col icmp_error) (want +3, +0)"
    fi
}

# Unreplied and replied-but-not-ASSURED UDP flows live udp_timeout (4 s
# here); under emulation the steps below may take longer than that.
udp_timeout_set 30
bg_start /tmp/forge4-server.log in_ns server rnf-udp serve "$SERVER4" 5997
wait_for 50 grep -q listening /tmp/forge4-server.log
bg_start /tmp/forge6-server.log in_ns server rnf-udp serve -6 "$SERVER6" 5997
wait_for 50 grep -q listening /tmp/forge6-server.log
forged_errors ICMP "$CLIENT4" "$SERVER4" "$ROUTER4_SERVER" 40500
forged_errors ICMPv6 "$CLIENT6" "$SERVER6" "$ROUTER6_SERVER" 40501 -6
udp_timeout_set "$UDP_TIMEOUT"

# --- an out-of-window RST leaves TCP ESTABLISHED; the exact RST closes it --------------

bg_start /tmp/rst-server.log in_ns server sh -c "sleep 30 | nc -l -p 8090"
wait_for 50 in_ns server sh -c "netstat -ltn | grep -q ':8090 '"
bg_start /tmp/rst-client.log in_ns client rnf-udp tcp-hold "$SERVER4" 8090 --sport 40600 --secs 12 --abort
hold=$RNF_BG_PID
est="^ipv4 +2 tcp +6 [0-9]+ ESTABLISHED src=$CLIENT4 dst=$SERVER4 sport=40600 dport=8090 src=$SERVER4 dst=$CLIENT4 sport=8090 dport=40600 \[ASSURED\] "
expect_ct "TCP to be reset is ESTABLISHED and ASSURED" router "$est"
inv=$(stat_col invalid)
# Whatever the server's initial sequence number, one of the two is below what
# the client has acknowledged and the other far above the window.
for seq in 1 2147483647; do
    check "forged RST with seq $seq sent" in_ns server rnf-udp forge-rst --src "$SERVER4" --dst "$CLIENT4" \
        --sport 8090 --dport 40600 --seq "$seq"
done
# Each RST is INVALID in the server's namespace and in the router (and again
# in the client's, which it reaches): at least four counts.
if wait_for 30 stat_above invalid $((inv + 3)) && ct_has router "$est"; then
    pass "out-of-window RSTs are INVALID and leave the connection ESTABLISHED (invalid +$(($(stat_col invalid) - inv)))"
else
    fail "out-of-window RSTs leave the connection ESTABLISHED" \
        "invalid $inv -> $(stat_col invalid); $(ct router | grep 'sport=40600' | tr '\n' '|')"
fi
if wait_pid "$hold" 200; then
    pass "client held the connection and aborted it"
else
    fail "client held the connection and aborted it" "$(tr '\n' ' ' </tmp/rst-client.log)"
fi
expect_ct "the client's exact RST closes the connection (CLOSE)" router \
    "^ipv4 +2 tcp +6 [0-9]+ CLOSE src=$CLIENT4 dst=$SERVER4 sport=40600 dport=8090 "

# --- namespaces are separate -------------------------------------------------------

if cat /proc/net/rnf_conntrack | grep -q "$CLIENT4"; then
    fail "init namespace does not see the router's connections" "$(grep "$CLIENT4" /proc/net/rnf_conntrack)"
else
    pass "init namespace does not see the router's connections"
fi

echo "--- router's /proc/net/rnf_conntrack"
ct router

# --- unload in reverse order, with live entries and traffic flowing --------------------

bg_start /tmp/ping-flow.log in_ns client ping -i 0.05 -c 400 "$SERVER4"
bg_start /tmp/ping6-flow.log in_ns client ping -6 -i 0.05 -c 400 "$SERVER6"
bg_start /tmp/udp-flow.log in_ns client rnf-udp send "$SERVER4" 5400 --size 16 --sport 40401 --count 4000
sleep 2
live=$(cat /proc/sys/net/rnf/conntrack_count_all)
if modload -r -l "$LIST"; then
    pass "loader removes the set with $live live entries and traffic flowing"
else
    fail "loader removes the set under traffic" "exit status $?"
fi
if in_ns client ping -c 1 -W 5 "$SERVER4" >/dev/null; then
    pass "traffic still flows after the unload"
else
    fail "traffic still flows after the unload" "ping failed"
fi
topology_down

left=$(grep -E '^(rnf_|nf_defrag)' /proc/modules | cut -d' ' -f1 | tr '\n' ' ')
if [ -z "$left" ]; then
    pass "nothing left loaded"
else
    fail "nothing left loaded" "$left"
fi
# --- a sysctl and a parameter survive --save, --remove and a new load -----------------

modload -l "$LIST"
echo 77 >/proc/sys/net/netfilter/nf_conntrack_udp_timeout_stream
echo 9 >/sys/module/rnf_conntrack/parameters/icmp_timeout
if [ "$(cat /sys/module/rnf_conntrack/parameters/udp_timeout_stream)" = 77 ] &&
    [ "$(cat /proc/sys/net/netfilter/nf_conntrack_icmp_timeout)" = 9 ]; then
    pass "sysctl and module parameter are the same setting"
else
    fail "sysctl and module parameter are the same setting" \
        "param udp_timeout_stream=$(cat /sys/module/rnf_conntrack/parameters/udp_timeout_stream)"
fi
check "loader saves the parameters" rnf-modload --save rnf_conntrack
modload -r -l "$LIST"
modload -l "$LIST"
s77=$(cat /proc/sys/net/netfilter/nf_conntrack_udp_timeout_stream 2>/dev/null)
s9=$(cat /proc/sys/net/netfilter/nf_conntrack_icmp_timeout 2>/dev/null)
if [ "$s77" = 77 ] && [ "$s9" = 9 ]; then
    pass "values set by sysctl and by parameter survive remove and reload"
else
    fail "settings survive a reload" "udp_timeout_stream=$s77 icmp_timeout=$s9; options: $(cat "$OPTS")"
fi
modload -r -l "$LIST"

counts=$(dmesg | grep 'rnf_nat: packets by conntrack state' | head -n 1)
echo "$counts"
new=$(echo "$counts" | sed -n 's/.* new=\([0-9]*\).*/\1/p')
est=$(echo "$counts" | sed -n 's/.* established=\([0-9]*\).*/\1/p')
rep=$(echo "$counts" | sed -n 's/.* reply=\([0-9]*\).*/\1/p')
if [ "${new:-0}" -gt 0 ] && [ "${est:-0}" -gt 0 ] && [ "${rep:-0}" -gt 0 ]; then
    pass "rnf_nat saw NEW, ESTABLISHED and reply packets (the connection the skb carries)"
else
    fail "rnf_nat classification" "'$counts'"
fi

summary
