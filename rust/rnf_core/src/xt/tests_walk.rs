// SPDX-License-Identifier: GPL-2.0
//! The rule walk on `make bench`'s ruleset (issue 12): the table
//! tests/guest/bench.sh's `rules_file N` restores, built through the
//! `SET_REPLACE` blob path, its packet's verdict and counted rule, and the
//! host micro-benchmark of the per-packet walk
//! (`cargo test --release -- --ignored --nocapture walk_bench`).

use super::build::{Builder, IpSpec, TargetSpec};
use super::tests::{classifier_of, load, replace_buf};
use super::tests_match::{ct_m, mp_m, tcp_m, udp_m, udph, v4, TEnv};
use super::*;
use std::vec;
use std::vec::Vec;

const ACCEPT: i32 = -NF_ACCEPT - 1;
const DROP: i32 = -NF_DROP - 1;

type T = Table<Vec<u8>, Vec<Rule>, Vec<Match>>;

const DUM0: [u8; 16] = *b"dum0\0\0\0\0\0\0\0\0\0\0\0\0";
const DUM1: [u8; 16] = *b"dum1\0\0\0\0\0\0\0\0\0\0\0\0";

/// An IPv4 prefix as an `ipt_ip` address and mask.
fn prefix(a: [u8; 4], len: u32) -> ([u8; 16], [u8; 16]) {
    let (mut addr, mut mask) = ([0u8; 16], [0u8; 16]);
    addr[..4].copy_from_slice(&a);
    mask[..4].copy_from_slice(&(u32::MAX.checked_shl(32 - len).unwrap_or(0)).to_be_bytes());
    (addr, mask)
}

/// Appends the rules of `rules_file n` (tests/guest/bench.sh) to `b`: for
/// i in 0..n, in turn `-s 10.7.0.0/24 -p udp -m udp --dport P`,
/// `-s 10.0.0.0/8 -d 10.8.0.0/16 -p udp -m udp --sport 1:1023+i%1000`,
/// `-i dum0 -p udp -m multiport --dports P,P+2000,P+4000` (revision 1),
/// `-s 10.7.0.0/16 -p tcp -m tcp --dport P` (P = 1000 + i, all `-j DROP`);
/// then `-s 10.7.0.2/32 -p udp -m udp --dport 9 -j ACCEPT`, the rule the
/// bench's packet takes.
pub(super) fn bench_rules(b: &mut Builder<'_>, n: usize) {
    for i in 0..n {
        let p = 1000 + i as u16;
        let mut ip = IpSpec::default();
        match i % 4 {
            0 => {
                (ip.src, ip.smsk) = prefix([10, 7, 0, 0], 24);
                ip.proto = 17;
                b.entry(&ip, &[(b"udp", 0, &udp_m([0, 65535], [p, p], 0))], TargetSpec::Standard(DROP));
            }
            1 => {
                (ip.src, ip.smsk) = prefix([10, 0, 0, 0], 8);
                (ip.dst, ip.dmsk) = prefix([10, 8, 0, 0], 16);
                ip.proto = 17;
                let hi = 1023 + (i % 1000) as u16;
                b.entry(&ip, &[(b"udp", 0, &udp_m([1, hi], [0, 65535], 0))], TargetSpec::Standard(DROP));
            }
            2 => {
                ip.iniface[..4].copy_from_slice(b"dum0");
                ip.iniface_mask[..5].fill(0xff);
                ip.proto = 17;
                b.entry(&ip, &[(b"multiport", 1, &mp_m(1, 1, &[p, p + 2000, p + 4000], &[], false))], TargetSpec::Standard(DROP));
            }
            _ => {
                (ip.src, ip.smsk) = prefix([10, 7, 0, 0], 16);
                ip.proto = 6;
                b.entry(&ip, &[(b"tcp", 0, &tcp_m([0, 65535], [p, p], 0, 0, 0, 0))], TargetSpec::Standard(DROP));
            }
        }
    }
    let mut ip = IpSpec::default();
    (ip.src, ip.smsk) = prefix([10, 7, 0, 2], 32);
    ip.proto = 17;
    b.entry(&ip, &[(b"udp", 0, &udp_m([0, 65535], [9, 9], 0))], TargetSpec::Standard(ACCEPT));
}

