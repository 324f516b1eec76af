#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Builds the guest helper programs in tests/tools/ (today: rnf-udp) as static
# x86_64 binaries and prints the path of each, one per line. Cargo caches the
# build in tests/tools/target/, so a second run with nothing changed is quick.
#
# Usage: scripts/vm/build-tools.sh
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
tools=$root/tests/tools
target=x86_64-unknown-linux-gnu
tool_names="rnf-udp"

# crt-static links glibc statically: the binary runs in the guest with no
# loader or libraries next to it. --target keeps RUSTFLAGS away from build
# scripts and proc macros (there are none today, but the flag would break them).
RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=+crt-static" \
    cargo build --quiet --release --offline --target "$target" \
    --manifest-path "$tools/Cargo.toml" >&2

for name in $tool_names; do
    bin=$tools/target/$target/release/$name
    # A static binary has no program interpreter (PT_INTERP); file(1) may be
    # missing on a bare machine, the ELF header check below is enough.
    if LC_ALL=C readelf -l "$bin" | grep -q 'INTERP'; then
        echo "build-tools: $bin is dynamically linked" >&2
        exit 1
    fi
    echo "$bin"
done
