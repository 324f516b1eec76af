// SPDX-License-Identifier: GPL-2.0
//! Host tests of packet rewriting: every protocol and both families, each
//! checked against a full checksum recomputation, in every checksum state.

use std::vec::Vec;

use super::*;
use crate::nat::checksum::checksum;

/// The manip's address field in a network header of `l3`: offset and length.
fn addr_off(l3: L3Proto, manip: ManipType) -> (usize, usize) {
    match l3 {
        L3Proto::Ipv4 => (super::addr_off::<4>(manip), 4),
        L3Proto::Ipv6 => (super::addr_off::<16>(manip), 16),
    }
}

const C4: [u8; 4] = [10, 0, 1, 2];
const S4: [u8; 4] = [198, 51, 100, 7];
const N4: [u8; 4] = [192, 0, 2, 1];
const C6: [u8; 16] = [0xfd, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];
const S6: [u8; 16] = [0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7];
const N6: [u8; 16] = [0x20, 1, 0xd, 0xb8, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];

fn a16(a: &[u8]) -> [u8; 16] {
    let mut x = [0u8; 16];
    x[..a.len()].copy_from_slice(a);
    x
}

/// A transport header with `payload`: TCP (20 bytes), UDP (8) or ICMP echo (8).
fn l4(proto: u8, sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let mut h = match proto {
        IPPROTO_TCP => {
            let mut h = std::vec![0u8; 20];
            h[4..8].copy_from_slice(&0x1234_5678u32.to_be_bytes());
            h[12] = 5 << 4;
            h[13] = 0x02;
            h[14..16].copy_from_slice(&64240u16.to_be_bytes());
            h
        }
        IPPROTO_UDP | IPPROTO_UDPLITE => std::vec![0u8; 8],
        _ => std::vec![if proto == IPPROTO_ICMP { 8 } else { 128 }, 0, 0, 0, 0, 0, 0, 1],
    };
    if proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6 {
        h[4..6].copy_from_slice(&sport.to_be_bytes());
    } else {
        h[0..2].copy_from_slice(&sport.to_be_bytes());
        h[2..4].copy_from_slice(&dport.to_be_bytes());
    }
    h.extend_from_slice(payload);
    if proto == IPPROTO_UDP {
        let n = h.len() as u16;
        h[4..6].copy_from_slice(&n.to_be_bytes());
    }
    h
}

fn check_off(proto: u8) -> usize {
    match proto {
        IPPROTO_TCP => 16,
        IPPROTO_UDP | IPPROTO_UDPLITE => 6,
        _ => 2,
    }
}

/// The transport checksum of `seg` (checksum field zeroed first).
fn l4_csum(l3: L3Proto, src: &[u8], dst: &[u8], proto: u8, seg: &[u8]) -> u16 {
    let mut s = seg.to_vec();
    let co = check_off(proto);
    s[co..co + 2].copy_from_slice(&[0, 0]);
    match (l3, proto) {
        (L3Proto::Ipv4, IPPROTO_ICMP) => checksum(&s),
        (L3Proto::Ipv4, _) => {
            let mut p = Vec::new();
            p.extend_from_slice(src);
            p.extend_from_slice(dst);
            p.extend_from_slice(&[0, proto]);
            p.extend_from_slice(&(s.len() as u16).to_be_bytes());
            p.extend_from_slice(&s);
            checksum(&p)
        }
        (L3Proto::Ipv6, _) => ipv6_checksum(&a16(src), &a16(dst), proto, &s),
    }
}

/// Fills in the transport checksum of a TCP, UDP or ICMP(v6) segment.
fn fill_csum(l3: L3Proto, src: &[u8], dst: &[u8], proto: u8, seg: &mut [u8]) {
    if matches!(proto, IPPROTO_TCP | IPPROTO_UDP | IPPROTO_ICMP | IPPROTO_ICMPV6) {
        let c = l4_csum(l3, src, dst, proto, seg);
        let co = check_off(proto);
        seg[co..co + 2].copy_from_slice(&c.to_be_bytes());
    }
}

