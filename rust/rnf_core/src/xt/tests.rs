// SPDX-License-Identifier: GPL-2.0
//! Host tests of the table engine, and the table builders the other test
//! files (and `fuzz_seeds`) share.

use super::*;
use std::vec;
use std::vec::Vec;

pub(super) fn load(def: &TableDef, buf: &[u8]) -> Result<Table<Vec<u8>, Vec<Rule>, Vec<Match>>, Error> {
    let (h, e) = ReplaceHeader::parse(buf)?;
    let s = measure(def, &h, e)?;
    let rules = (0..s.rules).map(|_| Rule::default()).collect();
    let matches = (0..s.matches).map(|_| Match::default()).collect();
    Table::translate(def, &h, e.to_vec(), rules, matches)
}

/// Ends the filter table `b` whose INPUT chain starts at entry offset
/// `input`: INPUT's policy (standard verdict `policy`), FORWARD and OUTPUT
/// with policy ACCEPT, the ERROR end; returns the `SET_REPLACE` buffer.
pub(super) fn finish_filter(mut b: build::Builder<'_>, def: &TableDef, input: u32, policy: i32) -> Vec<u8> {
    use build::{IpSpec, TargetSpec};
    let any = IpSpec::default();
    let pol = b.entry(&any, &[], TargetSpec::Standard(policy));
    let fwd = b.entry(&any, &[], TargetSpec::Standard(-NF_ACCEPT - 1));
    let o = b.entry(&any, &[], TargetSpec::Standard(-NF_ACCEPT - 1));
    b.entry(&any, &[], TargetSpec::Error(b"ERROR"));
    assert!(b.ok);
    replace_buf(&b, def, [input, fwd, o], [pol, fwd, o])
}

/// The classifier rnf_tables builds for `t` (instance.rs: `Plan`, then
/// `Classifier::build` into a store of `plan.words()`), for tests that
/// compare the classified walk with the linear one.
pub(super) fn classifier_of(t: &Table<Vec<u8>, Vec<Rule>, Vec<Match>>) -> Classifier<Vec<u64>> {
    let mut scratch = vec![[0u64; 2]; Plan::scratch_len(t)];
    let plan = Plan::new(t, &mut scratch).unwrap();
    Classifier::build(t, &plan, &mut scratch, vec![0; plan.words()]).unwrap()
}

/// The `SET_REPLACE` buffer of the filter table `b` holds: the header of
/// [`Builder::filter_header`], then the entries.
pub(super) fn replace_buf(b: &Builder<'_>, def: &TableDef, entry: [u32; 3], underflow: [u32; 3]) -> Vec<u8> {
    let mut buf = b.filter_header(def, entry, underflow).to_bytes().to_vec();
    buf.extend_from_slice(b.bytes());
    buf
}

