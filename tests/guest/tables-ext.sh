# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
#
# The matches and targets a router's firewall uses (issue 14), sourced by
# tables.sh (which provides lib.sh, pkts, expect_pkts, TABLES and the
# client/router/server topology):
#
#   ext_listing   every new match and target through iptables-legacy and
#                 ip6tables-legacy in namespace ext: accepted, listed (-vnL),
#                 printed (-S) and saved (-save) as the expected text, which
#                 is what the kernel's own xt modules give (TABLES=kernel);
#                 the rules the kernel refuses are refused
#   ext_traffic   real traffic from the client to the server with exact
#                 per-rule counters: MARK then mark, CONNMARK --restore-mark /
#                 --save-mark across the packets of one connection, connmark,
#                 length, iprange, pkttype (unicast, and multicast over
#                 IPv6), mac, addrtype, conntrack --ctorigsrc/--ctreplsrc/
#                 --ctdir/--ctorigdstport/--ctexpire on a request and its reply, tcpmss
#                 on a SYN, dscp on unmarked traffic
#   hashlimit_*   the hashlimit match (called from the two above): the form
#                 OpenWrt's fw3 emits and variants listed and saved,
#                 rules the kernel refuses refused with its message, the
#                 /proc/net/ipt_hashlimit and ip6t_hashlimit files, and
#                 pings and datagrams over a burst with a slow rate: exact
#                 counts and the tables' lines (seconds and credit masked)
#
# Kernel modules TABLES=kernel needs for these, loaded by tables.sh.
EXT_KERNEL_MODS="xt_mark xt_connmark xt_dscp xt_iprange xt_length xt_tcpmss xt_pkttype xt_mac
    xt_addrtype xt_hashlimit"

# refused NAME CMD...: CMD (an iptables command) must fail.
refused() {
    _name=$1
    shift
    if "$@" >/dev/null 2>&1; then
        fail "$_name" "'$*' was accepted"
    else
        pass "$_name"
    fi
}

# ext_rules CMD FAMILY: the rules of ext_listing, added with CMD in ns ext.
ext_rules() {
    _c=$1
    if [ "$2" = ipv4 ]; then
        _r1=10.0.0.1-10.0.0.9 _r2=10.1.0.0-10.1.255.255 _net=10.0.0.0/8 _h=10.1.2.3 _h2=10.9.9.9
        _rnet=192.168.0.0/16
    else
        _r1=fd00::1-fd00::9 _r2=fd01::-fd01::ffff _net=fd00::/8 _h=fd01::3 _h2=fd09::9 _rnet=fdc0::/16
    fi
    for _r in "-m mark --mark 0x5/0xff -j ACCEPT" \
        "-m mark ! --mark 0x7 -j ACCEPT" \
        "-m connmark --mark 0x10/0xf0 -j ACCEPT" \
        "-m dscp --dscp 0x2e -j ACCEPT" \
        "-m dscp ! --dscp-class AF41 -j ACCEPT" \
        "-m tos --tos 0x10/0x3f -j ACCEPT" \
        "-m iprange --src-range $_r1 ! --dst-range $_r2 -j ACCEPT" \
        "-m length --length 100:1500 -j ACCEPT" \
        "-m length ! --length 64 -j DROP" \
        "-p tcp -m tcpmss --mss 1000:1460 -j ACCEPT" \
        "-m pkttype --pkt-type multicast -j DROP" \
        "-m pkttype ! --pkt-type unicast -j DROP" \
        "-m mac --mac-source 02:00:00:00:00:11 -j ACCEPT" \
        "-m mac ! --mac-source 02:00:00:00:00:12 -j ACCEPT" \
        "-m addrtype --dst-type LOCAL --limit-iface-in -j ACCEPT" \
        "-m addrtype --src-type MULTICAST ! --dst-type UNICAST -j DROP" \
        "-m conntrack --ctstate SNAT,DNAT --ctproto tcp --ctorigsrc $_net --ctorigdst $_h --ctreplsrc $_rnet ! --ctrepldst $_h2 --ctorigsrcport 1024:65535 --ctorigdstport 80 --ctreplsrcport 8080 --ctrepldstport 1000:2000 --ctstatus ASSURED --ctdir REPLY -j ACCEPT"; do
        # shellcheck disable=SC2086 # a rule is a list of words
        check "$2: $_c -A INPUT $_r" "$_c" ext -A INPUT $_r
    done
    for _r in "-m addrtype ! --src-type LOCAL --limit-iface-out -j DROP" \
        "-j MARK --set-xmark 0x1/0xff" \
        "-j MARK --set-mark 0x5" \
        "-j MARK --and-mark 0xf0" \
        "-j MARK --or-mark 0x100" \
        "-j CONNMARK --set-xmark 0x1/0xff" \
        "-j CONNMARK --save-mark --nfmask 0xff --ctmask 0xff00" \
        "-j CONNMARK --restore-mark --mask 0xf" \
        "-j CONNMARK --save-mark --left-shift-mark 8" \
        "-j CONNMARK --restore-mark --right-shift-mark 4"; do
        # shellcheck disable=SC2086 # a rule is a list of words
        check "$2: $_c -A OUTPUT $_r" "$_c" ext -A OUTPUT $_r
    done
    check "$2: $_c -A FORWARD -m mac" "$_c" ext -A FORWARD -m mac --mac-source 02:00:00:00:00:13 -j DROP
    # What the kernel's checkentry refuses: mac outside PREROUTING/INPUT/
    # FORWARD, an output interface limit in INPUT, both limits.
    refused "$2: -m mac in OUTPUT is refused" "$_c" ext -A OUTPUT -m mac --mac-source 02:00:00:00:00:11 -j DROP
    refused "$2: addrtype --limit-iface-out in INPUT is refused" "$_c" ext -A INPUT -m addrtype --dst-type LOCAL --limit-iface-out -j DROP
    refused "$2: addrtype with both interface limits is refused" "$_c" ext -A FORWARD -m addrtype --dst-type LOCAL --limit-iface-in --limit-iface-out -j DROP
    if [ "$2" = ipv6 ]; then
        refused "ipv6: addrtype BROADCAST is refused" "$_c" ext -A INPUT -m addrtype --dst-type BROADCAST -j DROP
        refused "ipv6: addrtype BLACKHOLE is refused" "$_c" ext -A INPUT -m addrtype --src-type BLACKHOLE -j DROP
    fi
}

