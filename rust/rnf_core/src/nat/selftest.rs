// SPDX-License-Identifier: GPL-2.0
//! rnf_nat's self-test suites: the NAT checksum arithmetic, tuple selection
//! and packet rewriting, on fixed buffers (no allocation), so KUnit runs
//! them inside the module on the target's compiler and byte order.

use crate::conntrack::conn::Direction;
use crate::conntrack::tuple::Tuple;
use crate::nat::range::{ManipType, NatRange, MAP_IPS, PROTO_SPECIFIED};
use crate::nat::rewrite::{self, IcmpVerdict, Summed, IPS_NAT_DONE_MASK, IPS_SRC_NAT};
use crate::nat::select::{unique_tuple, NatSpace};
use crate::packet::{L3Proto, IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP};
use crate::selftest::{ensure, golden, Case, Suite};

fn incremental_update_matches_full_checksum() -> Result<(), &'static str> {
    use crate::nat::{checksum, csum_replace2, csum_replace4};
    // IPv4 header of the golden SYN with its checksum computed.
    let mut h = [0u8; 20];
    h.copy_from_slice(&golden::IPV4_TCP_SYN[..20]);
    let c = checksum(&h);
    h[10..12].copy_from_slice(&c.to_be_bytes());
    ensure(checksum(&h) == 0, "a header with its checksum sums to zero")?;
    // SNAT 10.1.0.2 -> 192.0.2.77, incrementally and from scratch.
    let from = u32::from_be_bytes([h[12], h[13], h[14], h[15]]);
    let to = u32::from_be_bytes([192, 0, 2, 77]);
    let inc = csum_replace4(c, from, to);
    h[12..16].copy_from_slice(&to.to_be_bytes());
    h[10..12].copy_from_slice(&[0, 0]);
    ensure(inc == checksum(&h), "address rewrite: RFC 1624 update equals recomputation")?;
    ensure(csum_replace2(csum_replace2(0x1234, 80, 8080), 8080, 80) == 0x1234, "port rewrite round trip")
}

/// NAT arithmetic suite.
pub const NAT: Suite = Suite {
    name: c"rnf_nat_csum",
    cases: &[Case { name: c"incremental_update_matches_full_checksum", run: incremental_update_matches_full_checksum }],
};

fn v4(a: [u8; 4]) -> [u8; 16] {
    let mut x = [0u8; 16];
    if let Some(d) = x.get_mut(..4) {
        d.copy_from_slice(&a);
    }
    x
}

/// The one's-complement sum (not folded to a checksum) of `parts`.
fn sum(parts: &[&[u8]]) -> u16 {
    let mut s = 0u32;
    for p in parts {
        for c in p.chunks(2) {
            let w = match *c {
                [a, b] => u16::from_be_bytes([a, b]),
                [a] => u16::from_be_bytes([a, 0]),
                _ => 0,
            };
            s += u32::from(w);
        }
    }
    while s > 0xffff {
        s = (s & 0xffff) + (s >> 16);
    }
    s as u16
}

/// Whether the IPv4 header and the TCP/UDP checksum (with its pseudo-header)
/// of `p` are right, by full recomputation.
fn v4_valid(p: &[u8], proto: u8) -> bool {
    let (Some(h), Some(seg)) = (p.get(..20), p.get(20..)) else { return false };
    let pseudo = [0, proto, (seg.len() >> 8) as u8, seg.len() as u8];
    let (Some(src), Some(dst)) = (p.get(12..16), p.get(16..20)) else { return false };
    sum(&[h]) == 0xffff && sum(&[src, dst, &pseudo, seg]) == 0xffff
}

/// Fills in the IPv4 header checksum and the TCP (offset 16) or UDP (6)
/// checksum of `p`.
fn v4_fill(p: &mut [u8], proto: u8) {
    let co = if proto == IPPROTO_TCP { 36 } else { 26 };
    if let Some(c) = p.get_mut(10..12) {
        c.copy_from_slice(&[0, 0]);
    }
    let hc = !sum(&[p.get(..20).unwrap_or(&[])]);
    if let Some(c) = p.get_mut(10..12) {
        c.copy_from_slice(&hc.to_be_bytes());
    }
    if let Some(c) = p.get_mut(co..co + 2) {
        c.copy_from_slice(&[0, 0]);
    }
    let len = p.len() - 20;
    let pseudo = [0, proto, (len >> 8) as u8, len as u8];
    let lc = !sum(&[p.get(12..20).unwrap_or(&[]), &pseudo, p.get(20..).unwrap_or(&[])]);
    if let Some(c) = p.get_mut(co..co + 2) {
        c.copy_from_slice(&lc.to_be_bytes());
    }
}

