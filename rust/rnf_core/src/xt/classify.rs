// SPDX-License-Identifier: GPL-2.0
//! A classifier precomputed at translate time that lets the packet path jump
//! over runs of rules that cannot match, keeping `ipt_do_table`'s exact
//! first-match order and counters (a skipped rule would have failed its ip
//! part or its tcp/udp match, so the kernel would not have counted it).
//!
//! Keys, from necessary conditions of a rule:
//! - the layer-4 protocol: IPv4 `ip.proto != 0` without `IPT_INV_PROTO`;
//!   IPv6 the same with `IP6T_F_PROTO`;
//! - the destination port: the protocol key plus a `tcp` or `udp` match with
//!   `--dport N` (one port, not inverted);
//! - the source or the destination address: an exact host address (full
//!   mask, not inverted).
//!
//! A *run* is a maximal sequence of consecutive rules sharing one key kind
//! (and, for protocol and port runs, the protocol). Every rule of a run knows
//! the run's bounds. A protocol run is left at once by a packet of another
//! protocol. Port and address runs keep, spread over the run's own rules (no
//! extra storage), their (key, rule index) pairs sorted: a packet
//! binary-searches the next rule of the run keyed on its own port or
//! address, or leaves the run. Runs are chosen greedily from the first rule
//! on: the kind whose run has the most distinct keys, then the longest.
//!
//! Skipping is turned off where a skipped rule could have hot-dropped the
//! packet instead of failing: protocol and port runs when the IPv6 header
//! walk failed (IP6T_F_PROTO rules hot-drop), port runs for a fragment or an
//! incomplete tcp/udp header (the tcp/udp matches hot-drop on those).
//! Address runs are always safe: the address test comes first in
//! `ip_packet_match` / `ip6_packet_match`.

use super::eval::Facts;
use super::rule::{Match, MatchKind, Rule};
use super::{abi, Family};

/// No key: the rule is evaluated in full.
pub(crate) const KEY_NONE: u8 = 0;
/// Protocol run: every rule needs `key_proto`.
pub(crate) const KEY_PROTO: u8 = 1;
/// Port run: every rule needs `key_proto` and its slot's destination port.
pub(crate) const KEY_PORT: u8 = 2;
/// Source run: every rule needs an exact source address.
pub(crate) const KEY_SADDR: u8 = 3;
/// Destination run: every rule needs an exact destination address.
pub(crate) const KEY_DADDR: u8 = 4;

/// What one rule could be keyed on.
#[derive(Clone, Copy)]
struct Keys {
    proto: Option<u8>,
    port: Option<u16>,
    saddr: Option<u128>,
    daddr: Option<u128>,
}

