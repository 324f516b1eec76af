# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
#
# Guest test of conntrack zones (issue 14): the raw table's CT target with
# --zone, --zone-orig, --zone-reply and a zone from the packet's mark keeps
# connections with identical tuples apart, as the kernel's nf_conntrack
# does (net/netfilter/xt_CT.c, nf_conntrack_core.c).
#
# It runs against either implementation, chosen by ZONES (from the
# environment, or ZONES=... on the kernel command line: vm-test.sh -a
# ZONES=kernel):
#
#   ZONES=rnf     (default) rnf_tables_raw, rnf_tables and rnf_conntrack
#                 from /lib/rnf, loaded by rnf-modload
#   ZONES=kernel  the kernel's nf_conntrack, iptable_raw, ip6table_raw,
#                 xt_CT, xt_mark and xt_tcpudp: the reference the expected
#                 listings below were taken from
#
# Topology: two LAN hosts, h1 and h2, with the same address (10.9.0.2)
# behind the router zr's lan1 and lan2, which both have 10.9.0.1 (the
# router answers neither: only what conntrack makes of the packets
# matters). Both hosts send UDP from the same port to the same port of the
# router, so the tuples are identical; the raw table puts lan1's packets in
# zone 1 and lan2's in zone 2, and /proc/net/nf_conntrack must list both.
# More rules give a zone of one direction (--zone-orig, --zone-reply) and a
# zone from the mark (MARK --set-mark 0x10009, then CT --zone mark: 9).
#
# About 10 s of guest time under TCG.
#
# By hand: scripts/vm/vm-test.sh tests/guest/zones.sh -a ZONES=kernel, or
# -a ZONES=rnf with -m for rnf_conntrack, rnf_tables and rnf_tables_raw.

. "$(dirname "$0")/lib.sh"

KVER=$(uname -r)
KNF=/lib/modules/$KVER/kernel/net
mode_var ZONES rnf
echo "zones: ZONES=$ZONES"

# refused NAME WANT_ERR CMD...: CMD must fail and print WANT_ERR.
refused() {
    _name=$1 _want=$2
    shift 2
    _out=$("$@" 2>&1)
    _rc=$?
    if [ "$_rc" -ne 0 ] && echo "$_out" | grep -q "$_want"; then
        pass "$_name"
    else
        fail "$_name" "exit $_rc, wanted '$_want': $(echo "$_out" | tr '\n' ' ')"
    fi
}

case "$ZONES" in
    kernel)
        _ok=yes
        for m in nf_conntrack x_tables ip_tables ip6_tables iptable_raw ip6table_raw xt_CT xt_mark xt_tcpudp; do
            modprobe "$m" || { _ok=no; echo "modprobe $m failed"; }
        done
        if [ "$_ok" = yes ]; then pass "kernel nf_conntrack, raw tables and xt_CT loaded"; else fail "kernel modules" "see above"; fi
        ;;
    rnf)
        if rnf-modload /lib/rnf/rnf_tables_raw.ko /lib/rnf "$KNF/ipv4/netfilter" "$KNF/ipv6/netfilter" "$KNF/netfilter"; then
            pass "rnf-modload loads rnf_tables_raw and what it needs"
        else
            fail "rnf-modload rnf_tables_raw" "failed"
            summary
            exit 1
        fi
        ;;
    *)
        fail "ZONES" "unknown ZONES=$ZONES (rnf or kernel)"
        summary
        exit 1
        ;;
esac

printf 'netns add %s\n' zr h1 h2 | ip -batch - || { fail "namespaces" "ip netns add failed"; summary; exit 1; }
for _ns in zr h1 h2; do
    sysctl_ns "$_ns" net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
        net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
