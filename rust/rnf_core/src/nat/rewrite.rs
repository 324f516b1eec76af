// SPDX-License-Identifier: GPL-2.0
//! Packet rewriting: a NATed packet's addresses, ports and ICMP identifiers,
//! with every checksum updated.
//!
//! Follows net/netfilter/nf_nat_proto.c (6.12): `nf_nat_ipv4_manip_pkt`,
//! `nf_nat_ipv6_manip_pkt`, the per-protocol `*_manip_pkt` functions and
//! `nf_nat_icmp_reply_translation` / `nf_nat_icmpv6_reply_translation`.
//! Checksums follow include/net/checksum.h and net/core/utils.c
//! (`csum_replace4`, `inet_proto_csum_replace{2,4,16}`): incremental RFC 1624
//! updates that honour the skb's checksum state ([`Summed`]).
//!
//! The functions work on `pkt`, the writable linear bytes of the packet from
//! its network header on, and `len`, the packet's whole length (`skb->len`
//! with `skb->data` at the network header). When they need more writable
//! bytes than `pkt` has, they return [`RewriteError::NeedWritable`] before
//! changing anything, and the caller makes that many bytes writable
//! (`skb_ensure_writable`) and calls again.

use super::checksum::{fold16, get16, inet_proto_csum_replace, put16, wadd};
pub use super::checksum::Summed;
use super::range::ManipType;
use crate::conntrack::conn::Direction;
use crate::packet::{L3Proto, IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_TCP, IPPROTO_UDP};
use crate::conntrack::tuple::Tuple;

/// `IPPROTO_UDPLITE`.
pub const IPPROTO_UDPLITE: u8 = 136;
/// `CSUM_MANGLED_0`: how a UDP checksum that comes out as zero is written.
const CSUM_MANGLED_0: u16 = 0xffff;

/// `IPS_SRC_NAT`: the connection's source is translated.
pub const IPS_SRC_NAT: u32 = 0x10;
/// `IPS_DST_NAT`: the connection's destination is translated.
pub const IPS_DST_NAT: u32 = 0x20;
/// `IPS_NAT_MASK`.
pub const IPS_NAT_MASK: u32 = IPS_SRC_NAT | IPS_DST_NAT;
/// `IPS_SRC_NAT_DONE`: the source mapping is decided.
pub const IPS_SRC_NAT_DONE: u32 = 0x80;
/// `IPS_DST_NAT_DONE`: the destination mapping is decided.
pub const IPS_DST_NAT_DONE: u32 = 0x100;
/// `IPS_NAT_DONE_MASK`.
pub const IPS_NAT_DONE_MASK: u32 = IPS_SRC_NAT_DONE | IPS_DST_NAT_DONE;

/// The status bit that says a packet of direction `reply` (or the original)
/// is rewritten at a hook of manip type `manip` (`nf_nat_packet`): the
/// manip's own bit, the other one for the reply direction.
pub fn statusbit(manip: ManipType, reply: bool) -> u32 {
    let bit = match manip {
        ManipType::Src => IPS_SRC_NAT,
        ManipType::Dst => IPS_DST_NAT,
    };
    if reply {
        bit ^ IPS_NAT_MASK
    } else {
        bit
    }
}

/// Why a packet cannot be rewritten.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RewriteError {
    /// Make the first this many bytes writable and linear, then call again.
    NeedWritable(usize),
    /// The packet is shorter than the headers the rewrite needs: drop it.
    Truncated,
}

/// The manip's new address, from the target tuple: its first `N` bytes (4
/// for IPv4, 16 for IPv6).
fn new_addr<const N: usize>(t: &Tuple, manip: ManipType) -> [u8; N] {
    let a = match manip {
        ManipType::Src => &t.src,
        ManipType::Dst => &t.dst,
    };
    a.first_chunk().copied().unwrap_or([0; N])
}

fn need(pkt: &[u8], n: usize, len: usize) -> Result<(), RewriteError> {
    if n > len {
        Err(RewriteError::Truncated)
    } else if n > pkt.len() {
        Err(RewriteError::NeedWritable(n))
    } else {
        Ok(())
    }
}

