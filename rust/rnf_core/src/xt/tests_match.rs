// SPDX-License-Identifier: GPL-2.0
//! Host tests per area: the ip part, the IPv6 header walk, every match, LOG
//! lines, counters and the sockopt parsers. Expected values follow the
//! kernel sources named in each test.

use super::build::{Builder, IpSpec, TargetSpec};
use super::tests::replace_buf;
use super::*;
use std::boxed::Box;
use std::string::String;
use std::vec;
use std::vec::Vec;

const ACCEPT: i32 = -NF_ACCEPT - 1;
const DROP: i32 = -NF_DROP - 1;

type T = Table<Vec<u8>, Vec<Rule>, Vec<Match>>;

/// Test environment: records counters, conntrack questions and LOG lines.
pub(super) struct TEnv {
    pub counted: Vec<usize>,
    pub ct: CtState,
    pub ct_calls: u32,
    pub logs: Vec<(u8, String)>,
    pub now: u64,
    /// The link-layer header [`Env::link_header`] hands out, and how many
    /// times the walk asked for it.
    pub mac: Vec<u8>,
    pub mac_calls: u32,
}

impl TEnv {
    pub(super) fn new() -> Self {
        Self { counted: vec![], ct: CtState::Invalid, ct_calls: 0, logs: vec![], now: 1000, mac: vec![], mac_calls: 0 }
    }
}

impl Env for TEnv {
    fn count(&mut self, i: usize) {
        self.counted.push(i)
    }
    fn conntrack(&mut self) -> CtState {
        self.ct_calls += 1;
        self.ct
    }
    fn log(&mut self, level: u8, line: &[u8]) {
        self.logs.push((level, String::from_utf8(line.to_vec()).unwrap()))
    }
    fn jiffies(&mut self) -> u64 {
        self.now
    }
    fn hz(&self) -> u32 {
        250
    }
    fn link_header<R>(&mut self, f: impl FnOnce(&[u8]) -> R) -> R {
        self.mac_calls += 1;
        f(&self.mac)
    }
}

/// One rule of a test table: ip part, matches (name, revision, data), target.
#[derive(Clone)]
pub(super) struct R {
    pub ip: IpSpec,
    pub m: Vec<(&'static [u8], u8, Vec<u8>)>,
    pub t: TargetSpec<'static>,
}

pub(super) fn r(ip: IpSpec, m: Vec<(&'static [u8], u8, Vec<u8>)>, t: TargetSpec<'static>) -> R {
    R { ip, m, t }
}

/// The SET_REPLACE buffer of a filter table: INPUT = `rules` then policy
/// ACCEPT; FORWARD and OUTPUT policy ACCEPT; the ERROR end.
pub(super) fn blob_of(family: Family, rules: &[R]) -> Vec<u8> {
    let mut out = vec![0u8; 2048 + rules.len() * 800];
    let mut b = Builder::new(family, &mut out);
    let first = b.offset();
    for x in rules {
        let ms: Vec<(&[u8], u8, &[u8])> = x.m.iter().map(|(n, v, d)| (*n, *v, &d[..])).collect();
        b.entry(&x.ip, &ms, x.t);
    }
    let def = if family == Family::Ipv4 { FILTER_IPV4 } else { FILTER_IPV6 };
    super::tests::finish_filter(b, &def, first, ACCEPT)
}

pub(super) fn table_of(family: Family, rules: &[R]) -> Result<T, Error> {
    let def = if family == Family::Ipv4 { FILTER_IPV4 } else { FILTER_IPV6 };
    super::tests::load(&def, &blob_of(family, rules))
}

/// Outcome of one packet against a one-rule table.
#[derive(Debug, PartialEq, Eq)]
enum V {
    Hit,
    Miss,
    HotDrop,
}

fn pkt<'a>(h: &'a [u8], i: &'a [u8; 16], o: &'a [u8; 16]) -> Packet<'a> {
    Packet { hook: NF_INET_LOCAL_IN, in_dev: i, out_dev: o, len: h.len() as u32, headers: h }
}

/// The outcome of a walk of a one-rule table from its verdict and counted rules.
fn outcome(a: Action, counted: &[usize]) -> V {
    match (a, counted) {
        (Action::Drop, [0]) => V::Hit,
        (Action::Accept, [1]) => V::Miss,
        (Action::Drop, []) => V::HotDrop,
        x => panic!("unexpected {x:?}"),
    }
}

fn judge_env(t: &T, p: &Packet<'_>, env: &mut TEnv) -> V {
    let a = t.evaluate(p, env);
    outcome(a, &env.counted)
}

/// The linear walk's outcome, checked against the classified walk's.
fn judge(t: &T, h: &[u8]) -> V {
    let p = pkt(h, &[0; 16], &[0; 16]);
    let (mut lin, mut env) = (TEnv::new(), TEnv::new());
    let a = t.evaluate(&p, &mut lin);
    let cls = super::tests::classifier_of(t);
    assert_eq!((a, &lin.counted), (t.evaluate_classified(&cls, &p, &mut env), &env.counted), "classified walk differs");
    outcome(a, &lin.counted)
}

/// One rule dropping what matches.
fn one(family: Family, ip: IpSpec, m: Vec<(&'static [u8], u8, Vec<u8>)>) -> Result<T, Error> {
    table_of(family, &[r(ip, m, TargetSpec::Standard(DROP))])
}

fn errno_of(x: Result<T, Error>) -> i32 {
    x.err().map_or(0, |e| e.errno)
}

// ---- packet builders (network byte order) ----

pub(super) fn v4(proto: u8, src: [u8; 4], dst: [u8; 4], frag_off: u16, l4: &[u8]) -> Vec<u8> {
    let mut p = vec![0x45, 0, 0, 0, 0, 7, 0, 0, 64, proto, 0, 0];
    p[2..4].copy_from_slice(&((20 + l4.len()) as u16).to_be_bytes());
    p[6..8].copy_from_slice(&frag_off.to_be_bytes());
    p.extend_from_slice(&src);
    p.extend_from_slice(&dst);
    p.extend_from_slice(l4);
    p
}

pub(super) fn tcph(sport: u16, dport: u16, flags: u8, opts: &[u8]) -> Vec<u8> {
    let mut t = vec![0u8; 20];
    t[0..2].copy_from_slice(&sport.to_be_bytes());
    t[2..4].copy_from_slice(&dport.to_be_bytes());
    t[4..8].copy_from_slice(&0x0102_0304u32.to_be_bytes());
    t[8..12].copy_from_slice(&0x0a0b_0c0du32.to_be_bytes());
    let doff = (20 + opts.len() + 3) / 4;
    t[12] = (doff as u8) << 4;
    t[13] = flags;
    t[14..16].copy_from_slice(&29200u16.to_be_bytes());
    t.extend_from_slice(opts);
    t.resize(doff * 4, 0);
    t
}

pub(super) fn udph(sport: u16, dport: u16) -> Vec<u8> {
    let mut u = vec![0u8; 8];
    u[0..2].copy_from_slice(&sport.to_be_bytes());
    u[2..4].copy_from_slice(&dport.to_be_bytes());
    u[4..6].copy_from_slice(&8u16.to_be_bytes());
    u
}

fn icmph(t: u8, c: u8, rest: [u8; 4]) -> Vec<u8> {
    let mut v = vec![t, c, 0, 0];
    v.extend_from_slice(&rest);
    v
}

const A: [u8; 4] = [10, 1, 0, 2];
const B: [u8; 4] = [10, 2, 0, 2];
const S6: [u8; 16] = [0xfd, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];
const D6: [u8; 16] = [0xfd, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];

pub(super) fn v6(next: u8, rest: &[u8]) -> Vec<u8> {
    let mut p = vec![0x60, 0, 0, 0, 0, 0, next, 64];
    p[4..6].copy_from_slice(&(rest.len() as u16).to_be_bytes());
    p.extend_from_slice(&S6);
    p.extend_from_slice(&D6);
    p.extend_from_slice(rest);
    p
}

fn a16(a: &[u8]) -> [u8; 16] {
    let mut o = [0u8; 16];
    o[..a.len()].copy_from_slice(a);
    o
}

fn ifname(n: &[u8]) -> [u8; 16] {
    a16(n)
}

// ---- match data (native byte order, as iptables fills them) ----

pub(super) fn tcp_m(sp: [u16; 2], dp: [u16; 2], option: u8, mask: u8, cmp: u8, inv: u8) -> Vec<u8> {
    let mut d = Vec::new();
    for p in [sp[0], sp[1], dp[0], dp[1]] {
        d.extend_from_slice(&p.to_ne_bytes());
    }
    d.extend_from_slice(&[option, mask, cmp, inv]);
    d
}

/// `xt_udp` data (host order): source and destination port ranges and
/// `invflags`.
pub(super) fn udp_m(sp: [u16; 2], dp: [u16; 2], inv: u8) -> Vec<u8> {
    let mut d = tcp_m(sp, dp, 0, 0, 0, 0);
    d.truncate(8);
    d.extend_from_slice(&[inv, 0]);
    d
}

pub(super) fn ct_m(rev: u8, flags: u16, inv: u16, state: u16, status: u16, l4proto: u16) -> Vec<u8> {
    let size = match rev {
        1 => 152,
        2 => 156,
        _ => 164,
    };
    let mut d = vec![0u8; size];
    d[136..138].copy_from_slice(&l4proto.to_ne_bytes());
    d[146..148].copy_from_slice(&flags.to_ne_bytes());
    d[148..150].copy_from_slice(&inv.to_ne_bytes());
    if rev == 1 {
        d[150] = state as u8;
        d[151] = status as u8;
    } else {
        d[150..152].copy_from_slice(&state.to_ne_bytes());
        d[152..154].copy_from_slice(&status.to_ne_bytes());
    }
    d
}

pub(super) fn mp_m(rev: u8, flags: u8, ports: &[u16], pflags: &[u8], invert: bool) -> Vec<u8> {
    let mut d = vec![0u8; if rev == 0 { 32 } else { 48 }];
    d[0] = flags;
    d[1] = ports.len() as u8;
    for (i, p) in ports.iter().enumerate() {
        d[2 + 2 * i..4 + 2 * i].copy_from_slice(&p.to_ne_bytes());
    }
    if rev == 1 {
        d[32..32 + pflags.len()].copy_from_slice(pflags);
        d[47] = invert as u8;
    }
    d
}

pub(super) fn limit_m(avg: u32, burst: u32) -> Vec<u8> {
    let mut d = vec![0u8; 40];
    d[0..4].copy_from_slice(&avg.to_ne_bytes());
    d[4..8].copy_from_slice(&burst.to_ne_bytes());
    d
}

fn log_t(level: u8, flags: u8, prefix: &[u8]) -> TargetSpec<'static> {
    let mut d = vec![level, flags];
    d.extend_from_slice(prefix);
    d.resize(32, 0);
    TargetSpec::Other(b"LOG", 0, Box::leak(d.into_boxed_slice()))
}

