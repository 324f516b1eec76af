# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
#
# Guest test of the rule tables (issue 4): the stock iptables-legacy,
# ip6tables-legacy, -save and -restore of Debian's iptables 1.8.9 drive the
# filter tables through the ip_tables socket-option ABI.
#
# It runs against either implementation, chosen by TABLES (from the
# environment, or TABLES=... on the kernel command line, which the kernel
# hands to init as an environment variable: vm-test.sh -a TABLES=kernel):
#
#   TABLES=rnf     (default) rnf_conntrack + rnf_tables from /lib/rnf, loaded
#                  by rnf-modload; the kernel's ip_tables must stay unloaded
#   TABLES=kernel  the kernel's ip_tables, iptable_filter, ip6_tables,
#                  ip6table_filter, the xt_* matches and targets it needs and
#                  nf_conntrack: the reference that proves the test asserts
#                  the right things
#
# Covered: the empty listings and every chain command (-A -I -D -R -N -E -X
# -P -F -Z) against exact expected text; real traffic through the
# client/router/server namespaces of lib.sh (accept, REJECT with a reset and
# with ICMP/ICMPv6 codes, DROP, a stateful INPUT policy with -m state and with
# -m conntrack, LOG, multiport, comment, limit, icmp types) with exact
# per-rule packet counts; the matches and targets of a router's firewall
# (mark, connmark, MARK, CONNMARK, dscp, tos, iprange, length, tcpmss,
# pkttype, mac, addrtype, conntrack's tuples: tables-ext.sh) listed and
# saved, and on real traffic; a several-hundred-rule ruleset round trip through
# restore and save (tests/guest/data); malformed SET_REPLACE blobs (rnf-udp
# xt-replace) refused with the kernel's errno and the table unchanged; a
# process without CAP_NET_ADMIN refused; unloading with rules loaded.
#
# By hand: make vm-run SCRIPT=tests/guest/tables.sh (rnf), or
#   scripts/vm/vm-test.sh tables.sh -a TABLES=kernel

. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/tables-ext.sh"

KVER=$(uname -r)
DATA=$(dirname "$0")/data
KNF=/lib/modules/$KVER/kernel/net
mode_var TABLES rnf

ipt() { iptables-legacy "$@"; }
ip6t() { ip6tables-legacy "$@"; }

# pkts NS CMD CHAIN N: the packet counter of rule N of CHAIN in NS, from
# `CMD -vxnL CHAIN` (CMD: ns_ipt or ns_ip6t).
pkts() {
    "$2" "$1" -vxnL "$3" | awk -v n="$4" 'NR == n + 2 { print $1 }'
}

# expect_pkts NAME NS CMD CHAIN N COUNT: rule N of CHAIN counted exactly COUNT.
expect_pkts() {
    _got=$(pkts "$2" "$3" "$4" "$5")
    if [ "$_got" = "$6" ]; then
        pass "$1 (rule $5 of $4: $_got packets)"
    else
        fail "$1" "rule $5 of $4 counted '$_got' packets, want $6: $("$3" "$2" -vxnL "$4" | tr '\n' '|')"
    fi
}

# --- loading ---------------------------------------------------------------------

KERNEL_MODS="x_tables ip_tables iptable_filter ip6_tables ip6table_filter xt_tcpudp xt_multiport
    xt_comment xt_limit xt_state xt_conntrack nf_log_syslog xt_LOG nf_reject_ipv4 ipt_REJECT
    nf_reject_ipv6 ip6t_REJECT $EXT_KERNEL_MODS"

echo "tables: TABLES=$TABLES"
case "$TABLES" in
    kernel)
        _ok=yes
        for m in $KERNEL_MODS nf_conntrack; do
            modprobe "$m" || { _ok=no; echo "modprobe $m failed"; }
        done
        if [ "$_ok" = yes ]; then pass "kernel ip_tables and xt modules loaded"; else fail "kernel modules" "see above"; fi
        # Logging from a namespace other than init's is off by default.
        [ -w /proc/sys/net/netfilter/nf_log_all_netns ] && echo 1 >/proc/sys/net/netfilter/nf_log_all_netns
        TABLE_MODS="ip6table_filter iptable_filter"
        ;;
    rnf)
        if [ ! -f /lib/rnf/rnf_tables.ko ]; then
            fail "rnf_tables.ko present" "rnf_tables.ko not built (no /lib/rnf/rnf_tables.ko in the guest)"
            summary
            exit 1
        fi
        if rnf-modload /lib/rnf/rnf_tables.ko /lib/rnf "$KNF/ipv4/netfilter" "$KNF/ipv6/netfilter" "$KNF/netfilter"; then
            pass "rnf-modload loads rnf_tables and what it needs"
        else
            fail "rnf-modload loads rnf_tables" "exit status $?"
            summary
            exit 1
        fi
        check "rnf_conntrack loaded" grep -q '^rnf_conntrack ' /proc/modules
        TABLE_MODS=rnf_tables
        ;;
    *)
        fail "TABLES" "unknown TABLES=$TABLES (rnf or kernel)"
        summary
        exit 1
        ;;
