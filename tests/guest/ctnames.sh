# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
#
# Guest test of the kernel's conntrack names (issue 14): what LuCI, firmware
# scripts and an admin's sysctl.conf read and write, with rnf_conntrack in
# place of nf_conntrack:
#
#   /proc/net/nf_conntrack          the listing (LuCI's parser), OpenWrt's
#                                   flush writes (f, an address)
#   /proc/net/stat/nf_conntrack     the statistics columns
#   /proc/sys/net/netfilter/nf_conntrack_*, /proc/sys/net/nf_conntrack_max
#
# It runs in one of two modes, chosen by CT (from the environment, or CT=...
# on the kernel command line: vm-test.sh -a CT=kernel):
#
#   CT=rnf     (default) first the kernel's nf_conntrack (modprobe
#              enable_hooks=1, so it tracks without rules) as the oracle:
#              its sysctl names, modes and defaults, its statistics header,
#              and the listing of a fixed set of flows (ping, ping6, UDP
#              both families, a held TCP connection) with accounting on,
#              recorded; it is unloaded, rnf_conntrack loaded by rnf-modload,
#              and the same is compared, then rnf's own checks: flushes,
#              nf_conntrack_max, a timeout, tcp_loose, log_invalid, and the
#              settings kept by rnf-modload --save across --remove and a new
#              load.
#   CT=kernel  the kernel's nf_conntrack alone, through the checks that do
#              not need rnf: what the script expects of the kernel (a write
#              to /proc/net/nf_conntrack is EACCES in mainline, the limit,
#              the timeout, tcp_loose and the log) holds there too.
#
# The topology is lib.sh's (client -> router -> server); the router's table
# is the one read.
#
# By hand: make vm-run SCRIPT=tests/guest/ctnames.sh (rnf), or
#   scripts/vm/vm-test.sh tests/guest/ctnames.sh -a CT=kernel -t 900

. "$(dirname "$0")/lib.sh"

KVER=$(uname -r)
KNF=/lib/modules/$KVER/kernel/net
OPTS=/etc/rnf/modload.conf
mode_var CT rnf
echo "ctnames: CT=$CT"

# Names the kernel registers under /proc/sys/net/netfilter/nf_conntrack_*
# that rnf_conntrack does not provide, each for a feature rnf lacks. Any
# other name missing fails the run.
ALLOWED_MISSING="
nf_conntrack_expect_max
nf_conntrack_sctp_timeout_closed
nf_conntrack_sctp_timeout_cookie_wait
nf_conntrack_sctp_timeout_cookie_echoed
nf_conntrack_sctp_timeout_established
nf_conntrack_sctp_timeout_shutdown_sent
nf_conntrack_sctp_timeout_shutdown_recd
nf_conntrack_sctp_timeout_shutdown_ack_sent
nf_conntrack_sctp_timeout_heartbeat_sent
nf_conntrack_dccp_timeout_request
nf_conntrack_dccp_timeout_respond
nf_conntrack_dccp_timeout_partopen
nf_conntrack_dccp_timeout_open
nf_conntrack_dccp_timeout_closereq
nf_conntrack_dccp_timeout_closing
nf_conntrack_dccp_timeout_timewait
nf_conntrack_dccp_loose
nf_conntrack_gre_timeout
nf_conntrack_gre_timeout_stream
nf_conntrack_events
nf_conntrack_timestamp
"
# Why: expect_max limits expectations, which only conntrack helpers create
# (rnf has none). SCTP and DCCP (and GRE, where the kernel has it) are
# tracked by address as generic protocols, with nf_conntrack_generic_timeout.
# events (ctnetlink notifications) and timestamp are options the reference
# kernel leaves out; rnf has neither.

# --- helpers ---------------------------------------------------------------------

# expect_eq NAME GOT WANT
expect_eq() {
    if [ "$2" = "$3" ]; then
        pass "$1"
    else
        fail "$1" "got '$2', want '$3'"
    fi
}

# kmods_load: the kernel's nf_conntrack, tracking in every namespace.
kmods_load() {
    modprobe nf_conntrack enable_hooks=1
}

