#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The built modules' calls into Rust's panic machinery: kernel code never
# panics on input, so no function in an rnf module may call a panic entry
# point of `core` (the overflow checks of CONFIG_RUST_OVERFLOW_CHECKS, bounds
# checks, slice-range and copy_from_slice length checks, unwrap) unless it is
# on the allowlist below, each entry with its reason.
#
# Usage: tests/tools/panic-sites.sh [-v] ARCH MODDIR
#   ARCH    x86_64 (calls are R_X86_64_PLT32 relocations) or arm64
#           (R_AARCH64_CALL26 / R_AARCH64_JUMP26)
#   MODDIR  the built modules, e.g. build/x86_64 (make print-moddir)
#   -v      also list the allowed functions, with their counts and reasons
#
# Prints, per module, `PASS: ARCH: panic-sites: MODULE`, or one
# `FAIL: ARCH: panic-sites: MODULE: N calls in FUNCTION` per function not
# allowed (names demangled by rustfilt); exits 1 if any failed, 2 on a
# usage or tool error. Needs llvm-objdump (the build's LLVM=1 toolchain).
set -uo pipefail

verbose=0
[ "${1:-}" = -v ] && { verbose=1; shift; }
[ $# -eq 2 ] || { echo "usage: $0 [-v] ARCH MODDIR" >&2; exit 2; }
arch=$1
moddir=$2

case $arch in
    x86_64) calls='R_X86_64_PLT32' ;;
    arm64) calls='R_AARCH64_(CALL|JUMP)26' ;;
    *) echo "panic-sites.sh: unknown ARCH '$arch' (x86_64 or arm64)" >&2; exit 2 ;;
esac

# The panic entry points, demangled: everything in core::panicking, and the
# out-of-line failure paths of slice and str indexing, copy_from_slice,
# unwrap/expect and RefCell, which panic without going through a
# core::panicking call in the module.
panics='^(core::panicking::|core::slice::index::slice_[a-z_]*fail|core::str::slice_error_fail|core::slice::copy_from_slice_impl::len_mismatch_fail|core::option::(unwrap|expect)_failed|core::result::unwrap_failed|core::cell::panic_already_)'

# The allowlist: an extended regular expression matched against the
# demangled name of the calling function, then ` ## ` and why its panics cannot
# be reached from input. Keep it short; change rnf's code instead where that
# is possible.
allow=(
    # The function's own path, not a type argument: log_packet::<selftest::Rec>
    # is log_packet and must be clean like every other instance of it.
    '^<?[a-z_]+_main::([a-z_]+::)*selftest(_[a-z]+)?:: ## KUnit self-tests (rnf_core selftest, selftest_router, selftest_mangle): run once at load on fixed data'
    '^[a-z_]+_main::glue::kvec::(push|extend_from_slice)::< ## rust/glue/kvec.rs, the out-of-line wrappers of the kernel crate'"'"'s Vec::push and Vec::extend_from_slice (rust/kernel/alloc/kvec.rs), through which rnf grows every vector: their cap - len, cap * 2 and len + n hold by the invariant len <= cap <= isize::MAX and the reserve() that succeeded before them'
    '^<kernel::alloc::kvec::Vec<.*>>::(push|extend_from_slice)$ ## the same kernel crate functions where the compiler keeps them out of line'
)

command -v llvm-objdump >/dev/null 2>&1 ||
    { echo "panic-sites.sh: llvm-objdump not found (install llvm)" >&2; exit 2; }
if ! command -v rustfilt >/dev/null 2>&1; then
    PATH=$PATH:$HOME/.cargo/bin
    if ! command -v rustfilt >/dev/null 2>&1; then
        echo "panic-sites.sh: installing rustfilt from crates.io" >&2
        cargo install --quiet --locked rustfilt >&2 ||
            { echo "panic-sites.sh: rustfilt not available" >&2; exit 2; }
    fi
fi

shopt -s nullglob
kos=("$moddir"/*.ko)
if [ ${#kos[@]} -eq 0 ]; then
    echo "FAIL: $arch: panic-sites: $moddir: no modules built there"
    exit 1
fi

allow_re=()
allow_why=()
for a in "${allow[@]}"; do
    allow_re+=("${a%% ## *}")
    allow_why+=("${a#* ## }")
done

failed=0
for ko in "${kos[@]}"; do
    mod=$(basename "$ko" .ko)
    # "count<TAB>function" for every function calling a panic entry point.
    if ! dis=$(llvm-objdump -dr --no-show-raw-insn "$ko"); then
        echo "FAIL: $arch: panic-sites: $mod: llvm-objdump failed"
        failed=1
        continue
    fi
    sites=$(printf '%s\n' "$dis" | awk -v calls="^$calls\$" '
        /^[0-9a-f]+ <.*>:$/ { f = substr($2, 2, length($2) - 3); next }
        $2 ~ calls { s = $3; sub(/[-+]0x[0-9a-f]+$/, "", s); print f "\t" s }' |
        rustfilt | awk -F'\t' -v panics="$panics" '
        $2 ~ panics { n[$1]++ }
        END { for (f in n) print n[f] "\t" f }' | sort -t"$(printf '\t')" -k1,1nr -k2)
    bad=0
    while IFS=$'\t' read -r n f; do
        [ -n "$f" ] || continue
        why=
        for i in "${!allow_re[@]}"; do
            if [[ $f =~ ${allow_re[$i]} ]]; then
                why=${allow_why[$i]}
                break
            fi
        done
        if [ -n "$why" ]; then
            [ "$verbose" = 1 ] && echo "allowed: $arch: panic-sites: $mod: $n calls in $f ($why)"
        else
            echo "FAIL: $arch: panic-sites: $mod: $n calls in $f"
            bad=1
        fi
    done <<<"$sites"
    if [ "$bad" = 0 ]; then
        echo "PASS: $arch: panic-sites: $mod"
    else
        failed=1
    fi
done
exit "$failed"