/// The filter table of `rules_file n` (tests/guest/bench.sh), as
/// `iptables-legacy-restore` sends it: FORWARD holds [`bench_rules`], then
/// `-m state --state INVALID -j DROP` (sent as `conntrack` revision 1, as
/// iptables 1.8 does); every policy ACCEPT.
pub(super) fn bench_table(n: usize) -> T {
    let mut out = vec![0u8; 4096 + n * 300];
    let mut b = Builder::new(Family::Ipv4, &mut out);
    let any = IpSpec::default();
    let input = b.offset();
    let in_pol = b.entry(&any, &[], TargetSpec::Standard(ACCEPT));
    let fwd = b.offset();
    bench_rules(&mut b, n);
    // XT_CONNTRACK_STATE, state mask XT_CONNTRACK_STATE_INVALID.
    b.entry(&any, &[(b"conntrack", 1, &ct_m(1, 0x0001, 0, 0x0001, 0, 0))], TargetSpec::Standard(DROP));
    let fwd_pol = b.entry(&any, &[], TargetSpec::Standard(ACCEPT));
    let output = b.entry(&any, &[], TargetSpec::Standard(ACCEPT));
    b.entry(&any, &[], TargetSpec::Error(b"ERROR"));
    assert!(b.ok);
    load(&FILTER_IPV4, &replace_buf(&b, &FILTER_IPV4, [input, fwd, output], [in_pol, fwd_pol, output])).unwrap()
}

/// The benchmark's packet: what pktgen sends (`pkt_size 64`: a 14-byte
/// Ethernet header, 20 bytes IPv4, 8 bytes UDP, 18 of payload, 4 of FCS),
/// UDP 10.7.0.2:`sport` -> 10.8.0.2:`dport`.
fn bench_packet(sport: u16, dport: u16) -> Vec<u8> {
    let mut l4 = udph(sport, dport);
    l4.resize(8 + 18, 0);
    v4(17, [10, 7, 0, 2], [10, 8, 0, 2], 0, &l4)
}

fn forward<'a>(h: &'a [u8]) -> Packet<'a> {
    Packet { hook: NF_INET_FORWARD, in_dev: &DUM0, out_dev: &DUM1, len: h.len() as u32, headers: h }
}

#[test]
fn bench_ruleset_accepts_in_its_last_rule() {
    for n in [0usize, 1, 2, 3, 4, 10, 100, 1000] {
        let t = bench_table(n);
        // n rules, the ACCEPT, the state rule, and the three policies + ERROR.
        assert_eq!(t.num_entries() as usize, n + 6);
        let cls = classifier_of(&t);
        let p = bench_packet(10000, 9);
        for on in [false, true] {
            let mut env = TEnv::new();
            let a = if on { t.evaluate_classified(&cls, &forward(&p), &mut env) } else { t.evaluate(&forward(&p), &mut env) };
            assert_eq!((a, env.counted, env.ct_calls), (Action::Accept, vec![n + 1], 0), "n {n} classifier {on}");
        }
        // A packet no rule takes reaches the state rule (INVALID: dropped there).
        let miss = bench_packet(10000, 10);
        let mut env = TEnv::new();
        assert_eq!((t.evaluate(&forward(&miss), &mut env), env.counted, env.ct_calls), (Action::Drop, vec![n + 2], 1));
    }
    // Each kind of rule takes what it is written for.
    let t = bench_table(8);
    for (p, rule) in [(bench_packet(10000, 1004), 4usize), (bench_packet(100, 9), 1), (bench_packet(10000, 5006), 6)] {
        let mut env = TEnv::new();
        assert_eq!((t.evaluate(&forward(&p), &mut env), env.counted), (Action::Drop, vec![rule + 1]));
    }
}