# kmods_remove: nf_conntrack goes (its dependencies, nf_defrag_*, may stay:
# rnf_conntrack uses them too).
kmods_remove() {
    rmmod nf_conntrack && ! grep -q '^nf_conntrack ' /proc/modules
}

# shellcheck disable=SC2120 # check and the save section pass --remove
rnf_modload() {
    rnf-modload "$@" /lib/rnf/rnf_conntrack.ko "$KNF/ipv4/netfilter" "$KNF/ipv6/netfilter"
}

# names_of NS OUT: "name mode value" of every nf_conntrack_* sysctl in NS
# (init: the initial namespace), sorted, into OUT.
names_of() {
    _cmd='cd /proc/sys/net/netfilter && for f in nf_conntrack_*; do
        echo "$f $(stat -c %a "$f") $(cat "$f")"; done | sort'
    if [ "$1" = init ]; then
        sh -c "$_cmd" >"$2"
    else
        in_ns "$1" sh -c "$_cmd" >"$2"
    fi
}

# record PHASE: the names, modes and defaults of the initial namespace and
# of a new one, the statistics header and the files' modes, into /tmp/PHASE.*.
record() {
    names_of init "/tmp/$1.names-init"
    ip netns add probe
    names_of probe "/tmp/$1.names-ns"
    in_ns probe sh -c 'ls /proc/sys/net/nf_conntrack_max 2>&1' >"/tmp/$1.netmax-ns"
    ip netns del probe
    head -n 1 /proc/net/stat/nf_conntrack >"/tmp/$1.stat-header"
    stat -c '%a %u %g' /proc/net/nf_conntrack >"/tmp/$1.proc-mode"
    cat /proc/sys/net/nf_conntrack_max >"/tmp/$1.netmax" 2>&1
}

# ct NS: NS's /proc/net/nf_conntrack.
ct() {
    in_ns "${1:-router}" cat /proc/net/nf_conntrack
}

ct_has() {
    ct "$1" | grep -Eq -- "$2"
}

ct_lacks() {
    ! ct_has "$1" "$2"
}

# count_of NS: nf_conntrack_count in NS.
count_of() {
    in_ns "$1" cat /proc/sys/net/netfilter/nf_conntrack_count
}

# stat_col NS NAME: column NAME of NS's /proc/net/stat/nf_conntrack, summed
# over the CPUs (the values are hex).
stat_col() {
    _sum=0
    for _v in $(in_ns "$1" cat /proc/net/stat/nf_conntrack |
        awk -v n="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == n) c = i; next } c { print $c }'); do
        _sum=$((_sum + 0x$_v))
    done
    echo "$_sum"
}

# luci FILE: LuCI's reading of a listing (luci.sys.net.conntrack): the
# lines its pattern ^(ipv[46]) +([0-9]+) +\S+ +([0-9]+)( +.+)$ takes,
# TIME_WAIT ones left out, as "family l3 l4 src dst sport dport packets
# bytes" (the first src/dst/sport/dport, packets and bytes summed over both
# directions).
luci() {
    awk '{
        if (!match($0, /^ipv[46] +[0-9]+ +[^ ]+ +[0-9]+ +.+$/)) next
        fam = $1; l3 = $2; l4 = $4
        rest = $0; sub(/^ipv[46] +[0-9]+ +[^ ]+ +[0-9]+ +/, "", rest)
        if (rest ~ /^[0-9]+ +/) sub(/^[0-9]+ +/, "", rest)
        if (rest ~ /^TIME_WAIT /) next
        src = dst = sport = dport = "-"; p = b = 0
        n = split(rest, w, " ")
        for (i = 1; i <= n; i++) {
            k = w[i]; v = k; sub(/=.*/, "", k); sub(/^[^=]*=/, "", v)
            if (k == "src" && src == "-") src = v
            else if (k == "dst" && dst == "-") dst = v
            else if (k == "sport" && sport == "-") sport = v
            else if (k == "dport" && dport == "-") dport = v
            else if (k == "packets") p += v
            else if (k == "bytes") b += v
        }
        print fam, l3, l4, src, dst, sport, dport, p, b
    }' "$1" | sort
}

