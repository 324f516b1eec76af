# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
#
# Guest test of the targets that edit packets and of the raw table's
# targets (issue 14): TCPMSS (--set-mss, --clamp-mss-to-pmtu), DSCP, TOS,
# CT (--notrack, plain) and NOTRACK, driven by the stock iptables-legacy and
# ip6tables-legacy.
#
# It runs against either implementation, chosen by TABLES (from the
# environment, or TABLES=... on the kernel command line: vm-test.sh -a
# TABLES=kernel):
#
#   TABLES=rnf     (default) rnf_conntrack and rnf_tables from /lib/rnf,
#                  loaded by rnf-modload, and rnf_tables_mangle and
#                  rnf_tables_raw when they are there
#   TABLES=kernel  the kernel's ip_tables, the filter, mangle and raw tables
#                  of both families, xt_TCPMSS, xt_DSCP, xt_CT, xt_tcpudp,
#                  xt_state and nf_conntrack: the reference that gives the
#                  expected listings, errors and packets below
#
# TCPMSS has no table restriction, so it is tested in the filter table's
# FORWARD chain whatever is loaded; the mangle checks (DSCP, TOS, TCPMSS in
# mangle's FORWARD, the fw3 shape) and the raw ones (CT, NOTRACK) run when
# `iptables-legacy -t mangle` / `-t raw` work, and are reported as skipped
# otherwise (rnf before its mangle and raw tables exist).
#
# The topology is lib.sh's (client - router - server) with the client's
# link raised to MTU 1500, so the client advertises MSS 1460 (IPv6: 1440)
# and the router's path towards the server (MTU 1280) is the smaller one:
# --clamp-mss-to-pmtu must give 1240 (IPv6: 1220). `rnf-udp sniff` on the
# server's eth0 shows what arrives: the MSS option, the DS field, the IPv4
# header checksum, the TCP checksum (recomputed, or for a packet the device
# is still to checksum, the pseudo-header sum it starts from). `rnf-udp
# forge-syn` sends SYNs without the option (TCPMSS adds one: 4 bytes more,
# capped at 536 for IPv4) and with one, fully checksummed.
#
# By hand: make vm-run SCRIPT=tests/guest/mangle.sh (rnf, with the modules
# of `make`), or scripts/vm/vm-test.sh tests/guest/mangle.sh -a TABLES=kernel

. "$(dirname "$0")/lib.sh"

KVER=$(uname -r)
KNF=/lib/modules/$KVER/kernel/net
mode_var TABLES rnf

# expect_eq NAME GOT WANT
expect_eq() {
    if [ "$2" = "$3" ]; then
        pass "$1"
    else
        fail "$1" "got '$2', want '$3'"
    fi
}

# refused NAME WANT_ERR CMD...: CMD must fail and print WANT_ERR (iptables'
# wording of the kernel's errno).
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

# --- loading ---------------------------------------------------------------------

KERNEL_MODS="x_tables ip_tables ip6_tables iptable_filter ip6table_filter iptable_mangle
    ip6table_mangle iptable_raw ip6table_raw xt_tcpudp xt_state xt_TCPMSS xt_DSCP nf_conntrack xt_CT"

echo "mangle: TABLES=$TABLES"
case "$TABLES" in
    kernel)
        _ok=yes
        for m in $KERNEL_MODS; do
            modprobe "$m" || { _ok=no; echo "modprobe $m failed"; }
        done
        if [ "$_ok" = yes ]; then pass "kernel ip_tables, mangle, raw and xt modules loaded"; else fail "kernel modules" "see above"; fi
        ;;
    rnf)
        if [ ! -f /lib/rnf/rnf_tables.ko ]; then
            fail "rnf_tables.ko present" "no /lib/rnf/rnf_tables.ko in the guest"
            summary
            exit 1
        fi
        _top=/lib/rnf/rnf_tables.ko
        for m in rnf_tables_mangle rnf_tables_raw; do
            [ -f "/lib/rnf/$m.ko" ] && _top="$_top /lib/rnf/$m.ko"
        done
        _ok=yes
        for _m in $_top; do
            rnf-modload "$_m" /lib/rnf "$KNF/ipv4/netfilter" "$KNF/ipv6/netfilter" "$KNF/netfilter" || _ok=no
        done
        if [ "$_ok" = yes ]; then pass "rnf-modload loads $_top"; else fail "rnf-modload $_top" "failed"; summary; exit 1; fi
        ;;
    *)
        fail "TABLES" "unknown TABLES=$TABLES (rnf or kernel)"
        summary
        exit 1
        ;;
