// SPDX-License-Identifier: GPL-2.0
//! Host tests of the packet-editing and raw-table targets: TCPMSS's option
//! logic (found, absent, malformed, truncated; IPv4 and IPv6; every checksum
//! state, each checked against a full recomputation), DSCP and TOS, CT and
//! NOTRACK, every checkentry errno, and walks that edit the packet and then
//! match the edited bytes. Expected values follow xt_TCPMSS.c, xt_DSCP.c
//! and xt_CT.c (6.12).

use std::boxed::Box;
use std::string::String;
use std::vec;
use std::vec::Vec;

use super::build::{IpSpec, TargetSpec};
use super::mangle::{dsfield, set_dsfield, tcpmss_insert, tcpmss_mangle, Mss, MssError, TCPMSS_CLAMP_PMTU};
use super::tests::{load, one_chain_table};
use super::tests_match::{tcp_m, tcph, v4, v6};
use super::*;
use crate::nat::checksum::{checksum, get16, sum, wadd, Summed};

const ALL_HOOKS: u32 = 0x1f;
const MANGLE4: TableDef = TableDef { name: "mangle", family: Family::Ipv4, valid_hooks: ALL_HOOKS };
const MANGLE6: TableDef = TableDef { name: "mangle", family: Family::Ipv6, valid_hooks: ALL_HOOKS };
const RAW_HOOKS: u32 = (1 << NF_INET_PRE_ROUTING) | (1 << NF_INET_LOCAL_OUT);
const RAW4: TableDef = TableDef { name: "raw", family: Family::Ipv4, valid_hooks: RAW_HOOKS };
const RAW6: TableDef = TableDef { name: "raw", family: Family::Ipv6, valid_hooks: RAW_HOOKS };
const TCP: IpSpec = IpSpec { proto: 6, ..IpSpec::ANY };
const TCP6: IpSpec = IpSpec { proto: 6, flags: abi::ip6t_ip6::F_PROTO, ..IpSpec::ANY };
const A: [u8; 4] = [10, 1, 0, 2];
const B: [u8; 4] = [10, 2, 0, 2];

type T = Table<Vec<u8>, Vec<Rule>, Vec<Match>>;

// ---- checksums recomputed in full ----

/// The one's-complement sum of the pseudo-header of the TCP segment at
/// `off` in `p` (its length from the packet).
fn pseudo(p: &[u8], family: Family, off: usize) -> u32 {
    let seglen = (p.len() - off) as u32;
    let (src, dst) = match family {
        Family::Ipv4 => (&p[12..16], &p[16..20]),
        Family::Ipv6 => (&p[8..24], &p[24..40]),
    };
    wadd(wadd(sum(src, sum(dst, 0)), 6), seglen)
}

/// The TCP checksum at `off` verifies over the pseudo-header and segment.
fn tcp_ok(p: &[u8], family: Family, off: usize) -> bool {
    let s = sum(&p[off..], pseudo(p, family, off));
    (s & 0xffff) == 0xffff || s == 0
}

/// Fills in the TCP checksum (and IPv4 header checksum) from scratch.
fn finish(mut p: Vec<u8>, family: Family, off: usize) -> Vec<u8> {
    if family == Family::Ipv4 {
        p[10..12].fill(0);
        let c = checksum(&p[..20]);
        p[10..12].copy_from_slice(&c.to_be_bytes());
    }
    p[off + 16..off + 18].fill(0);
    let c = !crate::nat::checksum::fold16(sum(&p[off..], pseudo(&p, family, off)));
    p[off + 16..off + 18].copy_from_slice(&c.to_be_bytes());
    assert!(tcp_ok(&p, family, off));
    p
}

/// The native-endian one's-complement sum of the whole packet, as a device
/// computes `skb->csum` for CHECKSUM_COMPLETE.
fn native_sum(p: &[u8]) -> u32 {
    let mut s = 0u32;
    for c in p.chunks(2) {
        let w = if c.len() == 2 { [c[0], c[1]] } else { [c[0], 0] };
        s = wadd(s, u32::from(u16::from_ne_bytes(w)));
    }
    s
}

fn same_ones(a: u32, b: u32) -> bool {
    let f = |x: u32| crate::nat::checksum::fold16(x) % 0xffff;
    f(a) == f(b)
}

/// An IPv4 or IPv6 TCP segment with `opts` and `data`, checksums valid.
fn syn(family: Family, flags: u8, opts: &[u8], data: &[u8]) -> (Vec<u8>, usize) {
    let mut t = tcph(40000, 80, flags, opts);
    t.extend_from_slice(data);
    match family {
        Family::Ipv4 => (finish(v4(6, A, B, 0, &t), family, 20), 20),
        Family::Ipv6 => (finish(v6(6, &t), family, 40), 40),
    }
}

const MSS1460: [u8; 4] = [2, 4, 0x05, 0xb4];

// ---- the option logic ----

#[test]
fn mss_option_is_lowered_never_raised_with_a_valid_checksum() {
    for family in [Family::Ipv4, Family::Ipv6] {
        // The option after NOPs, SACK-permitted and window scale, and first.
        for opts in [&[1, 1, 4, 2, 3, 3, 7, 1, 2, 4, 5, 0xb4][..], &MSS1460[..]] {
            for summed0 in [Summed::None, Summed::Unnecessary, Summed::Complete(0)] {
                let (mut p, off) = syn(family, 0x02, opts, &[]);
                let before = p.clone();
                let mut summed = match summed0 {
                    Summed::Complete(_) => Summed::Complete(native_sum(&p)),
                    s => s,
                };
                let len = p.len();
                assert_eq!(tcpmss_mangle(&mut p, len, off, 40, 1500, 0, &mut summed), Ok(Mss::Unchanged), "never raised");
                assert_eq!(tcpmss_mangle(&mut p, len, off, 40, 1460, 0, &mut summed), Ok(Mss::Unchanged), "equal");
                assert_eq!(p, before);
                assert_eq!(tcpmss_mangle(&mut p, len, off, 40, 1200, 0, &mut summed), Ok(Mss::Lowered));
                let at = off + 20 + opts.len() - 2;
                assert_eq!(get16(&p, at), 1200);
                assert!(tcp_ok(&p, family, off), "{family:?} {opts:?} {summed0:?}");
                if let Summed::Complete(c) = summed {
                    assert!(same_ones(c, native_sum(&p)), "skb->csum follows the packet");
                }
                let diff: Vec<usize> = (0..p.len()).filter(|&i| p[i] != before[i]).collect();
                assert!(diff.iter().all(|&i| i == at || i == at + 1 || i == off + 16 || i == off + 17), "{diff:?}");
            }
        }
    }
}

