// SPDX-License-Identifier: GPL-2.0
//! A classifier precomputed at translate time that lets the packet path jump
//! over runs of rules that cannot match, keeping `ipt_do_table`'s exact
//! first-match order and counters (a skipped rule would have failed its ip
//! part or its tcp/udp match, so the kernel would not have counted it).
//!
//! Keys, from necessary conditions of a rule:
//! - the layer-4 protocol: IPv4 `ip.proto != 0` without `IPT_INV_PROTO`;
//!   IPv6 the same with `IP6T_F_PROTO`;
//! - the destination port: a `tcp` or `udp` match with `--dport N` (one
//!   port, not inverted).
//!
//! A *run* is a maximal sequence of consecutive rules with the same protocol
//! key; a *port run* one whose rules all also have a port key. Each rule of a
//! run stores the run's end, so a packet of another protocol jumps to it. A
//! port run additionally stores, spread over the run's own rules (no extra
//! storage), its (port, rule index) pairs sorted: a packet with destination
//! port `d` binary-searches the next rule of the run keyed on `d`, or the
//! run's end.
//!
//! Skipping is turned off for a packet whose facts could make a skipped rule
//! hot-drop instead of failing: an IPv6 header walk that failed (IP6T_F_PROTO
//! rules hot-drop), and, for port runs, a fragment or an incomplete tcp/udp
//! header (the tcp/udp matches hot-drop on those).

use super::eval::Facts;
use super::rule::{MatchKind, Match, Rule};
use super::{abi, Family};

/// No key: the rule is evaluated in full.
pub(crate) const KEY_NONE: u8 = 0;
/// The rule needs `key_proto`.
pub(crate) const KEY_PROTO: u8 = 1;
/// The rule needs `key_proto` and destination port `key_port`.
pub(crate) const KEY_PORT: u8 = 2;

/// The protocol key of a rule (see the module doc).
fn proto_key(family: Family, r: &Rule) -> Option<u8> {
    let ip = &r.ip;
    if ip.proto == 0 || ip.proto > 255 || ip.invflags & abi::inv::PROTO != 0 {
        return None;
    }
    if family == Family::Ipv6 && ip.flags & abi::ip6t_ip6::F_PROTO == 0 {
        return None;
    }
    Some(ip.proto as u8)
}

/// The destination-port key: one `tcp`/`udp` match with a single, not inverted, dport.
fn port_key(r: &Rule, matches: &[Match]) -> Option<u16> {
    let first = r.first_match as usize;
    let ms = matches.get(first..first.checked_add(usize::from(r.num_matches))?)?;
    ms.iter().find_map(|m| match &m.kind {
        MatchKind::Tcp(t) if t.dpts[0] == t.dpts[1] && t.invflags & 0x02 == 0 => Some(t.dpts[0]),
        MatchKind::Udp(u) if u.dpts[0] == u.dpts[1] && u.invflags & 0x02 == 0 => Some(u.dpts[0]),
        _ => None,
    })
}

fn slot_key(r: &Rule) -> (u16, u32) {
    (r.slot_port, r.slot_rule)
}

/// Heap sort of the slots of `rs` by (port, rule): in place, no allocation.
fn sort_slots(rs: &mut [Rule]) {
    fn sift(rs: &mut [Rule], mut root: usize, end: usize) {
        loop {
            let mut child = root * 2 + 1;
            if child >= end {
                return;
            }
            if child + 1 < end && slot_key(&rs[child]) < slot_key(&rs[child + 1]) {
                child += 1;
            }
            if slot_key(&rs[root]) >= slot_key(&rs[child]) {
                return;
            }
            let (a, b) = (slot_key(&rs[root]), slot_key(&rs[child]));
            (rs[root].slot_port, rs[root].slot_rule) = b;
            (rs[child].slot_port, rs[child].slot_rule) = a;
            root = child;
        }
    }
    let n = rs.len();
    for start in (0..n / 2).rev() {
        sift(rs, start, n);
    }
    for end in (1..n).rev() {
        let (a, b) = (slot_key(&rs[0]), slot_key(&rs[end]));
        (rs[0].slot_port, rs[0].slot_rule) = b;
        (rs[end].slot_port, rs[end].slot_rule) = a;
        sift(rs, 0, end);
    }
}

