#!/usr/bin/env bash
# shellcheck disable=SC2016 # single-quoted code is run by sh -c, eval or awk
# SPDX-License-Identifier: GPL-2.0
#
# Host tests for scripts/rnf-modload, the depmod-free module loader.
#
# The loader always runs as "busybox ash scripts/rnf-modload ...", as on the
# targets (Debian's busybox-static ash runs its own applets for awk, sed, od...).
# Fixture modules are made here, at test time: tiny ELF objects with only a
# .modinfo section. insmod, rmmod and dmesg are fakes that write to a log;
# /proc/modules, /sys/module and the root of the default paths (RNF_ROOT:
# modules-load.d, /etc/rnf/modload.conf, /lib/modules) are files made here.
# Then: the order against modprobe --show-depends on the reference kernel's
# own modules (see scripts/setup.sh), and the bundle (scripts/bundle.sh) of
# the built modules. The guest side is tests/loader/guest.sh.
#
# Usage: tests/loader/run.sh [--no-kernel]
#   --no-kernel  skip the reference-kernel and bundle cases when the kernel
#                or the modules are not built (only honoured when RNF_KDIR,
#                resp. RNF_KO_DIR, is unset)
# Environment: RNF_KDIR  the kernel build dir (default: scripts/setup.sh --kdir)
#              RNF_KO_DIR  the built .ko files (default: make print-moddir)
#
# Prints "PASS: loader: <case>" or "FAIL: loader: <case>: <why>" per case and
# exits 1 if any case failed.
set -u

root=$(cd "$(dirname "$0")/../.." && pwd)
loader=$root/scripts/rnf-modload
no_kernel=0
for arg in "$@"; do
    case $arg in
        --no-kernel) no_kernel=1 ;;
        -h|--help) sed -n '4,25p' "$0"; exit 0 ;;
        *) echo "run.sh: unknown argument: $arg" >&2; exit 2 ;;
    esac
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/rnf-loader-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
failed=0

pass() { echo "PASS: loader: $1"; }
fail() { echo "FAIL: loader: $1: $2"; failed=$((failed + 1)); }

# check CASE WHY COMMAND...: PASS if COMMAND succeeds, else FAIL with WHY.
check() {
    local name=$1 why=$2
    shift 2
    if "$@"; then pass "$name"; else fail "$name" "$why"; fi
}

# ---------------------------------------------------------------------------
# Fakes and fixtures.

mkdir -p "$tmp/bin" "$tmp/sys-empty" "$tmp/sys" "$tmp/root-empty"
: >"$tmp/proc-empty"
export RNF_TEST_LOG=$tmp/log

# Fake insmod: logs "insmod FILE PARAMS"; fails for the file named in
# RNF_TEST_FAIL (a basename) after logging, like a module whose init fails.
cat >"$tmp/bin/insmod" <<'EOF'
#!/bin/sh
echo "insmod $*" >>"$RNF_TEST_LOG"
[ "$(basename "$1")" != "${RNF_TEST_FAIL:-}" ] || { echo "insmod: cannot insert '$1': Invalid parameters" >&2; exit 1; }
EOF
cat >"$tmp/bin/rmmod" <<'EOF'
#!/bin/sh
echo "rmmod $*" >>"$RNF_TEST_LOG"
EOF
cat >"$tmp/bin/dmesg" <<'EOF'
#!/bin/sh
printf '[    1.000000] earlier line\n[    1.200000] rnf_test: init failed: -22\n'
EOF
chmod +x "$tmp/bin/"*

# mkmod DIR FILE NAME DEPENDS [SOFTDEP | KEY=VALUE]...: DIR/FILE.ko, an
# object whose .modinfo holds name=, depends=, one softdep= per SOFTDEP and
# each KEY=VALUE as it is. CC and CFLAGS
# pick the compiler and target (default gcc, the host). Unless DECOY=0, .rodata
# also holds look-alike "depends=decoy" strings that only a whole-file scan
# (as busybox modinfo does) would take.
mkmod() {
    local dir=$1 file=$2 name=$3 deps=$4 i=0 s
    shift 4
    mkdir -p "$dir"
    {
        echo '#define MI(id, s) __attribute__((section(".modinfo"), used, aligned(1))) static const char id[] = s;'
        echo "MI(mi_name, \"name=$name\")"
        echo "MI(mi_depends, \"depends=$deps\")"
        for s in "$@"; do
            case $s in
                *=*) echo "MI(mi_extra$i, \"$s\")" ;;
                *) echo "MI(mi_extra$i, \"softdep=$s\")" ;;
            esac
            i=$((i + 1))
        done
        echo 'MI(mi_license, "license=GPL")'
        [ "${DECOY:-1}" = 0 ] ||
            printf '%s\n' '__attribute__((used)) const char decoy[] = "x\0depends=decoy\0name=decoy\0softdep=pre: decoy";'
    } >"$tmp/$file.c"
    # shellcheck disable=SC2086 # CFLAGS is a list of words
    ${CC:-gcc} ${CFLAGS:-} -c -o "$dir/$file.ko" "$tmp/$file.c"
}

# loader ARGS...: run the loader under busybox ash with the fakes, empty
# /proc/modules and /sys/module (PROC and SYS override them) and an empty
# root for its default paths (ROOT: /etc/rnf, modules-load.d, /lib/modules);
# stdout to $tmp/out, stderr to $tmp/err, the fake commands' log to $tmp/log.
# Returns the loader's exit status.
loader() {
    : >"$tmp/log"
    RNF_INSMOD=$tmp/bin/insmod RNF_RMMOD=$tmp/bin/rmmod RNF_DMESG=$tmp/bin/dmesg \
    RNF_PROC_MODULES=${PROC:-$tmp/proc-empty} RNF_SYS_MODULE=${SYS:-$tmp/sys-empty} \
    RNF_ROOT=${ROOT:-$tmp/root-empty} \
        busybox ash "$loader" "$@" >"$tmp/out" 2>"$tmp/err"
}

# expect_out CASE EXPECTED ARGS...: the loader exits 0 and prints EXPECTED.
expect_out() {
    local name=$1 want=$2
    shift 2
    if ! loader "$@"; then
        fail "$name" "exit $? ($(head -n 3 "$tmp/err" | tr '\n' ' '))"
    elif [ "$(cat "$tmp/out")" != "$want" ]; then
        fail "$name" "got [$(tr '\n' '|' <"$tmp/out")] want [$(tr '\n' '|' <<<"$want")]"
    else
        pass "$name"
    fi
}

# expect_fail CASE MESSAGE ARGS...: exit 1, MESSAGE on stderr, nothing run.
expect_fail() {
    local name=$1 msg=$2 rc
    shift 2
    loader "$@"; rc=$?
    if [ "$rc" -ne 1 ]; then
        fail "$name" "exit $rc, want 1"
    elif ! grep -qF -- "$msg" "$tmp/err"; then
        fail "$name" "stderr [$(tr '\n' '|' <"$tmp/err")] lacks [$msg]"
    elif [ -s "$tmp/log" ]; then
        fail "$name" "commands were run: $(tr '\n' '|' <"$tmp/log")"
    else
        pass "$name"
    fi
}