esac

ip netns add fw
in_ns fw ip link set lo up
has_table() {
    ns_ipt fw -t "$1" -S >/dev/null 2>&1 && ns_ip6t fw -t "$1" -S >/dev/null 2>&1
}
MANGLE=no RAW=no
has_table mangle && MANGLE=yes
has_table raw && RAW=yes
echo "mangle: mangle table: $MANGLE, raw table: $RAW"
if [ "$TABLES" = kernel ] && [ "$MANGLE$RAW" != yesyes ]; then
    fail "kernel mangle and raw tables" "missing"
fi

# --- listings and refusals ------------------------------------------------------

# TCPMSS in filter FORWARD, both families: -S and -vnL as the kernel lists them.
for c in ns_ipt ns_ip6t; do
    check "$c -A FORWARD ... TCPMSS --clamp-mss-to-pmtu" "$c" fw -A FORWARD -o eth+ -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu
    check "$c -A FORWARD ... TCPMSS --set-mss 1200" "$c" fw -A FORWARD -p tcp --syn -j TCPMSS --set-mss 1200
    check "$c -A OUTPUT ... TCPMSS --clamp-mss-to-pmtu" "$c" fw -A OUTPUT -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu
    check "$c -A INPUT ... TCPMSS --set-mss 536" "$c" fw -A INPUT -p tcp --tcp-flags SYN SYN -j TCPMSS --set-mss 536
    # The kernel's checkentry refusals (EINVAL).
    refused "$c: TCPMSS without a SYN match is refused" "Invalid argument" "$c" fw -A FORWARD -p tcp -j TCPMSS --set-mss 1200
    refused "$c: TCPMSS with ! --syn is refused" "Invalid argument" "$c" fw -A FORWARD -p tcp ! --syn -j TCPMSS --set-mss 1200
    refused "$c: TCPMSS --clamp-mss-to-pmtu in INPUT is refused" "Invalid argument" "$c" fw -A INPUT -p tcp --syn -j TCPMSS --clamp-mss-to-pmtu
    refused "$c: TCPMSS on -p udp is refused" "Invalid argument" "$c" fw -A FORWARD -p udp -j TCPMSS --set-mss 1200
done
TCPMSS_S='-P INPUT ACCEPT
-P FORWARD ACCEPT
-P OUTPUT ACCEPT
-A INPUT -p tcp -m tcp --tcp-flags SYN SYN -j TCPMSS --set-mss 536
-A FORWARD -o eth+ -p tcp -m tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu
-A FORWARD -p tcp -m tcp --tcp-flags FIN,SYN,RST,ACK SYN -j TCPMSS --set-mss 1200
-A OUTPUT -p tcp -m tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu'
expect_text "iptables -S lists the TCPMSS rules (refused ones absent)" "$TCPMSS_S" ns_ipt fw -S
expect_text "ip6tables -S lists the TCPMSS rules (refused ones absent)" "$TCPMSS_S" ns_ip6t fw -S
expect_text "iptables -vnL FORWARD shows TCPMSS as the kernel's" 'Chain FORWARD (policy ACCEPT 0 packets, 0 bytes)
 pkts bytes target     prot opt in     out     source               destination
    0     0 TCPMSS     6    --  *      eth+    0.0.0.0/0            0.0.0.0/0            tcp flags:0x06/0x02 TCPMSS clamp to PMTU
    0     0 TCPMSS     6    --  *      *       0.0.0.0/0            0.0.0.0/0            tcp flags:0x17/0x02 TCPMSS set 1200' ns_ipt fw -vnL FORWARD
expect_text "ip6tables -vnL FORWARD shows TCPMSS as the kernel's" 'Chain FORWARD (policy ACCEPT 0 packets, 0 bytes)
 pkts bytes target     prot opt in     out     source               destination
    0     0 TCPMSS     6    --  *      eth+    ::/0                 ::/0                 tcp flags:0x06/0x02 TCPMSS clamp to PMTU
    0     0 TCPMSS     6    --  *      *       ::/0                 ::/0                 tcp flags:0x17/0x02 TCPMSS set 1200' ns_ip6t fw -vnL FORWARD

