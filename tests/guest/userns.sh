# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh
#
# Guest test of who may change what (issue 13): the tables of a network
# namespace owned by an unprivileged user namespace (unshare -Urn) are its
# root's to change and nobody else's, exactly as the kernel's
# ns_capable(net->user_ns, CAP_NET_ADMIN) in do_ipt_set_ctl/do_ipt_get_ctl
# (ip_tables.c, ip6_tables.c) allows; the global settings are read-only
# outside the initial namespace; a write to /proc or /sys from an
# unprivileged process is refused with the kernel's errno.
#
# It runs in one of two modes, chosen by PERM (from the environment, or
# PERM=... on the kernel command line: vm-test.sh -a PERM=kernel):
#
#   PERM=rnf     (default) first the kernel's nf_conntrack, iptable_filter
#                and ip6table_filter as the oracle: every cell of the matrix
#                below recorded; they are unloaded, rnf_tables (with
#                rnf_conntrack) loaded by rnf-modload, the same cells
#                recorded, and each must equal the kernel's (but for the
#                documented difference: rnf's /proc/net/nf_conntrack takes
#                OpenWrt's flush).
#   PERM=kernel  the kernel's modules alone.
#
# In both, the cells the issue states (who may change a table; the global
# settings) are checked against fixed expectations too, and the whole
# matrix is printed: "matrix: OPERATION | WHO | kernel: R | rnf: R".
#
# Who (the ids are the guest's; 65534 is nobody):
#   root          uid 0 with every capability, in the initial namespaces
#   nocap         uid 0 without CAP_NET_ADMIN (rnf-udp nocap)
#   nobody        uid 65534, no capabilities
#   userns        the root of a user namespace uid 65534 made, in a network
#                 namespace it owns (unshare -Urn, or xt-perm --userns --netns)
#   userns@init   the same root, on a socket of the initial namespace
#   other@child   uid 65533 in that user namespace's network namespace
#   owner@child   uid 65534 (the user namespace's owner, outside it) there
#   root@child    uid 0 of the initial user namespace there
#   nocap@child   uid 0 without CAP_NET_ADMIN there
#   root@netns    uid 0 in a network namespace of the initial user namespace
#                 (ip netns add), for the files
#
# The table operations are the four of the ip_tables ABI on a raw socket
# (rnf-udp xt-perm: GET_INFO, GET_ENTRIES, SET_REPLACE with the table
# unchanged, SET_ADD_COUNTERS), IPv4 and IPv6; then the stock
# iptables-legacy as the root of a fresh unshare -Urn. The files:
# /proc/sys/net/netfilter/nf_conntrack_{tcp_loose,max,buckets},
# /proc/sys/net/nf_conntrack_max, /proc/net/nf_conntrack and the
# conntrack module's hashsize parameter (each written with its current
# value, so nothing changes); rnf's own parameters in PERM=rnf.
#
# By hand: make vm-run SCRIPT=tests/guest/userns.sh (rnf), or
#   scripts/vm/vm-test.sh tests/guest/userns.sh -a PERM=kernel

. "$(dirname "$0")/lib.sh"

KVER=$(uname -r)
KNF=/lib/modules/$KVER/kernel/net
mode_var PERM rnf
echo "userns: PERM=$PERM"
RES=/tmp/perm
mkdir -p "$RES"
# iptables-legacy's lock file, somewhere an unprivileged user may create it.
export XTABLES_LOCKFILE=/tmp/xtables.lock

if [ ! -e /proc/self/ns/user ]; then
    fail "the kernel has user namespaces" "no /proc/self/ns/user (CONFIG_USER_NS)"
    summary
    exit 1
fi

# --- recording -----------------------------------------------------------------

expect_eq() {
    if [ "$2" = "$3" ]; then
        pass "$1"
    else
        fail "$1" "got '$2', want '$3'"
    fi
}

# rec IMPL KEY RESULT: one cell of the matrix.
rec() {
    echo "$2 $3" >>"$RES/$1"
}

# cell IMPL KEY: the recorded result, or "-".
cell() {
    _c=$(awk -v k="$2" '$1 == k { print $2; exit }' "$RES/$1" 2>/dev/null)
    echo "${_c:--}"
}

# cellx IMPL KEY: the cell's errno without the step it came at ("EACCES"
# for "EACCES@open"): what the fixed expectations name.
cellx() {
    _x=$(cell "$@")
    echo "${_x%@*}"
}

