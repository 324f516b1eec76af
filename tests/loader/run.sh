#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Host tests for scripts/rnf-modload, the depmod-free module loader.
#
# The loader always runs as "busybox ash scripts/rnf-modload ...", as on the
# targets (Debian's busybox-static ash runs its own applets for awk, sed, od...).
# Fixture modules are made here, at test time: tiny ELF objects with only a
# .modinfo section. insmod, rmmod and dmesg are fakes that write to a log.
# The last case checks the order against modprobe --show-depends on the
# reference kernel's own modules (see scripts/setup.sh).
#
# Usage: tests/loader/run.sh [--no-kernel]
#   --no-kernel  skip the reference-kernel case when the kernel is not built
#                (only honoured when RNF_KDIR is unset)
# Environment: RNF_KDIR  the kernel build dir (default: scripts/setup.sh --kdir)
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
        -h|--help) sed -n '3,19p' "$0"; exit 0 ;;
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

mkdir -p "$tmp/bin" "$tmp/sys-empty" "$tmp/sys"
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
            echo '__attribute__((used)) const char decoy[] = "x\0depends=decoy\0name=decoy\0softdep=pre: decoy";'
    } >"$tmp/$file.c"
    ${CC:-gcc} ${CFLAGS:-} -c -o "$dir/$file.ko" "$tmp/$file.c"
}