# save_restore NAME SAVE RESTORE [TABLE]: the save, restored, saves back the same.
save_restore() {
    _t=${4:+-t $4}
    # shellcheck disable=SC2086 # _t is empty or two words
    in_ns fw "$2" $_t | grep -v '^#' >/tmp/saved-1
    if ! in_ns fw "$3" </tmp/saved-1; then
        fail "$1" "$3 refused the saved rules"
        return
    fi
    # shellcheck disable=SC2086
    in_ns fw "$2" $_t | grep -v '^#' >/tmp/saved-2
    if cmp -s /tmp/saved-1 /tmp/saved-2; then
        pass "$1"
    else
        fail "$1" "differs: $(diff /tmp/saved-1 /tmp/saved-2 | tr '\n' '|')"
    fi
}
save_restore "iptables-legacy-save/restore of the TCPMSS rules" iptables-legacy-save iptables-legacy-restore filter
save_restore "ip6tables-legacy-save/restore of the TCPMSS rules" ip6tables-legacy-save ip6tables-legacy-restore filter
refused "DSCP in the filter table is refused" "Invalid argument" ns_ipt fw -A FORWARD -j DSCP --set-dscp 1
refused "CT in the filter table is refused" "Invalid argument" ns_ipt fw -A OUTPUT -j CT --notrack

if [ "$MANGLE" = yes ]; then
    for c in ns_ipt ns_ip6t; do
        check "$c -t mangle -A FORWARD ... TCPMSS (fw3's zone clamp)" "$c" fw -t mangle -A FORWARD -o eth-wan -p tcp -m tcp --tcp-flags SYN,RST SYN -m comment --comment "!fw3: Zone wan MTU fixing" -j TCPMSS --clamp-mss-to-pmtu
        check "$c -t mangle DSCP --set-dscp-class EF" "$c" fw -t mangle -A POSTROUTING -p udp --dport 5000 -j DSCP --set-dscp-class EF
        check "$c -t mangle DSCP --set-dscp 0x0a" "$c" fw -t mangle -A PREROUTING -j DSCP --set-dscp 0x0a
        check "$c -t mangle TOS --set-tos 0x10" "$c" fw -t mangle -A OUTPUT -j TOS --set-tos 0x10
        check "$c -t mangle TOS --and-tos 0x0f" "$c" fw -t mangle -A INPUT -j TOS --and-tos 0x0f
        check "$c -t mangle TCPMSS --set-mss in PREROUTING" "$c" fw -t mangle -A PREROUTING -p tcp --syn -j TCPMSS --set-mss 1400
        # iptables itself refuses it (the kernel would say EDOM).
        refused "$c: DSCP above 63 is refused" "out of range (0-63)" "$c" fw -t mangle -A FORWARD -j DSCP --set-dscp 64
    done
    MANGLE_S='-P PREROUTING ACCEPT
-P INPUT ACCEPT
-P FORWARD ACCEPT
-P OUTPUT ACCEPT
-P POSTROUTING ACCEPT
-A PREROUTING -j DSCP --set-dscp 0x0a
-A PREROUTING -p tcp -m tcp --tcp-flags FIN,SYN,RST,ACK SYN -j TCPMSS --set-mss 1400
-A INPUT -j TOS --set-tos 0x00/0xf0
-A FORWARD -o eth-wan -p tcp -m tcp --tcp-flags SYN,RST SYN -m comment --comment "!fw3: Zone wan MTU fixing" -j TCPMSS --clamp-mss-to-pmtu
-A OUTPUT -j TOS --set-tos 0x10/0xff
-A POSTROUTING -p udp -m udp --dport 5000 -j DSCP --set-dscp 0x2e'
    expect_text "iptables -t mangle -S lists DSCP, TOS and TCPMSS" "$MANGLE_S" ns_ipt fw -t mangle -S
    expect_text "ip6tables -t mangle -S lists DSCP, TOS and TCPMSS" "$MANGLE_S" ns_ip6t fw -t mangle -S
    save_restore "iptables-legacy-save/restore of the mangle rules" iptables-legacy-save iptables-legacy-restore mangle
    save_restore "ip6tables-legacy-save/restore of the mangle rules" ip6tables-legacy-save ip6tables-legacy-restore mangle
else
    echo "SKIP: guest: mangle listings (no mangle table: rnf_tables_mangle not loaded)"
