// SPDX-License-Identifier: GPL-2.0
//! Host tests of the extensions a router's firewall uses (issue 14): the
//! `mark`, `connmark`, `dscp`, `tos`, `iprange`, `length`, `tcpmss`,
//! `pkttype`, `mac`, `addrtype` matches, the full `conntrack` match and the
//! `MARK` and `CONNMARK` targets: registrations and revision answers,
//! decoding and the kernel's checkentry errnos, and semantics incl.
//! inversion, each against the C source named in the test.

use super::build::{Builder, IpSpec, TargetSpec};
use super::tests::{load, replace_buf};
use super::tests_match::{tcph, udph, v4, v6};
use super::*;
use std::vec;
use std::vec::Vec;

const ACCEPT: i32 = -NF_ACCEPT - 1;
const DROP: i32 = -NF_DROP - 1;

type T = Table<Vec<u8>, Vec<Rule>, Vec<Match>>;

/// A test Env with everything the new matches and targets ask for.
struct REnv {
    counted: Vec<usize>,
    ct: CtState,
    mark: u32,
    ct_mark: Option<u32>,
    ct_mark_writes: u32,
    pkt_type: u8,
    mac: Option<[u8; 6]>,
    /// (address bytes, device) -> answer of `addr_type`; 0 when absent.
    types: Vec<(Vec<u8>, AddrDev, u16)>,
    tuples: Option<[CtTuple; 2]>,
    /// Seconds the connection has left (`ct_expires`).
    expires: Option<u32>,
}

impl REnv {
    fn new() -> Self {
        Self {
            counted: vec![],
            ct: CtState::Invalid,
            mark: 0,
            ct_mark: None,
            ct_mark_writes: 0,
            pkt_type: 0,
            mac: None,
            types: vec![],
            tuples: None,
            expires: None,
        }
    }
}

impl Env for REnv {
    fn count(&mut self, i: usize) {
        self.counted.push(i)
    }
    fn conntrack(&mut self) -> CtState {
        self.ct
    }
    fn log(&mut self, _level: u8, _line: &[u8]) {}
    fn jiffies(&mut self) -> u64 {
        1000
    }
    fn hz(&self) -> u32 {
        250
    }
    fn mark(&mut self) -> u32 {
        self.mark
    }
    fn set_mark(&mut self, mark: u32) {
        self.mark = mark
    }
    fn ct_mark(&mut self) -> Option<u32> {
        self.ct_mark
    }
    fn set_ct_mark(&mut self, mark: u32) {
        if self.ct_mark.is_some() {
            self.ct_mark = Some(mark);
            self.ct_mark_writes += 1;
        }
    }
    fn pkt_type(&mut self) -> u8 {
        self.pkt_type
    }
    fn mac_source(&mut self) -> Option<[u8; 6]> {
        self.mac
    }
    fn addr_type(&mut self, addr: &[u8], dev: AddrDev) -> u16 {
        self.types.iter().find(|(a, d, _)| a == addr && *d == dev).map_or(0, |x| x.2)
    }
    fn ct_tuples(&mut self) -> Option<[CtTuple; 2]> {
        self.tuples
    }
    fn ct_expires(&mut self) -> Option<u32> {
        self.expires
    }
}

