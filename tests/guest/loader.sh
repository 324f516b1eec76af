# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=sh source-path=SCRIPTDIR
#
# Guest test of the firmware bundle and rnf-modload, under busybox ash only:
# unpack the bundle (make bundle) into /, as a firmware build would; load
# the modules as init would (the bundle's busybox init script, i.e.
# rnf-modload --boot, with the bundle's modules-load.d list and options
# file); check that every module is loaded and the options file's parameter
# is in effect; change a parameter, --save it, --remove, load again: the
# value survives. --remove refuses a module still used outside the set; a
# corrupted .ko in the set makes the run fail and leaves nothing loaded.
#
# The host side is tests/loader/guest.sh: it builds the bundle and passes it
# in at /bundle/. By hand:
#   scripts/bundle.sh --ko-dir build/x86_64 --out /tmp/
#   scripts/vm/vm-test.sh loader.sh -f /tmp/rnf-bundle-R-A.tar.gz:/bundle/rnf-bundle-R-A.tar.gz

# shellcheck source=lib.sh disable=SC1091 # followed with shellcheck -x
. "$(dirname "$0")/lib.sh"

KVER=$(uname -r)
EXTRA=/lib/modules/$KVER/extra
OPTS=/etc/rnf/modload.conf
LIST=/etc/modules-load.d/rnf.conf
INIT=/usr/share/rnf/rnf-modules.init
PARAM=/sys/module/rnf_conntrack/parameters/udp_timeout
# The set rnf.conf leads to: the kernel's defrag and reject modules and ours.
SET="nf_defrag_ipv4 nf_defrag_ipv6 nf_reject_ipv4 nf_reject_ipv6 rnf_conntrack rnf_nat rnf_tables rnf_tables_nat"
SET="$SET rnf_tables_mangle rnf_tables_raw"
NSET=10

# loaded_of_set: the modules of SET in /proc/modules, one line.
loaded_of_set() {
	for _m in $SET; do
		grep -q "^$_m " /proc/modules && printf '%s ' "$_m"
	done
	echo
}

# expect_all_loaded NAME / expect_none_loaded NAME
expect_all_loaded() {
	_missing=
	for _m in $SET; do
		grep -q "^$_m " /proc/modules || _missing="$_missing $_m"
	done
	if [ -z "$_missing" ]; then pass "$1"; else fail "$1" "not loaded:$_missing"; fi
}
expect_none_loaded() {
	_left=$(loaded_of_set)
	if [ -z "${_left% }" ]; then pass "$1"; else fail "$1" "still loaded: $_left"; fi
}

# expect_param NAME VALUE: udp_timeout of the loaded rnf_conntrack.
expect_param() {
	_v=$(cat "$PARAM" 2>/dev/null)
	if [ "$_v" = "$2" ]; then pass "$1"; else fail "$1" "udp_timeout is '$_v', want $2"; fi
}

# --- the bundle ------------------------------------------------------------------

set -- /bundle/rnf-bundle-*.tar.gz
BUNDLE=$1
if [ ! -f "$BUNDLE" ]; then
	fail "loader: bundle present" "no /bundle/rnf-bundle-*.tar.gz (run this through tests/loader/guest.sh)"
	summary
	exit 1
fi
echo "bundle: $BUNDLE"
# vm-test.sh puts the repository's loader and lists in the guest; remove them
# so that everything below comes from the bundle.
rm -rf /sbin/rnf-modload /etc/modules-load.d /etc/rnf /lib/rnf
check "loader: bundle unpacks into / with busybox tar" tar -xzf "$BUNDLE" -C /
for f in /sbin/rnf-modload "$LIST" "$OPTS" /usr/share/rnf/MANIFEST "$INIT" \
	"$EXTRA/rnf_conntrack.ko" "$EXTRA/rnf_nat.ko" "$EXTRA/rnf_tables.ko" "$EXTRA/rnf_tables_nat.ko" \
	"$EXTRA/rnf_tables_mangle.ko" "$EXTRA/rnf_tables_raw.ko"; do
	[ -f "$f" ] || fail "loader: bundle has $f" "missing"
done
check "loader: the bundle's loader is executable" test -x /sbin/rnf-modload

# MANIFEST: name, vermagic, depends, sha256, path; every .ko is listed, its
# checksum holds and it was built for the running kernel.
manifest_ok=1
manifest_why=
n=0
while IFS="$(printf '\t')" read -r name vermagic depends sum path; do
	case $name in '#'* | '') continue ;; esac
	n=$((n + 1))
	got=$(sha256sum "/$path" | cut -d' ' -f1)
	[ "$got" = "$sum" ] || { manifest_ok=0; manifest_why="$manifest_why $name: sha256 $got;"; }
	[ "${vermagic%% *}" = "$KVER" ] || { manifest_ok=0; manifest_why="$manifest_why $name: vermagic $vermagic;"; }
	mdeps=$(rnf-modload --modinfo "/$path" | sed -n 's/^depends=//p')
	[ "${mdeps:--}" = "$depends" ] || { manifest_ok=0; manifest_why="$manifest_why $name: depends $depends vs $mdeps;"; }
