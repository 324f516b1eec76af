// SPDX-License-Identifier: GPL-2.0
//! Tuple selection: the free tuple a new connection is mapped to.
//!
//! Follows `get_unique_tuple()` and its helpers in net/netfilter/nf_nat_core.c
//! (6.12) step by step, in the same order: the unchanged tuple when it is in
//! range and free (SNAT only), the mapping another connection from the same
//! source already has (`find_appropriate_src`), the address chosen by hash
//! within the range (`find_best_ips_proto`), the port kept when it is in
//! range and free, and last the port search (`nf_nat_l4proto_unique_tuple`)
//! with at most [`MAX_ATTEMPTS`] tries per round and ever smaller rounds.
//!
//! What a tuple "used" means is the connection table's business, so it is
//! asked through [`NatSpace`]. Selection never fails: when no free tuple is
//! found it returns the last one it tried, and the clash is caught when the
//! connection is confirmed (the packet is dropped and `insert_failed` and
//! `drop` counted), as in the kernel.

use super::range::{ManipType, NatRange, PERSISTENT, PROTO_OFFSET, PROTO_SPECIFIED};
use crate::packet::{L3Proto, IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_TCP, IPPROTO_UDP};
use crate::conntrack::tuple::{jhash2, Tuple};

/// `NF_NAT_MAX_ATTEMPTS`: candidates tried in the first round of the port
/// search.
pub const MAX_ATTEMPTS: u32 = 128;
/// `NF_NAT_HARDER_THRESH`: from this many remaining attempts on, a TCP SYN
/// may evict a closing connection that holds the candidate
/// ([`NatSpace::used_harder`]).
pub const HARDER_THRESH: u32 = MAX_ATTEMPTS / 4;

/// What tuple selection asks of the connection table.
///
/// Candidates are given as the tuple the new connection would have in its
/// original direction after the mapping; "used" means that another
/// connection already has the inverse of the candidate (the reply the new
/// connection would expect) as one of its tuples, in the connection's
/// namespace and zone, not counting a connection whose original tuple equals
/// the new one's (`nf_conntrack_tuple_taken`).
pub trait NatSpace {
    /// `nf_nat_used_tuple`: whether `candidate` is taken.
    fn used(&mut self, candidate: &Tuple) -> bool;

    /// `nf_nat_used_tuple_new`: as [`NatSpace::used`] for the unchanged
    /// tuple, but a clash with a connection of the reverse direction that
    /// neither is NATed is not counted for protocols that allow clashes
    /// (UDP, generic), so simultaneous first packets from both ends keep
    /// their ports.
    fn used_new(&mut self, candidate: &Tuple) -> bool {
        self.used(candidate)
    }

    /// `nf_nat_used_tuple_harder`: as [`NatSpace::used`], but with
    /// `attempts_left <= HARDER_THRESH` a TCP SYN may evict the holder of the
    /// candidate when it is a source-NATed connection in TIME_WAIT or later
    /// whose sequence numbers the new SYN has passed.
    fn used_harder(&mut self, candidate: &Tuple, attempts_left: u32) -> bool {
        let _ = attempts_left;
        self.used(candidate)
    }

    /// `find_appropriate_src`'s walk of the by-source hash: calls `f` with the
    /// reply tuple of each connection in the namespace and zone whose
    /// original tuple has the protocol, source address and source port (or
    /// ICMP identifier) of `orig`, until `f` returns true.
    fn for_each_same_src(&mut self, orig: &Tuple, f: &mut dyn FnMut(&Tuple) -> bool);

    /// `get_random_u16()`.
    fn random_u16(&mut self) -> u16;
}

/// The field of a tuple that NAT maps besides the address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Key {
    /// The ICMP or ICMPv6 echo identifier (`src_id`, for either manip).
    IcmpId,
    /// The source port (SNAT) or destination port (DNAT).
    Port,
    /// None: only the address is mapped.
    None,
}

/// The key of a protocol. The kernel also maps the ports of UDP-Lite, SCTP
/// and DCCP (and GRE keys of PPTP); rnf_conntrack tracks those protocols by
/// address only (their tuples carry no ports), so NAT maps only their
/// addresses too.
fn key_of(t: &Tuple) -> Key {
    match (t.l3, t.proto) {
        (L3Proto::Ipv4, IPPROTO_ICMP) | (L3Proto::Ipv6, IPPROTO_ICMPV6) => Key::IcmpId,
        (_, IPPROTO_TCP | IPPROTO_UDP) => Key::Port,
        _ => Key::None,
    }
}

