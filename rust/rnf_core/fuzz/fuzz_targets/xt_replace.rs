// SPDX-License-Identifier: GPL-2.0
//! Arbitrary bytes through the SET_REPLACE path: parse, measure, translate,
//! evaluate a few packets, copy_entries, then the other sockopt parsers.
//!
//! Input: one byte (bit 0 IPv6; bit 1 patch the header's name, hooks, size
//! and counters so that most inputs reach translate; bits 2-3 the table:
//! filter, nat, mangle, raw), then the `SET_REPLACE` buffer.
//!
//! Oracles: no panic; the classified walk gives the linear walk's verdicts,
//! counters and marks; a NAT target is only reached from the hooks its
//! kind is registered for and has its checkentry's flags; a table copied
//! out is accepted again with the same sizes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rnf_core::selftest::golden;
use rnf_core::xt::*;
use rnf_core_fuzz::xt_env::FuzzEnv;

/// A NAT target reached at `hook`: only in the nat table, from the hooks
/// of its manip type (`xt_nat.c`, `xt_MASQUERADE.c`, `xt_REDIRECT.c`,
/// `xt_NETMAP.c`: `.hooks`), with the flags its checkentry demands.
fn check_nat(def: &TableDef, hook: u32, n: &NatTarget) {
    use rnf_core::nat::range::MAP_IPS;
    assert_eq!(def.name, "nat", "a NAT target outside the nat table");
    let src = [NF_INET_POST_ROUTING, NF_INET_LOCAL_IN];
    let dst = [NF_INET_PRE_ROUTING, NF_INET_LOCAL_OUT];
    let hooks: &[u32] = match n.kind {
        NatKind::Snat | NatKind::Masquerade => &src,
        NatKind::Dnat | NatKind::Redirect => &dst,
        NatKind::Netmap => &[NF_INET_PRE_ROUTING, NF_INET_LOCAL_IN, NF_INET_LOCAL_OUT, NF_INET_POST_ROUTING],
    };
    let hooks = if n.kind == NatKind::Masquerade { &hooks[..1] } else { hooks };
    assert!(hooks.contains(&hook), "{:?} reached at hook {hook}", n.kind);
    match n.kind {
        NatKind::Masquerade | NatKind::Redirect => assert_eq!(n.range.flags & MAP_IPS, 0),
        NatKind::Netmap => assert_ne!(n.range.flags & MAP_IPS, 0),
        _ => {}
    }
}

fuzz_target!(|data: &[u8]| {
    let _ = parse_get_entries(data);
    if let Ok(c) = parse_add_counters(data) {
        let _ = c.iter().count();
    }
    let _ = find_revision(Family::Ipv4, data.first().map_or(false, |b| b & 1 == 1), data, 1);
    // First byte picks the table and family; the header is patched so most inputs reach translate.
    let Some((&sel, rest)) = data.split_first() else { return };
    let tables = [FILTER_IPV4, FILTER_IPV6, NAT_IPV4, NAT_IPV6, MANGLE_IPV4, MANGLE_IPV6, RAW_IPV4, RAW_IPV6];
    let def = tables[usize::from(sel & 1 | (sel >> 1) & 6)];
    let mut buf = rest.to_vec();
    if sel & 2 != 0 && buf.len() >= ReplaceHeader::SIZE {
        let size = (buf.len() - ReplaceHeader::SIZE) as u32;
        buf[..32].fill(0);
        buf[..def.name.len()].copy_from_slice(def.name.as_bytes());
        buf[32..36].copy_from_slice(&def.valid_hooks.to_ne_bytes());
        buf[40..44].copy_from_slice(&size.to_ne_bytes());
        buf[84..88].copy_from_slice(&1u32.to_ne_bytes());
    }
    let Ok((hdr, entries)) = ReplaceHeader::parse(&buf) else { return };
    let Ok(sizes) = measure(&def, &hdr, entries) else { return };
    if sizes.rules > 100_000 {
        return;
    }
    let load = || {
        let rules: Vec<Rule> = (0..sizes.rules).map(|_| Rule::default()).collect();
        let matches: Vec<Match> = (0..sizes.matches).map(|_| Match::default()).collect();
        Table::translate(&def, &hdr, entries.to_vec(), rules, matches)
    };
    let Ok(t) = load() else { return };
    // A second copy for the classified walk: `limit` keeps its state in
    // the table, so each walk gets its own and the two must agree exactly.
    let t2 = load().expect("the same blob translates twice");
    let mut scratch = vec![[0u64; 2]; Plan::scratch_len(&t2)];
    let plan = Plan::new(&t2, &mut scratch).expect("plan with scratch_len entries");
    let cls = Classifier::build(&t2, &plan, &mut scratch, vec![0u64; plan.words()]).expect("build as planned");
    let pkts: [&[u8]; 5] = match def.family {
        Family::Ipv4 => [&golden::IPV4_TCP_SYN, &golden::IPV4_ICMP_ECHO, &golden::IPV4_TCP_SYN[..20], &[], &golden::IPV4_TCP_SYN[..33]],
        Family::Ipv6 => [&golden::IPV6_UDP, &golden::IPV6_FRAG_FIRST, &golden::IPV6_FRAG_LATER, &golden::IPV6_HBH_ECHO, &golden::IPV6_UDP[..41]],
    };
    for hook in 0..6u32 {
        for p in pkts {
            let pk = Packet { hook, in_dev: b"eth0\0\0\0\0\0\0\0\0\0\0\0\0", out_dev: &[0; 16], len: p.len() as u32, headers: p };
            // The classifier must not change verdicts or counters.
            let seed = u64::from(sel) + u64::from(hook);
            let ct_mark = (seed % 3 != 0).then_some(seed as u32);
            let mut lin = FuzzEnv(seed, Vec::new(), seed as u32 >> 1, ct_mark, vec![1, 2, 3]);
            let a = t.evaluate(&pk, &mut lin);
            let mut c = FuzzEnv(seed, Vec::new(), seed as u32 >> 1, ct_mark, vec![1, 2, 3]);
            let b = t2.evaluate_classified(&cls, &pk, &mut c);
            assert_eq!((a, &lin.1, lin.2, lin.3), (b, &c.1, c.2, c.3), "classifier differs from the linear walk");
            if let Action::Nat(n) = a {
                check_nat(&def, hook, &n);
            }
        }
    }
    let mut out = vec![0u8; t.size() as usize];
    t.copy_entries(&mut out, |i| (i as u64, i as u64)).expect("copy_entries of a valid table");
    // The copy must be accepted again (round trip).
    let mut again = hdr.to_bytes().to_vec();
    again.extend_from_slice(&out);
    let (h2, e2) = ReplaceHeader::parse(&again).expect("reparse");
    let s2 = measure(&def, &h2, e2).expect("remeasure of a copied table");
    assert_eq!(s2, sizes);
    let _ = t.info().to_bytes();
});