# masked FILE: the listing with what varies from run to run masked (the
# seconds left, ICMP identifiers, and the held TCP connection's counters:
# how many segments it has exchanged depends on how long it has been up),
# sorted.
masked() {
    sed -E 's/^(ipv[46] +[0-9]+ +[a-z0-9]+ +[0-9]+) [0-9]+ /\1 T /; s/ id=[0-9]+/ id=I/g
        / tcp /s/ packets=[0-9]+ bytes=[0-9]+/ packets=P bytes=B/g' "$1" | sort
}

# luci_masked FILE: luci FILE with the TCP connection's counters masked.
luci_masked() {
    luci "$1" | awk '$3 == 6 { $8 = "P"; $9 = "B" } { print }'
}

# flows: the fixed set of connections the router tracks (its accounting on,
# and its ICMP and UDP timeouts long enough that none expires while a slow
# emulated guest works through the checks): 2 pings each family, a UDP
# request and reply each family (sport 40100, 40101), and a TCP connection
# held open (sport 40200); echo servers stay up until topology_down.
flows() {
    sysctl_ns router net.netfilter.nf_conntrack_acct=1 net.netfilter.nf_conntrack_icmp_timeout=600 \
        net.netfilter.nf_conntrack_icmpv6_timeout=600 net.netfilter.nf_conntrack_udp_timeout=600
    bg_ns /tmp/udp4.log server rnf-udp serve "$SERVER4" 5300
    bg_ns /tmp/udp6.log server rnf-udp serve -6 "$SERVER6" 5300
    bg_ns /tmp/tcp.log server sh -c "sleep 60 | nc -l -p 8090"
    wait_for 50 grep -q listening /tmp/udp4.log
    wait_for 50 grep -q listening /tmp/udp6.log
    wait_for 50 in_ns server sh -c "netstat -ltn | grep -q ':8090 '"
    in_ns client ping -c 2 -i 0.2 "$SERVER4" >/dev/null
    in_ns client ping -6 -c 2 -i 0.2 "$SERVER6" >/dev/null
    in_ns client rnf-udp send "$SERVER4" 5300 --size 16 --sport 40100 --expect-reply --timeout 5 >/dev/null
    in_ns client rnf-udp send "$SERVER6" 5300 --size 16 --sport 40101 --expect-reply --timeout 5 >/dev/null
    bg_ns /tmp/hold.log client rnf-udp tcp-hold "$SERVER4" 8090 --sport 40200 --secs 50
    wait_for 50 ct_has router "ESTABLISHED src=$CLIENT4 dst=$SERVER4 sport=40200 dport=8090 .*\[ASSURED\]"
    # Let the last ACKs land before the listing is taken.
    sleep 1
}

# --- phase 1 (CT=rnf): the kernel's nf_conntrack, recorded ------------------------

if [ "$CT" = rnf ]; then
    if kmods_load && record kernel && topology_up; then
        flows
        ct router >/tmp/kernel.ct
        topology_down
        pass "oracle: the kernel's nf_conntrack recorded ($(wc -l </tmp/kernel.ct) connections)"
    else
        fail "oracle: the kernel's nf_conntrack" "could not load or record it"
        topology_down
    fi
    if ! kmods_remove; then
        fail "oracle: nf_conntrack unloaded" "$(grep '^nf_conntrack ' /proc/modules)"
        summary
        exit 1
    fi
fi

# --- load what is tested -----------------------------------------------------------

case "$CT" in
    kernel)
        if kmods_load; then
            pass "the kernel's nf_conntrack loaded (enable_hooks=1)"
        else
            fail "the kernel's nf_conntrack loaded" "modprobe failed"
            summary
            exit 1
        fi
        ;;
    rnf)
        mkdir -p /etc/rnf
        : >"$OPTS"
        if rnf_modload; then
            pass "rnf-modload loads rnf_conntrack"
        else
            fail "rnf-modload loads rnf_conntrack" "exit status $?"
            summary
            exit 1
        fi
        check "the kernel's nf_conntrack is not loaded" sh -c '! grep -q "^nf_conntrack " /proc/modules'
        ;;
    *)
        fail "CT" "unknown CT=$CT (rnf or kernel)"
        summary
        exit 1
        ;;
esac
record "$CT"

