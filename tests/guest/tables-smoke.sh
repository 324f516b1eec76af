#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Guest smoke test of rnf_tables: the stock iptables-legacy / ip6tables-legacy
# (and -save) drive the module end to end. Loads rnf_conntrack, the kernel's
# nf_reject_ipv4/6 and rnf_tables; lists, adds and deletes rules; a DROP rule
# in the router's FORWARD chain blocks ping from client to server and its
# counters show it; a REJECT answers; a state rule sees conntrack; -save
# prints the rules; rmmod with rules loaded. The full suite is tables.sh.
#
# Run it with: make vm-run SCRIPT=tests/guest/tables-smoke.sh

# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

IPT=/tmp/iptables-legacy
IP6T=/tmp/ip6tables-legacy
IPTS=/tmp/iptables-legacy-save
for t in iptables-legacy ip6tables-legacy iptables-legacy-save; do
    ln -sf /usr/bin/xtables-legacy-multi "/tmp/$t"
done
mkdir -p /run

# load: the kernel's modules by modprobe, ours by insmod (in dependency order).
load() {
    modprobe nf_defrag_ipv4 && modprobe nf_defrag_ipv6 &&
        modprobe nf_reject_ipv4 && modprobe nf_reject_ipv6 &&
        insmod /lib/rnf/rnf_conntrack.ko && insmod /lib/rnf/rnf_tables.ko
}

if load; then
    pass "modules loaded"
else
    fail "modules loaded" "$(dmesg | tail -n 5 | tr '\n' ' ')"
    summary
    exit 1
fi
grep -q '^ip_tables ' /proc/modules && fail "kernel ip_tables not loaded" "it is"

if ! topology_up; then
    fail topology_up "see above"
    topology_down
    summary
    exit 1
fi
pass topology_up

# count NS CHAIN RULE_NUMBER: the packet counter of a rule (iptables -xvnL).
count() {
    in_ns "$1" "$IPT" -xvnL "$2" --line-numbers | awk -v n="$3" '$1 == n { print $2 }'
}

check "iptables -vnL" in_ns router "$IPT" -vnL
check "ip6tables -vnL" in_ns router "$IP6T" -vnL
out=$(in_ns router "$IPT" -nL INPUT 2>&1)
echo "$out"
case "$out" in
    *"Chain INPUT (policy ACCEPT)"*) pass "INPUT policy ACCEPT" ;;
    *) fail "INPUT policy ACCEPT" "$out" ;;
esac
check "names file" in_ns router grep -qx filter /proc/net/ip_tables_names
check "names6 file" in_ns router grep -qx filter /proc/net/ip6_tables_names
# As the kernel's tables (x_tables templates), a table comes into a
# namespace with the first request naming it: the client's has none.
if [ -z "$(in_ns client cat /proc/net/ip_tables_names /proc/net/ip6_tables_names)" ]; then
    pass "a namespace nobody asked for a table lists none"
else
    fail "a namespace nobody asked for a table lists none" \
        "$(in_ns client cat /proc/net/ip_tables_names /proc/net/ip6_tables_names | tr '\n' ' ')"
fi

check "ping4 before rules" in_ns client ping -c 1 -W 5 "$SERVER4"

# A DROP rule in the router's FORWARD chain blocks the client's ping.
check "add DROP" in_ns router "$IPT" -A FORWARD -s "$CLIENT4" -p icmp -j DROP
if in_ns client ping -c 2 -W 1 "$SERVER4" >/dev/null 2>&1; then
    fail "DROP blocks ping4" "ping went through"
else
    pass "DROP blocks ping4"
fi
n=$(count router FORWARD 1)
if [ "$n" = 2 ]; then pass "DROP counted 2 packets"; else fail "DROP counted 2 packets" "counter is '$n'"; fi
# Another replace: iptables hands the old counters back through
# SET_REPLACE and re-adds them with SET_ADD_COUNTERS; the DROP keeps its 2.
check "add a second rule" in_ns router "$IPT" -A FORWARD -p udp --dport 9 -j ACCEPT
n=$(count router FORWARD 1)
if [ "$n" = 2 ]; then pass "counters survive a replace"; else fail "counters survive a replace" "counter is '$n'"; fi
in_ns router "$IPT" -xvnL FORWARD
check "delete udp rule" in_ns router "$IPT" -D FORWARD 2
check "delete DROP" in_ns router "$IPT" -D FORWARD -s "$CLIENT4" -p icmp -j DROP
check "ping4 after delete" in_ns client ping -c 1 -W 5 "$SERVER4"

