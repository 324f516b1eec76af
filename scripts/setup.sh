#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Idempotent set-up for rnf: installs what is missing (Debian packages, rust-src,
# bindgen-cli) and builds the reference kernel of ARCH (x86_64 or arm64) into a
# cache outside the checkout. For arm64 it also installs qemu-system-arm and the
# Rust target of the guest tools, and unpacks Debian's arm64 busybox-static,
# iproute2 and iptables with their libraries into a cache directory (the guest's
# userland; nothing is installed on the host that way). A second run with
# nothing changed installs and rebuilds nothing.
#
# Usage:
#   scripts/setup.sh [--arch ARCH]              install + build (the default)
#   scripts/setup.sh [--arch ARCH] --kdir       print the kernel build directory
#   ... --variant NAME                          the kernel with scripts/kernel/NAME.config
#                                               merged last (bench: no lock debugging;
#                                               `make bench`), cached apart
#   scripts/setup.sh --src                      print the kernel source directory
#   scripts/setup.sh [--arch ARCH] --userland   print the unpacked guest userland
#                                               (empty for x86_64: the host's)
#   scripts/setup.sh --qemu-plugin              fetch QEMU's plugin header (once)
#                                               and print its directory
#
# Environment:
#   RNF_CACHE   cache root (default: ${XDG_CACHE_HOME:-$HOME/.cache}/rnf)
#   JOBS        parallel build jobs (default: nproc + 1)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
RNF_CACHE=${RNF_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/rnf}
ARCH=${ARCH:-x86_64}
VARIANT=
mode=setup

while [ $# -gt 0 ]; do
    case "$1" in
        --arch) ARCH=$2; shift 2 ;;
        --kdir) mode=kdir; shift ;;
        --src) mode=src; shift ;;
        --userland) mode=userland; shift ;;
        --qemu-plugin) mode=qemu_plugin; shift ;;
        --variant) VARIANT=$2; shift 2 ;;
        -h|--help) sed -n '3,26p' "$0"; exit 0 ;;
        *) echo "setup.sh: unknown argument: $1" >&2; exit 2 ;;
    esac
done

# The kernel source package and the bindgen release we build with.
KSRC_PKG=linux-source-6.12
BINDGEN_VERSION=0.73.2
PACKAGES="clang lld llvm libclang-dev flex bison bc libelf-dev libssl-dev cpio kmod
          busybox-static qemu-system-x86 iptables iproute2 make xz-utils python3
          shellcheck gnuplot-nox $KSRC_PKG"

# What only an ARCH other than the host's needs: its emulator, the Rust target
# the guest tools (tests/tools) are cross-built for (musl: rustup ships its libc
# and rust-lld links it, so no cross gcc or libc is needed), and the Debian
# architecture whose packages make up the guest's userland.
case "$ARCH" in
    x86_64) ARCH_PACKAGES="" TOOLS_TARGET="" DEB_ARCH="" ;;
    arm64) ARCH_PACKAGES="qemu-system-arm" TOOLS_TARGET=aarch64-unknown-linux-musl DEB_ARCH=arm64 ;;
    *) echo "setup.sh: unsupported ARCH $ARCH (x86_64 or arm64)" >&2; exit 2 ;;
esac
# The guest's userland for a foreign ARCH: these packages and, recursively,
# the libraries they depend on (guest_package_list). On x86_64 the host's
# busybox-static, iproute2 and iptables are used.
GUEST_PACKAGES="busybox-static iproute2 iptables"

