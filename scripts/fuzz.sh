#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Fuzzes the ip_tables blob parser of rnf_core on the host for SECONDS
# (default 60) and prints the number of executions.
# Usage: scripts/fuzz.sh [SECONDS]
set -eu
secs=${1:-60}
here=$(cd "$(dirname "$0")/.." && pwd)
if ! cargo fuzz --version >/dev/null 2>&1; then
	echo "fuzz.sh: installing cargo-fuzz from crates.io"
	cargo install --locked cargo-fuzz
fi
cd "$here/rust/rnf_core/fuzz"
# cargo-fuzz passes nightly-only flags (-Zsanitizer); the stable toolchain accepts them with:
export RUSTC_BOOTSTRAP=1
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
# corpus/ collects what the fuzzer finds; seeds/ holds valid tables from the
# blob builder (regenerate: cd rust/rnf_core && cargo test -- --ignored write_fuzz_seeds).
mkdir -p corpus/xt_replace
cargo fuzz run xt_replace corpus/xt_replace seeds/xt_replace -- -max_total_time="$secs" -max_len=4096 2>&1 | tee "$log" | grep -E "^#[0-9]+.*(pulse|DONE)|ERROR|panicked|SUMMARY" || status=$?
if grep -q "ERROR: libFuzzer\|panicked\|SUMMARY: " "$log"; then
	echo "fuzz.sh: crash found; see rust/rnf_core/fuzz/artifacts/xt_replace"
	exit 1
fi
execs=$(grep -Eo "^#[0-9]+" "$log" | tail -1 | tr -d '#')
echo "fuzz.sh: xt_replace ran ${execs:-0} executions in ${secs} s, no crash"