fi

if [ "$RAW" = yes ]; then
    for c in ns_ipt ns_ip6t; do
        check "$c -t raw CT --notrack" "$c" fw -t raw -A PREROUTING -p udp --dport 5001 -j CT --notrack
        check "$c -t raw NOTRACK" "$c" fw -t raw -A OUTPUT -p udp --dport 5001 -j NOTRACK
        check "$c -t raw plain CT" "$c" fw -t raw -A PREROUTING -p udp --dport 5003 -j CT
        check "$c -t raw CT --zone 0" "$c" fw -t raw -A PREROUTING -p udp --dport 5004 -j CT --zone 0
        refused "$c: CT --helper without such a helper is refused (ENOENT)" "No chain/target/match by that name" "$c" fw -t raw -A PREROUTING -p tcp --dport 21 -j CT --helper ftp
        refused "$c: CT --timeout is refused (EOPNOTSUPP)" "not supported" "$c" fw -t raw -A PREROUTING -p tcp -j CT --timeout short
        refused "$c: CT --ctevents is refused (EINVAL)" "Invalid argument" "$c" fw -t raw -A PREROUTING -j CT --ctevents new
        refused "$c: CT in mangle is refused" "Invalid argument" "$c" fw -t mangle -A PREROUTING -j CT --notrack
        # Zones, both sides (tests/guest/zones.sh tracks traffic in them).
        check "$c -t raw CT --zone 5" "$c" fw -t raw -A PREROUTING -p udp --dport 5005 -j CT --zone 5
        check "$c -D the zone rule" "$c" fw -t raw -D PREROUTING -p udp --dport 5005 -j CT --zone 5
    done
    RAW_S='-P PREROUTING ACCEPT
-P OUTPUT ACCEPT
-A PREROUTING -p udp -m udp --dport 5001 -j CT --notrack
-A PREROUTING -p udp -m udp --dport 5003 -j CT
-A PREROUTING -p udp -m udp --dport 5004 -j CT
-A OUTPUT -p udp -m udp --dport 5001 -j NOTRACK'
    expect_text "iptables -t raw -S lists CT and NOTRACK" "$RAW_S" ns_ipt fw -t raw -S
    expect_text "ip6tables -t raw -S lists CT and NOTRACK" "$RAW_S" ns_ip6t fw -t raw -S
    save_restore "iptables-legacy-save/restore of the raw rules" iptables-legacy-save iptables-legacy-restore raw
    save_restore "ip6tables-legacy-save/restore of the raw rules" ip6tables-legacy-save ip6tables-legacy-restore raw
else
    echo "SKIP: guest: raw listings (no raw table: rnf_tables_raw not loaded)"
fi
ip netns del fw

# --- traffic: client -> router -> server ------------------------------------------

if ! topology_up; then
    fail topology_up "see above"
    topology_down
    summary
    exit 1
fi
# The client's link at 1500: the client advertises MSS 1460 / 1440, and the
# router's way to the server (1280) is the narrower one.
ip -n client link set eth0 mtu 1500
ip -n router link set eth-client mtu 1500

# sniff_start TAG: rnf-udp sniff on the server's eth0 into /tmp/sniff-TAG.log.
sniff_start() {
    bg_ns "/tmp/sniff-$1.log" server rnf-udp sniff eth0 --timeout 30
    SNIFF_PID=$RNF_BG_PID
    wait_for 50 grep -q listening "/tmp/sniff-$1.log"
}

# sniff_stop: ends the last sniff_start's capture.
sniff_stop() {
    kill "$SNIFF_PID" 2>/dev/null
    wait "$SNIFF_PID" 2>/dev/null
}

# seen TAG PATTERN: the first captured line matching PATTERN (a basic regex).
seen() {
    grep -m 1 -- "$2" "/tmp/sniff-$1.log"
}

# expect_seen NAME TAG PATTERN WANT...: the line matching PATTERN contains
# every WANT.
expect_seen() {
    _name=$1 _tag=$2 _pat=$3
    shift 3
    _line=$(seen "$_tag" "$_pat")
    for _w in "$@"; do
        case "$_line" in
            *"$_w"*) ;;
            *)
                fail "$_name" "wanted '$_w' in the server's capture line '$_line' (pattern '$_pat'): $(tr '\n' '|' <"/tmp/sniff-$_tag.log" | cut -c 1-600)"
                return
                ;;
        esac
    done
    pass "$_name ($(echo "$_line" | sed 's/.* tcp /tcp /; s/.* udp /udp /'))"
}