# expect_log CASE EXPECTED_RC EXPECTED_LOG ARGS...: a real (not dry) run.
expect_log() {
    local name=$1 want_rc=$2 want=$3 rc
    shift 3
    loader "$@"; rc=$?
    if [ "$rc" -ne "$want_rc" ]; then
        fail "$name" "exit $rc, want $want_rc ($(head -n 3 "$tmp/err" | tr '\n' ' '))"
    elif [ "$(cat "$tmp/log")" != "$want" ]; then
        fail "$name" "ran [$(tr '\n' '|' <"$tmp/log")] want [$(tr '\n' '|' <<<"$want")]"
    else
        pass "$name"
    fi
}

# ---------------------------------------------------------------------------
# 1. Static checks.

if ! command -v busybox >/dev/null; then
    echo "FAIL: loader: setup: busybox is not installed (apt-get install busybox-static)"
    exit 1
fi
if command -v shellcheck >/dev/null; then
    check shellcheck "shellcheck -s sh has findings: $(shellcheck -s sh -f gcc "$loader" 2>&1 | head -n 3 | tr '\n' ' ')" \
        shellcheck -s sh "$loader"
else
    fail shellcheck "shellcheck is not installed (apt-get install shellcheck)"
fi
if command -v shellcheck >/dev/null; then
    out=$(shellcheck -x -s sh "$root/modules-load.d/rnf-modules.init" "$root/tests/guest/loader.sh" 2>&1 &&
          shellcheck -x "$root/scripts/bundle.sh" "$root/tests/loader/guest.sh" "$0" 2>&1)
    check shellcheck_of_the_other_scripts "$(head -n 3 <<<"$out" | tr '\n' ' ')" test -z "$out"
fi
check posix_sh_shebang "first line is not #!/bin/sh" test "$(head -n 1 "$loader")" = "#!/bin/sh"
check help "-h does not print the usage" \
    sh -c 'busybox ash "$1" -h | grep -q "^Usage: rnf-modload"' sh "$loader"
loader --bogus; rc=$?
check bad_option_is_usage_error "--bogus gave exit $rc, want 2" test "$rc" -eq 2

# ---------------------------------------------------------------------------
# 2. Fixtures.

F=$tmp/m
# A chain c -> b -> a, a diamond d -> (b2, c2) -> a, softdeps, dash names.
mkmod "$F/chain" a a ""
mkmod "$F/chain" b b "a"
mkmod "$F/chain" c c "b"
mkmod "$F/diamond" base base ""
mkmod "$F/diamond" left left "base"
mkmod "$F/diamond" right right "base"
mkmod "$F/diamond" top top "left,right"
mkmod "$F/soft" x x ""
mkmod "$F/soft" p p ""
mkmod "$F/soft" q q ""
mkmod "$F/soft" r r ""
mkmod "$F/soft" m m "x" "pre: p" "post: q r"
mkmod "$F/dash/sub" foo-bar foo-bar ""
mkmod "$F/dash" user user "foo-bar"
mkmod "$F/missing" rnf_nat rnf_nat "rnf_conntrack"
mkmod "$F/cycle" ca ca "cb"
mkmod "$F/cycle" cb cb "cc"
mkmod "$F/cycle" cc cc "ca"
mkmod "$F/softcycle" sa sa "" "pre: sb"
mkmod "$F/softcycle" sb sb "" "pre: sa"
# A post: edge back up the chain is not a cycle: pt needs pm, pm has
# post: pl, pl needs pt. The order pm, pt, pl satisfies all three.
mkmod "$F/postback" pm pm ""
mkmod "$F/postback" pt pt "pm"
mkmod "$F/postback" pl pl "pt"
mkmod "$F/postback" pm pm "" "post: pl"
mkmod "$F/longchain" m1 m1 ""
mkmod "$F/longchain" m2 m2 "m1"
mkmod "$F/longchain" m3 m3 "m2"
mkmod "$F/longchain" m4 m4 "m3"
# A module whose name field is not its file name.
mkmod "$F/renamed" file_name real_name ""
# For busybox modinfo, which scans the whole file: no look-alikes.
DECOY=0 mkmod "$F/plain" plain-mod plain_mod "a,b-c" "pre: p" "post: q r"
# The same module for other ELF classes and byte orders.
cross_ok=1
for t in mips-linux-gnu:be32 powerpc64-linux-gnu:be64 arm-linux-gnueabi:le32 aarch64-linux-gnu:le64; do
    CC=clang CFLAGS="--target=${t%%:*}" mkmod "$F/cross" "${t##*:}" "m_${t##*:}" "a,b-c" "pre: x y post: z" "pre: w" 2>>"$tmp/cc.err" ||
        cross_ok=0
done

# Do the fixtures read back with kmod's modinfo, and with busybox's?
ok=1
[ "$(modinfo -F name "$F/renamed/file_name.ko")" = real_name ] || ok=0
[ "$(modinfo -F name "$F/dash/sub/foo-bar.ko")" = foo-bar ] || ok=0
[ "$(modinfo -F softdep "$F/soft/m.ko" | tr '\n' '|')" = "pre: p|post: q r|" ] || ok=0
[ "$(modinfo -F depends "$F/dash/user.ko")" = "foo-bar" ] || ok=0
check fixtures_read_back_with_kmod_modinfo "kmod modinfo and the fixtures disagree" test "$ok" = 1

# Busybox modinfo exits unless /lib/modules/$(uname -r)/modules.dep exists,
# so give it one in a private mount namespace (busybox-static runs alone there).
bb_modinfo() {
    local ns=$tmp/ns release src target unshare_args=(-m)
    release=$(uname -r)
    mkdir -p "$ns/lib/modules/$release"
    : >"$ns/lib/modules/$release/modules.dep"
    if [ -d /lib/modules ]; then target=/lib/modules; src=$ns/lib/modules
    else target=$(readlink -f /lib); src=$ns/lib; fi
    [ "$(id -u)" -eq 0 ] || unshare_args=(-r -m)
    unshare "${unshare_args[@]}" "$(command -v busybox)" sh -c \
        'mount --bind "$1" "$2" && shift 2 && exec busybox modinfo "$@"' sh "$src" "$target" "$@"
}
if out=$(bb_modinfo -F softdep "$F/plain/plain-mod.ko" 2>&1) && [ "$(tr '\n' '|' <<<"$out")" = "pre: p|post: q r|" ] &&
   [ "$(bb_modinfo -F name "$F/plain/plain-mod.ko")" = plain_mod ] &&
   [ "$(bb_modinfo -F depends "$F/plain/plain-mod.ko")" = a,b-c ]; then
    pass fixtures_read_back_with_busybox_modinfo
else
    fail fixtures_read_back_with_busybox_modinfo "busybox modinfo in a mount namespace said: $(head -n 2 <<<"$out" | tr '\n' ' ')"
fi

