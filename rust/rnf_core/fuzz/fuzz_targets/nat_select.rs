// SPDX-License-Identifier: GPL-2.0
//! NAT tuple selection, `nat::select::unique_tuple`, over a small fake
//! `NatSpace`: ranges with every flag, both manips, TCP, UDP, ICMP echo
//! and a protocol without ports, both families, taken tuples and earlier
//! mappings from the same source.
//!
//! Input: byte 0 (bit 0 IPv6; bits 1-2 TCP, UDP, ICMP echo, GRE; bit 3
//! DNAT; bit 4 the IPv6 range differs in its last word only), the range
//! flags (one byte, `NF_NAT_RANGE_*` bits), its addresses and
//! `min_proto`, `max_proto`, `base_proto`, the original tuple (addresses,
//! ports or identifier), the zone, a taken key interval, then taken tuples
//! (the manip's side of the original with another address or key), earlier
//! mappings of the same source and the random numbers, each list behind a
//! count byte.
//!
//! Oracles: no panic; deterministic; the side that is not mapped, the
//! protocol and the family are unchanged; with `MAP_IPS` the mapped address
//! lies in the range (IPv4, and IPv6 ranges that differ in the last word
//! only: the kernel's `find_best_ips_proto` leaves wider IPv6 ranges
//! word by word), without it the address is the original's or an earlier
//! mapping's; a changed port or identifier lies in the range searched
//! (`PROTO_SPECIFIED`'s, or the original port's class 1-511, 600-1023,
//! 1024-65535); and whenever the search cannot have missed a free tuple
//! (fewer taken keys than one round tries) the chosen tuple is not taken.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rnf_core::conntrack::tuple::Tuple;
use rnf_core::nat::range::*;
use rnf_core::nat::select::{unique_tuple, NatSpace, MAX_ATTEMPTS};
use rnf_core::packet::{L3Proto, IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_TCP, IPPROTO_UDP};
use rnf_core_fuzz::Input;

#[derive(Clone)]
struct Space {
    /// Keys of the manip's side taken whatever the address.
    taken_keys: (u16, u16),
    taken: Vec<Tuple>,
    /// Earlier connections: (original, reply).
    bysrc: Vec<(Tuple, Tuple)>,
    random: Vec<u16>,
    next: usize,
    /// Every candidate asked about and the answer, when recording.
    probes: Option<Vec<(Tuple, bool)>>,
    key_of: fn(&Tuple) -> u16,
}

impl NatSpace for Space {
    fn used(&mut self, c: &Tuple) -> bool {
        let k = (self.key_of)(c);
        let used = (k >= self.taken_keys.0 && k <= self.taken_keys.1) || self.taken.contains(c);
        if let Some(p) = self.probes.as_mut() {
            p.push((*c, used));
        }
        used
    }
    fn for_each_same_src(&mut self, orig: &Tuple, f: &mut dyn FnMut(&Tuple) -> bool) {
        for (o, reply) in &self.bysrc {
            if o.proto == orig.proto && o.l3 == orig.l3 && o.src == orig.src && o.src_id == orig.src_id && f(reply) {
                return;
            }
        }
    }
    fn random_u16(&mut self) -> u16 {
        self.next += 1;
        self.random.get(self.next - 1).copied().unwrap_or((self.next as u16).wrapping_mul(0x9e37))
    }
}

fn addr(inp: &mut Input, l3: L3Proto) -> [u8; 16] {
    let mut a = [0u8; 16];
    for b in a.iter_mut().take(l3.addr_len()) {
        *b = inp.u8();
    }
    a
}

fn src_key(t: &Tuple) -> u16 {
    t.src_id
}

fn dst_key(t: &Tuple) -> u16 {
    t.dst_id
}