EXT_S4='-P INPUT ACCEPT
-P FORWARD ACCEPT
-P OUTPUT ACCEPT
-A INPUT -m mark --mark 0x5/0xff -j ACCEPT
-A INPUT -m mark ! --mark 0x7 -j ACCEPT
-A INPUT -m connmark --mark 0x10/0xf0 -j ACCEPT
-A INPUT -m dscp --dscp 0x2e -j ACCEPT
-A INPUT -m dscp ! --dscp 0x22 -j ACCEPT
-A INPUT -m tos --tos 0x10/0x3f -j ACCEPT
-A INPUT -m iprange --src-range 10.0.0.1-10.0.0.9 ! --dst-range 10.1.0.0-10.1.255.255 -j ACCEPT
-A INPUT -m length --length 100:1500 -j ACCEPT
-A INPUT -m length ! --length 64 -j DROP
-A INPUT -p tcp -m tcpmss --mss 1000:1460 -j ACCEPT
-A INPUT -m pkttype --pkt-type multicast -j DROP
-A INPUT -m pkttype ! --pkt-type unicast -j DROP
-A INPUT -m mac --mac-source 02:00:00:00:00:11 -j ACCEPT
-A INPUT -m mac ! --mac-source 02:00:00:00:00:12 -j ACCEPT
-A INPUT -m addrtype --dst-type LOCAL --limit-iface-in -j ACCEPT
-A INPUT -m addrtype --src-type MULTICAST ! --dst-type UNICAST -j DROP
-A INPUT -m conntrack --ctstate SNAT,DNAT --ctproto 6 --ctorigsrc 10.0.0.0/8 --ctorigdst 10.1.2.3 --ctreplsrc 192.168.0.0/16 ! --ctrepldst 10.9.9.9 --ctorigsrcport 1024:65535 --ctorigdstport 80 --ctreplsrcport 8080 --ctrepldstport 1000:2000 --ctstatus ASSURED --ctdir REPLY -j ACCEPT
-A FORWARD -m mac --mac-source 02:00:00:00:00:13 -j DROP
-A OUTPUT -m addrtype ! --src-type LOCAL --limit-iface-out -j DROP
-A OUTPUT -j MARK --set-xmark 0x1/0xff
-A OUTPUT -j MARK --set-xmark 0x5/0xffffffff
-A OUTPUT -j MARK --set-xmark 0x0/0xffffff0f
-A OUTPUT -j MARK --set-xmark 0x100/0x100
-A OUTPUT -j CONNMARK --set-xmark 0x1/0xff
-A OUTPUT -j CONNMARK --save-mark --nfmask 0xff --ctmask 0xff00
-A OUTPUT -j CONNMARK --restore-mark --nfmask 0xf --ctmask 0xf
-A OUTPUT -j CONNMARK --save-mark --nfmask 0xffffffff --ctmask 0xffffffff --left-shift-mark 8
-A OUTPUT -j CONNMARK --restore-mark --nfmask 0xffffffff --ctmask 0xffffffff --right-shift-mark 4'

