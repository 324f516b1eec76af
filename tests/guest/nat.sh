# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
#
# Guest test of NAT (issue 11): the stock iptables-legacy and
# ip6tables-legacy drive the nat tables of both families, and real traffic
# crosses a router that translates it.
#
# It runs against either implementation, chosen by NAT (from the
# environment, or NAT=... on the kernel command line, which the kernel hands
# to init as an environment variable: vm-test.sh -a NAT=kernel):
#
#   NAT=rnf     (default) rnf_conntrack, rnf_nat and the nat tables of
#               rnf_tables_nat from /lib/rnf, loaded by rnf-modload; the
#               kernel's nf_conntrack, nf_nat and ip_tables must stay unloaded
#   NAT=kernel  the kernel's nf_conntrack, nf_nat, iptable_nat, ip6table_nat,
#               xt_nat, xt_MASQUERADE, xt_REDIRECT, xt_NETMAP and xt_tcpudp
#               (modprobe, which loads what they need in dependency order):
#               the reference, which gives the expected listings, counters
#               and verdicts below
#
# Everything after loading is the same for both; the connection table is
# read from /proc/net/nf_conntrack or /proc/net/rnf_conntrack, the
# statistics from /proc/net/stat/nf_conntrack or stat/rnf_conntrack,
# whichever exists. The topology (network namespaces joined by veth pairs;
# the router has no rule but the nat tables'):
#
#   namespace device    IPv4             IPv6              other end
#   lan1      eth0      192.168.1.2/24   fd10:1::2/64      router eth-lan1
#   lan2      eth0      192.168.2.2/24   fd10:2::2/64      router eth-lan2
#   router    eth-lan1  192.168.1.1/24   fd10:1::1/64
#             eth-lan2  192.168.2.1/24   fd10:2::1/64
#             eth-wan   203.0.113.1/24   2001:db8:1::1/64  wan eth0
#   wan       eth0      203.0.113.2/24   2001:db8:1::2/64
#             eth-far   198.51.100.1/24  2001:db8:2::1/64  far eth0 (MTU 1280)
#   far       eth0      198.51.100.2/24  2001:db8:2::2/64
#
# lan1 and lan2 route by the router, the router by the wan host; the wan
# host has no route back to the LAN prefixes (only its own links), so every
# answer from it or from beyond it comes back only because the router
# translated the request. far sits behind the wan host on a 1280-byte link
# (the only MTU below 1500): the wan host is then a hop beyond the NAT that
# sends ICMP errors (time exceeded for traceroute, fragmentation needed and
# Packet Too Big for PMTU discovery) which the router must translate back.
# Case 14 adds an ipip and an ip6ip6 tunnel from the router to the wan host
# (tun4 10.99.4.1/30 - 10.99.4.2, tun6 fd99:6::1/64 - fd99:6::2), whose path
# MTU is below their device MTU.
#
# Covered: MASQUERADE for TCP, UDP, ping and ping6; two LAN hosts using the
# same source port at once get distinct ports outside; SNAT to a two-port
# range takes two flows and refuses the third (insert_failed and drop
# counted); DNAT port forwards from the WAN side in both families; REDIRECT
# to a local port; DNAT in OUTPUT for the router's own traffic; a 3000-byte
# UDP datagram crossing NAT in fragments; ICMP errors about NATed flows
# reaching the LAN host translated (port unreachable, traceroute, PMTU); a
# tunnel's fragmentation needed and Packet Too Big about a masqueraded
# packet (icmp_ndo_send, icmpv6_ndo_send: they read the packet's connection
# as a struct nf_conn) reaching the LAN host; a reset from a closed port
# behind DNAT; MASQUERADE connections flushed when the WAN address goes; a
# rule added mid-flow leaves an existing flow alone; exact -vnL listings
# with per-connection counters; a ruleset with every target in both
# families against exact -save text, saved back byte for byte after a
# restore; targets refused in the wrong chains; unloading the NAT modules
# under traffic.
#
# By hand: make vm-run SCRIPT=tests/guest/nat.sh (rnf), or
#   scripts/vm/vm-test.sh tests/guest/nat.sh -a NAT=kernel -t 900

. "$(dirname "$0")/lib.sh"

KVER=$(uname -r)
KNF=/lib/modules/$KVER/kernel/net
mode_var NAT rnf

LAN1_4=192.168.1.2
LAN2_4=192.168.2.2
R_LAN1_4=192.168.1.1
R_LAN2_4=192.168.2.1
R_WAN4=203.0.113.1
WAN4=203.0.113.2
WAN_FAR4=198.51.100.1
FAR4=198.51.100.2
R_WAN4_B=203.0.113.100 # a second address of the router's WAN link (mid-flow rule)
UNUSED4=203.0.113.99   # nobody has it: the router's own DNAT in OUTPUT
LAN1_6=fd10:1::2
LAN2_6=fd10:2::2
R_LAN1_6=fd10:1::1
R_LAN2_6=fd10:2::1
R_WAN6=2001:db8:1::1
WAN6=2001:db8:1::2
WAN_FAR6=2001:db8:2::1
FAR6=2001:db8:2::2
R_WAN6_B=2001:db8:1::100
UNUSED6=2001:db8:1::99
NAT_NS="lan1 lan2 router wan far"

# x6 ADDR: the zero-padded form /proc/net/nf_conntrack prints (%pI6) of an
# IPv6 address with one "::" between non-empty groups.
x6() {
    echo "$1" | awk -F: '{
        out = ""
        for (i = 1; i <= NF; i++) {
            if ($i == "") {
                for (z = 0; z < 9 - NF; z++) out = out (out == "" ? "" : ":") "0000"
                continue
            }
            out = out (out == "" ? "" : ":") substr("0000" $i, length($i) + 1)
        }
        print out
    }'
}

# ctaddr ADDR: ADDR as the connection table prints it.
ctaddr() {
    case "$1" in *:*) x6 "$1" ;; *) echo "$1" ;; esac
}

# hp ADDR PORT: ADDR:PORT, an IPv6 address in brackets.
hp() {
    case "$1" in *:*) echo "[$1]:$2" ;; *) echo "$1:$2" ;; esac
}

# expect_eq NAME GOT WANT: GOT must be WANT.
expect_eq() {
    if [ "$2" = "$3" ]; then
        pass "$1"
    else
        fail "$1" "got '$2', want '$3'"
    fi
}

# ct NS: NS's connection table, /proc/net/nf_conntrack (the kernel's) or
# /proc/net/rnf_conntrack (rnf's, the same line format), whichever exists.
ct() {
    in_ns "${1:-router}" sh -c 'if [ -r /proc/net/nf_conntrack ]; then cat /proc/net/nf_conntrack;
        else cat /proc/net/rnf_conntrack; fi' 2>/dev/null
}

# ct_has NS PATTERN: a line of NS's table matches the extended regex.
ct_has() {
    ct "$1" | grep -Eq -- "$2"
}

ct_lacks() {
    ! ct_has "$1" "$2"
}

# expect_ct NAME PATTERN: the router's table has a matching line (within 3 s).
expect_ct() {
    if wait_for 30 ct_has router "$2"; then
        pass "$1"
    else
        fail "$1" "no line matching '$2' in the router's table:"
        ct router | sed 's/^/    /'
    fi
}

# ct_stat NS COLUMN: column COLUMN (by the header's name) of NS's
# /proc/net/stat/nf_conntrack or /proc/net/stat/rnf_conntrack, summed over
# the CPUs (the values are hex).
ct_stat() {
    _sum=0
    for _v in $(in_ns "$1" sh -c 'if [ -r /proc/net/stat/nf_conntrack ]; then cat /proc/net/stat/nf_conntrack;
        else cat /proc/net/stat/rnf_conntrack; fi' 2>/dev/null |
        awk -v n="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == n) c = i; next } c { print $c }'); do
        _sum=$((_sum + 0x$_v))
    done
    echo "$_sum"
}

# snmp NS KEY: counter KEY of NS: Ip:KEY from /proc/net/snmp (FragOKs) or
# KEY from /proc/net/snmp6 (Ip6FragOKs).
snmp() {
    case "$2" in
        Ip6*) in_ns "$1" awk -v k="$2" '$1 == k { print $2 }' /proc/net/snmp6 ;;
        *) in_ns "$1" awk -v k="$2" '$1 == "Ip:" && !h { for (i = 2; i <= NF; i++) if ($i == k) c = i; h = 1; next }
            $1 == "Ip:" && h { print $c; exit }' /proc/net/snmp ;;
    esac
}

# hops OUT: the hop number and address of each line of traceroute's output.
hops() {
    echo "$1" | awk '$1 ~ /^[0-9]+$/ { print $1, $2 }'
}

# --- loading ---------------------------------------------------------------------

KERNEL_MODS="nf_conntrack nf_nat iptable_nat ip6table_nat xt_nat xt_MASQUERADE xt_REDIRECT xt_NETMAP
    xt_tcpudp"
before_mods=$(awk '{ print $1 }' /proc/modules)

