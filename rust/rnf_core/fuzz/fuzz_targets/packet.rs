// SPDX-License-Identifier: GPL-2.0
//! The packet views on arbitrary bytes, both families: `packet::parse` and
//! `parse_l3`, the TCP option walk, `Tuple::from_packet`, the tuple of the
//! packet inside an ICMP error (`conntrack::icmp::inner_tuple`) and NAT's
//! `ipv6_skip_exthdr`.
//!
//! Input: one byte (bit 0: IPv6; bits 1-7 pick a cut point), then the
//! packet from its network header on.
//!
//! Oracles: no panic; parsing is deterministic and looks at nothing beyond
//! what it reports (a parse of any prefix that succeeds gives the same
//! answer as the whole input, save TCP options the prefix cuts); every
//! offset and length reported lies within the input or the packet's own
//! length and agrees with the header bytes; a tuple inverts back to
//! itself; the ICMP error's inner tuple is the tuple of the embedded packet
//! whenever that packet parses on its own; NAT's extension-header walk
//! finds the transport header conntrack's walk finds.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rnf_core::conntrack::icmp::{inner_tuple, is_error};
use rnf_core::conntrack::tuple::Tuple;
use rnf_core::nat::rewrite::ipv6_skip_exthdr;
use rnf_core::packet::*;

fn be16(b: &[u8], off: usize) -> u16 {
    u16::from_be_bytes([b[off], b[off + 1]])
}

fn be32(b: &[u8], off: usize) -> u32 {
    u32::from_be_bytes([b[off], b[off + 1], b[off + 2], b[off + 3]])
}

/// Everything a successful parse reports must agree with the bytes.
fn check_info(l3: L3Proto, data: &[u8], p: &PacketInfo) {
    assert_eq!(p.l3, l3);
    let len = p.len as usize;
    assert!(p.l4_offset <= len, "l4_offset {} past the packet length {}", p.l4_offset, len);
    match l3 {
        L3Proto::Ipv4 => {
            let ihl = usize::from(data[0] & 0x0f) * 4;
            assert!(ihl >= 20 && ihl <= data.len());
            assert_eq!(p.l4_offset, ihl);
            assert_eq!(len, usize::from(be16(data, 2)));
            assert_eq!(&p.src[..4], &data[12..16]);
            assert_eq!(&p.dst[..4], &data[16..20]);
            assert_eq!(p.src[4..], [0; 12]);
            assert_eq!(p.dst[4..], [0; 12]);
            assert_eq!(p.proto, data[9]);
            assert_eq!(p.later_fragment, be16(data, 6) & 0x1fff != 0);
        }
        L3Proto::Ipv6 => {
            assert!(data.len() >= 40 && p.l4_offset >= 40);
            assert_eq!(len, usize::from(be16(data, 4)) + 40);
            assert_eq!(&p.src[..], &data[8..24]);
            assert_eq!(&p.dst[..], &data[24..40]);
        }
    }
    if p.later_fragment {
        assert_eq!(p.l4, L4::Other, "a later fragment has no transport header");
        return;
    }
    assert!(p.l4_offset <= data.len(), "transport header offset past the input");
    let l4 = &data[p.l4_offset..];
    let l4_len = len - p.l4_offset;
    match p.l4 {
        L4::Tcp { sport, dport, seq, ack, flags, window, payload_len, opts } => {
            assert_eq!(p.proto, IPPROTO_TCP);
            assert!(l4.len() >= 20, "TCP fields read from {} bytes", l4.len());
            let doff = usize::from(l4[12] >> 4) * 4;
            assert!(doff >= 20 && doff <= l4_len);
            assert_eq!(payload_len as usize, l4_len - doff);
            assert_eq!((sport, dport, seq, ack), (be16(l4, 0), be16(l4, 2), be32(l4, 4), be32(l4, 8)));
            assert_eq!((flags.0, window), (l4[13], be16(l4, 14)));
            assert!(opts.wscale.map_or(true, |s| s <= 14));
            // Options are read only when all of them are in the input.
            assert_eq!(opts.present, doff > 20 && l4.len() >= doff);
            if opts.present {
                assert_eq!(opts, TcpOptions::parse(&l4[20..doff]));
            }
        }
        L4::Udp { sport, dport, .. } => {
            assert_eq!(p.proto, IPPROTO_UDP);
            assert!(l4.len() >= 8 && l4_len >= 8);
            assert_eq!((sport, dport), (be16(l4, 0), be16(l4, 2)));
        }
        L4::Icmp { icmp_type, code, id, inner_offset } => {
            assert!(p.proto == IPPROTO_ICMP || p.proto == IPPROTO_ICMPV6);
            assert!(l4.len() >= 8 && l4_len >= 8);
            assert_eq!((icmp_type, code, id), (l4[0], l4[1], be16(l4, 4)));
            assert_eq!(inner_offset, p.l4_offset + 8);
            assert!(inner_offset <= data.len());
        }
        L4::Other => {
            assert!(![IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP, IPPROTO_ICMPV6].contains(&p.proto));
        }
    }
}