# xt_who IMPL WHO CMD...: runs an xt-perm command line and records its four
# results per family as KEY "ipvN:OP|WHO".
xt_who() {
    _impl=$1 _who=$2
    shift 2
    for _f in 4 6; do
        _six=
        [ "$_f" = 6 ] && _six=-6
        # shellcheck disable=SC2086 # _six is empty or -6
        _out=$("$@" $_six 2>&1)
        for _op in GET_INFO GET_ENTRIES SET_REPLACE SET_ADD_COUNTERS; do
            _r=$(echo "$_out" | sed -n "s/^xt-perm: ipv$_f filter $_op: \(OK\|errno [0-9]* \([A-Z]*\)\).*/\1/p" |
                awk '{ print ($1 == "OK") ? "OK" : $3 }')
            [ -n "$_r" ] || _r="none($(echo "$_out" | tail -n 1 | tr ' ' '_'))"
            rec "$_impl" "ipv$_f:$_op|$_who" "$_r"
        done
    done
}

# file_who IMPL WHO KEY FILE VALUE RUNNER...: RUNNER rnf-udp write-file FILE
# VALUE; records the errno name (or OK) as KEY|WHO.
file_who() {
    _impl=$1 _who=$2 _key=$3 _file=$4 _val=$5
    shift 5
    _out=$("$@" rnf-udp write-file "$_file" "$_val" 2>&1)
    _r=$(echo "$_out" | sed -n 's/^write-file: .*: \(OK\|errno [0-9]* [A-Z]* at [a-z]*\)$/\1/p' |
        awk '{ print ($1 == "OK") ? "OK" : $3 "@" $5 }')
    [ -n "$_r" ] || _r="none($(echo "$_out" | tail -n 1 | tr ' ' '_'))"
    rec "$_impl" "$_key|$_who" "$_r"
}

# The runners of each WHO for the files.
as_root() { "$@"; }
as_nocap() { rnf-udp nocap "$@"; }
as_nobody() { rnf-udp as-user 65534 "$@"; }
as_userns() { rnf-udp as-user 65534 unshare -Urn "$@"; }
as_netns() { ip netns exec perm "$@"; }

# record IMPL CTMOD: every cell, with IMPL's modules loaded (CTMOD: the
# conntrack module, whose hashsize parameter is written).
record() {
    _impl=$1 _ct=$2
    : >"$RES/$_impl"
    ip netns add perm || return 1
    # The child namespaces: a user namespace of uid 65534's, its root
    # holding a network namespace of its own (a sleeping process, entered
    # with nsenter by the others).
    bg_start /tmp/holder.log rnf-udp as-user 65534 unshare -Urn sleep 600
    _holder=$RNF_BG_PID
    if ! wait_for 50 sh -c "[ \"\$(readlink /proc/$_holder/ns/net)\" != \"\$(readlink /proc/self/ns/net)\" ]"; then
        fail "$_impl: unshare -Urn as uid 65534" "$(cat /tmp/holder.log)"
        return 1
    fi
    pass "$_impl: uid 65534 made a user and a network namespace (unshare -Urn)"

    xt_who "$_impl" root rnf-udp xt-perm
    xt_who "$_impl" nocap rnf-udp xt-perm --nocap
    xt_who "$_impl" nobody rnf-udp xt-perm --as-uid 65534
    xt_who "$_impl" userns rnf-udp xt-perm --as-uid 65534 --userns --netns
    xt_who "$_impl" userns@init rnf-udp xt-perm --as-uid 65534 --userns
    xt_who "$_impl" other@child nsenter -t "$_holder" -n rnf-udp xt-perm --as-uid 65533
    xt_who "$_impl" owner@child nsenter -t "$_holder" -n rnf-udp xt-perm --as-uid 65534
    xt_who "$_impl" root@child nsenter -t "$_holder" -n rnf-udp xt-perm
    xt_who "$_impl" nocap@child nsenter -t "$_holder" -n rnf-udp xt-perm --nocap

    # The stock iptables as the root of a fresh unshare -Urn: a rule in,
    # listed back; and as nobody or without CAP_NET_ADMIN, refused.
    for _f in 4 6; do
        if [ "$_f" = 4 ]; then _ipt=iptables-legacy _src=192.0.2.1/32; else _ipt=ip6tables-legacy _src=2001:db8::1/128; fi
        _out=$(as_userns sh -c "$_ipt -A INPUT -s $_src -j DROP && $_ipt -S INPUT" 2>&1)
        if echo "$_out" | grep -qx -- "-A INPUT -s $_src -j DROP"; then
            rec "$_impl" "$_ipt-A|userns" OK
        else
            rec "$_impl" "$_ipt-A|userns" FAILED
            echo "$_impl: $_ipt as the root of unshare -Urn: $(echo "$_out" | tr '\n' '|')"
        fi
        for _w in nobody nocap; do
            if "as_$_w" "$_ipt" -A INPUT -s "$_src" -j DROP >/dev/null 2>&1; then
                rec "$_impl" "$_ipt-A|$_w" OK
            else
                rec "$_impl" "$_ipt-A|$_w" REFUSED
            fi
        done
    done