# ext_listing: the rules above in a fresh namespace, for both families.
ext_listing() {
    ip netns add ext
    for fam in ipv4 ipv6; do
        if [ "$fam" = ipv4 ]; then _c=ns_ipt _save=iptables-legacy-save; else _c=ns_ip6t _save=ip6tables-legacy-save; fi
        ext_rules "$_c" "$fam"
        if [ "$fam" = ipv4 ]; then
            _want=$EXT_S4
        else
            _want=$(echo "$EXT_S4" | sed -e 's/10\.0\.0\.1-10\.0\.0\.9/fd00::1-fd00::9/' \
                -e 's/10\.1\.0\.0-10\.1\.255\.255/fd01::-fd01::ffff/' -e 's|10\.0\.0\.0/8|fd00::/8|' \
                -e 's/10\.1\.2\.3/fd01::3/' -e 's|192\.168\.0\.0/16|fdc0::/16|' -e 's/10\.9\.9\.9/fd09::9/')
        fi
        expect_text "$fam: -S prints every new match and target as the kernel's modules do" "$_want" "$_c" ext -S
        _rules=$(echo "$_want" | grep '^-A')
        expect_text "$fam: $_save saves them the same" "$_rules" sh -c "/usr/bin/ip netns exec ext $_save | grep '^-A'"
        if [ "$fam" = ipv4 ]; then
            _l=$EXT_L4
        else
            _l=$(echo "$EXT_L4" | sed -e 's|0\.0\.0\.0/0            0\.0\.0\.0/0           |::/0                 ::/0                |' \
                -e 's/10\.0\.0\.1-10\.0\.0\.9/fd00::1-fd00::9/' -e 's/10\.1\.0\.0-10\.1\.255\.255/fd01::-fd01::ffff/' \
                -e 's|10\.0\.0\.0/8|fd00::/8|' -e 's/10\.1\.2\.3/fd01::3/' -e 's|192\.168\.0\.0/16|fdc0::/16|' \
                -e 's/10\.9\.9\.9/fd09::9/')
        fi
        expect_text "$fam: -vnL lists them as the kernel's modules do" "$_l" "$_c" ext -vnL
    done
    ip netns del ext
    hashlimit_listing
}

EXT_L4='Chain INPUT (policy ACCEPT 0 packets, 0 bytes)
 pkts bytes target     prot opt in     out     source               destination
    0     0 ACCEPT     0    --  *      *       0.0.0.0/0            0.0.0.0/0            mark match 0x5/0xff
    0     0 ACCEPT     0    --  *      *       0.0.0.0/0            0.0.0.0/0            mark match ! 0x7
    0     0 ACCEPT     0    --  *      *       0.0.0.0/0            0.0.0.0/0            connmark match  0x10/0xf0
    0     0 ACCEPT     0    --  *      *       0.0.0.0/0            0.0.0.0/0            DSCP match 0x2e
    0     0 ACCEPT     0    --  *      *       0.0.0.0/0            0.0.0.0/0            DSCP match !0x22
    0     0 ACCEPT     0    --  *      *       0.0.0.0/0            0.0.0.0/0            tos match0x10/0x3f
    0     0 ACCEPT     0    --  *      *       0.0.0.0/0            0.0.0.0/0            source IP range 10.0.0.1-10.0.0.9 destination IP range ! 10.1.0.0-10.1.255.255
    0     0 ACCEPT     0    --  *      *       0.0.0.0/0            0.0.0.0/0            length 100:1500
    0     0 DROP       0    --  *      *       0.0.0.0/0            0.0.0.0/0            length !64
    0     0 ACCEPT     6    --  *      *       0.0.0.0/0            0.0.0.0/0            tcpmss match 1000:1460
    0     0 DROP       0    --  *      *       0.0.0.0/0            0.0.0.0/0            PKTTYPE = multicast
    0     0 DROP       0    --  *      *       0.0.0.0/0            0.0.0.0/0            PKTTYPE != unicast
    0     0 ACCEPT     0    --  *      *       0.0.0.0/0            0.0.0.0/0            MAC 02:00:00:00:00:11
    0     0 ACCEPT     0    --  *      *       0.0.0.0/0            0.0.0.0/0            MAC ! 02:00:00:00:00:12
    0     0 ACCEPT     0    --  *      *       0.0.0.0/0            0.0.0.0/0            ADDRTYPE match dst-type LOCAL limit-in
    0     0 DROP       0    --  *      *       0.0.0.0/0            0.0.0.0/0            ADDRTYPE match src-type MULTICAST dst-type !UNICAST
    0     0 ACCEPT     0    --  *      *       0.0.0.0/0            0.0.0.0/0            ctstate SNAT,DNAT ctproto 6 ctorigsrc 10.0.0.0/8 ctorigdst 10.1.2.3 ctreplsrc 192.168.0.0/16 ! ctrepldst 10.9.9.9 ctorigsrcport 1024:65535 ctorigdstport 80 ctreplsrcport 8080 ctrepldstport 1000:2000 ctstatus ASSURED ctdir REPLY