# --- the names ------------------------------------------------------------------------

expect_eq "/proc/net/nf_conntrack is 0440, owned by root" "$(cat "/tmp/$CT.proc-mode")" "440 0 0"
expect_eq "/proc/net/stat/nf_conntrack has the kernel's header" "$(cat "/tmp/$CT.stat-header")" \
    "entries  clashres found new invalid ignore delete chainlength insert insert_failed drop early_drop icmp_error  expect_new expect_create expect_delete search_restart"
ncpu=$(grep -c '^processor' /proc/cpuinfo)
lines=$(wc -l </proc/net/stat/nf_conntrack)
if [ "$lines" -gt "$ncpu" ] && awk 'NR > 1 && NF != 17 { bad = 1 } NR > 1 && $0 !~ /^[0-9a-f ]+$/ { bad = 1 } END { exit bad }' \
    /proc/net/stat/nf_conntrack; then
    pass "/proc/net/stat/nf_conntrack: one line of 17 hex columns per possible CPU ($((lines - 1)))"
else
    fail "/proc/net/stat/nf_conntrack lines" "$(tr '\n' '|' </proc/net/stat/nf_conntrack)"
fi
max=$(cat /proc/sys/net/netfilter/nf_conntrack_max)
if [ "$(cat "/tmp/$CT.netmax")" = "$max" ] && [ "$max" -gt 0 ]; then
    pass "net.nf_conntrack_max is net.netfilter.nf_conntrack_max ($max)"
else
    fail "net.nf_conntrack_max" "$(cat "/tmp/$CT.netmax"), net.netfilter: $max"
fi
if grep -q 'No such file' "/tmp/$CT.netmax-ns"; then
    pass "net.nf_conntrack_max exists in the initial namespace only"
else
    fail "net.nf_conntrack_max only in the initial namespace" "$(cat "/tmp/$CT.netmax-ns")"
fi
for f in count max buckets; do
    v=$(cat "/proc/sys/net/netfilter/nf_conntrack_$f" 2>/dev/null)
    case "$v" in
        [0-9]*) pass "nf_conntrack_$f reads $v" ;;
        *) fail "nf_conntrack_$f" "'$v'" ;;
    esac
done

if [ "$CT" = rnf ]; then
    # Every name (with its mode and default) the kernel has, rnf has, but
    # the allowed ones; and rnf invents none under the kernel's prefix.
    for where in init ns; do
        cut -d' ' -f1 "/tmp/kernel.names-$where" >/tmp/k.names
        cut -d' ' -f1 "/tmp/rnf.names-$where" >/tmp/r.names
        missing=$(grep -vxF -f /tmp/r.names /tmp/k.names)
        unexpected=
        for n in $missing; do
            echo "ctnames: $where: the kernel has $n, rnf does not"
            echo "$ALLOWED_MISSING" | grep -qx "$n" || unexpected="$unexpected $n"
        done
        if [ -z "$unexpected" ]; then
            pass "$where namespace: every kernel name is there but the $(echo "$missing" | grep -c .) allowed ones"
        else
            fail "$where namespace: names missing" "$unexpected"
        fi
        extra=$(grep -vxF -f /tmp/k.names /tmp/r.names | tr '\n' ' ')
        expect_eq "$where namespace: no nf_conntrack_* name the kernel lacks" "$extra" ""
        # Same mode and default value for the names both have.
        diffs=$(awk 'NR == FNR { k[$1] = $0; next } ($1 in k) && k[$1] != $0 { print "kernel [" k[$1] "] rnf [" $0 "]" }' \
            "/tmp/kernel.names-$where" "/tmp/rnf.names-$where")
        if [ -z "$diffs" ]; then
            pass "$where namespace: the same modes and defaults as the kernel's ($(wc -l </tmp/r.names) names)"
        else
            fail "$where namespace: modes and defaults" "$(echo "$diffs" | tr '\n' '|')"
        fi
    done
    for f in netmax netmax-ns proc-mode stat-header; do
        expect_eq "the same $f as the kernel's" "$(cat /tmp/rnf.$f)" "$(cat /tmp/kernel.$f)"
    done
fi

