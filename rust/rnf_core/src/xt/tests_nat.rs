// SPDX-License-Identifier: GPL-2.0
//! Host tests of the nat tables and their targets: the kernel's revisions,
//! sizes, hooks, table and checkentry rules, and what a walk returns.

use std::vec;
use std::vec::Vec;

use super::build::{Builder, IpSpec, TargetSpec};
use super::tests::{load, one_chain_table};
use super::tests_match::TEnv;
use super::*;
use crate::nat::range::{MAP_IPS, PROTO_OFFSET, PROTO_RANDOM, PROTO_SPECIFIED};

/// The nat table with `rule` (name, revision, data) first in `chain` (a
/// `NF_INET_*` hook), every chain with policy ACCEPT.
fn nat_table(def: &TableDef, chain: u32, rule: (&[u8], u8, &[u8])) -> Vec<u8> {
    one_chain_table(def, chain, &[(IpSpec::ANY, &[], TargetSpec::Other(rule.0, rule.1, rule.2))])
}

fn compat(rangesize: u32, flags: u32, min: [u8; 4], max: [u8; 4], ports: (u16, u16)) -> Vec<u8> {
    let mut d = vec![0u8; 24];
    d[0..4].copy_from_slice(&rangesize.to_ne_bytes());
    d[4..8].copy_from_slice(&flags.to_ne_bytes());
    d[8..12].copy_from_slice(&min);
    d[12..16].copy_from_slice(&max);
    d[16..18].copy_from_slice(&ports.0.to_be_bytes());
    d[18..20].copy_from_slice(&ports.1.to_be_bytes());
    d
}

fn range(rev: u8, flags: u32, min: [u8; 16], max: [u8; 16], ports: (u16, u16), base: u16) -> Vec<u8> {
    let mut d = vec![0u8; if rev == 2 { 48 } else { 40 }];
    d[0..4].copy_from_slice(&flags.to_ne_bytes());
    d[4..20].copy_from_slice(&min);
    d[20..36].copy_from_slice(&max);
    d[36..38].copy_from_slice(&ports.0.to_be_bytes());
    d[38..40].copy_from_slice(&ports.1.to_be_bytes());
    if rev == 2 {
        d[40..42].copy_from_slice(&base.to_be_bytes());
    }
    d
}

const POST: u32 = NF_INET_POST_ROUTING;
const PRE: u32 = NF_INET_PRE_ROUTING;
const OUT: u32 = NF_INET_LOCAL_OUT;
const IN: u32 = NF_INET_LOCAL_IN;

fn errno_of(def: &TableDef, chain: u32, rule: (&[u8], u8, &[u8])) -> i32 {
    match load(def, &nat_table(def, chain, rule)) {
        Ok(_) => 0,
        Err(e) => e.errno,
    }
}

#[test]
fn initial_nat_tables_have_the_kernels_layout() {
    // nat-reference 1.2: 784 bytes (IPv4) and 1064 (IPv6), five entries.
    for (def, size, step) in [(NAT_IPV4, 784, 152), (NAT_IPV6, 1064, 208)] {
        let mut blob = vec![0u8; initial_size(&def)];
        let h = initial_table(&def, &mut blob).unwrap();
        assert_eq!((h.size, h.num_entries, h.valid_hooks), (size, 5, 0x1b));
        assert_eq!(h.hook_entry, [0, step, 0, 2 * step, 3 * step]);
        let mut buf = h.to_bytes().to_vec();
        buf.extend_from_slice(&blob);
        assert_eq!(load(&def, &buf).unwrap().num_entries(), 5);
    }
}

#[test]
fn revisions_are_answered_as_the_kernel_answers() {
    // nat-reference 2.3: v4 SNAT/DNAT 0..2, v6 1..2; the others 0 only.
    let rev = |f, n: &[u8], r| find_revision(f, true, n, r).map_err(|e| e.errno);
    for n in [&b"SNAT"[..], b"DNAT"] {
        assert_eq!(rev(Family::Ipv4, n, 0), Ok(2));
        assert_eq!(rev(Family::Ipv4, n, 2), Ok(2));
        assert_eq!(rev(Family::Ipv4, n, 3), Err(errno::EPROTONOSUPPORT));
        assert_eq!(rev(Family::Ipv6, n, 0), Err(errno::EPROTONOSUPPORT));
        assert_eq!(rev(Family::Ipv6, n, 1), Ok(2));
    }
    for f in [Family::Ipv4, Family::Ipv6] {
        for n in [&b"MASQUERADE"[..], b"REDIRECT", b"NETMAP"] {
            assert_eq!(rev(f, n, 0), Ok(0));
            assert_eq!(rev(f, n, 1), Err(errno::EPROTONOSUPPORT));
        }
    }
    assert_eq!(rev(Family::Ipv4, b"NOSUCH", 0), Err(errno::ENOENT));
}

