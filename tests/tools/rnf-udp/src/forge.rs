// SPDX-License-Identifier: GPL-2.0

//! Builders of the packets `forge-unreach` and `forge-rst` send: IPv4, IPv6,
//! UDP and TCP headers, ICMP(v6) port unreachable errors, and the Internet
//! checksum (RFC 1071) they need. Pure functions over byte arrays, so the
//! checksums can be tested on the host.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

pub const IPPROTO_TCP: u8 = 6;
pub const IPPROTO_UDP: u8 = 17;

/// Length of an IPv4 header without options.
pub const IPV4_HLEN: usize = 20;
/// Length of the IPv6 header.
pub const IPV6_HLEN: usize = 40;
/// Length of a UDP header.
pub const UDP_HLEN: usize = 8;
/// Length of a TCP header without options.
pub const TCP_HLEN: usize = 20;

/// TTL (hop limit) of the forged packets and of the datagram an error embeds.
const TTL: u8 = 64;

/// Adds `data` to the one's complement sum `sum` as big-endian 16-bit words,
/// an odd last byte padded with a zero byte (RFC 1071). Fold with
/// [`csum_finish`].
pub fn csum_add(mut sum: u32, data: &[u8]) -> u32 {
    let mut words = data.chunks_exact(2);
    for w in &mut words {
        sum = fold_once(sum + u32::from(u16::from_be_bytes([w[0], w[1]])));
    }
    if let [last] = words.remainder() {
        sum = fold_once(sum + (u32::from(*last) << 8));
    }
    sum
}

/// Keeps the running sum within 17 bits so that adding a word never
/// overflows, whatever the length of the data.
fn fold_once(sum: u32) -> u32 {
    (sum & 0xffff) + (sum >> 16)
}

/// The checksum field value for the one's complement sum `sum`: the sum
/// folded to 16 bits and complemented.
pub fn csum_finish(sum: u32) -> u16 {
    !(fold_once(fold_once(sum)) as u16)
}

/// The one's complement sum of the pseudo-header of a transport segment
/// of `len` bytes and protocol `proto` between `src` and `dst` (RFC 768 and
/// RFC 793 for IPv4, RFC 8200 section 8.1 for IPv6). Both addresses must be
/// of the same family.
pub fn pseudo_header_sum(src: IpAddr, dst: IpAddr, proto: u8, len: usize) -> u32 {
    match (src, dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let mut sum = csum_add(0, &s.octets());
            sum = csum_add(sum, &d.octets());
            csum_add(sum, &[0, proto, (len >> 8) as u8, len as u8])
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            let mut sum = csum_add(0, &s.octets());
            sum = csum_add(sum, &d.octets());
            sum = csum_add(sum, &(len as u32).to_be_bytes());
            csum_add(sum, &[0, 0, 0, proto])
        }
        _ => panic!("pseudo-header over mixed address families"),
    }
}

/// An IPv4 header without options: DF set, TTL 64, header checksum filled
/// in, for a payload of `payload_len` bytes of protocol `proto`.
pub fn ipv4_header(
    src: Ipv4Addr,
    dst: Ipv4Addr,
    proto: u8,
    payload_len: usize,
    id: u16,
) -> [u8; IPV4_HLEN] {
    let total = (IPV4_HLEN + payload_len) as u16;
    let mut h = [0u8; IPV4_HLEN];
    h[0] = 0x45; // version 4, 5 words
    h[2..4].copy_from_slice(&total.to_be_bytes());
    h[4..6].copy_from_slice(&id.to_be_bytes());
    h[6] = 0x40; // DF, fragment offset 0
    h[8] = TTL;
    h[9] = proto;
    h[12..16].copy_from_slice(&src.octets());
    h[16..20].copy_from_slice(&dst.octets());
    let sum = csum_finish(csum_add(0, &h));
    h[10..12].copy_from_slice(&sum.to_be_bytes());
    h
}

/// The IPv6 header of a packet carrying `payload_len` bytes of `next`.
pub fn ipv6_header(src: Ipv6Addr, dst: Ipv6Addr, next: u8, payload_len: usize) -> [u8; IPV6_HLEN] {
    let mut h = [0u8; IPV6_HLEN];
    h[0] = 0x60; // version 6, traffic class and flow label 0
    h[4..6].copy_from_slice(&(payload_len as u16).to_be_bytes());
    h[6] = next;
    h[7] = TTL;
    h[8..24].copy_from_slice(&src.octets());
    h[24..40].copy_from_slice(&dst.octets());
    h
}