Chain FORWARD (policy ACCEPT 0 packets, 0 bytes)
 pkts bytes target     prot opt in     out     source               destination
    0     0 DROP       0    --  *      *       0.0.0.0/0            0.0.0.0/0            MAC 02:00:00:00:00:13

Chain OUTPUT (policy ACCEPT 0 packets, 0 bytes)
 pkts bytes target     prot opt in     out     source               destination
    0     0 DROP       0    --  *      *       0.0.0.0/0            0.0.0.0/0            ADDRTYPE match src-type !LOCAL limit-out
    0     0 MARK       0    --  *      *       0.0.0.0/0            0.0.0.0/0            MARK xset 0x1/0xff
    0     0 MARK       0    --  *      *       0.0.0.0/0            0.0.0.0/0            MARK set 0x5
    0     0 MARK       0    --  *      *       0.0.0.0/0            0.0.0.0/0            MARK and 0xf0
    0     0 MARK       0    --  *      *       0.0.0.0/0            0.0.0.0/0            MARK or 0x100
    0     0 CONNMARK   0    --  *      *       0.0.0.0/0            0.0.0.0/0            CONNMARK xset 0x1/0xff
    0     0 CONNMARK   0    --  *      *       0.0.0.0/0            0.0.0.0/0            CONNMARK save nfmask 0xff ctmask ~0xff00
    0     0 CONNMARK   0    --  *      *       0.0.0.0/0            0.0.0.0/0            CONNMARK restore mask 0xf
    0     0 CONNMARK   0    --  *      *       0.0.0.0/0            0.0.0.0/0            CONNMARK save left-shift-mark 8
    0     0 CONNMARK   0    --  *      *       0.0.0.0/0            0.0.0.0/0            CONNMARK restore right-shift-mark 4'

# --- traffic -----------------------------------------------------------------------

# ext_udp NS DST PORT N SIZE: N datagrams of SIZE bytes from one socket.
ext_udp() {
    in_ns "$1" rnf-udp send "$2" "$3" --size "$5" --count "$4" >/dev/null 2>&1
}

# ext_rule_list CMD CHAIN RULE...: appends each RULE to CHAIN in the server.
ext_rule_list() {
    _c=$1 _chain=$2
    shift 2
    for _r in "$@"; do
        # shellcheck disable=SC2086 # a rule is a list of words
        "$_c" server -A "$_chain" $_r || fail "$_c -A $_chain $_r" "refused"
    done
}

