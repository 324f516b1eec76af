// SPDX-License-Identifier: GPL-2.0
//! A small builder of `SET_REPLACE` entry blobs for tests, KUnit suites and
//! the fuzzer (no allocation: it writes into the caller's buffer).

use super::abi::{layout, xt_align, XT_ENTRY_MATCH_SIZE};
use super::{Family, ReplaceHeader, TableDef};

/// The `ipt_ip` / `ip6t_ip6` part of an entry (addresses network order,
/// IPv4 in the first 4 bytes).
#[derive(Clone, Copy, Debug, Default)]
pub struct IpSpec {
    /// Source address.
    pub src: [u8; 16],
    /// Source mask.
    pub smsk: [u8; 16],
    /// Destination address.
    pub dst: [u8; 16],
    /// Destination mask.
    pub dmsk: [u8; 16],
    /// Input interface name.
    pub iniface: [u8; 16],
    /// Input interface mask.
    pub iniface_mask: [u8; 16],
    /// Output interface name.
    pub outiface: [u8; 16],
    /// Output interface mask.
    pub outiface_mask: [u8; 16],
    /// Protocol.
    pub proto: u16,
    /// `IPT_F_*` / `IP6T_F_*`.
    pub flags: u8,
    /// `IPT_INV_*`.
    pub invflags: u8,
}

impl IpSpec {
    /// Matches every packet: no address, interface or protocol condition
    /// (the `Default`, usable in `const` items).
    pub const ANY: IpSpec = IpSpec {
        src: [0; 16],
        smsk: [0; 16],
        dst: [0; 16],
        dmsk: [0; 16],
        iniface: [0; 16],
        iniface_mask: [0; 16],
        outiface: [0; 16],
        outiface_mask: [0; 16],
        proto: 0,
        flags: 0,
        invflags: 0,
    };
}

/// An entry's target.
#[derive(Clone, Copy, Debug)]
pub enum TargetSpec<'a> {
    /// Standard target with this verdict.
    Standard(i32),
    /// ERROR target with this chain name.
    Error(&'a [u8]),
    /// Any target: name, revision, data (padded to XT_ALIGN).
    Other(&'a [u8], u8, &'a [u8]),
}

/// Writes entries one after the other.
pub struct Builder<'a> {
    out: &'a mut [u8],
    len: usize,
    family: Family,
    /// Entries written.
    pub entries: u32,
    /// False once something did not fit.
    pub ok: bool,
}

impl<'a> Builder<'a> {
    /// A builder writing into `out` (zeroed).
    pub fn new(family: Family, out: &'a mut [u8]) -> Self {
        out.fill(0);
        Self { out, len: 0, family, entries: 0, ok: true }
    }

    /// Bytes written so far (= offset of the next entry).
    pub fn offset(&self) -> u32 {
        self.len as u32
    }

    fn put(&mut self, off: usize, b: &[u8]) {
        match self.out.get_mut(off..).and_then(|d| d.get_mut(..b.len())) {
            Some(d) => d.copy_from_slice(b),
            None => self.ok = false,
        }
    }

    fn ext(&mut self, at: usize, name: &[u8], rev: u8, data: &[u8], size: usize) {
        self.put(at, &(size as u16).to_ne_bytes());
        self.put(at.saturating_add(2), name.get(..name.len().min(28)).unwrap_or(&[]));
        self.put(at.saturating_add(31), &[rev]);
        self.put(at.saturating_add(XT_ENTRY_MATCH_SIZE), data);
    }