fn key_value(t: &Tuple, key: Key, manip: ManipType) -> u16 {
    match (key, manip) {
        (Key::IcmpId, _) | (Key::Port, ManipType::Src) => t.src_id,
        (Key::Port, ManipType::Dst) => t.dst_id,
        (Key::None, _) => 0,
    }
}

fn set_key(t: &mut Tuple, key: Key, manip: ManipType, v: u16) {
    match (key, manip) {
        (Key::IcmpId, _) | (Key::Port, ManipType::Src) => t.src_id = v,
        (Key::Port, ManipType::Dst) => t.dst_id = v,
        (Key::None, _) => {}
    }
}

/// `l4proto_in_range`: whether the mapped key of `t` lies in the range's
/// `min_proto..=max_proto` (always true for protocols without a key).
fn key_in_range(t: &Tuple, manip: ManipType, r: &NatRange) -> bool {
    let key = key_of(t);
    if key == Key::None {
        return true;
    }
    let v = key_value(t, key, manip);
    v >= r.min_proto && v <= r.max_proto
}

/// `nf_in_range`: whether the source side of `t` satisfies the range (the
/// address if `MAP_IPS`, the key if `PROTO_SPECIFIED`).
fn in_range(t: &Tuple, r: &NatRange) -> bool {
    if r.flags & super::range::MAP_IPS != 0 && !r.addr_in_range(t.l3, &t.src) {
        return false;
    }
    if r.flags & PROTO_SPECIFIED == 0 {
        return true;
    }
    key_in_range(t, ManipType::Src, r)
}

/// The 32-bit words of an address as the kernel reads `union nf_inet_addr`
/// (`all[i]`): native byte order of the network-order bytes.
fn words(a: &[u8; 16]) -> [u32; 4] {
    let mut w = [0u32; 4];
    for (x, c) in w.iter_mut().zip(a.chunks_exact(4)) {
        if let [p, q, r, s] = *c {
            *x = u32::from_ne_bytes([p, q, r, s]);
        }
    }
    w
}

/// `reciprocal_scale(val, ep_ro)`: `val` scaled into `0..ep_ro`.
fn reciprocal_scale(val: u32, ep_ro: u32) -> u32 {
    ((u64::from(val) * u64::from(ep_ro)) >> 32) as u32
}

/// `find_best_ips_proto`: the address within the range for this connection,
/// a hash of the source and destination addresses and the zone (of the
/// source only with `PERSISTENT`), so a client keeps its outside address
/// (SNAT) or its backend (DNAT) across connections.
fn best_ip(t: &mut Tuple, r: &NatRange, manip: ManipType, zone: u16) {
    if r.flags & super::range::MAP_IPS == 0 {
        return;
    }
    if r.min_addr == r.max_addr {
        match manip {
            ManipType::Src => t.src = r.min_addr,
            ManipType::Dst => t.dst = r.min_addr,
        }
        return;
    }
    let max = match t.l3 {
        L3Proto::Ipv4 => 0,
        L3Proto::Ipv6 => 3,
    };
    let persistent = r.flags & PERSISTENT != 0;
    let dst_max = words(&t.dst).get(max).copied().unwrap_or(0);
    let mut j = jhash2(&words(&t.src), if persistent { 0 } else { dst_max ^ u32::from(zone) });
    let (lo, hi) = (words(&r.min_addr), words(&r.max_addr));
    let mut var = match manip {
        ManipType::Src => words(&t.src),
        ManipType::Dst => words(&t.dst),
    };
    let mut full_range = false;
    for i in 0..=max {
        let (minip, dist) = if full_range {
            (0u32, !0u32)
        } else {
            let minip = u32::from_be(lo.get(i).copied().unwrap_or(0));
            let maxip = u32::from_be(hi.get(i).copied().unwrap_or(0));
            (minip, maxip.wrapping_sub(minip).wrapping_add(1))
        };
        let word = minip.wrapping_add(reciprocal_scale(j, dist)).to_be();
        if let Some(v) = var.get_mut(i) {
            *v = word;
        }
        if Some(&word) != hi.get(i) {
            full_range = true;
        }
        if !persistent {
            // For DNAT the kernel rewrites tuple->dst in place, so the word
            // mixed in here is the one just chosen.
            let d = match manip {
                ManipType::Src => words(&t.dst).get(i).copied().unwrap_or(0),
                ManipType::Dst => word,
            };
            j ^= d;
        }
    }
    let mut bytes = [0u8; 16];
    for (c, w) in bytes.chunks_exact_mut(4).zip(var.iter()) {
        c.copy_from_slice(&w.to_ne_bytes());
    }
    match manip {
        ManipType::Src => t.src = bytes,
        ManipType::Dst => t.dst = bytes,
    }
}