# ext_traffic FAMILY CMD SERVER CLIENT PING_FLAG NET_RANGE
ext_traffic() {
    _f=$1 _c=$2 _srv=$3 _cli=$4 _ping=$5
    "$_c" server -F
    "$_c" server -F OUTPUT
    _rmac=$(ip -n router link show eth-server | awk '/link\/ether/ { print $2 }')
    # 1-3: MARK then mark in later rules. 4-8: CONNMARK across the packets
    # of one flow (its first packet gets mark 0x9, saved to the connection;
    # the next ones get it back from the connection). 9-10: length. 11-12: iprange. 13-14: pkttype. 15-16: mac.
    # 17-18: addrtype. 19: dscp. 20: conntrack on the request.
    ext_rule_list "$_c" INPUT \
        "-p udp --dport 7001 -j MARK --set-xmark 0x42/0xff" \
        "-p udp -m mark --mark 0x42/0xff -j DROP" \
        "-p udp --dport 7002 -m mark ! --mark 0x42 -j DROP" \
        "-p udp --dport 7003 -j CONNMARK --restore-mark" \
        "-p udp --dport 7003 -m mark --mark 0 -j MARK --set-mark 0x9" \
        "-p udp --dport 7003 -j CONNMARK --save-mark" \
        "-p udp --dport 7003 -m connmark --mark 0x9 -m mark --mark 0x9 -j ACCEPT" \
        "-p udp --dport 7003 -j DROP" \
        "-p udp --dport 7004 -m length --length 0:100 -j DROP" \
        "-p udp --dport 7004 -m length ! --length 0:100 -j DROP" \
        "-p udp --dport 7005 -m iprange --src-range $6 -j DROP" \
        "-p udp --dport 7005 -m iprange ! --src-range $6 -j DROP" \
        "-p udp --dport 7006 -m pkttype --pkt-type broadcast -j DROP" \
        "-p udp --dport 7006 -m pkttype --pkt-type unicast -j DROP" \
        "-p udp --dport 7007 -m mac ! --mac-source $_rmac -j DROP" \
        "-p udp --dport 7007 -m mac --mac-source $_rmac -j DROP" \
        "-p udp --dport 7008 -m addrtype --src-type LOCAL -j DROP" \
        "-p udp --dport 7008 -m addrtype --dst-type LOCAL --limit-iface-in -j DROP" \
        "-p udp --dport 7010 -m dscp --dscp 0 -m dscp ! --dscp 0x2e -j DROP" \
        "-p udp --dport 7009 -m conntrack --ctorigsrc $_cli --ctdir ORIGINAL --ctorigdstport 7009 -j ACCEPT"
    # The echo's reply: REPLY direction, its original source the client;
    # its connection has about 30 s left (nf_conntrack_udp_timeout), so
    # --ctexpire 0:19 and ! --ctexpire 20:40 both miss it.
    ext_rule_list "$_c" OUTPUT \
        "-p udp --sport 7009 -m conntrack --ctexpire 0:19 -j DROP" \
        "-p udp --sport 7009 -m conntrack ! --ctexpire 20:40 -j DROP" \
        "-p udp --sport 7009 -m conntrack --ctdir ORIGINAL -j DROP" \
        "-p udp --sport 7009 -m conntrack --ctorigsrc $_cli --ctreplsrc $_srv --ctdir REPLY --ctreplsrcport 7009 -j ACCEPT"
    # The flow on 7003 must be accepted (and answered) so that its
    # connection is confirmed and keeps its mark for the next packets.
    bg_ns "/tmp/$_f-7003.log" server rnf-udp serve "$_srv" 7003
    wait_for 50 grep -q listening "/tmp/$_f-7003.log"
    ext_udp client "$_srv" 7001 3 16
    ext_udp client "$_srv" 7002 2 16
    ext_udp client "$_srv" 7003 4 16
    ext_udp client "$_srv" 7004 2 16
    ext_udp client "$_srv" 7004 3 500
    ext_udp client "$_srv" 7005 2 16
    ext_udp client "$_srv" 7006 2 16
    ext_udp client "$_srv" 7007 3 16
    ext_udp client "$_srv" 7008 2 16
    ext_udp client "$_srv" 7010 2 16
    bg_ns "/tmp/$_f-7009.log" server rnf-udp serve "$_srv" 7009
    wait_for 50 grep -q listening "/tmp/$_f-7009.log"
    check "$_f: the echo on port 7009 comes back through the conntrack rules" \
        in_ns client rnf-udp send "$_srv" 7009 --size 16 --expect-reply --timeout 3
    _n=0
    for _want in 3 3 2 4 1 4 4 0 2 3 2 0 0 2 0 3 0 2 2 1; do
        _n=$((_n + 1))
        expect_pkts "$_f: INPUT rule $_n" server "$_c" INPUT "$_n" "$_want"
    done
    expect_pkts "$_f: OUTPUT --ctexpire 0:19 misses the reply" server "$_c" OUTPUT 1 0
    expect_pkts "$_f: OUTPUT ! --ctexpire 20:40 misses the reply" server "$_c" OUTPUT 2 0
    expect_pkts "$_f: OUTPUT --ctdir ORIGINAL misses the reply" server "$_c" OUTPUT 3 0
    expect_pkts "$_f: OUTPUT --ctdir REPLY --ctorigsrc client --ctreplsrc server" server "$_c" OUTPUT 4 1
    "$_c" server -F
    "$_c" server -F OUTPUT
    bg_stop_all

    # tcpmss on the SYN (MSS = 1280 - 40 for IPv4, - 60 for IPv6), and a
    # multicast echo request for pkttype (IPv6: ff02::1 on the link).
    ext_rule_list "$_c" INPUT \
        "-p tcp --dport 7011 --syn -m tcpmss --mss 1241:65535 -j DROP" \
        "-p tcp --dport 7011 --syn -m tcpmss --mss 1000:1240 -j DROP"
    in_ns client timeout 3 nc "$_srv" 7011 </dev/null >/dev/null 2>&1
    expect_pkts "$_f: tcpmss above the MSS misses" server "$_c" INPUT 1 0
    _syns=$(pkts server "$_c" INPUT 2)
    if [ "${_syns:-0}" -ge 1 ]; then
        pass "$_f: tcpmss 1000:1240 matched the SYN's MSS ($_syns SYNs)"
    else
        fail "$_f: tcpmss matched the SYN" "'$_syns' packets"
    fi
    "$_c" server -F
    if [ "$_f" = ipv6 ]; then
        ext_rule_list "$_c" INPUT \
            "-p icmpv6 --icmpv6-type echo-request -m pkttype --pkt-type unicast -j ACCEPT" \
            "-p icmpv6 --icmpv6-type echo-request -m pkttype --pkt-type multicast -j ACCEPT"
        in_ns router ping -6 -c 2 -i 0.3 -W 2 -I eth-server ff02::1 >/dev/null 2>&1
        expect_pkts "ipv6: pkttype unicast misses the multicast echo requests" server "$_c" INPUT 1 0
        expect_pkts "ipv6: pkttype multicast counts the 2 echo requests to ff02::1" server "$_c" INPUT 2 2
        "$_c" server -F
    fi
    hashlimit_traffic "$@"
}