echo "nat: NAT=$NAT"
case "$NAT" in
    kernel)
        _ok=yes
        for m in $KERNEL_MODS; do
            if [ -z "$(find "/lib/modules/$KVER" -name "$m.ko*")" ]; then
                _ok=no
                echo "no $m.ko in /lib/modules/$KVER"
            elif ! modprobe "$m"; then
                _ok=no
                echo "modprobe $m failed"
            fi
        done
        if [ "$_ok" = yes ]; then
            pass "the kernel's conntrack, NAT, nat tables and xt targets loaded"
        else
            fail "kernel modules" "see above"
            summary
            exit 1
        fi
        ;;
    rnf)
        for m in rnf_conntrack rnf_nat rnf_tables_nat; do
            if [ ! -f "/lib/rnf/$m.ko" ]; then
                fail "$m.ko present" "$m.ko not built (no /lib/rnf/$m.ko in the guest)"
                summary
                exit 1
            fi
        done
        if rnf-modload /lib/rnf/rnf_tables_nat.ko /lib/rnf "$KNF/ipv4/netfilter" "$KNF/ipv6/netfilter" "$KNF/netfilter"; then
            pass "rnf-modload loads rnf_tables_nat and what it needs"
        else
            fail "rnf-modload loads rnf_tables_nat" "exit status $?"
            summary
            exit 1
        fi
        for m in rnf_conntrack rnf_nat; do
            check "$m loaded" grep -q "^$m " /proc/modules
        done
        ;;
    *)
        fail "NAT" "unknown NAT=$NAT (rnf or kernel)"
        summary
        exit 1
        ;;
esac
# The modules this script loaded, newest first (the order to unload them).
LOADED_MODS=$(awk '{ print $1 }' /proc/modules | while read -r m; do
    echo "$before_mods" | grep -qx "$m" || echo "$m"
done | tr '\n' ' ')
echo "nat: loaded (newest first): $LOADED_MODS"

# --- topology ----------------------------------------------------------------------

# link_up DEV MTU ADDR4 ADDR6: `ip -batch` lines configuring DEV.
link_up() {
    echo "link set dev $1 mtu $2 up"
    echo "addr add $3 dev $1"
    echo "addr add $4 dev $1 nodad"
}

nat_topology_up() {
    # shellcheck disable=SC2086 # a list of names
    printf 'netns add %s\n' $NAT_NS | ip -batch - || return 1
    for _ns in $NAT_NS; do
        _more=
        case "$_ns" in
            router | wan) _more="net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1" ;;
        esac
        # No DAD (as lib.sh), and no ICMP rate limit: every error the test
        # waits for must be sent.
        # shellcheck disable=SC2086 # _more is a list of words
        sysctl_ns "$_ns" net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
            net.ipv4.icmp_ratelimit=0 net.ipv6.icmp.ratelimit=0 $_more || return 1
    done
    if ! {
        {
            echo "link set dev lo up"
            echo "link add eth-lan1 type veth peer name eth0 netns lan1"
            echo "link add eth-lan2 type veth peer name eth0 netns lan2"
            echo "link add eth-wan type veth peer name eth0 netns wan"
            link_up eth-lan1 1500 "$R_LAN1_4/24" "$R_LAN1_6/64"
            link_up eth-lan2 1500 "$R_LAN2_4/24" "$R_LAN2_6/64"
            link_up eth-wan 1500 "$R_WAN4/24" "$R_WAN6/64"
            echo "route add default via $WAN4"
            echo "route add default via $WAN6"
        } | ip -n router -batch - &&
            {
                echo "link set dev lo up"
                echo "link add eth-far type veth peer name eth0 netns far"
                link_up eth0 1500 "$WAN4/24" "$WAN6/64"
                link_up eth-far 1280 "$WAN_FAR4/24" "$WAN_FAR6/64"
            } | ip -n wan -batch - &&
            {
                echo "link set dev lo up"
                link_up eth0 1280 "$FAR4/24" "$FAR6/64"
                echo "route add default via $WAN_FAR4"
                echo "route add default via $WAN_FAR6"
            } | ip -n far -batch - &&
            {
                echo "link set dev lo up"
                link_up eth0 1500 "$LAN1_4/24" "$LAN1_6/64"
                echo "route add default via $R_LAN1_4"
                echo "route add default via $R_LAN1_6"
            } | ip -n lan1 -batch - &&
            {
                echo "link set dev lo up"
                link_up eth0 1500 "$LAN2_4/24" "$LAN2_6/64"
                echo "route add default via $R_LAN2_4"
                echo "route add default via $R_LAN2_6"
            } | ip -n lan2 -batch -
    }; then
        echo "nat_topology_up: a step failed" >&2
        return 1
    fi
}

nat_topology_down() {
    bg_stop_all
    for _ns in $NAT_NS; do
        ip netns del "$_ns" 2>/dev/null
    done
    return 0
}

if ! nat_topology_up; then
    fail nat_topology_up "see above"
    nat_topology_down
    summary
    exit 1
fi
if in_ns wan ping -c 1 -W 2 "$LAN1_4" >/dev/null 2>&1 || in_ns wan ping -6 -c 1 -W 2 "$LAN1_6" >/dev/null 2>&1; then
    fail "the wan host cannot reach the LAN" "a ping from wan to lan1 got through"
else
    pass "the wan host has no route to the LAN (ping and ping6 fail)"
fi

# --- the router's nat tables ---------------------------------------------------------

# The rules of the traffic cases, both families: the port forwards (4), the
# closed port behind DNAT (9), REDIRECT (5), DNAT in OUTPUT (6), MASQUERADE
# (1). Cases 3 and 11 add rules of their own for a while.
# router_rules CMD LAN1 LAN2 UNUSED
router_rules() {
    "$1" router -t nat -A PREROUTING -i eth-wan -p tcp --dport 8080 -j DNAT --to-destination "$(hp "$2" 80)" &&
        "$1" router -t nat -A PREROUTING -i eth-wan -p tcp --dport 8090 -j DNAT --to-destination "$(hp "$3" 90)" &&
        "$1" router -t nat -A PREROUTING -i eth-lan1 -p tcp --dport 81 -j REDIRECT --to-ports 8081 &&
        "$1" router -t nat -A OUTPUT -d "$4" -j DNAT --to-destination "$2" &&
        "$1" router -t nat -A POSTROUTING -o eth-wan -j MASQUERADE
}
if router_rules ns_ipt "$LAN1_4" "$LAN2_4" "$UNUSED4" && router_rules ns_ip6t "$LAN1_6" "$LAN2_6" "$UNUSED6"; then
    pass "the router's nat rules are accepted (iptables-legacy and ip6tables-legacy)"
else
    fail "the router's nat rules" "refused"
fi

expect_text "iptables-legacy -t nat -vnL: the router's rules before any traffic" 'Chain PREROUTING (policy ACCEPT 0 packets, 0 bytes)
 pkts bytes target     prot opt in     out     source               destination
    0     0 DNAT       6    --  eth-wan *       0.0.0.0/0            0.0.0.0/0            tcp dpt:8080 to:192.168.1.2:80
    0     0 DNAT       6    --  eth-wan *       0.0.0.0/0            0.0.0.0/0            tcp dpt:8090 to:192.168.2.2:90
    0     0 REDIRECT   6    --  eth-lan1 *       0.0.0.0/0            0.0.0.0/0            tcp dpt:81 redir ports 8081

Chain INPUT (policy ACCEPT 0 packets, 0 bytes)
 pkts bytes target     prot opt in     out     source               destination

Chain OUTPUT (policy ACCEPT 0 packets, 0 bytes)
 pkts bytes target     prot opt in     out     source               destination
    0     0 DNAT       0    --  *      *       0.0.0.0/0            203.0.113.99         to:192.168.1.2

Chain POSTROUTING (policy ACCEPT 0 packets, 0 bytes)
 pkts bytes target     prot opt in     out     source               destination
    0     0 MASQUERADE  0    --  *      eth-wan  0.0.0.0/0            0.0.0.0/0' ns_ipt router -t nat -vnL
expect_text "ip6tables-legacy -t nat -vnL: the router's rules before any traffic" 'Chain PREROUTING (policy ACCEPT 0 packets, 0 bytes)
 pkts bytes target     prot opt in     out     source               destination
    0     0 DNAT       6    --  eth-wan *       ::/0                 ::/0                 tcp dpt:8080 to:[fd10:1::2]:80
    0     0 DNAT       6    --  eth-wan *       ::/0                 ::/0                 tcp dpt:8090 to:[fd10:2::2]:90
    0     0 REDIRECT   6    --  eth-lan1 *       ::/0                 ::/0                 tcp dpt:81 redir ports 8081

Chain INPUT (policy ACCEPT 0 packets, 0 bytes)
 pkts bytes target     prot opt in     out     source               destination

Chain OUTPUT (policy ACCEPT 0 packets, 0 bytes)
 pkts bytes target     prot opt in     out     source               destination
    0     0 DNAT       0    --  *      *       ::/0                 2001:db8:1::99       to:fd10:1::2

Chain POSTROUTING (policy ACCEPT 0 packets, 0 bytes)
 pkts bytes target     prot opt in     out     source               destination
    0     0 MASQUERADE  0    --  *      eth-wan  ::/0                 ::/0' ns_ip6t router -t nat -vnL

# --- 1. MASQUERADE: TCP, UDP, ping, ping6 ------------------------------------------------

tcp_serve wan 7000
tcp_check "masquerade: TCP from lan1 reaches the wan host from the router's address" lan1 "$WAN4" 7000 7000 "$WAN4 $R_WAN4"
expect_ct "masquerade: the TCP connection's reply tuple is to the router's WAN address" \
    "src=$LAN1_4 dst=$WAN4 sport=[0-9]+ dport=7000 src=$WAN4 dst=$R_WAN4 sport=7000 dport=[0-9]+ "
