// SPDX-License-Identifier: GPL-2.0
//! Conntrack tuples: what identifies one direction of a connection.
//!
//! Mirrors `struct nf_conntrack_tuple` (include/net/netfilter/nf_conntrack_tuple.h):
//! addresses, the layer-4 protocol, and the protocol's identifiers (ports for
//! TCP and UDP; identifier, type and code for ICMP echo).

use crate::packet::{L3Proto, PacketInfo, IPPROTO_ICMP, IPPROTO_ICMPV6, L4};

/// One direction of a connection.
///
/// Addresses are in network byte order, IPv4 in the first four bytes with
/// the rest zero. `src_id` and `dst_id` are in host byte order: for TCP and
/// UDP the source and destination ports; for ICMP and ICMPv6 `src_id` is the
/// echo identifier and `dst_id` is `type << 8 | code`; zero for protocols
/// tracked by address only.
///
/// `repr(C)`: its fields lie as those of the glue's `struct rnf_tuple`
/// (rust/glue/rnf_conntrack_api.h), which NAT's glue reads in place
/// (rust/glue/nat/mod.rs checks the offsets when it builds).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(C)]
pub struct Tuple {
    /// Source address.
    pub src: [u8; 16],
    /// Destination address.
    pub dst: [u8; 16],
    /// Source port or ICMP identifier.
    pub src_id: u16,
    /// Destination port or ICMP `type << 8 | code`.
    pub dst_id: u16,
    /// `IPPROTO_*` number.
    pub proto: u8,
    /// Family.
    pub l3: L3Proto,
}

/// Why a packet has no tuple of its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoTuple {
    /// A non-first fragment: the transport header is in another packet.
    Fragment,
    /// An ICMP message that is not an echo-like query or reply, such as an
    /// error; connection tracking handles errors through the packet they embed.
    IcmpNotQuery,
}

/// The reply type of an ICMP query type, and the reverse; `None` for types
/// that are not query/reply pairs. Same pairs as the kernel's
/// `invmap` in net/netfilter/nf_conntrack_proto_icmp.c.
fn icmp_inverse_type(l3: L3Proto, t: u8) -> Option<u8> {
    match l3 {
        L3Proto::Ipv4 => match t {
            8 => Some(0),
            0 => Some(8),
            13 => Some(14),
            14 => Some(13),
            15 => Some(16),
            16 => Some(15),
            17 => Some(18),
            18 => Some(17),
            _ => None,
        },
        L3Proto::Ipv6 => match t {
            128 => Some(129),
            129 => Some(128),
            139 => Some(140),
            140 => Some(139),
            _ => None,
        },
    }
}

/// Whether an ICMP type has a connection to belong to: a query or the reply
/// to one (the kernel's `invmap`, which `nf_ct_invert_tuple` consults).
pub fn icmp_type_has_inverse(l3: L3Proto, t: u8) -> bool {
    icmp_inverse_type(l3, t).is_some()
}

/// Whether an ICMP type may open a new connection (a query, not a reply);
/// the kernel's `valid_new` tables.
pub fn icmp_type_is_query(l3: L3Proto, t: u8) -> bool {
    match l3 {
        L3Proto::Ipv4 => matches!(t, 8 | 13 | 15 | 17),
        L3Proto::Ipv6 => matches!(t, 128 | 139),
    }
}

impl Tuple {
    /// All zero, IPv4: what a caller's tuple holds until it is written
    /// (the tracking hook's, before its packet is classified).
    pub const EMPTY: Tuple = Tuple { src: [0; 16], dst: [0; 16], src_id: 0, dst_id: 0, proto: 0, l3: L3Proto::Ipv4 };

    /// The tuple of a parsed packet, in the packet's own direction.
    pub fn from_packet(p: &PacketInfo) -> Result<Tuple, NoTuple> {
        let mut t = Tuple::EMPTY;
        t.set_from_packet(p)?;
        Ok(t)
    }

    /// [`Tuple::from_packet`] written over `self` (unchanged on error):
    /// the tracking hook's own tuple, built where it is used (returned, it
    /// was built in a temporary and copied, a dozen instructions a packet).
    #[inline]
    pub fn set_from_packet(&mut self, p: &PacketInfo) -> Result<(), NoTuple> {
        if p.later_fragment {
            return Err(NoTuple::Fragment);
        }
        let (src_id, dst_id) = match p.l4 {
            L4::Tcp { sport, dport, .. } | L4::Udp { sport, dport, .. } => (sport, dport),
            L4::Icmp { icmp_type, code, id, .. } => {
                if icmp_inverse_type(p.l3, icmp_type).is_none() {
                    return Err(NoTuple::IcmpNotQuery);
                }
                (id, u16::from(icmp_type) << 8 | u16::from(code))
            }
            L4::Other => (0, 0),
        };
        (self.src, self.dst, self.src_id, self.dst_id, self.proto, self.l3) = (p.src, p.dst, src_id, dst_id, p.proto, p.l3);
        Ok(())
    }

