// SPDX-License-Identifier: GPL-2.0
//! NAT packet rewriting: `nat::rewrite::manip_pkt` and the ICMP error
//! translation `icmp_reply_translation`, over packets built from the fuzz
//! input and over arbitrary bytes.
//!
//! Input: byte 0 picks the mode (bits 0-1), the rest are its parameters:
//! - 0, a well-formed packet: family, protocol (TCP, UDP, UDP-Lite, the
//!   family's ICMP, GRE, the other family's ICMP), manip type, checksum
//!   state (`CHECKSUM_NONE`, `_UNNECESSARY`, `_COMPLETE`, `_PARTIAL`), a
//!   zero UDP checksum, IPv4 options or IPv6 extension headers (hop-by-hop,
//!   routing, destination, AH, first and later fragments), TCP options,
//!   addresses, ports, ICMP type, payload, the new address and port, and
//!   how many bytes are writable at first;
//! - 1, an ICMP error about a NATed connection (SNAT or DNAT, either
//!   direction, either hook, any status bits), quoting a TCP, UDP or ICMP
//!   echo packet cut anywhere, from a router, possibly a redirect;
//! - 2, arbitrary bytes through `manip_pkt` with any target and manip;
//! - 3, arbitrary bytes through `icmp_reply_translation` with any
//!   connection, the ICMP header offset found as rnf_nat finds it.
//!
//! Oracles: no panic; the packet's length never changes; an error changes
//! nothing and `NeedWritable(n)` asks for more than was writable and no
//! more than the packet; a well-formed packet comes out exactly as
//! expected: the manip's address and port (or ICMP identifier) replaced,
//! nothing else but checksum fields changed, and every checksum equal to
//! a full recomputation of the result (independent code, `rnf_core_fuzz`),
//! a zero UDP checksum left zero, `CHECKSUM_PARTIAL` fields holding the new
//! pseudo-header sum and `CHECKSUM_COMPLETE`'s `skb->csum` the sum of the
//! new packet; a translated ICMP error has a valid outer header and ICMP
//! checksum, its quoted packet the mapping expected and its quoted
//! checksums still balanced; redirects about NATed connections are dropped;
//! on arbitrary bytes every incremental update keeps the one's-complement
//! sum of the bytes each checksum covers, and nothing outside the rewritten
//! fields changes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rnf_core::conntrack::conn::Direction;
use rnf_core::conntrack::tuple::Tuple;
use rnf_core::nat::range::ManipType;
use rnf_core::nat::rewrite::*;
use rnf_core::packet::{self, L3Proto, IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_TCP, IPPROTO_UDP};
use rnf_core_fuzz::{
    check_off, covered, fill_l4_checksum, fold, get16, icmp_has_id, ipv4, ipv6, l4, l4_checksum_ok, native_sum, ones_eq, ones_sum, put16,
    with_pseudo, Input,
};

const GRE: u8 = 47;

fn icmp_of(l3: L3Proto) -> u8 {
    match l3 {
        L3Proto::Ipv4 => IPPROTO_ICMP,
        L3Proto::Ipv6 => IPPROTO_ICMPV6,
    }
}

fn family(b: u8) -> L3Proto {
    if b & 1 == 0 {
        L3Proto::Ipv4
    } else {
        L3Proto::Ipv6
    }
}

fn manip_of(b: u8) -> ManipType {
    if b & 1 == 0 {
        ManipType::Src
    } else {
        ManipType::Dst
    }
}

fn addr(inp: &mut Input, l3: L3Proto) -> [u8; 16] {
    let mut a = [0u8; 16];
    for b in a.iter_mut().take(l3.addr_len()) {
        *b = inp.u8();
    }
    a
}