const TCP: IpSpec = IpSpec { proto: 6, ..IpSpec::ANY };
const ANY: IpSpec = IpSpec::ANY;
const UDP: IpSpec = IpSpec { proto: 17, ..TCP };

// ================= ipt_ip =================

#[test]
fn ipv4_addresses_masks_and_inversion() {
    let syn = v4(6, A, B, 0x4000, &tcph(40000, 80, 0x02, &[]));
    let net = |a: [u8; 4], m: [u8; 4]| (a16(&a), a16(&m));
    for (src, dst, inv, want) in [
        (net([10, 1, 0, 0], [255, 255, 0, 0]), net([0; 4], [0; 4]), 0u8, V::Hit),
        (net([10, 3, 0, 0], [255, 255, 0, 0]), net([0; 4], [0; 4]), 0, V::Miss),
        (net([10, 3, 0, 0], [255, 255, 0, 0]), net([0; 4], [0; 4]), 0x08, V::Hit),
        (net([10, 1, 0, 2], [255; 4]), net([0; 4], [0; 4]), 0x08, V::Miss),
        (net([0; 4], [0; 4]), net([10, 2, 0, 2], [255; 4]), 0, V::Hit),
        (net([0; 4], [0; 4]), net([10, 2, 0, 3], [255; 4]), 0, V::Miss),
        (net([0; 4], [0; 4]), net([10, 2, 0, 3], [255; 4]), 0x10, V::Hit),
        (net([10, 0, 0, 0], [255, 0, 0, 0]), net([10, 2, 0, 0], [255, 255, 0, 0]), 0, V::Hit),
        (net([10, 0, 0, 0], [255, 0, 0, 0]), net([10, 2, 0, 0], [255, 255, 0, 0]), 0x10, V::Miss),
    ] {
        let ip = IpSpec { src: src.0, smsk: src.1, dst: dst.0, dmsk: dst.1, invflags: inv, ..ANY };
        assert_eq!(judge(&one(Family::Ipv4, ip, vec![]).unwrap(), &syn), want, "{src:?} {dst:?} inv {inv:#x}");
    }
    // Inverted tests with a zero mask never match ("! -s 0/0", "! -i +");
    // a non-zero address under a zero mask never matches either.
    for ip in [
        IpSpec { invflags: 0x08, ..ANY },
        IpSpec { invflags: 0x10, ..ANY },
        IpSpec { invflags: 0x01, ..ANY },
        IpSpec { invflags: 0x02, ..ANY },
        IpSpec { src: a16(&[10, 1, 0, 2]), ..ANY },
    ] {
        assert_eq!(judge(&one(Family::Ipv4, ip, vec![]).unwrap(), &syn), V::Miss, "{ip:?}");
    }
}

#[test]
fn interfaces_with_plus_wildcard_and_inversion() {
    let syn = v4(6, A, B, 0, &tcph(40000, 80, 0x02, &[]));
    // iptables -i eth+ : name "eth", mask 0xff over the 3 characters only.
    let plus = (ifname(b"eth"), a16(&[0xff; 3]));
    // iptables -i eth0 : mask covers the name and its NUL.
    let exact = (ifname(b"eth0"), a16(&[0xff; 5]));
    for (spec, inv, dev, want) in [
        (plus, 0u8, &b"eth0"[..], V::Hit),
        (plus, 0, b"eth12", V::Hit),
        (plus, 0, b"wlan0", V::Miss),
        (plus, 0x01, b"wlan0", V::Hit),
        (plus, 0x01, b"eth1", V::Miss),
        (exact, 0, b"eth0", V::Hit),
        (exact, 0, b"eth01", V::Miss),
        (exact, 0, b"eth1", V::Miss),
        (exact, 0x01, b"eth01", V::Hit),
    ] {
        let d = ifname(dev);
        let t = one(Family::Ipv4, IpSpec { iniface: spec.0, iniface_mask: spec.1, invflags: inv, ..ANY }, vec![]).unwrap();
        assert_eq!(judge_env(&t, &pkt(&syn, &d, &[0; 16]), &mut TEnv::new()), want, "-i {dev:?} inv {inv}");
        assert_eq!(judge_env(&t, &pkt(&syn, &[0; 16], &d), &mut TEnv::new()), if inv != 0 { V::Hit } else { V::Miss });
        let t = one(Family::Ipv4, IpSpec { outiface: spec.0, outiface_mask: spec.1, invflags: inv << 1, ..ANY }, vec![]).unwrap();
        assert_eq!(judge_env(&t, &pkt(&syn, &[0; 16], &d), &mut TEnv::new()), want, "-o {dev:?}");
    }
}

#[test]
fn ipv4_protocol_and_fragment_flag() {
    let syn = v4(6, A, B, 0, &tcph(40000, 80, 0x02, &[]));
    let first = v4(17, A, B, 0x2000, &udph(1, 2)); // MF, offset 0
    let later = v4(17, A, B, 0x0010, &[0; 8]); // offset 16*8
    let t = |proto: u16, flags: u8, inv: u8| one(Family::Ipv4, IpSpec { proto, flags, invflags: inv, ..ANY }, vec![]).unwrap();
    assert_eq!(judge(&t(6, 0, 0), &syn), V::Hit);
    assert_eq!(judge(&t(17, 0, 0), &syn), V::Miss);
    assert_eq!(judge(&t(17, 0, 0x40), &syn), V::Hit);
    assert_eq!(judge(&t(6, 0, 0x40), &syn), V::Miss);
    // -p all with the inversion bit: proto 0 is never tested (ip_packet_match).
    assert_eq!(judge(&t(0, 0, 0x40), &syn), V::Hit);
    // -f: only non-first fragments; ! -f: the others.
    assert_eq!(judge(&t(0, 0x01, 0), &later), V::Hit);
    assert_eq!(judge(&t(0, 0x01, 0), &first), V::Miss);
    assert_eq!(judge(&t(0, 0x01, 0), &syn), V::Miss);
    assert_eq!(judge(&t(0, 0x01, 0x20), &first), V::Hit);
    assert_eq!(judge(&t(0, 0x01, 0x20), &later), V::Miss);
    // IPT_INV_TOS is accepted but ip_packet_match has no TOS test.
    assert_eq!(judge(&t(0, 0, 0x04), &syn), V::Hit);
    // Unknown flag / invflag bits: ip_checkentry → EINVAL.
    assert_eq!(errno_of(one(Family::Ipv4, IpSpec { flags: 0x04, ..ANY }, vec![])), errno::EINVAL);
    assert_eq!(errno_of(one(Family::Ipv4, IpSpec { invflags: 0x80, ..ANY }, vec![])), errno::EINVAL);
    // A bad IPv4 header is hot-dropped.
    assert_eq!(judge(&t(0, 0, 0), &syn[..19]), V::HotDrop);
}

