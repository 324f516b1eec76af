// SPDX-License-Identifier: GPL-2.0
//! Host-only tests of the packet views: exhaustive truncation and mutation of
//! the golden packets, which must never panic.

use super::*;
use crate::selftest::golden;

fn all_golden() -> [(L3Proto, &'static [u8]); 6] {
    [
        (L3Proto::Ipv4, &golden::IPV4_TCP_SYN),
        (L3Proto::Ipv4, &golden::IPV4_ICMP_ECHO),
        (L3Proto::Ipv6, &golden::IPV6_UDP),
        (L3Proto::Ipv6, &golden::IPV6_FRAG_FIRST),
        (L3Proto::Ipv6, &golden::IPV6_FRAG_LATER),
        (L3Proto::Ipv6, &golden::IPV6_HBH_ECHO),
    ]
}

#[test]
fn every_golden_packet_parses() {
    for (l3, p) in all_golden() {
        parse(l3, p).unwrap();
    }
}

#[test]
fn parse_into_overwrites_every_field_of_a_used_result() {
    // The hook keeps one PacketInfo and parse_into() fills it: what a
    // packet of one family or protocol left must not show through the next
    // (an IPv6 address's tail behind an IPv4 one, a TCP header behind a
    // later fragment's `Other`).
    for (l3a, a) in all_golden() {
        for (l3b, b) in all_golden() {
            let mut info = parse(l3a, a).unwrap();
            parse_into(l3b, b, &mut info).unwrap();
            assert_eq!(info, parse(l3b, b).unwrap());
        }
    }
}

#[test]
fn every_prefix_either_parses_or_errors() {
    for (l3, p) in all_golden() {
        for n in 0..=p.len() {
            let _ = parse(l3, &p[..n]);
        }
    }
}

#[test]
fn every_single_byte_mutation_is_handled() {
    // Flip each byte to several values: any result is fine, a panic is not.
    for (l3, p) in all_golden() {
        for i in 0..p.len() {
            for v in [0u8, 1, 0x0f, 0x40, 0x45, 0x60, 0x7f, 0x80, 0xff] {
                let mut q = p.to_vec();
                q[i] = v;
                let _ = parse(l3, &q);
                let _ = parse(if l3 == L3Proto::Ipv4 { L3Proto::Ipv6 } else { L3Proto::Ipv4 }, &q);
            }
        }
    }
}

/// An IPv6 UDP packet behind `n` destination options headers.
fn dst_chain(n: usize) -> Vec<u8> {
    let mut p = golden::IPV6_UDP[..40].to_vec();
    p[6] = NEXTHDR_DEST;
    for i in 0..n {
        let next = if i + 1 == n { IPPROTO_UDP } else { NEXTHDR_DEST };
        p.extend_from_slice(&[next, 0, 1, 4, 0, 0, 0, 0]);
    }
    p.extend_from_slice(&[0x75, 0x31, 0, 80, 0, 8, 0, 0]);
    let len = (p.len() - 40) as u16;
    p[4..6].copy_from_slice(&len.to_be_bytes());
    p
}

#[test]
fn ipv6_extension_header_loop_is_bounded() {
    // The corpus case v6-ext-chain-of-10: the kernel tracks a datagram
    // behind ten destination options headers (ipv6_skip_exthdr has no
    // limit); rnf refused more than eight.
    let info = parse(L3Proto::Ipv6, &dst_chain(10)).unwrap();
    assert_eq!((info.proto, info.l4_offset), (IPPROTO_UDP, 120));
    assert!(matches!(info.l4, L4::Udp { sport: 30001, dport: 80, .. }));
    // The loop still ends: 65 headers are refused.
    assert_eq!(parse(L3Proto::Ipv6, &dst_chain(65)), Err(ParseError::TooManyExtHeaders));
}

#[test]
fn udp_checksum_field_is_read() {
    let mut p = dst_chain(1);
    let off = p.len() - 8 + 6;
    p[off..off + 2].copy_from_slice(&0xbeefu16.to_be_bytes());
    assert!(matches!(parse(L3Proto::Ipv6, &p).unwrap().l4, L4::Udp { check: 0xbeef, .. }));
    p[off..off + 2].copy_from_slice(&[0, 0]);
    assert!(matches!(parse(L3Proto::Ipv6, &p).unwrap().l4, L4::Udp { check: 0, .. }));
}

#[test]
fn udp_length_field_is_checked_as_udp_error_does() {
    // The corpus cases udp-len-zero, udp-len-7, udp-len-past-datagram and
    // udp-len-short-of-datagram: the kernel's udp_error() refuses a length
    // field below 8 or past the datagram, and accepts one short of it.
    let p = dst_chain(1);
    let ok = |len: u16| {
        let mut q = p.clone();
        q[52..54].copy_from_slice(&len.to_be_bytes());
        udp_length_ok(&parse(L3Proto::Ipv6, &q).unwrap())
    };
    assert!(ok(8));
    assert!(!ok(0) && !ok(7) && !ok(9) && !ok(100));
    let mut q = p.clone();
    q.extend_from_slice(&[0; 4]);
    q[4..6].copy_from_slice(&20u16.to_be_bytes());
    q[52..54].copy_from_slice(&10u16.to_be_bytes());
    assert!(udp_length_ok(&parse(L3Proto::Ipv6, &q).unwrap()));
    let tcp = parse(L3Proto::Ipv4, &golden::IPV4_TCP_SYN).unwrap();
    assert!(!udp_length_ok(&tcp));
}

#[test]
fn ipv6_no_next_header_is_flagged() {
    // The corpus cases v6-no-next-header and v6-ext-then-no-next.
    let mut p = golden::IPV6_UDP[..40].to_vec();
    p[6] = NEXTHDR_NONE;
    p[4..6].copy_from_slice(&0u16.to_be_bytes());
    assert!(ipv6_no_next_header(&parse(L3Proto::Ipv6, &p).unwrap()));
    p[6] = NEXTHDR_DEST;
    p.extend_from_slice(&[NEXTHDR_NONE, 0, 1, 4, 0, 0, 0, 0]);
    p[4..6].copy_from_slice(&8u16.to_be_bytes());
    let nnh = parse(L3Proto::Ipv6, &p).unwrap();
    assert!(ipv6_no_next_header(&nnh));
    // Conntrack's classify() tests it only on packets without a transport
    // header.
    assert_eq!(nnh.l4, L4::Other);
    assert!(!ipv6_no_next_header(&parse(L3Proto::Ipv6, &golden::IPV6_UDP).unwrap()));
}

#[test]
fn ipv4_later_fragment_is_flagged() {
    let mut p = golden::IPV4_TCP_SYN;
    p[6] = 0x00;
    p[7] = 0xb9; // offset 185 * 8
    let info = parse(L3Proto::Ipv4, &p).unwrap();
    assert!(info.later_fragment);
    assert_eq!(info.l4, L4::Other);
}

#[test]
fn tcp_payload_length_follows_ip_total_length() {
    let mut p = golden::IPV4_TCP_SYN.to_vec();
    p.extend_from_slice(&[0u8; 100]);
    p[2..4].copy_from_slice(&160u16.to_be_bytes());
    match parse(L3Proto::Ipv4, &p).unwrap().l4 {
        L4::Tcp { payload_len, .. } => assert_eq!(payload_len, 100),
        other => panic!("{other:?}"),
    }
}

#[test]
fn ipv6_later_fragment_header_beyond_the_payload_length_is_refused() {
    // Found by the packet fuzz target: a later fragment whose fragment
    // header lies past the payload length was reported with an l4_offset
    // (48) beyond the packet's length (40).
    let mut p = golden::IPV6_FRAG_LATER;
    p[4..6].copy_from_slice(&0u16.to_be_bytes());
    assert_eq!(parse(L3Proto::Ipv6, &p), Err(ParseError::BadTotalLength));
    p[4..6].copy_from_slice(&7u16.to_be_bytes());
    assert_eq!(parse(L3Proto::Ipv6, &p), Err(ParseError::BadTotalLength));
    p[4..6].copy_from_slice(&8u16.to_be_bytes());
    let info = parse(L3Proto::Ipv6, &p).unwrap();
    assert!(info.later_fragment && info.l4_offset as u32 <= info.len);
}

#[test]
fn field_reads_at_offsets_near_usize_max_are_truncated() {
    let b = [0x12u8, 0x34, 0x56, 0x78];
    assert_eq!(be16(&b, 0), Ok(0x1234));
    assert_eq!(be16(&b, 2), Ok(0x5678));
    assert_eq!(be32(&b, 0), Ok(0x1234_5678));
    for off in [3, 4, usize::MAX - 3, usize::MAX - 1, usize::MAX] {
        assert_eq!(be16(&b, off), Err(ParseError::Truncated), "be16 at {off}");
    }
    for off in [1, 4, usize::MAX - 3, usize::MAX] {
        assert_eq!(be32(&b, off), Err(ParseError::Truncated), "be32 at {off}");
    }
    assert_eq!(addr::<4>(&b, usize::MAX - 1), Err(ParseError::Truncated));
    assert_eq!(addr::<4>(&b, 0).map(|a| a[..4] == b), Ok(true));
}

#[test]
fn udp_length_of_an_offset_near_usize_max_is_not_ok() {
    let mut p = parse(L3Proto::Ipv6, &golden::IPV6_UDP).unwrap();
    assert!(udp_length_ok(&p));
    for off in [usize::MAX - 5, usize::MAX - 4, usize::MAX] {
        p.l4_offset = off;
        assert!(!udp_length_ok(&p), "l4_offset {off}");
    }
}