tcp_serve wan 7000
tcp_check "masquerade: TCP over IPv6 from lan1 reaches the wan host from the router's address" lan1 "$WAN6" 7000 7000 "$WAN6 $R_WAN6"
expect_ct "masquerade: the IPv6 TCP connection's reply tuple is to the router's WAN address" \
    "src=$(x6 $LAN1_6) dst=$(x6 $WAN6) sport=[0-9]+ dport=7000 src=$(x6 $WAN6) dst=$(x6 $R_WAN6) sport=7000 dport=[0-9]+ "

udp_serve wan "$WAN4" 7001
udp_serve wan "$WAN6" 7001
expect_udp "masquerade: UDP from lan1 gets its echo" reply lan1 "$WAN4" 7001 --sport 5001
expect_eq "masquerade: the wan host saw the UDP datagram from the router's address, port kept" \
    "$(udp_peers wan "$WAN4" 7001)" "$R_WAN4:5001"
expect_udp "masquerade: UDP over IPv6 from lan1 gets its echo" reply lan1 "$WAN6" 7001 --sport 5001
expect_eq "masquerade: the wan host saw the IPv6 datagram from the router's address, port kept" \
    "$(udp_peers wan "$WAN6" 7001)" "[$R_WAN6]:5001"

check "masquerade: ping from lan1 to the wan host" in_ns lan1 ping -c 2 -i 0.3 -W 3 "$WAN4"
expect_ct "masquerade: the echo's reply tuple is to the router's WAN address" \
    "icmp +1 [0-9]+ src=$LAN1_4 dst=$WAN4 type=8 code=0 id=([0-9]+) src=$WAN4 dst=$R_WAN4 type=0 code=0 id="
check "masquerade: ping6 from lan1 to the wan host" in_ns lan1 ping -6 -c 2 -i 0.3 -W 3 "$WAN6"
expect_ct "masquerade: the IPv6 echo's reply tuple is to the router's WAN address" \
    "icmpv6 +58 [0-9]+ src=$(x6 $LAN1_6) dst=$(x6 $WAN6) type=128 code=0 id=[0-9]+ src=$(x6 $WAN6) dst=$(x6 $R_WAN6) type=129 code=0 id="

# --- 2. two LAN hosts, one source port, one server port ------------------------------------

# same_sport FAMILY WAN_ADDR R_WAN LAN1 LAN2
same_sport() {
    udp_serve wan "$2" 7002
    _found=$(ct_stat router found)
    expect_udp "$1: lan1's UDP from port 5555 gets its echo" reply lan1 "$2" 7002 --sport 5555
    # `found` counts the tuples NAT found taken (nf_conntrack_tuple_taken()),
    # not the lookups that find a packet's connection.
    expect_eq "$1: found unchanged by a flow whose port was free" "$(($(ct_stat router found) - _found))" 0
    expect_udp "$1: lan2's UDP from port 5555 at the same time gets its echo" reply lan2 "$2" 7002 --sport 5555
    _taken=$(($(ct_stat router found) - _found))
    if [ "$_taken" -ge 1 ]; then
        pass "$1: found counted the taken port ($_taken)"
    else
        fail "$1: found counted the taken port" "it rose by $_taken"
    fi
    _peers=$(udp_peers wan "$2" 7002 | tr '\n' ' ')
    _first=$(hp "$3" 5555)
    _second=${_peers#"$_first "}
    _second=${_second% }
    _port=${_second##*:}
    if [ "$_peers" = "$_first $(hp "$3" "$_port") " ] && [ "$_port" -ge 1024 ] && [ "$_port" -ne 5555 ]; then
        pass "$1: the wan host saw $_first and $_second: distinct ports, the first kept"
    else
        fail "$1: distinct source ports outside, the first kept" "the wan host saw $_peers"
    fi
    expect_ct "$1: the router's table maps lan1:5555 to $(hp "$3" 5555)" \
        "src=$(ctaddr "$4") dst=[^ ]+ sport=5555 dport=7002 src=[^ ]+ dst=$(ctaddr "$3") sport=7002 dport=5555 "
    expect_ct "$1: and lan2:5555 to $(hp "$3" "$_port")" \
        "src=$(ctaddr "$5") dst=[^ ]+ sport=5555 dport=7002 src=[^ ]+ dst=$(ctaddr "$3") sport=7002 dport=$_port "
}
same_sport "same port, UDP" "$WAN4" "$R_WAN4" "$LAN1_4" "$LAN2_4"
same_sport "same port, UDP over IPv6" "$WAN6" "$R_WAN6" "$LAN1_6" "$LAN2_6"

# same_sport_tcp FAMILY WAN_ADDR R_WAN PORT LAN2: lan1, then lan2, connect from
# port 6000 and hold the connection while the wan host lists them.
same_sport_tcp() {
    bg_ns "/tmp/tcp-hold-srv-$4.log" wan nc -ll -p "$4" -e sleep 8
    _srv=$RNF_BG_PID
    wait_for 50 in_ns wan sh -c "netstat -ltn | grep -q ':$4 '"
    bg_ns "/tmp/tcp-hold-1-$4.log" lan1 rnf-udp tcp-hold "$2" "$4" --sport 6000 --secs 5
    _h1=$RNF_BG_PID
    wait_for 50 grep -q connected "/tmp/tcp-hold-1-$4.log"
    bg_ns "/tmp/tcp-hold-2-$4.log" lan2 rnf-udp tcp-hold "$2" "$4" --sport 6000 --secs 3
    _h2=$RNF_BG_PID
    wait_for 50 grep -q connected "/tmp/tcp-hold-2-$4.log"
    _seen=$(in_ns wan netstat -tn | awk -v p=":$4" '$6 == "ESTABLISHED" && substr($4, length($4) - length(p) + 1) == p { print $5 }' |
        sed 's/^::ffff://' | tr '\n' ' ')
    wait_pid "$_h1" 100
    wait_pid "$_h2" 100
    kill "$_srv" 2>/dev/null
    _a=$(echo "$_seen" | awk '{ print $1 }')
    _b=$(echo "$_seen" | awk '{ print $2 }')
    _pa=${_a##*:} _pb=${_b##*:}
    if [ "$(echo "$_seen" | wc -w)" -eq 2 ] && [ "$_a" = "$3:$_pa" ] && [ "$_b" = "$3:$_pb" ] &&
        [ "$_pa" != "$_pb" ] && { [ "$_pa" = 6000 ] || [ "$_pb" = 6000 ]; }; then
        pass "$1: the wan host had both connections from $3 at once, on distinct ports ($_seen)"
    else
        fail "$1: two TCP connections from $3 on distinct ports" "the wan host saw '$_seen': $(cat "/tmp/tcp-hold-1-$4.log" "/tmp/tcp-hold-2-$4.log" | tr '\n' ' ')"
    fi
    expect_ct "$1: the router's table has lan2's connection from port 6000 on another port" \
        "src=$(ctaddr "$5") dst=[^ ]+ sport=6000 dport=$4 src=[^ ]+ dst=$(ctaddr "$3") sport=$4 dport=[0-9]+ "
}
same_sport_tcp "same port, TCP" "$WAN4" "$R_WAN4" 7004 "$LAN2_4"
same_sport_tcp "same port, TCP over IPv6" "$WAN6" "$R_WAN6" 7005 "$LAN2_6"

# --- 3. SNAT to a two-port range: two flows, not three -----------------------------------

# two_ports FAMILY CMD WAN_ADDR R_WAN
two_ports() {
    _rule="-o eth-wan -p udp --dport 7003 -j SNAT --to-source $(hp "$4" 40000-40001)"
    # shellcheck disable=SC2086 # a rule is a list of words
    "$2" router -t nat -I POSTROUTING 1 $_rule || fail "$1: SNAT to a two-port range" "refused"
    udp_serve wan "$3" 7003
    _if=$(ct_stat router insert_failed)
    _drop=$(ct_stat router drop)
    expect_udp "$1: the first flow gets through" reply lan1 "$3" 7003 --sport 5031
    expect_udp "$1: the second flow gets through" reply lan1 "$3" 7003 --sport 5032
    expect_udp "$1: the third flow is refused (no reply)" "no reply" lan1 "$3" 7003 --sport 5033
    expect_eq "$1: the wan host saw exactly the range's two ports" \
        "$(udp_peers wan "$3" 7003 | sort | tr '\n' ' ')" "$(hp "$4" 40000) $(hp "$4" 40001) "
    expect_eq "$1: insert_failed rose by 1" "$(($(ct_stat router insert_failed) - _if))" 1
    expect_eq "$1: drop rose by 1" "$(($(ct_stat router drop) - _drop))" 1
    # shellcheck disable=SC2086 # a rule is a list of words
    "$2" router -t nat -D POSTROUTING $_rule || fail "$1: -D of the SNAT rule" "refused"
}
two_ports "SNAT --to-source $R_WAN4:40000-40001" ns_ipt "$WAN4" "$R_WAN4"
two_ports "SNAT --to-source [$R_WAN6]:40000-40001" ns_ip6t "$WAN6" "$R_WAN6"

# --- 4. DNAT port forwards from the WAN side -------------------------------------------

tcp_serve lan1 80
tcp_check "DNAT: $R_WAN4:8080 from the wan host reaches lan1:80, source kept" wan "$R_WAN4" 8080 80 "$LAN1_4 $WAN4"
expect_ct "DNAT: the forward's reply tuple comes from lan1:80" \
    "src=$WAN4 dst=$R_WAN4 sport=[0-9]+ dport=8080 src=$LAN1_4 dst=$WAN4 sport=80 dport=[0-9]+ "
tcp_serve lan1 80
tcp_check "DNAT: [$R_WAN6]:8080 from the wan host reaches [lan1]:80, source kept" wan "$R_WAN6" 8080 80 "$LAN1_6 $WAN6"
expect_ct "DNAT: the IPv6 forward's reply tuple comes from [lan1]:80" \
    "src=$(x6 $WAN6) dst=$(x6 $R_WAN6) sport=[0-9]+ dport=8080 src=$(x6 $LAN1_6) dst=$(x6 $WAN6) sport=80 dport=[0-9]+ "

# --- 9. a closed port behind DNAT resets -------------------------------------------------

for _a in "$R_WAN4" "$R_WAN6"; do
    _out=$(in_ns wan timeout 5 nc "$_a" 8090 </dev/null 2>&1)
    case "$_out" in
        *"Connection refused"*) pass "DNAT: $_a:8090 -> lan2:90 (closed) is reset: nc says Connection refused" ;;
        *) fail "DNAT to a closed port is reset ($_a)" "nc said '$_out'" ;;
    esac
done

# --- 5. REDIRECT to a local port ------------------------------------------------------------

tcp_serve router 8081
tcp_check "REDIRECT: lan1 to $WAN4:81 is answered by the router's port 8081" lan1 "$WAN4" 81 8081 "$R_LAN1_4 $LAN1_4"
tcp_serve router 8081
tcp_check "REDIRECT: lan1 to [$WAN6]:81 is answered by the router's port 8081" lan1 "$WAN6" 81 8081 "$R_LAN1_6 $LAN1_6"
expect_ct "REDIRECT: the reply tuple comes from the router's $R_LAN1_4:8081" \
    "src=$LAN1_4 dst=$WAN4 sport=[0-9]+ dport=81 src=$R_LAN1_4 dst=$LAN1_4 sport=8081 dport=[0-9]+ "
expect_ct "REDIRECT: the IPv6 reply tuple comes from the router's [$R_LAN1_6]:8081" \
    "src=$(x6 $LAN1_6) dst=$(x6 $WAN6) sport=[0-9]+ dport=81 src=$(x6 $R_LAN1_6) dst=$(x6 $LAN1_6) sport=8081 dport=[0-9]+ "

# --- 6. DNAT in OUTPUT for the router's own traffic ----------------------------------------

tcp_serve lan1 80
tcp_check "OUTPUT DNAT: the router's TCP to $UNUSED4:80 reaches lan1" router "$UNUSED4" 80 80 "$LAN1_4 $R_WAN4"
check "OUTPUT DNAT: the router's ping to $UNUSED4 is answered (by lan1)" in_ns router ping -c 1 -W 3 "$UNUSED4"
expect_ct "OUTPUT DNAT: the ping's reply tuple comes from lan1" \
    "icmp +1 [0-9]+ src=$R_WAN4 dst=$UNUSED4 type=8 code=0 id=[0-9]+ src=$LAN1_4 dst=$R_WAN4 type=0 "
tcp_serve lan1 80
tcp_check "OUTPUT DNAT: the router's TCP to [$UNUSED6]:80 reaches lan1" router "$UNUSED6" 80 80 "$LAN1_6 $R_WAN6"
check "OUTPUT DNAT: the router's ping6 to $UNUSED6 is answered (by lan1)" in_ns router ping -6 -c 1 -W 3 "$UNUSED6"
expect_ct "OUTPUT DNAT: the ping6's reply tuple comes from lan1" \
    "icmpv6 +58 [0-9]+ src=$(x6 $R_WAN6) dst=$(x6 $UNUSED6) type=128 code=0 id=[0-9]+ src=$(x6 $LAN1_6) dst=$(x6 $R_WAN6) type=129 "

# --- 8. ICMP errors about NATed flows reach the LAN host translated -------------------------

expect_udp "ICMP: UDP to a closed port of the wan host gets port unreachable at lan1 (os error 111)" \
    "(os error 111)" lan1 "$WAN4" 7999
expect_udp "ICMPv6: UDP to a closed port of the wan host gets port unreachable at lan1 (os error 111)" \
    "(os error 111)" lan1 "$WAN6" 7999

# traceroute: hop 2 (time exceeded) and hop 3 (port unreachable) are
# errors sent to the router's WAN address about masqueraded probes.
# shellcheck disable=SC2086 # _t is a list of words
for _t in "traceroute $FAR4 $R_LAN1_4 $WAN4" "traceroute6 $FAR6 $R_LAN1_6 $WAN6"; do
    set -- $_t
    _out=$(in_ns lan1 "$1" -n -q 1 -w 3 -m 5 "$2" 2>&1)
    expect_eq "$1 from lan1 to far: router, wan host, far (translated time exceeded and port unreachable)" \
        "$(hops "$_out" | tr '\n' '|')" "1 $3|2 $4|3 $2|"
done
# PMTU, IPv4: a 1400-byte probe with DF set and TTL 3; the wan host cannot
# forward it on its 1280-byte link and says so to the router's address.
_out=$(in_ns lan1 traceroute -n -F -q 1 -w 3 -f 3 -m 3 "$FAR4" 1400 2>&1)
case "$(hops "$_out" | tr '\n' '|')/$_out" in
    "3 $WAN4|/"*"!F"*) pass "PMTU: the wan host's fragmentation needed reaches lan1 translated ($(echo "$_out" | tail -n 1 | sed 's/  */ /g'))" ;;
    *) fail "PMTU: fragmentation needed reaches lan1" "traceroute -F said: $(echo "$_out" | tr '\n' '|')" ;;