/// (offset, length) of the manip's address in the network header.
fn addr_field(l3: L3Proto, m: ManipType) -> (usize, usize) {
    match (l3, m) {
        (L3Proto::Ipv4, ManipType::Src) => (12, 4),
        (L3Proto::Ipv4, ManipType::Dst) => (16, 4),
        (L3Proto::Ipv6, ManipType::Src) => (8, 16),
        (L3Proto::Ipv6, ManipType::Dst) => (24, 16),
    }
}

fn src_dst(p: &[u8], l3: L3Proto) -> (&[u8], &[u8]) {
    match l3 {
        L3Proto::Ipv4 => (&p[12..16], &p[16..20]),
        L3Proto::Ipv6 => (&p[8..24], &p[24..40]),
    }
}

/// Calls `manip_pkt` the way rnf_nat does: first with `w` writable bytes,
/// then, if asked, with the whole packet; checks the protocol.
fn manip_retrying(p: &mut Vec<u8>, w: usize, t: &Tuple, m: ManipType, summed: &mut Summed) -> Result<(), RewriteError> {
    let len = p.len();
    let w = w.min(len);
    let before = p.clone();
    let s0 = *summed;
    match manip_pkt(&mut p[..w], len, 0, t, m, summed) {
        Err(RewriteError::NeedWritable(n)) => {
            assert!(n > w && n <= len, "NeedWritable({n}) with {w} of {len} writable");
            assert_eq!(*p, before, "NeedWritable changed the packet");
            assert_eq!(*summed, s0);
            manip_pkt(p, len, 0, t, m, summed)
        }
        Err(e) => {
            assert_eq!(*p, before, "{e:?} changed the packet");
            Err(e)
        }
        Ok(()) => Ok(()),
    }
}

/// An IPv6 extension header picked by `k`, its body sized by `v`.
fn ext_header(k: u8, v: u16) -> (u8, Vec<u8>, bool) {
    match k % 6 {
        0..=2 => {
            let ty = [0, 43, 60][usize::from(k % 6)];
            let l = (v & 3) as u8;
            let mut b = vec![0u8; (usize::from(l) + 1) * 8];
            b[1] = l;
            (ty, b, false)
        }
        3 => {
            let hl = (v & 3) as u8 + 1;
            let mut b = vec![0u8; (usize::from(hl) + 2) * 4];
            b[1] = hl;
            (51, b, false)
        }
        4 => (44, vec![0, 0, 0, (v & 1) as u8, 1, 2, 3, 4], false),
        _ => {
            let off = (v | 8) & 0xfff8;
            let mut b = vec![0, 0, 0, 0, 1, 2, 3, 4];
            b[2..4].copy_from_slice(&off.to_be_bytes());
            (44, b, true)
        }
    }
}