/// The offset of the manip's address field in a network header of
/// `N`-byte addresses (IPv4's 12 and 16, IPv6's 8 and 24).
fn addr_off<const N: usize>(manip: ManipType) -> usize {
    match (N, manip) {
        (4, ManipType::Src) => 12,
        (4, ManipType::Dst) => 16,
        (_, ManipType::Src) => 8,
        (_, ManipType::Dst) => 24,
    }
}

/// The `N`-byte address the manip replaces, from the network header at
/// `iphdroff`; zeros when it is not in `pkt` (the callers checked that it is).
fn old_addr<const N: usize>(pkt: &[u8], iphdroff: usize, manip: ManipType) -> [u8; N] {
    let at = iphdroff.saturating_add(addr_off::<N>(manip));
    pkt.get(at..).and_then(<[u8]>::first_chunk).copied().unwrap_or([0; N])
}

/// `l4proto_manip_pkt`: the transport header at `hdroff` for the target's
/// protocol, with `addrs` the network header's old and new address (`N`
/// bytes: 4 or 16) for the pseudo-header part of its checksum
/// (`nf_csum_update`).
fn l4_manip<const N: usize>(
    pkt: &mut [u8],
    len: usize,
    hdroff: usize,
    t: &Tuple,
    manip: ManipType,
    addrs: (&[u8; N], &[u8; N]),
    summed: &mut Summed,
) -> Result<(), RewriteError> {
    let port_off = match manip {
        ManipType::Src => 0,
        ManipType::Dst => 2,
    };
    let new_port = match manip {
        ManipType::Src => t.src_id,
        ManipType::Dst => t.dst_id,
    };
    // An offset that does not fit usize is past the packet: `need` refuses
    // it and get16/put16 treat it as out of range.
    let at = |n: usize| hdroff.saturating_add(n);
    let (old_a, new_a) = addrs;
    match (t.l3, t.proto) {
        (_, IPPROTO_TCP) => {
            // An embedded header (in an ICMP error) may have only the 8 bytes
            // the error guarantees: then its checksum is not touched.
            let full = len >= at(20);
            need(pkt, at(if full { 20 } else { 8 }), len)?;
            let old = get16(pkt, at(port_off));
            put16(pkt, at(port_off), new_port);
            if full {
                inet_proto_csum_replace(pkt, at(16), summed, old_a, new_a, true);
                inet_proto_csum_replace(pkt, at(16), summed, &old.to_be_bytes(), &new_port.to_be_bytes(), false);
            }
        }
        (_, IPPROTO_UDP | IPPROTO_UDPLITE) => {
            need(pkt, at(8), len)?;
            // A zero UDP checksum means "none" and stays zero; UDP-Lite
            // always has one.
            let do_csum = t.proto == IPPROTO_UDPLITE || get16(pkt, at(6)) != 0;
            let old = get16(pkt, at(port_off));
            if do_csum {
                inet_proto_csum_replace(pkt, at(6), summed, old_a, new_a, true);
                inet_proto_csum_replace(pkt, at(6), summed, &old.to_be_bytes(), &new_port.to_be_bytes(), false);
                if get16(pkt, at(6)) == 0 {
                    put16(pkt, at(6), CSUM_MANGLED_0);
                }
            }
            put16(pkt, at(port_off), new_port);
        }
        (L3Proto::Ipv4, IPPROTO_ICMP) => {
            need(pkt, at(8), len)?;
            // Only queries and replies carry an identifier (icmp_manip_pkt).
            if matches!(pkt.get(hdroff), Some(0 | 8 | 13 | 14 | 15 | 16 | 17 | 18)) {
                let old = get16(pkt, at(4));
                inet_proto_csum_replace(pkt, at(2), summed, &old.to_be_bytes(), &t.src_id.to_be_bytes(), false);
                put16(pkt, at(4), t.src_id);
            }
        }
        (L3Proto::Ipv6, IPPROTO_ICMPV6) => {
            need(pkt, at(8), len)?;
            inet_proto_csum_replace(pkt, at(2), summed, old_a, new_a, true);
            if matches!(pkt.get(hdroff), Some(128 | 129)) {
                let old = get16(pkt, at(4));
                inet_proto_csum_replace(pkt, at(2), summed, &old.to_be_bytes(), &t.src_id.to_be_bytes(), false);
                put16(pkt, at(4), t.src_id);
            }
        }
        // Other protocols: the address only.
        _ => {}
    }
    Ok(())
}

