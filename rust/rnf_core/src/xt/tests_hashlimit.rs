// SPDX-License-Identifier: GPL-2.0
//! Host tests of the `hashlimit` match (net/netfilter/xt_hashlimit.c,
//! 6.12): its constants and arithmetic against values worked out by hand
//! from the C, the layouts of its three revisions, `checkentry`'s errnos,
//! the keys of packets, and walks of a table with a fake clock.

use super::build::{IpSpec, TargetSpec};
use super::hashlimit::{self as hl, Cfg, Dst, Entry, Htable, Meta};
use super::tests_match::{r, table_of, udph, v4, v6};
use super::*;
use std::vec;
use std::vec::Vec;

const DROP: i32 = -NF_DROP - 1;

/// The match data of revision `rev` as iptables 1.8.9 fills it.
fn hl_m(rev: u8, name: &[u8], c: &Cfg) -> Vec<u8> {
    let mut d;
    if rev == 1 {
        d = vec![0u8; hl::INFO1_SIZE];
        d[..name.len()].copy_from_slice(name);
        let o = 16;
        for (i, v) in [c.mode, c.avg as u32, c.burst as u32, c.size, c.max, c.gc_interval, c.expire].iter().enumerate() {
            d[o + 4 * i..o + 4 * i + 4].copy_from_slice(&v.to_ne_bytes());
        }
        d[o + 28] = c.srcmask;
        d[o + 29] = c.dstmask;
    } else {
        d = vec![0u8; if rev == 2 { hl::INFO2_SIZE } else { hl::INFO3_SIZE }];
        d[..name.len()].copy_from_slice(name);
        let o = 256;
        d[o..o + 8].copy_from_slice(&c.avg.to_ne_bytes());
        d[o + 8..o + 16].copy_from_slice(&c.burst.to_ne_bytes());
        for (i, v) in [c.mode, c.size, c.max, c.gc_interval, c.expire].iter().enumerate() {
            d[o + 16 + 4 * i..o + 20 + 4 * i].copy_from_slice(&v.to_ne_bytes());
        }
        if rev == 2 {
            d[o + 36] = c.srcmask;
            d[o + 37] = c.dstmask;
        } else {
            d[o + 36..o + 40].copy_from_slice(&c.interval.to_ne_bytes());
            d[o + 40] = c.srcmask;
            d[o + 41] = c.dstmask;
        }
    }
    // The kernel pointer `hinfo` user space leaves at zero.
    d
}

/// fw3's `--hashlimit-upto 10/sec --hashlimit-burst 5 --hashlimit-mode
/// srcip` with iptables' defaults (expire 10 s, gc every 1 s), revision 3.
fn fw3() -> Cfg {
    Cfg { avg: 100_000, burst: 5, mode: hl::MODE_SIP, gc_interval: 1000, expire: 10_000, srcmask: 32, dstmask: 32, ..Cfg::default() }
}

#[test]
fn credits_per_jiffy_for_common_hz() {
    // MAX_CPJ_v1 = 0xFFFFFFFF / (HZ*86400): 49 at 1000 (-> 32), 198 at 250 (-> 128), 497 at 100 (-> 256).
    assert_eq!((hl::cpj_v1(1000), hl::cpj_v1(250), hl::cpj_v1(100)), (32, 128, 256));
    // MAX_CPJ = 2^64-1 / (HZ*86400): 213503982334 at 1000 (-> 2^37), 854015929338 at 250 (-> 2^39).
    assert_eq!((hl::cpj(1000), hl::cpj(250)), (1 << 37, 1 << 39));
    // MAX_CPJ_BYTES = 0xFFFFFFFF / HZ: 4294967 (-> 2^22), 17179869 (-> 2^24).
    assert_eq!((hl::cpj_bytes(1000), hl::cpj_bytes(250)), (1 << 22, 1 << 24));
}

