# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
#
# Helpers for guest test scripts (busybox ash, POSIX sh). Source it with
#   . "$(dirname "$0")/lib.sh"
#
# Results:   pass NAME; fail NAME WHY; check NAME CMD...; summary
# Network:   topology_up; topology_down; in_ns NS CMD...
# Traffic:   tcp_serve, tcp_check, udp_serve, udp_send, expect_udp, udp_peers
# Processes: bg_start LOG CMD...; wait_for TENTHS CMD...; wait_pid PID TENTHS;
#            exited PID
#
# The topology (names are network namespaces):
#
#   client eth0 ---- eth-client router eth-server ---- eth0 server
#   10.1.0.2/24       10.1.0.1          10.2.0.1         10.2.0.2/24
#   fd01::2/64        fd01::1           fd02::1          fd02::2/64
#
# MTU: every veth end is 1280 (the IPv6 minimum). IPv6 routers never fragment,
# so any MTU step between the two links would make the router drop a big
# datagram going one way with a Packet Too Big (the first datagram of a flow
# is lost, a test flakes). With one MTU everywhere the sending END fragments
# (client or server, for requests and echoes alike), the router only ever
# forwards fragments, and when the kernel's defrag (nf_defrag_ipv6) or ours is
# loaded in the router it reassembles them and refragments on output at the
# largest fragment size seen, which again fits. A 3000-byte UDP datagram
# becomes three IPv6 fragments on the wire.
#
# Neighbours: every veth end has a fixed MAC address (CLIENT_MAC, ...) and
# every namespace a permanent neighbour entry for its peers' addresses, so
# no ARP or neighbour discovery runs. Under a rule set with policy DROP a
# neighbour solicitation (an IPv6 packet, unlike ARP) can be dropped, and
# an entry that aged out while the test ran (slowly, on the debug kernel)
# could then not be resolved again; nor do solicitations land in exact
# counters at times that differ from run to run.

RNF_PASSED=0
RNF_FAILED=0
RNF_BG_PIDS=

CLIENT4=10.1.0.2
ROUTER4_CLIENT=10.1.0.1
ROUTER4_SERVER=10.2.0.1
SERVER4=10.2.0.2
CLIENT6=fd01::2
ROUTER6_CLIENT=fd01::1
ROUTER6_SERVER=fd02::1
SERVER6=fd02::2
LINK_MTU=1280
CLIENT_MAC=02:00:00:00:01:02
ROUTER_CLIENT_MAC=02:00:00:00:01:01
ROUTER_SERVER_MAC=02:00:00:00:02:01
SERVER_MAC=02:00:00:00:02:02

# Busybox ash runs its own `ip` applet before searching PATH (Debian builds it
# with FEATURE_SH_STANDALONE); it knows nothing of netns or veth. A function
# wins over an applet, so every bare `ip` in a script sourcing this is iproute2.
ip() {
    /usr/bin/ip "$@"
}

# mode_var NAME DEFAULT: sets variable NAME (which implementation or mode a
# script tests) from the environment when set there, else from NAME=value
# on the kernel command line (vm-test.sh -a NAME=value), else to DEFAULT.
mode_var() {
    eval "_mv=\${$1:-}"
    if [ -z "$_mv" ]; then
        for _arg in $(cat /proc/cmdline); do
            case "$_arg" in "$1"=*) _mv=${_arg#"$1"=} ;; esac
        done
    fi
    eval "$1=\${_mv:-\$2}"
}

pass() {
    RNF_PASSED=$((RNF_PASSED + 1))
    echo "PASS: guest: $1"
}

fail() {
    RNF_FAILED=$((RNF_FAILED + 1))
    echo "FAIL: guest: $1: $2"
}

# check NAME CMD...: runs CMD; passes if it succeeds, else fails with the last
# lines of its output as the reason.
check() {
    _name=$1
    shift
    _out=$("$@" 2>&1)
    _rc=$?
    if [ "$_rc" -eq 0 ]; then
        pass "$_name"
    else
        fail "$_name" "'$*' exited $_rc: $(echo "$_out" | tail -n 3 | tr '\n' ' ')"
    fi
}

# summary: prints the counts; returns 1 if anything failed or nothing passed.
summary() {
    echo "guest: $RNF_PASSED passed, $RNF_FAILED failed"
    [ "$RNF_FAILED" -eq 0 ] && [ "$RNF_PASSED" -gt 0 ]
}