done </usr/share/rnf/MANIFEST
kos=0
for f in "$EXTRA"/*.ko; do kos=$((kos + 1)); done
[ "$n" -eq "$kos" ] || { manifest_ok=0; manifest_why="$manifest_why $n lines for $kos modules;"; }
if [ "$manifest_ok" -eq 1 ]; then
	pass "loader: MANIFEST matches the modules ($n: sha256, vermagic $KVER, depends)"
else
	fail "loader: MANIFEST matches the modules" "$manifest_why"
fi

# The integrator's setting, added to the bundle's options file (whose lines
# are all commented out).
if grep -q '^[[:space:]]*options' "$OPTS"; then
	fail "loader: bundle options file sets nothing" "$(grep '^[[:space:]]*options' "$OPTS")"
else
	pass "loader: bundle options file sets nothing"
fi
cp "$OPTS" /tmp/modload.conf.orig
echo "options rnf_conntrack udp_timeout=7" >>"$OPTS"

# --- the plan and the boot ---------------------------------------------------------

plan=$(rnf-modload -n 2>&1)
echo "$plan"
if echo "$plan" | grep -qx "insmod $EXTRA/rnf_conntrack.ko udp_timeout=7  # listed in $LIST" &&
	echo "$plan" | grep -qx "insmod $EXTRA/rnf_nat.ko  # listed in $LIST" &&
	echo "$plan" | grep -qx "insmod $EXTRA/rnf_tables.ko  # listed in $LIST" &&
	echo "$plan" | grep -qx "insmod $EXTRA/rnf_tables_nat.ko  # listed in $LIST" &&
	echo "$plan" | grep -qx "insmod $EXTRA/rnf_tables_mangle.ko  # listed in $LIST" &&
	echo "$plan" | grep -qx "insmod $EXTRA/rnf_tables_raw.ko  # listed in $LIST" &&
	echo "$plan" | grep -Eqx "insmod /lib/modules/$KVER/kernel/.*/nf_reject_ipv6.ko  # needed by rnf_tables" &&
	echo "$plan" | grep -Eqx "insmod /lib/modules/$KVER/kernel/.*/nf_defrag_ipv4.ko  # needed by rnf_conntrack"; then
	pass "loader: dry run (no operands: --boot) plans the set from the bundle with reasons and options"
else
	fail "loader: dry run plans the set" "$(echo "$plan" | tr '\n' '|')"
fi

out=$(sh "$INIT" start 2>&1)
rc=$?
echo "$out"
if [ "$rc" -eq 0 ] && [ "$out" = "Loading rnf modules: OK" ]; then
	pass "loader: the bundle's init script starts (rnf-modload --boot)"
else
	fail "loader: init script start" "exit $rc: $(echo "$out" | tr '\n' '|')"
fi
expect_all_loaded "loader: every module of the set is loaded"
expect_param "loader: the options file's udp_timeout=7 is in effect" 7

status=$(rnf-modload --status)
rc=$?
if [ "$rc" -eq 0 ] && [ "$(echo "$status" | grep -c ' loaded$')" -eq "$NSET" ]; then
	pass "loader: --status shows the $NSET modules loaded"
else
	fail "loader: --status" "exit $rc: $(echo "$status" | tr '\n' '|')"
fi

# --- --remove refuses a module used from outside the set ---------------------------

out=$(rnf-modload --remove rnf_conntrack 2>&1)
rc=$?
# rnf_nat and rnf_tables both use it (the kernel lists the users newest first).
if [ "$rc" -eq 1 ] && echo "$out" | grep -q "cannot remove rnf_conntrack: used by .*rnf_nat (not in the set)" &&
	echo "$out" | grep -q "cannot remove rnf_conntrack: used by .*rnf_tables (not in the set)" &&
	[ "$(loaded_of_set)" = "$SET " ]; then
	pass "loader: --remove rnf_conntrack refuses (used by rnf_nat and rnf_tables) and removes nothing"
else
	fail "loader: --remove refuses a module in use" "exit $rc: $(echo "$out" | tr '\n' '|'); loaded: $(loaded_of_set)"
fi

# --- change, --save, --remove, load: the value survives ----------------------------

echo 11 >"$PARAM"
expect_param "loader: udp_timeout is writable at run time" 11
check "loader: --save rnf_conntrack" rnf-modload --save rnf_conntrack
# What --save must write: udp_timeout first (the line it replaces named it),
# then every other parameter whose file has the owner-write bit, with its
# current value, in file name order; read-only ones not at all (rnf_conntrack
# has none since hashsize resizes at run time, as nf_conntrack's does; the
# host tests in tests/loader check that read-only ones are left out).
want="options rnf_conntrack udp_timeout=11"
readonly_params=
for f in /sys/module/rnf_conntrack/parameters/*; do
	p=${f##*/}
	case $(ls -ld "$f") in
	??w*) [ "$p" = udp_timeout ] || want="$want $p=$(cat "$f")" ;;
	*) readonly_params="$readonly_params $p" ;;
	esac
