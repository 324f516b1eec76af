// SPDX-License-Identifier: GPL-2.0
//! Writes the seed corpora of the fuzz targets in fuzz/fuzz_targets/ (all
//! but the filter-table seeds of `xt_replace`, which the xt tests write):
//!
//! ```text
//! cd rust/rnf_core && cargo test -- --ignored write_fuzz_seeds
//! ```
//!
//! Each seed is a handful of bytes in the input format its target's header
//! documents; a seed that no longer fits a changed format is still a valid
//! input, only a less useful one.

use std::path::PathBuf;
use std::vec;
use std::vec::Vec;

use crate::packet::{L3Proto, IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_TCP, IPPROTO_UDP};
use crate::selftest::golden;
use crate::xt::build::{IpSpec, TargetSpec};
use crate::xt::tests::one_chain_table;
use crate::xt::*;

fn dir(target: &str) -> PathBuf {
    let d = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds").join(target);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn write(target: &str, name: &str, data: &[u8]) {
    std::fs::write(dir(target).join(name), data).unwrap();
}

/// The one's-complement checksum of `b` (RFC 1071).
fn csum(b: &[u8]) -> u16 {
    let mut s: u32 = b.chunks(2).map(|c| u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]))).sum();
    while s > 0xffff {
        s = (s & 0xffff) + (s >> 16);
    }
    !(s as u16)
}

fn ipv4(proto: u8, src: [u8; 4], dst: [u8; 4], l4: &[u8]) -> Vec<u8> {
    let mut p = vec![0x45, 0, 0, 0, 0, 1, 0x40, 0, 64, proto, 0, 0];
    p.extend_from_slice(&src);
    p.extend_from_slice(&dst);
    let n = (20 + l4.len()) as u16;
    p[2..4].copy_from_slice(&n.to_be_bytes());
    let c = csum(&p);
    p[10..12].copy_from_slice(&c.to_be_bytes());
    p.extend_from_slice(l4);
    p
}

fn ipv6(next: u8, src: [u8; 16], dst: [u8; 16], rest: &[u8]) -> Vec<u8> {
    let mut p = vec![0x60, 0, 0, 0, 0, 0, next, 64];
    p[4..6].copy_from_slice(&(rest.len() as u16).to_be_bytes());
    p.extend_from_slice(&src);
    p.extend_from_slice(&dst);
    p.extend_from_slice(rest);
    p
}

const C6: [u8; 16] = [0xfd, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];
const S6: [u8; 16] = [0xfd, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];

/// `packet`: one family byte, then the packet.
#[test]
#[ignore]
fn write_fuzz_seeds_packet() {
    let with = |sel: u8, p: &[u8]| {
        let mut v = vec![sel];
        v.extend_from_slice(p);
        v
    };
    write("packet", "ipv4_tcp_syn", &with(0x80, &golden::IPV4_TCP_SYN));
    write("packet", "ipv4_icmp_echo", &with(0x40, &golden::IPV4_ICMP_ECHO));
    write("packet", "ipv6_udp", &with(0x81, &golden::IPV6_UDP));
    write("packet", "ipv6_frag_first", &with(0x41, &golden::IPV6_FRAG_FIRST));
    write("packet", "ipv6_frag_later", &with(0x21, &golden::IPV6_FRAG_LATER));
    write("packet", "ipv6_hbh_echo", &with(0x61, &golden::IPV6_HBH_ECHO));
    // ICMP port unreachable quoting the golden SYN's first 28 bytes.
    let mut err = vec![3, 3, 0, 0, 0, 0, 0, 0];
    err.extend_from_slice(&golden::IPV4_TCP_SYN[..28]);
    write("packet", "ipv4_icmp_error_tcp", &with(0x90, &ipv4(IPPROTO_ICMP, [10, 2, 0, 2], [10, 1, 0, 2], &err)));
    // ICMPv6 time exceeded quoting the golden UDP datagram, behind a
    // routing and a destination options header.
    let mut body = vec![60, 0, 0, 0, 0, 0, 0, 0, IPPROTO_ICMPV6, 0, 1, 4, 0, 0, 0, 0];
    body.extend_from_slice(&[3, 0, 0, 0, 0, 0, 0, 0]);
    body.extend_from_slice(&golden::IPV6_UDP);
    write("packet", "ipv6_ext_icmpv6_error", &with(0xa1, &ipv6(43, S6, C6, &body)));
}

