#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Lists what dynamically linked programs of another architecture need from an
# unpacked root (Debian packages unpacked with dpkg -x): their program
# interpreter and every shared library, recursively, found where the guest's
# dynamic linker looks (/lib/<triplet>, /usr/lib/<triplet>, /lib, /usr/lib;
# there is no ld.so.cache in the guest). ldd cannot do this: it runs the
# programs. Symlinks are resolved inside ROOT, never on the host.
#
# Usage: scripts/vm/elf-deps.sh ROOT FILE...
#
# Prints one line per file: `GUEST_PATH HOST_PATH`, the path in the guest (as
# the linker asks for it, possibly a symlink's name) and the real file under
# ROOT to copy there. Exits 1, naming them on stderr, if libraries are missing.
set -euo pipefail

[ $# -ge 2 ] || { sed -n '3,16p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
root=$(cd "$1" && pwd)
[ "$root" != / ] || root=
shift

# in_root PATH: the real file under root for the guest path PATH, following
# symlinks (absolute ones relative to root); empty if there is none.
in_root() {
    local path=$1 target n=0
    while [ -L "$root$path" ]; do
        target=$(readlink "$root$path")
        case "$target" in
            /*) path=$target ;;
            *) path=$(dirname "$path")/$target ;;
        esac
        n=$((n + 1))
        [ "$n" -lt 40 ] || return 0
    done
    [ -f "$root$path" ] && echo "$root$path"
    return 0
}

triplet() {
    case "$(LC_ALL=C readelf -h "$1" | sed -n 's/^ *Machine: *//p')" in
        AArch64) echo aarch64-linux-gnu ;;
        *X86-64*) echo x86_64-linux-gnu ;;
        *) echo unknown ;;
    esac
}

todo=("$@")
seen=" "
missing=()
while [ ${#todo[@]} -gt 0 ]; do
    file=${todo[0]}
    todo=("${todo[@]:1}")
    [ -f "$file" ] || { echo "elf-deps: no such file: $file" >&2; exit 2; }
    interp=$(LC_ALL=C readelf -l "$file" | sed -n 's/.*Requesting program interpreter: \(.*\)]$/\1/p')
    if [ -n "$interp" ] && [[ "$seen" != *" $interp "* ]]; then
        seen="$seen$interp "
        real=$(in_root "$interp")
        if [ -n "$real" ]; then echo "$interp $real"; else missing+=("$interp"); fi
    fi
    multiarch=$(triplet "$file")
    for lib in $(LC_ALL=C readelf -d "$file" | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p'); do
        [[ "$seen" == *" $lib "* ]] && continue
        seen="$seen$lib "
        real=
        for dir in "/lib/$multiarch" "/usr/lib/$multiarch" /lib /usr/lib; do
            real=$(in_root "$dir/$lib")
            if [ -n "$real" ]; then
                echo "$dir/$lib $real"
                todo+=("$real")
                break
            fi
        done
        [ -n "$real" ] || missing+=("$lib")
    done
done

if [ ${#missing[@]} -gt 0 ]; then
    echo "elf-deps: not found under $root: ${missing[*]}" >&2
    exit 1
fi