esac

# --- 7. a 3000-byte datagram crosses NAT in fragments -----------------------------------

# lan1 sends it in fragments (1500-byte link), the router reassembles it
# (conntrack's defrag), translates and fragments it again; the far host's
# echo comes back the same way. IPv6: the first datagram is too big for the
# wan host's 1280-byte link; its Packet Too Big (about the translated
# datagram) must reach lan1 translated, and the second crosses.
udp_serve far "$FAR4" 7007
udp_serve far "$FAR6" 7007
_f=$(snmp router FragOKs)
_l=$(snmp lan1 FragOKs)
expect_udp "fragments: a 3000-byte UDP datagram from lan1 to far gets its 3000-byte echo" reply lan1 "$FAR4" 7007 --size 3000
expect_eq "fragments: lan1 sent it in fragments" "$(($(snmp lan1 FragOKs) - _l))" 1
expect_eq "fragments: the router fragmented the datagram and its echo again after NAT" "$(($(snmp router FragOKs) - _f))" 2
expect_eq "fragments: far got it from the router's address" "$(udp_peers far "$FAR4" 7007 | sed 's/:[0-9]*$//')" "$R_WAN4"
_f=$(snmp router Ip6FragOKs)
_l=$(snmp lan1 Ip6FragOKs)
expect_udp "PMTU: the first 3000-byte IPv6 datagram gets the wan host's Packet Too Big at lan1 (os error 90)" \
    "(os error 90)" lan1 "$FAR6" 7007 --size 3000
expect_udp "fragments: the second 3000-byte IPv6 datagram from lan1 to far gets its echo" reply lan1 "$FAR6" 7007 --size 3000
expect_eq "fragments: lan1 sent both in fragments" "$(($(snmp lan1 Ip6FragOKs) - _l))" 2
expect_eq "fragments: the router fragmented both datagrams and the echo again after NAT" "$(($(snmp router Ip6FragOKs) - _f))" 3
expect_eq "fragments: far got the IPv6 datagram from the router's address" \
    "$(udp_peers far "$FAR6" 7007 | sed 's/:[0-9]*$//')" "[$R_WAN6]"

# --- 11. a rule added mid-flow leaves the flow alone ---------------------------------------

# mid_flow FAMILY CMD WAN R_WAN R_WAN_B PREFIXLEN LAN1
mid_flow() {
    udp_serve wan "$3" 7011
    expect_udp "$1: a flow from lan1:5111 gets its echo" reply lan1 "$3" 7011 --sport 5111
    case "$5" in *:*) _nodad=nodad ;; *) _nodad= ;; esac
    # shellcheck disable=SC2086 # _nodad is empty or one word
    ip -n router addr add "$5/$6" dev eth-wan $_nodad || fail "$1: a second WAN address" "ip addr add failed"
    _rule="-s $7 -o eth-wan -p udp --dport 7011 -j SNAT --to-source $5"
    # shellcheck disable=SC2086 # a rule is a list of words
    "$2" router -t nat -I POSTROUTING 1 $_rule || fail "$1: SNAT rule inserted" "refused"
    expect_udp "$1: the same flow, after an SNAT rule for it is inserted, still gets its echo" reply lan1 "$3" 7011 --sport 5111
    expect_udp "$1: a new flow from lan1:5112 gets its echo" reply lan1 "$3" 7011 --sport 5112
    expect_eq "$1: the old flow kept its mapping, the new one has the new rule's" \
        "$(udp_peers wan "$3" 7011 | tr '\n' ' ')" "$(hp "$4" 5111) $(hp "$4" 5111) $(hp "$5" 5112) "
    # shellcheck disable=SC2086 # a rule is a list of words
    "$2" router -t nat -D POSTROUTING $_rule || fail "$1: -D of the SNAT rule" "refused"
    ip -n router addr del "$5/$6" dev eth-wan || fail "$1: removing the second WAN address" "ip addr del failed"
}
mid_flow "mid-flow rule" ns_ipt "$WAN4" "$R_WAN4" "$R_WAN4_B" 24 "$LAN1_4"
mid_flow "mid-flow rule, IPv6" ns_ip6t "$WAN6" "$R_WAN6" "$R_WAN6_B" 64 "$LAN1_6"

