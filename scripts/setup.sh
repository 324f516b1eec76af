#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Idempotent set-up for rnf: installs what is missing (Debian packages, rust-src,
# bindgen-cli) and builds the reference kernel into a cache outside the checkout.
# A second run with nothing changed installs and rebuilds nothing.
#
# Usage:
#   scripts/setup.sh [--arch ARCH]          install + build (the default)
#   scripts/setup.sh [--arch ARCH] --kdir   print the kernel build directory
#   scripts/setup.sh --src                  print the kernel source directory
#
# Environment:
#   RNF_CACHE   cache root (default: ${XDG_CACHE_HOME:-$HOME/.cache}/rnf)
#   JOBS        parallel build jobs (default: nproc + 1)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
RNF_CACHE=${RNF_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/rnf}
ARCH=${ARCH:-x86_64}
mode=setup

while [ $# -gt 0 ]; do
    case "$1" in
        --arch) ARCH=$2; shift 2 ;;
        --kdir) mode=kdir; shift ;;
        --src) mode=src; shift ;;
        -h|--help) sed -n '3,17p' "$0"; exit 0 ;;
        *) echo "setup.sh: unknown argument: $1" >&2; exit 2 ;;
    esac
done

# The kernel source package and the bindgen release we build with.
KSRC_PKG=linux-source-6.12
BINDGEN_VERSION=0.73.2
PACKAGES="clang lld llvm libclang-dev flex bison bc libelf-dev libssl-dev cpio kmod
          busybox-static qemu-system-x86 iptables iproute2 make xz-utils python3
          shellcheck $KSRC_PKG"

log() { printf 'setup: %s\n' "$*" >&2; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

install_packages() {
    local missing=() p
    for p in $PACKAGES; do
        if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
            missing+=("$p")
        fi
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    log "installing Debian packages: ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >/dev/null
}

install_rust_parts() {
    local sysroot
    sysroot=$(rustc --print sysroot)
    if [ ! -d "$sysroot/lib/rustlib/src/rust/library" ]; then
        log "adding rust-src"
        rustup component add rust-src
    fi
    if ! command -v bindgen >/dev/null 2>&1 ||
       [ "$(bindgen --version | awk '{print $2}')" != "$BINDGEN_VERSION" ]; then
        log "installing bindgen-cli $BINDGEN_VERSION from crates.io"
        cargo install --quiet --locked bindgen-cli --version "$BINDGEN_VERSION"
    fi
}

ksrc_version() { dpkg-query -W -f='${Version}' "$KSRC_PKG"; }

src_dir() { echo "$RNF_CACHE/src/$KSRC_PKG-$(ksrc_version)"; }

unpack_source() {
    local dir tarball
    dir=$(src_dir)
    [ -f "$dir/.rnf-unpacked" ] && return 0
    tarball=/usr/src/$KSRC_PKG.tar.xz
    log "unpacking $tarball into $dir"
    rm -rf "$dir" && mkdir -p "$dir"
    tar -xf "$tarball" -C "$dir" --strip-components=1
    touch "$dir/.rnf-unpacked"
}

# The cache key: everything the kernel build output depends on. Out-of-tree
# Rust modules must be built by the same rustc as the kernel, so its version is
# part of the key, as are clang's and bindgen's.
cache_key() {
    {
        echo "arch=$ARCH"
        echo "src=$(ksrc_version)"
        sha256sum "$here/kernel/rnf.config" "$here/kernel/$ARCH.config" | awk '{print $1}'
        rustc --version
        clang --version | head -n 1
        bindgen --version
    } | sha256sum | cut -c1-16
}

kdir() { echo "$RNF_CACHE/build/$ARCH-$(cache_key)"; }

kernel_make() {
    local kernel_arch=$ARCH
    [ "$ARCH" = x86_64 ] || [ "$ARCH" = arm64 ] || { log "unsupported ARCH $ARCH"; exit 2; }
    make -s -C "$(src_dir)" O="$1" LLVM=1 ARCH="$kernel_arch" "${@:2}"
}

build_kernel() {
    local out jobs missing image
    out=$(kdir)
    [ -f "$out/.rnf-complete" ] && return 0
    jobs=${JOBS:-$(( $(nproc) + 1 ))}
    log "building the $ARCH reference kernel in $out (takes about 4-5 minutes)"
    rm -rf "$out" && mkdir -p "$out"
    kernel_make "$out" tinyconfig >/dev/null
    "$(src_dir)/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" \
        "$here/kernel/rnf.config" "$here/kernel/$ARCH.config" >/dev/null
    kernel_make "$out" olddefconfig >/dev/null
    # Every option the fragments ask for must have survived olddefconfig.
    missing=$(grep -hE '^CONFIG_[A-Z0-9_]+=[ym]' "$here/kernel/rnf.config" "$here/kernel/$ARCH.config" |
              while read -r line; do grep -qx "$line" "$out/.config" || echo "$line"; done)
    if [ -n "$missing" ]; then
        log "these options did not survive olddefconfig:"; echo "$missing" >&2
        exit 1
    fi
    case "$ARCH" in x86_64) image=bzImage ;; arm64) image=Image ;; esac
    kernel_make "$out" -j"$jobs" "$image" modules
    kernel_make "$out" INSTALL_MOD_PATH="$out/modroot" modules_install >/dev/null
    touch "$out/.rnf-complete"
    log "kernel ready: $out"
}

case "$mode" in
    kdir) kdir ;;
    src) src_dir ;;
    setup)
        install_packages
        install_rust_parts
        unpack_source
        build_kernel
        ;;
esac