/// `nf_nat_l4proto_unique_tuple`: searches the key range for a free tuple.
fn unique_key(t: &mut Tuple, r: &NatRange, manip: ManipType, space: &mut impl NatSpace) {
    let key = key_of(t);
    let (min, range_size): (u32, u32) = match key {
        Key::None => return,
        Key::IcmpId => {
            if r.flags & PROTO_SPECIFIED == 0 {
                (0, 65536)
            } else {
                // No swap for identifiers: the kernel computes the size in
                // unsigned arithmetic, so max < min wraps to a huge range.
                let min = u32::from(r.min_proto);
                (min, u32::from(r.max_proto).wrapping_sub(min).wrapping_add(1))
            }
        }
        Key::Port => {
            if r.flags & PROTO_SPECIFIED == 0 {
                // DNAT without ports never changes the port.
                if manip == ManipType::Dst {
                    return;
                }
                match key_value(t, key, manip) {
                    0..=511 => (1, 511),
                    512..=1023 => (600, 1023 - 600 + 1),
                    _ => (1024, 65535 - 1024 + 1),
                }
            } else {
                let (mut lo, mut hi) = (u32::from(r.min_proto), u32::from(r.max_proto));
                if hi < lo {
                    core::mem::swap(&mut lo, &mut hi);
                }
                (lo, hi - lo + 1)
            }
        }
    };
    // An identifier range with max = min - 1 wraps to 2^32, 0 here: the
    // kernel's loop then makes no attempt and the key stays as it is.
    if range_size == 0 {
        return;
    }
    let mut off: u16 = if r.flags & PROTO_OFFSET != 0 {
        key_value(t, key, manip).wrapping_sub(r.base_proto)
    } else if r.random() || manip != ManipType::Dst {
        space.random_u16()
    } else {
        0
    };
    let mut attempts = range_size.min(MAX_ATTEMPTS);
    loop {
        for i in 0..attempts {
            let v = min.wrapping_add(u32::from(off) % range_size) as u16;
            set_key(t, key, manip, v);
            if !space.used_harder(t, attempts - i) {
                return;
            }
            off = off.wrapping_add(1);
        }
        if attempts >= range_size || attempts < 16 {
            return;
        }
        attempts /= 2;
        off = space.random_u16();
    }
}

/// `get_unique_tuple`: the tuple the connection whose original tuple is
/// `orig` gets after a `manip` mapping into `r`, in conntrack zone `zone`.
///
/// Returns `orig` itself when nothing needs to change; the caller compares
/// to see whether the connection is NATed. When every candidate is taken,
/// the last one tried is returned (the kernel's behaviour; the clash is
/// resolved at confirmation).
pub fn unique_tuple(orig: &Tuple, r: &NatRange, manip: ManipType, zone: u16, space: &mut impl NatSpace) -> Tuple {
    // 1) SNAT: keep the tuple, or reuse the source's existing mapping.
    if manip == ManipType::Src && !r.random() {
        if in_range(orig, r) {
            if !space.used_new(orig) {
                return *orig;
            }
        } else {
            let mut found = None;
            space.for_each_same_src(orig, &mut |reply: &Tuple| {
                let mut cand = reply.invert();
                cand.dst = orig.dst;
                cand.dst_id = orig.dst_id;
                if in_range(&cand, r) {
                    found = Some(cand);
                    true
                } else {
                    false
                }
            });
            if let Some(cand) = found {
                if !space.used(&cand) {
                    return cand;
                }
            }
        }
    }

    // 2) The address, by hash within the range.
    let mut t = *orig;
    best_ip(&mut t, r, manip, zone);

    // 3) Keep the key if it is in range and free.
    if !r.random() {
        if r.flags & PROTO_SPECIFIED != 0 {
            if r.flags & PROTO_OFFSET == 0
                && key_in_range(&t, manip, r)
                && (r.min_proto == r.max_proto || !space.used(&t))
            {
                return t;
            }
        } else if !space.used(&t) {
            return t;
        }
    }

    // 4) Search the key range.
    unique_key(&mut t, r, manip, space);
    t
}

#[cfg(test)]
mod tests;