# in_ns NS CMD...: runs CMD in network namespace NS.
in_ns() {
    _ns=$1
    shift
    /usr/bin/ip netns exec "$_ns" "$@"
}

# wait_for TENTHS CMD...: retries CMD every 0.1 s until it succeeds, for at
# most TENTHS tenths of a second; returns 1 if it never did.
wait_for() {
    _tries=$1
    shift
    while ! "$@" >/dev/null 2>&1; do
        _tries=$((_tries - 1))
        [ "$_tries" -gt 0 ] || return 1
        sleep 0.1
    done
}

# bg_start LOG CMD...: runs CMD in the background with its output in LOG;
# topology_down (or bg_stop_all) kills it if it is still running. The pid is
# in $RNF_BG_PID.
bg_start() {
    _log=$1
    shift
    "$@" >"$_log" 2>&1 &
    RNF_BG_PID=$!
    RNF_BG_PIDS="$RNF_BG_PIDS $RNF_BG_PID"
}

bg_stop_all() {
    for _pid in $RNF_BG_PIDS; do
        kill "$_pid" 2>/dev/null
    done
    for _pid in $RNF_BG_PIDS; do
        wait "$_pid" 2>/dev/null
    done
    RNF_BG_PIDS=
}

# exited PID: true when PID is gone or a zombie (kill -0 succeeds on a zombie).
exited() {
    [ -r "/proc/$1/stat" ] || return 0
    read -r _stat <"/proc/$1/stat" 2>/dev/null || return 0
    _stat=${_stat##*) }
    [ "${_stat%% *}" = Z ]
}

# wait_pid PID TENTHS: waits for a background process to exit, at most TENTHS
# tenths of a second, and returns its status (124 if it had to be killed).
wait_pid() {
    if ! wait_for "$2" exited "$1"; then
        kill "$1" 2>/dev/null
        wait "$1" 2>/dev/null
        return 124
    fi
    wait "$1"
}

# sysctl_ns NS KEY=VALUE...: sets sysctls in NS (net.* ones are per namespace).
sysctl_ns() {
    _ns=$1
    shift
    in_ns "$_ns" sysctl -q -w "$@" >/dev/null
}

# no_tentative NS: true when NS has no IPv6 address still in DAD.
no_tentative() {
    [ -z "$(ip -n "$1" -6 addr show tentative)" ]
}

# link_cmds DEV ADDR4 ADDR6: `ip -batch` lines giving DEV its MTU and
# addresses (no DAD) and bringing it up.
link_cmds() {
    echo "link set dev $1 mtu $LINK_MTU up"
    echo "addr add $2 dev $1"
    echo "addr add $3 dev $1 nodad"
}

# neigh_cmds DEV MAC ADDR...: `ip -batch` lines making each ADDR on DEV a
# permanent neighbour at MAC.
neigh_cmds() {
    _dev=$1 _mac=$2
    shift 2
    for _a in "$@"; do
        echo "neigh replace $_a lladdr $_mac dev $_dev nud permanent"
    done
}

# topology_up: builds the three namespaces described at the top (with the
# sysctls in TOPOLOGY_SYSCTLS, if set, in each, before any link); returns
# non-zero (with a message) if a step fails. Under software emulation every
# exec of the (dynamically linked) ip costs about 0.15 s, so the commands go
# through one `ip -batch` per namespace.
topology_up() {
    printf 'netns add %s\n' client router server | ip -batch - || return 1
    # Before any interface exists, so that they all inherit it: addresses
    # (link-local ones too) are usable at once instead of after DAD's second.
    for _ns in client router server; do
        _fwd=
        [ "$_ns" = router ] && _fwd="net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1"
        # shellcheck disable=SC2086 # _fwd is a list of words
        # No router solicitations either: nothing here advertises, and
        # their timing (a random delay, then every 4 s) would put packets
        # into exact counters at times that differ from run to run.
        sysctl_ns "$_ns" net.ipv6.conf.all.accept_dad=0 \
            net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.all.router_solicitations=0 \
            net.ipv6.conf.default.router_solicitations=0 $_fwd ${TOPOLOGY_SYSCTLS:-} || return 1
    done
    if ! {
        {
            echo "link set dev lo up"
            echo "link add eth0 address $CLIENT_MAC type veth peer name eth-client address $ROUTER_CLIENT_MAC netns router"
            link_cmds eth0 "$CLIENT4/24" "$CLIENT6/64"
            neigh_cmds eth0 "$ROUTER_CLIENT_MAC" "$ROUTER4_CLIENT" "$ROUTER6_CLIENT"
            echo "route add default via $ROUTER4_CLIENT"
            echo "route add default via $ROUTER6_CLIENT"
        } | ip -n client -batch - &&
            {
                echo "link set dev lo up"
                echo "link add eth-server address $ROUTER_SERVER_MAC type veth peer name eth0 address $SERVER_MAC netns server"
                link_cmds eth-client "$ROUTER4_CLIENT/24" "$ROUTER6_CLIENT/64"
                link_cmds eth-server "$ROUTER4_SERVER/24" "$ROUTER6_SERVER/64"
                neigh_cmds eth-client "$CLIENT_MAC" "$CLIENT4" "$CLIENT6"
                neigh_cmds eth-server "$SERVER_MAC" "$SERVER4" "$SERVER6"
            } | ip -n router -batch - &&
            {
                echo "link set dev lo up"
                link_cmds eth0 "$SERVER4/24" "$SERVER6/64"
                neigh_cmds eth0 "$ROUTER_SERVER_MAC" "$ROUTER4_SERVER" "$ROUTER6_SERVER"
                echo "route add default via $ROUTER4_SERVER"
                echo "route add default via $ROUTER6_SERVER"
            } | ip -n server -batch -
    }; then
        echo "topology_up: a step failed" >&2
        return 1
    fi
    # No wait for DAD: the kernel skips it when both all.accept_dad and the
    # device's (inherited from default) are 0, or the address is nodad.
    # `wait_for 50 no_tentative NS` would cost an ip exec per namespace.
}

# topology_down: kills the background processes and deletes the namespaces.
topology_down() {
    bg_stop_all
    for _ns in client router server; do
        ip netns del "$_ns" 2>/dev/null
    done
    return 0
}

# bg_ns LOG NS CMD...: bg_start of CMD in network namespace NS. Unlike
# `bg_start LOG in_ns NS CMD` (a backgrounded shell function is a subshell,
# and killing it leaves CMD running, holding the namespace), the pid that
# bg_stop_all kills is CMD's own: `ip netns exec` execs it.
bg_ns() {
    _log=$1
    _ns=$2
    shift 2
    bg_start "$_log" /usr/bin/ip netns exec "$_ns" "$@"
}

# kernel_log_clean NAME: passes when the kernel log has none of the messages
# scripts/vm/run.sh fails a run for (oops, BUG, WARNING, lockdep, RCU stall,
# ...; the same patterns); otherwise fails with the offending lines.
kernel_log_clean() {
    _bad=$(dmesg | grep -E 'Oops|BUG:|kernel BUG at|WARNING:|KASAN|UBSAN|possible recursive locking|possible circular locking|inconsistent lock state|suspicious RCU usage|Kernel panic|Call Trace:|general protection fault|detected stall|rcu.*stall|blocked for more than|Unable to handle kernel|Internal error:|Call trace:|SError Interrupt|Unhandled [a-zA-Z0-9 ]* exception on CPU|Insufficient stack space|Unexpected kernel')
    if [ -z "$_bad" ]; then
        pass "$1"
    else
        fail "$1" "$(echo "$_bad" | head -n 5 | tr '\n' '|')"
    fi
}

# ns_ipt NS ARGS...: iptables-legacy in namespace NS (ns_ip6t: ip6tables).
ns_ipt() {
    _ns=$1
    shift
    in_ns "$_ns" iptables-legacy "$@"
}
ns_ip6t() {
    _ns=$1
    shift
    in_ns "$_ns" ip6tables-legacy "$@"
}

# expect_text NAME EXPECTED CMD...: CMD's output (trailing blanks removed
# from each line: the listing pads its header) must be EXPECTED exactly.
expect_text() {
    _name=$1
    _want=$2
    shift 2
    _got=$("$@" 2>&1 | sed 's/[[:space:]]*$//')
    if [ "$_got" = "$_want" ]; then
        pass "$_name"
    else
        fail "$_name" "'$*' printed:"
        echo "$_got" | sed 's/^/    got: /'
        echo "$_want" | sed 's/^/   want: /'
    fi
}

# --- traffic: TCP with busybox nc, UDP with rnf-udp ---------------------------

# tcp_serve NS PORT: a one-connection TCP listener in NS that answers with
# the first line it got and NS's `netstat -tn`: the client sees what the
# server saw.
tcp_serve() {
    bg_ns "/tmp/tcp-$1-$2.log" "$1" nc -l -p "$2" -e sh -c 'head -n 1; netstat -tn'
    wait_for 50 in_ns "$1" sh -c "netstat -ltn | grep -q ':$2 '"
}

# conn_of OUT PORT: "LOCAL PEER" (addresses without ports, IPv4-mapped
# shown as IPv4) of the live connection on local port PORT in the netstat
# lines of OUT.
conn_of() {
    echo "$1" | awk -v p=":$2" '$1 ~ /^tcp/ && ($6 == "ESTABLISHED" || $6 == "CLOSE_WAIT") &&
        substr($4, length($4) - length(p) + 1) == p {
        l = $4; r = $5
        sub(/:[0-9]+$/, "", l); sub(/:[0-9]+$/, "", r)
        sub(/^::ffff:/, "", l); sub(/^::ffff:/, "", r)
        print l, r; exit }'
}

# tcp_check NAME NS ADDR PORT SERVER_PORT WANT: NS connects to ADDR:PORT
# with nc and sends a line; passes when the line comes back and the
# server's view of the connection on its SERVER_PORT (conn_of) is WANT
# ("SERVER_ADDR CLIENT_ADDR").
tcp_check() {
    _tag="hello-$$-$4-$(echo "$3" | tr ':.' '__')"
    _out=$(echo "$_tag" | in_ns "$2" timeout 10 nc "$3" "$4" 2>&1)
    _conn=$(conn_of "$_out" "$5")
    case "$_out" in
        *"$_tag"*)
            if [ "$_conn" = "$6" ]; then
                pass "$1 (server saw $_conn)"
            else
                fail "$1" "the server saw '$_conn', want '$6': $(echo "$_out" | tr '\n' '|')"
            fi
            ;;
        *) fail "$1" "nc said '$(echo "$_out" | tr '\n' '|')'" ;;
    esac
}