# --- 10. MASQUERADE connections go with the WAN address ----------------------------------

udp_serve wan "$WAN4" 7010
udp_serve wan "$WAN6" 7010
expect_udp "masquerade flush: a flow from lan1:5120 gets its echo" reply lan1 "$WAN4" 7010 --sport 5120
expect_udp "masquerade flush: an IPv6 flow from lan1:5120 gets its echo" reply lan1 "$WAN6" 7010 --sport 5120
CT4="src=$LAN1_4 dst=$WAN4 sport=5120 dport=7010 src=$WAN4 dst=$R_WAN4 sport=7010 dport=5120 "
CT6="src=$(x6 $LAN1_6) dst=$(x6 $WAN6) sport=5120 dport=7010 src=$(x6 $WAN6) dst=$(x6 $R_WAN6) sport=7010 dport=5120 "
expect_ct "masquerade flush: the router tracks the IPv4 flow" "$CT4"
expect_ct "masquerade flush: the router tracks the IPv6 flow" "$CT6"
ip -n router addr del "$R_WAN4/24" dev eth-wan || fail "masquerade flush: ip addr del $R_WAN4" "failed"
if wait_for 50 ct_lacks router "$CT4"; then
    pass "masquerade flush: the IPv4 connection is gone once $R_WAN4 is removed"
else
    fail "masquerade flush: the IPv4 connection is gone" "still there: $(ct router | grep -E "$CT4")"
fi
if ct_has router "$CT6"; then
    pass "masquerade flush: the IPv6 connection stays"
else
    fail "masquerade flush: the IPv6 connection stays" "it is gone too"
fi
ip -n router addr del "$R_WAN6/64" dev eth-wan || fail "masquerade flush: ip addr del $R_WAN6" "failed"
if wait_for 50 ct_lacks router "$CT6"; then
    pass "masquerade flush: the IPv6 connection is gone once $R_WAN6 is removed"
else
    fail "masquerade flush: the IPv6 connection is gone" "still there: $(ct router | grep -E "$CT6")"
fi
{
    echo "addr add $R_WAN4/24 dev eth-wan"
    echo "addr add $R_WAN6/64 dev eth-wan nodad"
    echo "route replace default via $WAN4"
    echo "route replace default via $WAN6"
} | ip -n router -batch - || fail "masquerade flush: the WAN addresses back" "ip failed"
expect_udp "masquerade flush: with the address back, a new flow from lan1:5121 gets its echo" reply lan1 "$WAN4" 7010 --sport 5121
expect_udp "masquerade flush: with the IPv6 address back, a new flow from lan1:5121 gets its echo" reply lan1 "$WAN6" 7010 --sport 5121

# --- 12. the listings, with a connection's first packet counted once ------------------------

# Only a connection's first packet walks the nat table, so a rule counts
# connections: MASQUERADE the 15 of each family that left by eth-wan with no
# SNAT rule ahead of it (IPv4: TCP, UDP and ping of case 1, the four of case
# 2, the closed port, the traceroute probes with TTL 2 and 3 and the DF
# probe, the 3000-byte datagram, the first mid-flow flow, the two of case
# 10; IPv6 the same but for the DF probe, with two 3000-byte datagrams),
# the DNAT and REDIRECT rules one each, OUTPUT's DNAT two (TCP and ping).
# The policy counters count only since the last replacement of the table:
# iptables-legacy 1.8.9 sets the built-in chains' policy counters to 0
# whenever it replaces the table (-A, -I, -D, -Z of any chain) while it
# carries the rules' counters over; the last replacement was case 11's -D,
# so PREROUTING's policy holds case 10's two flows (44-byte datagrams, 64
# bytes over IPv6).
expect_text "iptables-legacy -t nat -vnL after the traffic (one packet per connection)" 'Chain PREROUTING (policy ACCEPT 2 packets, 88 bytes)
 pkts bytes target     prot opt in     out     source               destination
    1    60 DNAT       6    --  eth-wan *       0.0.0.0/0            0.0.0.0/0            tcp dpt:8080 to:192.168.1.2:80
    1    60 DNAT       6    --  eth-wan *       0.0.0.0/0            0.0.0.0/0            tcp dpt:8090 to:192.168.2.2:90
    1    60 REDIRECT   6    --  eth-lan1 *       0.0.0.0/0            0.0.0.0/0            tcp dpt:81 redir ports 8081

Chain INPUT (policy ACCEPT 0 packets, 0 bytes)
 pkts bytes target     prot opt in     out     source               destination

Chain OUTPUT (policy ACCEPT 0 packets, 0 bytes)
 pkts bytes target     prot opt in     out     source               destination
    2   144 DNAT       0    --  *      *       0.0.0.0/0            203.0.113.99         to:192.168.1.2

Chain POSTROUTING (policy ACCEPT 0 packets, 0 bytes)
 pkts bytes target     prot opt in     out     source               destination
   15  5092 MASQUERADE  0    --  *      eth-wan  0.0.0.0/0            0.0.0.0/0' ns_ipt router -t nat -vnL
expect_text "ip6tables-legacy -t nat -vnL after the traffic (one packet per connection)" 'Chain PREROUTING (policy ACCEPT 2 packets, 128 bytes)
 pkts bytes target     prot opt in     out     source               destination
    1    80 DNAT       6    --  eth-wan *       ::/0                 ::/0                 tcp dpt:8080 to:[fd10:1::2]:80
    1    80 DNAT       6    --  eth-wan *       ::/0                 ::/0                 tcp dpt:8090 to:[fd10:2::2]:90
    1    80 REDIRECT   6    --  eth-lan1 *       ::/0                 ::/0                 tcp dpt:81 redir ports 8081

Chain INPUT (policy ACCEPT 0 packets, 0 bytes)
 pkts bytes target     prot opt in     out     source               destination

Chain OUTPUT (policy ACCEPT 0 packets, 0 bytes)
 pkts bytes target     prot opt in     out     source               destination
    2   184 DNAT       0    --  *      *       ::/0                 2001:db8:1::99       to:fd10:1::2

Chain POSTROUTING (policy ACCEPT 0 packets, 0 bytes)
 pkts bytes target     prot opt in     out     source               destination
   15  7032 MASQUERADE  0    --  *      eth-wan  ::/0                 ::/0' ns_ip6t router -t nat -vnL
bg_stop_all

# --- 14. ICMP errors from a tunnel about a NATed packet ---------------------------------

# The router masquerades lan1's traffic into tunnels to the wan host: ipip
# (tun4) and ip6ip6 (tun6), between the router's WAN addresses and a second
# address of the wan host. The tunnel devices keep the MTU of a 1500-byte
# link (1480, 1452), so the router forwards a 1380-byte datagram into them
# (a smaller device MTU would have ip_forward answer, before NAT); but the
# router's route to the tunnels' far end has a smaller MTU (1300, 1400), so
# the tunnel's transmit path (ip_tunnel.c tnl_update_pmtu, ip6_tunnel.c
# ip6_tnl_xmit) finds the encapsulated packet too big, after POSTROUTING has
# masqueraded it, and answers with icmp_ndo_send()/icmpv6_ndo_send(). Those
# read skb->_nfct as a struct nf_conn: with IPS_SRC_NAT in its status they
# address the error to tuplehash[dir].tuple's source (lan1), not to the
# packet's translated source (the router's own tunnel address). The
# tunnel's MTU: 1300 - 20 (IPv4); 1400 - 40 - 8 (IPv6, with the default
# encapsulation limit option).
WAN_TUN4=203.0.113.50 # the wan host's tunnel end
WAN_TUN6=2001:db8:1::50
R_TUN4=10.99.4.1 # the tunnels' own addresses (router, wan host)
W_TUN4=10.99.4.2
R_TUN6=fd99:6::1
W_TUN6=fd99:6::2
TUN_PMTU4=1280
TUN_PMTU6=1352

_before_tun=$(awk '{ print $1 }' /proc/modules)
_tun_ok=yes
for m in ipip ip6_tunnel; do
    modprobe "$m" || _tun_ok=no
done
# The modules loaded for the tunnels, newest first (unloaded at the end).
TUN_MODS=$(awk '{ print $1 }' /proc/modules | while read -r m; do
    echo "$_before_tun" | grep -qx "$m" || echo "$m"
done | tr '\n' ' ')
if [ "$_tun_ok" = yes ] && {
    {
        echo "link add tun4 type ipip local $R_WAN4 remote $WAN_TUN4"
        echo "link set dev tun4 mtu 1480 up"
        echo "addr add $R_TUN4/30 dev tun4"
        echo "route add $WAN_TUN4/32 dev eth-wan mtu 1300"
        echo "link add tun6 type ip6tnl mode ip6ip6 local $R_WAN6 remote $WAN_TUN6"
        echo "link set dev tun6 mtu 1452 up"
        echo "addr add $R_TUN6/64 dev tun6 nodad"
        echo "route add $WAN_TUN6/128 dev eth-wan mtu 1400"
    } | ip -n router -batch - &&
        {
            echo "addr add $WAN_TUN4/32 dev eth0"
            echo "addr add $WAN_TUN6/128 dev eth0 nodad"
            echo "link add tun4 type ipip local $WAN_TUN4 remote $R_WAN4"
            echo "link set dev tun4 up"
            echo "addr add $W_TUN4/30 dev tun4"
            echo "link add tun6 type ip6tnl mode ip6ip6 local $WAN_TUN6 remote $R_WAN6"
            echo "link set dev tun6 up"
            echo "addr add $W_TUN6/64 dev tun6 nodad"
        } | ip -n wan -batch - &&
        ns_ipt router -t nat -A POSTROUTING -o tun4 -j MASQUERADE &&
        ns_ip6t router -t nat -A POSTROUTING -o tun6 -j MASQUERADE
}; then
    pass "tunnel: ipip and ip6ip6 tunnels from the router to the wan host, MASQUERADE out of them (modules: $TUN_MODS)"