/// `conntrack`: configuration, flow, then records (see the target).
#[test]
#[ignore]
fn write_fuzz_seeds_conntrack() {
    // A record of a TCP segment with sequence numbers relative to what the
    // tracker has seen: control byte, flags, two i16 deltas, window,
    // payload length.
    fn seg(reply: bool, flags: u8, ds: i16, da: i16, payload: u8) -> Vec<u8> {
        let mut r = vec![0x10 | u8::from(reply), flags];
        r.extend_from_slice(&ds.to_be_bytes());
        r.extend_from_slice(&da.to_be_bytes());
        r.extend_from_slice(&0xfaf0u16.to_be_bytes());
        r.push(payload);
        r
    }
    fn flow(cfg: u8, l3: L3Proto) -> Vec<u8> {
        let mut v = vec![cfg];
        match l3 {
            L3Proto::Ipv4 => v.extend_from_slice(&[10, 1, 0, 2, 10, 2, 0, 2]),
            L3Proto::Ipv6 => {
                v.extend_from_slice(&C6);
                v.extend_from_slice(&S6);
            }
        }
        v.extend_from_slice(&40000u16.to_be_bytes());
        v.extend_from_slice(&80u16.to_be_bytes());
        v.extend_from_slice(&1000u32.to_be_bytes());
        v
    }
    let (syn, synack, ack, fin, rst) = (0x02, 0x12, 0x10, 0x11, 0x04);
    let handshake = [seg(false, syn, 0, 0, 0), seg(true, synack, 0, 0, 0), seg(false, ack, 0, 0, 0)];
    let mut close = flow(0x10, L3Proto::Ipv4);
    for r in handshake.iter().chain(&[
        seg(false, ack, 0, 0, 100),
        seg(true, ack, 0, 0, 0),
        seg(false, fin, 0, 0, 0),
        seg(true, ack, 0, 0, 0),
        seg(true, fin, 0, 0, 0),
        seg(false, ack, 0, 0, 0),
        seg(false, syn, 1000, 0, 0),
    ]) {
        close.extend_from_slice(r);
    }
    write("conntrack", "tcp_close_and_reopen", &close);
    let mut reset = flow(0x11, L3Proto::Ipv6);
    for r in handshake.iter().chain(&[seg(true, rst, 0, 0, 0), seg(false, syn, 0, 0, 0), seg(true, rst | ack, 0, 0, 0)]) {
        reset.extend_from_slice(r);
    }
    write("conntrack", "tcp6_rst", &reset);
    // UDP both ways, three seconds apart (u16 time steps), then an ICMP
    // error about the reply (control bit 1, cut 28 bytes).
    let mut udp = flow(0x02, L3Proto::Ipv4);
    udp.extend_from_slice(&[0x00, 8, 0x09, 0x03, 0xe8, 8, 0x08, 0x03, 0xe8, 8, 0x03, 8, 28]);
    write("conntrack", "udp_stream_and_error", &udp);
    // ICMP echo request and reply, an error about each, REJECT.
    let mut icmp = flow(0x04, L3Proto::Ipv4);
    icmp.extend_from_slice(&[0x00, 0, 0x01, 0, 0x02, 0, 56, 0x03, 0, 56, 0x40]);
    write("conntrack", "icmp_echo_errors", &icmp);
    let mut gre = flow(0x17, L3Proto::Ipv6);
    gre.extend_from_slice(&[0x00, 0, 0x01, 0, 0x81, 0, 6, 0xff]);
    write("conntrack", "generic6_corrupted", &gre);
}

/// `xt_eval`: table number (of xt_replace's seeds, in name order), hook,
/// extra length, devices, MAC length, then a golden packet.
#[test]
#[ignore]
fn write_fuzz_seeds_xt_eval() {
    let pkts: [(&str, &[u8]); 6] = [
        ("tcp_syn", &golden::IPV4_TCP_SYN),
        ("icmp_echo", &golden::IPV4_ICMP_ECHO),
        ("udp6", &golden::IPV6_UDP),
        ("frag6_first", &golden::IPV6_FRAG_FIRST),
        ("frag6_later", &golden::IPV6_FRAG_LATER),
        ("hbh6_echo", &golden::IPV6_HBH_ECHO),
    ];
    for (k, (name, p)) in pkts.iter().enumerate() {
        for hook in [1u8, 4] {
            let mut v = vec![(k * 7) as u8 + hook, hook, 0, 3, 6, 0, 1, 2, 3, 4, 5];
            v.extend_from_slice(p);
            write("xt_eval", &std::format!("{name}_hook{hook}"), &v);
        }
    }
}

