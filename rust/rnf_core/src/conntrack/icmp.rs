// SPDX-License-Identifier: GPL-2.0
//! ICMP and ICMPv6 error messages: the connection they are about.
//!
//! An error (destination unreachable, packet too big, time exceeded,
//! parameter problem, and for IPv4 source quench and redirect) carries the
//! start of the packet that caused it. Its tuple, inverted, names the tracked
//! connection in the direction the error travels; the error is RELATED to
//! that connection. Follows `nf_conntrack_inet_error()` and
//! `icmp_error_message()` (net/netfilter/nf_conntrack_proto_icmp.c, 6.12),
//! including its defence against forged errors: the error's outer destination
//! must be the destination of the connection in the direction found.

use crate::packet::{self, L3Proto, PacketInfo, ParseError, IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_TCP, IPPROTO_UDP, L4};
use crate::conntrack::tuple::Tuple;

/// Whether ICMP(v6) `icmp_type` is an error message whose payload is the
/// offending packet (`icmp_is_err()`, `ICMPV6_INFOMSG_MASK`).
pub fn is_error(l3: L3Proto, icmp_type: u8) -> bool {
    match l3 {
        L3Proto::Ipv4 => matches!(icmp_type, 3 | 4 | 5 | 11 | 12),
        L3Proto::Ipv6 => icmp_type < 128,
    }
}

/// Whether conntrack knows ICMP(v6) type `icmp_type` at all: IPv4 types
/// above 18 (`NR_ICMP_TYPES`) are refused by `nf_conntrack_icmpv4_error()`
/// ("invalid icmp type", counted as `error`); every ICMPv6 type is known.
pub fn type_known(l3: L3Proto, icmp_type: u8) -> bool {
    match l3 {
        L3Proto::Ipv4 => icmp_type <= 18,
        L3Proto::Ipv6 => true,
    }
}

/// ICMPv6 types that `nf_conntrack_icmpv6_error()` leaves untracked
/// (`noct_valid_new`: MLD and neighbour discovery), with no statistics.
pub fn untracked_type(l3: L3Proto, icmp_type: u8) -> bool {
    l3 == L3Proto::Ipv6 && matches!(icmp_type, 130..=136 | 143)
}

/// Why an ICMP error has no usable embedded tuple.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InnerError {
    /// The embedded header is truncated or malformed.
    Parse(ParseError),
    /// The embedded packet is a later fragment, or itself an ICMP error or
    /// reply: nothing to relate to.
    NoTuple,
}

/// The tuple of the packet embedded in ICMP error `p` (whose network header
/// starts at `data`), in the direction that packet travelled. Only the
/// first eight bytes of the embedded transport header are read (RFC 792):
/// the ports of TCP and UDP, the whole header of an ICMP query or reply.
pub fn inner_tuple(p: &PacketInfo, data: &[u8]) -> Result<Tuple, InnerError> {
    let L4::Icmp { inner_offset, .. } = p.l4 else { return Err(InnerError::NoTuple) };
    let inner = data.get(inner_offset..).ok_or(InnerError::Parse(ParseError::Truncated))?;
    let hdr = packet::parse_l3(p.l3, inner).map_err(InnerError::Parse)?;
    if hdr.later_fragment {
        return Err(InnerError::NoTuple);
    }
    let l4 = inner.get(hdr.l4_offset..).ok_or(InnerError::Parse(ParseError::Truncated))?;
    let b = |i: usize| l4.get(i).copied().ok_or(InnerError::Parse(ParseError::Truncated));
    let (src_id, dst_id) = match hdr.proto {
        IPPROTO_TCP | IPPROTO_UDP => {
            (u16::from_be_bytes([b(0)?, b(1)?]), u16::from_be_bytes([b(2)?, b(3)?]))
        }
        IPPROTO_ICMP | IPPROTO_ICMPV6 => {
            // icmp_pkt_to_tuple reads the whole 8-byte header.
            let (t, code) = (b(0)?, b(1)?);
            b(7)?;
            // As nf_ct_invert_tuple: queries and their replies belong to a
            // connection; an error about an error relates to nothing.
            if !crate::conntrack::tuple::icmp_type_has_inverse(p.l3, t) {
                return Err(InnerError::NoTuple);
            }
            (u16::from_be_bytes([b(4)?, b(5)?]), u16::from(t) << 8 | u16::from(code))
        }
        _ => (0, 0),
    };
    Ok(Tuple { src: hdr.src, dst: hdr.dst, src_id, dst_id, proto: hdr.proto, l3: p.l3 })
}

/// The kernel's check against forged errors: the error is RELATED only if
/// its outer destination is the destination of the connection's tuple in
/// the direction the lookup found (`conn_tuple_dst`).
pub fn outer_fits(outer: &PacketInfo, conn_tuple_dst: &[u8; 16]) -> bool {
    outer.dst == *conn_tuple_dst
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_and_untracked_types() {
        // The corpus case v4-icmp-unknown-type-42.
        assert!(type_known(L3Proto::Ipv4, 18) && !type_known(L3Proto::Ipv4, 19) && !type_known(L3Proto::Ipv4, 42));
        assert!(type_known(L3Proto::Ipv6, 200));
        assert!(untracked_type(L3Proto::Ipv6, 135) && untracked_type(L3Proto::Ipv6, 143));
        assert!(!untracked_type(L3Proto::Ipv6, 200) && !untracked_type(L3Proto::Ipv4, 135));
    }
}