#[test]
fn clamp_to_pmtu_subtracts_the_headers_and_refuses_a_small_mtu() {
    for (family, minlen) in [(Family::Ipv4, 40u32), (Family::Ipv6, 60)] {
        let (mut p, off) = syn(family, 0x02, &MSS1460, &[]);
        let len = p.len();
        let mut s = Summed::None;
        assert_eq!(tcpmss_mangle(&mut p, len, off, minlen, TCPMSS_CLAMP_PMTU, 1400, &mut s), Ok(Mss::Lowered));
        assert_eq!(get16(&p, off + 22), 1400 - minlen as u16);
        assert!(tcp_ok(&p, family, off));
        for mtu in [0, minlen] {
            assert_eq!(tcpmss_mangle(&mut p, len, off, minlen, TCPMSS_CLAMP_PMTU, mtu, &mut s), Err(MssError::PathMtu(mtu)));
        }
        // A route without an MTU limit in either direction: never raised.
        assert_eq!(tcpmss_mangle(&mut p, len, off, minlen, TCPMSS_CLAMP_PMTU, 65535, &mut s), Ok(Mss::Unchanged));
    }
}

#[test]
fn option_walk_follows_the_kernel_on_odd_options() {
    let f = Family::Ipv4;
    let run = |opts: &[u8], data: &[u8]| {
        let (mut p, off) = syn(f, 0x02, opts, data);
        let len = p.len();
        let r = tcpmss_mangle(&mut p, len, off, 40, 1000, 0, &mut Summed::None);
        (r, get16(&p, off + 20 + opts.iter().position(|&b| b == 2).unwrap_or(0) + 2))
    };
    // EOL does not end the walk (optlen is 1 for it): the MSS after it is found.
    assert_eq!(run(&[0, 0, 0, 0, 2, 4, 5, 0xb4], &[]), (Ok(Mss::Lowered), 1000));
    // A zero-length option advances by one byte.
    assert_eq!(run(&[8, 0, 1, 1, 2, 4, 5, 0xb4], &[]).0, Ok(Mss::Lowered));
    // kind 2 with length 3 is not an MSS option; no data, room: insert.
    assert_eq!(run(&[2, 3, 5, 1], &[]).0, Ok(Mss::Insert(1000)));
    // An option whose length runs past the header hides what follows.
    assert_eq!(run(&[8, 40, 0, 0, 2, 4, 5, 0xb4], &[]).0, Ok(Mss::Insert(1000)));
    // An MSS option cut by the header's end is not read.
    let (mut p, off) = syn(f, 0x02, &[1, 1, 1, 1, 1, 1, 2, 4], &[]);
    let len = p.len();
    assert_eq!(tcpmss_mangle(&mut p, len, off, 40, 1000, 0, &mut Summed::None), Ok(Mss::Insert(1000)));
    // No option and data after the header: left alone.
    assert_eq!(run(&[], b"GET /").0, Ok(Mss::Unchanged));
    // No option and a full 60-byte header: doff cannot grow.
    assert_eq!(run(&[1; 40], &[]).0, Ok(Mss::Unchanged));
}

#[test]
fn malformed_and_truncated_tcp_headers_are_dropped() {
    let (p0, off) = syn(Family::Ipv4, 0x02, &MSS1460, &[]);
    let mut s = Summed::None;
    // Fewer than 20 bytes of TCP.
    let mut p = p0[..off + 19].to_vec();
    assert_eq!(tcpmss_mangle(&mut p, off + 19, off, 40, 1000, 0, &mut s), Err(MssError::Malformed));
    // doff says 24 bytes, 22 are there.
    let mut p = p0[..off + 22].to_vec();
    assert_eq!(tcpmss_mangle(&mut p, off + 22, off, 40, 1000, 0, &mut s), Err(MssError::Malformed));
    // doff below 5.
    let mut p = p0.clone();
    p[off + 12] = 4 << 4;
    let len = p.len();
    assert_eq!(tcpmss_mangle(&mut p, len, off, 40, 1000, 0, &mut s), Err(MssError::Malformed));
    // The transport header past the packet, or a buffer shorter than the length.
    let mut p = p0.clone();
    assert_eq!(tcpmss_mangle(&mut p, 10, off, 40, 1000, 0, &mut s), Err(MssError::Malformed));
    assert_eq!(tcpmss_mangle(&mut p[..30], 44, off, 40, 1000, 0, &mut s), Err(MssError::Malformed));
    // The malformed header is refused before the MTU is looked at.
    assert_eq!(tcpmss_mangle(&mut p[..30], 30, off, 40, TCPMSS_CLAMP_PMTU, 0, &mut s), Err(MssError::Malformed));
}

/// Grows `p` by 4 bytes as skb_put does (the new bytes are whatever the
/// buffer held) and runs the insertion.
fn insert(p: &mut Vec<u8>, family: Family, off: usize, mss: u16, summed: &mut Summed) -> Result<(), MssError> {
    p.extend_from_slice(&[0xde, 0xad, 0xbe, 0xef]);
    let len = p.len();
    tcpmss_insert(p, len, family, off, mss, summed)
}