    /// Appends an entry; returns its offset. Offsets saturate: one past
    /// `usize::MAX` is past `out`, so the write fails and `ok` turns false.
    pub fn entry(&mut self, ip: &IpSpec, matches: &[(&[u8], u8, &[u8])], target: TargetSpec<'_>) -> u32 {
        let l = layout(self.family);
        let start = self.len;
        let (al, ifo, po) = match self.family {
            Family::Ipv4 => (4, 16, 80),
            Family::Ipv6 => (16, 64, 128),
        };
        for (i, a) in [ip.src, ip.dst, ip.smsk, ip.dmsk].iter().enumerate() {
            self.put(start.saturating_add(i * al), a.get(..al).unwrap_or(&[]));
        }
        for (i, a) in [ip.iniface, ip.outiface, ip.iniface_mask, ip.outiface_mask].iter().enumerate() {
            self.put(start.saturating_add(ifo + 16 * i), a);
        }
        self.put(start.saturating_add(po), &ip.proto.to_ne_bytes());
        let (fo, io) = match self.family {
            Family::Ipv4 => (82, 83),
            Family::Ipv6 => (131, 132),
        };
        self.put(start.saturating_add(fo), &[ip.flags]);
        self.put(start.saturating_add(io), &[ip.invflags]);
        let mut pos = start.saturating_add(l.size);
        for (name, rev, data) in matches {
            let size = xt_align(data.len()).unwrap_or(0).saturating_add(XT_ENTRY_MATCH_SIZE);
            self.ext(pos, name, *rev, data, size);
            pos = pos.saturating_add(size);
        }
        let target_off = pos.saturating_sub(start);
        let (tsize, next) = match target {
            TargetSpec::Standard(v) => {
                self.ext(pos, b"", 0, &v.to_ne_bytes(), 36);
                (40, target_off.checked_add(36).and_then(xt_align).unwrap_or(0))
            }
            TargetSpec::Error(n) => {
                self.ext(pos, b"ERROR", 0, n.get(..n.len().min(29)).unwrap_or(&[]), 64);
                (64, target_off.saturating_add(64))
            }
            TargetSpec::Other(name, rev, data) => {
                let s = xt_align(data.len()).unwrap_or(0).saturating_add(XT_ENTRY_MATCH_SIZE);
                self.ext(pos, name, rev, data, s);
                (s, target_off.saturating_add(s))
            }
        };
        self.put(start.saturating_add(l.size), &[]);
        self.put(pos, &(tsize as u16).to_ne_bytes());
        self.put(start.saturating_add(l.target_offset), &(target_off as u16).to_ne_bytes());
        self.put(start.saturating_add(l.next_offset), &(next as u16).to_ne_bytes());
        self.len = start.saturating_add(next);
        if self.len > self.out.len() {
            self.ok = false;
        }
        self.entries = self.entries.saturating_add(1);
        start as u32
    }

    /// Rewrites the standard verdict of the entry at `entry` (for forward jumps).
    pub fn set_verdict(&mut self, entry: u32, verdict: i32) {
        let l = layout(self.family);
        let e = entry as usize;
        let t = self.out.get(e + l.target_offset..e + l.target_offset + 2).map(|b| u16::from_ne_bytes([b[0], b[1]]));
        if let Some(t) = t {
            self.put(e + usize::from(t) + 32, &verdict.to_ne_bytes());
        } else {
            self.ok = false;
        }
    }

    /// The `SET_REPLACE` header of the table written so far: `def`'s name
    /// and `valid_hooks`, this builder's entry count and size, one counter,
    /// and the INPUT, FORWARD and OUTPUT chains (`NF_INET_LOCAL_IN`,
    /// `_FORWARD`, `_LOCAL_OUT`) starting at the offsets `entry` with their
    /// policies at `underflow` (byte offsets into the blob).
    pub fn filter_header(&self, def: &TableDef, entry: [u32; 3], underflow: [u32; 3]) -> ReplaceHeader {
        let mut h = ReplaceHeader { valid_hooks: def.valid_hooks, num_entries: self.entries, size: self.offset(), num_counters: 1, ..Default::default() };
        let n = def.name.len().min(h.name.len() - 1);
        if let (Some(d), Some(s)) = (h.name.get_mut(..n), def.name.as_bytes().get(..n)) {
            d.copy_from_slice(s);
        }
        h.hook_entry = [0, entry[0], entry[1], entry[2], 0];
        h.underflow = [0, underflow[0], underflow[1], underflow[2], 0];
        h
    }

    /// The blob written so far.
    pub fn bytes(&self) -> &[u8] {
        self.out.get(..self.len).unwrap_or(&[])
    }
}