#[test]
fn what_iptables_sends_is_accepted_in_the_right_chains() {
    let v4 = NAT_IPV4;
    let snat = compat(1, MAP_IPS | PROTO_SPECIFIED | PROTO_RANDOM, [1, 2, 3, 4], [1, 2, 3, 4], (1000, 2000));
    assert_eq!(errno_of(&v4, POST, (b"SNAT", 0, &snat)), 0);
    assert_eq!(errno_of(&v4, IN, (b"SNAT", 0, &snat)), 0);
    let dnat2 = range(2, MAP_IPS | PROTO_SPECIFIED | PROTO_OFFSET, crate::nat::range::NatRange::null_binding([5, 6, 7, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]).min_addr, [5, 6, 7, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], (1000, 2000), 3000);
    assert_eq!(errno_of(&v4, PRE, (b"DNAT", 2, &dnat2)), 0);
    assert_eq!(errno_of(&v4, OUT, (b"DNAT", 2, &dnat2)), 0);
    assert_eq!(errno_of(&v4, POST, (b"MASQUERADE", 0, &compat(1, 0, [0; 4], [0; 4], (0, 0)))), 0);
    assert_eq!(errno_of(&v4, PRE, (b"REDIRECT", 0, &compat(1, PROTO_SPECIFIED, [0; 4], [0; 4], (8080, 8080)))), 0);
    let netmap = compat(1, MAP_IPS, [10, 1, 0, 0], [10, 1, 255, 255], (0, 0));
    for chain in [PRE, IN, OUT, POST] {
        assert_eq!(errno_of(&v4, chain, (b"NETMAP", 0, &netmap)), 0);
    }
    let v6 = NAT_IPV6;
    let a = [0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
    assert_eq!(errno_of(&v6, POST, (b"SNAT", 1, &range(1, MAP_IPS, a, a, (0, 0), 0))), 0);
    assert_eq!(errno_of(&v6, PRE, (b"DNAT", 2, &range(2, MAP_IPS, a, a, (0, 0), 0))), 0);
    assert_eq!(errno_of(&v6, POST, (b"MASQUERADE", 0, &range(1, 0, [0; 16], [0; 16], (0, 0), 0))), 0);
    assert_eq!(errno_of(&v6, OUT, (b"REDIRECT", 0, &range(1, 0, [0; 16], [0; 16], (0, 0), 0))), 0);
    assert_eq!(errno_of(&v6, PRE, (b"NETMAP", 0, &range(1, MAP_IPS, a, a, (0, 0), 0))), 0);
}

#[test]
fn checkentry_refusals_are_einval() {
    let v4 = NAT_IPV4;
    let ok = compat(1, MAP_IPS, [1, 2, 3, 4], [1, 2, 3, 4], (0, 0));
    // Wrong hooks (xt_check_target).
    assert_eq!(errno_of(&v4, PRE, (b"SNAT", 0, &ok)), errno::EINVAL);
    assert_eq!(errno_of(&v4, POST, (b"DNAT", 0, &ok)), errno::EINVAL);
    assert_eq!(errno_of(&v4, IN, (b"MASQUERADE", 0, &compat(1, 0, [0; 4], [0; 4], (0, 0)))), errno::EINVAL);
    assert_eq!(errno_of(&v4, POST, (b"REDIRECT", 0, &compat(1, 0, [0; 4], [0; 4], (0, 0)))), errno::EINVAL);
    // rangesize != 1.
    assert_eq!(errno_of(&v4, POST, (b"SNAT", 0, &compat(2, MAP_IPS, [1, 2, 3, 4], [1, 2, 3, 4], (0, 0)))), errno::EINVAL);
    assert_eq!(errno_of(&v4, POST, (b"SNAT", 0, &compat(0, MAP_IPS, [1, 2, 3, 4], [1, 2, 3, 4], (0, 0)))), errno::EINVAL);
    assert_eq!(errno_of(&v4, POST, (b"MASQUERADE", 0, &compat(2, 0, [0; 4], [0; 4], (0, 0)))), errno::EINVAL);
    assert_eq!(errno_of(&v4, PRE, (b"NETMAP", 0, &compat(2, MAP_IPS, [10, 0, 0, 0], [10, 0, 0, 255], (0, 0)))), errno::EINVAL);
    // MAP_IPS rules.
    assert_eq!(errno_of(&v4, POST, (b"MASQUERADE", 0, &compat(1, MAP_IPS, [0; 4], [0; 4], (0, 0)))), errno::EINVAL);
    assert_eq!(errno_of(&v4, PRE, (b"REDIRECT", 0, &compat(1, MAP_IPS, [0; 4], [0; 4], (0, 0)))), errno::EINVAL);
    assert_eq!(errno_of(&v4, PRE, (b"NETMAP", 0, &compat(1, 0, [0; 4], [0; 4], (0, 0)))), errno::EINVAL);
    let v6 = NAT_IPV6;
    assert_eq!(errno_of(&v6, POST, (b"MASQUERADE", 0, &range(1, MAP_IPS, [0; 16], [0; 16], (0, 0), 0))), errno::EINVAL);
    assert_eq!(errno_of(&v6, PRE, (b"REDIRECT", 0, &range(1, MAP_IPS, [0; 16], [0; 16], (0, 0), 0))), errno::EINVAL);
    assert_eq!(errno_of(&v6, PRE, (b"NETMAP", 0, &range(1, 0, [0; 16], [0; 16], (0, 0), 0))), errno::EINVAL);
    // Sizes: a revision 2 payload sent as revision 1, and the reverse.
    assert_eq!(errno_of(&v6, POST, (b"SNAT", 1, &range(2, MAP_IPS, [0; 16], [0; 16], (0, 0), 0))), errno::EINVAL);
    assert_eq!(errno_of(&v6, POST, (b"SNAT", 2, &range(1, MAP_IPS, [0; 16], [0; 16], (0, 0), 0))), errno::EINVAL);
    // Unknown revision of an UNSPEC target in SET_REPLACE: EPROTOTYPE.
    assert_eq!(errno_of(&v6, POST, (b"SNAT", 0, &compat(1, MAP_IPS, [0; 4], [0; 4], (0, 0)))), errno::EPROTOTYPE);
    // Flags outside NF_NAT_RANGE_MASK pass, as in the kernel.
    assert_eq!(errno_of(&v4, POST, (b"SNAT", 0, &compat(1, 0xff00_0001, [1, 2, 3, 4], [1, 2, 3, 4], (0, 0)))), 0);
}

#[test]
fn nat_targets_are_refused_outside_the_nat_table() {
    let mut out = vec![0u8; 4096];
    let mut b = Builder::new(Family::Ipv4, &mut out);
    let d = compat(1, 0, [0; 4], [0; 4], (0, 0));
    let input = b.offset();
    b.entry(&IpSpec::ANY, &[], TargetSpec::Other(b"MASQUERADE", 0, &d));
    let buf = super::tests::finish_filter(b, &FILTER_IPV4, input, -NF_ACCEPT - 1);
    assert_eq!(load(&FILTER_IPV4, &buf).map(|_| ()).map_err(|e| e.errno), Err(errno::EINVAL));
}

#[test]
fn a_walk_returns_the_nat_target_with_its_range() {
    let d = compat(1, MAP_IPS | PROTO_SPECIFIED, [192, 0, 2, 1], [192, 0, 2, 1], (1024, 2047));
    let t = load(&NAT_IPV4, &nat_table(&NAT_IPV4, POST, (b"SNAT", 0, &d))).unwrap();
    let pkt = &crate::selftest::golden::IPV4_TCP_SYN[..];
    let p = Packet { hook: POST, in_dev: &[0; 16], out_dev: &[0; 16], len: pkt.len() as u32, headers: pkt };
    match t.evaluate(&p, &mut TEnv::new()) {
        Action::Nat(n) => {
            assert_eq!(n.kind, NatKind::Snat);
            assert_eq!((&n.range.min_addr[..4], n.range.min_proto, n.range.max_proto), (&[192, 0, 2, 1][..], 1024, 2047));
        }
        other => panic!("{other:?}"),
    }
    // PREROUTING has no rule: the policy.
    let p = Packet { hook: PRE, ..p };
    assert_eq!(t.evaluate(&p, &mut TEnv::new()), Action::Accept);
    // GET_ENTRIES gives the payload back as it came (rev 0: 20 bytes + zero pad).
    let mut out = vec![0u8; t.size() as usize];
    t.copy_entries(&mut out, |_| (0, 0)).unwrap();
    let at = out.windows(5).position(|w| w == b"SNAT\0").unwrap();
    assert_eq!(&out[at + 30..at + 30 + 24], &d[..]);
}

#[test]
fn netmap_keeps_the_host_part() {
    let d = compat(1, MAP_IPS, [10, 1, 0, 0], [10, 1, 255, 255], (0, 0));
    let t = load(&NAT_IPV4, &nat_table(&NAT_IPV4, PRE, (b"NETMAP", 0, &d))).unwrap();
    let pkt = &crate::selftest::golden::IPV4_TCP_SYN[..];
    let p = Packet { hook: PRE, in_dev: &[0; 16], out_dev: &[0; 16], len: pkt.len() as u32, headers: pkt };
    let Action::Nat(n) = t.evaluate(&p, &mut TEnv::new()) else { panic!() };
    let mut a = [0u8; 16];
    a[..4].copy_from_slice(&[192, 168, 7, 9]);
    assert_eq!(&n.range.netmap(&a)[..4], &[10, 1, 7, 9]);
    assert_eq!(n.range.netmap(&a)[4..], [0; 12]);
}