# loader ARGS...: run the loader under busybox ash with the fakes and empty
# /proc/modules and /sys/module; stdout to $tmp/out, stderr to $tmp/err,
# the fake commands' log to $tmp/log. Returns the loader's exit status.
loader() {
    : >"$tmp/log"
    RNF_INSMOD=$tmp/bin/insmod RNF_RMMOD=$tmp/bin/rmmod RNF_DMESG=$tmp/bin/dmesg \
    RNF_PROC_MODULES=${PROC:-$tmp/proc-empty} RNF_SYS_MODULE=${SYS:-$tmp/sys-empty} \
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
expect_out chain_in_dependency_order "insmod $F/chain/a.ko
insmod $F/chain/b.ko
insmod $F/chain/c.ko" -n "$F/chain" c
expect_out file_operand_is_requested "insmod $F/chain/a.ko
insmod $F/chain/b.ko" -n "$F/chain" "$F/chain/b.ko"
expect_out diamond_loads_shared_dependency_once "insmod $F/diamond/base.ko
insmod $F/diamond/left.ko
insmod $F/diamond/right.ko
insmod $F/diamond/top.ko" -n "$F/diamond" top
expect_out whole_pool_when_nothing_requested "insmod $F/diamond/base.ko
insmod $F/diamond/left.ko
insmod $F/diamond/right.ko
insmod $F/diamond/top.ko" -n "$F/diamond"
expect_out softdep_pre_before_post_after "insmod $F/soft/x.ko
insmod $F/soft/p.ko
insmod $F/soft/m.ko
insmod $F/soft/q.ko
insmod $F/soft/r.ko" -n "$F/soft" m
expect_out post_edge_back_up_is_not_a_cycle "insmod $F/postback/pm.ko
insmod $F/postback/pt.ko
insmod $F/postback/pl.ko" -n "$F/postback" pt
expect_out dash_and_underscore_are_equal "insmod $F/dash/sub/foo-bar.ko
insmod $F/dash/user.ko" -n "$F/dash" user foo_bar foo-bar
expect_out dash_request_of_underscore_name "insmod $F/dash/sub/foo-bar.ko" -n "$F/dash" foo-bar
expect_out name_field_not_file_name "insmod $F/renamed/file_name.ko" -n "$F/renamed" real-name
printf '# rnf modules\n\n  c  ; the top\nb # again\n;a\n' >"$tmp/list.conf"
expect_out list_file_requests_names "insmod $F/chain/a.ko
insmod $F/chain/b.ko
insmod $F/chain/c.ko" -n -l "$tmp/list.conf" "$F/chain"
mkmod "$F/rnf" rnf_nat rnf_nat "rnf_conntrack"
mkmod "$F/rnf" rnf_conntrack rnf_conntrack ""
expect_out project_list_file_loads_in_order "insmod $F/rnf/rnf_conntrack.ko
insmod $F/rnf/rnf_nat.ko" -n -l "$root/modules-load.d/rnf.conf" "$F/rnf"
: >"$tmp/empty.conf"
expect_out empty_list_requests_nothing "" -n --list "$tmp/empty.conf" "$F/chain"

# A soft dependency may name an alias (libcrc32c has "pre: crc32c", which
# is an alias of crc32c_generic).
mkmod "$F/alias" libcrc libcrc "" "pre: crc-fast"
mkmod "$F/alias" crcgen crcgen "" "alias=crc-fast" "alias=crypto-crc-fast"
expect_out softdep_names_an_alias "insmod $F/alias/crcgen.ko
insmod $F/alias/libcrc.ko" -n "$F/alias" libcrc
expect_out request_names_an_alias "insmod $F/alias/crcgen.ko" -n "$F/alias" crypto-crc-fast

# A directory's modules.order sets the pool order (as for depmod).
mkmod "$F/ordered/sub" aa aa ""
mkmod "$F/ordered" zz zz ""
expect_out pool_sorted_without_modules_order "insmod $F/ordered/sub/aa.ko
insmod $F/ordered/zz.ko" -n "$F/ordered"
printf 'zz.ko\nsub/aa.ko\n' >"$F/ordered/modules.order"
expect_out modules_order_sets_pool_order "insmod $F/ordered/zz.ko
insmod $F/ordered/sub/aa.ko" -n "$F/ordered/"
rm "$F/ordered/modules.order"

# RNF_MODINFO: a modinfo command instead of the built-in reader (kmod here;
# under busybox ash a bare "modinfo" would be the busybox applet).
RNF_MODINFO=$(command -v modinfo) expect_out modinfo_command_override "insmod $F/soft/x.ko
insmod $F/soft/p.ko
insmod $F/soft/m.ko
insmod $F/soft/q.ko
insmod $F/soft/r.ko" -n "$F/soft" m

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
PROC=$tmp/proc SYS=$tmp/sys expect_out loaded_and_builtin_are_skipped "skip base (built-in)
skip left (loaded)
insmod $F/diamond/right.ko
insmod $F/diamond/top.ko" -n "$F/diamond" top
PROC=$tmp/proc SYS=$tmp/sys expect_log loaded_and_builtin_are_not_loaded 0 "insmod $F/diamond/right.ko
insmod $F/diamond/top.ko" "$F/diamond" top
PROC=$tmp/proc SYS=$tmp/sys expect_out loaded_request_is_skipped "skip left (loaded)" -n "$F/diamond" left
expect_log real_run_loads_in_order 0 "insmod $F/chain/a.ko
insmod $F/chain/b.ko
insmod $F/chain/c.ko" "$F/chain"

# Removal.
printf 'c 1 0 - Live 0x0\nb 1 1 c, Live 0x0\na 1 1 b, Live 0x0\n' >"$tmp/proc-all"
PROC=$tmp/proc-all expect_out remove_in_reverse_order "rmmod c
rmmod b
rmmod a" -n -r "$F/chain" c
PROC=$tmp/proc-all expect_log remove_runs_rmmod_in_reverse 0 "rmmod c
rmmod b
rmmod a" --remove "$F/chain" c
printf 'm 1 0 - Live 0x0\np 1 0 - Live 0x0\nx 1 1 m, Live 0x0\nr 1 0 - Live 0x0\n' >"$tmp/proc-soft"
PROC=$tmp/proc-soft expect_out remove_skips_modules_not_loaded "rmmod r
rmmod m
rmmod p
rmmod x" -n -r "$F/soft" m

# Options and blacklist.
cat >"$tmp/modload.conf" <<'EOF'
# tuned settings
options b hashsize=4096 expect_max=8   # trailing comment
  options c  log=1
blacklist q
EOF
expect_out options_are_appended_to_insmod "insmod $F/chain/a.ko
insmod $F/chain/b.ko hashsize=4096 expect_max=8
insmod $F/chain/c.ko log=1" -n -o "$tmp/modload.conf" "$F/chain" c
expect_log options_reach_insmod 0 "insmod $F/chain/a.ko
insmod $F/chain/b.ko hashsize=4096 expect_max=8
insmod $F/chain/c.ko log=1" --options "$tmp/modload.conf" "$F/chain" c
printf 'blacklist a\n' >"$tmp/black.conf"
expect_fail blacklisted_dependency_stops_before_loading \
    "rnf-modload: b needs a, which is blacklisted" -o "$tmp/black.conf" "$F/chain" c
expect_out blacklisted_softdep_is_left_out "insmod $F/soft/x.ko
insmod $F/soft/p.ko
insmod $F/soft/m.ko
insmod $F/soft/r.ko" -n -v -o "$tmp/modload.conf" "$F/soft" m
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
# 3. The reference kernel's own modules against modprobe --show-depends.

kernel_case() {
    local kdir modroot ver mod want got n=0 bad=""
    if [ -n "${RNF_KDIR:-}" ]; then kdir=$RNF_KDIR
    else kdir=$("$root/scripts/setup.sh" --kdir 2>/dev/null) || kdir=""; fi
    if [ -z "$kdir" ] || [ ! -f "$kdir/.rnf-complete" ] || [ ! -d "$kdir/modroot/lib/modules" ]; then
        if [ -z "${RNF_KDIR:-}" ] && [ "$no_kernel" -eq 1 ]; then
            echo "SKIP: loader: kernel_modules_order_matches_modprobe: no reference kernel (--no-kernel)"
            return
        fi
        fail kernel_modules_order_matches_modprobe "no built reference kernel at '${kdir:-?}' (run scripts/setup.sh, or pass --no-kernel)"
        return
    fi
    modroot=$kdir/modroot
    ver=$(ls "$modroot/lib/modules" | head -n 1)
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
}
kernel_case

if [ "$failed" -ne 0 ]; then
    echo "loader: $failed case(s) failed"
    exit 1
fi
echo "loader: all cases passed"