/// `ipv6_skip_exthdr`: the offset and protocol of the upper-layer header
/// after the extension headers starting at `off` with `nexthdr`, and the
/// fragment offset field (0 when there is no fragment header). `None` when
/// the chain is truncated or ends in `NEXTHDR_NONE`.
pub fn ipv6_skip_exthdr(pkt: &[u8], mut off: usize, mut nexthdr: u8) -> Option<(usize, u8, u16)> {
    let mut frag_off = 0u16;
    loop {
        match nexthdr {
            0 | 43 | 60 | 51 | 44 => {}
            59 => return None,
            _ => return Some((off, nexthdr, frag_off)),
        }
        let h = pkt.get(off..)?;
        let &[nh, hl] = h.first_chunk()?;
        let hl = usize::from(hl);
        let hdrlen = if nexthdr == 44 {
            let &[_, _, hi, lo] = h.first_chunk()?;
            let fo = u16::from_be_bytes([hi, lo]);
            frag_off = fo;
            if fo & !0x7 != 0 {
                // A later fragment: its upper-layer header is elsewhere.
                return Some((off.checked_add(8)?, nh, frag_off));
            }
            8
        } else if nexthdr == 51 {
            (hl + 2) << 2
        } else {
            (hl + 1) << 3
        };
        nexthdr = nh;
        off = off.checked_add(hdrlen)?;
    }
}

/// `nf_nat_ipv4_manip_pkt` / `nf_nat_ipv6_manip_pkt`: rewrites the network
/// header at `iphdroff` and its transport header so that the manip's side
/// (source for [`ManipType::Src`], destination for [`ManipType::Dst`])
/// becomes that of `target`. `target.proto` chooses the transport rewrite.
///
/// An IPv6 packet whose extension headers cannot be walked, or a later
/// fragment, gets its address rewritten only, as in the kernel.
pub fn manip_pkt(pkt: &mut [u8], len: usize, iphdroff: usize, target: &Tuple, manip: ManipType, summed: &mut Summed) -> Result<(), RewriteError> {
    // As in l4_manip: an offset that does not fit usize is past the packet.
    let at = |n: usize| iphdroff.saturating_add(n);
    match target.l3 {
        L3Proto::Ipv4 => {
            need(pkt, at(20), len)?;
            let ihl = usize::from(pkt.get(iphdroff).copied().unwrap_or(0) & 0x0f) * 4;
            let old = old_addr::<4>(pkt, iphdroff, manip);
            let new = new_addr::<4>(target, manip);
            l4_manip(pkt, len, at(ihl), target, manip, (&old, &new), summed)?;
            let check = get16(pkt, at(10));
            put16(pkt, at(10), super::checksum::csum_replace4(check, u32::from_be_bytes(old), u32::from_be_bytes(new)));
            if let Some(d) = pkt.get_mut(at(addr_off::<4>(manip))..).and_then(<[u8]>::first_chunk_mut::<4>) {
                *d = new;
            }
        }
        L3Proto::Ipv6 => {
            need(pkt, at(40), len)?;
            let old = old_addr::<16>(pkt, iphdroff, manip);
            let new = new_addr::<16>(target, manip);
            let nexthdr = pkt.get(at(6)).copied().unwrap_or(59);
            match ipv6_skip_exthdr(pkt, at(40), nexthdr) {
                Some((hdroff, _, frag_off)) if frag_off & !0x7 == 0 => {
                    l4_manip(pkt, len, hdroff, target, manip, (&old, &new), summed)?
                }
                // The chain may go on beyond the writable bytes.
                None if pkt.len() < len => return Err(RewriteError::NeedWritable(len)),
                _ => {}
            }
            if let Some(d) = pkt.get_mut(at(addr_off::<16>(manip))..).and_then(<[u8]>::first_chunk_mut::<16>) {
                *d = new;
            }
        }
    }
    Ok(())
}

/// The verdict of ICMP error translation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IcmpVerdict {
    /// Let the packet through (translated, or not subject to this manip).
    Accept,
    /// Drop it: a redirect about a NATed connection, or an inner header too
    /// short to translate.
    Drop,
}