#[test]
fn user2credits_and_rates_as_the_c_computes_them() {
    // Revision 2/3: HZ * CPJ = 137438953472000 at both 1000 and 250, / 1e6 = 137438953.
    assert_eq!(hl::user2credits(100_000, 3, 250), 100_000 * 137_438_953);
    assert_eq!(hl::user2credits(100_000, 3, 1000), 100_000 * 137_438_953);
    // Revision 1: HZ * CPJ_v1 = 32000 at 1000 and 250, / 10000 = 3.
    assert_eq!(hl::user2credits(1000, 1, 1000), 3000);
    assert_eq!(hl::user2credits(1000, 1, 250), 3000);
    // At HZ 100: 100 * 256 = 25600 / 10000 = 2.
    assert_eq!(hl::user2credits(1000, 1, 100), 2000);
    // Bytes: user * HZ * CPJ_BYTES >> 32; HZ*CPJB = 4194304000 at 250.
    assert_eq!(hl::user2credits_byte(1024, 250), 1000);
    assert_eq!(hl::user2credits_byte(1, 250), 0);
    assert_eq!(hl::user2credits_byte(2, 250), 1);
    assert_eq!(hl::user2rate(100_000), 10);
    assert_eq!(hl::user2rate(0), 0);
    assert_eq!(hl::user2rate_bytes(1024), (u64::from(u32::MAX / 1024) - 1) << 4);
    assert_eq!(hl::user2rate_bytes(0), (u64::from(u32::MAX) - 1) << 4);
    // msecs_to_jiffies rounds up.
    assert_eq!((hl::msecs_to_jiffies(10_000, 250), hl::msecs_to_jiffies(1, 250), hl::msecs_to_jiffies(1001, 100)), (2500, 1, 101));
}

#[test]
fn rateinfo_init_fills_the_bucket_and_recalc_refills_it() {
    let c = fw3();
    let mut ri = hl::RateInfo::init(&c, 3, 5000, 250);
    // credit = user2credits(avg * burst), cost = user2credits(avg), cap = credit.
    assert_eq!((ri.credit(), ri.credit_cap(), ri.cost()), (68_719_476_500_000, 68_719_476_500_000, 13_743_895_300_000));
    for _ in 0..5 {
        assert!(ri.decide(c.mode, 84, 250));
    }
    assert_eq!(ri.credit(), 0);
    assert!(!ri.decide(c.mode, 84, 250));
    // 24 jiffies give 24 * 2^39 = 13194139533312 < cost; 25 give 13743895347200 >= cost.
    ri.recalc(5024, c.mode, 3, 250);
    assert!(!ri.decide(c.mode, 84, 250));
    ri.recalc(5025, c.mode, 3, 250);
    assert_eq!(ri.credit(), 25 << 39);
    assert!(ri.decide(c.mode, 84, 250));
    assert_eq!(ri.credit(), (25u64 << 39) - 13_743_895_300_000);
    // A long idle time caps at credit_cap.
    ri.recalc(1_000_000, c.mode, 3, 250);
    assert_eq!(ri.credit(), ri.credit_cap());
    // --hashlimit-above inverts.
    assert!(!ri.decide(c.mode | hl::MODE_INVERT, 84, 250));
}

#[test]
fn bytes_mode_costs_chunks_and_refills_from_the_burst() {
    // --hashlimit-upto 1kb/s --hashlimit-burst 2 (bytes): avg 1024, cap 2 refills.
    let c = Cfg { avg: 1024, burst: 2, mode: hl::MODE_SIP | hl::MODE_BYTES, ..fw3() };
    let mut ri = hl::RateInfo::init(&c, 3, 0, 250);
    let full = 16_777_216u64 * 250;
    assert_eq!((ri.credit(), ri.credit_cap(), ri.cost()), (full, 2, 1000));
    // A 1500-byte packet: (1500 >> 4) + 1 = 94 chunks * 1000 = 94000 credits.
    assert!(ri.decide(c.mode, 1500, 250));
    assert_eq!(ri.credit(), full - 94_000);
    // Drain: once credit < cost, credit_cap refills twice, then it fails.
    let mut passed = 1u64;
    while ri.decide(c.mode, 1500, 250) {
        passed += 1;
    }
    // Three full buckets: floor(4194304000 / 94000) = 44620 each.
    assert_eq!(passed, 3 * 44_620);
    assert_eq!(ri.credit_cap(), 0);
}

