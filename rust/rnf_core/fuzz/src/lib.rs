// SPDX-License-Identifier: GPL-2.0
//! What the fuzz targets share: a reader that turns fuzz bytes into
//! parameters, packet builders, and oracles written independently of
//! rnf_core (the Internet checksum, the kernel's TCP state table), so that a
//! bug in rnf_core cannot hide in the code that judges it.
//!
//! Only the fuzz targets use this crate; it is not part of the kernel build.

use rnf_core::packet::{L3Proto, IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_TCP, IPPROTO_UDP};
pub use rnf_core::nat::rewrite::IPPROTO_UDPLITE;

pub mod tcp_table;
pub mod xt_env;

/// Reads parameters off the fuzz input; past its end every read gives zero,
/// so any input is a complete set of parameters.
pub struct Input<'a> {
    data: &'a [u8],
}

impl<'a> Input<'a> {
    /// A reader over `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Input { data }
    }

    /// Whether everything was read.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The next byte.
    pub fn u8(&mut self) -> u8 {
        match self.data.split_first() {
            Some((&b, rest)) => {
                self.data = rest;
                b
            }
            None => 0,
        }
    }

    /// The next two bytes, big-endian.
    pub fn u16(&mut self) -> u16 {
        u16::from_be_bytes([self.u8(), self.u8()])
    }

    /// The next four bytes, big-endian.
    pub fn u32(&mut self) -> u32 {
        u32::from_be_bytes([self.u8(), self.u8(), self.u8(), self.u8()])
    }

    /// The next `N` bytes.
    pub fn array<const N: usize>(&mut self) -> [u8; N] {
        let mut a = [0u8; N];
        for b in a.iter_mut() {
            *b = self.u8();
        }
        a
    }

    /// Up to `n` next bytes (fewer at the end of the input).
    pub fn bytes(&mut self, n: usize) -> &'a [u8] {
        let (a, b) = self.data.split_at(n.min(self.data.len()));
        self.data = b;
        a
    }

    /// Everything not read yet.
    pub fn rest(&mut self) -> &'a [u8] {
        let r = self.data;
        self.data = &[];
        r
    }
}

/// The 16-bit one's-complement sum (RFC 1071) of `data` as big-endian words,
/// an odd last byte padded with zero, folded: 0 only for all-zero data.
pub fn ones_sum(data: &[u8]) -> u16 {
    let mut s: u64 = 0;
    for c in data.chunks(2) {
        let w = if c.len() == 2 { u16::from_be_bytes([c[0], c[1]]) } else { u16::from_be_bytes([c[0], 0]) };
        s += u64::from(w);
    }
    fold(s)
}

/// Folds a wide one's-complement accumulator to 16 bits.
pub fn fold(mut s: u64) -> u16 {
    while s > 0xffff {
        s = (s & 0xffff) + (s >> 16);
    }
    s as u16
}

/// Whether two one's-complement values are equal (0x0000 and 0xffff are
/// both zero).
pub fn ones_eq(a: u16, b: u16) -> bool {
    a % 0xffff == b % 0xffff
}

/// The same sum over `data` read as native-endian words, as `csum_partial`
/// computes `skb->csum` (not folded further than 16 bits).
pub fn native_sum(data: &[u8]) -> u16 {
    let mut s: u64 = 0;
    for c in data.chunks(2) {
        let w = if c.len() == 2 { u16::from_ne_bytes([c[0], c[1]]) } else { u16::from_ne_bytes([c[0], 0]) };
        s += u64::from(w);
    }
    fold(s)
}

/// The pseudo-header of `l3` (RFC 793 / RFC 8200 section 8.1) followed by
/// `seg`, whose sum is what a TCP, UDP or ICMPv6 checksum covers.
pub fn with_pseudo(l3: L3Proto, src: &[u8], dst: &[u8], proto: u8, seg: &[u8]) -> Vec<u8> {
    let n = l3.addr_len();
    let mut p = Vec::with_capacity(seg.len() + 40);
    p.extend_from_slice(&src[..n]);
    p.extend_from_slice(&dst[..n]);
    match l3 {
        L3Proto::Ipv4 => {
            p.extend_from_slice(&[0, proto]);
            p.extend_from_slice(&(seg.len() as u16).to_be_bytes());
        }
        L3Proto::Ipv6 => {
            p.extend_from_slice(&(seg.len() as u32).to_be_bytes());
            p.extend_from_slice(&[0, 0, 0, proto]);
        }
    }
    p.extend_from_slice(seg);
    p
}

/// The offset of the checksum field in a transport header, if it has one.
pub fn check_off(l3: L3Proto, proto: u8) -> Option<usize> {
    match (l3, proto) {
        (_, IPPROTO_TCP) => Some(16),
        (_, IPPROTO_UDP | IPPROTO_UDPLITE) => Some(6),
        (L3Proto::Ipv4, IPPROTO_ICMP) | (L3Proto::Ipv6, IPPROTO_ICMPV6) => Some(2),
        _ => None,
    }
}

/// The bytes a transport checksum covers: the segment, behind the
/// pseudo-header except for ICMP (RFC 792 has none).
pub fn covered(l3: L3Proto, src: &[u8], dst: &[u8], proto: u8, seg: &[u8]) -> Vec<u8> {
    if l3 == L3Proto::Ipv4 && proto == IPPROTO_ICMP {
        seg.to_vec()
    } else {
        with_pseudo(l3, src, dst, proto, seg)
    }
}