# --- the listing, as LuCI reads it --------------------------------------------------

if ! topology_up; then
    fail topology_up "see above"
    topology_down
    summary
    exit 1
fi
flows
ct router >"/tmp/$CT.ct"
echo "--- the router's /proc/net/nf_conntrack ($CT)"
cat "/tmp/$CT.ct"
luci "/tmp/$CT.ct" >"/tmp/$CT.luci"
echo "--- as LuCI reads it"
cat "/tmp/$CT.luci"
want="ipv4 2 1 $CLIENT4 $SERVER4 - - 4 336
ipv4 2 17 $CLIENT4 $SERVER4 40100 5300 2 88
ipv6 10 17 fd01:0000:0000:0000:0000:0000:0000:0002 fd02:0000:0000:0000:0000:0000:0000:0002 40101 5300 2 128
ipv6 10 58 fd01:0000:0000:0000:0000:0000:0000:0002 fd02:0000:0000:0000:0000:0000:0000:0002 - - 4 416"
got=$(grep -v ' 6 ' "/tmp/$CT.luci")
expect_eq "LuCI's pattern reads the ping, ping6 and UDP flows with their packets and bytes" "$got" "$want"
if grep -Eq "^ipv4 2 6 $CLIENT4 $SERVER4 40200 8090 ([3-9]|[1-9][0-9]+) [1-9][0-9]+$" "/tmp/$CT.luci"; then
    pass "LuCI's pattern reads the held TCP connection"
else
    fail "LuCI reads the TCP connection" "$(grep ' 6 ' "/tmp/$CT.luci")"
fi
if [ "$CT" = rnf ]; then
    luci_masked /tmp/kernel.ct >/tmp/kernel.lucim
    luci_masked /tmp/rnf.ct >/tmp/rnf.lucim
    if cmp -s /tmp/kernel.lucim /tmp/rnf.lucim; then
        pass "LuCI reads the same families, protocols, addresses, ports and counters from rnf as from the kernel"
    else
        fail "LuCI reads the same from rnf" "$(diff /tmp/kernel.lucim /tmp/rnf.lucim | tr '\n' '|')"
    fi
    masked /tmp/kernel.ct >/tmp/kernel.masked
    masked /tmp/rnf.ct >/tmp/rnf.masked
    if cmp -s /tmp/kernel.masked /tmp/rnf.masked; then
        pass "the listing is the kernel's, line for line (seconds left and ICMP ids masked)"
    else
        fail "the listing is the kernel's" "diff:"
        diff /tmp/kernel.masked /tmp/rnf.masked | sed 's/^/    /'
    fi
fi
if grep -q ' mark=0 zone=0 use=2$' "/tmp/$CT.ct" && ! grep -v ' mark=0 zone=0 use=[0-9]*$' "/tmp/$CT.ct" | grep -q .; then
    pass "every line ends mark=0 zone=0 use=N, an idle one use=2"
else
    fail "line ends" "$(tr '\n' '|' <"/tmp/$CT.ct")"
fi

# --- writes to /proc/net/nf_conntrack ----------------------------------------------

# write_ct NS TEXT: writes TEXT to NS's /proc/net/nf_conntrack; prints the
# shell's error, if any.
write_ct() {
    in_ns "$1" sh -c "echo '$2' >/proc/net/nf_conntrack" 2>&1
}