/// The tuple of a parsed packet agrees with it and inverts back.
fn check_tuple(p: &PacketInfo) -> Option<Tuple> {
    let t = match Tuple::from_packet(p) {
        Ok(t) => t,
        Err(_) => {
            assert!(p.later_fragment || matches!(p.l4, L4::Icmp { .. }));
            return None;
        }
    };
    assert_eq!((t.src, t.dst, t.proto, t.l3), (p.src, p.dst, p.proto, p.l3));
    assert_eq!(t.invert().invert(), t, "a tuple inverts back to itself");
    assert_eq!(t.hash(7, 0x1234), t.hash(7, 0x1234));
    Some(t)
}

fuzz_target!(|data: &[u8]| {
    let Some((&sel, pkt)) = data.split_first() else { return };
    let l3 = if sel & 1 == 0 { L3Proto::Ipv4 } else { L3Proto::Ipv6 };
    let opts = TcpOptions::parse(pkt);
    assert!(opts.wscale.map_or(true, |s| s <= 14));
    assert_eq!(opts.present, !pkt.is_empty());

    let r = parse(l3, pkt);
    assert_eq!(r, parse(l3, pkt), "parse is deterministic");
    let l3r = parse_l3(l3, pkt);
    match (&r, &l3r) {
        (Ok(a), Ok(b)) => {
            assert_eq!((a.src, a.dst, a.proto, a.l4_offset, a.len, a.later_fragment), (b.src, b.dst, b.proto, b.l4_offset, b.len, b.later_fragment));
            assert_eq!(b.l4, L4::Other);
        }
        (Ok(_), Err(e)) => panic!("parse succeeds where parse_l3 fails with {e:?}"),
        _ => {}
    }
    if let Ok(b) = &l3r {
        // parse_l3 alone: the same bounds, save the transport header.
        assert!(b.l4_offset <= b.len as usize);
    }

    // A prefix that parses must give what the whole input gives.
    let cut = usize::from(sel >> 1) * pkt.len() / 128;
    for k in [cut, pkt.len().saturating_sub(1)] {
        if let Ok(mut a) = parse(l3, &pkt[..k]) {
            let mut b = r.expect("the whole input parses when a prefix does");
            if let (L4::Tcp { opts: oa, .. }, L4::Tcp { opts: ob, .. }) = (&mut a.l4, &mut b.l4) {
                if !oa.present {
                    *ob = TcpOptions::default();
                }
            }
            assert_eq!(a, b, "the prefix of {k} bytes parses differently");
        }
    }

    let Ok(p) = r else { return };
    check_info(l3, pkt, &p);
    check_tuple(&p);

    // NAT's walk of the IPv6 extension headers agrees with conntrack's.
    if l3 == L3Proto::Ipv6 && p.proto != 59 {
        let (off, nh, frag) = ipv6_skip_exthdr(pkt, 40, pkt[6]).expect("NAT walks what conntrack walked");
        if p.later_fragment {
            assert!(frag & !7 != 0);
        } else {
            assert_eq!((off, nh), (p.l4_offset, p.proto), "NAT and conntrack find different transport headers");
            assert_eq!(frag & !7, 0);
        }
    }

    // An ICMP error: its inner tuple is the embedded packet's own.
    if let L4::Icmp { icmp_type, inner_offset, .. } = p.l4 {
        let inner = &pkt[inner_offset..];
        let got = inner_tuple(&p, pkt);
        if let Ok(t) = &got {
            let h = parse_l3(l3, inner).expect("inner_tuple parsed the inner header");
            assert!(!h.later_fragment);
            assert_eq!((t.src, t.dst, t.proto, t.l3), (h.src, h.dst, h.proto, l3));
        }
        if is_error(l3, icmp_type) {
            if let Ok(ip) = parse(l3, inner) {
                check_info(l3, inner, &ip);
                // A packet with a tuple of its own (for ICMP: a type that
                // inverts, as nf_ct_invert_tuple wants) is related.
                if let Some(t2) = check_tuple(&ip) {
                    assert_eq!(got, Ok(t2), "inner_tuple differs from the embedded packet's tuple");
                }
            }
        }
    }
});