    # The files, each written with its current value.
    _sys=/proc/sys/net/netfilter
    _loose=$(cat $_sys/nf_conntrack_tcp_loose)
    _max=$(cat $_sys/nf_conntrack_max)
    _buckets=$(cat $_sys/nf_conntrack_buckets)
    _hash=$(cat "/sys/module/$_ct/parameters/hashsize")
    for _w in root nocap nobody userns netns; do
        file_who "$_impl" "$_w" tcp_loose $_sys/nf_conntrack_tcp_loose "$_loose" "as_$_w"
        file_who "$_impl" "$_w" nf_conntrack_max $_sys/nf_conntrack_max "$_max" "as_$_w"
        file_who "$_impl" "$_w" nf_conntrack_buckets $_sys/nf_conntrack_buckets "$_buckets" "as_$_w"
        file_who "$_impl" "$_w" net.nf_conntrack_max /proc/sys/net/nf_conntrack_max "$_max" "as_$_w"
        file_who "$_impl" "$_w" proc_nf_conntrack /proc/net/nf_conntrack f "as_$_w"
        file_who "$_impl" "$_w" param_hashsize "/sys/module/$_ct/parameters/hashsize" "$_hash" "as_$_w"
        if [ "$_impl" = rnf ]; then
            for _p in conntrack_max tcp_loose udp_timeout; do
                file_who "$_impl" "$_w" "param_$_p" "/sys/module/rnf_conntrack/parameters/$_p" \
                    "$(cat /sys/module/rnf_conntrack/parameters/$_p)" "as_$_w"
            done
        fi
    done
    # Nothing above changed a value.
    expect_text "$_impl: the settings are unchanged" "$_loose $_max $_buckets $_hash" \
        sh -c "echo \$(cat $_sys/nf_conntrack_tcp_loose $_sys/nf_conntrack_max $_sys/nf_conntrack_buckets /sys/module/$_ct/parameters/hashsize)"

    bg_stop_all
    ip netns del perm
    return 0
}

# --- what the issue states -------------------------------------------------------

# expect_cells IMPL: the fixed expectations.
expect_cells() {
    _impl=$1
    for _f in 4 6; do
        for _op in GET_INFO GET_ENTRIES SET_REPLACE SET_ADD_COUNTERS; do
            _ok=
            _no=
            for _w in root userns owner@child root@child; do
                [ "$(cellx "$_impl" "ipv$_f:$_op|$_w")" = OK ] || _ok="$_ok $_w=$(cellx "$_impl" "ipv$_f:$_op|$_w")"
            done
            for _w in nocap nobody userns@init other@child nocap@child; do
                [ "$(cellx "$_impl" "ipv$_f:$_op|$_w")" = EPERM ] || _no="$_no $_w=$(cellx "$_impl" "ipv$_f:$_op|$_w")"
            done
            expect_eq "$_impl: IPv$_f $_op: allowed to root, the user namespace's root and owner, root in it" "$_ok" ""
            expect_eq "$_impl: IPv$_f $_op: EPERM for everyone else" "$_no" ""
        done
    done
    for _ipt in iptables-legacy ip6tables-legacy; do
        expect_eq "$_impl: $_ipt -A as the root of unshare -Urn, then -S lists it" \
            "$(cellx "$_impl" "$_ipt-A|userns")" OK
        expect_eq "$_impl: $_ipt -A refused to nobody and without CAP_NET_ADMIN" \
            "$(cellx "$_impl" "$_ipt-A|nobody") $(cellx "$_impl" "$_ipt-A|nocap")" "REFUSED REFUSED"
    done
    # Global settings: read-only outside the initial namespace, and to an
    # unprivileged process anywhere.
    for _k in nf_conntrack_max nf_conntrack_buckets; do
        expect_eq "$_impl: $_k: written by root, EACCES to nobody, the user namespace's root, root in a netns" \
            "$(cellx "$_impl" "$_k|root") $(cellx "$_impl" "$_k|nobody") $(cellx "$_impl" "$_k|userns") $(cellx "$_impl" "$_k|netns")" \
            "OK EACCES EACCES EACCES"
    done
    expect_eq "$_impl: net.nf_conntrack_max exists only in the initial namespace" \
        "$(cellx "$_impl" "net.nf_conntrack_max|root") $(cellx "$_impl" "net.nf_conntrack_max|userns") $(cellx "$_impl" "net.nf_conntrack_max|netns")" \
        "OK ENOENT ENOENT"
    expect_eq "$_impl: a per-namespace setting: its root's (and the user namespace's root's), EACCES to nobody" \
        "$(cellx "$_impl" "tcp_loose|root") $(cellx "$_impl" "tcp_loose|userns") $(cellx "$_impl" "tcp_loose|netns") $(cellx "$_impl" "tcp_loose|nobody")" \
        "OK OK OK EACCES"
    expect_eq "$_impl: hashsize parameter: EOPNOTSUPP outside the initial namespace, EACCES to the unprivileged" \
        "$(cellx "$_impl" "param_hashsize|root") $(cellx "$_impl" "param_hashsize|netns") $(cellx "$_impl" "param_hashsize|nobody") $(cellx "$_impl" "param_hashsize|userns")" \
        "OK EOPNOTSUPP EACCES EACCES"
}