before=$(count_of router)
case "$CT" in
    kernel)
        out=$(write_ct router f)
        case "$out" in
            *"Permission denied"*) pass "mainline: a write to /proc/net/nf_conntrack is refused (EACCES, no write handler)" ;;
            *) fail "mainline: a write is refused with EACCES" "'$out'" ;;
        esac
        expect_eq "the refused write flushed nothing" "$(count_of router)" "$before"
        ;;
    rnf)
        # A flow of the router itself to the client, which the server's
        # address does not touch.
        in_ns router ping -c 1 "$CLIENT4" >/dev/null
        out=$(in_ns router rnf-udp nocap sh -c "echo f >/proc/net/nf_conntrack" 2>&1)
        case "$out" in
            *"Operation not permitted"*) pass "a writer without CAP_NET_ADMIN is refused (EPERM)" ;;
            *) fail "a writer without CAP_NET_ADMIN is refused" "'$out'" ;;
        esac
        out=$(write_ct router 10.2.0.300)
        case "$out" in
            *"Invalid argument"*) pass "a malformed address is refused (EINVAL)" ;;
            *) fail "a malformed address is refused with EINVAL" "'$out'" ;;
        esac
        expect_eq "the refused writes flushed nothing" "$(count_of router)" "$((before + 1))"
        out=$(write_ct router "$SERVER6")
        if [ -z "$out" ] && ct_lacks router "^ipv6 .* src=fd01:0000:0000:0000:0000:0000:0000:0002 dst=fd02" &&
            ct_has router "^ipv4 .* src=$CLIENT4 dst=$SERVER4 " && ct_has router "src=$ROUTER4_CLIENT dst=$CLIENT4 "; then
            pass "writing $SERVER6 flushes its IPv6 connections, the IPv4 ones stay"
        else
            fail "flush by IPv6 address" "'$out': $(ct router | tr '\n' '|')"
        fi
        out=$(write_ct router "$SERVER4")
        if [ -z "$out" ] && ct_lacks router "dst=$SERVER4 " && ct_has router "src=$ROUTER4_CLIENT dst=$CLIENT4 "; then
            pass "writing $SERVER4 flushes the connections with it in a tuple, the router's own ping to the client stays"
        else
            fail "flush by IPv4 address" "'$out': $(ct router | tr '\n' '|')"
        fi
        out=$(write_ct router f)
        if [ -z "$out" ] && [ "$(count_of router)" = 0 ] && [ -z "$(ct router)" ]; then
            pass "echo f >/proc/net/nf_conntrack empties the table (count 0)"
        else
            fail "echo f empties the table" "'$out', count $(count_of router): $(ct router | tr '\n' '|')"
        fi
        ;;
esac
topology_down

# --- nf_conntrack_max takes effect ----------------------------------------------------

topology_up
# A process in the router's namespace: its /proc/PID/net is the router's
# /proc/net, read without an `ip netns exec` per sample.
bg_ns /dev/null router sleep 100000
rpid=$RNF_BG_PID
wait_for 50 sh -c "[ \"\$(readlink /proc/$rpid/ns/net)\" != \"\$(readlink /proc/self/ns/net)\" ]"
max0=$(cat /proc/sys/net/netfilter/nf_conntrack_max)
sysctl -q -w net.netfilter.nf_conntrack_max=20
expect_eq "sysctl -w net.netfilter.nf_conntrack_max=20 reads back" "$(cat /proc/sys/net/netfilter/nf_conntrack_max)" 20
expect_eq "and net.nf_conntrack_max is the same setting" "$(cat /proc/sys/net/nf_conntrack_max)" 20
rstat=/proc/$rpid/net/stat/nf_conntrack
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
# The limit is every namespace's (nf_conntrack_max is global, each
# namespace's count is its own): the client's tracker refuses flows too,
# so the refusals are counted in both the client and the router.
ct_refusals() { echo $(($(stat_col client drop) + $(stat_col client early_drop) + $(stat_col router drop) + $(stat_col router early_drop))); }
drops=$(ct_refusals)
in_ns client rnf-udp send "$SERVER4" 6000 --size 8 --sport 20000 --flows 100 >/dev/null 2>&1
touch /tmp/flood.done
wait "$sampler"
peak=$(cat /tmp/flood.peak)
now=$(count_of router)
drops=$(($(ct_refusals) - drops))
# (The sampler may miss the flood on a fast machine: the count it left
# behind must be at the limit, and the tables must have refused some.)
if [ "$peak" -le 20 ] && [ "$now" -le 20 ] && [ "$now" -ge 15 ] && [ "$drops" -gt 0 ]; then
    pass "100 new flows never take the router's count above 20 (now $now, peak seen $peak, drop+early_drop in client and router +$drops)"
else
    fail "nf_conntrack_max 20 holds" "peak $peak, now $now, drop+early_drop +$drops"
fi
if dmesg | grep -q "table full, dropping packet"; then
    pass "a full table is reported in the kernel log"
else
    fail "a full table is reported" "no 'table full' line"