# --- hashlimit -------------------------------------------------------------------

# refused_with NAME TEXT CMD...: CMD must fail and say TEXT (the errno's
# message as iptables prints it).
refused_with() {
    _name=$1 _text=$2
    shift 2
    if _out=$("$@" 2>&1); then
        fail "$_name" "'$*' was accepted"
    elif echo "$_out" | grep -qF "$_text"; then
        pass "$_name"
    else
        fail "$_name" "'$*' said: $(echo "$_out" | tr '\n' '|')"
    fi
}

# hashlimit_rules CMD FAMILY: fw3's form and variants, in namespace hl.
hashlimit_rules() {
    _c=$1
    for _r in "-m hashlimit --hashlimit-upto 10/sec --hashlimit-burst 5 --hashlimit-mode srcip --hashlimit-name X -j ACCEPT" \
        "-p tcp -m hashlimit --hashlimit-above 100/min --hashlimit-mode srcip,dstport --hashlimit-srcmask 24 --hashlimit-name above -j DROP" \
        "-m hashlimit --hashlimit-upto 1kb/s --hashlimit-burst 2kb --hashlimit-mode dstip --hashlimit-dstmask 16 --hashlimit-name bytes -j ACCEPT" \
        "-p udp -m hashlimit --hashlimit-upto 5/hour --hashlimit-mode srcip,srcport,dstip,dstport --hashlimit-htable-size 64 --hashlimit-htable-max 128 --hashlimit-htable-expire 60000 --hashlimit-htable-gcinterval 500 --hashlimit-name sized -j ACCEPT" \
        "-m hashlimit --hashlimit-upto 3/sec --hashlimit-rate-match --hashlimit-rate-interval 5 --hashlimit-name rm -j ACCEPT" \
        "-m hashlimit --hashlimit-upto 1/sec --hashlimit-name X -j DROP"; do
        # shellcheck disable=SC2086 # a rule is a list of words
        check "$2: $_c -A INPUT $_r" "$_c" hl -A INPUT $_r
    done
    # What only the kernel's checkentry refuses, with its errno.
    refused_with "$2: hashlimit expire 0 is EINVAL" "Invalid argument" "$_c" hl -A INPUT -m hashlimit --hashlimit-upto 1/sec --hashlimit-htable-expire 0 --hashlimit-name z -j DROP
    refused_with "$2: hashlimit gcinterval 0 is EINVAL" "Invalid argument" "$_c" hl -A INPUT -m hashlimit --hashlimit-upto 1/sec --hashlimit-htable-gcinterval 0 --hashlimit-name z -j DROP
    refused_with "$2: hashlimit name .. is EINVAL" "Invalid argument" "$_c" hl -A INPUT -m hashlimit --hashlimit-upto 1/sec --hashlimit-name .. -j DROP
    refused_with "$2: hashlimit name with / is EINVAL" "Invalid argument" "$_c" hl -A INPUT -m hashlimit --hashlimit-upto 1/sec --hashlimit-name a/b -j DROP
    refused_with "$2: hashlimit 1/day burst 10000 overflows (ERANGE)" "out of range" "$_c" hl -A INPUT -m hashlimit --hashlimit-upto 1/day --hashlimit-burst 10000 --hashlimit-name z -j DROP
    refused_with "$2: hashlimit rate-match on a table without it is EINVAL" "Invalid argument" "$_c" hl -A INPUT -m hashlimit --hashlimit-upto 3/sec --hashlimit-rate-match --hashlimit-name X -j DROP
}