/// Mode 0: a well-formed packet, checked against the expected result.
fn structured(inp: &mut Input) {
    let c = inp.u8();
    let c2 = inp.u8();
    let l3 = family(c);
    let proto = match (c >> 1) & 7 {
        0 | 6 => IPPROTO_TCP,
        1 | 7 => IPPROTO_UDP,
        2 => IPPROTO_UDPLITE,
        3 => icmp_of(l3),
        4 => GRE,
        _ => icmp_of(if l3 == L3Proto::Ipv4 { L3Proto::Ipv6 } else { L3Proto::Ipv4 }),
    };
    let m = manip_of(c >> 4);
    let summed_kind = (c >> 5) & 3;
    let udp_zero = c & 0x80 != 0;
    let (src, dst, new_addr) = (addr(inp, l3), addr(inp, l3), addr(inp, l3));
    let (sport, dport, new_port) = (inp.u16(), inp.u16(), inp.u16());
    let icmp_type = inp.u8();
    let plen = usize::from(inp.u8());
    let payload = inp.bytes(plen).to_vec();
    let writable = usize::from(inp.u16());

    let mut seg = l4(l3, proto, sport, dport, icmp_type, 5 + (c2 >> 4), &payload);
    let (mut p, hdroff, l4_rewritten) = match l3 {
        L3Proto::Ipv4 => {
            let opts = vec![1u8; usize::from(c2 & 0x0f).min(10) * 4];
            fill_l4_checksum(l3, &src, &dst, proto, &mut seg);
            (ipv4(proto, src[..4].try_into().unwrap(), dst[..4].try_into().unwrap(), &opts, &seg), 20 + opts.len(), true)
        }
        L3Proto::Ipv6 => {
            let mut ext = Vec::new();
            let mut later = false;
            for _ in 0..(c2 & 3) {
                let (ty, body, l) = ext_header(inp.u8(), inp.u16());
                later |= l;
                ext.push((ty, body));
            }
            fill_l4_checksum(l3, &src, &dst, proto, &mut seg);
            let off = 40 + ext.iter().map(|(_, b)| b.len()).sum::<usize>();
            (ipv6(proto, src, dst, &ext, &seg), off, !later)
        }
    };
    let co = check_off(l3, proto).map(|o| hdroff + o);
    if udp_zero && matches!(proto, IPPROTO_UDP) {
        put16(&mut p, hdroff + 6, 0);
    }
    let pseudo_sum = |p: &[u8]| {
        let (s, d) = src_dst(p, l3);
        ones_sum(&with_pseudo(l3, s, d, proto, &vec![0u8; p.len() - hdroff]))
    };
    let partial_field = proto != IPPROTO_ICMP || l3 == L3Proto::Ipv6;
    let mut summed = match summed_kind {
        0 => Summed::None,
        1 => Summed::Unnecessary,
        2 => Summed::Complete(u32::from(native_sum(&p))),
        _ => {
            // CHECKSUM_PARTIAL: the field holds the pseudo-header sum.
            if let (Some(co), true) = (co, partial_field) {
                if get16(&p, co) != 0 || proto != IPPROTO_UDP {
                    let ps = pseudo_sum(&p);
                    put16(&mut p, co, ps);
                }
            }
            Summed::Partial
        }
    };
    let orig = p.clone();
    let target = match m {
        ManipType::Src => Tuple { src: new_addr, dst, src_id: new_port, dst_id: dport, proto, l3 },
        ManipType::Dst => Tuple { src, dst: new_addr, src_id: if proto == icmp_of(l3) { new_port } else { sport }, dst_id: new_port, proto, l3 },
    };
    manip_retrying(&mut p, writable, &target, m, &mut summed).expect("a well-formed packet is rewritten");
    assert_eq!(p.len(), orig.len());

    // What the packet must look like, checksum fields aside.
    let mut want = orig.clone();
    let (ao, al) = addr_field(l3, m);
    want[ao..ao + al].copy_from_slice(&new_addr[..al]);
    let mut key_changed = false;
    if l4_rewritten {
        let key_at = match proto {
            IPPROTO_TCP | IPPROTO_UDP | IPPROTO_UDPLITE => Some(hdroff + if m == ManipType::Src { 0 } else { 2 }),
            _ if proto == icmp_of(l3) && icmp_has_id(l3, icmp_type) => Some(hdroff + 4),
            _ => None,
        };
        if let Some(k) = key_at {
            key_changed = get16(&want, k) != new_port;
            put16(&mut want, k, new_port);
        }
    }
    let mut masked = p.clone();
    let mut want_masked = want.clone();
    for f in [Some(10).filter(|_| l3 == L3Proto::Ipv4), co] {
        if let Some(f) = f {
            put16(&mut masked, f, 0);
            put16(&mut want_masked, f, 0);
        }
    }
    assert_eq!(masked, want_masked, "{l3:?} proto {proto} {m:?}: wrong bytes rewritten");

    if l3 == L3Proto::Ipv4 {
        assert!(ones_eq(ones_sum(&p[..hdroff]), 0xffff), "IPv4 header checksum");
    }
    let zero_udp = proto == IPPROTO_UDP && co.map_or(false, |co| get16(&orig, co) == 0);
    if let Summed::Complete(x) = summed {
        // The kernel leaves skb->csum unbalanced where no checksum moves
        // with a change: an IPv6 address without a transport checksum
        // update, a port behind a zero UDP checksum.
        let addr_changed = orig[ao..ao + al] != p[ao..ao + al];
        let csum_moves = l4_rewritten && co.is_some() && !zero_udp;
        let unbalanced = !csum_moves && (key_changed || (l3 == L3Proto::Ipv6 && addr_changed));
        if !unbalanced {
            assert!(ones_eq(fold(u64::from(x)), native_sum(&p)), "CHECKSUM_COMPLETE: skb->csum follows the packet");
        }
    }
    let Some(co) = co else { return };
    let (s, d) = src_dst(&p, l3);
    let field = get16(&p, co);
    match summed {
        _ if zero_udp => assert_eq!(field, 0, "a zero UDP checksum stays zero"),
        _ if !l4_rewritten => assert_eq!(field, get16(&orig, co)),
        Summed::Partial => {
            if partial_field {
                assert!(ones_eq(field, pseudo_sum(&p)), "CHECKSUM_PARTIAL: pseudo-header sum");
            } else {
                assert_eq!(field, get16(&orig, co));
            }
        }
        _ => {
            assert!(l4_checksum_ok(l3, s, d, proto, &p[hdroff..]), "{l3:?} proto {proto} {m:?}: transport checksum");
            if proto == IPPROTO_UDP {
                assert_ne!(field, 0, "a computed zero UDP checksum is sent as 0xffff");
            }
        }
    }
}

