#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Every rnf test; what `make check` runs (after building the modules).
#
#   host:   cargo test of rust/rnf_core (the logic compiled into the modules),
#           the built modules' modinfo, the loader's tests (tests/loader).
#   guest:  tests/guest/conntrack.sh in QEMU on the reference kernel; the
#           kernel log must be free of oops/BUG/WARNING/lockdep reports, and
#           the KUnit suites the modules ran at load are parsed with the
#           kernel's own tools/testing/kunit/kunit.py.
#
# Each check prints `PASS: area: name` or `FAIL: area: name: why`; the last
# line is `N passed, N failed`. Exits non-zero if anything failed.
#
# Environment: RNF_KEEP_LOGS=DIR keeps the guest console log there.
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 2
ARCH=${ARCH:-x86_64}
kdir=$(scripts/setup.sh --arch "$ARCH" --kdir)
ksrc=$(scripts/setup.sh --src)
logs=${RNF_KEEP_LOGS:-$(mktemp -d)}
mkdir -p "$logs"

passed=0
failed=0

pass() { passed=$((passed + 1)); echo "PASS: $1"; }
fail() { failed=$((failed + 1)); echo "FAIL: $1: $2"; }

# count_lines FILE: adds the PASS:/FAIL: lines a sub-suite printed.
count_lines() {
    local p f
    p=$(grep -c '^PASS: ' "$1")
    f=$(grep -c '^FAIL: ' "$1")
    passed=$((passed + p))
    failed=$((failed + f))
}

echo "=== host: cargo test (rust/rnf_core)"
if (cd rust/rnf_core && cargo test --quiet 2>&1) | tee "$logs/cargo.log" | grep -E '^test result|panicked|FAILED'; then :; fi
while read -r p f; do
    passed=$((passed + p))
    failed=$((failed + f))
done < <(sed -n 's/^test result: [a-zA-Z]*\. \([0-9]*\) passed; \([0-9]*\) failed.*/\1 \2/p' "$logs/cargo.log")
grep -q '^test result: ok' "$logs/cargo.log" || fail "host: cargo test" "no passing test result, see $logs/cargo.log"

echo "=== build: the modules and their declared dependencies"
release=$(cat "$kdir/include/config/kernel.release")
for m in rnf_conntrack rnf_nat; do
    if [ -f "$m.ko" ] && [ "$(modinfo -F vermagic "$m.ko" | cut -d' ' -f1)" = "$release" ]; then
        pass "build: $m.ko built for $release"
    else
        fail "build: $m.ko built for $release" "missing or vermagic '$(modinfo -F vermagic "$m.ko" 2>&1)'"
    fi
done
deps=",$(modinfo -F depends rnf_conntrack.ko),"
for d in nf_defrag_ipv4 nf_defrag_ipv6; do
    case "$deps" in
        *",$d,"*) pass "build: modinfo -F depends rnf_conntrack.ko names $d" ;;
        *) fail "build: modinfo -F depends rnf_conntrack.ko names $d" "depends=$deps" ;;
    esac
done
if [ "$(modinfo -F depends rnf_nat.ko)" = rnf_conntrack ]; then
    pass "build: rnf_nat depends on rnf_conntrack through rnf_ct_lookup"
else
    fail "build: rnf_nat depends on rnf_conntrack" "depends=$(modinfo -F depends rnf_nat.ko)"
fi

echo "=== host: loader (tests/loader/run.sh)"
RNF_KDIR=$kdir tests/loader/run.sh >"$logs/loader.log" 2>&1
loader_rc=$?
grep -E '^(PASS|FAIL): ' "$logs/loader.log"
count_lines "$logs/loader.log"
if [ "$loader_rc" -ne 0 ] && ! grep -q '^FAIL: ' "$logs/loader.log"; then
    fail "loader: run.sh" "exited $loader_rc without a FAIL line, see $logs/loader.log"
fi

echo "=== guest: tests/guest/conntrack.sh on the reference kernel (QEMU, TCG)"
scripts/vm/vm-test.sh conntrack.sh -m rnf_conntrack.ko -m rnf_nat.ko -l "$logs/guest-console.log" \
    >"$logs/guest.out" 2>&1
guest_rc=$?
grep -E '^(PASS|FAIL): ' "$logs/guest.out"
count_lines "$logs/guest.out"
case "$guest_rc" in
    0) pass "guest: conntrack.sh exited 0" ;;
    124) fail "guest: conntrack.sh finished" "no exit marker: the guest hung or crashed, see $logs/guest-console.log" ;;
    125) fail "guest: kernel log clean" "oops/BUG/WARNING/lockdep report, see $logs/guest.out" ;;
    *) fail "guest: conntrack.sh exited 0" "exit status $guest_rc" ;;
esac
if [ "$guest_rc" -ne 125 ] && [ -s "$logs/guest-console.log" ]; then
    pass "guest: kernel log has no oops, BUG, WARNING or lockdep report"
fi

echo "=== guest: KUnit suites, parsed by kunit.py"
# Each module prints its own KTAP document when it is loaded; split the log
# at the top-level headers and parse each one.
awk -v dir="$logs" '
    /^\[ *[0-9.]+\] KTAP version 1$/ { n++ }
    n > 0 { print > (dir "/ktap-" n ".log") }
' < <(tr -d '\r' <"$logs/guest-console.log")
ktap_docs=0
for doc in "$logs"/ktap-*.log; do
    [ -f "$doc" ] || continue
    # The kernel's own (empty) built-in suite set at boot: nothing to count.
    sed -n 2p "$doc" | grep -Eq '\] 1\.\.0$' && continue
    ktap_docs=$((ktap_docs + 1))
    out=$(python3 "$ksrc/tools/testing/kunit/kunit.py" parse "$doc" 2>&1)
    echo "$out" | grep -E '\[(PASSED|FAILED|CRASHED|SKIPPED)\]|Testing complete' | sed 's/^\[[0-9:]*\] //'
    summary=$(echo "$out" | grep 'Testing complete' | tail -n 1)
    p=$(echo "$summary" | sed -n 's/.*passed: \([0-9]*\).*/\1/p')
    f=$(echo "$summary" | sed -n 's/.*failed: \([0-9]*\).*/\1/p')
    c=$(echo "$summary" | sed -n 's/.*crashed: \([0-9]*\).*/\1/p')
    s=$(echo "$summary" | sed -n 's/.*skipped: \([0-9]*\).*/\1/p')
    if [ -z "$summary" ] || [ -z "$p" ]; then
        fail "kunit: $(basename "$doc")" "kunit.py found no result: $(echo "$out" | tail -n 3 | tr '\n' ' ')"
        continue
    fi
    passed=$((passed + p))
    failed=$((failed + ${f:-0} + ${c:-0}))
    [ "${s:-0}" -eq 0 ] || fail "kunit: $(basename "$doc")" "${s} skipped cases (skips do not count as passes)"
done
[ "$ktap_docs" -ge 2 ] || fail "kunit: both modules ran their suites" "found $ktap_docs KTAP documents"

echo "logs: $logs"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