// ================= ip6t_ip6 =================

#[test]
fn ipv6_addresses_and_protocol_through_extension_headers() {
    let g = &crate::selftest::golden::IPV6_UDP;
    let f6 = |ip: IpSpec| one(Family::Ipv6, ip, vec![]).unwrap();
    let mut m16 = [0u8; 16];
    m16[..2].copy_from_slice(&[0xff, 0xff]);
    assert_eq!(judge(&f6(IpSpec { src: a16(&[0xfd, 1]), smsk: m16, ..ANY }), g), V::Hit);
    assert_eq!(judge(&f6(IpSpec { src: a16(&[0xfd, 2]), smsk: m16, ..ANY }), g), V::Miss);
    assert_eq!(judge(&f6(IpSpec { dst: a16(&[0xfd, 2]), dmsk: m16, ..ANY }), g), V::Hit);
    assert_eq!(judge(&f6(IpSpec { dst: a16(&[0xfd, 2]), dmsk: m16, invflags: 0x10, ..ANY }), g), V::Miss);
    assert_eq!(judge(&f6(IpSpec { dst: D6, dmsk: [0xff; 16], ..ANY }), g), V::Hit);
    let p = |proto: u16, inv: u8| f6(IpSpec { proto, flags: 0x01, invflags: inv, ..ANY });
    use crate::selftest::golden::{IPV6_FRAG_FIRST, IPV6_FRAG_LATER, IPV6_HBH_ECHO};
    for (pk, proto) in [(&g[..], 17u16), (&IPV6_FRAG_FIRST[..], 17), (&IPV6_FRAG_LATER[..], 17), (&IPV6_HBH_ECHO[..], 58)] {
        assert_eq!(judge(&p(proto, 0), pk), V::Hit, "proto {proto}");
        assert_eq!(judge(&p(proto, 0x40), pk), V::Miss);
        assert_eq!(judge(&p(6, 0), pk), V::Miss);
        assert_eq!(judge(&p(6, 0x40), pk), V::Hit);
        assert_eq!(judge(&p(0, 0), pk), V::Hit, "-p all");
    }
    // Without IP6T_F_PROTO the protocol is not examined.
    assert_eq!(judge(&f6(IpSpec { proto: 6, ..ANY }), g), V::Hit);
    // Later fragment followed by an extension header: ipv6_find_hdr fails → hotdrop.
    let mut bad = IPV6_FRAG_LATER;
    bad[40] = 60;
    assert_eq!(judge(&p(17, 0), &bad), V::HotDrop);
    assert_eq!(judge(&f6(ANY), &bad), V::Hit);
    // Hop-by-hop header longer than the packet: -EBADMSG → hotdrop.
    let short = v6(0, &[59, 0, 0, 0]);
    assert_eq!(judge(&p(17, 0), &short), V::HotDrop);
    // NEXTHDR_NONE after a complete hop-by-hop header is the protocol.
    let none = v6(0, &[59, 0, 1, 4, 0, 0, 0, 0]);
    assert_eq!(judge(&p(59, 0), &none), V::Hit);
    // Routing + destination options before TCP (each 8 bytes).
    let chain = {
        let mut x = vec![43, 0, 0, 0, 0, 0, 0, 0, 6, 0, 1, 4, 0, 0, 0, 0];
        x.extend_from_slice(&tcph(1, 22, 0x02, &[]));
        v6(60, &x)
    };
    assert_eq!(judge(&p(6, 0), &chain), V::Hit);
    let t = one(Family::Ipv6, IpSpec { proto: 6, flags: 0x01, ..ANY }, vec![(b"tcp", 0, tcp_m([0, 65535], [22, 22], 0, 0, 0, 0))]).unwrap();
    assert_eq!(judge(&t, &chain), V::Hit);
    // IP6T_F_TOS and IP6T_INV_TOS are accepted and, as in ip6_packet_match, not tested.
    assert_eq!(judge(&f6(IpSpec { flags: 0x02, invflags: 0x04, ..ANY }), g), V::Hit);
    // Unknown IP6T_F bit.
    assert_eq!(errno_of(one(Family::Ipv6, IpSpec { flags: 0x08, ..ANY }, vec![])), errno::EINVAL);
}

#[test]
fn ipv6_find_hdr_results() {
    use super::eval::ipv6_find_hdr;
    use crate::selftest::golden::*;
    assert_eq!(ipv6_find_hdr(&IPV6_UDP, 56), Some((17, 40, 0)));
    assert_eq!(ipv6_find_hdr(&IPV6_FRAG_FIRST, 56), Some((17, 48, 0)));
    assert_eq!(ipv6_find_hdr(&IPV6_FRAG_LATER, 56), Some((17, 48, 1480)));
    assert_eq!(ipv6_find_hdr(&IPV6_HBH_ECHO, 56), Some((58, 48, 0)));
    assert_eq!(ipv6_find_hdr(&IPV6_HBH_ECHO[..42], 42), None);
    assert_eq!(ipv6_find_hdr(&IPV6_HBH_ECHO[..48], 48), Some((58, 48, 0)));
    // AH: length in 4-byte units + 2.
    let ah = v6(51, &[17, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8]);
    assert_eq!(ipv6_find_hdr(&ah, ah.len()), Some((17, 52, 0)));
}

// ================= tcp / udp =================