# tcp_mss NAME ADDR PORT WANT: a TCP connection from the client to the
# server's PORT carries its data, and the server saw its SYN with MSS WANT
# and a valid TCP checksum (or, still to be completed by the device, a
# valid pseudo-header sum).
tcp_mss() {
    _name=$1 _addr=$2 _port=$3 _want=$4
    sniff_start "$_port"
    bg_ns "/tmp/nc-$_port.log" server nc -l -p "$_port"
    wait_for 50 in_ns server sh -c "netstat -ltn | grep -q ':$_port '"
    echo "data-$_port" | in_ns client timeout 10 nc "$_addr" "$_port" >/dev/null 2>&1
    if wait_for 30 grep -q "data-$_port" "/tmp/nc-$_port.log"; then
        pass "$_name: the connection carries its data"
    else
        fail "$_name: the connection carries its data" "the server got '$(cat "/tmp/nc-$_port.log")'"
    fi
    sniff_stop
    _syn=$(seen "$_port" "^in .* tcp [0-9]* > $_port flags=S ")
    case "$_syn" in
        *" mss=$_want csum=ok"* | *" mss=$_want csum=partial-ok"*) pass "$_name: the server saw MSS $_want, checksum right" ;;
        *) fail "$_name: the server saw MSS $_want" "its SYN: '$_syn'" ;;
    esac
}

# pkts NS CMD TABLE CHAIN N: the packet counter of rule N.
pkts() {
    "$2" "$1" -t "$3" -vxnL "$4" | awk -v n="$5" 'NR == n + 2 { print $1 }'
}

for fam in 4 6; do
    if [ "$fam" = 4 ]; then
        c=ns_ipt srv=$SERVER4 cli=$CLIENT4 base=1460 clamp=1240 cap=536 grown=44
    else
        c=ns_ip6t srv=$SERVER6 cli=$CLIENT6 base=1440 clamp=1220 cap=1000 grown=64
    fi
    tcp_mss "IPv$fam without rules" "$srv" 81$fam"0" "$base"
    check "IPv$fam: router FORWARD TCPMSS --clamp-mss-to-pmtu" "$c" router -A FORWARD -o eth-server -p tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu
    tcp_mss "IPv$fam TCPMSS --clamp-mss-to-pmtu (path MTU 1280)" "$srv" 81$fam"1" "$clamp"
    check "IPv$fam: router FORWARD TCPMSS --set-mss 1000" "$c" router -R FORWARD 1 -p tcp --syn -j TCPMSS --set-mss 1000
    tcp_mss "IPv$fam TCPMSS --set-mss 1000" "$srv" 81$fam"2" 1000
    expect_eq "IPv$fam: the TCPMSS rule counted the SYN" "$(pkts router "$c" filter FORWARD 1)" 1

    # Forged SYNs, fully checksummed: with MSS 1460 (lowered to 1000) and
    # without the option (added: 4 bytes longer, IPv4 capped at 536).
    sniff_start "forge$fam"
    in_ns client rnf-udp forge-syn --src "$cli" --dst "$srv" --sport 4441 --dport 9 --mss 1460 >/dev/null
    in_ns client rnf-udp forge-syn --src "$cli" --dst "$srv" --sport 4442 --dport 9 >/dev/null
    wait_for 30 grep -q " 4442 > 9 " "/tmp/sniff-forge$fam.log"
    sniff_stop
    expect_seen "IPv$fam: a forged SYN's MSS 1460 is lowered to 1000, checksums right" "forge$fam" "^in .* tcp 4441 > 9 flags=S" "mss=1000 csum=ok"
    _v4=
    [ "$fam" = 4 ] && _v4="ipcsum=ok"
    expect_seen "IPv$fam: a SYN without MSS gets MSS $cap, the packet 4 bytes longer" "forge$fam" "^in .* tcp 4442 > 9 flags=S" "len=$grown " "mss=$cap csum=ok" $_v4
    expect_eq "IPv$fam: the TCPMSS rule counted 3 SYNs" "$(pkts router "$c" filter FORWARD 1)" 3
    # A SYN-ACK does not match --syn: the server's answers are left alone.
    check "IPv$fam: router -F FORWARD" "$c" router -F FORWARD