/// One rule: ip part, matches, target.
struct Rl {
    ip: IpSpec,
    m: Vec<(&'static [u8], u8, Vec<u8>)>,
    t: TargetSpec<'static>,
}

fn rl(ip: IpSpec, m: Vec<(&'static [u8], u8, Vec<u8>)>, t: TargetSpec<'static>) -> Rl {
    Rl { ip, m, t }
}

/// Chains of the filter table, in hook order.
const INPUT: usize = 0;
const FORWARD: usize = 1;
const OUTPUT: usize = 2;

/// A filter table whose chain `chain` holds `rules`, every policy ACCEPT.
fn table_in(family: Family, chain: usize, rules: &[Rl]) -> Result<T, Error> {
    let mut out = vec![0u8; 4096 + rules.len() * 800];
    let mut b = Builder::new(family, &mut out);
    let any = IpSpec::default();
    let (mut entry, mut uflow) = ([0u32; 3], [0u32; 3]);
    for c in 0..3 {
        entry[c] = b.offset();
        if c == chain {
            for x in rules {
                let ms: Vec<(&[u8], u8, &[u8])> = x.m.iter().map(|(n, v, d)| (*n, *v, &d[..])).collect();
                b.entry(&x.ip, &ms, x.t);
            }
        }
        uflow[c] = b.entry(&any, &[], TargetSpec::Standard(ACCEPT));
    }
    b.entry(&any, &[], TargetSpec::Error(b"ERROR"));
    assert!(b.ok);
    let def = if family == Family::Ipv4 { FILTER_IPV4 } else { FILTER_IPV6 };
    load(&def, &replace_buf(&b, &def, entry, uflow))
}

/// One INPUT rule with `m` dropping what matches.
fn one(family: Family, ip: IpSpec, m: Vec<(&'static [u8], u8, Vec<u8>)>) -> Result<T, Error> {
    table_in(family, INPUT, &[rl(ip, m, TargetSpec::Standard(DROP))])
}

fn errno_of(x: Result<T, Error>) -> i32 {
    x.err().map_or(0, |e| e.errno)
}

#[derive(Debug, PartialEq, Eq)]
enum V {
    Hit,
    Miss,
    HotDrop,
}

fn pkt_at<'a>(hook: u32, h: &'a [u8]) -> Packet<'a> {
    Packet { hook, in_dev: &[0; 16], out_dev: &[0; 16], len: h.len() as u32, headers: h }
}

/// The outcome of `h` at INPUT of a one-rule table, in `env`, checked
/// against the classified walk's.
fn judge_in(t: &T, h: &[u8], env: &mut REnv) -> V {
    let p = pkt_at(NF_INET_LOCAL_IN, h);
    let cls = super::tests::classifier_of(t);
    let mut env2 = REnv { counted: vec![], types: env.types.clone(), ..*env };
    let a = t.evaluate(&p, env);
    assert_eq!((a, &env.counted), (t.evaluate_classified(&cls, &p, &mut env2), &env2.counted), "classified walk differs");
    match (a, &env.counted[..]) {
        (Action::Drop, [0]) => V::Hit,
        (Action::Accept, [1]) => V::Miss,
        (Action::Drop, []) => V::HotDrop,
        x => panic!("unexpected {x:?}"),
    }
}

fn judge(t: &T, h: &[u8]) -> V {
    judge_in(t, h, &mut REnv::new())
}

const A: [u8; 4] = [10, 1, 0, 2];
const B: [u8; 4] = [10, 2, 0, 2];
const ANY: IpSpec = IpSpec::ANY;
const TCP: IpSpec = IpSpec { proto: 6, ..IpSpec::ANY };
const TCP6: IpSpec = IpSpec { proto: 6, flags: 0x01, ..IpSpec::ANY };

fn udp4() -> Vec<u8> {
    v4(17, A, B, 0, &udph(1000, 53))
}

// ================= registrations and revisions =================

#[test]
fn revisions_as_the_kernel_registers_them() {
    use Family::{Ipv4, Ipv6};
    let ok = |f, t, n: &[u8], r| find_revision(f, t, n, r);
    for f in [Ipv4, Ipv6] {
        assert_eq!(ok(f, false, b"mark", 1), Ok(1));
        assert_eq!(ok(f, false, b"mark", 0).unwrap_err().errno, errno::EPROTONOSUPPORT);
        assert_eq!(ok(f, false, b"connmark", 1), Ok(1));
        assert_eq!(ok(f, true, b"MARK", 2), Ok(2));
        assert_eq!(ok(f, true, b"MARK", 1).unwrap_err().errno, errno::EPROTONOSUPPORT);
        assert_eq!(ok(f, true, b"CONNMARK", 1), Ok(2));
        assert_eq!(ok(f, true, b"CONNMARK", 2), Ok(2));
        assert_eq!(ok(f, false, b"dscp", 0), Ok(0));
        assert_eq!(ok(f, false, b"tos", 1), Ok(1));
        assert_eq!(ok(f, false, b"tos", 0).unwrap_err().errno, errno::EPROTONOSUPPORT);
        assert_eq!(ok(f, false, b"iprange", 1), Ok(1));
        assert_eq!(ok(f, false, b"iprange", 0).unwrap_err().errno, errno::EPROTONOSUPPORT);
        assert_eq!(ok(f, false, b"length", 0), Ok(0));
        assert_eq!(ok(f, false, b"tcpmss", 0), Ok(0));
        assert_eq!(ok(f, false, b"pkttype", 0), Ok(0));
        assert_eq!(ok(f, false, b"mac", 0), Ok(0));
        assert_eq!(ok(f, false, b"addrtype", 1), Ok(1));
        assert_eq!(ok(f, false, b"conntrack", 3), Ok(3));
        // A target name is not a match name.
        assert_eq!(ok(f, false, b"MARK", 2).unwrap_err().errno, errno::ENOENT);
    }
    // addrtype revision 0 is IPv4's alone.
    assert_eq!(ok(Ipv4, false, b"addrtype", 0), Ok(1));
    assert_eq!(ok(Ipv6, false, b"addrtype", 0).unwrap_err().errno, errno::EPROTONOSUPPORT);
    // SET_REPLACE: a missing revision of a per-family extension is ENOENT,
    // of an NFPROTO_UNSPEC one EPROTOTYPE (xt_find_match).
    assert_eq!(errno_of(one(Ipv4, ANY, vec![(b"mark", 0, vec![0; 12])])), errno::EPROTOTYPE);
    assert_eq!(errno_of(one(Ipv4, ANY, vec![(b"pkttype", 1, vec![0; 8])])), errno::EPROTOTYPE);
    assert_eq!(errno_of(one(Ipv4, ANY, vec![(b"iprange", 0, vec![0; 68])])), errno::ENOENT);
    assert_eq!(errno_of(one(Ipv6, ANY, vec![(b"addrtype", 0, vec![0; 12])])), errno::ENOENT);
    let mark0 = table_in(Ipv4, INPUT, &[rl(ANY, vec![], TargetSpec::Other(b"MARK", 0, &[0; 8]))]);
    assert_eq!(errno_of(mark0), errno::ENOENT);
    // Sizes: XT_ALIGN(sizeof) exactly.
    for (name, rev, size) in [
        (&b"mark"[..], 1u8, 12usize),
        (b"connmark", 1, 12),
        (b"dscp", 0, 2),
        (b"tos", 1, 3),
        (b"iprange", 1, 68),
        (b"length", 0, 6),
        (b"pkttype", 0, 8),
        (b"addrtype", 1, 8),
    ] {
        assert_eq!(errno_of(one(Ipv4, ANY, vec![(name, rev, vec![0; size])])), 0, "{name:?}");
        assert_eq!(errno_of(one(Ipv4, ANY, vec![(name, rev, vec![0; size + 8])])), errno::EINVAL, "{name:?} oversized");
    }
    assert_eq!(errno_of(one(Ipv4, ANY, vec![(b"addrtype", 0, vec![0; 12])])), 0);
    assert_eq!(errno_of(one(Ipv4, ANY, vec![(b"addrtype", 0, vec![0; 8])])), errno::EINVAL);
}

// ================= mark, connmark, MARK, CONNMARK =================

fn mark_m(value: u32, mask: u32, invert: u8) -> Vec<u8> {
    let mut d = vec![0u8; 12];
    d[0..4].copy_from_slice(&value.to_ne_bytes());
    d[4..8].copy_from_slice(&mask.to_ne_bytes());
    d[8] = invert;
    d
}

fn mark_t(mark: u32, mask: u32) -> TargetSpec<'static> {
    let mut d = [0u8; 8];
    d[0..4].copy_from_slice(&mark.to_ne_bytes());
    d[4..8].copy_from_slice(&mask.to_ne_bytes());
    TargetSpec::Other(b"MARK", 2, Vec::leak(d.to_vec()))
}

/// CONNMARK revision 2 data (revision 1 when `rev` is 1: no shifts).
fn connmark_t(rev: u8, ctmark: u32, ctmask: u32, nfmask: u32, mode: u8, shift: (u8, u8)) -> TargetSpec<'static> {
    let mut d = vec![0u8; 16];
    d[0..4].copy_from_slice(&ctmark.to_ne_bytes());
    d[4..8].copy_from_slice(&ctmask.to_ne_bytes());
    d[8..12].copy_from_slice(&nfmask.to_ne_bytes());
    if rev == 1 {
        d[12] = mode;
    } else {
        d[12] = shift.0;
        d[13] = shift.1;
        d[14] = mode;
    }
    TargetSpec::Other(b"CONNMARK", rev, Vec::leak(d))
}

#[test]
fn mark_match_value_mask_and_inversion() {
    // xt_mark.c mark_mt: ((skb->mark & mask) == mark) ^ invert.
    let t = |v, m, i| one(Family::Ipv4, ANY, vec![(b"mark", 1, mark_m(v, m, i))]).unwrap();
    let run = |t: &T, mark: u32| {
        let mut e = REnv::new();
        e.mark = mark;
        judge_in(t, &udp4(), &mut e)
    };
    assert_eq!(run(&t(5, 0xffff_ffff, 0), 5), V::Hit);
    assert_eq!(run(&t(5, 0xffff_ffff, 0), 6), V::Miss);
    assert_eq!(run(&t(5, 0xff, 0), 0x1205), V::Hit);
    assert_eq!(run(&t(5, 0xff, 1), 0x1205), V::Miss);
    assert_eq!(run(&t(5, 0xff, 1), 0x1206), V::Hit);
    // invert is a __u8 XORed as an int: 2 makes every result true.
    assert_eq!(run(&t(5, 0xff, 2), 0x1205), V::Hit);
    assert_eq!(run(&t(5, 0xff, 2), 0x1206), V::Hit);
    // IPv6 alike (NFPROTO_UNSPEC).
    let t6 = one(Family::Ipv6, ANY, vec![(b"mark", 1, mark_m(1, 1, 0))]).unwrap();
    let mut e = REnv::new();
    e.mark = 3;
    assert_eq!(judge_in(&t6, &v6(17, &udph(1, 2)), &mut e), V::Hit);
}

#[test]
fn connmark_match_needs_a_connection() {
    // xt_connmark.c connmark_mt: false without a connection, even inverted.
    let t = |v, m, i| one(Family::Ipv4, ANY, vec![(b"connmark", 1, mark_m(v, m, i))]).unwrap();
    let run = |t: &T, ct: Option<u32>| {
        let mut e = REnv::new();
        e.ct_mark = ct;
        judge_in(t, &udp4(), &mut e)
    };
    assert_eq!(run(&t(7, 0xf, 0), Some(0x17)), V::Hit);
    assert_eq!(run(&t(7, 0xf, 0), Some(0x18)), V::Miss);
    assert_eq!(run(&t(7, 0xf, 1), Some(0x18)), V::Hit);
    assert_eq!(run(&t(7, 0xf, 0), None), V::Miss);
    assert_eq!(run(&t(7, 0xf, 1), None), V::Miss);
}

