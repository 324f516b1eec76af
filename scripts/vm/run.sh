#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Boots the test guest in QEMU (software emulation), runs one guest script and
# exits with its status.
#
# Usage:
#   scripts/vm/run.sh -k bzImage -i initrd.cpio.gz -s /guest/path/script.sh
#                     [-A ARCH] [-l LOGFILE] [-t TIMEOUT_SECONDS]
#                     [-a EXTRA_KERNEL_ARGS]
#
# ARCH (default: $ARCH, else x86_64) picks the machine: x86_64 is
# qemu-system-x86_64 (PC, console ttyS0), arm64 is qemu-system-aarch64 -M virt
# -cpu cortex-a57 (console ttyAMA0, the PL011); -k is then arch/arm64/boot/Image.
#
# The serial console goes to stdout and to LOGFILE (default: a temporary file,
# kept and named on failure). The guest's /init prints RNF-SCRIPT-EXIT=<status>
# after the script; that status is this script's exit status, unless:
#   125  the log shows a kernel problem (oops, BUG, WARNING, lockdep, RCU
#        stall, panic, ...); the offending lines are printed
#   124  no marker: the guest hung (TIMEOUT, default 300 s, expired) or crashed
#     2  bad usage
#
# Environment: RNF_TIMEOUT_SCALE (default 1) multiplies TIMEOUT_SECONDS;
# QEMU (default qemu-system-x86_64 or qemu-system-aarch64),
# QEMU_MEM (default 1024), QEMU_SMP (default 2), QEMU_EXTRA (more QEMU
# arguments, split on spaces), QEMU_GDB_SOCKET (a path: QEMU's gdbstub
# listens on this unix socket, `-gdb unix:PATH,server=on,wait=off`, without
# waiting for a debugger; one that connects stops the guest until it sends
# `c`; for a debugger, e.g. gdb's `target remote PATH`).
set -euo pipefail

die() { echo "run.sh: $*" >&2; exit 2; }

kernel='' initrd='' script='' log='' timeout_s=300 extra_args='' arch=${ARCH:-x86_64}
while getopts "k:i:s:l:t:a:A:h" opt; do
    case "$opt" in
        A) arch=$OPTARG ;;
        k) kernel=$OPTARG ;;
        i) initrd=$OPTARG ;;
        s) script=$OPTARG ;;
        l) log=$OPTARG ;;
        t) timeout_s=$OPTARG ;;
        a) extra_args=$OPTARG ;;
        h) sed -n '3,30p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) die "see -h" ;;
    esac
done
shift $((OPTIND - 1))
[ $# -eq 0 ] || die "unexpected argument: $1"
# A slower kernel (the debug variant's KASAN) stretches every timeout.
timeout_s=$((timeout_s * ${RNF_TIMEOUT_SCALE:-1}))
[ -f "$kernel" ] || die "-k: no kernel image: ${kernel:-(none)}"
[ -f "$initrd" ] || die "-i: no initramfs: ${initrd:-(none)}"
[ -n "$script" ] || die "-s: no guest script given"
case "$script" in *[[:space:]]*) die "-s: the guest path must not contain spaces" ;; esac
[[ "$timeout_s" =~ ^[0-9]+$ ]] || die "-t: not a number of seconds: $timeout_s"
case "$arch" in x86_64|arm64) ;; *) die "-A: unsupported ARCH $arch (x86_64 or arm64)" ;; esac

keep_log=yes
if [ -z "$log" ]; then
    log=$(mktemp "${TMPDIR:-/tmp}/rnf-vm.XXXXXX.log")
    keep_log=no
fi
: >"$log"

# Kernel messages that fail a run whatever the script said. Case-sensitive,
# matched anywhere in the log (test output that prints them fails too). The
# second line is what arm64 prints where x86 says something else: its
# backtraces say "Call trace:" (every die(), BUG() included, also prints
# "Internal error:", and a bad kernel access "Unable to handle kernel"), and
# asynchronous aborts, unexpected exceptions, a stack overflow and a stray
# single-step have messages of their own.
problems='Oops|BUG:|kernel BUG at|WARNING:|KASAN|UBSAN|possible recursive locking|possible circular locking|inconsistent lock state|suspicious RCU usage|Kernel panic|Call Trace:|general protection fault|detected stall|rcu.*stall|blocked for more than|Unable to handle kernel|Internal error:'
problems="$problems|Call trace:|SError Interrupt|Unhandled [a-zA-Z0-9 ]* exception on CPU|Insufficient stack space|Unexpected kernel"
# kmemleak's reports (the debug kernel; scripts/vm/init scans after the script).
problems="$problems|unreferenced object"