#[test]
fn a_syn_without_the_option_gets_one_with_the_default_cap() {
    for (family, cap) in [(Family::Ipv4, 536u16), (Family::Ipv6, 1220)] {
        for opts in [&[][..], &[4, 2, 1, 1][..], &[1, 1, 1, 3, 3, 7, 4, 2][..]] {
            for (mss, want) in [(400u16, 400u16), (1400, cap)] {
                for summed0 in [Summed::None, Summed::Complete(0), Summed::Partial] {
                    let (mut p, off) = syn(family, 0x02, opts, &[]);
                    let before = p.clone();
                    if summed0 == Summed::Partial {
                        // What the stack leaves in the field for CHECKSUM_PARTIAL.
                        let s = crate::nat::checksum::fold16(pseudo(&p, family, off));
                        p[off + 16..off + 18].copy_from_slice(&s.to_be_bytes());
                    }
                    let mut summed = match summed0 {
                        Summed::Complete(_) => Summed::Complete(native_sum(&p)),
                        s => s,
                    };
                    let len = p.len();
                    assert_eq!(tcpmss_mangle(&mut p, len, off, 40, mss, 0, &mut summed), Ok(Mss::Insert(mss)));
                    insert(&mut p, family, off, mss, &mut summed).unwrap();
                    let what = std::format!("{family:?} {opts:?} {mss} {summed0:?}");
                    assert_eq!(p.len(), before.len() + 4);
                    assert_eq!(&p[off + 20..off + 24], &[2, 4, (want >> 8) as u8, want as u8], "{what}");
                    assert_eq!(&p[off + 24..], &before[off + 20..], "{what}: options moved up");
                    assert_eq!(p[off + 12] >> 4, (before[off + 12] >> 4) + 1, "{what}: doff");
                    assert_eq!(p[off + 12] & 0x0f, before[off + 12] & 0x0f);
                    match family {
                        Family::Ipv4 => {
                            assert_eq!(get16(&p, 2) as usize, p.len());
                            assert_eq!(checksum(&p[..20]), 0, "{what}: IPv4 header checksum");
                        }
                        Family::Ipv6 => assert_eq!(get16(&p, 4) as usize, p.len() - 40),
                    }
                    match summed {
                        Summed::Partial => {
                            let s = crate::nat::checksum::fold16(pseudo(&p, family, off));
                            assert_eq!(get16(&p, off + 16) % 0xffff, s % 0xffff, "{what}: pseudo-header sum")
                        }
                        Summed::Complete(c) => {
                            assert!(tcp_ok(&p, family, off), "{what}");
                            assert!(same_ones(c, native_sum(&p)), "{what}: skb->csum follows the packet")
                        }
                        _ => assert!(tcp_ok(&p, family, off), "{what}"),
                    }
                }
            }
        }
    }
}

#[test]
fn insertion_refuses_a_packet_that_is_not_the_one_measured() {
    let (p0, off) = syn(Family::Ipv4, 0x02, &[1, 1, 1, 1], &[]);
    let mut p = p0.clone();
    let len = p.len();
    // Not grown: the header's last 4 bytes taken for the tail, doff * 4 != segment.
    assert_eq!(tcpmss_insert(&mut p, len, Family::Ipv4, off, 1000, &mut Summed::None), Err(MssError::Malformed));
    assert_eq!(p, p0);
    assert_eq!(tcpmss_insert(&mut p[..30], len, Family::Ipv4, off, 1000, &mut Summed::None), Err(MssError::Malformed));
}

// ---- DS field ----

#[test]
fn ds_field_edits_keep_the_ipv4_checksum_and_the_ipv6_flow_label() {
    let mut p = v4(17, A, B, 0, &[0; 8]);
    p[1] = 0x03; // ECN bits set
    let mut p = finish_ip(p);
    for ds in [0xb8u8, 0x00, 0xff, 0x01, 0x03] {
        assert!(set_dsfield(Family::Ipv4, &mut p, ds));
        assert_eq!(dsfield(Family::Ipv4, &p), Some(ds));
        assert_eq!(checksum(&p[..20]), 0, "ds {ds:#x}");
    }
    // A header whose checksum is 0x0000 keeps the kernel's arithmetic: the
    // result verifies either way.
    for tos in 0..=255u8 {
        let mut q = p.clone();
        q[1] = tos;
        let q = finish_ip(q);
        let mut r = q.clone();
        assert!(set_dsfield(Family::Ipv4, &mut r, tos ^ 0xfc));
        assert_eq!(checksum(&r[..20]), 0, "tos {tos:#x}");
    }
    let mut p6 = v6(17, &[0; 8]);
    p6[1] = 0x0a; // flow label bits 19..16
    p6[2..4].copy_from_slice(&[0xbc, 0xde]);
    assert!(set_dsfield(Family::Ipv6, &mut p6, 0xb9));
    assert_eq!(&p6[..4], &[0x6b, 0x9a, 0xbc, 0xde]);
    assert_eq!(dsfield(Family::Ipv6, &p6), Some(0xb9));
    assert!(!set_dsfield(Family::Ipv4, &mut [0x45; 11], 1));
    assert!(!set_dsfield(Family::Ipv6, &mut [0x60], 1));
}

fn finish_ip(mut p: Vec<u8>) -> Vec<u8> {
    p[10..12].fill(0);
    let c = checksum(&p[..20]);
    p[10..12].copy_from_slice(&c.to_be_bytes());
    p
}

// ---- tables and checkentry ----

/// Target data in the form iptables sends it.
fn data(d: &[u8]) -> &'static [u8] {
    Box::leak(d.to_vec().into_boxed_slice())
}

fn tcpmss_t(mss: u16) -> TargetSpec<'static> {
    TargetSpec::Other(b"TCPMSS", 0, data(&mss.to_ne_bytes()))
}

fn syn_m() -> (&'static [u8], u8, Vec<u8>) {
    // --tcp-flags SYN,RST SYN
    (b"tcp", 0, tcp_m([0, 0xffff], [0, 0xffff], 0, 0x06, 0x02, 0))
}

