#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Builds the guest helper programs in tests/tools/ (today: rnf-udp) as static
# binaries for the guest's architecture and prints the path of each, one per
# line. Cargo caches the build in tests/tools/target/, so a second run with
# nothing changed is quick.
#
# Usage: scripts/vm/build-tools.sh [ARCH]    (x86_64 or arm64; default $ARCH,
#                                             else x86_64)
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
tools=$root/tests/tools
arch=${1:-${ARCH:-x86_64}}
tool_names="rnf-udp"

# crt-static links the C library statically: the binary runs in the guest with
# no loader or libraries next to it. On x86_64 that is the host's glibc; arm64
# uses musl, whose libc and start files come with the rustup target (added by
# scripts/setup.sh --arch arm64), linked by the toolchain's own rust-lld, so
# no cross gcc or arm64 libc is needed. --target keeps RUSTFLAGS away from
# build scripts and proc macros (there are none today, but the flag would
# break them).
case "$arch" in
    x86_64) target=x86_64-unknown-linux-gnu ;;
    arm64)
        target=aarch64-unknown-linux-musl
        export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_LINKER=rust-lld
        ;;
    *) echo "build-tools: unsupported ARCH $arch" >&2; exit 2 ;;
esac
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