log() { printf 'setup: %s\n' "$*" >&2; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

install_packages() {
    local missing=() p
    for p in $PACKAGES $ARCH_PACKAGES; do
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
    if [ -n "$TOOLS_TARGET" ] && ! rustup target list --installed | grep -qx "$TOOLS_TARGET"; then
        log "adding the Rust target $TOOLS_TARGET (guest tools)"
        rustup target add "$TOOLS_TARGET"
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

# The config fragments, in merge order: the variant's last.
fragments() {
    echo "$here/kernel/rnf.config" "$here/kernel/$ARCH.config"
    if [ -n "$VARIANT" ]; then echo "$here/kernel/$VARIANT.config"; fi
}

# The cache key: everything the kernel build output depends on. Out-of-tree
# Rust modules must be built by the same rustc as the kernel, so its version is
# part of the key, as are clang's and bindgen's.
cache_key() {
    {
        echo "arch=$ARCH"
        echo "src=$(ksrc_version)"
        # shellcheck disable=SC2046 # one word per fragment path
        sha256sum $(fragments) | awk '{print $1}'
        rustc --version
        clang --version | head -n 1
        bindgen --version
    } | sha256sum | cut -c1-16
}

kdir() { echo "$RNF_CACHE/build/$ARCH${VARIANT:+-$VARIANT}-$(cache_key)"; }

kernel_make() {
    make -s -C "$(src_dir)" O="$1" LLVM=1 ARCH="$ARCH" "${@:2}"
}

build_kernel() {
    local out jobs missing image
    out=$(kdir)
    [ -f "$out/.rnf-complete" ] && return 0
    jobs=${JOBS:-$(( $(nproc) + 1 ))}
    log "building the $ARCH${VARIANT:+ $VARIANT} reference kernel in $out (takes about 5-15 minutes)"
    rm -rf "$out" && mkdir -p "$out"
    kernel_make "$out" tinyconfig >/dev/null
    # shellcheck disable=SC2046 # one word per fragment path
    "$(src_dir)/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" $(fragments) >/dev/null
    kernel_make "$out" olddefconfig >/dev/null
    # Every option the fragments set or unset must have survived olddefconfig
    # (a later fragment's line wins over an earlier one's).
    # shellcheck disable=SC2046
    missing=$(grep -hE '^CONFIG_[A-Z0-9_]+=[ym]|^# CONFIG_[A-Z0-9_]+ is not set' $(fragments) |
              while read -r line; do
                  opt=$(echo "$line" | grep -oE 'CONFIG_[A-Z0-9_]+')
                  last=$(grep -hE "^$opt=|^# $opt is not set" $(fragments) | tail -n 1)
                  [ "$line" = "$last" ] || continue
                  case "$line" in
                      "# "*) ! grep -q "^$opt=" "$out/.config" || echo "$line" ;;
                      *) grep -qx "$line" "$out/.config" || echo "$line" ;;
                  esac
              done)
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

# The unpacked guest userland of a foreign ARCH, keyed by the package list.
userland_dir() {
    [ -n "$DEB_ARCH" ] || return 0
    echo "$RNF_CACHE/userland/$DEB_ARCH-$(echo "$GUEST_PACKAGES" | sha256sum | cut -c1-16)"
}

# guest_package_list: GUEST_PACKAGES and, recursively, the packages of
# DEB_ARCH they depend on. A dependency another architecture can satisfy (a
# virtual package or a Multi-Arch: foreign one such as debconf) is shown as
# <name:arch> or without the arch suffix and not followed: the guest needs the
# libraries, not the tools that install packages. One apt-cache call: each one
# re-reads every package list (here several seconds).
guest_package_list() {
    local roots=() p
    for p in $GUEST_PACKAGES; do roots+=("$p:$DEB_ARCH"); done
    apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts \
        --no-breaks --no-replaces --no-enhances "${roots[@]}" 2>/dev/null |
    awk -v roots="$GUEST_PACKAGES" -v sfx=":$DEB_ARCH" '
        /^[^ ]/ { cur = $1; sub(sfx "$", "", cur); next }
        /^ [ |](Pre)?Depends: [^<]/ && substr($2, length($2) - length(sfx) + 1) == sfx {
            deps[cur] = deps[cur] " " substr($2, 1, length($2) - length(sfx))
        }
        END {
            n = split(roots, todo, " ")
            for (i = 1; i <= n; i++) {
                p = todo[i]
                if (p in seen) continue
                seen[p] = 1; out = out " " p
                m = split(deps[p], ds, " ")
                for (j = 1; j <= m; j++) todo[++n] = ds[j]
            }
            print substr(out, 2)
        }'
}

fetch_userland() {
    local dir pkgs deb p
    dir=$(userland_dir)
    [ -n "$dir" ] || return 0
    [ -f "$dir/.rnf-complete" ] && return 0
    if ! dpkg --print-foreign-architectures | grep -qx "$DEB_ARCH"; then
        log "adding the Debian architecture $DEB_ARCH (for apt-get download only)"
        as_root dpkg --add-architecture "$DEB_ARCH"
        as_root apt-get update -qq
    fi
    pkgs=$(guest_package_list)
    case " $pkgs " in
        *" libc6 "*) ;;
        *) as_root apt-get update -qq; pkgs=$(guest_package_list) ;;
    esac
    log "unpacking Debian $DEB_ARCH packages into $dir: $pkgs"
    rm -rf "$dir" && mkdir -p "$dir/debs" "$dir/root"
    local names=()
    for p in $pkgs; do names+=("$p:$DEB_ARCH"); done
    (cd "$dir/debs" && apt-get download -qq -o APT::Sandbox::User=root "${names[@]}" >/dev/null)
    for deb in "$dir"/debs/*.deb; do
        dpkg -x "$deb" "$dir/root"
    done
    # Every library the guest's dynamically linked programs need must be there.
    if ! "$here/vm/elf-deps.sh" "$dir/root" "$dir/root/bin/ip" \
            "$dir/root/usr/sbin/xtables-legacy-multi" >/dev/null; then
        log "the unpacked $DEB_ARCH userland is incomplete (see above)"
        exit 1
    fi
    rm -rf "$dir/debs"
    touch "$dir/.rnf-complete"
}

# QEMU's TCG plugin header (include/qemu/qemu-plugin.h, which Debian does
# not install) for the bench's instruction profile (tests/bench/insn_profile.c):
# taken from the Debian source package of the installed QEMU, fetched with
# apt-get source through a private deb-src copy of the system's sources
# (nothing in /etc/apt changes; ~24 MB, a few seconds), unpacked with its
# patches, and cached by version; the rest of the source is dropped.
qemu_plugin_dir() {
    local ver
    ver=$(dpkg-query -W -f='${source:Version}' qemu-system-common 2>/dev/null) || return 0
    echo "$RNF_CACHE/qemu-plugin/${ver#*:}"
}

fetch_qemu_plugin_header() {
    local dir ver tmp f apt_opts
    dir=$(qemu_plugin_dir)
    [ -n "$dir" ] || { log "no qemu-system-common installed: no QEMU plugin header"; return 1; }
    [ -f "$dir/qemu-plugin.h" ] && return 0
    ver=$(dpkg-query -W -f='${source:Version}' qemu-system-common)
    tmp=$(mktemp -d)
    mkdir -p "$tmp/sources" "$tmp/lists/partial" "$tmp/cache/archives/partial" "$tmp/src"
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        case "$f" in
            *.list) sed -n 's/^deb \(.*\)/deb-src \1/p' "$f" >"$tmp/sources/$(basename "$f")" ;;
            *.sources) sed 's/^Types: .*/Types: deb-src/' "$f" >"$tmp/sources/$(basename "$f")" ;;
        esac
    done
    apt_opts=(-o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts="$tmp/sources"
        -o Dir::State::Lists="$tmp/lists" -o Dir::Cache="$tmp/cache" -o Debug::NoLocking=1
        -o APT::Sandbox::User=root)
    log "fetching QEMU's source package (qemu $ver) for include/qemu/qemu-plugin.h"
    if apt-get "${apt_opts[@]}" update -qq >/dev/null &&
        (cd "$tmp/src" && apt-get "${apt_opts[@]}" source -qq --download-only "qemu=$ver" >/dev/null) &&
        dpkg-source -x "$tmp"/src/qemu_*.dsc "$tmp/src/tree" >/dev/null 2>&1 &&
        [ -f "$tmp/src/tree/include/qemu/qemu-plugin.h" ]; then
        mkdir -p "$dir"
        cp "$tmp/src/tree/include/qemu/qemu-plugin.h" "$dir/"
        rm -rf "$tmp"
        log "QEMU plugin header: $dir/qemu-plugin.h"
        return 0
    fi
    rm -rf "$tmp"
    log "could not fetch the source of qemu $ver: no QEMU plugin header"
    return 1
}

case "$mode" in
    kdir) kdir ;;
    qemu_plugin) fetch_qemu_plugin_header && qemu_plugin_dir ;;
    src) src_dir ;;
    userland) userland_dir ;;
    setup)
        install_packages
        install_rust_parts
        fetch_userland
        unpack_source
        build_kernel
        ;;
esac
