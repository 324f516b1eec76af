#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Names guest kernel addresses on the host: the kernel's System.map and the
loaded modules' .ko files (their text sections placed where the guest's
/sys/module/M/sections/.text* said). Used by tests/bench/insnprofile.py.

Python 3 standard library only.
"""

import bisect
import collections
import lzma
import os
import struct
import sys


def log(msg):
    print("ksyms: " + msg, file=sys.stderr, flush=True)


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