/// Mode 1: an ICMP error about a NATed connection.
fn icmp_error(inp: &mut Input) {
    let c = inp.u8();
    let l3 = family(c);
    let inner_proto = [IPPROTO_TCP, IPPROTO_UDP, icmp_of(l3), IPPROTO_TCP][usize::from((c >> 1) & 3)];
    let dnat = c & 8 != 0;
    let dir = if c & 0x10 == 0 { Direction::Original } else { Direction::Reply };
    let m = manip_of(c >> 5);
    let summed_kind = (c >> 6) & 1;
    let c2 = inp.u8();
    let (cl, sv, nat, router) = (addr(inp, l3), addr(inp, l3), addr(inp, l3), addr(inp, l3));
    let (cp, sp, np) = (inp.u16(), inp.u16(), inp.u16());
    let cut = usize::from(inp.u8());
    let plen = usize::from(inp.u8() & 0x3f);
    let payload = inp.bytes(plen).to_vec();
    let status = if c2 & 1 == 0 {
        (if dnat { IPS_DST_NAT } else { IPS_SRC_NAT }) | IPS_NAT_DONE_MASK
    } else {
        u32::from(inp.u16())
    };
    let icmp = icmp_of(l3);
    // ICMP: echo request out, echo reply back; the identifier in src_id.
    let mk = |s: [u8; 16], si: u16, d: [u8; 16], di: u16, reply: bool| {
        let echo: u16 = match (l3, reply) {
            (L3Proto::Ipv4, false) => 8,
            (L3Proto::Ipv4, true) => 0,
            (L3Proto::Ipv6, false) => 128,
            (L3Proto::Ipv6, true) => 129,
        };
        let di = if inner_proto == icmp { echo << 8 } else { di };
        Tuple { src: s, dst: d, src_id: si, dst_id: di, proto: inner_proto, l3 }
    };
    let ct = if dnat {
        [mk(cl, cp, nat, np, false), mk(sv, sp, cl, cp, true)]
    } else {
        [mk(cl, cp, sv, sp, false), mk(sv, sp, nat, np, true)]
    };
    // The quoted packet: the other direction's packet as the error's
    // sender saw it, that is the inverse of this direction's tuple.
    let q = ct[dir as usize].invert();
    let qt = if inner_proto == icmp { q.icmp_type() } else { 0 };
    let mut seg = l4(l3, inner_proto, q.src_id, q.dst_id, qt, 5, &payload);
    fill_l4_checksum(l3, &q.src, &q.dst, inner_proto, &mut seg);
    let udp_zero = inner_proto == IPPROTO_UDP && c2 & 2 != 0;
    if udp_zero {
        put16(&mut seg, 6, 0);
    }
    let inner_full = match l3 {
        L3Proto::Ipv4 => ipv4(inner_proto, q.src[..4].try_into().unwrap(), q.dst[..4].try_into().unwrap(), &[], &seg),
        L3Proto::Ipv6 => ipv6(inner_proto, q.src, q.dst, &[], &seg),
    };
    let inner_ip = if l3 == L3Proto::Ipv4 { 20 } else { 40 };
    let inner = &inner_full[..inner_full.len().min(if c2 & 4 != 0 { cut } else { inner_full.len() })];
    let redirect = c2 & 8 != 0;
    let ty = match (l3, redirect) {
        (L3Proto::Ipv4, false) => [3, 11, 12, 4][usize::from(c2 >> 6)],
        (L3Proto::Ipv4, true) => 5,
        (L3Proto::Ipv6, false) => [1, 2, 3, 4][usize::from(c2 >> 6)],
        (L3Proto::Ipv6, true) => 137,
    };
    let mut body = vec![ty, 0, 0, 0, 0, 0, 0, 0];
    body.extend_from_slice(inner);
    fill_l4_checksum(l3, &router, &q.src, icmp, &mut body);
    let mut p = match l3 {
        L3Proto::Ipv4 => ipv4(icmp, router[..4].try_into().unwrap(), q.src[..4].try_into().unwrap(), &[], &body),
        L3Proto::Ipv6 => ipv6(icmp, router, q.src, &[], &body),
    };
    let hdrlen = inner_ip;
    let mut summed = if summed_kind == 0 { Summed::None } else { Summed::Complete(u32::from(native_sum(&p))) };
    let orig = p.clone();
    let v = icmp_reply_translation(&mut p, hdrlen, &ct, status, dir, m, &mut summed).expect("the whole packet is writable");
    assert_eq!(p.len(), orig.len());
    if redirect && (status & IPS_NAT_DONE_MASK != IPS_NAT_DONE_MASK || status & IPS_NAT_MASK != 0) {
        assert_eq!(v, IcmpVerdict::Drop, "a redirect about a NATed connection is dropped");
        return;
    }
    if inner.len() < inner_ip {
        assert_eq!(v, IcmpVerdict::Drop, "an error quoting less than an IP header is dropped");
        return;
    }
    if status & statusbit(m, dir == Direction::Reply) == 0 {
        assert_eq!((v, &p), (IcmpVerdict::Accept, &orig), "not this hook's manip: untouched");
        return;
    }
    let l4_have = inner.len() - inner_ip;
    if l4_have < 8 {
        assert_eq!(v, IcmpVerdict::Drop, "a quoted transport header under 8 bytes is dropped");
        return;
    }
    assert_eq!(v, IcmpVerdict::Accept);
    let other = if dir == Direction::Original { ct[1] } else { ct[0] };
    let at = hdrlen + 8;
    // The quoted packet: the other manip towards the other direction.
    let im = m.other();
    let (ao, al) = addr_field(l3, im);
    let (want_a, want_key) = match im {
        ManipType::Src => (other.src, other.src_id),
        ManipType::Dst => (other.dst, other.dst_id),
    };
    assert_eq!(&p[at + ao..at + ao + al], &want_a[..al], "quoted address");
    let il4 = at + inner_ip;
    match inner_proto {
        IPPROTO_TCP | IPPROTO_UDP => {
            let k = il4 + if im == ManipType::Src { 0 } else { 2 };
            assert_eq!(get16(&p, k), want_key, "quoted port");
        }
        _ => assert_eq!(get16(&p, il4 + 4), other.src_id, "quoted ICMP identifier"),
    }
    // The outer header: like a packet of the other direction's inverse.
    let (oo, ol) = addr_field(l3, m);
    let outer = other.invert();
    let want_o = if m == ManipType::Src { outer.src } else { outer.dst };
    assert_eq!(&p[oo..oo + ol], &want_o[..ol], "outer address");
    // Checksums: outer header and ICMP message valid; the quoted IPv4
    // header valid; the quoted transport checksum still balanced.
    let (s, d) = src_dst(&p, l3);
    if l3 == L3Proto::Ipv4 {
        assert!(ones_eq(ones_sum(&p[..20]), 0xffff), "outer IPv4 header checksum");
        assert!(ones_eq(ones_sum(&p[at..at + 20]), 0xffff), "quoted IPv4 header checksum");
    }
    assert!(l4_checksum_ok(l3, s, d, icmp, &p[hdrlen..]), "ICMP checksum");
    let checked = match inner_proto {
        IPPROTO_TCP => l4_have >= 20,
        IPPROTO_UDP => !udp_zero,
        _ => true,
    };
    if checked {
        let (qs, qd) = src_dst(&p[at..], l3);
        let (os, od) = src_dst(&orig[at..], l3);
        let after = ones_sum(&covered(l3, qs, qd, inner_proto, &p[il4..]));
        let before = ones_sum(&covered(l3, os, od, inner_proto, &orig[il4..]));
        assert!(ones_eq(after, before), "quoted transport checksum no longer balanced");
        if inner.len() == inner_full.len() {
            assert!(l4_checksum_ok(l3, qs, qd, inner_proto, &p[il4..]), "quoted transport checksum");
        }
    }
}