fn ipv4(proto: u8, src: [u8; 4], dst: [u8; 4], mut seg: Vec<u8>) -> Vec<u8> {
    fill_csum(L3Proto::Ipv4, &src, &dst, proto, &mut seg);
    let mut p = std::vec![0x45, 0, 0, 0, 0x12, 0x34, 0x40, 0, 64, proto, 0, 0];
    p.extend_from_slice(&src);
    p.extend_from_slice(&dst);
    let total = (20 + seg.len()) as u16;
    p[2..4].copy_from_slice(&total.to_be_bytes());
    let hc = checksum(&p);
    p[10..12].copy_from_slice(&hc.to_be_bytes());
    p.extend_from_slice(&seg);
    p
}

fn ipv6(proto: u8, src: [u8; 16], dst: [u8; 16], mut seg: Vec<u8>) -> Vec<u8> {
    fill_csum(L3Proto::Ipv6, &src, &dst, proto, &mut seg);
    let mut p = std::vec![0x60, 0, 0, 0, 0, 0, proto, 64];
    p[4..6].copy_from_slice(&(seg.len() as u16).to_be_bytes());
    p.extend_from_slice(&src);
    p.extend_from_slice(&dst);
    p.extend_from_slice(&seg);
    p
}

/// Whether every checksum of a packet built above is right (a zero UDP
/// checksum counts as right: it means "none").
fn valid(p: &[u8], l3: L3Proto, proto: u8) -> bool {
    let (l4off, src, dst) = match l3 {
        L3Proto::Ipv4 => {
            if checksum(&p[..20]) != 0 {
                return false;
            }
            (20, &p[12..16], &p[16..20])
        }
        L3Proto::Ipv6 => (40, &p[8..24], &p[24..40]),
    };
    let seg = &p[l4off..];
    let co = check_off(proto);
    let got = u16::from_be_bytes([seg[co], seg[co + 1]]);
    if proto == IPPROTO_UDP && got == 0 {
        return true;
    }
    let want = l4_csum(l3, src, dst, proto, seg);
    // 0x0000 and 0xffff are the same one's-complement value.
    got == want || (got == 0xffff && want == 0) || (got == 0 && want == 0xffff)
}

fn tuple(l3: L3Proto, proto: u8, src: [u8; 16], sport: u16, dst: [u8; 16], dport: u16) -> Tuple {
    let dst_id = if proto == IPPROTO_ICMP { 8 << 8 } else if proto == IPPROTO_ICMPV6 { 128 << 8 } else { dport };
    Tuple { src, dst, src_id: sport, dst_id, proto, l3 }
}

/// `csum_partial` of the whole packet, native-endian words, as skb->csum.
fn native_sum(p: &[u8]) -> u32 {
    let mut s = 0u32;
    for c in p.chunks(2) {
        let w = if c.len() == 2 { u16::from_ne_bytes([c[0], c[1]]) } else { u16::from_ne_bytes([c[0], 0]) };
        s = wadd(s, u32::from(w));
    }
    s
}

fn same_ones(a: u32, b: u32) -> bool {
    fold16(a) % 0xffff == fold16(b) % 0xffff
}