#[test]
fn tcp_ports_flags_options_inversion_fragments() {
    let t = |m: Vec<u8>| one(Family::Ipv4, TCP, vec![(b"tcp", 0, m)]).unwrap();
    let mss = [2u8, 4, 5, 0xb4];
    let syn = v4(6, A, B, 0, &tcph(40000, 80, 0x02, &[1, 1, 4, 2, 2, 4, 5, 0xb4]));
    let ack = v4(6, A, B, 0, &tcph(40000, 80, 0x10, &[]));
    let all = [0u16, 65535];
    assert_eq!(judge(&t(tcp_m(all, [80, 80], 0, 0, 0, 0)), &syn), V::Hit);
    assert_eq!(judge(&t(tcp_m(all, [79, 79], 0, 0, 0, 0)), &syn), V::Miss);
    assert_eq!(judge(&t(tcp_m(all, [70, 90], 0, 0, 0, 0)), &syn), V::Hit);
    assert_eq!(judge(&t(tcp_m(all, [81, 90], 0, 0, 0, 0)), &syn), V::Miss);
    assert_eq!(judge(&t(tcp_m(all, [81, 90], 0, 0, 0, 0x02)), &syn), V::Hit);
    assert_eq!(judge(&t(tcp_m([40000, 40000], all, 0, 0, 0, 0)), &syn), V::Hit);
    assert_eq!(judge(&t(tcp_m([1024, 39999], all, 0, 0, 0, 0)), &syn), V::Miss);
    assert_eq!(judge(&t(tcp_m([1024, 39999], all, 0, 0, 0, 0x01)), &syn), V::Hit);
    // --syn = --tcp-flags SYN,RST,ACK,FIN SYN
    let syn_m = tcp_m(all, all, 0, 0x17, 0x02, 0);
    assert_eq!(judge(&t(syn_m.clone()), &syn), V::Hit);
    assert_eq!(judge(&t(syn_m), &ack), V::Miss);
    assert_eq!(judge(&t(tcp_m(all, all, 0, 0x17, 0x02, 0x04)), &ack), V::Hit);
    // --tcp-option 2 (MSS) present after NOPs and SACK-permitted; 8 (timestamps) absent.
    assert_eq!(judge(&t(tcp_m(all, all, 2, 0, 0, 0)), &syn), V::Hit);
    assert_eq!(judge(&t(tcp_m(all, all, 8, 0, 0, 0)), &syn), V::Miss);
    assert_eq!(judge(&t(tcp_m(all, all, 8, 0, 0, 0x08)), &syn), V::Hit);
    assert_eq!(judge(&t(tcp_m(all, all, 2, 0, 0, 0x08)), &syn), V::Miss);
    // No options at all: the result is the inversion flag.
    assert_eq!(judge(&t(tcp_m(all, all, 2, 0, 0, 0)), &ack), V::Miss);
    assert_eq!(judge(&t(tcp_m(all, all, 2, 0, 0, 0x08)), &ack), V::Hit);
    let _ = mss;
    // Options cut off by the end of the packet: hotdrop.
    let mut cut = v4(6, A, B, 0, &tcph(40000, 80, 0x02, &[2, 4, 5, 0xb4]));
    cut.truncate(cut.len() - 2);
    assert_eq!(judge(&t(tcp_m(all, all, 2, 0, 0, 0)), &cut), V::HotDrop);
    // Fragments: offset 1 is hot-dropped, later ones never match.
    let f1 = v4(6, A, B, 0x0001, &[0; 20]);
    let f2 = v4(6, A, B, 0x0002, &[0; 20]);
    assert_eq!(judge(&t(tcp_m(all, all, 0, 0, 0, 0)), &f1), V::HotDrop);
    assert_eq!(judge(&t(tcp_m(all, all, 0, 0, 0, 0)), &f2), V::Miss);
    assert_eq!(judge(&t(tcp_m(all, [1, 1], 0, 0, 0, 0x02)), &f2), V::Miss);
    // Truncated TCP header: hotdrop.
    assert_eq!(judge(&t(tcp_m(all, all, 0, 0, 0, 0)), &syn[..30]), V::HotDrop);
    // checkentry: invflags, protocol.
    assert_eq!(errno_of(one(Family::Ipv4, TCP, vec![(b"tcp", 0, tcp_m(all, all, 0, 0, 0, 0x10))])), errno::EINVAL);
    assert_eq!(errno_of(one(Family::Ipv4, ANY, vec![(b"tcp", 0, tcp_m(all, all, 0, 0, 0, 0))])), errno::EINVAL);
    assert_eq!(errno_of(one(Family::Ipv4, IpSpec { invflags: 0x40, ..TCP }, vec![(b"tcp", 0, tcp_m(all, all, 0, 0, 0, 0))])), errno::EINVAL);
    assert_eq!(errno_of(one(Family::Ipv4, UDP, vec![(b"tcp", 0, tcp_m(all, all, 0, 0, 0, 0))])), errno::EINVAL);
    // Wrong data size: 12 bytes padded to 16 is the only size.
    assert_eq!(errno_of(one(Family::Ipv4, TCP, vec![(b"tcp", 0, vec![0; 20])])), errno::EINVAL);
}

#[test]
fn udp_ports_inversion_fragments() {
    let t = |m: Vec<u8>| one(Family::Ipv4, UDP, vec![(b"udp", 0, m)]).unwrap();
    let all = [0u16, 65535];
    let p = v4(17, A, B, 0, &udph(5000, 53));
    assert_eq!(judge(&t(udp_m(all, [53, 53], 0)), &p), V::Hit);
    assert_eq!(judge(&t(udp_m(all, [54, 100], 0)), &p), V::Miss);
    assert_eq!(judge(&t(udp_m(all, [54, 100], 0x02)), &p), V::Hit);
    assert_eq!(judge(&t(udp_m([5000, 5001], all, 0)), &p), V::Hit);
    assert_eq!(judge(&t(udp_m([5000, 5001], all, 0x01)), &p), V::Miss);
    assert_eq!(judge(&t(udp_m(all, all, 0)), &v4(17, A, B, 0x0001, &[0; 8])), V::Miss);
    assert_eq!(judge(&t(udp_m(all, all, 0)), &p[..24]), V::HotDrop);
    assert_eq!(errno_of(one(Family::Ipv4, UDP, vec![(b"udp", 0, udp_m(all, all, 0x04))])), errno::EINVAL);
    // IPv6: first fragment matches by port, later fragment never.
    use crate::selftest::golden::{IPV6_FRAG_FIRST, IPV6_FRAG_LATER};
    let t6 = one(Family::Ipv6, IpSpec { flags: 0x01, ..UDP }, vec![(b"udp", 0, udp_m(all, [53, 53], 0))]).unwrap();
    assert_eq!(judge(&t6, &IPV6_FRAG_FIRST), V::Hit);
    assert_eq!(judge(&t6, &IPV6_FRAG_LATER), V::Miss);
}

// ================= icmp / icmp6 =================

#[test]
fn icmp_type_code_ranges_and_inversion() {
    let ic = IpSpec { proto: 1, ..ANY };
    let t = |typ: u8, lo: u8, hi: u8, inv: u8| one(Family::Ipv4, ic, vec![(b"icmp", 0, vec![typ, lo, hi, inv])]).unwrap();
    let echo = v4(1, A, B, 0, &icmph(8, 0, [0, 1, 0, 1]));
    let unreach = v4(1, A, B, 0, &icmph(3, 3, [0; 4]));
    assert_eq!(judge(&t(8, 0, 255, 0), &echo), V::Hit);
    assert_eq!(judge(&t(0, 0, 255, 0), &echo), V::Miss);
    assert_eq!(judge(&t(0, 0, 255, 1), &echo), V::Hit);
    assert_eq!(judge(&t(0xff, 0, 0, 0), &unreach), V::Hit);
    assert_eq!(judge(&t(0xff, 0, 0, 1), &unreach), V::Miss);
    assert_eq!(judge(&t(3, 3, 3, 0), &unreach), V::Hit);
    assert_eq!(judge(&t(3, 0, 2, 0), &unreach), V::Miss);
    assert_eq!(judge(&t(3, 4, 255, 0), &unreach), V::Miss);
    assert_eq!(judge(&t(3, 4, 255, 1), &unreach), V::Hit);
    assert_eq!(judge(&t(8, 0, 255, 0), &v4(1, A, B, 0x0003, &[8, 0, 0, 0, 0, 0, 0, 0])), V::Miss);
    assert_eq!(judge(&t(8, 0, 255, 0), &echo[..24]), V::HotDrop);
    assert_eq!(errno_of(one(Family::Ipv4, ic, vec![(b"icmp", 0, vec![8, 0, 255, 2])])), errno::EINVAL);
    assert_eq!(errno_of(one(Family::Ipv4, TCP, vec![(b"icmp", 0, vec![8, 0, 255, 0])])), errno::EINVAL);
    // icmp is IPv4 only, icmp6 IPv6 only.
    assert_eq!(errno_of(one(Family::Ipv6, IpSpec { proto: 1, flags: 1, ..ANY }, vec![(b"icmp", 0, vec![8, 0, 255, 0])])), errno::ENOENT);
    assert_eq!(errno_of(one(Family::Ipv4, ic, vec![(b"icmp6", 0, vec![8, 0, 255, 0])])), errno::ENOENT);
    let ic6 = IpSpec { proto: 58, flags: 0x01, ..ANY };
    let t6 = |typ: u8, lo: u8, hi: u8, inv: u8| one(Family::Ipv6, ic6, vec![(b"icmp6", 0, vec![typ, lo, hi, inv])]).unwrap();
    let e6 = &crate::selftest::golden::IPV6_HBH_ECHO;
    assert_eq!(judge(&t6(128, 0, 255, 0), e6), V::Hit);
    assert_eq!(judge(&t6(129, 0, 255, 0), e6), V::Miss);
    assert_eq!(judge(&t6(129, 0, 255, 1), e6), V::Hit);
    assert_eq!(judge(&t6(128, 1, 255, 0), e6), V::Miss);
}

// ================= state / conntrack =================

const CTINFO_BITS: [(u8, u32); 5] = [(0, 1 << 1), (1, 1 << 2), (2, 1 << 3), (3, 1 << 1), (4, 1 << 2)];

fn tracked(ctinfo: u8, status: u32) -> CtState {
    CtState::Tracked { ctinfo, status, dir: u8::from(ctinfo >= 3), proto: 6 }
}

fn judge_ct(t: &T, ct: CtState) -> (V, u32) {
    let syn = v4(6, A, B, 0, &tcph(40000, 80, 0x02, &[]));
    let mut env = TEnv::new();
    env.ct = ct;
    let v = judge_env(t, &pkt(&syn, &[0; 16], &[0; 16]), &mut env);
    (v, env.ct_calls)
}