/// The bytes a transport checksum at `hdroff` covers, for the sum
/// invariant: pseudo-header (fixed length) and the segment present.
fn l4_sum(p: &[u8], l3: L3Proto, proto: u8, hdroff: usize) -> u16 {
    let (s, d) = src_dst(p, l3);
    let seg = p.get(hdroff..).unwrap_or(&[]);
    if l3 == L3Proto::Ipv4 && proto == IPPROTO_ICMP {
        ones_sum(seg)
    } else {
        let mut v = with_pseudo(l3, s, d, proto, &[]);
        v.extend_from_slice(seg);
        ones_sum(&v)
    }
}

/// Mode 2: arbitrary bytes through `manip_pkt`.
fn raw_manip(inp: &mut Input) {
    let c = inp.u8();
    let l3 = family(c);
    let m = manip_of(c >> 1);
    let summed0 = match (c >> 2) & 3 {
        0 => Summed::None,
        1 => Summed::Unnecessary,
        2 => Summed::Complete(inp.u32()),
        _ => Summed::Partial,
    };
    let proto = match (c >> 4) & 7 {
        0 => IPPROTO_TCP,
        1 => IPPROTO_UDP,
        2 => IPPROTO_UDPLITE,
        3 => IPPROTO_ICMP,
        4 => IPPROTO_ICMPV6,
        _ => inp.u8(),
    };
    let target = Tuple { src: addr(inp, l3), dst: addr(inp, l3), src_id: inp.u16(), dst_id: inp.u16(), proto, l3 };
    let w = usize::from(inp.u16());
    let mut p = inp.rest().to_vec();
    let orig = p.clone();
    let mut summed = summed0;
    let r = manip_retrying(&mut p, w, &target, m, &mut summed);
    assert_eq!(p.len(), orig.len());
    if r.is_err() {
        return;
    }
    let hdroff = match l3 {
        L3Proto::Ipv4 => {
            let ihl = usize::from(orig[0] & 0x0f) * 4;
            if ihl < 20 {
                // ip_rcv refuses these before any hook: no oracle.
                return;
            }
            assert!(ones_eq(ones_sum(&p[..ihl.min(p.len())]), ones_sum(&orig[..ihl.min(p.len())])), "IPv4 header sum");
            Some(ihl)
        }
        L3Proto::Ipv6 => match ipv6_skip_exthdr(&orig, 40, orig[6]) {
            Some((off, _, f)) if f & !7 == 0 => Some(off),
            _ => None,
        },
    };
    // Nothing but the address, the checksums and the first eight bytes
    // of the transport header may change.
    let (ao, al) = addr_field(l3, m);
    for (i, (a, b)) in p.iter().zip(&orig).enumerate() {
        if a != b {
            let in_l4 = hdroff.map_or(false, |h| i >= h && (i < h + 8 || (i >= h + 16 && i < h + 18)));
            assert!((ao..ao + al).contains(&i) || (l3 == L3Proto::Ipv4 && (10..12).contains(&i)) || in_l4, "byte {i} changed");
        }
    }
    let Some(h) = hdroff else { return };
    if summed0 == Summed::Partial {
        return;
    }
    let co = match (l3, proto) {
        (_, IPPROTO_TCP) if p.len() >= h + 20 => Some(16),
        (_, IPPROTO_UDP) if get16(&orig, h + 6) != 0 => Some(6),
        (_, IPPROTO_UDPLITE) => Some(6),
        (L3Proto::Ipv4, IPPROTO_ICMP) | (L3Proto::Ipv6, IPPROTO_ICMPV6) => Some(2),
        _ => None,
    };
    if co.is_some() && p.len() >= h + 8 {
        assert!(ones_eq(l4_sum(&p, l3, proto, h), l4_sum(&orig, l3, proto, h)), "transport checksum sum");
    }
}