#[test]
fn every_protocol_both_families_both_manips_keeps_checksums_valid() {
    for l3 in [L3Proto::Ipv4, L3Proto::Ipv6] {
        let (c, s, n) = match l3 {
            L3Proto::Ipv4 => (a16(&C4), a16(&S4), a16(&N4)),
            L3Proto::Ipv6 => (C6, S6, N6),
        };
        let icmp = if l3 == L3Proto::Ipv4 { IPPROTO_ICMP } else { IPPROTO_ICMPV6 };
        for proto in [IPPROTO_TCP, IPPROTO_UDP, icmp, 47] {
            for manip in [ManipType::Src, ManipType::Dst] {
                for summed0 in [Summed::None, Summed::Unnecessary, Summed::Complete(0)] {
                    let seg = if proto == 47 { std::vec![0u8; 12] } else { l4(proto, 40000, 53, b"payload!") };
                    let mut p = match l3 {
                        L3Proto::Ipv4 => ipv4(proto, C4, S4, seg),
                        L3Proto::Ipv6 => ipv6(proto, C6, S6, seg),
                    };
                    let mut summed = match summed0 {
                        Summed::Complete(_) => Summed::Complete(native_sum(&p)),
                        x => x,
                    };
                    let target = match manip {
                        ManipType::Src => tuple(l3, proto, n, 1024, s, 53),
                        ManipType::Dst => tuple(l3, proto, c, 40000, n, 8053),
                    };
                    let len = p.len();
                    manip_pkt(&mut p, len, 0, &target, manip, &mut summed).unwrap();
                    let what = std::format!("{l3:?} proto {proto} {manip:?} {summed0:?}");
                    if proto != 47 {
                        assert!(valid(&p, l3, proto), "{what}");
                    }
                    let (aoff, n_len) = addr_off(l3, manip);
                    assert_eq!(&p[aoff..aoff + n_len], &n[..n_len], "{what}: address");
                    let l4off = if l3 == L3Proto::Ipv4 { 20 } else { 40 };
                    let (po, want) = match (proto, manip) {
                        (IPPROTO_TCP | IPPROTO_UDP, ManipType::Src) => (0, Some(1024)),
                        (IPPROTO_TCP | IPPROTO_UDP, ManipType::Dst) => (2, Some(8053)),
                        (47, _) => (0, None),
                        _ => (4, Some(target.src_id)),
                    };
                    if let Some(w) = want {
                        assert_eq!(get16(&p, l4off + po), w, "{what}: port");
                    }
                    // An IPv6 address change without a transport checksum to
                    // balance it leaves skb->csum as it was, as in the kernel.
                    if let (Summed::Complete(x), false) = (summed, l3 == L3Proto::Ipv6 && proto == 47) {
                        assert!(same_ones(x, native_sum(&p)), "{what}: skb->csum follows the packet");
                    }
                }
            }
        }
    }
}

#[test]
fn partial_checksum_keeps_the_pseudo_header_sum() {
    for l3 in [L3Proto::Ipv4, L3Proto::Ipv6] {
        for proto in [IPPROTO_TCP, IPPROTO_UDP] {
            let (n, mut p) = match l3 {
                L3Proto::Ipv4 => (a16(&N4), ipv4(proto, C4, S4, l4(proto, 40000, 53, b"x"))),
                L3Proto::Ipv6 => (N6, ipv6(proto, C6, S6, l4(proto, 40000, 53, b"x"))),
            };
            let l4off = if l3 == L3Proto::Ipv4 { 20 } else { 40 };
            let seglen = (p.len() - l4off) as u32;
            let pseudo = |p: &[u8]| -> u16 {
                let (src, dst) = if l3 == L3Proto::Ipv4 { (&p[12..16], &p[16..20]) } else { (&p[8..24], &p[24..40]) };
                fold16(wadd(wadd(crate::nat::checksum::sum(src, crate::nat::checksum::sum(dst, 0)), u32::from(proto)), seglen))
            };
            // What the stack puts in the field for CHECKSUM_PARTIAL.
            let co = l4off + check_off(proto);
            let seed = pseudo(&p);
            put16(&mut p, co, seed);
            let mut summed = Summed::Partial;
            let t = tuple(l3, proto, n, 1024, if l3 == L3Proto::Ipv4 { a16(&S4) } else { S6 }, 53);
            let len = p.len();
            manip_pkt(&mut p, len, 0, &t, ManipType::Src, &mut summed).unwrap();
            assert_eq!(get16(&p, co) % 0xffff, pseudo(&p) % 0xffff, "{l3:?} {proto}");
            assert_eq!(get16(&p, l4off), 1024);
        }
    }
}