#[test]
fn state_each_ctinfo_invalid_untracked() {
    let t = |mask: u32| one(Family::Ipv4, ANY, vec![(b"state", 0, mask.to_ne_bytes().to_vec())]).unwrap();
    for (ctinfo, bit) in CTINFO_BITS {
        assert_eq!(judge_ct(&t(bit), tracked(ctinfo, 0)), (V::Hit, 1), "ctinfo {ctinfo}");
        assert_eq!(judge_ct(&t(0x7f & !bit), tracked(ctinfo, 0)), (V::Miss, 1), "ctinfo {ctinfo}");
    }
    assert_eq!(judge_ct(&t(1), CtState::Invalid), (V::Hit, 1));
    assert_eq!(judge_ct(&t(0x7e), CtState::Invalid), (V::Miss, 1));
    assert_eq!(judge_ct(&t(1 << 6), CtState::Untracked), (V::Hit, 1));
    assert_eq!(judge_ct(&t(0x3f), CtState::Untracked), (V::Miss, 1));
    // A table without ct matches never asks for the conntrack state.
    let plain = one(Family::Ipv4, TCP, vec![(b"tcp", 0, tcp_m([0, 65535], [80, 80], 0, 0, 0, 0))]).unwrap();
    assert_eq!(judge_ct(&plain, tracked(2, 0)), (V::Hit, 0));
    // Nor does a state rule whose ip part does not match.
    let t2 = one(Family::Ipv4, UDP, vec![(b"state", 0, 2u32.to_ne_bytes().to_vec())]).unwrap();
    assert_eq!(judge_ct(&t2, tracked(0, 0)), (V::Miss, 0));
}

#[test]
fn conntrack_state_status_direction_proto_revisions() {
    const STATE: u16 = 0x0001;
    const PROTO: u16 = 0x0002;
    const STATUS: u16 = 0x0040;
    const DIR: u16 = 0x1000;
    let t = |rev: u8, f: u16, inv: u16, state: u16, status: u16, l4: u16| {
        one(Family::Ipv4, ANY, vec![(b"conntrack", rev, ct_m(rev, f, inv, state, status, l4))]).unwrap()
    };
    for rev in [1u8, 2, 3] {
        for (ctinfo, bit) in CTINFO_BITS {
            assert_eq!(judge_ct(&t(rev, STATE, 0, bit as u16, 0, 0), tracked(ctinfo, 0)).0, V::Hit, "rev {rev} ctinfo {ctinfo}");
            assert_eq!(judge_ct(&t(rev, STATE, STATE, bit as u16, 0, 0), tracked(ctinfo, 0)).0, V::Miss);
        }
        assert_eq!(judge_ct(&t(rev, STATE, 0, 1, 0, 0), CtState::Invalid).0, V::Hit);
        assert_eq!(judge_ct(&t(rev, STATE, STATE, 1, 0, 0), CtState::Invalid).0, V::Miss);
        // SNAT / DNAT state bits from the status.
        assert_eq!(judge_ct(&t(rev, STATE, 0, 1 << 6, 0, 0), tracked(0, 1 << 4)).0, V::Hit);
        assert_eq!(judge_ct(&t(rev, STATE, 0, 1 << 6, 0, 0), tracked(0, 1 << 5)).0, V::Miss);
        assert_eq!(judge_ct(&t(rev, STATE, 0, 1 << 7, 0, 0), tracked(0, 1 << 5)).0, V::Hit);
        // --ctstatus ASSURED (IPS_ASSURED = 1 << 2).
        assert_eq!(judge_ct(&t(rev, STATUS, 0, 0, 1 << 2, 0), tracked(0, 1 << 2)).0, V::Hit);
        assert_eq!(judge_ct(&t(rev, STATUS, 0, 0, 1 << 2, 0), tracked(0, 1 << 3)).0, V::Miss);
        assert_eq!(judge_ct(&t(rev, STATUS, STATUS, 0, 1 << 2, 0), tracked(0, 1 << 3)).0, V::Hit);
        // --ctdir ORIGINAL (no invert) / REPLY (invert).
        assert_eq!(judge_ct(&t(rev, DIR, 0, 0, 0, 0), tracked(0, 0)).0, V::Hit);
        assert_eq!(judge_ct(&t(rev, DIR, 0, 0, 0, 0), tracked(3, 0)).0, V::Miss);
        assert_eq!(judge_ct(&t(rev, DIR, DIR, 0, 0, 0), tracked(3, 0)).0, V::Hit);
        // --ctproto.
        assert_eq!(judge_ct(&t(rev, PROTO, 0, 0, 0, 6), tracked(0, 0)).0, V::Hit);
        assert_eq!(judge_ct(&t(rev, PROTO, 0, 0, 0, 17), tracked(0, 0)).0, V::Miss);
        assert_eq!(judge_ct(&t(rev, PROTO, PROTO, 0, 0, 17), tracked(0, 0)).0, V::Hit);
        // Without a conntrack entry only the state part can match.
        assert_eq!(judge_ct(&t(rev, PROTO, PROTO, 0, 0, 17), CtState::Untracked).0, V::Miss);
        // --ctexpire asks the Env; one that cannot tell matches nothing
        // (tests_router.rs tests the ranges).
        assert_eq!(judge_ct(&t(rev, 0x0080, 0, 0, 0, 0), tracked(0, 0)).0, V::Miss);
    }
    // UNTRACKED is bit 8 in rev 2/3 (u16 mask).
    assert_eq!(judge_ct(&t(3, STATE, 0, 1 << 8, 0, 0), CtState::Untracked), (V::Hit, 1));
    assert_eq!(judge_ct(&t(3, STATE, 0, 0xff, 0, 0), CtState::Untracked), (V::Miss, 1));
    // Revision 0 does not exist; a rev-1 blob with rev 3's size is refused.
    // (xt_find_match: conntrack is NFPROTO_UNSPEC, so a missing revision is EPROTOTYPE.)
    assert_eq!(errno_of(one(Family::Ipv4, ANY, vec![(b"conntrack", 0, ct_m(1, STATE, 0, 2, 0, 0))])), errno::EPROTOTYPE);
    assert_eq!(errno_of(one(Family::Ipv6, ANY, vec![(b"conntrack", 4, ct_m(3, STATE, 0, 2, 0, 0))])), errno::EPROTOTYPE);
    assert_eq!(errno_of(one(Family::Ipv4, ANY, vec![(b"conntrack", 1, ct_m(3, STATE, 0, 2, 0, 0))])), errno::EINVAL);
}

// ================= multiport / comment =================

#[test]
fn multiport_rev0_rev1_modes_ranges_inversion() {
    let t = |ip: IpSpec, rev: u8, m: Vec<u8>| one(Family::Ipv4, ip, vec![(b"multiport", rev, m)]);
    let p = v4(6, A, B, 0, &tcph(40000, 85, 0x02, &[]));
    let hit = |rev: u8, m: Vec<u8>| judge(&t(TCP, rev, m).unwrap(), &p);
    // rev 1, destination: 22, 80:90.
    assert_eq!(hit(1, mp_m(1, 1, &[22, 80, 90], &[0, 1, 0], false)), V::Hit);
    assert_eq!(hit(1, mp_m(1, 1, &[22, 86, 90], &[0, 1, 0], false)), V::Miss);
    assert_eq!(hit(1, mp_m(1, 1, &[22, 86, 90], &[0, 1, 0], true)), V::Hit);
    assert_eq!(hit(1, mp_m(1, 1, &[22, 80, 90], &[0, 1, 0], true)), V::Miss);
    assert_eq!(hit(1, mp_m(1, 1, &[85], &[0], false)), V::Hit);
    // Source mode sees 40000, either mode sees both.
    assert_eq!(hit(1, mp_m(1, 0, &[85], &[0], false)), V::Miss);
    assert_eq!(hit(1, mp_m(1, 0, &[39000, 41000], &[1, 0], false)), V::Hit);
    assert_eq!(hit(1, mp_m(1, 2, &[85], &[0], false)), V::Hit);
    assert_eq!(hit(1, mp_m(1, 2, &[40000], &[0], false)), V::Hit);
    assert_eq!(hit(1, mp_m(1, 2, &[1, 2], &[1, 0], false)), V::Miss);
    // rev 0: exact ports.
    assert_eq!(hit(0, mp_m(0, 1, &[22, 85], &[], false)), V::Hit);
    assert_eq!(hit(0, mp_m(0, 1, &[22, 86], &[], false)), V::Miss);
    assert_eq!(hit(0, mp_m(0, 0, &[40000], &[], false)), V::Hit);
    // UDP works too; fragments never match; truncated header: hotdrop.
    let tu = t(UDP, 1, mp_m(1, 1, &[53], &[0], false)).unwrap();
    assert_eq!(judge(&tu, &v4(17, A, B, 0, &udph(1, 53))), V::Hit);
    assert_eq!(judge(&tu, &v4(17, A, B, 0x0004, &udph(1, 53))), V::Miss);
    assert_eq!(judge(&tu, &v4(17, A, B, 0, &[0, 1])), V::HotDrop);
    // checkentry: protocol, mode, count.
    assert_eq!(errno_of(t(ANY, 1, mp_m(1, 1, &[22], &[0], false))), errno::EINVAL);
    assert_eq!(errno_of(t(IpSpec { proto: 1, ..ANY }, 1, mp_m(1, 1, &[22], &[0], false))), errno::EINVAL);
    assert_eq!(errno_of(t(IpSpec { invflags: 0x40, ..TCP }, 1, mp_m(1, 1, &[22], &[0], false))), errno::EINVAL);
    assert_eq!(errno_of(t(TCP, 1, mp_m(1, 3, &[22], &[0], false))), errno::EINVAL);
    let mut many = mp_m(1, 1, &[1; 15], &[0; 15], false);
    many[1] = 16;
    assert_eq!(errno_of(t(TCP, 1, many)), errno::EINVAL);
    // multiport is registered per family: a missing revision is ENOENT.
    assert_eq!(errno_of(t(TCP, 2, mp_m(1, 1, &[22], &[0], false))), errno::ENOENT);
}