done
{
    echo "link set dev lo up"
    echo "link add lan1 type veth peer name eth0 netns h1"
    echo "link add lan2 type veth peer name eth0 netns h2"
    echo "addr add 10.9.0.1/24 dev lan1"
    echo "addr add 10.9.0.1/24 dev lan2"
    echo "link set dev lan1 up"
    echo "link set dev lan2 up"
} | ip -n zr -batch - || fail "router links" "ip -batch failed"
for _h in h1 h2; do
    printf 'link set dev lo up\naddr add 10.9.0.2/24 dev eth0\nlink set dev eth0 up\n' | ip -n "$_h" -batch - ||
        fail "$_h link" "ip -batch failed"
done

# --- rules, listings, refusals ------------------------------------------------

check "raw: -i lan1 --dport 5302 MARK --set-mark 0x10009" ns_ipt zr -t raw -A PREROUTING -i lan1 -p udp --dport 5302 -j MARK --set-mark 0x10009
check "raw: -i lan1 --dport 5302 CT --zone mark" ns_ipt zr -t raw -A PREROUTING -i lan1 -p udp --dport 5302 -j CT --zone mark
check "raw: -i lan1 CT --zone 1" ns_ipt zr -t raw -A PREROUTING -i lan1 -j CT --zone 1
check "raw: -i lan2 --dport 5301 CT --zone-orig 7" ns_ipt zr -t raw -A PREROUTING -i lan2 -p udp --dport 5301 -j CT --zone-orig 7
check "raw: -i lan2 --dport 5303 CT --zone-reply 8" ns_ipt zr -t raw -A PREROUTING -i lan2 -p udp --dport 5303 -j CT --zone-reply 8
check "raw: -i lan2 CT --zone 2" ns_ipt zr -t raw -A PREROUTING -i lan2 -j CT --zone 2
check "raw: OUTPUT CT --zone 65535" ns_ipt zr -t raw -A OUTPUT -o lan9 -j CT --zone 65535
check "raw6: -i lan1 CT --zone-reply mark" ns_ip6t zr -t raw -A PREROUTING -i lan1 -j CT --zone-reply mark
check "raw6: -i lan2 CT --zone 2" ns_ip6t zr -t raw -A PREROUTING -i lan2 -j CT --zone 2
refused "CT --zone with --helper: no such helper (ENOENT)" "No chain/target/match" ns_ipt zr -t raw -A PREROUTING -i lan3 -j CT --zone 3 --helper ftp
refused "CT --zone with --timeout: not supported" "Operation not supported" ns_ipt zr -t raw -A PREROUTING -i lan3 -j CT --zone 3 --timeout t1
refused "CT --zone in filter: raw only" "Invalid argument" ns_ipt zr -t filter -A INPUT -j CT --zone 3

RAW_S='-P PREROUTING ACCEPT
-P OUTPUT ACCEPT
-A PREROUTING -i lan1 -p udp -m udp --dport 5302 -j MARK --set-xmark 0x10009/0xffffffff
-A PREROUTING -i lan1 -p udp -m udp --dport 5302 -j CT --zone mark
-A PREROUTING -i lan1 -j CT --zone 1
-A PREROUTING -i lan2 -p udp -m udp --dport 5301 -j CT --zone-orig 7
-A PREROUTING -i lan2 -p udp -m udp --dport 5303 -j CT --zone-reply 8
-A PREROUTING -i lan2 -j CT --zone 2
-A OUTPUT -o lan9 -j CT --zone 65535'
expect_text "iptables -t raw -S lists the zones as the kernel's" "$RAW_S" ns_ipt zr -t raw -S
expect_text "ip6tables -t raw -S lists the zones as the kernel's" '-P PREROUTING ACCEPT
-P OUTPUT ACCEPT
-A PREROUTING -i lan1 -j CT --zone-reply mark
-A PREROUTING -i lan2 -j CT --zone 2' ns_ip6t zr -t raw -S
# The save, restored, saves back the same.
in_ns zr iptables-legacy-save -t raw | grep -v '^#' >/tmp/zones-save-1
check "iptables-legacy-restore of the raw save" in_ns zr iptables-legacy-restore /tmp/zones-save-1
in_ns zr iptables-legacy-save -t raw | grep -v '^#' >/tmp/zones-save-2
if cmp -s /tmp/zones-save-1 /tmp/zones-save-2 && [ -s /tmp/zones-save-1 ]; then
    pass "iptables-legacy-save after restore is the same"
