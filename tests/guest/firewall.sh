# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
#
# Guest test of a router's whole firewall (issue 14): the ruleset OpenWrt's
# fw3 generates for a lan and a wan zone (tests/guest/data/fw3/ipv4.rules and
# ipv6.rules: every table, "!fw3" comments on every rule, syn_flood with
# limit, reject chains, a masquerading wan with a port forward, MSS clamping
# and connection marks in mangle, notrack in raw), restored with the stock
# iptables-legacy-restore and ip6tables-legacy-restore in the router of
# lib.sh (lan: eth-client, wan: eth-server), saved back, and crossed by
# real traffic.
#
# It runs against either implementation, chosen by FW (from the environment,
# or FW=... on the kernel command line: vm-test.sh -a FW=kernel):
#
#   FW=rnf     (default) every rnf module from /lib/rnf, loaded by rnf-modload
#   FW=kernel  the kernel's nf_conntrack, iptable_*/ip6table_* and xt_*
#              modules: the reference. Its save output is the expected text
#              in tests/guest/data/fw3/*.save, and its counters and
#              connection marks are the expected values below.
#
# Covered: restore and byte-for-byte save of the four tables of both
# families; forwarding lan to wan (ping, ping6, TCP, UDP) through the zone
# chains and MASQUERADE; wan to lan refused (REJECT with a reset and with
# port unreachable); the port forward (DNAT accepted by --ctstate DNAT);
# notrack'd datagrams (CT --notrack) pass as UNTRACKED and appear in no
# connection listing; a connection's mark saved and restored by CONNMARK
# with masks (mark= in the listing, the classify chain entered once per
# connection); exact per-rule counters of every table; the mangle table's
# OUTPUT re-route after a TOS change (IPv4).

. "$(dirname "$0")/lib.sh"

KVER=$(uname -r)
DATA=$(dirname "$0")/data/fw3
KNF=/lib/modules/$KVER/kernel/net
mode_var FW rnf
echo "firewall: FW=$FW"

KERNEL_MODS="nf_conntrack iptable_filter iptable_nat iptable_mangle iptable_raw ip6table_filter
    ip6table_mangle ip6table_raw xt_nat xt_MASQUERADE xt_tcpudp xt_conntrack xt_comment xt_limit xt_mark
    xt_connmark xt_TCPMSS xt_CT xt_DSCP ipt_REJECT ip6t_REJECT"

case "$FW" in
    kernel)
        _ok=yes
        for m in $KERNEL_MODS; do
            modprobe "$m" || { _ok=no; echo "modprobe $m failed"; }
        done
        if [ "$_ok" = yes ]; then
            pass "the kernel's conntrack, tables and xt modules loaded"
        else
            fail "kernel modules" "see above"
            summary
            exit 1
        fi
        ;;
    rnf)
        for m in rnf_tables_nat rnf_tables_mangle rnf_tables_raw; do
            if rnf-modload "/lib/rnf/$m.ko" /lib/rnf "$KNF/ipv4/netfilter" "$KNF/ipv6/netfilter" "$KNF/netfilter"; then
                pass "rnf-modload loads $m and what it needs"
            else
                fail "rnf-modload loads $m" "exit status $?"
                summary
                exit 1
            fi
        done
        for m in nf_conntrack ip_tables ip6_tables x_tables; do
            if grep -q "^$m " /proc/modules; then
                fail "the kernel's $m stays unloaded" "it is loaded"
            else
                pass "the kernel's $m stays unloaded"
            fi
        done
        ;;
    *)
        fail "FW" "unknown FW=$FW (rnf or kernel)"
        summary
        exit 1
        ;;
esac

# ct: the router's connection listing, whichever name it has.
ct() {
    if [ -r /proc/net/nf_conntrack ]; then
        in_ns router cat /proc/net/nf_conntrack
    else
        in_ns router cat /proc/net/rnf_conntrack
    fi
}

# saved FAMILY [-c]: the router's ruleset as iptables-legacy-save (4) or
# ip6tables-legacy-save (6) prints it, without its dated comment lines.
saved() {
    if [ "$1" = 4 ]; then _save=iptables-legacy-save; else _save=ip6tables-legacy-save; fi
    shift
    in_ns router "$_save" "$@" | grep -v '^#'
}

# --- the ruleset ---------------------------------------------------------------

# MLD reports go out the moment a link joins its groups, not up to a
# second later: the late one would land in the counters of a table
# restored in between, or not, as the timing falls.
# shellcheck disable=SC2034 # read by lib.sh's topology_up
TOPOLOGY_SYSCTLS="net.ipv6.conf.all.mldv2_unsolicited_report_interval=1
    net.ipv6.conf.default.mldv2_unsolicited_report_interval=1
    net.ipv6.conf.all.mldv1_unsolicited_report_interval=1
    net.ipv6.conf.default.mldv1_unsolicited_report_interval=1"