    /// The tuple of the other direction: addresses swapped, ports swapped,
    /// an ICMP query type turned into its reply type.
    #[inline]
    pub fn invert(&self) -> Tuple {
        let (src_id, dst_id) = if self.is_icmp() {
            let t = self.icmp_type();
            // from_packet only builds ICMP tuples of invertible types; an
            // unknown type stays as it is rather than panicking.
            let inv = icmp_inverse_type(self.l3, t).unwrap_or(t);
            (self.src_id, u16::from(inv) << 8 | u16::from(self.icmp_code()))
        } else {
            (self.dst_id, self.src_id)
        };
        Tuple { src: self.dst, dst: self.src, src_id, dst_id, proto: self.proto, l3: self.l3 }
    }

    /// Whether this is an ICMP or ICMPv6 tuple.
    pub fn is_icmp(&self) -> bool {
        matches!((self.l3, self.proto), (L3Proto::Ipv4, IPPROTO_ICMP) | (L3Proto::Ipv6, IPPROTO_ICMPV6))
    }

    /// ICMP type (meaningful only when [`Tuple::is_icmp`]).
    pub fn icmp_type(&self) -> u8 {
        (self.dst_id >> 8) as u8
    }

    /// ICMP code (meaningful only when [`Tuple::is_icmp`]).
    pub fn icmp_code(&self) -> u8 {
        (self.dst_id & 0xff) as u8
    }

    /// Hash of the tuple in the namespace `netns` with the table's random
    /// `seed` (Bob Jenkins' lookup3 `hashword`, the kernel's `jhash2`).
    ///
    /// An IPv4 tuple hashes three words, as the kernel's `ip_conntrack`
    /// hashed IPv4 tuples with `jhash_3words()` (Linux 2.6): the source
    /// address, the destination address with the protocol folded in, and
    /// both ports; the namespace goes into the initial value with the
    /// seed, as `hash_conntrack_raw()` mixes `net_hash_mix()` into its
    /// seed. Three words take lookup3's final mix alone, where five took a
    /// round of `__jhash_mix` more (some 50 instructions a packet, once
    /// for every packet conntrack looks up). An IPv6 tuple hashes nine:
    /// the two addresses, the protocol folded into the last word of the
    /// destination, the ports. The table's seed stays secret, so chains
    /// stay unpredictable from outside; the kernel this builds against
    /// uses SipHash instead, at about three times the cost.
    #[inline]
    pub fn hash(&self, netns: u32, seed: u32) -> u32 {
        let ([s0, s1, s2, s3], [d0, d1, d2, d3]) = (addr_words(&self.src), addr_words(&self.dst));
        let ports = u32::from(self.src_id) << 16 | u32::from(self.dst_id);
        let proto = u32::from(self.proto);
        let initval = seed ^ netns;
        match self.l3 {
            L3Proto::Ipv4 => jhash2(&[s0, d0 ^ proto, ports], initval),
            L3Proto::Ipv6 => jhash2(&[s0, s1, s2, s3, d0, d1, d2, d3 ^ proto, ports], initval),
        }
    }
}

/// An address as the kernel's `u32` words of `union nf_inet_addr.all`
/// (native byte order), taken apart by pattern: four loads, no loop and no
/// bounds check.
#[inline]
pub fn addr_words(a: &[u8; 16]) -> [u32; 4] {
    let [a0, a1, a2, a3, b0, b1, b2, b3, c0, c1, c2, c3, d0, d1, d2, d3] = *a;
    [
        u32::from_ne_bytes([a0, a1, a2, a3]),
        u32::from_ne_bytes([b0, b1, b2, b3]),
        u32::from_ne_bytes([c0, c1, c2, c3]),
        u32::from_ne_bytes([d0, d1, d2, d3]),
    ]
}

#[inline]
fn rol32(x: u32, k: u32) -> u32 {
    x.rotate_left(k)
}