#[test]
fn rate_match_meters_per_interval() {
    // --hashlimit-rate-match --hashlimit-upto 2/sec --hashlimit-rate-interval 1 --hashlimit-burst 0.
    let c = Cfg { avg: 500_000, burst: 0, mode: hl::MODE_SIP | hl::MODE_RATE_MATCH, interval: 1, ..fw3() };
    let mut ri = hl::RateInfo::init(&c, 3, 100, 250);
    // rate = 1e6 / 500000 = 2, burst = 0 + 2; the union shows interval in credit.
    assert_eq!((ri.credit(), ri.credit_cap(), ri.cost()), (1, 0, 2));
    assert!(ri.decide(c.mode, 84, 250));
    assert!(ri.decide(c.mode, 84, 250));
    assert!(!ri.decide(c.mode, 84, 250));
    // Within the interval nothing changes; after it, the window was over the rate.
    ri.recalc(349, c.mode, 3, 250);
    assert!(!ri.decide(c.mode, 84, 250));
    ri.recalc(350, c.mode, 3, 250);
    // prev_window = (4 * 250 > 250 * 2) = 1: the next interval fails.
    assert_eq!(ri.credit(), 1 | (1 << 32));
    assert!(!ri.decide(c.mode, 84, 250));
    ri.recalc(600, c.mode, 3, 250);
    // 1 packet in 250 jiffies: 1 * 250 > 250 * 2 is false.
    assert!(ri.decide(c.mode, 84, 250));
}

#[test]
fn revisions_parse_at_their_offsets() {
    let c = Cfg { avg: 123, burst: 7, mode: 0x0f, size: 64, max: 100, gc_interval: 500, expire: 3000, interval: 0, srcmask: 24, dstmask: 16 };
    for rev in [1u8, 2, 3] {
        let want = Cfg { interval: if rev == 3 { 9 } else { 0 }, ..c };
        let d = hl_m(rev, b"x", &want);
        assert_eq!(hl::parse_cfg(rev, &d), Some(want), "rev {rev}");
        assert_eq!(hl::name_of(rev, &d).unwrap(), b"x");
    }
    assert_eq!(hl::parse_cfg(3, &[0u8; 100]), None);
    assert_eq!(hl::parse_cfg(0, &[0u8; 400]), None);
}

#[test]
fn revisions_sizes_and_the_unknown_revision() {
    assert_eq!(find_revision(Family::Ipv4, false, b"hashlimit", 3), Ok(3));
    assert_eq!(find_revision(Family::Ipv6, false, b"hashlimit", 1), Ok(3));
    assert_eq!(find_revision(Family::Ipv4, false, b"hashlimit", 0).unwrap_err().errno, errno::EPROTONOSUPPORT);
    let c = fw3();
    for (rev, ok) in [(1u8, true), (2, true), (3, true)] {
        let t = table_of(Family::Ipv4, &[r(IpSpec::ANY, vec![(b"hashlimit", rev, hl_m(rev, b"fw3", &Cfg { avg: if rev == 1 { 1000 } else { c.avg }, ..c }))], TargetSpec::Standard(DROP))]);
        assert_eq!(t.is_ok(), ok, "rev {rev}");
        let t = t.unwrap();
        let uses: Vec<_> = t.hashlimits().collect();
        assert_eq!(uses.len(), 1);
        assert_eq!((uses[0].slot, uses[0].rev, uses[0].name), (0, rev, &b"fw3"[..]));
    }
    // Revision 0 (xt_hashlimit_info) is gone: ENOENT like any per-family extension.
    let e = table_of(Family::Ipv4, &[r(IpSpec::ANY, vec![(b"hashlimit", 0, vec![0u8; 64])], TargetSpec::Standard(DROP))]);
    assert_eq!(e.err().map(|e| e.errno), Some(errno::ENOENT));
    // Wrong size: EINVAL.
    let e = table_of(Family::Ipv4, &[r(IpSpec::ANY, vec![(b"hashlimit", 3, vec![0u8; 304])], TargetSpec::Standard(DROP))]);
    assert_eq!(e.err().map(|e| e.errno), Some(errno::EINVAL));
}