esac

# --- empty tables and the chain commands (namespace fw) ----------------------------

ip netns add fw
in_ns fw ip link set lo up

EMPTY='Chain INPUT (policy ACCEPT 0 packets, 0 bytes)
 pkts bytes target     prot opt in     out     source               destination

Chain FORWARD (policy ACCEPT 0 packets, 0 bytes)
 pkts bytes target     prot opt in     out     source               destination

Chain OUTPUT (policy ACCEPT 0 packets, 0 bytes)
 pkts bytes target     prot opt in     out     source               destination'
expect_text "iptables-legacy -vnL lists the empty filter table" "$EMPTY" ns_ipt fw -vnL
expect_text "ip6tables-legacy -vnL lists the empty filter table" "$EMPTY" ns_ip6t fw -vnL
POLICIES='-P INPUT ACCEPT
-P FORWARD ACCEPT
-P OUTPUT ACCEPT'
expect_text "iptables-legacy -S of the empty table" "$POLICIES" ns_ipt fw -S
expect_text "ip6tables-legacy -S of the empty table" "$POLICIES" ns_ip6t fw -S

# chain_cmds CMD SRC DST: the same command sequence for either family.
chain_cmds() {
    _c=$1
    check "$_c -N web" "$_c" fw -N web
    check "$_c -A INPUT ... -j web" "$_c" fw -A INPUT -p tcp --dport 80 -j web
    check "$_c -A web" "$_c" fw -A web -s "$2" -j ACCEPT
    check "$_c -I web 1" "$_c" fw -I web 1 -p tcp --dport 81 -j DROP
    check "$_c -A INPUT -i eth+" "$_c" fw -A INPUT -i eth+ -p udp --dport 53 -j ACCEPT
    check "$_c -A FORWARD with inversions" "$_c" fw -A FORWARD ! -s "$2" -d "$3" -p tcp --syn -j DROP
    check "$_c -A OUTPUT -o lo" "$_c" fw -A OUTPUT -o lo -j ACCEPT
}

chain_cmds ns_ipt 10.0.0.0/8 10.1.2.3
expect_text "iptables -S shows -N, -A and -I as asked" '-P INPUT ACCEPT
-P FORWARD ACCEPT
-P OUTPUT ACCEPT
-N web
-A INPUT -p tcp -m tcp --dport 80 -j web
-A INPUT -i eth+ -p udp -m udp --dport 53 -j ACCEPT
-A FORWARD ! -s 10.0.0.0/8 -d 10.1.2.3/32 -p tcp -m tcp --tcp-flags FIN,SYN,RST,ACK SYN -j DROP
-A OUTPUT -o lo -j ACCEPT
-A web -p tcp -m tcp --dport 81 -j DROP
-A web -s 10.0.0.0/8 -j ACCEPT' ns_ipt fw -S
chain_cmds ns_ip6t fd00::/8 fd01::3
expect_text "ip6tables -S shows -N, -A and -I as asked" '-P INPUT ACCEPT
-P FORWARD ACCEPT
-P OUTPUT ACCEPT
-N web
-A INPUT -p tcp -m tcp --dport 80 -j web
-A INPUT -i eth+ -p udp -m udp --dport 53 -j ACCEPT
-A FORWARD ! -s fd00::/8 -d fd01::3/128 -p tcp -m tcp --tcp-flags FIN,SYN,RST,ACK SYN -j DROP
-A OUTPUT -o lo -j ACCEPT
-A web -p tcp -m tcp --dport 81 -j DROP
-A web -s fd00::/8 -j ACCEPT' ns_ip6t fw -S