if ! topology_up; then
    fail "topology" "topology_up failed"
    summary
    exit 1
fi

# No neighbour discovery runs (lib.sh's topology has permanent neighbour
# entries on every link): its solicitations, IP packets unlike ARP, would
# reach the tables at times that differ from run to run.
#
# Quick ACKs on every route the TCP connections below use (the endpoints'
# default routes and the server's way to the router's address): a TCP
# endpoint that gets a FIN otherwise delays its ACK, hoping to send it with
# its own FIN, and whether it manages (one packet) or the timer fires first
# (two) depends on how fast its program closes; on the debug kernel it
# often does not, and the counters saw one packet more. With quickack every
# ACK goes at once and alone, on any kernel.
{
    echo "route change default via $ROUTER4_CLIENT quickack 1"
    echo "route change default via $ROUTER6_CLIENT quickack 1"
} | ip -n client -batch -
{
    echo "route change default via $ROUTER4_SERVER quickack 1"
    echo "route change default via $ROUTER6_SERVER quickack 1"
    echo "route add $ROUTER4_SERVER/32 dev eth0 quickack 1"
} | ip -n server -batch -

# tcp_serve NS PORT: lib.sh's one-connection listener, but its answer (the
# first line and netstat -tn) leaves in one write: two writes would be two
# segments or one, as the second one's timing against the first one's ACK
# falls.
tcp_serve() {
    bg_ns "/tmp/tcp-$1-$2.log" "$1" nc -l -p "$2" -e sh -c \
        'l=$(head -n 1); s=$(netstat -tn); printf "%s\n%s\n" "$l" "$s"'
    wait_for 50 in_ns "$1" sh -c "netstat -ltn | grep -q ':$2 '"
}

# tcp_quiet NS: NS has no TCP connection still open or closing (TIME_WAIT
# sends nothing more).
tcp_quiet() {
    ! in_ns "$1" netstat -tn | grep -qE 'ESTABLISHED|SYN_|FIN_WAIT|CLOSE_WAIT|LAST_ACK|CLOSING'
}

for f in 4 6; do
    if [ "$f" = 4 ]; then _restore=iptables-legacy-restore; else _restore=ip6tables-legacy-restore; fi
    if _out=$(in_ns router "$_restore" <"$DATA/ipv$f.rules" 2>&1); then
        pass "IPv$f: the fw3 ruleset restores"
    else
        fail "IPv$f: the fw3 ruleset restores" "$(echo "$_out" | tail -n 3 | tr '\n' '|')"
    fi
    # The expected text is what the kernel's modules save (FW=kernel).
    expect_text "IPv$f: saved back as the kernel saves it" "$(cat "$DATA/ipv$f.save")" saved "$f"
done

# --- traffic -------------------------------------------------------------------

# lan to wan: zone_lan_forward -> zone_wan_dest_ACCEPT, masqueraded.
check "ping lan -> wan is forwarded" in_ns client ping -c 2 -W 3 "$SERVER4"
check "ping6 lan -> wan is forwarded" in_ns client ping -6 -c 2 -W 3 "$SERVER6"
tcp_serve server 81
tcp_check "TCP lan -> wan is masqueraded" client "$SERVER4" 81 81 "$SERVER4 $ROUTER4_SERVER"
tcp_serve server 81
tcp_check "TCP over IPv6 lan -> wan is routed" client "$SERVER6" 81 81 "$SERVER6 $CLIENT6"

# wan to lan: only the port forward gets through; the rest meets `reject`.
tcp_serve client 80
tcp_check "the port forward wan:8080 -> lan:80 (DNAT, --ctstate DNAT)" server "$ROUTER4_SERVER" 8080 80 \
    "$CLIENT4 $SERVER4"
_out=$(echo x | in_ns server timeout 5 nc "$CLIENT4" 82 2>&1)
case "$_out" in
    *refused*) pass "TCP wan -> lan is reset (REJECT --reject-with tcp-reset)" ;;
    *) fail "TCP wan -> lan is reset" "nc said '$(echo "$_out" | tr '\n' '|')'" ;;
esac
udp_serve client "$CLIENT4" 83
expect_udp "UDP wan -> lan is refused (REJECT, port unreachable)" "(os error 111)" server "$CLIENT4" 83
udp_serve client "$CLIENT6" 83
expect_udp "UDP over IPv6 wan -> lan is refused (icmp6-port-unreachable)" "(os error 111)" server "$CLIENT6" 83