#[test]
fn mark_target_sets_xmark_and_continues() {
    // xt_mark.c mark_tg: skb->mark = (skb->mark & ~mask) ^ mark; XT_CONTINUE.
    let rules = [
        rl(ANY, vec![], mark_t(0x50, 0xf0)),
        rl(ANY, vec![(b"mark", 1, mark_m(0x53, 0xff, 0))], TargetSpec::Standard(DROP)),
    ];
    for family in [Family::Ipv4, Family::Ipv6] {
        let t = table_in(family, INPUT, &rules).unwrap();
        let h = if family == Family::Ipv4 { udp4() } else { v6(17, &udph(1, 2)) };
        let mut e = REnv::new();
        e.mark = 0x1_0023;
        assert_eq!(t.evaluate(&pkt_at(NF_INET_LOCAL_IN, &h), &mut e), Action::Drop);
        assert_eq!((e.mark, &e.counted[..]), (0x1_0053, &[0usize, 1][..]));
        // A mark the second rule does not match: the MARK rule counts, the policy accepts.
        let mut e = REnv::new();
        e.mark = 0x1_0004;
        assert_eq!(t.evaluate(&pkt_at(NF_INET_LOCAL_IN, &h), &mut e), Action::Accept);
        assert_eq!((e.mark, &e.counted[..]), (0x1_0054, &[0usize, 2][..]));
    }
    // MARK has no table or hook restriction: OUTPUT and FORWARD take it too.
    assert!(table_in(Family::Ipv4, OUTPUT, &[rl(ANY, vec![], mark_t(1, 1))]).is_ok());
    assert!(table_in(Family::Ipv6, FORWARD, &[rl(ANY, vec![], mark_t(1, 1))]).is_ok());
    // Wrong size: EINVAL.
    let bad = table_in(Family::Ipv4, INPUT, &[rl(ANY, vec![], TargetSpec::Other(b"MARK", 2, &[0; 16]))]);
    assert_eq!(errno_of(bad), errno::EINVAL);
}

#[test]
fn connmark_target_set_save_restore_with_masks_and_shifts() {
    use marks::{CONNMARK_RESTORE as RESTORE, CONNMARK_SAVE as SAVE, CONNMARK_SET as SET};
    // (target, skb mark, ct mark before) -> (skb mark, ct mark after, ct writes)
    let run = |t: TargetSpec<'static>, mark: u32, ct: Option<u32>| {
        let table = table_in(Family::Ipv4, INPUT, &[rl(ANY, vec![], t)]).unwrap();
        let mut e = REnv::new();
        e.mark = mark;
        e.ct_mark = ct;
        assert_eq!(table.evaluate(&pkt_at(NF_INET_LOCAL_IN, &udp4()), &mut e), Action::Accept);
        assert_eq!(e.counted, [0, 1], "continues to the policy");
        (e.mark, e.ct_mark, e.ct_mark_writes)
    };
    for rev in [1u8, 2] {
        // --set-xmark 0x5/0xf: ct = (ct & ~0xf) ^ 5.
        assert_eq!(run(connmark_t(rev, 5, 0xf, 0, SET, (0, 0)), 9, Some(0x123)), (9, Some(0x125), 1));
        // Unchanged marks are not written (no IPCT_MARK event).
        assert_eq!(run(connmark_t(rev, 5, 0xf, 0, SET, (0, 0)), 9, Some(0x125)), (9, Some(0x125), 0));
        // --save-mark --nfmask 0xff --ctmask 0xf00: ct = (ct & ~ctmask) ^ (mark & nfmask).
        assert_eq!(run(connmark_t(rev, 0, 0xf00, 0xff, SAVE, (0, 0)), 0x1234, Some(0xa_0000)), (0x1234, Some(0xa_0034), 1));
        // --restore-mark: mark = (mark & ~nfmask) ^ (ct & ctmask).
        assert_eq!(run(connmark_t(rev, 0, 0xff, 0xffff, RESTORE, (0, 0)), 0xab_cdef, Some(0x1234)), (0xab_0034, Some(0x1234), 0));
        // Without a connection nothing changes.
        assert_eq!(run(connmark_t(rev, 5, 0xf, 0, SET, (0, 0)), 9, None), (9, None, 0));
        assert_eq!(run(connmark_t(rev, 0, 0xff, 0xff, RESTORE, (0, 0)), 9, None), (9, None, 0));
        // An unknown mode does nothing.
        assert_eq!(run(connmark_t(rev, 5, 0xf, 0xf, 3, (0, 0)), 9, Some(1)), (9, Some(1), 0));
    }
    // Revision 2 shifts: left (0) and right (1), applied after the mask.
    assert_eq!(run(connmark_t(2, 0, 0xff00, 0xff, SAVE, (0, 8)), 0x12, Some(0)), (0x12, Some(0x1200), 1));
    assert_eq!(run(connmark_t(2, 0, 0xff00, 0xff, RESTORE, (1, 8)), 0x7777, Some(0x3400)), (0x7734, Some(0x3400), 0));
    assert_eq!(run(connmark_t(2, 0x1, 0, 0, SET, (0, 4)), 0, Some(0x2)), (0, Some(0x30), 1));
    // connmark_tg_check_v2: shift_dir > 1 or shift_bits >= 32 is EINVAL.
    let bad = |sd, sb| errno_of(table_in(Family::Ipv4, INPUT, &[rl(ANY, vec![], connmark_t(2, 0, 0, 0, SET, (sd, sb)))]));
    assert_eq!(bad(2, 0), errno::EINVAL);
    assert_eq!(bad(0, 32), errno::EINVAL);
    assert_eq!(bad(1, 31), 0);
    // Revision 1 has no shift fields: the same bytes are padding there.
    assert_eq!(errno_of(table_in(Family::Ipv6, OUTPUT, &[rl(ANY, vec![], connmark_t(1, 0, 0, 0, 0, (0, 0)))])), 0);
}

#[test]
fn save_then_restore_across_packets_of_a_connection() {
    use marks::{CONNMARK_RESTORE as RESTORE, CONNMARK_SAVE as SAVE};
    // The usual multi-WAN recipe: restore, mark new connections, save.
    let rules = [
        rl(ANY, vec![], connmark_t(2, 0, 0xff, 0xff, RESTORE, (0, 0))),
        rl(ANY, vec![(b"mark", 1, mark_m(0, 0xff, 0))], mark_t(0x2, 0xff)),
        rl(ANY, vec![], connmark_t(2, 0, 0xff, 0xff, SAVE, (0, 0))),
    ];
    let t = table_in(Family::Ipv4, INPUT, &rules).unwrap();
    let mut first = REnv::new();
    first.ct_mark = Some(0);
    t.evaluate(&pkt_at(NF_INET_LOCAL_IN, &udp4()), &mut first);
    assert_eq!((first.mark, first.ct_mark, &first.counted[..]), (2, Some(2), &[0usize, 1, 2, 3][..]));
    let mut next = REnv::new();
    next.ct_mark = first.ct_mark;
    t.evaluate(&pkt_at(NF_INET_LOCAL_IN, &udp4()), &mut next);
    assert_eq!((next.mark, next.ct_mark, &next.counted[..]), (2, Some(2), &[0usize, 2, 3][..]));
}