/// A table of `def` whose chain `chain` (a hook) holds `rules` (ip part,
/// matches, target) before its ACCEPT policy; the other chains are empty.
fn table(def: &TableDef, chain: u32, rules: &[(IpSpec, Vec<(&'static [u8], u8, Vec<u8>)>, TargetSpec<'static>)]) -> Vec<u8> {
    let ms: Vec<Vec<(&[u8], u8, &[u8])>> = rules.iter().map(|(_, m, _)| m.iter().map(|(n, v, d)| (*n, *v, &d[..])).collect()).collect();
    let rules: Vec<_> = rules.iter().zip(&ms).map(|((ip, _, t), m)| (*ip, &m[..], *t)).collect();
    one_chain_table(def, chain, &rules)
}

fn errno_of(def: &TableDef, chain: u32, rules: &[(IpSpec, Vec<(&'static [u8], u8, Vec<u8>)>, TargetSpec<'static>)]) -> i32 {
    load(def, &table(def, chain, rules)).err().map_or(0, |e| e.errno)
}

#[test]
fn tcpmss_checkentry_as_the_kernel() {
    use errno::*;
    const FWD: u32 = NF_INET_FORWARD;
    for (def, tcp) in [(FILTER_IPV4, TCP), (FILTER_IPV6, TCP6), (MANGLE4, TCP), (MANGLE6, TCP6)] {
        let ok = |chain, m: Vec<_>, mss| errno_of(&def, chain, &[(tcp, m, tcpmss_t(mss))]);
        assert_eq!(ok(FWD, vec![syn_m()], 1400), 0);
        assert_eq!(ok(FWD, vec![syn_m()], TCPMSS_CLAMP_PMTU), 0);
        assert_eq!(ok(NF_INET_LOCAL_OUT, vec![syn_m()], TCPMSS_CLAMP_PMTU), 0);
        // --set-mss from any hook, clamping not from INPUT (or PREROUTING).
        assert_eq!(ok(NF_INET_LOCAL_IN, vec![syn_m()], 1400), 0);
        assert_eq!(ok(NF_INET_LOCAL_IN, vec![syn_m()], TCPMSS_CLAMP_PMTU), EINVAL);
        // Without a tcp match requiring SYN, or with its flags inverted.
        assert_eq!(ok(FWD, vec![], 1400), EINVAL);
        assert_eq!(ok(FWD, vec![(b"tcp", 0, tcp_m([0, 0xffff], [0, 0xffff], 0, 0x12, 0x10, 0))], 1400), EINVAL);
        assert_eq!(ok(FWD, vec![(b"tcp", 0, tcp_m([0, 0xffff], [0, 0xffff], 0, 0x06, 0x02, 0x04))], 1400), EINVAL);
        assert_eq!(ok(FWD, vec![(b"comment", 0, vec![0; 256]), syn_m()], 1400), 0);
        // -p udp, or ! -p tcp: the generic protocol check.
        let udp = IpSpec { proto: 17, ..tcp };
        assert_eq!(errno_of(&def, FWD, &[(udp, vec![], tcpmss_t(1400))]), EINVAL);
        let inv = IpSpec { invflags: abi::inv::PROTO, ..tcp };
        assert_eq!(errno_of(&def, FWD, &[(inv, vec![syn_m()], tcpmss_t(1400))]), EINVAL);
        // Data of another size.
        let big = TargetSpec::Other(b"TCPMSS", 0, data(&[0; 12]));
        assert_eq!(errno_of(&def, FWD, &[(tcp, vec![syn_m()], big)]), EINVAL);
        let rev1 = TargetSpec::Other(b"TCPMSS", 1, data(&[0; 2]));
        assert_eq!(errno_of(&def, FWD, &[(tcp, vec![syn_m()], rev1)]), ENOENT);
    }
    // The raw table (PREROUTING, OUTPUT) has no restriction on --set-mss.
    assert_eq!(errno_of(&RAW4, NF_INET_PRE_ROUTING, &[(TCP, vec![syn_m()], tcpmss_t(1400))]), 0);
}

#[test]
fn dscp_and_tos_checkentry_as_the_kernel() {
    use errno::*;
    let dscp = |v: u8| TargetSpec::Other(b"DSCP", 0, data(&[v]));
    let tos = |v: u8, m: u8| TargetSpec::Other(b"TOS", 1, data(&[v, m]));
    for def in [MANGLE4, MANGLE6] {
        for chain in [NF_INET_PRE_ROUTING, NF_INET_LOCAL_IN, NF_INET_FORWARD, NF_INET_LOCAL_OUT, NF_INET_POST_ROUTING] {
            assert_eq!(errno_of(&def, chain, &[(IpSpec::ANY, vec![], dscp(0x3f))]), 0);
            assert_eq!(errno_of(&def, chain, &[(IpSpec::ANY, vec![], tos(0x10, 0x3f))]), 0);
        }
        assert_eq!(errno_of(&def, NF_INET_FORWARD, &[(IpSpec::ANY, vec![], dscp(0x40))]), EDOM);
        let tos0 = TargetSpec::Other(b"TOS", 0, data(&[0x10]));
        assert_eq!(errno_of(&def, NF_INET_FORWARD, &[(IpSpec::ANY, vec![], tos0)]), ENOENT);
    }
    // mangle only.
    let f4 = FILTER_IPV4;
    assert_eq!(errno_of(&f4, NF_INET_FORWARD, &[(IpSpec::ANY, vec![], dscp(10))]), EINVAL);
    assert_eq!(errno_of(&RAW6, NF_INET_PRE_ROUTING, &[(IpSpec::ANY, vec![], tos(0, 0xff))]), EINVAL);
    // Revisions as iptables asks for them: DSCP 0, TOS 1 (0 is not registered).
    for family in [Family::Ipv4, Family::Ipv6] {
        assert_eq!(find_revision(family, true, b"DSCP", 0), Ok(0));
        assert_eq!(find_revision(family, true, b"TOS", 1), Ok(1));
        assert_eq!(find_revision(family, true, b"TOS", 0).map_err(|e| e.errno), Err(EPROTONOSUPPORT));
        assert_eq!(find_revision(family, true, b"TCPMSS", 0), Ok(0));
        assert_eq!(find_revision(family, true, b"CT", 0), Ok(2));
        assert_eq!(find_revision(family, true, b"NOTRACK", 0), Ok(0));
    }
}

/// `struct xt_ct_target_info` (rev 0, 40 bytes) or `_v1` (72 bytes).
fn ct_info(rev: u8, flags: u16, zone: u16, ev: (u32, u32), helper: &[u8], timeout: &[u8]) -> Vec<u8> {
    let mut d = vec![0u8; if rev == 0 { 40 } else { 72 }];
    d[0..2].copy_from_slice(&flags.to_ne_bytes());
    d[2..4].copy_from_slice(&zone.to_ne_bytes());
    d[4..8].copy_from_slice(&ev.0.to_ne_bytes());
    d[8..12].copy_from_slice(&ev.1.to_ne_bytes());
    d[12..12 + helper.len()].copy_from_slice(helper);
    if rev > 0 {
        d[28..28 + timeout.len()].copy_from_slice(timeout);
    }
    d
}

#[test]
fn ct_and_notrack_checkentry_as_the_kernel() {
    use errno::*;
    let ct = |rev: u8, d: Vec<u8>| TargetSpec::Other(b"CT", rev, data(&d));
    for def in [RAW4, RAW6] {
        let e = |t| errno_of(&def, NF_INET_PRE_ROUTING, &[(IpSpec::ANY, vec![], t)]);
        let p = if def.family == Family::Ipv4 { TCP } else { TCP6 };
        let ep = |t| errno_of(&def, NF_INET_PRE_ROUTING, &[(p, vec![], t)]);
        for rev in 0..=2 {
            // --notrack, whatever else the structure holds; plain CT, --zone 0.
            assert_eq!(e(ct(rev, ct_info(rev, 1, 0, (0, 0), b"", b""))), 0);
            assert_eq!(e(ct(rev, ct_info(rev, 1, 7, (1, 1), b"ftp", b""))), 0);
            assert_eq!(e(ct(rev, ct_info(rev, 0, 0, (0, 0), b"", b""))), 0);
            // Flags this revision does not know.
            let unknown = if rev == 2 { 0x20 } else { 0x02 };
            assert_eq!(e(ct(rev, ct_info(rev, unknown | 1, 0, (0, 0), b"", b""))), EINVAL);
            // Zones: accepted, as a kernel with CONFIG_NF_CONNTRACK_ZONES.
            assert_eq!(e(ct(rev, ct_info(rev, 0, 1, (0, 0), b"", b""))), 0);
            assert_eq!(e(ct(rev, ct_info(rev, 0, 65535, (0, 0), b"", b""))), 0);
            // Zone flags are revision 2's only.
            if rev < 2 {
                for zf in [1u16 << 2, 1 << 3, 1 << 4] {
                    assert_eq!(e(ct(rev, ct_info(rev, zf, 1, (0, 0), b"", b""))), EINVAL);
                }
            }
            // Events: EINVAL (the kernel without CONFIG_NF_CONNTRACK_EVENTS).
            assert_eq!(e(ct(rev, ct_info(rev, 0, 0, (1 << 2, 0), b"", b""))), EINVAL);
            assert_eq!(e(ct(rev, ct_info(rev, 0, 0, (0, 1), b"", b""))), EINVAL);
            // Helpers: ENOENT with or without -p; ENAMETOOLONG without a NUL.
            assert_eq!(e(ct(rev, ct_info(rev, 0, 0, (0, 0), b"ftp", b""))), ENOENT);
            assert_eq!(ep(ct(rev, ct_info(rev, 0, 0, (0, 0), b"ftp", b""))), ENOENT);
            assert_eq!(e(ct(rev, ct_info(rev, 0, 0, (0, 0), &[b'a'; 16], b""))), ENAMETOOLONG);
            // A zone does not stop the events' refusal, the events come
            // before the helper.
            assert_eq!(e(ct(rev, ct_info(rev, 0, 3, (1, 0), b"ftp", b""))), EINVAL);
            assert_eq!(e(ct(rev, ct_info(rev, 0, 0, (1, 0), b"ftp", b""))), EINVAL);
            if rev > 0 {
                assert_eq!(ep(ct(rev, ct_info(rev, 0, 0, (0, 0), b"", b"tcp-short"))), EOPNOTSUPP);
                assert_eq!(ep(ct(rev, ct_info(rev, 0, 0, (0, 0), b"", &[b'x'; 32]))), ENAMETOOLONG);
                assert_eq!(ep(ct(rev, ct_info(rev, 0, 0, (0, 0), b"ftp", b"tcp-short"))), ENOENT);
            }
        }
        // Revision 2's zone flags.
        for zf in [1u16 << 2, 1 << 3, 1 << 4, 3 << 2, 7 << 2] {
            assert_eq!(e(ct(2, ct_info(2, zf, 0, (0, 0), b"", b""))), 0);
            assert_eq!(e(ct(2, ct_info(2, zf, 9, (0, 0), b"", b""))), 0);
        }
        // NOTRACK alias (iptables' -j NOTRACK) and the old NOTRACK target.
        assert_eq!(e(ct(2, ct_info(2, 3, 0, (0, 0), b"", b""))), 0);
        assert_eq!(e(TargetSpec::Other(b"NOTRACK", 0, &[])), 0);
        // raw only; sizes of each revision.
        let other = TableDef { name: "mangle", valid_hooks: ALL_HOOKS, ..def };
        assert_eq!(errno_of(&other, NF_INET_PRE_ROUTING, &[(IpSpec::ANY, vec![], ct(2, ct_info(2, 1, 0, (0, 0), b"", b"")))]), EINVAL);
        assert_eq!(e(ct(0, ct_info(1, 1, 0, (0, 0), b"", b""))), EINVAL);
        assert_eq!(e(ct(2, ct_info(0, 1, 0, (0, 0), b"", b""))), EINVAL);
        assert_eq!(e(ct(3, ct_info(2, 1, 0, (0, 0), b"", b""))), ENOENT);
    }
}

#[test]
fn get_entries_zeroes_what_follows_each_targets_usersize() {
    // CT's usersize is 32 in every revision: the kernel pointer, and in
    // revisions 1 and 2 the timeout field, come back zeroed.
    let mut d = ct_info(2, 1, 0, (0, 0), b"", b"");
    d[40..72].fill(0xaa);
    let buf = table(&RAW4, NF_INET_PRE_ROUTING, &[(IpSpec::ANY, vec![], TargetSpec::Other(b"CT", 2, data(&d)))]);
    let t = load(&RAW4, &buf).unwrap();
    let mut out = vec![0u8; t.size() as usize];
    t.copy_entries(&mut out, |_| (0, 0)).unwrap();
    let at = IPT_ENTRY_SIZE + XT_ENTRY_TARGET_SIZE;
    assert_eq!(&out[at..at + 2], &1u16.to_ne_bytes());
    assert!(out[at + 32..at + 72].iter().all(|&b| b == 0));
    // TCPMSS: two bytes of user data, the padding zeroed.
    let mut d = vec![0u8; 8];
    d[..2].copy_from_slice(&1400u16.to_ne_bytes());
    d[2..].fill(0x55);
    let buf = table(&MANGLE4, NF_INET_FORWARD, &[(TCP, vec![syn_m()], TargetSpec::Other(b"TCPMSS", 0, data(&d)))]);
    let t = load(&MANGLE4, &buf).unwrap();
    assert!(t.edits());
    let mut out = vec![0u8; t.size() as usize];
    t.copy_entries(&mut out, |_| (0, 0)).unwrap();
    let fwd = t.info().hook_entry[NF_INET_FORWARD as usize] as usize;
    let at = fwd + IPT_ENTRY_SIZE + XT_ENTRY_MATCH_SIZE + 16 + XT_ENTRY_TARGET_SIZE;
    assert_eq!(&out[at..at + 2], &1400u16.to_ne_bytes());
    assert!(out[at + 2..at + 8].iter().all(|&b| b == 0));
}

// ---- walks that edit ----

/// An environment that owns the packet and edits it as the glue does.
struct MEnv {
    pkt: Vec<u8>,
    summed: Summed,
    mtu: u32,
    tailroom: usize,
    untracked: bool,
    /// The CT template slot attached (`skb->_nfct` of a template).
    tmpl: Option<u32>,
    ct: CtState,
    counted: Vec<usize>,
    logs: Vec<String>,
    warns: Vec<String>,
    edits: u32,
}

impl MEnv {
    fn new(pkt: Vec<u8>) -> Self {
        Self { pkt, summed: Summed::None, mtu: 1500, tailroom: 64, untracked: false, tmpl: None, ct: CtState::Invalid, counted: vec![], logs: vec![], warns: vec![], edits: 0 }
    }
    fn walk(&mut self, t: &T, hook: u32) -> Action {
        let copy = self.pkt.clone();
        let p = Packet { hook, in_dev: &[0; 16], out_dev: &[0; 16], len: copy.len() as u32, headers: &copy };
        t.evaluate(&p, self)
    }
}

impl Env for MEnv {
    fn count(&mut self, i: usize) {
        self.counted.push(i)
    }
    fn conntrack(&mut self) -> CtState {
        self.ct
    }
    fn log(&mut self, _: u8, line: &[u8]) {
        self.logs.push(String::from_utf8(line.to_vec()).unwrap())
    }
    fn jiffies(&mut self) -> u64 {
        0
    }
    fn hz(&self) -> u32 {
        100
    }
    fn edit<R>(&mut self, need: usize, grow: usize, edit: impl FnOnce(&mut [u8], usize, &mut Summed) -> R) -> Option<R> {
        if grow > self.tailroom {
            return None;
        }
        self.pkt.resize(self.pkt.len() + grow, 0x5a);
        if need > self.pkt.len() {
            return None;
        }
        self.edits += 1;
        let len = self.pkt.len();
        Some(edit(&mut self.pkt, len, &mut self.summed))
    }
    fn reread(&mut self, buf: &mut [u8]) -> Option<(usize, u32)> {
        let n = buf.len().min(self.pkt.len());
        buf[..n].copy_from_slice(&self.pkt[..n]);
        Some((n, self.pkt.len() as u32))
    }
    fn path_mtu(&mut self) -> u32 {
        self.mtu
    }
    fn ct_template(&mut self, slot: u32) {
        if self.ct == CtState::Invalid && self.tmpl.is_none() {
            self.tmpl = Some(slot);
        }
    }
    fn set_untracked(&mut self) {
        if self.ct == CtState::Invalid && self.tmpl.is_none() {
            self.untracked = true;
            self.ct = CtState::Untracked;
        }
    }
    fn warn(&mut self, line: &[u8]) {
        self.warns.push(String::from_utf8(line.to_vec()).unwrap())
    }
}

fn log_t(flags: u8) -> TargetSpec<'static> {
    let mut d = vec![4, flags];
    d.extend_from_slice(b"after: ");
    d.resize(32, 0);
    TargetSpec::Other(b"LOG", 0, data(&d))
}

#[test]
fn tcpmss_in_forward_clamps_and_later_rules_see_the_new_option() {
    for (def, tcp, family) in [(FILTER_IPV4, TCP, Family::Ipv4), (FILTER_IPV6, TCP6, Family::Ipv6)] {
        let buf = table(&def, NF_INET_FORWARD, &[(tcp, vec![syn_m()], tcpmss_t(TCPMSS_CLAMP_PMTU)), (IpSpec::ANY, vec![], log_t(0x02))]);
        let t = load(&def, &buf).unwrap();
        assert!(t.edits());
        let (p, off) = syn(family, 0x02, &MSS1460, &[]);
        let mut env = MEnv::new(p);
        env.mtu = 1280;
        assert_eq!(env.walk(&t, NF_INET_FORWARD), Action::Accept);
        let want = if family == Family::Ipv4 { 1240 } else { 1220 };
        assert_eq!(get16(&env.pkt, off + 22), want);
        assert!(tcp_ok(&env.pkt, family, off));
        assert_eq!(env.counted, vec![1, 2, 3], "{family:?}");
        assert!(env.logs[0].ends_with(&std::format!("OPT (0204{want:04X}) ")), "{}", env.logs[0]);
        // An ACK is not touched (the tcp match wants SYN).
        let (p, _) = syn(family, 0x10, &MSS1460, &[]);
        let mut env = MEnv::new(p.clone());
        env.mtu = 1280;
        env.walk(&t, NF_INET_FORWARD);
        assert_eq!((env.pkt, env.edits), (p, 0));
    }
}

#[test]
fn tcpmss_insertion_grows_the_packet_and_the_counters_see_it() {
    let buf = table(&MANGLE4, NF_INET_POST_ROUTING, &[(TCP, vec![syn_m()], tcpmss_t(1400)), (IpSpec::ANY, vec![], log_t(0x02))]);
    let t = load(&MANGLE4, &buf).unwrap();
    let (p, off) = syn(Family::Ipv4, 0x02, &[], &[]);
    let mut env = MEnv::new(p.clone());
    assert_eq!(env.walk(&t, NF_INET_POST_ROUTING), Action::Accept);
    assert_eq!(env.pkt.len(), p.len() + 4);
    assert_eq!(&env.pkt[off + 20..off + 24], &[2, 4, 0x02, 0x18], "536");
    assert!(tcp_ok(&env.pkt, Family::Ipv4, off));
    assert!(env.logs[0].contains("LEN=44 ") && env.logs[0].ends_with("OPT (02040218) "), "{}", env.logs[0]);
    // No tailroom and no way to grow: dropped, as pskb_expand_head failing.
    let mut env = MEnv::new(p.clone());
    env.tailroom = 0;
    assert_eq!(env.walk(&t, NF_INET_POST_ROUTING), Action::Drop);
    // A later fragment is left alone; an unusable path MTU drops with a warning.
    let mut frag = v4(6, A, B, 0x0002, &tcph(1, 2, 0x02, &[]));
    frag = finish_ip(frag);
    let mut env = MEnv::new(frag.clone());
    assert_eq!(env.walk(&t, NF_INET_POST_ROUTING), Action::Accept);
    assert_eq!(env.pkt, frag);
    let buf = table(&MANGLE4, NF_INET_POST_ROUTING, &[(TCP, vec![syn_m()], tcpmss_t(TCPMSS_CLAMP_PMTU))]);
    let t = load(&MANGLE4, &buf).unwrap();
    let mut env = MEnv::new(p);
    env.mtu = 40;
    assert_eq!(env.walk(&t, NF_INET_POST_ROUTING), Action::Drop);
    assert_eq!(env.warns, vec![String::from("TCPMSS: unknown or invalid path-MTU (40)")]);
}

#[test]
fn dscp_and_tos_in_mangle_and_the_log_after_them() {
    let dscp = TargetSpec::Other(b"DSCP", 0, data(&[0x2e]));
    let tos = TargetSpec::Other(b"TOS", 1, data(&[0x10, 0x3f]));
    for (def, family) in [(MANGLE4, Family::Ipv4), (MANGLE6, Family::Ipv6)] {
        let buf = table(&def, NF_INET_PRE_ROUTING, &[(IpSpec::ANY, vec![], dscp), (IpSpec::ANY, vec![], log_t(0))]);
        let t = load(&def, &buf).unwrap();
        let (mut p, _) = syn(family, 0x02, &[], &[]);
        match family {
            Family::Ipv4 => p[1] = 0x01,
            Family::Ipv6 => p[1] = 0x10, // traffic class 0x01
        }
        let p = if family == Family::Ipv4 { finish_ip(p) } else { p };
        let mut env = MEnv::new(p.clone());
        assert_eq!(env.walk(&t, NF_INET_PRE_ROUTING), Action::Accept);
        assert_eq!(dsfield(family, &env.pkt), Some(0xb9), "EF with the ECN bit kept");
        let shown = if family == Family::Ipv4 { "TOS=0x18 PREC=0xA0 " } else { "TC=185 " };
        assert!(env.logs[0].contains(shown), "{}", env.logs[0]);
        if family == Family::Ipv4 {
            assert_eq!(checksum(&env.pkt[..20]), 0);
        }
        // Already that DSCP: not written.
        let edits = env.edits;
        env.walk(&t, NF_INET_PRE_ROUTING);
        assert_eq!(env.edits, edits);
        // TOS --set-tos 0x10/0x3f: (tos & ~0x3f) ^ 0x10.
        let buf = table(&def, NF_INET_LOCAL_OUT, &[(IpSpec::ANY, vec![], tos)]);
        let t = load(&def, &buf).unwrap();
        let mut env = MEnv::new(p);
        assert!(set_dsfield(family, &mut env.pkt, 0xe3));
        env.walk(&t, NF_INET_LOCAL_OUT);
        assert_eq!(dsfield(family, &env.pkt), Some(0xd0), "{family:?}");
    }
}

#[test]
fn two_edits_in_one_walk_each_seen_by_the_rules_after_it() {
    // DSCP --set-dscp 0x2e, LOG, TOS --set-tos 0x10/0x3f, LOG: the walk
    // reads the packet back after each edit (the second time into the
    // buffer the first made).
    let dscp = TargetSpec::Other(b"DSCP", 0, data(&[0x2e]));
    let tos = TargetSpec::Other(b"TOS", 1, data(&[0x10, 0x3f]));
    let rules = [(IpSpec::ANY, vec![], dscp), (IpSpec::ANY, vec![], log_t(0)), (IpSpec::ANY, vec![], tos), (IpSpec::ANY, vec![], log_t(0))];
    let t = load(&MANGLE4, &table(&MANGLE4, NF_INET_PRE_ROUTING, &rules)).unwrap();
    let (mut p, _) = syn(Family::Ipv4, 0x02, &[], &[]);
    p[1] = 0x01;
    let mut env = MEnv::new(finish_ip(p));
    assert_eq!(env.walk(&t, NF_INET_PRE_ROUTING), Action::Accept);
    assert_eq!((env.edits, &env.counted[..]), (2, &[0usize, 1, 2, 3, 4][..]));
    // 0x01 -> (0x2e << 2) | 0x01 = 0xb9 -> (0xb9 & !0x3f) ^ 0x10 = 0x90.
    assert!(env.logs[0].contains("TOS=0x18 PREC=0xA0 "), "{}", env.logs[0]);
    assert!(env.logs[1].contains("TOS=0x10 PREC=0x80 "), "{}", env.logs[1]);
    assert_eq!((dsfield(Family::Ipv4, &env.pkt), checksum(&env.pkt[..20])), (Some(0x90), 0));
}

#[test]
fn notrack_marks_untracked_and_later_matches_see_it() {
    // -j CT --notrack, then -m state --state UNTRACKED -j DROP.
    let untracked = (b"state" as &[u8], 0u8, (1u32 << 6).to_ne_bytes().to_vec()); // XT_STATE_UNTRACKED
    for def in [RAW4, RAW6] {
        for t in [
            TargetSpec::Other(b"CT", 2, data(&ct_info(2, 1, 0, (0, 0), b"", b""))),
            TargetSpec::Other(b"CT", 0, data(&ct_info(0, 1, 0, (0, 0), b"", b""))),
            TargetSpec::Other(b"NOTRACK", 0, &[]),
        ] {
            let buf = table(&def, NF_INET_PRE_ROUTING, &[(IpSpec::ANY, vec![], t), (IpSpec::ANY, vec![untracked.clone()], TargetSpec::Standard(-NF_DROP - 1))]);
            let tb = load(&def, &buf).unwrap();
            assert!(!tb.edits());
            let (p, _) = syn(def.family, 0x02, &[], &[]);
            let mut env = MEnv::new(p.clone());
            assert_eq!(env.walk(&tb, NF_INET_PRE_ROUTING), Action::Drop);
            assert!(env.untracked);
            // A packet that already has a connection keeps it.
            let mut env = MEnv::new(p);
            env.ct = CtState::Tracked { ctinfo: 2, status: 0, dir: 0, proto: 6 };
            assert_eq!(env.walk(&tb, NF_INET_PRE_ROUTING), Action::Accept);
            assert!(!env.untracked);
        }
        // Plain CT: continues and changes nothing.
        let buf = table(&def, NF_INET_LOCAL_OUT, &[(IpSpec::ANY, vec![], TargetSpec::Other(b"CT", 1, data(&ct_info(1, 0, 0, (0, 0), b"", b""))))]);
        let tb = load(&def, &buf).unwrap();
        let (p, _) = syn(def.family, 0x02, &[], &[]);
        let mut env = MEnv::new(p.clone());
        assert_eq!(env.walk(&tb, NF_INET_LOCAL_OUT), Action::Accept);
        assert_eq!((env.untracked, env.counted, env.pkt), (false, vec![1, 2], p));
        assert_eq!(env.tmpl, Some(0), "plain CT attaches a default-zone template");
    }
}

#[test]
fn ct_zone_templates_are_numbered_and_the_first_one_wins() {
    use crate::xt::CtTemplate;
    // -j CT --zone 1; -j CT --zone-orig 2; -j CT --zone-mark --zone-reply;
    // -j CT --notrack: as xt_ct_target, only a packet without _nfct takes
    // a template or the untracked mark.
    for def in [RAW4, RAW6] {
        let rules = [
            (IpSpec::ANY, vec![], TargetSpec::Other(b"CT", 0, data(&ct_info(0, 0, 1, (0, 0), b"", b"")))),
            (IpSpec::ANY, vec![], TargetSpec::Other(b"CT", 2, data(&ct_info(2, 1 << 2, 2, (0, 0), b"", b"")))),
            (IpSpec::ANY, vec![], TargetSpec::Other(b"CT", 2, data(&ct_info(2, (1 << 4) | (1 << 3), 0, (0, 0), b"", b"")))),
            (IpSpec::ANY, vec![], TargetSpec::Other(b"CT", 2, data(&ct_info(2, 1, 0, (0, 0), b"", b"")))),
        ];
        let buf = table(&def, NF_INET_PRE_ROUTING, &rules);
        let tb = load(&def, &buf).unwrap();
        let zones: Vec<CtTemplate> = tb.ct_templates().collect();
        assert_eq!(
            zones,
            vec![
                CtTemplate { slot: 0, zone_id: 1, zone_dir: 3, zone_mark: false },
                CtTemplate { slot: 1, zone_id: 2, zone_dir: 1, zone_mark: false },
                CtTemplate { slot: 2, zone_id: 0, zone_dir: 2, zone_mark: true },
            ]
        );
        let (p, _) = syn(def.family, 0x02, &[], &[]);
        let mut env = MEnv::new(p.clone());
        assert_eq!(env.walk(&tb, NF_INET_PRE_ROUTING), Action::Accept);
        assert_eq!((env.tmpl, env.untracked), (Some(0), false));
        // A packet that has its connection already (looped back) takes none.
        let mut env = MEnv::new(p);
        env.ct = CtState::Tracked { ctinfo: 0, status: 0, dir: 0, proto: 6 };
        assert_eq!(env.walk(&tb, NF_INET_PRE_ROUTING), Action::Accept);
        assert_eq!((env.tmpl, env.untracked), (None, false));
    }
}

#[test]
fn an_env_that_cannot_edit_drops_what_it_would_have_to_change() {
    // The default Env (no packet to edit) drops like a failed
    // skb_ensure_writable; an Env that edits but cannot read back drops too.
    struct Plain;
    impl Env for Plain {
        fn count(&mut self, _: usize) {}
        fn conntrack(&mut self) -> CtState {
            CtState::Invalid
        }
        fn log(&mut self, _: u8, _: &[u8]) {}
        fn jiffies(&mut self) -> u64 {
            0
        }
        fn hz(&self) -> u32 {
            100
        }
    }
    let buf = table(&MANGLE4, NF_INET_FORWARD, &[(IpSpec::ANY, vec![], TargetSpec::Other(b"DSCP", 0, data(&[8])))]);
    let t = load(&MANGLE4, &buf).unwrap();
    let (p, _) = syn(Family::Ipv4, 0x02, &[], &[]);
    let pk = Packet { hook: NF_INET_FORWARD, in_dev: &[0; 16], out_dev: &[0; 16], len: p.len() as u32, headers: &p };
    assert_eq!(t.evaluate(&pk, &mut Plain), Action::Drop);
}