/// `csum_ipv6_magic`: the ICMPv6/TCP/UDP checksum over IPv6 `src`, `dst`,
/// upper-layer length `len`, protocol `proto` and the upper-layer bytes.
pub fn ipv6_checksum(src: &[u8; 16], dst: &[u8; 16], proto: u8, data: &[u8]) -> u16 {
    let len = data.len() as u32;
    let mut s = super::checksum::sum(src, 0);
    s = super::checksum::sum(dst, s);
    s = wadd(s, len >> 16);
    s = wadd(s, len & 0xffff);
    s = wadd(s, u32::from(proto));
    !fold16(super::checksum::sum(data, s))
}

/// `nf_nat_icmp_reply_translation` / `nf_nat_icmpv6_reply_translation`: an
/// ICMP or ICMPv6 error about the connection with tuples `ct` (original,
/// reply) and NAT `status`, arriving in direction `dir` at a hook of manip
/// type `manip`. The embedded packet is translated back to what its sender
/// saw (the other manip, towards the other direction's tuple), the ICMP
/// checksum recomputed, and the outer address translated like any packet of
/// the connection.
///
/// `hdrlen` is the offset of the ICMP header (the IPv4 header length, or
/// the end of the IPv6 extension headers). The caller has checked the ICMP
/// checksum (`nf_ip_checksum` / `nf_ip6_checksum`) and drops the packet if
/// it is wrong. The whole packet must be writable for the recomputation.
pub fn icmp_reply_translation(
    pkt: &mut [u8],
    hdrlen: usize,
    ct: &[Tuple; 2],
    status: u32,
    dir: Direction,
    manip: ManipType,
    summed: &mut Summed,
) -> Result<IcmpVerdict, RewriteError> {
    let len = pkt.len();
    let (l3, icmp_proto, inner_ip_len, redirect) = match ct[0].l3 {
        L3Proto::Ipv4 => (L3Proto::Ipv4, IPPROTO_ICMP, 20, 5),
        L3Proto::Ipv6 => (L3Proto::Ipv6, IPPROTO_ICMPV6, 40, 137),
    };
    // The inner packet's offset; one past usize::MAX is past the packet.
    let inner = hdrlen.saturating_add(8);
    if need(pkt, inner.saturating_add(inner_ip_len), len).is_err() {
        return Ok(IcmpVerdict::Drop);
    }
    if pkt.get(hdrlen) == Some(&redirect)
        && (status & IPS_NAT_DONE_MASK != IPS_NAT_DONE_MASK || status & IPS_NAT_MASK != 0)
    {
        return Ok(IcmpVerdict::Drop);
    }
    if status & statusbit(manip, dir == Direction::Reply) == 0 {
        return Ok(IcmpVerdict::Accept);
    }
    let other = match dir {
        Direction::Original => &ct[1],
        Direction::Reply => &ct[0],
    };
    // The inner packet: the other manip, towards the other direction.
    match manip_pkt(pkt, len, inner, other, manip.other(), summed) {
        Ok(()) => {}
        Err(RewriteError::Truncated) => return Ok(IcmpVerdict::Drop),
        Err(e) => return Err(e),
    }
    if *summed != Summed::Partial {
        // Within the bytes need() checked above: never saturates.
        let csum_off = hdrlen.saturating_add(2);
        put16(pkt, csum_off, 0);
        let body = pkt.get(hdrlen..).unwrap_or(&[]);
        let c = match l3 {
            L3Proto::Ipv4 => super::checksum::checksum(body),
            L3Proto::Ipv6 => {
                let mut s = [0u8; 16];
                let mut d = [0u8; 16];
                s.copy_from_slice(pkt.get(8..24).unwrap_or(&[0; 16]));
                d.copy_from_slice(pkt.get(24..40).unwrap_or(&[0; 16]));
                ipv6_checksum(&s, &d, IPPROTO_ICMPV6, body)
            }
        };
        put16(pkt, csum_off, c);
    }
    // The outer header: like the reply to an incoming packet.
    let mut target = other.invert();
    target.proto = icmp_proto;
    match manip_pkt(pkt, len, 0, &target, manip, summed) {
        Ok(()) => Ok(IcmpVerdict::Accept),
        Err(RewriteError::Truncated) => Ok(IcmpVerdict::Drop),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests;