else
    fail "tunnel: the tunnels and their MASQUERADE rules" "a step failed"
fi

# tunnel_pmtu NAME W_TUN R_TUN PMTU LAN1 FRAGFAILS: a flow from lan1:5140
# to the wan host's tunnel address W_TUN: a small datagram gets its echo
# (masqueraded to R_TUN), a 1380-byte one gets the tunnel's error at lan1,
# whose route to W_TUN then has the tunnel's MTU PMTU. Every packet the
# tunnel sends leaves the tunnel's MTU on the router's route (a PMTU
# exception); IPv6 honours it when forwarding, so the next big packet would
# be refused after POSTROUTING by ip6_fragment() (an icmpv6_send() to the
# packet's translated source, which NAT at LOCAL_OUT must translate back and
# route again) instead of reaching the tunnel: the router forgets it first,
# and its FRAGFAILS counter shows that ip6_fragment() refused nothing.
tunnel_pmtu() {
    udp_serve wan "$2" 7014
    expect_udp "$1: a small datagram from lan1 through the tunnel gets its echo" reply lan1 "$2" 7014 --sport 5140
    expect_eq "$1: the wan host saw it from the router's tunnel address" "$(udp_peers wan "$2" 7014)" "$(hp "$3" 5140)"
    expect_ct "$1: the router's table has the flow masqueraded to its tunnel address" \
        "src=$(ctaddr "$5") dst=$(ctaddr "$2") sport=5140 dport=7014 src=$(ctaddr "$2") dst=$(ctaddr "$3") sport=7014 dport=5140 "
    case "$2" in *:*) ip -n router -6 route flush cache ;; *) ip -n router route flush cache ;; esac
    _ff=$(snmp router "$6")
    expect_udp "$1: a 1380-byte datagram, too big for the tunnel, gets the tunnel's error at lan1 (os error 90)" \
        "(os error 90)" lan1 "$2" 7014 --sport 5140 --size 1380
    expect_eq "$1: the error came from the tunnel's transmit path (the router's $6 unchanged)" \
        "$(($(snmp router "$6") - _ff))" 0
    _rg=$(ip -n lan1 route get "$2" 2>&1)
    if echo "$_rg" | grep -Eq "mtu $4( |\$)"; then
        pass "$1: lan1's route to $2 has the tunnel's MTU $4 (ip route get)"
    else
        fail "$1: lan1's route to $2 has the tunnel's MTU $4" "ip route get said: $(echo "$_rg" | tr '\n' ' ')"
    fi
}
tunnel_pmtu "tunnel, IPv4" "$W_TUN4" "$R_TUN4" "$TUN_PMTU4" "$LAN1_4" FragFails
tunnel_pmtu "tunnel, IPv6" "$W_TUN6" "$R_TUN6" "$TUN_PMTU6" "$LAN1_6" Ip6FragFails
# The router's own Packet Too Big about a masqueraded flow: the tunnel left
# its MTU on the router's route, so the next big datagram is refused by
# ip6_fragment() after POSTROUTING, with an error addressed to the packet's
# translated source, the router itself; NAT at LOCAL_OUT translates it back
# to lan1 and routes it again (nf_nat_ipv6_local_fn).
ip -n lan1 -6 route flush cache
_ff=$(snmp router Ip6FragFails)
expect_udp "tunnel, IPv6: the router's own Packet Too Big (ip6_fragment, learnt MTU) reaches lan1 translated (os error 90)" \
    "(os error 90)" lan1 "$W_TUN6" 7014 --sport 5141 --size 1380
expect_eq "tunnel, IPv6: that error came from ip6_fragment() (the router's Ip6FragFails +1)" \
    "$(($(snmp router Ip6FragFails) - _ff))" 1
# The error's source: the router's address towards lan1 (__icmp_send routes
# it to the connection's original source); a probe of a new flow, TTL 2,
# with DF, after lan1 forgets the MTU it learnt.
ip -n lan1 route flush cache
_out=$(in_ns lan1 traceroute -n -F -q 1 -w 3 -f 2 -m 2 "$W_TUN4" 1380 2>&1)
case "$(hops "$_out" | tr '\n' '|')/$_out" in
    "2 $R_LAN1_4|/"*"!F"*) pass "tunnel, IPv4: a new flow's DF probe gets fragmentation needed from $R_LAN1_4 at lan1 ($(echo "$_out" | tail -n 1 | sed 's/  */ /g'))" ;;
    *) fail "tunnel, IPv4: fragmentation needed from the router reaches lan1" "traceroute -F said: $(echo "$_out" | tr '\n' '|')" ;;
esac
bg_stop_all

# --- 12. every target in both families: listings, save, restore ------------------------------

ip netns add fw
ip netns add fw2

EMPTY='Chain PREROUTING (policy ACCEPT 0 packets, 0 bytes)
 pkts bytes target     prot opt in     out     source               destination

Chain INPUT (policy ACCEPT 0 packets, 0 bytes)
 pkts bytes target     prot opt in     out     source               destination

Chain OUTPUT (policy ACCEPT 0 packets, 0 bytes)
 pkts bytes target     prot opt in     out     source               destination

Chain POSTROUTING (policy ACCEPT 0 packets, 0 bytes)
 pkts bytes target     prot opt in     out     source               destination'
expect_text "iptables-legacy -t nat -vnL lists the empty nat table" "$EMPTY" ns_ipt fw -t nat -vnL
expect_text "ip6tables-legacy -t nat -vnL lists the empty nat table" "$EMPTY" ns_ip6t fw -t nat -vnL

# add_rules CMD RULE...: each RULE (a string of words) appended with CMD fw -t nat.
add_rules() {
    _c=$1
    shift
    for _r in "$@"; do
        # shellcheck disable=SC2086 # a rule is a list of words
        "$_c" fw -t nat $_r || fail "$_c -t nat $_r" "refused"
    done
}
add_rules ns_ipt \
    "-N masq-out" \
    "-A PREROUTING -d 10.9.0.1/32 -i eth0 -p tcp --dport 8080 -j DNAT --to-destination 192.168.1.2:80" \
    "-A PREROUTING -i eth0 -p udp --dport 5353 -j DNAT --to-destination 192.168.1.2-192.168.1.5:1000-2000 --random --persistent" \
    "-A PREROUTING -i eth1 -p tcp --dport 81 -j REDIRECT --to-ports 8081" \
    "-A PREROUTING -i eth1 -p tcp --dport 82 -j REDIRECT --to-ports 8082-8090 --random" \
    "-A PREROUTING -i eth1 -p udp -j REDIRECT" \
    "-A PREROUTING -d 10.20.0.0/16 -j NETMAP --to 192.168.0.0/16" \
    "-A INPUT -s 10.30.0.0/16 -p udp -j SNAT --to-source 10.9.0.2" \
    "-A OUTPUT -d 10.9.0.99/32 -j DNAT --to-destination 192.168.1.2" \
    "-A OUTPUT -p tcp --dport 443 -j DNAT --to-destination :8443" \
    "-A POSTROUTING -s 192.168.1.0/24 -o eth0 -p udp -j SNAT --to-source 10.9.0.1:40000-40001" \
    "-A POSTROUTING -o eth0 -p tcp -j SNAT --to-source 10.9.0.1-10.9.0.4:1024-65535 --random" \
    "-A POSTROUTING -o eth0 -j SNAT --to-source 10.9.0.5 --random-fully --persistent" \
    "-A POSTROUTING -o eth1 -p udp -j MASQUERADE --to-ports 1024-65535" \
    "-A POSTROUTING -o eth2 -j MASQUERADE --random-fully" \
    "-A POSTROUTING -o eth3 -j masq-out" \
    "-A POSTROUTING -s 192.168.0.0/16 -o eth4 -j NETMAP --to 10.20.0.0/16" \
    "-A masq-out -j MASQUERADE"
add_rules ns_ip6t \
    "-N masq-out" \
    "-A PREROUTING -d 2001:db8:9::1/128 -i eth0 -p tcp --dport 8080 -j DNAT --to-destination [fd10:1::2]:80" \
    "-A PREROUTING -i eth0 -p udp --dport 5353 -j DNAT --to-destination [fd10:1::2-fd10:1::5]:1000-2000 --random --persistent" \
    "-A PREROUTING -i eth1 -p tcp --dport 81 -j REDIRECT --to-ports 8081" \
    "-A PREROUTING -i eth1 -p tcp --dport 82 -j REDIRECT --to-ports 8082-8090 --random" \
    "-A PREROUTING -i eth1 -p udp -j REDIRECT" \
    "-A PREROUTING -d 2001:db8:20::/48 -j NETMAP --to fd10::/48" \
    "-A INPUT -s 2001:db8:30::/48 -p udp -j SNAT --to-source 2001:db8:9::2" \
    "-A OUTPUT -d 2001:db8:9::99/128 -j DNAT --to-destination fd10:1::2" \
    "-A OUTPUT -p tcp --dport 443 -j DNAT --to-destination :8443" \
    "-A POSTROUTING -s fd10:1::/64 -o eth0 -p udp -j SNAT --to-source [2001:db8:9::1]:40000-40001" \
    "-A POSTROUTING -o eth0 -p tcp -j SNAT --to-source [2001:db8:9::1-2001:db8:9::4]:1024-65535 --random" \
    "-A POSTROUTING -o eth0 -j SNAT --to-source 2001:db8:9::5 --random-fully --persistent" \
    "-A POSTROUTING -o eth1 -p udp -j MASQUERADE --to-ports 1024-65535" \
    "-A POSTROUTING -o eth2 -j MASQUERADE --random-fully" \
    "-A POSTROUTING -o eth3 -j masq-out" \
    "-A POSTROUTING -s fd10::/48 -o eth4 -j NETMAP --to 2001:db8:20::/48" \
    "-A masq-out -j MASQUERADE"