done
lines=$(grep -c '^options rnf_conntrack ' "$OPTS")
line=$(grep '^options rnf_conntrack ' "$OPTS")
if [ "$lines" -eq 1 ] && [ "$line" = "$want" ]; then
	pass "loader: --save wrote one line: udp_timeout=11 and the other writable parameters${readonly_params:+, not$readonly_params}"
else
	fail "loader: --save line" "$lines lines: [$line], want [$want]"
fi
if grep -v '^options rnf_conntrack ' "$OPTS" | cmp -s - /tmp/modload.conf.orig; then
	pass "loader: --save kept every other line of the options file"
else
	fail "loader: --save kept the rest" "$(grep -v '^options rnf_conntrack ' "$OPTS" | diff /tmp/modload.conf.orig - | head -n 5 | tr '\n' '|')"
fi

out=$(sh "$INIT" stop 2>&1)
rc=$?
echo "$out"
if [ "$rc" -eq 0 ] && [ "$out" = "Unloading rnf modules: OK" ]; then
	pass "loader: the bundle's init script stops (rnf-modload --boot --remove)"
else
	fail "loader: init script stop" "exit $rc: $(echo "$out" | tr '\n' '|')"
fi
expect_none_loaded "loader: stop (rnf-modload --boot --remove) leaves nothing of the set loaded"
status=$(rnf-modload --status)
rc=$?
if [ "$rc" -eq 3 ] && [ "$(echo "$status" | grep -c ' absent$')" -eq "$NSET" ]; then
	pass "loader: --status shows the $NSET modules absent (exit 3)"
else
	fail "loader: --status after remove" "exit $rc: $(echo "$status" | tr '\n' '|')"
fi

check "loader: load again" sh "$INIT" start
expect_all_loaded "loader: every module loaded again"
expect_param "loader: the saved udp_timeout=11 survives the reload" 11
check "loader: remove again" rnf-modload --remove
expect_none_loaded "loader: nothing left loaded"

# --- a corrupted module in the set -------------------------------------------------

mkdir -p /tmp/bad /tmp/garbage
# 1. The version magic overwritten: the planner reads the file fine, the
# kernel refuses it after its dependencies were loaded.
cp "$EXTRA/rnf_nat.ko" /tmp/bad/rnf_nat.ko
off=$(strings -t d /tmp/bad/rnf_nat.ko | awk '$2 ~ /^vermagic=/ { print $1; exit }')
printf '9.99' | dd of=/tmp/bad/rnf_nat.ko bs=1 seek=$((off + 9)) conv=notrunc 2>/dev/null
out=$(rnf-modload --boot /tmp/bad/rnf_nat.ko 2>&1)
rc=$?
echo "$out"
if [ "$rc" -eq 1 ] && echo "$out" | grep -q "insmod rnf_nat failed" &&
	echo "$out" | grep -q "removing rnf_conntrack again" &&
	echo "$out" | grep -q "last kernel log line: .*version magic"; then
	pass "loader: a .ko with a corrupted version magic fails the run, names it and the kernel's reason"
else
	fail "loader: corrupted version magic" "exit $rc: $(echo "$out" | tr '\n' '|')"
fi
expect_none_loaded "loader: after the failed insmod nothing of the set is loaded"

# 2. The ELF header overwritten: refused before anything is loaded.
cp "$EXTRA/rnf_nat.ko" /tmp/garbage/rnf_nat.ko
printf 'garbage garbage garbage garbage garbage garbage garbage garbage!' |
	dd of=/tmp/garbage/rnf_nat.ko bs=1 conv=notrunc 2>/dev/null
out=$(rnf-modload --boot /tmp/garbage/rnf_nat.ko 2>&1)
rc=$?
if [ "$rc" -eq 1 ] && echo "$out" | grep -q "cannot read the .modinfo of /tmp/garbage/rnf_nat.ko" &&
	! echo "$out" | grep -q "insmod"; then
	pass "loader: a .ko with a corrupted ELF header stops the run before any insmod"
else
	fail "loader: corrupted ELF header" "exit $rc: $(echo "$out" | tr '\n' '|')"
fi
expect_none_loaded "loader: after the refused run nothing of the set is loaded"

# The system is usable again afterwards.
check "loader: a clean run loads the set after the failures" rnf-modload
expect_all_loaded "loader: every module loaded after the failures"
check "loader: final remove" rnf-modload -r
expect_none_loaded "loader: nothing loaded at the end"

summary