fuzz_target!(|data: &[u8]| {
    let mut inp = Input::new(data);
    let c = inp.u8();
    let l3 = if c & 1 == 0 { L3Proto::Ipv4 } else { L3Proto::Ipv6 };
    let icmp = if l3 == L3Proto::Ipv4 { IPPROTO_ICMP } else { IPPROTO_ICMPV6 };
    let proto = [IPPROTO_TCP, IPPROTO_UDP, icmp, 47][usize::from((c >> 1) & 3)];
    let m = if c & 8 == 0 { ManipType::Src } else { ManipType::Dst };
    let flags = u32::from(inp.u8() & 0x7f);
    let min_addr = addr(&mut inp, l3);
    let mut max_addr = addr(&mut inp, l3);
    if l3 == L3Proto::Ipv6 && c & 0x10 != 0 {
        max_addr[..12].copy_from_slice(&min_addr[..12]);
    }
    let r = NatRange { flags, min_addr, max_addr, min_proto: inp.u16(), max_proto: inp.u16(), base_proto: inp.u16() };
    let (src, dst) = (addr(&mut inp, l3), addr(&mut inp, l3));
    let (sport, dport) = (inp.u16(), inp.u16());
    let echo = if l3 == L3Proto::Ipv4 { 8u16 << 8 } else { 128u16 << 8 };
    let orig = Tuple { src, dst, src_id: sport, dst_id: if proto == icmp { echo } else { dport }, proto, l3 };
    let zone = inp.u16();
    // The key that maps: the identifier for ICMP, else the manip's port.
    let (key, key_of): (Option<u16>, fn(&Tuple) -> u16) = match (proto, m) {
        (p, _) if p == icmp => (Some(orig.src_id), src_key),
        (IPPROTO_TCP | IPPROTO_UDP, ManipType::Src) => (Some(orig.src_id), src_key),
        (IPPROTO_TCP | IPPROTO_UDP, ManipType::Dst) => (Some(orig.dst_id), dst_key),
        _ => (None, src_key),
    };
    let src_side = proto == icmp || m == ManipType::Src;
    let taken_keys = match inp.u8() {
        0..=127 => (1, 0),
        _ => {
            let a = inp.u16();
            (a, a.saturating_add(u16::from(inp.u8())))
        }
    };
    let mut taken = Vec::new();
    for _ in 0..inp.u8() % 16 {
        let mut t = orig;
        let a = match inp.u8() % 4 {
            0 => r.min_addr,
            1 => r.max_addr,
            2 => if m == ManipType::Src { orig.src } else { orig.dst },
            _ => addr(&mut inp, l3),
        };
        let k = inp.u16();
        match m {
            ManipType::Src => t.src = a,
            ManipType::Dst => t.dst = a,
        }
        if src_side {
            t.src_id = k;
        } else {
            t.dst_id = k;
        }
        taken.push(t);
    }
    let mut bysrc = Vec::new();
    for _ in 0..inp.u8() % 4 {
        let reply = Tuple { src: addr(&mut inp, l3), dst: addr(&mut inp, l3), src_id: inp.u16(), dst_id: inp.u16(), proto, l3 };
        bysrc.push((orig, reply));
    }
    let random = (0..inp.u8() % 8).map(|_| inp.u16()).collect();
    let space = Space { taken_keys, taken, bysrc, random, next: 0, key_of, probes: None };

    let got = unique_tuple(&orig, &r, m, zone, &mut space.clone());
    assert_eq!(got, unique_tuple(&orig, &r, m, zone, &mut space.clone()), "deterministic");

    // The side that is not mapped, the protocol and the family stay.
    assert_eq!((got.proto, got.l3), (orig.proto, orig.l3));
    match m {
        ManipType::Src => assert_eq!((got.dst, got.dst_id), (orig.dst, orig.dst_id)),
        ManipType::Dst => {
            assert_eq!(got.src, orig.src);
            if proto != icmp {
                assert_eq!(got.src_id, orig.src_id);
            }
        }
    }
    if proto == icmp {
        assert_eq!(got.dst_id, orig.dst_id, "ICMP type and code stay");
    }

    // Earlier mappings of the same source (SNAT only, not random).
    let from_bysrc = m == ManipType::Src
        && space.bysrc.iter().any(|(_, reply)| {
            let mut cand = reply.invert();
            cand.dst = orig.dst;
            cand.dst_id = orig.dst_id;
            cand == got
        });

    // The address.
    let (ga, oa) = match m {
        ManipType::Src => (got.src, orig.src),
        ManipType::Dst => (got.dst, orig.dst),
    };
    let n = l3.addr_len();
    if flags & MAP_IPS != 0 {
        let narrow = l3 == L3Proto::Ipv4 || r.min_addr[..12] == r.max_addr[..12];
        if narrow && r.min_addr[..n] <= r.max_addr[..n] {
            assert!(r.addr_in_range(l3, &ga), "address {:?} outside the range {:?}..{:?}", &ga[..n], &r.min_addr[..n], &r.max_addr[..n]);
        }
    } else if !from_bysrc {
        assert_eq!(ga, oa, "without MAP_IPS the address stays");
    }

    // The key.
    let Some(k0) = key else { return };
    let k = key_of(&got);
    let (lo, hi) = (r.min_proto.min(r.max_proto), r.min_proto.max(r.max_proto));
    let specified = flags & PROTO_SPECIFIED != 0;
    // The range a search draws from; None: all keys.
    let searched: Option<(u16, u16)> = match (proto == icmp, specified, m) {
        (true, true, _) if r.min_proto <= r.max_proto => Some((r.min_proto, r.max_proto)),
        (true, _, _) => None,
        (false, true, _) => Some((lo, hi)),
        (false, false, ManipType::Src) => Some(match k0 {
            0..=511 => (1, 511),
            512..=1023 => (600, 1023),
            _ => (1024, 65535),
        }),
        (false, false, ManipType::Dst) => {
            assert_eq!(k, k0, "DNAT without ports keeps the port");
            return;
        }
    };
    // A changed key comes from the search (its range) or from an earlier
    // mapping (in the range when PROTO_SPECIFIED, else any).
    let in_searched = searched.map_or(true, |(a, b)| k >= a && k <= b);
    let in_bysrc = from_bysrc && (!specified || (k >= r.min_proto && k <= r.max_proto));
    assert!(k == k0 || in_searched || in_bysrc, "key {k} outside {searched:?}");

    // Every probe that finds a free tuple ends the selection with it;
    // when none does, the last tuple tried is the answer (kernel: the
    // clash is caught at confirmation), save the shortcuts that return
    // without searching: a one-key range keeps its key, taken or not.
    let mut sp = space.clone();
    sp.probes = Some(Vec::new());
    assert_eq!(unique_tuple(&orig, &r, m, zone, &mut sp), got);
    let probes = sp.probes.unwrap_or_default();
    match probes.iter().position(|(_, used)| !used) {
        Some(i) => {
            assert_eq!(probes[i].0, got, "a free tuple was found but another chosen");
            assert_eq!(i + 1, probes.len(), "probing went on after a free tuple");
        }
        None => {
            let one_key = specified && flags & PROTO_OFFSET == 0 && !r.random() && r.min_proto == r.max_proto && k0 == r.min_proto;
            // Nothing asked: an identifier range of 2^32 (max = min - 1)
            // makes no attempt and keeps the key, as in the kernel.
            if one_key || (probes.is_empty() && proto == icmp && specified && r.max_proto.wrapping_add(1) == r.min_proto) {
                assert!(one_key || k == k0);
                return;
            }
            assert_eq!(probes.last().map(|p| p.0), Some(got), "all taken: the last tuple tried is the answer");
            // The first round tries min(size, MAX_ATTEMPTS) keys; the u16
            // offset may wrap (as in the kernel), which repeats at most
            // half of them.
            let (a, b) = searched.unwrap_or((0, 65535));
            let size = u32::from(b) - u32::from(a) + 1;
            let mut keys: Vec<u16> = probes.iter().filter(|(t, _)| (t.src, t.dst) == (got.src, got.dst)).map(|(t, _)| key_of(t)).collect();
            keys.sort_unstable();
            keys.dedup();
            let want = size.min(MAX_ATTEMPTS).div_ceil(2) as usize;
            assert!(keys.len() >= want, "only {} keys tried of a range of {size}", keys.len());
        }
    }
});