# hashlimit_listing: the rules above in namespace hl, for both families:
# -S, -save and -vnL as the kernel's xt_hashlimit gives them, the tables'
# files, and their removal with the last rule naming them.
hashlimit_listing() {
    ip netns add hl
    for fam in ipv4 ipv6; do
        if [ "$fam" = ipv4 ]; then
            _c=ns_ipt _save=iptables-legacy-save _dir=/proc/net/ipt_hashlimit
        else
            _c=ns_ip6t _save=ip6tables-legacy-save _dir=/proc/net/ip6t_hashlimit
        fi
        hashlimit_rules "$_c" "$fam"
        _want=$HL_S4
        expect_text "$fam: -S prints the hashlimit rules as xt_hashlimit does" "$_want" "$_c" hl -S
        expect_text "$fam: $_save saves them the same" "$(echo "$_want" | grep '^-A')" \
            sh -c "/usr/bin/ip netns exec hl $_save | grep '^-A'"
        expect_text "$fam: -vnL lists them as xt_hashlimit does" "$(hl_listing "$fam")" "$_c" hl -vnL INPUT
        expect_text "$fam: one file per table name in $_dir" 'X
above
bytes
rm
sized' sh -c "/usr/bin/ip netns exec hl ls $_dir"
        expect_text "$fam: the tables are empty before any packet" "" sh -c "/usr/bin/ip netns exec hl cat $_dir/X $_dir/sized"
        check "$fam: -F INPUT" "$_c" hl -F INPUT
        expect_text "$fam: the files go with the last rule" "" sh -c "/usr/bin/ip netns exec hl ls $_dir"
    done
    check "the other family's directory exists too" in_ns hl test -d /proc/net/ip6t_hashlimit
    ip netns del hl
    # A namespace deleted with a named table in it: its exit drops the
    # rule, the table and its file, then the directory (tables.sh checks
    # the log for a directory kept with a file in it, after rmmod, which
    # waits for the exit).
    ip netns add hl2
    check "a rule with a named table, in a namespace about to be deleted" \
        ns_ipt hl2 -A INPUT -m hashlimit --hashlimit-upto 1/sec --hashlimit-name gone -j DROP
    check "its table's file is there" in_ns hl2 test -f /proc/net/ipt_hashlimit/gone
    ip netns del hl2
}

HL_S4='-P INPUT ACCEPT
-P FORWARD ACCEPT
-P OUTPUT ACCEPT
-A INPUT -m hashlimit --hashlimit-upto 10/sec --hashlimit-burst 5 --hashlimit-mode srcip --hashlimit-name X -j ACCEPT
-A INPUT -p tcp -m hashlimit --hashlimit-above 100/min --hashlimit-burst 5 --hashlimit-mode srcip,dstport --hashlimit-name above --hashlimit-srcmask 24 -j DROP
-A INPUT -m hashlimit --hashlimit-upto 1kb/s --hashlimit-burst 2kb --hashlimit-mode dstip --hashlimit-name bytes --hashlimit-dstmask 16 -j ACCEPT
-A INPUT -p udp -m hashlimit --hashlimit-upto 5/hour --hashlimit-burst 5 --hashlimit-mode srcip,srcport,dstip,dstport --hashlimit-name sized --hashlimit-htable-size 64 --hashlimit-htable-max 128 --hashlimit-htable-gcinterval 500 --hashlimit-htable-expire 60000 -j ACCEPT
-A INPUT -m hashlimit --hashlimit-upto 3/sec --hashlimit-burst 5 --hashlimit-name rm --hashlimit-rate-match --hashlimit-rate-interval 5 -j ACCEPT
-A INPUT -m hashlimit --hashlimit-upto 1/sec --hashlimit-burst 5 --hashlimit-name X -j DROP'

# hl_listing FAMILY: the -vnL INPUT of the rules above (the rate-match
# rule as iptables 1.8.9 prints it).
hl_listing() {
    if [ "$1" = ipv4 ]; then
        _a='0.0.0.0/0            0.0.0.0/0           '
    else
        _a='::/0                 ::/0                '
    fi
    echo "Chain INPUT (policy ACCEPT 0 packets, 0 bytes)
 pkts bytes target     prot opt in     out     source               destination
    0     0 ACCEPT     0    --  *      *       $_a limit: up to 10/sec burst 5 mode srcip
    0     0 DROP       6    --  *      *       $_a limit: above 100/min burst 5 mode srcip-dstport srcmask 24
    0     0 ACCEPT     0    --  *      *       $_a limit: up to 1kb/s burst 2kb mode dstip dstmask 16
    0     0 ACCEPT     17   --  *      *       $_a limit: up to 5/hour burst 5 mode srcip-srcport-dstip-dstport htable-size 64 htable-max 128 htable-gcinterval 500 htable-expire 60000
    0     0 ACCEPT     0    --  *      *       $_a limit: up to 51840/day burst 5 htable-expire 1000 rate-match rate-interval 5
    0     0 DROP       0    --  *      *       $_a limit: up to 1/sec burst 5"
}