/// The `SET_REPLACE` buffer of a table of `def` whose chain at `hook` (an
/// `NF_INET_*` hook) holds `rules` (ip part, matches as name, revision and
/// data, target) before its policy: every valid hook's chain in hook order,
/// each ending in a policy ACCEPT, the other chains empty, then the ERROR
/// entry; the header of [`Builder::filter_header`] with `hook_entry` and
/// `underflow` set for all five hooks.
pub(crate) fn one_chain_table(def: &TableDef, hook: u32, rules: &[(IpSpec, &[(&[u8], u8, &[u8])], TargetSpec<'_>)]) -> Vec<u8> {
    let mut out = vec![0u8; 8192];
    let mut b = Builder::new(def.family, &mut out);
    let (mut entry, mut underflow) = ([0u32; NF_INET_NUMHOOKS], [0u32; NF_INET_NUMHOOKS]);
    for h in 0..NF_INET_NUMHOOKS as u32 {
        if def.valid_hooks & (1 << h) == 0 {
            continue;
        }
        entry[h as usize] = b.offset();
        if h == hook {
            for (ip, m, t) in rules {
                b.entry(ip, m, *t);
            }
        }
        underflow[h as usize] = b.entry(&IpSpec::ANY, &[], TargetSpec::Standard(-NF_ACCEPT - 1));
    }
    b.entry(&IpSpec::ANY, &[], TargetSpec::Error(b"ERROR"));
    assert!(b.ok);
    let mut h = b.filter_header(def, [0; 3], [0; 3]);
    h.hook_entry = entry;
    h.underflow = underflow;
    let mut buf = h.to_bytes().to_vec();
    buf.extend_from_slice(b.bytes());
    buf
}

#[test]
fn initial_tables_translate_and_accept() {
    for def in [FILTER_IPV4, FILTER_IPV6] {
        let mut blob = vec![0u8; initial_size(&def)];
        let h = initial_table(&def, &mut blob).unwrap();
        let mut buf = h.to_bytes().to_vec();
        buf.extend_from_slice(&blob);
        let t = load(&def, &buf).unwrap();
        assert_eq!(t.num_entries(), 4);
        let pkt = match def.family {
            Family::Ipv4 => &crate::selftest::golden::IPV4_TCP_SYN[..],
            Family::Ipv6 => &crate::selftest::golden::IPV6_UDP[..],
        };
        let p = Packet { hook: 1, in_dev: &[0; 16], out_dev: &[0; 16], len: pkt.len() as u32, headers: pkt };
        assert_eq!(t.evaluate(&p, &mut TEnv::new()), Action::Accept);
        let mut out = vec![0u8; t.size() as usize];
        t.copy_entries(&mut out, |i| (i as u64, 100 * i as u64)).unwrap();
        assert_eq!(out.len(), blob.len());
    }
}

use super::build::{Builder, IpSpec, TargetSpec};
use super::tests_match::TEnv;

const ACCEPT: i32 = -NF_ACCEPT - 1;
const DROP: i32 = -NF_DROP - 1;

/// filter table: INPUT jumps to user chain "svc" which accepts tcp dport 22 and
/// returns; INPUT then drops tcp dport 80 via goto chain "web"; policy ACCEPT.
/// Returns the SET_REPLACE buffer and the rule index of each named rule.
pub(super) fn sample(bad: u8) -> Vec<u8> {
    let mut out = vec![0u8; 4096];
    let mut b = Builder::new(Family::Ipv4, &mut out);
    let tcp = IpSpec { proto: 6, ..Default::default() };
    let any = IpSpec::default();
    let mut dport22 = [0u8; 12];
    dport22[0..2].copy_from_slice(&0u16.to_ne_bytes());
    dport22[2..4].copy_from_slice(&0xffffu16.to_ne_bytes());
    dport22[4..6].copy_from_slice(&22u16.to_ne_bytes());
    dport22[6..8].copy_from_slice(&22u16.to_ne_bytes());
    let mut dport80 = dport22;
    dport80[4..6].copy_from_slice(&80u16.to_ne_bytes());
    dport80[6..8].copy_from_slice(&80u16.to_ne_bytes());
    let input = b.entry(&any, &[], TargetSpec::Standard(0)); // jump svc (patched)
    let goto = b.entry(&IpSpec { flags: 0x02, ..tcp }, &[(b"tcp", 0, &dport80)], TargetSpec::Standard(0));
    let in_pol = b.entry(&any, &[], TargetSpec::Standard(ACCEPT));
    let fwd = b.entry(&any, &[], TargetSpec::Standard(DROP));
    let out_ = b.entry(&any, &[], TargetSpec::Standard(ACCEPT));
    b.entry(&any, &[], TargetSpec::Error(b"svc"));
    let svc = b.offset();
    b.entry(&tcp, &[(b"tcp", 0, &dport22)], TargetSpec::Standard(ACCEPT));
    b.entry(&any, &[], TargetSpec::Standard(XT_RETURN));
    b.entry(&any, &[], TargetSpec::Error(b"web"));
    let web = b.offset();
    b.entry(&tcp, &[], TargetSpec::Other(b"REJECT", 0, &7u32.to_ne_bytes().iter().chain(&[0u8; 4]).copied().collect::<Vec<_>>()));
    b.entry(&any, &[], TargetSpec::Standard(XT_RETURN));
    b.entry(&any, &[], TargetSpec::Error(b"ERROR"));
    b.set_verdict(input, svc as i32);
    b.set_verdict(goto, web as i32);
    match bad {
        1 => b.set_verdict(input, svc as i32 + 8),  // jump into the middle of a rule
        2 => b.set_verdict(goto, goto as i32),      // goto itself: a loop
        _ => {}
    }
    assert!(b.ok);
    let buf = replace_buf(&b, &FILTER_IPV4, [input, fwd, out_], [in_pol, fwd, out_]);
    buf
}


fn tcp_to(port: u16) -> [u8; 60] {
    let mut p = crate::selftest::golden::IPV4_TCP_SYN;
    p[22..24].copy_from_slice(&port.to_be_bytes());
    p
}

#[test]
fn user_chain_jump_return_goto_and_policy() {
    let t = load(&FILTER_IPV4, &sample(0)).unwrap();
    // A REJECT with tcp-reset on a rule without -p tcp is refused.
    for (port, want, counted) in [
        (22u16, Action::Accept, vec![0usize, 6]),
        (80, Action::Drop, vec![0, 7, 1, 9]), // REJECT tcp-reset refused? see below
        (443, Action::Accept, vec![0, 7, 2]),
    ] {
        let p = tcp_to(port);
        let pk = Packet { hook: 1, in_dev: &[0; 16], out_dev: &[0; 16], len: 60, headers: &p };
        let mut env = TEnv::new();
        let _ = (want, counted.clone());
        let got = t.evaluate(&pk, &mut env);
        if port == 80 {
            assert_eq!(got, Action::Reject(RejectWith::TcpReset));
            // goto: RETURN in "web" would go to the underflow, but REJECT decides first.
            assert_eq!(env.counted, vec![0, 7, 1, 9]);
        } else {
            assert_eq!(got, want, "port {port}");
            assert_eq!(env.counted, counted, "port {port}");
        }
    }
}

#[test]
fn defects_are_refused_with_the_kernels_errno() {
    assert_eq!(load(&FILTER_IPV4, &sample(1)).err().map(|e| e.errno), Some(errno::ELOOP));
    assert_eq!(load(&FILTER_IPV4, &sample(2)).err().map(|e| e.errno), Some(errno::ELOOP));
    let good = sample(0);
    // Truncated: len < sizeof + size.
    assert_eq!(ReplaceHeader::parse(&good[..good.len() - 1]).err().map(|e| e.errno), Some(errno::EINVAL));
    // num_entries wrong.
    let mut b = good.clone();
    b[36] ^= 1;
    assert_eq!(load(&FILTER_IPV4, &b).err().map(|e| e.errno), Some(errno::EINVAL));
    // Unknown target name.
    let mut b = good.clone();
    let at = b.windows(6).position(|w| w == b"REJECT").unwrap();
    b[at] = b'X';
    assert_eq!(load(&FILTER_IPV4, &b).err().map(|e| e.errno), Some(errno::ENOENT));
    // Unsupported revision of a family-registered target: ENOENT (xt_find_target
    // falls back to the NFPROTO_UNSPEC list, which has no REJECT).
    let mut b = good.clone();
    b[at + 29] = 9;
    assert_eq!(load(&FILTER_IPV4, &b).err().map(|e| e.errno), Some(errno::ENOENT));
    // next_offset out of range.
    let mut b = good.clone();
    b[96 + 90..96 + 92].copy_from_slice(&0xfff0u16.to_ne_bytes());
    assert_eq!(load(&FILTER_IPV4, &b).err().map(|e| e.errno), Some(errno::EINVAL));
    // Bad standard verdict.
    let mut b = good.clone();
    let v = 96 + 112 + 32;
    b[v..v + 4].copy_from_slice(&(-7i32).to_ne_bytes());
    assert_eq!(load(&FILTER_IPV4, &b).err().map(|e| e.errno), Some(errno::EINVAL));
    // Wrong size field.
    let mut b = good.clone();
    let s = u32::from_ne_bytes(b[40..44].try_into().unwrap()) - 8;
    b[40..44].copy_from_slice(&s.to_ne_bytes());
    assert!(load(&FILTER_IPV4, &b).is_err());
}

#[test]
fn abi_sizes_and_revisions() {
    assert_eq!(ReplaceHeader::SIZE, 96);
    assert_eq!(Info::SIZE, 84);
    assert_eq!(GET_ENTRIES_SIZE, 40);
    assert_eq!(find_revision(Family::Ipv4, false, b"conntrack", 3), Ok(3));
    assert_eq!(find_revision(Family::Ipv4, false, b"multiport", 1), Ok(1));
    assert_eq!(find_revision(Family::Ipv4, false, b"icmp6", 0).err().map(|e| e.errno), Some(errno::ENOENT));
    assert_eq!(find_revision(Family::Ipv6, true, b"REJECT", 1).err().map(|e| e.errno), Some(errno::EPROTONOSUPPORT));
    assert_eq!(find_revision(Family::Ipv6, true, b"LOG\0\0", 0), Ok(0));
}

#[test]
fn copy_entries_round_trips_with_counters() {
    let buf = sample(0);
    let t = load(&FILTER_IPV4, &buf).unwrap();
    let mut out = vec![0u8; t.size() as usize];
    t.copy_entries(&mut out, |i| (i as u64 + 1, 1000)).unwrap();
    assert_eq!(u64::from_ne_bytes(out[96..104].try_into().unwrap()), 1);
    let mut again = buf[..96].to_vec();
    again.extend_from_slice(&out);
    let t2 = load(&FILTER_IPV4, &again).unwrap();
    assert_eq!(t2.info(), t.info());
}

