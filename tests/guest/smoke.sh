#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Guest smoke test: the client/router/server topology of lib.sh forwards
# ICMP, TCP and UDP over IPv4 and IPv6, fragmented IPv6 included, with no
# netfilter module loaded at all (no conntrack, no defrag). The baseline every
# other guest test builds on.
#
# Run it with: scripts/vm/vm-test.sh smoke.sh

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

# The netfilter modules of the kernel and of the project: none may be loaded.
netfilter_modules() {
    grep -E '^(nf_|nft_|xt_|x_tables|ip6?t_|ip6?table_|ip6?_tables|rnf)' /proc/modules |
        cut -d' ' -f1
}

# snmp6 NS COUNTER: the value of an IPv6 MIB counter in NS.
snmp6() {
    # shellcheck disable=SC2016 # $1 and $2 are awk's
    in_ns "$1" awk -v key="$2" '$1 == key { print $2 }' /proc/net/snmp6
}

# tcp_echo NAME ADDR PORT: a line sent from client with nc reaches a
# `nc -l` in server.
tcp_echo() {
    _log=/tmp/$1.out
    bg_start "$_log" in_ns server nc -l -p "$3"
    _srv=$RNF_BG_PID
    if ! wait_for 50 in_ns server sh -c "netstat -ltn | grep -q ':$3 '"; then
        fail "$1" "nc -l -p $3 is not listening"
        return
    fi
    echo "hello from client over $1" | in_ns client nc "$2" "$3"
    wait_pid "$_srv" 50
    if grep -qx "hello from client over $1" "$_log"; then
        pass "$1"
    else
        fail "$1" "server got '$(cat "$_log")'"
    fi
}

# udp_echo NAME SERVE_ADDR ADDR PORT SIZE: rnf-udp in client gets the echo of
# a SIZE-byte datagram from an rnf-udp server bound to SERVE_ADDR.
udp_echo() {
    _log=/tmp/$1.server
    bg_start "$_log" in_ns server rnf-udp serve "$2" "$4" --count 1
    _srv=$RNF_BG_PID
    if ! wait_for 50 grep -q listening "$_log"; then
        fail "$1" "rnf-udp serve did not start: $(cat "$_log")"
        return
    fi
    if in_ns client rnf-udp send "$3" "$4" --size "$5" --sport 40000 \
        --expect-reply --timeout 5 >"/tmp/$1.client" 2>&1; then
        cat "/tmp/$1.client"
        pass "$1"
    else
        fail "$1" "$(tr '\n' ' ' <"/tmp/$1.client")"
    fi
    wait_pid "$_srv" 50
    if ! grep -q ": $5 bytes from " "$_log"; then
        fail "$1: server" "no $5-byte datagram: $(tr '\n' ' ' <"$_log")"
    fi
}

mods=$(netfilter_modules)
if [ -z "$mods" ]; then
    pass "no netfilter modules loaded"
else
    fail "no netfilter modules loaded" "loaded: $mods"
fi

if ! topology_up; then
    fail topology_up "see above"
    topology_down
    summary
    exit 1
fi
pass topology_up

check ping4 in_ns client ping -c 1 -W 5 "$SERVER4"
check ping6 in_ns client ping -6 -c 1 -W 5 "$SERVER6"
tcp_echo tcp4 "$SERVER4" 5000
tcp_echo tcp6 "$SERVER6" 5001
udp_echo udp4 "$SERVER4" "$SERVER4" 5002 100
udp_echo udp6 "$SERVER6" "$SERVER6" 5003 100

# One 3000-byte IPv6 datagram: the client fragments it (MTU 1280), the router
# forwards the fragments, the server reassembles, and its echo comes back the
# same way. The counters show it really went as fragments.
creates=$(snmp6 client Ip6FragCreates)
reasm=$(snmp6 server Ip6ReasmOKs)
udp_echo udp6-3000 :: "$SERVER6" 5004 3000
creates=$(($(snmp6 client Ip6FragCreates) - creates))
reasm=$(($(snmp6 server Ip6ReasmOKs) - reasm))
if [ "$creates" -ge 3 ] && [ "$reasm" -ge 1 ]; then
    pass "udp6-3000 was fragmented ($creates fragments sent, $reasm reassembled)"
else
    fail "udp6-3000 was fragmented" "client made $creates fragments, server reassembled $reasm"
fi

# Nothing above may have pulled a netfilter module in (module autoloading).
mods=$(netfilter_modules)
if [ -z "$mods" ]; then
    pass "still no netfilter modules loaded"
else
    fail "still no netfilter modules loaded" "loaded: $mods"
fi

topology_down
summary
