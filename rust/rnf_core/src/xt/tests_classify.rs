// SPDX-License-Identifier: GPL-2.0
//! The classifier must be invisible: same verdicts and same counted rules as
//! the plain linear walk, on random tables and packets; and it must skip.
//! Plus the micro-benchmark (`cargo test --release -- --ignored --nocapture bench`).

use super::build::{Builder, IpSpec, TargetSpec};
use super::tests::{finish_filter, replace_buf};
use super::tests_match::{limit_m, mp_m, tcp_m, tcph, udph, v4, v6, TEnv};
use super::*;
use std::vec;
use std::vec::Vec;

const ACCEPT: i32 = -NF_ACCEPT - 1;
const DROP: i32 = -NF_DROP - 1;

type T = Table<Vec<u8>, Vec<Rule>, Vec<Match>>;

/// A table with its classifier; `on` picks the classified or the linear walk.
pub(super) struct Ct {
    pub t: T,
    pub cls: Classifier<Vec<u64>>,
    on: bool,
}

impl Ct {
    pub fn new(t: T) -> Self {
        let cls = super::tests::classifier_of(&t);
        Ct { t, cls, on: true }
    }
    fn set_classifier(&mut self, on: bool) {
        self.on = on;
    }
    fn evaluate<E: Env>(&self, p: &Packet<'_>, env: &mut E) -> Action {
        if self.on {
            self.t.evaluate_classified(&self.cls, p, env)
        } else {
            self.t.evaluate(p, env)
        }
    }
    /// The first candidate from rule `i` for packet `p` (INPUT, no devices).
    fn next(&self, p: &[u8], i: usize) -> usize {
        let pk = Packet { hook: NF_INET_LOCAL_IN, in_dev: &[0; 16], out_dev: &[0; 16], len: p.len() as u32, headers: p };
        let f = super::eval::Facts::new(self.t.family, &pk).unwrap();
        self.cls.lookup(&f).next(i)
    }
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn udp_data(lo: u16, hi: u16, inv: u8) -> Vec<u8> {
    let mut d = tcp_m([0, 65535], [lo, hi], 0, 0, 0, 0);
    d.truncate(8);
    d.extend_from_slice(&[inv, 0]);
    d
}

/// A random rule: protocol key, port key, ranges, inversions, other tests.
fn random_rule(rng: &mut Rng, family: Family, ports: &[u16]) -> (IpSpec, Vec<(&'static [u8], u8, Vec<u8>)>) {
    // IPv6: now and then `-p` without IP6T_F_PROTO, which the kernel accepts
    // and which makes the protocol test (and only it) a no-op.
    let f_proto = if family == Family::Ipv6 && rng.below(6) != 0 { 0x01 } else { 0 };
    let port = ports[rng.below(ports.len() as u64) as usize];
    let mut ip = IpSpec::default();
    let mut m: Vec<(&'static [u8], u8, Vec<u8>)> = vec![];
    let port2 = ports[rng.below(ports.len() as u64) as usize];
    let (lo, hi) = (port.min(port2), port.max(port2));
    match rng.below(16) {
        0 => {}
        1 => {
            ip.proto = if family == Family::Ipv4 { 1 } else { 58 };
            ip.flags = f_proto;
        }
        2 => {
            ip.proto = 6;
            ip.flags = f_proto;
            ip.invflags = 0x40;
        }
        3 => {
            ip.proto = 6;
            ip.flags = f_proto;
            m.push((b"tcp", 0, tcp_m([0, 65535], [port, port + rng.below(3) as u16], 0, 0, 0, 0)));
        }
        4 => {
            ip.proto = 6;
            ip.flags = f_proto;
            let inv = if rng.below(4) == 0 { 0x02 } else { 0 };
            m.push((b"tcp", 0, tcp_m([0, 65535], [port, port], 0, 0x17 * rng.below(2) as u8, 0x02, inv)));
        }
        5 | 6 => {
            ip.proto = 6;
            ip.flags = f_proto;
            m.push((b"tcp", 0, tcp_m([0, 65535], [port, port], 0, 0, 0, 0)));
        }
        7 | 8 => {
            ip.proto = 17;
            ip.flags = f_proto;
            let inv = if rng.below(5) == 0 { 0x02 } else { 0 };
            m.push((b"udp", 0, udp_data(port, port, inv)));
        }
        9 => {
            // Source port ranges, sometimes inverted, sometimes empty (lo > hi).
            ip.proto = 6;
            ip.flags = f_proto;
            let inv = if rng.below(4) == 0 { 0x01 } else { 0 };
            let sp = if rng.below(6) == 0 { [hi, lo] } else { [lo, hi] };
            m.push((b"tcp", 0, tcp_m(sp, [0, 65535], 0, 0, 0, inv)));
        }
        10 | 11 => {
            // multiport: source, destination or either; ports and ranges; inverted.
            ip.proto = if rng.below(2) == 0 { 6 } else { 17 };
            ip.flags = f_proto;
            let flags = rng.below(3) as u8;
            if rng.below(2) == 0 {
                m.push((b"multiport", 0, mp_m(0, flags, &[port, port2, 9999], &[], false)));
            } else {
                let invert = rng.below(5) == 0;
                let (a, b) = if rng.below(6) == 0 { (hi, lo) } else { (lo, hi) };
                m.push((b"multiport", 1, mp_m(1, flags, &[a, b, port2, 22], &[1, 0, 0, 0], invert)));
            }
        }
        12 => {
            // A limit before the port test: the port must not skip it.
            ip.proto = 17;
            ip.flags = f_proto;
            m.push((b"limit", 0, limit_m(10_000 * (1 + rng.below(4) as u32), 2)));
            m.push((b"udp", 0, udp_data(port, port, 0)));
        }
        13 => {
            // comment first: the port test still counts as the first real match.
            ip.proto = 6;
            ip.flags = f_proto;
            let mut c = vec![0u8; 256];
            c[0] = b'c';
            m.push((b"comment", 0, c));
            m.push((b"tcp", 0, tcp_m([0, 65535], [lo, hi], 0, 0, 0, 0)));
        }
        _ => {
            ip.proto = 17;
            ip.flags = f_proto;
        }
    }
    let alen = if family == Family::Ipv4 { 4 } else { 16 };
    match rng.below(10) {
        0 => {
            // A source prefix that fails for half the packets.
            ip.src[0] = if family == Family::Ipv4 { 10 } else { 0xfd };
            ip.src[1] = 1;
            ip.smsk[0] = 0xff;
            ip.smsk[1] = 0xff;
        }
        8 => {
            // A mask with a hole (not a prefix): never a classified range.
            ip.src[0] = if family == Family::Ipv4 { 10 } else { 0xfd };
            ip.smsk[0] = 0xff;
            ip.smsk[2] = 0xff;
        }
        9 => {
            // A wide prefix, or a value with bits outside its mask.
            ip.dst[0] = if family == Family::Ipv4 { 10 } else { 0xfd };
            ip.dst[1] = rng.below(3) as u8;
            ip.dmsk[0] = 0xff;
        }
        1 | 2 | 3 => {
            // Exact source host (address runs), sometimes inverted.
            let (base, second) = match family {
                Family::Ipv4 => ([10u8, 1, 0, 2].as_slice(), 1),
                Family::Ipv6 => ([0xfdu8, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2].as_slice(), 1),
            };
            ip.src[..alen].copy_from_slice(base);
            ip.src[second] = [1u8, 9, 5][rng.below(3) as usize];
            ip.smsk[..alen].fill(0xff);
            if rng.below(8) == 0 {
                ip.invflags |= 0x08;
            }
        }
        4 | 5 => {
            // Exact destination host.
            match family {
                Family::Ipv4 => ip.dst[..4].copy_from_slice(&[10, 2, 0, 2 + rng.below(2) as u8]),
                Family::Ipv6 => {
                    ip.dst.copy_from_slice(&[0xfd, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
                    ip.dst[15] += rng.below(2) as u8;
                }
            }
            ip.dmsk[..alen].fill(0xff);
            if rng.below(8) == 0 {
                ip.invflags |= 0x10;
            }
        }
        _ => {}
    }
    (ip, m)
}

/// INPUT: `n` random rules (ACCEPT, DROP, jump u, goto u, LOG-free
/// continue via jump to the next rule), policy DROP; chain u: random rules
/// then RETURN.
/// Two loads of the same blob: `limit` state lives in the table, so the
/// linear and the classified walk each get their own.
fn random_table(rng: &mut Rng, family: Family, n: usize, ports: &[u16]) -> (Ct, Ct) {
    let def = if family == Family::Ipv4 { FILTER_IPV4 } else { FILTER_IPV6 };
    let mut out = vec![0u8; 4096 + n * 600];
    let mut b = Builder::new(family, &mut out);
    let mut jumps = vec![];
    let first = b.offset();
    for _ in 0..n {
        let (mut ip, m) = random_rule(rng, family, ports);
        let ms: Vec<(&[u8], u8, &[u8])> = m.iter().map(|(a, v, d)| (*a, *v, &d[..])).collect();
        let t = match rng.below(8) {
            0 => TargetSpec::Standard(ACCEPT),
            1 | 2 | 3 => TargetSpec::Standard(DROP),
            4 | 5 => TargetSpec::Standard(0), // jump u (patched)
            6 => {
                ip.flags |= if family == Family::Ipv4 { 0x02 } else { 0x04 };
                TargetSpec::Standard(0) // goto u
            }
            _ => TargetSpec::Standard(XT_RETURN),
        };
        let is_jump = matches!(t, TargetSpec::Standard(0));
        let at = b.entry(&ip, &ms, t);
        if is_jump {
            jumps.push(at);
        }
    }
    let any = IpSpec::default();
    let pol = b.entry(&any, &[], TargetSpec::Standard(DROP));
    let fwd = b.entry(&any, &[], TargetSpec::Standard(ACCEPT));
    let o = b.entry(&any, &[], TargetSpec::Standard(ACCEPT));
    b.entry(&any, &[], TargetSpec::Error(b"u"));
    let u = b.offset();
    for _ in 0..(n / 4 + 1) {
        let (ip, m) = random_rule(rng, family, ports);
        let ms: Vec<(&[u8], u8, &[u8])> = m.iter().map(|(a, v, d)| (*a, *v, &d[..])).collect();
        let t = [ACCEPT, DROP, XT_RETURN][rng.below(3) as usize];
        b.entry(&ip, &ms, TargetSpec::Standard(t));
    }
    b.entry(&any, &[], TargetSpec::Standard(XT_RETURN));
    b.entry(&any, &[], TargetSpec::Error(b"ERROR"));
    for j in jumps {
        b.set_verdict(j, u as i32);
    }
    assert!(b.ok);
    let buf = replace_buf(&b, &def, [first, fwd, o], [pol, fwd, o]);
    let mut lin = Ct::new(super::tests::load(&def, &buf).unwrap());
    lin.set_classifier(false);
    (lin, Ct::new(super::tests::load(&def, &buf).unwrap()))
}

fn random_packet(rng: &mut Rng, family: Family, ports: &[u16]) -> Vec<u8> {
    let port = ports[rng.below(ports.len() as u64) as usize] + rng.below(2) as u16;
    let sport = [40000, 5000, ports[rng.below(ports.len() as u64) as usize]][rng.below(3) as usize];
    let src = if rng.below(2) == 0 { [10, 1, 0, 2] } else { [10, 9, 0, 2] };
    let l4 = match rng.below(6) {
        0 | 1 => (6u8, tcph(sport, port, [0x02, 0x10, 0x12][rng.below(3) as usize], &[])),
        2 | 3 => (17, udph(sport, port)),
        4 => (if family == Family::Ipv4 { 1 } else { 58 }, vec![8, 0, 0, 0, 0, 1, 0, 1]),
        _ => (47, vec![0; 8]),
    };
    let mut p = match family {
        Family::Ipv4 => {
            let frag = [0u16, 0, 0, 0, 0x0001, 0x0010, 0x2000][rng.below(7) as usize];
            v4(l4.0, src, [10, 2, 0, 2], frag, &l4.1)
        }
        Family::Ipv6 => {
            let mut p = v6(l4.0, &l4.1);
            p[8 + 1] = src[1];
            p
        }
    };
    if rng.below(8) == 0 {
        let cut = rng.below(p.len() as u64) as usize;
        p.truncate(cut.max(1));
    }
    p
}

fn run(t: &Ct, p: &[u8]) -> (Action, Vec<usize>) {
    run_at(t, p, 1000)
}

/// Evaluates `p` on INPUT at jiffies `now`: the verdict and the counted rules.
fn run_at(t: &Ct, p: &[u8], now: u64) -> (Action, Vec<usize>) {
    let mut env = TEnv::new();
    env.now = now;
    let pk = Packet { hook: NF_INET_LOCAL_IN, in_dev: &[0; 16], out_dev: &[0; 16], len: p.len() as u32, headers: p };
    let a = t.evaluate(&pk, &mut env);
    (a, env.counted)
}

#[test]
fn classifier_is_invisible_on_random_tables() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let ports = [22u16, 53, 80, 443, 8080];
    let (mut counted_many, mut dims) = (false, [0usize; 6]);
    for round in 0..160 {
        let family = if round % 2 == 0 { Family::Ipv4 } else { Family::Ipv6 };
        let n = [3usize, 10, 40, 200][(round / 2) % 4];
        let (lin, cls) = random_table(&mut rng, family, n, &ports);
        let mut scratch = vec![[0u64; 2]; Plan::scratch_len(&cls.t)];
        dims[Plan::new(&cls.t, &mut scratch).unwrap().dimensions()] += 1;
        for k in 0..300u64 {
            let p = random_packet(&mut rng, family, &ports);
            // Jiffies advance slowly: limit buckets empty and refill.
            let now = 1000 + k * 3;
            let l = run_at(&lin, &p, now);
            let c = run_at(&cls, &p, now);
            assert_eq!(c, l, "round {round} packet {k} {p:02x?}");
            counted_many |= l.1.len() > 1;
        }
    }
    assert!(counted_many);
    // Most tables use all five dimensions.
    assert!(dims[5] > 100, "dimensions used: {dims:?}");
}

/// An IPv6 rule with `-p tcp` but no IP6T_F_PROTO runs its tcp match on
/// every packet: a UDP packet shorter than a TCP header is hot-dropped
/// there, so its port must not let the classifier skip the rule (found by
/// the fuzzer).
#[test]
fn tcp_match_without_ipv6_protocol_flag_is_not_skipped() {
    let mut out = vec![0u8; 4096];
    let mut b = Builder::new(Family::Ipv6, &mut out);
    let first = b.offset();
    let tcp_no_flag = IpSpec { proto: 6, flags: 0, ..Default::default() };
    b.entry(&tcp_no_flag, &[(b"tcp", 0, &tcp_m([0, 65535], [80, 80], 0, 0, 0, 0))], TargetSpec::Standard(DROP));
    let buf = finish_filter(b, &FILTER_IPV6, first, ACCEPT);
    let mut t = Ct::new(super::tests::load(&FILTER_IPV6, &buf).unwrap());
    let udp = v6(17, &udph(1, 53));
    for on in [false, true] {
        t.set_classifier(on);
        assert_eq!(run(&t, &udp), (Action::Drop, vec![]), "classifier {on}: hot-drop in the tcp match");
    }
    assert_eq!(t.next(&udp, 0), 0);
}

/// `n` rules `-p tcp --dport 1000+i -j ACCEPT` (IPv4), policy ACCEPT.
fn port_table(n: usize) -> Ct {
    let mut out = vec![0u8; 4096 + n * 200];
    let mut b = Builder::new(Family::Ipv4, &mut out);
    let tcp = IpSpec { proto: 6, ..Default::default() };
    let first = b.offset();
    for i in 0..n {
        let port = 1000 + i as u16;
        b.entry(&tcp, &[(b"tcp", 0, &tcp_m([0, 65535], [port, port], 0, 0, 0, 0))], TargetSpec::Standard(ACCEPT));
    }
    let buf = finish_filter(b, &FILTER_IPV4, first, DROP);
    Ct::new(super::tests::load(&FILTER_IPV4, &buf).unwrap())
}

#[test]
fn port_runs_jump_straight_to_the_matching_rule() {
    let t = port_table(1000);
    let p = v4(6, [10, 1, 0, 2], [10, 2, 0, 2], 0, &tcph(40000, 1500, 0x02, &[]));
    assert_eq!(run(&t, &p), (Action::Accept, vec![500]));
    let miss = v4(6, [10, 1, 0, 2], [10, 2, 0, 2], 0, &tcph(40000, 80, 0x02, &[]));
    assert_eq!(run(&t, &miss), (Action::Drop, vec![1000]));
    let udp = v4(17, [10, 1, 0, 2], [10, 2, 0, 2], 0, &udph(1, 1500));
    assert_eq!(run(&t, &udp), (Action::Drop, vec![1000]));
    // The classifier goes straight there: protocol and port sets.
    assert_eq!((t.next(&p, 0), t.next(&miss, 0), t.next(&udp, 0)), (500, 1000, 1000));
    assert_eq!(t.next(&p, 501), 1000);
}

/// `n` rules `-s 192.168.x.y -j DROP` (IPv4), policy ACCEPT; with `udp9`,
/// `-s 10.99.x.y -p udp --dport 9 -j DROP` as tests/guest/bench.sh writes them.
fn addr_table(n: usize) -> Ct {
    addr_table_with(n, false)
}

fn addr_table_with(n: usize, udp9: bool) -> Ct {
    let mut out = vec![0u8; 4096 + n * 200];
    let mut b = Builder::new(Family::Ipv4, &mut out);
    let first = b.offset();
    for i in 0..n {
        let mut ip = IpSpec::default();
        ip.src[..4].copy_from_slice(&[192, 168, (i >> 8) as u8, i as u8]);
        ip.smsk[..4].fill(0xff);
        if udp9 {
            ip.src[..4].copy_from_slice(&[10, 99, (i / 250) as u8, (i % 250 + 1) as u8]);
            ip.proto = 17;
            b.entry(&ip, &[(b"udp", 0, &udp_data(9, 9, 0))], TargetSpec::Standard(DROP));
        } else {
            b.entry(&ip, &[], TargetSpec::Standard(DROP));
        }
    }
    let buf = finish_filter(b, &FILTER_IPV4, first, ACCEPT);
    Ct::new(super::tests::load(&FILTER_IPV4, &buf).unwrap())
}

#[test]
fn address_runs_find_the_blocked_host() {
    let t = addr_table(600);
    let from = |a: [u8; 4]| v4(17, a, [10, 2, 0, 2], 0, &udph(1, 53));
    assert_eq!(run(&t, &from([192, 168, 2, 7])), (Action::Drop, vec![519]));
    assert_eq!(run(&t, &from([192, 168, 3, 7])), (Action::Accept, vec![600]));
    assert_eq!(t.next(&from([192, 168, 2, 7]), 0), 519);
    assert_eq!(t.next(&from([192, 168, 3, 7]), 0), 600);
    // Same protocol and port everywhere: the address is the key that skips.
    let t = addr_table_with(1000, true);
    let p = v4(17, [10, 99, 3, 7], [10, 2, 0, 2], 0, &udph(1, 9));
    assert_eq!(run(&t, &p), (Action::Drop, vec![756]));
    assert_eq!(t.next(&p, 0), 756);
    let t = addr_table(5000);
    assert_eq!(t.next(&from([192, 168, 19, 7]), 0), 19 * 256 + 7);
}

/// Nanoseconds per packet for `n` non-matching rules, linear vs classifier.
#[test]
#[ignore]
fn bench_non_matching_rules() {
    use std::time::Instant;
    let p = v4(6, [10, 1, 0, 2], [10, 2, 0, 2], 0, &tcph(40000, 80, 0x02, &[]));
    let u = v4(17, [10, 1, 0, 2], [10, 2, 0, 2], 0, &udph(1, 53));
    fn pk(h: &[u8]) -> Packet<'_> {
        Packet { hook: 1, in_dev: &[0; 16], out_dev: &[0; 16], len: h.len() as u32, headers: h }
    }
    struct Quiet;
    impl Env for Quiet {
        fn count(&mut self, i: usize) {
            std::hint::black_box(i);
        }
        fn conntrack(&mut self) -> CtState {
            CtState::Invalid
        }
        fn log(&mut self, _: u8, _: &[u8]) {}
        fn jiffies(&mut self) -> u64 {
            0
        }
        fn hz(&self) -> u32 {
            250
        }
    }
    for n in [10usize, 100, 1000] {
        for (what, pkt, mut t) in [("-p tcp --dport N; tcp dport 80", &p, port_table(n)), ("-p tcp --dport N; udp dport 53", &u, port_table(n)), ("-s 192.168.x.y; udp from 10.1.0.2", &u, addr_table(n)), ("-s 10.99.x.y -p udp --dport 9; udp from 10.1.0.2 dport 53", &u, addr_table_with(n, true))] {
            let mut line = std::format!("{n:5} rules, {what}:");
            for on in [false, true] {
                t.set_classifier(on);
                let iters = 2_000_000 / n.max(10) as u32 * 10;
                let start = Instant::now();
                for _ in 0..iters {
                    std::hint::black_box(t.evaluate(&pk(std::hint::black_box(pkt)), &mut Quiet));
                }
                let ns = start.elapsed().as_nanos() as f64 / f64::from(iters);
                line += &std::format!(" {} {ns:8.1} ns", if on { "classifier" } else { "linear" });
            }
            std::println!("{line}");
        }
    }
}

/// `n` rules rotated as tests/guest/bench.sh's rules_file writes them (INPUT
/// here): `-s 10.7.0.0/24 -p udp --dport P`, `-s 10.0.0.0/8 -d 10.8.0.0/16
/// -p udp --sport 1:1023+i%1000`, `-i dum0 -p udp -m multiport --dports
/// P,P+2000,P+4000`, `-s 10.7.0.0/16 -p tcp --dport P` (P = 1000 + i, all
/// DROP), then `-s 10.7.0.2/32 -p udp --dport 9 -j ACCEPT`, policy DROP.
fn rotated_table(n: usize) -> Ct {
    let mut out = vec![0u8; 4096 + n * 300];
    let mut b = Builder::new(Family::Ipv4, &mut out);
    let first = b.offset();
    super::tests_walk::bench_rules(&mut b, n);
    let buf = finish_filter(b, &FILTER_IPV4, first, DROP);
    Ct::new(super::tests::load(&FILTER_IPV4, &buf).unwrap())
}

const DUM0: [u8; 16] = *b"dum0\0\0\0\0\0\0\0\0\0\0\0\0";

fn run_in(t: &Ct, p: &[u8], dev: &[u8; 16]) -> (Action, Vec<usize>) {
    let mut env = TEnv::new();
    let pk = Packet { hook: NF_INET_LOCAL_IN, in_dev: dev, out_dev: &[0; 16], len: p.len() as u32, headers: p };
    let a = t.evaluate(&pk, &mut env);
    (a, env.counted)
}

#[test]
fn classifier_is_invisible_on_the_bench_ruleset() {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    for n in [1usize, 2, 3, 4, 5, 10, 100, 1000] {
        let mut t = rotated_table(n);
        // The bench's packet passes every rule's address part and is accepted by the last one.
        let bench = v4(17, [10, 7, 0, 2], [10, 8, 0, 2], 0, &udph(10000, 9));
        t.set_classifier(true);
        assert_eq!(run_in(&t, &bench, &DUM0), (Action::Accept, vec![n]));
        for k in 0..300 {
            let sport = [10000u16, 1, 500, 1023, 1500, 2030][rng.below(6) as usize];
            let dport = [9u16, 1000, 1001, 1002, 1003, 3002, 5006, 1000 + rng.below(n as u64 + 2) as u16][rng.below(8) as usize];
            let src = [[10u8, 7, 0, 2], [10, 7, 1, 2], [10, 9, 0, 2], [11, 7, 0, 2]][rng.below(4) as usize];
            let dst = [[10u8, 8, 0, 2], [10, 9, 0, 2]][rng.below(2) as usize];
            let frag = [0u16, 0, 0, 0x0001, 0x2000][rng.below(5) as usize];
            let mut p = match rng.below(3) {
                0 => v4(6, src, dst, frag, &tcph(sport, dport, 0x02, &[])),
                _ => v4(17, src, dst, frag, &udph(sport, dport)),
            };
            if rng.below(8) == 0 {
                let cut = 20 + rng.below(p.len() as u64 - 20) as usize;
                p.truncate(cut);
            }
            let dev = if rng.below(4) == 0 { [0u8; 16] } else { DUM0 };
            t.set_classifier(false);
            let lin = run_in(&t, &p, &dev);
            t.set_classifier(true);
            let cls = run_in(&t, &p, &dev);
            assert_eq!(cls, lin, "n {n} packet {k} {p:02x?}");
        }
    }
    // A few exact hits: the udp --dport rule, the multiport rule, the tcp rule.
    let t = rotated_table(100);
    assert_eq!(run_in(&t, &v4(17, [10, 7, 0, 2], [10, 8, 0, 2], 0, &udph(10000, 1004)), &DUM0), (Action::Drop, vec![4]));
    assert_eq!(run_in(&t, &v4(17, [10, 7, 0, 2], [10, 9, 0, 2], 0, &udph(10000, 5006)), &DUM0), (Action::Drop, vec![6]));
    assert_eq!(run_in(&t, &v4(6, [10, 7, 1, 2], [10, 9, 0, 2], 0, &tcph(1, 1011, 0x02, &[])), &DUM0), (Action::Drop, vec![11]));
    assert_eq!(run_in(&t, &v4(17, [10, 7, 0, 2], [10, 8, 0, 2], 0, &udph(100, 9)), &DUM0), (Action::Drop, vec![1]));
}

#[test]
fn storage_sizes() {
    std::println!("Rule {} Match {}", core::mem::size_of::<Rule>(), core::mem::size_of::<Match>());
    assert!(core::mem::size_of::<Rule>() <= 256);
}