// ================= dscp, tos, length, iprange =================

fn with_tos(mut p: Vec<u8>, tos: u8) -> Vec<u8> {
    p[1] = tos;
    p
}

fn with_tclass(mut p: Vec<u8>, tc: u8) -> Vec<u8> {
    p[0] = 0x60 | (tc >> 4);
    p[1] = (p[1] & 0x0f) | (tc << 4);
    p
}

#[test]
fn dscp_and_tos_both_families() {
    // xt_dscp.c: dscp_mt (tos >> 2), dscp_mt6 (ipv6_get_dsfield >> 2), tos_mt.
    let d = |v: u8, inv: u8| vec![v, inv];
    for family in [Family::Ipv4, Family::Ipv6] {
        let p = |ds: u8| match family {
            Family::Ipv4 => with_tos(udp4(), ds),
            Family::Ipv6 => with_tclass(v6(17, &udph(1, 2)), ds),
        };
        let t = |v, i| one(family, ANY, vec![(b"dscp", 0, d(v, i))]).unwrap();
        assert_eq!(judge(&t(0x2e, 0), &p(0xb8)), V::Hit, "EF");
        assert_eq!(judge(&t(0x2e, 0), &p(0xb9)), V::Hit, "ECN bits ignored");
        assert_eq!(judge(&t(0x2e, 0), &p(0x00)), V::Miss);
        assert_eq!(judge(&t(0x2e, 1), &p(0x00)), V::Hit);
        assert_eq!(judge(&t(0x2e, 7), &p(0xb8)), V::Miss, "invert is !!");
        // dscp_mt_check: above XT_DSCP_MAX is EDOM.
        assert_eq!(errno_of(one(family, ANY, vec![(b"dscp", 0, d(64, 0))])), errno::EDOM);
        assert_eq!(errno_of(one(family, ANY, vec![(b"dscp", 0, d(63, 0))])), 0);
        let tt = |mask, val, inv| one(family, ANY, vec![(b"tos", 1, vec![mask, val, inv])]).unwrap();
        assert_eq!(judge(&tt(0x3f, 0x10, 0), &p(0x10)), V::Hit);
        assert_eq!(judge(&tt(0x3f, 0x10, 0), &p(0xd0)), V::Hit, "bits outside the mask ignored");
        assert_eq!(judge(&tt(0xff, 0x10, 0), &p(0xd0)), V::Miss);
        assert_eq!(judge(&tt(0xff, 0x10, 1), &p(0xd0)), V::Hit);
    }
}

fn range_m(min: u16, max: u16, inv: u8) -> Vec<u8> {
    let mut d = vec![0u8; 6];
    d[0..2].copy_from_slice(&min.to_ne_bytes());
    d[2..4].copy_from_slice(&max.to_ne_bytes());
    d[4] = inv;
    d
}

#[test]
fn length_ipv4_total_length_ipv6_skb_len() {
    // xt_length.c: IPv4 tot_len, IPv6 skb->len (header included).
    let t4 = |a, b, i| one(Family::Ipv4, ANY, vec![(b"length", 0, range_m(a, b, i))]).unwrap();
    let p = udp4(); // 28 bytes
    assert_eq!(judge(&t4(28, 28, 0), &p), V::Hit);
    assert_eq!(judge(&t4(0, 27, 0), &p), V::Miss);
    assert_eq!(judge(&t4(29, 1500, 0), &p), V::Miss);
    assert_eq!(judge(&t4(29, 1500, 1), &p), V::Hit);
    // The header's total length counts, not the bytes the hook could read.
    let mut big = p.clone();
    big[2..4].copy_from_slice(&1400u16.to_be_bytes());
    assert_eq!(judge(&t4(1000, 1500, 0), &big), V::Hit);
    let t6 = |a, b, i| one(Family::Ipv6, ANY, vec![(b"length", 0, range_m(a, b, i))]).unwrap();
    let p6 = v6(17, &udph(1, 2)); // 48 bytes
    assert_eq!(judge(&t6(48, 48, 0), &p6), V::Hit);
    assert_eq!(judge(&t6(49, 100, 0), &p6), V::Miss);
    assert_eq!(judge(&t6(49, 100, 1), &p6), V::Hit);
}

fn iprange_m(family: Family, src: Option<([u8; 16], [u8; 16])>, dst: Option<([u8; 16], [u8; 16])>, inv: u8) -> Vec<u8> {
    let _ = family;
    let mut d = vec![0u8; 68];
    let mut flags = inv;
    if let Some((lo, hi)) = src {
        d[0..16].copy_from_slice(&lo);
        d[16..32].copy_from_slice(&hi);
        flags |= 1;
    }
    if let Some((lo, hi)) = dst {
        d[32..48].copy_from_slice(&lo);
        d[48..64].copy_from_slice(&hi);
        flags |= 2;
    }
    d[64] = flags;
    d
}

fn a4(a: [u8; 4]) -> [u8; 16] {
    let mut o = [0u8; 16];
    o[..4].copy_from_slice(&a);
    o
}

#[test]
fn iprange_ipv4_and_ipv6_ranges_and_inversions() {
    // xt_iprange.c iprange_mt4 / iprange_mt6.
    let f4 = Family::Ipv4;
    let t = |s, d, inv| one(f4, ANY, vec![(b"iprange", 1, iprange_m(f4, s, d, inv))]).unwrap();
    let src_r = Some((a4([10, 0, 255, 250]), a4([10, 1, 0, 2])));
    assert_eq!(judge(&t(src_r, None, 0), &udp4()), V::Hit, "10.1.0.2 in 10.0.255.250-10.1.0.2");
    assert_eq!(judge(&t(src_r, None, 0x10), &udp4()), V::Miss);
    let high = Some((a4([10, 1, 0, 3]), a4([10, 9, 0, 0])));
    assert_eq!(judge(&t(high, None, 0), &udp4()), V::Miss);
    assert_eq!(judge(&t(high, None, 0x10), &udp4()), V::Hit);
    let dst_r = Some((a4([10, 2, 0, 0]), a4([10, 2, 0, 255])));
    assert_eq!(judge(&t(src_r, dst_r, 0), &udp4()), V::Hit);
    assert_eq!(judge(&t(src_r, dst_r, 0x20), &udp4()), V::Miss);
    assert_eq!(judge(&t(high, dst_r, 0x10), &udp4()), V::Hit);
    // Inversion bits without their range flag do nothing; no flags always match.
    assert_eq!(judge(&t(None, None, 0x30), &udp4()), V::Hit);
    // IPv6 compares all 128 bits in network order (v6() uses fd01::2 -> fd02::2).
    let f6 = Family::Ipv6;
    let mut lo = [0u8; 16];
    lo[0] = 0xfd;
    lo[1] = 1;
    let mut hi = lo;
    hi[15] = 1;
    let t6 = |s, d, inv| one(f6, ANY, vec![(b"iprange", 1, iprange_m(f6, s, d, inv))]).unwrap();
    let p6 = v6(17, &udph(1, 2));
    assert_eq!(judge(&t6(Some((lo, hi)), None, 0), &p6), V::Miss, "fd01::2 above fd01::1");
    hi[15] = 2;
    assert_eq!(judge(&t6(Some((lo, hi)), None, 0), &p6), V::Hit);
    let mut d2 = [0u8; 16];
    d2[0] = 0xfd;
    d2[1] = 2;
    let mut d3 = d2;
    d3[8] = 0x80;
    assert_eq!(judge(&t6(None, Some((d2, d3)), 0), &p6), V::Hit);
    assert_eq!(judge(&t6(None, Some((d2, d3)), 0x20), &p6), V::Miss);
}

