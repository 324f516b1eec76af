#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Builds the test guest's initramfs: a gzip'd newc cpio archive. No root needed.
#
# Usage:
#   scripts/vm/mkinitramfs.sh -o OUT.cpio.gz [options]
#
#   -o OUT        the archive to write (its directory also holds the staging dir)
#   -a ARCH       the guest's architecture: x86_64 (default: $ARCH, else x86_64)
#                 or arm64
#   -m FILE.ko    a module of the project, placed in /lib/rnf/ (repeatable)
#   -k DIR        a directory of kernel modules, copied to /lib/kmods/ keeping
#                 relative paths
#   -b BINARY     a host binary, copied to /usr/bin/ with every shared library
#                 ldd lists and its ELF interpreter, at their host paths
#                 (repeatable). For arm64, BINARY is looked up in the unpacked
#                 arm64 userland first (so /usr/sbin/xtables-legacy-multi names
#                 the arm64 one) and its libraries always come from there.
#   -f SRC:DST    a file or directory copied to DST in the guest (repeatable);
#                 symlinks inside a directory are kept as symlinks
#
# Always included: /init (scripts/vm/init), /bin/busybox (Debian
# busybox-static) with a symlink per applet except `ip`, iproute2's `ip` at
# /usr/bin/ip, and the tools scripts/vm/build-tools.sh builds (rnf-udp). On
# x86_64 busybox and ip are the host's; on arm64 they come from the Debian
# arm64 packages scripts/setup.sh --arch arm64 unpacked (its --userland), and
# the applet list is the host busybox's (the same Debian version: an arm64
# binary cannot run here to list its own).
#
# Beware: Debian's busybox ash runs its own applets before searching PATH
# (FEATURE_SH_STANDALONE), so in a guest script a bare `ip` is busybox's ip
# whatever PATH says. Call /usr/bin/ip (tests/guest/lib.sh defines an `ip`
# function that does). Programs that exec by PATH (`ip netns exec NS ip ...`,
# `env`, `xargs`) do find /usr/bin/ip, because there is no /bin/ip symlink.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)

die() { echo "mkinitramfs: $*" >&2; exit 2; }

out=
arch=${ARCH:-x86_64}
modules=()
kmod_dir=
binaries=()
files=()
while getopts "o:a:m:k:b:f:h" opt; do
    case "$opt" in
        o) out=$OPTARG ;;
        a) arch=$OPTARG ;;
        m) modules+=("$OPTARG") ;;
        k) kmod_dir=$OPTARG ;;
        b) binaries+=("$OPTARG") ;;
        f) files+=("$OPTARG") ;;
        h) sed -n '3,35p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) die "see -h" ;;
    esac
done
shift $((OPTIND - 1))
[ $# -eq 0 ] || die "unexpected argument: $1"
[ -n "$out" ] || die "-o OUT is required"

has_interp() { LC_ALL=C readelf -l "$1" 2>/dev/null | grep -q 'Requesting program interpreter'; }

host_busybox=$(command -v busybox) || die "busybox not found (Debian package busybox-static)"
case "$arch" in
    x86_64)
        userland=
        busybox=$host_busybox
        ip_bin=$(PATH=/usr/sbin:/sbin:/usr/bin:/bin command -v ip) || die "ip not found (Debian package iproute2)"
        ;;
    arm64)
        userland=$("$here/../setup.sh" --arch "$arch" --userland)
        [ -f "$userland/.rnf-complete" ] ||
            die "no arm64 userland in $userland: run scripts/setup.sh --arch arm64"
        userland=$userland/root
        busybox=$userland/bin/busybox
        ip_bin=$userland/bin/ip
        ;;
    *) die "-a: unsupported ARCH $arch (x86_64 or arm64)" ;;
esac
has_interp "$busybox" && die "$busybox is dynamically linked; install busybox-static"
mapfile -t tools < <("$here/build-tools.sh" "$arch")

out_dir=$(cd "$(dirname "$out")" && pwd) || die "no such directory: $(dirname "$out")"
out=$out_dir/$(basename "$out")
stage=$(mktemp -d "$out_dir/.initramfs-stage.XXXXXX")
trap 'rm -rf "$stage"' EXIT