#[test]
fn zero_udp_checksum_stays_zero() {
    for l3 in [L3Proto::Ipv4, L3Proto::Ipv6] {
        let mut p = match l3 {
            L3Proto::Ipv4 => ipv4(IPPROTO_UDP, C4, S4, l4(IPPROTO_UDP, 40000, 53, b"abc")),
            L3Proto::Ipv6 => ipv6(IPPROTO_UDP, C6, S6, l4(IPPROTO_UDP, 40000, 53, b"abc")),
        };
        let l4off = if l3 == L3Proto::Ipv4 { 20 } else { 40 };
        put16(&mut p, l4off + 6, 0);
        let n = if l3 == L3Proto::Ipv4 { a16(&N4) } else { N6 };
        let t = tuple(l3, IPPROTO_UDP, n, 1024, [0; 16], 53);
        let len = p.len();
        manip_pkt(&mut p, len, 0, &t, ManipType::Src, &mut Summed::None).unwrap();
        assert_eq!(get16(&p, l4off + 6), 0);
        assert_eq!(get16(&p, l4off), 1024);
        if l3 == L3Proto::Ipv4 {
            assert_eq!(checksum(&p[..20]), 0);
        }
    }
}

#[test]
fn udp_checksum_that_comes_out_zero_is_written_as_ffff() {
    // Find a new source port for which the updated checksum folds to zero.
    let base = ipv4(IPPROTO_UDP, C4, S4, l4(IPPROTO_UDP, 40000, 53, b"abcd"));
    let mut hit = false;
    for port in 0..=u16::MAX {
        let mut p = base.clone();
        let t = tuple(L3Proto::Ipv4, IPPROTO_UDP, a16(&N4), port, a16(&S4), 53);
        let len = p.len();
        manip_pkt(&mut p, len, 0, &t, ManipType::Src, &mut Summed::None).unwrap();
        assert_ne!(get16(&p, 26), 0, "port {port}: a computed zero must be sent as 0xffff");
        assert!(valid(&p, L3Proto::Ipv4, IPPROTO_UDP));
        hit |= get16(&p, 26) == 0xffff;
    }
    assert!(hit, "some port gives the mangled zero");
}

#[test]
fn short_buffers_ask_for_more_and_short_packets_are_refused() {
    let p0 = ipv4(IPPROTO_TCP, C4, S4, l4(IPPROTO_TCP, 40000, 80, b""));
    let t = tuple(L3Proto::Ipv4, IPPROTO_TCP, a16(&N4), 1024, a16(&S4), 80);
    let mut p = p0.clone();
    let len = p.len();
    assert_eq!(manip_pkt(&mut p[..30], len, 0, &t, ManipType::Src, &mut Summed::None), Err(RewriteError::NeedWritable(40)));
    assert_eq!(p, p0, "nothing changed before asking");
    assert_eq!(manip_pkt(&mut p[..10], len, 0, &t, ManipType::Src, &mut Summed::None), Err(RewriteError::NeedWritable(20)));
    assert_eq!(manip_pkt(&mut p[..27], 27, 0, &t, ManipType::Src, &mut Summed::None), Err(RewriteError::Truncated));
}