# notrack: datagrams to 5353 from the lan are untracked in raw, forwarded as
# UNTRACKED (zone_wan_dest_ACCEPT's INVALID drop does not take them), and
# their answers, which nothing tracked, meet `reject`.
udp_serve server "$SERVER4" 5353
in_ns client rnf-udp send "$SERVER4" 5353 --size 16 --count 2 >/dev/null 2>&1
# seen LOG N: the udp_serve log LOG has N datagrams.
seen() {
    [ "$(grep -c 'bytes from' "$1")" -eq "$2" ]
}
if wait_for 30 seen "$(udp_log server "$SERVER4" 5353)" 2; then
    pass "notrack'd datagrams reach the wan"
else
    fail "notrack'd datagrams reach the wan" "server log: $(tr '\n' '|' <"$(udp_log server "$SERVER4" 5353)")"
fi
if ct | grep -q 'dport=5353 '; then
    fail "notrack'd datagrams make no connection" "$(ct | grep 'dport=5353 ' | head -n 2 | tr '\n' '|')"
else
    pass "notrack'd datagrams make no connection"
fi

# A connection's mark: the first datagram is classified (MARK 0x200 in
# qos_mark, saved to the connection); the later ones get it back from the
# connection (--restore-mark) and skip the classify chain.
udp_serve server "$SERVER4" 9999
_out=$(in_ns client rnf-udp send "$SERVER4" 9999 --size 16 --count 3 --sport 4444 --expect-reply --timeout 3 2>&1)
case "$_out" in
    *reply*) pass "UDP lan -> wan with a connection mark" ;;
    *) fail "UDP lan -> wan with a connection mark" "$(echo "$_out" | tr '\n' '|')" ;;
esac
_line=$(ct | grep 'dport=9999' | head -n 1)
case "$_line" in
    *" mark=512 "*) pass "CONNMARK --save-mark: the connection's mark is 0x200 (mark=512)" ;;
    *) fail "CONNMARK --save-mark: mark=512" "listing: '$_line'" ;;
esac

# Every rule's counters in every table, against the kernel's, once every
# TCP connection above has closed.
wait_for 50 tcp_quiet client || echo "firewall: the client still has TCP connections: $(in_ns client netstat -tn | tr '\n' '|')"
wait_for 50 tcp_quiet server || echo "firewall: the server still has TCP connections: $(in_ns server netstat -tn | tr '\n' '|')"
expect_text "IPv4: raw counters" "$(cat "$DATA/ipv4-raw.counters")" saved 4 -c -t raw
expect_text "IPv4: mangle counters" "$(cat "$DATA/ipv4-mangle.counters")" saved 4 -c -t mangle
expect_text "IPv6: raw counters" "$(cat "$DATA/ipv6-raw.counters")" saved 6 -c -t raw
expect_text "IPv6: mangle counters" "$(cat "$DATA/ipv6-mangle.counters")" saved 6 -c -t mangle
expect_text "IPv4: filter counters" "$(cat "$DATA/ipv4-filter.counters")" saved 4 -c -t filter
expect_text "IPv4: nat counters" "$(cat "$DATA/ipv4-nat.counters")" saved 4 -c -t nat
expect_text "IPv6: filter counters" "$(cat "$DATA/ipv6-filter.counters")" saved 6 -c -t filter

# The mangle table's OUTPUT re-route (ipt_mangle_out): the router's own
# packets to 10.9.9.9 (the server's loopback) go to the client by the
# route for TOS 0 and to the server only by the route for TOS 0x10 (a FIB
# key without policy routing, which the reference kernel does not have).
# A TOS target in mangle OUTPUT must route them again, after the table
# changed the TOS, for the ping to be answered. (IPv6 has no TOS key in its
# FIB; its re-route would need fwmark rules.)
{
    echo "route add 10.9.9.0/24 via $CLIENT4"
    echo "route add 10.9.9.0/24 tos 0x10 via $SERVER4"
} | ip -n router -batch -
ip -n server addr add 10.9.9.9/32 dev lo
if in_ns router ping -c 1 -W 2 10.9.9.9 >/dev/null 2>&1; then
    fail "with TOS 0 the router's ping to 10.9.9.9 goes to the client" "it was answered"
else
    pass "with TOS 0 the router's ping to 10.9.9.9 goes to the client"
fi
ns_ipt router -t mangle -A OUTPUT -d 10.9.9.9 -j TOS --set-tos 0x10
check "mangle OUTPUT's TOS re-routes the router's ping to 10.9.9.9 (the TOS 0x10 route)" \
    in_ns router ping -c 1 -W 3 10.9.9.9

if [ "$FW" = kernel ]; then
    # The expected files' content, for updating them from this run's log.
    for f in 4 6; do
        echo "=== ipv$f.save"
        saved "$f"
        for t in raw mangle nat filter; do
            echo "=== ipv$f-$t.counters"
            saved "$f" -c -t "$t"
        done
    done
    ct
fi

topology_down
kernel_log_clean "the kernel log has no oops, BUG, WARNING or lockdep report"
summary