#[test]
fn comment_always_matches_and_keeps_its_text() {
    let mut c = vec![0u8; 256];
    c[..5].copy_from_slice(b"hello");
    let t = one(Family::Ipv4, ANY, vec![(b"comment", 0, c.clone())]).unwrap();
    assert_eq!(judge(&t, &v4(17, A, B, 0, &udph(1, 2))), V::Hit);
    let mut out = vec![0u8; t.size() as usize];
    t.copy_entries(&mut out, |_| (0, 0)).unwrap();
    assert!(out.windows(5).any(|w| w == b"hello"));
    assert_eq!(errno_of(one(Family::Ipv4, ANY, vec![(b"comment", 0, vec![0; 128])])), errno::EINVAL);
}

// ================= limit =================

#[test]
fn limit_burst_then_rate_like_xt_limit() {
    // --limit 5/second --limit-burst 3: avg = XT_LIMIT_SCALE / 5 = 2000.
    // HZ 250: CREDITS_PER_JIFFY 128, cost 6400, cap 19200: 3 packets, then
    // one every 50 jiffies.
    let t = one(Family::Ipv4, ANY, vec![(b"limit", 0, limit_m(2000, 3))]).unwrap();
    let p = v4(17, A, B, 0, &udph(1, 2));
    let at = |now: u64| {
        let mut env = TEnv::new();
        env.now = now;
        judge_env(&t, &pkt(&p, &[0; 16], &[0; 16]), &mut env)
    };
    let got: Vec<V> = [1000, 1000, 1000, 1000, 1049, 1050, 1051, 1100, 1100].iter().map(|&n| at(n)).collect();
    use V::*;
    assert_eq!(got, vec![Hit, Hit, Hit, Miss, Miss, Hit, Miss, Hit, Miss]);
    // A long pause refills only to the burst.
    let got: Vec<V> = [100_000u64; 4].iter().map(|&n| at(n)).collect();
    assert_eq!(got, vec![Hit, Hit, Hit, Miss]);
    // limit_mt_check: burst 0 or overflow → ERANGE.
    assert_eq!(errno_of(one(Family::Ipv4, ANY, vec![(b"limit", 0, limit_m(2000, 0))])), errno::ERANGE);
    assert_eq!(errno_of(one(Family::Ipv4, ANY, vec![(b"limit", 0, limit_m(u32::MAX, 10_000))])), errno::ERANGE);
    // GET_ENTRIES zeroes the kernel-private part after avg and burst.
    let mut m = limit_m(2000, 3);
    m[8..40].fill(0xaa);
    let t = one(Family::Ipv4, ANY, vec![(b"limit", 0, m)]).unwrap();
    let mut out = vec![0u8; t.size() as usize];
    t.copy_entries(&mut out, |_| (0, 0)).unwrap();
    let at = 112 + 32;
    assert_eq!(&out[at..at + 8], &limit_m(2000, 3)[..8]);
    assert_eq!(&out[at + 8..at + 40], &[0u8; 32]);
}

// ================= LOG =================

fn log_line(family: Family, flags: u8, p: &[u8], in_dev: &[u8], mac: &[u8]) -> String {
    let t = table_of(family, &[r(ANY, vec![], log_t(4, flags, b"fw: "))]).unwrap();
    let i = ifname(in_dev);
    let mut env = TEnv::new();
    env.mac = mac.to_vec();
    let pk = Packet { hook: 1, in_dev: &i, out_dev: &[0; 16], len: p.len() as u32, headers: p };
    assert_eq!(t.evaluate(&pk, &mut env), Action::Accept);
    assert_eq!(env.counted, vec![0, 1], "LOG counts and continues");
    // The link-layer header is read only for the MAC= field: once with
    // an input device, never without.
    assert_eq!(env.mac_calls, u32::from(i != [0; 16]));
    assert_eq!(env.logs.len(), 1);
    assert_eq!(env.logs[0].0, 4);
    env.logs.pop().unwrap().1
}

#[test]
fn link_header_is_read_only_by_a_log_rule_that_fires() {
    // A packet with an input device (FORWARD/INPUT) through a LOG rule that
    // does not match (udp only), then a DROP: the walk never asks for the
    // link-layer header; through a LOG that matches, once.
    let syn = v4(6, A, B, 0x4000, &tcph(40000, 22, 0x02, &[]));
    let i = ifname(b"eth0");
    let pk = Packet { hook: 1, in_dev: &i, out_dev: &[0; 16], len: syn.len() as u32, headers: &syn };
    let t = table_of(Family::Ipv4, &[r(UDP, vec![], log_t(4, 0, b"fw: ")), r(ANY, vec![], TargetSpec::Standard(DROP))]).unwrap();
    let mut env = TEnv::new();
    env.mac = vec![2, 0, 0, 0, 0, 1];
    assert_eq!(t.evaluate(&pk, &mut env), Action::Drop);
    assert_eq!((env.counted.as_slice(), env.logs.len(), env.mac_calls), (&[1][..], 0, 0));
    let t = table_of(Family::Ipv4, &[r(ANY, vec![], log_t(4, 0, b"fw: ")), r(ANY, vec![], TargetSpec::Standard(DROP))]).unwrap();
    let mut env = TEnv::new();
    env.mac = vec![2, 0, 0, 0, 0, 1];
    assert_eq!(t.evaluate(&pk, &mut env), Action::Drop);
    assert_eq!((env.counted.as_slice(), env.mac_calls), (&[0, 1][..], 1));
    assert!(env.logs[0].1.starts_with("fw: IN=eth0 OUT= MAC=02:00:00:00:00:01 SRC=10.1.0.2 "), "{}", env.logs[0].1);
}