/// INPUT jumps to user chain `a`, which jumps to `b` twice (the second
/// time with `-p udp`) and returns; `b` drops TCP and returns: the
/// return points the walk keeps (`ipt_do_table`'s `jumpstack`), reused
/// after a RETURN, and the counters in the kernel's order.
#[test]
fn nested_jumps_return_to_the_rule_after_each_jump() {
    let mut out = vec![0u8; 4096];
    let mut b = Builder::new(Family::Ipv4, &mut out);
    let any = IpSpec::default();
    let udp = IpSpec { proto: 17, ..IpSpec::default() };
    let tcp = IpSpec { proto: 6, ..IpSpec::default() };
    let input = b.entry(&any, &[], TargetSpec::Standard(0)); // 0: -j a
    let in_pol = b.entry(&any, &[], TargetSpec::Standard(ACCEPT)); // 1
    let fwd = b.entry(&any, &[], TargetSpec::Standard(ACCEPT)); // 2
    let output = b.entry(&any, &[], TargetSpec::Standard(ACCEPT)); // 3
    b.entry(&any, &[], TargetSpec::Error(b"a")); // 4
    let a0 = b.entry(&any, &[], TargetSpec::Standard(0)); // 5: -j b
    let a1 = b.entry(&udp, &[], TargetSpec::Standard(0)); // 6: -p udp -j b
    b.entry(&any, &[], TargetSpec::Standard(XT_RETURN)); // 7
    b.entry(&any, &[], TargetSpec::Error(b"b")); // 8
    let b0 = b.entry(&tcp, &[], TargetSpec::Standard(DROP)); // 9
    b.entry(&any, &[], TargetSpec::Standard(XT_RETURN)); // 10
    b.entry(&any, &[], TargetSpec::Error(b"ERROR")); // 11
    b.set_verdict(input, a0 as i32);
    b.set_verdict(a0, b0 as i32);
    b.set_verdict(a1, b0 as i32);
    assert!(b.ok);
    let t = load(&FILTER_IPV4, &replace_buf(&b, &FILTER_IPV4, [input, fwd, output], [in_pol, fwd, output])).unwrap();
    let walk = |p: &[u8]| {
        let mut env = TEnv::new();
        let pk = Packet { hook: NF_INET_LOCAL_IN, in_dev: &DUM0, out_dev: &[0; 16], len: p.len() as u32, headers: p };
        (t.evaluate(&pk, &mut env), env.counted)
    };
    let udp_p = v4(17, [10, 7, 0, 2], [10, 8, 0, 2], 0, &udph(1, 2));
    assert_eq!(walk(&udp_p), (Action::Accept, vec![0, 5, 10, 6, 10, 7, 1]));
    let tcp_p = v4(6, [10, 7, 0, 2], [10, 8, 0, 2], 0, &super::tests_match::tcph(1, 2, 0x02, &[]));
    assert_eq!(walk(&tcp_p), (Action::Drop, vec![0, 5, 9]));
    let icmp_p = v4(1, [10, 7, 0, 2], [10, 8, 0, 2], 0, &[8, 0, 0, 0, 0, 0, 0, 0]);
    assert_eq!(walk(&icmp_p), (Action::Accept, vec![0, 5, 10, 7, 1]));
}

/// An `Env` as cheap as the kernel's for this ruleset: it counts into a
/// preallocated array (the per-CPU counters) and is never asked for
/// conntrack (the state rule is never reached). It reads the packet back
/// after an edit, as rnf_tables' does, so that the walk compiled for it
/// keeps the buffer for that (a walk for an `Env` without
/// [`Env::reread`] can leave it out).
struct Counters(Vec<u64>, Vec<u8>);