/// Writes the transport checksum of `seg` (the field zeroed first).
pub fn fill_l4_checksum(l3: L3Proto, src: &[u8], dst: &[u8], proto: u8, seg: &mut [u8]) {
    let Some(co) = check_off(l3, proto) else { return };
    if seg.len() < co + 2 {
        return;
    }
    seg[co..co + 2].fill(0);
    let c = !ones_sum(&covered(l3, src, dst, proto, seg));
    seg[co..co + 2].copy_from_slice(&c.to_be_bytes());
}

/// Whether the transport checksum of `seg` is right by full recomputation.
pub fn l4_checksum_ok(l3: L3Proto, src: &[u8], dst: &[u8], proto: u8, seg: &[u8]) -> bool {
    ones_eq(ones_sum(&covered(l3, src, dst, proto, seg)), 0xffff)
}

/// Reads the big-endian 16-bit word at `off` (0 past the end).
pub fn get16(b: &[u8], off: usize) -> u16 {
    match b.get(off..off + 2) {
        Some(&[x, y]) => u16::from_be_bytes([x, y]),
        _ => 0,
    }
}

/// Writes the big-endian 16-bit word at `off` (nothing past the end).
pub fn put16(b: &mut [u8], off: usize, v: u16) {
    if let Some(d) = b.get_mut(off..off + 2) {
        d.copy_from_slice(&v.to_be_bytes());
    }
}

/// A 16-byte address holding `a` in its first bytes.
pub fn a16(a: &[u8]) -> [u8; 16] {
    let mut x = [0u8; 16];
    x[..a.len()].copy_from_slice(a);
    x
}

/// An IPv4 header (`options` padded to whole words, at most 40 bytes) with
/// protocol `proto` and a correct header checksum, followed by `seg`.
pub fn ipv4(proto: u8, src: [u8; 4], dst: [u8; 4], options: &[u8], seg: &[u8]) -> Vec<u8> {
    let mut opts = options[..options.len().min(40)].to_vec();
    while opts.len() % 4 != 0 {
        opts.push(0);
    }
    let ihl = 20 + opts.len();
    let mut p = vec![0x40 | (ihl / 4) as u8, 0, 0, 0, 0x12, 0x34, 0x40, 0, 64, proto, 0, 0];
    p.extend_from_slice(&src);
    p.extend_from_slice(&dst);
    p.extend_from_slice(&opts);
    put16(&mut p, 2, (ihl + seg.len()) as u16);
    let c = !ones_sum(&p);
    put16(&mut p, 10, c);
    p.extend_from_slice(seg);
    p
}

/// An IPv6 header followed by the extension headers `ext` (each its type
/// and whole body, the next-header byte filled in here) and `seg` of
/// protocol `proto`.
pub fn ipv6(proto: u8, src: [u8; 16], dst: [u8; 16], ext: &[(u8, Vec<u8>)], seg: &[u8]) -> Vec<u8> {
    let mut p = vec![0x60, 0, 0, 0, 0, 0, 0, 64];
    p.extend_from_slice(&src);
    p.extend_from_slice(&dst);
    let mut next_at = 6;
    for (ty, body) in ext {
        p[next_at] = *ty;
        next_at = p.len();
        p.extend_from_slice(body);
    }
    p[next_at] = proto;
    p.extend_from_slice(seg);
    let plen = (p.len() - 40) as u16;
    put16(&mut p, 4, plen);
    p
}

/// A transport header of `proto` with ports (or ICMP type and identifier)
/// and `payload`; its checksum field zero. TCP gets `doff` words (5..15,
/// options zero-filled) and `flags`.
pub fn l4(l3: L3Proto, proto: u8, sport: u16, dport: u16, icmp_type: u8, tcp_words: u8, payload: &[u8]) -> Vec<u8> {
    let mut h = match (l3, proto) {
        (_, IPPROTO_TCP) => {
            let words = usize::from(tcp_words.clamp(5, 15));
            let mut h = vec![0u8; words * 4];
            h[0..2].copy_from_slice(&sport.to_be_bytes());
            h[2..4].copy_from_slice(&dport.to_be_bytes());
            h[4..8].copy_from_slice(&0x1234_5678u32.to_be_bytes());
            h[12] = (words as u8) << 4;
            h[13] = 0x12;
            h[14..16].copy_from_slice(&64240u16.to_be_bytes());
            // Options, if any: NOPs then EOL.
            for b in h.iter_mut().skip(20) {
                *b = 1;
            }
            if let Some(b) = h.last_mut() {
                if words > 5 {
                    *b = 0;
                }
            }
            h
        }
        (_, IPPROTO_UDP | IPPROTO_UDPLITE) => {
            let mut h = vec![0u8; 8];
            h[0..2].copy_from_slice(&sport.to_be_bytes());
            h[2..4].copy_from_slice(&dport.to_be_bytes());
            h
        }
        (L3Proto::Ipv4, IPPROTO_ICMP) | (L3Proto::Ipv6, IPPROTO_ICMPV6) => {
            let mut h = vec![icmp_type, 0, 0, 0, 0, 0, 0, 1];
            h[4..6].copy_from_slice(&sport.to_be_bytes());
            h
        }
        _ => Vec::new(),
    };
    h.extend_from_slice(payload);
    if proto == IPPROTO_UDP && h.len() >= 8 {
        let n = h.len() as u16;
        h[4..6].copy_from_slice(&n.to_be_bytes());
    }
    h
}

/// The ICMP types that carry an identifier which NAT maps (queries and
/// their replies; `icmp_manip_pkt`, `icmpv6_manip_pkt`).
pub fn icmp_has_id(l3: L3Proto, t: u8) -> bool {
    match l3 {
        L3Proto::Ipv4 => matches!(t, 0 | 8 | 13 | 14 | 15 | 16 | 17 | 18),
        L3Proto::Ipv6 => matches!(t, 128 | 129),
    }
}