# -R, -E, -P, -D, then -X refused while referenced, -F, -X.
for c in ns_ipt ns_ip6t; do
    check "$c -R INPUT 2" "$c" fw -R INPUT 2 -i eth+ -p udp --dport 54 -j DROP
    check "$c -E web www" "$c" fw -E web www
    check "$c -P FORWARD DROP" "$c" fw -P FORWARD DROP
    check "$c -D OUTPUT by rule" "$c" fw -D OUTPUT -o lo -j ACCEPT
    if "$c" fw -X www >/dev/null 2>&1; then
        fail "$c -X of a referenced chain is refused" "it succeeded"
    else
        pass "$c -X of a referenced chain is refused"
    fi
    check "$c -D INPUT 1" "$c" fw -D INPUT 1
done
expect_text "iptables -S after -R, -E, -P, -D" '-P INPUT ACCEPT
-P FORWARD DROP
-P OUTPUT ACCEPT
-N www
-A INPUT -i eth+ -p udp -m udp --dport 54 -j DROP
-A FORWARD ! -s 10.0.0.0/8 -d 10.1.2.3/32 -p tcp -m tcp --tcp-flags FIN,SYN,RST,ACK SYN -j DROP
-A www -p tcp -m tcp --dport 81 -j DROP
-A www -s 10.0.0.0/8 -j ACCEPT' ns_ipt fw -S
expect_text "ip6tables -S after -R, -E, -P, -D" '-P INPUT ACCEPT
-P FORWARD DROP
-P OUTPUT ACCEPT
-N www
-A INPUT -i eth+ -p udp -m udp --dport 54 -j DROP
-A FORWARD ! -s fd00::/8 -d fd01::3/128 -p tcp -m tcp --tcp-flags FIN,SYN,RST,ACK SYN -j DROP
-A www -p tcp -m tcp --dport 81 -j DROP
-A www -s fd00::/8 -j ACCEPT' ns_ip6t fw -S

# Counters and -Z: exactly 3 echo requests to 127.0.0.1 / ::1 (the replies
# are echo replies, not counted by the rule).
check "iptables -A INPUT icmp echo-request" ns_ipt fw -A INPUT -p icmp --icmp-type echo-request -j ACCEPT
check "ip6tables -A INPUT icmpv6 echo-request" ns_ip6t fw -A INPUT -p icmpv6 --icmpv6-type echo-request -j ACCEPT
check "ping 127.0.0.1 three times" in_ns fw ping -c 3 -i 0.2 -W 2 127.0.0.1
check "ping ::1 three times" in_ns fw ping -6 -c 3 -i 0.2 -W 2 ::1
expect_pkts "iptables counts the 3 echo requests" fw ns_ipt INPUT 2 3
expect_pkts "ip6tables counts the 3 echo requests" fw ns_ip6t INPUT 2 3
check "iptables -Z INPUT" ns_ipt fw -Z INPUT
check "ip6tables -Z" ns_ip6t fw -Z
expect_pkts "iptables -Z zeroes the counter" fw ns_ipt INPUT 2 0
expect_pkts "ip6tables -Z zeroes the counter" fw ns_ip6t INPUT 2 0
_pol=$(ns_ipt fw -vnL INPUT | head -n 1)
if [ "$_pol" = "Chain INPUT (policy ACCEPT 0 packets, 0 bytes)" ]; then
    pass "iptables -Z zeroes the policy counters"
else
    fail "iptables -Z zeroes the policy counters" "$_pol"
fi

for c in ns_ipt ns_ip6t; do
    check "$c -F" "$c" fw -F
    check "$c -X" "$c" fw -X
    check "$c -P FORWARD ACCEPT" "$c" fw -P FORWARD ACCEPT
done
expect_text "iptables -F, -X, -P give the empty table back" "$POLICIES" ns_ipt fw -S
expect_text "ip6tables -F, -X, -P give the empty table back" "$POLICIES" ns_ip6t fw -S

# --- a ruleset of several hundred rules round-trips through restore and save ------

# canon: the save output without comments, with chain counters zeroed.
canon() {
    grep -v '^#' | sed 's/ \[[0-9]*:[0-9]*\]$/ [0:0]/'
}

# round_trip FAMILY FILE RESTORE SAVE
round_trip() {
    _n=$(grep -c '^-A ' "$2")
    if ! in_ns fw "$3" <"$2"; then
        fail "$1 restore of $(basename "$2") ($_n rules)" "$3 failed"
        return
    fi
    in_ns fw "$4" | canon >/tmp/saved.rules
    if cmp -s /tmp/saved.rules "$2"; then
        pass "$1 $(basename "$2"): $_n rules restored and saved back identical"
    else
        fail "$1 round trip of $(basename "$2")" "save differs:"
        diff "$2" /tmp/saved.rules | head -n 20
    fi
}
round_trip ipv4 "$DATA/ruleset-v4.rules" iptables-legacy-restore iptables-legacy-save
round_trip ipv6 "$DATA/ruleset-v6.rules" ip6tables-legacy-restore ip6tables-legacy-save
# A second restore replaces the table as a whole (flush and commit).
round_trip "ipv4 again" "$DATA/ruleset-v4.rules" iptables-legacy-restore iptables-legacy-save