# Cells where rnf differs from the kernel on purpose: /proc/net/nf_conntrack
# takes OpenWrt's flush (README: "writing to it"), for a writer with
# CAP_NET_ADMIN in the namespace's user namespace (EPERM otherwise); the
# mode, 0440, still keeps out who is not its owner, and the owner is, as
# nf_conntrack_standalone.c makes it, the root of the namespace's user
# namespace only if that root was mapped when the namespace was made:
# unshare -Urn makes both at once, before the map, so there it stays the
# initial root and the user namespace's root gets EACCES at open (the
# sysctls, whose owner is looked up at each access, are its root's). rnf's
# own parameters have no kernel counterpart.
rnf_own() {
    expect_eq "rnf: /proc/net/nf_conntrack flush: root, root in a netns; EACCES to the root of unshare -Urn and nobody, EPERM without CAP_NET_ADMIN" \
        "$(cellx rnf "proc_nf_conntrack|root") $(cellx rnf "proc_nf_conntrack|userns") $(cellx rnf "proc_nf_conntrack|netns") $(cellx rnf "proc_nf_conntrack|nocap") $(cellx rnf "proc_nf_conntrack|nobody")" \
        "OK EACCES OK EPERM EACCES"
    for _p in conntrack_max tcp_loose udp_timeout; do
        expect_eq "rnf: parameter $_p (an initial-namespace setting): root only in the initial namespace (EOPNOTSUPP in another), EACCES to the unprivileged" \
            "$(cellx rnf "param_$_p|root") $(cellx rnf "param_$_p|netns") $(cellx rnf "param_$_p|nobody") $(cellx rnf "param_$_p|userns")" \
            "OK EOPNOTSUPP EACCES EACCES"
    done
}

# --- the runs ------------------------------------------------------------------------

kernel_load() {
    for m in nf_conntrack iptable_filter ip6table_filter; do
        modprobe "$m" || return 1
    done
}
kernel_unload() {
    rmmod iptable_filter ip6table_filter ip_tables ip6_tables x_tables nf_conntrack &&
        ! grep -qE '^(nf_conntrack|ip_tables|ip6_tables|x_tables) ' /proc/modules
}

impls=
case "$PERM" in
    kernel | rnf)
        if kernel_load; then
            pass "kernel: nf_conntrack, iptable_filter, ip6table_filter loaded"
            record kernel nf_conntrack && impls=kernel
            expect_cells kernel
        else
            fail "kernel: modules load" "modprobe failed"
        fi
        ;;
    *)
        fail "PERM" "unknown PERM=$PERM (rnf or kernel)"
        summary
        exit 1
        ;;
esac
if [ "$PERM" = rnf ]; then
    check "kernel: the oracle's modules unload" kernel_unload
    if rnf-modload /lib/rnf/rnf_tables.ko /lib/rnf "$KNF/ipv4/netfilter" "$KNF/ipv6/netfilter" "$KNF/netfilter"; then
        pass "rnf: rnf-modload loads rnf_tables and rnf_conntrack"
        record rnf rnf_conntrack && impls="$impls rnf"
        expect_cells rnf
        rnf_own
        # Every cell the kernel has, rnf has the same.
        _diff=$(awk '{ print $1 }' "$RES/kernel" | grep -v '^proc_nf_conntrack|' | while read -r _k; do
            [ "$(cell kernel "$_k")" = "$(cell rnf "$_k")" ] || echo "$_k: kernel $(cell kernel "$_k"), rnf $(cell rnf "$_k")"
        done)
        expect_eq "rnf: every cell as the kernel's ($(wc -l <"$RES/kernel") cells)" "$_diff" ""
    else
        fail "rnf: rnf-modload loads rnf_tables" "exit status $?"
    fi
fi

# The matrix.
_keys=$(cat "$RES/kernel" "$RES/rnf" 2>/dev/null | awk '!seen[$1]++ { print $1 }')
for _k in $_keys; do
    echo "matrix: ${_k%%|*} | ${_k#*|} | kernel: $(cell kernel "$_k") | rnf: $(cell rnf "$_k")"
done
kernel_log_clean "kernel log clean"
summary