else
    fail "iptables-legacy-save after restore" "$(diff /tmp/zones-save-1 /tmp/zones-save-2 | tr '\n' '|')"
fi

# --- traffic: identical tuples in different zones --------------------------------

# send HOST PORT SPORT: one UDP datagram from HOST:SPORT to 10.9.0.1:PORT.
send() {
    in_ns "$1" rnf-udp send 10.9.0.1 "$2" --sport "$3" --size 16 >/dev/null 2>&1
}
send h1 5300 40000
send h2 5300 40000
send h2 5301 40001
send h2 5303 40003
send h1 5302 40002
send h1 5300 40000
sleep 0.3

# The router's UDP connections, the timeout replaced by T, sorted.
listing() {
    in_ns zr cat /proc/net/nf_conntrack | awk '$3 == "udp" { $5 = "T"; print }' | sort
}
expect_text "both hosts' identical flows are tracked apart, each in its zone" \
'ipv4 2 udp 17 T src=10.9.0.2 dst=10.9.0.1 sport=40000 dport=5300 [UNREPLIED] src=10.9.0.1 dst=10.9.0.2 sport=5300 dport=40000 mark=0 zone=1 use=2
ipv4 2 udp 17 T src=10.9.0.2 dst=10.9.0.1 sport=40000 dport=5300 [UNREPLIED] src=10.9.0.1 dst=10.9.0.2 sport=5300 dport=40000 mark=0 zone=2 use=2
ipv4 2 udp 17 T src=10.9.0.2 dst=10.9.0.1 sport=40001 dport=5301 zone-orig=7 [UNREPLIED] src=10.9.0.1 dst=10.9.0.2 sport=5301 dport=40001 mark=0 use=2
ipv4 2 udp 17 T src=10.9.0.2 dst=10.9.0.1 sport=40002 dport=5302 [UNREPLIED] src=10.9.0.1 dst=10.9.0.2 sport=5302 dport=40002 mark=0 zone=9 use=2
ipv4 2 udp 17 T src=10.9.0.2 dst=10.9.0.1 sport=40003 dport=5303 [UNREPLIED] src=10.9.0.1 dst=10.9.0.2 sport=5303 dport=40003 zone-reply=8 mark=0 use=2' listing
# The raw PREROUTING rules with their counters, without the headers.
raw_counts() {
    ns_ipt zr -t raw -vnL PREROUTING | tail -n +3
}
expect_text "the CT rules counted every packet once (the first CT wins)" \
'    1    44 MARK       17   --  lan1   *       0.0.0.0/0            0.0.0.0/0            udp dpt:5302 MARK set 0x10009
    1    44 CT         17   --  lan1   *       0.0.0.0/0            0.0.0.0/0            udp dpt:5302 CT zone mark
    3   132 CT         0    --  lan1   *       0.0.0.0/0            0.0.0.0/0            CT zone 1
    1    44 CT         17   --  lan2   *       0.0.0.0/0            0.0.0.0/0            udp dpt:5301 CT zone-orig 7
    1    44 CT         17   --  lan2   *       0.0.0.0/0            0.0.0.0/0            udp dpt:5303 CT zone-reply 8
    3   132 CT         0    --  lan2   *       0.0.0.0/0            0.0.0.0/0            CT zone 2' \
    raw_counts

echo "--- /proc/net/nf_conntrack of zr"
in_ns zr cat /proc/net/nf_conntrack

for _ns in zr h1 h2; do ip netns del "$_ns"; done
kernel_log_clean "kernel log clean"
summary
