# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
#
# `make demo`: load the rnf modules in the order the loader derives from
# modinfo (the kernel's ip_tables stays out: rnf_tables answers the stock
# iptables-legacy and ip6tables-legacy), give the router a stateful FORWARD
# policy and a REJECT, send real TCP, UDP, ICMP and ICMPv6 traffic from a
# client through the router to a server (three network namespaces, see
# lib.sh), and show the rule counters and the connections the router tracks;
# then take the server's route back away and let the router masquerade
# (and forward a port), with the nat tables' counters and the translated
# connections.
# Exits non-zero (with a "demo: FAILED:" line) if a step does not work.

. "$(dirname "$0")/lib.sh"

KVER=$(uname -r)
LIST=/etc/modules-load.d/rnf.conf
step() { printf '\n### %s\n' "$*"; }
die() {
    echo "demo: FAILED: $*"
    topology_down
    exit 1
}

# pkts TOOL CHAIN N: the packet counter of rule N of CHAIN in the router.
pkts() {
    in_ns router "$1" -xvnL "$2" --line-numbers | awk -v n="$3" '$1 == n { print $2 }'
}

step "what modinfo says each rnf module depends on"
for m in /lib/rnf/*.ko; do
    echo "$(basename "$m"): depends=$(rnf-modload --modinfo "$m" | sed -n 's/^depends=//p')"
done

step "the insmod order rnf-modload derives from $LIST (dry run)"
rnf-modload -n -l "$LIST" /lib/rnf "/lib/modules/$KVER" || die "the loader's plan"

step "loading"
rnf-modload -v -l "$LIST" /lib/rnf "/lib/modules/$KVER" || die "loading"
dmesg | grep -E 'rnf_conntrack: [0-9]+ buckets'
lsmod
for m in ip_tables ip6_tables x_tables nf_conntrack; do
    ! grep -q "^$m " /proc/modules || die "the kernel's $m is loaded"
done
echo "(the kernel's ip_tables, ip6_tables, x_tables and nf_conntrack are not loaded)"

topology_up || die "topology_up"

step "the router's rules, set with the stock iptables-legacy and ip6tables-legacy"
for t in iptables-legacy ip6tables-legacy; do
    if ! { in_ns router "$t" -P FORWARD DROP &&
        in_ns router "$t" -A FORWARD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT &&
        in_ns router "$t" -A FORWARD -i eth-client -p tcp --dport 23 -j REJECT --reject-with tcp-reset &&
        in_ns router "$t" -A FORWARD -i eth-client -m conntrack --ctstate NEW -j ACCEPT; }; then
        die "$t: adding the rules"
    fi
    echo "\$ $t -S"
    in_ns router "$t" -S
done

step "traffic: client -> router -> server"
for s in "$SERVER4" "$SERVER6"; do
    out=$(in_ns client ping -c 2 "$s" 2>&1) || die "ping $s: $out"
    echo "$out" | tail -n 2
done
bg_start /tmp/nc.log in_ns server sh -c "sleep 20 | nc -l -p 80"
wait_for 50 in_ns server sh -c "netstat -ltn | grep -q ':80 '" || die "TCP server"
bg_start /tmp/nc-client.log in_ns client sh -c "(echo GET /; sleep 20) | nc $SERVER4 80"
wait_for 50 grep -q 'GET /' /tmp/nc.log || die "TCP to $SERVER4:80"
echo "TCP $SERVER4:80: the server got: $(cat /tmp/nc.log)"
bg_start /tmp/udp.log in_ns server rnf-udp serve "$SERVER4" 53 --count 1
wait_for 50 grep -q listening /tmp/udp.log || die "UDP server"
in_ns client rnf-udp send "$SERVER4" 53 --size 40 --expect-reply --timeout 5 || die "UDP to $SERVER4:53"
in_ns client rnf-udp send "$SERVER4" 123 --size 48 --sport 40123 || die "UDP to $SERVER4:123"
bg_start /tmp/udp6.log in_ns server rnf-udp serve :: 5004 --count 1
wait_for 50 grep -q listening /tmp/udp6.log || die "UDP6 server"
in_ns client rnf-udp send "$SERVER6" 5004 --size 3000 --expect-reply --timeout 5 ||
    die "3000-byte UDP to [$SERVER6]:5004"

step "what the rules stop"
for s in "$SERVER4" "$SERVER6"; do
    out=$(in_ns client timeout 3 nc "$s" 23 </dev/null 2>&1)
    echo "client: nc $s 23: $out"
    case $out in *"Connection refused"*) ;; *) die "REJECT --reject-with tcp-reset of $s:23" ;; esac
done
for c in "$CLIENT4" "$CLIENT6"; do
    if in_ns server ping -c 1 -W 1 "$c" >/dev/null 2>&1; then
        die "a NEW connection from the server side went through"
    fi
    echo "server: ping $c: no answer (FORWARD policy DROP: NEW only from eth-client)"
done
sleep 1

step "the router's counters"
for t in iptables-legacy ip6tables-legacy; do
    echo "\$ $t -vnL"
    in_ns router "$t" -vnL || die "$t -vnL"
    est=$(pkts "$t" FORWARD 1)
    rej=$(pkts "$t" FORWARD 2)
    new=$(pkts "$t" FORWARD 3)
    pol=$(in_ns router "$t" -xvnL FORWARD | sed -n 's/^Chain FORWARD (policy DROP \([0-9]*\) packets.*/\1/p')
    [ "${est:-0}" -gt 0 ] || die "$t: ESTABLISHED,RELATED rule counted '$est'"
    [ "${rej:-0}" -eq 1 ] || die "$t: REJECT rule counted '$rej', want 1"
    [ "${new:-0}" -gt 0 ] || die "$t: NEW from eth-client rule counted '$new'"
    [ "${pol:-0}" -ge 1 ] || die "$t: policy DROP counted '$pol'"