# Same for IPv6.
check "add DROP6" in_ns router "$IP6T" -A FORWARD -s "$CLIENT6" -p ipv6-icmp --icmpv6-type echo-request -j DROP
if in_ns client ping -6 -c 1 -W 1 "$SERVER6" >/dev/null 2>&1; then
    fail "DROP6 blocks ping6" "ping went through"
else
    pass "DROP6 blocks ping6"
fi
check "ip6tables -F" in_ns router "$IP6T" -F FORWARD
check "ping6 after flush" in_ns client ping -6 -c 1 -W 5 "$SERVER6"

# REJECT: the client gets an answer at once (port unreachable) instead of a timeout.
check "add REJECT" in_ns router "$IPT" -A FORWARD -p tcp --dport 5000 -j REJECT
out=$(in_ns client nc -w 3 "$SERVER4" 5000 </dev/null 2>&1)
echo "nc: $out"
n=$(count router FORWARD 1)
if [ "${n:-0}" -ge 1 ]; then pass "REJECT counted ($n)"; else fail "REJECT counted" "counter is '$n'"; fi
check "flush FORWARD" in_ns router "$IPT" -F FORWARD

# state/conntrack matches through rnf_conntrack, a user chain, LOG.
check "state rule" in_ns router "$IPT" -A FORWARD -m state --state ESTABLISHED,RELATED -j ACCEPT
check "user chain" in_ns router "$IPT" -N fromclient
check "jump" in_ns router "$IPT" -A FORWARD -s "$CLIENT4" -j fromclient
check "LOG rule" in_ns router "$IPT" -A fromclient -p icmp -j LOG --log-prefix "rnf-smoke: "
check "ping4 with state rules" in_ns client ping -c 2 -W 5 "$SERVER4"
n=$(count router FORWARD 1)
if [ "${n:-0}" -ge 1 ]; then pass "ESTABLISHED replies counted ($n)"; else fail "ESTABLISHED replies counted" "counter is '$n'"; fi
if dmesg | grep -q "rnf-smoke: IN=eth-client OUT=eth-server"; then
    pass "LOG line in the kernel log"
else
    fail "LOG line in the kernel log" "$(dmesg | tail -n 3 | tr '\n' ' ')"
fi

save=$(in_ns router "$IPTS" 2>&1)
echo "$save"
case "$save" in
    *":fromclient - "*"-A FORWARD -s $CLIENT4/32 -j fromclient"*) pass "iptables-save lists the rules" ;;
    *) fail "iptables-save lists the rules" "$save" ;;
esac

# A rule loop reachable from a built-in chain is refused (ELOOP, as
# mark_source_chains does; an unreachable one is accepted by the kernel too)
# and the table in force stays as it was.
check "chain a" in_ns router "$IPT" -N a
check "chain b" in_ns router "$IPT" -N b
check "a jumps to b" in_ns router "$IPT" -A a -j b
check "FORWARD jumps to a" in_ns router "$IPT" -A FORWARD -j a
before=$(in_ns router "$IPT" -S)
if in_ns router "$IPT" -A b -j a 2>/tmp/loop.err; then
    fail "loop refused" "iptables accepted a -> b -> a"
else
    pass "loop refused: $(cat /tmp/loop.err)"
fi
if [ "$(in_ns router "$IPT" -S)" = "$before" ]; then
    pass "table unchanged after a refused replace"
else
    fail "table unchanged after a refused replace" "$(in_ns router "$IPT" -S | tr '\n' ' ')"
fi
dmesg | grep -q "rnf_tables: iptables: table filter refused: " &&
    pass "refusal reason logged" || fail "refusal reason logged" "$(dmesg | tail -n 2 | tr '\n' ' ')"
