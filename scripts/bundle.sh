#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Packages the built modules for a firmware root: a tarball to unpack at the
# root (`make bundle`), or the same files written into a root directory
# (`make modules_install INSTALL_MOD_PATH=<root>`).
#
# Usage:
#   scripts/bundle.sh --ko-dir DIR --out FILE.tar.gz|DIR [--release R] [--arch A]
#   scripts/bundle.sh --ko-dir DIR --install ROOT [--release R]
#
#   --ko-dir DIR   the built modules: every DIR/*.ko
#   --out          write the tarball to FILE, or to
#                  DIR/rnf-bundle-<release>-<arch>.tar.gz; prints its path
#   --install      write the files into ROOT ("" or / is the running system);
#                  an existing ROOT/etc/rnf/modload.conf is kept; if
#                  ROOT/lib/modules/<release>/modules.dep exists and depmod is
#                  installed, depmod runs over ROOT (as kbuild's modules_install)
#   --release R    the kernel release (default: from the modules' vermagic)
#   --arch A       the name in the tarball's name (default: from the modules'
#                  ELF machine, in the kernel's ARCH terms: x86_64, arm64, ...)
#
# The layout, the same in both cases (R: the kernel release):
#   lib/modules/R/extra/NAME.ko      the modules; rnf-modload's default pool
#                                    is /lib/modules/$(uname -r), so a
#                                    release that does not match the running
#                                    kernel is never loaded by accident
#   sbin/rnf-modload                 the loader
#   etc/modules-load.d/rnf.conf      the modules wanted at boot (modules-load.d)
#   etc/rnf/modload.conf             the options file: every parameter of every
#                                    module, described and commented out
#   usr/share/rnf/MANIFEST           one line per module, tab separated:
#                                    name, vermagic, depends ("-": none),
#                                    sha256 of the .ko, its path in the root
#   usr/share/rnf/rnf-modules.service, usr/share/rnf/rnf-modules.init
#                                    boot hook examples (systemd, busybox init)
#
# The tarball holds files only (no directory entries, so unpacking does not
# touch the modes of existing directories), owned by 0:0, sorted, with one
# mtime (SOURCE_DATE_EPOCH, or the newest input file): the same inputs give
# the same bytes. The .modinfo strings are read with the loader's own reader
# (scripts/rnf-modload --modinfo), the one the target uses.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
loader=$root/scripts/rnf-modload

die() { echo "bundle: $*" >&2; exit 2; }

ko_dir='' out='' install='' install_set=0 release='' arch=''
while [ $# -gt 0 ]; do
    case "$1" in
        --ko-dir|--out|--install|--release|--arch)
            [ $# -ge 2 ] || die "$1 needs a value"
            case "$1" in
                --ko-dir) ko_dir=$2 ;;
                --out) out=$2 ;;
                --install) install=$2; install_set=1 ;;
                --release) release=$2 ;;
                --arch) arch=$2 ;;
            esac
            shift 2 ;;
        -h|--help) sed -n '3,44p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown argument: $1 (see -h)" ;;
    esac
done
[ -n "$ko_dir" ] || die "--ko-dir DIR is required"
[ -d "$ko_dir" ] || die "no such directory: $ko_dir"
if [ -n "$out" ] && [ "$install_set" -eq 1 ]; then die "--out and --install exclude each other"; fi
if [ -z "$out" ] && [ "$install_set" -eq 0 ]; then die "one of --out or --install is required"; fi

mapfile -t kos < <(find "$ko_dir" -maxdepth 1 -name '*.ko' -type f | LC_ALL=C sort)
[ "${#kos[@]}" -gt 0 ] || die "no .ko files in $ko_dir (run make first)"

work=$(mktemp -d "${TMPDIR:-/tmp}/rnf-bundle.XXXXXX")
trap 'rm -rf "$work"' EXIT

# field FILE KEY: the first KEY= string of FILE's .modinfo.
field() {
    sed -n "s/^$2=//p" "$work/info/$(basename "$1")" | head -n 1
}

# machine FILE: the ELF machine of FILE in kernel ARCH terms.
machine() {
    local data b m
    read -r data < <(od -An -tu1 -j5 -N1 "$1")
    read -r -a b < <(od -An -tu1 -j18 -N2 "$1")
    if [ "$data" = 2 ]; then m=$((b[0] * 256 + b[1])); else m=$((b[1] * 256 + b[0])); fi
    case "$m" in
        3) echo x86 ;;
        62) echo x86_64 ;;
        40) echo arm ;;
        183) echo arm64 ;;
        8) echo mips ;;
        20|21) echo powerpc ;;
        243) echo riscv ;;
        22) echo s390 ;;
        *) echo "elf$m" ;;
    esac
}

mkdir -p "$work/info"
rel_seen='' arch_seen=''
for ko in "${kos[@]}"; do
    RNF_MODINFO='' sh "$loader" --modinfo "$ko" >"$work/info/$(basename "$ko")" ||
        die "cannot read the .modinfo of $ko"
    r=$(field "$ko" vermagic | cut -d' ' -f1)
    [ -n "$r" ] || die "$ko has no vermagic"
    [ -z "$rel_seen" ] || [ "$r" = "$rel_seen" ] || die "$ko is for $r, the others for $rel_seen"
    rel_seen=$r
    a=$(machine "$ko")
    [ -z "$arch_seen" ] || [ "$a" = "$arch_seen" ] || die "$ko is for $a, the others for $arch_seen"
    arch_seen=$a