/// Mode 3: arbitrary bytes through `icmp_reply_translation`.
fn raw_icmp(inp: &mut Input) {
    let c = inp.u8();
    let l3 = family(c);
    let m = manip_of(c >> 1);
    let dir = if c & 4 == 0 { Direction::Original } else { Direction::Reply };
    let summed0 = if c & 8 == 0 { Summed::None } else { Summed::Partial };
    let proto = [IPPROTO_TCP, IPPROTO_UDP, icmp_of(l3), GRE][usize::from((c >> 4) & 3)];
    let status = u32::from(inp.u16());
    let t0 = Tuple { src: addr(inp, l3), dst: addr(inp, l3), src_id: inp.u16(), dst_id: inp.u16(), proto, l3 };
    let t1 = Tuple { src: addr(inp, l3), dst: addr(inp, l3), src_id: inp.u16(), dst_id: inp.u16(), proto, l3 };
    let mut p = inp.rest().to_vec();
    // The ICMP header offset as rnf_nat finds it; without one, any.
    let found = match packet::parse_l3(l3, &p) {
        Ok(h) if h.proto == icmp_of(l3) && !h.later_fragment => Some(h.l4_offset),
        _ => None,
    };
    let hdrlen = found.unwrap_or(usize::from(c >> 6) * 20);
    let orig = p.clone();
    let mut summed = summed0;
    let v = icmp_reply_translation(&mut p, hdrlen, &[t0, t1], status, dir, m, &mut summed).expect("the whole packet is writable");
    assert_eq!(p.len(), orig.len());
    let translated = v == IcmpVerdict::Accept && p != orig;
    if translated && summed0 != Summed::Partial && found.is_some() {
        let (s, d) = src_dst(&p, l3);
        assert!(l4_checksum_ok(l3, s, d, icmp_of(l3), &p[hdrlen..]), "ICMP checksum after translation");
    }
}

fuzz_target!(|data: &[u8]| {
    let mut inp = Input::new(data);
    match inp.u8() & 3 {
        0 => structured(&mut inp),
        1 => icmp_error(&mut inp),
        2 => raw_manip(&mut inp),
        _ => raw_icmp(&mut inp),
    }
});