# The loader's own .modinfo reader: only .modinfo, every ELF class and order.
ok=1; why=""
if [ "$cross_ok" -ne 1 ]; then ok=0; why="clang could not build the cross fixtures: $(head -n 2 "$tmp/cc.err")"; fi
for f in "$F"/cross/*.ko "$F/soft/m.ko"; do
    [ -f "$f" ] || continue
    loader --modinfo "$f"
    if grep -q decoy "$tmp/out"; then ok=0; why="$why $(basename "$f"): read strings outside .modinfo;"; fi
    for field in name depends softdep; do
        if [ "$(modinfo -F "$field" "$f")" != "$(sed -n "s/^$field=//p" "$tmp/out")" ]; then
            ok=0; why="$why $(basename "$f") $field differs from kmod;"
        fi
    done
done
check modinfo_reader_matches_kmod "${why:-?}" test "$ok" = 1
loader --modinfo "$F/cross/be32.ko"
check modinfo_reader_reads_be32 "got [$(tr '\n' '|' <"$tmp/out")]" \
    test "$(tr '\n' '|' <"$tmp/out")" = "name=m_be32|depends=a,b-c|softdep=pre: x y post: z|softdep=pre: w|license=GPL|"
echo "not an ELF file" >"$tmp/text.ko"
loader --modinfo "$tmp/text.ko"; rc=$?
check modinfo_reader_rejects_non_elf "exit $rc, want 1" test "$rc" -eq 1

# Orders.
expect_out chain_in_dependency_order "insmod $F/chain/a.ko  # needed by b
insmod $F/chain/b.ko  # needed by c
insmod $F/chain/c.ko  # requested" -n "$F/chain" c
expect_out file_operand_is_requested "insmod $F/chain/a.ko  # needed by b
insmod $F/chain/b.ko  # requested" -n "$F/chain" "$F/chain/b.ko"
expect_out diamond_loads_shared_dependency_once "insmod $F/diamond/base.ko  # needed by left
insmod $F/diamond/left.ko  # needed by top
insmod $F/diamond/right.ko  # needed by top
insmod $F/diamond/top.ko  # requested" -n "$F/diamond" top
expect_out whole_pool_when_nothing_requested "insmod $F/diamond/base.ko  # needed by left
insmod $F/diamond/left.ko  # needed by top
insmod $F/diamond/right.ko  # needed by top
insmod $F/diamond/top.ko  # in the pool" -n "$F/diamond"
expect_out softdep_pre_before_post_after "insmod $F/soft/x.ko  # needed by m
insmod $F/soft/p.ko  # softdep pre of m
insmod $F/soft/m.ko  # requested
insmod $F/soft/q.ko  # softdep post of m
insmod $F/soft/r.ko  # softdep post of m" -n "$F/soft" m
expect_out post_edge_back_up_is_not_a_cycle "insmod $F/postback/pm.ko  # needed by pt
insmod $F/postback/pt.ko  # requested
insmod $F/postback/pl.ko  # softdep post of pm" -n "$F/postback" pt
expect_out dash_and_underscore_are_equal "insmod $F/dash/sub/foo-bar.ko  # requested
insmod $F/dash/user.ko  # requested" -n "$F/dash" user foo_bar foo-bar
expect_out dash_request_of_underscore_name "insmod $F/dash/sub/foo-bar.ko  # requested" -n "$F/dash" foo-bar
expect_out name_field_not_file_name "insmod $F/renamed/file_name.ko  # requested" -n "$F/renamed" real-name
printf '# rnf modules\n\n  c  ; the top\nb # again\n;a\n' >"$tmp/list.conf"
expect_out list_file_requests_names "insmod $F/chain/a.ko  # needed by b
insmod $F/chain/b.ko  # listed in $tmp/list.conf
insmod $F/chain/c.ko  # listed in $tmp/list.conf" -n -l "$tmp/list.conf" "$F/chain"
# The project's list against fixtures with the real modules' depends= (the
# kernel's nf_reject_* in a second pool, as /lib/modules is on a target).
mkmod "$F/rnf" rnf_nat rnf_nat "rnf_conntrack"
mkmod "$F/rnf" rnf_conntrack rnf_conntrack ""
mkmod "$F/rnf" rnf_tables rnf_tables "nf_reject_ipv4,nf_reject_ipv6,rnf_conntrack"
mkmod "$F/rnf" rnf_tables_nat rnf_tables_nat "rnf_tables,rnf_nat"
mkmod "$F/rnf" rnf_tables_mangle rnf_tables_mangle "rnf_tables"
mkmod "$F/rnf" rnf_tables_raw rnf_tables_raw "rnf_tables"
mkmod "$F/rnfkern" nf_reject_ipv4 nf_reject_ipv4 ""
mkmod "$F/rnfkern" nf_reject_ipv6 nf_reject_ipv6 ""
expect_out project_list_file_loads_in_order "insmod $F/rnf/rnf_conntrack.ko  # listed in $root/modules-load.d/rnf.conf
insmod $F/rnf/rnf_nat.ko  # listed in $root/modules-load.d/rnf.conf
insmod $F/rnfkern/nf_reject_ipv4.ko  # needed by rnf_tables
insmod $F/rnfkern/nf_reject_ipv6.ko  # needed by rnf_tables
insmod $F/rnf/rnf_tables.ko  # listed in $root/modules-load.d/rnf.conf
insmod $F/rnf/rnf_tables_nat.ko  # listed in $root/modules-load.d/rnf.conf
insmod $F/rnf/rnf_tables_mangle.ko  # listed in $root/modules-load.d/rnf.conf
insmod $F/rnf/rnf_tables_raw.ko  # listed in $root/modules-load.d/rnf.conf" -n -l "$root/modules-load.d/rnf.conf" "$F/rnf" "$F/rnfkern"
: >"$tmp/empty.conf"
expect_out empty_list_requests_nothing "" -n --list "$tmp/empty.conf" "$F/chain"

# A soft dependency may name an alias (libcrc32c has "pre: crc32c", which
# is an alias of crc32c_generic).
mkmod "$F/alias" libcrc libcrc "" "pre: crc-fast"
mkmod "$F/alias" crcgen crcgen "" "alias=crc-fast" "alias=crypto-crc-fast"
expect_out softdep_names_an_alias "insmod $F/alias/crcgen.ko  # softdep pre of libcrc
insmod $F/alias/libcrc.ko  # requested" -n "$F/alias" libcrc
expect_out request_names_an_alias "insmod $F/alias/crcgen.ko  # requested" -n "$F/alias" crypto-crc-fast

# A directory's modules.order sets the pool order (as for depmod).
mkmod "$F/ordered/sub" aa aa ""
mkmod "$F/ordered" zz zz ""
expect_out pool_sorted_without_modules_order "insmod $F/ordered/sub/aa.ko  # in the pool
insmod $F/ordered/zz.ko  # in the pool" -n "$F/ordered"
printf 'zz.ko\nsub/aa.ko\n' >"$F/ordered/modules.order"
expect_out modules_order_sets_pool_order "insmod $F/ordered/zz.ko  # in the pool
insmod $F/ordered/sub/aa.ko  # in the pool" -n "$F/ordered/"
rm "$F/ordered/modules.order"

# RNF_MODINFO: a modinfo command instead of the built-in reader (kmod here;
# under busybox ash a bare "modinfo" would be the busybox applet).
RNF_MODINFO=$(command -v modinfo) expect_out modinfo_command_override "insmod $F/soft/x.ko  # needed by m
insmod $F/soft/p.ko  # softdep pre of m
insmod $F/soft/m.ko  # requested
insmod $F/soft/q.ko  # softdep post of m
insmod $F/soft/r.ko  # softdep post of m" -n "$F/soft" m

# Errors, found before anything is loaded (real runs, not dry).
expect_fail unreadable_module_stops_before_loading \
    "rnf-modload: cannot read the .modinfo of $tmp/text.ko" "$F/chain" "$tmp/text.ko"
RNF_MODINFO=/nonexistent/modinfo expect_fail failing_modinfo_command_stops_before_loading \
    "rnf-modload: cannot read the .modinfo of" "$F/chain"
expect_fail missing_dependency_stops_before_loading \
    "rnf-modload: rnf_nat needs rnf_conntrack, which is not in the module set, not loaded and not built in" \
    "$F/missing" "$F/chain"
expect_fail missing_request_stops_before_loading \
    "rnf-modload: nosuch is not in the module set, not loaded and not built in" "$F/chain" c nosuch
expect_fail cycle_stops_before_loading "rnf-modload: dependency cycle: ca -> cb -> cc -> ca" "$F/cycle" ca
expect_fail softdep_cycle_stops_before_loading "rnf-modload: dependency cycle: sa -> sb -> sa" "$F/softcycle" sa

# Loaded and built-in modules.
# left is loaded, base is built in (in /sys/module but not in /proc/modules).
printf 'left 16384 1 top, Live 0x0000000000000000\nunrelated 8192 0 - Live 0x0\n' >"$tmp/proc"
mkdir -p "$tmp/sys/left" "$tmp/sys/base" "$tmp/sys/unrelated"
PROC=$tmp/proc SYS=$tmp/sys expect_out loaded_and_builtin_are_skipped "skip base (built-in)  # needed by right
skip left (loaded)  # needed by top
insmod $F/diamond/right.ko  # needed by top
insmod $F/diamond/top.ko  # requested" -n "$F/diamond" top
PROC=$tmp/proc SYS=$tmp/sys expect_log loaded_and_builtin_are_not_loaded 0 "insmod $F/diamond/right.ko
insmod $F/diamond/top.ko" "$F/diamond" top
PROC=$tmp/proc SYS=$tmp/sys expect_out loaded_request_is_skipped "skip left (loaded)  # requested" -n "$F/diamond" left
expect_log real_run_loads_in_order 0 "insmod $F/chain/a.ko
insmod $F/chain/b.ko
insmod $F/chain/c.ko" "$F/chain"

# Removal.
printf 'c 1 0 - Live 0x0\nb 1 1 c, Live 0x0\na 1 1 b, Live 0x0\n' >"$tmp/proc-all"
PROC=$tmp/proc-all expect_out remove_in_reverse_order "rmmod c  # requested
rmmod b  # needed by c
rmmod a  # needed by b" -n -r "$F/chain" c
PROC=$tmp/proc-all expect_log remove_runs_rmmod_in_reverse 0 "rmmod c
rmmod b
rmmod a" --remove "$F/chain" c
printf 'm 1 0 - Live 0x0\np 1 0 - Live 0x0\nx 1 1 m, Live 0x0\nr 1 0 - Live 0x0\n' >"$tmp/proc-soft"
PROC=$tmp/proc-soft expect_out remove_skips_modules_not_loaded "rmmod r  # softdep post of m
rmmod m  # requested
rmmod p  # softdep pre of m
rmmod x  # needed by m" -n -r "$F/soft" m

# Options and blacklist.
cat >"$tmp/modload.conf" <<'EOF'
# tuned settings
options b hashsize=4096 expect_max=8   # trailing comment
  options c  log=1
blacklist q
EOF
expect_out options_are_appended_to_insmod "insmod $F/chain/a.ko  # needed by b
insmod $F/chain/b.ko hashsize=4096 expect_max=8  # needed by c
insmod $F/chain/c.ko log=1  # requested" -n -o "$tmp/modload.conf" "$F/chain" c
expect_log options_reach_insmod 0 "insmod $F/chain/a.ko
insmod $F/chain/b.ko hashsize=4096 expect_max=8
insmod $F/chain/c.ko log=1" --options "$tmp/modload.conf" "$F/chain" c
printf 'blacklist a\n' >"$tmp/black.conf"
expect_fail blacklisted_dependency_stops_before_loading \
    "rnf-modload: b needs a, which is blacklisted" -o "$tmp/black.conf" "$F/chain" c
expect_out blacklisted_softdep_is_left_out "insmod $F/soft/x.ko  # needed by m
insmod $F/soft/p.ko  # softdep pre of m
insmod $F/soft/m.ko  # requested
insmod $F/soft/r.ko  # softdep post of m" -n -v -o "$tmp/modload.conf" "$F/soft" m
check blacklisted_softdep_is_warned "no warning: [$(cat "$tmp/err")]" \
    grep -q "m has a soft dependency on q, which is blacklisted" "$tmp/err"

# A failing insmod: what this run loaded is removed again, in reverse.
RNF_TEST_FAIL=m3.ko expect_log failed_insmod_rolls_back 1 "insmod $F/longchain/m1.ko
insmod $F/longchain/m2.ko
insmod $F/longchain/m3.ko
rmmod m2
rmmod m1" "$F/longchain" m4
check failed_insmod_names_module_and_kernel_log "stderr: [$(tr '\n' '|' <"$tmp/err")]" \
    eval 'grep -q "insmod m3 failed" "$tmp/err" && grep -q "rnf_test: init failed: -22" "$tmp/err"'
printf 'm1 1 1 m2, Live 0x0\n' >"$tmp/proc-m1"
PROC=$tmp/proc-m1 RNF_TEST_FAIL=m3.ko expect_log rollback_keeps_modules_loaded_before 1 "insmod $F/longchain/m2.ko
insmod $F/longchain/m3.ko
rmmod m2" "$F/longchain" m4

# ---------------------------------------------------------------------------
# modules-load.d (--boot), under a root of its own (RNF_ROOT).

R=$tmp/boot-root
mkdir -p "$R/etc/modules-load.d" "$R/run/modules-load.d" "$R/usr/local/lib/modules-load.d" \
    "$R/usr/lib/modules-load.d" "$R/lib/modules-load.d"
printf 'top\n' >"$R/usr/lib/modules-load.d/10-top.conf"
printf 'c   # the chain\n' >"$R/etc/modules-load.d/20-chain.conf"
printf 'nosuch\n' >"$R/usr/lib/modules-load.d/20-chain.conf"     # hidden by /etc's
printf 'nosuch\n' >"$R/run/modules-load.d/20-chain.conf"         # hidden by /etc's
printf '# comment\n; also a comment\n\n  base  \n' >"$R/run/modules-load.d/05-base.conf"
printf 'nosuch\n' >"$R/lib/modules-load.d/30-masked.conf"
ln -s /dev/null "$R/etc/modules-load.d/30-masked.conf"           # masks the one in /lib
printf 'x\n' >"$R/usr/local/lib/modules-load.d/40-x.conf"
printf 'nosuch\n' >"$R/etc/modules-load.d/50-not-a-list.txt"     # not *.conf
mkdir -p "$R/etc/modules-load.d/60-dir.conf"                     # not a file
ROOT=$R expect_out boot_reads_modules_load_d_by_name_with_overrides "insmod $F/diamond/base.ko  # listed in $R/run/modules-load.d/05-base.conf
insmod $F/diamond/left.ko  # needed by top
insmod $F/diamond/right.ko  # needed by top
insmod $F/diamond/top.ko  # listed in $R/usr/lib/modules-load.d/10-top.conf
insmod $F/chain/a.ko  # needed by b
insmod $F/chain/b.ko  # needed by c
insmod $F/chain/c.ko  # listed in $R/etc/modules-load.d/20-chain.conf
insmod $F/soft/x.ko  # listed in $R/usr/local/lib/modules-load.d/40-x.conf" -n --boot "$F/chain" "$F/diamond" "$F/soft"
ROOT=$R loader -n -v --boot "$F/chain" "$F/diamond" "$F/soft"
got=$(sed -n 's/^rnf-modload: reading //p' "$tmp/err" | tr '\n' ' ')
want="$R/run/modules-load.d/05-base.conf $R/usr/lib/modules-load.d/10-top.conf $R/etc/modules-load.d/20-chain.conf $R/etc/modules-load.d/30-masked.conf $R/usr/local/lib/modules-load.d/40-x.conf "
check boot_list_files_read_in_name_order "read [$got] want [$want]" test "$got" = "$want"
expect_out boot_without_lists_requests_nothing "" -n --boot "$F/chain"

# No operand at all: --boot with the default pool /lib/modules/$(uname -r)
# and the default options file, both under the root.
R2=$tmp/boot-root2
rel=$(uname -r)
mkdir -p "$R2/lib/modules/$rel/extra" "$R2/etc/modules-load.d" "$R2/etc/rnf"
cp "$F"/chain/*.ko "$R2/lib/modules/$rel/extra/"
printf 'c\n' >"$R2/etc/modules-load.d/rnf.conf"
printf 'options b hashsize=64\n' >"$R2/etc/rnf/modload.conf"
ROOT=$R2 expect_out no_operand_is_boot_with_default_pool_and_options "insmod $R2/lib/modules/$rel/extra/a.ko  # needed by b
insmod $R2/lib/modules/$rel/extra/b.ko hashsize=64  # needed by c
insmod $R2/lib/modules/$rel/extra/c.ko  # listed in $R2/etc/modules-load.d/rnf.conf" -n
ROOT=$R2 expect_log no_operand_boot_loads 0 "insmod $R2/lib/modules/$rel/extra/a.ko
insmod $R2/lib/modules/$rel/extra/b.ko hashsize=64
insmod $R2/lib/modules/$rel/extra/c.ko"
# A .ko operand joins the default pool, ahead of it: a replacement for b.
mkdir -p "$tmp/other"
cp "$F/chain/b.ko" "$tmp/other/b.ko"
ROOT=$R2 expect_out ko_operand_goes_ahead_of_default_pool "insmod $R2/lib/modules/$rel/extra/a.ko  # needed by b
insmod $tmp/other/b.ko hashsize=64  # requested
insmod $R2/lib/modules/$rel/extra/c.ko  # listed in $R2/etc/modules-load.d/rnf.conf" -n --boot "$tmp/other/b.ko"

loader --save x --remove; rc=$?
check save_with_remove_is_usage_error "exit $rc, want 2" test "$rc" -eq 2
loader --status -r; rc=$?
check status_with_remove_is_usage_error "exit $rc, want 2" test "$rc" -eq 2
loader --save x "$F/chain"; rc=$?
check save_with_operand_is_usage_error "exit $rc, want 2" test "$rc" -eq 2

# ---------------------------------------------------------------------------
# --status: one line per module of the set, exit 3 if one is absent.

# expect_rc_out CASE RC EXPECTED ARGS...: exit RC, stdout EXPECTED, nothing run.
expect_rc_out() {
    local name=$1 want_rc=$2 want=$3 rc
    shift 3
    loader "$@"; rc=$?
    if [ "$rc" -ne "$want_rc" ]; then
        fail "$name" "exit $rc, want $want_rc ($(head -n 3 "$tmp/err" | tr '\n' ' '))"
    elif [ "$(cat "$tmp/out")" != "$want" ]; then
        fail "$name" "got [$(tr '\n' '|' <"$tmp/out")] want [$(tr '\n' '|' <<<"$want")]"
    elif [ -s "$tmp/log" ]; then
        fail "$name" "commands were run: $(tr '\n' '|' <"$tmp/log")"
    else
        pass "$name"
    fi
}
PROC=$tmp/proc-all expect_rc_out status_all_loaded_exits_0 0 "a loaded
b loaded
c loaded" --status "$F/chain" c
PROC=$tmp/proc SYS=$tmp/sys expect_rc_out status_builtin_loaded_absent 3 "base built-in
left loaded
right absent
top absent" --status "$F/diamond" top
expect_rc_out status_missing_dependency_is_absent_not_an_error 3 "rnf_conntrack absent (no module file)
rnf_nat absent" --status "$F/missing"
expect_rc_out status_shows_blacklisted 3 "a absent (blacklisted)
b absent
c absent" --status -o "$tmp/black.conf" "$F/chain" c

# ---------------------------------------------------------------------------
# --remove and modules used from outside the set (/proc/modules: name,
# size, refcount, used by).

printf 'outsider 1 0 - Live 0x0\nc 1 1 outsider, Live 0x0\nb 1 1 c, Live 0x0\na 1 1 b, Live 0x0\n' >"$tmp/proc-used"
PROC=$tmp/proc-used expect_fail remove_refuses_module_used_outside_set \
    "rnf-modload: cannot remove c: used by outsider (not in the set)" --remove "$F/chain" c
check remove_refusal_says_nothing_was_removed "stderr [$(tr '\n' '|' <"$tmp/err")]" \
    grep -q "rnf-modload: nothing was removed" "$tmp/err"
printf 'c 1 2 - Live 0x0\nb 1 1 c, Live 0x0\na 1 1 b, Live 0x0\n' >"$tmp/proc-held"
PROC=$tmp/proc-held expect_fail remove_refuses_module_held_by_no_module \
    "rnf-modload: cannot remove c: in use by something that is not a module (refcount 2, 0 of it from modules)" \
    -r "$F/chain" c
printf 'c 1 0 [permanent], Live 0x0\nb 1 1 c, Live 0x0\na 1 1 b, Live 0x0\n' >"$tmp/proc-perm"
PROC=$tmp/proc-perm expect_fail remove_refuses_permanent_module \
    "rnf-modload: cannot remove c: it cannot be unloaded (permanent)" -r "$F/chain" c
# A dependency used from outside stays, and so does what it uses.
printf 'outsider 1 0 - Live 0x0\nc 1 0 - Live 0x0\nb 1 2 c,outsider, Live 0x0\na 1 1 b, Live 0x0\n' >"$tmp/proc-dep"
PROC=$tmp/proc-dep expect_out remove_keeps_dependency_used_outside "rmmod c  # requested
keep b  # used by outsider (not in the set)
keep a  # used by b (staying loaded)" -n -r "$F/chain" c
PROC=$tmp/proc-dep expect_log remove_runs_without_kept_dependencies 0 "rmmod c" -r "$F/chain" c
check remove_notes_kept_dependencies "stderr [$(tr '\n' '|' <"$tmp/err")]" \
    grep -q "rnf-modload: leaving b loaded: used by outsider (not in the set)" "$tmp/err"
PROC=$tmp/proc-all expect_out remove_set_used_only_inside_it "rmmod c  # requested
rmmod b  # needed by c
rmmod a  # needed by b" -n -r "$F/chain" c

# ---------------------------------------------------------------------------
# --save: the writable parameters of a loaded module into the options file.

SM=$tmp/sysmod
mkparam() {  # mkparam MODULE PARAM VALUE MODE
    mkdir -p "$SM/$1/parameters"
    printf '%s\n' "$3" >"$SM/$1/parameters/$2"
    chmod "$4" "$SM/$1/parameters/$2"
}
mkparam rnf_conntrack udp_timeout 11 644
mkparam rnf_conntrack hashsize 4096 444
mkparam rnf_conntrack conntrack_max 8192 444
mkparam rnf_conntrack log_new Y 600
mkparam ro_only size 1 444
mkparam blanks name "a b" 644
cat >"$tmp/save.conf" <<'EOF'
# tuned settings
options other foo=1
options rnf_conntrack hashsize=1024 udp_timeout=30  # tuned
blacklist q
  options rnf-conntrack conntrack_max=2048
EOF
chmod 640 "$tmp/save.conf"
cp "$tmp/save.conf" "$tmp/save.conf.orig"
SYS=$SM loader --save rnf_conntrack -o "$tmp/save.conf"; rc=$?
want='# tuned settings
options other foo=1
options rnf_conntrack hashsize=1024 udp_timeout=11 conntrack_max=2048 log_new=Y  # tuned
blacklist q'
check save_replaces_the_line_and_keeps_the_rest "exit $rc; file [$(tr '\n' '|' <"$tmp/save.conf")] want [$(tr '\n' '|' <<<"$want")]" \
    test "$rc" -eq 0 -a "$(cat "$tmp/save.conf")" = "$want"
check save_keeps_the_file_mode "mode $(stat -c %a "$tmp/save.conf")" test "$(stat -c %a "$tmp/save.conf")" = 640
cp "$tmp/save.conf.orig" "$tmp/save-dry.conf"
SYS=$SM expect_out save_dry_run_prints_the_line \
    "options rnf_conntrack hashsize=1024 udp_timeout=11 conntrack_max=2048 log_new=Y  # tuned" \
    -n --save rnf_conntrack -o "$tmp/save-dry.conf"
check save_dry_run_changes_nothing "the file changed" cmp -s "$tmp/save.conf.orig" "$tmp/save-dry.conf"
cp "$tmp/save.conf.orig" "$tmp/save-twice.conf"
SYS=$SM loader --save rnf_conntrack -o "$tmp/save-twice.conf"
cp "$tmp/save-twice.conf" "$tmp/save-once.conf"
SYS=$SM loader --save rnf_conntrack -o "$tmp/save-twice.conf"
check save_twice_is_the_same "second save changed [$(diff "$tmp/save-once.conf" "$tmp/save-twice.conf" | tr '\n' '|')]" \
    cmp -s "$tmp/save-once.conf" "$tmp/save-twice.conf"
# Default file, under the root; the saved values are then used on load.
SR=$tmp/save-root
ROOT=$SR SYS=$SM loader --save rnf-conntrack; rc=$?
check save_creates_the_default_options_file "exit $rc; $(cat "$SR/etc/rnf/modload.conf" 2>&1)" \
    test "$rc" -eq 0 -a "$(cat "$SR/etc/rnf/modload.conf" 2>/dev/null)" = "options rnf_conntrack log_new=Y udp_timeout=11"
ROOT=$SR expect_out saved_options_reach_insmod "insmod $F/rnf/rnf_conntrack.ko log_new=Y udp_timeout=11  # requested" \
    -n "$F/rnf" rnf_conntrack
SYS=$SM expect_fail save_refuses_module_not_loaded \
    "rnf-modload: cannot save nosuch: it is not loaded" --save nosuch -o "$tmp/save-once.conf"
SYS=$SM loader --save ro_only -o "$tmp/save-once.conf"; rc=$?
check save_without_writable_parameters_changes_nothing "exit $rc; $(cat "$tmp/err")" \
    eval 'test "$rc" -eq 0 && cmp -s "$tmp/save-once.conf" "$tmp/save-twice.conf" && grep -q "ro_only has no writable parameters" "$tmp/err"'
SYS=$SM loader --save blanks -o "$tmp/save-once.conf"; rc=$?
check save_refuses_values_with_blanks "exit $rc; $(cat "$tmp/err")" \
    eval 'test "$rc" -eq 1 && cmp -s "$tmp/save-once.conf" "$tmp/save-twice.conf" && grep -q "has blanks" "$tmp/err"'

# ---------------------------------------------------------------------------
# The boot hook examples.

cat >"$tmp/bin/fake-modload" <<'EOF'
#!/bin/sh
echo "modload $*" >>"$RNF_TEST_LOG"
[ "$1 $2" != "--boot --status" ] || echo "rnf_conntrack loaded"
EOF
chmod +x "$tmp/bin/fake-modload"
init=$root/modules-load.d/rnf-modules.init
ok=1; why=""
for action in start stop status; do
    : >"$tmp/log"
    out=$(RNF_MODLOAD=$tmp/bin/fake-modload busybox ash "$init" "$action" 2>&1) || { ok=0; why="$why $action failed;"; }
    case $action in
        start) want_log="modload --boot"; want_out="Loading rnf modules: OK" ;;
        stop) want_log="modload --boot --remove"; want_out="Unloading rnf modules: OK" ;;
        status) want_log="modload --boot --status"; want_out="rnf_conntrack loaded" ;;
    esac
    if [ "$(cat "$tmp/log")" != "$want_log" ] || [ "$out" != "$want_out" ]; then
        ok=0; why="$why $action: [$out] [$(cat "$tmp/log")];"
    fi
done
RNF_MODLOAD=$tmp/bin/fake-modload busybox ash "$init" bogus >/dev/null 2>&1 && { ok=0; why="$why bogus action accepted;"; }
check init_script_runs_the_loader "${why:-?}" test "$ok" = 1
unit=$root/modules-load.d/rnf-modules.service
check systemd_unit_loads_before_the_network_and_removes_on_stop "see $unit" eval \
    'grep -qx "ExecStart=/sbin/rnf-modload --boot" "$unit" && grep -qx "ExecStop=/sbin/rnf-modload --boot --remove" "$unit" &&
     grep -q "^Before=.*network-pre.target" "$unit" && grep -qx "Type=oneshot" "$unit" && grep -qx "RemainAfterExit=yes" "$unit"'

# ---------------------------------------------------------------------------
# 3. The reference kernel's own modules against modprobe --show-depends.

kernel_case() {
    local kdir modroot ver mod want got n=0 bad=""
    if [ -n "${RNF_KDIR:-}" ]; then kdir=$RNF_KDIR
    else kdir=$("$root/scripts/setup.sh" ${KVARIANT:+--variant "$KVARIANT"} --kdir 2>/dev/null) || kdir=""; fi
    if [ -z "$kdir" ] || [ ! -f "$kdir/.rnf-complete" ] || [ ! -d "$kdir/modroot/lib/modules" ]; then
        if [ -z "${RNF_KDIR:-}" ] && [ "$no_kernel" -eq 1 ]; then
            echo "SKIP: loader: kernel_modules_order_matches_modprobe: no reference kernel (--no-kernel)"
            return
        fi
        fail kernel_modules_order_matches_modprobe "no built reference kernel at '${kdir:-?}' (run scripts/setup.sh, or pass --no-kernel)"
        return
    fi
    modroot=$kdir/modroot
    for ver in "$modroot"/lib/modules/*/; do ver=$(basename "$ver"); break; done
    local mdir=$modroot/lib/modules/$ver
    if [ ! -f "$mdir/modules.dep" ]; then
        fail kernel_modules_order_matches_modprobe "no modules.dep in $mdir (depmod did not run)"
        return
    fi
    for mod in nf_conntrack nf_nat iptable_nat ip6table_nat ip6table_filter iptable_filter nf_defrag_ipv6 xt_MASQUERADE; do
        modprobe -d "$modroot" -S "$ver" --show-depends "$mod" >/dev/null 2>&1 || continue
        # kmod lists a module again when a soft dependency brings it back;
        # only its first insmod does anything.
        want=$(modprobe -d "$modroot" -S "$ver" --show-depends "$mod" |
               awk '$1 == "insmod" && !seen[$2]++ { print $2 }' | sed "s|^$mdir/||")
        [ -n "$want" ] || continue   # built in
        loader -n "$mdir" "$mod"
        got=$(awk '$1 == "insmod" { print $2 }' "$tmp/out" | sed "s|^$mdir/||")
        n=$((n + 1))
        if [ "$want" != "$got" ]; then
            bad="$bad $mod: modprobe [$(tr '\n' ' ' <<<"$want")] loader [$(tr '\n' ' ' <<<"$got")] $(head -n 2 "$tmp/err" | tr '\n' ' ');"
        fi
    done
    if [ "$n" -eq 0 ]; then
        fail kernel_modules_order_matches_modprobe "none of the netfilter modules is a module in $mdir"
    elif [ -n "$bad" ]; then
        fail kernel_modules_order_matches_modprobe "$bad"
    else
        pass "kernel_modules_order_matches_modprobe ($n modules)"
    fi

    # The loader's .modinfo reader against kmod's modinfo on every module.
    local f field diff="" count=0
    while IFS= read -r f; do
        loader --modinfo "$f"
        for field in name depends softdep; do
            if [ "$(modinfo -F "$field" "$f")" != "$(sed -n "s/^$field=//p" "$tmp/out")" ]; then
                diff="$diff ${f#"$mdir"/} $field;"
            fi
        done
        count=$((count + 1))
    done < <(find "$mdir" -name '*.ko' | sort)
    if [ -n "$diff" ]; then fail kernel_modinfo_reader_matches_kmod "$diff"
    else pass "kernel_modinfo_reader_matches_kmod ($count modules)"; fi

    # The pool reader (all files at once, the four fields the plan uses)
    # against kmod's modinfo: the plan of the whole pool must be the same.
    loader -n "$mdir"; cp "$tmp/out" "$tmp/out.pool"
    RNF_MODINFO=$(command -v modinfo) loader -n "$mdir"
    if [ -s "$tmp/out.pool" ] && cmp -s "$tmp/out.pool" "$tmp/out"; then
        pass "kernel_pool_reader_matches_kmod ($(wc -l <"$tmp/out") modules planned)"
    else
        fail kernel_pool_reader_matches_kmod "plans differ: $(diff "$tmp/out.pool" "$tmp/out" | head -n 4 | tr '\n' ' ')"
    fi
}
kernel_case