/// `conntrack_table`: table size and seed, then operations (opcode byte
/// and operands; tuples are one byte of a small pool).
#[test]
#[ignore]
fn write_fuzz_seeds_conntrack_table() {
    let head = |cap: u8, nb: u8| vec![cap, nb, 1, 0x12, 0x34, 0x56, 0x78];
    // Insert three, a clash, alloc + NAT reply change + confirm, lookups,
    // by-source link and walk, gc, early drop, flush.
    let mut a = head(3, 2);
    a.extend_from_slice(&[0, 0x01, 0x20, 0, 0x05, 0x31, 0, 0x09, 0x06, 0, 0x01, 0x00]);
    a.extend_from_slice(&[1, 0x02, 0x00, 5, 3, 0x02, 0x36, 2, 3]);
    a.extend_from_slice(&[3, 0x01, 0, 3, 0x04, 0, 9, 0, 9, 1, 11, 0x01, 0, 10, 0]);
    a.extend_from_slice(&[6, 4, 0, 2, 8, 0, 20, 0, 7, 0]);
    write("conntrack_table", "mixed", &a);
    // A full table: early drop makes room in one namespace, not the other.
    let mut b = head(2, 1);
    b.extend_from_slice(&[0, 0x01, 0x00, 0, 0x02, 0x04, 0, 0x03, 0x00, 8, 0, 31, 1, 8, 0, 0, 0, 0x03, 0x00, 4, 0, 4, 1]);
    write("conntrack_table", "full_early_drop", &b);
}

fn v16(a: &[u8]) -> Vec<u8> {
    let mut x = [0u8; 16];
    x[..a.len()].copy_from_slice(a);
    x.to_vec()
}