fn check(rev: u8, family: Family, name: &[u8], c: &Cfg, hz: u32) -> i32 {
    let t = table_of(family, &[r(IpSpec::ANY, vec![(b"hashlimit", rev, hl_m(rev, name, c))], TargetSpec::Standard(DROP))]);
    match t {
        Err(e) => e.errno,
        Ok(t) => {
            let u = t.hashlimits().next().unwrap();
            hl::check_rate(&u.cfg, u.rev, hz).err().map_or(0, |e| e.errno)
        }
    }
}

#[test]
fn checkentry_errnos_in_the_kernels_order() {
    let c = fw3();
    let v4f = Family::Ipv4;
    assert_eq!(check(3, v4f, b"ok", &c, 250), 0);
    // xt_check_proc_name.
    assert_eq!(check(3, v4f, b"", &c, 250), errno::EINVAL);
    assert_eq!(check(3, v4f, b".", &c, 250), errno::EINVAL);
    assert_eq!(check(3, v4f, b"..", &c, 250), errno::EINVAL);
    assert_eq!(check(3, v4f, b"a/b", &c, 250), errno::EINVAL);
    assert_eq!(check(1, v4f, &[b'a'; 16], &Cfg { avg: 1000, ..c }, 250), errno::ENAMETOOLONG);
    assert_eq!(check(1, v4f, &[b'a'; 15], &Cfg { avg: 1000, ..c }, 250), 0);
    assert_eq!(check(3, v4f, &[b'a'; 255], &c, 250), errno::ENAMETOOLONG);
    // gc interval / expire.
    assert_eq!(check(3, v4f, b"x", &Cfg { gc_interval: 0, ..c }, 250), errno::EINVAL);
    assert_eq!(check(3, v4f, b"x", &Cfg { expire: 0, ..c }, 250), errno::EINVAL);
    // Masks per family.
    assert_eq!(check(3, v4f, b"x", &Cfg { srcmask: 33, ..c }, 250), errno::EINVAL);
    assert_eq!(check(3, Family::Ipv6, b"x", &Cfg { srcmask: 128, dstmask: 128, ..c }, 250), 0);
    assert_eq!(check(3, Family::Ipv6, b"x", &Cfg { dstmask: 129, ..c }, 250), errno::EINVAL);
    // Mode bits.
    assert_eq!(check(3, v4f, b"x", &Cfg { mode: 0x80, ..c }, 250), errno::EINVAL);
    // Rate match: revision 3 only, rate 1..=u32::MAX, an interval.
    let rm = Cfg { mode: hl::MODE_RATE_MATCH, interval: 1, ..c };
    assert_eq!(check(3, v4f, b"x", &rm, 250), 0);
    assert_eq!(check(2, v4f, b"x", &rm, 250), errno::EINVAL);
    assert_eq!(check(3, v4f, b"x", &Cfg { avg: 0, ..rm }, 250), errno::ERANGE);
    assert_eq!(check(3, v4f, b"x", &Cfg { avg: 1 << 32, ..rm }, 250), errno::ERANGE);
    assert_eq!(check(3, v4f, b"x", &Cfg { interval: 0, ..rm }, 250), errno::EINVAL);
    // Bytes: user2credits_byte(avg) == 0 is EINVAL.
    assert_eq!(check(3, v4f, b"x", &Cfg { mode: hl::MODE_BYTES, avg: 1, ..c }, 250), errno::EINVAL);
    assert_eq!(check(3, v4f, b"x", &Cfg { mode: hl::MODE_BYTES, avg: 2, ..c }, 250), 0);
    // Burst 0, and 1/day with burst 10000: avg * burst * 137438953 wraps below avg's credits.
    assert_eq!(check(3, v4f, b"x", &Cfg { burst: 0, ..c }, 250), errno::ERANGE);
    assert_eq!(check(3, v4f, b"x", &Cfg { avg: 86_400_000_000, burst: 10_000, ..c }, 250), errno::ERANGE);
    assert_eq!(check(3, v4f, b"x", &Cfg { avg: 86_400_000_000, burst: 5000, ..c }, 250), 0);
    // size and max above 2^20 are cut, not refused.
    let mut big = Cfg { size: 5_000_000, max: 5_000_000, ..c };
    hl::check_cfg(&mut big, 3, v4f).unwrap();
    assert_eq!((big.size, big.max), (hl::MAX_SIZE, hl::MAX_SIZE));
}

