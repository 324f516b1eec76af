# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
#
# `make demo`: load the rnf modules in the order the loader derives from
# modinfo, send real TCP, UDP, ICMP and ICMPv6 traffic from a client through
# a router to a server (three network namespaces, see lib.sh), and show the
# connections the router tracks. Exits non-zero if a step fails.

. "$(dirname "$0")/lib.sh"

KVER=$(uname -r)
step() { printf '\n### %s\n' "$*"; }

step "what modinfo says rnf_conntrack and rnf_nat depend on"
for m in /lib/rnf/*.ko; do
    echo "$(basename "$m"): depends=$(rnf-modload --modinfo "$m" | sed -n 's/^depends=//p')"
done

step "the insmod order rnf-modload derives (dry run)"
rnf-modload -n -l /etc/modules-load.d/rnf.conf /lib/rnf "/lib/modules/$KVER" || exit 1

step "loading"
rnf-modload -v -l /etc/modules-load.d/rnf.conf /lib/rnf "/lib/modules/$KVER" || exit 1
grep -E '^(rnf_|nf_defrag)' /proc/modules | cut -d' ' -f1-4
dmesg | grep -E 'rnf_conntrack: [0-9]+ buckets'

step "traffic: client -> router -> server"
topology_up || exit 1
in_ns client ping -c 2 "$SERVER4" | tail -n 2
in_ns client ping -6 -c 2 "$SERVER6" | tail -n 2
bg_start /tmp/nc.log in_ns server sh -c "sleep 20 | nc -l -p 80"
wait_for 50 in_ns server sh -c "netstat -ltn | grep -q ':80 '"
bg_start /tmp/nc-client.log in_ns client sh -c "(echo GET /; sleep 20) | nc $SERVER4 80"
bg_start /tmp/udp.log in_ns server rnf-udp serve "$SERVER4" 53 --count 1
wait_for 50 grep -q listening /tmp/udp.log
in_ns client rnf-udp send "$SERVER4" 53 --size 40 --expect-reply --timeout 5
in_ns client rnf-udp send "$SERVER4" 123 --size 48 --sport 40123
bg_start /tmp/udp6.log in_ns server rnf-udp serve :: 5004 --count 1
wait_for 50 grep -q listening /tmp/udp6.log
in_ns client rnf-udp send "$SERVER6" 5004 --size 3000 --expect-reply --timeout 5
sleep 1

step "the router's /proc/net/rnf_conntrack"
in_ns router cat /proc/net/rnf_conntrack

topology_down
step "unloading in reverse order"
rnf-modload -v -r -l /etc/modules-load.d/rnf.conf /lib/rnf "/lib/modules/$KVER" || exit 1
dmesg | grep 'rnf_nat: classified' | tail -n 1