fn snat_rewrite_keeps_ip_and_tcp_checksums() -> Result<(), &'static str> {
    let mut p = golden::IPV4_TCP_SYN;
    v4_fill(&mut p, IPPROTO_TCP);
    ensure(v4_valid(&p, IPPROTO_TCP), "golden SYN with filled checksums is valid")?;
    let t = Tuple { src: v4([192, 0, 2, 77]), dst: v4([10, 2, 0, 2]), src_id: 1024, dst_id: 80, proto: IPPROTO_TCP, l3: L3Proto::Ipv4 };
    let len = p.len();
    rewrite::manip_pkt(&mut p, len, 0, &t, ManipType::Src, &mut Summed::None).map_err(|_| "rewrite failed")?;
    ensure(p.get(12..16) == Some(&[192, 0, 2, 77][..]), "source address rewritten")?;
    ensure(p.get(20..22) == Some(&[4, 0][..]), "source port rewritten")?;
    ensure(v4_valid(&p, IPPROTO_TCP), "IP and TCP checksums equal a full recomputation")
}

fn ipv6_dnat_rewrite_keeps_udp_checksum() -> Result<(), &'static str> {
    let mut p = golden::IPV6_UDP;
    let mut src = [0u8; 16];
    let mut dst = [0u8; 16];
    src.copy_from_slice(p.get(8..24).ok_or("short")?);
    dst.copy_from_slice(p.get(24..40).ok_or("short")?);
    let c = rewrite::ipv6_checksum(&src, &dst, IPPROTO_UDP, p.get(40..).ok_or("short")?);
    p.get_mut(46..48).ok_or("short")?.copy_from_slice(&c.to_be_bytes());
    let mut new_dst = dst;
    new_dst[15] = 0x99;
    let t = Tuple { src, dst: new_dst, src_id: 5000, dst_id: 5353, proto: IPPROTO_UDP, l3: L3Proto::Ipv6 };
    let len = p.len();
    rewrite::manip_pkt(&mut p, len, 0, &t, ManipType::Dst, &mut Summed::None).map_err(|_| "rewrite failed")?;
    ensure(p.get(39) == Some(&0x99) && p.get(42..44) == Some(&[0x14, 0xe9][..]), "destination rewritten")?;
    let mut d2 = [0u8; 16];
    d2.copy_from_slice(p.get(24..40).ok_or("short")?);
    ensure(rewrite::ipv6_checksum(&src, &d2, IPPROTO_UDP, p.get(40..).ok_or("short")?) == 0, "UDP checksum equals a full recomputation")
}

/// A table stand-in with up to four taken candidates and a fixed random number.
struct Fixed {
    taken: [Option<Tuple>; 4],
}

impl NatSpace for Fixed {
    fn used(&mut self, candidate: &Tuple) -> bool {
        self.taken.iter().flatten().any(|t| t == candidate)
    }
    fn for_each_same_src(&mut self, _: &Tuple, _: &mut dyn FnMut(&Tuple) -> bool) {}
    fn random_u16(&mut self) -> u16 {
        0x9e37
    }
}

fn udp(src: [u8; 4], sport: u16, dst: [u8; 4], dport: u16) -> Tuple {
    Tuple { src: v4(src), dst: v4(dst), src_id: sport, dst_id: dport, proto: IPPROTO_UDP, l3: L3Proto::Ipv4 }
}

fn snat_keeps_a_free_port_and_moves_a_taken_one_within_its_class() -> Result<(), &'static str> {
    let wan = NatRange::null_binding(v4([192, 0, 2, 1]));
    let o = udp([10, 0, 1, 2], 5000, [198, 51, 100, 7], 53);
    let mut free = Fixed { taken: [None; 4] };
    let n = unique_tuple(&o, &wan, ManipType::Src, 0, &mut free);
    ensure(n.src == v4([192, 0, 2, 1]) && n.src_id == 5000, "free tuple keeps its port")?;
    for (sport, lo, hi) in [(100u16, 1u16, 511u16), (700, 600, 1023), (5000, 1024, 65535)] {
        let o = udp([10, 0, 1, 3], sport, [198, 51, 100, 7], 53);
        let mut s = Fixed { taken: [Some(Tuple { src: v4([192, 0, 2, 1]), ..o }), None, None, None] };
        let n = unique_tuple(&o, &wan, ManipType::Src, 0, &mut s);
        ensure(n.src_id >= lo && n.src_id <= hi && n.src_id != sport, "taken port moves within its class")?;
    }
    Ok(())
}