// ================= tcpmss =================

#[test]
fn tcpmss_option_range_missing_option_and_truncation() {
    // xt_tcpmss.c tcpmss_mt; .proto = IPPROTO_TCP.
    let mss = |v: u16| {
        let b = v.to_be_bytes();
        vec![1, 2, 4, b[0], b[1], 1, 1, 1]
    };
    let t = |a, b, i| one(Family::Ipv4, TCP, vec![(b"tcpmss", 0, range_m(a, b, i))]).unwrap();
    let syn = |o: &[u8]| v4(6, A, B, 0, &tcph(40000, 80, 0x02, o));
    assert_eq!(judge(&t(1000, 1460, 0), &syn(&mss(1460))), V::Hit);
    assert_eq!(judge(&t(1000, 1400, 0), &syn(&mss(1460))), V::Miss);
    assert_eq!(judge(&t(1000, 1400, 1), &syn(&mss(1460))), V::Hit);
    // No MSS option: matches only inverted.
    assert_eq!(judge(&t(0, 65535, 0), &syn(&[])), V::Miss);
    assert_eq!(judge(&t(0, 65535, 1), &syn(&[])), V::Hit);
    assert_eq!(judge(&t(0, 65535, 0), &syn(&[1, 1, 3, 3, 7, 0, 0, 0])), V::Miss);
    // A header whose data offset is below 5, or options cut short, hot-drop.
    let mut bad = syn(&[]);
    bad[32] = 0x40;
    assert_eq!(judge(&t(0, 65535, 0), &bad), V::HotDrop);
    let mut cut = syn(&mss(1460));
    cut.truncate(cut.len() - 4);
    assert_eq!(judge(&t(0, 65535, 0), &cut), V::HotDrop);
    // Needs -p tcp, not inverted.
    assert_eq!(errno_of(one(Family::Ipv4, ANY, vec![(b"tcpmss", 0, range_m(0, 1, 0))])), errno::EINVAL);
    let not_tcp = IpSpec { invflags: 0x40, ..TCP };
    assert_eq!(errno_of(one(Family::Ipv4, not_tcp, vec![(b"tcpmss", 0, range_m(0, 1, 0))])), errno::EINVAL);
    let t6 = one(Family::Ipv6, TCP6, vec![(b"tcpmss", 0, range_m(536, 536, 0))]).unwrap();
    assert_eq!(judge(&t6, &v6(6, &tcph(1, 2, 0x02, &mss(536)))), V::Hit);
}

// ================= pkttype, mac =================

#[test]
fn pkttype_with_loopback_as_multicast_or_broadcast() {
    // xt_pkttype.c pkttype_mt.
    let m = |ty: i32, inv: i32| {
        let mut d = vec![0u8; 8];
        d[0..4].copy_from_slice(&ty.to_ne_bytes());
        d[4..8].copy_from_slice(&inv.to_ne_bytes());
        d
    };
    let run = |family, ty, inv, pt: u8, h: &[u8]| {
        let t = one(family, ANY, vec![(b"pkttype", 0, m(ty, inv))]).unwrap();
        let mut e = REnv::new();
        e.pkt_type = pt;
        judge_in(&t, h, &mut e)
    };
    let uni = udp4();
    let mcast = v4(17, A, [224, 0, 0, 251], 0, &udph(5353, 5353));
    assert_eq!(run(Family::Ipv4, 0, 0, 0, &uni), V::Hit, "host");
    assert_eq!(run(Family::Ipv4, 1, 0, 1, &uni), V::Hit, "broadcast");
    assert_eq!(run(Family::Ipv4, 1, 0, 0, &uni), V::Miss);
    assert_eq!(run(Family::Ipv4, 1, 1, 0, &uni), V::Hit, "inverted");
    // PACKET_LOOPBACK (5): IPv4 multicast destination -> multicast, else broadcast.
    assert_eq!(run(Family::Ipv4, 2, 0, 5, &mcast), V::Hit);
    assert_eq!(run(Family::Ipv4, 1, 0, 5, &uni), V::Hit);
    assert_eq!(run(Family::Ipv4, 5, 0, 5, &uni), V::Miss);
    // IPv6 loopback is always multicast.
    assert_eq!(run(Family::Ipv6, 2, 0, 5, &v6(17, &udph(1, 2))), V::Hit);
    // invert is an int XORed into the bool result.
    assert_eq!(run(Family::Ipv4, 0, 2, 0, &uni), V::Hit);
    assert_eq!(run(Family::Ipv4, 3, 2, 0, &uni), V::Hit);
}

#[test]
fn mac_source_hooks_and_inversion() {
    // xt_mac.c mac_mt and its .hooks.
    let m = |a: [u8; 6], inv: i32| {
        let mut d = vec![0u8; 12];
        d[0..6].copy_from_slice(&a);
        d[8..12].copy_from_slice(&inv.to_ne_bytes());
        d
    };
    const MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x11];
    let run = |inv, src: Option<[u8; 6]>| {
        let t = one(Family::Ipv4, ANY, vec![(b"mac", 0, m(MAC, inv))]).unwrap();
        let mut e = REnv::new();
        e.mac = src;
        judge_in(&t, &udp4(), &mut e)
    };
    assert_eq!(run(0, Some(MAC)), V::Hit);
    assert_eq!(run(0, Some([0x02, 0, 0, 0, 0, 0x12])), V::Miss);
    assert_eq!(run(1, Some([0x02, 0, 0, 0, 0, 0x12])), V::Hit);
    assert_eq!(run(1, Some(MAC)), V::Miss);
    // No Ethernet header (not ARPHRD_ETHER, or none set): false, even inverted.
    assert_eq!(run(0, None), V::Miss);
    assert_eq!(run(1, None), V::Miss);
    // Valid from PREROUTING, INPUT, FORWARD only.
    let at = |family, chain| errno_of(table_in(family, chain, &[rl(ANY, vec![(b"mac", 0, m(MAC, 0))], TargetSpec::Standard(DROP))]));
    assert_eq!(at(Family::Ipv4, FORWARD), 0);
    assert_eq!(at(Family::Ipv6, INPUT), 0);
    assert_eq!(at(Family::Ipv4, OUTPUT), errno::EINVAL);
    assert_eq!(at(Family::Ipv6, OUTPUT), errno::EINVAL);
}

// ================= addrtype =================

fn addrtype_m(source: u16, dest: u16, flags: u32) -> Vec<u8> {
    let mut d = vec![0u8; 8];
    d[0..2].copy_from_slice(&source.to_ne_bytes());
    d[2..4].copy_from_slice(&dest.to_ne_bytes());
    d[4..8].copy_from_slice(&flags.to_ne_bytes());
    d
}

const UNICAST: u16 = 1 << 1;
const LOCAL: u16 = 1 << 2;
const BROADCAST: u16 = 1 << 3;
const MULTICAST: u16 = 1 << 5;
const UNREACHABLE: u16 = 1 << 7;

