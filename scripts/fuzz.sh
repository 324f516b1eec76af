#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Fuzzes rnf_core's parsers and engines on the host with cargo-fuzz
# (libFuzzer): every target of rust/rnf_core/fuzz/, or the ones named, for
# FUZZ_SECONDS each (default 60), and prints the executions of each.
#
# Usage: [FUZZ_SECONDS=N] [FUZZ_RUNS=N] scripts/fuzz.sh [TARGET...]    (make fuzz)
#
# FUZZ_RUNS stops each target after N executions instead (FUZZ_SECONDS is
# then only a cap, default 24 h): FUZZ_RUNS=10000000 is issue 13's bar.
#
# Targets (rust/rnf_core/fuzz/fuzz_targets/; each file's header gives its
# input format and oracles):
#   packet       the packet views (IPv4, IPv6 and its extension headers, TCP
#                and its options, UDP, ICMP/ICMPv6 and the packet inside an
#                error) on arbitrary bytes: offsets within the input, fields
#                as the bytes say, prefix-stable, tuples that invert back,
#                the inner tuple equal to the quoted packet's own
#   conntrack    packet sequences of one connection (both directions, any
#                flags, seq, ack, window, options, corruption, ICMP errors):
#                TCP moves only along the kernel's tcp_conntracks table and
#                the exceptions nf_conntrack_tcp_packet makes, INVALID
#                changes nothing, SEEN_REPLY/ASSURED/ctinfo as the kernel
#                sets them, timeouts among the configured ones
#   conntrack_table  the connection table (slots, both hash chains, free
#                list, by-source index) under insert, confirm, find, remove,
#                gc, flush, early drop: every answer equals a plain model's
#   nat_rewrite  manip_pkt and the ICMP error translation on built and on
#                arbitrary packets: every checksum equal to a full
#                recomputation (CHECKSUM_NONE, _COMPLETE, _PARTIAL), only
#                the NATed fields changed, lengths unchanged
#   nat_select   unique_tuple over a fake table: the mapping in the range,
#                the free tuple found when one is in reach
#   xt_replace   SET_REPLACE blobs of every table (filter, nat, mangle, raw)
#                and family: classified walk = linear walk, NAT targets
#                only at their hooks, copy-out accepted again
#   xt_eval      arbitrary packets (any hook, truncated anywhere) through
#                the tables of xt_replace's seeds: every match and LOG read
#                packet bytes; LOG lines fit, classified walk = linear walk
#
# Each run starts from the target's seeds (rust/rnf_core/fuzz/seeds/TARGET,
# in git; regenerate: cd rust/rnf_core && cargo test -- --ignored
# write_fuzz_seeds) and its corpus (rust/rnf_core/fuzz/corpus/TARGET, not in
# git: what earlier runs found). A crash leaves its input in
# rust/rnf_core/fuzz/artifacts/TARGET/ (not in git); reproduce it with
#   cd rust/rnf_core/fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run TARGET FILE
# Every target runs even after a crash; the exit status is 1 if any crashed.
set -eu
runs=${FUZZ_RUNS:-}
if [ -n "$runs" ]; then
	secs=${FUZZ_SECONDS:-86400}
	limit="-runs=$runs"
else
	secs=${FUZZ_SECONDS:-60}
	limit=""
fi
here=$(cd "$(dirname "$0")/.." && pwd)
if ! cargo fuzz --version >/dev/null 2>&1; then
	echo "fuzz.sh: installing cargo-fuzz from crates.io"
	cargo install --locked cargo-fuzz
fi
cd "$here/rust/rnf_core/fuzz"
# cargo-fuzz passes nightly-only flags (-Zsanitizer); the stable toolchain accepts them with:
export RUSTC_BOOTSTRAP=1
if [ $# -gt 0 ]; then
	targets=$*
else
	targets=$(cargo fuzz list)
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for t in $targets; do
	cargo fuzz build "$t" >"$tmp/build.log" 2>&1 || {
		cat "$tmp/build.log"
		echo "fuzz.sh: $t does not build"
		exit 1
	}
done
failed=""
interrupted=""
summary=""
for t in $targets; do
	mkdir -p "corpus/$t"
	seeds=""
	if [ -d "seeds/$t" ]; then
		seeds="seeds/$t"
	fi
	echo "fuzz.sh: $t for ${runs:+$runs executions or }$secs s"
	log="$tmp/$t.log"
	rc=0
	cargo fuzz run "$t" "corpus/$t" $seeds -- -max_total_time="$secs" $limit -max_len=4096 >"$log" 2>&1 || rc=$?
	# libFuzzer's last words: "Done N runs in S second(s)".
	execs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$log" | tail -n 1)
	if [ -z "$execs" ]; then
		execs=$(grep -Eo "^#[0-9]+" "$log" | tail -n 1 | tr -d '#')
	fi
	if grep -q "libFuzzer: run interrupted" "$log"; then
		# Stopped by a signal (libFuzzer's own message): no finding, but
		# short of the executions asked for.
		echo "fuzz.sh: $t: interrupted after ${execs:-0} executions, no crash"
		interrupted="$interrupted $t"
		summary="$summary$(printf '%-16s %12s executions  interrupted' "$t" "${execs:-0}")
"
	elif [ "$rc" -ne 0 ] || grep -q "ERROR: libFuzzer\|panicked\|SUMMARY: " "$log"; then
		sed -n '/panicked at/{N;p;}' "$log" | head -n 4
		grep -E "ERROR: libFuzzer|SUMMARY|Test unit written" "$log" | head -n 4 || true
		echo "fuzz.sh: $t: CRASH after ${execs:-0} executions; input in rust/rnf_core/fuzz/artifacts/$t/"
		failed="$failed $t"
		summary="$summary$(printf '%-16s %12s executions  CRASH' "$t" "${execs:-0}")
"
	else
		took=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -n 1)
		echo "fuzz.sh: $t: ${execs:-0} executions in ${took:-$secs} s, no crash"
		summary="$summary$(printf '%-16s %12s executions  ok' "$t" "${execs:-0}")
"
	fi
done
echo "fuzz.sh: executions per target (${runs:+at most $runs, }${secs} s at most each):"
printf '%s' "$summary"
if [ -n "$failed" ]; then
	echo "fuzz.sh: crashed:$failed"
	exit 1
fi
if [ -n "$interrupted" ]; then
	echo "fuzz.sh: interrupted:$interrupted"
	exit 130
fi