#[test]
fn ipv6_extension_headers_and_later_fragments() {
    // Hop-by-hop (8 bytes) before UDP: ports and checksum follow.
    let seg = l4(IPPROTO_UDP, 40000, 53, b"hello");
    let c = l4_csum(L3Proto::Ipv6, &C6, &S6, IPPROTO_UDP, &seg);
    let mut seg = seg;
    seg[6..8].copy_from_slice(&c.to_be_bytes());
    let mut body = std::vec![IPPROTO_UDP, 0, 1, 4, 0, 0, 0, 0];
    body.extend_from_slice(&seg);
    let mut p = ipv6(0, C6, S6, std::vec![]);
    p[4..6].copy_from_slice(&(body.len() as u16).to_be_bytes());
    p.extend_from_slice(&body);
    let t = tuple(L3Proto::Ipv6, IPPROTO_UDP, N6, 1024, S6, 53);
    let len = p.len();
    manip_pkt(&mut p, len, 0, &t, ManipType::Src, &mut Summed::None).unwrap();
    assert_eq!(&p[8..24], &N6);
    assert_eq!(get16(&p, 48), 1024);
    let got = get16(&p, 54);
    assert_eq!(got, l4_csum(L3Proto::Ipv6, &N6, &S6, IPPROTO_UDP, &p[48..]));
    // A later fragment (offset 1448): the address only.
    let mut f = ipv6(44, C6, S6, std::vec![IPPROTO_UDP, 0, 0x05, 0xa8, 0, 0, 0, 1, 0xaa, 0xbb, 0xcc, 0xdd]);
    let before = f.clone();
    let len = f.len();
    manip_pkt(&mut f, len, 0, &t, ManipType::Src, &mut Summed::None).unwrap();
    assert_eq!(&f[8..24], &N6);
    assert_eq!(f[40..], before[40..]);
    // A chain that cannot be read: the address only.
    let mut cut = ipv6(0, C6, S6, std::vec![IPPROTO_UDP]);
    let len = cut.len();
    manip_pkt(&mut cut, len, 0, &t, ManipType::Src, &mut Summed::None).unwrap();
    assert_eq!(&cut[8..24], &N6);
    // A header that points past the end: no transport header to rewrite, drop
    // (udp_manip_pkt's skb_ensure_writable fails).
    let mut cut = ipv6(0, C6, S6, std::vec![IPPROTO_UDP, 5]);
    let len = cut.len();
    assert_eq!(manip_pkt(&mut cut, len, 0, &t, ManipType::Src, &mut Summed::None), Err(RewriteError::Truncated));
    // Beyond the writable bytes: ask for the whole packet.
    let mut p = ipv6(0, C6, S6, std::vec![IPPROTO_UDP, 5]);
    assert_eq!(manip_pkt(&mut p[..41], 60, 0, &t, ManipType::Src, &mut Summed::None), Err(RewriteError::NeedWritable(60)));
}

/// An ICMP(v6) error from `from` to `to` quoting `inner` (a whole packet).
fn icmp_error(l3: L3Proto, from: [u8; 16], to: [u8; 16], icmp_type: u8, inner: &[u8]) -> Vec<u8> {
    let mut body = std::vec![icmp_type, 0, 0, 0, 0, 0, 0, 0];
    body.extend_from_slice(inner);
    match l3 {
        L3Proto::Ipv4 => {
            let mut f = [0u8; 4];
            let mut t = [0u8; 4];
            f.copy_from_slice(&from[..4]);
            t.copy_from_slice(&to[..4]);
            ipv4(IPPROTO_ICMP, f, t, body)
        }
        L3Proto::Ipv6 => ipv6(IPPROTO_ICMPV6, from, to, body),
    }
}

fn icmp_valid(p: &[u8], l3: L3Proto) -> bool {
    match l3 {
        L3Proto::Ipv4 => checksum(&p[..20]) == 0 && checksum(&p[20..]) == 0,
        L3Proto::Ipv6 => {
            let mut s = [0u8; 16];
            let mut d = [0u8; 16];
            s.copy_from_slice(&p[8..24]);
            d.copy_from_slice(&p[24..40]);
            ipv6_checksum(&s, &d, IPPROTO_ICMPV6, &p[40..]) == 0
        }
    }
}