#[test]
fn addrtype_ipv4_revisions_devices_and_inversion() {
    // xt_addrtype.c addrtype_mt_v0 / addrtype_mt_v1 with inet_dev_addr_type.
    let mut e = REnv::new();
    e.types = vec![(A.to_vec(), AddrDev::Any, UNICAST), (B.to_vec(), AddrDev::Any, LOCAL), (B.to_vec(), AddrDev::In, UNICAST)];
    let run = |m: Vec<(&'static [u8], u8, Vec<u8>)>, e: &REnv| {
        let t = one(Family::Ipv4, ANY, m).unwrap();
        judge_in(&t, &udp4(), &mut REnv { counted: vec![], types: e.types.clone(), ..*e })
    };
    let v1 = |s, d, fl| vec![(&b"addrtype"[..], 1u8, addrtype_m(s, d, fl))];
    assert_eq!(run(v1(0, LOCAL, 0), &e), V::Hit, "--dst-type LOCAL");
    assert_eq!(run(v1(0, LOCAL | BROADCAST, 0), &e), V::Hit, "a type list is any of them");
    assert_eq!(run(v1(0, UNICAST, 0), &e), V::Miss);
    assert_eq!(run(v1(0, LOCAL, 2), &e), V::Miss, "! --dst-type LOCAL");
    assert_eq!(run(v1(UNICAST, LOCAL, 0), &e), V::Hit);
    assert_eq!(run(v1(UNICAST, LOCAL, 1), &e), V::Miss);
    assert_eq!(run(v1(LOCAL, 0, 1), &e), V::Hit, "! --src-type LOCAL");
    // --limit-iface-in asks for the input device.
    assert_eq!(run(v1(0, LOCAL, 4), &e), V::Miss);
    assert_eq!(run(v1(0, UNICAST, 4), &e), V::Hit);
    // Revision 0: two int inversions.
    let v0 = |s: u16, d: u16, is: u32, id: u32| {
        let mut x = vec![0u8; 12];
        x[0..2].copy_from_slice(&s.to_ne_bytes());
        x[2..4].copy_from_slice(&d.to_ne_bytes());
        x[4..8].copy_from_slice(&is.to_ne_bytes());
        x[8..12].copy_from_slice(&id.to_ne_bytes());
        vec![(&b"addrtype"[..], 0u8, x)]
    };
    assert_eq!(run(v0(0, LOCAL, 0, 0), &e), V::Hit);
    assert_eq!(run(v0(0, LOCAL, 0, 1), &e), V::Miss);
    assert_eq!(run(v0(UNICAST, UNICAST, 0, 1), &e), V::Hit);
    // `ret &= match ^ invert` keeps the low bit only: an even invert does not invert.
    assert_eq!(run(v0(0, LOCAL, 0, 2), &e), V::Hit);
    assert_eq!(run(v0(0, UNICAST, 0, 2), &e), V::Miss);
    assert_eq!(run(v0(0, UNICAST, 0, 3), &e), V::Hit);
    // Checkentry: both limits, OUT in INPUT, IN in OUTPUT are EINVAL.
    let chk = |chain, fl| errno_of(table_in(Family::Ipv4, chain, &[rl(ANY, v1(0, LOCAL, fl), TargetSpec::Standard(DROP))]));
    assert_eq!(chk(FORWARD, 4 | 8), errno::EINVAL);
    assert_eq!(chk(INPUT, 8), errno::EINVAL);
    assert_eq!(chk(OUTPUT, 4), errno::EINVAL);
    assert_eq!(chk(INPUT, 4), 0);
    assert_eq!(chk(OUTPUT, 8), 0);
    assert_eq!(chk(FORWARD, 4), 0);
    assert_eq!(chk(FORWARD, 8), 0);
    // IPv4 takes every type, BROADCAST included.
    assert_eq!(chk(INPUT, 0), 0);
    assert_eq!(errno_of(one(Family::Ipv4, ANY, v1(BROADCAST | (1 << 6) | (1 << 11), 0, 0))), 0);
}

#[test]
fn addrtype_ipv6_types_and_checks() {
    // match_type6: MULTICAST, UNICAST, UNSPEC from ipv6_addr_type, the rest
    // from the route lookup; addrtype_mt_checkentry_v1's IPv6 refusals.
    let v1 = |s, d, fl| vec![(&b"addrtype"[..], 1u8, addrtype_m(s, d, fl))];
    let p = |src: [u8; 16], dst: [u8; 16]| {
        let mut h = v6(17, &udph(1, 2));
        h[8..24].copy_from_slice(&src);
        h[24..40].copy_from_slice(&dst);
        h
    };
    let addr = |s: &str| -> [u8; 16] {
        let n: std::net::Ipv6Addr = s.parse().unwrap();
        n.octets()
    };
    let run = |m, h: &[u8], types: Vec<(Vec<u8>, AddrDev, u16)>| {
        let t = one(Family::Ipv6, ANY, m).unwrap();
        let mut e = REnv::new();
        e.types = types;
        judge_in(&t, h, &mut e)
    };
    let (g, ll, mc, any, mapped, lo) =
        (addr("2001:db8::1"), addr("fe80::1"), addr("ff02::1"), addr("::"), addr("::ffff:10.0.0.1"), addr("::1"));
    assert_eq!(run(v1(UNICAST, 0, 0), &p(g, mc), vec![]), V::Hit);
    assert_eq!(run(v1(UNICAST, 0, 0), &p(ll, mc), vec![]), V::Hit);
    assert_eq!(run(v1(UNICAST, 0, 0), &p(lo, mc), vec![]), V::Hit);
    assert_eq!(run(v1(UNICAST, 0, 0), &p(mapped, mc), vec![]), V::Miss, "v4-mapped is not unicast");
    assert_eq!(run(v1(0, MULTICAST, 0), &p(g, mc), vec![]), V::Hit);
    assert_eq!(run(v1(0, MULTICAST, 2), &p(g, mc), vec![]), V::Miss);
    assert_eq!(run(v1(1, 0, 0), &p(any, mc), vec![]), V::Hit, "UNSPEC is ::");
    assert_eq!(run(v1(1, 0, 0), &p(g, mc), vec![]), V::Miss);
    // MULTICAST|UNICAST together can never hold (both are required).
    assert_eq!(run(v1(0, MULTICAST | UNICAST, 0), &p(g, mc), vec![]), V::Miss);
    // LOCAL / UNREACHABLE from the lookup.
    let local = vec![(g.to_vec(), AddrDev::Any, LOCAL)];
    assert_eq!(run(v1(0, LOCAL, 0), &p(mc, g), local.clone()), V::Hit);
    assert_eq!(run(v1(0, LOCAL, 0), &p(mc, g), vec![]), V::Miss);
    assert_eq!(run(v1(0, UNICAST | LOCAL, 0), &p(mc, g), local.clone()), V::Hit);
    assert_eq!(run(v1(0, UNICAST | LOCAL, 0), &p(mc, mc), local), V::Miss);
    assert_eq!(run(v1(0, UNREACHABLE, 0), &p(mc, g), vec![(g.to_vec(), AddrDev::Any, UNREACHABLE)]), V::Hit);
    let chk = |s, d| errno_of(one(Family::Ipv6, ANY, v1(s, d, 0)));
    assert_eq!(chk(0, 1 << 6), errno::EINVAL, "BLACKHOLE");
    assert_eq!(chk(1 << 8, 0), errno::EINVAL, "PROHIBIT");
    assert_eq!(chk(0, 1 << 11), errno::EINVAL, "XRESOLVE");
    assert_eq!(chk(BROADCAST, 0), errno::EINVAL, "BROADCAST");
    assert_eq!(chk(UNICAST | LOCAL | (1 << 4) | MULTICAST | UNREACHABLE | 1, 0), 0);
}