/// The header of an empty UDP datagram `src:sport -> dst:dport`, checksum
/// included (an all-zero result is sent as 0xffff, RFC 768).
pub fn udp_header(src: IpAddr, dst: IpAddr, sport: u16, dport: u16) -> [u8; UDP_HLEN] {
    let mut h = [0u8; UDP_HLEN];
    h[0..2].copy_from_slice(&sport.to_be_bytes());
    h[2..4].copy_from_slice(&dport.to_be_bytes());
    h[4..6].copy_from_slice(&(UDP_HLEN as u16).to_be_bytes());
    let sum = csum_add(pseudo_header_sum(src, dst, IPPROTO_UDP, UDP_HLEN), &h);
    let sum = match csum_finish(sum) {
        0 => 0xffff,
        s => s,
    };
    h[6..8].copy_from_slice(&sum.to_be_bytes());
    h
}

/// ICMP destination unreachable (type 3), port unreachable (code 3), about
/// the UDP datagram `inner_src:sport -> inner_dst:dport`: the ICMP header
/// with its checksum, then the datagram's IPv4 and UDP headers as the host
/// that refused it would quote them (RFC 792). The kernel adds the outer
/// IPv4 header when this is sent through a raw ICMP socket.
pub fn icmp4_port_unreachable(
    inner_src: Ipv4Addr,
    inner_dst: Ipv4Addr,
    sport: u16,
    dport: u16,
) -> Vec<u8> {
    let mut m = vec![3, 3, 0, 0, 0, 0, 0, 0];
    m.extend_from_slice(&ipv4_header(inner_src, inner_dst, IPPROTO_UDP, UDP_HLEN, 0));
    m.extend_from_slice(&udp_header(
        inner_src.into(),
        inner_dst.into(),
        sport,
        dport,
    ));
    let sum = csum_finish(csum_add(0, &m));
    m[2..4].copy_from_slice(&sum.to_be_bytes());
    m
}

/// ICMPv6 destination unreachable (type 1), port unreachable (code 4),
/// about the UDP datagram `inner_src:sport -> inner_dst:dport`, quoting its
/// IPv6 and UDP headers (RFC 4443). The checksum is left 0: it covers the
/// outer addresses, and the kernel computes it for raw ICMPv6 sockets.
pub fn icmp6_port_unreachable(
    inner_src: Ipv6Addr,
    inner_dst: Ipv6Addr,
    sport: u16,
    dport: u16,
) -> Vec<u8> {
    let mut m = vec![1, 4, 0, 0, 0, 0, 0, 0];
    m.extend_from_slice(&ipv6_header(inner_src, inner_dst, IPPROTO_UDP, UDP_HLEN));
    m.extend_from_slice(&udp_header(
        inner_src.into(),
        inner_dst.into(),
        sport,
        dport,
    ));
    m
}

/// A bare TCP RST (no ACK, window 0, no options) `src:sport -> dst:dport`
/// with sequence number `seq`, checksum over the pseudo-header included.
pub fn tcp_rst(src: IpAddr, dst: IpAddr, sport: u16, dport: u16, seq: u32) -> [u8; TCP_HLEN] {
    let mut h = [0u8; TCP_HLEN];
    h[0..2].copy_from_slice(&sport.to_be_bytes());
    h[2..4].copy_from_slice(&dport.to_be_bytes());
    h[4..8].copy_from_slice(&seq.to_be_bytes());
    h[12] = ((TCP_HLEN / 4) as u8) << 4; // data offset
    h[13] = 0x04; // RST
    let sum = csum_finish(csum_add(
        pseudo_header_sum(src, dst, IPPROTO_TCP, TCP_HLEN),
        &h,
    ));
    h[16..18].copy_from_slice(&sum.to_be_bytes());
    h
}