# ---------------------------------------------------------------------------
# 4. The bundle (scripts/bundle.sh) of the built modules: layout, MANIFEST,
# options file, install mode.

bundle_case() {
    local ko_dir=${RNF_KO_DIR:-} kos=() ko rel arch name out list want f line ok why
    if [ -z "$ko_dir" ]; then
        # The modules of the ARCH of the kernel tree the other cases use.
        local karch=${ARCH:-x86_64}
        if [ -n "${RNF_KDIR:-}" ] && [ -f "$RNF_KDIR/.config" ]; then
            if grep -q '^CONFIG_ARM64=y' "$RNF_KDIR/.config"; then karch=arm64; else karch=x86_64; fi
        fi
        ko_dir=$(env -u MAKEFLAGS -u MAKELEVEL make -s --no-print-directory -C "$root" ARCH="$karch" print-moddir 2>/dev/null) || ko_dir=""
        compgen -G "$ko_dir/*.ko" >/dev/null || ko_dir=$root
    fi
    mapfile -t kos < <(find "$ko_dir" -maxdepth 1 -name '*.ko' | sort)
    if [ "${#kos[@]}" -eq 0 ]; then
        if [ -z "${RNF_KO_DIR:-}" ] && [ "$no_kernel" -eq 1 ]; then
            echo "SKIP: loader: bundle_*: no built modules (--no-kernel)"
            return
        fi
        fail bundle_built_modules "no .ko files in $ko_dir (run make first)"
        return
    fi
    rel=$(modinfo -F vermagic "${kos[0]}" | cut -d' ' -f1)
    case $(LC_ALL=C readelf -h "${kos[0]}" | sed -n 's/^ *Machine: *//p') in
        *X86-64*) arch=x86_64 ;;
        AArch64) arch=arm64 ;;
        *) arch=unknown ;;
    esac

    mkdir -p "$tmp/bundle"
    if ! out=$("$root/scripts/bundle.sh" --ko-dir "$ko_dir" --out "$tmp/bundle" 2>"$tmp/bundle.err"); then
        fail bundle_builds "scripts/bundle.sh: $(head -n 3 "$tmp/bundle.err" | tr '\n' ' ')"
        return
    fi
    check bundle_is_named_after_release_and_arch "got $out" \
        test "$out" = "$tmp/bundle/rnf-bundle-$rel-$arch.tar.gz" -a -f "$out"

    list=$(tar -tzf "$out")
    want=$( {
        for ko in "${kos[@]}"; do echo "lib/modules/$rel/extra/$(basename "$ko")"; done
        printf '%s\n' sbin/rnf-modload etc/modules-load.d/rnf.conf etc/rnf/modload.conf \
            usr/share/rnf/MANIFEST usr/share/rnf/rnf-modules.init usr/share/rnf/rnf-modules.service
    } | LC_ALL=C sort)
    check bundle_layout "got [$(tr '\n' ' ' <<<"$list")] want [$(tr '\n' ' ' <<<"$want")]" \
        test "$list" = "$want"
    ok=1; why=""
    while read -r mode owner _ _ _ f; do
        case $f in
            sbin/rnf-modload|*.init) [ "$mode" = -rwxr-xr-x ] || { ok=0; why="$why $f $mode;"; } ;;
            *) [ "$mode" = -rw-r--r-- ] || { ok=0; why="$why $f $mode;"; } ;;
        esac
        [ "$owner" = 0/0 ] || { ok=0; why="$why $f owner $owner;"; }
    done < <(tar --numeric-owner -tvzf "$out")
    check bundle_modes_and_owner "${why:-?}" test "$ok" = 1

    local b=$tmp/bundle/root
    mkdir -p "$b"
    tar -xzf "$out" -C "$b"
    ok=1; why=""
    for f in sbin/rnf-modload:scripts/rnf-modload etc/modules-load.d/rnf.conf:modules-load.d/rnf.conf \
        usr/share/rnf/rnf-modules.init:modules-load.d/rnf-modules.init \
        usr/share/rnf/rnf-modules.service:modules-load.d/rnf-modules.service; do
        cmp -s "$b/${f%%:*}" "$root/${f#*:}" || { ok=0; why="$why ${f%%:*};"; }
    done
    for ko in "${kos[@]}"; do
        cmp -s "$b/lib/modules/$rel/extra/$(basename "$ko")" "$ko" || { ok=0; why="$why $(basename "$ko");"; }
    done
    check bundle_files_are_the_sources "differ:${why:-?}" test "$ok" = 1

    # MANIFEST: name, vermagic, depends, sha256, path; against kmod's modinfo.
    ok=1; why=""; local n=0 mname vermagic depends sum path
    while IFS=$'\t' read -r mname vermagic depends sum path; do
        case $mname in '#'*|'') continue ;; esac
        n=$((n + 1))
        ko=$b/$path
        [ -f "$ko" ] || { ok=0; why="$why $mname: no $path;"; continue; }
        [ "$mname" = "$(modinfo -F name "$ko")" ] || { ok=0; why="$why $mname: name;"; }
        [ "$vermagic" = "$(modinfo -F vermagic "$ko" | sed 's/[[:space:]]*$//')" ] || { ok=0; why="$why $mname: vermagic $vermagic;"; }
        line=$(modinfo -F depends "$ko")
        [ "$depends" = "${line:--}" ] || { ok=0; why="$why $mname: depends $depends vs $line;"; }
        [ "$sum" = "$(sha256sum "$ko" | cut -d' ' -f1)" ] || { ok=0; why="$why $mname: sha256;"; }
    done <"$b/usr/share/rnf/MANIFEST"
    [ "$n" -eq "${#kos[@]}" ] || { ok=0; why="$why $n lines for ${#kos[@]} modules;"; }
    check bundle_manifest_matches_modinfo_and_sha256 "${why:-?}" test "$ok" = 1

    # The options file: a described, commented-out line per parameter.
    ok=1; why=""; local p t
    for ko in "${kos[@]}"; do
        name=$(modinfo -F name "$ko")
        while IFS=: read -r p t; do
            [ -n "$p" ] || continue
            grep -qx "#options $name $p=<$t>" "$b/etc/rnf/modload.conf" || { ok=0; why="$why $name.$p;"; }
            grep -q "^# $p ($t): " "$b/etc/rnf/modload.conf" || { ok=0; why="$why $name.$p undocumented;"; }
        done < <(modinfo -F parmtype "$ko")
    done
    if grep -Eq '^[[:space:]]*(options|blacklist)' "$b/etc/rnf/modload.conf"; then ok=0; why="$why an active line;"; fi
    check bundle_options_file_documents_every_parameter "${why:-?}" test "$ok" = 1

    # The loader from the bundle, on the unpacked root as init would run it
    # (the kernel's defrag and reject modules already loaded here).
    printf '%s 1 0 - Live 0x0\n' nf_defrag_ipv4 nf_defrag_ipv6 nf_reject_ipv4 nf_reject_ipv6 >"$tmp/proc-defrag"
    : >"$tmp/log"
    RNF_INSMOD=$tmp/bin/insmod RNF_PROC_MODULES=$tmp/proc-defrag RNF_SYS_MODULE=$tmp/sys-empty RNF_ROOT=$b \
        busybox ash "$b/sbin/rnf-modload" -n --boot "$b/lib/modules/$rel/extra" >"$tmp/out" 2>"$tmp/err"
    want="skip nf_defrag_ipv6 (loaded)  # needed by rnf_conntrack