# udp_serve NS ADDR PORT: an rnf-udp echo server; its log is
# /tmp/udp-NS-PORT[-6].log.
udp_serve() {
    case "$2" in *:*) _l=/tmp/udp-$1-$3-6.log _six=-6 ;; *) _l=/tmp/udp-$1-$3.log _six= ;; esac
    # shellcheck disable=SC2086 # _six is empty or -6
    bg_ns "$_l" "$1" rnf-udp serve $_six "$2" "$3"
    wait_for 50 grep -q listening "$_l"
}

# udp_log NS ADDR PORT: the log of udp_serve NS ADDR PORT.
udp_log() {
    case "$2" in *:*) echo "/tmp/udp-$1-$3-6.log" ;; *) echo "/tmp/udp-$1-$3.log" ;; esac
}

# udp_peers NS ADDR PORT: the peers (ADDR:PORT, IPv6 in brackets) the server
# echoed to, one a line, in order.
udp_peers() {
    sed -n 's/.* bytes from \(.*\), echo.*/\1/p' "$(udp_log "$@")"
}

# udp_send NS ADDR PORT [ARG...]: one datagram of 16 bytes (unless --size
# comes in ARG) with --expect-reply; prints rnf-udp's output.
udp_send() {
    _ns=$1 _a=$2 _p=$3
    shift 3
    in_ns "$_ns" rnf-udp send "$_a" "$_p" --expect-reply --timeout 3 "$@" 2>&1
}

# expect_udp NAME WANT NS ADDR PORT [ARG...]: udp_send's output contains WANT
# ("reply", or "(os error N)": 111 ECONNREFUSED, 90 EMSGSIZE, numbers
# because glibc and musl word them apart).
expect_udp() {
    _name=$1 _want=$2
    shift 2
    case " $* " in *" --size "*) _out=$(udp_send "$@") ;; *) _out=$(udp_send "$@" --size 16) ;; esac
    case "$_out" in
        *"$_want"*) pass "$_name" ;;
        *) fail "$_name" "wanted '$_want': $(echo "$_out" | tr '\n' ' ')" ;;
    esac
}
