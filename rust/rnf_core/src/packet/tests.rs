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

#[test]
fn ipv6_extension_header_loop_is_bounded() {
    // Nine hop-by-hop-style destination option headers chained: refused.
    let mut p = golden::IPV6_UDP[..40].to_vec();
    p[6] = NEXTHDR_DEST;
    for _ in 0..9 {
        p.extend_from_slice(&[NEXTHDR_DEST, 0, 0, 0, 0, 0, 0, 0]);
    }
    let len = (p.len() - 40) as u16;
    p[4..6].copy_from_slice(&len.to_be_bytes());
    assert_eq!(parse(L3Proto::Ipv6, &p), Err(ParseError::TooManyExtHeaders));
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