skip nf_defrag_ipv4 (loaded)  # needed by rnf_conntrack
insmod $b/lib/modules/$rel/extra/rnf_conntrack.ko  # listed in $b/etc/modules-load.d/rnf.conf
insmod $b/lib/modules/$rel/extra/rnf_nat.ko  # listed in $b/etc/modules-load.d/rnf.conf
skip nf_reject_ipv4 (loaded)  # needed by rnf_tables
skip nf_reject_ipv6 (loaded)  # needed by rnf_tables
insmod $b/lib/modules/$rel/extra/rnf_tables.ko  # listed in $b/etc/modules-load.d/rnf.conf
insmod $b/lib/modules/$rel/extra/rnf_tables_nat.ko  # listed in $b/etc/modules-load.d/rnf.conf
insmod $b/lib/modules/$rel/extra/rnf_tables_mangle.ko  # listed in $b/etc/modules-load.d/rnf.conf
insmod $b/lib/modules/$rel/extra/rnf_tables_raw.ko  # listed in $b/etc/modules-load.d/rnf.conf"
    check bundle_loader_plans_from_the_unpacked_root "got [$(tr '\n' '|' <"$tmp/out")] err [$(tr '\n' '|' <"$tmp/err")]" \
        test "$(sort "$tmp/out")" = "$(sort <<<"$want")"

    "$root/scripts/bundle.sh" --ko-dir "$ko_dir" --out "$tmp/bundle/again.tar.gz" >/dev/null 2>&1
    check bundle_is_reproducible "a second build differs" cmp -s "$out" "$tmp/bundle/again.tar.gz"

    # Install mode: the same files in the same places.
    local inst=$tmp/bundle/inst
    "$root/scripts/bundle.sh" --ko-dir "$ko_dir" --install "$inst" 2>"$tmp/bundle.err"
    ok=1; why=""
    [ "$(cd "$inst" && find . -type f -printf '%P\n' | LC_ALL=C sort)" = "$list" ] || { ok=0; why="files differ;"; }
    while IFS= read -r f; do
        cmp -s "$inst/$f" "$b/$f" || { ok=0; why="$why $f;"; }
        [ "$(stat -c %a "$inst/$f")" = "$(stat -c %a "$b/$f")" ] || { ok=0; why="$why $f mode;"; }
    done <<<"$list"
    check bundle_install_mode_writes_the_same_layout "${why:-?}" test "$ok" = 1
    echo "options rnf_conntrack udp_timeout=7" >>"$inst/etc/rnf/modload.conf"
    "$root/scripts/bundle.sh" --ko-dir "$ko_dir" --install "$inst" 2>"$tmp/bundle.err"
    check bundle_install_keeps_an_existing_options_file "$(cat "$tmp/bundle.err")" \
        grep -qx "options rnf_conntrack udp_timeout=7" "$inst/etc/rnf/modload.conf"
    mkdir -p "$tmp/empty-ko"
    "$root/scripts/bundle.sh" --ko-dir "$tmp/empty-ko" --out "$tmp/bundle" >/dev/null 2>"$tmp/bundle.err"
    check bundle_without_modules_fails "$(cat "$tmp/bundle.err")" grep -q "no .ko files" "$tmp/bundle.err"

    # The make targets run the same script (MAKE=: so that -n does not go
    # into the kernel's build).
    local mk=(env -u MAKEFLAGS -u MAKELEVEL make -n --no-print-directory -C "$root" MAKE=:)
    check make_bundle_and_modules_install_use_bundle_sh "make -n shows: $("${mk[@]}" bundle modules_install INSTALL_MOD_PATH=/x 2>&1 | grep bundle.sh | tr '\n' ' ')" \
        eval '"${mk[@]}" bundle 2>/dev/null | grep -q "scripts/bundle.sh --ko-dir .* --out " &&
              "${mk[@]}" modules_install INSTALL_MOD_PATH=/x 2>/dev/null | grep -q "scripts/bundle.sh --ko-dir .* --install \"/x\""'
}
bundle_case

if [ "$failed" -ne 0 ]; then
    echo "loader: $failed case(s) failed"
    exit 1
fi
echo "loader: all cases passed"