# --- the matches and targets of a router's firewall (tables-ext.sh) -------------------

ext_listing

# --- real traffic: client -> router -> server (lib.sh), rules in the server -----

if ! topology_up; then
    fail topology_up "see above"
    topology_down
    summary
    exit 1
fi

# listen NAME NS PORT: a one-connection TCP listener writing to /tmp/NAME.log.
listen() {
    bg_ns "/tmp/$1.log" "$2" nc -l -p "$3"
    wait_for 50 in_ns "$2" sh -c "netstat -ltn | grep -q ':$3 '"
}

# udp_reply NAME WANT ADDR PORT: one datagram with --expect-reply; passes
# when the output contains WANT ("reply" for an echo, or "(os error N)", the
# errno of the ICMP error that came back instead: 111 ECONNREFUSED, 113
# EHOSTUNREACH, 13 EACCES; numbers, because glibc and musl word them apart).
udp_reply() {
    _out=$(in_ns client rnf-udp send "$3" "$4" --size 16 --expect-reply --timeout 3 2>&1)
    case "$_out" in
        *"$2"*) pass "$1" ;;
        *) fail "$1" "wanted '$2': $(echo "$_out" | tr '\n' ' ')" ;;
    esac
}

# pad CMD PREFIX N: appends N rules that none of traffic()'s packets match
# to the server's INPUT (after traffic()'s rules, so their numbers stay) and
# FORWARD: tcp and udp ports and ranges, multiport, a source prefix. The
# table then has enough entries for rnf_tables to build its classifier
# (CLASSIFY_MIN_ENTRIES in rust/rnf_tables/instance.rs), so the same exact
# counts check the classified walk; no ICMP rule, so neighbour discovery
# passes.
pad() {
    _i=0
    while [ "$_i" -lt "$3" ]; do
        case $((_i % 4)) in
            0) _r="-p tcp --dport $((9000 + _i)) -j DROP" ;;
            1) _r="-p udp --sport 1:1023 --dport 7000:7999 -j DROP" ;;
            2) _r="-p udp -m multiport --dports $((7100 + _i)),7200:7300 -j DROP" ;;
            *) _r="-s $2 -j DROP" ;;
        esac
        for _chain in INPUT FORWARD; do
            # shellcheck disable=SC2086 # a rule is a list of words
            "$1" server -A "$_chain" $_r || return 1
        done
        _i=$((_i + 1))
    done
}