expect_text "iptables-legacy -t nat -vnL: every target" 'Chain PREROUTING (policy ACCEPT 0 packets, 0 bytes)
 pkts bytes target     prot opt in     out     source               destination
    0     0 DNAT       6    --  eth0   *       0.0.0.0/0            10.9.0.1             tcp dpt:8080 to:192.168.1.2:80
    0     0 DNAT       17   --  eth0   *       0.0.0.0/0            0.0.0.0/0            udp dpt:5353 to:192.168.1.2-192.168.1.5:1000-2000 random persistent
    0     0 REDIRECT   6    --  eth1   *       0.0.0.0/0            0.0.0.0/0            tcp dpt:81 redir ports 8081
    0     0 REDIRECT   6    --  eth1   *       0.0.0.0/0            0.0.0.0/0            tcp dpt:82 redir ports 8082-8090 random
    0     0 REDIRECT   17   --  eth1   *       0.0.0.0/0            0.0.0.0/0
    0     0 NETMAP     0    --  *      *       0.0.0.0/0            10.20.0.0/16         to:192.168.0.0/16

Chain INPUT (policy ACCEPT 0 packets, 0 bytes)
 pkts bytes target     prot opt in     out     source               destination
    0     0 SNAT       17   --  *      *       10.30.0.0/16         0.0.0.0/0            to:10.9.0.2

Chain OUTPUT (policy ACCEPT 0 packets, 0 bytes)
 pkts bytes target     prot opt in     out     source               destination
    0     0 DNAT       0    --  *      *       0.0.0.0/0            10.9.0.99            to:192.168.1.2
    0     0 DNAT       6    --  *      *       0.0.0.0/0            0.0.0.0/0            tcp dpt:443 to::8443

Chain POSTROUTING (policy ACCEPT 0 packets, 0 bytes)
 pkts bytes target     prot opt in     out     source               destination
    0     0 SNAT       17   --  *      eth0    192.168.1.0/24       0.0.0.0/0            to:10.9.0.1:40000-40001
    0     0 SNAT       6    --  *      eth0    0.0.0.0/0            0.0.0.0/0            to:10.9.0.1-10.9.0.4:1024-65535 random
    0     0 SNAT       0    --  *      eth0    0.0.0.0/0            0.0.0.0/0            to:10.9.0.5 random-fully persistent
    0     0 MASQUERADE  17   --  *      eth1    0.0.0.0/0            0.0.0.0/0            masq ports: 1024-65535
    0     0 MASQUERADE  0    --  *      eth2    0.0.0.0/0            0.0.0.0/0            random-fully
    0     0 masq-out   0    --  *      eth3    0.0.0.0/0            0.0.0.0/0
    0     0 NETMAP     0    --  *      eth4    192.168.0.0/16       0.0.0.0/0            to:10.20.0.0/16

Chain masq-out (1 references)
 pkts bytes target     prot opt in     out     source               destination
    0     0 MASQUERADE  0    --  *      *       0.0.0.0/0            0.0.0.0/0' ns_ipt fw -t nat -vnL
expect_text "ip6tables-legacy -t nat -vnL: every target" 'Chain PREROUTING (policy ACCEPT 0 packets, 0 bytes)
 pkts bytes target     prot opt in     out     source               destination
    0     0 DNAT       6    --  eth0   *       ::/0                 2001:db8:9::1        tcp dpt:8080 to:[fd10:1::2]:80
    0     0 DNAT       17   --  eth0   *       ::/0                 ::/0                 udp dpt:5353 to:[fd10:1::2-fd10:1::5]:1000-2000 random persistent
    0     0 REDIRECT   6    --  eth1   *       ::/0                 ::/0                 tcp dpt:81 redir ports 8081
    0     0 REDIRECT   6    --  eth1   *       ::/0                 ::/0                 tcp dpt:82 redir ports 8082-8090 random
    0     0 REDIRECT   17   --  eth1   *       ::/0                 ::/0
    0     0 NETMAP     0    --  *      *       ::/0                 2001:db8:20::/48     to:fd10::/48

Chain INPUT (policy ACCEPT 0 packets, 0 bytes)
 pkts bytes target     prot opt in     out     source               destination
    0     0 SNAT       17   --  *      *       2001:db8:30::/48     ::/0                 to:2001:db8:9::2

Chain OUTPUT (policy ACCEPT 0 packets, 0 bytes)
 pkts bytes target     prot opt in     out     source               destination
    0     0 DNAT       0    --  *      *       ::/0                 2001:db8:9::99       to:fd10:1::2
    0     0 DNAT       6    --  *      *       ::/0                 ::/0                 tcp dpt:443 to::8443

Chain POSTROUTING (policy ACCEPT 0 packets, 0 bytes)
 pkts bytes target     prot opt in     out     source               destination
    0     0 SNAT       17   --  *      eth0    fd10:1::/64          ::/0                 to:[2001:db8:9::1]:40000-40001
    0     0 SNAT       6    --  *      eth0    ::/0                 ::/0                 to:[2001:db8:9::1-2001:db8:9::4]:1024-65535 random
    0     0 SNAT       0    --  *      eth0    ::/0                 ::/0                 to:2001:db8:9::5 random-fully persistent
    0     0 MASQUERADE  17   --  *      eth1    ::/0                 ::/0                 masq ports: 1024-65535
    0     0 MASQUERADE  0    --  *      eth2    ::/0                 ::/0                 random-fully
    0     0 masq-out   0    --  *      eth3    ::/0                 ::/0
    0     0 NETMAP     0    --  *      eth4    fd10::/48            ::/0                 to:2001:db8:20::/48

Chain masq-out (1 references)
 pkts bytes target     prot opt in     out     source               destination
    0     0 MASQUERADE  0    --  *      *       ::/0                 ::/0' ns_ip6t fw -t nat -vnL

# canon: the save output without its comment lines (they carry the date).
canon() {
    grep -v '^#'
}

# save_nat NS SAVE: SAVE -t nat in NS, canon.
save_nat() {
    in_ns "$1" "$2" -t nat | canon
}
expect_text "iptables-legacy-save -t nat: every target" '*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:masq-out - [0:0]
-A PREROUTING -d 10.9.0.1/32 -i eth0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 192.168.1.2:80
-A PREROUTING -i eth0 -p udp -m udp --dport 5353 -j DNAT --to-destination 192.168.1.2-192.168.1.5:1000-2000 --random --persistent
-A PREROUTING -i eth1 -p tcp -m tcp --dport 81 -j REDIRECT --to-ports 8081
-A PREROUTING -i eth1 -p tcp -m tcp --dport 82 -j REDIRECT --to-ports 8082-8090 --random
-A PREROUTING -i eth1 -p udp -j REDIRECT
-A PREROUTING -d 10.20.0.0/16 -j NETMAP --to 192.168.0.0/16
-A INPUT -s 10.30.0.0/16 -p udp -j SNAT --to-source 10.9.0.2
-A OUTPUT -d 10.9.0.99/32 -j DNAT --to-destination 192.168.1.2
-A OUTPUT -p tcp -m tcp --dport 443 -j DNAT --to-destination :8443
-A POSTROUTING -s 192.168.1.0/24 -o eth0 -p udp -j SNAT --to-source 10.9.0.1:40000-40001
-A POSTROUTING -o eth0 -p tcp -j SNAT --to-source 10.9.0.1-10.9.0.4:1024-65535 --random
-A POSTROUTING -o eth0 -j SNAT --to-source 10.9.0.5 --random-fully --persistent
-A POSTROUTING -o eth1 -p udp -j MASQUERADE --to-ports 1024-65535
-A POSTROUTING -o eth2 -j MASQUERADE --random-fully
-A POSTROUTING -o eth3 -j masq-out
-A POSTROUTING -s 192.168.0.0/16 -o eth4 -j NETMAP --to 10.20.0.0/16
-A masq-out -j MASQUERADE
COMMIT' save_nat fw iptables-legacy-save
expect_text "ip6tables-legacy-save -t nat: every target" '*nat
:PREROUTING ACCEPT [0:0]
:INPUT ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:masq-out - [0:0]
-A PREROUTING -d 2001:db8:9::1/128 -i eth0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination [fd10:1::2]:80
-A PREROUTING -i eth0 -p udp -m udp --dport 5353 -j DNAT --to-destination [fd10:1::2-fd10:1::5]:1000-2000 --random --persistent
-A PREROUTING -i eth1 -p tcp -m tcp --dport 81 -j REDIRECT --to-ports 8081
-A PREROUTING -i eth1 -p tcp -m tcp --dport 82 -j REDIRECT --to-ports 8082-8090 --random
-A PREROUTING -i eth1 -p udp -j REDIRECT
-A PREROUTING -d 2001:db8:20::/48 -j NETMAP --to fd10::/48
-A INPUT -s 2001:db8:30::/48 -p udp -j SNAT --to-source 2001:db8:9::2
-A OUTPUT -d 2001:db8:9::99/128 -j DNAT --to-destination fd10:1::2
-A OUTPUT -p tcp -m tcp --dport 443 -j DNAT --to-destination :8443
-A POSTROUTING -s fd10:1::/64 -o eth0 -p udp -j SNAT --to-source [2001:db8:9::1]:40000-40001
-A POSTROUTING -o eth0 -p tcp -j SNAT --to-source [2001:db8:9::1-2001:db8:9::4]:1024-65535 --random
-A POSTROUTING -o eth0 -j SNAT --to-source 2001:db8:9::5 --random-fully --persistent
-A POSTROUTING -o eth1 -p udp -j MASQUERADE --to-ports 1024-65535
-A POSTROUTING -o eth2 -j MASQUERADE --random-fully
-A POSTROUTING -o eth3 -j masq-out
-A POSTROUTING -s fd10::/48 -o eth4 -j NETMAP --to 2001:db8:20::/48
-A masq-out -j MASQUERADE
COMMIT' save_nat fw ip6tables-legacy-save