/// `nat_rewrite` and `nat_select`.
#[test]
#[ignore]
fn write_fuzz_seeds_nat() {
    // Mode 0: control (family, protocol, manip, checksum state, zero UDP
    // checksum), layout byte, addresses, ports, ICMP type, payload,
    // writable bytes.
    let structured = |c: u8, c2: u8, l3: L3Proto, ext: &[u8], payload: &[u8], w: u16| {
        let mut v = vec![0u8, c, c2];
        let (a, b, n): (Vec<u8>, Vec<u8>, Vec<u8>) = match l3 {
            L3Proto::Ipv4 => (vec![10, 1, 0, 2], vec![198, 51, 100, 7], vec![192, 0, 2, 1]),
            L3Proto::Ipv6 => (C6.to_vec(), S6.to_vec(), v16(&[0x20, 1, 0xd, 0xb8, 0, 2])),
        };
        for x in [a, b, n] {
            v.extend_from_slice(&x);
        }
        for p in [40000u16, 53, 1024] {
            v.extend_from_slice(&p.to_be_bytes());
        }
        v.push(if l3 == L3Proto::Ipv4 { 8 } else { 128 });
        v.push(payload.len() as u8);
        v.extend_from_slice(payload);
        v.extend_from_slice(&w.to_be_bytes());
        v.extend_from_slice(ext);
        v
    };
    write("nat_rewrite", "tcp4_snat", &structured(0x00, 0x10, L3Proto::Ipv4, &[], b"GET /", 0xffff));
    write("nat_rewrite", "udp4_dnat_complete", &structured(0x52, 0x02, L3Proto::Ipv4, &[], b"query", 20));
    write("nat_rewrite", "udp4_zero_checksum", &structured(0x82, 0x00, L3Proto::Ipv4, &[], b"x", 0xffff));
    write("nat_rewrite", "icmp4_echo_partial", &structured(0x66, 0x00, L3Proto::Ipv4, &[], b"ping", 0xffff));
    write("nat_rewrite", "tcp6_ext_partial", &structured(0x61, 0x03, L3Proto::Ipv6, &[0, 0, 0, 2, 0, 1, 4, 0, 0], b"data", 40));
    write("nat_rewrite", "udp6_later_fragment", &structured(0x03, 0x01, L3Proto::Ipv6, &[5, 0, 0x40], b"frag", 0xffff));
    write("nat_rewrite", "icmp6_echo_complete", &structured(0x47, 0x00, L3Proto::Ipv6, &[], b"ping6", 0xffff));
    // Mode 1: ICMP errors about SNAT (reply direction, DST hook) and DNAT
    // (original direction) connections.
    let error = |c: u8, c2: u8, l3: L3Proto| {
        let mut v = vec![1u8, c, c2];
        let addrs: [Vec<u8>; 4] = match l3 {
            L3Proto::Ipv4 => [vec![10, 1, 0, 2], vec![198, 51, 100, 7], vec![192, 0, 2, 1], vec![203, 0, 113, 1]],
            L3Proto::Ipv6 => [C6.to_vec(), S6.to_vec(), v16(&[0x20, 1, 0xd, 0xb8, 0, 2]), v16(&[0x20, 1, 0xd, 0xb8, 0xff])],
        };
        for a in addrs {
            v.extend_from_slice(&a);
        }
        for p in [40000u16, 53, 1024] {
            v.extend_from_slice(&p.to_be_bytes());
        }
        v.extend_from_slice(&[28, 4, b'q', b'u', b'e', b'r']);
        v
    };
    write("nat_rewrite", "icmp4_error_snat_udp", &error(0x32, 0x00, L3Proto::Ipv4));
    write("nat_rewrite", "icmp4_error_tcp_cut", &error(0x30, 0x44, L3Proto::Ipv4));
    write("nat_rewrite", "icmp6_error_dnat_echo", &error(0x2d, 0x80, L3Proto::Ipv6));
    write("nat_rewrite", "icmp4_redirect", &error(0x32, 0x08, L3Proto::Ipv4));
    // Modes 2 and 3: golden packets as raw bytes.
    let mut raw = vec![2u8, 0x00, 192, 0, 2, 1, 10, 2, 0, 2, 0x04, 0x00, 0x00, 0x50, 0x00, 0x30];
    raw.extend_from_slice(&golden::IPV4_TCP_SYN);
    write("nat_rewrite", "raw_tcp4", &raw);
    let mut raw6 = vec![2u8, 0x57, 58];
    raw6.extend_from_slice(&v16(&[0x20, 1, 0xd, 0xb8]));
    raw6.extend_from_slice(&S6);
    raw6.extend_from_slice(&[0x12, 0x34, 0x80, 0x00, 0xff, 0xff]);
    raw6.extend_from_slice(&golden::IPV6_HBH_ECHO);
    write("nat_rewrite", "raw_icmp6_hbh", &raw6);
    let mut err = vec![3, 3, 0, 0, 0, 0, 0, 0];
    err.extend_from_slice(&golden::IPV4_TCP_SYN[..28]);
    let e = ipv4(IPPROTO_ICMP, [10, 2, 0, 2], [192, 0, 2, 1], &err);
    let mut raw_icmp = vec![3u8, 0x06, 0x01, 0x90];
    for t in [[10, 1, 0, 2], [10, 2, 0, 2], [10, 2, 0, 2], [192, 0, 2, 1]].chunks(2) {
        raw_icmp.extend_from_slice(&t[0]);
        raw_icmp.extend_from_slice(&t[1]);
        raw_icmp.extend_from_slice(&[0x9c, 0x40, 0x00, 0x50]);
    }
    raw_icmp.extend_from_slice(&e);
    write("nat_rewrite", "raw_icmp4_error", &raw_icmp);

    // nat_select: control, flags, range addresses and ports, original
    // tuple, zone, taken keys, taken tuples, earlier mappings, randoms.
    let select = |c: u8, flags: u8, l3: L3Proto, min: &[u8], max: &[u8], ports: [u16; 3], tail: &[u8]| {
        let mut v = vec![c, flags];
        v.extend_from_slice(min);
        v.extend_from_slice(max);
        for p in ports {
            v.extend_from_slice(&p.to_be_bytes());
        }
        match l3 {
            L3Proto::Ipv4 => v.extend_from_slice(&[10, 1, 0, 2, 198, 51, 100, 7]),
            L3Proto::Ipv6 => {
                v.extend_from_slice(&C6);
                v.extend_from_slice(&S6);
            }
        }
        v.extend_from_slice(&40000u16.to_be_bytes());
        v.extend_from_slice(&80u16.to_be_bytes());
        v.extend_from_slice(&[0, 0]);
        v.extend_from_slice(tail);
        v
    };
    let (v4a, v4b) = ([192, 0, 2, 1], [192, 0, 2, 9]);
    write("nat_select", "snat_masquerade_taken", &select(0x02, 0x01, L3Proto::Ipv4, &v4a, &v4a, [0, 0, 0], &[0x80, 0x9c, 0x40, 0x10, 2, 0, 0x9c, 0x40, 2, 0x9c, 0x41, 0, 1, 0x12, 0x34]));
    write("nat_select", "snat_port_range", &select(0x00, 0x03, L3Proto::Ipv4, &v4a, &v4b, [1024, 1100, 0], &[0x80, 0x04, 0x00, 0x40, 0, 0, 2, 0x55, 0x55, 0xaa, 0xaa]));
    write("nat_select", "dnat_offset", &select(0x08, 0x23, L3Proto::Ipv4, &v4a, &v4a, [8000, 8100, 80], &[0, 0, 0, 0]));
    write("nat_select", "icmp_ids", &select(0x04, 0x02, L3Proto::Ipv4, &v4a, &v4a, [5, 4, 0], &[0x80, 0, 0, 10, 0, 0, 0]));
    let mut bysrc = vec![0x80, 0x9c, 0x40, 0x00, 0, 1];
    bysrc.extend_from_slice(&[198, 51, 100, 7, 192, 0, 2, 5, 0, 80, 0x9c, 0x41]);
    write("nat_select", "snat_bysource", &select(0x00, 0x03, L3Proto::Ipv4, &v4a, &v4b, [40000, 40010, 0], &bysrc));
    let lo = v16(&[0x20, 1, 0xd, 0xb8, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    let hi = v16(&[0x20, 1, 0xd, 0xb8, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff]);
    write("nat_select", "snat6_range_random", &select(0x13, 0x17, L3Proto::Ipv6, &lo, &hi, [1, 65535, 0], &[0, 0, 0, 2, 1, 2, 3, 4]));
}

/// `xt_replace` for the nat, mangle and raw tables: the selector byte
/// (family, table in bits 2-3), then the buffer, each accepted by
/// translate.
#[test]
#[ignore]
fn write_fuzz_seeds_xt_tables() {
    let put = |name: &str, def: &TableDef, buf: Vec<u8>| {
        let (h, e) = ReplaceHeader::parse(&buf).unwrap();
        let sizes = measure(def, &h, e).unwrap();
        let rules: Vec<Rule> = (0..sizes.rules).map(|_| Rule::default()).collect();
        let matches: Vec<Match> = (0..sizes.matches).map(|_| Match::default()).collect();
        Table::translate(def, &h, e.to_vec(), rules, matches).unwrap();
        let t = [("filter", 0u8), ("nat", 1), ("mangle", 2), ("raw", 3)].iter().find(|x| x.0 == def.name).unwrap().1;
        let mut v = vec![t << 2 | u8::from(def.family == Family::Ipv6)];
        v.extend_from_slice(&buf);
        write("xt_replace", name, &v);
    };
    for (def, n) in [(NAT_IPV4, "nat"), (NAT_IPV6, "nat6"), (MANGLE_IPV4, "mangle"), (MANGLE_IPV6, "mangle6"), (RAW_IPV4, "raw"), (RAW_IPV6, "raw6")] {
        let mut blob = vec![0u8; initial_size(&def)];
        let h = initial_table(&def, &mut blob).unwrap();
        let mut buf = h.to_bytes().to_vec();
        buf.extend_from_slice(&blob);
        put(&std::format!("initial_{n}"), &def, buf);
    }
    // NAT payloads: nf_nat_ipv4_multi_range_compat (IPv4 revision 0) and
    // nf_nat_range2 (revision 2).
    let compat = |flags: u32, min: [u8; 4], max: [u8; 4], ports: (u16, u16)| {
        let mut d = vec![0u8; 24];
        d[0..4].copy_from_slice(&1u32.to_ne_bytes());
        d[4..8].copy_from_slice(&flags.to_ne_bytes());
        d[8..12].copy_from_slice(&min);
        d[12..16].copy_from_slice(&max);
        d[16..18].copy_from_slice(&ports.0.to_be_bytes());
        d[18..20].copy_from_slice(&ports.1.to_be_bytes());
        d
    };
    let range = |rev: u8, flags: u32, min: &[u8], max: &[u8], ports: (u16, u16), base: u16| {
        let mut d = vec![0u8; if rev == 2 { 48 } else { 40 }];
        d[0..4].copy_from_slice(&flags.to_ne_bytes());
        d[4..4 + min.len()].copy_from_slice(min);
        d[20..20 + max.len()].copy_from_slice(max);
        d[36..38].copy_from_slice(&ports.0.to_be_bytes());
        d[38..40].copy_from_slice(&ports.1.to_be_bytes());
        if rev == 2 {
            d[40..42].copy_from_slice(&base.to_be_bytes());
        }
        d
    };
    let any = IpSpec::ANY;
    let tcp = IpSpec { proto: u16::from(IPPROTO_TCP), ..IpSpec::ANY };
    let tcp6 = IpSpec { proto: u16::from(IPPROTO_TCP), flags: 0x01, ..IpSpec::ANY };
    let udp6 = IpSpec { proto: u16::from(IPPROTO_UDP), flags: 0x01, ..IpSpec::ANY };
    let (post, pre, out) = (NF_INET_POST_ROUTING, NF_INET_PRE_ROUTING, NF_INET_LOCAL_OUT);
    let snat = compat(0x07, [192, 0, 2, 1], [192, 0, 2, 1], (1024, 2048));
    put("nat_snat", &NAT_IPV4, one_chain_table(&NAT_IPV4, post, &[(tcp, &[], TargetSpec::Other(b"SNAT", 0, &snat))]));
    let dnat = range(2, 0x23, &[10, 0, 0, 5], &[10, 0, 0, 5], (8000, 8100), 80);
    put("nat_dnat_offset", &NAT_IPV4, one_chain_table(&NAT_IPV4, pre, &[(tcp, &[], TargetSpec::Other(b"DNAT", 2, &dnat))]));
    let masq = compat(0x02, [0; 4], [0; 4], (40000, 50000));
    put("nat_masquerade", &NAT_IPV4, one_chain_table(&NAT_IPV4, post, &[(any, &[], TargetSpec::Other(b"MASQUERADE", 0, &masq))]));
    let redir = compat(0x02, [0; 4], [0; 4], (3128, 3128));
    put("nat_redirect", &NAT_IPV4, one_chain_table(&NAT_IPV4, out, &[(tcp, &[], TargetSpec::Other(b"REDIRECT", 0, &redir))]));
    let netmap = compat(0x01, [10, 9, 0, 0], [10, 9, 0, 255], (0, 0));
    put("nat_netmap", &NAT_IPV4, one_chain_table(&NAT_IPV4, pre, &[(any, &[], TargetSpec::Other(b"NETMAP", 0, &netmap))]));
    let snat6 = range(1, 0x01, &v16(&[0x20, 1, 0xd, 0xb8, 0, 2]), &v16(&[0x20, 1, 0xd, 0xb8, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9]), (0, 0), 0);
    put("nat6_snat", &NAT_IPV6, one_chain_table(&NAT_IPV6, post, &[(udp6, &[], TargetSpec::Other(b"SNAT", 1, &snat6))]));
    let dnat6 = range(2, 0x03, &S6, &S6, (8080, 8080), 0);
    put("nat6_dnat", &NAT_IPV6, one_chain_table(&NAT_IPV6, pre, &[(tcp6, &[], TargetSpec::Other(b"DNAT", 2, &dnat6))]));
    let masq6 = range(1, 0, &[], &[], (0, 0), 0);
    put("nat6_masquerade", &NAT_IPV6, one_chain_table(&NAT_IPV6, post, &[(any, &[], TargetSpec::Other(b"MASQUERADE", 0, &masq6))]));
    // mangle: MARK --set-xmark 0x1/0xffffffff (xt_mark_tginfo2) on TCP in
    // PREROUTING; raw: drop TCP to port 23 (xt_tcp) in PREROUTING.
    let mut mark = 1u32.to_ne_bytes().to_vec();
    mark.extend_from_slice(&u32::MAX.to_ne_bytes());
    put("mangle_mark", &MANGLE_IPV4, one_chain_table(&MANGLE_IPV4, pre, &[(tcp, &[], TargetSpec::Other(b"MARK", 2, &mark))]));
    put("mangle6_mark", &MANGLE_IPV6, one_chain_table(&MANGLE_IPV6, out, &[(tcp6, &[], TargetSpec::Other(b"MARK", 2, &mark))]));
    let mut tcp23 = vec![0u8; 12];
    tcp23[2..4].copy_from_slice(&0xffffu16.to_ne_bytes());
    tcp23[4..6].copy_from_slice(&23u16.to_ne_bytes());
    tcp23[6..8].copy_from_slice(&23u16.to_ne_bytes());
    put("raw_tcp_drop", &RAW_IPV4, one_chain_table(&RAW_IPV4, pre, &[(tcp, &[(b"tcp", 0, &tcp23)], TargetSpec::Standard(-NF_DROP - 1))]));
    put("raw6_tcp_drop", &RAW_IPV6, one_chain_table(&RAW_IPV6, out, &[(tcp6, &[(b"tcp", 0, &tcp23)], TargetSpec::Standard(-NF_DROP - 1))]));
}