fi
sysctl -q -w net.netfilter.nf_conntrack_max="$max0"
in_ns router sysctl -q -w net.netfilter.nf_conntrack_max=50 2>/dev/null
expect_eq "nf_conntrack_max is read-only in a namespace" "$(cat /proc/sys/net/netfilter/nf_conntrack_max)" "$max0"

# --- a timeout takes effect -----------------------------------------------------------

sysctl_ns router net.netfilter.nf_conntrack_udp_timeout=3
sysctl_ns server net.netfilter.nf_conntrack_udp_timeout=3
sysctl_ns client net.netfilter.nf_conntrack_udp_timeout=3
in_ns client rnf-udp send "$SERVER4" 6001 --size 8 --sport 20500 >/dev/null 2>&1
if ct_has router "sport=20500 dport=6001" && wait_for 80 ct_lacks router "sport=20500 dport=6001"; then
    pass "an unreplied UDP flow leaves the listing after the router's nf_conntrack_udp_timeout (3 s)"
else
    fail "nf_conntrack_udp_timeout takes effect" "$(ct router | grep 'sport=20500' | tr '\n' '|')"
fi

# --- nf_conntrack_tcp_loose ----------------------------------------------------------------

# A connection whose entry expired in the router (an ESTABLISHED timeout of
# 2 s) sends its second line 6 s in: with tcp_loose 1 the router picks it
# up mid-stream, with 0 the segment is INVALID and nothing is tracked.
sysctl_ns router net.netfilter.nf_conntrack_tcp_timeout_established=2
for loose in 0 1; do
    port=$((8092 + loose))
    sysctl_ns router net.netfilter.nf_conntrack_tcp_loose=$loose
    bg_ns "/tmp/loose-$loose-server.log" server sh -c "sleep 30 | nc -l -p $port"
    wait_for 50 in_ns server sh -c "netstat -ltn | grep -q ':$port '"
    bg_ns "/tmp/loose-$loose-client.log" client sh -c "(echo a; sleep 6; echo b; sleep 1) | timeout 12 nc $SERVER4 $port"
    client=$RNF_BG_PID
    if wait_for 30 ct_has router "ESTABLISHED src=$CLIENT4 dst=$SERVER4 sport=[0-9]+ dport=$port " &&
        wait_for 50 ct_lacks router "dport=$port "; then
        inv=$(stat_col router invalid)
        wait_pid "$client" 150
        case "$loose" in
            0)
                if ct_lacks router "dport=$port " && [ "$(stat_col router invalid)" -gt "$inv" ]; then
                    pass "nf_conntrack_tcp_loose=0: a segment of a connection the router lost is INVALID, not picked up"
                else
                    fail "nf_conntrack_tcp_loose=0" "invalid $inv -> $(stat_col router invalid): $(ct router | grep "dport=$port " | tr '\n' '|')"
                fi
                ;;
            1)
                if ct_has router "src=$CLIENT4 dst=$SERVER4 sport=[0-9]+ dport=$port "; then
                    pass "nf_conntrack_tcp_loose=1: the router picks the connection up mid-stream"
                else
                    fail "nf_conntrack_tcp_loose=1 picks up" "$(ct router | tr '\n' '|')"
                fi
                ;;
        esac
    else
        fail "tcp_loose=$loose: the connection was tracked, then expired before its second line" \
            "$(ct router | grep "dport=$port " | tr '\n' '|')"
        wait_pid "$client" 150
    fi
done
sysctl_ns router net.netfilter.nf_conntrack_tcp_timeout_established=432000

# --- nf_conntrack_log_invalid ------------------------------------------------------------

modprobe nf_log_syslog
echo 1 >/proc/sys/net/netfilter/nf_log_all_netns
sysctl_ns router net.netfilter.nf_conntrack_log_invalid=6
bg_ns /tmp/rst-server.log server sh -c "sleep 30 | nc -l -p 8091"
wait_for 50 in_ns server sh -c "netstat -ltn | grep -q ':8091 '"
bg_ns /tmp/rst-client.log client rnf-udp tcp-hold "$SERVER4" 8091 --sport 40300 --secs 20
wait_for 50 ct_has router "ESTABLISHED src=$CLIENT4 dst=$SERVER4 sport=40300 dport=8091 .*\[ASSURED\]"
inv=$(stat_col router invalid)
logged=$(dmesg | grep -c 'nf_ct_proto_6: ')
# One of the two is below what the client has acknowledged, the other far
# above the window: at least one INVALID RST in the router.
for seq in 1 2147483647; do
    in_ns server rnf-udp forge-rst --src "$SERVER4" --dst "$CLIENT4" --sport 8091 --dport 40300 --seq "$seq"