impl Env for Counters {
    fn count(&mut self, i: usize) {
        if let Some(c) = self.0.get_mut(i) {
            *c += 1;
        }
    }
    fn reread(&mut self, buf: &mut [u8]) -> Option<(usize, u32)> {
        let n = buf.len().min(self.1.len());
        buf.get_mut(..n)?.copy_from_slice(self.1.get(..n)?);
        Some((n, self.1.len() as u32))
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

/// Nanoseconds per packet of the walk on `rules_file N` (N = 10, 100,
/// 1,000, the sizes around the classifier's break-even, and 0: the set-up
/// and the one matching rule), the linear walk and the classified one; `*`
/// marks the one rnf_tables uses at that size (`CLASSIFY_MIN_ENTRIES`), and
/// the classifier's size. Best of 5 runs of about 2 million
/// packets (fewer rules, more packets). The host is shared: compare
/// figures from one run of this test, not across runs. `WALK_BENCH_N=10`
/// runs one size only, `WALK_BENCH_WALK=linear` (or `classified`) one
/// walk only (for `perf record`), `WALK_BENCH_ITERS=1000` that many
/// packets a run (for `valgrind --tool=callgrind`, whose instruction
/// counts, unlike the time, another process on the host does not change).
#[test]
#[ignore]
fn walk_bench() {
    use std::time::Instant;
    let p = bench_packet(10000, 9);
    let only: Option<usize> = std::env::var("WALK_BENCH_N").ok().and_then(|v| v.parse().ok());
    let iters: Option<u32> = std::env::var("WALK_BENCH_ITERS").ok().and_then(|v| v.parse().ok());
    let walks: Vec<bool> = match std::env::var("WALK_BENCH_WALK").as_deref() {
        Ok("linear") => vec![false],
        Ok("classified") => vec![true],
        _ => vec![false, true],
    };
    for n in [0usize, 2, 4, 5, 6, 10, 20, 30, 40, 60, 100, 1000].into_iter().filter(|&n| only.is_none_or(|o| o == n)) {
        let t = bench_table(n);
        let cls = classifier_of(&t);
        let kernel_classifies = t.num_entries() >= super::CLASSIFY_MIN_ENTRIES;
        let mut line = std::format!("{n:5} rules + 1: ");
        for &on in &walks {
            let iters = iters.unwrap_or(4_000_000 / (n as u32 + 10) * 20);
            let mut env = Counters(vec![0; t.num_entries() as usize], p.clone());
            let mut best = f64::MAX;
            for _ in 0..5 {
                let start = Instant::now();
                for _ in 0..iters {
                    let pk = forward(std::hint::black_box(&p));
                    let a = if on { t.evaluate_classified(&cls, &pk, &mut env) } else { t.evaluate(&pk, &mut env) };
                    std::hint::black_box(a);
                }
                best = best.min(start.elapsed().as_nanos() as f64 / f64::from(iters));
            }
            assert_eq!(env.0[n + 1], 5 * u64::from(iters));
            let star = if on == kernel_classifies { "*" } else { " " };
            line += &std::format!(" {}{star} {best:8.1} ns", if on { "classified" } else { "linear" });
        }
        line += &std::format!("; classifier {} KiB", cls.words() * 8 / 1024);
        std::println!("{line}");
    }
}


/// `decided_at()`: a hook whose first rule is unconditional, with no
/// match and an ACCEPT or DROP verdict, is decided by that rule alone, and
/// the walk agrees (the verdict, and that one rule counted) for packets of
/// every kind; any test, match or other target in the first rule leaves
/// it to the walk.
#[test]
fn a_hook_decided_by_its_first_rule_agrees_with_the_walk() {
    let any = IpSpec::default();
    let mut out = vec![0u8; 4096];
    let mut b = Builder::new(Family::Ipv4, &mut out);
    // INPUT: -j ACCEPT, then -p udp -j DROP and the policy DROP.
    let input = b.entry(&any, &[], TargetSpec::Standard(ACCEPT));
    let udp = IpSpec { proto: 17, ..IpSpec::default() };
    b.entry(&udp, &[], TargetSpec::Standard(DROP));
    let in_pol = b.entry(&any, &[], TargetSpec::Standard(DROP));
    // FORWARD: the policy DROP alone.
    let fwd = b.entry(&any, &[], TargetSpec::Standard(DROP));
    // OUTPUT: -m state --state INVALID -j ACCEPT first, policy ACCEPT.
    let output = b.offset();
    b.entry(&any, &[(b"conntrack", 1, &ct_m(1, 0x0001, 0, 0x0001, 0, 0))], TargetSpec::Standard(ACCEPT));
    let out_pol = b.entry(&any, &[], TargetSpec::Standard(ACCEPT));
    b.entry(&any, &[], TargetSpec::Error(b"ERROR"));
    assert!(b.ok);
    let t = load(&FILTER_IPV4, &replace_buf(&b, &FILTER_IPV4, [input, fwd, output], [in_pol, fwd, out_pol])).unwrap();
    assert_eq!(t.decided_at(NF_INET_LOCAL_IN), Some((0, Action::Accept)));
    assert_eq!(t.decided_at(NF_INET_FORWARD), Some((3, Action::Drop)));
    assert_eq!(t.decided_at(NF_INET_LOCAL_OUT), None, "a match in the first rule");
    assert_eq!(t.decided_at(NF_INET_PRE_ROUTING), None, "not a hook of the table");
    assert_eq!(t.decided_at(99), None);
    let packets = [bench_packet(10000, 9), v4(6, [10, 7, 0, 2], [10, 8, 0, 2], 0, &[0u8; 20]), v4(1, [192, 0, 2, 1], [10, 8, 0, 2], 0, &[8, 0, 0, 0, 0, 1, 0, 1])];
    for hook in [NF_INET_LOCAL_IN, NF_INET_FORWARD] {
        let (i, want) = t.decided_at(hook).unwrap();
        for p in &packets {
            let mut env = TEnv::new();
            let pkt = Packet { hook, in_dev: &DUM0, out_dev: &DUM1, len: p.len() as u32, headers: p };
            assert_eq!((t.evaluate(&pkt, &mut env), env.counted), (want, vec![i]), "hook {hook}");
        }
    }
    // The bench's table: INPUT and OUTPUT hold their policies alone,
    // FORWARD starts with a rule that tests addresses.
    let bench = bench_table(10);
    assert_eq!(bench.decided_at(NF_INET_LOCAL_IN), Some((0, Action::Accept)));
    assert_eq!(bench.decided_at(NF_INET_FORWARD), None);
    assert_eq!(bench.decided_at(NF_INET_LOCAL_OUT), Some((14, Action::Accept)));
}