# traffic FAMILY CMD SERVER PING_FLAG REJECT_WITH ITS_ERROR ICMP_MATCH
# [PAD_PREFIX]: the rules below in the server's INPUT, traffic from the
# client, exact counts; with PAD_PREFIX, 40 more rules (pad) that must count
# nothing.
traffic() {
    _f=$1 _c=$2 _srv=$3 _ping=$4
    "$_c" server -F
    for _r in "-p tcp --dport 8080 -j ACCEPT" \
        "-p tcp --dport 8081 -j REJECT --reject-with tcp-reset" \
        "$7 -j DROP" \
        "-p udp --dport 5001 -j REJECT" \
        "-p udp --dport 5003 -j REJECT --reject-with $5" \
        "-p udp --dport 5002 -j LOG --log-prefix rnf-log-$_f:" \
        "-p udp -m multiport --dports 6001,6003:6005 -m comment --comment multiport-rule -j DROP" \
        "-p udp --dport 6010 -m limit --limit 1/hour --limit-burst 3 -j ACCEPT" \
        "-p udp --dport 6010 -j DROP"; do
        # shellcheck disable=SC2086 # a rule is a list of words
        "$_c" server -A INPUT $_r || fail "$_f: $_c -A INPUT $_r" "refused"
    done
    if [ -n "${8:-}" ]; then
        check "$_f: 40 more rules in INPUT and FORWARD" pad "$_c" "$8" 40
    fi
    listen "$_f-8080" server 8080
    listen "$_f-8081" server 8081
    echo "hello-$_f" | in_ns client timeout 10 nc "$_srv" 8080 >/dev/null 2>&1
    if wait_for 30 grep -q "hello-$_f" "/tmp/$_f-8080.log"; then
        pass "$_f: TCP to the accepted port 8080 delivers its data"
    else
        fail "$_f: TCP to port 8080" "server got '$(cat "/tmp/$_f-8080.log")'"
    fi
    _out=$(in_ns client timeout 2 nc "$_srv" 8081 </dev/null 2>&1)
    case "$_out" in
        *"Connection refused"*) pass "$_f: TCP to port 8081 is reset by REJECT --reject-with tcp-reset within 3 s" ;;
        *) fail "$_f: TCP to port 8081 reset" "nc said '$_out'" ;;
    esac
    [ -s "/tmp/$_f-8081.log" ] && fail "$_f: nothing reached the listener on 8081" "$(cat "/tmp/$_f-8081.log")"
    expect_pkts "$_f: the reset rule saw the one SYN" server "$_c" INPUT 2 1
    if in_ns client ping "$_ping" -c 3 -i 0.3 -W 1 "$_srv" >/dev/null 2>&1; then
        fail "$_f: echo requests are dropped" "ping got replies"
    else
        pass "$_f: echo requests are dropped"
    fi
    expect_pkts "$_f: the icmp type rule counted the 3 echo requests" server "$_c" INPUT 3 3

    bg_ns "/tmp/$_f-udp.log" server rnf-udp serve "$_srv" 5001
    wait_for 50 grep -q listening "/tmp/$_f-udp.log"
    bg_ns "/tmp/$_f-udp2.log" server rnf-udp serve "$_srv" 5002
    wait_for 50 grep -q listening "/tmp/$_f-udp2.log"
    bg_ns "/tmp/$_f-udp3.log" server rnf-udp serve "$_srv" 5003
    wait_for 50 grep -q listening "/tmp/$_f-udp3.log"
    udp_reply "$_f: REJECT (default port unreachable) refuses UDP to an open port" "(os error 111)" "$_srv" 5001
    udp_reply "$_f: REJECT --reject-with $5 gives '$6'" "$6" "$_srv" 5003
    udp_reply "$_f: LOG lets the datagram through" "reply" "$_srv" 5002
    expect_pkts "$_f: REJECT rule counted 1" server "$_c" INPUT 4 1
    expect_pkts "$_f: REJECT $5 rule counted 1" server "$_c" INPUT 5 1
    expect_pkts "$_f: LOG rule counted 1" server "$_c" INPUT 6 1
    if wait_for 30 sh -c "dmesg | grep 'rnf-log-$_f:' | grep -q 'DPT=5002'"; then
        pass "$_f: LOG wrote its prefix and the packet to the kernel log"
    else
        fail "$_f: LOG line in the kernel log" "$(dmesg | grep rnf-log | tail -n 2)"
    fi
    for _p in 6001 6002 6003 6004 6005 6006; do
        in_ns client rnf-udp send "$_srv" "$_p" --size 8 >/dev/null 2>&1
    done
    expect_pkts "$_f: multiport 6001,6003:6005 matched 4 of ports 6001-6006" server "$_c" INPUT 7 4
    if "$_c" server -S INPUT | grep -q -- '-m comment --comment multiport-rule'; then
        pass "$_f: the comment is listed with the rule"
    else
        fail "$_f: comment listed" "$("$_c" server -S INPUT | tr '\n' '|')"
    fi
    in_ns client rnf-udp send "$_srv" 6010 --size 8 --count 10 >/dev/null 2>&1
    expect_pkts "$_f: limit burst 3 lets 3 of 10 through" server "$_c" INPUT 8 3
    expect_pkts "$_f: the other 7 fall to the next rule" server "$_c" INPUT 9 7
    if [ -n "${8:-}" ]; then
        _n=$("$_c" server -vxnL INPUT | awk 'NR > 11 { n++; s += $1 } END { print n + 0, s + 0 }')
        if [ "$_n" = "40 0" ]; then
            pass "$_f: the 40 rules after them counted no packet"
        else
            fail "$_f: the 40 rules after them" "(rules, packets) = ($_n)"
        fi
    fi
    "$_c" server -F
    bg_stop_all
}