check "remove a, b" in_ns router sh -c "$IPT -D FORWARD -j a && $IPT -F a && $IPT -F b && $IPT -X a && $IPT -X b"

# Replace the table 40 times while pings cross the router (hooks walk the
# table under RCU while it is swapped and freed).
in_ns client sh -c "i=0; while [ \$i -lt 300 ]; do ping -c 1 -W 1 $SERVER4 >/dev/null; i=\$((i+1)); done" &
pinger=$!
ok=1
i=0
while [ $i -lt 20 ]; do
    in_ns router "$IPT" -I FORWARD -p udp --dport $((1000 + i)) -j DROP || ok=0
    in_ns router "$IPT" -D FORWARD -p udp --dport $((1000 + i)) -j DROP || ok=0
    i=$((i + 1))
done
kill "$pinger" 2>/dev/null
wait "$pinger" 2>/dev/null
if [ "$ok" = 1 ]; then pass "40 replaces under traffic"; else fail "40 replaces under traffic" "an iptables call failed"; fi

# Non-root-namespace tables are independent: the client's table is empty.
out=$(in_ns client "$IPT" -S FORWARD 2>&1)
if [ "$out" = "-P FORWARD ACCEPT" ]; then pass "namespaces have their own tables"; else fail "namespaces have their own tables" "$out"; fi

topology_down
if rmmod rnf_tables; then pass "rmmod with rules loaded"; else fail "rmmod with rules loaded" "rmmod failed"; fi

# With the kernel's ip_tables loaded the socket options are taken: the load
# fails with EBUSY and says why.
if modprobe ip_tables; then
    if insmod /lib/rnf/rnf_tables.ko 2>/dev/null; then
        fail "refused while ip_tables is loaded" "insmod succeeded"
        rmmod rnf_tables
    elif dmesg | grep -q "the kernel's ip_tables module is loaded"; then
        pass "refused while ip_tables is loaded"
    else
        fail "refused while ip_tables is loaded" "no reason logged: $(dmesg | tail -n 2 | tr '\n' ' ')"
    fi
    rmmod ip_tables
else
    fail "modprobe ip_tables" "failed"
fi
# The kernel's nf_conntrack and rnf_conntrack exclude each other: both want
# the skb's conntrack hook (nf_ct_hook). nf_conntrack is refused while
# rnf_conntrack is loaded (its module notifier), and rnf_conntrack while
# nf_conntrack is; each refusal is EBUSY and says why.
if modprobe nf_conntrack 2>/dev/null; then
    fail "nf_conntrack refused while rnf_conntrack is loaded" "modprobe succeeded"
    rmmod nf_conntrack
elif dmesg | grep -q "refusing nf_conntrack: rnf_conntrack tracks connections"; then
    pass "nf_conntrack refused while rnf_conntrack is loaded (reason logged)"
else
    fail "nf_conntrack refused while rnf_conntrack is loaded" "no reason logged: $(dmesg | tail -n 2 | tr '\n' ' ')"
fi
check "rmmod rnf_conntrack" rmmod rnf_conntrack
if modprobe nf_conntrack; then
    if insmod /lib/rnf/rnf_conntrack.ko 2>/dev/null; then
        fail "rnf_conntrack refused while nf_conntrack is loaded" "insmod succeeded"
        rmmod rnf_conntrack
    elif dmesg | grep -q "the kernel's nf_conntrack is loaded"; then
        pass "rnf_conntrack refused while nf_conntrack is loaded (reason logged)"
    else
        fail "rnf_conntrack refused while nf_conntrack is loaded" "no reason logged: $(dmesg | tail -n 2 | tr '\n' ' ')"
    fi
    check "rmmod nf_conntrack" rmmod nf_conntrack
    if insmod /lib/rnf/rnf_conntrack.ko; then
        pass "rnf_conntrack loads again once nf_conntrack is gone"
        rmmod rnf_conntrack
    else
        fail "rnf_conntrack loads again once nf_conntrack is gone" "insmod failed"
    fi
else
    fail "modprobe nf_conntrack" "failed"
fi
summary