fn dnat_port_range_fills_in_order() -> Result<(), &'static str> {
    let mut r = NatRange::null_binding(v4([10, 0, 2, 2]));
    r.flags = MAP_IPS | PROTO_SPECIFIED;
    r.min_proto = 21000;
    r.max_proto = 21010;
    let mut s = Fixed { taken: [None; 4] };
    for (i, vip) in (32000u16..32003).enumerate() {
        let o = udp([10, 0, 1, 2], 40000, [10, 0, 9, 9], vip);
        let n = unique_tuple(&o, &r, ManipType::Dst, 0, &mut s);
        ensure(n.dst == v4([10, 0, 2, 2]) && usize::from(n.dst_id) == 21000 + i, "min, then min+1, ...")?;
        if let Some(slot) = s.taken.get_mut(i) {
            *slot = Some(n);
        }
    }
    Ok(())
}

fn icmp_error_about_snat_flow_is_translated() -> Result<(), &'static str> {
    // C=10.0.1.2:40000 -> S=198.51.100.7:53 UDP, source-NATed to N=192.0.2.1:1024.
    let orig = udp([10, 0, 1, 2], 40000, [198, 51, 100, 7], 53);
    let reply = udp([198, 51, 100, 7], 53, [192, 0, 2, 1], 1024);
    // 203.0.113.1 -> N: port unreachable quoting N:1024 -> S:53 (28 bytes).
    let mut p = [0u8; 56];
    p[..20].copy_from_slice(&[0x45, 0, 0, 56, 0, 0, 0, 0, 64, IPPROTO_ICMP, 0, 0, 203, 0, 113, 1, 192, 0, 2, 1]);
    p[20..28].copy_from_slice(&[3, 3, 0, 0, 0, 0, 0, 0]);
    p[28..48].copy_from_slice(&[0x45, 0, 0, 28, 0, 0, 0, 0, 63, IPPROTO_UDP, 0, 0, 192, 0, 2, 1, 198, 51, 100, 7]);
    p[48..56].copy_from_slice(&[0x04, 0x00, 0x00, 0x35, 0x00, 0x08, 0x00, 0x00]);
    let hc = !sum(&[&p[28..48]]);
    p[38..40].copy_from_slice(&hc.to_be_bytes());
    let hc = !sum(&[&p[..20]]);
    p[10..12].copy_from_slice(&hc.to_be_bytes());
    let ic = !sum(&[&p[20..]]);
    p[22..24].copy_from_slice(&ic.to_be_bytes());
    let status = IPS_SRC_NAT | IPS_NAT_DONE_MASK;
    let v = rewrite::icmp_reply_translation(&mut p, 20, &[orig, reply], status, Direction::Reply, ManipType::Dst, &mut Summed::None);
    ensure(v == Ok(IcmpVerdict::Accept), "translated, not dropped")?;
    ensure(p.get(16..20) == Some(&[10, 0, 1, 2][..]), "outer destination is the client")?;
    ensure(p.get(40..44) == Some(&[10, 0, 1, 2][..]) && p.get(48..50) == Some(&[0x9c, 0x40][..]), "inner source is the client's")?;
    ensure(sum(&[&p[..20]]) == 0xffff && sum(&[&p[28..48]]) == 0xffff, "outer and inner IP checksums")?;
    ensure(sum(&[&p[20..]]) == 0xffff, "ICMP checksum recomputed")
}

/// Tuple selection and rewriting suite (nf_nat_core.c, nf_nat_proto.c).
pub const NAT_ENGINE: Suite = Suite {
    name: c"rnf_nat_engine",
    cases: &[
        Case { name: c"snat_rewrite_keeps_ip_and_tcp_checksums", run: snat_rewrite_keeps_ip_and_tcp_checksums },
        Case { name: c"ipv6_dnat_rewrite_keeps_udp_checksum", run: ipv6_dnat_rewrite_keeps_udp_checksum },
        Case {
            name: c"snat_keeps_a_free_port_and_moves_a_taken_one_within_its_class",
            run: snat_keeps_a_free_port_and_moves_a_taken_one_within_its_class,
        },
        Case { name: c"dnat_port_range_fills_in_order", run: dnat_port_range_fills_in_order },
        Case { name: c"icmp_error_about_snat_flow_is_translated", run: icmp_error_about_snat_flow_is_translated },
    ],
};

/// rnf_nat's suites, in the order KUnit runs them.
pub const SUITES: [&Suite; 2] = [&NAT, &NAT_ENGINE];

#[cfg(test)]
mod nat_tests {
    #[test]
    fn nat_suites_pass() {
        for s in super::SUITES {
            for c in s.cases {
                assert_eq!((c.run)(), Ok(()), "{:?}", c.name);
            }
        }
    }
}