# round_trip FAMILY SAVE RESTORE: the saved text restored in fw2 saves back
# byte for byte (but for the comment lines).
round_trip() {
    in_ns fw "$2" -t nat >"/tmp/nat-saved-$1"
    if ! in_ns fw2 "$3" <"/tmp/nat-saved-$1"; then
        fail "$1: $3 of the saved nat table" "refused"
        return
    fi
    in_ns fw2 "$2" -t nat >"/tmp/nat-resaved-$1"
    canon <"/tmp/nat-saved-$1" >"/tmp/nat-saved-$1.c"
    canon <"/tmp/nat-resaved-$1" >"/tmp/nat-resaved-$1.c"
    if [ -s "/tmp/nat-saved-$1.c" ] && cmp -s "/tmp/nat-saved-$1.c" "/tmp/nat-resaved-$1.c"; then
        pass "$1: the saved nat table, restored in another namespace, saves back byte for byte ($(grep -c '^-A' "/tmp/nat-saved-$1.c") rules)"
    else
        fail "$1: restore and save back" "differs:"
        diff "/tmp/nat-saved-$1.c" "/tmp/nat-resaved-$1.c" | head -n 20
    fi
}
round_trip ipv4 iptables-legacy-save iptables-legacy-restore
round_trip ipv6 ip6tables-legacy-save ip6tables-legacy-restore

# Targets outside the chains they are valid in are refused by the kernel
# (checkentry), and the table stays as it was.
for c in ns_ipt ns_ip6t; do
    case "$c" in ns_ipt) _save=iptables-legacy-save _to=10.9.0.7 ;; *) _save=ip6tables-legacy-save _to=2001:db8:9::7 ;; esac
    in_ns fw "$_save" -t nat | canon >/tmp/nat-before
    for _r in "-A PREROUTING -j MASQUERADE" "-A OUTPUT -j MASQUERADE" "-A POSTROUTING -j DNAT --to-destination $_to" \
        "-A PREROUTING -j SNAT --to-source $_to" "-A INPUT -p tcp -j REDIRECT --to-ports 80" \
        "-A POSTROUTING -p tcp -j REDIRECT --to-ports 80"; do
        # shellcheck disable=SC2086 # a rule is a list of words
        if "$c" fw -t nat $_r >/dev/null 2>&1; then
            fail "$c -t nat $_r is refused" "it was accepted"
        else
            pass "$c -t nat $_r is refused"
        fi
    done
    in_ns fw "$_save" -t nat | canon >/tmp/nat-after
    if cmp -s /tmp/nat-before /tmp/nat-after; then
        pass "$c: the refused rules left the nat table as it was"
    else
        fail "$c: the refused rules left the nat table as it was" "$(diff /tmp/nat-before /tmp/nat-after | head -n 5)"
    fi
done

# --- 13. unloading ------------------------------------------------------------------------------

# mods_left: the modules of LOADED_MODS still loaded.
mods_left() {
    for _m in $LOADED_MODS; do
        grep -q "^$_m " /proc/modules && echo "$_m"
    done | tr '\n' ' '
}

# unload_all: rmmod of every module this script loaded, newest first,
# retried while the namespaces' tables and connections are torn down.
unload_all() {
    for _m in $LOADED_MODS; do
        grep -q "^$_m " /proc/modules && rmmod "$_m" 2>/dev/null
    done
    [ -z "$(mods_left)" ]
}

# Unloading under traffic: ping, ping6 and a UDP flow of each family from
# lan1 keep crossing the masquerading router while the NAT modules go. rnf:
# rmmod rnf_tables_nat with the nat rules still loaded in four namespaces,
# then rnf_nat (it leaves the connections' mappings in place). The kernel:
# a table with rules of its own holds its module (ip_tables' do_replace
# takes a module reference for them), so the nat tables are flushed first
# (the connections keep their mappings and are still translated), then
# rmmod iptable_nat, ip6table_nat, the xt targets and matches, and nf_nat
# (which deletes the NATed connections).
udp_serve wan "$WAN4" 7013
udp_serve wan "$WAN6" 7013
bg_ns /tmp/unload-ping4.log lan1 ping -i 0.2 "$WAN4"
_up4=$RNF_BG_PID
bg_ns /tmp/unload-ping6.log lan1 ping -6 -i 0.2 "$WAN6"
_up6=$RNF_BG_PID
bg_ns /tmp/unload-udp.log lan1 sh -c "while :; do rnf-udp send $WAN4 7013 --size 64 --sport 5130 --count 4;
    rnf-udp send $WAN6 7013 --size 64 --sport 5130 --count 4; sleep 0.1; done"
_upu=$RNF_BG_PID

# flowing: each ping has had a reply and the wan host echoed UDP of each family.
flowing() {
    grep -q "bytes from" /tmp/unload-ping4.log && grep -q "bytes from" /tmp/unload-ping6.log &&
        [ -n "$(udp_peers wan "$WAN4" 7013)" ] && [ -n "$(udp_peers wan "$WAN6" 7013)" ]
}
if wait_for 100 flowing; then
    pass "unloading under traffic: ping, ping6 and UDP of both families cross the router"
else
    fail "unloading under traffic: traffic crosses the router" "$(tail -n 2 /tmp/unload-ping4.log /tmp/unload-ping6.log /tmp/unload-udp.log | tr '\n' ' ')"
fi
if [ "$NAT" = rnf ]; then
    UNLOAD_UNDER="rnf_tables_nat rnf_nat"
else
    UNLOAD_UNDER="iptable_nat ip6table_nat xt_MASQUERADE xt_nat xt_REDIRECT xt_NETMAP xt_tcpudp nf_nat"
    _flushed=yes
    for _ns in router fw fw2; do
        for c in ns_ipt ns_ip6t; do
            if ! "$c" "$_ns" -t nat -F || ! "$c" "$_ns" -t nat -X; then
                _flushed=no
            fi
        done
    done
    expect_eq "unloading under traffic: the kernel's nat tables flushed in router, fw and fw2" "$_flushed" yes
fi
for m in $UNLOAD_UNDER; do
    # A few tries: the kernel frees a replaced table's entries (and their
    # targets' module references) after the packets using it are done.
    _with=
    [ "$m" = rnf_tables_nat ] && _with=" with nat rules loaded"
    if wait_for 50 rmmod "$m"; then
        pass "unloading under traffic: rmmod $m$_with"
    else
        fail "unloading under traffic: rmmod $m$_with" "$(rmmod "$m" 2>&1)"
    fi
done
sleep 1
_dead=
for _p in "$_up4 ping" "$_up6 ping6" "$_upu UDP"; do
    exited "${_p% *}" && _dead="$_dead ${_p#* }"
done
if [ -z "$_dead" ]; then
    pass "unloading under traffic: ping, ping6 and the UDP flows ran throughout ($UNLOAD_UNDER)"
else
    fail "unloading under traffic: the traffic ran throughout" "exited:$_dead"
fi
nat_topology_down
ip netns del fw
ip netns del fw2
if wait_for 150 unload_all; then
    pass "every module loaded here unloads once the namespaces are gone ($LOADED_MODS)"
else
    fail "the modules unload" "still loaded: $(mods_left)"
fi
# tun_left: the modules of TUN_MODS still loaded, after an rmmod of each.
tun_left() {
    for _m in $TUN_MODS; do
        grep -q "^$_m " /proc/modules && rmmod "$_m" 2>/dev/null
    done
    for _m in $TUN_MODS; do
        grep -q "^$_m " /proc/modules && echo "$_m"
    done | tr '\n' ' '
}
tun_gone() {
    [ -z "$(tun_left)" ]
}
if wait_for 50 tun_gone; then
    pass "the tunnel modules unload ($TUN_MODS)"
else
    fail "the tunnel modules unload" "still loaded: $(tun_left)"
fi
if [ "$NAT" = rnf ]; then
    _kmods=$(grep -Eo '^(x_tables|ip_tables|ip6_tables|iptable_nat|ip6table_nat|nf_nat|nf_conntrack) ' /proc/modules | tr '\n' ' ')
    if [ -z "$_kmods" ]; then
        pass "the kernel's nf_conntrack, nf_nat and ip_tables were never loaded: every result above is rnf's"
    else
        fail "the kernel's NAT stayed unloaded" "loaded: $_kmods"
    fi
fi
kernel_log_clean "the kernel log has no oops, BUG, WARNING or lockdep report"

summary