traffic ipv4 ns_ipt "$SERVER4" -4 icmp-host-prohibited "(os error 113)" "-p icmp --icmp-type echo-request"
traffic ipv6 ns_ip6t "$SERVER6" -6 icmp6-adm-prohibited "(os error 13)" "-p icmpv6 --icmpv6-type echo-request"
# The same with a table big enough for the classifier.
traffic ipv4-big ns_ipt "$SERVER4" -4 icmp-host-prohibited "(os error 113)" "-p icmp --icmp-type echo-request" 192.0.2.0/24
traffic ipv6-big ns_ip6t "$SERVER6" -6 icmp6-adm-prohibited "(os error 13)" "-p icmpv6 --icmpv6-type echo-request" 2001:db8:dead::/48
if [ "$TABLES" = rnf ]; then
    # A classifier that could not be built is logged, and the walk is linear.
    if dmesg | grep -q "rules walked one by one"; then
        fail "rnf_tables built the classifiers of the big tables" "$(dmesg | grep 'rules walked one by one' | tail -n 1)"
    else
        pass "rnf_tables built the classifiers of the big tables (no fallback logged)"
    fi
fi

# stateful FAMILY CMD SERVER CLIENT PING_FLAG MATCH...: INPUT policy DROP,
# loopback, ESTABLISHED,RELATED and NEW ssh (port 22) only.
stateful() {
    _f=$1 _c=$2 _srv=$3 _cli=$4 _ping=$5
    shift 5
    _m="$*"
    # shellcheck disable=SC2086 # _m is a list of words
    "$_c" server -A INPUT -i lo -j ACCEPT &&
        "$_c" server -A INPUT $_m ESTABLISHED,RELATED -j ACCEPT &&
        "$_c" server -A INPUT -p tcp --dport 22 $_m NEW -j ACCEPT &&
        "$_c" server -P INPUT DROP || fail "$_f $_m: stateful ruleset" "refused"
    listen "$_f-22" server 22
    listen "$_f-80" server 80
    echo "hello-ssh-$_f" | in_ns client timeout 10 nc "$_srv" 22 >/dev/null 2>&1
    if wait_for 30 grep -q "hello-ssh-$_f" "/tmp/$_f-22.log"; then
        pass "$_f $_m: a NEW connection to port 22 is accepted"
    else
        fail "$_f $_m: NEW to port 22" "server got '$(cat "/tmp/$_f-22.log")'"
    fi
    expect_pkts "$_f $_m: the NEW ssh rule counted the one SYN" server "$_c" INPUT 3 1
    in_ns client timeout 2 nc "$_srv" 80 </dev/null >/dev/null 2>&1
    if [ -s "/tmp/$_f-80.log" ] || in_ns server netstat -tn | grep -q ":80 .*ESTABLISHED"; then
        fail "$_f $_m: NEW to port 80 is dropped" "a connection was made: $(cat "/tmp/$_f-80.log")"
    else
        pass "$_f $_m: a NEW connection to port 80 is dropped by the policy"
    fi
    if in_ns client ping "$_ping" -c 1 -W 1 "$_srv" >/dev/null 2>&1; then
        fail "$_f $_m: ping to the server is dropped" "it got a reply"
    else
        pass "$_f $_m: ping to the server is dropped by the policy"
    fi
    check "$_f $_m: the server's own ping gets its ESTABLISHED replies" \
        in_ns server ping "$_ping" -c 2 -i 0.3 -W 3 "$_cli"
    _out=$(in_ns server rnf-udp send "$_cli" 5999 --size 8 --expect-reply --timeout 3 2>&1)
    case "$_out" in
        *"(os error 111)"*) pass "$_f $_m: the client's port unreachable comes in as RELATED" ;;
        *) fail "$_f $_m: RELATED ICMP error accepted" "$(echo "$_out" | tr '\n' ' ')" ;;
    esac
    _est=$(pkts server "$_c" INPUT 2)
    if [ "${_est:-0}" -ge 3 ]; then
        pass "$_f $_m: the ESTABLISHED,RELATED rule counted the replies ($_est)"
    else
        fail "$_f $_m: ESTABLISHED,RELATED counted" "'$_est' packets"
    fi
    "$_c" server -P INPUT ACCEPT
    "$_c" server -F
    bg_stop_all
}

stateful ipv4 ns_ipt "$SERVER4" "$CLIENT4" -4 -m state --state
stateful ipv4 ns_ipt "$SERVER4" "$CLIENT4" -4 -m conntrack --ctstate
stateful ipv6 ns_ip6t "$SERVER6" "$CLIENT6" -6 -m state --state
stateful ipv6 ns_ip6t "$SERVER6" "$CLIENT6" -6 -m conntrack --ctstate