#[test]
fn htable_create_resolves_size_and_max() {
    let c = fw3();
    // 1 GiB guest minus reserved pages: 250000 pages of 4 KiB -> 7812 buckets.
    let m = Meta::new(&c, 3, Family::Ipv4, 0, 250, 250_000, 4096);
    assert_eq!((m.cfg.size, m.cfg.max, m.next_gc), (7812, 62_496, 250));
    let m = Meta::new(&c, 3, Family::Ipv4, 0, 250, 4 << 20, 4096);
    assert_eq!((m.cfg.size, m.cfg.max), (8192, 65_536));
    let m = Meta::new(&c, 3, Family::Ipv4, 0, 250, 100, 4096);
    assert_eq!(m.cfg.size, 16);
    let m = Meta::new(&Cfg { size: 100, max: 10, ..c }, 3, Family::Ipv4, 0, 250, 0, 4096);
    assert_eq!((m.cfg.size, m.cfg.max), (100, 100));
}

/// A named table over a vector (the host's stand-in for rnf_tables').
struct VecTable {
    meta: Meta,
    ents: Vec<Entry>,
    room: usize,
}

impl Htable for VecTable {
    fn meta(&mut self) -> &mut Meta {
        &mut self.meta
    }
    fn count(&self) -> u32 {
        self.ents.len() as u32
    }
    fn find(&mut self, dst: &Dst) -> Option<&mut Entry> {
        self.ents.iter_mut().find(|e| e.dst == *dst)
    }
    fn insert(&mut self, e: Entry) -> Option<&mut Entry> {
        if self.ents.len() >= self.room {
            return None;
        }
        self.ents.push(e);
        self.ents.last_mut()
    }
    fn remove_expired(&mut self, at: u64) {
        self.ents.retain(|e| !hl::expired(e, at));
    }
}

/// A walk environment with a clock and the named tables by slot.
struct HEnv {
    now: u64,
    tables: Vec<VecTable>,
    counted: Vec<usize>,
    warned: Vec<Vec<u8>>,
}

impl Env for HEnv {
    fn count(&mut self, i: usize) {
        self.counted.push(i);
    }
    fn conntrack(&mut self) -> CtState {
        CtState::Invalid
    }
    fn log(&mut self, _: u8, _: &[u8]) {}
    fn jiffies(&mut self) -> u64 {
        self.now
    }
    fn hz(&self) -> u32 {
        250
    }
    fn warn(&mut self, line: &[u8]) {
        self.warned.push(line.to_vec());
    }
    fn hashlimit<R>(&mut self, slot: u32, run: impl FnOnce(&mut dyn Htable) -> R) -> Option<R> {
        self.tables.get_mut(slot as usize).map(|t| run(t))
    }
}

type T = Table<Vec<u8>, Vec<Rule>, Vec<Match>>;

