#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""A profile of the bench guest's CPU 0 without perf in the guest.

Samples the program counter of the guest's first vCPU through QEMU's
gdbstub (scripts/vm/run.sh with QEMU_GDB_SOCKET=PATH) while the guest
forwards packets, and names each sample's function on the host from the
kernel's System.map and the modules' .ko files. tests/bench/run.sh starts it
in the background when the guest has no perf (arm64, or BENCH_SAMPLER=gdb).

It follows the console log (run.sh -l LOG) for the lines
tests/guest/bench.sh prints:
  bench-sample: kernel _stext ADDR             the runtime _stext (KASLR)
  bench-sample: section MODULE SECTION ADDR    a loaded module's text section
                                               (/sys/module/M/sections/.text*),
                                               before each start
  bench-sample: start CONFIG
  bench-sample: stop CONFIG PACKETS ELAPSED_NS the guest's time of the run
and between a start and its stop stops the guest every INTERVAL ms of host
time (byte 0x03), reads vCPU 0's PC (`Hg` thread 1, `p` register 0x10 rip
on x86_64, 0x20 pc on arm64) and resumes it (`c`), the three commands sent
in one write so that the guest stays stopped for one round trip. The guest's
clock stands still while it is stopped, so ELAPSED_NS / samples is the guest
time each sample stands for.

Writes, for tests/bench/report.sh, per configuration:
  bench-profile: CONFIG,SAMPLES,SYMBOL          (the 60 commonest symbols)
  bench-profile-total: CONFIG,SAMPLES,PACKETS,PERIOD_NS
  bench-profile-sampler: CONFIG,DESCRIPTION
SYMBOL is a System.map or .ko symbol (Rust names mangled: report.sh
demangles them), `[user]` for a PC in user space, `[kernel]` or
`[module M]` for kernel text no symbol covers. Progress and a summary go to
stderr.