// ================= conntrack: tuples and ports =================

fn ct_full(rev: u8, flags: u16, inv: u16, addrs: [([u8; 16], [u8; 16]); 4], ports: [[u16; 2]; 4], l4proto: u16) -> Vec<u8> {
    let size = match rev {
        1 => 152,
        2 => 156,
        _ => 164,
    };
    let mut d = vec![0u8; size];
    for (k, (a, m)) in addrs.iter().enumerate() {
        d[32 * k..32 * k + 16].copy_from_slice(a);
        d[32 * k + 16..32 * k + 32].copy_from_slice(m);
    }
    d[136..138].copy_from_slice(&l4proto.to_ne_bytes());
    for (k, p) in ports.iter().enumerate() {
        if rev == 3 {
            d[138 + 2 * k..140 + 2 * k].copy_from_slice(&p[0].to_ne_bytes());
            d[154 + 2 * k..156 + 2 * k].copy_from_slice(&p[1].to_ne_bytes());
        } else {
            d[138 + 2 * k..140 + 2 * k].copy_from_slice(&p[0].to_be_bytes());
        }
    }
    d[146..148].copy_from_slice(&flags.to_ne_bytes());
    d[148..150].copy_from_slice(&inv.to_ne_bytes());
    d
}

fn tup(src: [u8; 4], dst: [u8; 4], sp: u16, dp: u16) -> CtTuple {
    CtTuple { src: u128::from_ne_bytes(a4(src)), dst: u128::from_ne_bytes(a4(dst)), src_port: sp, dst_port: dp }
}

#[test]
fn conntrack_addresses_ports_revisions_and_inversion() {
    // xt_conntrack.c conntrack_mt, ct_proto_port_check(_v3).
    const ORIGSRC: u16 = 0x04;
    const ORIGDST: u16 = 0x08;
    const REPLSRC: u16 = 0x10;
    const REPLDST: u16 = 0x20;
    const ORIGSRC_PORT: u16 = 0x100;
    const ORIGDST_PORT: u16 = 0x200;
    const REPLSRC_PORT: u16 = 0x400;
    const REPLDST_PORT: u16 = 0x800;
    const PROTO: u16 = 0x2;
    let mask24 = a4([255, 255, 255, 0]);
    let none = ([0u8; 16], [0u8; 16]);
    // A DNATed connection: 10.1.0.2:40000 -> 10.2.0.2:80, reply from 192.168.1.5:8080.
    let tuples = [tup(A, B, 40000, 80), tup([192, 168, 1, 5], A, 8080, 40000)];
    let tracked = CtState::Tracked { ctinfo: 0, status: 1 << 5, dir: 0, proto: 6 };
    let run = |rev: u8, flags, inv, addrs, ports, l4| {
        let t = one(Family::Ipv4, ANY, vec![(b"conntrack", rev, ct_full(rev, flags, inv, addrs, ports, l4))]).unwrap();
        let mut e = REnv::new();
        e.ct = tracked;
        e.tuples = Some(tuples);
        let tracked_v = judge_in(&t, &udp4(), &mut e);
        let mut u = REnv::new();
        u.ct = CtState::Untracked;
        (tracked_v, judge_in(&t, &udp4(), &mut u))
    };
    for rev in [1u8, 2, 3] {
        let p0 = [[0u16; 2]; 4];
        let a = |k: usize, addr: [u8; 4], m: [u8; 16]| {
            let mut x = [none; 4];
            x[k] = (a4(addr), m);
            x
        };
        assert_eq!(run(rev, ORIGSRC, 0, a(0, [10, 1, 0, 99], mask24), p0, 0), (V::Hit, V::Miss), "rev {rev} --ctorigsrc 10.1.0.0/24");
        assert_eq!(run(rev, ORIGSRC, ORIGSRC, a(0, [10, 1, 0, 99], mask24), p0, 0).0, V::Miss);
        assert_eq!(run(rev, ORIGSRC, 0, a(0, [10, 1, 1, 0], mask24), p0, 0).0, V::Miss);
        assert_eq!(run(rev, ORIGSRC, ORIGSRC, a(0, [10, 1, 1, 0], mask24), p0, 0).0, V::Hit);
        assert_eq!(run(rev, ORIGDST, 0, a(1, B, a4([255; 4])), p0, 0).0, V::Hit);
        assert_eq!(run(rev, REPLSRC, 0, a(2, [192, 168, 1, 5], a4([255; 4])), p0, 0).0, V::Hit, "--ctreplsrc: the DNAT target");
        assert_eq!(run(rev, REPLSRC, 0, a(2, B, a4([255; 4])), p0, 0).0, V::Miss);
        assert_eq!(run(rev, REPLDST, 0, a(3, A, a4([255; 4])), p0, 0).0, V::Hit);
        // Mask bytes past an IPv4 address are not compared.
        let mut junk = a4([255; 4]);
        junk[4] = 0xff;
        assert_eq!(run(rev, REPLDST, 0, a(3, A, junk), p0, 0).0, V::Hit);
        // Ports: revisions 1/2 one port, 3 a range.
        let port = |k: usize, lo: u16, hi: u16| {
            let mut p = p0;
            p[k] = [lo, if rev == 3 { hi } else { lo }];
            p
        };
        assert_eq!(run(rev, ORIGDST_PORT, 0, [none; 4], port(1, 80, 80), 0).0, V::Hit);
        assert_eq!(run(rev, ORIGDST_PORT, 0, [none; 4], port(1, 81, 81), 0).0, V::Miss);
        assert_eq!(run(rev, ORIGDST_PORT, ORIGDST_PORT, [none; 4], port(1, 81, 81), 0).0, V::Hit);
        assert_eq!(run(rev, ORIGSRC_PORT, 0, [none; 4], port(0, 40000, 40000), 0).0, V::Hit);
        assert_eq!(run(rev, REPLSRC_PORT, 0, [none; 4], port(2, 8080, 8080), 0).0, V::Hit);
        assert_eq!(run(rev, REPLDST_PORT, 0, [none; 4], port(3, 40000, 40000), 0).0, V::Hit);
        assert_eq!(run(rev, REPLDST_PORT | PROTO, 0, [none; 4], port(3, 40000, 40000), 17).0, V::Miss);
        if rev == 3 {
            assert_eq!(run(rev, ORIGDST_PORT, 0, [none; 4], port(1, 1, 1024), 0).0, V::Hit);
            assert_eq!(run(rev, ORIGDST_PORT, 0, [none; 4], port(1, 81, 1024), 0).0, V::Miss);
            assert_eq!(run(rev, ORIGDST_PORT, ORIGDST_PORT, [none; 4], port(1, 81, 1024), 0).0, V::Hit);
        }
        // Together with --ctstate DNAT (bit 7) and --ctdir ORIGINAL.
        let mut d = ct_full(rev, 0x1 | 0x1000 | ORIGSRC, 0, a(0, A, a4([255; 4])), p0, 0);
        if rev == 1 {
            d[150] = 1 << 7;
        } else {
            d[150..152].copy_from_slice(&(1u16 << 7).to_ne_bytes());
        }
        let t = one(Family::Ipv4, ANY, vec![(b"conntrack", rev, d)]).unwrap();
        let mut e = REnv::new();
        e.ct = tracked;
        e.tuples = Some(tuples);
        assert_eq!(judge_in(&t, &udp4(), &mut e), V::Hit);
        // --ctexpire MIN:MAX: the seconds left within the range, both ends
        // included, or outside it with `!`; nothing without an answer.
        for (left, inv, want) in [(9, 0, V::Miss), (10, 0, V::Hit), (20, 0, V::Hit), (21, 0, V::Miss), (9, 0x80, V::Hit), (15, 0x80, V::Miss)] {
            let mut d = ct_full(rev, 0x80, inv, [none; 4], p0, 0);
            d[128..132].copy_from_slice(&10u32.to_ne_bytes());
            d[132..136].copy_from_slice(&20u32.to_ne_bytes());
            let t = one(Family::Ipv4, ANY, vec![(b"conntrack", rev, d)]).unwrap();
            let mut e = REnv::new();
            e.ct = tracked;
            e.expires = Some(left);
            assert_eq!(judge_in(&t, &udp4(), &mut e), want, "--ctexpire 10:20 with {left} s left, inv {inv:#x}");
            let mut e = REnv::new();
            e.ct = tracked;
            assert_eq!(judge_in(&t, &udp4(), &mut e), V::Miss);
        }
        // Bits the kernel does not know are ignored, as it ignores them.
        assert_eq!(run(rev, 0x4000 | ORIGSRC, 0, a(0, A, a4([255; 4])), p0, 0).0, V::Hit);
    }
    // IPv6 compares all 16 bytes under the mask.
    let s6: [u8; 16] = [0xfd, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];
    let mut m64 = [0u8; 16];
    m64[..8].fill(0xff);
    let mut other = s6;
    other[7] = 1;
    let t6 = |addr: [u8; 16]| {
        let mut x = [none; 4];
        x[0] = (addr, m64);
        one(Family::Ipv6, ANY, vec![(b"conntrack", 3, ct_full(3, ORIGSRC, 0, x, [[0; 2]; 4], 0))]).unwrap()
    };
    let mut e = REnv::new();
    e.ct = tracked;
    e.tuples = Some([CtTuple { src: u128::from_ne_bytes(s6), ..Default::default() }, CtTuple::default()]);
    let mut near = s6;
    near[15] = 0x99;
    assert_eq!(judge_in(&t6(near), &v6(17, &udph(1, 2)), &mut REnv { counted: vec![], types: vec![], ..e }), V::Hit);
    assert_eq!(judge_in(&t6(other), &v6(17, &udph(1, 2)), &mut REnv { counted: vec![], types: vec![], ..e }), V::Miss);
}