/// The environment for `t`: one table per slot, created as rnf_tables
/// creates them (the first use of a name wins), at time `now`.
fn env_for(t: &T, now: u64, room: usize) -> HEnv {
    let mut tables: Vec<VecTable> = Vec::new();
    for u in t.hashlimits() {
        hl::check_rate(&u.cfg, u.rev, 250).unwrap();
        tables.push(VecTable { meta: Meta::new(&u.cfg, u.rev, t.family(), now, 250, 250_000, 4096), ents: vec![], room });
    }
    HEnv { now, tables, counted: vec![], warned: vec![] }
}

fn ping4(src: [u8; 4]) -> Vec<u8> {
    v4(1, src, [10, 9, 0, 1], 0, &[8, 0, 0, 0, 0, 1, 0, 1])
}

fn walk(t: &T, env: &mut HEnv, h: &[u8]) -> Action {
    env.counted.clear();
    let p = Packet { hook: NF_INET_LOCAL_IN, in_dev: &[0; 16], out_dev: &[0; 16], len: h.len() as u32, headers: h };
    t.evaluate(&p, env)
}

#[test]
fn upto_one_per_minute_burst_three_passes_three_then_one_a_minute() {
    // -m hashlimit --hashlimit-upto 1/min --hashlimit-burst 3 --hashlimit-mode srcip -j ACCEPT; -j DROP.
    // Entries live 2 minutes here (the default 10 s would let the entry
    // expire and come back with a full bucket).
    let c = Cfg { avg: 60_000_000, burst: 3, expire: 120_000, ..fw3() };
    let t = table_of(
        Family::Ipv4,
        &[
            r(IpSpec::ANY, vec![(b"hashlimit", 3, hl_m(3, b"slow", &c))], TargetSpec::Standard(-NF_ACCEPT - 1)),
            r(IpSpec::ANY, vec![], TargetSpec::Standard(DROP)),
        ],
    )
    .unwrap();
    let mut env = env_for(&t, 10_000, 1000);
    let a = ping4([10, 1, 0, 2]);
    let mut verdicts = Vec::new();
    for _ in 0..6 {
        verdicts.push(walk(&t, &mut env, &a));
        env.now += 25; // 10 pings a second
    }
    assert_eq!(verdicts, [Action::Accept, Action::Accept, Action::Accept, Action::Drop, Action::Drop, Action::Drop]);
    // Another source has its own bucket.
    assert_eq!(walk(&t, &mut env, &ping4([10, 1, 0, 3])), Action::Accept);
    assert_eq!(env.tables[0].ents.len(), 2);
    // cost = 60e6 * 137438953 = 15000 * 2^39 - 28320000: the credit left
    // at 10125 (125 jiffies' worth) and 14874 more jiffies do not cover
    // it, 14875 do.
    env.now = 10_000 + 14_999;
    assert_eq!(walk(&t, &mut env, &a), Action::Drop);
    env.now = 10_000 + 15_000;
    assert_eq!(walk(&t, &mut env, &a), Action::Accept);
    // The listing line, as dl_seq_print writes it.
    let m = env.tables[0].meta;
    let e = env.tables[0].ents.iter_mut().find(|e| e.dst.src[..4] == [10, 1, 0, 2]).unwrap();
    let line = hl::proc_line(e, &m, env.now + 250, 250);
    let cost = 60_000_000u64 * 137_438_953;
    let credit = ((15_000u64 << 39) - cost) + (250u64 << 39);
    let want = std::format!("119 10.1.0.2:0->0.0.0.0:0 {credit} {} {cost}\n", 3 * cost);
    assert_eq!(std::str::from_utf8(line.as_bytes()).unwrap(), want);
}