#[test]
fn icmp_error_about_a_snat_connection_reaches_the_client() {
    for l3 in [L3Proto::Ipv4, L3Proto::Ipv6] {
        for proto in [IPPROTO_UDP, IPPROTO_TCP] {
            let (c, s, n, router, hdr, err) = match l3 {
                L3Proto::Ipv4 => (a16(&C4), a16(&S4), a16(&N4), a16(&[203, 0, 113, 1]), 20, 11),
                L3Proto::Ipv6 => (C6, S6, N6, a16(&[0x20, 1, 0xd, 0xb8, 0xff]), 40, 3),
            };
            // C:40000 -> S:53 source-NATed to N:1024.
            let orig = tuple(l3, proto, c, 40000, s, 53);
            let reply = tuple(l3, proto, s, 53, n, 1024);
            let ct = [orig, reply];
            let status = IPS_SRC_NAT | IPS_NAT_DONE_MASK;
            // What left the router: N:1024 -> S:53; a router on the way answers.
            let inner = match l3 {
                L3Proto::Ipv4 => ipv4(proto, N4, S4, l4(proto, 1024, 53, b"q")),
                L3Proto::Ipv6 => ipv6(proto, N6, S6, l4(proto, 1024, 53, b"q")),
            };
            let p0 = icmp_error(l3, router, n, err, &inner);
            // At POST_ROUTING (SRC manip) of the reply direction: nothing to do.
            let mut p = p0.clone();
            let v = icmp_reply_translation(&mut p, hdr, &ct, status, Direction::Reply, ManipType::Src, &mut Summed::None);
            assert_eq!((v, &p), (Ok(IcmpVerdict::Accept), &p0));
            // At PRE_ROUTING (DST manip): inner source and outer destination become C.
            let v = icmp_reply_translation(&mut p, hdr, &ct, status, Direction::Reply, ManipType::Dst, &mut Summed::None);
            assert_eq!(v, Ok(IcmpVerdict::Accept));
            let what = std::format!("{l3:?} {proto}");
            let (aoff, alen) = addr_off(l3, ManipType::Dst);
            assert_eq!(&p[aoff..aoff + alen], &c[..alen], "{what}: outer destination");
            let inner_at = hdr + 8;
            let (soff, _) = addr_off(l3, ManipType::Src);
            assert_eq!(&p[inner_at + soff..inner_at + soff + alen], &c[..alen], "{what}: inner source");
            let inner_l4 = inner_at + if l3 == L3Proto::Ipv4 { 20 } else { 40 };
            assert_eq!(get16(&p, inner_l4), 40000, "{what}: inner port");
            assert!(icmp_valid(&p, l3), "{what}: outer checksums");
            assert!(valid(&p[inner_at..], l3, proto), "{what}: inner checksums");
        }
    }
}

#[test]
fn icmp_error_with_8_bytes_of_tcp_gets_ports_only_and_shorter_is_dropped() {
    let orig = tuple(L3Proto::Ipv4, IPPROTO_TCP, a16(&C4), 40000, a16(&S4), 80);
    let reply = tuple(L3Proto::Ipv4, IPPROTO_TCP, a16(&S4), 80, a16(&N4), 1024);
    let status = IPS_SRC_NAT | IPS_NAT_DONE_MASK;
    let full = ipv4(IPPROTO_TCP, N4, S4, l4(IPPROTO_TCP, 1024, 80, b""));
    let mut p = icmp_error(L3Proto::Ipv4, a16(&[203, 0, 113, 1]), a16(&N4), 3, &full[..28]);
    let v = icmp_reply_translation(&mut p, 20, &[orig, reply], status, Direction::Reply, ManipType::Dst, &mut Summed::None);
    assert_eq!(v, Ok(IcmpVerdict::Accept));
    assert_eq!(get16(&p, 48), 40000);
    assert_eq!(&p[52..56], &full[24..28], "inner sequence number untouched");
    assert!(icmp_valid(&p, L3Proto::Ipv4));
    let mut short = icmp_error(L3Proto::Ipv4, a16(&[203, 0, 113, 1]), a16(&N4), 3, &full[..27]);
    let v = icmp_reply_translation(&mut short, 20, &[orig, reply], status, Direction::Reply, ManipType::Dst, &mut Summed::None);
    assert_eq!(v, Ok(IcmpVerdict::Drop));
}