done

step "NAT: the server loses its way back to the client's network; the router masquerades"
in_ns server ip route del default || die "server: route del"
in_ns server ip -6 route del default || die "server: route -6 del"
if in_ns client ping -c 1 -W 2 "$SERVER4" >/dev/null 2>&1; then
    die "ping $SERVER4 got an answer without NAT and without a route back"
fi
echo "client: ping $SERVER4: no answer (the server has no route to $CLIENT4)"
for t in iptables-legacy ip6tables-legacy; do
    in_ns router "$t" -t nat -A POSTROUTING -o eth-server -j MASQUERADE || die "$t: MASQUERADE"
done
# A port forward: the router's port 8080 on the server side goes to the client's port 80.
in_ns router iptables-legacy -t nat -A PREROUTING -i eth-server -p tcp --dport 8080 \
    -j DNAT --to-destination "$CLIENT4:80" || die "iptables: DNAT"
in_ns router iptables-legacy -I FORWARD 3 -i eth-server -d "$CLIENT4" -p tcp --dport 80 \
    -m conntrack --ctstate DNAT -j ACCEPT || die "iptables: FORWARD for the port forward"
for s in "$SERVER4" "$SERVER6"; do
    out=$(in_ns client ping -c 2 "$s" 2>&1) || die "ping $s through NAT: $out"
    echo "$out" | tail -n 2
done
in_ns client rnf-udp send "$SERVER4" 123 --size 48 --sport 40124 || die "UDP through NAT"
bg_start /tmp/nc-fwd.log in_ns client sh -c "sleep 20 | nc -l -p 80"
wait_for 50 in_ns client sh -c "netstat -ltn | grep -q ':80 '" || die "TCP server on the client"
bg_start /tmp/nc-fwd-client.log in_ns server sh -c "(echo GET /forwarded; sleep 20) | nc $ROUTER4_SERVER 8080"
wait_for 50 grep -q 'GET /forwarded' /tmp/nc-fwd.log || die "the port forward $ROUTER4_SERVER:8080 -> $CLIENT4:80"
echo "server: nc $ROUTER4_SERVER 8080: the client's port 80 got: $(cat /tmp/nc-fwd.log)"
for t in iptables-legacy ip6tables-legacy; do
    echo "\$ $t -t nat -vnL"
    in_ns router "$t" -t nat -vnL || die "$t -t nat -vnL"
    masq=$(in_ns router "$t" -t nat -xvnL POSTROUTING | awk '$3 == "MASQUERADE" { print $1 }')
    [ "${masq:-0}" -gt 0 ] || die "$t: MASQUERADE counted '$masq'"
done

step "the router's /proc/net/rnf_conntrack (NATed replies go to the router's address)"
in_ns router cat /proc/net/rnf_conntrack
in_ns router grep -q "src=$SERVER4 dst=$ROUTER4_SERVER " /proc/net/rnf_conntrack ||
    die "no masqueraded connection in the listing"

topology_down
step "unloading in reverse order"
rnf-modload -v -r -l "$LIST" /lib/rnf "/lib/modules/$KVER" || die "unloading"
dmesg | grep 'rnf_nat: packets by conntrack state' | tail -n 1
echo
echo "demo: OK"