ext_traffic ipv4 ns_ipt "$SERVER4" "$CLIENT4" -4 10.1.0.1-10.1.0.5
ext_traffic ipv6 ns_ip6t "$SERVER6" "$CLIENT6" -6 fd01::1-fd01::5

# --- malformed SET_REPLACE blobs (namespace xt) --------------------------------------

# The errno the kernel's ip_tables and ip6_tables (6.12) return for each case
# of rnf-udp xt-replace (tests/tools/rnf-udp/src/xt_blob.rs), measured with
# TABLES=kernel on x86_64 and arm64; 0 = accepted. rnf_tables must match.
XT_EXPECT='valid 0
truncated 22
size-short 22
size-long 22
num-entries 22
num-counters 11
valid-hooks 22
next-offset-beyond 22
next-offset-zero 22
next-offset-misaligned 22
target-offset 22
target-size 22
hook-entry-mid 22
underflow-not-policy 22
loop-self 40
loop-pair 40
jump-mid-rule 40
jump-beyond 40
verdict-bad 22
unknown-target 2
unknown-match 2
target-revision 2'

ip netns add xt
in_ns xt ip link set lo up
for c in ns_ipt ns_ip6t; do
    "$c" xt -N rnf_a && "$c" xt -N rnf_b && "$c" xt -A INPUT -j rnf_a &&
        "$c" xt -A rnf_a -j rnf_b && "$c" xt -A rnf_b -p tcp --dport 22 -j ACCEPT &&
        "$c" xt -A rnf_b -p tcp --dport 23 -j REJECT --reject-with tcp-reset ||
        fail "$c: the table for xt-replace" "refused"
done
for fam in ipv4 ipv6; do
    if [ "$fam" = ipv4 ]; then _save=iptables-legacy-save _six=; else _save=ip6tables-legacy-save _six=-6; fi
    in_ns xt "$_save" | canon >"/tmp/xt-before-$fam"
    # shellcheck disable=SC2086 # _six is empty or -6
    in_ns xt rnf-udp xt-replace $_six all >/tmp/xt-out 2>&1
    echo "$XT_EXPECT" | while read -r _case _want; do
        _line=$(grep "^xt-replace: $fam $_case: " /tmp/xt-out)
        _got=$(echo "$_line" | sed -n 's/.*: errno \([0-9]*\) .*/\1/p')
        case "$_line" in *accepted*) _got=0 ;; esac
        if [ -z "$_line" ]; then
            echo "FAIL: guest: $fam SET_REPLACE $_case: no result: $(tail -n 2 /tmp/xt-out | tr '\n' ' ')"
        elif [ "$_got" != "$_want" ]; then
            echo "FAIL: guest: $fam SET_REPLACE $_case: errno $_got, the kernel's ip_tables gives $_want ($_line)"
        elif [ "${_line%table unchanged}" = "$_line" ]; then
            echo "FAIL: guest: $fam SET_REPLACE $_case: the table changed ($_line)"
        elif [ "$_want" = 0 ]; then
            echo "PASS: guest: $fam SET_REPLACE of the table as read is accepted, rules unchanged"
        else
            echo "PASS: guest: $fam SET_REPLACE $_case refused with errno $_got, table unchanged"
        fi
    done >/tmp/xt-results
    RNF_PASSED=$((RNF_PASSED + $(grep -c '^PASS' /tmp/xt-results)))
    RNF_FAILED=$((RNF_FAILED + $(grep -c '^FAIL' /tmp/xt-results)))
    cat /tmp/xt-results
    in_ns xt "$_save" | canon >"/tmp/xt-after-$fam"
    if [ -s "/tmp/xt-before-$fam" ] && cmp -s "/tmp/xt-before-$fam" "/tmp/xt-after-$fam"; then
        pass "$fam: $_save prints the same table after all the malformed blobs"
    else
        fail "$fam: table unchanged by the malformed blobs" "$(diff "/tmp/xt-before-$fam" "/tmp/xt-after-$fam" | head -n 10)"
    fi
done

# --- without CAP_NET_ADMIN ---------------------------------------------------------------

caps=$(rnf-udp nocap sh -c 'grep CapEff /proc/self/status' | awk '{ print $2 }')
if [ -n "$caps" ] && [ $((0x$caps >> 12 & 1)) -eq 0 ] && [ $((0x$caps >> 13 & 1)) -eq 1 ]; then
    pass "rnf-udp nocap drops CAP_NET_ADMIN only (CapEff $caps)"
else
    fail "rnf-udp nocap drops CAP_NET_ADMIN only" "CapEff '$caps'"