Python 3 standard library only; the GDB remote serial protocol is spoken
directly (packets $...#checksum; no-ack mode when QEMU offers it).
"""

import argparse
import bisect
import collections
import lzma
import os
import re
import socket
import struct
import sys
import time

PC_REGISTER = {"x86_64": 0x10, "arm64": 0x20}
TOP_SYMBOLS = 60
MARKER = re.compile(r"bench-sample: (\S+)((?: \S+)*)")


def log(msg):
    print("pcsample: " + msg, file=sys.stderr, flush=True)


class GdbError(Exception):
    """The stub went away, timed out or answered with an error."""


class Gdb:
    """A client of QEMU's gdbstub on a unix socket (all-stop mode)."""

    def __init__(self, path, timeout):
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.connect(path)
                break
            except OSError as e:
                self.sock.close()
                if time.monotonic() > deadline:
                    raise GdbError("cannot connect to %s: %s" % (path, e))
                time.sleep(0.1)
        self.buf = b""
        self.ack = True
        self.running = False
        try:
            self._handshake()
        except (GdbError, OSError, ValueError):
            self.detach()
            raise

    def _handshake(self):
        # QEMU stops the guest when a debugger connects, and says so with a
        # stop reply of its own: read it before the first command.
        self.sock.settimeout(1.0)
        try:
            self.packet()
        except GdbError:
            pass
        self.sock.settimeout(5.0)
        features = self.command(b"qSupported:swbreak+;hwbreak+")
        if b"QStartNoAckMode+" in features:  # not in QEMU 7.2
            if self.command(b"QStartNoAckMode") == b"OK":
                self.ack = False
        # QEMU answers `p` only to a debugger that has read the target
        # description (its register numbering).
        offset = 0
        while True:
            reply = self.command(b"qXfer:features:read:target.xml:%x,ffb" % offset)
            if not reply[:1] in (b"m", b"l"):
                raise GdbError("reading target.xml: %r" % reply[:40])
            offset += len(reply) - 1
            if reply.startswith(b"l"):
                break
        self.stop_reply = self.command(b"?")
        threads = []
        reply = self.command(b"qfThreadInfo")
        while reply.startswith(b"m"):
            threads += reply[1:].split(b",")
            reply = self.command(b"qsThreadInfo")
        if not threads:
            raise GdbError("no threads in qfThreadInfo: %r" % reply)
        # Thread ids are cpu_index + 1 (no multiprocess form: not asked for).
        self.cpu0 = min(threads, key=lambda t: int(t, 16))
        self.threads = threads

    @staticmethod
    def frame(payload):
        return b"$%s#%02x" % (payload, sum(payload) & 0xFF)

    def _fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise GdbError("the stub closed the connection")
        self.buf += data

    def packet(self):
        """The next packet's payload (acks and noise before it skipped)."""
        while True:
            start = self.buf.find(b"$")
            if start >= 0:
                end = self.buf.find(b"#", start)
                if end >= 0 and len(self.buf) >= end + 3:
                    payload = self.buf[start + 1:end]
                    self.buf = self.buf[end + 3:]
                    if self.ack:
                        self.sock.sendall(b"+")
                    return payload
            else:
                self.buf = b""
            try:
                self._fill()
            except socket.timeout:
                raise GdbError("no answer from the stub")

    def command(self, payload):
        self.sock.sendall(self.frame(payload))
        return self.packet()

    def resume(self):
        self.sock.sendall(self.frame(b"c"))
        self.running = True

    def sample_pc(self, register):
        """Stops the guest, reads vCPU 0's PC and resumes the guest."""
        self.sock.sendall(b"\x03")
        reply = self.packet()
        while not reply.startswith((b"T", b"S")):
            reply = self.packet()
        self.running = False
        if self.ack:
            # An ack sent while the guest runs would stop it again: read
            # both answers (acking them) before `c`.
            self.sock.sendall(self.frame(b"Hg" + self.cpu0) + self.frame(b"p%x" % register))
            self.packet()
            value = self.packet()
            self.resume()
        else:
            self.sock.sendall(self.frame(b"Hg" + self.cpu0) + self.frame(b"p%x" % register)
                              + self.frame(b"c"))
            self.running = True
            self.packet()
            value = self.packet()
        if value.startswith(b"E") or not value:
            raise GdbError("reading the PC: %r" % value)
        # Target byte order: little-endian on both architectures.
        return int.from_bytes(bytes.fromhex(value.decode()), "little")

    def detach(self):
        """Detaches, which leaves the guest running (a debugger that just
        closed the socket would leave a stopped guest stopped)."""
        try:
            self.sock.settimeout(2.0)
            if self.running:
                self.sock.sendall(b"\x03")
                self.packet()
                self.running = False
            self.sock.sendall(self.frame(b"D"))
            self.packet()
        except (GdbError, OSError):
            pass
        self.sock.close()


# ---------------------------------------------------------------- symbols

def elf_functions(path):
    """The FUNC symbols of an ELF64 little-endian file: {section name:
    sorted [(offset, size, name)]} and {section name: size}."""
    with open(path, "rb") as f:
        data = f.read()
    if path.endswith(".xz"):
        data = lzma.decompress(data)
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        raise ValueError("not an ELF64 little-endian file")
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    sections = [struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize)
                for i in range(shnum)]

    def cstr(off):
        return data[off:data.index(b"\0", off)].decode(errors="replace")

    shstr = sections[shstrndx][4]
    names = [cstr(shstr + s[0]) for s in sections]
    sizes = {names[i]: s[5] for i, s in enumerate(sections)}
    funcs = collections.defaultdict(list)
    for s in sections:
        if s[1] != 2:  # SHT_SYMTAB
            continue
        strtab = sections[s[6]][4]
        for off in range(s[4], s[4] + s[5], 24):
            st_name, st_info, _, st_shndx, st_value, st_size = \
                struct.unpack_from("<IBBHQQ", data, off)
            if st_info & 0xF == 2 and 0 < st_shndx < len(names):  # STT_FUNC
                funcs[names[st_shndx]].append((st_value, st_size, cstr(strtab + st_name)))
    for lst in funcs.values():
        lst.sort()
    return funcs, sizes