# panic=-1 reboots at once on a panic, and -no-reboot turns every reboot
# (including /init's final `reboot -f`) into a QEMU exit. oops=panic so an oops
# ends the run instead of leaving a half-dead guest to time out.
# No -enable-kvm: it does not work on these machines (see the toolchain notes).
# -nic none: the kernel has no NIC driver, and no NIC means no option ROM.
smp=${QEMU_SMP:-2}
case "$arch" in
    x86_64)
        console=ttyS0
        # One CPU per socket: QEMU (>= 6.2) makes plain `-smp 2` two cores of
        # one package, SeaBIOS then lists only the package's first CPU in its
        # MP table, and this kernel (no ACPI) boots with 1 CPU.
        machine=("${QEMU:-qemu-system-x86_64}" -smp "$smp,sockets=$smp,cores=1,threads=1")
        ;;
    arm64)
        # virt describes its CPUs in the device tree and starts them via PSCI.
        console=ttyAMA0
        machine=("${QEMU:-qemu-system-aarch64}" -M virt -cpu cortex-a57 -smp "$smp")
        ;;
esac
append="console=$console panic=-1 oops=panic rnf.script=$script${extra_args:+ $extra_args}"
# shellcheck disable=SC2206 # QEMU_EXTRA is split on purpose
qemu_cmd=("${machine[@]}" -m "${QEMU_MEM:-1024}"
    -nographic -no-reboot -nic none
    -kernel "$kernel" -initrd "$initrd" -append "$append" ${QEMU_EXTRA:-})
if [ -n "${QEMU_GDB_SOCKET:-}" ]; then
    case "$QEMU_GDB_SOCKET" in *,*) die "QEMU_GDB_SOCKET: no commas in the path" ;; esac
    qemu_cmd+=(-gdb "unix:$QEMU_GDB_SOCKET,server=on,wait=off")
fi

start=$(date +%s.%N)
set +e
if [ -t 0 ]; then
    # Interactive: keep the terminal as QEMU's stdin; --foreground lets QEMU
    # read it (and still be timed out).
    timeout --foreground -k 10 "$timeout_s" "${qemu_cmd[@]}" | tee "$log"
else
    timeout -k 10 "$timeout_s" "${qemu_cmd[@]}" </dev/null | tee "$log"
fi
qemu_status=${PIPESTATUS[0]}
set -e
elapsed=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')

# The serial console ends lines with CR LF, and kernel messages can interleave
# with the marker line, so look for the marker anywhere and take the last one.
marker=$(tr -d '\r' <"$log" | grep -ao 'RNF-SCRIPT-EXIT=[0-9]\+' | tail -n 1 || true)
bad=$(tr -d '\r' <"$log" | grep -anE "$problems" || true)

status=${marker#RNF-SCRIPT-EXIT=}
if [ -n "$bad" ]; then
    echo "run.sh: kernel problems in the log:" >&2
    echo "$bad" | head -n 40 >&2
    status=125
elif [ -z "$marker" ]; then
    if [ "$qemu_status" -eq 124 ] || [ "$qemu_status" -eq 137 ]; then
        echo "run.sh: no RNF-SCRIPT-EXIT marker: timed out after ${timeout_s}s (guest hung?)" >&2
    else
        echo "run.sh: no RNF-SCRIPT-EXIT marker: QEMU exited with $qemu_status (guest crashed?)" >&2
    fi
    status=124
fi
printf 'run.sh: %s exited %s in %s s (boot to exit)\n' "$script" "$status" "$elapsed" >&2
if [ "$keep_log" = no ]; then
    if [ "$status" -eq 0 ]; then rm -f "$log"; else echo "run.sh: log kept in $log" >&2; fi
fi
exit "$status"