done

if [ "$MANGLE" = yes ]; then
    for fam in 4 6; do
        if [ "$fam" = 4 ]; then c=ns_ipt srv=$SERVER4 clamp=1240; else c=ns_ip6t srv=$SERVER6 clamp=1220; fi
        check "IPv$fam: mangle FORWARD TCPMSS (fw3's clamp)" "$c" router -t mangle -A FORWARD -o eth-server -p tcp -m tcp --tcp-flags SYN,RST SYN -j TCPMSS --clamp-mss-to-pmtu
        tcp_mss "IPv$fam mangle TCPMSS --clamp-mss-to-pmtu" "$srv" 82$fam"0" "$clamp"
        check "IPv$fam: mangle POSTROUTING DSCP --set-dscp-class EF" "$c" router -t mangle -A POSTROUTING -p udp --dport 5000 -j DSCP --set-dscp-class EF
        check "IPv$fam: mangle FORWARD TOS --set-tos 0x10 for 5006" "$c" router -t mangle -A FORWARD -p udp --dport 5006 -j TOS --set-tos 0x10
        sniff_start "dscp$fam"
        in_ns client rnf-udp send "$srv" 5000 --size 16 >/dev/null 2>&1
        in_ns client rnf-udp send "$srv" 5006 --size 16 >/dev/null 2>&1
        wait_for 30 grep -q " > 5006" "/tmp/sniff-dscp$fam.log"
        sniff_stop
        _v4=
        [ "$fam" = 4 ] && _v4="ipcsum=ok"
        expect_seen "IPv$fam: DSCP EF set on the way out" "dscp$fam" "^in .* udp [0-9]* > 5000" "ds=0xb8 " $_v4
        expect_seen "IPv$fam: TOS 0x10 set" "dscp$fam" "^in .* udp [0-9]* > 5006" "ds=0x10 " $_v4
        "$c" router -t mangle -F
    done
else
    echo "SKIP: guest: mangle traffic (no mangle table)"
fi

if [ "$RAW" = yes ]; then
    # ct_has NS PATTERN: a line of NS's connection table matches.
    ct_list() {
        in_ns router sh -c 'if [ -r /proc/net/nf_conntrack ]; then cat /proc/net/nf_conntrack;
            else cat /proc/net/rnf_conntrack; fi' 2>/dev/null
    }
    for fam in 4 6; do
        if [ "$fam" = 4 ]; then c=ns_ipt srv=$SERVER4; else c=ns_ip6t srv=$SERVER6; fi
        check "IPv$fam: raw PREROUTING CT --notrack for udp 5001" "$c" router -t raw -A PREROUTING -p udp --dport 5001 -j CT --notrack
        check "IPv$fam: raw PREROUTING NOTRACK for udp 5007" "$c" router -t raw -A PREROUTING -p udp --dport 5007 -j NOTRACK
        check "IPv$fam: FORWARD counts UNTRACKED" "$c" router -A FORWARD -m state --state UNTRACKED -j ACCEPT
        for p in 5001 5007 5002; do
            in_ns client rnf-udp send "$srv" "$p" --size 16 --sport "4${fam}0${p#500}" >/dev/null 2>&1
        done
        sleep 0.3
        _ct=$(ct_list)
        # Each port with the space after it: an earlier flow's reply tuple
        # can end in "dport=50012", a random source port.
        case "$_ct" in
            *"dport=5002 "*) pass "IPv$fam: the tracked flow to 5002 is in the table" ;;
            *) fail "IPv$fam: the tracked flow to 5002 is in the table" "$(echo "$_ct" | tr '\n' '|')" ;;
        esac
        case "$_ct" in
            *"dport=5001 "* | *"dport=5007 "*) fail "IPv$fam: notrack'd flows are in no listing" "$(echo "$_ct" | tr '\n' '|')" ;;
            *) pass "IPv$fam: notrack'd flows are in no listing" ;;
        esac
        expect_eq "IPv$fam: FORWARD's UNTRACKED rule counted the 2 notrack'd datagrams" "$(pkts router "$c" filter FORWARD 1)" 2
        "$c" router -t raw -F
        "$c" router -F FORWARD
    done
else
    echo "SKIP: guest: raw traffic (no raw table)"
fi

topology_down
kernel_log_clean "kernel log clean"
summary