class Symbols:
    """Names kernel and module addresses."""

    def __init__(self, system_map, module_dirs):
        self.addrs, self.names = [], []
        self.map_stext = None
        self.etext = None
        with open(system_map) as f:
            for line in f:
                parts = line.split()
                if len(parts) < 3:
                    continue
                addr = int(parts[0], 16)
                if parts[2] == "_stext":
                    self.map_stext = addr
                elif parts[2] == "_etext":
                    self.etext = addr
                if parts[1] in "tTwW":
                    self.addrs.append(addr)
                    self.names.append(parts[2])
        order = sorted(range(len(self.addrs)), key=self.addrs.__getitem__)
        self.addrs = [self.addrs[i] for i in order]
        self.names = [self.names[i] for i in order]
        self.offset = 0
        # Module files by module name ('-' and '_' alike); the first found
        # wins, so list rnf's directory before the kernel's.
        self.files = {}
        for d in module_dirs:
            # Symbolic links not followed: lib/modules/VER/build is the
            # kernel tree, which holds lib/modules again.
            for top, dirs, files in os.walk(d):
                dirs.sort()
                for base in sorted(files):
                    if base.endswith(".ko") or base.endswith(".ko.xz"):
                        name = base.split(".ko")[0].replace("-", "_")
                        self.files.setdefault(name, os.path.join(top, base))
        self.elf = {}
        self.ranges = []  # sorted (start, end, module, section)

    def set_stext(self, runtime):
        if self.map_stext is not None:
            self.offset = runtime - self.map_stext

    def set_sections(self, sections):
        """sections: [(module, section, address)] of the loaded modules."""
        ranges = []
        for module, section, addr in sections:
            path = self.files.get(module)
            if path is None:
                continue
            if path not in self.elf:
                try:
                    self.elf[path] = elf_functions(path)
                except (OSError, ValueError, IndexError, struct.error) as e:
                    log("%s: %s" % (path, e))
                    self.elf[path] = ({}, {})
            size = self.elf[path][1].get(section, 0)
            if size > 1:
                ranges.append((addr, addr + size, module, section, path))
        ranges.sort()
        self.ranges = ranges

    def name(self, pc):
        return self.locate(pc)[0]

    def locate(self, pc):
        """(symbol, offset of pc in it); offset 0 for the bracketed names."""
        if not pc >> 63:
            return "[user]", 0
        i = bisect.bisect_right(self.ranges, (pc, float("inf"))) - 1
        if i >= 0 and self.ranges[i][0] <= pc < self.ranges[i][1]:
            start, _, module, section, path = self.ranges[i]
            funcs = self.elf[path][0].get(section, [])
            j = bisect.bisect_right(funcs, (pc - start, float("inf"))) - 1
            if j >= 0:
                off, size, name = funcs[j]
                if pc - start < off + max(size, 1):
                    return name, pc - start - off
            return "[module %s]" % module, 0
        kpc = pc - self.offset
        i = bisect.bisect_right(self.addrs, kpc) - 1
        if i >= 0 and (self.etext is None or kpc < self.etext):
            return self.names[i], kpc - self.addrs[i]
        return "[kernel]", 0


# ---------------------------------------------------------------- the log