/// lookup3 `hashword()` (include/linux/jhash.h `jhash2`), over `k` with
/// `initval`. Pure wrapping arithmetic: cannot overflow-panic.
#[inline]
pub fn jhash2(k: &[u32], initval: u32) -> u32 {
    const JHASH_INITVAL: u32 = 0xdead_beef;
    let init = JHASH_INITVAL
        .wrapping_add((k.len() as u32).wrapping_shl(2))
        .wrapping_add(initval);
    let (mut a, mut b, mut c) = (init, init, init);
    // Mix three words at a time while more than three remain.
    let mut rest = k;
    while let [x, y, z, tail @ ..] = rest {
        if tail.is_empty() {
            break;
        }
        a = a.wrapping_add(*x);
        b = b.wrapping_add(*y);
        c = c.wrapping_add(*z);
        // __jhash_mix
        a = a.wrapping_sub(c); a ^= rol32(c, 4); c = c.wrapping_add(b);
        b = b.wrapping_sub(a); b ^= rol32(a, 6); a = a.wrapping_add(c);
        c = c.wrapping_sub(b); c ^= rol32(b, 8); b = b.wrapping_add(a);
        a = a.wrapping_sub(c); a ^= rol32(c, 16); c = c.wrapping_add(b);
        b = b.wrapping_sub(a); b ^= rol32(a, 19); a = a.wrapping_add(c);
        c = c.wrapping_sub(b); c ^= rol32(b, 4); b = b.wrapping_add(a);
        rest = tail;
    }
    match *rest {
        [] => return c,
        [x] => a = a.wrapping_add(x),
        [x, y] => {
            b = b.wrapping_add(y);
            a = a.wrapping_add(x);
        }
        [x, y, z, ..] => {
            c = c.wrapping_add(z);
            b = b.wrapping_add(y);
            a = a.wrapping_add(x);
        }
    }
    // __jhash_final
    c ^= b; c = c.wrapping_sub(rol32(b, 14));
    a ^= c; a = a.wrapping_sub(rol32(c, 11));
    b ^= a; b = b.wrapping_sub(rol32(a, 25));
    c ^= b; c = c.wrapping_sub(rol32(b, 16));
    a ^= c; a = a.wrapping_sub(rol32(c, 4));
    b ^= a; b = b.wrapping_sub(rol32(a, 14));
    c ^= b; c = c.wrapping_sub(rol32(b, 24));
    c
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::IPPROTO_UDP;

    fn udp4(sport: u16, dst: u8) -> Tuple {
        let (mut src, mut d) = ([0u8; 16], [0u8; 16]);
        src[..4].copy_from_slice(&[10, 7, 0, 2]);
        d[..4].copy_from_slice(&[10, 8, 0, dst]);
        Tuple { src, dst: d, src_id: sport, dst_id: 9, proto: IPPROTO_UDP, l3: L3Proto::Ipv4 }
    }

    #[test]
    fn ipv4_hash_is_the_three_word_jhash2_and_spreads() {
        let t = udp4(10000, 2);
        let w = addr_words(&t.src)[0];
        let d = addr_words(&t.dst)[0];
        let ports = 10000u32 << 16 | 9;
        assert_eq!(t.hash(7, 99), jhash2(&[w, d ^ u32::from(IPPROTO_UDP), ports], 99 ^ 7));
        // The bench's 10,000 flows (one source port each): no two alike.
        let mut h: Vec<u32> = (0..10_000u16).map(|p| udp4(10000 + p, 2).hash(1, 0x5eed)).collect();
        h.sort_unstable();
        h.dedup();
        assert_eq!(h.len(), 10_000);
        // The destination, the protocol and the namespace are in the hash too.
        assert_ne!(t.hash(7, 99), udp4(10000, 3).hash(7, 99));
        assert_ne!(t.hash(7, 99), Tuple { proto: 6, ..t }.hash(7, 99));
        assert_ne!(t.hash(7, 99), t.hash(8, 99));
    }

    #[test]
    fn ipv6_hash_covers_every_address_word() {
        let mut t = Tuple { l3: L3Proto::Ipv6, ..udp4(10000, 2) };
        let base = t.hash(1, 5);
        for i in 0..16 {
            t.src[i] ^= 1;
            assert_ne!(t.hash(1, 5), base, "source byte {i}");
            t.src[i] ^= 1;
            t.dst[i] ^= 1;
            assert_ne!(t.hash(1, 5), base, "destination byte {i}");
            t.dst[i] ^= 1;
        }
        assert_eq!(t.hash(1, 5), base);
    }
}