/// Computes every rule's key, run bounds and the port runs' sorted slots.
/// Runs at the end of `translate`, after the matches are decoded.
#[allow(clippy::indexing_slicing)] // every index is < rs.len(), checked by the loop bounds
pub(crate) fn build(family: Family, rs: &mut [Rule], matches: &[Match]) {
    let n = rs.len();
    for i in 0..n {
        let r = &rs[i];
        let (key, proto, port) = match proto_key(family, r) {
            None => (KEY_NONE, 0, 0),
            Some(p) => match port_key(r, matches) {
                Some(d) => (KEY_PORT, p, d),
                None => (KEY_PROTO, p, 0),
            },
        };
        let r = &mut rs[i];
        r.key = key;
        r.key_proto = proto;
        r.slot_port = port;
        r.slot_rule = i as u32;
        r.run_start = i as u32;
        r.run_end = i as u32 + 1;
    }
    let mut start = 0usize;
    while start < n {
        if rs[start].key == KEY_NONE {
            start += 1;
            continue;
        }
        let proto = rs[start].key_proto;
        let mut end = start + 1;
        let mut all_ports = rs[start].key == KEY_PORT;
        while end < n && rs[end].key != KEY_NONE && rs[end].key_proto == proto {
            all_ports &= rs[end].key == KEY_PORT;
            end += 1;
        }
        for r in rs[start..end].iter_mut() {
            r.run_start = start as u32;
            r.run_end = end as u32;
            if !all_ports {
                r.key = KEY_PROTO;
            }
        }
        if all_ports {
            sort_slots(&mut rs[start..end]);
        }
        start = end;
    }
}

/// Per-packet keys: the protocol (None: no skipping at all) and the
/// destination port (None: no port skipping).
pub(crate) struct PacketKeys {
    pub proto: Option<u8>,
    pub dport: Option<u16>,
}

impl PacketKeys {
    pub(crate) fn new(f: &Facts<'_>) -> Self {
        let Some(p) = f.proto else { return Self { proto: None, dport: None } };
        let need = match p {
            6 => 20,  // sizeof(struct tcphdr): tcp_mt hot-drops if shorter
            17 => 8,  // sizeof(struct udphdr)
            _ => return Self { proto: Some(p), dport: None },
        };
        let dport = if f.fragoff == 0 {
            f.thoff
                .checked_add(need)
                .and_then(|end| f.headers.get(f.thoff..end))
                .and_then(|h| Some(u16::from_be_bytes([*h.get(2)?, *h.get(3)?])))
        } else {
            None
        };
        Self { proto: Some(p), dport }
    }
}

/// Where the walk goes from rule `i` (which has a key): `i` itself when the
/// rule may match, otherwise the next rule of its run that may, or the run's end.
#[inline]
pub(crate) fn next_candidate(rules: &[Rule], i: usize, r: &Rule, k: &PacketKeys) -> usize {
    let Some(p) = k.proto else { return i };
    if p != r.key_proto {
        return r.run_end as usize;
    }
    if r.key != KEY_PORT {
        return i;
    }
    let Some(d) = k.dport else { return i };
    let (start, end) = (r.run_start as usize, r.run_end as usize);
    let Some(slots) = rules.get(start..end) else { return i };
    // First slot >= (d, i).
    let pos = slots.partition_point(|s| slot_key(s) < (d, i as u32));
    match slots.get(pos) {
        Some(s) if s.slot_port == d => s.slot_rule as usize,
        _ => end,
    }
}