#[test]
fn log_lines_like_nf_log_syslog() {
    let mac = [0x52, 0x54, 0, 0x12, 0x34, 0x56, 0x52, 0x54, 0, 0xab, 0xcd, 0xef, 0x08, 0x00];
    let syn = v4(6, A, B, 0x4000, &tcph(40000, 22, 0x02, &[2, 4, 5, 0xb4]));
    assert_eq!(
        log_line(Family::Ipv4, 0, &syn, b"eth0", &mac),
        "fw: IN=eth0 OUT= MAC=52:54:00:12:34:56:52:54:00:ab:cd:ef:08:00 SRC=10.1.0.2 DST=10.2.0.2 LEN=44 TOS=0x00 PREC=0x00 TTL=64 ID=7 DF PROTO=TCP SPT=40000 DPT=22 WINDOW=29200 RES=0x00 SYN URGP=0 "
    );
    // No input device (OUTPUT): no MAC= field.
    let udp = v4(17, A, B, 0, &udph(5000, 53));
    assert_eq!(
        log_line(Family::Ipv4, 0, &udp, b"", &[]),
        "fw: IN= OUT= SRC=10.1.0.2 DST=10.2.0.2 LEN=28 TOS=0x00 PREC=0x00 TTL=64 ID=7 PROTO=UDP SPT=5000 DPT=53 LEN=8 "
    );
    let echo = v4(1, A, B, 0, &icmph(8, 0, [0x12, 0x34, 0, 1]));
    assert_eq!(
        log_line(Family::Ipv4, 0, &echo, b"eth0", &[]),
        "fw: IN=eth0 OUT= MAC= SRC=10.1.0.2 DST=10.2.0.2 LEN=28 TOS=0x00 PREC=0x00 TTL=64 ID=7 PROTO=ICMP TYPE=8 CODE=0 ID=4660 SEQ=1 "
    );
    // ICMP error: the quoted packet in brackets, MTU for frag-needed.
    let inner = v4(17, B, A, 0, &udph(53, 5000));
    let mut err = icmph(3, 4, [0, 0, 0x05, 0xdc]);
    err.extend_from_slice(&inner);
    let p = v4(1, B, A, 0, &err);
    assert_eq!(
        log_line(Family::Ipv4, 0, &p, b"", &[]),
        "fw: IN= OUT= SRC=10.2.0.2 DST=10.1.0.2 LEN=56 TOS=0x00 PREC=0x00 TTL=64 ID=7 PROTO=ICMP TYPE=3 CODE=4 [SRC=10.2.0.2 DST=10.1.0.2 LEN=28 TOS=0x00 PREC=0x00 TTL=64 ID=7 PROTO=UDP SPT=53 DPT=5000 LEN=8 ] MTU=1500 "
    );
    // Parameter problem: no quoted packet (the kernel does not recurse for it).
    let mut pp = icmph(12, 0, [20, 0, 0, 0]);
    pp.extend_from_slice(&inner);
    assert_eq!(
        log_line(Family::Ipv4, 0, &v4(1, B, A, 0, &pp), b"", &[]),
        "fw: IN= OUT= SRC=10.2.0.2 DST=10.1.0.2 LEN=56 TOS=0x00 PREC=0x00 TTL=64 ID=7 PROTO=ICMP TYPE=12 CODE=0 PARAMETER=20 "
    );
    // Truncated echo (skb->len counts): INCOMPLETE.
    assert_eq!(
        log_line(Family::Ipv4, 0, &v4(1, A, B, 0, &[8, 0, 0, 0, 0]), b"", &[]),
        "fw: IN= OUT= SRC=10.1.0.2 DST=10.2.0.2 LEN=25 TOS=0x00 PREC=0x00 TTL=64 ID=7 PROTO=ICMP INCOMPLETE [5 bytes] "
    );
    // Non-first fragment and UDPLITE, ESP with its SPI.
    assert_eq!(
        log_line(Family::Ipv4, 0, &v4(136, A, B, 0x2003, &[0; 8]), b"", &[]),
        "fw: IN= OUT= SRC=10.1.0.2 DST=10.2.0.2 LEN=28 TOS=0x00 PREC=0x00 TTL=64 ID=7 MF FRAG:3 PROTO=UDPLITE "
    );
    assert_eq!(
        log_line(Family::Ipv4, 0, &v4(50, A, B, 0, &[0, 0, 0x10, 0x01, 0, 0, 0, 1]), b"", &[]),
        "fw: IN= OUT= SRC=10.1.0.2 DST=10.2.0.2 LEN=28 TOS=0x00 PREC=0x00 TTL=64 ID=7 PROTO=ESP SPI=0x1001 "
    );
    // IPv6 UDP and ICMPv6 behind hop-by-hop.
    use crate::selftest::golden::{IPV6_FRAG_LATER, IPV6_HBH_ECHO, IPV6_UDP};
    assert_eq!(
        log_line(Family::Ipv6, 0, &IPV6_UDP, b"eth1", &[]),
        "fw: IN=eth1 OUT= MAC= SRC=fd01:0000:0000:0000:0000:0000:0000:0002 DST=fd02:0000:0000:0000:0000:0000:0000:0002 LEN=56 TC=0 HOPLIMIT=64 FLOWLBL=0 PROTO=UDP SPT=5000 DPT=53 LEN=16 "
    );
    assert_eq!(
        log_line(Family::Ipv6, 0, &IPV6_HBH_ECHO, b"", &[]),
        "fw: IN= OUT= SRC=fd01:0000:0000:0000:0000:0000:0000:0002 DST=fd02:0000:0000:0000:0000:0000:0000:0002 LEN=56 TC=0 HOPLIMIT=64 FLOWLBL=0 PROTO=ICMPv6 TYPE=128 CODE=0 ID=66 SEQ=1 "
    );
    assert_eq!(
        log_line(Family::Ipv6, 0, &IPV6_FRAG_LATER, b"", &[]),
        "fw: IN= OUT= SRC=fd01:0000:0000:0000:0000:0000:0000:0002 DST=fd02:0000:0000:0000:0000:0000:0000:0002 LEN=56 TC=0 HOPLIMIT=64 FLOWLBL=0 FRAG:1480 ID:cafebabe PROTO=UDP "
    );
    let t6 = {
        let mut x = tcph(1, 22, 0x12, &[]);
        x[12] |= 0x01;
        v6(6, &x)
    };
    assert_eq!(
        log_line(Family::Ipv6, 0, &t6, b"", &[]),
        "fw: IN= OUT= SRC=fd01:0000:0000:0000:0000:0000:0000:0002 DST=fd02:0000:0000:0000:0000:0000:0000:0002 LEN=60 TC=0 HOPLIMIT=64 FLOWLBL=0 PROTO=TCP SPT=1 DPT=22 WINDOW=29200 RES=0x04 ACK SYN URGP=0 "
    );
}

#[test]
fn log_flags_tcpseq_tcpopt_ipopt() {
    let syn = v4(6, A, B, 0, &tcph(40000, 22, 0x02, &[2, 4, 5, 0xb4]));
    assert_eq!(
        log_line(Family::Ipv4, 0x03, &syn, b"", &[]),
        "fw: IN= OUT= SRC=10.1.0.2 DST=10.2.0.2 LEN=44 TOS=0x00 PREC=0x00 TTL=64 ID=7 PROTO=TCP SPT=40000 DPT=22 SEQ=16909060 ACK=168496141 WINDOW=29200 RES=0x00 SYN URGP=0 OPT (020405B4) "
    );
    // IPv4 header with 4 bytes of options (ihl 6).
    let mut o = v4(17, A, B, 0, &[]);
    o[0] = 0x46;
    o.extend_from_slice(&[0x94, 0x04, 0, 0]);
    o.extend_from_slice(&udph(1, 2));
    o[3] = 32;
    assert_eq!(
        log_line(Family::Ipv4, 0x04, &o, b"", &[]),
        "fw: IN= OUT= SRC=10.1.0.2 DST=10.2.0.2 LEN=32 TOS=0x00 PREC=0x00 TTL=64 ID=7 OPT (94040000) PROTO=UDP SPT=1 DPT=2 LEN=8 "
    );
    use crate::selftest::golden::IPV6_HBH_ECHO;
    assert_eq!(
        log_line(Family::Ipv6, 0x04, &IPV6_HBH_ECHO, b"", &[]),
        "fw: IN= OUT= SRC=fd01:0000:0000:0000:0000:0000:0000:0002 DST=fd02:0000:0000:0000:0000:0000:0000:0002 LEN=56 TC=0 HOPLIMIT=64 FLOWLBL=0 OPT ( ) PROTO=ICMPv6 TYPE=128 CODE=0 ID=66 SEQ=1 "
    );
}

// ================= counters on jumps / returns =================

