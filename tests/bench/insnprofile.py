#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The bench's instruction profile: the counts of QEMU's TCG plugin
tests/bench/insn_profile.c, by function.

The plugin writes PREFIX.N at the guest's Nth marker call: the start
address, instruction count and vCPU 0 executions of every translation block
run since the marker before. tests/guest/bench.sh prints on the console:
  bench-insn: kernel _stext ADDR                   the runtime _stext (KASLR)
  bench-insn: section MODULE SECTION ADDR          a loaded module's text
                                                   section, before each window
  bench-insn: window CONFIG N PACKETS              PREFIX.N holds CONFIG's run
                                                   of PACKETS packets
This names each block's function (tests/bench/ksyms.py: System.map and
the .ko files) and writes, for tests/bench/report.sh, per configuration:
  bench-profile: CONFIG,INSTRUCTIONS,SYMBOL        (the 200 commonest)
  bench-profile-total: CONFIG,INSTRUCTIONS,PACKETS,1,insn
  bench-profile-sampler: CONFIG,DESCRIPTION
A block is named by its first instruction (blocks end at calls, returns and
jumps, so a block rarely runs into the next function). A summary goes to
stderr. With --blocks REGEX, every block of the functions whose (mangled)
name matches REGEX is written to --blocks-out, one a line:
  CONFIG SYMBOL +OFFSET INSTRUCTIONS-PER-PACKET
by offset, to read against `objdump -d` of the module or vmlinux.

Python 3 standard library only.
"""

import argparse
import collections
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ksyms  # noqa: E402

TOP_SYMBOLS = 200
MARKER = re.compile(r"bench-insn: (\S+)((?: \S+)*)")


def log(msg):
    print("insnprofile: " + msg, file=sys.stderr, flush=True)


def read_window(path):
    """{block start address: instructions executed} of one window file."""
    counts = collections.Counter()
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) == 3:
                counts[int(parts[0], 16)] += int(parts[1]) * int(parts[2])
    return counts


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--log", required=True, help="the guest's console output")
    ap.add_argument("--windows", required=True, help="the plugin's out=PREFIX")
    ap.add_argument("--system-map", required=True)
    ap.add_argument("--modules", action="append", default=[],
                    help="a directory of .ko files (searched recursively; repeat)")
    ap.add_argument("--out", required=True, help="the bench-profile lines go here")
    ap.add_argument("--blocks", help="a regular expression of function names whose blocks to list")
    ap.add_argument("--blocks-out", help="where the blocks go (with --blocks)")
    args = ap.parse_args()
    blocks_re = re.compile(args.blocks) if args.blocks else None
    blocks_out = open(args.blocks_out, "w") if blocks_re and args.blocks_out else None

    symbols = ksyms.Symbols(args.system_map, args.modules)
    sections = []
    with open(args.log, errors="replace") as f, open(args.out, "w") as out:
        for line in f:
            m = MARKER.search(line.replace("\r", ""))
            if not m:
                continue
            what, rest = m.group(1), m.group(2).split()
            if what == "kernel" and len(rest) == 2 and rest[0] == "_stext":
                symbols.set_stext(int(rest[1], 16))
            elif what == "section" and len(rest) == 3:
                sections.append((rest[0], rest[1], int(rest[2], 16)))
            elif what == "window" and len(rest) == 3:
                symbols.set_sections(sections)
                sections = []
                window(out, symbols, rest[0], "%s.%s" % (args.windows, rest[1]), int(rest[2]),
                       blocks_re, blocks_out)
    if blocks_out:
        blocks_out.close()


def window(out, symbols, config, path, packets, blocks_re=None, blocks_out=None):
    """Writes one configuration's bench-profile lines (and its blocks of the
    functions blocks_re matches to blocks_out)."""
    try:
        blocks = read_window(path)
    except OSError as e:
        log("%s: %s" % (config, e))
        return
    by_name = collections.Counter()
    listed = []
    for addr, n in blocks.items():
        name, off = symbols.locate(addr)
        by_name[name] += n
        if blocks_out and blocks_re.search(name):
            listed.append((name, off, n))
    total = sum(by_name.values())
    if total == 0 or packets == 0:
        log("%s: no instructions counted" % config)
        return
    for name, n in by_name.most_common(TOP_SYMBOLS):
        out.write("bench-profile: %s,%d,%s\n" % (config, n, name))
    out.write("bench-profile-total: %s,%d,%d,1,insn\n" % (config, total, packets))
    for name, off, n in sorted(listed):
        if packets:
            blocks_out.write("%s %s +0x%x %.1f\n" % (config, name, off, n / packets))
    out.write("bench-profile-sampler: %s,every instruction vCPU 0 executed, counted by "
              "QEMU's TCG plugin tests/bench/insn_profile.c, by translation block\n" % config)
    log("%s: %.0f instructions per packet (%d packets); top: %s"
        % (config, total / packets, packets,
           ", ".join("%s %.0f" % (s, n / packets) for s, n in by_name.most_common(3))))


if __name__ == "__main__":
    main()