#[test]
fn entries_expire_at_the_gc_ticks_and_max_hot_drops() {
    // expire 2 s (500 jiffies), gc every 1 s (250 jiffies), max 2 entries.
    let c = Cfg { expire: 2000, gc_interval: 1000, max: 2, size: 16, ..fw3() };
    let t = table_of(Family::Ipv4, &[r(IpSpec::ANY, vec![(b"hashlimit", 3, hl_m(3, b"gc", &c))], TargetSpec::Standard(-NF_ACCEPT - 1))]).unwrap();
    let mut env = env_for(&t, 0, 1000);
    assert_eq!(env.tables[0].meta.cfg.max, 16, "max below size becomes size");
    env.tables[0].meta.cfg.max = 2; // a table as if created with size 2
    assert_eq!(walk(&t, &mut env, &ping4([10, 0, 0, 1])), Action::Accept); // t=0, expires 500
    env.now = 100;
    assert_eq!(walk(&t, &mut env, &ping4([10, 0, 0, 2])), Action::Accept); // expires 600
    env.now = 200;
    // Full: the kernel hot-drops (no rule counted) and logs.
    assert_eq!(walk(&t, &mut env, &ping4([10, 0, 0, 3])), Action::Drop);
    assert!(env.counted.is_empty());
    assert_eq!(env.warned, [b"max count of 2 reached".to_vec()]);
    // GC ticks at 250, 500, 750: at 500 the first entry (expires 500) goes.
    env.now = 499;
    assert_eq!(walk(&t, &mut env, &ping4([10, 0, 0, 3])), Action::Drop);
    env.now = 501;
    assert_eq!(walk(&t, &mut env, &ping4([10, 0, 0, 3])), Action::Accept);
    // At 749 the second one (expires 600) is still there: no tick since 500.
    env.now = 749;
    assert_eq!(env.tables[0].ents.len(), 2);
    assert_eq!(walk(&t, &mut env, &ping4([10, 0, 0, 4])), Action::Drop);
    // Several ticks passed at once: the state as of the last one (1500).
    env.now = 1600;
    hl::gc(&mut env.tables[0], env.now, 250);
    assert!(env.tables[0].ents.is_empty());
    assert_eq!(env.tables[0].meta.next_gc, 1750);
}

#[test]
fn keys_follow_the_tables_mode_and_masks() {
    let c = Cfg { mode: hl::MODE_SIP | hl::MODE_DIP | hl::MODE_SPT | hl::MODE_DPT, srcmask: 24, dstmask: 20, ..fw3() };
    let t = table_of(Family::Ipv4, &[r(IpSpec::ANY, vec![(b"hashlimit", 3, hl_m(3, b"k", &c))], TargetSpec::Standard(-NF_ACCEPT - 1))]).unwrap();
    let mut env = env_for(&t, 0, 10);
    let h = v4(17, [192, 168, 7, 9], [172, 16, 31, 200], 0, &udph(1234, 53));
    walk(&t, &mut env, &h);
    let d = env.tables[0].ents[0].dst;
    assert_eq!((&d.src[..4], &d.dst[..4], d.src_port, d.dst_port), (&[192, 168, 7, 0][..], &[172, 16, 16, 0][..], 1234, 53));
    // A protocol without ports keys on port 0; a truncated UDP header hot-drops.
    walk(&t, &mut env, &ping4([10, 0, 0, 1]));
    assert_eq!(env.tables[0].ents[1].dst.src_port, 0);
    let short = v4(17, [10, 0, 0, 1], [10, 0, 0, 2], 0, &[0, 1]);
    assert_eq!(walk(&t, &mut env, &short), Action::Drop);
    assert!(env.counted.is_empty());

    // IPv6: /64 source, ports through a hop-by-hop header; a later fragment has no ports.
    let c6 = Cfg { mode: hl::MODE_SIP | hl::MODE_DPT, srcmask: 64, ..fw3() };
    let t6 = table_of(Family::Ipv6, &[r(IpSpec::ANY, vec![(b"hashlimit", 2, hl_m(2, b"k6", &c6))], TargetSpec::Standard(-NF_ACCEPT - 1))]).unwrap();
    let mut env6 = env_for(&t6, 0, 10);
    let mut rest = vec![17, 0, 0, 0, 0, 0, 0, 0];
    rest.extend_from_slice(&udph(5000, 443));
    walk(&t6, &mut env6, &v6(0, &rest));
    let d = env6.tables[0].ents[0].dst;
    assert_eq!((&d.src[..8], &d.src[8..], d.dst_port, d.src_port), (&[0xfd, 1, 0, 0, 0, 0, 0, 0][..], &[0u8; 8][..], 443, 0));
    let frag = [17u8, 0, 0, 8, 0, 0, 0, 1, 0xaa, 0xbb, 0xcc, 0xdd];
    walk(&t6, &mut env6, &v6(44, &frag));
    assert_eq!(env6.tables[0].ents.len(), 2, "a later fragment keys on port 0");
    assert_eq!(env6.tables[0].ents[1].dst.dst_port, 0);
    // NEXTHDR_NONE with a port mode hot-drops.
    assert_eq!(walk(&t6, &mut env6, &v6(59, &[])), Action::Drop);
    assert!(env6.counted.is_empty());
    let mut e = env6.tables[0].ents[0];
    let line = hl::proc_line(&mut e, &env6.tables[0].meta, 0, 250);
    let s = std::string::String::from_utf8(line.as_bytes().to_vec()).unwrap();
    assert!(s.starts_with("10 fd01:0000:0000:0000:0000:0000:0000:0000:0->0000:0000:0000:0000:0000:0000:0000:0000:443 "), "{s}");
}