#[test]
fn get_entries_returns_the_new_extensions_data_unchanged() {
    // usersize == matchsize/targetsize for all of them: nothing is zeroed.
    let rules = [
        rl(ANY, vec![(b"mark", 1, mark_m(0x12, 0xff, 1)), (b"dscp", 0, vec![0x2e, 1])], mark_t(0xabcd, 0xffff)),
        rl(TCP, vec![(b"tcpmss", 0, range_m(1, 1460, 0)), (b"length", 0, range_m(40, 1500, 1))], connmark_t(2, 1, 2, 3, 1, (1, 4))),
    ];
    let t = table_in(Family::Ipv4, INPUT, &rules).unwrap();
    let mut out = vec![0u8; t.size() as usize];
    t.copy_entries(&mut out, |_| (0, 0)).unwrap();
    let blob = &t.blob;
    // Same bytes but counters and comefrom.
    let l = super::abi::layout(Family::Ipv4);
    for r in t.rules.iter() {
        let o = r.offset as usize;
        let n = usize::from(r.next_offset);
        assert_eq!(&out[o + l.size..o + n], &blob[o + l.size..o + n]);
    }
}

/// Fuzz seeds with the new extensions (regenerated with the others by
/// `cargo test -- --ignored write_fuzz_seeds`).
#[test]
#[ignore]
fn write_fuzz_seeds_router() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/xt_replace");
    std::fs::create_dir_all(&dir).unwrap();
    let none = ([0u8; 16], [0u8; 16]);
    let mut src = none;
    src.0[..4].copy_from_slice(&A);
    src.1[..4].copy_from_slice(&[255, 255, 0, 0]);
    let seeds: Vec<(&str, Family, Vec<Rl>)> = vec![
        (
            "marks",
            Family::Ipv4,
            vec![
                rl(ANY, vec![], connmark_t(2, 0, 0xff, 0xff, marks::CONNMARK_RESTORE, (0, 0))),
                rl(ANY, vec![(b"mark", 1, mark_m(0, 0xff, 0))], mark_t(0x2, 0xff)),
                rl(ANY, vec![], connmark_t(1, 0, 0xff, 0xff, marks::CONNMARK_SAVE, (0, 0))),
                rl(ANY, vec![(b"connmark", 1, mark_m(2, 0xff, 1))], TargetSpec::Standard(DROP)),
            ],
        ),
        (
            "header_matches",
            Family::Ipv4,
            vec![
                rl(ANY, vec![(b"dscp", 0, vec![0x2e, 0]), (b"tos", 1, vec![0xff, 0x10, 1])], TargetSpec::Standard(DROP)),
                rl(ANY, vec![(b"iprange", 1, iprange_m(Family::Ipv4, Some((a4(A), a4(B))), None, 0))], TargetSpec::Standard(DROP)),
                rl(TCP, vec![(b"tcpmss", 0, range_m(1000, 1460, 0)), (b"length", 0, range_m(40, 60, 1))], TargetSpec::Standard(DROP)),
                rl(ANY, vec![(b"pkttype", 0, vec![2, 0, 0, 0, 0, 0, 0, 0]), (b"mac", 0, vec![2, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0])], TargetSpec::Standard(DROP)),
                rl(ANY, vec![(b"addrtype", 1, addrtype_m(UNICAST, LOCAL, 4))], TargetSpec::Standard(ACCEPT)),
            ],
        ),
        (
            "conntrack_tuples",
            Family::Ipv4,
            vec![rl(ANY, vec![(b"conntrack", 3, ct_full(3, 0x0004 | 0x0200 | 0x1000, 0x0004, [src, none, none, none], [[0; 2], [80, 90], [0; 2], [0; 2]], 0))], TargetSpec::Standard(DROP))],
        ),
        (
            "header_matches6",
            Family::Ipv6,
            vec![
                rl(TCP6, vec![(b"tcpmss", 0, range_m(1000, 1460, 0)), (b"addrtype", 1, addrtype_m(MULTICAST, 0, 1))], mark_t(1, 1)),
                rl(ANY, vec![(b"iprange", 1, iprange_m(Family::Ipv6, None, Some(([0xfd; 16], [0xfe; 16])), 0x20))], TargetSpec::Standard(DROP)),
            ],
        ),
    ];
    for (name, family, rules) in seeds {
        table_in(family, INPUT, &rules).unwrap();
        let mut out = vec![0u8; 4096];
        let mut b = Builder::new(family, &mut out);
        let first = b.offset();
        for x in &rules {
            let ms: Vec<(&[u8], u8, &[u8])> = x.m.iter().map(|(n, v, d)| (*n, *v, &d[..])).collect();
            b.entry(&x.ip, &ms, x.t);
        }
        let def = if family == Family::Ipv4 { FILTER_IPV4 } else { FILTER_IPV6 };
        let buf = super::tests::finish_filter(b, &def, first, ACCEPT);
        let mut data = vec![if family == Family::Ipv4 { 0u8 } else { 1 }];
        data.extend_from_slice(&buf);
        std::fs::write(dir.join(name), data).unwrap();
    }
}