/// A whole IPv4 packet (header and `payload`) for a socket with IP_HDRINCL.
pub fn ipv4_packet(src: Ipv4Addr, dst: Ipv4Addr, proto: u8, id: u16, payload: &[u8]) -> Vec<u8> {
    let mut p = ipv4_header(src, dst, proto, payload.len(), id).to_vec();
    p.extend_from_slice(payload);
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(s: &str) -> Ipv4Addr {
        s.parse().unwrap()
    }

    fn v6(s: &str) -> Ipv6Addr {
        s.parse().unwrap()
    }

    /// A correct checksum makes the sum over the covered bytes 0xffff.
    fn verifies(pseudo: u32, data: &[u8]) -> bool {
        csum_finish(csum_add(pseudo, data)) == 0
    }

    #[test]
    fn rfc1071_example() {
        // RFC 1071 section 3: the words 0001 f203 f4f5 f6f7 sum to 2ddf0,
        // folded ddf2; the checksum is its complement.
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(csum_add(0, &data), 0xddf2);
        assert_eq!(csum_finish(csum_add(0, &data)), 0x220d);
    }

    #[test]
    fn odd_length_pads_with_zero() {
        // 0x0102 + 0x0300 = 0x0402.
        assert_eq!(csum_add(0, &[1, 2, 3]), 0x0402);
        assert_eq!(csum_finish(csum_add(0, &[1, 2, 3])), 0xfbfd);
    }

    #[test]
    fn long_data_does_not_overflow() {
        let data = vec![0xffu8; 200_000];
        assert_eq!(csum_finish(csum_add(0, &data)), 0);
    }

    #[test]
    fn ipv4_header_known_checksum() {
        // The usual worked example: 4500 0073 0000 4000 4011 ____ c0a8 0001
        // c0a8 00c7. Words: 4500+0073+0000+4000+4011+c0a8+0001+c0a8+00c7 =
        // 0x2479c; 0x479c + 0x2 = 0x479e; ~0x479e = 0xb861.
        let h = ipv4_header(
            v4("192.168.0.1"),
            v4("192.168.0.199"),
            IPPROTO_UDP,
            0x73 - 20,
            0,
        );
        assert_eq!(
            h,
            [
                0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8,
                0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7
            ]
        );
        assert!(verifies(0, &h));
    }

    #[test]
    fn udp_header_known_checksum() {
        // 10.1.0.2:40500 -> 10.2.0.2:5999, no payload. Pseudo-header:
        // 0a01+0002+0a02+0002+0011+0008 = 0x1420; header: 9e34+176f+0008 =
        // 0xb5ab; total 0xc9cb; checksum ~0xc9cb = 0x3634.
        let h = udp_header(v4("10.1.0.2").into(), v4("10.2.0.2").into(), 40500, 5999);
        assert_eq!(h, [0x9e, 0x34, 0x17, 0x6f, 0x00, 0x08, 0x36, 0x34]);
        assert!(verifies(
            pseudo_header_sum(v4("10.1.0.2").into(), v4("10.2.0.2").into(), IPPROTO_UDP, 8),
            &h
        ));
    }

    #[test]
    fn udp6_header_known_checksum() {
        // fd01::2:40501 -> fd02::2:5999. Pseudo-header: fd01+0002+fd02+0002
        // +0008 (length) +0011 = 0x1fa20 -> 0xfa21; header 9e35+176f+0008 =
        // 0xb5ac; 0xfa21 + 0xb5ac = 0x1afcd -> 0xafce; ~ = 0x5031.
        let (s, d) = (IpAddr::V6(v6("fd01::2")), IpAddr::V6(v6("fd02::2")));
        let h = udp_header(s, d, 40501, 5999);
        assert_eq!(h, [0x9e, 0x35, 0x17, 0x6f, 0x00, 0x08, 0x50, 0x31]);
        assert!(verifies(pseudo_header_sum(s, d, IPPROTO_UDP, 8), &h));
    }

    #[test]
    fn icmp4_unreachable_layout_and_checksum() {
        let m = icmp4_port_unreachable(v4("10.1.0.2"), v4("10.2.0.2"), 40500, 5999);
        assert_eq!(m.len(), 8 + IPV4_HLEN + UDP_HLEN);
        assert_eq!(m[0..2], [3, 3]);
        assert_eq!(m[4..8], [0, 0, 0, 0]);
        // The quoted IPv4 header: 4500 001c 0000 4000 4011 ____ 0a01 0002
        // 0a02 0002: 4500+001c+4000+4011+0a01+0002+0a02+0002 = 0xd934,
        // checksum ~0xd934 = 0x26cb.
        assert_eq!(
            m[8..28],
            [
                0x45, 0, 0x00, 0x1c, 0, 0, 0x40, 0, 0x40, 0x11, 0x26, 0xcb, 10, 1, 0, 2, 10, 2, 0,
                2
            ]
        );
        assert_eq!(m[28..36], [0x9e, 0x34, 0x17, 0x6f, 0x00, 0x08, 0x36, 0x34]);
        // ICMP checksum: 0303 + quoted IPv4 header (sums to ffff with its
        // own checksum) + quoted UDP header (9e34+176f+0008+3634 = 0xebdf):
        // 0x0303+0xffff = 0x10302 -> 0x0303; 0x0303+0xebdf = 0xeee2;
        // ~0xeee2 = 0x111d.
        assert_eq!(m[2..4], [0x11, 0x1d]);
        assert!(verifies(0, &m));
    }

    #[test]
    fn icmp6_unreachable_layout() {
        let m = icmp6_port_unreachable(v6("fd01::2"), v6("fd02::2"), 40501, 5999);
        assert_eq!(m.len(), 8 + IPV6_HLEN + UDP_HLEN);
        assert_eq!(m[0..4], [1, 4, 0, 0]); // checksum left to the kernel
        assert_eq!(m[8..16], [0x60, 0, 0, 0, 0, 8, IPPROTO_UDP, 64]);
        assert_eq!(m[16..32], v6("fd01::2").octets());
        assert_eq!(m[32..48], v6("fd02::2").octets());
        assert_eq!(m[48..56], [0x9e, 0x35, 0x17, 0x6f, 0x00, 0x08, 0x50, 0x31]);
    }

    #[test]
    fn tcp_rst_known_checksum() {
        // 10.2.0.2:8090 -> 10.1.0.2:40600, seq 1, RST only. Pseudo-header:
        // 0a02+0002+0a01+0002+0006+0014 = 0x1421; header: 1f9a+9e98+0000+
        // 0001+0000+0000+5004+0000+0000+0000 = 0x10e37 -> 0x0e38; total
        // 0x1421+0x0e38 = 0x2259; ~ = 0xdda6.
        let (s, d) = (IpAddr::V4(v4("10.2.0.2")), IpAddr::V4(v4("10.1.0.2")));
        let h = tcp_rst(s, d, 8090, 40600, 1);
        assert_eq!(
            h,
            [0x1f, 0x9a, 0x9e, 0x98, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x04, 0, 0, 0xdd, 0xa6, 0, 0]
        );
        assert!(verifies(pseudo_header_sum(s, d, IPPROTO_TCP, TCP_HLEN), &h));
    }

    #[test]
    fn tcp6_rst_known_checksum() {
        // fd02::2:8090 -> fd01::2:40600, seq 0x7fffffff. Pseudo-header:
        // fd02+0002+fd01+0002+0014+0006 = 0x1fa21 -> 0xfa22; header:
        // 1f9a+9e98+7fff+ffff+5004 = 0x28e34 -> 0x8e36; 0xfa22+0x8e36 =
        // 0x18858 -> 0x8859; ~ = 0x77a6.
        let (s, d) = (IpAddr::V6(v6("fd02::2")), IpAddr::V6(v6("fd01::2")));
        let h = tcp_rst(s, d, 8090, 40600, 0x7fff_ffff);
        assert_eq!(h[4..8], [0x7f, 0xff, 0xff, 0xff]);
        assert_eq!(h[16..18], [0x77, 0xa6]);
        assert!(verifies(pseudo_header_sum(s, d, IPPROTO_TCP, TCP_HLEN), &h));
    }

    #[test]
    fn ipv4_packet_wraps_payload() {
        let rst = tcp_rst(v4("10.2.0.2").into(), v4("10.1.0.2").into(), 8090, 40600, 1);
        let p = ipv4_packet(v4("10.2.0.2"), v4("10.1.0.2"), IPPROTO_TCP, 7, &rst);
        assert_eq!(p.len(), 40);
        assert_eq!(p[2..4], [0, 40]);
        assert_eq!(p[4..6], [0, 7]);
        assert_eq!(p[9], IPPROTO_TCP);
        assert!(verifies(0, &p[..IPV4_HLEN]));
        assert_eq!(p[IPV4_HLEN..], rst);
    }
}