#[test]
fn redirects_about_nated_connections_are_dropped() {
    let orig = tuple(L3Proto::Ipv4, IPPROTO_UDP, a16(&C4), 40000, a16(&S4), 53);
    let inner = ipv4(IPPROTO_UDP, C4, S4, l4(IPPROTO_UDP, 40000, 53, b""));
    let p0 = icmp_error(L3Proto::Ipv4, a16(&[10, 0, 1, 1]), a16(&C4), 5, &inner);
    let cases = [
        (IPS_NAT_DONE_MASK, orig, IcmpVerdict::Accept),
        (IPS_SRC_NAT_DONE, orig, IcmpVerdict::Drop),
        (IPS_NAT_DONE_MASK | IPS_SRC_NAT, tuple(L3Proto::Ipv4, IPPROTO_UDP, a16(&S4), 53, a16(&N4), 1024), IcmpVerdict::Drop),
    ];
    for (status, reply, want) in cases {
        let mut p = p0.clone();
        let got = icmp_reply_translation(&mut p, 20, &[orig, reply.invert().invert()], status, Direction::Original, ManipType::Dst, &mut Summed::None);
        assert_eq!(got, Ok(want), "status {status:#x}");
    }
}

#[test]
fn header_offsets_near_usize_max_are_refused() {
    let p0 = ipv4(IPPROTO_TCP, C4, S4, l4(IPPROTO_TCP, 40000, 80, b""));
    let t = tuple(L3Proto::Ipv4, IPPROTO_TCP, a16(&N4), 1024, a16(&S4), 80);
    for off in [usize::MAX - 19, usize::MAX - 1, usize::MAX] {
        let mut p = p0.clone();
        let len = p.len();
        assert_eq!(manip_pkt(&mut p, len, off, &t, ManipType::Src, &mut Summed::None), Err(RewriteError::Truncated), "{off}");
        assert_eq!(p, p0, "nothing changed at {off}");
        // The largest length with the offset wrapping: still refused, now
        // as "more bytes needed" (the buffer is shorter), not a panic.
        assert!(manip_pkt(&mut p, usize::MAX, off, &t, ManipType::Src, &mut Summed::None).is_err(), "{off}");
        assert_eq!(p, p0, "nothing changed at {off}");
        assert_eq!(get16(&p, off), 0);
        put16(&mut p, off, 0xffff);
        assert_eq!(p, p0, "put16 out of range writes nothing");
    }
    // An ICMP error whose header offset leaves no room for the inner packet.
    let ct = [t, t.invert()];
    let mut p = p0.clone();
    for hdrlen in [usize::MAX - 27, usize::MAX - 7, usize::MAX] {
        let v = icmp_reply_translation(&mut p, hdrlen, &ct, 0, Direction::Reply, ManipType::Dst, &mut Summed::None);
        assert_eq!(v, Ok(IcmpVerdict::Drop), "{hdrlen}");
    }
    assert_eq!(p, p0);
}

#[test]
fn ipv6_exthdr_walk_stops_at_offsets_near_usize_max() {
    let p = [0u8; 64];
    for off in [usize::MAX - 1, usize::MAX] {
        assert_eq!(ipv6_skip_exthdr(&p, off, 0), None, "{off}");
        assert_eq!(ipv6_skip_exthdr(&p, off, 44), None, "{off}");
    }
    // A later-fragment header in the last 8 bytes still answers.
    let mut p = [0u8; 48];
    p[40] = IPPROTO_UDP;
    p[42..44].copy_from_slice(&0x0008u16.to_be_bytes());
    assert_eq!(ipv6_skip_exthdr(&p, 40, 44), Some((48, IPPROTO_UDP, 8)));
}