# Copies SRC (dereferenced) to the guest path DST, replacing whatever is there:
# a plain cp onto a busybox applet symlink would overwrite busybox itself.
put() {
    local src=$1 dst=$stage/${2#/}
    mkdir -p "$(dirname "$dst")"
    rm -f "$dst"
    cp -L "$src" "$dst"
}

# Copies a host binary to /usr/bin with its libraries and interpreter.
put_binary() {
    local bin=$1 lib interp
    [ -z "$userland" ] || { put_foreign_binary "$bin"; return; }
    [ -f "$bin" ] || die "no such binary: $bin"
    put "$bin" "/usr/bin/$(basename "$bin")"
    chmod 755 "$stage/usr/bin/$(basename "$bin")"
    has_interp "$bin" || return 0
    # ldd prints "name => /path (addr)" per library and "/path (addr)" for the
    # interpreter; vdso lines have no path.
    for lib in $(ldd "$bin" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'); do
        [ -e "$stage$lib" ] || put "$lib" "$lib"
    done
    interp=$(LC_ALL=C readelf -l "$bin" | sed -n 's/.*Requesting program interpreter: \(.*\)]$/\1/p')
    [ -e "$stage$interp" ] || put "$interp" "$interp"
}

# The same for another architecture: BINARY from the unpacked userland when it
# is there, with its libraries and interpreter from there (scripts/vm/elf-deps.sh).
put_foreign_binary() {
    local bin=$1 dst lib real
    [ -f "$userland$bin" ] && bin=$userland$bin
    [ -f "$bin" ] || die "no such binary: $1 (looked in $userland too)"
    dst=/usr/bin/$(basename "$bin")
    put "$bin" "$dst"
    chmod 755 "$stage$dst"
    has_interp "$bin" || return 0
    "$here/elf-deps.sh" "$userland" "$bin" >"$stage/.deps" || die "libraries of $bin missing"
    while read -r lib real; do
        [ -e "$stage$lib" ] || put "$real" "$lib"
    done <"$stage/.deps"
    rm -f "$stage/.deps"
}

mkdir -p "$stage"/{bin,sbin,usr/bin,usr/sbin,lib/rnf,proc,sys,dev,run,tmp,root,etc,var}
ln -s ../run "$stage/var/run"

put "$busybox" /bin/busybox
# Applets at their usual paths (bin/ls, usr/bin/awk, sbin/reboot, ...), except
# ip: iproute2's ip is needed for `ip netns` and veth.
while read -r applet; do
    case "$applet" in */ip|*/busybox|"") continue ;; esac
    [ -e "$stage/$applet" ] || ln -s /bin/busybox "$stage/$applet"
done < <("$host_busybox" --list-full)

put "$here/init" /init
chmod 755 "$stage/init"
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$stage/etc/passwd"
printf 'root:x:0:\n' >"$stage/etc/group"
printf '127.0.0.1 localhost\n::1 localhost\n' >"$stage/etc/hosts"

for bin in "$ip_bin" "${tools[@]}" "${binaries[@]}"; do
    put_binary "$bin"
done

for mod in "${modules[@]}"; do
    [ -f "$mod" ] || die "no such module: $mod"
    put "$mod" "/lib/rnf/$(basename "$mod")"
done

if [ -n "$kmod_dir" ]; then
    [ -d "$kmod_dir" ] || die "no such directory: $kmod_dir"
    mkdir -p "$stage/lib/kmods"
    cp -a "$kmod_dir/." "$stage/lib/kmods/"
fi

for spec in "${files[@]}"; do
    src=${spec%%:*}
    dst=${spec#*:}
    if [ "$src" = "$spec" ] || [ -z "$dst" ]; then
        die "-f wants SRC:DST, got $spec"
    fi
    if [ -d "$src" ]; then
        mkdir -p "$stage/${dst#/}"
        cp -a "$src/." "$stage/${dst#/}/"
    elif [ -e "$src" ]; then
        put "$src" "$dst"
    else
        die "no such file: $src"
    fi
done

# One newc entry (header, name, padding) with no data: for device nodes, which
# GNU cpio can only archive from a real node, and only root can mknod one.
ino=0
newc_entry() {
    local name=$1 mode=$2 nlink=$3 rmajor=$4 rminor=$5 namesize
    namesize=$((${#name} + 1))
    ino=$((ino + 1))
    printf '070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X' \
        "$ino" "$mode" 0 0 "$nlink" 0 0 0 0 "$rmajor" "$rminor" "$namesize" 0
    printf '%s\0' "$name"
    head -c $(((4 - (110 + namesize) % 4) % 4)) /dev/zero
}

# The kernel opens /dev/console for init before anything is mounted, so the
# node must be in the archive. The kernel unpacks concatenated archives in
# order, so a tiny hand-written one goes first.
{
    newc_entry dev $((8#040755)) 2 0 0
    newc_entry dev/console $((8#020600)) 1 5 1
    newc_entry 'TRAILER!!!' 0 1 0 0
    (cd "$stage" && find . -mindepth 1 -printf '%P\n' | LC_ALL=C sort |
        cpio -o -H newc -R 0:0 --reproducible --quiet)
} | gzip -n -6 >"$out.tmp"
mv "$out.tmp" "$out"
echo "mkinitramfs: $out ($(du -k "$out" | cut -f1) KiB)" >&2