fn full_mask(family: Family) -> u128 {
    match family {
        Family::Ipv4 => u128::from_ne_bytes([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
        Family::Ipv6 => u128::MAX,
    }
}

fn keys_of(family: Family, r: &Rule, matches: &[Match]) -> Keys {
    let ip = &r.ip;
    let mut proto = None;
    if ip.proto != 0
        && ip.proto <= 255
        && ip.invflags & abi::inv::PROTO == 0
        && (family == Family::Ipv4 || ip.flags & abi::ip6t_ip6::F_PROTO != 0)
    {
        proto = Some(ip.proto as u8);
    }
    let first = r.first_match as usize;
    let ms = first.checked_add(usize::from(r.num_matches)).and_then(|end| matches.get(first..end)).unwrap_or(&[]);
    let port = proto.and_then(|_| {
        ms.iter().find_map(|m| match &m.kind {
            MatchKind::Tcp(t) if t.dpts[0] == t.dpts[1] && t.invflags & 0x02 == 0 => Some(t.dpts[0]),
            MatchKind::Udp(u) if u.dpts[0] == u.dpts[1] && u.invflags & 0x02 == 0 => Some(u.dpts[0]),
            _ => None,
        })
    });
    let full = full_mask(family);
    let saddr = (ip.smsk == full && ip.invflags & abi::inv::SRCIP == 0).then_some(ip.src);
    let daddr = (ip.dmsk == full && ip.invflags & abi::inv::DSTIP == 0).then_some(ip.dst);
    Keys { proto, port, saddr, daddr }
}

/// The key of a rule for a run kind, or None if it cannot join such a run.
/// Protocol and port runs also compare the protocol (`key_proto`).
fn key_for(kind: u8, k: &Keys) -> Option<(u8, u128)> {
    match kind {
        KEY_PROTO => k.proto.map(|p| (p, 0)),
        KEY_PORT => Some((k.proto?, u128::from(k.port?))),
        KEY_SADDR => k.saddr.map(|a| (0, a)),
        KEY_DADDR => k.daddr.map(|a| (0, a)),
        _ => None,
    }
}

fn slot(r: &Rule) -> (u128, u32) {
    (r.slot_key, r.slot_rule)
}

fn swap_slots(rs: &mut [Rule], a: usize, b: usize) {
    let (Some(x), Some(y)) = (rs.get(a).map(slot), rs.get(b).map(slot)) else { return };
    if let Some(r) = rs.get_mut(a) {
        (r.slot_key, r.slot_rule) = y;
    }
    if let Some(r) = rs.get_mut(b) {
        (r.slot_key, r.slot_rule) = x;
    }
}

fn slot_at(rs: &[Rule], i: usize) -> (u128, u32) {
    rs.get(i).map_or((0, 0), slot)
}

/// Heap sort of the slots of `rs` by (key, rule): in place, no allocation.
fn sort_slots(rs: &mut [Rule]) {
    fn sift(rs: &mut [Rule], mut root: usize, end: usize) {
        loop {
            let mut child = root * 2 + 1;
            if child >= end {
                return;
            }
            if child + 1 < end && slot_at(rs, child) < slot_at(rs, child + 1) {
                child += 1;
            }
            if slot_at(rs, root) >= slot_at(rs, child) {
                return;
            }
            swap_slots(rs, root, child);
            root = child;
        }
    }
    let n = rs.len();
    for start in (0..n / 2).rev() {
        sift(rs, start, n);
    }
    for end in (1..n).rev() {
        swap_slots(rs, 0, end);
        sift(rs, 0, end);
    }
}

/// Longest run: bounds translate's work at O(rules * MAX_RUN) (each start
/// scans at most this far for each kind); longer sequences become several runs.
const MAX_RUN: usize = 1024;

/// Length of the run of `kind` starting at `start` (0 if the rule cannot
/// start one) and how many times its key changes from one rule to the next,
/// plus one (the number of distinct keys for a run written in key order).
fn run_len(family: Family, rs: &[Rule], matches: &[Match], start: usize, kind: u8) -> (usize, usize) {
    let Some(first) = rs.get(start).and_then(|r| key_for(kind, &keys_of(family, r, matches))) else { return (0, 0) };
    let (mut n, mut distinct, mut prev) = (0, 0, None);
    let end = start.saturating_add(MAX_RUN).min(rs.len());
    for r in rs.get(start..end).unwrap_or(&[]) {
        match key_for(kind, &keys_of(family, r, matches)) {
            Some((p, key)) if p == first.0 => {
                n += 1;
                if prev != Some(key) {
                    distinct += 1;
                }
                prev = Some(key);
            }
            _ => break,
        }
    }
    (n, distinct)
}

/// Computes every rule's run and the sorted slots of port and address runs.
/// Runs at the end of `translate`, after the matches are decoded. At each
/// position the run kind with the most distinct keys wins (it skips the
/// most), then the longest; protocol runs have one key.
pub(crate) fn build(family: Family, rs: &mut [Rule], matches: &[Match]) {
    let n = rs.len();
    let mut start = 0usize;
    while start < n {
        // (kind, length, distinct keys)
        let mut choice = (KEY_NONE, 1usize, 0usize);
        for kind in [KEY_PORT, KEY_SADDR, KEY_DADDR, KEY_PROTO] {
            let (len, distinct) = run_len(family, rs, matches, start, kind);
            let useful = if kind == KEY_PROTO { len >= 1 } else { len >= 2 && distinct >= 2 };
            if useful && (distinct, len) > (choice.2, choice.1) {
                choice = (kind, len, distinct);
            }
        }
        let (kind, len, _) = choice;
        let end = start + len;
        for i in start..end {
            let k = rs.get(i).map(|r| keys_of(family, r, matches));
            let (proto, key) = k.as_ref().and_then(|k| key_for(kind, k)).unwrap_or((0, 0));
            if let Some(r) = rs.get_mut(i) {
                r.key = kind;
                r.key_proto = proto;
                r.slot_key = key;
                r.slot_rule = i as u32;
                r.run_start = start as u32;
                r.run_end = end as u32;
            }
        }
        if matches!(kind, KEY_PORT | KEY_SADDR | KEY_DADDR) {
            if let Some(run) = rs.get_mut(start..end) {
                sort_slots(run);
            }
        }
        start = end;
    }
}

/// Per-packet keys: protocol (None: no protocol or port skipping), destination
/// port (None: no port skipping), addresses.
pub(crate) struct PacketKeys {
    pub proto: Option<u8>,
    pub dport: Option<u16>,
    pub saddr: u128,
    pub daddr: u128,
}

impl PacketKeys {
    pub(crate) fn new(f: &Facts<'_>) -> Self {
        let mut k = Self { proto: f.proto, dport: None, saddr: f.saddr, daddr: f.daddr };
        let need = match f.proto {
            Some(6) => 20, // sizeof(struct tcphdr): tcp_mt hot-drops if shorter
            Some(17) => 8, // sizeof(struct udphdr)
            _ => return k,
        };
        if f.fragoff == 0 {
            k.dport = f
                .thoff
                .checked_add(need)
                .and_then(|end| f.headers.get(f.thoff..end))
                .and_then(|h| Some(u16::from_be_bytes([*h.get(2)?, *h.get(3)?])));
        }
        k
    }
}

/// First rule of the sorted run `start..end` keyed on `key` at index >= `i`, or `end`.
fn search(rules: &[Rule], start: usize, end: usize, key: u128, i: usize) -> usize {
    let Some(slots) = rules.get(start..end) else { return i };
    let pos = slots.partition_point(|s| slot(s) < (key, i as u32));
    match slots.get(pos) {
        Some(s) if s.slot_key == key => s.slot_rule as usize,
        _ => end,
    }
}

/// Where the walk goes from rule `i` (which has a key): `i` itself when the
/// rule may match, otherwise the next rule of its run that may, or the run's end.
#[inline]
pub(crate) fn next_candidate(rules: &[Rule], i: usize, r: &Rule, k: &PacketKeys) -> usize {
    let (start, end) = (r.run_start as usize, r.run_end as usize);
    match r.key {
        KEY_SADDR => search(rules, start, end, k.saddr, i),
        KEY_DADDR => search(rules, start, end, k.daddr, i),
        KEY_PROTO | KEY_PORT => {
            let Some(p) = k.proto else { return i };
            if p != r.key_proto {
                return end;
            }
            match (r.key, k.dport) {
                (KEY_PORT, Some(d)) => search(rules, start, end, u128::from(d), i),
                _ => i,
            }
        }
        _ => i,
    }
}