#[test]
fn two_rules_one_name_share_the_first_rules_table() {
    // Both rules use "shared"; rnf_tables gives both slots one table, made
    // from the first rule's configuration. Here: slot 1 reuses slot 0.
    let c = Cfg { avg: 60_000_000, burst: 2, ..fw3() };
    let c2 = Cfg { avg: 1000, burst: 50, ..fw3() };
    let t = table_of(
        Family::Ipv4,
        &[
            r(IpSpec::ANY, vec![(b"hashlimit", 3, hl_m(3, b"shared", &c))], TargetSpec::Standard(-NF_ACCEPT - 1)),
            r(IpSpec::ANY, vec![(b"hashlimit", 3, hl_m(3, b"shared", &c2))], TargetSpec::Standard(-NF_ACCEPT - 1)),
        ],
    )
    .unwrap();
    let uses: Vec<_> = t.hashlimits().collect();
    assert_eq!(uses.iter().map(|u| (u.slot, u.name)).collect::<Vec<_>>(), [(0, &b"shared"[..]), (1, &b"shared"[..])]);
    let mut env = env_for(&t, 0, 10);
    env.tables.truncate(1);
    // Both slots answer with the one table, as rnf_tables does.
    struct Shared(HEnv);
    impl Env for Shared {
        fn count(&mut self, i: usize) {
            self.0.count(i)
        }
        fn conntrack(&mut self) -> CtState {
            CtState::Invalid
        }
        fn log(&mut self, _: u8, _: &[u8]) {}
        fn jiffies(&mut self) -> u64 {
            self.0.now
        }
        fn hz(&self) -> u32 {
            250
        }
        fn hashlimit<R>(&mut self, _slot: u32, run: impl FnOnce(&mut dyn Htable) -> R) -> Option<R> {
            self.0.tables.get_mut(0).map(|t| run(t))
        }
    }
    let mut s = Shared(env);
    let h = ping4([10, 0, 0, 1]);
    let p = Packet { hook: NF_INET_LOCAL_IN, in_dev: &[0; 16], out_dev: &[0; 16], len: h.len() as u32, headers: &h };
    // The entry's bucket is the first rule's (burst 2); rule 2 draws from
    // the same credit at the entry's cost, so after 2 packets both fail.
    assert_eq!(t.evaluate(&p, &mut s), Action::Accept);
    assert_eq!(t.evaluate(&p, &mut s), Action::Accept);
    s.0.counted.clear();
    assert_eq!(t.evaluate(&p, &mut s), Action::Accept);
    assert_eq!(s.0.counted, [2], "the policy, after both rules missed");
}