done
release=${release:-$rel_seen}
arch=${arch:-$arch_seen}
moddir=lib/modules/$release/extra

# The options file: per module its description, then per parameter its type
# and description and a commented-out line to copy.
options_file() {
    local ko name
    cat <<'EOF'
# /etc/rnf/modload.conf: module parameters for rnf-modload (modprobe.d syntax).
#
#   options NAME key=value ...   passed to insmod each time NAME is loaded
#   blacklist NAME               never load NAME
#
# Every line below is commented out, so each module's own default applies.
# To set a parameter, remove the "#" of its line and put a value in place of
# <type>. Several parameters of one module can share one options line.
# `rnf-modload --save NAME` writes NAME's current writable parameters
# (/sys/module/NAME/parameters) into this file as one options line, keeping
# what its earlier lines set for the others. Generated by scripts/bundle.sh
# from the parm= descriptions in each module's .modinfo.
EOF
    for ko in "${kos[@]}"; do
        name=$(field "$ko" name)
        name=${name:-$(basename "$ko" .ko)}
        echo
        echo "# --- $name: $(field "$ko" description)"
        awk -F= -v name="$name" '
            $1 == "parm" || $1 == "parmtype" {
                v = substr($0, length($1) + 2); p = v; sub(/:.*/, "", p)
                d = substr(v, length(p) + 2)
                if (!(p in seen)) { seen[p] = 1; order[++n] = p }
                if ($1 == "parm") desc[p] = d; else type[p] = d
            }
            END {
                if (n == 0) print "# (no parameters)"
                for (i = 1; i <= n; i++) {
                    p = order[i]; t = (p in type) ? type[p] : "value"
                    printf "# %s (%s): %s\n", p, t, (p in desc) ? desc[p] : "(no description)"
                    printf "#options %s %s=<%s>\n", name, p, t
                }
            }' "$work/info/$(basename "$ko")"
    done
}

# manifest: one line per module (see the top of this file).
manifest() {
    local ko name vermagic depends sum
    printf '# rnf bundle for Linux %s (%s): name<TAB>vermagic<TAB>depends<TAB>sha256<TAB>path\n' \
        "$release" "$arch"
    for ko in "${kos[@]}"; do
        name=$(field "$ko" name)
        vermagic=$(field "$ko" vermagic | sed 's/[[:space:]]*$//')
        depends=$(field "$ko" depends)
        sum=$(sha256sum "$ko" | cut -d' ' -f1)
        printf '%s\t%s\t%s\t%s\t%s\n' "${name:-$(basename "$ko" .ko)}" "$vermagic" \
            "${depends:--}" "$sum" "$moddir/$(basename "$ko")"
    done
}

# stage DIR: write the layout into DIR; keep_options=1 keeps an existing
# options file.
stage() {
    local dest=$1 keep_options=${2:-0} ko
    for ko in "${kos[@]}"; do
        install -D -m 0644 "$ko" "$dest/$moddir/$(basename "$ko")"
    done
    install -D -m 0755 "$loader" "$dest/sbin/rnf-modload"
    install -D -m 0644 "$root/modules-load.d/rnf.conf" "$dest/etc/modules-load.d/rnf.conf"
    install -D -m 0644 "$root/modules-load.d/rnf-modules.service" "$dest/usr/share/rnf/rnf-modules.service"
    install -D -m 0755 "$root/modules-load.d/rnf-modules.init" "$dest/usr/share/rnf/rnf-modules.init"
    options_file >"$work/modload.conf"
    if [ "$keep_options" -eq 1 ] && [ -e "$dest/etc/rnf/modload.conf" ]; then
        echo "bundle: kept the existing ${dest%/}/etc/rnf/modload.conf" >&2
    else
        install -D -m 0644 "$work/modload.conf" "$dest/etc/rnf/modload.conf"
    fi
    manifest >"$work/MANIFEST"
    install -D -m 0644 "$work/MANIFEST" "$dest/usr/share/rnf/MANIFEST"
}

if [ "$install_set" -eq 1 ]; then
    dest=${install:-/}
    mkdir -p "$dest"
    stage "$dest" 1
    if [ -f "$dest/lib/modules/$release/modules.dep" ] && command -v depmod >/dev/null; then
        depmod -b "$dest" "$release"
    fi
    echo "bundle: installed the modules for $release in ${dest%/}/$moddir" >&2
    exit 0
fi

if [ -d "$out" ]; then out=${out%/}/rnf-bundle-$release-$arch.tar.gz; fi
stage "$work/root"
epoch=${SOURCE_DATE_EPOCH:-$(stat -c %Y "${kos[@]}" "$loader" "$root"/modules-load.d/* | sort -n | tail -n 1)}
(cd "$work/root" && find . -type f -printf '%P\n' | LC_ALL=C sort) >"$work/files"
tar -C "$work/root" --format=ustar --owner=0 --group=0 --numeric-owner --mtime="@$epoch" \
    --no-recursion -T "$work/files" -cf - | gzip -n -9 >"$out.tmp"
mv "$out.tmp" "$out"
echo "$out"