#[test]
fn counters_on_jump_return_and_goto() {
    // INPUT: 0 jump c1; 1 -p udp goto c2; 2 policy ACCEPT ... c1: 6 -p tcp DROP... see below.
    let mut out = vec![0u8; 4096];
    let mut b = Builder::new(Family::Ipv4, &mut out);
    let j = b.entry(&ANY, &[], TargetSpec::Standard(0)); // 0: -j c1
    let g = b.entry(&IpSpec { flags: 0x02, ..UDP }, &[], TargetSpec::Standard(0)); // 1: -p udp -g c2
    let pol = b.entry(&ANY, &[], TargetSpec::Standard(DROP)); // 2: policy DROP
    let f = b.entry(&ANY, &[], TargetSpec::Standard(ACCEPT)); // 3
    let o = b.entry(&ANY, &[], TargetSpec::Standard(ACCEPT)); // 4
    b.entry(&ANY, &[], TargetSpec::Error(b"c1")); // 5
    let c1 = b.offset();
    b.entry(&IpSpec { proto: 1, ..ANY }, &[], TargetSpec::Standard(ACCEPT)); // 6: -p icmp ACCEPT
    b.entry(&TCP, &[], TargetSpec::Standard(XT_RETURN)); // 7: -p tcp RETURN
    b.entry(&ANY, &[], TargetSpec::Standard(XT_RETURN)); // 8: chain end
    b.entry(&ANY, &[], TargetSpec::Error(b"c2")); // 9
    let c2 = b.offset();
    b.entry(&UDP, &[(b"udp", 0, &udp_m([0, 65535], [53, 53], 0))], TargetSpec::Standard(ACCEPT)); // 10
    b.entry(&ANY, &[], TargetSpec::Standard(XT_RETURN)); // 11: RETURN from a goto chain → policy
    b.entry(&ANY, &[], TargetSpec::Error(b"ERROR")); // 12
    b.set_verdict(j, c1 as i32);
    b.set_verdict(g, c2 as i32);
    let buf = replace_buf(&b, &FILTER_IPV4, [j, f, o], [pol, f, o]);
    let t = super::tests::load(&FILTER_IPV4, &buf).unwrap();
    let run = |p: Vec<u8>| {
        let mut env = TEnv::new();
        let a = t.evaluate(&pkt(&p, &[0; 16], &[0; 16]), &mut env);
        (a, env.counted)
    };
    assert_eq!(run(v4(1, A, B, 0, &icmph(8, 0, [0; 4]))), (Action::Accept, vec![0, 6]));
    assert_eq!(run(v4(6, A, B, 0, &tcph(1, 2, 2, &[]))), (Action::Drop, vec![0, 7, 2]));
    assert_eq!(run(v4(17, A, B, 0, &udph(1, 53))), (Action::Accept, vec![0, 8, 1, 10]));
    // RETURN at the end of a goto chain goes to the caller of the jump: here the hook → policy.
    assert_eq!(run(v4(17, A, B, 0, &udph(1, 54))), (Action::Drop, vec![0, 8, 1, 11, 2]));
    assert_eq!(run(v4(47, A, B, 0, &[])), (Action::Drop, vec![0, 8, 2]));
}

// ================= sockopt parsers =================

#[test]
fn get_entries_and_add_counters_size_checks() {
    let mut g = vec![0u8; GET_ENTRIES_SIZE + 16];
    g[..6].copy_from_slice(b"filter");
    g[32..36].copy_from_slice(&16u32.to_ne_bytes());
    let (name, size) = parse_get_entries(&g).unwrap();
    assert_eq!((&name[..7], size), (&b"filter\0"[..], 16));
    assert_eq!(parse_get_entries(&g[..g.len() - 1]).unwrap_err().errno, errno::EINVAL);
    assert_eq!(parse_get_entries(&g[..39]).unwrap_err().errno, errno::EINVAL);
    g.push(0);
    assert_eq!(parse_get_entries(&g).unwrap_err().errno, errno::EINVAL);
    // Huge size does not overflow.
    let mut h = vec![0u8; GET_ENTRIES_SIZE];
    h[32..36].copy_from_slice(&u32::MAX.to_ne_bytes());
    assert_eq!(parse_get_entries(&h).unwrap_err().errno, errno::EINVAL);
    // Name is forced NUL-terminated.
    let mut n = vec![b'x'; GET_ENTRIES_SIZE];
    n[32..36].copy_from_slice(&0u32.to_ne_bytes());
    assert_eq!(parse_get_entries(&n).unwrap().0[31], 0);

    let mut c = vec![0u8; COUNTERS_INFO_SIZE + 32];
    c[..6].copy_from_slice(b"filter");
    c[32..36].copy_from_slice(&2u32.to_ne_bytes());
    c[40..48].copy_from_slice(&5u64.to_ne_bytes());
    c[48..56].copy_from_slice(&500u64.to_ne_bytes());
    c[56..64].copy_from_slice(&7u64.to_ne_bytes());
    c[64..72].copy_from_slice(&700u64.to_ne_bytes());
    let a = parse_add_counters(&c).unwrap();
    assert_eq!(a.num_counters, 2);
    assert_eq!(a.iter().collect::<Vec<_>>(), vec![(5, 500), (7, 700)]);
    assert_eq!(a.get(1), Some((7, 700)));
    assert_eq!(a.get(2), None);
    assert_eq!(parse_add_counters(&c[..COUNTERS_INFO_SIZE]).unwrap_err().errno, errno::EINVAL);
    assert_eq!(parse_add_counters(&c[..c.len() - 1]).unwrap_err().errno, errno::EINVAL);
    c[32..36].copy_from_slice(&3u32.to_ne_bytes());
    assert_eq!(parse_add_counters(&c).unwrap_err().errno, errno::EINVAL);
    c[32..36].copy_from_slice(&u32::MAX.to_ne_bytes());
    assert_eq!(parse_add_counters(&c).unwrap_err().errno, errno::EINVAL);
}

/// Writes the fuzzer's seed corpus (valid tables from the builder, one per
/// extension) to `fuzz/seeds/xt_replace`: `cargo test -- --ignored write_fuzz_seeds`.
#[test]
#[ignore]
fn write_fuzz_seeds() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/seeds/xt_replace");
    std::fs::create_dir_all(&dir).unwrap();
    let all = [0u16, 65535];
    let p6 = |proto: u16| IpSpec { proto, flags: 0x01, ..ANY };
    let seeds: Vec<(&str, Family, Vec<R>)> = vec![
        ("tcp", Family::Ipv4, vec![r(TCP, vec![(b"tcp", 0, tcp_m(all, [22, 22], 2, 0x17, 0x02, 0))], TargetSpec::Standard(ACCEPT))]),
        ("udp", Family::Ipv4, vec![r(UDP, vec![(b"udp", 0, udp_m(all, [53, 53], 0x01))], TargetSpec::Standard(DROP))]),
        ("icmp", Family::Ipv4, vec![r(IpSpec { proto: 1, ..ANY }, vec![(b"icmp", 0, vec![8, 0, 255, 0])], TargetSpec::Standard(DROP))]),
        ("state", Family::Ipv4, vec![r(ANY, vec![(b"state", 0, 6u32.to_ne_bytes().to_vec())], TargetSpec::Standard(ACCEPT))]),
        ("conntrack", Family::Ipv4, vec![r(ANY, vec![(b"conntrack", 3, ct_m(3, 0x1043, 0, 0x0a, 4, 6))], TargetSpec::Standard(ACCEPT))]),
        ("multiport", Family::Ipv4, vec![r(TCP, vec![(b"multiport", 1, mp_m(1, 2, &[22, 80, 90], &[0, 1, 0], false))], TargetSpec::Standard(DROP))]),
        ("limit_log", Family::Ipv4, vec![r(ANY, vec![(b"limit", 0, limit_m(2000, 3)), (b"comment", 0, vec![b'x'; 256])], log_t(4, 0x07, b"fw: "))]),
        ("reject", Family::Ipv4, vec![r(TCP, vec![], TargetSpec::Other(b"REJECT", 0, &[7, 0, 0, 0, 0, 0, 0, 0]))]),
        ("ports", Family::Ipv4, (0..6u16).map(|i| r(TCP, vec![(b"tcp", 0, tcp_m(all, [i, i], 0, 0, 0, 0))], TargetSpec::Standard(ACCEPT))).collect()),
        ("udp6", Family::Ipv6, vec![r(p6(17), vec![(b"udp", 0, udp_m(all, [53, 53], 0))], TargetSpec::Standard(DROP))]),
        ("icmp6_log", Family::Ipv6, vec![r(p6(58), vec![(b"icmp6", 0, vec![128, 0, 255, 0])], log_t(6, 0x04, b"v6 "))]),
        ("reject6", Family::Ipv6, vec![r(p6(6), vec![(b"tcp", 0, tcp_m(all, [80, 80], 0, 0, 0, 0))], TargetSpec::Other(b"REJECT", 0, &[6, 0, 0, 0, 0, 0, 0, 0]))]),
    ];
    for (name, family, rules) in seeds {
        table_of(family, &rules).unwrap();
        let sel = if family == Family::Ipv4 { 0u8 } else { 1 };
        let mut data = vec![sel];
        data.extend_from_slice(&blob_of(family, &rules));
        std::fs::write(dir.join(name), data).unwrap();
    }
    let mut data = vec![0u8];
    data.extend_from_slice(&super::tests::sample(0));
    std::fs::write(dir.join("chains"), data).unwrap();
}