class Follow:
    """The complete lines appended to a file that is still being written."""

    def __init__(self, path):
        self.path = path
        self.fd = None
        self.partial = b""

    def lines(self):
        if self.fd is None:
            try:
                self.fd = os.open(self.path, os.O_RDONLY)
            except FileNotFoundError:
                return []
        chunks = []
        while True:
            data = os.read(self.fd, 1 << 16)
            if not data:
                break
            chunks.append(data)
        if not chunks:
            return []
        data = self.partial + b"".join(chunks)
        lines = data.split(b"\n")
        self.partial = lines.pop()
        return [ln.replace(b"\r", b"").decode(errors="replace") for ln in lines]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--arch", required=True, choices=sorted(PC_REGISTER))
    ap.add_argument("--socket", required=True, help="QEMU's gdbstub (QEMU_GDB_SOCKET)")
    ap.add_argument("--log", required=True, help="the console log (run.sh -l)")
    ap.add_argument("--system-map", required=True)
    ap.add_argument("--modules", action="append", default=[],
                    help="a directory of .ko files (searched recursively; repeat)")
    ap.add_argument("--out", required=True, help="the bench-profile lines go here")
    ap.add_argument("--interval-ms", type=float, default=1.5,
                    help="host time between samples (default 1.5)")
    ap.add_argument("--suffix", default="", help="appended to each CONFIG")
    ap.add_argument("--raw", help="also write every sampled PC here: CONFIG PC COUNT SYMBOL+OFFSET")
    ap.add_argument("--timeout", type=float, default=1500,
                    help="give up after this many seconds (default 1500)")
    args = ap.parse_args()

    register = PC_REGISTER[args.arch]
    symbols = Symbols(args.system_map, args.modules)
    follow = Follow(args.log)
    gdb = None
    sections = []
    current = None  # (config, Counter of PCs, host start, pause total)
    out = open(args.out, "w")
    interval = args.interval_ms / 1000.0
    deadline = time.monotonic() + args.timeout
    done = False
    next_read = 0.0
    try:
        while not done and time.monotonic() < deadline:
            now = time.monotonic()
            lines = []
            if current is None or now >= next_read:
                lines = follow.lines()
                next_read = now + 0.01
            for line in lines:
                if "RNF-SCRIPT-EXIT=" in line:
                    done = True
                m = MARKER.search(line)
                if not m:
                    continue
                what, rest = m.group(1), m.group(2).split()
                if what == "kernel" and len(rest) == 2 and rest[0] == "_stext":
                    symbols.set_stext(int(rest[1], 16))
                elif what == "section" and len(rest) == 3:
                    sections.append((rest[0], rest[1], int(rest[2], 16)))
                elif what == "start" and len(rest) == 1:
                    if gdb is None:
                        gdb = Gdb(args.socket, 30)
                        log("connected: threads %s, CPU 0 is thread %s, %s mode"
                            % (b",".join(gdb.threads).decode(), gdb.cpu0.decode(),
                               "ack" if gdb.ack else "no-ack"))
                        gdb.resume()
                    symbols.set_sections(sections)
                    sections = []
                    current = (rest[0], collections.Counter(), time.monotonic(), [0.0])
                elif what == "stop" and len(rest) == 3 and current and current[0] == rest[0]:
                    finish(out, symbols, current, int(rest[1]), int(rest[2]), args)
                    current = None
            if current is None:
                time.sleep(0.05)
                continue
            t0 = time.monotonic()
            pc = gdb.sample_pc(register)
            t1 = time.monotonic()
            current[1][pc] += 1
            current[3][0] += t1 - t0
            rest = interval - (time.monotonic() - t0)
            if rest > 0:
                time.sleep(rest)
    except (GdbError, OSError) as e:
        log("stopped: %s" % e)
    finally:
        if gdb is not None:
            gdb.detach()
        out.close()
    if current is not None:
        log("%s: no stop marker: dropped" % current[0])


def finish(out, symbols, current, packets, elapsed_ns, args):
    """Writes one configuration's bench-profile lines."""
    config, pcs, host_start, pause = current
    config += args.suffix
    total = sum(pcs.values())
    by_name = collections.Counter()
    for pc, n in pcs.items():
        by_name[symbols.name(pc)] += n
    host = time.monotonic() - host_start
    if args.raw:
        with open(args.raw, "a") as raw:
            for pc, n in pcs.most_common():
                name, off = symbols.locate(pc)
                raw.write("%s %x %d %s+0x%x\n" % (config, pc, n, name, off))
    if total == 0:
        log("%s: no samples" % config)
        return
    for name, n in by_name.most_common(TOP_SYMBOLS):
        out.write("bench-profile: %s,%d,%s\n" % (config, n, name))
    out.write("bench-profile-total: %s,%d,%d,%d\n"
              % (config, total, packets, round(elapsed_ns / total)))
    out.write("bench-profile-sampler: %s,PC samples of vCPU 0 through QEMU's gdbstub "
              "(tests/bench/pcsample.py) every %.1f ms of host time\n"
              % (config, args.interval_ms))
    out.flush()
    log("%s: %d samples in %.1f s of host time (guest stopped %.0f us a sample), "
        "%.2f s of guest time, %d packets; top: %s"
        % (config, total, host, pause[0] / total * 1e6, elapsed_ns / 1e9, packets,
           ", ".join("%s %d" % nn for nn in by_name.most_common(3))))


if __name__ == "__main__":
    main()