fi
for cmd in "iptables-legacy -L" "ip6tables-legacy -L" "iptables-legacy -A INPUT -j ACCEPT" \
    "rnf-udp xt-replace valid" "rnf-udp xt-replace -6 valid"; do
    # shellcheck disable=SC2086 # cmd is a list of words
    _out=$(in_ns xt rnf-udp nocap $cmd 2>&1)
    _rc=$?
    case "$_out" in
        *"ermission denied"* | *"Operation not permitted"*)
            if [ "$_rc" -ne 0 ]; then
                pass "without CAP_NET_ADMIN, '$cmd' is refused (exit $_rc)"
            else
                fail "without CAP_NET_ADMIN, '$cmd' is refused" "exit 0: $_out"
            fi
            ;;
        *) fail "without CAP_NET_ADMIN, '$cmd' is refused" "exit $_rc: $(echo "$_out" | tr '\n' ' ')" ;;
    esac
done
in_ns xt iptables-legacy-save | canon >/tmp/xt-after-nocap
if cmp -s /tmp/xt-before-ipv4 /tmp/xt-after-nocap; then
    pass "the refused processes changed nothing"
else
    fail "the refused processes changed nothing" "$(diff /tmp/xt-before-ipv4 /tmp/xt-after-nocap | head -n 5)"
fi

# --- unloading with rules loaded ---------------------------------------------------------

# Rules everywhere: the ruleset in fw, the malformed-blob table in xt, and a
# DROP of echo requests in the server, with traffic flowing.
ns_ipt server -A INPUT -p icmp --icmp-type echo-request -j DROP
ns_ip6t server -A INPUT -p icmpv6 --icmpv6-type echo-request -j DROP
bg_ns /tmp/unload-ping.log client ping -i 0.1 -c 100 "$SERVER4"
sleep 1
# table_mods_loaded: any of the table modules still loaded.
table_mods_loaded() {
    for _m in $TABLE_MODS; do
        grep -q "^$_m " /proc/modules && return 0
    done
    return 1
}
case "$TABLES" in
    rnf)
        if rmmod rnf_tables; then
            pass "rmmod rnf_tables with rules loaded in three namespaces and traffic flowing"
        else
            fail "rmmod rnf_tables with rules loaded" "exit status $?"
        fi
        ;;
    kernel)
        # The kernel's table modules are pinned while a table holds more
        # than its initial rules (__do_replace takes a module reference):
        # rmmod is refused until the namespaces and their tables are gone.
        # shellcheck disable=SC2086 # a list of modules
        if rmmod $TABLE_MODS 2>/dev/null; then
            fail "kernel: rmmod of iptable_filter with rules loaded is refused" "it was unloaded"
        else
            pass "kernel: rmmod of iptable_filter with rules loaded is refused (module in use)"
        fi
        ;;
esac
wait_pid "$RNF_BG_PID" 300
topology_down
ip netns del fw
ip netns del xt
if [ "$TABLES" = kernel ]; then
    if wait_for 100 sh -c "rmmod $TABLE_MODS 2>/dev/null; ! grep -Eq '^(iptable_filter|ip6table_filter) ' /proc/modules"; then
        pass "kernel: the table modules unload once the namespaces are gone"
    else
        fail "kernel: the table modules unload" "$(grep table_filter /proc/modules)"
    fi
fi
if table_mods_loaded; then
    fail "the table modules are gone" "$(tr '\n' '|' </proc/modules)"
else
    pass "the table modules are gone ($TABLE_MODS)"
fi
if [ "$TABLES" = rnf ]; then
    _kmods=$(grep -Eo '^(x_tables|ip_tables|ip6_tables|iptable_filter|ip6table_filter|nf_conntrack) ' /proc/modules | tr '\n' ' ')
    if [ -z "$_kmods" ]; then
        pass "the kernel's ip_tables and nf_conntrack were never loaded: every result above is rnf's"
    else
        fail "the kernel's own tables stayed unloaded" "loaded: $_kmods"
    fi
    check "rmmod rnf_conntrack" rmmod rnf_conntrack
    # rmmod waited for every namespace's exit: each removed its hashlimit
    # files before their directories (rust/glue/tables/procfile.rs keeps,
    # and logs, a directory that still has a file).
    if dmesg | grep -q 'files: kept'; then
        fail "no /proc/net directory outlived its files" "$(dmesg | grep 'files: kept' | head -n 3)"
    else
        pass "no /proc/net directory outlived its files"
    fi
fi

summary