done
if wait_for 30 sh -c "[ \$(dmesg | grep -c 'nf_ct_proto_6: ') -gt $logged ]" &&
    [ "$(stat_col router invalid)" -gt "$inv" ]; then
    pass "nf_conntrack_log_invalid=6: the router logs its INVALID TCP ($(dmesg | grep 'nf_ct_proto_6: ' | tail -n 1 | cut -c1-80))"
else
    fail "nf_conntrack_log_invalid=6 logs" "invalid $inv -> $(stat_col router invalid), log lines $logged"
fi
sysctl_ns router net.netfilter.nf_conntrack_log_invalid=0
topology_down

# --- the settings survive rnf-modload --save, --remove and a new load (rnf) -------------

if [ "$CT" = rnf ]; then
    sysctl -q -w net.netfilter.nf_conntrack_max=333 net.netfilter.nf_conntrack_udp_timeout=17 \
        net.netfilter.nf_conntrack_acct=1 net.netfilter.nf_conntrack_tcp_be_liberal=1 \
        net.netfilter.nf_conntrack_buckets=1536 net.netfilter.nf_conntrack_log_invalid=17
    set_values="333 17 1 1 1536 17"
    read_values() {
        for n in max udp_timeout acct tcp_be_liberal buckets log_invalid; do
            cat "/proc/sys/net/netfilter/nf_conntrack_$n" 2>/dev/null
        done | tr '\n' ' ' | sed 's/ $//'
    }
    expect_eq "the settings took (max, udp_timeout, acct, tcp_be_liberal, buckets, log_invalid)" "$(read_values)" \
        "$set_values"
    check "rnf-modload --save rnf_conntrack" rnf-modload --save rnf_conntrack
    echo "ctnames: $(cat "$OPTS")"
    check "rnf-modload --remove" rnf_modload --remove
    check "rnf_conntrack is gone" sh -c '! grep -q "^rnf_conntrack " /proc/modules'
    check "rnf-modload loads it again" rnf_modload
    expect_eq "after --save, --remove and a new load the settings are back" "$(read_values)" "$set_values"
    expect_eq "net.nf_conntrack_max too" "$(cat /proc/sys/net/nf_conntrack_max)" 333
    # The table grows, so nf_conntrack_max is not bounded by what it had at
    # load (333 here): the kernel's bound is INT_MAX, rnf's 2^30 - 1 (the
    # table's slot numbering), and a value between is refused with a log
    # line saying why.
    if sysctl -q -w net.netfilter.nf_conntrack_max=100000000 &&
        [ "$(cat /proc/sys/net/netfilter/nf_conntrack_max)" = 100000000 ]; then
        pass "nf_conntrack_max 100000000, far above the table at load, is taken"
    else
        fail "nf_conntrack_max above the table at load" "now $(cat /proc/sys/net/netfilter/nf_conntrack_max)"
    fi
    if ! sysctl -q -w net.netfilter.nf_conntrack_max=2000000000 2>/dev/null &&
        [ "$(cat /proc/sys/net/netfilter/nf_conntrack_max)" = 100000000 ] &&
        dmesg | grep -q 'nf_conntrack_max: at most 1073741823'; then
        pass "nf_conntrack_max above 2^30 - 1 is refused, and the log says why"
    else
        fail "nf_conntrack_max above 2^30 - 1" "now $(cat /proc/sys/net/netfilter/nf_conntrack_max)"
    fi
    check "rnf-modload --remove" rnf_modload --remove
else
    check "the kernel's nf_conntrack unloads" kmods_remove
fi

kernel_log_clean "kernel log: no oops, BUG, WARNING or lockdep report"
summary