# hashlimit_traffic FAMILY CMD SERVER CLIENT PING_FLAG: pings and datagrams
# from the client over a burst of 3 (2) with a rate of one a minute, so
# timing cannot matter: exactly the burst passes.
hashlimit_traffic() {
    _f=$1 _c=$2 _srv=$3 _cli=$4 _ping=$5
    if [ "$_f" = ipv4 ]; then
        _dir=/proc/net/ipt_hashlimit _icmp="-p icmp --icmp-type echo-request" _m=24
    else
        _dir=/proc/net/ip6t_hashlimit _icmp="-p icmpv6 --icmpv6-type echo-request" _m=64
    fi
    "$_c" server -F
    # 1-2: upto 1/min burst 3, else DROP. 3-4: udp keyed on everything,
    # source masked, burst 2. 5: --hashlimit-above, burst 2: drops what is
    # over it.
    # shellcheck disable=SC2086 # $_icmp is a list of words
    ext_rule_list "$_c" INPUT \
        "$_icmp -m hashlimit --hashlimit-upto 1/min --hashlimit-burst 3 --hashlimit-mode srcip --hashlimit-name ping -j ACCEPT" \
        "$_icmp -j DROP" \
        "-p udp --dport 7101 -m hashlimit --hashlimit-upto 1/min --hashlimit-burst 2 --hashlimit-mode srcip,srcport,dstip,dstport --hashlimit-srcmask $_m --hashlimit-name udp -j ACCEPT" \
        "-p udp --dport 7101 -j DROP" \
        "-p udp --dport 7102 -m hashlimit --hashlimit-above 1/min --hashlimit-burst 2 --hashlimit-mode dstport --hashlimit-name above -j DROP"
    in_ns client ping "$_ping" -c 6 -i 0.2 -W 1 "$_srv" >/dev/null 2>&1
    in_ns client rnf-udp send "$_srv" 7101 --size 16 --sport 40101 --count 5 >/dev/null 2>&1
    in_ns client rnf-udp send "$_srv" 7102 --size 16 --count 5 >/dev/null 2>&1
    expect_pkts "$_f: hashlimit 1/min burst 3 passes 3 pings of 6" server "$_c" INPUT 1 3
    expect_pkts "$_f: the other 3 pings are dropped" server "$_c" INPUT 2 3
    expect_pkts "$_f: hashlimit on udp passes 2 datagrams of 5" server "$_c" INPUT 3 2
    expect_pkts "$_f: the other 3 datagrams are dropped" server "$_c" INPUT 4 3
    expect_pkts "$_f: --hashlimit-above drops the 3 datagrams over the burst" server "$_c" INPUT 5 3
    # The tables' lines: seconds to expiry and credit vary with the timing.
    _mask='s/^[0-9-]* /S /; s/ [0-9]* \([0-9]* [0-9]*\)$/ C \1/'
    expect_text "$_f: $_dir/ping lists the client" "$(hl_lines "$_f" ping)" \
        sh -c "/usr/bin/ip netns exec server cat $_dir/ping | sed '$_mask'"
    expect_text "$_f: $_dir/udp lists the masked flow" "$(hl_lines "$_f" udp)" \
        sh -c "/usr/bin/ip netns exec server cat $_dir/udp | sed '$_mask'"
    expect_text "$_f: $_dir/above lists the port" "$(hl_lines "$_f" above)" \
        sh -c "/usr/bin/ip netns exec server cat $_dir/above | sed '$_mask'"
    "$_c" server -F
    check "$_f: the tables go with the rules" in_ns server sh -c "[ -z \"\$(ls $_dir)\" ]"
}

# hl_lines FAMILY NAME: the masked lines of table NAME after the traffic:
# credit cap (burst * cost) and cost (60e6 * 137438953, revision 3 at any HZ).
hl_lines() {
    _z6=0000:0000:0000:0000:0000:0000:0000:0000
    case "$1 $2" in
        "ipv4 ping") echo "S $CLIENT4:0->0.0.0.0:0 C 24739011540000000 8246337180000000" ;;
        "ipv4 udp") echo "S 10.1.0.0:40101->$SERVER4:7101 C 16492674360000000 8246337180000000" ;;
        "ipv4 above") echo "S 0.0.0.0:0->0.0.0.0:7102 C 16492674360000000 8246337180000000" ;;
        "ipv6 ping") echo "S fd01:0000:0000:0000:0000:0000:0000:0002:0->$_z6:0 C 24739011540000000 8246337180000000" ;;
        "ipv6 udp") echo "S fd01:0000:0000:0000:0000:0000:0000:0000:40101->fd02:0000:0000:0000:0000:0000:0000:0002:7101 C 16492674360000000 8246337180000000" ;;
        "ipv6 above") echo "S $_z6:0->$_z6:7102 C 16492674360000000 8246337180000000" ;;
    esac
}
